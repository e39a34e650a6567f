"""`drivers export --table ID [--format csv|csv-plain|parquet]`: write a stored table in long format (codes, labels,
value, status).

CSV is written for Norwegian Excel by default (`;` between fields, decimal comma, UTF-8 with BOM: a double-click
opens it in columns); `--format csv-plain` writes plain CSV (`,`, decimal point, UTF-8) for programs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from drivers import store
from drivers.config import Settings
from drivers.errors import UserError

FORMATS = {"csv": ("csv", "nb"), "csv-plain": ("csv", "plain"), "parquet": ("parquet", None)}

HELP_FORMAT = ("csv (default): for Norwegian Excel, semicolon-separated, decimal comma, UTF-8 with BOM; "
               "csv-plain: comma-separated, decimal point, UTF-8 without BOM (for programs); parquet")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("export", help="eksporter en tabell (export a stored table as CSV or Parquet)",
                              description="Write a stored table in long format: codes, labels, value and SSB's "
                                          "status symbol (a missing value is an empty field, never 0). "
                                          + HELP_FORMAT + ".")
    p.add_argument("--table", required=True, help="table id, e.g. 12362")
    p.add_argument("--format", choices=list(FORMATS), default="csv", help=HELP_FORMAT)
    p.add_argument("--db", type=Path, help="DuckDB file to read (default: fetched db, else the snapshot)")
    p.add_argument("--out", type=Path, help="output file (default: <table>.csv or <table>.parquet in the current "
                                            "directory)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    db = args.db or Settings.from_env().database_for_reading()
    if not Path(db).exists():
        raise UserError(f"fant ikke databasen {db} (no such file)")
    fmt, dialect = FORMATS[args.format]
    out = args.out or Path(f"{args.table}.{fmt}")
    con = store.connect(db, read_only=True)
    try:
        n = store.export_table(con, args.table, out, fmt, dialect or "nb")
    finally:
        con.close()
    print(f"drivers: skrev {n} rader fra tabell {args.table} til {out}")
    return 0
