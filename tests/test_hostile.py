"""Hostile input (issue 13 item 1): whatever a client sends, the answer is a 4xx (or a normal page), never a 500 or
a traceback, in the response or in the log (drivers.ui.serving.guard). Property-based (hypothesis) over every
page's query parameters, every registered server callback's payload, Dash's file paths and body sizes, on the
real app and the real database; and one request with a 50 MB body through a real waitress server."""

from __future__ import annotations

import copy
import json
import logging
import socket
import threading
import time
from collections import Counter
from urllib.parse import urlencode

import dash
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from drivers.config import Settings
from drivers.ui.serving import guard, warmup

pytestmark = pytest.mark.slow  # ~1 000 requests, some of them building a page or a part

UPDATE = "/_dash-update-component"
SUITES = "/_dash-component-suites/"
RUNS = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
TALLY: Counter = Counter()  # (what, status) over the module: the figures of the report


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings_ = Settings.from_env()
    if not settings_.database_for_reading().exists():
        pytest.skip(f"no database at {settings_.database_for_reading()}: run `drivers snapshot build`")
    patch = pytest.MonkeyPatch()
    # the save-set callback really saves: into a file of the test's own, never data/peer_sets.json
    patch.setenv("DRIVERS_PEER_SETS", str(tmp_path_factory.mktemp("hostile") / "peer_sets.json"))
    patch.setattr(warmup, "visited", lambda path, state: None)  # no warm-up thread competing with the test
    from drivers.ui.app import create_app

    app = create_app(settings_, preload=False)
    app.server.test_client().get("/_dash-layout")  # Dash registers the pages' callbacks at the first request
    yield app
    patch.undo()
    print("\nhostile requests by kind and status:", dict(sorted(TALLY.items())), "total", sum(TALLY.values()))


@pytest.fixture
def client(app):
    return app.server.test_client()


@pytest.fixture
def clean_log(caplog, capfd):
    """After the test: no traceback in the log records or on stderr, and no request left to the last resort."""
    caplog.set_level(logging.WARNING)
    rescued = guard.rescued()
    yield
    bad = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert not bad, [f"{r.name}: {r.getMessage()[:200]}" for r in bad]
    assert "Traceback" not in capfd.readouterr().err
    assert guard.rescued() == rescued, "a request passed the guard's checks and failed in Dash's dispatch"


def send(client, what: str, path: str, method: str = "GET", **kw):
    response = client.open(path, method=method, **kw)
    TALLY[(what, response.status_code)] += 1
    assert response.status_code < 500, (what, path, kw, response.data[:300])
    assert b"Traceback" not in response.data
    return response


