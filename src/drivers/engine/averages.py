"""Peer averages in the two conventions, for all municipalities at once (kostra-method.md §1.4, §5.4).

- weighted:   Σ numerators / Σ denominators over the group, as SSB (and Framsikt, noegletal.dk) do.
- unweighted: the plain mean of the members' ratios, as Kolada does.

By default the municipality is a member of its own KOSTRA group, county and country, as in SSB's published
group figures (EKGxx, EAK, county rows: "the municipality itself included, sum over sum"). The conventions
ending in "-excl-self" leave it out of its own average, as the ASSS network does (kostra-method.md §5.4);
that is a choice, labelled as such wherever it is used (convention_term, peers.peer_label).

A peer whose value is missing is left out (never counted as 0), as in SSB's ssb-kostra-python helper.
"""

from __future__ import annotations

import numpy as np

from drivers.engine.reasons import Reason, term, why

EXCL_SELF = "-excl-self"
CONVENTIONS = ["weighted", "unweighted", "weighted" + EXCL_SELF, "unweighted" + EXCL_SELF]


def convention_term(convention: str) -> Reason:
    """What the convention computes, as worded in drivers.i18n ("conv.long.<convention>")."""
    return term(f"conv.long.{convention}")


def check_convention(convention: str) -> str:
    from drivers.errors import UserError

    if convention not in CONVENTIONS:
        raise UserError(why("err_unknown_convention", convention=str(convention)[:40], known=", ".join(CONVENTIONS)))
    return convention


def base(convention: str) -> str:
    """'weighted' or 'unweighted': how the average is taken, whatever the membership."""
    return convention.removesuffix(EXCL_SELF)


def excludes_self(convention: str) -> bool:
    """True for the ASSS conventions that leave the municipality out of its own peer average."""
    return convention.endswith(EXCL_SELF)


def peer_average(
    members: np.ndarray, num: np.ndarray, den: np.ndarray, value: np.ndarray, convention: str
) -> tuple[np.ndarray, np.ndarray]:
    """Peer average and number of contributing peers for every municipality.

    members is n × n boolean; num, den, value are n (one indicator) or n × m (m indicators at once).
    """
    m = members.astype(np.float64)
    if base(convention) == "weighted":
        valid = ~(np.isnan(num) | np.isnan(den))
        s_num = m @ np.where(valid, num, 0.0)
        s_den = m @ np.where(valid, den, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            avg = np.where(s_den != 0, s_num / s_den, np.nan)
    else:
        valid = ~np.isnan(value)
        s = m @ np.where(valid, value, 0.0)
        cnt = m @ valid.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            avg = np.where(cnt > 0, s / cnt, np.nan)
    n_peers = (m @ valid.astype(np.float64)).astype(np.int64)
    return avg, n_peers


def weighted_mean(num, den) -> float:
    """Σnum/Σden over the rows where both are present (one peer group)."""
    num, den = np.asarray(num, float), np.asarray(den, float)
    ok = ~(np.isnan(num) | np.isnan(den))
    d = den[ok].sum()
    return float(num[ok].sum() / d) if d else float("nan")


def unweighted_mean(values) -> float:
    """Mean of the ratios that are present (one peer group)."""
    v = np.asarray(values, float)
    v = v[~np.isnan(v)]
    return float(v.mean()) if len(v) else float("nan")


def rank_within(members: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Rank of each municipality among itself and its peers, 1 = highest value (NaN if own value missing).

    value is n or n × m.
    """
    v = value if value.ndim == 2 else value[:, None]
    valid = ~np.isnan(v)
    vf = np.where(valid, v, -np.inf)
    # higher[i, j, c] = peer j of i has a higher value than i for indicator c
    higher = (vf[None, :, :] > vf[:, None, :]) & valid[None, :, :] & members[:, :, None]
    rank = 1.0 + higher.sum(axis=1)
    rank = np.where(valid, rank, np.nan)
    return rank if value.ndim == 2 else rank[:, 0]


def _group_sums(codes: np.ndarray, n_groups: int, x: np.ndarray) -> np.ndarray:
    out = np.zeros((n_groups,) + x.shape[1:], dtype=np.float64)
    np.add.at(out, codes, x)
    return out


def peer_average_partition(
    labels: np.ndarray, excluded: np.ndarray, num: np.ndarray, den: np.ndarray, value: np.ndarray, convention: str
) -> tuple[np.ndarray, np.ndarray]:
    """Same result as peer_average for a peer set that partitions the country (KOSTRA group, county,
    Landet) minus `excluded` members (Oslo), in O(n·m) instead of O(n²·m): group sums, minus the
    municipality's own contribution under an "-excl-self" convention."""
    own = 1.0 if excludes_self(convention) else 0.0
    convention = base(convention)
    _, codes = np.unique(np.asarray(labels, dtype=str), return_inverse=True)
    k = int(codes.max()) + 1 if len(codes) else 0
    inc = ~np.asarray(excluded, dtype=bool)
    inc2 = inc[:, None] if num.ndim == 2 else inc
    if convention == "weighted":
        valid = ~(np.isnan(num) | np.isnan(den)) & inc2
        a, b = np.where(valid, num, 0.0), np.where(valid, den, 0.0)
        s_num = _group_sums(codes, k, a)[codes] - own * a
        s_den = _group_sums(codes, k, b)[codes] - own * b
        with np.errstate(divide="ignore", invalid="ignore"):
            avg = np.where(s_den != 0, s_num / s_den, np.nan)
    else:
        valid = ~np.isnan(value) & inc2
        a = np.where(valid, value, 0.0)
        s = _group_sums(codes, k, a)[codes] - own * a
        cnt = _group_sums(codes, k, valid.astype(np.float64))[codes] - own * valid
        with np.errstate(divide="ignore", invalid="ignore"):
            avg = np.where(cnt > 0, s / cnt, np.nan)
    n_peers = np.rint(_group_sums(codes, k, valid.astype(np.float64))[codes] - own * valid).astype(np.int64)
    # group sum minus own can leave rounding crumbs when no other member has a value: no peers, no average
    avg = np.where(n_peers > 0, avg, np.nan)
    return avg, n_peers
