"""A peer set with other members: Oversikt and Tjenester show the new members' numbers at once (page level,
through the dashboard's page layouts and the serving layer), on the real database. Two ways a set changes:

- an own set (issue 13 item 3: carried whole in the URL) saved again under the same name with other members is
  another URL; the pages are keyed on the members, so they show the new numbers and the old URL the old ones;
- the team's shared set, edited by the administrator in the sets file the app reads: the pages follow at once.

On the main branch before issue 12's serving layer the page caches were keyed on the view alone (the set's
name), so the pages kept the old members' gap until the server restarted."""

from __future__ import annotations

import pytest
from dash import html
from ui_pages_data import database, page_layout, walk

from drivers import fmt, peersets
from drivers.engine import api
from drivers.engine.peers import PeerSet
from drivers.report import data

KOMMUNE = "3222"  # Lørenskog
CITIES = ["0301", "4601", "5001", "1103"]  # Oslo, Bergen, Trondheim, Stavanger
SMALL = ["1151", "5612", "1818", "3436"]  # Utsira, Kautokeino, Herøy (Nordland), Nord-Fron


@pytest.fixture
def app(tmp_path, monkeypatch):
    database()
    monkeypatch.setenv("DRIVERS_PEER_SETS", str(tmp_path / "peer_sets.json"))
    from ui_pages_data import make_app, page_module

    make_app()
    return page_module("/sammenlign")


def _expanded(tree):
    from drivers.ui.serving import render_deferred

    for node in list(walk(tree)):
        if isinstance(getattr(node, "id", None), dict) and node.id.get("type") == "deferred":
            node.children = render_deferred(node.id)
    return tree


def _json(tree) -> str:
    return str(html.Div(tree).to_plotly_json())


def _peer_total(members: list[str]) -> str:
    """The engine's peer value per resident for the set, as the page writes it."""
    year = data.meta().default_year
    frame = api.gaps(data.get_panel(), KOMMUNE, year, PeerSet("mine", tuple(members)))
    return fmt.kr(float(frame.loc[frame["service"] == "TOTAL", "peer_per_resident"].iloc[0]))


def _names(codes: list[str]) -> list[str]:
    return [data.meta().name(c) for c in codes]


def _pages(peers: str) -> tuple[str, str]:
    overview, services = page_layout("/"), page_layout("/tjenester")
    return (_json(_expanded(overview(kommune=KOMMUNE, peers=peers))),
            _json(_expanded(services(kommune=KOMMUNE, peers=peers, tjeneste="FGK9"))))


def _follows(first: tuple[str, str], again: tuple[str, str]) -> None:
    cities, small = _peer_total(CITIES), _peer_total(SMALL)
    assert cities != small, "the two sets must give different peer values for the test to mean anything"
    assert f"mine: {cities}" in first[0]
    assert all(name in first[1] for name in _names(CITIES))
    assert f"mine: {small}" in again[0] and f"mine: {cities}" not in again[0], "Oversikt kept the old members' numbers"
    assert all(name in again[1] for name in _names(SMALL)), "Tjenester lacks the new members"
    assert not any(name in again[1] for name in _names(CITIES)), "Tjenester kept the old members"


def test_pages_follow_an_own_set_saved_again_with_other_members(app):
    """Saved in the page (the save callback's check, nothing written), then saved again as «mine» with other
    members: the view of the new URL has the new numbers, the first URL still its own."""
    _, first_set = app.save_set("mine", CITIES, "nb")
    first = _pages(first_set["peers"])
    _, again_set = app.save_set("mine", SMALL, "nb")
    assert again_set["name"] == first_set["name"] and again_set["peers"] != first_set["peers"]
    again = _pages(again_set["peers"])
    _follows(first, again)
    assert _pages(first_set["peers"]) == first  # the first link still shows its own set


def test_pages_follow_a_team_set_the_administrator_edits(app):
    """The administrator's file: «mine» = the cities, then the small municipalities under the same name."""
    peersets.save("mine", CITIES, panel=data.get_panel())
    first = _pages("mine")
    peersets.save("mine", SMALL, panel=data.get_panel())
    _follows(first, _pages("mine"))
