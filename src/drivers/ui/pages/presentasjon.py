"""Presentasjon (/presentasjon?lysbilde=N&kommune=…): the seminar storyline as full-screen slides with large
type. Arrow keys (and PageUp/PageDown, Home/End) move between slides (assets/presentasjon.js clicks the
prev/next links); every slide has its own URL, so a link opens that slide. Slide 1 is the title slide.
"""

from __future__ import annotations

import dash
from dash import dcc, html

from drivers import i18n
from drivers.report import data
from drivers.report import queries as views
from drivers.report import state as st
from drivers.ui import serving

dash.register_page(__name__, path="/presentasjon", name="Presentasjon", title="Presentasjon – kommuneøkonomi")

ROOT, TITLE, COUNTER, NEXT, PREV, GRAPH, NOTES = ("pres-root", "pres-title", "pres-counter", "pres-next", "pres-prev",
                                                  "pres-graph", "pres-notes")


@serving.cached("presentasjon-slides", 64)
def _slides(kommune: str, aar: int, peers: str, konv: str, lang: str, service: str | None, lever: str):
    """The storyline of a view. Cached: moving from slide to slide takes ~3 ms instead of ~130 ms (measured, seven
    slides of Bergen 2024)."""
    from drivers.report import story

    return story.build(st.State(kommune, aar, peers, konv, lang), service, lever)


def _what_if_choice(state: st.State) -> tuple[str | None, str]:
    """The what-if the user picked (hva_om=FGK7, spak=coverage|unit_cost) or the storyline's default."""
    service = state.extra.get("hva_om")
    lever = state.extra.get("spak", "coverage")
    if service is not None and service not in views.SERVICES:
        raise st.StateError(i18n.t("deck.unknown_service", state.lang, service=service[:20]),
                            [(views.service_name(s, state.lang), st.url("/presentasjon", state, hva_om=s))
                             for s in views.SERVICES],
                            state.lang)
    if lever not in ("coverage", "unit_cost"):
        raise st.StateError(i18n.t("deck.bad_lever", state.lang),
                            [(lv, st.url("/presentasjon", state, spak=lv)) for lv in ("coverage", "unit_cost")], state.lang)
    return service, lever


def check(state: st.State) -> st.State:
    """Validates the what-if choice (hva_om, spak); the slide number is checked against the storyline."""
    _what_if_choice(state)
    return state


# Not kept in the page cache (a slide is one figure, built in a few ms from the cached storyline) and not warmed.
@serving.page("/presentasjon", extra=("lysbilde", "hva_om", "spak"), check=check, cache=False, warm=False)
def layout(state: st.State):
    from drivers.report import story

    service, lever = _what_if_choice(state)
    # a peer group of the municipality alone (Oslo in KOSTRA-gruppe 13) switches to a named alternative, as the
    # deck does, and the cover says so; the links keep the URL's own choice
    used, switched = story.prepare(state)
    slides = _slides(used.kommune, used.aar, used.peers, used.konv, used.lang, service, lever)
    total = len(slides) + 1
    raw = state.extra.get("lysbilde", "1")
    try:
        number = int(raw)
    except ValueError:
        number = 0
    if not 1 <= number <= total:
        raise st.StateError(
            i18n.t("deck.no_slide", state.lang, raw=str(raw)[:10], total=total),
            [(str(n), st.url("/presentasjon", state, lysbilde=n)) for n in range(1, total + 1)], state.lang)
    view = slide_view(state, slides, number, total, used, switched)
    if service and number == total and not any(s.chart is not None and s.chart.id.endswith("hva-om") for s in slides):
        # the what-if the user picked cannot be computed (so it is not a slide): say why where they picked it, and
        # keep the choice open
        sentence = story.what_if(used, service, lever)["sentence"]
        view.children[2:2] = [html.P(sentence, id="pres-what-if-note", className="pres-lead"), _what_if_picker(state)]
    return view


def _nav(state: st.State, number: int, total: int) -> html.Nav:
    lang = state.lang
    prev_href = st.url("/presentasjon", state, lysbilde=max(1, number - 1))
    next_href = st.url("/presentasjon", state, lysbilde=min(total, number + 1))
    return html.Nav([
        dcc.Link("←", href=prev_href, id=PREV, className="pres-arrow" + (" disabled" if number == 1 else ""),
                 title=i18n.t("deck.prev", lang)),
        html.Span(f"{number} / {total}", id=COUNTER, className="pres-counter"),
        dcc.Link("→", href=next_href, id=NEXT, className="pres-arrow" + (" disabled" if number == total else ""),
                 title=i18n.t("deck.next", lang)),
        html.A("PowerPoint", href=_deck_href(state), className="pres-download"),
        html.A(i18n.t("deck.pack", lang), href=st.url("/last-ned/pakke.zip", state, lysbilde=None), className="pres-download"),
        dcc.Link(i18n.t("deck.exit", lang), href=st.url("/", state, lysbilde=None), className="pres-exit"),
    ], className="pres-nav")


