"""A plain-language Norwegian (or English) summary of the largest gaps, generated from the numbers only.

Input is plain rows (lists of dicts) or the api's DataFrames: the dashboard's fast path hands over a few
dicts sliced from the memoised driver table, the reference path (tests, bench) the frames of api.gaps and
api.decompose. Both give the same text. Every number in the English text is in the Norwegian one.
"""

from __future__ import annotations

import math

import pandas as pd

NAMED = ("need", "target_share", "coverage", "unit_cost", "net_gross")
SPLIT_BY_SERVICE_STATISTICS = ("coverage", "unit_cost", "net_gross")
CONVENTION_TEXT = {
    "nb": {"weighted": "vektet snitt som SSBs gruppetall, kommunen selv med", "unweighted": "uvektet snitt som Kolada",
           "weighted-excl-self": "vektet snitt uten kommunen selv, som ASSS",
           "unweighted-excl-self": "uvektet snitt uten kommunen selv, som ASSS"},
    "en": {"weighted": "weighted average, as SSB's group figures, the municipality included",
           "unweighted": "unweighted average, as Kolada computes it",
           "weighted-excl-self": "weighted average without the municipality itself, as ASSS",
           "unweighted-excl-self": "unweighted average without the municipality itself, as ASSS"},
}


def _mill(nok: float, lang: str) -> str:
    m = abs(nok) / 1e6
    if lang == "nb":
        return f"{m:,.1f}".replace(",", " ").replace(".", ",") + " mill. kr"
    return f"NOK {m:,.1f} million"


def _pct(x: float, lang: str) -> str:
    return f"{round(100 * x):d} %" if lang == "nb" else f"{round(100 * x):d}%"


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _rows(x) -> list[dict]:
    if x is None:
        return []
    if isinstance(x, pd.DataFrame):
        return x.to_dict("records")
    return list(x)


def empty_text(name: str, peer_label: str, year: int, lang: str = "nb") -> str:
    """The summary when the peer group has no member but the municipality itself (Oslo in KOSTRA group 13)."""
    if lang == "en":
        return (f"{name}: the peer group {peer_label} has no members other than {name} in {year} (the group's figure is the "
                "municipality's own), so there is no peer average to compare with and no gap. Choose another peer group, "
                "for example Norway or the nearest neighbours.")
    return (f"{name}: sammenligningsgruppen {peer_label} har ingen andre kommuner enn {name} i {year} (gruppens tall er kommunens "
            "egne), så det finnes ikke noe snitt å sammenligne med og ikke noe avvik. Velg en annen "
            "sammenligningsgruppe, for eksempel landet eller nærmeste naboer.")


def summary(
    name: str,
    peer_label: str,
    year: int,
    gaps,
    decompositions: dict,
    convention: str,
    lang: str = "nb",
    top: int = 3,
) -> str:
    """Sentences on the `top` largest service gaps (by absolute kroner) and, where split, their drivers.

    gaps: rows with service ("TOTAL" for the total), name_nb, name_en, gap_nok, gap_need_corrected_nok.
    decompositions: service -> rows with component, nok, available, name_nb, name_en.
    convention: "weighted" | "unweighted" (or a ready text, used as it is)."""
    en = lang == "en"
    conv = CONVENTION_TEXT["en" if en else "nb"].get(convention, convention)
    rows = _rows(gaps)
    svc = [r for r in rows if r["service"] not in ("TOTAL", "OTHER") and not _missing(r["gap_nok"])]
    if not svc:
        return (f"{name}: no service has figures for both the municipality and {peer_label} in {year}." if en
                else f"{name}: ingen tjenester har både egne tall og tall for {peer_label} i {year}.")
    svc = sorted(svc, key=lambda r: -abs(float(r["gap_nok"])))[:top]
    out = []
    total = [r for r in rows if r["service"] == "TOTAL"]
    if total and not _missing(total[0]["gap_nok"]):
        g = float(total[0]["gap_nok"])
        if en:
            word = "more" if g > 0 else "less"
            out.append(f"In {year} {name} spent {_mill(g, lang)} {word} in total on net operating expenditure than "
                       f"{peer_label} would have at the same spending per resident ({conv}).")
        else:
            word = "mer" if g > 0 else "mindre"
            out.append(f"I {year} brukte {name} samlet {_mill(g, lang)} {word} i netto driftsutgifter enn {peer_label} "
                       f"ville gjort med samme utgift per innbygger ({conv}).")
    unsplit = False
    for r in svc:
        g = float(r["gap_nok"])
        service_name = str(r.get("name_en") or r["name_nb"] if en else r["name_nb"]).lower()
        first = not out  # no total sentence before: name the municipality and the year here
        if en:
            word = "more" if g > 0 else "less"
            who = f"In {year} {name} spent" if first else "The municipality spent"
            s = f"{who} {_mill(g, lang)} {word} than {peer_label} on {service_name}."
        else:
            word = "mer" if g > 0 else "mindre"
            who = f"I {year} brukte {name}" if first else "Kommunen bruker"
            s = f"{who} {_mill(g, lang)} {word} enn {peer_label} på {service_name}."
        nc = r.get("gap_need_corrected_nok")
        if not _missing(nc):
            if en:
                s += f" Corrected for expenditure need, the gap is {_mill(nc, lang)} {'more' if nc > 0 else 'less'}."
            else:
                s += f" Korrigert for utgiftsbehov er avviket {_mill(nc, lang)} {'mer' if nc > 0 else 'mindre'}."
        parts = _rows(decompositions.get(r["service"]))
        if parts:
            named = [p for p in parts if p["available"] and not _missing(p["nok"]) and p["component"] in NAMED]
            same_sign = [p for p in named if p["nok"] * g > 0]
            if same_sign and g != 0:
                best = max(same_sign, key=lambda p: abs(p["nok"]))  # the first of equals, as idxmax
                share = float(best["nok"]) / g
                what = str(best["name_en"] if en else best["name_nb"]).lower()
                if en:
                    s += (f" About {_pct(share, lang)} of the gap is due to {what}." if share <= 1
                          else f" {what.capitalize()} alone accounts for a larger gap ({_mill(float(best['nok']), lang)}) "
                               "than the total.")
                else:
                    s += (f" Om lag {_pct(share, lang)} av avviket skyldes {what}." if share <= 1
                          else f" {what.capitalize()} alene gir et større avvik ({_mill(float(best['nok']), lang)}) enn det samlede.")
            missing = [p for p in parts if not p["available"] and p["component"] in SPLIT_BY_SERVICE_STATISTICS]
            unsplit = unsplit or len(missing) == 3
        out.append(s)
    if unsplit:
        out.append("Coverage and unit cost cannot be separated until the service statistics have been fetched "
                   "(`drivers fetch`)." if en else
                   "Dekningsgrad og enhetskostnad kan ikke skilles ut før tjenestestatistikken er hentet (`drivers fetch`).")
    return " ".join(out)
