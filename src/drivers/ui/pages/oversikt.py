"""Oversikt (/): the municipality's profile, the headline gap against its peers (total and per service),
the plain-language summary, and financial health over time against the recommended level."""

from __future__ import annotations

import dash
from dash import Input, Output, html

from drivers import figures, fmt, i18n
from drivers.report import data
from drivers.report import queries as views
from drivers.report import state as st
from drivers.ui import components, downloads, ids, serving

dash.register_page(__name__, path="/", name="Oversikt", title="Oversikt – kommuneøkonomi")


@serving.page("/")
def layout(state: st.State):
    """The whole page for one view."""
    return components.page(state, "/", content(state), title=views.page_title(state, "nav_oversikt"))


def content(state: st.State) -> list:
    warn = [components.no_peers_notice(state, views.peers_label(state))] if views.no_peers(state) else []
    return [*warn,
        html.Section(components.guarded(profile, state, lang=state.lang), id=ids.PROFILE, className="card profile"),
        # the whole pack, the seminar deck and the plan chapter one click from the first page, for this exact view
        downloads.export_links(state, views.peers_label(state), views.konv_label(state), data.meta().name(state.kommune)),
        html.Section(serving.deferred("oversikt-summary", state), id=ids.SUMMARY, className="card summary"),
        html.Section(components.guarded(gap_section, state, lang=state.lang), className="gap-section"),
        html.Section(serving.deferred("oversikt-health", state), className="health-section"),
    ]


def profile(state: st.State) -> list:
    lang = state.lang
    p = views.profile(state)
    m = views.municipality(state.kommune)
    pop = p.get("population")
    free = p.get("frie_inntekter_per_innb")
    need = p.get("need_index")
    need_note = i18n.t("profile_need_note", lang) + ("" if not fmt.is_missing(need) else ". " + i18n.t("ov.need_missing", lang))
    tiles = [
        components.stat(i18n.t("profile_population", lang), fmt.number(pop, lang=lang),
                        i18n.t("profile_population_note", lang, year=state.aar + 1) + " (SSB 07459)"),
        components.stat(i18n.t("profile_group", lang), views.group_number(m.get("group_code")),
                        i18n.t("ov.group_note", lang, group=views.group_label(m.get("group_code"), lang))),
        components.stat(i18n.t("profile_county", lang), m.get("county_name") or m.get("county"), f"{m.get('county')}"),
        components.stat(i18n.t("profile_need", lang), fmt.number(need, 3, lang=lang) if not fmt.is_missing(need) else fmt.MISSING, need_note),
    ]
    if fmt.is_missing(free):
        tiles.append(html.Div([html.Div(i18n.t("profile_free_income", lang), className="stat-label"),
                               components.missing_notice(i18n.t("ov.free_income_missing", lang), "drivers fetch --tables 12134",
                                                         lang)], className="stat stat-missing"))
    else:
        tiles.append(components.stat(i18n.t("profile_free_income", lang), fmt.kr(free, lang=lang), f"SSB 12134, {state.aar}"))
    return [html.H2(f"{i18n.t('profile_title', lang)}: {data.meta().name(state.kommune)}"), html.Div(tiles, className="stats")]


def summary(state: st.State) -> list:
    text = i18n.reason_text(views.summary_text(state), state.lang)
    return [html.H2(i18n.t("summary_title", state.lang)), html.P(text, className="summary-text")]


