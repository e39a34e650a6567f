"""Exact split of a spending gap into drivers (kostra-method.md §5.7, LMDI).

    x = NDU/N = (T/N) · (B/T) · (KBDU/B) · (NDU/KBDU)
              target-group share · coverage · unit cost · net/gross share

and the target-group share is split further into the need index I and the rest: (T/N) = I · [(T/N)/I].
Against the peer value x̄, each factor's log ratio ln(f_i/f̄) times N·L(x, x̄), with the logarithmic mean
L(a, b) = (a − b)/(ln a − ln b), gives its part in kroner; the parts add up to N·(x − x̄) exactly.

Where an input is missing (no user counts B or no korrigerte brutto driftsutgifter KBDU) the factors
that need it are not split: their joint part is reported as one row ("not_split") and the separate rows
say which input is missing and how to fetch it. Nothing is guessed. With the unweighted convention the
peer factors are means of ratios whose product is not the mean of x; that difference is its own row
("averaging"), zero under the weighted convention.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from drivers.engine.reasons import Reason, joined, term, why, worded

COMPONENTS = ["need", "target_share", "coverage", "unit_cost", "net_gross", "not_split", "peer_subset", "averaging"]
# users or need index for at least this share of the peers: split over those that have them (exact; the
# difference to the whole group is its own row). 0.75 lets a group of 8 with one member lacking coverage
# (EKG16: Utsira, Træna, Modalen have no 12209 figure) be split; 5 of 8 is not split.
SUBSET_SHARE = 0.75


def component_name(component: str) -> Reason:
    """A component's name ('Dekningsgrad', 'Coverage'), worded in drivers.i18n ("comp.<component>")."""
    return term(f"comp.{component}")


@dataclass
class Inputs:
    """One municipality's (or one peer's) inputs, in kroner and persons. NaN = missing."""

    N: float  # residents 31.12
    NDU: float  # netto driftsutgifter, kr
    T: float = math.nan  # target-group residents
    B: float = math.nan  # users
    KBDU: float = math.nan  # korrigerte brutto driftsutgifter, kr
    I: float = math.nan  # need index  # noqa: E741


def logmean(a: float, b: float) -> float:
    """L(a, b) = (a − b)/(ln a − ln b), L(a, a) = a."""
    la, lb = math.log(a), math.log(b)
    if la == lb:  # equal, or a and b one rounding step apart
        return (a + b) / 2.0
    return (a - b) / (la - lb)


def _ok(*xs) -> bool:
    return all(x is not None and np.isfinite(x) for x in xs)


FIELDS = ("N", "NDU", "T", "B", "KBDU", "I")


def peer_arrays(peers) -> dict[str, np.ndarray]:
    """Peers as arrays per input (accepts a list of Inputs or a dict of arrays)."""
    if isinstance(peers, dict):
        return {f: np.asarray(peers.get(f, np.full(len(peers["N"]), np.nan)), dtype=float) for f in FIELDS}
    return {f: np.array([getattr(p, f) for p in peers], dtype=float) for f in FIELDS}


def _peer_ratio(peers: dict[str, np.ndarray], convention: str, top: str, bottom: str) -> float:
    """Peer value of the ratio top/bottom: Σtop/Σbottom (weighted) or mean of ratios (unweighted)."""
    a, b = peers[top], peers[bottom]
    ok = np.isfinite(a) & np.isfinite(b) & (b != 0)
    if not ok.any():
        return math.nan
    a, b = a[ok], b[ok]
    return float(a.sum() / b.sum()) if convention == "weighted" else float(np.mean(a / b))


def _peer_need(peers: dict[str, np.ndarray], convention: str) -> float:
    i, n = peers["I"], peers["N"]
    ok = np.isfinite(i) & np.isfinite(n)
    if not ok.any():
        return math.nan
    if convention == "weighted":  # resident-weighted, so that Σ NDU / Σ(N·I) is SSB-style (§5.4)
        return float((n[ok] * i[ok]).sum() / n[ok].sum())
    return float(np.mean(i[ok]))


