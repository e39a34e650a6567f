"""Indicator values from their components (kostra-method.md §5.1, §5.3, §5.7).

The small formula functions take numpy arrays or pandas Series and return the same. `components()` turns a
registry indicator into numerator and denominator arrays over all municipalities for one year, so that
peer averages can be taken either as Σnumerator/Σdenominator (SSB) or as the mean of the ratios (ASSS).
A division by zero or a missing input gives NaN, never 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drivers.engine import indicators as reg
from drivers.engine.indicators import Indicator
from drivers.engine.panel import MeasureArray, Panel, need_note_term
from drivers.engine.reasons import Reason, joined, why


def _div(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(a, dtype=float) / np.asarray(b, dtype=float)
    out = np.where(np.asarray(b, dtype=float) == 0, np.nan, out)
    return out


def per_resident(ndu_1000kr, residents):
    """Netto driftsutgifter per innbygger (kr): NDU in 1000 kr × 1000 / residents at 31.12."""
    return _div(np.asarray(ndu_1000kr, dtype=float) * 1000.0, residents)


def per_target(ndu_1000kr, target_residents):
    """NDU per resident of the target group (kr), e.g. barnehage per innbygger 1–5 år."""
    return per_resident(ndu_1000kr, target_residents)


def coverage(users, target_residents):
    """Dekningsgrad (%): users / target population × 100."""
    return _div(np.asarray(users, dtype=float) * 100.0, target_residents)


def unit_cost(kbdu_1000kr, users):
    """Enhetskostnad (kr): korrigerte brutto driftsutgifter × 1000 per user."""
    return _div(np.asarray(kbdu_1000kr, dtype=float) * 1000.0, users)


def priority(ndu_service_1000kr, ndu_total_1000kr):
    """Prioritering (%): the service's share of total net operating expenditure."""
    return _div(np.asarray(ndu_service_1000kr, dtype=float) * 100.0, ndu_total_1000kr)


def need_corrected(ndu_1000kr, residents, need_index):
    """k = NDU × 1000 / (residents × need index) (kr), §5.3."""
    return _div(np.asarray(ndu_1000kr, dtype=float) * 1000.0, np.asarray(residents, dtype=float) * np.asarray(need_index, dtype=float))


@dataclass
class Components:
    """An indicator for one year over panel.municipalities. value = num / den; weighted_ok says whether
    Σnum/Σden is SSB's weighted average (False for SSB rates whose denominator we do not have)."""

    value: np.ndarray
    num: np.ndarray
    den: np.ndarray
    status: np.ndarray
    backcast: np.ndarray
    reason: np.ndarray  # object: None or a Reason per municipality
    weighted_ok: bool
    need_year: int | None = None


def _missing_reason(panel: Panel, measure: str, tables: list[str], year: int | None = None,
                    dims: str | None = None) -> Reason:
    """Why a measure is missing for every municipality: absent from the database, or held for other years only."""
    spec = reg.measure_spec(measure) or {}
    table = spec.get("table")
    tabs = [table] if table else tables
    years = panel.measure_years(measure, dims) if year is not None else []
    if years:
        span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
        return why("measure_other_years", measure=measure, tables=", ".join(tabs), year=year, span=span,
                   fetch=reg.fetch_hint(tabs))
    return why("measure_missing", measure=measure, tables=", ".join(tabs), fetch=reg.fetch_hint(tabs))


