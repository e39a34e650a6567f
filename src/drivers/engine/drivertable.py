"""The driver table: every indicator for every municipality against its peers, for one year.

Vectorised: the indicators are stacked as columns of n × m arrays and each peer average is one matrix
product with the membership matrix (averages.peer_average), so the whole country costs about as much as
one municipality. The result is held on the Panel per (year, peers, convention, options) as a compact Table
(numbers as arrays, text as codes), and handed out as a DataFrame of the requested rows.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from drivers.engine import indicators as reg
from drivers.engine import measures, peers
from drivers.engine.averages import (
    base,
    convention_term,
    excludes_self,
    peer_average,
    peer_average_partition,
    rank_within,
)
from drivers.engine.gaps import gap_nok
from drivers.engine.panel import Panel, need_note_term
from drivers.engine.reasons import Reason, joined, why

COLUMNS = [
    "indicator", "name_nb", "name_en", "service", "category", "region", "name", "year", "value", "unit", "decimals",
    "status", "peer_value", "ssb_peer_value", "peer_source", "peer_set", "peer_label", "convention", "n_peers", "n_peer_members", "rank", "gap_nok",
    "gap_need_corrected_nok", "numerator", "denominator", "backcast", "polarity", "ssb_match", "reason",
]


def compute_table(
    panel: Panel,
    year: int,
    peer_set: peers.PeerArg = "kostragruppe",
    convention: str = "weighted",
    *,
    exclude_oslo: bool = False,
    k: int = 10,
    weights: dict | None = None,
    inds: list | None = None,
) -> Table:
    """All municipalities × all indicators for one year, held compactly (see Table)."""
    inds = inds or reg.all()
    n, m = panel.n, len(inds)
    comps = [measures.components(panel, ind, year) for ind in inds]
    value = np.column_stack([c.value for c in comps])
    num = np.column_stack([c.num for c in comps])
    den = np.column_stack([c.den for c in comps])
    members = peers.membership(panel, peer_set, year, exclude_self=excludes_self(convention), exclude_oslo=exclude_oslo,
                               k=k, weights=weights)

    part = peers.partition(panel, peer_set, exclude_oslo)
    if part is not None:
        avg, n_peers = peer_average_partition(part[0], part[1], num, den, value, convention)
    else:
        avg, n_peers = peer_average(members, num, den, value, convention)
    if base(convention) == "weighted":  # SSB rates without a denominator: no honest weighted average
        bad = [j for j, c in enumerate(comps) if not c.weighted_ok]
        avg[:, bad] = np.nan
    # the number of OTHER members of the peer group, with or without figures (0: the municipality is alone,
    # e.g. Oslo in KOSTRA group 13): then the group's figure is the municipality's own and there is nothing
    # to compare with, so no peer value, rank or gap
    n_members = (members.sum(axis=1) - np.diagonal(members)).astype(np.int64)
    alone = n_members == 0
    avg[alone], n_peers[alone] = np.nan, 0
    # SSB's own figure for the group is the peer value wherever the data holds it (the default convention
    # only): our sum over the members equals it when every member has a figure (tested for 2024), but the
    # members merged in 2020 or split in 2024 have no figures for the years before, and SSB's figure is
    # what SSB publishes (Kommunefakta). The need-corrected siblings stay our computation.
    ssb_peer = _ssb_peer_values(panel, inds, year, peer_set, convention, exclude_oslo)
    use_ssb = np.isfinite(ssb_peer) & ~alone[:, None]
    avg = np.where(use_ssb, ssb_peer, avg)
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

    labels = np.array([peers.peer_label(panel, i, peer_set, k, convention=convention) for i in range(n)], dtype=object)
    empty = {i: peers.empty_reason(labels[i], panel.name(panel.municipalities[i]))
             for i in np.flatnonzero(n_members == 0)}  # e.g. Oslo, alone in KOSTRA group 13
    reason = _reasons(inds, comps, avg, gaps_nc, convention, labels, empty)
    status = np.column_stack([c.status for c in comps])
    backcast = np.column_stack([c.backcast for c in comps])

    # Held for every year × peer set × convention the dashboard warms: text as codes into one array of the
    # distinct strings (peer_set and convention were 16 065 distinct Python strings each; the text columns
    # were ~5 MB a table in all), small integers narrowed. Table.frame() gives callers the plain object
    # columns they always had.
    rep = lambda a: _coded(a, lambda c: np.repeat(c, m))  # noqa: E731  region-major
    til = lambda a: _coded(a, lambda c: np.tile(c, n))  # noqa: E731
    const = lambda v: _coded([v], lambda c: np.zeros(n * m, dtype=np.int8))  # noqa: E731
    columns = {
        "indicator": til([i.id for i in inds]),
        "name_nb": til([i.name_nb for i in inds]),
        "name_en": til([i.name_en for i in inds]),
        "service": til([i.service for i in inds]),
        "category": til([i.category for i in inds]),
        "region": rep(panel.municipalities),
        "name": rep([panel.name(c) for c in panel.municipalities]),
        "year": np.broadcast_to(np.int64(year), (n * m,)),  # one value, no memory per row
        "value": value.ravel(),
        "unit": til([i.unit for i in inds]),
        "decimals": _narrow(np.tile(np.asarray([i.decimals for i in inds], dtype=np.int64), n)),
        "status": _coded(status.ravel()),
        "peer_value": avg.ravel(),
        "ssb_peer_value": ssb_peer.ravel(),
        "peer_source": _coded(np.where(use_ssb, "ssb", "computed").ravel()),
        "peer_set": const(peers.peer_name(peer_set)),
        "peer_label": rep(labels),
        "convention": const(convention),
        "n_peers": _narrow(n_peers.ravel()),
        "n_peer_members": _narrow(np.repeat(n_members, m)),
        "rank": rank.ravel(),
        "gap_nok": gaps.ravel(),
        "gap_need_corrected_nok": gaps_nc.ravel(),
        "numerator": num.ravel(),
        "denominator": den.ravel(),
        "backcast": backcast.ravel(),
        "polarity": til([i.polarity for i in inds]),
        "ssb_match": til([i.ssb_match for i in inds]),
        "reason": _coded(reason.ravel()),
    }
    attrs = {"convention_nb": convention_term(convention), "need_note": need_note_term()}
    return Table(columns, attrs, n, m)


class _Coded(tuple):
    """Text column: (codes, look-up array of the distinct values with None last, which code -1 picks)."""


class _Narrow(tuple):
    """Integer column stored in a smaller integer type: (array, the dtype callers get)."""


def _coded(values, spread=None) -> _Coded:
    """Codes of `values` (None → -1), spread to the column's layout (np.repeat / np.tile), and the look-up."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    codes = codes if spread is None else spread(codes)
    lut = np.empty(len(uniques) + 1, dtype=object)
    lut[:-1] = np.asarray(uniques, dtype=object)
    small = np.int8 if len(uniques) < 127 else np.int16 if len(uniques) < 32767 else np.int32
    return _Coded((codes.astype(small), lut))


