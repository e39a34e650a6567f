"""Sammenlign (/sammenlign) on real data: peers, the side-by-side rows, both peer averages checked against
an independent computation, the convention comparison, 'why similar', saving a named set, friendly errors."""

from __future__ import annotations

import json

import dash
import numpy as np
import pytest
from ui_pages_data import (
    duplicate_ids,
    find,
    page_layout,
    page_module,
    pages_app,  # noqa: F401  (the module fixture below)
    text,
)

from drivers.report import data
from drivers.ui import ids
from drivers.ui.pages import _compare as cmp

YEAR = None


pytestmark = pytest.mark.usefixtures("pages_app")

def _year():
    return data.meta().default_year


def _inds(view="per-innbygger"):
    from drivers.engine import indicators

    return cmp.view_indicators(view, indicators.all())


def _wide(peers, convention):
    return cmp.wide(data.api().driver_table(data.get_panel(), _year(), peers, convention))


def _own_per_resident(region_codes, service, year):
    """Independent: ndu_1000kr of `service` and residents 1.1. next year, straight from the raw frames."""
    panel = data.get_panel()
    obs = panel.observations
    rows = obs[(obs["measure"] == "ndu_1000kr") & (obs["year"] == year)
               & (obs["dims"] == f"KOKart0000=AGD2;KOKfunksjon0000={service}")].set_index("region")["value"]
    pop = panel.population[panel.population["year"] == year + 1].groupby("region")["persons"].sum()
    return rows.reindex(region_codes).astype(float) * 1000, pop.reindex(region_codes).astype(float)


def test_sml001_wide_matches_long_driver_table():
    table = data.api().driver_table(data.get_panel(), _year(), "kostragruppe", "weighted")
    w = cmp.wide(table)
    assert len(w.regions) == 357 and len(w.indicators) == table["indicator"].nunique()
    sample = table.sample(200, random_state=1)
    for r in sample.itertuples():
        i, j = w.pos[r.region], w.ipos[r.indicator]
        assert (np.isnan(w.value[i, j]) and np.isnan(r.value)) or w.value[i, j] == r.value
        assert (np.isnan(w.peer_value[i, j]) and np.isnan(r.peer_value)) or w.peer_value[i, j] == r.peer_value


def test_sml002_side_by_side_rows_and_both_averages():
    year = _year()
    members = data.api().peer_members(data.get_panel(), "3222", year, "kostragruppe")
    groups = data.get_panel().groups.set_index("region")["group_code"]
    assert sorted(members) == sorted(c for c, g in groups.items() if g == groups["3222"] and c != "3222")
    ww, wu = _wide("kostragruppe", "weighted"), _wide("kostragruppe", "unweighted")
    inds = _inds()
    rows = cmp.side_by_side(ww, "3222", members, inds, {})
    assert rows[0]["nr"] == "3222" and rows[0]["valgt"]
    assert [r["kommune"] for r in rows[1:]] == sorted(r["kommune"] for r in rows[1:])
    assert {r["nr"] for r in rows[1:]} == set(members)
    # the grid's FGK7 per-resident value and both pinned averages, recomputed from the raw frames
    num, den = _own_per_resident(["3222", *members], "FGK7", year)
    by_code = {r["nr"]: r for r in rows}
    for code in ["3222", *members]:
        assert by_code[code]["ndu_fgk7_per_innb"] == pytest.approx(num[code] / den[code], rel=1e-9)
    pinned = cmp.peer_rows(ww, wu, "3222", inds, "nb", ssb=ww)
    # the group figures include Lørenskog itself, as SSB's do; SSB's own EKG10 figure is pinned first
    assert "SSB" in pinned[0]["kommune"] and "vektet" in pinned[1]["kommune"] and "uvektet" in pinned[2]["kommune"]
    assert pinned[1]["ndu_fgk7_per_innb"] == pytest.approx(num.sum() / den.sum(), rel=1e-9)
    assert pinned[0]["ndu_fgk7_per_innb"] == pytest.approx(pinned[1]["ndu_fgk7_per_innb"], rel=1e-9)
    assert pinned[2]["ndu_fgk7_per_innb"] == pytest.approx((num / den).mean(), rel=1e-9)
    # the ASSS choice leaves Lørenskog out, and no SSB row is claimed for it
    we, ue = _wide("kostragruppe", "weighted-excl-self"), _wide("kostragruppe", "unweighted-excl-self")
    asss = cmp.peer_rows(we, ue, "3222", inds, "nb", ssb=we)
    peer_num, peer_den = num.drop("3222"), den.drop("3222")
    assert len(asss) == 2 and asss[0]["ndu_fgk7_per_innb"] == pytest.approx(peer_num.sum() / peer_den.sum(), rel=1e-9)
    assert asss[1]["ndu_fgk7_per_innb"] == pytest.approx((peer_num / peer_den).mean(), rel=1e-9)


