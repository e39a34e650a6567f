"""Goal status rules (issue 15): is an indicator's target reached? Pure functions, numbers in, a Verdict out.

A target (`Target`) is one of four kinds, as the indikatorsett file names them (drivers.goals reads the file):

    level       a level: at least `minimum` and/or at most `maximum` (e.g. netto driftsresultat at least 1.75 %)
    direction   a direction since a start year: up or down from `base_year`'s value
    peers       «på eller under KOSTRA-gruppen»: at most (or at least) the peer average of `peers`
    last_year   «bedre enn fjoråret»: better than the year before (better = `direction`,
                                                                   else the indicator's polarity)

`assess` takes the municipality's series (year -> value), the year of the view, the peer values the rule needs
and the target year, and says one of STATUSES with the rule that decided it, as a Reason (key "goal.rule.*") whose
arguments are the numbers it compared (`Figure`s: a value with its unit and decimals,
                                       worded by the report layer in
the view's language). Values are compared as they are shown: rounded to the indicator's decimals, so a reader
can check every status by hand from the numbers on the page.

Which year: the latest year with a figure, at most MAX_AGE years before the view's year (KOSTRA tables come out
at different times; a figure older than that says nothing about the goal now and is "missing").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from drivers.engine.reasons import Reason, joined, term

MET, ON_TRACK, NOT_MET, MISSING = "met", "on_track", "not_met", "missing"
STATUSES = (MET, ON_TRACK, NOT_MET, MISSING)  # nådd, på vei, ikke nådd, mangler tall (words "goal.status.<code>")
KINDS = ("level", "direction", "peers", "last_year")
DIRECTIONS = ("up", "down")
PEER_SETS = ("kostragruppe", "fylke", "landet",
             "landet-uten-oslo")  # the built-in sets a peers target may name
MAX_AGE = 1  # years: the figure assessed is from the view's year or the year before, never older
POLARITY_DIRECTION = {"higher_is_better": "up", "lower_is_better": "down"}


@dataclass(frozen=True)
class Figure:
    """A number with its unit ("kr", "%", …) and decimals, for the report layer to write in a language. Its str is
    a plain form (the report layer words rules itself: drivers.report.goals)."""

    value: float
    unit: str = ""
    decimals: int = 0

    def __str__(self) -> str:
        text = f"{self.value:.{self.decimals}f}"
        return f"{text} {self.unit}".strip()


@dataclass(frozen=True)
class Year:
    """A year as an argument of a rule (never formatted as a number with thousands marks)."""

    year: int

    def __str__(self) -> str:
        return str(self.year)


@dataclass(frozen=True)
class Target:
    """What an indicator should reach (see the module). `text` is not kept here: the report layer words it."""

    kind: str
    minimum: float | None = None
    maximum: float | None = None
    direction: str | None = None  # direction: up/down; peers: "up" = at least, "down" = at most; last_year: better
    base_year: int | None = None
    peers: str | None = None


@dataclass(frozen=True)
class Verdict:
    """A status (one of STATUSES), the rule that decided it (a Reason), the year assessed and its value."""

    status: str
    rule: Reason
    year: int | None = None
    value: float | None = None


def better_direction(target: Target, polarity: str) -> str | None:
    """The direction that counts as better for a last_year target: its own, else the indicator's polarity."""
    return target.direction or POLARITY_DIRECTION.get(polarity)


def impossible(target: Target, indicator_id: str, unit: str, polarity: str) -> Reason | None:
    """Why a target cannot be assessed for this indicator (None when it can): a share outside 0–100 %, a minimum
    above the maximum, a "better than last year" for an indicator with no better direction, an unknown peer set
    or direction."""
    if target.kind not in KINDS:
        return term("goal.bad.kind", kind=str(target.kind), kinds=", ".join(KINDS))
    if target.kind == "level":
        if target.minimum is None and target.maximum is None:
            return term("goal.bad.level_empty")
        if target.minimum is not None and target.maximum is not None and target.minimum > target.maximum:
            return term("goal.bad.min_over_max", minimum=f"{target.minimum:g}", maximum=f"{target.maximum:g}")
        if _is_share(indicator_id, unit):
            for v in (target.minimum, target.maximum):
                if v is not None and not 0 <= v <= 100:
                    return term("goal.bad.share", value=f"{v:g}", indicator=indicator_id)
        return None
    if target.direction is not None and target.direction not in DIRECTIONS:
        return term("goal.bad.direction", direction=str(target.direction))
    if target.kind == "direction":
        if target.direction is None:
            return term("goal.bad.direction_missing")
        if target.base_year is None:
            return term("goal.bad.base_year_missing")
    if target.kind == "peers":
        if target.peers not in PEER_SETS:
            return term("goal.bad.peers", peers=str(target.peers), known=", ".join(PEER_SETS))
        if target.direction is None:
            return term("goal.bad.direction_missing")
    if target.kind == "last_year" and better_direction(target, polarity) is None:
        return term("goal.bad.no_better", indicator=indicator_id)
    return None


