"""Benchmark: the dashboard served by waitress on 127.0.0.1, with the full database loaded.

1. Captures the callback requests the pages really send (POST /_dash-update-component) by driving headless
   Chromium through every page and its controls (Chrome's performance log has the request bodies).
2. Replays each captured callback over HTTP: p50 / p95 per callback (the view already cached, as when a user
   comes back to a view), and the page-routing callback for views never seen before (new municipalities).
3. Page-to-page navigation in headless Chromium: from the click event until the new page has rendered (timed in
   the page: state key, no callback in flight, no deferred placeholder, every chart drawn): p50 / p95, per page,
   twice: a reader who looks at each page for --think seconds (1 s) before the next click, and clicks with no
   pause at all (the worst case: the app never gets a quiet moment to build the next pages ahead).
4. 25 simulated users for 60 s, each replaying captured callbacks with random municipalities in a bounded
   loop that stops by itself: p95 and errors.
5. Server memory (RSS of the server process, highest seen).
Each figure is printed against its target, and latencies also as a ratio to a baseline measured in the same
run: GET of a static Dash asset from the same server.

Targets (2 cores): callback p95 ≤ 100 ms, navigation p95 ≤ 500 ms, 0 errors at 25 users, ≤ 500 MB.
Not a test: it prints figures and never fails a build.

    python bench/app_latency.py [--db data/snapshot.duckdb] [--users 25] [--seconds 60] [--serving both|fast|plain]

By default the whole run is made twice, against the serving layer and against DRIVERS_SERVING=plain (every page
built whole per request), and a summary prints navigation and callback p95 of both.

The callback that saves a named peer set writes a file and is never replayed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("DRIVERS_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("DRIVERS_CHROMEDRIVER", "/usr/bin/chromedriver")
TARGET_CALLBACK_MS = 100
TARGET_NAV_MS = 500
TARGET_RSS_MB = 500
NEVER_REPLAY = ("sml-set-status",)  # writes the saved peer sets file
SAMPLE = ["0301", "3222", "1151", "4601", "5001", "1804", "3201", "5612", "4204", "1508", "3105", "1520", "5501",
          "3403", "4012", "1106", "3907", "1832", "5046", "3418"]


# ---- server -------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path | None, threads: int, serving: str = "fast") -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), DRIVERS_SERVING=serving)
    cmd = [sys.executable, "-m", "drivers.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads)]
    if db:
        cmd += ["--db", str(db)]
    # The server's stderr goes to a file, never to a pipe nobody reads: under load waitress logs a "Task queue
    # depth" warning per queued request (~70 KB a minute), a full 64 KB pipe then blocks the server's logging
    # threads, and every in-flight request hung until the client's timeout (25 users -> exactly 25 errors).
    log = tempfile.NamedTemporaryFile(prefix="drivers-bench-server-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=str(ROOT), env=env, stdout=subprocess.DEVNULL, stderr=log)
    proc.log_path = log.name
    log.close()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {Path(proc.log_path).read_text(errors='replace')[-2000:]}")
        try:
            status, _ = get(port, "/_dash-layout")
            if status == 200:
                return proc, port
        except OSError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("server did not start within 180 s")


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class RssWatcher(threading.Thread):
    """Samples the server's RSS every 0.5 s; `peak` is the highest seen."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()

    def run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            self._stop.wait(0.5)

    def stop(self):
        self._stop.set()


# ---- HTTP ------------------------------------------------------------------------------------------------------
_local = threading.local()


def _conn(port: int) -> http.client.HTTPConnection:
    conn = getattr(_local, "conn", None)
    if conn is None or getattr(_local, "port", None) != port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        _local.conn, _local.port = conn, port
    return conn


