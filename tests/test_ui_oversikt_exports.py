"""Oversikt offers the chart pack (ZIP) and the seminar deck (PPTX) in one click, for exactly the view shown:
municipality, year, peer set, averaging and language travel in the links. Without a browser, real database."""

from __future__ import annotations

import dataclasses
import io
import sys
from urllib.parse import parse_qsl, urlsplit

import pytest
from ui_pages_data import database, find, text, walk

from drivers.config import Settings
from drivers.report import state as st
from drivers.ui import downloads


@pytest.fixture(scope="module")
def app():
    from drivers.ui.app import create_app

    return create_app(dataclasses.replace(Settings.from_env(), db_path=database()), preload=False)


def _oversikt(**query):
    return sys.modules["pages.oversikt"].layout(**query)


def _links(tree) -> dict:
    return {n.id: n for n in walk(tree) if getattr(n, "id", None) in (downloads.PACK_LINK, downloads.DECK_LINK)}


@pytest.mark.parametrize("kommune", ["0301", "3222", "1151"])
def test_oversikt_links_pack_and_deck_for_the_view(app, kommune):
    query = {"kommune": kommune, "aar": "2024", "peers": "fylke", "konv": "unweighted"}
    tree = _oversikt(**query)
    links = _links(tree)
    assert set(links) == {downloads.PACK_LINK, downloads.DECK_LINK}
    assert links[downloads.PACK_LINK].children == "Last ned alle figurer (ZIP)"
    assert links[downloads.DECK_LINK].children == "Last ned seminarpresentasjon (PPTX)"
    expected = st.parse(query)
    for link, route in ((downloads.PACK_LINK, downloads.PACK_ROUTE), (downloads.DECK_LINK, downloads.DECK_ROUTE)):
        href = urlsplit(links[link].href)
        assert href.path == route and route in {r.rule for r in app.server.url_map.iter_rules()}
        assert st.parse(dict(parse_qsl(href.query))) == expected, "the file is made for the view on screen"
    card = find(tree, downloads.EXPORTS)
    assert "2024" in text(card) and "uvektet" in text(card)
    status = find(card, downloads.EXPORT_STATUS)  # filled on click by a clientside callback
    props = status.to_plotly_json()["props"]
    assert "Figurpakken lages" in props["data-pack"] and "Seminarpresentasjonen lages" in props["data-deck"]


def test_oversikt_export_links_in_english_and_default_view(app):
    links = _links(_oversikt(lang="en"))
    assert links[downloads.PACK_LINK].children == "Download all charts (ZIP)"
    assert links[downloads.DECK_LINK].children == "Download seminar deck (PPTX)"
    params = dict(parse_qsl(urlsplit(links[downloads.DECK_LINK].href).query))
    default = st.parse({})
    assert params["lang"] == "en" and params["kommune"] == default.kommune and params["aar"] == str(default.aar)


@pytest.mark.kaleido
def test_deck_link_answers_with_a_pptx(app):
    from pptx import Presentation

    from drivers.export import image

    if image.chromium_path() is None:
        pytest.skip("no Chromium: the deck's chart images cannot be made here")
    href = _links(_oversikt(kommune="3222", aar="2024"))[downloads.DECK_LINK].href
    resp = app.server.test_client().get(href)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype.endswith("presentationml.presentation")
    assert 'filename="seminar-3222-2024.pptx"' in resp.headers["Content-Disposition"]
    deck = Presentation(io.BytesIO(resp.data))
    assert len(deck.slides) >= 3
    first = " ".join(s.text_frame.text for s in deck.slides[0].shapes if s.has_text_frame)
    assert "Lørenskog" in first and "2024" in first
