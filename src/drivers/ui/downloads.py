"""Download endpoints on the dashboard's Flask server (the shell calls `register(server)` from create_app):

  /last-ned/chart/<id>.<png|svg|xlsx|csv>?<state>[&storrelse=trykk|skjerm]   one chart
  /last-ned/pakke.zip?<state>                                                 every chart (ZIP + index)
  /last-ned/seminar.pptx?<state>[&hva_om=FGK7&spak=coverage]                  the seminar deck
  /tema.css                                                                   the theme (colours, font, logo)

<state> is the dashboard's query string (kommune, aar, peers, konv, lang). A chart shown on a page is also
reachable by `k=<key>` (registered when the page drew it), so every chart card gets download links.
Bad input gives a one-line message with status 400/404, never a traceback.
"""

from __future__ import annotations

import hashlib

from dash import html
from flask import Response, request

from drivers import i18n
from drivers.errors import UserError
from drivers.report.cache import Cache

FORMATS = {"png": "image/png", "svg": "image/svg+xml",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "csv": "text/csv; charset=utf-8"}
PACK_ROUTE = "/last-ned/pakke.zip"
DECK_ROUTE = "/last-ned/seminar.pptx"
# ids of Oversikt's one-click export card
PACK_LINK, DECK_LINK, EXPORTS, EXPORT_STATUS = "last-ned-pakke", "last-ned-seminar", "eksport-oversikt", "eksport-status"
# key -> Chart drawn on a page. Not a speed-up but the charts behind the download links; forgotten with the pages
# that link to them when the data changes (a link from before says it has expired and to reload the page).
_CHARTS = Cache("download-charts", 2000)


def remember(chart) -> str:
    """Keep a chart a page just drew; returns the key its download links carry."""
    digest = hashlib.sha1(f"{chart.id}|{chart.title}|{chart.caption}|{chart.data.to_json()}".encode()).hexdigest()[:16]
    _CHARTS.put(digest, chart)
    return digest


def chart_links(chart):
    """Download links under a chart card (registered with components.register_chart_action)."""
    key = remember(chart)
    base = f"/last-ned/chart/{chart.id}"
    links = [("PNG (trykk)", f"{base}.png?k={key}"), ("PNG (skjerm)", f"{base}.png?k={key}&storrelse=skjerm"),
             ("SVG", f"{base}.svg?k={key}"), ("Excel", f"{base}.xlsx?k={key}"), ("CSV", f"{base}.csv?k={key}")]
    return html.Div([html.Span("Last ned: ", className="download-label"),
                     *[html.A(label, href=href, className="download-link", download="") for label, href in links]],
                    className="downloads")


def export_links(state, peers_label: str, konv_label: str, name: str) -> html.Div:
    """One click for the whole chart pack (ZIP) and the seminar deck (PPTX) of the view's municipality, year,
    peer set, averaging and language. Plain links (no `download` attribute), so a file that cannot be made
    shows the route's one-line message instead of a silently failed download."""
    from drivers.report import state as st

    lang = state.lang
    shared = {k: None for k in state.extra}  # page parameters (tjeneste, indikator, …) do not change the files
    links = [
        html.A(i18n.t("dl.pack", lang), href=st.url(PACK_ROUTE, state, **shared), id=PACK_LINK, className="export-button"),
        html.A(i18n.t("dl.deck", lang), href=st.url(DECK_ROUTE, state, **shared), id=DECK_LINK, className="export-button"),
    ]
    note = i18n.t("dl.note", lang, name=name, year=state.aar, peers=peers_label, konv=konv_label)
    # Shown on click (clientside callback in pages/oversikt.py): the pack takes a while to make, and a page that
    # seems to do nothing invites a second click, which makes the server build it twice.
    waiting = {
        "data-pack": i18n.t("dl.wait_pack", lang),
        "data-deck": i18n.t("dl.wait_deck", lang),
    }
    return html.Div([html.H2(i18n.t("dl.heading", lang)),
                     html.Div(links, className="export-buttons"), html.P(note, className="export-note"),
                     html.P(id=EXPORT_STATUS, className="export-status", role="status", **waiting)],
                    id=EXPORTS, className="card exports")


