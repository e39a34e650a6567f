"""Kart (/kart): any indicator for all 357 municipalities as a choropleth with county outlines.
Clicking a municipality selects it (the URL's `kommune`). `indikator=` in the URL chooses the indicator."""

from __future__ import annotations

import dash
import numpy as np
from dash import ClientsideFunction, Input, Output, State, dcc, html

from drivers import figures, fmt, i18n
from drivers.errors import UserError
from drivers.report import data
from drivers.report import queries as views
from drivers.report import state as st
from drivers.ui import components, serving, shell
from drivers.ui.pages import _mapview as mv

PATH = "/kart"
DEFAULT_INDICATOR = "ndu_total_per_innb"
GRAPH = "graph-kart"  # components.chart_card gives the map's dcc.Graph this id (ids.chart("kart"))
INDICATOR = "kart-indikator"

dash.register_page(__name__, path=PATH, name="Kart", title="Kart – kommuneøkonomi", order=3)


def register_geo_route(app) -> None:
    """Serve the stored boundaries as static GeoJSON, so the figure carries a URL rather than 1 MB of geometry.
    Called by create_app with the app it made (at page import, dash.get_app() may still be an earlier app)."""
    server = app.server
    if "drivers_geo" in server.view_functions:
        return
    from flask import Response, abort

    def geo(level: str):
        if level not in ("kommune", "fylke"):
            abort(404)
        try:
            body = mv.geojson_bytes(level)
        except LookupError:
            abort(404)
        return Response(body, mimetype="application/geo+json", headers={"Cache-Control": "public, max-age=86400"})

    def topojson(name: str):
        # plotly.js fetches a base-map topojson for every geo subplot that draws choropleths, even with all
        # base layers hidden; an empty topology served here keeps the map offline (no CDN request).
        return Response(mv.EMPTY_TOPOJSON, mimetype="application/json", headers={"Cache-Control": "public, max-age=86400"})

    prefix = app.config.routes_pathname_prefix
    server.add_url_rule(f"{prefix}{mv.GEO_ROUTE}<level>.geojson", endpoint="drivers_geo", view_func=geo)
    server.add_url_rule(f"{prefix}{mv.TOPO_ROUTE}<name>.json", endpoint="drivers_topojson", view_func=topojson)


try:  # read the boundaries once at start-up, so no page request opens the database
    mv.geojson_bytes("kommune"), mv.geojson_bytes("fylke")
except (LookupError, UserError):
    pass  # the page says the boundaries are missing and names the command


def geo_url(level: str) -> str:
    return dash.get_relative_path(f"/{mv.GEO_ROUTE}{level}.geojson")


def _indicators():
    return views.all_indicators()


# The base map (every municipality's colour and hover text) per indicator, year and language: measured (six
# municipalities, built whole) Kart ~21 ms a page without it, ~7 ms with it. The indicator list and the caption
# were cached too and saved nothing measurable: removed.
_BASES = serving.Cache("kart-base-maps", 64)


def indicator_options(lang: str, year: int) -> list[dict]:
    """Every registry indicator; those without any value in the data for `year` say so in the label."""
    panel = data.get_panel()
    return _indicator_options(panel, lang, int(year))


def _indicator_options(panel, lang: str, year: int) -> list[dict]:
    out = []
    for ind in _indicators():
        # counted on the engine's arrays: building every indicator's MapValues here kept ~9 MB per year
        have = int(np.count_nonzero(~np.isnan(np.asarray(views.indicator_components(panel, ind, year).value, dtype=float))))
        label = f"{ind.name(lang)} ({ind.unit})"
        if not have:
            label += " – " + i18n.t("kart.not_in_data", lang)
        out.append({"label": label, "value": ind.id})
    return out


def check(state: st.State) -> st.State:
    """The view with its indicator (`indikator`, the default when the URL names none); unknown: error page."""
    wanted = state.extra.get("indikator", DEFAULT_INDICATOR)
    known = {i.id: i for i in _indicators()}
    if wanted not in known:
        shown = wanted[:60]
        raise st.StateError(
            i18n.t("kart.unknown_indicator", state.lang, shown=shown),
            [(known[i].name(state.lang), st.url(PATH, state, indikator=i)) for i in list(known)[:5]]
            + [(known[DEFAULT_INDICATOR].name(state.lang), st.url(PATH, state, indikator=DEFAULT_INDICATOR))],
            state.lang,
        )
    return state


@serving.page(PATH, extra=("indikator",), check=check)
def layout(state: st.State):
    """The whole page for one view."""
    wanted = state.extra.get("indikator", DEFAULT_INDICATOR)
    ind = next(i for i in _indicators() if i.id == wanted)
    return components.page(state, PATH, components.guarded(content, state, ind, lang=state.lang),
                           extra_controls=[indicator_control(state, ind)], title=views.page_title(state, "nav_kart"))


def indicator_control(state: st.State, ind) -> html.Div:
    lang = state.lang
    return html.Div([
        html.Label(i18n.t("kart.indicator", lang), className="ctl-label"),
        dcc.Dropdown(id=INDICATOR, options=indicator_options(lang, state.aar), value=ind.id,
                     clearable=False, className="ctl-indikator", labels=components.dropdown_labels(lang)),
    ], className="ctl ctl-wide")


