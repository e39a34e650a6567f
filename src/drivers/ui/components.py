"""Shared components: page frame with navigation, the control bar, chart cards with a caption line,
missing-data notices that name the fetch command, and the friendly error view. Plain functions returning
component trees, so tests call them without a browser.

Controls use pattern ids {"type": "ctl", "param": <query parameter>}; one clientside callback (registered by
`register_callbacks`, code in assets/controls.js) writes every control's value into the URL, so pages can add
their own controls (e.g. param "tjeneste") without a callback of their own.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, dcc, html

from drivers import fmt
from drivers.errors import UserError
from drivers.figures import Chart
from drivers.i18n import LANGS, reason_text, t
from drivers.report import data
from drivers.report import state as st
from drivers.report.cache import cached
from drivers.ui import ids

log = logging.getLogger(__name__)

NAV = [
    ("/", "nav_oversikt"),
    ("/tjenester", "nav_tjenester"),
    ("/sammenlign", "nav_sammenlign"),
    ("/maal", "nav_maal"),  # Mål og indikatorer (issue 15)
    ("/kart", "nav_kart"),
    ("/metode", "nav_metode"),
    ("/presentasjon", "nav_presentasjon"),
]

# Exports hook in here: each function takes a Chart and returns a component (e.g. download buttons) or None.
CHART_ACTIONS: list[Callable[[Chart], object]] = []


def ctl(param: str) -> dict:
    """The id of the control that sets query parameter `param`."""
    return {"type": "ctl", "param": param}


def register_chart_action(fn: Callable[[Chart], object]) -> None:
    if fn not in CHART_ACTIONS:
        CHART_ACTIONS.append(fn)


def nav(state: st.State, active: str) -> html.Nav:
    links = []
    registered = {p["path"] for p in dash.page_registry.values()} if dash.page_registry else set()
    for path, key in NAV:
        if registered and path not in registered:
            continue
        keep = {k: v for k, v in state.extra.items() if path == active}
        href = st.url(path, st.State(state.kommune, state.aar, state.peers, state.konv, state.lang, keep))
        links.append(dcc.Link(t(key, state.lang), href=href, id=f"nav-{key}",
                              className="nav-link active" if path == active else "nav-link"))
    return html.Nav(links, id=ids.NAV, className="nav")


@cached("kommune-options", 1)
def kommune_options() -> list[dict]:
    """Every municipality: label "Guovdageaidnu - Kautokeino (5612)", searchable by number and any name form.

    No separate search text: dcc.Dropdown indexes every substring of every word of the label, so the number,
    each name of a Sami/Kven municipality and each half of "Aurskog-Høland" are found from the label alone,
    and a second copy of the names would double the search index the dropdown builds when it is mounted.
    Cached: Sammenlign's member picker lists them too; measured ~25 ms a Sammenlign page without, ~7 ms with."""
    meta = data.meta()
    return [{"label": f"{row.name} ({row.code})", "value": row.code} for row in meta.municipalities.itertuples()]


def _peer_options(lang: str) -> list[dict]:
    options = [{"label": t(f"peers_{p}", lang), "value": p} for p in st.PEER_SETS]
    options += [{"label": name, "value": name} for name in st.saved_peer_sets()]
    return options


DROPDOWN_TEXTS = ("select_all", "deselect_all", "selected_count", "search", "clear_search", "clear_selection",
                  "no_options_found")


def dropdown_labels(lang: str) -> dict:
    """dcc.Dropdown's own texts ("7 selected", "Search", ...) in `lang`, for its `labels`."""
    return {key: t(f"dd_{key}", lang) for key in DROPDOWN_TEXTS}


