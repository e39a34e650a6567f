"""`drivers fetch`: download the catalog's SSB tables into the DuckDB database.

Only tables SSB has republished since the last fetch are downloaded (`--full` fetches all); what changed
(cells revised, added, removed, the largest revisions) is printed to stdout, warnings and the summary to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

from drivers import fetch as fetching
from drivers.config import Settings
from drivers.ssb import ResponseCache, SSBClient


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("fetch", help="hent KOSTRA-tabeller fra SSB (fetch SSB tables into the database)")
    p.add_argument("--base-url", help="PxWebApi v2 base URL (default: SSB, or $SSB_API_BASE)")
    p.add_argument("--db", type=Path, help="DuckDB file to write (default: data/drivers.duckdb, or $DRIVERS_DB)")
    p.add_argument("--tables", help="comma-separated table ids (default: the whole catalog)")
    p.add_argument("--years", help="FROM-TO, e.g. 2015-2024 (default: from 2015)")
    p.add_argument("--regions", help="comma-separated region codes (default: all municipalities + EAK, EAKUO, EKG01-17)")
    p.add_argument("--offline", action="store_true", help="use only the response cache; say what is missing")
    p.add_argument("--cache", type=Path, help="response cache directory (default: data/cache, or $DRIVERS_CACHE)")
    p.add_argument("--full", action="store_true",
                   help="fetch every table and year, also those SSB has not republished since the last fetch")
    p.add_argument("--region", help="list the largest revisions for this region (default: the largest overall)")
    p.set_defaults(run=run, interrupted="drivers: avbrutt (interrupted); the database is unchanged for the table in "
                   "progress")


def run(args) -> int:
    settings = Settings.from_env()
    years = fetching.parse_years(args.years)
    regions = fetching.parse_list(args.regions)
    tables = fetching.parse_list(args.tables)
    for table_id in tables or []:
        fetching.catalog.get(table_id)  # unknown table: UserError before any request
    client = SSBClient(args.base_url or settings.api_base, cache=ResponseCache(args.cache or settings.cache_dir),
                       offline=args.offline)
    region = (args.region or "").strip() or None
    report = fetching.fetch(client, args.db or settings.db_path, tables, years, regions, full=args.full,
                            report_region=region)
    dropped = fetching.duplicates_line(report)
    if dropped:
        print(f"drivers: {dropped}", file=sys.stderr)
    for line in report.warnings:
        print(f"drivers: advarsel: {line}", file=sys.stderr)
    for line in fetching.changes_report(report):
        print(line)
    print(f"drivers: {fetching.summary(client, report)}", file=sys.stderr)
    if report.failures:
        for line in report.failures[1:]:
            print(f"drivers: feil: {line}", file=sys.stderr)
        print(f"drivers: {len(report.failures)} tabell(er) feilet: {report.failures[0]}", file=sys.stderr)
        return 1
    return 0
