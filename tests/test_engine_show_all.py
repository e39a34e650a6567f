"""`drivers show` for every municipality in the snapshot with every built-in peer set, through the api the
command uses (show.collect and its json records), not subprocesses: no exception anywhere, and every record
is honest — a kroner indicator with its own value and a peer value has a gap, a record without a peer value
says why, and no gap exists without a peer value (missing is never 0)."""

from __future__ import annotations

import argparse
import math

import pytest
from engine_data import snapshot_panel

import drivers.i18n  # noqa: F401  (gives the engine its words: drivers.engine.reasons)
from drivers.commands import show
from drivers.engine import api, indicators

PEERS = ["kostragruppe", "fylke", "landet", "landet-uten-oslo", "naboer"]


@pytest.fixture(scope="module")
def snap():
    return snapshot_panel()


def _args(region: str, year: int, peers: str, what: str) -> argparse.Namespace:
    return argparse.Namespace(region=region, year=year, peers=peers, convention="weighted", indicator=None,
                              service=None, what=what, format="json", exclude_oslo=False, k=10, lang="nb", db=None)


def _check_records(records: list[dict], where: str) -> None:
    gap_ids = {i.id for i in indicators.all() if i.gap}
    for r in records:
        has_peer, has_gap = r["peer_value"] is not None, r["gap_nok"] is not None
        if r["indicator"] in gap_ids and has_peer and r["value"] is not None:
            assert has_gap, f"{where} {r['indicator']}: own and peer value but no gap"
        if not has_peer:
            assert isinstance(r["reason"], str) and r["reason"], f"{where} {r['indicator']}: no peer value, no reason"
            assert not has_gap
            if r["n_peers"] == 0:  # a rank needs peers with figures (a weighted SSB rate can rank without an average)
                assert r["rank"] is None
        if has_gap:
            assert has_peer and r["indicator"] in gap_ids and math.isfinite(r["gap_nok"])
        elif r["indicator"] in gap_ids:
            assert r["reason"], f"{where} {r['indicator']}: no gap and no reason"
        if r["gap_need_corrected_nok"] is None and has_gap and r["indicator"] + "_behovskorr" in gap_ids:
            assert r["reason"], f"{where} {r['indicator']}: no need-corrected gap and no reason"


@pytest.mark.parametrize("peers", PEERS)
def test_show_json_for_every_municipality_2024(snap, peers):
    year = 2024
    empty = 0
    for k, region in enumerate(snap.municipalities):
        where = f"{region} {peers} {year}"
        out = show.collect(_args(region, year, peers, "indicators"), snap)
        records = show._records(out["indicators"], show.INDICATOR_FIELDS)
        assert len(records) == len(indicators.all())
        _check_records(records, where)
        empty += bool(out.get("peer_note"))
        g = api.gaps(snap, region, year, peers)
        assert (g["gap_nok"].notna() | g["reason"].map(bool)).all(), where
        assert (g["gap_nok"].isna() | g["peer_per_resident"].notna()).all(), where
        text = api.summary_text(snap, region, year, peers)
        assert text.startswith(("I ", snap.name(region))), where
        if k % 25 == 0 or region == "0301":  # decompositions of every service for a sample
            for svc in list(indicators.services()) + ["TOTAL"]:
                d = api.decompose(snap, region, year, svc, peers)
                avail = d[d["available"]]
                if len(avail):
                    assert avail["nok"].sum() == pytest.approx(d.attrs["gap_nok"], abs=0.5)
                else:
                    assert math.isnan(d.attrs["gap_nok"]) and d.attrs["reason"]
    # Oslo is alone in KOSTRA group 13 and in county 03; no one else is ever without peers
    assert empty == (1 if peers in ("kostragruppe", "fylke") else 0)


# Every municipality × every peer group is 5-9 s per case: the edit-test loop keeps one case, `make test` runs all.
@pytest.mark.parametrize("year,convention", [
    (2024, "unweighted"),
    pytest.param(2024, "weighted", marks=pytest.mark.slow),
    pytest.param(2025, "weighted", marks=pytest.mark.slow),
    pytest.param(2025, "unweighted", marks=pytest.mark.slow),
])
def test_every_record_of_every_municipality(snap, year, convention):
    """The same record rules on the whole table (what `drivers show --format json` prints per municipality)."""
    for peers in PEERS:
        table = api.driver_table(snap, year, peers, convention)
        _check_records(show._records(table, show.INDICATOR_FIELDS), f"{peers} {year} {convention}")
        assert (table["gap_nok"] != 0).all() or table.loc[table["gap_nok"] == 0, "peer_value"].notna().all()
