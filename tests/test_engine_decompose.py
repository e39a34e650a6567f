"""The LMDI decomposition: parts add up to the gap to the krone, zero when equal, missing parts named."""

from __future__ import annotations

import math

import numpy as np
import pytest
from engine_data import shared_panel
from hypothesis import given, settings
from hypothesis import strategies as st

import drivers.i18n  # noqa: F401  (gives the engine its words: drivers.engine.reasons)
from drivers.engine import api
from drivers.engine.decompose import Inputs, logmean, split

pos = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def inputs(draw):
    n = draw(st.floats(min_value=100, max_value=7e5))
    t = n * draw(st.floats(min_value=0.01, max_value=0.6))
    b = t * draw(st.floats(min_value=0.05, max_value=1.0))
    kbdu = b * draw(st.floats(min_value=1e3, max_value=2e6))
    ndu = kbdu * draw(st.floats(min_value=0.05, max_value=1.5))
    i = draw(st.floats(min_value=0.7, max_value=1.6))
    return Inputs(N=n, NDU=ndu, T=t, B=b, KBDU=kbdu, I=i)


def total_gap(own, peers, convention):
    if convention == "weighted":
        xp = sum(p.NDU for p in peers) / sum(p.N for p in peers)
    else:
        xp = float(np.mean([p.NDU / p.N for p in peers]))
    return own.N * (own.NDU / own.N - xp)


@settings(max_examples=300, deadline=None)
@given(own=inputs(), peers=st.lists(inputs(), min_size=1, max_size=12),
       convention=st.sampled_from(["weighted", "unweighted"]), has_target=st.booleans())
def test_parts_sum_to_the_gap_for_random_inputs(own, peers, convention, has_target):
    rows = split(own, peers, convention, has_target)
    parts = sum(r["nok"] for r in rows if r["available"])
    assert abs(parts - total_gap(own, peers, convention)) < 0.5  # to the krone
    if convention == "weighted":
        averaging = next(r for r in rows if r["component"] == "averaging")
        assert abs(averaging["nok"]) <= 1e-6 * max(1.0, abs(total_gap(own, peers, convention)))
    if has_target:  # full inputs: every driver is split, nothing left unsplit
        assert all(r["available"] for r in rows if r["component"] in ("need", "target_share", "coverage", "unit_cost", "net_gross"))
        assert not next(r for r in rows if r["component"] == "not_split")["available"]


@settings(max_examples=200, deadline=None)
@given(own=inputs(), k=st.integers(min_value=1, max_value=8), convention=st.sampled_from(["weighted", "unweighted"]))
def test_zero_when_the_municipality_equals_its_peers(own, k, convention):
    rows = split(own, [own] * k, convention, has_target=True)
    assert all(abs(r["nok"]) < 1e-3 for r in rows if r["available"])  # zero to a tenth of an øre


@settings(max_examples=200, deadline=None)
@given(own=inputs(), peers=st.lists(inputs(), min_size=1, max_size=6), drop=st.sampled_from(["B", "KBDU", "I"]))
def test_a_missing_input_is_named_not_guessed(own, peers, drop):
    reason = f"mangler {drop} (test)"
    rows = {r["component"]: r for r in split(own, peers, "weighted", True, missing={drop: reason})}
    assert abs(sum(r["nok"] for r in rows.values() if r["available"]) - total_gap(own, peers, "weighted")) < 0.5
    affected = {"B": ["coverage", "unit_cost"], "KBDU": ["net_gross"], "I": ["need"]}[drop]
    for comp in affected:
        assert not rows[comp]["available"] and math.isnan(rows[comp]["nok"])
        assert rows[comp]["reason"] == reason
    if drop == "B":
        assert rows["not_split"]["available"]
    if drop == "KBDU":
        # users without KBDU: the last link is net spending per user (unit cost and net/gross together), said so
        assert rows["unit_cost"]["available"] and not rows["not_split"]["available"]
        assert "netto per bruker" in rows["unit_cost"]["name_nb"] and "vår utledning" in rows["unit_cost"]["reason"]


@settings(max_examples=200, deadline=None)
@given(own=inputs(), peers=st.lists(inputs(), min_size=3, max_size=12), convention=st.sampled_from(["weighted", "unweighted"]))
def test_a_peer_without_users_is_its_own_row_and_the_parts_still_close(own, peers, convention):
    """One of ≥ 10 peers lacks users: the factors are split over the others and the difference is its own row."""
    peers = [*peers, *peers, *peers, *peers][:12]
    peers[0] = Inputs(peers[0].N, peers[0].NDU, peers[0].T, math.nan, peers[0].KBDU, peers[0].I)
    rows = {r["component"]: r for r in split(own, peers, convention, True)}
    assert abs(sum(r["nok"] for r in rows.values() if r["available"]) - total_gap(own, peers, convention)) < 0.5
    assert rows["coverage"]["available"] and rows["peer_subset"]["available"]
    assert "1 av 12" in rows["peer_subset"]["reason"]


def test_logmean():
    assert logmean(2.0, 2.0) == 2.0
    assert logmean(1.0, math.e) == pytest.approx((1 - math.e) / (0 - 1))


def test_negative_spending_is_not_split():
    own = Inputs(N=1000, NDU=-5000.0, T=100, I=1.0)
    rows = {r["component"]: r for r in split(own, [Inputs(N=1000, NDU=1e6, T=100, I=1.0)], "weighted", True)}
    assert rows["not_split"]["available"] and rows["not_split"]["nok"] == pytest.approx(1000 * (-5 - 1000))
    assert not rows["coverage"]["available"] and "LMDI" in rows["coverage"]["reason"]


