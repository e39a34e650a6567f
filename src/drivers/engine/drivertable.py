"""The driver table: every indicator for every municipality against its peers, for one year.

Vectorised: the indicators are stacked as columns of n × m arrays and each peer average is one matrix
product with the membership matrix (averages.peer_average), so the whole country costs about as much as
one municipality. The result is memoised on the Panel per (year, peers, convention, options).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from drivers.engine import indicators as reg
from drivers.engine import measures, peers
from drivers.engine.averages import CONVENTION_NB, peer_average, peer_average_partition, rank_within
from drivers.engine.gaps import gap_nok
from drivers.engine.panel import NEED_NOTE_NB, Panel

COLUMNS = [
    "indicator", "name_nb", "name_en", "service", "category", "region", "name", "year", "value", "unit", "decimals",
    "status", "peer_value", "peer_set", "peer_label", "convention", "n_peers", "n_peer_members", "rank", "gap_nok",
    "gap_need_corrected_nok", "numerator", "denominator", "backcast", "polarity", "ssb_match", "reason",
]


def compute(
    panel: Panel,
    year: int,
    peer_set: str = "kostragruppe",
    convention: str = "weighted",
    *,
    exclude_oslo: bool = False,
    k: int = 10,
    weights: dict | None = None,
    inds: list | None = None,
) -> pd.DataFrame:
    """All municipalities × all indicators for one year (not memoised; see api.driver_table)."""
    inds = inds or reg.all()
    n, m = panel.n, len(inds)
    comps = [measures.components(panel, ind, year) for ind in inds]
    value = np.column_stack([c.value for c in comps])
    num = np.column_stack([c.num for c in comps])
    den = np.column_stack([c.den for c in comps])
    members = peers.membership(panel, peer_set, year, exclude_oslo=exclude_oslo, k=k, weights=weights)

    part = peers.partition(panel, peer_set, exclude_oslo)
    if part is not None:
        avg, n_peers = peer_average_partition(part[0], part[1], num, den, value, convention)
    else:
        avg, n_peers = peer_average(members, num, den, value, convention)
    if convention == "weighted":  # SSB rates without a denominator: no honest weighted average
        bad = [j for j, c in enumerate(comps) if not c.weighted_ok]
        avg[:, bad] = np.nan
    rank = _rank(members, value, part)
    rank = np.where(n_peers > 0, rank, np.nan)  # "1 of 1" says nothing: no peers with figures, no rank
    gaps = np.full((n, m), np.nan)
    gap_cols = [j for j, ind in enumerate(inds) if ind.gap]
    gaps[:, gap_cols] = gap_nok(den[:, gap_cols], value[:, gap_cols], avg[:, gap_cols])

    # need-corrected gap of a per-resident indicator = gap of its need-corrected sibling
    pos = {ind.id: j for j, ind in enumerate(inds)}
    gaps_nc = np.full((n, m), np.nan)
    for j, ind in enumerate(inds):
        if ind.kind == "need_corrected":
            gaps_nc[:, j] = gaps[:, j]
        elif ind.need_correctable and f"{ind.id}_behovskorr" in pos:
            gaps_nc[:, j] = gaps[:, pos[f"{ind.id}_behovskorr"]]

    labels = np.array([peers.peer_label(panel, i, peer_set, k) for i in range(n)], dtype=object)
    n_members = members.sum(axis=1).astype(np.int64)  # the peer group's size, with or without figures
    reason = _reasons(inds, comps, avg, n_peers, gaps, gaps_nc, convention, peer_set, labels)
    for i in np.flatnonzero(n_members == 0):  # e.g. Oslo, alone in KOSTRA group 13: say so on every row
        empty = peers.empty_reason(labels[i], panel.name(panel.municipalities[i]))
        reason[i] = [empty if r is None or "har tall" in r else f"{r}; {empty}" for r in reason[i]]
    status = np.column_stack([c.status for c in comps])
    backcast = np.column_stack([c.backcast for c in comps])

    # Text columns are categoricals over object categories: the table is held in memory for every year ×
    # peer set × convention the dashboard warms, and one Python object per cell (peer_set and convention
    # were 16 065 distinct strings each) cost ~5 MB a table; the codes cost 1–2 bytes a cell. Built straight
    # from codes: pandas' arrow strings would cost more than all the arithmetic. api.driver_table hands out
    # plain object columns again (expand), so callers see the same frame as before.
    rep = lambda a: _categorical(a, lambda c: np.repeat(c, m))  # noqa: E731  region-major
    til = lambda a: _categorical(a, lambda c: np.tile(c, n))  # noqa: E731
    const = lambda v: _categorical([v], lambda c: np.zeros(n * m, dtype=np.int8))  # noqa: E731
    frame = pd.DataFrame(
        {
            "indicator": til([i.id for i in inds]),
            "name_nb": til([i.name_nb for i in inds]),
            "name_en": til([i.name_en for i in inds]),
            "service": til([i.service for i in inds]),
            "category": til([i.category for i in inds]),
            "region": rep(panel.municipalities),
            "name": rep([panel.name(c) for c in panel.municipalities]),
            "year": year,
            "value": value.ravel(),
            "unit": til([i.unit for i in inds]),
            "decimals": np.tile([i.decimals for i in inds], n),
            "status": _categorical(status.ravel()),
            "peer_value": avg.ravel(),
            "peer_set": const(peer_set),
            "peer_label": rep(labels),
            "convention": const(convention),
            "n_peers": n_peers.ravel(),
            "n_peer_members": np.repeat(n_members, m),
            "rank": rank.ravel(),
            "gap_nok": gaps.ravel(),
            "gap_need_corrected_nok": gaps_nc.ravel(),
            "numerator": num.ravel(),
            "denominator": den.ravel(),
            "backcast": backcast.ravel(),
            "polarity": til([i.polarity for i in inds]),
            "ssb_match": til([i.ssb_match for i in inds]),
            "reason": _categorical(reason.ravel()),
        }
    )
    frame.attrs["convention_nb"] = CONVENTION_NB[convention]
    frame.attrs["need_note"] = NEED_NOTE_NB
    return frame


def _categorical(values, spread=None) -> pd.Categorical:
    """Categorical with object categories (Python strings shared by every cell); None → missing (code -1).
    `spread` turns the codes of `values` into the column's codes (np.repeat / np.tile for the table layout)."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    if spread is not None:
        codes = spread(codes)
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(pd.Index(uniques, dtype=object)))


