"""A page answered again for the same view is written from its kept JSON (drivers.ui.serving.prejson): the same
bytes Dash would write, on the real database."""

import json

import pytest

from drivers.config import Settings
from drivers.ui.serving import prejson, switch, warmup


@pytest.fixture(scope="module")
def client():
    if not switch.enabled():
        pytest.skip("DRIVERS_SERVING=plain: no kept JSON")
    settings = Settings.from_env()
    if not settings.database_for_reading().exists():
        pytest.skip(f"no database at {settings.database_for_reading()}: run `drivers snapshot build`")
    from drivers.ui.app import create_app

    return create_app(settings, preload=False).server.test_client()


def _route(path: str, search: str) -> dict:
    """The request Dash's page router sends when the URL changes."""
    return {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname", "_pages_location.search"]}


def _deferred(part: str, key: str) -> dict:
    cid = {"type": "deferred", "part": part, "key": key}
    return {"output": '{"key":["MATCH"],"part":["MATCH"],"type":"deferred"}.children',
            "outputs": {"id": cid, "property": "children"},
            "inputs": [{"id": cid, "property": "id", "value": cid}], "changedPropIds": [json.dumps(cid) + ".id"]}


@pytest.mark.parametrize(("path", "search"), [("/", "?kommune=0301"), ("/tjenester", "?kommune=1151&tjeneste=FGK9"),
                                              ("/sammenlign", "?kommune=3222"), ("/kart", "?kommune=3222"),
                                              ("/metode", "?kommune=3222&lang=en")])
def test_page_answered_from_kept_json_is_what_dash_writes(client, monkeypatch, path, search):
    monkeypatch.setattr(warmup, "visited", lambda path, state: None)
    first = client.post("/_dash-update-component", json=_route(path, search))
    assert first.status_code == 200
    kept = len(prejson.KEPT)
    again = client.post("/_dash-update-component", json=_route(path, search))
    assert again.data == first.data
    assert len(prejson.KEPT) == kept, "the page's JSON was written again instead of reused"
    # the bytes Dash writes itself, from the component objects
    monkeypatch.setattr(prejson, "orjson", None)
    plain = client.post("/_dash-update-component", json=_route(path, search))
    assert plain.data == again.data
    body = json.loads(again.data)["response"]["_pages_content"]["children"]
    assert body["props"]["id"] == "page-root"


def test_a_page_gets_new_json_once_its_deferred_part_is_built(client, monkeypatch):
    """A view never seen arrives with its slow parts deferred; once a part is built, the page is new JSON with
    the part in place, and that is kept in turn."""
    monkeypatch.setattr(warmup, "visited", lambda path, state: None)
    route = _route("/tjenester", "?kommune=1151&peers=landet-uten-oslo&tjeneste=FGK2")
    raw = client.post("/_dash-update-component", json=route).data
    cold = json.loads(raw)
    ids = [n for n in _walk(cold) if isinstance(n.get("props", {}).get("id"), dict)
           and n["props"]["id"].get("type") == "deferred"]
    assert ids, "a view never seen has deferred parts"
    for node in ids:  # the browser asks for each part
        cid = node["props"]["id"]
        part = client.post("/_dash-update-component", json=_deferred(cid["part"], cid["key"]))
        assert part.status_code == 200
    warm = client.post("/_dash-update-component", json=route).data
    assert b'"type":"deferred"' in raw and b'"type":"deferred"' not in warm
    assert b"deferred-filled" in warm
    kept = len(prejson.KEPT)
    assert client.post("/_dash-update-component", json=route).data == warm
    assert len(prejson.KEPT) == kept, "the filled page was rebuilt and written again"


def _walk(node):
    if isinstance(node, dict):
        if "props" in node:
            yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)
