"""`drivers export-pack`: every chart for a municipality as a ZIP (PNG, SVG, XLSX, CSV + index), and/or the
seminar deck as PPTX.

    drivers export-pack --region 3201 --year 2024 --peers kostragruppe --out baerum-2024.zip
    drivers export-pack --region 3201 --deck seminar.pptx
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from drivers.engine.averages import CONVENTIONS
from drivers.errors import UserError
from drivers.i18n import LANGS


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("export-pack", help="chart pack (ZIP) and/or seminar deck (PPTX) for a municipality")
    p.add_argument("--region", required=True, help="4-digit municipality number, e.g. 3201")
    p.add_argument("--year", type=int, default=None, help="KOSTRA year (default: latest with data)")
    p.add_argument("--peers", default="kostragruppe",
                   help="kostragruppe | fylke | landet | landet-uten-oslo | naboer | a saved set name")
    p.add_argument("--convention", default="weighted", choices=CONVENTIONS, help="peer averaging")
    p.add_argument("--lang", default="nb", choices=list(LANGS))
    p.add_argument("--out", type=Path, default=None, help="ZIP file to write (default drivers-<region>-<year>.zip "
                   "unless only --deck is given)")
    p.add_argument("--deck", type=Path, default=None, help="PPTX file to write (the seminar storyline)")
    p.add_argument("--what-if", dest="what_if", default=None, help="service for the what-if slide, e.g. FGK7")
    p.add_argument("--lever", default="coverage", choices=["coverage", "unit_cost"])
    p.add_argument("--db", type=Path, default=None, help="a drivers DuckDB file (default: fetched db, else snapshot)")
    p.set_defaults(run=run)


def write_atomic(path: Path, payload: bytes) -> None:
    """Write via a temporary file in the same folder and rename: never a half-written file."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise UserError(f"mappen {path.parent} finnes ikke")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_state(region: str, year: int | None, peers: str, convention: str, lang: str, db: Path | None):
    """Point the data layer at the database and validate the view like the dashboard's URL does."""
    from drivers.commands.serve import settings_for
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
    from drivers.export import deck, pack, theme
    from drivers.report import story

    state = load_state(args.region, args.year, args.peers, args.convention, args.lang, args.db)
    look = theme.load()
    out = args.out
    if out is None and args.deck is None:
        out = Path(f"drivers-{state.kommune}-{state.aar}.zip")
    started = time.perf_counter()
    if out is not None:
        charts = story.all_charts(state)
        write_atomic(out, pack.build_pack(charts, heading=story.heading(state), theme=look))
        print(f"drivers: wrote {out} ({len(charts)} charts, {time.perf_counter() - started:.1f} s)")
    if args.deck is not None:
        t0 = time.perf_counter()
        slides = story.build(state, args.what_if, args.lever)
        write_atomic(args.deck, deck.build_deck(slides, title=story.deck_title(state), subtitle=story.heading(state),
                                                theme=look))
        print(f"drivers: wrote {args.deck} ({len(slides) + 1} slides, {time.perf_counter() - t0:.1f} s)")
    return 0
