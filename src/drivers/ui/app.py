"""The Dash app factory: pages from drivers/ui/pages, assets from the top-level assets/ folder.

State lives in the URL. The app holds one dcc.Location (`ids.URL`, refresh="callback-nav") that the
control callback writes to; Dash pages' own location picks the change up and re-renders the page, and
the browser's back/forward buttons walk through the history of views.
"""

from __future__ import annotations

import atexit
import sys
import threading
from pathlib import Path

import dash
from dash import dcc, html

from drivers import figures
from drivers.config import Settings
from drivers.export import theme
from drivers.report import data
from drivers.report import queries as views
from drivers.ui import components, downloads, ids, serving, shell
from drivers.ui.serving import guard, switch

PAGES_DIR = Path(__file__).resolve().parent / "pages"


def create_app(settings: Settings | None = None, preload: bool = True) -> dash.Dash:
    """Build the app. `preload` loads the Panel now (a broken or missing database fails here, clearly)."""
    settings = settings or Settings.from_env()
    switch.mode()  # a misspelt DRIVERS_SERVING fails here, in one line
    data.configure(settings)
    # The municipality's look (assets/theme.json or $DRIVERS_THEME) before any figure is made; a malformed
    # theme file fails here with the file and key named. Colours and font reach the page through /tema.css.
    look = theme.load(theme.theme_path(settings))
    figures.apply_theme(theme.plotly_layout(look), look.color("highlight"), look.color("peer"))
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(PAGES_DIR),
        assets_folder=str(settings.assets_dir),
        external_stylesheets=["/tema.css"],  # served by drivers.ui.downloads.theme_css
        title="Kommuneøkonomi – hva driver den?",
        update_title=None,
        suppress_callback_exceptions=True,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.layout = html.Div(
        [
            dcc.Location(id=ids.URL, refresh="callback-nav"),
            *shell.layout(),  # header and control bar: mounted once, they follow the page's view
            dash.page_container,
            _prefetch(app),
            html.Div(id="warmup", className="warmup", **{"aria-hidden": "true"}),
            shell.footer(),  # sources and SSB's symbols, in the page's language like the header
        ],
        className="app",
    )
    sys.modules["pages.kart"].register_geo_route(app)  # the map's GeoJSON routes, on this app's server
    components.register_callbacks(app)
    shell.register(app)
    # deferred parts, their prefetch, and the warm-up of the pages a user opens next (off with DRIVERS_SERVING=plain)
    serving.install(app)
    # hostile requests are short 4xx answers, never a 500 or a traceback: callback payloads checked against the
    # registered callbacks before Dash dispatches them, a body over MAX_CONTENT_LENGTH a 413 (drivers.ui.serving.guard)
    app.server.config["MAX_CONTENT_LENGTH"] = guard.MAX_BODY
    guard.install(app)
    downloads.register(app.server)  # PNG/SVG/XLSX/CSV under every chart, chart pack and seminar deck (exports)
    if preload:
        downloads.warm()  # exporters imported before the first request, then the export slots' Chromium
        data.get_panel()
        data.meta()
        views.warm(default_only=True)  # the default view is a lookup from the first request on
        if not switch.enabled():
            return app
        thread = threading.Thread(target=_warm_all, name="drivers-warm", daemon=True)
        _warmers.append(thread)
        thread.start()
    return app


# The lazily loaded parts of Dash's components that the pages use (webpack chunks, at the path each library's
# code asks for them): AG Grid's tables (Sammenlign, Metode), dcc.Markdown and its code highlighter (Metode),
# dcc.Graph's wrapper. Dash loads each on the first page that needs one; assets/prefetch.js loads them while idle.
LAZY_SCRIPTS = (
    "dash_ag_grid/async-community.js",
    "dash/dcc/async-markdown.js",
    "dash/dcc/async-highlight.js",
    "dash/dcc/async-graph.js",
)


def _prefetch(app: dash.Dash) -> html.Div:
    """What assets/prefetch.js loads while the browser is idle: the scripts above, and where the map's boundaries
    are served (into plotly's cache; the topojson name is the one plotly asks for, its default 1:110m scope)."""
    from drivers.ui.pages import _mapview as mv

    return html.Div(hidden=True, id="prefetch", **{
        "data-scripts": " ".join(app.get_relative_path(f"/_dash-component-suites/{path}") for path in LAZY_SCRIPTS),
        "data-geojson": " ".join(app.get_relative_path(f"/{mv.GEO_ROUTE}{level}.geojson") for level in ("kommune", "fylke")),
        "data-topojson": app.get_relative_path(f"/{mv.TOPO_ROUTE}world_110m.json"),
        "data-topojson-name": "world_110m",
    })


_warm_stop = threading.Event()
_warmers: list[threading.Thread] = []


def _warm_all() -> None:
    views.warm(stop=_warm_stop)
    data.release_free_memory()  # the warm-up's temporary frames, ~tens of MB otherwise kept in RSS


@atexit.register
def _stop_warming() -> None:
    # A daemon thread frozen inside DuckDB at interpreter exit aborts the process (the connection's destructor
    # throws "connection is busy"): let the warm-up finish its current step and stop first.
    _warm_stop.set()
    for thread in _warmers:
        thread.join(timeout=30)
