"""Presentasjon for a municipality alone in its KOSTRA group: Oslo (0301) is the only member of KOSTRA-gruppe 13,
so the storyline switches to Landet, as the deck does, and the cover says so (real data)."""

from __future__ import annotations

import pytest
from ui_pages_data import make_app, page_layout, text


@pytest.fixture(scope="module")
def app():
    return make_app(preload=False)  # no export Chromium, no warm-up thread beside the tests (ui_pages_data.pages_app)


def _cover(lang: str) -> str:
    return text(page_layout("/presentasjon")(kommune="0301", aar="2024", lang=lang, lysbilde="1"))


def test_oslo_alone_in_its_group_is_shown_against_landet_and_told_so(app):
    from drivers.report import state as st
    from drivers.report import story

    state = st.parse({"kommune": "0301", "aar": "2024"})
    used, sentence = story.prepare(state)
    assert used.peers == "landet" and sentence
    cover = _cover("nb")
    assert sentence in cover and "Landet" in cover
    slides = story.build(used)
    assert len(slides) >= 4  # income, total, services and a driver at least: not the income slide alone
    for slide in slides:
        assert slide.title in cover  # the agenda lists the switched storyline


def test_the_switch_is_worded_in_english(app):
    cover = _cover("en")
    assert "Norway" in cover or "the country" in cover.lower()
    assert "KOSTRA-gruppe 13 har bare" not in cover
