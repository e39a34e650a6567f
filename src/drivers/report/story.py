"""The seminar storyline as a list of slides (section, Chart, speaker notes), built from the engine's numbers
(through `drivers.report.queries`, the same cached calls the dashboard pages make) and `drivers.figures`:

  1 income and need → 2 total gap → 3 gaps by service → 4–6 what drives the three largest → 7 what-if.

Nothing is computed here beyond formatting: values, peer averages, gaps, decompositions and the what-if
come from `drivers.engine.api`. Where a number is missing, the slide says what is missing and which
`drivers fetch` command gets it, instead of drawing anything in its place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from drivers import figures, fmt, i18n
from drivers.i18n import t
from drivers.report import data, queries
from drivers.report import state as st

SECTION_KEYS = ["rep.sec.income", "rep.sec.total", "rep.sec.services", "rep.sec.drivers", "rep.sec.what_if"]
SECTIONS_NB = [t(k, i18n.DEFAULT) for k in SECTION_KEYS]  # the sections in bokmål (tests name them)
LEVERS = {"coverage": "comp.lever.coverage", "unit_cost": "comp.lever.unit_cost"}  # lever -> its word's key


@dataclass
class StorySlide:
    """One slide: the storyline section, the chart, and the plain-language summary for the speaker notes."""

    section: str
    chart: figures.Chart
    notes: str


def heading(state: st.State) -> str:
    """The pack's and the deck's subtitle: municipality, year, comparison and convention."""
    return t("rep.heading", state.lang, name=data.meta().name(state.kommune), code=state.kommune, year=state.aar,
             peers=queries.peers_label(state), konv=queries.konv_label(state))


def deck_title(state: st.State) -> str:
    """The deck's title: 'Budsjettseminar: Lørenskog 2024'."""
    return t("rep.deck_title", state.lang, name=data.meta().name(state.kommune), year=state.aar)


def _section(state: st.State, i: int) -> str:
    return t(SECTION_KEYS[i], state.lang)


def _caption(state: st.State, table_ids: list[str], extra: str | None = None) -> str:
    need = t("rep.not_need_corrected", state.lang)
    return figures.source_line(queries.tables(), table_ids, state.aar, queries.peers_label(state), queries.konv_label(state),
                               f"{extra} · {need}" if extra else need, state.lang)


def _name(state: st.State) -> str:
    return data.meta().name(state.kommune)


def _labels(frame: pd.DataFrame, lang: str) -> dict[str, str]:
    """Component labels: the dashboard's, else the engine's own names (e.g. 'not split', 'averaging')."""
    own = dict(zip(frame["component"], frame["name"], strict=False)) if "name" in frame else {}
    short = queries.component_labels(lang)
    if queries.is_net_unit_cost(frame):
        short.pop("unit_cost")  # net spending per user, our derivation: keep the engine's name that says so
    return {**own, **short}


def _lever(state: st.State, lever: str) -> str:
    return t(LEVERS[lever], state.lang)


def missing_chart(chart_id: str, title: str, what: str, reason: str | None, command: str | None, caption: str,
                  lang: str = "nb") -> figures.Chart:
    """A slide for numbers the data lacks: says what is missing and how to fetch it; draws no values."""
    reason = i18n.reason_text(reason, lang)
    lines = [t("rep.mc.missing", lang, what=what)]
    if reason:
        lines.append(str(reason))
    if command:
        lines.append(t("rep.mc.fetch", lang, command=command))
    fig = go.Figure()
    fig.add_annotation(text="<br>".join(lines), x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font=dict(size=20), align="center")
    fig.update_layout(template=figures.TEMPLATE_NAME, xaxis=dict(visible=False), yaxis=dict(visible=False),
                      meta={"title": title})
    table = pd.DataFrame({t("rep.mc.col_missing", lang): [what], t("rep.mc.col_why", lang): [reason or ""],
                          t("rep.mc.col_command", lang): [command or ""]})
    return figures.Chart(chart_id, title, fig, table, caption)


# ---- the slides ----------------------------------------------------------------------------------------


