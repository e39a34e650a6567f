"""The indicator registry (src/drivers/engine/indicators.json) is complete and agrees with the catalog."""

from __future__ import annotations

import json

import drivers.i18n  # noqa: F401  (gives the engine its words: drivers.engine.reasons)
from drivers.config import PROJECT_ROOT
from drivers.engine import indicators

KINDS = {"per_resident", "per_target", "need_corrected", "priority", "ssb", "unit_cost"}
MATCH = {"verified", "same-definition", "unverified", "differs", "own", "ssb"}
POLARITY = {"neutral", "higher_is_better", "lower_is_better", "higher_is_more_room"}


def catalog_measures() -> dict[str, str]:
    raw = json.loads((PROJECT_ROOT / "src" / "drivers" / "catalog.json").read_text(encoding="utf-8"))
    return {m["id"]: table for table, t in raw["tables"].items() for m in t.get("measures", [])}


def test_ids_unique_and_fields_valid():
    inds = indicators.all()
    assert len({i.id for i in inds}) == len(inds)
    for i in inds:
        assert i.kind in KINDS and i.ssb_match in MATCH and i.polarity in POLARITY, i.id
        assert i.name_nb and i.name_en and i.ssb_definition and i.unit in {"kr", "%"}, i.id
        assert (i.denominator is None) == (i.kind == "ssb"), i.id
        if i.gap:
            assert i.unit == "kr", i.id  # a gap in kroner needs a kroner indicator
        if i.need_correctable:
            assert indicators.get(f"{i.id}_behovskorr").kind == "need_corrected"


def test_costs_are_neutral():
    for i in indicators.all():
        if i.kind in ("per_resident", "per_target", "need_corrected", "priority", "unit_cost"):
            assert i.polarity == "neutral", i.id


def test_every_measure_is_in_the_catalog_with_the_same_table():
    cat = catalog_measures()
    for measure, spec in indicators.measures().items():
        assert measure in cat, f"{measure} not in catalog.json"
        assert spec["table"] == cat[measure], measure
    for i in indicators.all():
        for m in i.measures:
            assert m in indicators.measures(), (i.id, m)


def test_services_have_target_groups_as_ssb_uses():
    svc = indicators.services()
    assert svc["FGK7"]["target"] == [1, 5] and svc["FGK8b"]["target"] == [6, 15]
    assert svc["FGK13"]["target"] == [0, 17] and svc["FGK12"]["target"] == [20, 66]
    assert svc["FGK9"]["target"] == [80, 105]
    for code in svc:
        per = indicators.get(f"ndu_{code.lower()}_per_innb")
        assert per.numerator["dims"] == f"KOKart0000=AGD2;KOKfunksjon0000={code}"
