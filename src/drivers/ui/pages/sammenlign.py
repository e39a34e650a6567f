"""Sammenlign (/sammenlign): who the municipality is compared with and why, a side-by-side grid of the
municipality and each peer on the indicators (sort, filter, CSV), and what changes between the weighted
(Σ/Σ) and the unweighted (mean of municipalities) peer average. `visning=` picks the indicator view.

Long on purpose: four grids of one page, each with its column definitions and callbacks; the computations are
in pages/_compare.py."""

from __future__ import annotations

import json

import dash
import dash_ag_grid as dag
from dash import ALL, Input, Output, State, dcc, html

from drivers import fmt, i18n, peersets
from drivers.report import data
from drivers.report import queries as views
from drivers.report import state as st
from drivers.ui import components, ids, serving
from drivers.ui.pages import _compare as cmp
from drivers.ui.shell import OWN_SETS

PATH = "/sammenlign"
GRID = "sml-grid"
CONV_GRID = "sml-konv-grid"
NN_GRID = "sml-naboer-grid"
CSV_BUTTON = "sml-csv"
SET_MEMBERS = "sml-set-members"
SET_NAME = "sml-set-name"
SET_SAVE = "sml-set-save"
SET_STATUS = "sml-set-status"
SAVED = "sml-set-saved"  # dcc.Store: the own set just saved ({"name", "peers": its URL form, "n"}), for the browser
OWN_LIST = "sets-own-list"  # the browser's own sets, drawn in the browser from the shell's store
OWN_WORDS = "sets-own-words"  # dcc.Store: the words the browser draws the list with, in the page's language
FORGET = "sets-forget"  # pattern id type of an own set's "forget" button
NN_K = 10
VIEW = "sml-visning"

dash.register_page(__name__, path=PATH, name="Sammenlign", title="Sammenlign – kommuneøkonomi", order=2)

# Norwegian number format in the grids (d3 ships with dash-ag-grid): "1 234,5"; missing -> SSB symbol or "–".
_NB = "d3.formatLocale({decimal: ',', thousands: '\u00a0', grouping: [3], minus: '-'})"


def _fmt_js(decimals: int, status_field: str | None = None) -> dict:
    missing = f"(params.data && params.data['{status_field}']) || '–'" if status_field else "'–'"
    return {"function": f"params.value == null ? {missing} : {_NB}.format(',.{int(decimals)}f')(params.value)"}


def _api():
    return data.api()


def _indicators():
    return views.all_indicators()


def check(state: st.State) -> st.State:
    """The view with its indicator view (`visning`, the default when the URL names none); unknown: error page."""
    view = state.extra.get("visning", cmp.DEFAULT_VIEW)
    if view not in cmp.VIEWS:
        raise st.StateError(
            i18n.t("sml.unknown_view", state.lang, view=view[:40], views=", ".join(cmp.VIEWS)),
            [(cmp.view_label(v, state.lang), st.url(PATH, state, visning=v)) for v in cmp.VIEWS], state.lang)
    return state


@serving.page(PATH, extra=("visning",), check=check)
def layout(state: st.State):
    """The whole page for one view (the team's sets file is part of the data version the page cache is keyed on;
    an own set is part of the view)."""
    view = state.extra.get("visning", cmp.DEFAULT_VIEW)
    return components.page(state, PATH, content(state, view), extra_controls=[view_control(state, view)],
                           title=views.page_title(state, "nav_sammenlign"))


def view_control(state: st.State, view: str) -> html.Div:
    lang = state.lang
    return html.Div([
        html.Label(i18n.t("sml.indicators", lang), className="ctl-label"),
        dcc.Dropdown(id=VIEW, value=view, clearable=False, searchable=False, labels=components.dropdown_labels(lang),
                     options=[{"label": cmp.view_label(v, lang), "value": v} for v in cmp.VIEWS]),
    ], className="ctl ctl-mid")


# ---- data for one view -----------------------------------------------------------------------------------------
def _self_note(state: st.State, name: str) -> str:
    """Whether the municipality is in its own average: yes by default (SSB's group figures), no under ASSS."""
    if state.peers == "naboer":
        return i18n.t("sml.self.neighbours", state.lang)
    if state.konv.endswith(cmp.EXCL_SELF):
        return i18n.t("sml.self.excluded", state.lang, name=name)
    return i18n.t("sml.self.included", state.lang, name=name)


