"""Deferred parts: slow, engine-heavy sections of a page render after the page is on screen (one callback
per part), and are built ahead on a spare worker once the page's response is sent (prefetch), so the
server's work overlaps the browser's drawing and the part's callback finds it ready (or waits for it).

A page served again for a view whose parts are built gets them in place: it arrives whole in one round trip.
With serving off (DRIVERS_SERVING=plain) a part is built inline, in the page.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import flask
from dash import html

from drivers.errors import UserError
from drivers.i18n import t
from drivers.report import state as st
from drivers.report.cache import Cache
from drivers.ui.serving import switch

log = logging.getLogger(__name__)

DEFERRED: dict[str, tuple[Callable, tuple[str, ...]]] = {}  # part -> (build(state), the page parameters it reads)

# Built parts: up to ~100 KB of figures each. Not optional: the prefetch hands a part to its callback through it.
# A hit is a part served in the page (one round trip instead of two) and saves the part's build (Oversikt's
# summary and health series, Tjenester' time series and decomposition: ~50-300 ms of a first view's build).
BUILT = Cache("deferred-parts", 48)
# Pages with their built parts in place: (id(tree), id of each part) -> (tree, parts, filled tree). The entry
# keeps those objects alive, so their ids stay theirs while it is kept; the same filled object each time lets
# its JSON be kept (serving.prejson).
FILLED = Cache("filled-pages", 48)
_pending: dict[tuple[str, str], Future] = {}
_pending_lock = threading.Lock()
_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drivers-prefetch")


def register(part: str, build: Callable, allowed_extra: tuple[str, ...] = ()) -> None:
    """`build(state) -> children` fills the placeholder `deferred(part, state)`."""
    DEFERRED[part] = (build, allowed_extra)


def deferred(part: str, state: st.State, **attrs) -> html.Div:
    """A placeholder that the deferred callback replaces with `build(state)`; the id carries the view's query.
    With serving off, the part itself, built now."""
    if not switch.enabled():
        return html.Div(html.Div(_build(part, state), className="deferred-filled"), **attrs)
    key = st.url("", state).lstrip("?")
    return html.Div(html.P(t("loading", state.lang), className="reason loading"),
                    id={"type": "deferred", "part": part, "key": key}, **attrs)


def _build(part: str, state: st.State):
    from drivers.ui import components

    return components.guarded(DEFERRED[part][0], state, lang=state.lang)


def _deferred_key(node) -> tuple[str, str] | None:
    cid = getattr(node, "id", None)
    if isinstance(cid, dict) and cid.get("type") == "deferred":
        return (cid.get("part"), cid.get("key", ""))
    return None


def _build_part(part: str, key: str):
    """Build a part from its placeholder's key: the one parse of the view in the part's request."""
    from drivers.ui import components

    try:
        state = st.parse(st.query_from_search(key), allowed_extra=DEFERRED[part][1])
    except UserError as exc:
        return components.error_view(exc)
    return _build(part, state)


def _prefetch(part: str, key: str) -> None:
    """Queue a part to build once the page's response has been sent (started earlier, the build would compete
    with the response for the GIL). Outside a request (tests, exports) nothing is started."""
    if not flask.has_request_context():
        return
    todo = flask.g.setdefault("drivers_prefetch", [])
    if (part, key) not in todo:
        todo.append((part, key))


def start_prefetch(response):
    """Flask after_request hook: start the page's queued prefetches when the response is closed."""
    todo = flask.g.pop("drivers_prefetch", None)
    if todo:
        response.call_on_close(lambda: [_submit(part, key) for part, key in todo])
    return response


def _submit(part: str, key: str) -> None:
    """Start building a part unless it is built, being built, or the worker is busy (under load the deferred
    callback builds it on demand instead: no work for parts nobody asks for)."""
    k = (part, key)
    if k in BUILT or part not in DEFERRED:
        return
    with _pending_lock:
        if k in _pending or len(_pending) >= 2:
            return
        future = _pool.submit(_build_part, part, key)
        _pending[k] = future

    def done(f: Future) -> None:
        with _pending_lock:
            _pending.pop(k, None)
        if not f.cancelled() and f.exception() is None:
            BUILT.put(k, f.result())

    future.add_done_callback(done)


def fill(tree):
    """The page to serve: deferred parts already built are put in place, the others are prefetched. The
    cached `tree` is never modified: nodes on the way to a filled part are shallow copies. Outside a request
    (tests, exports) or with serving off the tree is returned as it is."""
    if not switch.enabled() or not flask.has_request_context():
        return tree
    keys = deferred_parts(tree)
    if not keys:
        return tree
    parts = [BUILT.get(k) for k in keys]
    key = (id(tree), *(id(p) if p is not None else None for p in parts))
    hit = FILLED.get(key)
    if hit is not None:
        return hit[2]
    out = _fill(tree)
    if all(p is not None for p in parts):  # a tree still waiting for a part is not kept: it changes once built
        FILLED.put(key, (tree, parts, out))
    return out


def _fill(node):
    k = _deferred_key(node)
    if k is not None:
        built = BUILT.get(k)
        if built is None:
            _prefetch(*k)
            return node
        return html.Div(built, className="deferred-filled")
    children = getattr(node, "children", None)
    if isinstance(children, list | tuple):
        new = [_fill(c) if hasattr(c, "children") else c for c in children]
        if any(a is not b for a, b in zip(new, children, strict=True)):
            node = copy.copy(node)
            node.children = new
    elif hasattr(children, "children"):
        child = _fill(children)
        if child is not children:
            node = copy.copy(node)
            node.children = child
    return node


def deferred_parts(tree) -> list[tuple[str, str]]:
    """(part, key) of every deferred placeholder in a page tree."""
    found = []

    def walk(node):
        k = _deferred_key(node)
        if k is not None:
            found.append(k)
            return
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list | tuple) else [children]:
            if hasattr(child, "children"):
                walk(child)

    walk(tree)
    return found


def build_deferred(part: str, key: str) -> None:
    """Build a part now (in the calling thread) unless it is built or being built (the warm-up's step)."""
    k = (part, key)
    with _pending_lock:
        pending = k in _pending
    if pending or part not in DEFERRED or k in BUILT:
        return
    BUILT.put(k, _build_part(part, key))


def render_deferred(component_id: dict):
    """The callback body: the part from its id (errors become a notice); a part the prefetch has built or is
    building is taken from there."""
    part = component_id.get("part")
    if part not in DEFERRED:
        return html.Div()
    k = (part, component_id.get("key", ""))
    built = BUILT.get(k)
    if built is not None:
        return built
    with _pending_lock:
        future = _pending.get(k)
    if future is not None and not future.cancel():  # still queued: cancelled, and built here at once
        try:
            return future.result(timeout=60)
        except Exception:  # noqa: BLE001 - build it here instead, with guarded()'s notice on failure
            pass
    out = _build_part(*k)
    BUILT.put(k, out)
    return out
