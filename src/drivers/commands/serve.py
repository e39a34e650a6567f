"""`drivers serve`: run the dashboard under waitress (a production WSGI server) on the snapshot or fetched db.

`drivers serve --production` sizes waitress for many users (threads from the cores, a connection limit well
above what 100 browsers open, poll() instead of select()) and installs drivers.ui.serving.headers: security
headers, no version strings, an access log line per request. docs/deploy.md says how to run it.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path

from drivers.config import Settings
from drivers.errors import UserError


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("serve", help="serve the dashboard (waitress)")
    p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"), help="interface (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8050")), help="port (default 8050)")
    p.add_argument("--db", type=Path, default=None, help="a drivers DuckDB file (default: fetched db, else snapshot)")
    p.add_argument("--threads", type=int, default=None,
                   help=f"waitress worker threads (default 8; with --production {THREADS_PER_CORE} per core)")
    p.add_argument("--production", action="store_true",
                   help="production serving: sized limits, security headers, access log (docs/deploy.md)")
    p.add_argument("--connection-limit", type=int, default=None,
                   help=f"with --production: open connections at most (default {CONNECTION_LIMIT})")
    p.add_argument("--trusted-proxy", default=None,
                   help="with --production: the load balancer's address, whose X-Forwarded-For/-Proto are trusted")
    p.add_argument("--no-access-log", action="store_true", help="with --production: no access log on stdout")
    p.set_defaults(run=run)


# Production sizing. Waitress runs one process; its threads share the GIL, so more threads than this only queue
# work in Python, but a thread waiting on DuckDB or the socket releases it: 4 per core kept both cores busy in
# bench/load.py. Connections: a browser opens up to 6 per host (HTTP/1.1) and keeps them alive, so 100 users
# can hold 600; waitress's default limit of 100 then made new requests wait (one page 57.7 s at 100 users).
THREADS_PER_CORE = 4
CONNECTION_LIMIT = 1000
CHANNEL_TIMEOUT_S = 60  # an idle kept-alive connection is closed after this (waitress's default: 120 s)


def production_threads() -> int:
    return THREADS_PER_CORE * (os.cpu_count() or 1)


def raise_open_files(need: int) -> int:
    """Raise the soft limit of open files towards `need` (+ headroom for the database and logs) within the hard
    limit; returns the connection limit that fits under it."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = need + 128
        if soft != resource.RLIM_INFINITY and soft < want:
            new = want if hard == resource.RLIM_INFINITY else min(want, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
            soft = new
        return need if soft == resource.RLIM_INFINITY else max(16, min(need, soft - 128))
    except (ImportError, OSError, ValueError):
        return need


def waitress_options(args: argparse.Namespace) -> dict:
    """Keyword arguments for waitress.serve: plain (as before) or sized for production."""
    options = {"host": args.host, "port": args.port, "ident": "drivers"}
    if not getattr(args, "production", False):
        options["threads"] = args.threads or 8
        return options
    options.update(
        threads=args.threads or production_threads(),
        connection_limit=raise_open_files(args.connection_limit or CONNECTION_LIMIT),
        asyncore_use_poll=True,  # select() cannot watch descriptors above 1024
        channel_timeout=CHANNEL_TIMEOUT_S,
        expose_tracebacks=False,
    )
    if args.trusted_proxy:
        options.update(trusted_proxy=args.trusted_proxy, trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto"},
                       clear_untrusted_proxy_headers=True)
    return options


def settings_for(db: Path | None) -> Settings:
    """Settings whose database_for_reading() is `db` when given."""
    settings = Settings.from_env()
    if db is None:
        return settings
    if not db.exists():
        raise UserError(f"fant ikke databasen {db} (no such file)")
    return replace(settings, db_path=db)


def limit_malloc_arenas(n: int = 2) -> None:
    """Cap glibc's malloc arenas before the worker threads start. By default every thread that allocates may
    get an arena of its own (up to 8 per core); pandas' short-lived frames then leave each arena fragmented,
    and the server's RSS grows by ~100 MB under load for memory it no longer uses. A fixed mmap threshold
    keeps large temporary arrays out of the heap (freed straight back to the OS). No-op off glibc."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-8, n)  # M_ARENA_MAX
        libc.mallopt(-3, 256 * 1024)  # M_MMAP_THRESHOLD (fixed: glibc would raise it to 32 MB after frees)
    except (OSError, AttributeError):
        pass


def trim_memory_periodically(every_s: float = 15.0) -> None:
    """Return freed heap pages to the OS every few seconds (malloc_trim takes a few ms), so the server's RSS
    follows what it holds rather than its highest point under load."""
    import threading

    from drivers.report import data

    def loop():
        stop = threading.Event()
        while not stop.wait(every_s):
            data.release_free_memory()

    threading.Thread(target=loop, name="drivers-trim", daemon=True).start()


def run(args: argparse.Namespace) -> int:
    import waitress

    from drivers.ui.app import create_app

    limit_malloc_arenas()
    settings = settings_for(args.db)
    app = create_app(settings)
    options = waitress_options(args)
    if args.production:
        from drivers.ui.serving import headers

        headers.install(app.server, access_log=not args.no_access_log)
    trim_memory_periodically()
    sizing = (f"; {options['threads']} threads, at most {options['connection_limit']} connections"
              if args.production else "")
    print(f"drivers: serving {settings.database_for_reading()} on http://{args.host}:{args.port}{sizing}", flush=True)
    waitress.serve(app.server, **options)
    return 0