# The driver table as arrays, per year, peer set and convention: the page reads it three times. Measured (six
# municipalities, built whole): Sammenlign ~31 ms a page without it, ~7 ms with it. Members, population and
# neighbours were cached too and saved nothing measurable (the engine caches them): removed.
_WIDE = serving.Cache("sammenlign-wide", 32)


def _members(state: st.State) -> list[str]:
    return _api().peer_members(data.get_panel(), state.kommune, state.aar, views.peer_arg(state), k=NN_K)


def _wide(state: st.State, convention: str) -> cmp.Wide:
    """The driver table for the view's year, peers and `convention` as arrays (built once per key)."""
    panel = data.get_panel()
    peers = views.peer_arg(state)
    return _WIDE.get_or_build((state.aar, peers, convention),
                              lambda: cmp.wide(_api().driver_table(panel, state.aar, peers, convention)))


def _population(panel, year: int) -> dict:
    return {c: (None if fmt.is_missing(v) else int(v)) for c, v in zip(panel.municipalities, panel.residents_kostra(year), strict=True)}


def content(state: st.State, view: str) -> list:
    lang = state.lang
    panel = data.get_panel()
    name = data.meta().name(state.kommune)
    inds = cmp.view_indicators(view, _indicators())
    members = _members(state)
    plabel = views.peers_label(state)
    out: list = [components.guarded(peer_section, state, members, plabel, lang=lang)]
    if state.peers == "naboer":
        out.append(components.guarded(neighbour_section, state, lang=lang))
    out.append(components.guarded(save_section, state, members, lang=lang))

    ww, wu = (_wide(state, c) for c in cmp.pair(state.konv))
    rows = cmp.side_by_side(ww, state.kommune, members, inds, _population(panel, state.aar))
    pinned = cmp.peer_rows(ww, wu, state.kommune, inds, lang, ssb=_wide(state, cmp.WEIGHTED))
    shown = [i for i in inds if any(r.get(i.id) is not None for r in rows)]
    lacking = [i for i in inds if i not in shown]
    caption = _caption(state, inds, plabel)
    grid_section = [
        html.H2(i18n.t("sml.grid.title", lang, name=name, peers=plabel, year=state.aar)),
        html.P(i18n.t("sml.grid.hint", lang), className="hint"),
        html.Button(i18n.t("sml.csv", lang), id=CSV_BUTTON, className="button", n_clicks=0),
        side_by_side_grid(rows, pinned, shown, lang, f"{state.kommune}-{state.peers}-{view}-{state.aar}"),
        html.P(caption, className="caption"),
    ]
    if lacking:
        reason = i18n.reason_text(_first_reason(ww, state.kommune, lacking), lang)
        grid_section.append(components.missing_notice(
            ", ".join(i.name(lang) for i in lacking), _fetch_command(lacking), lang, reason))
    out.append(html.Section(grid_section, className="card", id="sml-side-by-side"))
    out.append(components.guarded(convention_section, state, ww, wu, inds, plabel, caption, lang=lang))
    return out


def _caption(state: st.State, inds: list, plabel: str) -> str:
    from drivers import figures

    tables = sorted({t for i in inds for t in str(i.table).replace("+", ",").split(",") if t} | {"07459"})
    return figures.source_line(views.tables(), tables, state.aar, plabel, views.konv_label(state), lang=state.lang)


def _first_reason(w: cmp.Wide, region: str, lacking) -> str | None:
    i, ipos = w.pos.get(region), w.ipos
    for ind in lacking:
        j = ipos.get(ind.id)
        if i is not None and j is not None and isinstance(w.reason[i, j], str):
            return w.reason[i, j]
    return None


def _fetch_command(inds) -> str:
    tables = sorted({t for i in inds for t in str(i.table).replace("+", ",").split(",") if t})
    return views.fetch_hint(tables)


