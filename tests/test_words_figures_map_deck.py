"""English pages say everything in English (issue 12 item 5): the Kart and Presentasjon pages, the shared notices
and export card, and the chart functions of drivers.figures, built for Bærum (3201) on the real database in bokmål
and in English, share no text of three words or more (proper names aside), and the engine's reasons they show are
worded in the page's language."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest
from ui_pages_data import (
    find,
    page_layout,
    page_module,
    pages_app,  # noqa: F401  (the module fixture below)
    walk,
)

from drivers import figures, i18n
from drivers.engine import reasons
from drivers.report import data
from drivers.report import queries as views
from drivers.report import state as st
from drivers.ui import components, downloads, ids
from drivers.ui.pages import _mapview as mv

pytestmark = pytest.mark.usefixtures("pages_app")

KOMMUNE = "3201"  # Bærum
LANGS = ("nb", "en")
# Texts of three words or more that are the same in both languages on purpose (proper names; municipality names
# are allowed from the data).
ALLOWED: set[str] = set()
# Plotly's own strings in a figure dict that are not words (fonts, number formats, modes).
NOT_WORDS = {"family", "customdata", "locations", "z", "x", "y", "geojson", "colorscale", "color", "uirevision"}


REASON = "comp_ui.failed"  # a key worded in every language, said by the engine below as a Reason (reasons.term)


def _said() -> reasons.Reason:
    """The engine's reason a figure is missing, as the engine gives it: a str (bokmål) that words itself."""
    return reasons.term(REASON)


def _figure_strings(node, out: list[str]) -> None:
    if isinstance(node, str):
        out.append(node)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and not isinstance(value, str):  # bar labels: numbers
                continue
            if key not in NOT_WORDS:
                _figure_strings(value, out)
    elif isinstance(node, list | tuple):
        for value in node:
            _figure_strings(value, out)


def _texts(tree) -> list[str]:
    """Every text a reader sees in a component tree: children, tooltips, option labels, data attributes, and the
    figures' titles, axis titles, annotations, trace names and hover templates."""
    out: list[str] = []
    for c in walk(tree):
        for prop in ("children", "title", "placeholder", "data-pack", "data-deck"):
            value = getattr(c, prop, None) if not prop.startswith("data-") else c.to_plotly_json()["props"].get(prop)
            if isinstance(value, str):
                out.append(value)
            elif isinstance(value, list | tuple):
                out += [v for v in value if isinstance(v, str)]
        options = getattr(c, "options", None)
        if isinstance(options, list):
            out += [o["label"] for o in options if isinstance(o, dict) and isinstance(o.get("label"), str)]
        figure = getattr(c, "figure", None)
        if figure is not None:
            _figure_strings(figure if isinstance(figure, dict) else figure.to_dict(), out)
    return out


def _chart_texts(chart) -> list[str]:
    out = [chart.title, chart.caption, *chart.notes, *map(str, chart.data.columns)]
    figure = chart.browser_figure if isinstance(chart, mv.MapChart) else chart.figure.to_dict()
    _figure_strings(figure, out)
    return out


_MARKUP = re.compile(r"<[^>]*>|%\{[^}]*\}")  # hover templates' tags and fields
_SPLIT = re.compile(r"\s·\s|;\s|:\s|\.\s|\s–\s|\s—\s|[()«»\n]")


def _phrases(texts) -> set[str]:
    """The texts cut at sentence and list marks, so a bokmål phrase inside an English sentence is found too;
    only pieces of three words or more (a word has a letter) are kept."""
    out = set()
    for text in texts:
        text = _MARKUP.sub(" ", text)
        for piece in [text, *_SPLIT.split(text)]:
            piece = piece.strip(" ,.:;")
            if sum(bool(re.search(r"[^\W\d_]", w)) for w in piece.split()) >= 3:
                out.add(piece)
    return out


def _untranslated(nb: list[str], en: list[str]) -> list[str]:
    names = set(data.meta().municipalities["name"].astype(str))
    return sorted(p for p in _phrases(en) & _phrases(nb)
                  if p not in ALLOWED and p not in names and not p.startswith("drivers "))  # commands are code


def _state(lang: str, **extra) -> st.State:
    return st.parse({"kommune": KOMMUNE, "lang": lang, **extra})


