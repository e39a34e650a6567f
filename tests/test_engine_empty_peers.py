"""An empty peer group on the real snapshot: Oslo (0301) is alone in KOSTRA group 13 and in county 03, and a
saved set whose only member is the municipality itself. With the municipality left out of its own average
there is nobody to compare with: every api function and `drivers show` must say so plainly (peer value
missing, no gap, a reason), never raise and never print 0."""

from __future__ import annotations

import json
import math

import pytest
from engine_data import snapshot_panel

import drivers.i18n  # noqa: F401  (gives the engine its words: drivers.engine.reasons)
from drivers import peersets
from drivers.cli import main
from drivers.engine import api, indicators

EMPTY_NB = "ingen andre kommuner enn"
EMPTY_EN = "no members other than"


def _snapshot_path():
    from drivers.config import Settings

    path = Settings.from_env().snapshot_path
    if not path.exists():
        pytest.skip(f"{path} not built (run `drivers snapshot build`)")
    return path


@pytest.fixture(scope="module")
def snap():
    _snapshot_path()
    return snapshot_panel()


@pytest.fixture
def saved_sets(tmp_path, monkeypatch):
    path = tmp_path / "peer_sets.json"
    monkeypatch.setenv("DRIVERS_PEER_SETS", str(path))
    return path


def _assert_empty_everywhere(panel, region: str, year: int, peers: str) -> None:
    """Every api function for `region` against an empty peer group."""
    assert api.peer_members(panel, region, year, peers) == []

    t = api.driver_table(panel, year, peers, "weighted", [region])
    assert len(t) == len(indicators.all())
    assert (t["n_peer_members"] == 0).all() and (t["n_peers"] == 0).all()
    assert t["peer_value"].isna().all() and t["rank"].isna().all()
    assert t["gap_nok"].isna().all() and t["gap_need_corrected_nok"].isna().all()  # missing, not 0
    assert t["reason"].map(lambda r: isinstance(r, str) and EMPTY_NB in r).all()
    assert t["value"].notna().any()  # the municipality's own figures are still there

    for convention in ("weighted", "unweighted"):
        g = api.gaps(panel, region, year, peers, convention)
        assert g["peer_per_resident"].isna().all() and g["gap_nok"].isna().all()
        assert g["gap_need_corrected_nok"].isna().all() and (g["n_peer_members"] == 0).all()
        assert g["reason"].map(lambda r: EMPTY_NB in r).all()
        assert not g["reason"].str.contains("behovskorrigert: sammenligningsgruppen").any()  # said once, not twice

        for service in list(indicators.services()) + ["TOTAL"]:
            d = api.decompose(panel, region, year, service, peers, convention)
            assert not d["available"].any() and d["nok"].isna().all() and d["share"].isna().all()
            assert d["reason"].map(lambda r: EMPTY_NB in r).all()
            assert math.isnan(d.attrs["gap_nok"]) and EMPTY_NB in d.attrs["reason"]
            assert d.attrs["n_peer_members"] == 0

        for service in ("FGK7", "FGK9"):
            for lever in ("coverage", "unit_cost"):
                for target in ("median", "average"):
                    w = api.what_if(panel, region, year, service, lever, peers, convention, target)
                    assert w["available"] is False and math.isnan(w["nok"]) and math.isnan(w["peer"])
                    assert EMPTY_NB in w["reason"]

        nb = api.summary_text(panel, region, year, peers, convention)
        en = api.summary_text(panel, region, year, peers, convention, lang="en")
        assert EMPTY_NB in nb and "mill. kr" not in nb
        assert EMPTY_EN in en and "NOK" not in en and "kommune" not in en
        assert nb == api.summary_text_reference(panel, region, year, peers, convention)
        assert en == api.summary_text_reference(panel, region, year, peers, convention, lang="en")

    ts = api.timeseries(panel, region, "ndu_fgk9_per_innb", peers)
    assert len(ts) and ts["peer_value"].isna().all() and ts["gap_nok"].isna().all()
    assert ts["reason"].map(lambda r: EMPTY_NB in r).all()


@pytest.mark.parametrize("year", [2024, 2025])
@pytest.mark.parametrize("peers", ["kostragruppe", "fylke"])
def test_oslo_alone_in_its_group(snap, year, peers):
    i = snap.check_region("0301")
    assert (snap.group == snap.group[i]).sum() == 1 and (snap.county == snap.county[i]).sum() == 1
    _assert_empty_everywhere(snap, "0301", year, peers)
    # neighbours and the profile do not depend on the peer group and still answer
    nn = api.nearest_neighbours(snap, "0301", year)
    assert len(nn) == 10 and "0301" not in set(nn["region"])
    assert api.profile(snap, "0301", year)["kostragruppe"] == "EKG13"


def test_a_municipality_with_peers_is_not_called_alone(snap):
    """The check above can fail: Lørenskog in KOSTRA group 10 has peers, values and gaps, no such reason."""
    t = api.driver_table(snap, 2024, "kostragruppe", "weighted", ["3222"])
    assert (t["n_peer_members"] == (snap.group == "EKG10").sum() - 1).all() and (t["n_peer_members"] == 12).all()
    assert not t["reason"].map(lambda r: isinstance(r, str) and EMPTY_NB in r).any()
    assert t.loc[t["indicator"] == "ndu_fgk9_per_innb", "gap_nok"].notna().all()
    assert EMPTY_NB not in api.summary_text(snap, "3222", 2024)


def test_saved_set_with_only_the_municipality_itself(snap, saved_sets):
    peersets.save("bare-lorenskog", ["3222"], panel=snap)
    only_self = peersets.get("bare-lorenskog")
    _assert_empty_everywhere(snap, "3222", 2024, only_self)
    # for anyone else the same set has one member, Lørenskog, and its value is the peer value
    other = api.driver_table(snap, 2024, only_self, "weighted", ["3205"]).set_index("indicator")
    own = api.driver_table(snap, 2024, "kostragruppe", "weighted", ["3222"]).set_index("indicator")
    assert (other["n_peer_members"] == 1).all()
    assert other.loc["ndu_fgk9_per_innb", "peer_value"] == pytest.approx(own.loc["ndu_fgk9_per_innb", "value"], rel=1e-12)


def test_show_says_so_in_every_format(snap, capsys, monkeypatch):
    from drivers.commands import show

    db = str(_snapshot_path())
    base = ["show", "--region", "0301", "--year", "2024", "--peers", "kostragruppe", "--db", db]
    assert main(base + ["--format", "table"]) == 0  # once through the database, the rest on the loaded panel
    out = capsys.readouterr().out
    assert "Merk: sammenligningsgruppen KOSTRA-gruppe 13 har ingen andre kommuner enn Oslo" in out
    assert "Traceback" not in out and "+0,0 mill. kr" not in out and "0,0 mill. kr" not in out
    monkeypatch.setattr(show, "_panel", lambda db: snap)

    for what in ("indicators", "gaps", "decomposition", "summary"):
        assert main(base + ["--format", "json", "--what", what]) == 0
        records = json.loads(capsys.readouterr().out)
        assert records
        for r in records:
            if what == "summary":
                assert EMPTY_NB in r["summary"]
                continue
            assert r.get("gap_nok") is None and EMPTY_NB in r["reason"]
            if what == "indicators":
                assert r["peer_value"] is None and r["rank"] is None and r["n_peer_members"] == 0

        assert main(base + ["--format", "csv", "--what", what]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) > 1 and all(EMPTY_NB in line for line in lines[1:])