def content(state: st.State, ind) -> list:
    lang = state.lang
    panel = data.get_panel()
    if not mv.has_boundaries():
        return [components.missing_notice(i18n.t("kart.boundaries", lang), "drivers snapshot build", lang)]
    values = mv.values(panel, ind, state.aar)
    name = data.meta().name(state.kommune)
    title = f"{ind.name(lang)}, {state.aar}"
    extra = None
    if ind.kind == "need_corrected":
        extra = i18n.t("kart.cost_index", lang)
    tables = [t for t in str(ind.table).replace("+", ",").split(",") if t]
    if ind.denominator and "population" in (ind.denominator or {}):
        tables.append("07459")
    caption = figures.source_line(views.tables(), tables, state.aar, extra=extra, lang=lang)
    urls = (geo_url("kommune"), geo_url("fylke"))
    base = _BASES.get_or_build((ind.id, state.aar, lang, urls), lambda: mv.base_figure(values, *urls, lang, ind.polarity))
    chart = mv.choropleth(values, state.kommune, title, caption, *urls, lang, ind.polarity, base=base)
    stats = values.stats
    out: list = []
    if stats["n_have"] == 0:
        reason = next((r for r in values.frame["reason"] if isinstance(r, str) and r), None)
        out.append(components.missing_notice(f"{ind.name(lang)} ({state.aar})", _fetch_command(ind), lang, reason))
    own = values.rows[state.kommune]
    rank = mv.rank_text(values, state.kommune, lang)
    d = values.decimals
    tiles = [
        components.stat(name, f"{fmt.number(own['value'], d)} {ind.unit}" if not fmt.is_missing(own["value"])
                        else fmt.missing_label(own["status"], lang),
                        rank or (i18n.reason_text(own["reason"], lang) if isinstance(own["reason"], str) else None),
                        "stat-headline"),
        components.stat(i18n.t("kart.median", lang),
                        f"{fmt.number(stats['median'], d)} {ind.unit}" if stats["n_have"] else fmt.MISSING,
                        i18n.t("kart.n_have", lang, n_have=stats["n_have"], n=stats["n"])),
        components.stat(i18n.t("kart.range", lang),
                        f"{fmt.number(stats['min'], d)} – {fmt.number(stats['max'], d)} {ind.unit}"
                        if stats["n_have"] else fmt.MISSING),
    ]
    out.append(html.Div(tiles, className="stats"))
    out.append(html.P(i18n.t("kart.hint", lang), className="hint"))
    out.append(map_card(chart, lang))
    out.append(html.P(i18n.t("map.credit", lang), className="map-credit"))
    return out


def map_card(chart: mv.MapChart, lang: str) -> html.Figure:
    """The shell's chart card around the map, with the browser's figure (boundaries by URL) in the graph and
    the download actions given the MapChart (whose figure has them inline for export)."""
    light = figures.Chart(chart.id, chart.title, _height_only(chart.browser_figure), chart.data, chart.caption, chart.notes)
    card = components.chart_card(light, lang, wide=True)
    for child in card.children:
        if isinstance(child, dcc.Graph):
            child.figure = chart.browser_figure
    _set_graph_config(card, {"topojsonURL": dash.get_relative_path(f"/{mv.TOPO_ROUTE}")})
    # the download actions again, now given the MapChart (a registered chart is looked up by a key made from
    # id, title, caption and data, so the MapChart replaces the stand-in under the same key)
    actions = [a for a in (fn(chart) for fn in components.CHART_ACTIONS) if a is not None]
    card.children = [c for c in card.children if getattr(c, "className", None) != "chart-actions"]
    if actions:
        card.children.append(html.Div(actions, className="chart-actions"))
    return card


def _height_only(figure: dict):
    """A stand-in figure with just the map's height (chart_card reads figure.layout.height)."""
    from types import SimpleNamespace

    return SimpleNamespace(layout=SimpleNamespace(height=figure["layout"].get("height")))


def _set_graph_config(card, extra: dict) -> None:
    """Add plot config to the card's dcc.Graph (the shell's chart_card has no parameter for it)."""
    for child in card.children:
        if isinstance(child, dcc.Graph):
            child.config = {**(child.config or {}), **extra}


def _fetch_command(ind) -> str:
    tables = [t for t in str(ind.table).replace("+", ",").split(",") if t]
    return views.fetch_hint(tables)


components.param_to_url(INDICATOR, "indikator", DEFAULT_INDICATOR)

# In the browser (assets/controls.js), as Dash runs it whenever the page is inserted (its output, the shared
# control bar, is outside the page). A click on a municipality sets the municipality control, whose callback
# writes the URL (one writer of the URL); a click on a county outline or on the selected one changes nothing.
dash.clientside_callback(
    ClientsideFunction("drivers", "mapClick"),
    Output(components.ctl("kommune"), "value", allow_duplicate=True),
    Input(GRAPH, "clickData"),
    State(components.ctl("kommune"), "value"),
    State(shell.TEXT, "data"),
    prevent_initial_call=True,
)
