"""Pages kept as JSON once served. Dash writes a callback's answer with plotly's JSON encoder, which walks every
component in Python when the answer holds component objects: ~7 ms of a cached page's ~9 ms, and under load
the server's largest cost. The page cache hands out the same tree for the same view; its JSON is kept and
given to the encoder as an orjson.Fragment, which orjson writes out as it is. Anywhere but in the answer to a
Dash callback (tests, exports), with serving off, or without orjson, the tree is returned as it is."""

from __future__ import annotations

import flask
from plotly.io.json import to_json_plotly

from drivers.report.cache import Cache
from drivers.ui.serving import switch

try:
    import orjson
except ImportError:  # plotly then writes JSON with the standard library, which knows no fragments
    orjson = None

# id(tree) -> (tree, fragment): ~10-50 KB each; the entry keeps the tree alive, so no other object takes its id
KEPT = Cache("kept-json", 128)


def prepared(tree):
    """`tree` as a JSON fragment to answer a Dash callback with (the same JSON Dash would write)."""
    if orjson is None or tree is None or not switch.enabled() or not _answering_a_callback():
        return tree
    key = id(tree)
    hit = KEPT.get(key)
    if hit is not None:
        return hit[1]
    fragment = orjson.Fragment(to_json_plotly(tree))
    KEPT.put(key, (tree, fragment))
    return fragment


def _answering_a_callback() -> bool:
    return flask.has_request_context() and flask.request.path.endswith("/_dash-update-component")
