"""The catalog (src/drivers/catalog.json) against the brief's tables and measure ids and against real metadata."""

from __future__ import annotations

import json

import pytest
from fakessb.tables import FIXTURE_12134, POPULATION_CSV, table_07459

from drivers import catalog

AGREED = {"ndu_1000kr", "kbdu_1000kr", "ndu_per_innbygger_kr", "frie_inntekter_per_innbygger_kr",
          "netto_driftsresultat_pct", "fri_egenkapital_drift_pct", "langsiktig_gjeld_pct",
          "barnehage_andel_1_5_pct", "barnehage_ndu_per_1_5_kr", "grunnskole_ndu_per_6_15_kr",
          "pleie_andel_80_institusjon_pct"}


def test_tables_and_measure_ids_of_the_brief_are_catalogued():
    entries = catalog.entries()
    assert {"12362", "12134", "13502", "12255", "12209", "12293", "12279", "14019", "07459"} <= set(entries)
    ids = [m["id"] for e in entries.values() for m in e.measures]
    assert AGREED <= set(ids) and len(ids) == len(set(ids))
    for e in entries.values():
        assert e.verified and isinstance(e.codes_verified, bool)
        assert all(m["verified"] in ("V", "C") for m in e.measures)
        named_all_v = bool(e.measures) and all(m["verified"] == "V" for m in e.measures)
        assert e.codes_verified == named_all_v or e.kind == "population", e.id


def test_unknown_table_is_one_clear_message():
    with pytest.raises(catalog.UserError, match="tabell 99999 er ikke i katalogen"):
        catalog.get("99999")


def test_12134_recipe_on_the_recorded_response():
    doc = json.loads(FIXTURE_12134.read_text(encoding="utf-8"))
    r = catalog.resolve(catalog.get("12134"), doc)
    assert r.selection == {"KOKkommuneregion0000": ["0301", "4601", "5001"], "ContentsCode": ["KOSAG110000"],
                           "Tid": ["2024"]}
    assert r.region_dim == "KOKkommuneregion0000" and r.time_dim == "Tid"
    assert r.problems == ["12134: 19 aggregat(er) finnes ikke i KOKkommuneregion0000: EAK, EAKUO, " +
                          ", ".join(f"EKG{i:02d}" for i in range(1, 18))]


@pytest.mark.skipif(not POPULATION_CSV.exists(), reason="real population data (../shared/ssb) missing")
def test_07459_recipe_eliminates_sex_and_keeps_every_age():
    meta = table_07459().metadata()
    r = catalog.resolve(catalog.get("07459"), meta, years=(2020, 2022), regions=["0301", "9999"])
    assert "Kjonn" not in r.selection and len(r.selection["Alder"]) == 106
    assert r.selection["Region"] == ["0301"] and r.selection["Tid"] == ["2020", "2021", "2022"]
    assert "07459: region 9999 finnes ikke i tabellen (not in the table)" in r.problems
