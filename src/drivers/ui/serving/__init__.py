"""The serving layer: everything that makes pages fast, in one place and behind one switch.

- `version`: the data version (database file, saved sets) every cache is keyed on (drivers.report.version, with
  Flask's per-request memo added here);
- `Cache`/`cached`: the one bounded cache type (LRU, thread-safe, forgets on a new data version), from
  drivers.report.cache so that report/ can use it without Flask;
- `routes`: the page decorator `page` (one URL parse per request, page cache, error page);
- `parts`: deferred parts, rendered after the page, prefetched on a spare worker;
- `warmup`: the pages next to a served view, built while the server is idle;
- `prejson`: a page served again is written from its kept JSON.

DRIVERS_SERVING=plain turns the layer off: no deferred parts (built inline), no warm-up thread, no kept JSON,
no page cache.
"""

from __future__ import annotations

from drivers.report.cache import CACHES, Cache, cached
from drivers.ui.serving.parts import deferred, deferred_parts, render_deferred
from drivers.ui.serving.parts import register as register_deferred
from drivers.ui.serving.routes import page
from drivers.ui.serving.switch import enabled
from drivers.ui.serving.version import data_version

__all__ = ["CACHES", "Cache", "cached", "data_version", "deferred", "deferred_parts", "enabled", "install", "page",
           "register_deferred", "render_deferred"]


def install(app) -> None:
    """Hook the layer into the app: the deferred parts' callback, their prefetch after each response, and the
    request counter the warm-up waits on."""
    from dash import MATCH, Input, Output

    from drivers.ui.serving import parts, prejson, warmup

    app.server.after_request(parts.start_prefetch)
    warmup.install(app.server)

    @app.callback(
        Output({"type": "deferred", "part": MATCH, "key": MATCH}, "children"),
        Input({"type": "deferred", "part": MATCH, "key": MATCH}, "id"),
    )
    def _fill_deferred(component_id):
        return prejson.prepared(render_deferred(component_id))
