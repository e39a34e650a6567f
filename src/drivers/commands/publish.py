"""`drivers publish`: the municipality's analysis as a static website (HTML, CSS, interactive charts, sortable
tables, the map, every figure's numbers as CSV) that any web server can host, or a reader can open from disk.

    drivers publish --region 3201 --out site/
    drivers publish --region 3201 --year 2024 --peers fylke --lang en --out site-en/

The view's language (--lang) is at the top of the folder, the other language in a sub-folder (en/ or nb/), each
page linking to its counterpart. See docs/publish.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from drivers import i18n
from drivers.engine.averages import CONVENTIONS
from drivers.i18n import LANGS


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("publish", help="the municipality's analysis as a static website (HTML, no Python)")
    p.add_argument("--region", required=True, help="municipality number (3201), name (Bærum) or old number (0219)")
    p.add_argument("--out", type=Path, required=True,
                   help="folder to write (new, empty, or an earlier site from drivers publish, which is replaced)")
    p.add_argument("--year", type=int, default=None, help="KOSTRA year (default: latest with data)")
    p.add_argument("--peers", default="kostragruppe",
                   help="kostragruppe | fylke | landet | landet-uten-oslo | naboer | a saved set name")
    p.add_argument("--convention", default="weighted", choices=CONVENTIONS, help="peer averaging")
    p.add_argument("--lang", default="nb", choices=list(LANGS),
                   help="the site's language at the top of the folder; the other is in a sub-folder")
    p.add_argument("--db", type=Path, default=None, help="a drivers DuckDB file (default: fetched db, else snapshot)")
    p.set_defaults(run=run)


def _load_state(region: str, year: int | None, peers: str, convention: str, lang: str, db: Path | None):
    """Open the database and the view as `drivers export-pack` does: a number, a name (any case) or an old number
    (with a note on stderr); a bad one is one line."""
    from drivers.commands import export_pack

    export_pack.open_data(db, lang)
    code, note = export_pack.resolve_region(region, lang)
    if note:
        print(f"drivers: {i18n.t('cli.note', lang, note=note)}", file=sys.stderr)
    return export_pack.parse_state(code, year, peers, convention, lang)


def run(args: argparse.Namespace) -> int:
    from drivers.products import site

    out = site.check_out(args.out, args.lang)  # before any work: a bad --out costs no data loading
    started = time.perf_counter()
    state = _load_state(args.region, args.year, args.peers, args.convention, args.lang, args.db)
    result = site.publish(state, out)
    print(f"drivers: wrote {out}/ ({len(result.pages)} pages, {result.count} charts per language, "
          f"languages {', '.join(result.languages)}, {time.perf_counter() - started:.1f} s); open {out}/index.html")
    for note in result.notes:
        print(f"drivers: {note}")
    for item in result.left_out:
        line = f"drivers: left out: {item.title}: {item.reason}"
        if item.command:
            line += f" (fetch: {item.command})"
        print(line)
    return 0
