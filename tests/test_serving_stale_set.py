"""A peer set saved again with other members: Oversikt and Tjenester show the new members' numbers at once
(page level, through the dashboard's page layouts and the serving layer), on the real database.

On the main branch before issue 12's serving layer the page caches were keyed on the view alone (the set's
name), so the pages kept the old members' gap until the server restarted."""

from __future__ import annotations

import pytest
from dash import html
from ui_pages_data import database, page_layout, walk

from drivers import fmt
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
    from ui_pages_data import make_app

    make_app()
    return data


def _render(component_id: dict):
    try:
        from drivers.ui.serving import render_deferred
    except ImportError:  # the main branch before the serving layer
        from drivers.ui.components import render_deferred
    return render_deferred(component_id)


def _expanded(tree):
    for node in list(walk(tree)):
        if isinstance(getattr(node, "id", None), dict) and node.id.get("type") == "deferred":
            node.children = _render(node.id)
    return tree


def _json(tree) -> str:
    return str(html.Div(tree).to_plotly_json())


def _save(name: str, members: list[str]) -> None:
    try:
        from drivers import peersets

        peersets.save(name, members, panel=data.get_panel())
    except ImportError:  # the main branch before drivers.peersets
        from drivers.engine import peers

        peers.save_peer_set(name, members, panel=data.get_panel())


def _peer_total(members: list[str]) -> str:
    """The engine's peer value per resident for the set, as the page writes it."""
    year = data.meta().default_year
    frame = api.gaps(data.get_panel(), KOMMUNE, year, PeerSet("mine", tuple(members)))
    return fmt.kr(float(frame.loc[frame["service"] == "TOTAL", "peer_per_resident"].iloc[0]))


def _names(codes: list[str]) -> list[str]:
    return [data.meta().name(c) for c in codes]


def test_pages_follow_a_set_saved_again_with_other_members(app):
    overview, services = page_layout("/"), page_layout("/tjenester")
    _save("mine", CITIES)
    first = _json(_expanded(overview(kommune=KOMMUNE, peers="mine")))
    first_services = _json(_expanded(services(kommune=KOMMUNE, peers="mine", tjeneste="FGK9")))
    cities, small = _peer_total(CITIES), _peer_total(SMALL)
    assert cities != small, "the two sets must give different peer values for the test to mean anything"
    assert f"mine: {cities}" in first
    assert all(name in first_services for name in _names(CITIES))

    _save("mine", SMALL)  # the same name, other members
    again = _json(_expanded(overview(kommune=KOMMUNE, peers="mine")))
    again_services = _json(_expanded(services(kommune=KOMMUNE, peers="mine", tjeneste="FGK9")))
    assert f"mine: {small}" in again and f"mine: {cities}" not in again, "Oversikt kept the old members' numbers"
    assert all(name in again_services for name in _names(SMALL)), "Tjenester lacks the new members"
    assert not any(name in again_services for name in _names(CITIES)), "Tjenester kept the old members"