def control_bar(state: st.State) -> html.Div:
    """Municipality search, year, peer set, convention and language, set from the state in the URL."""
    lang = state.lang
    meta = data.meta()
    labels = dropdown_labels(lang)

    def field(label_key, control, cls="ctl"):
        return html.Div([html.Label(t(label_key, lang), id=f"label-{label_key}", className="ctl-label"), control], className=cls)

    return html.Div(
        [
            field("ctl_kommune", dcc.Dropdown(id=ctl("kommune"), options=kommune_options(), value=state.kommune,
                                                        clearable=False, placeholder=t("ctl_kommune_ph", lang),
                                                        labels=labels, className="ctl-kommune"), "ctl ctl-wide"),
            field("ctl_aar", dcc.Dropdown(id=ctl("aar"), options=[{"label": str(y), "value": str(y)} for y in reversed(meta.years)],
                                                    value=str(state.aar), clearable=False, searchable=False, labels=labels)),
            field("ctl_peers", dcc.Dropdown(id=ctl("peers"), options=_peer_options(lang), value=state.peers,
                                                      clearable=False, searchable=False, labels=labels), "ctl ctl-mid"),
            field("ctl_konv", dcc.RadioItems(id=ctl("konv"), value=state.konv, inline=True, className="radio",
                                                      options=[{"label": t(f"konv_{c}", lang), "value": c} for c in st.CONVENTIONS])),
            html.Div(dcc.RadioItems(id=ctl("lang"), value=lang, inline=True, className="radio lang",
                                    options=[{"label": t("lang_name", code), "value": code} for code in LANGS]),
                     className="ctl ctl-lang"),
        ],
        className="control-bar",
    )


def page(state: st.State, path: str, children: list, extra_controls: list | None = None, title: str | None = None) -> html.Div:
    """A page: its own controls (if any), then its content. The header with navigation and the shared control
    bar are the app's shell (drivers.ui.shell): they stay on screen from page to page and follow the view
    through the state key written here."""
    lang = state.lang
    return html.Div(
        [
            *([html.Div(extra_controls, className="control-bar page-controls")] if extra_controls else []),
            html.Main([*([html.H1(title, className="page-title")] if title else []), *children], className="content"),
            html.Div(st.url(path, state), id=ids.STATE_KEY, hidden=True),
        ],
        id=ids.PAGE_ROOT,
        lang=lang,
    )


def chart_card(chart: Chart, lang: str = "nb", wide: bool = False) -> html.Figure:
    """The chart with its title, then the caption line (source, year, peers, average), missing-value notes,
    and whatever download actions the exports helper registered."""
    actions = [a for a in (fn(chart) for fn in CHART_ACTIONS) if a is not None]
    return html.Figure(
        [
            html.H3(chart.title, className="chart-title"),
            dcc.Graph(id=ids.chart(chart.id), figure=chart.figure, style={"height": f"{chart.figure.layout.height or 440}px"},
                      config={
                "displaylogo": False, "responsive": True,
                "toImageButtonOptions": {"format": "png", "filename": chart.id, "scale": 2},
                "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
            }),
            html.Figcaption(chart.caption, className="caption"),
            *([html.Ul([html.Li(n) for n in chart.notes], className="chart-notes")] if chart.notes else []),
            *([html.Div(actions, className="chart-actions")] if actions else []),
        ],
        className="card chart-card wide" if wide else "card chart-card",
        **{"data-chart": chart.id},
    )


def missing_notice(what: str, command: str | None, lang: str = "nb", reason: str | None = None) -> html.Div:
    """Says a figure is not in the data, why (the engine's reason, worded in `lang`), and which command fetches it."""
    body = [html.Strong(t("missing_title", lang) + ": "), html.Span(what)]
    if reason:
        body += [html.Br(), html.Span(reason_text(reason, lang), className="reason")]
    if command:
        body += [html.Br(), html.Span(t("missing_fetch", lang) + " "), html.Code(command)]
    return html.Div(body, className="missing-notice", role="note")


def guarded(build: Callable[..., object], *args, lang: str = "nb", what: str = ""):
    """Build one card or section; if it fails unexpectedly, show a short notice in its place (logged with the
    traceback) instead of failing the whole page."""
    try:
        return build(*args)
    except UserError as exc:
        return html.Div(missing_notice(what or getattr(build, "__name__", ""), None, lang, error_message(exc, lang)),
                        className="card")
    except Exception:  # noqa: BLE001 - one broken card must not take the page down
        log.exception("could not build %s for %s", getattr(build, "__name__", build), args)
        return html.Div(html.P(t("comp_ui.failed", lang), className="reason"), className="card missing-notice")


