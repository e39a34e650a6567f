"""The views' quick look-ups give exactly what the plain pandas way gives, on the real database: one indicator's
rows for a view (against the engine's whole driver table filtered with isin) and the municipality's own figure from
them, the coverage/unit-cost frame, the municipality's row of the controls' table; and a coverage tile shows the
municipality's own figure, not a peer's."""

import math

import pandas as pd
import pytest

from drivers import fmt
from drivers.report import data
from drivers.report import queries as views
from drivers.report import state as st

# (municipality, peers, convention, year): Oslo alone in its KOSTRA group, every built-in peer set, every convention,
# and 2025 (the year with SSB's coverage of residents 80+, 12209)
CASES = [("0301", "kostragruppe", "weighted", None), ("3222", "kostragruppe", "weighted", 2025),
         ("1151", "fylke", "unweighted", None), ("5001", "naboer", "weighted-excl-self", 2025),
         ("1520", "landet", "weighted", None), ("3418", "landet-uten-oslo", "unweighted-excl-self", None)]


def _state(kommune, peers, konv, aar) -> st.State:
    query = {"kommune": kommune, "peers": peers, "konv": konv}
    if aar is not None:
        query["aar"] = str(aar)
    return st.parse(query, allowed_extra=("tjeneste",))


def _reference_values(full: pd.DataFrame, state: st.State, indicator: str) -> pd.DataFrame:
    """What indicator_values gave before its arrays: the indicator's rows, filtered with isin, names mapped."""
    rows = full.loc[full["indicator"] == indicator, ["region", "value", "status", "peer_value"]].reset_index(drop=True)
    members = data.api().peer_members(data.get_panel(), state.kommune, state.aar, views.peer_arg(state))
    frame = rows[rows["region"].isin([*members, state.kommune])].copy()
    frame["name"] = frame["region"].map(data.meta().name)
    return frame.reset_index(drop=True)


@pytest.mark.parametrize(("kommune", "peers", "konv", "aar"), CASES)
def test_indicator_values_are_the_driver_tables_rows_for_the_view(pages, kommune, peers, konv, aar):
    state = _state(kommune, peers, konv, aar)
    full = data.api().driver_table(data.get_panel(), state.aar, views.peer_arg(state), state.konv)
    compared = 0
    for ind in views.all_indicators():
        got = views.indicator_values(state, ind.id)
        pd.testing.assert_frame_equal(got, _reference_values(full, state, ind.id), obj=f"{ind.id} {state}")
        compared += got["value"].notna().sum()
        own = got[got["region"] == state.kommune]
        value, peer, status, with_value = views.indicator_own(state, ind.id)  # what a tile reads, with no frame
        assert with_value == got["value"].notna().sum()
        for have, want in ((value, own["value"].iloc[0]), (peer, own["peer_value"].iloc[0]), (status, own["status"].iloc[0])):
            assert have == want or (fmt.is_missing(have) and fmt.is_missing(want)), (ind.id, have, want)
    assert compared > 0  # real figures were compared, not only empty frames


@pytest.mark.parametrize(("kommune", "peers", "konv", "aar"), CASES)
@pytest.mark.parametrize("service", ["FGK9", "FGK7"])
def test_coverage_unit_cost_pairs_each_municipalitys_two_figures(pages, kommune, peers, konv, aar, service):
    state = _state(kommune, peers, konv, aar)
    cov_id, cost_id = views.coverage_indicators(service)
    cov = views.indicator_values(state, cov_id).set_index("region")
    cost = views.indicator_values(state, cost_id).set_index("region")
    expected = pd.DataFrame({"name": cov["name"], "coverage": cov["value"],
                             "unit_cost": cost["value"].reindex(cov.index)}).reset_index()
    pd.testing.assert_frame_equal(views.coverage_unit_cost(state, service), expected)


def test_municipality_row_is_the_controls_row(pages):
    frame = data.meta().municipalities
    for code in frame["code"]:
        expected = frame[frame["code"] == code].iloc[0].to_dict()
        got = views.municipality(code)
        assert got.keys() == expected.keys()
        for key, value in expected.items():
            assert got[key] == value or (fmt.is_missing(got[key]) and fmt.is_missing(value)), (code, key)
    assert views.municipality("9998") == {}
    views.municipality("3222")["name"] = "changed"  # a copy: the next caller gets the row as it is
    assert views.municipality("3222")["name"] == data.meta().name("3222")


def test_coverage_tile_shows_the_municipalitys_own_figure(pages):
    state = _state("3222", "kostragruppe", "weighted", 2025).with_(tjeneste="FGK9")
    rows = views.indicator_values(state, "pleie_dekning_80")
    own = rows[rows["region"] == "3222"].iloc[0]
    others = set(rows.loc[rows["region"] != "3222", "value"])
    assert not math.isnan(own["value"]) and own["value"] not in others  # a peer's figure would read differently
    tile = pages["tjenester"].coverage_tiles(state, "FGK9")
    texts = [getattr(n, "children", None) for n in _walk(tile)]
    shown = f"{fmt.number(own['value'], 1, lang='nb')} %"
    assert shown in texts
    peer = f"{views.peers_label(state)}: {fmt.number(own['peer_value'], 1, lang='nb')} %."
    assert any(isinstance(t, str) and peer in t for t in texts)


def _walk(node):
    yield node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if hasattr(child, "to_plotly_json"):
            yield from _walk(child)


def test_ssb_group_figures_memoised_per_indicator_and_year(pages):
    from drivers.engine import measures

    panel = data.get_panel()
    held = 0
    for year in data.meta().years:
        for ind in views.all_indicators():
            got = measures.ssb_aggregate(panel, ind, year)
            assert got == measures._ssb_aggregate(panel, ind, year), (ind.id, year)
            assert measures.ssb_aggregate(panel, ind, year) is got  # computed once
            held += len(got)
    assert held > 0
