"""A fetch while serving (issue 13 item 4): the real app under waitress (`drivers serve`, a subprocess) on a copy of
the project's database, pages and the map's boundaries requested in a loop from several threads while another
process writes a new database.

- A writer that builds the new database beside the served one and renames it in (drivers.store.writer, as
  `drivers fetch` and `drivers load` do) with one known value changed (Utsira's net operating expenditure in 2024,
  KOSTRA 12362, ×10): every request answers 200 during the swap, and once a page shows the new figure every page
  after it does.
- A writer that holds the served file itself open read-write (a DuckDB connection in place, not via a rename) and
  checkpoints a change into it: the app cannot open it (DuckDB's lock), keeps serving the previous version, says so
  in one log line, and never fails a request; once the writer has closed the file the app uses it.

The figures (requests during the swap, errors, seconds from the rename to the first page with the new number) are
printed (pytest -s) and kept as the tests' user properties. The first page asked for after the rename shows the
new figure: it waits while the new file is read (drivers.report.data's SWAP_WAIT).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import servers
from ui_pages_data import database

from drivers import fmt
from drivers.config import PROJECT_ROOT

pytestmark = pytest.mark.slow

KOMMUNE, NAME, YEAR, INDICATOR = "1151", "Utsira", 2024, "ndu_total_per_innb"
TOTAL = "KOKart0000=AGD1"
PICKUP_TIMEOUT = 90  # seconds from the rename to the new figure on a page, at most
CLIENTS = 4  # threads requesting pages and boundaries while the writer works
MAX_REQUESTS = 4000  # per test, across the threads: the loops are bounded in count as well as in time


def _route(path: str, search: str) -> dict:
    """The request Dash's page router sends when the URL changes (the page's whole content)."""
    return {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname", "_pages_location.search"], "state": []}


KART = ("POST", "/_dash-update-component", _route("/kart", f"?kommune={KOMMUNE}&indikator={INDICATOR}&aar={YEAR}"))
REQUESTS = [
    KART,
    ("GET", "/_drivers/geo/kommune.geojson", None),
    ("GET", "/_drivers/geo/fylke.geojson", None),
    ("POST", "/_dash-update-component", _route("/metode", f"?kommune={KOMMUNE}")),
    ("POST", "/_dash-update-component", _route("/", f"?kommune={KOMMUNE}&aar={YEAR}")),
    ("GET", "/_dash-layout", None),
]


def _request(port: int, method: str, path: str, payload: dict | None = None) -> tuple[int, bytes]:
    status, _headers, body = servers.request(port, method, path, payload)
    return status, body


def _env(tmp: Path) -> dict:
    return servers.env(DRIVERS_PEER_SETS=str(tmp / "peer_sets.json"))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(port, database path, server log) of `drivers serve` on a copy of the project's database."""
    tmp = tmp_path_factory.mktemp("serving")
    db = tmp / "drivers.duckdb"
    shutil.copyfile(database(), db)
    port, log = servers.free_port(), tmp / "serve.log"
    proc = servers.start(servers.serve_command(port, "--db", str(db)), port, log, _env(tmp) | {"DRIVERS_DB": str(db)})
    try:
        yield port, db, log
    finally:
        servers.stop(proc)
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


def _figure(db: Path) -> str:
    """Utsira's figure as the map's hover text shows it, computed by the engine from the database at `db`."""
    from drivers.engine import indicators, measures
    from drivers.loading import load_panel_from

    panel = load_panel_from(db)
    comp = measures.components(panel, indicators.get(INDICATOR), YEAR)
    value = float(comp.value[list(panel.municipalities).index(KOMMUNE)])
    return f"{fmt.number(value, 0)} kr"


def _shows(body: bytes, figure: str) -> bool:
    """Whether the map's response has Utsira's hover text with `figure`."""
    text = json.dumps(json.loads(body), ensure_ascii=False, separators=(",", ":"))
    return json.dumps([NAME, figure], ensure_ascii=False, separators=(",", ":")) in text