def gap_section(state: st.State) -> list:
    lang = state.lang
    g = views.gaps(state)
    total = g[g["service"] == "TOTAL"]
    services = g[g["service"] != "TOTAL"].copy()
    services["name"] = services["service"].map(lambda s: views.service_name(s, lang))
    services["reason"] = services["reason"].map(lambda r: i18n.reason_text(r, lang))  # shown as the chart's notes
    out = [html.H2(i18n.t("gap_title", lang) + f" ({views.peers_label(state)}, {state.aar})")]
    if views.no_peers(state):  # the notice at the top of the page says why and offers other sets
        return out + [html.P(i18n.t("ov.no_peers", lang), className="reason")]
    if len(total) and not fmt.is_missing(total["gap_nok"].iloc[0]):
        r = total.iloc[0]
        out.append(html.Div([
            components.stat(i18n.t("ov.total_label", lang), fmt.kr(r["per_resident"], lang=lang),
                            f"{views.peers_label(state)}: {fmt.kr(r['peer_per_resident'], lang=lang)}"),
            components.stat(i18n.t("ov.diff_label", lang), fmt.mill_kr(r["gap_nok"], sign=True, lang=lang), i18n.t("ov.diff_note", lang),
                            "stat-headline"),
        ], className="stats headline"))
    else:
        reason = total["reason"].iloc[0] if len(total) else None
        out.append(components.missing_notice(i18n.t("ov.total_missing", lang, year=state.aar), "drivers fetch --tables 12362", lang,
                                             i18n.reason_text(reason, lang)))
    if services["gap_nok"].notna().any():
        caption = figures.source_line(views.tables(), ["12362", "07459"], state.aar, views.peers_label(state),
                                      views.konv_label(state), i18n.t("ov.waterfall_note", lang), lang)
        chart = figures.gap_waterfall(services, data.meta().name(state.kommune), views.peers_label(state), caption, lang)
        out.append(components.chart_card(chart, lang, wide=True))
    else:
        out.append(components.missing_notice(i18n.t("ov.per_service_missing", lang), "drivers fetch --tables 12362", lang))
    return out


def health_section(state: st.State) -> list:
    """The 12134 key figures of views.HEALTH over the years; their words are keys by measure: the title
    (ov.health.<measure>) and, where HEALTH gives a recommended level, its label and source
    (ov.health_norm.<measure>, ov.health_source.<measure>); without one the caption says there is no norm."""
    lang = state.lang
    out = [html.H2(i18n.t("health_title", lang))]
    cards = []
    for spec in views.HEALTH:
        measure = spec["measure"]
        frame = views.health_series(state, measure)
        title = i18n.t(f"ov.health.{measure}", lang)
        if frame is None or frame["value"].notna().sum() == 0:
            cards.append(html.Div([html.H3(title, className="chart-title"),
                                   components.missing_notice(
                                       f"{title} ({data.meta().name(state.kommune)})",
                                       "drivers fetch --tables 12134", lang,
                                       i18n.reason_text(views.health_missing_reason(state, frame), lang))],
                                  className="card chart-card"))
            continue
        norm = spec.get("norm")
        years = frame.dropna(subset=["value", "peer_value"], how="all")["year"]
        caption = figures.source_line(views.tables(), ["12134"], f"{int(years.min())}–{int(years.max())}",
                                      views.peers_label(state), views.konv_label(state),
                                      i18n.t(f"ov.health_source.{measure}" if norm is not None else "ov.health_no_norm", lang),
                                      lang)
        chart = figures.timeseries(frame, data.meta().name(state.kommune), views.peers_label(state), title, "%", caption,
                                   norm=norm, norm_label=i18n.t(f"ov.health_norm.{measure}", lang) if norm is not None else None,
                                   decimals=1, chart_id=f"health-{measure}", lang=lang)
        cards.append(components.chart_card(chart, lang))
    out.append(html.Div(cards, className="grid-3"))
    return out


# A click on the pack, deck or chapter link says the file is being made (in the browser: no request, no history
# entry).
dash.clientside_callback(
    "function(pack, deck, chapter) {"
    " const trig = (dash_clientside.callback_context.triggered[0] || {}).prop_id || '';"
    f" const el = document.getElementById('{downloads.EXPORT_STATUS}');"
    " if (!el) { return dash_clientside.no_update; }"
    f" if (trig.startsWith('{downloads.PACK_LINK}')) {{ return el.dataset.pack; }}"
    f" return trig.startsWith('{downloads.CHAPTER_LINK}') ? el.dataset.chapter : el.dataset.deck; }}",
    Output(downloads.EXPORT_STATUS, "children"),
    Input(downloads.PACK_LINK, "n_clicks"),
    Input(downloads.DECK_LINK, "n_clicks"),
    Input(downloads.CHAPTER_LINK, "n_clicks"),
    prevent_initial_call=True,
)

# The engine's summary (it decomposes every service) and the 12134 series are the slow parts of a first
# visit: they fill in right after the page is shown.
serving.register_deferred("oversikt-summary", summary)
serving.register_deferred("oversikt-health", health_section)
