"""The query planner on real table shapes: limits kept, nothing lost or doubled, few requests."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.ssb.planner import PlanError, cell_count, chunks, plan, split_request


def _selection_07459(fake_table):
    """The 07459 selection the catalog makes: all regions, all ages, Personer1, every year."""
    d = fake_table.dim
    return {"Region": d["Region"].codes, "Alder": d["Alder"].codes, "ContentsCode": ["Personer1"],
            "Tid": d["Tid"].codes}


def _cells(requests):
    return [cell for r in requests for cell in itertools.product(*r.values())]


@pytest.fixture(scope="module")
def t07459():
    from fakessb.tables import POPULATION_CSV, table_07459

    if not POPULATION_CSV.exists():
        pytest.skip("real population data (../shared/ssb) missing")
    return table_07459()


def test_under_the_limit_is_one_request(t07459):
    sel = _selection_07459(t07459)
    p = plan(sel, max_cells=800_000)
    assert cell_count(sel) == 358 * 106 * 12  # 455 376 real cells
    assert p.requests == [sel]


@pytest.mark.parametrize("limit", [200_000, 50_000, 20_000, 7_000])
def test_over_limit_splits_regions_into_fewest_requests(t07459, limit):
    sel = _selection_07459(t07459)
    p = plan(sel, max_cells=limit, preferred=("Region",))
    bound = math.ceil(cell_count(sel) / limit)
    assert all(cell_count(r) <= limit for r in p.requests)
    assert len(p.requests) <= math.ceil(bound * 1.05), (len(p.requests), bound)
    # time and contents stay whole; every cell exactly once, in SSB's dimension order
    assert all(r["Tid"] == sel["Tid"] and r["ContentsCode"] == ["Personer1"] for r in p.requests)
    got = _cells(p.requests)
    assert len(got) == len(set(got)) == cell_count(sel)
    assert all(list(r) == list(sel) for r in p.requests)


def test_one_region_too_big_splits_a_second_dimension(t07459):
    sel = _selection_07459(t07459)
    per_region = cell_count(sel) // len(sel["Region"])  # 1 272 cells per region
    limit = 1000
    p = plan(sel, max_cells=limit, preferred=("Region",))
    assert per_region > limit
    assert all(cell_count(r) <= limit for r in p.requests)
    got = _cells(p.requests)
    assert len(got) == len(set(got)) == cell_count(sel)
    assert len(p.requests) <= math.ceil(math.ceil(cell_count(sel) / limit) * 1.05)


def test_max_values_is_kept(t07459):
    sel = _selection_07459(t07459)
    p = plan(sel, max_cells=800_000, max_values=200)
    assert len(p.requests) > 1
    assert all(sum(len(v) for v in r.values()) <= 200 for r in p.requests)
    assert len(_cells(p.requests)) == cell_count(sel)


def test_split_request_halves_the_region_not_time(t07459):
    sel = _selection_07459(t07459)
    a, b = split_request(sel, preferred=("Region",))
    assert a["Tid"] == b["Tid"] == sel["Tid"]
    assert a["Region"] + b["Region"] == sel["Region"]
    assert abs(len(a["Region"]) - len(b["Region"])) <= 1


def test_impossible_and_empty_selections_are_refused():
    with pytest.raises(PlanError):
        plan({"Region": ["0301"], "Tid": []})
    with pytest.raises(PlanError):
        split_request({"Region": ["0301"], "Tid": ["2024"]})


def test_chunks_are_even():
    parts = chunks([str(i) for i in range(891)], 4)
    assert [len(p) for p in parts] == [223, 223, 223, 222]


@settings(max_examples=150, deadline=None)
@given(sizes=st.lists(st.integers(1, 9), min_size=1, max_size=5), limit=st.integers(1, 3000))
def test_any_shape_keeps_the_limit_and_loses_nothing(sizes, limit):
    sel = {f"D{i}": [f"{i}_{j}" for j in range(n)] for i, n in enumerate(sizes)}
    p = plan(sel, max_cells=limit)
    assert all(cell_count(r) <= limit for r in p.requests)
    got = _cells(p.requests)
    assert len(got) == len(set(got)) == cell_count(sel)
    assert len(p.requests) >= math.ceil(cell_count(sel) / limit)


@pytest.mark.parametrize("limit", [800_000, 100_000])
def test_whole_catalog_at_357_municipalities_and_10_years_is_near_the_bound(limit):
    """The catalog's expected shapes (catalog.json expected_values), as bench/fetch_plan.py prints them."""
    from drivers import catalog

    for entry in catalog.entries().values():
        sel = {"region": [f"R{i}" for i in range(357 + len(entry.region_aggregates))]}
        sel |= {d: [f"{d}{i}" for i in range(n)] for d, n in entry.expected_values.items()
                if d != "region" and entry.selection.get(d) != "eliminate"}
        sel["Tid"] = [str(2016 + i) for i in range(10)]
        p = plan(sel, max_cells=limit, preferred=("region",))
        assert all(cell_count(r) <= limit for r in p.requests)
        assert len(p.requests) <= math.ceil(p.lower_bound * 1.05), (entry.id, len(p.requests), p.lower_bound)
