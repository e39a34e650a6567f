"""The shell: the header (title, municipality and year, navigation) and the shared control bar, which stay on
screen while the pages change beneath them.

Mounting the control bar with every page cost the browser 100–150 ms per click (four dropdowns, one of them
with all 357 municipalities to index for search). Here it is mounted once. Each page writes its canonical
view into its state key (components.page); a clientside callback reads it and sets the controls' values,
the navigation links, the municipality and year in the header, and, when the language changes, the labels;
no request to the server. On the presentation page the shell is hidden (the slides are full-screen).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import dash
import flask
from dash import Input, Output, State, dcc, html
from dash.exceptions import MissingCallbackContextException

from drivers import fmt, i18n, peersets
from drivers.i18n import LANGS, t
from drivers.report import data
from drivers.report import state as st
from drivers.ui import components, ids

SHELL = "shell"
TEXT = "shell-text"  # dcc.Store: the shell's words in both languages and every municipality's name
# dcc.Store in the browser's localStorage: {"sets": [{"name", "peers": the set's URL form}, ...]}, the user's own
# peer sets (drivers.peersets.Personal), listed in the peer control of this browser only; the server never sees it
OWN_SETS = "sets-own"
LABELS = ["ctl_kommune", "ctl_aar", "ctl_peers", "ctl_konv"]
HIDDEN_ON = ["/presentasjon"]


def layout() -> list:
    """The shell for the default view; the first page's state key sets it to the view in the URL at once."""
    state = st.parse({})
    return [
        html.Div([
            html.Header(
                [html.Div([html.Span(t("app_title", state.lang), id="shell-title", className="brand"),
                           html.Span(f"{data.meta().name(state.kommune)} · {state.aar}", id="shell-sub",
                                     className="brand-sub")], className="brand-row"),
                 components.nav(state, "/")],
                className="header",
            ),
            components.control_bar(state),
        ], id=SHELL),
        dcc.Store(id=TEXT, data=_text()),
        dcc.Store(id=OWN_SETS, storage_type="local"),
    ]


SYMBOLS = (".", "..", ":", "-")  # SSB's status symbols the footer explains


def footer(lang: str = i18n.DEFAULT) -> html.Footer:
    """Sources, licences and SSB's symbols for missing figures; the shell's callback words it in the view's
    language."""
    return html.Footer([html.Span(t("footer.sources", lang), id="footer-sources"), html.Br(),
                        html.Span(_legend(lang), id="footer-legend", className="legend")], className="footer")


def _legend(lang: str) -> str:
    return t("footer.legend", lang, symbols=" · ".join(f"«{sym}» {fmt.status_text(sym, lang)}" for sym in SYMBOLS))


def _text() -> dict:
    words = {lang: {key: t(key, lang) for key in [*LABELS, "ctl_kommune_ph", "app_title",
                                                  *(k for _, k in components.NAV)]} for lang in LANGS}
    for lang in LANGS:
        words[lang]["peers"] = [{"label": t(f"peers_{p}", lang), "value": p} for p in st.PEER_SETS]
        words[lang]["konv"] = [{"label": t(f"konv_{c}", lang), "value": c} for c in st.CONVENTIONS]
        words[lang]["dropdown"] = components.dropdown_labels(lang)
        words[lang]["own_label"] = t("sets.own_label", lang)
        words[lang]["footer_sources"] = t("footer.sources", lang)
        words[lang]["footer_legend"] = _legend(lang)
    nav = [{"path": path, "key": key} for path, key in components.NAV]
    names = dict(zip(data.meta().municipalities["code"], data.meta().municipalities["name"], strict=True))
    return {"words": words, "nav": nav, "names": names, "shared": list(st.SHARED),
            "own_prefix": peersets.PREFIX + peersets.SEP, "default_lang": i18n.DEFAULT}


# The peer control's options: the built-in sets (in the language of `w`), the team's sets (listed when the shell was
# built), this browser's own sets (the local store) and the view's set when none of these lists it (a shared link);
# an own set is labelled by its name.
_OWN_OPTIONS = """
function(options, own, value, w, prefix) {
  const isOwn = v => String(v).indexOf(prefix) === 0;
  const ownLabel = v => w.own_label.replace('{name}', String(v).slice(prefix.length).split('.')[0]);
  const out = (options || []).filter(o => !w.peers.some(p => p.value === o.value) && !isOwn(o.value));
  ((own && Array.isArray(own.sets)) ? own.sets : []).forEach(s => {
    if (s && isOwn(s.peers) && !out.some(o => o.value === s.peers)) { out.push({label: ownLabel(s.peers), value: s.peers}); }
  });
  if (value && !w.peers.some(p => p.value === value) && !out.some(o => o.value === value)) {
    out.push({label: isOwn(value) ? ownLabel(value) : value, value: value});
  }
  return w.peers.concat(out);
}
"""

# When the browser's own sets change (a set saved or forgotten), the peer control lists them at once.
_OWN_FOLLOW = """
function(own, options, value, lang, text) {
  if (!text) { return window.dash_clientside.no_update; }
  const w = text.words[lang] || text.words.nb;
  return (%(own_options)s)(options, own, value, w, text.own_prefix);
}
"""

