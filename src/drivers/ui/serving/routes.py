"""The page decorator: a page module is a function from the view state to its components.

    @serving.page("/tjenester", extra=("tjeneste",), check=check)
    def layout(state): ...

gives the `layout(**query)` Dash serves. Per request the URL is parsed once (state.parse, then the page's
`check(state) -> state`, which validates and fills in its own parameters); a bad URL is the friendly error
page. With serving on, the page is kept in the page cache (keyed on the view and the data version), its
built deferred parts are put in place, the other pages are warmed for the same view, and its JSON is kept.
With serving off (DRIVERS_SERVING=plain) it is built whole for every request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import flask

from drivers.errors import UserError
from drivers.i18n import known
from drivers.report import state as st
from drivers.report.cache import Cache
from drivers.ui.serving import parts, prejson, switch, warmup

# Whole pages per view: measured, a hit takes 0.05-0.08 ms where a build takes 4 ms (Metode) to 140 ms (Kart),
# deferred parts aside (Fauske, 2024, on this 2-core machine). ~100 KB of figures a page: bounded.
PAGES = Cache("pages", 256)
LAYOUTS: dict[str, Callable[..., object]] = {}  # path -> layout(**query), as registered with Dash


def page(path: str, extra: tuple[str, ...] = (), check: Callable[[st.State], st.State] | None = None,
         cache: bool = True, warm: bool = True):
    """Decorator for `build(state) -> component tree`; returns `layout(**query)`. `extra`: the page's own URL
    parameters; `cache=False`: never kept (built per request); `warm=False`: not built ahead for a view."""

    def wrap(build: Callable[[st.State], object]):
        def view(state: st.State):
            """The page for a parsed view, its own parameters checked (cached with serving on)."""
            if check is not None:
                state = check(state)
            if not cache or not switch.enabled():
                return build(state)
            return PAGES.get_or_build((path, state), lambda: build(state))

        @functools.wraps(build)
        def layout(**query):
            from drivers.ui import components

            try:
                state = st.parse(query, allowed_extra=extra)  # the one parse of this request's view
                tree = view(state)
            except UserError as err:
                return components.error_view(err, known(query.get("lang")))
            if not switch.enabled():
                return tree
            tree = parts.fill(tree)
            if warm and flask.has_request_context():
                warmup.visited(path, state)
            return prejson.prepared(tree)

        layout.view, layout.build, layout.path = view, build, path
        LAYOUTS[path] = layout
        if warm:
            warmup.offer(path, view)
        return layout

    return wrap
