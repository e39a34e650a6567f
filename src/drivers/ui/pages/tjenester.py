"""Tjenester (/tjenester?tjeneste=FGK9): one service area against the peers — spending per resident and per
target-group resident over time, coverage and unit cost, the decomposition of the gap, the municipality's
rank among its peers, and coverage against unit cost with iso-cost curves."""

from __future__ import annotations

import dash
from dash import dcc, html

from drivers import figures
from drivers.errors import UserError
from drivers.ui import components, data, views
from drivers.ui import state as st

dash.register_page(__name__, path="/tjenester", name="Tjenester", title="Tjenester – kommuneøkonomi")

DEFAULT_SERVICE = "FGK9"


def layout(**query):
    try:
        state = st.parse(query, allowed_extra=("tjeneste",))
        service = state.extra.get("tjeneste", DEFAULT_SERVICE)
        if service not in views.SERVICES:
            raise st.StateError(
                ("Unknown service «{}». Choose one of the links." if state.lang == "en"
                 else "Ukjent tjeneste «{}». Velg en av lenkene.").format(service[:20]),
                [(views.service_name(s, state.lang), st.url("/tjenester", state, tjeneste=s)) for s in views.SERVICES],
                state.lang,
            )
        state = state.with_(tjeneste=service)
        return components.page(state, "/tjenester", content(state, service),
                               title=f"{data.meta().name(state.kommune)}: {views.service_name(service, state.lang).lower()} {state.aar}")
    except UserError as err:
        return components.error_view(err, query.get("lang") if query.get("lang") in ("nb", "en") else "nb")


def service_tabs(state: st.State, active: str) -> html.Nav:
    return html.Nav([dcc.Link(views.service_name(s, state.lang), href=st.url("/tjenester", state, tjeneste=s),
                              className="service-tab active" if s == active else "service-tab")
                     for s in views.SERVICES], className="service-tabs")


def content(state: st.State, service: str) -> list:
    return [
        service_tabs(state, service),
        html.Div([rank_card(state, service), per_resident_card(state, service)], className="grid-2"),
        html.Div([decomposition_card(state, service), scatter_card(state, service)], className="grid-2"),
    ]


def rank_card(state: st.State, service: str):
    lang = state.lang
    frame = views.service_values(state, service)
    name = views.service_name(service, lang)
    unit = "kr per innbygger" if lang != "en" else "NOK per resident"
    if frame is None or frame["value"].notna().sum() == 0:
        return html.Div([html.H3(name), components.missing_notice(
            f"netto driftsutgifter til {name.lower()} {state.aar}", "drivers fetch --tables 12362", lang)], className="card")
    gap = views.gaps(state)
    row = gap[gap["service"] == service]
    peer_value = float(row["peer_per_resident"].iloc[0]) if len(row) else None
    caption = figures.source_line(views.tables(), ["12362", "07459"], state.aar, views.peers_label(state),
                                  views.konv_label(state), None, lang)
    title = (f"{name}: net operating expenditure per resident, {views.peers_label(state)}" if lang == "en"
             else f"{name}: netto driftsutgifter per innbygger, {views.peers_label(state)}")
    chart = figures.peer_rank(frame, state.kommune, title, unit, caption, peer_value,
                              ("Peers' average" if lang == "en" else "Gruppens snitt"), 0, f"rank-{service}", lang)
    rank, n = getattr(chart, "rank", (None, 0))
    line = []
    if rank:
        line = [html.P([html.Strong(f"{rank}. av {n}" if lang != "en" else f"{rank} of {n}"),
                        " (1 = høyest utgift per innbygger)" if lang != "en" else " (1 = highest spending per resident)"],
                       className="rank-line")]
    card = components.chart_card(chart, lang)
    card.children = [card.children[0], *line, *card.children[1:]]
    return card


def per_resident_card(state: st.State, service: str):
    lang = state.lang
    frame = views.service_timeseries(state, service)
    name = views.service_name(service, lang)
    if frame is None or frame["value"].notna().sum() < 2:
        years = ", ".join(str(int(y)) for y in frame.dropna(subset=["value"])["year"]) if frame is not None else ""
        return html.Div([html.H3(f"{name}: utvikling over tid" if lang != "en" else f"{name}: over time"),
                         components.missing_notice(
                             ("tidsserie (flere år) for netto driftsutgifter og per innbygger i målgruppen" if lang != "en"
                              else "a time series (several years) of net expenditure and per target-group resident"),
                             "drivers fetch --tables 12362 --years 2015-2025", lang,
                             (f"Dataene har bare {years}." if lang != "en" else f"The data has only {years}.") if years else None)],
                        className="card")
    caption = figures.source_line(views.tables(), ["12362", "07459"], None, views.peers_label(state), views.konv_label(state),
                                  None, lang)
    chart = figures.timeseries(frame, data.meta().name(state.kommune), views.peers_label(state),
                               f"{name}: kr per innbygger", "kr", caption, chart_id=f"ts-{service}", lang=lang)
    return components.chart_card(chart, lang)


def decomposition_card(state: st.State, service: str):
    lang = state.lang
    frame, reason = views.decomposition(state, service)
    name = views.service_name(service, lang)
    title = (f"{name}: why the gap — need, coverage, unit cost" if lang == "en"
             else f"{name}: hvorfor avviket – behov, dekningsgrad, enhetskostnad")
    if frame is None or frame["nok"].notna().sum() == 0:
        return html.Div([html.H3(title, className="chart-title"), components.missing_notice(
            ("dekningsgrad og enhetskostnad (tjenestestatistikk)" if lang != "en" else "coverage and unit cost (service statistics)"),
            views.fetch_command(service), lang, reason)], className="card")
    caption = figures.source_line(views.tables(), views.service_tables(service), state.aar, views.peers_label(state),
                                  views.konv_label(state), None, lang)
    return components.chart_card(figures.decomposition(frame, title, caption, lang, views.COMPONENT_LABELS[lang == "en"],
                                                       chart_id=f"decomp-{service}"), lang)


def scatter_card(state: st.State, service: str):
    lang = state.lang
    frame = views.coverage_unit_cost(state, service)
    name = views.service_name(service, lang)
    title = (f"{name}: coverage against unit cost" if lang == "en" else f"{name}: dekningsgrad mot enhetskostnad")
    if frame is None or len(frame.dropna(subset=["coverage", "unit_cost"])) == 0:
        return html.Div([html.H3(title, className="chart-title"), components.missing_notice(
            ("dekningsgrad og enhetskostnad for kommunene i gruppen" if lang != "en" else "coverage and unit cost for the peers"),
            views.fetch_command(service), lang,
            ("Øyeblikksbildet har ikke tjenestestatistikken (brukere, plasser, elever) for de fleste kommuner."
             if lang != "en" else "The snapshot lacks the service statistics (users, places, pupils) for most municipalities."))],
            className="card")
    caption = figures.source_line(views.tables(), views.service_tables(service), state.aar, views.peers_label(state),
                                  None, ("Grå kurver: lik utgift per innbygger i målgruppen" if lang != "en"
                                         else "Grey curves: equal spending per target-group resident"), lang)
    return components.chart_card(figures.coverage_unit_cost(frame, state.kommune, title, "Dekningsgrad (%)",
                                                            "Enhetskostnad (kr)", caption, f"scatter-{service}", lang), lang)

