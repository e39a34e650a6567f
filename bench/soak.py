"""Benchmark: the server's memory (RSS) over a long session of browsing and saving, on `drivers serve --production`.

Simulated users (bench/load.py's browsers: pages with query parameters, assets, Dash's layout and dependencies,
the page-routing and deferred-part callbacks) browse for --minutes; every --save-every-th action of a user saves
a named peer set on Sammenlign (a POST of the page's save callback, into a temporary saved-sets file: four names
reused, so the file stays small, and every save is a new data version the caches are keyed on). The server's RSS
is sampled every second.

Printed: RSS after start-up (idle), at the start of the soak, at its end, the highest seen, and the ratios of
end and highest to start; the RSS per minute; and 20 s after the load stops (the server returns freed heap pages
every 15 s). Requests and errors as in bench/load.py. Not a test: it prints figures and never fails a build.

    python -P bench/soak.py [--minutes 10] [--users 10] [--think 1.0] [--save-every 5] [--warmup 5]

Every cache is bounded (by entries, some also by bytes), so RSS rises while they fill; --warmup runs the same
browsing first and the figures then say whether memory stays flat once they are full (docs/deploy.md, "Memory").
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

_spec = importlib.util.spec_from_file_location("drivers_bench_load", Path(__file__).with_name("load.py"))
load = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(load)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--users", type=int, default=10)
    ap.add_argument("--think", type=float, default=1.0, help="mean pause between a user's actions, s (±50 %%)")
    ap.add_argument("--save-every", type=int, default=5, help="every n-th action of a user saves a peer set")
    ap.add_argument("--settle", type=float, default=10.0, help="seconds between server start and the soak")
    ap.add_argument("--warmup", type=float, default=0.0,
                    help="minutes of the same browsing before the measured soak: the bounded caches fill first, so "
                         "the soak shows whether memory stays flat once they are full")
    args = ap.parse_args()
    seconds = args.minutes * 60
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}; figures are noisy on a shared machine")
    with tempfile.TemporaryDirectory(prefix="drivers-soak-") as tmp:
        proc = load.start_server(args.db, env_extra={"DRIVERS_PEER_SETS": str(Path(tmp) / "peer_sets.json")})
        watcher = load.RssWatcher(proc.pid, every=1.0)
        try:
            idle = load.rss_mb(proc.pid)
            time.sleep(args.settle)
            print(f"server pid {proc.pid}: RSS {idle:.0f} MB when it answered, {load.rss_mb(proc.pid):.0f} MB "
                  f"after {args.settle:.0f} s idle")
            print(f"\n== {args.users} users browsing and saving for {args.minutes:g} min, think {args.think:g} s ==")
            load.read_callback_map(proc.port)
            if args.warmup > 0:
                before = load.rss_mb(proc.pid)
                warm = load.simulate(proc.port, args.users, args.warmup * 60, args.think, save_every=args.save_every,
                                     seed=3)
                print(f"warm-up {args.warmup:g} min: RSS {before:.0f} -> {load.rss_mb(proc.pid):.0f} MB, "
                      f"{warm.requests()} requests, {sum(warm.errors.values())} errors")
            watcher.start()
            stats = load.simulate(proc.port, args.users, seconds, args.think, save_every=args.save_every, seed=7)
            watcher.stop()
            samples = [(t, mb) for t, mb in watcher.samples if mb == mb]  # nan: unreadable
            start, end = samples[0][1], samples[-1][1]
            peak = max(mb for _, mb in samples)
            per_minute = {}
            for t, mb in samples:
                per_minute.setdefault(int(t // 60), []).append(mb)
            print("RSS per minute (mean / max MB): " + "  ".join(
                f"{m + 1}: {sum(v) / len(v):.0f}/{max(v):.0f}" for m, v in sorted(per_minute.items())))
            load.report(stats, seconds)
            time.sleep(20)
            after = load.rss_mb(proc.pid)
            print(f"\nRSS start {start:.0f} MB, end {end:.0f} MB, max {peak:.0f} MB; end/start {end / start:.2f}, "
                  f"max/start {peak / start:.2f}; 20 s after the load {after:.0f} MB ({after / start:.2f} × start)")
            saved = stats.lat.get("callback: save peer set", [])
            print(f"{len(saved)} peer sets saved, {sum(stats.errors.values())} errors in {stats.requests()} requests")
        finally:
            watcher.stop()
            load.stop_server(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