def _page_texts(path: str, lang: str, **query) -> list[str]:
    layout = page_layout(path)(kommune=KOMMUNE, lang=lang, **query)
    assert find(layout, ids.ERROR_PAGE) is None, (path, query)
    return _texts(layout)


def _slides(lang: str) -> list[str]:
    """Every slide of the presentation, the cover included."""
    first = page_layout("/presentasjon")(kommune=KOMMUNE, lang=lang, lysbilde="1")
    total = int(find(first, "pres-counter").children.split("/")[1])
    out = _texts(first)
    for n in range(2, total + 1):
        out += _texts(page_layout("/presentasjon")(kommune=KOMMUNE, lang=lang, lysbilde=str(n)))
    # the what-if slide's choice of service and lever (the snapshot has no what-if slide: no coverage data)
    return out + _texts(page_module("/presentasjon")._what_if_picker(_state(lang)))


def _errors(lang: str) -> list[str]:
    """The presentation's and the map's friendly error pages (a wrong slide, service, lever or indicator)."""
    out = []
    for path, query in (("/presentasjon", {"lysbilde": "99"}), ("/presentasjon", {"hva_om": "NOPE"}),
                        ("/presentasjon", {"spak": "nope"}), ("/kart", {"indikator": "nope"})):
        layout = page_layout(path)(kommune=KOMMUNE, lang=lang, **query)
        assert find(layout, ids.ERROR_PAGE) is not None, (path, query)
        out += _texts(layout)
    return out


def _notices(lang: str) -> list[str]:
    """The shared notices and the export card, with an engine reason to word."""
    state = _state(lang)

    def broken():
        raise RuntimeError("a card that fails")

    return (_texts(components.missing_notice("X", "drivers fetch", lang, _said()))
            + _texts(components.guarded(broken, lang=lang))
            + _texts(components.no_peers_notice(state, views.peers_label(state)))
            + _texts(downloads.export_links(state, views.peers_label(state), views.konv_label(state),
                                            data.meta().name(KOMMUNE))))