def _deck_href(state: st.State) -> str:
    service, lever = state.extra.get("hva_om"), state.extra.get("spak")
    return st.url("/last-ned/seminar.pptx", state, lysbilde=None, hva_om=service, spak=lever)


def _what_if_picker(state: st.State) -> html.Div:
    """Links that choose the what-if: service × lever (kept in the URL like every other choice)."""
    lang = state.lang
    service, lever = _what_if_choice(state)
    levers = [(key, i18n.t(f"deck.lever_{key}", lang)) for key in ("coverage", "unit_cost")]
    return html.Div([
        html.Span(i18n.t("deck.choose", lang) + " "),
        *[dcc.Link(views.service_name(s, state.lang), href=st.url("/presentasjon", state, hva_om=s),
                   className="pres-choice" + (" active" if s == service else "")) for s in views.SERVICES],
        html.Span(" · "),
        *[dcc.Link(label, href=st.url("/presentasjon", state, spak=key),
                   className="pres-choice" + (" active" if key == lever else "")) for key, label in levers],
    ], id="pres-what-if", className="pres-what-if")


def slide_view(state: st.State, slides, number: int, total: int, used: st.State | None = None,
               switched: str | None = None) -> html.Div:
    """Slide `number` (1 = the cover). `used`: the state the storyline was made for (peers switched when the
    URL's group has no other member), `switched` the sentence that says so."""
    lang = state.lang
    used = used or state
    name = data.meta().name(state.kommune)
    if number == 1:
        body = [
            html.H1(i18n.t("deck.cover_title", lang, name=name, year=state.aar), id=TITLE, className="pres-title pres-cover"),
            html.P(i18n.t("deck.subtitle", lang, peers=views.peers_label(used), konv=views.konv_label(used)),
                   className="pres-subtitle"),
            *([html.P(switched, id="pres-switched", className="pres-lead")] if switched else []),
            html.Ol([html.Li(f"{s.section}: {s.title}") for s in slides], className="pres-agenda"),
        ]
    else:
        slide = slides[number - 2]
        if slide.chart is None:  # the closing «hva betyr dette»: its points in large type
            body = [
                html.Div(slide.section, className="pres-section"),
                html.H1(slide.title, id=TITLE, className="pres-title"),
                html.Ul([html.Li(x) for x in slide.lines], className="pres-lead"),
            ]
            return html.Div([*body, _nav(state, number, total)], id=ROOT, className="presentasjon",
                            style=_theme_style(), **{"data-slide": str(number), "data-total": str(total)})
        fig = slide.chart.figure.to_dict()
        fig.setdefault("layout", {}).update(height=None, autosize=True)
        body = [
            html.Div(slide.section, className="pres-section"),
            html.H1(slide.title, id=TITLE, className="pres-title"),
            dcc.Graph(id=GRAPH, figure=fig, className="pres-graph", config={"displaylogo": False, "responsive": True},
                      style={"height": "62vh"}),
            html.P(slide.chart.caption, className="pres-caption"),
            html.Details([html.Summary(i18n.t("deck.notes", lang)), html.P(slide.notes)], id=NOTES,
                         className="pres-notes"),
        ]
        if slide.key:  # the key number, large, with what it is and the lines tying it to the slide before
            body[2:2] = [html.P([html.Strong(slide.key, className="pres-key"), " ", slide.key_label,
                                 *[html.Span(" " + x) for x in slide.lines]], className="pres-lead")]
        if slide.chart.id.endswith("hva-om"):  # the what-if slide: the summary sentence shown, and the choice of service/lever
            body[2:2] = [html.P(slide.notes, className="pres-lead"), _what_if_picker(state)]  # above the chart
    return html.Div([*body, _nav(state, number, total)], id=ROOT, className="presentasjon", style=_theme_style(),
                    **{"data-slide": str(number), "data-total": str(total)})


def _theme_style() -> dict:
    """The municipality's colours and font (assets/theme.json) as CSS variables on the slide."""
    from drivers.export import theme

    look = theme.load()
    style = {f"--farge-{k}": v for k, v in look.colors.items()}
    style["fontFamily"] = look.font
    return style
