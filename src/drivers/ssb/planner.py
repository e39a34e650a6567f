"""Query planner: splits one table selection into requests that each stay under SSB's limits.

Pure computation. A selection is an ordered mapping {variableCode: [valueCode, ...]}; the cells of a
request are the product of its list lengths. Every planned request has at most `max_cells` cells and
at most `max_values` selected values, and the number of requests stays close to the lower bound
ceil(cells / max_cells): we try splitting one or two dimensions into even chunks and keep the plan
with the fewest requests, preferring region-like dimensions over contents and time (time and
contents are split only when nothing else gets under the limit).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# Split these last: they are what a reader compares across, and SSB caches by them.
LAST_RESORT = ("Tid", "ContentsCode")


class PlanError(ValueError):
    """A selection that cannot be planned (e.g. one single cell exceeds the limit)."""


@dataclass(frozen=True)
class Plan:
    """The requests for one table and the numbers a report needs."""

    requests: list[dict[str, list[str]]]
    cells: int
    max_cells: int

    @property
    def lower_bound(self) -> int:
        return max(1, math.ceil(self.cells / self.max_cells))

    @property
    def ratio(self) -> float:
        return len(self.requests) / self.lower_bound


def dedupe(selection: Mapping[str, Sequence[str]]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The selection with each dimension's repeated codes removed (first place kept), and what was removed
    ({dimension: [code, ...]}, each repeated code once). SSB answers a repeated code with 500 and no body."""
    clean, dropped = {}, {}
    for dim, codes in selection.items():
        codes = list(codes)
        unique = list(dict.fromkeys(codes))
        clean[dim] = unique
        if len(unique) != len(codes):
            seen: set[str] = set()
            dropped[dim] = list(dict.fromkeys(c for c in codes if c in seen or seen.add(c)))
    return clean, dropped


def cell_count(selection: Mapping[str, Sequence[str]]) -> int:
    return math.prod(len(v) for v in selection.values())


def chunks(values: Sequence[str], n_chunks: int) -> list[list[str]]:
    """Split into n_chunks contiguous, near-equal parts (sizes differ by at most one)."""
    size, extra = divmod(len(values), n_chunks)
    out, start = [], 0
    for i in range(n_chunks):
        end = start + size + (1 if i < extra else 0)
        out.append(list(values[start:end]))
        start = end
    return out


def _penalty(dim: str, preferred: Iterable[str]) -> int:
    if dim in preferred:
        return 0
    return 2 if dim in LAST_RESORT else 1


def _best_split(sizes: dict[str, int], max_cells: int, max_values: int, preferred: tuple[str, ...]):
    """Return {dim: chunk_count} with the fewest requests; None if no one/two-dimension split works."""
    total = math.prod(sizes.values())
    n_values = sum(sizes.values())
    dims = [d for d in sizes if sizes[d] > 1]
    best = None  # (requests, penalty, {dim: k})

    def consider(counts: dict[str, int]) -> None:
        nonlocal best
        per = math.prod(math.ceil(sizes[d] / counts.get(d, 1)) for d in sizes)
        vals = n_values - sum(sizes[d] - math.ceil(sizes[d] / k) for d, k in counts.items())
        if per > max_cells or vals > max_values:
            return
        requests = math.prod(counts.values())
        key = (requests, sum(_penalty(d, preferred) for d, k in counts.items() if k > 1))
        if best is None or key < best[:2]:
            best = (*key, dict(counts))

    for a in dims:
        rest = total // sizes[a]
        # fewest chunks of `a` so a chunk fits: ceil(n / floor(limit / rest))
        if rest <= max_cells:
            consider({a: math.ceil(sizes[a] / max(1, max_cells // rest))})
        for b in dims:
            if b == a:
                continue
            rest_ab = total // (sizes[a] * sizes[b])
            if rest_ab > max_cells:
                continue
            for ka in range(1, sizes[a] + 1):
                ca = math.ceil(sizes[a] / ka)
                if ka > 1 and ca == math.ceil(sizes[a] / (ka - 1)):
                    continue  # same chunk size as fewer chunks: no gain
                fit_b = max_cells // (rest_ab * ca)
                if fit_b < 1:
                    continue
                consider({a: ka, b: math.ceil(sizes[b] / fit_b)})
    return None if best is None else best[2]


def plan(
    selection: Mapping[str, Sequence[str]],
    max_cells: int = 800_000,
    max_values: int = 10**9,
    preferred: Iterable[str] = (),
) -> Plan:
    """Plan the requests for `selection` (dimension order kept). `preferred` dims are split first."""
    selection, _ = dedupe(selection)  # a repeated code would make SSB answer 500; the caller reports them
    if any(not v for v in selection.values()):
        raise PlanError("empty selection for " + ", ".join(d for d, v in selection.items() if not v))
    cells = cell_count(selection)
    n_values = sum(len(v) for v in selection.values())
    if cells <= max_cells and n_values <= max_values:
        return Plan([selection], cells, max_cells)
    sizes = {d: len(v) for d, v in selection.items()}
    counts = _best_split(sizes, max_cells, max_values, tuple(preferred))
    if counts is None:
        counts = _split_many(sizes, max_cells, tuple(preferred))
    requests: list[dict[str, list[str]]] = [{}]
    for dim, values in selection.items():
        parts = chunks(values, counts.get(dim, 1))
        requests = [{**r, dim: p} for r in requests for p in parts]
    return Plan(requests, cells, max_cells)


def _split_many(sizes: dict[str, int], max_cells: int, preferred: tuple[str, ...]) -> dict[str, int]:
    """Fallback for very large tables: split whole dimensions to single values, then chunk one more."""
    order = sorted(sizes, key=lambda d: (_penalty(d, preferred), -sizes[d]))
    counts: dict[str, int] = {}
    per = math.prod(sizes.values())
    for dim in order:
        if per <= max_cells:
            break
        rest = per // sizes[dim]
        if rest <= max_cells:
            counts[dim] = math.ceil(sizes[dim] / (max_cells // rest))
            return counts
        counts[dim] = sizes[dim]
        per = rest
    if per > max_cells:
        raise PlanError(f"a single cell block of {per} cells exceeds the limit {max_cells}")
    return counts


def split_request(request: Mapping[str, Sequence[str]], preferred: Iterable[str] = ()) -> list[dict[str, list[str]]]:
    """Halve a request that SSB refused as too large (403 / 'Too many cells selected')."""
    sizes = {d: len(v) for d, v in request.items()}
    splittable = [d for d in request if sizes[d] > 1]
    if not splittable:
        raise PlanError("SSB refused a one-cell request as too large")
    preferred = tuple(preferred)
    dim = min(splittable, key=lambda d: (_penalty(d, preferred), -sizes[d]))
    return [{**{d: list(v) for d, v in request.items()}, dim: part} for part in chunks(list(request[dim]), 2)]