def _request(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    """One request on this thread's kept-alive connection. Retried once only when the server had closed that
    idle connection before answering (a browser does the same); a timeout is never retried: it is an error."""
    for attempt in range(2):
        conn = _conn(port)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            conn.close()
            _local.conn = None
            if attempt:
                raise
        except (http.client.HTTPException, OSError):
            conn.close()
            _local.conn = None
            raise
    raise RuntimeError("unreachable")


def get(port: int, path: str) -> tuple[int, bytes]:
    return _request(port, "GET", path)


def post(port: int, path: str, payload: dict) -> tuple[int, bytes]:
    return _request(port, "POST", path, json.dumps(payload).encode())


def timed(fn, *args) -> tuple[float, int]:
    t = time.perf_counter()
    status, _ = fn(*args)
    return (time.perf_counter() - t) * 1000, status


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[k]


# ---- browser: capture payloads, time navigation ------------------------------------------------------------------
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1600,1100",
                "--disable-background-networking", "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def _wait(driver, predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate(driver):
                return True
        except Exception:  # noqa: BLE001 - elements come and go while Dash re-renders
            pass
        time.sleep(0.02)
    return False


def _idle(driver) -> bool:
    return driver.execute_script(
        "return document.readyState === 'complete' && !!document.getElementById('state-key')"
        " && document.querySelectorAll('[data-dash-is-loading=\"true\"]').length === 0")


def _ctl(param: str) -> str:
    return '[id="{\\"param\\":\\"' + param + '\\",\\"type\\":\\"ctl\\"}"]'


def capture(base: str) -> list[dict]:
    """Drive every page and its controls; return the callback request bodies the browser sent."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    d = browser()
    try:
        d.get_log("performance")

        def visit(url):
            d.get(base + url)
            path = url.split("?")[0]
            _wait(d, lambda x: x.find_element("css selector", "#state-key").get_attribute("textContent")
                  .startswith(path + "?") and _idle(x))

        def choose(css, label):
            _wait(d, lambda x: x.find_elements("css selector", css), 30)
            d.find_element("css selector", css).click()
            _wait(d, lambda x: any(o.text == label for o in x.find_elements("css selector", "[role=option]")), 10)
            for o in d.find_elements("css selector", "[role=option]"):
                if o.text == label:
                    o.click()
                    break
            _wait(d, _idle)

        visit("/?kommune=3222")
        d.find_element("css selector", _ctl("konv") + " input[value='unweighted']").click()
        _wait(d, _idle)
        visit("/tjenester?kommune=0301&tjeneste=FGK9")
        visit("/sammenlign?kommune=3222")
        choose("#sml-visning", "Andel av netto driftsutgifter")
        try:
            d.find_element("css selector", "#sml-csv").click()
        except Exception:  # noqa: BLE001
            pass
        visit("/sammenlign?kommune=1151&peers=naboer")
        visit("/kart?kommune=1151")
        d.find_element("css selector", "#kart-indikator").click()
        field = d.find_element("css selector", ".dash-dropdown-search")
        field.send_keys("Netto driftsutgifter grunnskole per innbygger (kr)")
        field.send_keys(Keys.ENTER)
        _wait(d, lambda x: "indikator=" in x.current_url and _idle(x))
        _wait(d, lambda x: len(x.find_elements("css selector", "#graph-kart .choroplethlocation")) >= 357)
        paths = d.find_elements("css selector", "#graph-kart .choroplethlayer .trace:first-child .choroplethlocation")
        if paths:
            target = max(paths, key=lambda p: p.size["width"] * p.size["height"])
            ActionChains(d).move_to_element(target).pause(0.3).click().perform()
            _wait(d, _idle)
        visit("/metode?kommune=1151")
        time.sleep(1)
        bodies = []
        for entry in d.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") != "Network.requestWillBeSent":
                continue
            req = msg["params"]["request"]
            if req.get("method") == "POST" and req.get("url", "").split("?")[0].endswith("/_dash-update-component"):
                body = req.get("postData")
                if body is None and req.get("hasPostData"):
                    try:
                        body = d.execute_cdp_cmd("Network.getRequestPostData",
                                                 {"requestId": msg["params"]["requestId"]})["postData"]
                    except Exception:  # noqa: BLE001
                        body = None
                if body:
                    bodies.append(json.loads(body))
        return bodies
    finally:
        d.quit()


def callback_name(payload: dict) -> str:
    out = payload.get("output", "")
    out = re.sub(r"@[0-9a-f]{8,}", "", out)  # allow_duplicate hashes
    if "_pages_content" in out:
        path = next((i.get("value") for i in payload.get("inputs", []) if i.get("property") == "pathname"), "") or ""
        return f"page routing {path}"
    return out[:90]


def with_kommune(payload: dict, code: str) -> dict:
    """The same request for another municipality (page routing and controls carry it in the URL's search)."""
    p = json.loads(json.dumps(payload))
    for group in ("inputs", "state"):
        for item in p.get(group, []) or []:
            if isinstance(item, dict) and item.get("property") == "search" and isinstance(item.get("value"), str):
                q = dict(parse_qsl(item["value"].lstrip("?")))
                q["kommune"] = code
                item["value"] = "?" + urlencode(q)
    return p


# The tables each page shows in its default view (AG Grid draws nothing at all until its code is loaded, so
# they are named here): a page with tables is rendered when each shows its rows.
GRIDS = {"/sammenlign": ["sml-grid", "sml-konv-grid"], "/metode": ["metode-indikatorer", "metode-tabeller"]}

# Rendered, checked in the page at every animation frame from the user's click on: the new page's state key,
# no Dash callback in flight, no deferred part still showing its placeholder, every chart drawn by plotly,
# every table showing rows, and on /kart all 357 municipalities painted.
_RENDERED_JS = """
const path = arguments[0], grids = arguments[1] || [];
window.__nav = {click: null, done: null};
document.addEventListener('click', () => {
  const nav = window.__nav;
  nav.click = performance.now();
  const rendered = () => {
    const key = document.getElementById('state-key');
    if (!key || !key.textContent.startsWith(path + '?')) return false;
    if (document.querySelectorAll('[data-dash-is-loading="true"], .loading, .dash-graph--pending').length) return false;
    for (const g of document.querySelectorAll('.dash-graph')) if (!g.querySelector('.main-svg')) return false;
    for (const id of grids) if (!document.querySelector('#' + id + ' .ag-row')) return false;
    return path !== '/kart' || document.querySelectorAll('#graph-kart .choroplethlocation').length >= 357;
  };
  const check = () => {
    if (rendered()) { nav.done = performance.now(); return; }
    if (performance.now() - nav.click < 30000) requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
}, {capture: true, once: true});
"""


def navigation(base: str, rounds: int, per_page: dict | None = None, think: float = 0.0) -> tuple[list[float], list[float], int]:
    """Click through the nav links. Returns (in-page ms from the click event until the new page is rendered,
    as above; the same seen from WebDriver, which adds its own click and polling overhead; errors).
    `per_page` (if given) collects the in-page times by path. `think`: seconds between a page rendered and
    the next click (a reader looks at the page; the app uses such pauses to build the next pages)."""
    d = browser()
    times, driver_times, errors = [], [], 0
    try:
        d.get(base + "/?kommune=3222")
        _wait(d, _idle)
        pages = ["/sammenlign", "/kart", "/metode", "/tjenester", "/"]
        for i in range(rounds):
            path = pages[i % len(pages)]
            link = next((a for a in d.find_elements("css selector", "#nav a")
                         if a.get_attribute("href").split("?")[0].rstrip("/") == (base + path).rstrip("/")), None)
            if link is None:
                errors += 1
                continue
            time.sleep(think)
            d.execute_script(_RENDERED_JS, path, GRIDS.get(path, []))
            t = time.perf_counter()
            link.click()
            ok = _wait(d, lambda x: x.execute_script("return window.__nav.done !== null"), 30)
            driver_times.append((time.perf_counter() - t) * 1000)
            nav = d.execute_script("return window.__nav")
            if ok and nav["click"] is not None:
                times.append(nav["done"] - nav["click"])
                if per_page is not None:
                    per_page.setdefault(path, []).append(nav["done"] - nav["click"])
            else:
                errors += 1
        errors += len([e for e in d.get_log("browser") if e.get("level") == "SEVERE"])
        return times, driver_times, errors
    finally:
        d.quit()


def navigation_report(base: str, args, b95: float | None = None) -> None:
    """Navigation timed twice, each in a new browser: a reader who looks at each page for `--think` seconds,
    and clicks as fast as WebDriver can (no pause: the worst case, pages are never built ahead). Returns the
    in-page p95 of each (think, no pause)."""
    out = []
    for think, who in ((args.think, f"{args.think:g} s on each page before the next click"), (0.0, "no pause between clicks")):
        print(f"\n== page-to-page navigation in headless Chromium, {who} ==")
        per_page: dict[str, list[float]] = {}
        nav, nav_driver, nav_err = navigation(base, args.nav_rounds, per_page, think)
        for path, ms in per_page.items():
            print(f"  {path:12s} p50 {pct(ms, 50):4.0f} ms, max {max(ms):4.0f} ms  (" + " ".join(f"{m:.0f}" for m in ms) + ")")
        ratio = f", ×{pct(nav, 95) / b95:.0f} baseline" if b95 else ""
        print(f"navigation ({len(nav)} clicks, click event -> page rendered, in the page): p50 {pct(nav, 50):.0f} ms, "
              f"p95 {pct(nav, 95):.0f} ms{ratio}, errors {nav_err}; "
              f"target p95 ≤ {TARGET_NAV_MS} ms: {verdict(pct(nav, 95), TARGET_NAV_MS)}")
        print(f"  the same seen from WebDriver (adds its click and polling round trips): p50 {pct(nav_driver, 50):.0f} ms, "
              f"p95 {pct(nav_driver, 95):.0f} ms")
        out.append(pct(nav, 95) if nav else float("nan"))
    return tuple(out)


# ---- load ------------------------------------------------------------------------------------------------------
def load(port: int, payloads: list[dict], users: int, seconds: float) -> tuple[list[float], int, int, dict]:
    """Each user sends one request at a time; no new request starts after `seconds`, and the one in flight
    then is awaited (socket timeout 60 s) and counted on its merits, like every other."""
    stop_at = time.monotonic() + seconds
    lat: list[float] = []
    errors = [0]
    kinds: dict[str, int] = {}
    lock = threading.Lock()

    def user(seed: int):
        rnd = random.Random(seed)
        while time.monotonic() < stop_at:  # bounded: every user stops at the deadline
            payload = with_kommune(rnd.choice(payloads), rnd.choice(SAMPLE))
            try:
                ms, status = timed(post, port, "/_dash-update-component", payload)
                ok = status in (200, 204)
            except (OSError, http.client.HTTPException) as exc:
                ms, ok, status = float("nan"), False, type(exc).__name__
            with lock:
                if ok:
                    lat.append(ms)
                else:
                    errors[0] += 1
                    key = f"{callback_name(payload)}: {status}"
                    kinds[key] = kinds.get(key, 0) + 1
            time.sleep(rnd.uniform(0.05, 0.3))  # think time between clicks

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 120)
    return lat, errors[0], len(lat) + errors[0], kinds


def verdict(value: float, target: float) -> str:
    return "OK" if value <= target else "OVER"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--users", type=int, default=25)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--nav-rounds", type=int, default=25)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--navigation-only", action="store_true", help="time page-to-page navigation only")
    ap.add_argument("--think", type=float, default=1.0,
                    help="seconds a reader looks at a page before the next click (navigation is also timed without)")
    ap.add_argument("--payloads", type=Path, default=None,
                    help="JSON file: reuse captured callback requests from it, or save them there")
    ap.add_argument("--serving", choices=("both", "fast", "plain"), default="both",
                    help="the server's serving layer (DRIVERS_SERVING): both = the same run against fast, then plain")
    args = ap.parse_args()
    modes = ("fast", "plain") if args.serving == "both" else (args.serving,)
    results = {}
    for mode in modes:
        print(f"\n######## DRIVERS_SERVING={mode} ########")
        results[mode] = run(args, mode)
    print("\n== summary (ms; navigation in the page, p95) ==")
    print(f"{'serving':8s} {'nav p95, reading':>17s} {'nav p95, no pause':>18s} {'callback p95, cached':>21s} "
          f"{'callback p95, new views':>24s} {'load p95':>9s} {'peak RSS MB':>12s}")
    for mode, r in results.items():
        print(f"{mode:8s} {r.get('nav_think', float('nan')):17.0f} {r.get('nav_fast', float('nan')):18.0f} "
              f"{r.get('cb_cached', float('nan')):21.1f} {r.get('cb_new', float('nan')):24.1f} "
              f"{r.get('load', float('nan')):9.0f} {r.get('rss', float('nan')):12.0f}")
    return 0


