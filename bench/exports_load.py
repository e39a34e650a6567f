"""Benchmark: what 10 concurrent chart-pack exports do to the other users of `drivers serve --production`.

Against one server on 127.0.0.1 (started here, as bench/load.py does): a warm-up, then --users simulated browsers
(bench/load.py's page + callback mix) for --seconds without exports, then the same number of browsers (another
seed) for --seconds while 10 export clients each ask for a chart pack as the page's script does (POST
/last-ned/jobb/pakke, poll the status every second, GET the file when done; a 503 is retried after its
Retry-After). By default the 10 packs are 10 different municipalities (10 jobs: the worst case; --identical: one
view, which the queue makes one job per server process). Printed: the other users' p95 (every request, and whole
page views) without and with the exports, as a ratio, their errors, and per export its time and answer; then the
exports are awaited (at most --export-timeout s) for their times.

    python -P bench/exports_load.py [--slots thread process] [--users 20] [--seconds 60] [--identical]

--slots runs the whole sequence once per slot kind (DRIVERS_EXPORT_SLOTS of drivers.ui.serving.jobs). Not a
test: figures on a shared 2-core machine are noisy (the client runs on the same cores). Only 127.0.0.1 is
contacted; every loop is bounded by --seconds and --export-timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402  (bench/load.py: the server, the simulated users, the statistics)

EXPORTS = 10


class Export(threading.Thread):
    """One browser asking for a chart pack the way assets/exports.js does."""

    def __init__(self, port: int, query: str, deadline: float):
        super().__init__(daemon=True)
        self.port, self.query, self.deadline = port, query, deadline
        self.full = self.polls = 0
        self.seconds: float | None = None
        self.size = 0
        self.error: str | None = None
        self.first_answer_ms: float | None = None

    def run(self) -> None:
        t0 = time.perf_counter()
        try:
            job = self._start()
            while job is not None and job["state"] not in ("done", "failed") and time.monotonic() < self.deadline:
                time.sleep(1.0)
                status, body, _ = load.request(self.port, "GET", job["status_url"])
                self.polls += 1
                if status == 200:
                    job = json.loads(body)
                elif status != 503:
                    self.error = f"status {status}"
                    return
            if job is None or job["state"] != "done":
                self.error = self.error or (f"job {job['state']}" if job else "never started")
                return
            status, body, headers = load.request(self.port, "GET", job["result_url"])
            if status != 200 or headers.get("content-type") != "application/zip":
                self.error = f"result {status}"
                return
            self.size, self.seconds = len(body), time.perf_counter() - t0
        except load.Failed as exc:
            self.error = str(exc)

    def _start(self) -> dict | None:
        while time.monotonic() < self.deadline:
            t = time.perf_counter()
            status, body, headers = load.request(self.port, "POST", f"/last-ned/jobb/pakke?{self.query}")
            if self.first_answer_ms is None:
                self.first_answer_ms = (time.perf_counter() - t) * 1000
            if status == 202:
                return json.loads(body)
            if status != 503:
                self.error = f"start {status}: {body[:200]!r}"
                return None
            self.full += 1
            time.sleep(min(float(headers.get("retry-after", "10")), max(0.0, self.deadline - time.monotonic())))
        return None


def phase(port: int, users: int, seconds: float, think: float, seed: int) -> load.Stats:
    return load.simulate(port, users, seconds, think, seed=seed)


def summary(stats: load.Stats) -> dict:
    every = stats.all_requests()
    views = stats.lat.get("page view", [])
    return {"p50": load.pct(every, 50), "p95": load.pct(every, 95), "view95": load.pct(views, 95),
            "requests": stats.requests(), "errors": sum(stats.errors.values()), "error_kinds": dict(stats.errors)}


def run_one(args, slots: str) -> dict:
    proc = load.start_server(args.db, env_extra={"DRIVERS_EXPORT_SLOTS": slots}, workers=args.workers)
    watcher = load.RssWatcher(proc.pid)
    watcher.start()
    try:
        time.sleep(args.settle)
        load.read_callback_map(proc.port)
        pids = load.server_pids(proc.pid)
        print(f"\n== slots: {slots}; {max(1, len(pids) - 1)} server process(es), {args.users} users, "
              f"{args.seconds:.0f} s per phase (load average {os.getloadavg()[0]:.1f}) ==", flush=True)
        phase(proc.port, args.users, args.warmup, args.think, seed=7)  # caches filled as in a running server
        quiet = summary(phase(proc.port, args.users, args.seconds, args.think, seed=11))
        print(f"without exports: p50 {quiet['p50']:.0f} ms, p95 {quiet['p95']:.0f} ms, page view p95 "
              f"{quiet['view95']:.0f} ms, {quiet['requests']} requests, {quiet['errors']} errors", flush=True)

        views = [load.SAMPLE[0]] * EXPORTS if args.identical else load.SAMPLE[:EXPORTS]
        deadline = time.monotonic() + args.seconds + args.export_timeout
        exports = [Export(proc.port, urlencode({"kommune": k, "aar": "2024"}), deadline) for k in views]
        cpu0, t0 = load.cpu_s(proc.pid), time.perf_counter()
        for e in exports:
            e.start()
        busy = summary(phase(proc.port, args.users, args.seconds, args.think, seed=13))
        window = time.perf_counter() - t0
        cpu = load.cpu_s(proc.pid) - cpu0
        done_in_window = sum(1 for e in exports if e.seconds is not None)
        print(f"with {EXPORTS} exports: p50 {busy['p50']:.0f} ms, p95 {busy['p95']:.0f} ms, page view p95 "
              f"{busy['view95']:.0f} ms, {busy['requests']} requests, {busy['errors']} errors "
              f"({done_in_window} exports finished in the {window:.0f} s window; server CPU {cpu:.0f} s)", flush=True)
        for kind, n in sorted(busy["error_kinds"].items(), key=lambda kv: -kv[1]):
            print(f"  error: {kind} ×{n}")
        for e in exports:
            e.join(max(0.0, deadline - time.monotonic()) + 5)
        times = sorted(e.seconds for e in exports if e.seconds is not None)
        for i, e in enumerate(exports):
            took = f"{e.seconds:.0f} s, {e.size / 1e6:.1f} MB" if e.seconds is not None else f"not done ({e.error})"
            print(f"  export {i + 1:2d} {e.query}: {took}; start answered in {e.first_answer_ms or 0:.0f} ms, "
                  f"{e.full} × 503, {e.polls} polls")
        ratio = busy["p95"] / quiet["p95"]
        print(f"other users' p95 with/without exports: {busy['p95']:.0f} / {quiet['p95']:.0f} ms = ×{ratio:.2f}; "
              f"page view p95 ×{busy['view95'] / quiet['view95']:.2f}; server RSS peak {watcher.peak:.0f} MB")
        return {"slots": slots, "quiet": quiet, "busy": busy, "ratio": ratio, "done": len(times),
                "median_s": times[len(times) // 2] if times else float("nan"), "max_s": times[-1] if times else float("nan"),
                "rss": watcher.peak}
    finally:
        watcher.stop()
        load.stop_server(proc)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--slots", nargs="+", default=["thread"], help="thread and/or process (DRIVERS_EXPORT_SLOTS)")
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60, help="length of each measured phase")
    ap.add_argument("--warmup", type=float, default=20, help="seconds of users before the first measured phase")
    ap.add_argument("--think", type=float, default=1.0)
    ap.add_argument("--workers", type=int, default=None, help="server processes (default: one per core)")
    ap.add_argument("--identical", action="store_true", help="the 10 exports ask for the same view")
    ap.add_argument("--export-timeout", type=float, default=600, help="seconds to await the exports after the phase")
    ap.add_argument("--settle", type=float, default=10.0)
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}; figures are noisy on a shared machine")
    results = [run_one(args, s) for s in args.slots]
    print("\n== summary ==")
    print(f"{'slots':>8s} {'p95 no exp':>10s} {'p95 exp':>8s} {'ratio':>6s} {'view95 no':>9s} {'view95 exp':>10s} "
          f"{'errors':>6s} {'exports':>7s} {'median s':>8s} {'max s':>6s} {'RSS MB':>7s}")
    for r in results:
        print(f"{r['slots']:>8s} {r['quiet']['p95']:10.0f} {r['busy']['p95']:8.0f} {r['ratio']:6.2f} "
              f"{r['quiet']['view95']:9.0f} {r['busy']['view95']:10.0f} {r['quiet']['errors'] + r['busy']['errors']:6d} "
              f"{r['done']:7d} {r['median_s']:8.0f} {r['max_s']:6.0f} {r['rss']:7.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