def column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A column as the numpy array callers always had: text as an object array with None where missing
    (a categorical's own to_numpy gives NaN there), numbers as they are."""
    col = frame[name]
    if isinstance(col.dtype, pd.CategoricalDtype):
        lut = np.empty(len(col.cat.categories) + 1, dtype=object)  # last slot None: code -1 picks it
        lut[:-1] = np.asarray(col.cat.categories, dtype=object)
        return lut[col.cat.codes.to_numpy()]
    return col.to_numpy()


def cell(frame: pd.DataFrame, name: str, pos: int):
    """One cell (by position) as callers always had it: None, not NaN, where a text cell is missing."""
    col = frame[name]
    if isinstance(col.dtype, pd.CategoricalDtype):
        code = int(col.cat.codes.iat[pos])
        return None if code < 0 else col.cat.categories[code]
    return col.iat[pos]


def expand(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with plain object text columns (None where missing), as api.driver_table returns it."""
    out = pd.DataFrame({c: pd.Series(column(frame, c), index=frame.index, dtype=object)
                        if isinstance(frame[c].dtype, pd.CategoricalDtype) else frame[c] for c in frame.columns})
    out.attrs = dict(frame.attrs)
    return out


def _rank(members: np.ndarray, value: np.ndarray, part) -> np.ndarray:
    """Rank among self and peers (1 = highest). Peer sets that partition the country rank by group."""
    if part is None:
        return rank_within(members, value)
    labels, excluded = part
    lab = np.asarray(labels, dtype=str)
    inc = ~excluded
    out = np.full(value.shape, np.nan)
    frame = pd.DataFrame(value[inc])
    out[inc] = frame.groupby(lab[inc], sort=False).rank(method="min", ascending=False).to_numpy(dtype=float)
    for e in np.flatnonzero(excluded):  # e.g. Oslo in "landet uten Oslo": ranked among the others
        same = inc & (lab == lab[e])
        higher = (value[same] > value[e]) & ~np.isnan(value[same])
        out[e] = np.where(np.isnan(value[e]), np.nan, 1.0 + higher.sum(axis=0))
    return out


def _reasons(inds, comps, avg, n_peers, gaps, gaps_nc, convention, peer_set, labels) -> np.ndarray:
    n, m = avg.shape
    out = np.full((n, m), None, dtype=object)
    for j, (ind, c) in enumerate(zip(inds, comps, strict=True)):
        col = c.reason.copy()
        no_peer = np.isnan(avg[:, j])
        if convention == "weighted" and not c.weighted_ok:
            msg = ("vektet snitt krever SSBs nevner (brutto driftsinntekter), som ikke er i databasen; "
                   "velg uvektet snitt")
            col[no_peer & ~np.isnan(c.value)] = msg
        else:
            for i in np.flatnonzero(no_peer & ~np.isnan(c.value)):
                col[i] = f"ingen sammenligningskommuner ({labels[i]}) har tall"
        if ind.need_correctable:
            nc_missing = np.isnan(gaps_nc[:, j]) & ~np.isnan(c.value) & ~no_peer
            for i in np.flatnonzero(nc_missing):
                col[i] = (col[i] + "; " if col[i] else "") + "behovskorrigert avvik mangler: kommunen mangler kostnadsindeks"
        out[:, j] = col
    return out