def _run_script(tmp: Path, script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), *args], env=_env(tmp),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(PROJECT_ROOT))


# Writes Utsira's 2024 total with the store's own table writer: `mode` "rename" through store.writer (a copy beside
# the file, renamed in when complete, as drivers fetch and drivers load write), "in-place" on a read-write
# connection to the served file itself, checkpointed and then held open for HOLD seconds.
WRITER = """
    import sys, time
    from pathlib import Path
    from drivers import store

    db, factor, mode, hold = Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3], float(sys.argv[4])

    def change(con):
        obs = store.read_observations(con, measures=["ndu_1000kr"], tables=["12362"], regions=["1151"], years=[2024])
        row = obs[obs["dims"] == "KOKart0000=AGD1"].copy()
        assert len(row) == 1, row
        row["value"] = row["value"] * factor
        meta = store.read_tables(con).set_index("table_id").loc["12362"].to_dict()
        store.write_table(con, dict(meta, table_id="12362"), row, replace="cells")

    if mode == "rename":
        with store.writer(db) as con:
            change(con)
        print("renamed", flush=True)
    else:
        for attempt in range(40):  # the app may be reading the file (read-only) for a moment
            try:
                con = store.connect(db)
                break
            except Exception:
                time.sleep(0.25)
        change(con)
        con.execute("CHECKPOINT")  # into the file itself, while this connection holds it
        print("holding", flush=True)
        time.sleep(hold)
        con.close()
        print("closed", flush=True)
"""


class Load:
    """CLIENTS threads requesting REQUESTS round robin until stopped; every answer recorded (start, end, what,
    status, whether a map answer shows `watch`)."""

    def __init__(self, port: int, watch: list[str]):
        self.port, self.watch = port, watch
        self.results: list[tuple] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(CLIENTS)]

    def _run(self, offset: int) -> None:
        i = offset
        deadline = time.monotonic() + 300
        while not self._stop.is_set() and time.monotonic() < deadline and len(self.results) < MAX_REQUESTS:
            method, path, payload = REQUESTS[i % len(REQUESTS)]
            i += 1
            started = time.monotonic()
            try:
                status, body = _request(self.port, method, path, payload)
            except OSError as exc:
                status, body = 0, repr(exc).encode()
            shows = tuple(_shows(body, f) for f in self.watch) if (method, path, payload) == KART and status == 200 \
                else None
            with self._lock:
                self.results.append((started, time.monotonic(), path, status, shows))
                if status != 200:
                    self.errors.append(f"{method} {path}: {status} {body[:200]!r}")

    def wait_for_map_answers(self, after: float, n: int, timeout: float = 60) -> None:
        """Until `n` map answers to requests started after `after` are in (or the timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if sum(1 for r in self.results if r[4] is not None and r[0] > after) >= n:
                    return
            time.sleep(0.2)

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join(90)


def _wait_for(port: int, figure: str, timeout: float) -> float | None:
    """Request the map until it shows `figure`; the time.monotonic() of that answer, or None at the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = _request(port, *KART)
        assert status == 200, body[:300]
        if _shows(body, figure):
            return time.monotonic()
        time.sleep(0.2)
    return None


def _kart(port: int) -> bytes:
    status, body = _request(port, *KART)
    assert status == 200, body[:300]
    return body


def _figures(record_property, name: str, **values) -> None:
    print(f"\n{name}: " + ", ".join(f"{k}={v}" for k, v in values.items()))
    for k, v in values.items():
        record_property(f"{name}.{k}", v)


