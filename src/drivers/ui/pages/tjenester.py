"""Tjenester (/tjenester?tjeneste=FGK9): one service area against the peers — spending per resident and per
target-group resident over time, coverage and unit cost, the decomposition of the gap, the municipality's
rank among its peers, and coverage against unit cost with iso-cost curves."""

from __future__ import annotations

import dash
from dash import dcc, html

from drivers import figures, fmt, i18n
from drivers.report import data
from drivers.report import queries as views
from drivers.report import state as st
from drivers.ui import components, serving

dash.register_page(__name__, path="/tjenester", name="Tjenester", title="Tjenester – kommuneøkonomi")

DEFAULT_SERVICE = "FGK9"


def check(state: st.State) -> st.State:
    """The view with its service (FGK9 when the URL names none); an unknown service is the error page."""
    service = state.extra.get("tjeneste", DEFAULT_SERVICE)
    if service not in views.SERVICES:
        raise st.StateError(
            i18n.t("tj.unknown_service", state.lang, service=service[:20]),
            [(views.service_name(s, state.lang), st.url("/tjenester", state, tjeneste=s)) for s in views.SERVICES],
            state.lang,
        )
    return state.with_(tjeneste=service)


@serving.page("/tjenester", extra=("tjeneste",), check=check)
def layout(state: st.State):
    """The whole page for one view."""
    service = state.extra["tjeneste"]
    return components.page(state, "/tjenester", content(state, service),
                           title=f"{data.meta().name(state.kommune)}: {views.service_name(service, state.lang).lower()} {state.aar}")


def service_tabs(state: st.State, active: str) -> html.Nav:
    return html.Nav([dcc.Link(views.service_name(s, state.lang), href=st.url("/tjenester", state, tjeneste=s),
                              className="service-tab active" if s == active else "service-tab")
                     for s in views.SERVICES], className="service-tabs")


def content(state: st.State, service: str) -> list:
    g, lang = components.guarded, state.lang
    warn = [components.no_peers_notice(state, views.peers_label(state))] if views.no_peers(state) else []
    return [
        service_tabs(state, service),
        *warn,
        html.Div([g(rank_card, state, service, lang=lang), serving.deferred("tjenester-tid", state)], className="grid-2"),
        g(coverage_tiles, state, service, lang=lang),
        html.Div([serving.deferred("tjenester-dekomponering", state), g(scatter_card, state, service, lang=lang)],
                 className="grid-2"),
    ]


def rank_card(state: st.State, service: str):
    lang = state.lang
    frame = views.service_values(state, service)
    name = views.service_name(service, lang)
    unit = i18n.t("tj.unit_per_resident", lang)
    if frame is None or frame["value"].notna().sum() == 0:
        return html.Div([html.H3(name), components.missing_notice(
            i18n.t("tj.rank_missing", lang, service=name.lower(), year=state.aar), "drivers fetch --tables 12362", lang)],
            className="card")
    gap = views.gaps(state)
    row = gap[gap["service"] == service]
    peer_value = float(row["peer_per_resident"].iloc[0]) if len(row) else None
    caption = figures.source_line(views.tables(), ["12362", "07459"], state.aar, views.peers_label(state),
                                  views.konv_label(state), None, lang)
    title = i18n.t("tj.rank_title", lang, service=name, peers=views.peers_label(state))
    chart = figures.peer_rank(frame, state.kommune, title, unit, caption, peer_value,
                              i18n.t("tj.peer_avg", lang), 0, f"rank-{service}", lang)
    rank, n = getattr(chart, "rank", (None, 0))
    line = []
    if rank:
        line = [html.P([html.Strong(i18n.t("tj.rank_of", lang, rank=rank, n=n)), " " + i18n.t("tj.rank_note", lang)],
                       className="rank-line")]
    card = components.chart_card(chart, lang)
    card.children = [card.children[0], *line, *card.children[1:]]
    return card


