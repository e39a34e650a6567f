"""Benchmark: simulated users against `drivers serve --production` on 127.0.0.1, with a browser-like request mix.

Each simulated user is a browser: it keeps up to 6 connections to the server alive (the HTTP/1.1 per-host
limit of Chromium and Firefox) and, between pauses of --think seconds (±50 %), moves as a reader does: mostly to
another page for the municipality and settings it is on, now and then another peer group, convention, year,
language, or municipality (20 municipalities; each user starts on one of them). It
- opens a page with query parameters (a full load: the HTML, then /_dash-layout and /_dash-dependencies, and on
  its first visit every script and stylesheet the page names plus the lazily loaded chunks and plotly.js, six at
  a time; later visits revalidate the non-fingerprinted assets with If-None-Match, as a browser does, and skip
  the fingerprinted ones, which Dash serves with a one-year max-age), then runs the page's callbacks;
- or moves inside the app (a nav link, a control: the URL changes, the page-routing callback runs).
The callbacks are built from the app's callback map (/_dash-dependencies), not captured: the page-routing
callback (POST /_dash-update-component) for the view, then, in parallel, each deferred part the routed page
names, as dash-renderer sends them.

Printed per run: requests, errors (any status >= 400, a refused or reset connection, a timeout), p50/p95 per kind
and for a whole page view (first request to last callback answered), each p95 also as a ratio to a baseline
measured in the same run (GET of a small static asset from the idle server), the server's CPU and peak RSS, the
client's CPU (it shares the 2 cores), whether waitress reached its connection limit or queued requests, and the
access log's line count against the requests sent.

    python -P bench/load.py [--users 25 100] [--seconds 60] [--think 1.0] [--threads N] [--connection-limit N]

Not a test: it prints figures and never fails a build. The loops are bounded: no request starts after
--seconds, the one in flight is awaited (socket timeout 60 s). Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
CONNECTIONS_PER_USER = 6
SAMPLE = ["0301", "3222", "1151", "4601", "5001", "1804", "3201", "5612", "4204", "1508", "3105", "1520", "5501",
          "3403", "4012", "1106", "3907", "1832", "5046", "3418"]
PEERS = ["kostragruppe", "kostragruppe", "fylke", "landet", "naboer"]
KONV = ["weighted", "weighted", "unweighted", "weighted-excl-self"]
# (path, its own parameters: one value is picked per visit)
PAGES = [
    ("/", {}),
    ("/tjenester", {"tjeneste": ["FGK9", "FGK2", "FGK13", "FGK7"]}),
    ("/sammenlign", {"visning": ["per-innbygger", "andel", "nokkeltall"]}),
    ("/kart", {}),
    ("/metode", {}),
]
# the callbacks' output keys, as in the app's callback map (read_callback_map reads them from the server)
ROUTING = ".._pages_content.children..._pages_store.data.."
DEFERRED = '{"key":["MATCH"],"part":["MATCH"],"type":"deferred"}.children'
SAVE_SET = "..sml-set-status.children...sml-set-saved.data.."
_DEFERRED_ID = re.compile(r'"id":(\{"type":"deferred","part":"[^"]*","key":"[^"]*"\})')
_ASSET = re.compile(r'<(?:script[^>]*\ssrc|link[^>]*\shref)="(/[^"]+)"')
FINGERPRINTED = re.compile(r"\.v[\w-]+m[0-9a-fA-F]+\.")


# ---- server -------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(db: Path | None = None, threads: int | None = None, connection_limit: int | None = None,
                 env_extra: dict | None = None, workers: int | None = None) -> subprocess.Popen:
    """`drivers serve --production` in a subprocess on a free loopback port; its stdout (the access log) and
    stderr (waitress's warnings) go to files, never to pipes nobody reads (a full pipe blocks the server)."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), **(env_extra or {}))
    cmd = [sys.executable, "-m", "drivers.cli", "serve", "--production", "--host", HOST, "--port", str(port)]
    if db:
        cmd += ["--db", str(db)]
    if threads:
        cmd += ["--threads", str(threads)]
    if connection_limit:
        cmd += ["--connection-limit", str(connection_limit)]
    if workers:
        cmd += ["--workers", str(workers)]
    out = tempfile.NamedTemporaryFile(prefix="drivers-load-access-", suffix=".log", delete=False)  # noqa: SIM115
    err = tempfile.NamedTemporaryFile(prefix="drivers-load-server-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=str(ROOT), env=env, stdout=out, stderr=err)
    out.close()
    err.close()
    proc.port, proc.access_log, proc.server_log, proc.probes = port, Path(out.name), Path(err.name), 0
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.server_log.read_text(errors='replace')[-2000:]}")
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
        try:
            conn.request("GET", "/_dash-layout")
            if conn.getresponse().status == 200:
                proc.probes += 1
                if all_workers_up(proc):
                    return proc
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("server did not start within 180 s")


def all_workers_up(proc: subprocess.Popen) -> bool:
    """Every server process has said it serves (`drivers serve --production` runs one per core by default)."""
    text = proc.access_log.read_text(errors="replace")
    m = re.search(r"drivers: (\d+) server processes", text)
    return text.count("drivers: serving ") >= (int(m.group(1)) if m else 1)


def server_pids(pid: int) -> list[int]:
    """The server's process and its children (the worker processes)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            pass
    return [pid, *kids]


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
    for path in (proc.access_log, proc.server_log):
        path.unlink(missing_ok=True)


def rss_mb(pid: int) -> float:
    """RSS of the server: its process and its worker processes, added up."""
    return sum(_rss_one(p) for p in server_pids(pid))


def _rss_one(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds the server's processes have used."""
    return sum(_cpu_one(p) for p in server_pids(pid))


def _cpu_one(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class RssWatcher(threading.Thread):
    """Samples the server's RSS every `every` seconds: `peak`, and `samples` as (seconds since start, MB)."""

    def __init__(self, pid: int, every: float = 0.5):
        super().__init__(daemon=True)
        self.pid, self.every, self.peak, self.samples = pid, every, 0.0, []
        self._halt, self._t0 = threading.Event(), time.monotonic()

    def run(self):
        while not self._halt.is_set():
            mb = rss_mb(self.pid)
            self.peak = max(self.peak, mb)
            self.samples.append((time.monotonic() - self._t0, mb))
            self._halt.wait(self.every)

    def stop(self):
        self._halt.set()
        self.join(5)


# ---- HTTP -----------------------------------------------------------------------------------------------------
class Failed(Exception):
    """A request that did not get a usable answer (the kind of failure is the message)."""


_local = threading.local()


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict | None = None) -> tuple[int, bytes, dict]:
    """One request on this thread's kept-alive connection (a browser's connection). Retried once only when the
    server had closed that idle connection before answering, as a browser does; never after a timeout."""
    for attempt in range(2):
        conn = getattr(_local, "conn", None)
        if conn is None:
            conn = _local.conn = http.client.HTTPConnection(HOST, port, timeout=60)
        try:
            hdrs = dict(headers or {})
            if body is not None:
                hdrs["Content-Type"] = "application/json"
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, data, {k.lower(): v for k, v in resp.getheaders()}
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
            conn.close()
            _local.conn = None
            if attempt:
                raise Failed(type(exc).__name__) from exc
        except (http.client.HTTPException, OSError) as exc:
            conn.close()
            _local.conn = None
            raise Failed(type(exc).__name__) from exc
    raise Failed("unreachable")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))]


