"""Pages kept as JSON once served. Dash writes a callback's answer with plotly's JSON encoder, which walks every
component in Python when the answer holds component objects: ~7 ms of a cached page's ~9 ms, and under load
the server's largest cost. Pages cache their trees, so a page served again for the same view is the same
object; its JSON is kept and handed to the encoder as an orjson.Fragment, which orjson writes out as it is.
Anywhere but in the answer to a Dash callback (tests, exports), or without orjson, the tree is returned as it is."""

from __future__ import annotations

import threading
from collections import OrderedDict

import flask
from plotly.io.json import to_json_plotly

try:
    import orjson
except ImportError:  # plotly then writes JSON with the standard library, which knows no fragments
    orjson = None

_MAX = 128  # pages a server keeps as JSON (~10-50 KB each); the trees are kept alive with them
_lock = threading.Lock()
# id(tree) -> (tree, fragment); the entry keeps the tree alive, so no other object can take its id meanwhile
_kept: OrderedDict[int, tuple[object, object]] = OrderedDict()


def prepared(tree):
    """`tree` as a JSON fragment to answer a Dash callback with (the same JSON Dash would write)."""
    if orjson is None or tree is None or not _answering_a_callback():
        return tree
    key = id(tree)
    with _lock:
        hit = _kept.get(key)
        if hit is not None:
            _kept.move_to_end(key)
            return hit[1]
    fragment = orjson.Fragment(to_json_plotly(tree))
    with _lock:
        _kept[key] = (tree, fragment)
        while len(_kept) > _MAX:
            _kept.popitem(last=False)
    return fragment


def _answering_a_callback() -> bool:
    return flask.has_request_context() and flask.request.path.endswith("/_dash-update-component")

