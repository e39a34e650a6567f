"""Requests planned vs the lower bound ceil(cells / limit) for the whole catalog.

Shape: 357 municipalities (+ the catalog's aggregates) x 10 years, other dimensions at the sizes the
catalog expects (catalog.json `expected_values`, from docs/ssb-api.md). Printed for SSB's limit of
800 000 cells and for two stricter limits, with a naive region-only splitter for contrast.
The ratio planned / bound is the figure of merit (target: <= 1.05 per table).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

# bench/drivers.py (another benchmark) would shadow the `drivers` package when run as a script
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from drivers import catalog  # noqa: E402
from drivers.ssb.planner import cell_count, plan  # noqa: E402

MUNICIPALITIES = 357
YEARS = 10


def selection_for(entry: catalog.TableEntry, functions: int | None = None) -> dict[str, list[str]]:
    sel = {"region": [f"R{i}" for i in range(MUNICIPALITIES + len(entry.region_aggregates))]}
    for dim, n in entry.expected_values.items():
        if dim == "region" or entry.selection.get(dim) == "eliminate":
            continue
        if functions and dim == "KOKfunksjon0000":
            n = functions
        sel[dim] = [f"{dim}{i}" for i in range(n)]
    sel["Tid"] = [str(2016 + i) for i in range(YEARS)]
    return sel


def naive(sel: dict[str, list[str]], limit: int) -> int:
    """Region-only chunks of floor(limit / rest); if one region is too big, one request per region per
    ceil(rest / limit) slice (what a simple client does)."""
    n = len(sel["region"])
    rest = cell_count(sel) // n
    return math.ceil(n / (limit // rest)) if rest <= limit else n * math.ceil(rest / limit)


def main() -> None:
    cases = [(tid, e, None) for tid, e in catalog.entries().items()]
    cases.append(("12362*", catalog.get("12362"), 97))  # all 97 functions instead of the FGK groups
    for limit in (800_000, 100_000, 20_000):
        print(f"\ncell limit {limit:,}".replace(",", " "))
        print(f"{'table':8} {'cells':>10} {'bound':>6} {'planned':>7} {'ratio':>6} {'naive':>6}")
        tot_cells = tot_bound = tot_plan = tot_naive = 0
        t0 = time.perf_counter()
        for tid, entry, functions in cases:
            sel = selection_for(entry, functions)
            p = plan(sel, max_cells=limit, preferred=("region",))
            assert all(cell_count(r) <= limit for r in p.requests)
            nv = naive(sel, limit)
            print(f"{tid:8} {p.cells:>10} {p.lower_bound:>6} {len(p.requests):>7} {p.ratio:>6.3f} {nv:>6}")
            tot_cells += p.cells
            tot_bound += p.lower_bound
            tot_plan += len(p.requests)
            tot_naive += nv
        ms = (time.perf_counter() - t0) * 1000
        print(f"{'all':8} {tot_cells:>10} {tot_bound:>6} {tot_plan:>7} {tot_plan / tot_bound:>6.3f} {tot_naive:>6}"
              f"   (planning took {ms:.0f} ms; {tot_plan} requests = {tot_plan / 30:.1f} min at 30 calls/min)")
        print(f"ratio planned / ceil(cells/limit) = {tot_plan / tot_bound:.3f}; naive / bound = {tot_naive / tot_bound:.3f}")


if __name__ == "__main__":
    main()
