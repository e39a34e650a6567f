"""The pages a user is likely to open next, built while the server has nothing else to do.

After a page is served for a view (municipality, year, peers, convention, language), the other pages of the
navigation bar are built for the same view, deferred parts included, once the server has been idle for a
moment. A click on a navigation link then finds its page and parts built: the page arrives whole in one
round trip. The page cache and the parts cache keep what it builds (bounded), so a warm-up only fills them.

It never competes with a user: a step starts only when no request is in flight and none has finished in the
last QUIET seconds, and the warm-up stops at the first step that finds the server busy (under load nothing
is warmed; the pages are built on demand as before). One view is warmed at a time; a newer view replaces a
waiting one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import flask

from drivers.errors import UserError
from drivers.report import state as st
from drivers.ui.serving import parts, switch

log = logging.getLogger(__name__)

QUIET = 0.4  # seconds without a request before a step starts: a pause in reading, not a gap between requests
PATIENCE = 20.0  # seconds a waiting warm-up keeps trying to find a quiet moment

_pages: dict[str, Callable[[st.State], object]] = {}  # path -> the page's cached view(state) (serving.page)
_lock = threading.Lock()
_in_flight = 0
_last_done = 0.0
_wanted: tuple[str, st.State] | None = None  # the latest view served (path, state); the worker takes it
_wake = threading.Event()
_worker: threading.Thread | None = None


def offer(path: str, view: Callable[[st.State], object]) -> None:
    """A page offers itself for warming: `view(state)` builds (and caches) the page for a view."""
    _pages[path] = view


def visited(path: str, state: st.State) -> None:
    """A page was served for `state`: warm the other pages for the same view once the server is quiet.
    Nothing with serving off (DRIVERS_SERVING=plain): no warm-up thread is started."""
    global _wanted
    if not switch.enabled():
        return
    with _lock:
        _wanted = (path, state)
    _ensure_worker()
    _wake.set()


def install(server: flask.Flask) -> None:
    """Count requests in flight (the warm-up runs only when there are none)."""

    @server.before_request
    def _started():
        global _in_flight
        with _lock:
            _in_flight += 1

    @server.teardown_request
    def _finished(_exc=None):
        global _in_flight, _last_done
        with _lock:
            _in_flight = max(0, _in_flight - 1)
            _last_done = time.monotonic()


def _quiet() -> bool:
    with _lock:
        return _in_flight == 0 and time.monotonic() - _last_done >= QUIET


def _wait_quiet(deadline: float) -> bool:
    while time.monotonic() < deadline:
        if _quiet():
            return True
        time.sleep(QUIET / 3)
    return False


def _ensure_worker() -> None:
    global _worker
    with _lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_run, name="drivers-warm-next", daemon=True)
            _worker.start()


def _run() -> None:
    global _wanted
    while True:
        _wake.wait()
        _wake.clear()
        with _lock:
            job, _wanted = _wanted, None
        if job is None:
            continue
        try:
            warm_neighbours(*job, should_go_on=_go_on)
        except Exception:  # noqa: BLE001 - a failed warm-up only means the page is built on demand
            log.exception("warming the pages next to %s failed", job[0])


def _go_on() -> bool:
    """Wait for a quiet moment; stop when none comes, or when a newer view is waiting to be warmed."""
    return _wait_quiet(time.monotonic() + PATIENCE) and _wanted is None


def warm_neighbours(path: str, state: st.State, should_go_on: Callable[[], bool] = lambda: True) -> list[str]:
    """Build every registered page except `path` for `state`'s shared view, and their deferred parts.
    `should_go_on()` is asked before each step. Returns the paths warmed (all steps done)."""
    from drivers.ui import components  # components imports pages' helpers; imported late to avoid a cycle

    shared = st.State(state.kommune, state.aar, state.peers, state.konv, state.lang)  # as the nav links
    order = {p: i for i, (p, _) in enumerate(components.NAV)}
    warmed = []
    for other, view in sorted(_pages.items(), key=lambda kv: order.get(kv[0], len(order))):
        if other == path:
            continue
        if not should_go_on():
            return warmed
        try:
            tree = view(shared)
        except UserError:
            continue
        for part, key in parts.deferred_parts(tree):
            if not should_go_on():
                return warmed
            parts.build_deferred(part, key)
        warmed.append(other)
    return warmed