def income_and_need(state: st.State) -> StorySlide:
    lang, name = state.lang, _name(state)
    p = queries.profile(state)
    caption = _caption(state, ["12134", "07459"])
    title = t("rep.income.title", lang, name=name, peers=queries.peers_label(state), year=state.aar)
    frame = queries.indicator_values(state, "frie_inntekter_per_innb")
    free = p.get("frie_inntekter_per_innb")
    if frame["value"].notna().sum() == 0 or fmt.is_missing(free):
        chart = missing_chart("story-1-inntekt", title, t("rep.income.what", lang), None, "drivers fetch --tables 12134",
                              caption, lang)
    else:
        peer = frame["peer_value"].dropna()
        chart = figures.peer_rank(frame, state.kommune, title, t("rep.unit_kr_per_resident", lang), caption,
                                  float(peer.iloc[0]) if len(peer) else None, t("rep.peers_average", lang), 0,
                                  "story-1-inntekt", lang)
    need = p.get("need_index")
    parts = [t("rep.income.population", lang, name=name, n=fmt.number(p.get("population"), lang=lang), year=state.aar + 1),
             t("rep.income.free", lang, kr=fmt.kr(free, lang=lang)) if not fmt.is_missing(free) else t("rep.income.free_missing", lang),
             t("rep.income.need", lang, index=fmt.number(need, 3, lang=lang), note=p.get("need_note"))
             if not fmt.is_missing(need) else t("rep.income.need_missing", lang)]
    return StorySlide(_section(state, 0), chart, " ".join(parts))


def total_gap(state: st.State) -> StorySlide:
    lang, name = state.lang, _name(state)
    g = queries.gaps(state)
    total = g[g["service"] == "TOTAL"]
    caption = _caption(state, ["12362", "07459"])
    title = t("rep.total.title", lang, name=name, peers=queries.peers_label(state), year=state.aar)
    frame = queries.indicator_values(state, "ndu_total_per_innb")
    row = total.iloc[0] if len(total) else None
    if row is None or frame["value"].notna().sum() == 0:
        reason = row["reason"] if row is not None and "reason" in row else None
        chart = missing_chart("story-2-samlet", title, t("rep.total.what", lang), reason, "drivers fetch --tables 12362",
                              caption, lang)
        return StorySlide(_section(state, 1), chart, chart.data.iloc[0, 1] or "")
    peer = row["peer_per_resident"]
    chart = figures.peer_rank(frame, state.kommune, title, t("rep.unit_kr_per_resident", lang), caption,
                              None if fmt.is_missing(peer) else float(peer), t("rep.peers_average", lang),
                              0, "story-2-samlet", lang)
    gap, gap_nc = row.get("gap_nok"), row.get("gap_need_corrected_nok")
    notes = t("rep.total.notes", lang, name=name, own=fmt.kr(row["per_resident"], lang=lang), peers=queries.peers_label(state),
              peer=fmt.kr(peer, lang=lang), konv=queries.konv_label(state), gap=fmt.mill_kr(gap, sign=True, lang=lang))
    if not fmt.is_missing(gap_nc):
        notes += " " + t("rep.total.need", lang, gap=fmt.mill_kr(gap_nc, sign=True, lang=lang))
    return StorySlide(_section(state, 1), chart, notes)


def gaps_by_service(state: st.State) -> StorySlide:
    lang, name = state.lang, _name(state)
    g = queries.gaps(state)
    services = g[g["service"] != "TOTAL"].copy()
    services["name"] = services["service"].map(lambda s: queries.service_name(s, lang))
    caption = _caption(state, ["12362", "07459"], t("rep.services.caption", lang))
    if services["gap_nok"].notna().any():
        chart = figures.gap_waterfall(services, name, queries.peers_label(state), caption, lang)
        chart.id = "story-3-tjenester"
    else:
        chart = missing_chart("story-3-tjenester", t("rep.services.title", lang, name=name),
                              t("rep.services.what", lang), None, "drivers fetch --tables 12362", caption, lang)
    return StorySlide(_section(state, 2), chart, queries.summary_text(state))


def largest_services(state: st.State, n: int = 3) -> list[str]:
    """The services with the largest gaps in kroner (either sign), largest first."""
    g = queries.gaps(state)
    s = g[~g["service"].isin(["TOTAL", "OTHER"]) & g["gap_nok"].notna()]
    return s.reindex(s["gap_nok"].abs().sort_values(ascending=False).index)["service"].head(n).tolist()


