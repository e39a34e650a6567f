"""The engine's memory on real data: driver tables are held compact (categorical text) yet handed out as
before (object text, None where missing), the cache of driver tables is bounded and an evicted table comes
back with the same numbers, the dashboard's warm-up set fits in the bound, and each kind of cached entry
has its own bound."""

from __future__ import annotations

import pandas as pd
import pytest
from engine_data import shared_frames, shared_panel

import drivers.i18n  # noqa: F401  (gives the engine its words: drivers.engine.reasons)
from drivers.engine import api, indicators
from drivers.engine.panel import Panel

TEXT = ["indicator", "name_nb", "name_en", "service", "category", "region", "name", "unit", "status", "peer_set",
        "peer_label", "convention", "polarity", "ssb_match", "reason"]


@pytest.fixture()
def fresh():
    """A Panel of its own (these tests fill and evict its caches)."""
    shared_panel()  # skips with a reason when /work/shared is missing
    return Panel(**shared_frames())


def _held(panel) -> dict:
    return panel.__dict__.get("_tables", {}).get("driver_table", {})


def test_held_table_is_compact_and_handed_out_as_object_text(fresh):
    out = api.driver_table(fresh, 2024, "fylke", "weighted")
    held = next(iter(_held(fresh).values()))
    assert len(held) == len(out) == fresh.n * len(indicators.all())
    for c in TEXT:
        assert out[c].dtype == object, c
    # 357 × 45 rows: the text columns cost codes, not a pointer and a Python string per cell
    assert held.nbytes() < 0.25 * out.memory_usage(deep=True).sum()
    # missing text stays None, never NaN (which is truthy)
    assert out["reason"].isna().any() and out["reason"].notna().any()
    assert all(r is None for r in out.loc[out["reason"].isna(), "reason"])
    assert set(out["peer_set"]) == {"fylke"} and set(out["convention"]) == {"weighted"}
    assert (out["year"] == 2024).all() and out["year"].dtype == "int64"
    # the frame handed out is a copy: changing it leaves the held table alone
    before = out["value"].copy()
    out["value"] = 0.0
    out.loc[0, "region"] = "x"
    again = api.driver_table(fresh, 2024, "fylke", "weighted")
    pd.testing.assert_series_equal(again["value"], before)
    assert again.loc[0, "region"] == fresh.municipalities[0]


def test_region_rows_equal_the_full_tables_rows(fresh):
    full = api.driver_table(fresh, 2024, "kostragruppe", "unweighted")
    some = api.driver_table(fresh, 2024, "kostragruppe", "unweighted", ["4601", "0301", "4601"])
    want = full[full["region"].isin(["0301", "4601"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(some, want)
    assert some.attrs == full.attrs


def test_evicted_table_is_recomputed_with_the_same_numbers(fresh, monkeypatch):
    first = api.driver_table(fresh, 2024, "kostragruppe", "weighted")
    gaps_first = api.gaps(fresh, "3222", 2024, "kostragruppe", "weighted")
    ts_first = api.timeseries(fresh, "3222", "ndu_fgk7_per_innb", "kostragruppe", "weighted")
    monkeypatch.setattr(api, "table_cache_size", lambda panel: 2)
    for peers in ["landet", "naboer", "fylke"]:
        api.driver_table(fresh, 2024, peers, "unweighted")
    held = _held(fresh)
    assert len(held) == 2
    assert not any(key[2] == "kostragruppe" for key in held)  # the least recently used went first
    fresh.__dict__.pop("_lru", None)  # and the slices gaps reads, so gaps recomputes from a new table too
    again = api.driver_table(fresh, 2024, "kostragruppe", "weighted")
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(gaps_first, api.gaps(fresh, "3222", 2024, "kostragruppe", "weighted"))
    pd.testing.assert_frame_equal(ts_first, api.timeseries(fresh, "3222", "ndu_fgk7_per_innb", "kostragruppe",
                                                           "weighted"))
    assert len(_held(fresh)) == 2


def test_dashboard_warm_up_set_fits_in_the_bound(fresh):
    n = api.warm(fresh, years=list(fresh.years))
    assert n == len(fresh.years) * len(api.PEER_SETS) * 2
    assert len(_held(fresh)) == n <= api.table_cache_size(fresh)
    assert api.table_cache_size(fresh) >= api.MIN_TABLES


def test_each_kind_of_entry_has_its_own_bound(fresh):
    calls = []
    fresh.lru(("big", 1), lambda: calls.append(1) or "kept", maxsize=4)
    for i in range(10):  # many small entries of another kind with a tight bound
        fresh.lru(("small", i), lambda: "x", maxsize=1)
    assert fresh.lru(("big", 1), lambda: calls.append(2) or "recomputed", maxsize=4) == "kept"
    assert calls == [1]
    assert len(fresh.__dict__["_lru"]["small"]) == 1