# The state key is "<path>?kommune=…&aar=…&peers=…&konv=…&lang=…[&page parameters]", every shared parameter
# written out (state.url). Links to other pages carry the shared ones, the active page's link all of them.
_FOLLOW = """
function(key, own, peerOptions, text) {
  const nu = window.dash_clientside.no_update;
  if (!key || key.indexOf('?') < 0 || !text) { return Array(%(n_out)d).fill(nu); }
  const path = key.split('?')[0], query = key.split('?')[1];
  const params = new URLSearchParams(query);
  const shared = query.split('&').filter(p => text.shared.includes(decodeURIComponent(p.split('=')[0]))).join('&');
  const lang = text.words[params.get('lang')] ? params.get('lang') : text.default_lang;
  const w = text.words[lang];
  const kommune = params.get('kommune'), aar = params.get('aar'), peers = params.get('peers');
  const hrefs = text.nav.map(n => n.path === path ? key : n.path + '?' + shared);
  const classes = text.nav.map(n => n.path === path ? 'nav-link active' : 'nav-link');
  const navText = text.nav.map(n => w[n.key]);
  const peerOptions_ = (%(own_options)s)(peerOptions, own, peers, w, text.own_prefix);
  return [kommune, aar, peers, params.get('konv'), lang,
          (text.names[kommune] || kommune) + ' · ' + aar, w.app_title, w.ctl_kommune_ph,
          peerOptions_, w.konv, w.dropdown, w.dropdown, w.dropdown, %(labels)s, ...hrefs, ...classes, ...navText,
          w.footer_sources, w.footer_legend];
}
"""


def register(app: dash.Dash) -> None:
    _titles_follow_the_language()
    params = ["kommune", "aar", "peers", "konv", "lang"]
    outputs = [Output(components.ctl(p), "value", allow_duplicate=True) for p in params]
    outputs += [Output("shell-sub", "children"), Output("shell-title", "children"),
                Output(components.ctl("kommune"), "placeholder"),
                Output(components.ctl("peers"), "options", allow_duplicate=True),
                Output(components.ctl("konv"), "options")]
    outputs += [Output(components.ctl(p), "labels") for p in ("kommune", "aar", "peers")]
    outputs += [Output(f"label-{key}", "children") for key in LABELS]
    outputs += [Output(f"nav-{key}", "href") for _, key in components.NAV]
    outputs += [Output(f"nav-{key}", "className") for _, key in components.NAV]
    outputs += [Output(f"nav-{key}", "children") for _, key in components.NAV]
    outputs += [Output("footer-sources", "children"), Output("footer-legend", "children")]
    labels = ", ".join(f"w[{json.dumps(key)}]" for key in LABELS)
    app.clientside_callback(
        _FOLLOW % {"n_out": len(outputs), "labels": labels, "own_options": _OWN_OPTIONS.strip()},
        *outputs,
        Input(ids.STATE_KEY, "children"),
        State(OWN_SETS, "data"),
        State(components.ctl("peers"), "options"),
        State(TEXT, "data"),
        prevent_initial_call="initial_duplicate",
    )
    app.clientside_callback(
        _OWN_FOLLOW % {"own_options": _OWN_OPTIONS.strip()},
        Output(components.ctl("peers"), "options", allow_duplicate=True),
        Input(OWN_SETS, "data"),
        State(components.ctl("peers"), "options"),
        State(components.ctl("peers"), "value"),
        State(components.ctl("lang"), "value"),
        State(TEXT, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        "function(path) { return " + json.dumps(HIDDEN_ON) + ".includes(path) ? {display: 'none'} : {}; }",
        Output(SHELL, "style"),
        Input(ids.URL, "pathname"),
    )


# ---- the browser tab's title in the page's language ---------------------------------------------------------------
# Dash sets document.title from the page's registered `title` when it routes to a page; a title may be a function,
# which Dash calls inside its routing callback (and for the page's meta tags when the page itself is requested).
# Each registered bokmål title with a key "title.<page module>" is replaced by a function that words that key in
# the language of the view being routed: ?lang= in the location the routing callback was given, else in the URL of
# the request itself.


def _titles_follow_the_language() -> None:
    for page in dash.page_registry.values():
        key = "title." + str(page.get("module", "")).rsplit(".", 1)[-1]
        if i18n.has(key) and isinstance(page.get("title"), str):
            page["title"] = _Title(key)


class _Title:
    """A page's title as a key, worded on each call in the language of the view being routed."""

    def __init__(self, key: str):
        self.key = key

    def __call__(self, **_path_variables) -> str:
        return t(self.key, _routed_lang())

    def __repr__(self) -> str:
        return f"_Title({self.key!r})"


def _routed_lang() -> str:
    if not flask.has_request_context():
        return i18n.DEFAULT
    try:
        inputs = dash.callback_context.inputs
    except (MissingCallbackContextException, LookupError):  # the page's own GET (Dash's meta tags): its query string;
        # outside any callback the context variable is unset on a server thread: LookupError, not Dash's exception
        return i18n.known(flask.request.args.get("lang"))
    search = next((v for k, v in inputs.items() if k.endswith(".search") and isinstance(v, str)), "")
    return i18n.known(parse_qs(search.lstrip("?")).get("lang", [None])[0])