# ---- sections ----------------------------------------------------------------------------------------------
def peer_section(state: st.State, members: list[str], plabel: str) -> html.Section:
    lang = state.lang
    meta = data.meta()
    name = meta.name(state.kommune)
    names = sorted(meta.name(m) for m in members)
    links = []
    for p in st.PEER_SETS:
        if p != state.peers:
            links.append(dcc.Link(_peer_name(p, lang), href=st.url(PATH, state, peers=p), className="chip"))
    body = [
        html.H2(i18n.t("sml.peers.title", lang)),
        html.P([html.Strong(name), i18n.t("sml.peers.compared_with", lang), html.Strong(plabel),
                i18n.t("sml.peers.count", lang, n=len(members), note=_self_note(state, name))]),
        html.Details([html.Summary(i18n.t("sml.peers.show", lang)),
                      html.P(", ".join(names), className="member-list")], open=len(names) <= 20),
        html.Div([html.Span(i18n.t("sml.peers.instead", lang)),
                  *[x for link in links for x in (link, html.Span(" · ", className="sep"))][:-1]], className="chips"),
    ]
    if not members:
        body.insert(2, html.P(i18n.t("sml.peers.none", lang, name=name, peers=plabel),
                              className="missing-notice", role="note"))
    if state.peers == "landet-uten-oslo":
        body.append(html.P(i18n.t("sml.peers.oslo", lang), className="hint"))
    return html.Section(body, className="card", id="sml-peers")


def _peer_name(p: str, lang: str) -> str:
    return i18n.t(f"peers_{p}", lang)


def _variable_label(variable: str, lang: str) -> str:
    """A nearest-neighbour variable as the grid shows it (residents, not their log; its name if it has no words)."""
    key = f"sml.nnvar.{variable}"
    return i18n.t(key, lang) if i18n.has(key) else variable


def neighbour_section(state: st.State) -> html.Section:
    lang = state.lang
    panel = data.get_panel()
    nn = _api().nearest_neighbours(panel, state.kommune, state.aar, k=NN_K)
    structural = views.structural_variables(panel, state.aar)
    rows, variables = cmp.why_similar(nn, structural, state.kommune, data.meta().name(state.kommune))
    decimals = {"innbyggere": 0, "kostnadsindeks": 3, "frie_inntekter_per_innb": 0}
    cols = [
        {"field": "rang", "headerName": "#", "width": 70, "pinned": "left"},
        {"field": "kommune", "headerName": i18n.t("sml.col.municipality", lang), "pinned": "left", "minWidth": 170},
        {"field": "avstand", "headerName": i18n.t("sml.nn.distance", lang), "type": "numericColumn",
         "valueFormatter": _fmt_js(3), "width": 140},
    ]
    for v in variables:
        cols.append({"headerName": _variable_label(v, lang), "children": [
            {"field": v, "headerName": i18n.t("sml.nn.value", lang), "type": "numericColumn",
             "valueFormatter": _fmt_js(decimals.get(v, 1)), "width": 120},
            {"field": f"{v}__andel", "headerName": i18n.t("sml.nn.share", lang), "type": "numericColumn",
             "valueFormatter": _fmt_js(1), "width": 130,
             "cellStyle": {"styleConditions": [{"condition": "params.value != null && params.value >= 40",
                                                "style": {"backgroundColor": "#FBE3D6"}}]}},
        ]})
    dropped = nn.attrs.get("dropped") or {}
    body = [
        html.H2(i18n.t("sml.nn.title", lang)),
        html.P(i18n.t("sml.nn.explain", lang), className="hint"),
        dag.AgGrid(id=NN_GRID, rowData=rows, columnDefs=cols, className="ag-theme-alpine",
                   defaultColDef={"sortable": True, "resizable": True},
                   dashGridOptions={"domLayout": "autoHeight", "suppressMovableColumns": True},
                   getRowStyle={"styleConditions": [{"condition": "params.data.valgt",
                                                     "style": {"fontWeight": "700", "backgroundColor": "#FDF1EA"}}]},
                   style={"width": "100%"}),
        html.P(i18n.t("sml.nn.source", lang), className="caption"),
    ]
    if dropped:
        body.append(html.Ul([html.Li(i18n.reason_text(r, lang)) for r in dropped.values()], className="chart-notes"))
    return html.Section(body, className="card", id="sml-naboer")


