"""`drivers publish`: the municipality's analysis as a static website (HTML, CSS, interactive charts, sortable
tables, the map, every figure's numbers as CSV) that any web server can host, or a reader can open from disk.

    drivers publish --region 3201 --out site/
    drivers publish --region 3201 --year 2024 --peers fylke --lang en --out site-en/

The view's language (--lang) is at the top of the folder, the other language in a sub-folder (en/ or nb/), each
page linking to its counterpart. See docs/publish.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from drivers.engine.averages import CONVENTIONS
from drivers.i18n import LANGS


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("publish", help="the municipality's analysis as a static website (HTML, no Python)")
    p.add_argument("--region", required=True, help="4-digit municipality number, e.g. 3201")
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
    """Point the data layer at the database and validate the view as the dashboard's URL does (one line)."""
    from drivers.commands.serve import settings_for
    from drivers.errors import UserError
    from drivers.report import data
    from drivers.report import state as st

    settings = settings_for(db)
    if not settings.database_for_reading().exists():
        raise UserError(f"fant ingen database ({settings.database_for_reading()}); kjør `drivers snapshot build` "
                        "eller `drivers fetch`")
    data.configure(settings)
    query = {"kommune": region, "peers": peers, "konv": convention, "lang": lang}
    if year is not None:
        query["aar"] = str(year)
    try:
        return st.parse(query)
    except st.StateError as exc:
        hints = "; ".join(label for label, _ in exc.suggestions[:5])
        raise UserError(exc.message + (f" Forslag: {hints}" if hints else "")) from None


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