def _denominator(panel: Panel, den: dict, year: int) -> tuple[np.ndarray, list[Reason], np.ndarray, int | None]:
    """Denominator array, reasons for missing parts, back-cast mask, need-index year used."""
    reasons: list[Reason] = []
    backcast = np.zeros(panel.n, dtype=bool)
    need_year = None
    if "population" in den:
        lo, hi = den["population"]
        pop_year = year + int(den.get("year_offset", 1))
        arr = panel.residents(pop_year, lo, hi)
        if np.isnan(arr).all():
            reasons.append(why("population_missing", year=pop_year, fetch=reg.fetch_hint(["07459"])))
        backcast |= panel.code_backcast(year)
        if den.get("times_need"):
            need, need_year = panel.need_index(year)
            arr = arr * need
            if np.isnan(need).all():
                reasons.append(why("need_index_missing"))
        if den.get("times_measure_pct"):
            pct, bc, lacking = coverage_pct(panel, den["times_measure_pct"], year)
            arr = arr * pct / 100.0
            backcast |= bc
            reasons += lacking
        return arr, reasons, backcast, need_year
    ma = panel.measure(den["measure"], den.get("dims"), year)
    if np.isnan(ma.value).all():
        reasons.append(_missing_reason(panel, den["measure"], [], year, den.get("dims")))
    return ma.value * float(den.get("scale", 1.0)), reasons, ma.backcast, need_year


def components(panel: Panel, ind: Indicator, year: int) -> Components:
    """Numerator and denominator of `ind` for `year` over all municipalities (memoised on the panel)."""
    return panel.memo(("components", ind.id, year), lambda: _components(panel, ind, year))


def coverage_pct(panel: Panel, measures_: str | list[str], year: int) -> tuple[np.ndarray, np.ndarray, list[Reason]]:
    """A percentage measure, or the sum of several (e.g. 80+ with home-based services + with an institution
    stay), over the municipalities: (value, back-cast mask, reasons for a measure missing everywhere).
    NaN wherever one of the parts is missing: a sum of what is there would understate."""
    names = [measures_] if isinstance(measures_, str) else list(measures_)
    total = np.zeros(panel.n)
    backcast = np.zeros(panel.n, dtype=bool)
    reasons = []
    for m in names:
        ma = panel.measure(m, None, year)
        total = total + ma.value
        backcast |= ma.backcast
        if np.isnan(ma.value).all():
            reasons.append(_missing_reason(panel, m, [], year))
    return total, backcast, reasons


def _numerator(panel: Panel, num_spec: dict, year: int):
    """The numerator's MeasureArray; a sum of measures ("measures") has the first part's status where missing."""
    if "measures" not in num_spec:
        return panel.measure(num_spec["measure"], num_spec.get("dims"), year)
    parts = [panel.measure(m, None, year) for m in num_spec["measures"]]
    value = np.sum([p.value for p in parts], axis=0)
    status = parts[0].status.copy()
    for p in parts[1:]:
        status = np.where(status == None, p.status, status)  # noqa: E711 - elementwise on object array
    return MeasureArray(value, status, np.any([p.backcast for p in parts], axis=0))