def _is_share(indicator_id: str, unit: str) -> bool:
    """A share of a whole (andel …, dekningsgrad of one service): bounded by 0 and 100 per cent."""
    return unit == "%" and "andel" in indicator_id


def _round(value, decimals: int) -> float | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else round(v, decimals)


def assessed_year(series: dict[int, float], year: int, decimals: int = 0) -> int | None:
    """The latest year ≤ `year` with a figure, if it is at most MAX_AGE years old."""
    have = [y for y, v in series.items() if y <= year and _round(v, decimals) is not None]
    if not have or max(have) < year - MAX_AGE:
        return None
    return max(have)


def assess(target: Target, series: dict[int, float], year: int, *, unit: str = "", decimals: int = 0,
           polarity: str = "neutral", target_year: int | None = None, peer_values: dict[int,
                                                                                        float] | None = None,
           peer_label=None, peer_reason: Reason | None = None, missing_reason: Reason | None = None) -> Verdict:
    """The status of `target` for the view's `year`. `series`: the municipality's values by year; `peer_values`:
    the peer average by year (peers targets); `peer_label`: the peer set's name (a Reason or text); `peer_reason`:
    why the peer average is missing (e.g. alone in the group); `missing_reason`: why the municipality's figure is
    missing (the engine's reason, with the fetch command)."""
    fig = _figure(unit, decimals)
    y = assessed_year(series, year, decimals)
    if y is None:
        last = [yy for yy, v in series.items() if yy <= year and _round(v, decimals) is not None]
        if last:
            rule = term("goal.rule.too_old", last=Year(max(last)), value=fig(series[max(last)]),
                        year=Year(year))
        else:
            rule = joined([term("goal.rule.no_figure", year=Year(year)), missing_reason])
        return Verdict(MISSING, rule)
    v = _round(series[y], decimals)
    prev = _round(series.get(y - 1), decimals)
    before_target_year = target_year is None or y < target_year
    if target.kind == "level":
        return _level(target, y, v, prev, fig, lambda x: target_figure(x, unit, decimals), target_year,
                      before_target_year)
    if target.kind == "direction":
        base = _round(series.get(target.base_year), decimals)
        if base is None:
            return Verdict(MISSING, term("goal.rule.no_base", base_year=Year(target.base_year)), y, v)
        if y <= target.base_year:
            return Verdict(MISSING, term("goal.rule.not_after_base", base_year=Year(target.base_year),
                                         year=Year(y)),
                           y, v)
        moved = v > base if target.direction == "up" else v < base
        if not moved:
            return Verdict(NOT_MET, term(f"goal.rule.direction_not_{target.direction}", value=fig(v),
                                         year=Year(y), base=fig(base), base_year=Year(target.base_year)), y, v)
        if target_year is not None and y < target_year:
            return Verdict(ON_TRACK, term(f"goal.rule.direction_on_track_{target.direction}", value=fig(v),
                                          year=Year(y), base=fig(base), base_year=Year(target.base_year),
                                          target_year=Year(target_year)), y, v)
        return Verdict(MET, term(f"goal.rule.direction_met_{target.direction}", value=fig(v), year=Year(y),
                                 base=fig(base), base_year=Year(target.base_year)), y, v)
    if target.kind == "peers":
        peers = {k: _round(x, decimals) for k, x in (peer_values or {}).items()}
        p = peers.get(y)
        if p is None:
            return Verdict(MISSING, joined([term("goal.rule.no_peer", peers=peer_label or "", year=Year(y)),
                                            peer_reason]), y, v)
        at_most = target.direction == "down"
        met = v <= p if at_most else v >= p
        side = "at_most" if at_most else "at_least"
        if met:
            return Verdict(MET, term(f"goal.rule.peers_met_{side}", value=fig(v), year=Year(y),
                                     peer=fig(p), peers=peer_label or ""), y, v)
        pp = peers.get(y - 1)
        if before_target_year and prev is not None and pp is not None and abs(v - p) < abs(prev - pp):
            return Verdict(ON_TRACK, term(f"goal.rule.peers_on_track_{side}", value=fig(v), year=Year(y),
                                          peer=fig(p), peers=peer_label or "", prev=fig(prev),
                                          prev_peer=fig(pp), prev_year=Year(y - 1)), y, v)
        return Verdict(NOT_MET, term(f"goal.rule.peers_not_met_{side}", value=fig(v), year=Year(y),
                                     peer=fig(p), peers=peer_label or ""), y, v)
    # last_year
    direction = better_direction(target, polarity)
    if prev is None:
        return Verdict(MISSING, term("goal.rule.no_prev", prev_year=Year(y - 1), year=Year(y)), y, v)
    better = v > prev if direction == "up" else v < prev
    if better:
        return Verdict(MET, term(f"goal.rule.last_year_met_{direction}", value=fig(v), year=Year(y),
                                 prev=fig(prev), prev_year=Year(y - 1)), y, v)
    return Verdict(NOT_MET, term(f"goal.rule.last_year_not_met_{direction}", value=fig(v), year=Year(y),
                                 prev=fig(prev), prev_year=Year(y - 1)), y, v)