def service_driver(state: st.State, service: str, number: int) -> StorySlide:
    lang, name = state.lang, _name(state)
    sname = queries.service_name(service, lang)
    chart_id = f"story-{number}-{service.lower()}"
    frame, reason = queries.decomposition(state, service)
    g = queries.gaps(state)
    row = g[g["service"] == service].iloc[0]
    if frame is not None and frame["nok"].notna().sum() > 0:
        title = t("rep.driver.title", lang, service=sname)
        labels = _labels(frame, lang)
        chart = figures.decomposition(frame, title, _caption(state, queries.service_tables(service)), lang,
                                      labels, chart_id=chart_id)
        parts = [f"{labels.get(r['component'], r['component'])}: {fmt.mill_kr(r['nok'], sign=True, lang=lang)}"
                 for _, r in frame[frame["nok"].notna()].iterrows()]
        split = "; ".join(parts)
    else:
        values = queries.service_values(state, service)
        title = t("rep.driver.values_title", lang, service=sname, peers=queries.peers_label(state))
        caption = _caption(state, ["12362", "07459"])
        if values is None or values["value"].notna().sum() == 0:
            chart = missing_chart(chart_id, title, sname, reason, queries.fetch_command(service), caption, lang)
        else:
            peer = row.get("peer_per_resident")
            chart = figures.peer_rank(values, state.kommune, title, t("rep.unit_kr_per_resident", lang), caption,
                                      None if fmt.is_missing(peer) else float(peer), t("rep.peers_average", lang), 0,
                                      chart_id, lang)
        split = t("rep.driver.unsplit", lang, why=reason or queries.fetch_command(service))
    notes = t("rep.driver.notes", lang, service=sname, name=name, own=fmt.kr(row["per_resident"], lang=lang),
              peer=fmt.kr(row["peer_per_resident"], lang=lang), peers=queries.peers_label(state),
              gap=fmt.mill_kr(row["gap_nok"], sign=True, lang=lang), split=split)
    return StorySlide(_section(state, 3), chart, notes)


def what_if(state: st.State, service: str, lever: str = "coverage") -> dict:
    """The engine's what-if (api.what_if, against the peers' median) plus a plain-language sentence: 'If our
    coverage in X matched the peers' median, spending would change by N mill. kr'. Keys as api.what_if (the reason
    worded in the view's language), plus `sentence`."""
    api = data.api()
    result = dict(api.what_if(data.get_panel(), state.kommune, state.aar, service, lever, state.peers, state.konv))
    lang = state.lang
    result["reason"] = i18n.reason_text(result.get("reason"), lang)
    sname = queries.service_name(service, lang).lower()
    lever_name = _lever(state, lever)
    if result.get("available") and not fmt.is_missing(result.get("nok")):
        result["sentence"] = t("rep.whatif.sentence", lang, lever=lever_name, service=sname,
                               peers=queries.peers_label(state), change=fmt.mill_kr(result["nok"], sign=True, lang=lang))
    else:
        result["sentence"] = t("rep.whatif.cannot", lang, lever=lever_name, service=sname,
                               reason=result.get("reason") or "")
    return result


def what_if_slide(state: st.State, service: str, lever: str = "coverage", number: int = 7) -> StorySlide:
    lang, name = state.lang, _name(state)
    res = what_if(state, service, lever)
    sname = queries.service_name(service, lang)
    lever_name = _lever(state, lever)
    title = t("rep.whatif.title", lang, service=sname.lower(), lever=lever_name)
    caption = _caption(state, queries.service_tables(service))
    chart_id = f"story-{number}-hva-om"
    if not res.get("available"):
        chart = missing_chart(chart_id, title, f"{lever_name} ({sname.lower()})", res.get("reason"),
                              queries.fetch_command(service), caption, lang)
        return StorySlide(_section(state, 4), chart, res["sentence"])
    unit = "%" if lever == "coverage" else "kr"
    labels = [name, f"{queries.peers_label(state)} ({queries.konv_label(state)})"]
    values = [res["own"], res["peer"]]
    fig = go.Figure(go.Bar(x=labels, y=values, marker_color=[figures.HIGHLIGHT, figures.PEER],
                           text=[fmt.number(v, 1 if unit == "%" else 0, lang=lang) for v in values], textposition="outside",
                           cliponaxis=False))
    fig.add_annotation(text=t("rep.whatif.change", lang, change=fmt.mill_kr(res["nok"], sign=True, lang=lang)),
                       xref="paper", yref="paper", x=1, y=1.02,
                       xanchor="right", yanchor="bottom", showarrow=False, font=dict(size=18))
    fig.update_layout(template=figures.TEMPLATE_NAME, showlegend=False, yaxis_title=f"{lever_name} ({unit})",
                      meta={"title": title})
    table = pd.DataFrame({
        t("rep.whatif.col_who", lang): labels,
        f"{lever_name.capitalize()} ({unit})": values,
    })
    table[t("rep.whatif.col_change", lang)] = [round(res["nok"] / 1e6, 1), math.nan]
    chart = figures.Chart(chart_id, title, fig, table, caption)
    return StorySlide(_section(state, 4), chart, res["sentence"])