def test_sml003_convention_table_is_consistent():
    ww, wu = _wide("landet", "weighted"), _wide("landet", "unweighted")
    frame = cmp.conventions(ww, wu, "1151", _inds(), "unweighted", "nb")
    assert len(frame) == len(_inds())
    have = frame.dropna(subset=["vektet", "uvektet", "verdi"])
    assert len(have) >= 9
    assert np.allclose(have["forskjell"], have["uvektet"] - have["vektet"])
    assert np.allclose(have["avvik_vektet"], have["verdi"] - have["vektet"])
    flips = (np.sign(have["avvik_vektet"]) != np.sign(have["avvik_uvektet"])) & (have["avvik_vektet"] != 0)
    assert (have["verdict_changes"] == flips).all()
    rel = (have["forskjell"] / have["vektet"].abs()).abs()
    assert (have["noticeable"] == (rel > cmp.NOTICEABLE)).all()
    # across the whole country the mean of municipalities is not the national Σ/Σ
    assert (have["forskjell"].abs() > 0).any()


def test_sml004_why_similar_rows():
    from drivers.engine import peers as peermod

    panel = data.get_panel()
    nn = data.api().nearest_neighbours(panel, "1151", _year(), k=10)
    rows, variables = cmp.why_similar(nn, peermod.structural_variables(panel, _year()), "1151", "Utsira")
    assert rows[0]["nr"] == "1151" and rows[0]["valgt"] and len(rows) == 11
    pop = panel.population[(panel.population["year"] == _year() + 1)].groupby("region")["persons"].sum()
    assert rows[0]["innbyggere"] == int(pop["1151"])  # residents, not their logarithm
    for r in rows[1:]:
        assert sum(r[f"{v}__andel"] for v in variables) == pytest.approx(100, abs=0.1 * len(variables))
        assert 0 <= r["avstand"] <= 1
    assert [r["avstand"] for r in rows[1:]] == sorted(r["avstand"] for r in rows[1:])


@pytest.mark.parametrize(("code", "peers"), [("0301", "landet-uten-oslo"), ("3222", "kostragruppe"),
                                             ("1151", "naboer"), ("3222", "fylke")])
def test_sml005_layout_renders(code, peers):
    layout = page_layout("/sammenlign")(kommune=code, peers=peers)
    assert find(layout, ids.PAGE_ROOT) is not None
    grid = find(layout, "sml-grid")
    pinned = grid.dashGridOptions["pinnedBottomRowData"]
    # the two averages, and SSB's published group figure first where the data holds one (KOSTRA group, Landet)
    assert grid.rowData[0]["nr"] == code and len(pinned) == (3 if peers == "kostragruppe" else 2)
    assert ("SSB" in pinned[0]["kommune"]) == (peers == "kostragruppe")
    assert json.dumps(grid.rowData)  # JSON-safe: NaN became None
    assert find(layout, "sml-konv-grid") is not None
    assert (find(layout, "sml-naboer-grid") is not None) == (peers == "naboer")
    if peers == "landet-uten-oslo":
        assert "0301" not in {r["nr"] for r in grid.rowData[1:]}
    assert "Kilde: Statistisk sentralbyrå" in text(layout)
    assert duplicate_ids(layout) == []


def test_sml006_views_and_bad_view():
    for view in cmp.VIEWS:
        layout = page_layout("/sammenlign")(kommune="3222", visning=view)
        assert find(layout, ids.PAGE_ROOT) is not None, view
    bad = page_layout("/sammenlign")(kommune="3222", visning="drop table")
    assert find(bad, ids.ERROR_PAGE) is not None and "Ukjent visning" in text(bad)


def test_sml007_missing_indicators_are_named_with_fetch_command():
    layout = page_layout("/sammenlign")(kommune="3222", visning="nokkeltall")
    body = text(layout)
    grid = find(layout, "sml-grid")
    shown = {c.get("field") for c in grid.columnDefs}
    lacking = [i for i in _inds("nokkeltall") if i.id not in shown]
    if lacking:
        assert "drivers fetch --tables" in body


def test_sml008_save_named_set(tmp_path, monkeypatch):
    """Saving an own set checks it and hands it to the browser in its URL form (issue 13 item 3): nothing is
    written on the server."""
    from drivers.report import state as st

    path = tmp_path / "peer_sets.json"
    monkeypatch.setenv("DRIVERS_PEER_SETS", str(path))
    sml = page_module("/sammenlign")
    message, saved = sml.save_set("naboer-nedre-romerike", ["3222", "3205", "9998"], "nb")
    assert saved is None and "9998" in message  # an unknown code: one message
    message, saved = sml.save_set("nedre-romerike", ["3222", "3205", "3203"], "nb")
    assert saved == {"name": "nedre-romerike", "peers": "egen.nedre-romerike.3203.3205.3222", "n": 3}
    assert "3 kommuner" in message
    peers = st.parse({"kommune": "3222", "peers": saved["peers"]}).peers
    assert data.api().peer_members(data.get_panel(), "3222", _year(), peers) == ["3203", "3205"]
    for bad_name, members in [("landet", ["3222"]), ("", ["3222"]), ("ok", []), ("a b/c", ["3222"])]:
        message, saved = sml.save_set(bad_name, members, "nb")
        assert saved is None and message
    assert not path.exists()  # nothing on the server's disk


def test_sml009_csv_export_and_save_callbacks():
    sml = page_module("/sammenlign")
    assert sml._export_csv(1) is True
    # the save button's first rendering (n_clicks 0) saves nothing and says nothing
    assert sml._save_set(0, "x", ["3222"], "nb") == (dash.no_update, dash.no_update)