def per_resident_card(state: st.State, service: str):
    """Spending per resident and per target-group resident over the years, against the peers."""
    lang = state.lang
    name = views.service_name(service, lang)
    cards = []
    target = views.target_label(service, lang)
    for kind, unit_title in [("per_innb", i18n.t("tj.unit_per_resident", lang)),
                             ("per_maalgruppe", i18n.t("tj.unit_per_target", lang, target=target) if target else None)]:
        if unit_title is None:
            continue
        frame = views.service_timeseries(state, service, kind)
        title = f"{name}: {unit_title}"
        if frame is None:
            continue
        have = frame.dropna(subset=["value"])
        if len(have) < 2:
            years = ", ".join(str(int(y)) for y in have["year"]) or "–"
            cards.append(html.Div([html.H3(title, className="chart-title"), components.missing_notice(
                i18n.t("tj.series_missing", lang), "drivers fetch --tables 12362 --years 2015-2025", lang,
                i18n.t("tj.series_only", lang, years=years))],
                className="card chart-card"))
            continue
        caption = figures.source_line(views.tables(), ["12362", "07459"], f"{int(have['year'].min())}–{int(have['year'].max())}",
                                      views.peers_label(state), views.konv_label(state),
                                      i18n.t("tj.residents_note", lang), lang)
        chart = figures.timeseries(frame, data.meta().name(state.kommune), views.peers_label(state), title, "kr", caption,
                                   chart_id=f"ts-{service}-{kind}", lang=lang)
        cards.append(components.chart_card(chart, lang))
    cards += coverage_series_cards(state, service)
    return html.Div(cards, className="stack")


def coverage_tiles(state: st.State, service: str):
    """Coverage and unit cost against the peers, where the registry has them and the data holds them; SSB's own
    shares that a coverage adds up; our derivations are said to be ours, never shown as SSB's figures."""
    lang = state.lang
    pair = views.coverage_indicators(service)
    title = i18n.t("tj.coverage_title", lang)
    if not pair:
        return html.Div([html.H3(title, className="chart-title"), components.missing_notice(
            i18n.t("tj.coverage_missing", lang), views.fetch_command(service), lang,
            i18n.t("tj.coverage_no_registry", lang))], className="card")
    tiles = []
    specs = [(pair[0], i18n.t("tj.coverage", lang), "%", 1),
             *[(p, i18n.t("tj.of_which", lang), "%", 1) for p in views.coverage_parts(service)],
             (pair[1], i18n.t("tj.unit_cost", lang), "kr", 0)]
    for ind, label, unit, dec in specs:
        what = views.indicator_name(ind, lang)
        value, peer, status, with_value = views.indicator_own(state, ind)
        if fmt.is_missing(value):
            tiles.append(html.Div([html.Div(label, className="stat-label"), components.status_note(status, lang),
                                   components.missing_notice(f"{what} ({state.aar})", views.fetch_command(service), lang,
                                                             _coverage_reason(state, ind, with_value))],
                                  className="stat stat-missing"))
            continue
        derived = " " + (i18n.t("tj.derived", lang) if views.is_derived(ind) else f"SSB, {state.aar}.")
        peer_text = fmt.number(peer, dec, lang=lang) + f" {unit}" if not fmt.is_missing(peer) else fmt.MISSING
        tiles.append(components.stat(label, f"{fmt.number(value, dec, lang=lang)} {unit}",
                                     f"{what}. {views.peers_label(state)}: {peer_text}.{derived}"))
    return html.Div([html.H3(title, className="chart-title"), html.Div(tiles, className="stats")], className="card")


def _coverage_reason(state: st.State, ind: str, with_value: int) -> str | None:
    """Why the municipality has no figure: the engine's reason, or that the data holds the figure for other years.
    `with_value`: how many of the view's municipalities have the figure (views.indicator_own)."""
    if with_value:
        return i18n.t("tj.reason_peers_have", state.lang, name=data.meta().name(state.kommune), year=state.aar)
    series = views.indicator_years(ind)
    if series:
        span = f"{series[0]}–{series[-1]}" if len(series) > 1 else str(series[0])
        return i18n.t("tj.reason_years", state.lang, span=span)
    return None


