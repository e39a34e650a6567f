"""Gaps in kroner against the peers (mer-/mindreforbruk, kostra-method.md §5.4).

    gap_nok                = N · (x − x̄_peer)            N = the indicator's denominator (residents)
    gap_need_corrected_nok = N · I · (k − k̄_peer)        k = NDU / (N · I), I = need index

For a per-resident indicator N is all residents at 31.12; for a per-target-group indicator it is the
target group, so the gap answers "what would it cost at the peers' spending per child". Only kroner
indicators have a gap; for the others the gap is NaN with a reason.

The services listed do not cover the total (function groups outside the registry, e.g. FGK4/FGK5/FGK14,
and function groups that overlap), so `service_gaps` adds one row OTHER «Øvrige tjenester og overlapp»:
the total minus the listed services, so that the services and OTHER add up to the total to the krone.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from drivers.engine.reasons import Named, joined, term, why, worded


def gap_nok(denominator, value, peer_value):
    """N · (x − x̄) in kroner (NaN where any input is missing)."""
    return np.asarray(denominator, float) * (np.asarray(value, float) - np.asarray(peer_value, float))


def gap_need_corrected_nok(residents, need_index, k, peer_k):
    """N · I · (k − k̄) in kroner, §5.4."""
    return np.asarray(residents, float) * np.asarray(need_index, float) * (np.asarray(k, float) - np.asarray(peer_k, float))


OTHER = "OTHER"


def _names(name) -> dict:
    """name_nb (a Reason, worded in any language by drivers.i18n) and name_en (its English wording)."""
    return {"name_nb": name, "name_en": worded(name, "en")}

COLUMNS = ["numerator", "value", "peer_value", "gap_nok", "gap_need_corrected_nok", "n_peers", "n_peer_members",
           "status", "reason"]


def service_gaps(table, services: dict[str, dict], need_index: float | None) -> pd.DataFrame:
    """Per service and in total, from one municipality's rows of the driver table (a DataFrame, or a dict
    of column lists with "indicator" and COLUMNS)."""
    cols = COLUMNS
    # plain lists, not .loc per row: pandas' label look-ups cost more than the whole computation
    if isinstance(table, dict):
        data, indicators = table, table["indicator"]
    else:
        data = {c: table[c].tolist() if c in table.columns else [np.nan] * len(table) for c in cols}
        indicators = table["indicator"].tolist()
    pos = {ind: k for k, ind in enumerate(indicators)}

    def get(ind: str) -> dict | None:
        k = pos.get(ind)
        return None if k is None else {c: data[c][k] for c in cols}

    def missing(x) -> bool:
        return x is None or (isinstance(x, float) and math.isnan(x))

    rows = []
    total = _names(term("ind.total_ndu"))
    for code, svc in list(services.items()) + [("TOTAL", total)]:
        pid = f"ndu_{code.lower()}_per_innb"
        r = get(pid)
        if r is None:
            continue
        nc = get(f"{pid}_behovskorr")
        ndu = r["numerator"] / 1000.0 if not missing(r["numerator"]) else np.nan
        reason = r["reason"]
        if nc is not None and missing(nc["gap_nok"]) and not missing(nc["reason"]) and nc["reason"] != reason:
            reason = joined([reason, why("need_corrected", reason=nc["reason"])])
        rows.append(
            {
                "service": code,
                "name_nb": svc["name_nb"],
                "name_en": svc.get("name_en", svc["name_nb"]),
                "ndu_1000kr": ndu,
                "per_resident": r["value"],
                "peer_per_resident": r["peer_value"],
                "gap_nok": r["gap_nok"],
                "gap_need_corrected_nok": r["gap_need_corrected_nok"],
                "need_index": need_index,
                "need_corrected_per_resident": nc["value"] if nc is not None else np.nan,
                "peer_need_corrected_per_resident": nc["peer_value"] if nc is not None else np.nan,
                "n_peers": r["n_peers"],
                "n_peer_members": r["n_peer_members"],
                "status": r["status"],
                "reason": reason,
            }
        )
    _add_other(rows, need_index)
    out = pd.DataFrame(rows)
    if rows:  # object columns keep the Reasons (a str column would make them plain text), None where none
        for c in ("name_nb", "reason"):
            out[c] = pd.Series([r[c] for r in rows], dtype=object)
    return out


def _add_other(rows: list[dict], need_index) -> None:
    """Insert the OTHER row before TOTAL: total minus the services listed (per resident and in kroner), so
    the listed services and OTHER sum to the total. A service without a figure is inside OTHER, and said."""
    if not rows or rows[-1]["service"] != "TOTAL":
        return
    total, services = rows[-1], rows[:-1]

    def rest(col: str) -> float:
        t = total[col]
        if t is None or (isinstance(t, float) and math.isnan(t)):
            return math.nan
        return float(t) - sum(float(r[col]) for r in services if not (r[col] is None or math.isnan(float(r[col]))))

    lacking = [Named.of(nb=r["name_nb"], en=r["name_en"]).lower() for r in services
               if r["gap_nok"] is None or math.isnan(float(r["gap_nok"]))]
    reason = why("other_services")
    if lacking:
        reason = joined([reason, why("other_includes", services=joined(lacking, ", "))])
    if math.isnan(rest("gap_nok")):
        reason = total["reason"] or why("other_no_total")
    rows.insert(len(rows) - 1, {
        "service": OTHER, **_names(term("ind.other_services")),
        "ndu_1000kr": rest("ndu_1000kr"), "per_resident": rest("per_resident"),
        "peer_per_resident": rest("peer_per_resident"), "gap_nok": rest("gap_nok"),
        "gap_need_corrected_nok": rest("gap_need_corrected_nok"), "need_index": need_index,
        "need_corrected_per_resident": rest("need_corrected_per_resident"),
        "peer_need_corrected_per_resident": rest("peer_need_corrected_per_resident"),
        "n_peers": total["n_peers"], "n_peer_members": total["n_peer_members"], "status": None, "reason": reason,
    })
