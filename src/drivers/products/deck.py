"""The seminar deck: a view made into a PPTX for a projector (drivers.report.story + drivers.export.deck).

`make` is what the CLI (`drivers export-pack --deck`) and the dashboard's download job call, so the deck is the
same wherever it is asked for: the view is first prepared (a peer group with only the municipality itself is
switched, stated, to Landet), the storyline built without placeholder slides, and what was left out named once.
"""

from __future__ import annotations

from drivers import i18n
from drivers.errors import UserError
from drivers.export import deck as pptx
from drivers.export import theme as themes
from drivers.products import Product
from drivers.report import queries, story
from drivers.report import state as st

MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def filename(state: st.State) -> str:
    """«seminar-<kommune>-<år>.pptx», e.g. seminar-3201-2024.pptx."""
    return f"seminar-{state.kommune}-{state.aar}.pptx"


def make(state: st.State, *, what_if=None, lever: str = "coverage", theme=None, template=None, progress=None,
         engine=None) -> Product:
    """The deck for `state`. `what_if`: a service code (FGK…) for the what-if slide, None for the storyline's
    choice (a service and lever the data can answer); `lever`: coverage | unit_cost. `theme`: an export Theme
    (None: the installation's theme file); `template`: a .pptx/.potx path or bytes (the municipality's look).
    `progress(done, total)`: after each picture. `engine`: an image.Renderer (None: the shared one).
    Raises UserError for an unknown service or lever."""
    lang = state.lang
    if what_if is not None and what_if not in queries.SERVICES:
        raise UserError(i18n.t("deck.unknown_service", lang, service=str(what_if)[:20]))
    if lever not in story.LEVERS:
        raise UserError(i18n.t("deck.bad_lever", lang))
    state, note = story.prepare(state)
    slides = story.build(state, what_if, lever)
    left = story.left_out(state, what_if, lever, charts=False)
    payload = pptx.build_deck(slides, title=story.deck_title(state), subtitle=story.heading(state),
                              theme=theme if theme is not None else themes.load(), engine=engine, progress=progress,
                              template=template, note=note)
    return Product(payload, filename(state), MIME, left_out=left, notes=[note] if note else [], count=len(slides))
