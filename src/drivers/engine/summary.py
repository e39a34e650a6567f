"""A plain-language summary of the largest gaps, generated from the numbers only, as a Reason (drivers.i18n words
it in any language; its str value is the bokmål text).

Input is plain rows (lists of dicts) or the api's DataFrames: the dashboard's fast path hands over a few
dicts sliced from the memoised driver table, the reference path (tests, bench) the frames of api.gaps and
api.decompose. Both give the same text. The numbers are arguments of the sentences (Money, Share), so every
language says the same numbers.
"""

from __future__ import annotations

import math

import pandas as pd

from drivers.engine.averages import CONVENTIONS
from drivers.engine.reasons import Money, Named, Reason, Share, joined, term

NAMED = ("need", "target_share", "coverage", "unit_cost", "net_gross")
SPLIT_BY_SERVICE_STATISTICS = ("coverage", "unit_cost", "net_gross")


def convention_text(convention: str) -> str:
    """The convention in a few words ("sum.conv.<convention>"); any other text is used as it is."""
    return term(f"sum.conv.{convention}") if convention in CONVENTIONS else convention


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _rows(x) -> list[dict]:
    if x is None:
        return []
    if isinstance(x, pd.DataFrame):
        return x.to_dict("records")
    return list(x)


def _name(row: dict):
    """A row's name as something every language words: the engine's Reason, or the registry's two names."""
    name = row["name_nb"]
    return name if isinstance(name, Reason) else Named.of(nb=name, en=row.get("name_en") or name)


def empty_text(name: str, peer_label: str, year: int) -> Reason:
    """The summary when the peer group has no member but the municipality itself (Oslo in KOSTRA group 13)."""
    return term("sum.empty", name=name, label=peer_label, year=year)


def summary(
    name: str,
    peer_label: str,
    year: int,
    gaps,
    decompositions: dict,
    convention: str,
    top: int = 3,
) -> Reason:
    """Sentences on the `top` largest service gaps (by absolute kroner) and, where split, their drivers.

    gaps: rows with service ("TOTAL" for the total), name_nb, name_en, gap_nok, gap_need_corrected_nok.
    decompositions: service -> rows with component, nok, available, name_nb, name_en.
    convention: one of CONVENTIONS (or a ready text, used as it is)."""
    conv = convention_text(convention)
    rows = _rows(gaps)
    svc = [r for r in rows if r["service"] not in ("TOTAL", "OTHER") and not _missing(r["gap_nok"])]
    if not svc:
        return term("sum.none", name=name, label=peer_label, year=year)
    svc = sorted(svc, key=lambda r: -abs(float(r["gap_nok"])))[:top]
    out = []
    total = [r for r in rows if r["service"] == "TOTAL"]
    if total and not _missing(total[0]["gap_nok"]):
        g = float(total[0]["gap_nok"])
        out.append(term("sum.total_more" if g > 0 else "sum.total_less", year=year, name=name, amount=Money(g),
                        label=peer_label, conv=conv))
    unsplit = False
    for r in svc:
        g = float(r["gap_nok"])
        service_name = _name(r).lower()
        if not out:  # no total sentence before: name the municipality and the year here
            s = [term("sum.first_more" if g > 0 else "sum.first_less", year=year, name=name, amount=Money(g),
                      label=peer_label, service=service_name)]
        else:
            s = [term("sum.next_more" if g > 0 else "sum.next_less", amount=Money(g), label=peer_label,
                      service=service_name)]
        nc = r.get("gap_need_corrected_nok")
        if not _missing(nc):
            s.append(term("sum.need_more" if nc > 0 else "sum.need_less", amount=Money(nc)))
        parts = _rows(decompositions.get(r["service"]))
        if parts:
            named = [p for p in parts if p["available"] and not _missing(p["nok"]) and p["component"] in NAMED]
            same_sign = [p for p in named if p["nok"] * g > 0]
            if same_sign and g != 0:
                best = max(same_sign, key=lambda p: abs(p["nok"]))  # the first of equals, as idxmax
                share = float(best["nok"]) / g
                what = _name(best)
                s.append(term("sum.share", share=Share(share), what=what.lower()) if share <= 1
                         else term("sum.alone", what=what.capitalize(), amount=Money(float(best["nok"]))))
            missing = [p for p in parts if not p["available"] and p["component"] in SPLIT_BY_SERVICE_STATISTICS]
            unsplit = unsplit or len(missing) == 3
        out.append(joined(s, " "))
    if unsplit:
        out.append(term("sum.unsplit"))
    return joined(out, " ")
