"""`drivers snapshot build`: build the embedded snapshot from the real files in ../shared (atomically)."""

from __future__ import annotations

import argparse
from pathlib import Path

from drivers import snapshot
from drivers.config import Settings


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("snapshot", help="bygg det innebygde øyeblikksbildet (build the embedded snapshot)")
    sub = p.add_subparsers(dest="snapshot_command", required=True)
    b = sub.add_parser("build", help="build data/snapshot.duckdb from ../shared (ssb and geo)")
    b.add_argument("--shared", type=Path, help="the shared data folder (default: ../shared, or $DRIVERS_SHARED)")
    b.add_argument("--out", type=Path, help="output file (default: data/snapshot.duckdb, or $DRIVERS_SNAPSHOT)")
    b.set_defaults(run=run)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    shared = args.shared or settings.shared_dir
    out = args.out or settings.snapshot_path
    summary = snapshot.build(shared, out)
    size = out.stat().st_size / 1e6
    print(f"drivers: bygde {out} ({size:.1f} MB) fra {shared}")
    for h in summary["observations"]:
        years = f"{h['first_year']}-{h['last_year']}" if h["first_year"] != h["last_year"] else str(h["first_year"])
        print(f"  {h['table_id']:<15} {h['measure'] or '(uten måltall)':<34} {years:<9} {h['regions']:>4} regioner "
              f"{h['cells']:>6} celler")
    pop = summary["population"]
    print(f"  befolkning {pop['first_year']}-{pop['last_year']}: {pop['regions']} regioner, {pop['rows']} rader")
    return 0
