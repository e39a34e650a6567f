"""Exports as bounded background work (drivers.ui.serving.jobs behind drivers.ui.downloads' routes), through a real
waitress server on 127.0.0.1 and the real database: identical requests share one job, a full queue is a 503 with
Retry-After, an unknown job is a 404, a new data version is a new job (never the old file), and the download
words follow the view's language."""

from __future__ import annotations

import http.client
import io
import json
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import flask
import pytest
from ui_pages_data import database

from drivers.ui import downloads
from drivers.ui.serving import jobs

QUERY = "kommune=3222&aar=2024"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The download routes on a Flask server under waitress; the data version's saved-sets file is the test's."""
    import dataclasses

    from waitress import wasyncore
    from waitress.server import create_server

    from drivers.config import Settings
    from drivers.report import data

    patch = pytest.MonkeyPatch()
    sets = tmp_path_factory.mktemp("export-jobs") / "peer_sets.json"
    patch.setenv("DRIVERS_PEER_SETS", str(sets))
    data.configure(dataclasses.replace(Settings.from_env(), db_path=database()))
    app = flask.Flask("test-export-jobs")
    downloads.register(app)
    srv = create_server(app, host="127.0.0.1", port=0, threads=12)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    srv.sets_file = sets
    yield srv
    srv.task_dispatcher.shutdown()
    wasyncore.close_all(srv._map)
    thread.join(timeout=10)
    patch.undo()


@pytest.fixture
def queue(monkeypatch):
    """Put an export queue in place for one test (`use(queue)`); the process's own is restored after."""

    def use(q: jobs.Exports) -> jobs.Exports:
        monkeypatch.setattr(downloads, "_exports", q)
        return q

    made = []
    yield lambda q: made.append(use(q)) or q
    for q in made:
        q.close()