def no_peers_notice(state: st.State, peers_label: str) -> html.Div:
    """The chosen peer set has no other municipality (Oslo is alone in KOSTRA group 13): offer other sets."""
    lang = state.lang
    text = t("comp_ui.no_peers", lang, name=data.meta().name(state.kommune), peers=peers_label)
    links = [dcc.Link(t(f"peers_{p}", lang), href=st.url(_current_path(state), state, peers=p), className="service-tab")
             for p in st.PEER_SETS if p != state.peers]
    return html.Div([html.P(text), html.Div(links, className="service-tabs")], className="missing-notice no-peers")


def _current_path(state: st.State) -> str:
    return "/tjenester" if "tjeneste" in state.extra else "/"


def status_note(status: str | None, lang: str = "nb") -> html.Span:
    """An SSB status symbol with what it means, for a missing or suppressed value."""
    return html.Span(fmt.missing_label(status, lang), className="status-note", title=fmt.status_text(status, lang))


def stat(label: str, value: str, note: str | None = None, cls: str = "") -> html.Div:
    """A key figure tile."""
    return html.Div([html.Div(label, className="stat-label"), html.Div(value, className="stat-value"),
                     *([html.Div(note, className="stat-note")] if note else [])], className=f"stat {cls}".strip())


def error_message(err: Exception, lang: str) -> str:
    """What went wrong in `lang`: an engine UserError carries a Reason in args[0] (drivers.errors), worded here; a
    message worded before (StateError's, a plain str) is shown as it is."""
    message = getattr(err, "message", None)
    if message is None and len(getattr(err, "args", ())) == 1:
        message = err.args[0]
    return str(reason_text(message, lang)) if isinstance(message, str) else str(err)


def error_view(err: Exception, lang: str | None = None) -> html.Div:
    """The friendly error page: what is wrong, links that work, never a traceback."""
    lang = lang or getattr(err, "lang", "nb")
    suggestions = getattr(err, "suggestions", []) or []
    # no header of its own: the shell's header and controls stay above it (drivers.ui.shell)
    return html.Div(
        [
            html.Div(
                [
                    html.H1(t("error_title", lang)),
                    html.P(error_message(err, lang), className="error-message"),
                    *([html.P(t("error_try", lang)), html.Ul([html.Li(dcc.Link(label, href=href)) for label, href in suggestions])]
                      if suggestions else []),
                    html.P(dcc.Link(t("error_home", lang), href=st.url("/", None, lang=lang))),
                ],
                className="card error-card",
            ),
        ],
        id=ids.ERROR_PAGE,
        lang=lang,
    )


def param_to_url(control_id: str, param: str, default: str) -> None:
    """Register the clientside callback that writes a page's own control (`param`, shown as `default` when the
    URL has none) into the URL (assets/controls.js). Dash runs it whenever the page is inserted (the URL is
    outside the page); in the browser that costs no request. A page control with a default has its own
    callback rather than the shared {"type": "ctl"} pattern, which would write the default into a URL that
    lacks it and push a second history entry."""
    dash.clientside_callback(
        "function (value, pathname, search) { return window.dash_clientside.drivers.paramToHref("
        f"{json.dumps(param)}, {json.dumps(default)}, value, pathname, search) || window.dash_clientside.no_update; }}",
        Output(ids.URL, "href", allow_duplicate=True),
        Input(control_id, "value"),
        State(ids.URL, "pathname"),
        State(ids.URL, "search"),
        prevent_initial_call=True,
    )


def register_callbacks(app: dash.Dash) -> None:
    # Every control's value into the URL, in the browser (assets/controls.js): Dash runs this whenever a page
    # with controls is inserted, and the answer then is "no change"; on the server that was a round trip per view.
    app.clientside_callback(
        ClientsideFunction("drivers", "controls"),
        Output(ids.URL, "href"),
        Input(ctl(ALL), "value"),
        State(ctl(ALL), "id"),
        State(ids.URL, "pathname"),
        State(ids.URL, "search"),
        State(ids.STATE_KEY, "children"),
        prevent_initial_call=True,
    )