def _components(panel: Panel, ind: Indicator, year: int) -> Components:
    n = panel.n
    num_spec = ind.numerator
    ma = _numerator(panel, num_spec, year)
    raw = ma.value * float(num_spec.get("scale", 1.0))
    reasons_all: list[Reason] = []
    if np.isnan(ma.value).all():
        reasons_all += [_missing_reason(panel, m, [ind.table], year, dims) for m, dims in ind.numerator_parts]
    backcast = ma.backcast.copy()
    weighted_ok = True
    need_year = None
    if ind.kind == "ssb":
        if ind.extra.get("divide_by_need"):  # SSB's rate / need index; weight residents × index
            need, need_year = panel.need_index(year)
            value = raw / need
            if np.isnan(need).all():
                reasons_all.append(why("need_index_missing"))
        else:
            value = raw.copy()
        if ind.weight:
            den, r, bc, need_year_w = _denominator(panel, ind.weight, year)
            need_year = need_year or need_year_w
            reasons_all += r
            num = value * den
            backcast |= bc
        else:
            den = np.where(np.isnan(raw), np.nan, 1.0)
            num = value
            weighted_ok = False
    else:
        den, r, bc, need_year = _denominator(panel, ind.denominator, year)
        reasons_all += r
        backcast |= bc
        num = raw
        value = _div(num, den)
    value = np.where(np.isnan(num) | np.isnan(den), np.nan, value)
    reason = np.full(n, None, dtype=object)
    missing = np.isnan(value)
    if reasons_all:
        reason[missing] = joined(reasons_all)
    else:
        for i in np.flatnonzero(missing):
            if ma.status[i]:
                reason[i] = why("ssb_status", status=ma.status[i])
            elif np.isnan(ma.value[i]):
                m = ind.numerator_parts[0][0]
                tab = (reg.measure_spec(m) or {}).get("table", ind.table)
                reason[i] = why("own_measure_missing", measure=m, year=year, fetch=reg.fetch_hint([tab]))
            elif (ind.kind == "need_corrected" or (ind.denominator or {}).get("times_need")
                  or ind.extra.get("divide_by_need")):
                reason[i] = why("own_need_index_missing")
            elif (ind.denominator or {}).get("times_measure_pct"):
                pct = ind.denominator["times_measure_pct"]
                names = [pct] if isinstance(pct, str) else list(pct)
                tabs = list(dict.fromkeys((reg.measure_spec(m) or {}).get("table", ind.table) for m in names))
                reason[i] = why("own_coverage_missing", measures=" + ".join(names), year=year,
                                fetch=reg.fetch_hint(tabs))
            else:
                reason[i] = why("denominator_missing")
    status = np.where(missing, ma.status, None)
    return Components(value, num, den, status, backcast, reason, weighted_ok, need_year)


def ssb_aggregate(panel: Panel, ind: Indicator, year: int) -> dict[str, float]:
    """SSB's published figure of `ind` for the aggregates in the data (EAK, EKGxx, counties): code -> value.

    - SSB rates (kind "ssb"): the aggregate rows of the measure itself.
    - NDU per resident (all ages): SSB's own per-resident figure for the aggregate where the data has it
      (ndu_per_innbygger_kr, KOSTRA's population), else SSB's aggregate amount / the group's residents at
      31.12 (the members' sum, as SSB's group population).
    Nothing for other indicators: SSB publishes no group figure we hold for them.

    Memoised on the panel per (indicator, year), as components() (read-only, like panel.aggregate's): a time
    series asked for it once a year for every municipality: ~4 of its ~8.5 ms (CPU, three series of a Tjenester
    view)."""
    return panel.memo(("ssb_aggregate", ind.id, int(year)), lambda: _ssb_aggregate(panel, ind, int(year)))


def _ssb_aggregate(panel: Panel, ind: Indicator, year: int) -> dict[str, float]:
    num = ind.numerator
    if ind.kind == "ssb" and not ind.extra.get("divide_by_need") and "measure" in num:
        return panel.aggregate(num["measure"], num.get("dims"), year)
    den = ind.denominator or {}
    if ind.kind != "per_resident" or num["measure"] != "ndu_1000kr" or den.get("population") != [0, 105] \
            or den.get("times_need") or den.get("times_measure_pct"):
        return {}
    per_capita = panel.aggregate("ndu_per_innbygger_kr", num.get("dims"), year)
    amounts = panel.aggregate("ndu_1000kr", num.get("dims"), year)
    if not amounts and not per_capita:
        return {}
    residents = panel.residents(year + int(den.get("year_offset", 1)))
    groups = {"EAK": np.ones(panel.n, dtype=bool), "EAKUO": panel.municipalities != "0301"}
    groups.update({str(g): panel.group == g for g in set(panel.group) if g})
    groups.update({str(c): panel.county == c for c in set(panel.county)})
    out = {}
    for code, amount in amounts.items():
        mask = groups.get(code)
        if mask is not None and mask.any() and not np.isnan(residents[mask]).any():
            out[code] = amount * float(num.get("scale", 1.0)) / float(residents[mask].sum())
    out.update(per_capita)
    return out


def need_note(ind: Indicator) -> Reason | None:
    return need_note_term() if ind.kind == "need_corrected" else None
