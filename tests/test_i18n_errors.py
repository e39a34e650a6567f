"""The engine's errors are worded in the page's language (issue 12 item 5): each UserError the engine raises
carries a Reason, so `str(exc)` is the bokmål the CLI always printed and the dashboard words it in English on
English pages; English pages and figures write English number marks; the browser tab's title follows the
language."""

from __future__ import annotations

import re

import flask
import pytest
from engine_data import snapshot_panel
from ui_pages_data import walk

from drivers import figures, fmt, i18n
from drivers.engine import api, averages, peers
from drivers.engine import indicators as reg
from drivers.engine.reasons import Reason
from drivers.errors import UserError
from drivers.ui import components

# Bokmål words none of the English wordings may hold (arguments are codes and numbers, e.g. 'landet-uten-oslo')
BOKMAL = ("ukjent", "kjente", "bruk ", "må ", "ingen", " har ", "gruppen", "eller", "velg", "kommunenummer",
          "databasen", "snittkonvensjon", "sammenligningsgruppe", "antall", "kommuner ")


@pytest.fixture(scope="module")
def panel():
    return snapshot_panel()


def _errors(panel) -> list[tuple[UserError, str]]:
    """Real engine errors on the snapshot panel, each with today's bokmål message."""
    year = panel.latest_year()
    ids = ", ".join(i.id for i in reg.all())
    cases = [
        (lambda: reg.get("nope"), f"ukjent indikator 'nope' (unknown indicator); kjente: {ids}"),
        (lambda: reg.service("FGK99"),
         f"ukjent tjeneste 'FGK99' (unknown service); kjente: {', '.join(reg.services())}"),
        (lambda: peers.check_peers("Nord"),
         f"ukjent sammenligningsgruppe «Nord» (unknown peer set); kjente: {', '.join(peers.BUILTIN)} "
         "eller en lagret gruppe (drivers.peersets.resolve gir den som PeerSet)"),
        (lambda: averages.check_convention("median"),
         f"ukjent snittkonvensjon «median»; bruk {', '.join(averages.CONVENTIONS)}"),
        (lambda: api.group_value(panel, reg.all()[0].id, year, peers.PeerSet("Tom", ())),
         "gruppen «[]» har ingen kommuner"),
        (lambda: api.group_value(panel, reg.all()[0].id, year, "Nordland"),
         "ukjent gruppe «Nordland» (landet, landet-uten-oslo, EKGnn, et fylkesnummer, en liste med "
         "kommunenumre eller en lagret gruppe som PeerSet)"),
        (lambda: panel.check_region("9998"),
         f"ukjent kommunenummer '9998' (unknown municipality); bruk et av de {panel.n} kommunenumrene "
         "i 2024-strukturen, f.eks. 3222 Lørenskog"),
        (lambda: panel.check_year(1990),
         f"ingen KOSTRA-tall for 1990 i databasen (no data for that year); har: {', '.join(map(str, panel.years))}"),
        (lambda: peers.PeerSet("landet", ("3201",)), "«landet» er en innebygd sammenligningsgruppe; velg et annet navn"),
        (lambda: peers.nearest_frame(panel, "3201", year, k=0), f"antall naboer må være mellom 1 og {panel.n - 1}"),
        (lambda: api.what_if(panel, "3201", year, lever="pris"),
         "spak må være coverage (dekningsgrad) eller unit_cost (enhetskostnad)"),
    ]
    out = []
    for call, bokmal in cases:
        with pytest.raises(UserError) as info:
            call()
        out.append((info.value, bokmal))
    return out


def test_engine_errors_are_todays_bokmal_and_english_in_english(panel):
    for exc, bokmal in _errors(panel):
        assert str(exc) == bokmal
        reason = exc.args[0]
        assert isinstance(reason, Reason) and reason.key.startswith("reason.err_"), reason
        assert i18n.reason_text(reason, "nb") == bokmal
        english = i18n.reason_text(reason, "en")
        assert english and english != bokmal, reason.key
        found = [w for w in BOKMAL if w in english.lower()]
        assert not found, (reason.key, found, english)