def _state():
    from drivers.report import state as st

    return st.parse(dict(request.args), allowed_extra=("lysbilde",))


def _error(exc: Exception, status: int = 400) -> Response:
    message = getattr(exc, "message", None) or str(exc)
    return Response(f"Kunne ikke lage filen: {message}\n", status=status, mimetype="text/plain; charset=utf-8")


def _file(payload: bytes, mimetype: str, filename: str) -> Response:
    return Response(payload, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


def chart_file(chart_id: str, ext: str) -> Response:
    from drivers.export import image, tables, theme
    from drivers.report import story

    if ext not in FORMATS:
        return _error(UserError(f"ukjent format «{ext[:10]}»; bruk png, svg, xlsx eller csv"), 404)
    try:
        key = request.args.get("k")
        chart = _CHARTS.get(key) if key else None
        if chart is None:
            if key and "kommune" not in request.args:
                raise UserError("lenken er utløpt (serveren er startet på nytt); last siden inn igjen")
            chart = story.find_chart(_state(), chart_id)
        if chart is None:
            return _error(UserError(f"fant ingen figur «{chart_id[:40]}» for dette utvalget"), 404)
        look = theme.load()
        if ext in ("png", "svg"):
            size = request.args.get("storrelse", "trykk")
            payload = image.chart_image(chart, ext, size, look)
        elif ext == "xlsx":
            payload = tables.to_xlsx(chart, look)
        else:
            payload = tables.to_csv(chart)
        return _file(payload, FORMATS[ext], f"{chart.id}.{ext}")
    except UserError as exc:
        return _error(exc)


def pack_file() -> Response:
    from drivers.export import pack, theme
    from drivers.report import story

    try:
        state = _state()
        payload = pack.build_pack(story.all_charts(state), heading=story.heading(state), theme=theme.load())
        return _file(payload, "application/zip", f"figurer-{state.kommune}-{state.aar}.zip")
    except UserError as exc:
        return _error(exc)


def deck_file() -> Response:
    from drivers.export import deck, theme
    from drivers.report import data, story

    try:
        state = _state()
        lever = request.args.get("spak", "coverage")
        if lever not in story.LEVERS:
            raise UserError("spak må være coverage eller unit_cost")
        service = request.args.get("hva_om") or None
        slides = story.build(state, service, lever)
        title = i18n.t("deck.cover_title", state.lang, name=data.meta().name(state.kommune), year=state.aar)
        payload = deck.build_deck(slides, title=title, subtitle=story.heading(state), theme=theme.load())
        return _file(payload, "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                     f"seminar-{state.kommune}-{state.aar}.pptx")
    except UserError as exc:
        return _error(exc)


def theme_css() -> Response:
    from drivers.export import theme

    try:
        # read on every request: a changed theme file shows on the next page load (figures: on restart)
        return Response(theme.dashboard_css(theme.load()), mimetype="text/css", headers={"Cache-Control": "no-cache"})
    except UserError as exc:
        return _error(exc)


def register(server) -> None:
    """Add the download routes to the Flask server and download links under every chart card."""
    if "drivers_last_ned_chart" in server.view_functions:
        return
    server.add_url_rule("/last-ned/chart/<chart_id>.<ext>", "drivers_last_ned_chart", chart_file)
    server.add_url_rule(PACK_ROUTE, "drivers_last_ned_pakke", pack_file)
    server.add_url_rule(DECK_ROUTE, "drivers_last_ned_seminar", deck_file)
    server.add_url_rule("/tema.css", "drivers_tema_css", theme_css)
    from drivers.ui import components

    components.register_chart_action(chart_links)
