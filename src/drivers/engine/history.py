"""Merger-aware series: historical municipality codes mapped onto the 2024 structure.

Rules (kostra-method.md §1.5, SSB's own practice): only additive quantities (kroner, counts, residents)
are summed over predecessor codes; ratios are recomputed from those sums by the caller; a rate (a
percentage or a per-resident figure published by SSB) is never summed or averaged — it is carried over
only from a single predecessor (a pure renumbering) and is otherwise missing. Every value assembled
from another code, or for a year before the current code existed, is flagged as back-cast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

ADDITIVE_SUFFIXES = ("_1000kr", "_antall", "_personer", "_nok")


def is_additive(measure: str) -> bool:
    """Kroner amounts and counts add up across municipalities; rates (pct, per resident, per user) do not."""
    from drivers.engine import indicators

    spec = indicators.measure_spec(measure)
    if spec is not None and "additive" in spec:
        return bool(spec["additive"])
    return measure.endswith(ADDITIVE_SUFFIXES)


def code_map(regions: pd.DataFrame, code_changes: pd.DataFrame) -> dict[str, str]:
    """Historical code -> current (2024-structure) code, resolved through chains of changes."""
    direct: dict[str, str] = {}
    if code_changes is not None and len(code_changes):
        for old, new in zip(code_changes["old_code"].astype(str), code_changes["new_code"].astype(str), strict=False):
            if old != new:
                direct[old] = new
    if regions is not None and len(regions) and "current_code" in regions:
        sub = regions[regions["current_code"].notna()]
        for code, cur in zip(sub["code"].astype(str), sub["current_code"].astype(str), strict=False):
            if code != cur:
                direct.setdefault(code, cur)
    resolved: dict[str, str] = {}
    for old in direct:
        seen, cur = {old}, direct[old]
        while cur in direct and cur not in seen:  # follow 0230 -> 3029 -> 3222
            seen.add(cur)
            cur = direct[cur]
        resolved[old] = cur
    return resolved


def first_year_of_code(regions: pd.DataFrame, code_changes: pd.DataFrame) -> dict[str, int]:
    """First accounting year each current code existed (the year after its predecessors' last day)."""
    first: dict[str, int] = {}
    cmap = code_map(regions, code_changes)
    if code_changes is not None and len(code_changes) and "valid_to" in code_changes:
        for old, vt in zip(code_changes["old_code"].astype(str), code_changes["valid_to"], strict=False):
            if pd.isna(vt):
                continue
            new = cmap.get(old)
            year = (pd.Timestamp(vt) + pd.Timedelta(days=1)).year
            if new is not None:
                first[new] = max(first.get(new, 0), year)
    if regions is not None and len(regions) and "valid_from" in regions:
        sub = regions[regions["valid_from"].notna() & (regions["current_code"].fillna(regions["code"]) == regions["code"])]
        for code, vf in zip(sub["code"].astype(str), sub["valid_from"], strict=False):
            first[code] = max(first.get(code, 0), int(vf))
    return first


@dataclass
class Aligned:
    """A measure on the current municipalities × years: value, SSB status, back-cast flag, blocked rate."""

    years: list[int]
    value: np.ndarray
    status: np.ndarray
    backcast: np.ndarray
    rate_blocked: np.ndarray  # a rate with several predecessors: left missing on purpose


def align(rows: pd.DataFrame, panel, additive: bool) -> Aligned:
    """Put long observation rows (any codes) onto panel.municipalities × years."""
    n = panel.n
    year_all = rows["year"].to_numpy(dtype=np.int64)
    years = sorted(int(y) for y in np.unique(year_all))
    shape = (n, len(years))
    value = np.full(shape, np.nan)
    status = np.full(shape, None, dtype=object)
    backcast = np.zeros(shape, dtype=bool)
    blocked = np.zeros(shape, dtype=bool)
    if not len(rows):
        return Aligned(years, value, status, backcast, blocked)
    src = rows["region"].astype(str).to_numpy(dtype=object)
    ci = panel.current_index(src)
    keep = ci >= 0
    yj = np.searchsorted(np.array(years), year_all)
    vals = rows["value"].to_numpy(dtype=float)
    stats = rows["status"].to_numpy(dtype=object)
    own = keep.copy()
    own[keep] = src[keep] == panel.municipalities[ci[keep]]

    # A current code's own figure wins (SSB may already publish a back-cast on the new code); among
    # duplicates the first row wins, so assign in reverse order.
    o = np.flatnonzero(own)[::-1]
    value[ci[o], yj[o]] = vals[o]
    status[ci[o], yj[o]] = stats[o]
    has_own = np.zeros(shape, dtype=bool)
    has_own[ci[o], yj[o]] = True

    p = np.flatnonzero(keep & ~own)
    p = p[~has_own[ci[p], yj[p]]]
    if len(p):
        pred = pd.DataFrame({"ci": ci[p], "yj": yj[p], "src": src[p], "value": vals[p], "status": stats[p]})
        g = pred.groupby(["ci", "yj"], sort=False)
        count = g["src"].nunique()
        summed = g["value"].sum(min_count=1) if additive else g["value"].first().where(count == 1)
        first_status = g["status"].first()
        i = summed.index.get_level_values(0).to_numpy()
        j = summed.index.get_level_values(1).to_numpy()
        value[i, j] = summed.to_numpy()
        status[i, j] = np.where(summed.isna().to_numpy(), first_status.reindex(summed.index).to_numpy(), None)
        backcast[i, j] = True
        if not additive:
            blocked[i, j] = (count.reindex(summed.index) > 1).to_numpy()
    # A year before the current code existed is a back-cast even when SSB filed it under the new code.
    for j, y in enumerate(years):
        backcast[:, j] |= panel.code_backcast(y)
    return Aligned(years, value, status, backcast, blocked)


def backcast_population(panel, region_index: int, year: int) -> bool:
    """True if residents for this municipality and year belong to a code that did not exist yet."""
    code = panel.municipalities[region_index]
    return year < panel.first_year.get(code, -10**9)