def call(srv, method: str, path: str) -> tuple[int, bytes, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.effective_port, timeout=600)
    try:
        conn.request(method, path, headers={"Accept": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.read(), {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


def wait_done(srv, status_url: str, timeout: float = 600) -> tuple[dict, int]:
    """Poll a job until it is done or failed; returns its last status and the highest step seen."""
    deadline, seen = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        code, body, _ = call(srv, "GET", status_url)
        assert code == 200, body
        status = json.loads(body)
        seen = max(seen, status["step"])
        if status["state"] in ("done", "failed"):
            return status, seen
        time.sleep(0.3)
    pytest.fail(f"job not done in {timeout} s: {status}")


class Fake:
    """A maker that counts its calls and, with `hold` set, waits until it is released."""

    def __init__(self, hold: bool = False):
        self.calls = 0
        self.release = threading.Event()
        if not hold:
            self.release.set()

    def __call__(self, params, progress):
        self.calls += 1
        progress(1, 2)
        assert self.release.wait(60)
        progress(2, 2)
        return jobs.File(f"{params['kommune']} call {self.calls}".encode(), "application/zip",
                         f"figurer-{params['kommune']}-{params['aar']}.zip")


@pytest.mark.kaleido
@pytest.mark.slow
def test_ten_identical_pack_requests_are_one_job_and_one_file(server, queue):
    from drivers.export import image, pack

    if image.chromium_path() is None:
        pytest.skip("no Chromium: the pack's images cannot be made here")
    q = queue(jobs.Exports(downloads.MAKERS, slots=1, mode="thread", prepare=downloads._prepare))
    with ThreadPoolExecutor(10) as pool:
        started = list(pool.map(lambda _: call(server, "POST", f"/last-ned/jobb/pakke?{QUERY}"), range(10)))
    assert {code for code, _, _ in started} == {202}
    bodies = [json.loads(body) for _, body, _ in started]
    assert len({b["id"] for b in bodies}) == 1, "identical requests share one job"
    assert started[0][2]["location"] == bodies[0]["status_url"]
    status, seen = wait_done(server, bodies[0]["status_url"])
    assert status["state"] == "done", status
    assert status["steps"] and status["step"] == status["steps"] and seen > 1, "progress is step n of m"
    assert q.renders["pakke"] == 1
    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda _: call(server, "GET", bodies[0]["result_url"]), range(10)))
    assert {code for code, _, _ in results} == {200}
    assert len({body for _, body, _ in results}) == 1, "every request gets the same file"
    code, payload, headers = results[0]
    assert headers["content-type"] == "application/zip"
    assert headers["content-disposition"] == 'attachment; filename="figurer-3222-2024.zip"'
    zf = zipfile.ZipFile(io.BytesIO(payload))
    assert zf.testzip() is None and pack.index_files(zf.read(pack.INDEX_NAME).decode("utf-8"))
    # the direct URL of before answers with the same file, from the finished job: no second render
    code, direct, headers = call(server, "GET", f"/last-ned/pakke.zip?{QUERY}")
    assert code == 200 and direct == payload and q.renders["pakke"] == 1


def test_a_full_queue_is_503_with_retry_after(server, queue):
    fake = Fake(hold=True)
    q = queue(jobs.Exports({"pakke": fake, "seminar": fake}, slots=1, size=1, mode="thread"))
    code, body, _ = call(server, "POST", "/last-ned/jobb/pakke?kommune=0301&aar=2024")
    assert code == 202
    running = json.loads(body)
    deadline = time.monotonic() + 10
    while json.loads(call(server, "GET", running["status_url"])[1])["state"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    code, body, _ = call(server, "POST", "/last-ned/jobb/pakke?kommune=4601&aar=2024")
    queued = json.loads(body)
    assert code == 202 and queued["state"] == "queued" and queued["ahead"] == 1 and "1" in queued["message"]
    # a third view finds the one place taken
    code, body, headers = call(server, "POST", "/last-ned/jobb/pakke?kommune=1151&aar=2024")
    assert code == 503 and int(headers["retry-after"]) >= 5
    assert json.loads(body)["state"] == "full" and "prøv igjen" in json.loads(body)["message"]
    code, body, headers = call(server, "GET", "/last-ned/pakke.zip?kommune=1151&aar=2024&lang=en")
    assert code == 503 and "retry-after" in headers and b"try again" in body and b"Traceback" not in body
    # the same request as a running or queued job joins it and takes no place
    code, body, _ = call(server, "POST", "/last-ned/jobb/pakke?kommune=0301&aar=2024")
    assert code == 202 and json.loads(body)["id"] == running["id"]
    fake.release.set()
    assert wait_done(server, running["status_url"])[0]["state"] == "done"
    assert wait_done(server, queued["status_url"])[0]["state"] == "done" and q.pending() == 0
    assert call(server, "POST", "/last-ned/jobb/pakke?kommune=1151&aar=2024")[0] == 202
    assert fake.calls == 3


def test_an_unknown_job_is_404(server, queue):
    queue(jobs.Exports({"pakke": Fake(), "seminar": Fake()}, slots=1, mode="thread"))
    code, body, _ = call(server, "GET", "/last-ned/jobb/pakke/0123456789abcdef0123")
    assert code == 404 and json.loads(body)["state"] == "unknown"
    assert call(server, "GET", "/last-ned/jobb/pakke/0123456789abcdef0123/fil")[0] == 404
    # with a view the id does not stand for (another view or another data version): still unknown
    assert call(server, "GET", f"/last-ned/jobb/pakke/0123456789abcdef0123?{QUERY}")[0] == 404
    assert call(server, "POST", f"/last-ned/jobb/bilde?{QUERY}")[0] == 404
    code, body, _ = call(server, "POST", "/last-ned/jobb/seminar?kommune=3222&spak=mye")
    assert code == 400 and "spak" in json.loads(body)["message"]
    code, body, _ = call(server, "POST", "/last-ned/jobb/pakke?kommune=9999")
    assert code == 400 and "9999" in json.loads(body)["message"]


def test_a_job_another_process_started_is_started_here(server, queue):
    """Several server processes share the port: a status request may reach one that never saw the job."""
    first = queue(jobs.Exports({"pakke": Fake(), "seminar": Fake()}, slots=1, mode="thread"))
    body = json.loads(call(server, "POST", f"/last-ned/jobb/pakke?{QUERY}")[1])
    wait_done(server, body["status_url"])
    other = queue(jobs.Exports({"pakke": Fake(), "seminar": Fake()}, slots=1, mode="thread"))
    status, _ = wait_done(server, body["status_url"])
    assert status["id"] == body["id"] and status["state"] == "done"
    assert first.renders["pakke"] == 1 and other.renders["pakke"] == 1


def test_after_a_data_version_change_the_old_file_is_not_served(server, queue):
    fake = Fake()
    q = queue(jobs.Exports({"pakke": fake, "seminar": fake}, slots=1, mode="thread"))
    first = json.loads(call(server, "POST", f"/last-ned/jobb/pakke?{QUERY}")[1])
    wait_done(server, first["status_url"])
    assert call(server, "GET", first["result_url"])[1] == b"3222 call 1"
    again = json.loads(call(server, "POST", f"/last-ned/jobb/pakke?{QUERY}")[1])
    assert again["id"] == first["id"] and again["state"] == "done" and q.renders["pakke"] == 1  # cached
    # a saved peer set changes the data version
    server.sets_file.write_text('{"version": 1, "sets": {"mine": {"members": ["0301", "4601"]}}}', encoding="utf-8")
    assert call(server, "GET", first["result_url"])[0] == 404, "the old file is gone with its data version"
    assert call(server, "GET", first["status_url"])[0] == 404
    fresh = json.loads(call(server, "POST", f"/last-ned/jobb/pakke?{QUERY}")[1])
    assert fresh["id"] != first["id"]
    wait_done(server, fresh["status_url"])
    assert call(server, "GET", fresh["result_url"])[1] == b"3222 call 2" and q.renders["pakke"] == 2


def test_download_words_follow_the_view_language(server):
    import plotly.graph_objects as go

    from drivers import figures
    from drivers.i18n import t

    chart = figures.Chart("x", "Tittel", go.Figure(layout={"separators": t("fmtx.separators", "en")}),
                          __import__("pandas").DataFrame({"a": [1]}), "Kilde")
    links = downloads.chart_links(chart)
    texts = [getattr(c, "children", None) for c in links.children]
    assert texts[:3] == ["Download: ", "PNG (print)", "PNG (screen)"]
    assert all("lang=en" in c.href for c in links.children[1:])
    chart.figure = go.Figure(layout={"separators": t("fmtx.separators", "nb")})
    assert [getattr(c, "children", None) for c in downloads.chart_links(chart).children][:2] == ["Last ned: ", "PNG (trykk)"]
    code, body, _ = call(server, "GET", "/last-ned/chart/x.gif?lang=en")
    assert code == 404 and body.decode().startswith("Could not make the file: unknown format")
    code, body, _ = call(server, "GET", "/last-ned/chart/x.gif")
    assert code == 404 and body.decode().startswith("Kunne ikke lage filen: ukjent format")
    code, body, _ = call(server, "GET", "/last-ned/chart/x.xlsx?k=deadbeef&lang=en")
    assert code == 400 and "reload the page" in body.decode()


def test_the_chapter_is_a_job_beside_the_deck_with_a_button_in_both_languages(server, queue):
    """/last-ned/kapittel.docx and /last-ned/jobb/kapittel, like the deck; Oversikt's card has its button."""
    fake = Fake()
    queue(jobs.Exports({"pakke": fake, "seminar": fake, "kapittel": fake}, slots=1, mode="thread"))
    code, body, _ = call(server, "POST", f"/last-ned/jobb/kapittel?{QUERY}")
    assert code == 202, body
    status, _ = wait_done(server, json.loads(body)["status_url"])
    assert status["state"] == "done"
    code, direct, _ = call(server, "GET", f"/last-ned/kapittel.docx?{QUERY}")
    assert code == 200 and direct == b"3222 call 1" and fake.calls == 1  # the direct URL joins the finished job
    assert downloads.MAKERS["kapittel"] is downloads.make_chapter

    from drivers.report import state as st

    for lang, words in (("nb", "Last ned kapittel til økonomiplanen (DOCX)"), ("en", "Download the plan chapter (DOCX)")):
        card = downloads.export_links(st.parse({"kommune": "3222", "aar": "2024", "lang": lang}), "g", "v", "Lørenskog")
        buttons = card.children[1].children
        chapter = next(b for b in buttons if b.id == downloads.CHAPTER_LINK)
        assert chapter.children == words and chapter.href.startswith(downloads.CHAPTER_ROUTE + "?")
        assert [b.id for b in buttons].index(downloads.CHAPTER_LINK) == [b.id for b in buttons].index(
            downloads.DECK_LINK) + 1


def test_the_job_makers_call_the_products(monkeypatch):
    """make_pack / make_deck / make_chapter hand the view to products.*.make and return its file and name."""
    from drivers.products import LeftOut, Product, chapter, deck, pack

    calls = []

    def maker(name):
        def make(state, **kwargs):
            calls.append((name, state.kommune, sorted(kwargs)))
            kwargs["progress"](1, 1)
            return Product(name.encode(), f"{name}-{state.kommune}.bin", "application/x-test",
                           left_out=[LeftOut("t", "r")], count=1)
        return make

    for module in (pack, deck, chapter):
        monkeypatch.setattr(module, "make", maker(module.__name__.rsplit(".", 1)[1]))
    steps = []
    params = {"kommune": "3222", "aar": "2024", "hva_om": "FGK7", "spak": "unit_cost"}
    for make, name in ((downloads.make_pack, "pack"), (downloads.make_deck, "deck"), (downloads.make_chapter, "chapter")):
        file = make(dict(params), lambda n, m=None: steps.append((n, m)))
        assert (file.payload, file.filename, file.mimetype) == (name.encode(), f"{name}-3222.bin", "application/x-test")
    assert [c[0] for c in calls] == ["pack", "deck", "chapter"]
    assert "what_if" in calls[1][2] and "lever" in calls[1][2] and steps[-1] == (3, 3)