def test_the_dashboard_words_an_engine_error_in_the_page_language(panel):
    exc = _errors(panel)[0][0]
    page = components.error_view(exc, "en")
    texts = [n.children for n in walk(page) if isinstance(getattr(n, "children", None), str)]
    assert any(s.startswith("unknown indicator 'nope'; known: ") for s in texts), texts
    assert any(s.startswith("ukjent indikator 'nope'") for s in _texts(components.error_view(exc, "nb")))

    def broken():
        peers.check_peers("Nord")

    card = components.guarded(broken, lang="en", what="Peers")
    assert any(s.startswith("unknown peer set “Nord”; known: ") for s in _texts(card))
    assert any(s.startswith("ukjent sammenligningsgruppe «Nord»") for s in _texts(components.guarded(broken)))
    # a message worded before (no Reason) is shown as it is
    assert "lenken er utløpt" in _texts(components.error_view(UserError("lenken er utløpt"), "en"))


def test_numbers_are_written_the_language_s_way():
    assert fmt.number(1234.5, 1) == "1 234,5" and fmt.number(1234.5, 1, lang="en") == "1,234.5"
    assert fmt.number(-0.04, 1) == "0,0" and fmt.number(-1234, lang="en") == "-1,234"
    assert fmt.kr(12345) == "12 345 kr" and fmt.kr(12345, lang="en") == "NOK 12,345"
    assert fmt.mill_kr(38.2e6, sign=True) == "+38,2 mill. kr"
    assert fmt.mill_kr(-38.2e6, sign=True, lang="en") == "-NOK 38.2 million"
    assert fmt.pct(3.14) == "3,1 %" and fmt.pct(3.14, lang="en") == "3.1%"
    assert fmt.signed(0.0, lang="en") == "0" and fmt.signed(12.34, 1, lang="en") == "+12.3"


def test_english_oversikt_has_english_number_marks(pages):
    from test_ui_pages import expand_layout, walk

    for lang, separators, mark in (("en", ".,", re.compile(r"^-?\d{1,3}(,\d{3})*\.\d$")),
                                   ("nb", ", ", re.compile(r"^-?\d{1,3}( \d{3})*,\d$"))):
        tree = expand_layout(pages["oversikt"], kommune="3201", lang=lang)
        figs = [_plain(n.figure) for n in walk(tree) if type(n).__name__ == "Graph"]
        waterfall = [f for f in figs if f["data"] and f["data"][0].get("type") == "waterfall"]
        assert waterfall, "Oversikt shows the gap waterfall"
        assert waterfall[0]["layout"]["separators"] == separators
        labels = waterfall[0]["data"][0]["text"]
        assert labels and all(mark.match(s) for s in labels), labels


def test_figures_take_the_language_s_separators():
    import pandas as pd

    frame = pd.DataFrame({"region": ["3201", "3203"], "name": ["Bærum", "Asker"], "value": [1234.5, 987.0],
                          "status": [None, None]})
    en = figures.peer_rank(frame, "3201", "t", "kr", "c", decimals=1, lang="en")
    nb = figures.peer_rank(frame, "3201", "t", "kr", "c", decimals=1)
    assert en.figure.layout.separators == ".," and nb.figure.layout.separators == ", "
    assert list(en.figure.data[0].text) == ["987.0", "1,234.5"] and list(nb.figure.data[0].text) == ["987,0", "1 234,5"]


def test_the_tab_title_follows_the_language(pages):
    import dash

    page = next(p for p in dash.page_registry.values() if p["path"] == "/kart")
    with flask.Flask(__name__).test_request_context("/kart?kommune=3201&lang=en"):
        assert page["title"]() == "Map – municipal finances"
    with flask.Flask(__name__).test_request_context("/kart?kommune=3201"):
        assert page["title"]() == "Kart – kommuneøkonomi"
    assert page["title"]() == "Kart – kommuneøkonomi"  # outside a request: bokmål
    # as Dash's routing callback asks for it when the browser goes to /kart?…&lang=en
    client = dash.get_app().server.test_client()
    client.get("/")  # Dash registers its routing callback on the first request
    route = {"output": ".._pages_content.children..._pages_store.data..",
             "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
             "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/kart"},
                        {"id": "_pages_location", "property": "search", "value": "?kommune=3201&lang=en"}],
             "changedPropIds": ["_pages_location.pathname"], "state": []}
    answer = client.post("/_dash-update-component", json=route).get_json()
    assert answer["response"]["_pages_store"]["data"]["title"] == "Map – municipal finances"


def _texts(node) -> list[str]:
    return [n.children for n in walk(node) if isinstance(getattr(n, "children", None), str)]


def _plain(figure) -> dict:
    return figure if isinstance(figure, dict) else figure.to_plotly_json()