def run(args, mode: str) -> dict:
    """One server with DRIVERS_SERVING=`mode`: every measurement above; returns the headline figures."""
    res: dict[str, float] = {}
    proc, port = start_server(args.db, args.threads, mode)
    base = f"http://127.0.0.1:{port}"
    watcher = RssWatcher(proc.pid)
    watcher.start()
    print(f"server pid {proc.pid} on {base}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    try:
        # baseline: a static asset from the same server
        layout_ok = get(port, "/")[0] == 200
        asset = next((m for m in re.findall(r'src="([^"]+\.js[^"]*)"', get(port, "/")[1].decode())), "/_dash-layout")
        base_ms = [timed(get, port, asset)[0] for _ in range(200)]
        b50, b95 = pct(base_ms, 50), pct(base_ms, 95)
        print(f"baseline GET {asset[:60]}: p50 {b50:.1f} ms, p95 {b95:.1f} ms (index page {'ok' if layout_ok else 'FAILED'})")

        if args.navigation_only:
            res["nav_think"], res["nav_fast"] = navigation_report(base, args)
            return res
        t = time.perf_counter()
        # the browser asks a plain server for other callbacks (no deferred parts): each mode captures its own
        saved = args.payloads.with_suffix(f".{mode}.json") if args.payloads else None
        if saved and saved.exists():
            captured = json.loads(saved.read_text())
        else:
            captured = capture(base)
            if saved:
                saved.write_text(json.dumps(captured))
        payloads = [p for p in captured if not any(n in p.get("output", "") for n in NEVER_REPLAY)]
        print(f"captured {len(payloads)} callback requests in {time.perf_counter() - t:.0f} s")
        groups: dict[str, list[dict]] = {}
        for p in payloads:
            groups.setdefault(callback_name(p), []).append(p)

        print("\n== callbacks over HTTP, view cached (repeat of a captured request) ==")
        worst = 0.0
        errors = 0
        for name, ps in sorted(groups.items()):
            ms = []
            for i in range(args.repeats):
                m, status = timed(post, port, "/_dash-update-component", ps[i % len(ps)])
                errors += status not in (200, 204)
                ms.append(m)
            p50, p95 = pct(ms, 50), pct(ms, 95)
            worst = max(worst, p95)
            print(f"{name:60s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  ×{p95 / b95:6.1f} baseline  "
                  f"target ≤ {TARGET_CALLBACK_MS} ms: {verdict(p95, TARGET_CALLBACK_MS)}")

        print("\n== page routing for views not seen before (other municipalities) ==")
        cold_all = []
        for name, ps in sorted(groups.items()):
            if not name.startswith("page routing"):
                continue
            ms = []
            for code in SAMPLE[3:]:
                m, status = timed(post, port, "/_dash-update-component", with_kommune(ps[0], code))
                errors += status not in (200, 204)
                ms.append(m)
            cold_all += ms
            print(f"{name:60s} p50 {pct(ms, 50):7.1f} ms  p95 {pct(ms, 95):7.1f} ms  ×{pct(ms, 95) / b95:6.1f} baseline  "
                  f"target ≤ {TARGET_CALLBACK_MS} ms: {verdict(pct(ms, 95), TARGET_CALLBACK_MS)}")
        print(f"all callbacks, cached views: worst p95 {worst:.1f} ms; new views p95 {pct(cold_all, 95):.1f} ms; "
              f"HTTP errors {errors}")
        res["cb_cached"], res["cb_new"] = worst, pct(cold_all, 95)

        res["nav_think"], res["nav_fast"] = navigation_report(base, args, b95)

        print(f"\n== {args.users} simulated users for {args.seconds:.0f} s ==")
        lat, errs, total, kinds = load(port, payloads, args.users, args.seconds)
        print(f"{total} requests, {errs} errors, {total / args.seconds:.1f} req/s; p50 {pct(lat, 50):.0f} ms, "
              f"p95 {pct(lat, 95):.0f} ms (×{pct(lat, 95) / b95:.0f} baseline); "
              f"target 0 errors: {'OK' if errs == 0 else 'OVER'}; p95 target ≤ {TARGET_CALLBACK_MS} ms: "
              f"{verdict(pct(lat, 95), TARGET_CALLBACK_MS)}")
        res["load"] = pct(lat, 95)
        for kind, n in sorted(kinds.items(), key=lambda kv: -kv[1]):
            print(f"  error: {kind} ×{n}")

        depths = [int(m) for m in re.findall(r"Task queue depth is (\d+)", Path(proc.log_path).read_text(errors="replace"))]
        if depths:
            print(f"  during the run waitress queued requests behind its {args.threads} threads {len(depths)} times "
                  f"(deepest queue {max(depths)})")

        print("\n== server memory ==")
        now = rss_mb(proc.pid)
        print(f"RSS now {now:.0f} MB, peak {watcher.peak:.0f} MB; target ≤ {TARGET_RSS_MB} MB: "
              f"{verdict(watcher.peak, TARGET_RSS_MB)}")
        res["rss"] = watcher.peak
        print(f"load average at the end {os.getloadavg()[0]:.1f} (figures are noisy on a shared machine)")
    finally:
        watcher.stop()
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        Path(proc.log_path).unlink(missing_ok=True)
    return res


if __name__ == "__main__":
    sys.exit(main())