def save_section(state: st.State, members: list[str]) -> html.Section:
    """Make an own set: it is kept in the URL and in this browser (the shell's local store), never on the server.
    The team's shared sets (the file an administrator edits) are listed as links."""
    lang = state.lang
    team = [p for p in peersets.names() if p not in st.PEER_SETS]
    team_links = [dcc.Link(name, href=st.url(PATH, state, peers=name), className="chip") for name in team]
    return html.Section([
        html.H2(i18n.t("sml.save.title", lang)),
        html.P(i18n.t("sets.hint", lang, n=peersets.MAX_OWN_SETS), className="hint"),
        dcc.Dropdown(id=SET_MEMBERS, options=components.kommune_options(), multi=True,
                     value=members if len(members) <= peersets.MAX_OWN_MEMBERS else [],
                     labels=components.dropdown_labels(lang), placeholder=i18n.t("sml.save.search", lang)),
        html.Div([
            dcc.Input(id=SET_NAME, type="text", maxLength=peersets.MAX_NAME, debounce=False,
                      value=str(state.peers) if isinstance(state.peers, peersets.Personal) else None,
                      placeholder=i18n.t("sml.save.name_ph", lang), className="text-input"),
            html.Button(i18n.t("sml.save.button", lang), id=SET_SAVE, n_clicks=0, className="button"),
        ], className="row"),
        html.Div(id=SET_STATUS, role="status", className="status"),
        dcc.Store(id=SAVED),
        dcc.Store(id=OWN_WORDS, data={"forget": i18n.t("sets.forget", lang), "none": i18n.t("sets.own_none", lang)}),
        html.Div([html.Span(i18n.t("sets.own_title", lang)), html.Span(id=OWN_LIST)], className="chips hint"),
        *([html.Div([html.Span(i18n.t("sets.team", lang)),
                     *[x for link in team_links for x in (link, html.Span(" · ", className="sep"))][:-1]],
                    className="chips hint", id="sets-team")] if team else []),
    ], className="card", id="sml-lagre")


def side_by_side_grid(rows: list[dict], pinned: list[dict], inds: list, lang: str, key: str) -> dag.AgGrid:
    cols = [
        {"field": "kommune", "headerName": i18n.t("sml.col.municipality", lang), "pinned": "left", "minWidth": 230,
         "filter": "agTextColumnFilter"},
        {"field": "nr", "headerName": i18n.t("sml.col.nr", lang), "width": 90, "filter": "agTextColumnFilter"},
        {"field": "innbyggere", "headerName": i18n.t("sml.col.residents", lang), "type": "numericColumn",
         "valueFormatter": _fmt_js(0), "filter": "agNumberColumnFilter", "width": 150},
    ]
    for ind in inds:
        cols.append({"field": ind.id, "headerName": f"{ind.name(lang)} ({ind.unit})", "type": "numericColumn",
                     "valueFormatter": _fmt_js(ind.decimals, f"{ind.id}__status"), "filter": "agNumberColumnFilter",
                     "headerTooltip": ind.name(lang), "wrapHeaderText": True, "minWidth": 170})
    return dag.AgGrid(
        id=GRID, rowData=rows, columnDefs=cols, className="ag-theme-alpine",
        defaultColDef={"sortable": True, "resizable": True, "floatingFilter": True},
        dashGridOptions={"pinnedBottomRowData": pinned, "suppressMovableColumns": True, "tooltipShowDelay": 300,
                         "animateRows": False, "headerHeight": 78},
        getRowStyle={"styleConditions": [
            {"condition": "params.data.valgt", "style": {"fontWeight": "700", "backgroundColor": "#FDF1EA"}},
            {"condition": "params.data.snitt", "style": {"backgroundColor": "#EEF1F4", "fontStyle": "italic"}},
        ]},
        csvExportParams={"fileName": f"sammenligning-{key}.csv", "columnSeparator": ";"},
        # header (78) + floating filters (~50) + rows + scrollbar: every row visible up to 720 px, then it scrolls
        style={"height": f"{min(720, 190 + 42 * (len(rows) + len(pinned)))}px", "width": "100%"},
    )


