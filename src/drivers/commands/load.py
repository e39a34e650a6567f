"""`drivers load FILE`: import a JSON-stat file downloaded from Statistikkbanken into the database.

The file is parsed completely before the database is touched, and the table is written through
`store.writer` (a private copy renamed into place), so bad input or a failure leaves the database unchanged.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from drivers import jsonstat, snapshot, store
from drivers.config import Settings
from drivers.errors import UserError


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("load", help="importer en JSON-stat-fil fra Statistikkbanken (load a JSON-stat file)")
    p.add_argument("file", type=Path, help="JSON-stat 2.0 or 1.x file (json-stat2 from PxWebApi v2, json-stat from v0)")
    p.add_argument("--db", type=Path, help="DuckDB file to write (default: data/drivers.duckdb, or $DRIVERS_DB)")
    p.add_argument("--table", help="table id, when the file does not name one (extension.px.tableid or label)")
    p.set_defaults(run=run, interrupted="drivers: avbrutt (interrupted); the database is unchanged for the table in "
                   "progress")


def load_file(path: Path, db: Path, table_id: str | None = None) -> tuple[str, int]:
    """Parse `path` and store it in `db`; returns (table id, cells written)."""
    if not path.is_file():
        raise UserError(f"fant ikke filen {path} (no such file)")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"kan ikke lese {path}: {exc.strerror}") from None
    try:
        parsed = jsonstat.parse(raw)
    except UserError as exc:
        raise UserError(f"{path.name} er ikke en JSON-stat-fil ({exc})") from None
    table_id = table_id or parsed.table_id
    if not table_id:
        raise UserError(f"{path.name}: fila sier ikke hvilken tabell den er (no table id); bruk --table ID")
    meta = parsed.table_meta(table_id=str(table_id), source_url=str(path.resolve()), origin="statbank-file",
                             note=f"lastet fra fil {path.name} med drivers load (JSON-stat {parsed.version})")
    if _is_population(str(table_id)):
        # 07459 goes to the population table, as a fetch puts it (drivers.fetch.population_rows)
        from drivers.fetch import population_rows

        try:
            rows = population_rows(parsed.observations)
        except (ValueError, TypeError) as exc:
            raise UserError(f"{path.name}: befolkningstabellen mangler alder per celle ({exc})") from None
        with store.writer(db) as con:
            n = store.write_population(con, meta, rows, parsed.categories)
        return str(table_id), n
    observations, _problems = snapshot.assign_catalog_measures(table_id, parsed)
    with store.writer(db) as con:
        n = store.write_table(con, meta, observations, parsed.categories)
    return str(table_id), n


def _is_population(table_id: str) -> bool:
    try:
        from drivers import catalog

        return catalog.get(table_id).kind == "population"
    except (ImportError, UserError):
        return False


def run(args: argparse.Namespace) -> int:
    db = args.db or Settings.from_env().db_path
    table_id, n = load_file(args.file, db, args.table)
    print(f"drivers: lastet {n} celler fra tabell {table_id} inn i {db}")
    return 0
