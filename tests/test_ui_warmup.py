"""The pages next to a served view are built while the server is idle (drivers.ui.serving.warmup), on the real
database."""

import sys

import flask
import pytest

from drivers.config import Settings
from drivers.report import state as st
from drivers.ui.serving import parts, switch, warmup


@pytest.fixture(scope="module")
def app():
    if not switch.enabled():
        pytest.skip("DRIVERS_SERVING=plain: no warm-up")
    settings = Settings.from_env()
    if not settings.database_for_reading().exists():
        pytest.skip(f"no database at {settings.database_for_reading()}: run `drivers snapshot build`")
    from drivers.ui.app import create_app

    return create_app(settings, preload=False)


@pytest.fixture
def no_background(monkeypatch):
    """Pages served in these tests do not start the background warm-up (the tests warm by hand)."""
    monkeypatch.setattr(warmup, "visited", lambda path, state: None)


def test_every_page_offers_itself_in_navigation_order(app):
    assert {"/", "/tjenester", "/sammenlign", "/kart", "/metode"} <= set(warmup._pages)


def test_warming_builds_the_other_pages_and_their_deferred_parts(app, no_background):
    state = st.parse({"kommune": "1151", "peers": "fylke"})  # a view no other test warms
    tjenester = sys.modules["pages.tjenester"]
    with flask.Flask("t").test_request_context():
        cold = tjenester.layout(**state.query())
    assert parts.deferred_parts(cold), "a view never seen has its slow parts deferred"

    warmed = warmup.warm_neighbours("/", state)
    assert warmed == ["/tjenester", "/sammenlign", "/kart", "/metode"]

    with flask.Flask("t").test_request_context():
        page = tjenester.layout(**state.query())
    assert parts.deferred_parts(page) == [], "after warming, the page is served whole"
    assert "Utsira" in str(page.to_plotly_json())


def test_warming_stops_when_the_server_is_busy(app, no_background):
    state = st.parse({"kommune": "1151", "peers": "landet"})
    assert warmup.warm_neighbours("/", state, should_go_on=lambda: False) == []
    with flask.Flask("t").test_request_context():
        page = sys.modules["pages.tjenester"].layout(**state.query())
    assert parts.deferred_parts(page), "nothing was built"


def test_quiet_means_no_request_in_flight_for_a_moment(app):
    client = app.server.test_client()
    assert client.get("/_dash-layout").status_code == 200
    assert not warmup._quiet()  # a request has just finished
    warmup._last_done -= warmup.QUIET
    assert warmup._quiet()
