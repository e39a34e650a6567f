"""Mål og indikatorer (/maal): the goals of the indikatorsett (drivers.goals; the example unless
DRIVERS_INDIKATORSETT names the municipality's own), per goal a one-line summary and, per indicator, its target,
the figure assessed, the peers, the status (nådd, på vei, ikke nådd, mangler tall) with the rule that decided it,
and its values over time against the target. What in the file could not be used is said with its line above the
goals; the rest shows. The view is drivers.report.goals; this page only lays it out.

Not kept in the page cache (keyed on the view alone): the content is cached per view and version of the file, so an
edit of the file while the app runs shows on the next view.
"""

from __future__ import annotations

import dash
from dash import html

from drivers import figures, goals, i18n
from drivers.report import data
from drivers.report import goals as gv
from drivers.report import queries as views
from drivers.report import state as st
from drivers.ui import components, serving

PATH = "/maal"
# status -> (background, border): light backgrounds with dark text (contrast), the word itself says the status
STATUS_COLOURS = {"met": ("#D9F2EA", "#009E73"), "on_track": ("#FCEFD6", "#E69F00"),
                  "not_met": ("#F9DED3", "#D55E00"), "missing": ("#E3E6EA", "#7B8794")}
NUM = {"whiteSpace": "nowrap", "textAlign": "right"}  # a figure with its unit on one line

dash.register_page(__name__, path=PATH, name="Mål og indikatorer", title="Mål og indikatorer – kommuneøkonomi")


@serving.page(PATH, cache=False, warm=False)
def layout(state: st.State):
    """The whole page for one view."""
    return components.page(state, PATH, _content(state, goals.version()), title=views.page_title(state, "nav_maal"))


@serving.cached("maal-content", 64)
def _content(state: st.State, _file_version: tuple) -> list:
    """The page's content per view and version of the indikatorsett file (~200 ms to build, a lookup after)."""
    return content(state)


def content(state: st.State) -> list:
    lang = state.lang
    v = gv.view(state)
    out = [html.P(i18n.t("goal.example", lang) if v.example else i18n.t("goal.own", lang, file=v.file),
                  className="missing-notice goal-source", id="goal-source", role="note")]
    if v.problems:
        out.append(html.Div([html.Strong(i18n.t("goal.problems", lang)),
                             html.Ul([html.Li(p) for p in v.problems])],
                            className="missing-notice goal-problems", id="goal-problems", role="alert"))
    if v.title:
        out.append(html.H2(v.title, className="goal-set-title"))
    if v.about:
        out.append(html.P(v.about, className="stat-note"))
    if not v.goals:
        out.append(html.P(i18n.t("goal.none", lang), className="reason"))
        return out
    out.append(html.P(i18n.t("goal.intro", lang, year=state.aar), className="stat-note"))
    out += [components.guarded(goal_card, state, v, i, g, lang=lang) for i, g in enumerate(v.goals)]
    return out


def goal_card(state: st.State, v: gv.GoalsView, index: int, goal: gv.GoalView) -> html.Section:
    lang = state.lang
    meta = [i18n.t("goal.owner", lang, owner=goal.owner) if goal.owner else None,
            i18n.t("goal.target_year", lang, year=goal.target_year) if goal.target_year else None]
    header = ["goal.col.indicator", "goal.col.target", "goal.col.year", "goal.col.value", "goal.col.prev"]
    head = html.Thead(html.Tr([*(html.Th(i18n.t(k, lang)) for k in header), html.Th(v.peers_label),
                               html.Th(i18n.t("goal.col.status", lang)), html.Th(i18n.t("goal.col.rule", lang))]))
    body = html.Tbody([_row(r, lang) for r in goal.rows])
    # values over time for the indicators with a figure (the table says which have none, and the fetch command)
    charts = [_chart(state, v, index, r) for r in goal.rows if gv.chart_frame(r)["value"].notna().any()]
    return html.Section([
        html.H2(goal.text, className="goal-text"),
        html.P(" · ".join(m for m in meta if m), className="stat-note"),
        html.P(html.Strong(goal.summary), className="goal-summary"),
        html.Div(html.Table([head, body], className="table goal-table"), style={"overflowX": "auto"}),
        *([html.Details([html.Summary(i18n.t("goal.series", lang)), html.Div(charts, className="grid-2")], open=True)]
          if charts else []),
    ], className="card goal", id=f"goal-{index}", **{"data-goal": goal.id or str(index)})


def _row(r: gv.Row, lang: str) -> html.Tr:
    bg, border = STATUS_COLOURS[r.status]
    rule = [r.rule]
    if r.fetch:  # the engine's reason often names the command already (in backquotes); else it is said here
        parts = r.rule.split(f"`{r.fetch}`")
        if len(parts) > 1:
            rule = [x for i, part in enumerate(parts) for x in ([html.Code(r.fetch)] if i else []) + [part]]
        else:
            rule += [html.Br(), html.Span(i18n.t("missing_fetch", lang) + " "), html.Code(r.fetch)]
    return html.Tr([
        html.Td(r.name), html.Td(r.target_text), html.Td(str(r.year) if r.year else "–"),
        *(html.Td(x, className="num", style=NUM) for x in (r.value_text, r.prev_text, r.peer_text)),
        html.Td(html.Span(r.status_text, className=f"goal-status goal-status-{r.status}",
                          style={"background": bg, "borderLeft": f"4px solid {border}", "padding": "2px 8px",
                                 "whiteSpace": "nowrap", "color": "#1F2933"})),
        html.Td(rule, className="goal-rule"),
    ], **{"data-indicator": r.indicator, "data-status": r.status})


def _chart(state: st.State, v: gv.GoalsView, index: int, r: gv.Row):
    lang = state.lang
    frame = gv.chart_frame(r)
    have = frame.dropna(subset=["value"])
    extra = i18n.t("goal.caption_note", lang, target=r.target_text)
    if r.source:
        extra += " · " + i18n.t("goal.norm_source", lang, source=r.source)
    years = f"{int(have['year'].min())}–{int(have['year'].max())}"
    caption = figures.source_line(views.tables(), r.tables, years, v.peers_label, views.konv_label(state), extra, lang)
    norm_label = i18n.t("goal.norm_label", lang, target=r.target_text) if r.norm is not None else None
    chart = figures.timeseries(frame, data.meta().name(state.kommune), v.peers_label, r.name, r.unit, caption,
                               norm=r.norm, norm_label=norm_label, decimals=r.decimals,
                               chart_id=f"goal-{index}-{r.indicator}", lang=lang)
    return components.chart_card(chart, lang)