def _figure(unit: str, decimals: int):
    def make(value) -> Figure:
        return Figure(float(value), unit, decimals)

    return make


def places(x: float, most: int = 4) -> int:
    """The decimals a number as written needs (1.75 -> 2, 80.0 -> 0), at most `most`."""
    text = f"{float(x):.{most}f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


def target_figure(x: float, unit: str, decimals: int) -> Figure:
    """A target's number as the file wrote it: the indicator's decimals, or more where the target has them
    (1,75 % for an indicator shown with one decimal)."""
    return Figure(float(x), unit, max(decimals, places(x)))


def _level(target: Target, y: int, v: float, prev: float | None, fig, tfig, target_year: int | None,
           before_target_year: bool) -> Verdict:
    lo, hi = target.minimum, target.maximum

    met = (lo is None or v >= lo) and (hi is None or v <= hi)
    bound = "min" if lo is not None and v < lo else "max"
    limit = lo if bound == "min" else hi
    if met:
        if lo is not None and hi is not None:
            return Verdict(MET, term("goal.rule.level_met_range", value=fig(v), year=Year(y),
                                     minimum=tfig(lo),
                                     maximum=tfig(hi)), y, v)
        side = "min" if lo is not None else "max"
        return Verdict(MET, term(f"goal.rule.level_met_{side}", value=fig(v), year=Year(y),
                                 target=tfig(lo if side == "min" else hi)), y, v)
    if before_target_year and prev is not None:
        closer = (limit - v < limit - prev) if bound == "min" else (v - limit < prev - limit)
        if closer:
            rule = term(f"goal.rule.level_on_track_{bound}", value=fig(v), year=Year(y),
                        target=tfig(limit), prev=fig(prev), prev_year=Year(y - 1))
            if target_year is not None:
                rule = joined([rule, term("goal.rule.until", target_year=Year(target_year))])
            return Verdict(ON_TRACK, rule, y, v)
        return Verdict(NOT_MET, term(f"goal.rule.level_not_closer_{bound}", value=fig(v), year=Year(y),
                                     target=tfig(limit), prev=fig(prev),
                                     prev_year=Year(y - 1)), y, v)
    if not before_target_year:
        return Verdict(NOT_MET, term(f"goal.rule.level_not_met_by_{bound}", value=fig(v), year=Year(y),
                                     target=tfig(limit), target_year=Year(target_year)),
                       y, v)
    return Verdict(NOT_MET, term(f"goal.rule.level_not_met_{bound}", value=fig(v), year=Year(y),
                                 target=tfig(limit)), y, v)


def summary(statuses: list[str]) -> Reason:
    """One line for a goal: how many of its indicators are met, and the others by status ("2 av 4 nådd; 1 på vei;
    1 mangler tall")."""
    n = len(statuses)
    if not n:
        return term("goal.sum.none")
    counts = {s: statuses.count(s) for s in STATUSES}
    head = term("goal.sum.met", met=counts[MET], n=n)
    rest = [term(f"goal.sum.{s}", k=counts[s]) for s in (ON_TRACK, NOT_MET, MISSING) if counts[s]]
    return joined([head, *rest], "; ")

