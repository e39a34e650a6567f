"""`drivers serve`: run the dashboard under waitress (a production WSGI server) on the snapshot or fetched db."""

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
    p.add_argument("--threads", type=int, default=8, help="waitress worker threads (default 8)")
    p.set_defaults(run=run)


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
    trim_memory_periodically()
    print(f"drivers: serving {settings.database_for_reading()} on http://{args.host}:{args.port}", flush=True)
    waitress.serve(app.server, host=args.host, port=args.port, threads=args.threads, ident="drivers")
    return 0
