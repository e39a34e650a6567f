"""`drivers export --table ID --format csv|parquet`: write a stored table in long format (codes, labels, value, status)."""

from __future__ import annotations

import argparse
from pathlib import Path

from drivers import store
from drivers.config import Settings
from drivers.errors import UserError


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("export", help="eksporter en tabell (export a stored table as CSV or Parquet)")
    p.add_argument("--table", required=True, help="table id, e.g. 12362")
    p.add_argument("--format", choices=["csv", "parquet"], default="csv", help="csv (default) or parquet")
    p.add_argument("--db", type=Path, help="DuckDB file to read (default: fetched db, else the snapshot)")
    p.add_argument("--out", type=Path, help="output file (default: <table>.<format> in the current directory)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    db = args.db or Settings.from_env().database_for_reading()
    if not Path(db).exists():
        raise UserError(f"fant ikke databasen {db} (no such file)")
    out = args.out or Path(f"{args.table}.{args.format}")
    con = store.connect(db, read_only=True)
    try:
        n = store.export_table(con, args.table, out, args.format)
    finally:
        con.close()
    print(f"drivers: skrev {n} rader fra tabell {args.table} til {out}")
    return 0