def test_a_renamed_new_database_is_served_without_errors(served, tmp_path, record_property):
    port, db, _ = served
    old = _figure(db)
    assert _shows(_kart(port), old), "the map shows Utsira's figure from the database it was started on"
    new_db = tmp_path / "expected.duckdb"  # the expected figure: the same change on a private copy
    shutil.copyfile(db, new_db)
    assert _run_script(tmp_path, WRITER, str(new_db), "10", "rename", "0").wait(120) == 0
    new = _figure(new_db)
    assert new != old
    with Load(port, [old, new]) as load:
        time.sleep(2)  # requests in flight before the writer starts
        writer = _run_script(tmp_path, WRITER, str(db), "10", "rename", "0")
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0 and out.strip() == "renamed", err
        renamed = time.monotonic()
        first = _kart(port)  # the next page, asked for once the writer has said it renamed the file in
        seen = time.monotonic()
        assert _shows(first, new) and not _shows(first, old), "the first page after the rename shows the new figure"
        load.wait_for_map_answers(after=seen, n=8)  # and requests after the swap
    assert not load.errors, load.errors[:10]
    # every page asked for after the rename shows the new figure, none the old one
    later = [shows for started, _, _, _, shows in load.results if shows is not None and started > renamed]
    assert later and all(s == (False, True) for s in later), later[:10]
    # and the next pages of one client, one after the other
    for _ in range(3):
        body = _kart(port)
        assert _shows(body, new) and not _shows(body, old)
    during = [r for r in load.results if r[1] >= renamed - 0.5 and r[0] <= seen]
    _figures(record_property, "rename", requests=len(load.results), requests_during_swap=len(during),
             errors=len(load.errors), map_requests=sum(1 for r in load.results if r[4] is not None),
             pickup_seconds=round(seen - renamed, 2), geo_requests=sum(1 for r in load.results if "geo" in r[2]))


def test_a_writer_holding_the_file_never_fails_a_request(served, tmp_path, record_property):
    port, db, log = served
    if not _shows(_kart(port), _figure(db)):
        pytest.skip("the server does not serve the file's current figure (the previous test did not finish)")
    before = _figure(db)
    expected_db = tmp_path / "expected.duckdb"
    shutil.copyfile(db, expected_db)
    assert _run_script(tmp_path, WRITER, str(expected_db), "2", "rename", "0").wait(120) == 0
    after = _figure(expected_db)
    assert after != before
    hold = 6.0
    lines_before = log.read_text().count("not used yet")
    with Load(port, [before, after]) as load:
        time.sleep(1)
        writer = _run_script(tmp_path, WRITER, str(db), "2", "in-place", str(hold))
        assert writer.stdout.readline().strip() == "holding", writer.stderr.read()
        held_from = time.monotonic()
        # the file has changed in place and is locked: the app keeps the version it has
        time.sleep(hold - 1)
        body = _kart(port)
        assert _shows(body, before) and not _shows(body, after)
        assert writer.stdout.readline().strip() == "closed", writer.stderr.read()
        closed = time.monotonic()
        assert writer.wait(60) == 0, writer.stderr.read()
        seen = _wait_for(port, after, PICKUP_TIMEOUT)
        assert seen is not None, f"the closed file's figure {after} was not served within {PICKUP_TIMEOUT} s"
    assert not load.errors, load.errors[:10]
    held = [shows for started, end, _, _, shows in load.results if shows is not None and held_from <= started
            and end <= closed]
    assert held and all(s == (True, False) for s in held), held[:10]
    lines = log.read_text().count("not used yet") - lines_before
    assert lines >= 1, "the app says in its log that it keeps the previous version"
    _figures(record_property, "in-place", requests=len(load.results), requests_while_held=len(held),
             errors=len(load.errors), log_lines=lines, pickup_after_close_seconds=round(seen - closed, 2))


# ---- the data layer's swap, in this process (Flask request contexts, no server) -----------------------------------
@pytest.fixture
def layer(tmp_path, monkeypatch):
    """drivers.report.data on a copy of the project's database, watching with no rate limit and no settle time."""
    import dataclasses

    import flask

    from drivers.config import Settings
    from drivers.report import data
    from drivers.ui.serving import version  # noqa: F401  (installs the request scope: Flask's g)

    db = tmp_path / "drivers.duckdb"
    shutil.copyfile(database(), db)
    monkeypatch.setattr(data, "STAT_INTERVAL", 0.0)
    monkeypatch.setattr(data, "SETTLE", 0.0)
    data.configure(dataclasses.replace(Settings.from_env(), db_path=db))
    app = flask.Flask(__name__)
    try:
        yield data, app, db
    finally:
        data.wait_for_reload()
        data.configure(Settings.from_env())


