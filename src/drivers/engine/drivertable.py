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

    # object columns, not pandas' arrow strings: building those costs more than all the arithmetic
    rep = lambda a: pd.Series(np.repeat(np.asarray(a, dtype=object), m), dtype=object)  # noqa: E731  region-major
    til = lambda a: pd.Series(np.tile(np.asarray(a, dtype=object), n), dtype=object)  # noqa: E731
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
            "status": pd.Series(status.ravel(), dtype=object),
            "peer_value": avg.ravel(),
            "peer_set": pd.Series(np.full(n * m, peer_set, dtype=object), dtype=object),
            "peer_label": rep(labels),
            "convention": pd.Series(np.full(n * m, convention, dtype=object), dtype=object),
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
            "reason": pd.Series(reason.ravel(), dtype=object),
        }
    )
    frame.attrs["convention_nb"] = CONVENTION_NB[convention]
    frame.attrs["need_note"] = NEED_NOTE_NB
    return frame


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