class Stats:
    """Latencies by kind, errors by kind, thread-safe."""

    def __init__(self):
        self.lat: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.lock = threading.Lock()

    def ok(self, kind: str, ms: float):
        with self.lock:
            self.lat.setdefault(kind, []).append(ms)

    def error(self, kind: str, what: str):
        with self.lock:
            key = f"{kind}: {what}"
            self.errors[key] = self.errors.get(key, 0) + 1

    def requests(self) -> int:
        return sum(len(v) for k, v in self.lat.items() if k != "page view") + sum(self.errors.values())

    def all_requests(self) -> list[float]:
        return [ms for k, v in self.lat.items() if k != "page view" for ms in v]


# ---- one simulated user -----------------------------------------------------------------------------------------
def routing_payload(path: str, search: str) -> dict:
    return {"output": ROUTING,
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname", "_pages_location.search"], "state": []}


def deferred_payload(part_id: dict) -> dict:
    return {"output": DEFERRED, "outputs": {"id": part_id, "property": "children"},
            "inputs": [{"id": part_id, "property": "id", "value": part_id}],
            "changedPropIds": [json.dumps(part_id, separators=(",", ":")) + ".id"], "state": []}


def save_set_payload(name: str, members: list[str]) -> dict:
    """The Sammenlign page's 'save this group' button (writes the saved peer sets file)."""
    lang = {"param": "lang", "type": "ctl"}
    return {"output": SAVE_SET,
            "outputs": [{"id": "sml-set-status", "property": "children"}, {"id": "sml-set-saved", "property": "data"}],
            "inputs": [{"id": "sml-set-save", "property": "n_clicks", "value": 1}],
            "state": [{"id": "sml-set-name", "property": "value", "value": name},
                      {"id": "sml-set-members", "property": "value", "value": members},
                      {"id": lang, "property": "value", "value": "nb"}],
            "changedPropIds": ["sml-set-save.n_clicks"]}


class User:
    """A browser: its own pool of up to 6 kept-alive connections, its cache of assets seen."""

    def __init__(self, port: int, seed: int, stats: Stats, think: float, save_every: int = 0):
        self.port, self.rnd, self.stats, self.think = port, random.Random(seed), stats, think
        self.pool = ThreadPoolExecutor(max_workers=CONNECTIONS_PER_USER, thread_name_prefix=f"user{seed}")
        self.etags: dict[str, str] = {}
        self.seen_assets = False
        self.lazy: list[str] = []
        self.save_every = save_every  # every n-th action saves a peer set (0: never)
        self.actions = 0
        self.query: dict[str, str] = {}  # the shared view parameters the user is on
        self.path: tuple | None = None

    def fetch(self, kind: str, method: str, path: str, payload: dict | None = None, headers: dict | None = None):
        """One request on a pool connection; returns (status, body) or None on an error (counted)."""
        t = time.perf_counter()
        try:
            status, body, hdrs = request(self.port, method, path, json.dumps(payload).encode() if payload else None,
                                         headers)
        except Failed as exc:
            self.stats.error(kind, str(exc))
            return None
        ms = (time.perf_counter() - t) * 1000
        if status >= 400:
            self.stats.error(kind, str(status))
            return None
        self.stats.ok(kind if status != 304 else "asset (304)", ms)
        if "etag" in hdrs:
            self.etags[path] = hdrs["etag"]
        return status, body

    def one(self, *job):
        """A request on one of the user's connections (the pool's threads hold them)."""
        return self.pool.submit(self.fetch, *job).result()

    def parallel(self, jobs: list[tuple]) -> list:
        futures = [self.pool.submit(self.fetch, *job) for job in jobs]
        wait(futures)
        return [f.result() for f in futures]

    def view(self) -> tuple[str, str]:
        """The next view, as a reader moves: mostly another page for the same municipality and settings, now and
        then another peer group, convention, year, language, or municipality (each user starts on its own)."""
        q = self.query
        if not q or self.rnd.random() < 0.15:
            q.clear()
            q["kommune"] = self.rnd.choice(SAMPLE)
        for name, values, chance in (("peers", PEERS, 0.15), ("konv", KONV, 0.1), ("aar", ["2023", "2024"], 0.05),
                                     ("lang", ["nb", "en"], 0.05)):
            if self.rnd.random() < chance:
                q[name] = self.rnd.choice(values)
        if self.path is None or self.rnd.random() < 0.7:
            self.path = self.rnd.choice(PAGES)
        path, extra = self.path
        query = dict(q)
        for name, values in extra.items():
            if self.rnd.random() < 0.5:
                query[name] = self.rnd.choice(values)
        return path, "?" + urlencode(query)

    def callbacks(self, path: str, search: str) -> bool:
        got = self.one("callback: page routing", "POST", "/_dash-update-component", routing_payload(path, search))
        if got is None:
            return False
        parts = [json.loads(m) for m in dict.fromkeys(_DEFERRED_ID.findall(got[1].decode("utf-8", "replace")))]
        if parts:
            results = self.parallel([("callback: deferred part", "POST", "/_dash-update-component",
                                      deferred_payload(p)) for p in parts])
            return all(r is not None for r in results)
        return True

    def full_load(self, path: str, search: str) -> bool:
        got = self.one("page GET", "GET", path + search)
        if got is None:
            return False
        html = got[1].decode("utf-8", "replace")
        jobs = [("_dash-layout", "GET", "/_dash-layout"), ("_dash-dependencies", "GET", "/_dash-dependencies")]
        assets = list(dict.fromkeys(_ASSET.findall(html)))
        if not self.seen_assets:
            jobs += [("asset", "GET", a) for a in assets]
        else:  # fingerprinted files come from the browser's cache; the others are revalidated
            jobs += [("asset", "GET", a, None, {"If-None-Match": self.etags[a]} if a in self.etags else None)
                     for a in assets if not FINGERPRINTED.search(a)]
        results = self.parallel(jobs)
        ok = all(r is not None for r in results)
        if not self.seen_assets and results[0] is not None:
            # the chunks dash loads lazily (named in the layout's #prefetch) and plotly.js, on the first visit
            layout = results[0][1].decode("utf-8", "replace")
            m = re.search(r'"data-scripts":"([^"]+)"', layout)
            self.lazy = (m.group(1).split() if m else []) + ["/_dash-component-suites/plotly/package_data/plotly.min.js"]
            ok &= all(r is not None for r in self.parallel([("asset", "GET", a) for a in self.lazy]))
            self.seen_assets = True
        return self.callbacks(path, search) and ok

    def save_set(self) -> None:
        name = f"last-{self.rnd.randint(1, 4)}"
        members = self.rnd.sample(SAMPLE, self.rnd.randint(3, 6))
        self.one("callback: save peer set", "POST", "/_dash-update-component", save_set_payload(name, members))

    def run(self, stop_at: float) -> None:
        try:
            while time.monotonic() < stop_at:  # bounded: no action starts after the deadline
                self.actions += 1
                path, search = self.view()
                t = time.perf_counter()
                ok = self.full_load(path, search) if (not self.seen_assets or self.rnd.random() < 0.25) \
                    else self.callbacks(path, search)
                if ok:
                    self.stats.ok("page view", (time.perf_counter() - t) * 1000)
                if self.save_every and self.actions % self.save_every == 0:
                    self.save_set()
                pause = self.rnd.uniform(0.5 * self.think, 1.5 * self.think)
                time.sleep(max(0.0, min(pause, stop_at - time.monotonic())))
        finally:
            self.pool.shutdown(wait=True)


def simulate(port: int, users: int, seconds: float, think: float, save_every: int = 0, seed: int = 0) -> Stats:
    """`users` browsers for `seconds`, started over the first 2 s (not all in the same millisecond)."""
    stats = Stats()
    stop_at = time.monotonic() + seconds
    threads = []
    for i in range(users):
        user = User(port, seed * 1000 + i, stats, think, save_every)
        thread = threading.Thread(target=user.run, args=(stop_at,), daemon=True)
        thread.start()
        threads.append(thread)
        time.sleep(min(2.0 / max(users, 1), 0.1))
    for thread in threads:
        thread.join(seconds + 180)
    return stats


def read_callback_map(port: int) -> None:
    """Take the page-routing, deferred-part and save callbacks' output keys from the app's /_dash-dependencies."""
    global ROUTING, DEFERRED, SAVE_SET
    deps = json.loads(request(port, "GET", "/_dash-dependencies")[1])
    outputs = [d["output"] for d in deps if not d.get("clientside_function")]
    ROUTING = next(o for o in outputs if "_pages_content.children" in o)
    DEFERRED = next(o for o in outputs if '"type":"deferred"' in o)
    SAVE_SET = next(o for o in outputs if "sml-set-status.children" in o)
    _local.conn = None


def baseline(port: int, n: int = 200) -> tuple[str, float, float]:
    """p50/p95 ms of GET of a small static asset from the idle server, one connection."""
    status, body, _ = request(port, "GET", "/")
    asset = next((a for a in _ASSET.findall(body.decode()) if a.startswith("/assets/") and a.split("?")[0]
                  .endswith(".js")), "/_dash-layout")
    ms = []
    for _ in range(n):
        t = time.perf_counter()
        request(port, "GET", asset)
        ms.append((time.perf_counter() - t) * 1000)
    _local.conn = None
    return asset, pct(ms, 50), pct(ms, 95)


def server_warnings(proc: subprocess.Popen) -> tuple[int, int, int]:
    """(times waitress reached its connection limit, times it queued tasks, deepest queue) from its log."""
    log = proc.server_log.read_text(errors="replace")
    depths = [int(m) for m in re.findall(r"Task queue depth is (\d+)", log)]
    return log.count("connection limit"), len(depths), max(depths, default=0)


def access_lines(proc: subprocess.Popen) -> int:
    line = re.compile(r"^\S+Z (GET|POST|HEAD) \S+ \d{3} [\d.]+ ms$")
    return sum(1 for x in proc.access_log.read_text(errors="replace").splitlines() if line.match(x))


def report(stats: Stats, seconds: float, b95: float | None = None) -> None:
    """Requests, errors and latencies by kind; p95 as a ratio to the baseline's p95 when one is given."""

    def ratio(ms: float) -> str:
        return f" (×{ms / b95:.0f} baseline)" if b95 else ""

    total = stats.requests()
    errors = sum(stats.errors.values())
    every = stats.all_requests()
    print(f"{total} requests, {total / seconds:.0f} req/s, errors {errors}; all requests p50 {pct(every, 50):.0f} ms, "
          f"p95 {pct(every, 95):.0f} ms{ratio(pct(every, 95))}")
    order = ["page view", "page GET", "_dash-layout", "_dash-dependencies", "asset", "asset (304)",
             "callback: page routing", "callback: deferred part", "callback: save peer set"]
    for kind in order + sorted(set(stats.lat) - set(order)):
        ms = stats.lat.get(kind)
        if ms:
            print(f"  {kind:26s} n {len(ms):6d}  p50 {pct(ms, 50):7.0f} ms  p95 {pct(ms, 95):7.0f} ms{ratio(pct(ms, 95))}")
    for kind, n in sorted(stats.errors.items(), key=lambda kv: -kv[1]):
        print(f"  error: {kind} ×{n}")


def run_one(args, users: int) -> dict:
    proc = start_server(args.db, args.threads, args.connection_limit, workers=args.workers)
    watcher = RssWatcher(proc.pid)
    watcher.start()
    try:
        time.sleep(args.settle)  # the start-up warm-up of the default views has its own thread: let it finish
        read_callback_map(proc.port)
        asset, b50, b95 = baseline(proc.port)
        pids = server_pids(proc.pid)
        print(f"\n== {users} simulated users for {args.seconds:.0f} s, think {args.think:g} s "
              f"(server pid {proc.pid}, {max(1, len(pids) - 1)} server process(es), port {proc.port}; "
              f"load average {os.getloadavg()[0]:.1f}) ==")
        print(f"baseline GET {asset}: p50 {b50:.1f} ms, p95 {b95:.1f} ms")
        cpu0, client0 = cpu_s(proc.pid), resource.getrusage(resource.RUSAGE_SELF)
        t = time.perf_counter()
        stats = simulate(proc.port, users, args.seconds, args.think, seed=users)
        wall = time.perf_counter() - t
        client1 = resource.getrusage(resource.RUSAGE_SELF)
        server_cpu = cpu_s(proc.pid) - cpu0
        client_cpu = (client1.ru_utime + client1.ru_stime) - (client0.ru_utime + client0.ru_stime)
        report(stats, args.seconds, b95)
        limit, queued, deepest = server_warnings(proc)
        cores = os.cpu_count() or 1
        print(f"server CPU {server_cpu:.0f} s in {wall:.0f} s ({server_cpu / wall / cores:.0%} of {cores} cores), "
              f"client CPU {client_cpu:.1f} s (same cores); server RSS peak {watcher.peak:.0f} MB")
        print(f"waitress: connection limit reached {limit} times; requests queued behind its threads {queued} times "
              f"(deepest {deepest})")
        time.sleep(0.5)  # the last lines are written when each response has been sent
        print(f"access log: {access_lines(proc)} lines for {stats.requests() + proc.probes + 202} requests sent "
              f"(with the start-up probes, the callback map and the baseline)")
        views = stats.lat.get("page view", [])
        print(f"{users} users on {cores} cores = {users / cores:.1f} users per core: page view p95 {pct(views, 95):.0f} ms, "
              f"{sum(stats.errors.values())} errors")
        return {"users": users, "errors": sum(stats.errors.values()), "p50": pct(stats.all_requests(), 50),
                "p95": pct(stats.all_requests(), 95), "view95": pct(views, 95), "b95": b95}
    finally:
        watcher.stop()
        stop_server(proc)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--users", type=int, nargs="+", default=[25, 100])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--think", type=float, default=1.0, help="mean pause between a user's actions, s (±50 %%)")
    ap.add_argument("--threads", type=int, default=None, help="waitress threads (default: drivers serve --production's)")
    ap.add_argument("--connection-limit", type=int, default=None,
                    help="waitress connection limit (default: drivers serve --production's; 100 is waitress's own)")
    ap.add_argument("--workers", type=int, default=None,
                    help="server processes (default: drivers serve --production's, one per core)")
    ap.add_argument("--settle", type=float, default=5.0, help="seconds between server start and the baseline")
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}; figures are noisy on a shared machine")
    results = [run_one(args, n) for n in args.users]
    print("\n== summary (ms) ==")
    print(f"{'users':>5s} {'errors':>6s} {'p50':>6s} {'p95':>6s} {'view p95':>9s} {'p95/baseline':>13s}")
    for r in results:
        print(f"{r['users']:5d} {r['errors']:6d} {r['p50']:6.0f} {r['p95']:6.0f} {r['view95']:9.0f} "
              f"{r['p95'] / r['b95']:13.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
