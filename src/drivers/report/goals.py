"""Mål og indikatorer as a view (no Dash): the indikatorsett (drivers.goals) against the municipality's figures.

`view(state)` gives, per goal, each indicator's values over time (the view's peers beside them), its target in
words, the figure assessed (the view's year or the year before), the status and the rule that decided it (drivers.
engine.goals, worded here in the view's language with the view's number format), and a one-line summary per goal;
what in the file could not be used comes as messages with the line. `status_frame(state)` is the same as one table
for the annual report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from drivers import fmt, i18n
from drivers import goals as goalfile
from drivers.engine import goals as rules
from drivers.engine import indicators as registry
from drivers.engine import reasons
from drivers.report import data
from drivers.report import queries as views
from drivers.report import state as st


@dataclass
class Row:
    """One indicator of a goal, as shown."""

    indicator: str
    name: str
    unit: str
    decimals: int
    tables: list[str]
    target: rules.Target
    target_text: str
    target_year: int | None
    owner: str | None
    source: str | None
    status: str  # one of drivers.engine.goals.STATUSES
    status_text: str
    rule: str
    year: int | None
    value: float | None
    value_text: str
    prev_text: str  # the year before the one assessed
    peer_value: float | None  # the view's peers, in the year assessed
    peer_text: str
    series: pd.DataFrame  # year, value, peer_value, backcast, status, reason (the view's peers)
    norm: float | None  # a level target's one bound (the chart draws it)
    fetch: str | None  # the command that fetches the indicator's tables (shown when its figure is missing)
    line: int | None = None


@dataclass
class GoalView:
    text: str
    owner: str | None
    target_year: int | None
    summary: str
    rows: list[Row]
    id: str | None = None


@dataclass
class GoalsView:
    file: str
    title: str | None
    about: str | None
    example: bool
    year: int
    peers_label: str
    goals: list[GoalView] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def word(x, lang: str) -> str:
    """A rule, target or summary (a Reason whose arguments may be Figures and Years) in `lang`, numbers in the
    language's format."""
    if isinstance(x, reasons.Reason):
        if x.key == reasons.JOIN:
            d = dict(x.args)
            text = word(d["sep"], lang).join(word(p, lang) for p in d["parts"])
        else:
            text = i18n.t(x.key, lang, **{k: word(v, lang) for k, v in x.args})
        return text.lower() if x.case == "lower" else text.capitalize() if x.case == "capitalize" else text
    if isinstance(x, rules.Figure):
        return figure_text(x.value, x.unit, x.decimals, lang)
    if isinstance(x, rules.Year):
        return str(x.year)
    out = i18n.reason_text(x, lang)
    return "" if out is None else str(out)


def figure_text(value, unit: str, decimals: int, lang: str, status: str | None = None) -> str:
    """A value with its unit the language's way ("1 234 kr", "1,8 %"); a missing one as SSB's symbol or "–"."""
    if fmt.is_missing(value):
        return fmt.number(None, status=status)
    if unit == "kr":
        return fmt.kr(value, decimals, lang)
    if unit == "%":
        return fmt.pct(value, decimals, lang)
    return f"{fmt.number(value, decimals, lang=lang)} {unit}".strip()


def target_text(target: rules.Target, unit: str, decimals: int, polarity: str, target_year: int | None,
                lang: str, peers_label: str | None = None) -> str:
    def tf(x):
        f = rules.target_figure(x, unit, decimals)
        return figure_text(f.value, f.unit, f.decimals, lang)

    if target.kind == "level":
        if target.minimum is not None and target.maximum is not None:
            text = i18n.t("goal.target.range", lang, minimum=tf(target.minimum), maximum=tf(target.maximum))
        elif target.minimum is not None:
            text = i18n.t("goal.target.min", lang, target=tf(target.minimum))
        else:
            text = i18n.t("goal.target.max", lang, target=tf(target.maximum))
    elif target.kind == "direction":
        text = i18n.t(f"goal.target.direction_{target.direction}", lang, base_year=target.base_year)
    elif target.kind == "peers":
        text = i18n.t(f"goal.target.peers_{target.direction}", lang, peers=peers_label or target.peers)
    else:
        text = i18n.t(f"goal.target.last_year_{rules.better_direction(target, polarity)}", lang)
    if not target_year or target.kind == "last_year":  # better than last year is a yearly target: no target year
        return text
    return i18n.t("goal.target.by", lang, target=text, target_year=target_year)


def _series_dict(frame: pd.DataFrame) -> dict[int, float]:
    return {int(y): float(v) for y, v in zip(frame["year"], frame["value"], strict=True) if not fmt.is_missing(v)}


def _peer_dict(frame: pd.DataFrame) -> dict[int, float]:
    return {int(y): float(v) for y, v in zip(frame["year"], frame["peer_value"], strict=True) if not fmt.is_missing(v)}


def _reason_at(frame: pd.DataFrame, year: int):
    """The engine's reason for `year` (why a figure or the peers' average is missing), else the latest one."""
    at = frame.loc[frame["year"] == year, "reason"]
    if len(at) and isinstance(at.iloc[0], str) and at.iloc[0]:
        return at.iloc[0]
    have = frame["reason"].dropna() if "reason" in frame else []
    return have.iloc[-1] if len(have) else None