def build(state: st.State, what_if_service: str | None = None, lever: str = "coverage") -> list[StorySlide]:
    """The whole storyline for a view (municipality, year, peers, convention, language).

    The what-if slide uses a service and lever the data can answer (the asked lever first, then the other); when
    none can be answered for the year, the slide is left out and the last slide's notes say why, once."""
    slides = [income_and_need(state), total_gap(state), gaps_by_service(state)]
    top = largest_services(state)
    for k, service in enumerate(top):
        slides.append(service_driver(state, service, 4 + k))
    if what_if_service:
        slides.append(what_if_slide(state, what_if_service, lever, 4 + len(top)))
        return slides
    choice = _what_if_default(state, top, lever)
    if choice:
        slides.append(what_if_slide(state, choice[0], choice[1], 4 + len(top)))
    elif slides:
        slides[-1].notes += " " + t("rep.whatif.left_out", state.lang, year=state.aar)
    return slides


def _what_if_default(state: st.State, top: list[str], lever: str) -> tuple[str, str] | None:
    """(service, lever) for the largest-gap service where the engine can answer the what-if, the asked lever
    before the other; None when no service can be answered."""
    levers = [lever, *[x for x in LEVERS if x != lever]]
    for lv in levers:
        for service in [*top, *[s for s in queries.SERVICES if s not in top]]:
            try:
                if what_if(state, service, lv).get("available"):
                    return service, lv
            except Exception:  # noqa: BLE001 - a service the engine cannot model is simply not the default
                continue
    return None


def all_charts(state: st.State) -> list[figures.Chart]:
    """Every chart for the municipality: the storyline, then each service's rank and decomposition."""
    charts = [s.chart for s in build(state)]
    seen = {c.id for c in charts}
    lang = state.lang
    for service in queries.SERVICES:
        values = queries.service_values(state, service)
        sname = queries.service_name(service, lang)
        if values is not None and values["value"].notna().any():
            g = queries.gaps(state)
            row = g[g["service"] == service]
            peer = row["peer_per_resident"].iloc[0] if len(row) else None
            title = t("rep.driver.values_title", lang, service=sname, peers=queries.peers_label(state))
            chart = figures.peer_rank(values, state.kommune, title, t("rep.unit_kr_per_resident", lang),
                                      _caption(state, ["12362", "07459"]), None if fmt.is_missing(peer) else float(peer),
                                      t("rep.peers_average", lang), 0, f"rank-{service}", lang)
            if chart.id not in seen:
                charts.append(chart)
                seen.add(chart.id)
        frame, _reason = queries.decomposition(state, service)
        if frame is not None and frame["nok"].notna().sum() > 0 and f"decomp-{service}" not in seen:
            title = t("rep.driver.title", lang, service=sname)
            charts.append(figures.decomposition(frame, title, _caption(state, queries.service_tables(service)), lang,
                                                _labels(frame, lang), chart_id=f"decomp-{service}"))
            seen.add(f"decomp-{service}")
    return charts


def find_chart(state: st.State, chart_id: str) -> figures.Chart | None:
    """A chart by id among everything `all_charts` makes for this view."""
    for chart in all_charts(state):
        if chart.id == chart_id:
            return chart
    return None