@pytest.fixture(scope="module")
def panel():
    return shared_panel()


@pytest.mark.parametrize("service", ["FGK7", "FGK8b", "FGK9", "FGK13", "FGK12", "FGK2", "TOTAL"])
@pytest.mark.parametrize("convention", ["weighted", "unweighted"])
def test_real_decomposition_sums_to_the_service_gap(panel, service, convention):
    gaps = api.gaps(panel, "3222", 2024, "kostragruppe", convention).set_index("service")
    dec = api.decompose(panel, "3222", 2024, service, "kostragruppe", convention)
    assert dec.loc[dec["available"], "nok"].sum() == pytest.approx(gaps.loc[service, "gap_nok"], abs=0.5)
    by = dec.set_index("component")
    assert by.loc["need", "available"]  # the snapshot has the (total, non-SSB) need index
    for comp in ("coverage", "unit_cost", "net_gross"):  # no service statistics before a live fetch
        assert not by.loc[comp, "available"]
        reason = by.loc[comp, "reason"]
        assert any(s in reason for s in ("drivers fetch --tables", "katalogen", "samlede utgifter")), reason
    if service in ("FGK7", "FGK8b", "FGK9", "FGK13", "FGK12"):
        assert by.loc["target_share", "available"]
    else:
        assert "målgruppe" in by.loc["target_share", "reason"]


def test_what_if_names_missing_inputs(panel):
    res = api.what_if(panel, "3222", 2024, "FGK7", "coverage")
    assert not res["available"] and "13502" in res["reason"] and math.isnan(res["nok"])


def test_full_decomposition_when_service_statistics_exist():
    """With coverage (13502) and KBDU (12362 AGD4) present, as after a live fetch, every driver is split.

    The coverage and KBDU values here are generated test inputs (no SSB figures exist in ../shared for
    them); NDU, residents and the need index are the real data."""
    import pandas as pd
    from engine_data import require_shared, shared_frames

    from drivers.engine.panel import Panel

    require_shared()
    f = dict(shared_frames())
    obs = f["observations"]
    ndu = obs[(obs["year"] == 2024) & (obs["dims"] == "KOKart0000=AGD2;KOKfunksjon0000=FGK7")
              & obs["region"].str.match(r"^\d{4}$")]
    rng = np.random.default_rng(7)
    cov = pd.DataFrame({"table_id": "13502", "region": ndu["region"].to_numpy(), "year": 2024,
                        "contents_code": "KOSandel150000", "dims": "", "measure": "barnehage_andel_1_5_pct",
                        "value": rng.uniform(80, 98, len(ndu)).round(1), "status": None})
    kbdu = pd.DataFrame({"table_id": "12362", "region": ndu["region"].to_numpy(), "year": 2024, "contents_code": "",
                         "dims": "KOKart0000=AGD4;KOKfunksjon0000=FGK7", "measure": "kbdu_1000kr",
                         "value": ndu["value"].to_numpy() * rng.uniform(1.05, 1.4, len(ndu)), "status": None})
    f["observations"] = pd.concat([obs, cov, kbdu], ignore_index=True)
    p = Panel(**f)
    for convention in ("weighted", "unweighted"):
        dec = api.decompose(p, "3222", 2024, "FGK7", "kostragruppe", convention).set_index("component")
        gap = api.gaps(p, "3222", 2024, "kostragruppe", convention).set_index("service").loc["FGK7", "gap_nok"]
        for comp in ("need", "target_share", "coverage", "unit_cost", "net_gross"):
            assert dec.loc[comp, "available"], comp
        assert not dec.loc["not_split", "available"]
        assert dec.loc[dec["available"], "nok"].sum() == pytest.approx(gap, abs=0.5)
        if convention == "weighted":
            assert abs(dec.loc["averaging", "nok"]) < 0.5
    res = api.what_if(p, "3222", 2024, "FGK7", "coverage")
    assert res["available"] and res["own"] == pytest.approx(float(cov.set_index("region").loc["3222", "value"]))
    i = p.check_region("3222")
    ndu_i = float(ndu.set_index("region").loc["3222", "value"]) * 1000
    assert res["nok"] == pytest.approx(ndu_i * (res["peer"] / res["own"] - 1.0))
    # the what-if target is the peers' median coverage (issue 5), not their average
    members = api.peer_members(p, "3222", 2024, "kostragruppe")
    peer_cov = cov.set_index("region").loc[members, "value"]
    assert res["target"] == "median" and res["peer"] == pytest.approx(float(peer_cov.median()))
    avg = api.what_if(p, "3222", 2024, "FGK7", "coverage", convention="unweighted", target="average")
    assert avg["peer"] == pytest.approx(float(peer_cov.mean()))
    uc = api.what_if(p, "3222", 2024, "FGK7", "unit_cost")
    assert uc["available"] and uc["unit"] == "kr"
    t = api.driver_table(p, 2024, regions=["3222"]).set_index("indicator")
    kids = p.residents(2025, 1, 5)[i]
    expected_uc = float(kbdu.set_index("region").loc["3222", "value"]) * 1000 / (res["own"] / 100 * kids)
    assert t.loc["barnehage_kbdu_per_barn", "value"] == pytest.approx(expected_uc)