def split(own: Inputs, peers, convention: str, has_target: bool, missing: dict[str, str] | None = None,
          hints: dict[str, str] | None = None, peer_value: float | None = None) -> list[dict]:
    """The gap N·(x − x̄) as COMPONENTS rows with their names: name_nb (a Reason, worded in any language by
    drivers.i18n) and name_en (its English wording) (see _split).

    peers: a list of Inputs or a dict of arrays (N, NDU, T, B, KBDU, I). peer_value: the group's figure x̄ when it
    is SSB's published one rather than the members' (some members lack figures); the difference between the
    two is the peer_subset row."""
    rows = _split(own, peer_arrays(peers), convention, has_target, missing, hints, peer_value)
    for r in rows:
        r.setdefault("name_nb", component_name(r["component"]))
        r["name_en"] = worded(r["name_nb"], "en")
    return rows


def _split(own: Inputs, peers: dict[str, np.ndarray], convention: str, has_target: bool,
           missing: dict[str, str] | None = None, hints: dict[str, str] | None = None,
           peer_value: float | None = None) -> list[dict]:
    """The gap N·(x − x̄) split into COMPONENTS rows: component, nok, available, reason.

    `missing` maps an input name (B, KBDU, I) to the reason it is missing (with the fetch command); an input is
    used only if present for the municipality and some peer.
    """
    missing = dict(missing or {})
    missing_hint = dict(hints or {})
    x_i = own.NDU / own.N if _ok(own.NDU, own.N) and own.N else math.nan
    x_members = _peer_ratio(peers, convention, "NDU", "N")
    x_p = peer_value if peer_value is not None and _ok(peer_value) else x_members
    rows = {c: {"component": c, "nok": math.nan, "available": False, "reason": None} for c in COMPONENTS}
    if not _ok(x_i, x_p):
        for r in rows.values():
            r["reason"] = why("dec_spending_missing")
        return list(rows.values())
    total = own.N * (x_i - x_p)
    if x_i <= 0 or x_p <= 0:
        for r in rows.values():
            r["reason"] = why("dec_not_positive")
        rows["not_split"].update(nok=total, available=True, reason=why("dec_whole_gap"))
        return list(rows.values())

    label = {"B": term("comp.input.B"), "KBDU": term("comp.input.KBDU"), "I": term("comp.input.I"),
             "T": term("comp.input.T")}
    base_ok = np.isfinite(peers["NDU"]) & np.isfinite(peers["N"]) & (peers["N"] > 0)
    # the gap's own peer figure is taken over the members with spending and residents; every factor is then
    # averaged over the same members (a member with residents but no spending would bend the target share)
    peers = {f: v[base_ok] for f, v in peers.items()}
    base_ok = np.ones(int(base_ok.sum()), dtype=bool)
    # A few peers without users or need index (Utsira, Træna and Modalen have neither coverage in 12209 nor,
    # partly, a cost index) would otherwise leave the whole group unsplit. The factors are then averaged over
    # the peers that have every input, which is exact, and the difference between that average and the whole
    # group's is its own row (peer_subset), so the rows still add up to the gap.
    sub = base_ok.copy()
    for name in ("B", "I"):
        have = base_ok & np.isfinite(peers[name]) & (peers[name] > 0)
        if name not in missing and _ok(getattr(own, name)) and getattr(own, name) > 0 \
                and have.sum() >= SUBSET_SHARE * base_ok.sum():
            sub &= have
    subset_log = None
    if sub.any() and ((sub != base_ok).any() or x_p != x_members):
        x_sub = _peer_ratio({f: v[sub] for f, v in peers.items()}, convention, "NDU", "N")
        if _ok(x_sub) and x_sub > 0:
            dropped = int(base_ok.sum() - sub.sum())
            subset_log = math.log(x_sub / x_p)
            causes = []
            if x_p != x_members:
                causes.append(why("dec_ssb_group_figure"))
            if dropped:
                causes.append(why("dec_peers_lacking", n=dropped, total=int(base_ok.sum())))
            rows["peer_subset"]["reason"] = why("dec_subset", causes=joined(causes) or "")
            peers = {f: v[sub] for f, v in peers.items()}
            base_ok = np.ones(int(sub.sum()), dtype=bool)

    def present(name: str) -> bool:
        """An input is used only when the municipality and every peer in the gap have it: a factor
        averaged over a different set of peers than the gap would not be an honest part of it."""
        if name in missing:
            return False
        if not _ok(getattr(own, name)) or getattr(own, name) <= 0:
            missing[name] = joined([why("dec_own_input_missing", input=label[name]), missing_hint.get(name)])
            return False
        have = int((base_ok & np.isfinite(peers[name])).sum())
        # users and KBDU must cover every peer; the need index misses two small municipalities
        # (Utsira, Modalen) in Grønt hefte's table, so 90 % of the peers is enough for it
        need_share = 0.9 if name in ("I", "T") else 1.0
        if have < need_share * int(base_ok.sum()) or have == 0:
            missing[name] = joined([why("dec_input_partial", input=label[name], n=have, total=int(base_ok.sum())),
                                    missing_hint.get(name)])
            return False
        return True

    logs: dict[str, float] = {"peer_subset": subset_log} if subset_log is not None else {}
    if subset_log is None:
        rows["peer_subset"]["reason"] = why("dec_all_peers_have")
    use_need = present("I")
    if use_need:
        i_p = _peer_need(peers, convention)
        logs["need"] = math.log(own.I / i_p)
    else:
        rows["need"]["reason"] = missing.get("I")
    start = "N"
    if has_target and present("T"):
        t_share = math.log((own.T / own.N) / _peer_ratio(peers, convention, "T", "N"))
        logs["target_share"] = t_share - logs.get("need", 0.0)
        if not use_need:
            rows["target_share"]["reason"] = why("dec_includes_need")
        start = "T"
    else:
        rows["target_share"]["reason"] = why("dec_no_target") if not has_target else missing.get("T")
        if use_need:  # per-resident service: need is split off the rest directly
            start = "NEED"

    use_b = present("B")
    use_k = present("KBDU")
    base = "T" if start == "T" else "N"

    def ratio(top: str, bottom: str) -> float:
        mine = getattr(own, top) / getattr(own, bottom)
        return math.log(mine / _peer_ratio(peers, convention, top, bottom))

    chain = [base] + (["B"] if use_b else []) + (["KBDU"] if use_k else []) + ["NDU"]
    # With users but no KBDU, the last link NDU/B is net spending per user: unit cost and the net/gross share
    # together (kostra-method.md §5.7 with KBDU = NDU), a derivation of ours, named so on the row.
    names = {("T", "B"): "coverage", ("N", "B"): "coverage", ("B", "KBDU"): "unit_cost", ("KBDU", "NDU"): "net_gross",
             ("B", "NDU"): "unit_cost"}
    for a, b in zip(chain, chain[1:], strict=False):
        part = ratio(b, a)
        if start == "NEED" and a == "N":
            part -= logs.get("need", 0.0)  # the need index is carved out of the first link
        comp = names.get((a, b), "not_split")
        logs[comp] = logs.get(comp, 0.0) + part
    what = [("coverage", "B"), ("unit_cost", "KBDU" if use_b else "B"), ("net_gross", "KBDU")]
    for comp, inp in what:
        if comp not in logs:
            rows[comp]["reason"] = missing.get(inp) or missing.get("B") or missing.get("KBDU")
    if use_b and not use_k:
        rows["unit_cost"].update(name_nb=term("comp.unit_cost_net"), reason=why("dec_unit_cost_net"))
    if "not_split" not in logs:
        rows["not_split"]["reason"] = why("dec_all_split")
    else:
        rows["not_split"]["reason"] = why("dec_not_split", parts=joined(
            [component_name(c).lower() for c, _ in what if c not in logs], ", "))

    lm = own.N * logmean(x_i, x_p)
    total_log = math.log(x_i / x_p)
    logs["averaging"] = total_log - sum(logs.values())
    for comp, lg in logs.items():
        lg = 0.0 if abs(lg) < 1e-12 else lg  # equal factors: exactly 0, not a rounding crumb
        rows[comp].update(nok=lm * lg, available=True)
        if comp == "averaging":
            rows[comp]["reason"] = why("dec_averaging")
    # make the rows add up to the krone (floating error only): put the residual on the largest part
    parts = [r for r in rows.values() if r["available"]]
    resid = total - sum(r["nok"] for r in parts)
    if parts and abs(resid) > 0:
        max(parts, key=lambda r: abs(r["nok"]))["nok"] += resid
    return list(rows.values())