def convention_section(state: st.State, ww: cmp.Wide, wu: cmp.Wide, inds: list, plabel: str, caption: str) -> html.Section:
    lang = state.lang
    frame = cmp.conventions(ww, wu, state.kommune, inds, state.konv, lang)
    name = data.meta().name(state.kommune)
    konv_w, konv_u = cmp.pair(state.konv)
    chosen_w = state.konv == konv_w
    rows = frame.to_dict("records") if len(frame) else []
    flips = int(frame["verdict_changes"].sum()) if len(frame) else 0
    noticeable = int(frame["noticeable"].sum()) if len(frame) else 0
    chosen_style = {"fontWeight": "700", "backgroundColor": "#E7F0F8"}
    diff_style = {"styleConditions": [
        {"condition": "params.data.verdict_changes", "style": {"backgroundColor": "#F8D3BF", "fontWeight": "700"}},
        {"condition": "params.data.noticeable", "style": {"backgroundColor": "#FDF1EA"}},
    ]}
    num = lambda field, header, **kw: {"field": field, "headerName": header, "type": "numericColumn",  # noqa: E731
                                       "valueFormatter": {"function": f"params.value == null ? (params.data.merknad ? '–*' : '–') : {_NB}.format(',.' + params.data.desimaler + 'f')(params.value)"},
                                       "minWidth": 130, **kw}
    cols = [
        {"field": "indikator", "headerName": i18n.t("sml.conv.indicator", lang), "pinned": "left", "minWidth": 340,
         "filter": "agTextColumnFilter", "tooltipField": "indikator"},
        {"field": "enhet", "headerName": i18n.t("sml.conv.unit", lang), "width": 90},
        num("verdi", name),
        num("vektet", i18n.t("sml.conv.weighted", lang), **({"cellStyle": chosen_style} if chosen_w else {})),
        num("uvektet", i18n.t("sml.conv.unweighted", lang), **({"cellStyle": chosen_style} if not chosen_w else {})),
        num("forskjell", i18n.t("sml.conv.diff", lang), cellStyle=diff_style),
        {"field": "forskjell_pct", "headerName": i18n.t("sml.conv.diff_pct", lang), "type": "numericColumn",
         "valueFormatter": _fmt_js(1), "cellStyle": diff_style, "width": 130},
        num("avvik_vektet", i18n.t("sml.conv.gap_weighted", lang, name=name)),
        num("avvik_uvektet", i18n.t("sml.conv.gap_unweighted", lang, name=name)),
    ]
    summary = i18n.t("sml.conv.summary", lang, pct=int(cmp.NOTICEABLE * 100), noticeable=noticeable, n=len(rows),
                     flips=flips, name=name)
    switch = dcc.Link(i18n.t("sml.conv.to_unweighted" if chosen_w else "sml.conv.to_weighted", lang),
                      href=st.url(PATH, state, konv=konv_u if chosen_w else konv_w), className="chip",
                      id="sml-konv-switch")
    body = [
        html.H2(i18n.t("sml.conv.title", lang)),
        html.P(i18n.t("sml.conv.explain", lang), className="hint"),
        html.P([html.Strong(summary), " ", switch]),
        dag.AgGrid(id=CONV_GRID, rowData=rows, columnDefs=cols, className="ag-theme-alpine",
                   defaultColDef={"sortable": True, "resizable": True},
                   dashGridOptions={"domLayout": "autoHeight", "tooltipShowDelay": 300, "suppressMovableColumns": True},
                   style={"width": "100%"}),
        html.P(caption, className="caption"),
    ]
    notes = [f"{r['indikator']}: {r['merknad']}" for r in rows if r.get("merknad") and
             (r.get("vektet") is None or r.get("uvektet") is None)]
    if notes:
        body.append(html.Ul([html.Li(n) for n in notes[:8]], className="chart-notes"))
    return html.Section(body, className="card", id="sml-konvensjon")


# ---- callbacks ------------------------------------------------------------------------------------------------
components.param_to_url(VIEW, "visning", cmp.DEFAULT_VIEW)


@dash.callback(Output(GRID, "exportDataAsCsv"), Input(CSV_BUTTON, "n_clicks"), prevent_initial_call=True)
def _export_csv(n_clicks):
    return bool(n_clicks)


def save_set(name: str | None, members: list[str] | None, lang: str = i18n.DEFAULT) -> tuple[str, dict | None]:
    """Check an own set (drivers.peersets.own: name, codes against the panel, caps); (message, the set for the
    browser: {"name", "peers" (its URL form), "n"}, or None). Nothing is read from or written to the disk: the
    browser keeps the set, the URL carries it. Bad input gives one clear message."""
    try:
        own = peersets.own(name, [] if members is None else members, data.get_panel())
    except peersets.SetProblem as err:
        return err.text(lang), None
    return (i18n.t("sets.saved", lang, name=str(own), n=len(own.members)),
            {"name": str(own), "peers": own.param, "n": len(own.members)})


