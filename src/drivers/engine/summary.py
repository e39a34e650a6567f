"""A plain-language Norwegian (or English) summary of the largest gaps, generated from the numbers only."""

from __future__ import annotations

import math

import pandas as pd


def _mill(nok: float, lang: str) -> str:
    m = abs(nok) / 1e6
    txt = f"{m:,.1f}".replace(",", " ")
    if lang == "nb":
        txt = txt.replace(".", ",")
        return f"{txt} mill. kr"
    return f"NOK {txt} million"


def _pct(x: float) -> str:
    return f"{round(100 * x):d} %"


def summary(
    name: str,
    peer_label: str,
    year: int,
    gaps: pd.DataFrame,
    decompositions: dict[str, pd.DataFrame],
    convention_nb: str,
    lang: str = "nb",
    top: int = 3,
) -> str:
    """Sentences on the `top` largest service gaps (by absolute kroner) and, where split, their drivers."""
    svc = gaps[(gaps["service"] != "TOTAL") & gaps["gap_nok"].notna()].copy()
    if not len(svc):
        return (f"{name}: ingen tjenester har både egne tall og tall for {peer_label} i {year}."
                if lang == "nb" else f"{name}: no service has figures for both the municipality and {peer_label} in {year}.")
    svc["abs"] = svc["gap_nok"].abs()
    svc = svc.sort_values("abs", ascending=False).head(top)
    out = []
    total = gaps[gaps["service"] == "TOTAL"]
    if len(total) and pd.notna(total["gap_nok"].iloc[0]):
        g = float(total["gap_nok"].iloc[0])
        if lang == "nb":
            word = "mer" if g > 0 else "mindre"
            out.append(f"I {year} brukte {name} samlet {_mill(g, lang)} {word} i netto driftsutgifter enn {peer_label} "
                       f"ville gjort med samme utgift per innbygger ({convention_nb}).")
        else:
            word = "more" if g > 0 else "less"
            out.append(f"In {year} {name} spent {_mill(g, lang)} {word} in net operating expenditure than {peer_label} "
                       "would at the same spending per resident.")
    unsplit = False
    for _, r in svc.iterrows():
        g = float(r["gap_nok"])
        service_name = str(r["name_nb"] if lang == "nb" or "name_en" not in r else r["name_en"]).lower()
        first = not out  # no total sentence before: name the municipality and the year here
        if lang == "nb":
            word = "mer" if g > 0 else "mindre"
            who = f"I {year} brukte {name}" if first else "Kommunen bruker"
            s = f"{who} {_mill(g, lang)} {word} enn {peer_label} på {service_name}."
        else:
            word = "more" if g > 0 else "less"
            who = f"In {year} {name} spent" if first else "The municipality spends"
            s = f"{who} {_mill(g, lang)} {word} than {peer_label} on {service_name}."
        nc = r.get("gap_need_corrected_nok")
        if nc is not None and not (isinstance(nc, float) and math.isnan(nc)):
            if lang == "nb":
                w2 = "mer" if nc > 0 else "mindre"
                s += f" Korrigert for utgiftsbehov er avviket {_mill(nc, lang)} {w2}."
            else:
                w2 = "more" if nc > 0 else "less"
                s += f" Corrected for expenditure need the gap is {_mill(nc, lang)} {w2}."
        dec = decompositions.get(r["service"])
        if dec is not None and len(dec):
            named = ["need", "target_share", "coverage", "unit_cost", "net_gross"]
            parts = dec[dec["available"] & dec["nok"].notna() & dec["component"].isin(named)]
            same_sign = parts[(parts["nok"] * g) > 0]
            if len(same_sign) and g != 0:
                best = same_sign.loc[same_sign["nok"].abs().idxmax()]
                share = float(best["nok"]) / g
                what = str(best["name_nb"] if lang == "nb" else best["name_en"]).lower()
                if lang == "nb":
                    s += (f" Om lag {_pct(share)} av avviket skyldes {what}." if share <= 1
                          else f" {what.capitalize()} alene gir et større avvik ({_mill(float(best['nok']), lang)}) enn det samlede.")
                else:
                    s += (f" About {_pct(share)} of the gap is due to {what}." if share <= 1
                          else f" {what.capitalize()} alone gives a larger gap ({_mill(float(best['nok']), lang)}) than the total.")
            missing = dec[~dec["available"] & dec["component"].isin(["coverage", "unit_cost", "net_gross"])]
            unsplit = unsplit or len(missing) == 3
        out.append(s)
    if unsplit:
        out.append("Dekningsgrad og enhetskostnad kan ikke skilles ut før tjenestestatistikken er hentet "
                   "(`drivers fetch`)." if lang == "nb" else
                   "Coverage and unit cost cannot be separated until service statistics are fetched (`drivers fetch`).")
    return " ".join(out)
