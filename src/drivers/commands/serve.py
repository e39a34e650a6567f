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


def run(args: argparse.Namespace) -> int:
    import waitress

    from drivers.ui.app import create_app

    settings = settings_for(args.db)
    app = create_app(settings)
    print(f"drivers: serving {settings.database_for_reading()} on http://{args.host}:{args.port}", flush=True)
    waitress.serve(app.server, host=args.host, port=args.port, threads=args.threads, ident="drivers")
    return 0