def _narrow(a: np.ndarray):
    a = np.asarray(a)
    if a.dtype.kind != "i" or not len(a):
        return a
    for t in (np.int8, np.int16, np.int32):
        if np.iinfo(t).min <= a.min() and a.max() <= np.iinfo(t).max:
            return _Narrow((a.astype(t), a.dtype))
    return a


class Table:
    """A driver table held compactly: n municipalities × m indicators, region-major (rows i·m … i·m+m−1 are
    municipality i in panel.municipalities order). Numbers are numpy arrays, text is codes into one object
    array of its distinct values. Treat as read-only: frame() hands out copies."""

    def __init__(self, columns: dict, attrs: dict, n: int, m: int) -> None:
        self.columns, self.attrs, self.n, self.m = columns, attrs, n, m
        for v in columns.values():  # shared by the dashboard's threads: nobody writes into it
            for a in v if isinstance(v, tuple) else (v,):
                if isinstance(a, np.ndarray) and a.flags.writeable:
                    a.flags.writeable = False

    def __len__(self) -> int:
        return self.n * self.m

    def column(self, name: str, rows=slice(None)) -> np.ndarray:
        """A column (or its `rows`: slice, positions, one position) as callers always had it: text as objects
        with None where missing, integers as int64."""
        v = self.columns[name]
        if isinstance(v, _Coded):
            return v[1][v[0][rows]]
        if isinstance(v, _Narrow):
            return v[0][rows].astype(v[1])
        return v[rows]

    def rows_of(self, indices) -> np.ndarray:
        """Row positions of municipalities (panel indices), in table order, each once."""
        idx = np.unique(np.asarray(indices, dtype=np.int64))
        return (idx[:, None] * self.m + np.arange(self.m)).ravel()

    def frame(self, rows=slice(None)) -> pd.DataFrame:
        """The rows as the DataFrame api.driver_table returns: object text columns (None where missing)."""
        data = {}
        for c, v in self.columns.items():
            col = self.column(c, rows)
            data[c] = pd.Series(col, dtype=object, copy=False) if isinstance(v, _Coded) else col
        out = pd.DataFrame(data)
        out.attrs = dict(self.attrs)
        return out

    def nbytes(self) -> int:
        """Bytes held: the arrays and the distinct strings."""
        total = 0
        for v in self.columns.values():
            if isinstance(v, _Coded):
                total += v[0].nbytes + v[1].nbytes + sum(sys.getsizeof(x) for x in v[1] if x is not None)
            elif isinstance(v, _Narrow):
                total += v[0].nbytes
            else:
                total += v.itemsize if v.strides == (0,) else v.nbytes
        return total


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