def _charts(lang: str) -> list:
    """Each chart function of drivers.figures on Bærum's real figures, with one missing value and one engine
    reason each, so the notes are drawn too; titles and units passed in are one word (not the charts' words)."""
    state = _state(lang)
    year, peers, konv = state.aar, views.peers_label(state), views.konv_label(state)
    caption = figures.source_line(views.tables(), ["12362", "07459"], year, peers, konv, None, lang)

    gaps = views.gaps(state)
    services = gaps[gaps["service"] != "TOTAL"].copy()
    services["name"] = services["service"].map(lambda s: views.service_name(s, lang))
    services.loc[services.index[0], "gap_nok"] = np.nan
    services["reason"] = _reasons(services["gap_nok"].isna())
    waterfall = figures.gap_waterfall(services, data.meta().name(KOMMUNE), peers, caption, lang)

    rank_frame = views.service_values(state, "FGK7").copy()
    other = rank_frame.index[rank_frame["region"] != KOMMUNE][0]
    rank_frame.loc[other, ["value", "status"]] = [np.nan, ":"]
    rank = figures.peer_rank(rank_frame, KOMMUNE, "Tittel", "kr", caption, float(rank_frame["value"].mean()), "Snitt",
                             lang=lang, max_bars=3)

    series = views.service_timeseries(state, "FGK7").copy().reset_index(drop=True)
    series["backcast"] = [i == 0 for i in range(len(series))]
    series.loc[len(series) // 2, "value"] = np.nan
    timeseries = figures.timeseries(series, data.meta().name(KOMMUNE), peers, "Tittel", "kr", caption, lang=lang)

    parts, _ = views.decomposition(state, "FGK7")
    parts = parts.copy()
    parts.loc[parts.index[0], "nok"] = np.nan
    parts["reason"] = _reasons(parts["nok"].isna())
    labels = dict(zip(parts["component"], parts["name_en" if lang == "en" else "name_nb"], strict=True))
    decomposition = figures.decomposition(parts, "Tittel", caption, lang, labels)

    scatter_frame = views.coverage_unit_cost(state, "FGK7")
    scatter = figures.coverage_unit_cost(scatter_frame, KOMMUNE, "Tittel", "x", "y", caption, lang=lang)

    values = mv.values(data.get_panel(), _indicator("ndu_total_per_innb"), year)
    frame = values.frame.copy()
    frame.loc[frame.index[:3], "value"] = np.nan  # three municipalities without a figure, with the engine's reason
    frame["reason"] = _reasons(frame["value"].isna())
    grey = dataclasses.replace(values, frame=frame)
    choropleth = mv.choropleth(grey, KOMMUNE, "Tittel", caption, "/k.geojson", "/f.geojson", lang)
    return [waterfall, rank, timeseries, decomposition, scatter, choropleth]


def _reasons(where: pd.Series) -> pd.Series:
    """The engine's reason where a value is missing (object dtype: pandas 3 would store a Reason as a plain str)."""
    return pd.Series([_said() if w else None for w in where], index=where.index, dtype=object)


def _indicator(indicator_id: str):
    from drivers.engine import indicators

    return indicators.get(indicator_id)


def _both(build) -> dict[str, list[str]]:
    return {lang: build(lang) for lang in LANGS}


def test_kart_page_has_no_bokmal_in_english():
    t = _both(lambda lang: _page_texts("/kart", lang))
    assert _untranslated(t["nb"], t["en"]) == []
    en = " ".join(t["en"])
    for words in ("Indicator", "Median, all municipalities", "with a figure", "Lowest – highest",
                  "Click a municipality to select it.", "Map: © Kartverket", "Source: Statistics Norway",
                  "no. ", "(highest first)"):
        assert words in en, words


def test_presentation_has_no_bokmal_in_english():
    t = _both(_slides)
    assert _untranslated(t["nb"], t["en"]) == []
    en = " ".join(t["en"])
    for words in ("Budget seminar: Bærum", "Compared with", "Previous (left arrow)", "Next (right arrow)",
                  "Chart pack (ZIP)", "Exit", "Notes", "Choose what-if:", "unit cost"):
        assert words in en, words


def test_error_pages_speak_the_page_language():
    t = _both(_errors)
    assert _untranslated(t["nb"], t["en"]) == []
    en = " ".join(t["en"])
    for words in ("does not exist; the presentation has", "Unknown service «NOPE» for the what-if slide",
                  "spak must be coverage", "Unknown indicator «nope»"):
        assert words in en, words


def test_notices_and_export_card_word_the_reason_in_the_page_language():
    t = _both(_notices)
    assert _untranslated(t["nb"], t["en"]) == []
    shown = [c.children for c in walk(components.missing_notice("X", None, "en", _said()))
             if getattr(c, "className", None) == "reason"]
    assert shown == [i18n.t(REASON, "en")]  # the engine's reason, in the page's language
    en = " ".join(t["en"])
    for words in ("This part could not be computed", "has no other municipality in", "Download all charts (ZIP)",
                  "For the plan and the seminar", "Making the chart pack"):
        assert words in en, words
    assert "Denne delen kunne ikke beregnes" in " ".join(t["nb"])


def test_charts_have_no_bokmal_in_english():
    t = _both(lambda lang: [text for chart in _charts(lang) for text in _chart_texts(chart)])
    assert _untranslated(t["nb"], t["en"]) == []
    en = " ".join(t["en"])
    for words in ("NOK million", "Service", "Gap (NOK million)", "This part could not be computed", "Showing ",
                  "Municipality", "Year", "Back-cast", "Open markers", "No figure for", "Component",
                  "suppressed for confidentiality", "Grey: ", "Most common reason: This part could not be computed",
                  "The colour scale spans", "Municipality number", "SSB status", "NOK m<extra>",
                  "Source: Statistics Norway (SSB), KOSTRA table 12362"):
        assert words in en, words
    nb = " ".join(t["nb"])
    assert "Vanligste årsak: Denne delen kunne ikke beregnes" in nb and "Avvik (mill. kr)" in nb


def test_phrases_find_bokmal_inside_an_english_sentence():
    en = ["Grey: 3 municipalities without a figure. Vanligste årsak: tall mangler for kommunen"]
    nb = ["Grått: 3 kommuner uten tall. Vanligste årsak: tall mangler for kommunen"]
    assert _untranslated(nb, en) == ["tall mangler for kommunen"]
