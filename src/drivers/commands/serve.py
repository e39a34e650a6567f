"""`drivers serve`: run the dashboard under waitress (a production WSGI server) on the snapshot or fetched db.

`drivers serve --production` sizes waitress for many users (one server process per core, threads from the cores,
a connection limit well above what 100 browsers open, poll() instead of select()) and installs
drivers.ui.serving.headers: security headers, no version strings, an access log line per request.
docs/deploy.md says how to run it.
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
                   help=f"waitress threads (default 8; with --production {THREADS_PER_CORE} per core, split over the workers)")
    p.add_argument("--production", action="store_true",
                   help="production serving: sized limits, security headers, access log (docs/deploy.md)")
    p.add_argument("--workers", type=int, default=None,
                   help="with --production: server processes sharing the port (default: one per core)")
    p.add_argument("--connection-limit", type=int, default=None,
                   help=f"with --production: open connections at most (default {CONNECTION_LIMIT})")
    p.add_argument("--trusted-proxy", default=None,
                   help="with --production: the load balancer's address, whose X-Forwarded-For/-Proto are trusted")
    p.add_argument("--no-access-log", action="store_true", help="with --production: no access log on stdout")
    p.set_defaults(run=run)


# Production sizing. A waitress process's threads share one GIL: building pages is Python, so one process used
# ~1.1 of this machine's 2 cores however many threads it had (bench/load.py, 100 users: 54 % of 2 cores, 409
# requests queued). So --production runs one process per core, each listening on the same port (SO_REUSEPORT:
# the kernel spreads the connections), each with 4 threads per core it stands for (a thread waiting on DuckDB
# or a socket releases the GIL). Connections: a browser opens up to 6 per host (HTTP/1.1) and keeps them alive,
# so 100 users can hold 600; waitress's default limit of 100 made new requests wait (one page 57.7 s).
THREADS_PER_CORE = 4
CONNECTION_LIMIT = 1000
CHANNEL_TIMEOUT_S = 60  # an idle kept-alive connection is closed after this (waitress's default: 120 s)
WORKER_ENV = "DRIVERS_SERVE_WORKER"  # set in the processes `drivers serve --production` starts


def cores() -> int:
    return os.cpu_count() or 1


def production_workers(args: argparse.Namespace) -> int:
    import socket

    workers = args.workers if getattr(args, "workers", None) else cores()
    return workers if hasattr(socket, "SO_REUSEPORT") else 1


def production_threads(workers: int = 1) -> int:
    return max(2, THREADS_PER_CORE * cores() // max(1, workers))


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
        threads=args.threads or production_threads(production_workers(args)),
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


def reuseport_socket(host: str, port: int):
    """A listening socket on (host, port) that other processes may bind too (the kernel spreads connections)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def worker_argv(args: argparse.Namespace, workers: int) -> list[str]:
    """The command line of one of the server processes: this command's options, the worker count fixed."""
    argv = ["serve", "--production", "--host", args.host, "--port", str(args.port), "--workers", str(workers)]
    for flag, value in (("--db", args.db), ("--threads", args.threads), ("--connection-limit", args.connection_limit),
                        ("--trusted-proxy", args.trusted_proxy)):
        if value:
            argv += [flag, str(value)]
    return argv + (["--no-access-log"] if args.no_access_log else [])


def stop_with_parent() -> None:
    """A server process started by `supervise` gets SIGTERM when its parent dies, even by SIGKILL (Linux)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def supervise(args: argparse.Namespace, workers: int) -> int:
    """Start `workers` server processes sharing the port; stop them all on SIGTERM or SIGINT, or when one of them
    exits (a supervisor such as systemd then restarts the whole)."""
    import signal
    import subprocess
    import sys

    argv = worker_argv(args, workers)
    env = dict(os.environ, **{WORKER_ENV: "1"})
    procs = [subprocess.Popen([sys.executable, "-m", "drivers.cli", *argv], env=env) for _ in range(workers)]
    print(f"drivers: {workers} server processes ({', '.join(str(p.pid) for p in procs)})", flush=True)

    def stop(*_):
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(proc.poll() is None for proc in procs):
            try:
                procs[0].wait(1)
            except subprocess.TimeoutExpired:
                pass
    finally:
        stop()
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    return max((proc.returncode or 0) for proc in procs)


def run(args: argparse.Namespace) -> int:
    workers = production_workers(args) if args.production else 1
    worker = bool(os.environ.get(WORKER_ENV))
    if workers > 1 and not worker:
        return supervise(args, workers)
    if worker:
        stop_with_parent()

    import waitress

    from drivers.ui.app import create_app

    limit_malloc_arenas()
    settings = settings_for(args.db)
    app = create_app(settings)
    options = waitress_options(args)
    if args.production:
        from drivers.ui.serving import headers

        headers.install(app.server, access_log=not args.no_access_log)
    if worker:  # one of several processes on the port, bound once its app is ready to answer
        options["sockets"] = [reuseport_socket(options.pop("host"), options.pop("port"))]
    trim_memory_periodically()
    sizing = (f"; {options['threads']} threads, at most {options['connection_limit']} connections"
              if args.production else "")
    print(f"drivers: serving {settings.database_for_reading()} on http://{args.host}:{args.port}{sizing}"
          f"{f' (process {os.getpid()})' if worker else ''}", flush=True)
    waitress.serve(app.server, **options)
    return 0