@dash.callback(
    Output(SET_STATUS, "children"),
    Output(SAVED, "data"),
    Input(SET_SAVE, "n_clicks"),
    State(SET_NAME, "value"),
    State(SET_MEMBERS, "value"),
    State(components.ctl("lang"), "value"),
    prevent_initial_call=True,
)
def _save_set(n_clicks, name, members, lang):
    # Both outputs are in the page, so Dash does not run this when the page is inserted.
    if not n_clicks:
        return dash.no_update, dash.no_update
    message, saved = save_set(name, members, i18n.known(lang))
    return message, saved or dash.no_update


# The browser keeps the set (the shell's local store, the newest MAX_OWN_SETS, one per name) and shows it: the URL
# becomes the view with the set, so the page, the peer control and a copied link all carry it.
dash.clientside_callback(
    """
function(saved, own, key) {
  const nu = window.dash_clientside.no_update;
  if (!saved || !saved.peers) { return [nu, nu]; }
  const list = ((own && Array.isArray(own.sets)) ? own.sets : [])
    .filter(s => s && s.name !== saved.name && s.peers !== saved.peers);
  list.push({name: saved.name, peers: saved.peers});
  while (list.length > %(max)d) { list.shift(); }
  const cut = key ? String(key).indexOf('?') : -1;
  const params = new URLSearchParams(cut >= 0 ? String(key).slice(cut + 1) : '');
  params.set('peers', saved.peers);
  return [{sets: list}, (cut >= 0 ? String(key).slice(0, cut) : %(path)s) + '?' + params.toString()];
}
""".replace("%(max)d", str(peersets.MAX_OWN_SETS)).replace("%(path)s", json.dumps(PATH)),
    Output(OWN_SETS, "data", allow_duplicate=True),
    Output(ids.URL, "href", allow_duplicate=True),
    Input(SAVED, "data"),
    State(OWN_SETS, "data"),
    State(ids.STATE_KEY, "children"),
    prevent_initial_call=True,
)

# The browser's own sets as links to the view with each, and a button that forgets one (drawn in the browser:
# the server never sees the list).
dash.clientside_callback(
    """
function(own, key, words) {
  const sets = (own && Array.isArray(own.sets)) ? own.sets : [];
  if (!sets.length) { return (words && words.none) || '–'; }
  const cut = key ? String(key).indexOf('?') : -1;
  const path = cut >= 0 ? String(key).slice(0, cut) : %(path)s;
  const out = [];
  sets.forEach(function (s, i) {
    const params = new URLSearchParams(cut >= 0 ? String(key).slice(cut + 1) : '');
    params.set('peers', s.peers);
    if (i) { out.push({namespace: 'dash_html_components', type: 'Span', props: {children: ' · ', className: 'sep'}}); }
    out.push({namespace: 'dash_core_components', type: 'Link',
              props: {children: s.name, href: path + '?' + params.toString(), className: 'chip'}});
    out.push({namespace: 'dash_html_components', type: 'Button',
              props: {children: '×', id: {type: %(forget)s, index: s.peers}, n_clicks: 0,
                      className: 'chip-forget', title: (words && words.forget) || ''}});
  });
  return out;
}
""".replace("%(path)s", json.dumps(PATH)).replace("%(forget)s", json.dumps(FORGET)),
    Output(OWN_LIST, "children"),
    Input(OWN_SETS, "data"),
    State(ids.STATE_KEY, "children"),
    State(OWN_WORDS, "data"),
)

dash.clientside_callback(
    """
function(clicks, own) {
  const ctx = window.dash_clientside.callback_context || {};
  const id = ctx.triggered_id;
  const hit = (ctx.triggered || []).some(t => t && t.value);
  if (!id || !hit || !own || !Array.isArray(own.sets)) { return window.dash_clientside.no_update; }
  return {sets: own.sets.filter(s => s && s.peers !== id.index)};
}
""",
    Output(OWN_SETS, "data", allow_duplicate=True),
    Input({"type": FORGET, "index": ALL}, "n_clicks"),
    State(OWN_SETS, "data"),
    prevent_initial_call=True,
)