def route(path, search) -> dict:
    """The request Dash's page router sends when the URL changes."""
    return {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname", "_pages_location.search"]}


# ---- what a hostile client sends ---------------------------------------------------------------------------------

PARAMS = ["kommune", "aar", "peers", "konv", "lang", "tjeneste", "indikator", "lysbilde", "visning", "hva"]
TOKENS = ["0301", "3222", "1151", "9999", "2024", "2015", "1900", "kostragruppe", "naboer", "landet", "weighted",
          "unweighted-excl-self", "nb", "en", "FGK9", "FGK2", "", " ", "[]", '["0301"]', "{}", "null", "../..",
          "<script>alert(1)</script>", "%00", "\x00", "' OR 1=1 --", "３２２２", "٢٠٢٤", "0301 ", "-1", "1e9", "NaN"]
texts = hs.one_of(hs.sampled_from(TOKENS), hs.text(max_size=40), hs.integers().map(str),
                  hs.integers(2_000, 60_000).map(lambda n: "9" * n))  # huge: up to 60 KB
queries = hs.lists(hs.tuples(hs.one_of(hs.sampled_from(PARAMS), hs.text(max_size=12)), texts), max_size=6)
json_values = hs.recursive(hs.none() | hs.booleans() | hs.integers() | hs.floats() | hs.text(max_size=30),
                           lambda inner: hs.lists(inner, max_size=4) | hs.dictionaries(hs.text(max_size=8), inner,
                                                                                       max_size=4),
                           max_leaves=12)
hostile = hs.one_of(json_values, hs.integers(10_000, 200_000).map(lambda n: "x" * n),
                    hs.sampled_from([None, 0, -1, 1.5, True, [], {}, [None], ["0301", 5], {"id": None}, "", "..",
                                     {"type": "deferred"}, [[["deep"]]], "0301"]))


def page_paths() -> list[str]:
    return [p["path"] for p in dash.page_registry.values()] + ["/finnes-ikke", "/tjenester/x", "//", "/%2e%2e/"]


@pytest.fixture(scope="module")
def callbacks(app) -> dict:
    """Every registered server callback with a valid request for it."""
    shapes = app.server.extensions["drivers-guard"]
    with app.server.test_request_context("/"):
        specs = shapes.specs()
    assert not shapes.unresolved, f"components not found for {shapes.unresolved}: their values go unchecked"
    return {key: valid_body(key, spec) for key, spec in specs.items()}


VALID = {("sml-set-name", "value"): "fuzzgruppe", ("sml-set-members", "value"): ["0301", "3222"],
         ("_pages_location", "pathname"): "/", ("_pages_location", "search"): "?kommune=1151"}
DEFERRED_ID = {"type": "deferred", "part": "oversikt-summary",
               "key": "kommune=1151&aar=2024&peers=kostragruppe&konv=weighted&lang=nb"}


def _concrete(dep) -> str | dict:
    if isinstance(dep.id, str):
        return dep.id
    if dep.id.get("type") == "deferred":
        return dict(DEFERRED_ID)
    return {k: (v if not isinstance(v, list) else "x") for k, v in dep.id.items()}


def _item(dep, with_value: bool) -> dict:
    item = {"id": _concrete(dep), "property": dep.prop}
    if with_value:
        item["value"] = item["id"] if dep.prop == "id" else VALID.get(
            (dep.id if isinstance(dep.id, str) else json.dumps(dep.id), dep.prop), 1 if "n_" in dep.prop else "nb")
    return [item] if dep.many else item


def valid_body(key: str, spec) -> dict:
    outputs = ([_item(d, False) for d in spec.outputs] if isinstance(spec.outputs, list)
               else _item(spec.outputs, False))
    inputs = [_item(d, True) for d in spec.inputs]
    body = {"output": key, "outputs": outputs, "inputs": inputs, "state": [_item(d, True) for d in spec.state]}
    body["changedPropIds"] = [f"{json.dumps(i['id']) if isinstance(i['id'], dict) else i['id']}.{i['property']}"
                              for i in inputs if isinstance(i, dict)]
    return body


def mutate(key: str, callbacks: dict, data, keys: list[str]):
    """A mutated copy of the valid request of `key`'s callback: (JSON value or raw bytes, content type)."""
    body = copy.deepcopy(callbacks[key])
    items = [(k, i) for k in ("inputs", "state") for i in range(len(body[k]))]
    how = data.draw(hs.sampled_from(["value", "item", "id", "property", "key", "drop", "length", "body", "raw",
                                     "type", "output", "deferred", "outputs"]))
    if how in ("value", "item", "id", "property") and items:
        k, i = data.draw(hs.sampled_from(items))
        item = body[k][i]
        if how == "item":
            body[k][i] = data.draw(hostile)
        elif isinstance(item, dict):
            field = {"value": "value", "id": "id", "property": "property"}[how]
            item[field] = data.draw(hs.one_of(hostile, hs.text(max_size=20)))
    elif how == "key":
        body[data.draw(hs.sampled_from(list(body)))] = data.draw(hostile)
    elif how == "drop":
        body.pop(data.draw(hs.sampled_from(list(body))))
    elif how == "length":
        k = data.draw(hs.sampled_from(["inputs", "state", "changedPropIds"]))
        body[k] = body[k][:-1] if body[k] and data.draw(hs.booleans()) else [*body[k], data.draw(hostile)]
    elif how == "body":
        return data.draw(hostile), "application/json"
    elif how == "raw":
        return data.draw(hs.sampled_from([b"null", b"", b"{", b"[" * 100_000, b'{"output": }', b"\xff\xfe", b"NaN",
                                          b'{"output": "' + b"x" * 500_000 + b'"}'])), "application/json"
    elif how == "type":
        return json.dumps(body).encode(), data.draw(hs.sampled_from(["text/plain", "application/x-www-form-urlencoded",
                                                                     "", "multipart/form-data; boundary=x"]))
    elif how == "output":
        body["output"] = data.draw(hs.one_of(hs.sampled_from(keys), hs.text(max_size=60)))
    elif how == "outputs":
        body["outputs"] = data.draw(hs.one_of(hostile, hs.just([body["outputs"]]), hs.just(body["outputs"][:1]
                                                                                            if isinstance(body["outputs"], list) else [])))
    elif how == "deferred":
        cid = dict(DEFERRED_ID)
        cid[data.draw(hs.sampled_from(["part", "key", "type", "extra"]))] = data.draw(hs.one_of(
            hostile, hs.sampled_from(["tjenester-tid", "tjenester-dekomponering", "kommune=0301", "tjeneste=FGK9",
                                      "kommune=0301&tjeneste=XYZ", "aar=abc&tjeneste=FGK9"])))
        if cid.get("part") in ("tjenester-tid", "tjenester-dekomponering") and data.draw(hs.booleans()):
            cid["key"] = "kommune=3222&aar=2024&tjeneste=" + data.draw(hs.sampled_from(["FGK9", "FGK2", "XYZ", "..", ""]))
        body = copy.deepcopy(next(b for k, b in callbacks.items() if "deferred" in k))
        body["inputs"][0] = {"id": cid, "property": "id", "value": cid}
        body["outputs"] = {"id": cid, "property": "children"}
    return body, "application/json"



# ---- the tests ---------------------------------------------------------------------------------------------------

def test_every_page_with_hostile_query_parameters(client, clean_log):
    paths = page_paths()

    @RUNS
    @given(path=hs.sampled_from(paths), query=queries, raw=hs.booleans())
    def run(path, query, raw):
        qs = "&".join(f"{k}={v}" for k, v in query) if raw else urlencode(query)
        send(client, "page GET", f"{path}?{qs}")
        send(client, "page callback", UPDATE, "POST", json=route(path, f"?{qs}"))

    run()


def test_every_callback_with_hostile_payloads(app, client, callbacks, clean_log):
    keys = list(app.callback_map)  # clientside callbacks too: no server callback to run
    for key, body in callbacks.items():  # the valid request of each callback is answered
        assert send(client, "valid callback", UPDATE, "POST", json=body).status_code in (200, 204), key

    @settings(RUNS, max_examples=450)
    @given(key=hs.sampled_from(sorted(callbacks)), data=hs.data())
    def run(key, data):
        payload, ctype = mutate(key, callbacks, data, keys)
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        send(client, "callback", UPDATE, "POST", data=raw, content_type=ctype)

    run()


def _set(body: dict, path: tuple, value) -> dict:
    body = copy.deepcopy(body)
    node = body
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return body


# the findings of issue 13 against `waitress-serve app:server` and their kin: without the guard most were a 500
# with a traceback, the others a traceback in the log or a value no browser sends reaching the callback
REPORTED = [
    ("pages", ("inputs",), None), ("pages", ("outputs",), None), ("pages", ("inputs", 0, "value"), 5),
    ("pages", ("inputs", 1, "value"), ["?kommune=0301"]), ("pages", ("inputs", 0, "id"), "finnes-ikke"),
    ("pages", ("output",), "finnes-ikke.children"), ("pages", ("output",), "url.href"),  # a clientside callback
    ("sml-set", ("state", 0, "value"), 42), ("sml-set", ("state", 0, "value"), ["navn"]),
    ("sml-set", ("state", 1, "value"), "0301"), ("sml-set", ("state", 1, "value"), [301, None]),
    ("sml-set", ("state", 2, "value"), {"lang": "nb"}), ("sml-set", ("inputs", 0, "value"), "1"),
    ("deferred", ("inputs", 0, "value", "key"), 5), ("deferred", ("inputs", 0, "value", "part"), ["x"]),
    # a relative pathname: Dash's page router raised UnsupportedRelativePath (found by hypothesis)
    ("pages", ("inputs", 0, "value"), ""), ("pages", ("inputs", 0, "value"), "x"),
]


@pytest.mark.parametrize(("which", "path", "value"), REPORTED)
def test_the_reported_payloads_are_400(client, callbacks, clean_log, which, path, value):
    key = next(k for k in callbacks if which in k)
    body = _set(callbacks[key], path, value)
    if path[:2] == ("inputs", 0) and which == "deferred":  # the id and its value are the same object
        body["inputs"][0]["id"] = body["inputs"][0]["value"]
    assert send(client, "reported", UPDATE, "POST", json=body).status_code == 400


@pytest.mark.parametrize("body", [b"null", b"[]", b"{}", b"not json", b"[" * 100_000])
def test_a_body_that_is_no_callback_request_is_400(client, clean_log, body):
    assert send(client, "reported", UPDATE, "POST", data=body, content_type="application/json").status_code == 400


def test_a_deferred_part_without_its_service_is_400(client, callbacks, clean_log):
    key = next(k for k in callbacks if "deferred" in k)
    cid = {"type": "deferred", "part": "tjenester-tid", "key": "kommune=3222&aar=2024"}
    body = {**callbacks[key], "inputs": [{"id": cid, "property": "id", "value": cid}],
            "outputs": {"id": cid, "property": "children"}}
    response = send(client, "reported", UPDATE, "POST", json=body)
    assert response.status_code == 400 and "tjeneste" in response.get_json()["error"]


def test_component_suite_paths_outside_dash_are_404(app, client, clean_log):
    segments = hs.one_of(hs.sampled_from(["..", ".", "", "dash", "deps", "%2e%2e", "..%2f..", "..\\..", "etc",
                                          "passwd", "dash_renderer.min.js", "x.js", "dcc", "dash_core_components.js"]),
                         hs.text(max_size=10).filter(lambda s: not any(c in s for c in "?#")))

    @RUNS
    @given(package=hs.sampled_from(["dash", "dash_ag_grid", "plotly", "os", "drivers", "..", ""]),
           rest=hs.lists(segments, min_size=1, max_size=6))
    def run(package, rest):
        path = SUITES + "/".join([package, *rest])
        response = send(client, "component-suites", path)
        if ".." in [package, *rest]:
            assert response.status_code == 404

    run()
    assert client.get("/").status_code == 200  # the index registers the files Dash serves
    for package, files in sorted(app.registered_paths.items()):
        assert send(client, "component-suites", f"{SUITES}{package}/{sorted(files)[0]}").status_code == 200


def test_bodies_over_the_limit_are_413_unread(client, callbacks, clean_log):
    big = b'{"output": "' + b"x" * (guard.MAX_BODY + 10) + b'"}'
    for path in (UPDATE, "/", "/_dash-layout"):
        assert send(client, "oversized", path, "POST", data=big, content_type="application/json").status_code == 413
    small = json.dumps(next(iter(callbacks.values()))).encode()
    assert send(client, "oversized", UPDATE, "POST", data=small, content_type="application/json",
                environ_overrides={"CONTENT_LENGTH": str(50_000_000)}).status_code == 413  # said, not sent


@pytest.mark.parametrize(("search", "words"), [
    ("?kommune=<garbage>", "er ikke et kommunenummer"), ("?kommune=9999", "Fant ingen kommune med nummer 9999"),
    ("?aar=abc", "er ikke et årstall"), ("?aar=1800", "Dataene har ikke tall for 1800"),
    ("?peers=[\"0301\",\"3222\"]", "Ukjent sammenligningsgruppe «?»"), ("?konv=sum", "Ukjent snittberegning"),
])
def test_bad_query_parameters_are_a_normal_page_with_a_norwegian_message(client, clean_log, search, words):
    for path in ("/", "/tjenester", "/sammenlign", "/kart", "/presentasjon"):
        response = send(client, "bad query", UPDATE, "POST", json=route(path, search))
        assert response.status_code == 200
        page = json.dumps(response.get_json()["response"]["_pages_content"]["children"], ensure_ascii=False)
        assert "error-page" in page and words in page, (path, search)


def test_a_50_mb_body_through_waitress_is_refused_without_being_read(app, capfd):
    from waitress import wasyncore
    from waitress.server import create_server

    read = []

    def counting(environ, start_response):  # how much of the body the app reads
        stream = environ["wsgi.input"]

        class Counted:
            def read(self, *args):
                data = stream.read(*args)
                read.append(len(data))
                return data

            def readline(self, *args):
                data = stream.readline(*args)
                read.append(len(data))
                return data

        environ["wsgi.input"] = Counted()
        return app.server(environ, start_response)

    server = create_server(counting, host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    size, chunk = 50 * 1024 * 1024, b" " * (1024 * 1024)
    try:
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", server.effective_port), timeout=30) as sock:
            sock.sendall(f"POST {UPDATE} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {size}\r\nConnection: close\r\n\r\n".encode())
            try:
                for _ in range(size // len(chunk)):
                    sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):  # the server may answer and close before the end
                pass
            answer = b""
            while data := sock.recv(65536):
                answer += data
        elapsed = time.monotonic() - started
    finally:
        server.task_dispatcher.shutdown()
        wasyncore.close_all(server._map)
        thread.join(timeout=10)
    status = answer.split(b"\r\n", 1)[0]
    TALLY[("50 MB through waitress", int(status.split()[1]))] += 1
    assert status.split()[1] == b"413", answer[:300]
    assert sum(read) == 0, f"the app read {sum(read)} bytes of a body it refuses"
    assert elapsed < 15, f"{elapsed:.1f} s"
    assert "Traceback" not in capfd.readouterr().err


def test_at_least_a_thousand_hostile_requests():
    kinds = {what for what, _ in TALLY}
    if not {"page callback", "callback", "component-suites"} <= kinds:
        pytest.skip("counts the requests of the whole module")
    assert sum(TALLY.values()) >= 1000, TALLY