def coverage_series_cards(state: st.State, service: str) -> list:
    """Coverage over the years (e.g. children 1–2 in kindergarten 2015–2023) against the peers."""
    lang = state.lang
    cards = []
    for ind, frame in views.coverage_series(state, service):
        have = frame.dropna(subset=["value"])
        tables = sorted({views.indicator_table(ind)})
        caption = figures.source_line(views.tables(), tables, f"{int(have['year'].min())}–{int(have['year'].max())}",
                                      views.peers_label(state), views.konv_label(state),
                                      i18n.t("tj.kindergarten_note", lang) if ind.startswith("barnehage") else None, lang)
        title = views.indicator_name(ind, lang)
        chart = figures.timeseries(frame, data.meta().name(state.kommune), views.peers_label(state), title, "%", caption,
                                   decimals=1, chart_id=f"ts-{ind}", lang=lang)
        cards.append(components.chart_card(chart, lang))
    return cards


def decomposition_card(state: st.State, service: str):
    lang = state.lang
    frame, reason = views.decomposition(state, service)
    name = views.service_name(service, lang)
    title = i18n.t("tj.decomp_title", lang, service=name)
    if frame is None or frame["nok"].notna().sum() == 0:
        return html.Div([html.H3(title, className="chart-title"), components.missing_notice(
            i18n.t("tj.decomp_missing", lang), views.fetch_command(service), lang, i18n.reason_text(reason, lang))],
            className="card")
    labels = _component_names(frame, lang)
    frame = frame.assign(reason=frame["reason"].map(lambda r: i18n.reason_text(r, lang)))  # shown as the chart's notes
    caption = figures.source_line(views.tables(), views.service_tables(service), state.aar, views.peers_label(state),
                                  views.konv_label(state), i18n.t("tj.decomp_note", lang), lang)
    return components.chart_card(figures.decomposition(frame, title, caption, lang, labels, chart_id=f"decomp-{service}"), lang)


def _component_names(frame, lang: str) -> dict:
    """component -> its name in `lang`: the engine's name worded by drivers.i18n where it is a Reason, else the
    engine's own column for the language (name_en) where it has one, else its bokmål name."""
    column = f"name_{lang}" if f"name_{lang}" in frame else "name_nb"
    return {c: i18n.reason_text(nb, lang) if hasattr(nb, "key") else own
            for c, nb, own in zip(frame["component"], frame["name_nb"], frame[column], strict=True)}


def scatter_card(state: st.State, service: str):
    lang = state.lang
    frame = views.coverage_unit_cost(state, service)
    name = views.service_name(service, lang)
    title = i18n.t("tj.scatter_title", lang, service=name)
    # fewer than three municipalities with both figures is not a comparison (e.g. 1–5 coverage: Lørenskog's
    # workbook covers five municipalities)
    if frame is None or len(frame.dropna(subset=["coverage", "unit_cost"])) < 3:
        return html.Div([html.H3(title, className="chart-title"), components.missing_notice(
            i18n.t("tj.scatter_missing", lang), views.fetch_command(service), lang, i18n.t("tj.scatter_no_data", lang))],
            className="card")
    caption = figures.source_line(views.tables(), views.service_tables(service), state.aar, views.peers_label(state),
                                  None, i18n.t("tj.scatter_note", lang), lang)
    return components.chart_card(figures.coverage_unit_cost(
        frame, state.kommune, title, i18n.t("tj.scatter_x", lang), i18n.t("tj.scatter_y", lang), caption,
        f"scatter-{service}", lang), lang)


# Time series (one engine pass per year) and the decomposition fill in right after the page is shown.
serving.register_deferred("tjenester-tid", lambda state: per_resident_card(state, state.extra["tjeneste"]), ("tjeneste",))
serving.register_deferred("tjenester-dekomponering", lambda state: decomposition_card(state, state.extra["tjeneste"]),
                             ("tjeneste",))