def _peer_state(state: st.State, peers: str) -> st.State:
    return st.State(state.kommune, state.aar, peers, state.konv, state.lang)


def _row(state: st.State, entry: goalfile.Entry) -> Row:
    lang = state.lang
    ind = registry.get(entry.indicator)
    frame = views._timeseries(state.kommune, ind.id, views.peer_arg(state), state.konv)
    target = entry.target
    peer_label, peer_values, peer_reason = None, None, None
    if target.kind == "peers":
        same = isinstance(state.peers, str) and not hasattr(state.peers, "set") and state.peers == target.peers
        tframe = frame if same else views._timeseries(state.kommune, ind.id, target.peers, state.konv)
        peer_label = views.peers_label(_peer_state(state, target.peers))
        peer_values = _peer_dict(tframe)
        peer_reason = _reason_at(tframe, state.aar)
    verdict = rules.assess(target, _series_dict(frame), state.aar, unit=ind.unit, decimals=ind.decimals,
                           polarity=ind.polarity, target_year=entry.target_year, peer_values=peer_values,
                           peer_label=peer_label, peer_reason=peer_reason,
                           missing_reason=_reason_at(frame, state.aar))
    y = verdict.year
    at = frame.set_index("year")
    value = at["value"].get(y) if y is not None else None
    prev = at["value"].get(y - 1) if y is not None else None
    peer = at["peer_value"].get(y) if y is not None else None
    tables = [t for t in ind.table.split("+") if t]
    norm = None
    if target.kind == "level" and (target.minimum is None) != (target.maximum is None):
        norm = target.minimum if target.minimum is not None else target.maximum
    return Row(
        indicator=ind.id, name=ind.name(lang), unit=ind.unit, decimals=ind.decimals, tables=tables, target=target,
        target_text=target_text(target, ind.unit, ind.decimals, ind.polarity, entry.target_year, lang, peer_label),
        target_year=entry.target_year, owner=entry.owner, source=entry.source,
        status=verdict.status, status_text=i18n.t(f"goal.status.{verdict.status}", lang),
        rule=word(verdict.rule, lang), year=y, value=_num(value),
        value_text=figure_text(_num(value), ind.unit, ind.decimals, lang) if y is not None else fmt.MISSING,
        prev_text=figure_text(_num(prev), ind.unit, ind.decimals, lang) if y is not None else fmt.MISSING,
        peer_value=_num(peer),
        peer_text=figure_text(_num(peer), ind.unit, ind.decimals, lang) if y is not None else fmt.MISSING,
        series=views.worded(frame.copy(), lang), norm=norm,
        fetch=views.fetch_hint(tables) if verdict.status == rules.MISSING else None, line=entry.line)


def _num(x) -> float | None:
    if x is None or fmt.is_missing(x):
        return None
    return float(x)


def view(state: st.State, goal_set: goalfile.GoalSet | None = None) -> GoalsView:
    """The goals of the indikatorsett (the configured one, else the example) for this view."""
    goal_set = goal_set if goal_set is not None else goalfile.load()
    out = GoalsView(file=goal_set.file, title=goal_set.title, about=goal_set.about, example=goal_set.example,
                    year=state.aar, peers_label=views.peers_label(state),
                    problems=[p.text(state.lang) for p in goal_set.problems])
    for goal in goal_set.goals:
        rows = [_row(state, entry) for entry in goal.entries]
        summary = word(rules.summary([r.status for r in rows]), state.lang)
        out.goals.append(GoalView(goal.text, goal.owner, goal.target_year, summary, rows, goal.id))
    return out


FRAME_COLUMNS = ("goal", "indicator", "value", "year", "target", "status", "rule")


def status_frame(state: st.State, goal_set: goalfile.GoalSet | None = None) -> pd.DataFrame:
    """The status table for the annual report: one row per goal and indicator, headers in the view's language
    (Mål, Indikator, Verdi, År, Målsetting, Status, Regel; words "goal.col.<FRAME_COLUMNS>"). Verdi is the figure as
    shown (text in the view's number format); attrs: the file, whether it is the example, its problems, the
    municipality, the year and the peers."""
    v = view(state, goal_set)
    lang = state.lang
    rows = [{"goal": g.text, "indicator": r.name, "value": r.value_text, "year": r.year, "target": r.target_text,
             "status": r.status_text, "rule": r.rule} for g in v.goals for r in g.rows]
    frame = pd.DataFrame(rows, columns=list(FRAME_COLUMNS))
    frame["year"] = frame["year"].astype("Int64")
    frame.columns = [i18n.t(f"goal.col.{c}", lang) for c in FRAME_COLUMNS]
    frame.attrs.update(file=v.file, example=v.example, problems=list(v.problems), kommune=state.kommune,
                       name=data.meta().name(state.kommune), year=state.aar, peers=v.peers_label)
    return frame


def chart_frame(row: Row) -> pd.DataFrame:
    """The row's series as the chart takes it (year, value, peer_value, backcast)."""
    cols = [c for c in ("year", "value", "peer_value", "backcast") if c in row.series]
    return row.series[cols]

