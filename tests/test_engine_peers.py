"""Peer groups on real data: KOSTRA group sizes, county, Landet, nearest neighbours, saved sets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from engine_data import shared_panel

import drivers.i18n  # noqa: F401  (gives the engine its words: drivers.engine.reasons)
from drivers.engine import api, peers
from drivers.errors import UserError

SSB_GROUP_SIZES = [40, 18, 9, 39, 33, 28, 38, 13, 27, 13, 10, 11, 1, 25, 36, 8, 8]


@pytest.fixture(scope="module")
def panel():
    return shared_panel()


def test_kostra_group_sizes_equal_ssbs(panel):
    sizes = pd.Series(panel.group).value_counts()
    assert [int(sizes.get(f"EKG{i:02d}", 0)) for i in range(1, 18)] == SSB_GROUP_SIZES
    assert panel.n == 357


def test_group_membership_excludes_self_and_matches_group(panel):
    m = peers.membership(panel, "kostragruppe", 2024)
    assert not m.diagonal().any()
    i = panel.check_region("3222")
    members = api.peer_members(panel, "3222", 2024, "kostragruppe")
    assert len(members) == 12 and "3222" not in members  # EKG10 has 13 members
    assert all(panel.group[panel.pos[c]] == "EKG10" for c in members)
    assert m[i].sum() == 12
    oslo = panel.check_region("0301")
    assert m[oslo].sum() == 0  # EKG13 is Oslo alone: no peers


def test_county_landet_and_oslo_options(panel):
    lor = api.peer_members(panel, "3222", 2024, "fylke")
    assert lor and all(c.startswith("32") for c in lor) and "3222" not in lor
    assert len(api.peer_members(panel, "3222", 2024, "landet")) == 356
    uten = api.peer_members(panel, "3222", 2024, "landet-uten-oslo")
    assert len(uten) == 355 and "0301" not in uten
    assert "0301" not in api.peer_members(panel, "3222", 2024, "landet", exclude_oslo=True)
    assert "3222" in api.peer_members(panel, "3222", 2024, "landet", exclude_self=False)


def test_unknown_peer_set_is_a_user_error(panel):
    """A bare name that is not built in is not looked up anywhere: the engine reads no file."""
    with pytest.raises(UserError, match="ukjent sammenligningsgruppe"):
        peers.membership(panel, "no-such-set", 2024)
    for bad in (None, "", ["3205"], 3205):
        with pytest.raises(UserError):
            api.driver_table(panel, 2024, bad)


def test_nearest_neighbours_exclude_self_and_have_contributions(panel):
    nn = api.nearest_neighbours(panel, "3222", 2024, k=10)
    assert len(nn) == 10 and "3222" not in set(nn["region"])
    assert nn["distance"].between(0, 1).all() and nn["distance"].is_monotonic_increasing
    contrib = nn.filter(like="contrib_")
    assert np.allclose(contrib.sum(axis=1), 1.0)
    # frie inntekter exists for 3 municipalities only in the snapshot: left out, and said so
    assert "frie_inntekter_per_innb" in nn.attrs["dropped"]


def test_neighbour_distance_is_symmetric(panel):
    dist, _, used, _ = peers.neighbour_model(panel, 2024)
    assert np.allclose(dist, dist.T, equal_nan=True)
    assert np.allclose(np.diag(dist), 0.0)
    assert "kostnadsindeks" in used


def test_neighbours_do_not_change_when_a_unit_changes(panel):
    frame = peers.structural_variables(panel, 2024)
    w = {v: 1.0 for v in ["innbyggere", "andel_0_5", "andel_6_15", "andel_67_79", "andel_80", "kostnadsindeks"]}
    d1, _ = peers.distance_matrix(frame, w)
    rescaled = frame.copy()
    rescaled["andel_80"] = rescaled["andel_80"] * 100.0  # share -> per cent
    rescaled["kostnadsindeks"] = rescaled["kostnadsindeks"] * 100.0 + 3.0  # index 1.0 -> 100-based, shifted
    d2, _ = peers.distance_matrix(rescaled, w)
    assert np.allclose(d1, d2, equal_nan=True)
    i = panel.check_region("3222")
    assert list(peers.nearest(d1, i, 10)) == list(peers.nearest(d2, i, 10))


def test_weights_change_neighbours_and_bad_weights_are_user_errors(panel):
    base = api.nearest_neighbours(panel, "3222", 2024, k=10)
    heavy = api.nearest_neighbours(panel, "3222", 2024, k=10, weights={"andel_80": 25.0})
    assert list(base["region"]) != list(heavy["region"])
    with pytest.raises(UserError):
        api.nearest_neighbours(panel, "3222", 2024, weights={"skostørrelse": 1.0})
    with pytest.raises(UserError):
        api.nearest_neighbours(panel, "3222", 2024, weights={"andel_80": -1.0})


def test_service_neighbours_use_the_service_variables(panel):
    nn = api.nearest_neighbours(panel, "3222", 2024, k=5, service="FGK9")
    assert nn.attrs["variables"] == ["innbyggere", "andel_67_79", "andel_80", "kostnadsindeks"]


def test_naboer_peer_set_is_k_nearest(panel):
    m = peers.membership(panel, "naboer", 2024, k=7)
    assert (m.sum(axis=1) == 7).all() and not m.diagonal().any()
    i = panel.check_region("3222")
    nn = api.nearest_neighbours(panel, "3222", 2024, k=7)
    assert set(panel.municipalities[m[i]]) == set(nn["region"])


def test_a_saved_set_is_data_and_its_members_key_every_cache(panel):
    """Two PeerSets with the same name and different members give different peer values at once (no file, no
    mtime: the members are the key), and the same members again give the first numbers back."""
    romerike = peers.PeerSet("Romerike", ("3224", "3205", "3220", "3220"))
    assert romerike.members == ("3205", "3220", "3224")  # sorted, unique
    m = peers.membership(panel, romerike, 2024)
    assert set(panel.municipalities[m[panel.check_region("3222")]]) == {"3205", "3220", "3224"}
    assert api.peer_members(panel, "3222", 2024, romerike) == ["3205", "3220", "3224"]
    other = peers.PeerSet("Romerike", ("0301", "4601", "5001"))
    assert romerike != other and hash(romerike) != hash(other)

    def fgk9(p):
        t = api.driver_table(panel, 2024, p, "weighted", ["3222"]).set_index("indicator")
        return t.loc["ndu_fgk9_per_innb", "peer_value"], t.loc["ndu_fgk9_per_innb", "peer_set"]

    first, name = fgk9(romerike)
    second, _ = fgk9(other)
    assert name == "Romerike" and np.isfinite(first) and np.isfinite(second) and first != second
    # the peer value is the members' own sum over sum (weighted, Lørenskog not a member: nobody else in it)
    d = api.driver_table(panel, 2024, "landet", "weighted").set_index(["indicator", "region"])
    num = sum(d.loc[("ndu_fgk9_per_innb", c), "numerator"] for c in other.members)
    den = sum(d.loc[("ndu_fgk9_per_innb", c), "denominator"] for c in other.members)
    assert second == pytest.approx(num / den, rel=1e-12)
    g1 = api.gaps(panel, "3222", 2024, romerike).set_index("service")
    g2 = api.gaps(panel, "3222", 2024, other).set_index("service")
    assert g1.loc["FGK9", "peer_per_resident"] != g2.loc["FGK9", "peer_per_resident"]
    assert api.summary_text(panel, "3222", 2024, romerike) != api.summary_text(panel, "3222", 2024, other)
    t1 = api.timeseries(panel, "3222", "ndu_fgk9_per_innb", romerike)
    t2 = api.timeseries(panel, "3222", "ndu_fgk9_per_innb", other)
    assert not np.allclose(t1["peer_value"], t2["peer_value"], equal_nan=True)
    d1 = api.decompose(panel, "3222", 2024, "FGK9", romerike)
    d2 = api.decompose(panel, "3222", 2024, "FGK9", other)
    assert d1.attrs["gap_nok"] != d2.attrs["gap_nok"]
    assert api.group_value(panel, "ndu_fgk9_per_innb", 2024, other) == pytest.approx(num / den, rel=1e-12)
    assert fgk9(peers.PeerSet("Romerike", ("3205", "3220", "3224")))[0] == first
    assert api.peer_sets([romerike, "Vestland"]) == [*api.PEER_SETS, "Romerike", "Vestland"]


def test_a_peer_set_needs_a_name_that_is_not_built_in():
    for name in ("", "  ", "landet", None):
        with pytest.raises(UserError):
            peers.PeerSet(name, ("3205",))
    with pytest.raises(UserError):
        peers.PeerSet("x", "3205")  # a string is not a list of members