def _reasons(inds, comps, avg, gaps_nc, convention, labels, empty: dict[int, Reason]) -> np.ndarray:
    """Why a row lacks a peer value or a gap. `empty`: municipality index -> the reason its peer group has no
    other members, said on every one of its rows (instead of "no peer has figures", which would mislead)."""
    n, m = avg.shape
    alone = np.zeros(n, dtype=bool)
    alone[list(empty)] = True
    out = np.full((n, m), None, dtype=object)
    for j, (ind, c) in enumerate(zip(inds, comps, strict=True)):
        col = c.reason.copy()
        no_peer = np.isnan(avg[:, j])
        if base(convention) == "weighted" and not c.weighted_ok:
            col[no_peer & ~np.isnan(c.value)] = why("weighted_needs_denominator")
        else:
            for i in np.flatnonzero(no_peer & ~np.isnan(c.value) & ~alone):
                col[i] = why("no_peer_figures", label=labels[i])
        if ind.need_correctable:
            nc_missing = np.isnan(gaps_nc[:, j]) & ~np.isnan(c.value) & ~no_peer
            for i in np.flatnonzero(nc_missing):
                col[i] = joined([col[i], why("need_corrected_gap_missing")])
        for i, alone_reason in empty.items():
            col[i] = joined([col[i], alone_reason])
        out[:, j] = col
    return out


def ssb_group_keys(panel: Panel, peer_set: str, convention: str, exclude_oslo: bool) -> np.ndarray | None:
    """Each municipality's SSB aggregate code for the peer set (EKGxx, county, EAK, EAKUO), or None when SSB
    publishes no figure for that choice (other conventions, nearest neighbours, saved sets, Oslo left out)."""
    if convention != "weighted" or exclude_oslo or peer_set not in ("kostragruppe", "fylke", "landet", "landet-uten-oslo"):
        return None
    return {"kostragruppe": panel.group, "fylke": panel.county, "landet": np.full(panel.n, "EAK", object),
            "landet-uten-oslo": np.full(panel.n, "EAKUO", object)}[peer_set]


def _ssb_peer_values(panel: Panel, inds, year: int, peer_set: str, convention: str, exclude_oslo: bool) -> np.ndarray:
    """SSB's own published figure for each municipality's peer group (n × m), NaN where the data has none.

    Only for the groups SSB publishes (KOSTRA group, county, Landet) under SSB's own convention (weighted,
    the municipality included, nobody else left out): there our computed peer value must equal it (tested).
    """
    n, m = panel.n, len(inds)
    out = np.full((n, m), np.nan)
    keys = ssb_group_keys(panel, peer_set, convention, exclude_oslo)
    if keys is None:
        return out
    for j, ind in enumerate(inds):
        values = measures.ssb_aggregate(panel, ind, year)
        if values:
            out[:, j] = [values.get(str(g), np.nan) if g is not None else np.nan for g in keys]
    return out