@contextlib.contextmanager
def request(app):
    """A request of its own, even inside another one (its own app context, so its own Flask g)."""
    with app.app_context(), app.test_request_context("/"):
        yield


def _renamed_in(db: Path, content: Path) -> None:
    tmp = db.with_name(f".{db.name}.test.tmp")
    shutil.copyfile(content, tmp)
    os.replace(tmp, db)


def test_one_request_reads_one_version_and_the_old_one_is_freed(layer, tmp_path):
    import gc
    import weakref

    from drivers.report import version

    data, app, db = layer
    with request(app):
        first = data.current()
    old = weakref.ref(first)
    changed = tmp_path / "changed.duckdb"
    shutil.copyfile(db, changed)
    assert _run_script(tmp_path, WRITER, str(changed), "10", "rename", "0").wait(120) == 0
    with request(app):  # a request that began before the swap
        assert data.current() is first
        _renamed_in(db, changed)
        with request(app):  # a request after the rename starts reading the new file
            data.current()
        data.wait_for_reload()
        # the swap has happened; this request still reads the version it began with, all of it
        assert data.current() is first and data.get_panel() is first.panel and data.meta() is first.meta()
        assert data.boundaries("kommune") is first.boundaries[("kommune", "S")]
        assert version.data_version()[0] == first.version
        with request(app):  # the next request reads the new version
            second = data.current()
            assert second is not first and second.identity == data.identity(db)
            assert version.data_version()[0] == second.version
            total = second.panel.observations
            row = total[(total["region"] == KOMMUNE) & (total["year"] == YEAR) & (total["dims"] == TOTAL)
                        & (total["measure"] == "ndu_1000kr")]
            old_total = first.panel.observations
            old_row = old_total[(old_total["region"] == KOMMUNE) & (old_total["year"] == YEAR)
                                & (old_total["dims"] == TOTAL) & (old_total["measure"] == "ndu_1000kr")]
            assert float(row["value"].iloc[0]) == pytest.approx(10 * float(old_row["value"].iloc[0]))
    del first
    gc.collect()
    assert old() is None, "the old version is freed when no request holds it"


def test_a_file_that_cannot_be_used_is_not_swapped_in_and_said_once(layer, tmp_path, caplog, monkeypatch):
    from drivers import store

    data, app, db = layer
    with request(app):
        first = data.current()
    caplog.set_level("WARNING", logger="drivers.report.data")
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database" * 1000)
    _renamed_in(db, junk)
    for _ in range(3):
        with request(app):
            assert data.current() is first
        data.wait_for_reload()
    with request(app):
        assert data.current() is first
    lines = [r for r in caplog.records if "not used yet" in r.getMessage()]
    assert len(lines) == 1 and "\n" not in lines[0].getMessage(), [r.getMessage() for r in lines]
    # a file written in place a moment ago is not opened at all (it may be half-written); a file renamed in is
    # complete by the writers' contract and is read at once (the junk above)
    monkeypatch.setattr(data, "SETTLE", 30.0)
    opened = []
    real = store.connect
    monkeypatch.setattr(store, "connect", lambda *a, **k: opened.append(a) or real(*a, **k))
    with open(db, "ab") as fh:
        fh.write(b"more")
    with request(app):
        assert data.current() is first
    data.wait_for_reload()
    assert opened == []


def test_a_gone_database_keeps_serving_from_memory(layer):
    data, app, db = layer
    with request(app):
        first = data.current()
    db.unlink()
    with request(app):
        assert data.current() is first and data.boundaries("fylke")
    data.wait_for_reload()
    with request(app):
        assert data.current() is first
