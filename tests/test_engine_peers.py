"""Peer groups on real data: KOSTRA group sizes, county, Landet, nearest neighbours, saved sets."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from engine_data import shared_panel

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


def test_unknown_peer_set_is_a_user_error(panel, tmp_path, monkeypatch):
    monkeypatch.setenv("DRIVERS_DB", str(tmp_path / "x.duckdb"))
    with pytest.raises(UserError, match="ukjent sammenligningsgruppe"):
        peers.membership(panel, "no-such-set", 2024, sets_path=tmp_path / "peer_sets.json")


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


def test_saved_peer_sets_round_trip_atomically(panel, tmp_path):
    path = tmp_path / "peer_sets.json"
    saved = peers.save_peer_set("Romerike", ["3205", "3220", "3224"], path=path, panel=panel)
    assert saved == ["3205", "3220", "3224"]
    assert peers.load_peer_sets(path) == {"Romerike": ["3205", "3220", "3224"]}
    assert json.loads(path.read_text())["sets"]["Romerike"]["members"] == saved
    assert not list(tmp_path.glob(".peer_sets.*"))  # no temp file left behind
    m = peers.membership(panel, "Romerike", 2024, sets_path=path)
    assert set(panel.municipalities[m[panel.check_region("3222")]]) == {"3205", "3220", "3224"}
    with pytest.raises(UserError):
        peers.save_peer_set("landet", ["3205"], path=path)
    with pytest.raises(UserError):
        peers.save_peer_set("Feil", ["9998"], path=path, panel=panel)
    peers.delete_peer_set("Romerike", path=path)
    assert peers.load_peer_sets(path) == {}
