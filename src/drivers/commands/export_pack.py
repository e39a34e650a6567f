"""`drivers export-pack`: every chart for a municipality as a ZIP (PNG, SVG, XLSX, CSV + index), the seminar deck
as PPTX and/or the plan chapter as DOCX.

    drivers export-pack --region 3201 --year 2024 --peers kostragruppe --out baerum-2024.zip
    drivers export-pack --region Bærum --deck seminar.pptx --docx kapittel.docx

The municipality is a number, an old number (0219 and 3024 are Bærum's numbers before 2020 and until 2023: said
in a note) or a name (any case; a name several municipalities share lists them). Every output path is checked
before any work (its folder exists and takes a file, the path is not a folder), then the files are made by
`drivers.products` (the same makers as the dashboard's downloads) with a progress bar on stderr, and written
atomically with mode 0644 (umask applied). What a product left out is named once on stderr with the reason and the
command that supplies the numbers, and its notes are printed. Ctrl-C stops cleanly: one line, exit 130, the
browser closed, no file half-written. Messages are in the language of --lang.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from drivers import i18n
from drivers.engine.averages import CONVENTIONS
from drivers.errors import UserError
from drivers.i18n import LANGS

BAR_WIDTH = 24
INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("export-pack", help="chart pack (ZIP), seminar deck (PPTX) and/or plan chapter (DOCX) "
                              "for a municipality")
    p.add_argument("--region", required=True,
                   help="municipality: number (3201), an old number (0219, 3024) or a name (Bærum)")
    p.add_argument("--year", type=int, default=None, help="KOSTRA year (default: latest with data)")
    p.add_argument("--peers", default="kostragruppe",
                   help="kostragruppe | fylke | landet | landet-uten-oslo | naboer | a saved set name")
    p.add_argument("--convention", default="weighted", choices=CONVENTIONS, help="peer averaging")
    p.add_argument("--lang", default="nb", choices=list(LANGS), help="language of the files and of the messages")
    p.add_argument("--out", type=Path, default=None, help="ZIP file to write (default: the pack's own name in the "
                   "current folder, unless only --deck or --docx is given)")
    p.add_argument("--deck", type=Path, default=None, help="PPTX file to write (the seminar storyline)")
    p.add_argument("--docx", type=Path, default=None, help="DOCX file to write (the plan chapter)")
    p.add_argument("--template", type=Path, default=None, help="the deck's look: a .potx or .pptx")
    p.add_argument("--docx-template", dest="docx_template", type=Path, default=None,
                   help="the chapter's styles: a .dotx or .docx")
    p.add_argument("--what-if", dest="what_if", default=None, help="service for the what-if slide, e.g. FGK7")
    p.add_argument("--lever", default="coverage", choices=["coverage", "unit_cost"])
    p.add_argument("--db", type=Path, default=None, help="a drivers DuckDB file (default: fetched db, else snapshot)")
    p.set_defaults(run=run)


# ----------------------------------------------------------------------------------------------- files


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: Path, payload: bytes) -> None:
    """Write via a temporary file in the same folder and rename: never a half-written file. The file gets mode
    0666 less the umask (0644 as usual), as `open()` would give it; mkstemp alone makes 0600."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(f"mappen {folder} finnes ikke")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~_umask())
            f.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_output(path: Path, flag: str, lang: str, example: str) -> Path:
    """One clear line, before any work, when `path` cannot be written: a folder, a missing folder, a folder that
    takes no new file (tried with a probe file, so it holds for root and read-only file systems too)."""
    path = Path(path)
    if path.is_dir():
        raise UserError(i18n.t("cli.out.is_dir", lang, flag=flag, path=path, example=path / example))
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(i18n.t("cli.out.no_folder", lang, flag=flag, path=path, folder=folder))
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as exc:
        raise UserError(i18n.t("cli.out.not_writable", lang, flag=flag, path=path, folder=folder,
                               reason=exc.strerror or exc)) from None
    os.close(fd)
    os.unlink(probe)
    return path


def check_template(path: Path | None, flag: str, lang: str) -> None:
    if path is not None and not Path(path).is_file():
        raise UserError(i18n.t("cli.template.missing", lang, flag=flag, path=path))


# ---------------------------------------------------------------------------------------------- region

_OLD_LABEL = re.compile(r"^(?:\d{4}\s+)?(?P<name>.+?)(?:\s*\(-\d{4}\))?$")


def _keys(name: str) -> set[str]:
    """What a user may type for a name: the whole name, each language form («Oslo - Oslove»), and the name without
    its qualifier («Herøy (Nordland)» -> «herøy»), folded to lower case."""
    forms = {name, *name.split(" - ")}
    forms |= {re.sub(r"\s*\(.*\)\s*$", "", f) for f in forms}
    return {f.strip().casefold() for f in forms if f.strip()}


def _by_name(meta, text: str) -> list[str]:
    wanted = text.strip().casefold()
    return [code for code, name in meta.names.items() if wanted in _keys(name)]


def _old_labels(code: str) -> tuple[list[str], str | None]:
    """SSB's labels of a pre-2020 number in the database's tables («Bærum (-2019)», «0219 Bærum»)."""
    from drivers import store
    from drivers.report import data

    con = store.connect(data.database_path(), read_only=True)
    try:
        rows = store.read_frame(con, "SELECT DISTINCT label FROM categories WHERE code = ? AND dimension ILIKE "
                                     "'%region%'", [code])
        meta = dict(con.execute("SELECT key, value FROM meta WHERE key = 'backcast_sums'").fetchall())
    finally:
        con.close()
    return [str(v) for v in rows["label"]] if len(rows) else [], meta.get("backcast_sums")


def _pre2020(meta, code: str, lang: str) -> tuple[str, str] | None:
    """A pre-2020 number: the current municipality of the same name in a county the number's can have become
    (drivers.reference.PRE2020_COUNTIES) with a note; a number merged into another is one clear line naming it."""
    from drivers.reference import PRE2020_COUNTIES

    labels, sums = _old_labels(code)
    names = {m.group("name").strip() for m in (_OLD_LABEL.match(label) for label in labels) if m}
    if not names:
        return None
    counties = PRE2020_COUNTIES.get(code[:2], ())
    matches = sorted({c for name in names for c in _by_name(meta, name) if c[:2] in counties})
    if len(matches) == 1:
        new = matches[0]
        return new, i18n.t("cli.region.old_code", lang, old=code, name=meta.name(new), code=new)
    for new, entry in (json.loads(sums) if sums else {}).items():
        if code in entry.get("parts", []) and meta.has(new):
            raise UserError(i18n.t("cli.region.merged", lang, old=code, old_name=sorted(names)[0],
                                   code=new, name=meta.name(new)))
    return None


def resolve_region(text: str, lang: str) -> tuple[str, str | None]:
    """The current municipality number for what the user typed, and a note when it was not that number."""
    from drivers.report import data
    from drivers.report import state as st

    meta = data.meta()
    text = str(text).strip()
    if meta.has(text):
        return text, None
    if re.fullmatch(r"\d{4}", text):
        panel = data.get_panel()
        new = panel.code_map.get(text)
        if new is not None and meta.has(new):  # a 2020-2023 number (the 2024 code history)
            regions = panel.regions
            last = regions.loc[regions["code"].astype(str) == text, "valid_to"].dropna()
            last = int(last.iloc[0]) if len(last) else 2023
            return new, i18n.t("cli.region.renumbered", lang, old=text, name=meta.name(new), code=new, last=last)
        found = _pre2020(meta, text, lang)
        if found is not None:
            return found
        return text, None  # state.parse says it is unknown, with suggestions
    codes = _by_name(meta, text)
    if len(codes) == 1:
        return codes[0], None
    if len(codes) > 1:
        listed = ", ".join(f"{c} {meta.name(c)}" for c in sorted(codes))
        raise UserError(i18n.t("cli.region.ambiguous", lang, text=text[:40], candidates=listed, first=sorted(codes)[0]))
    hint = "; ".join(label for label, _ in st.suggest_kommune(text)[:5])
    message = i18n.t("cli.region.unknown_name", lang, text=text[:40])
    raise UserError(message + (i18n.t("cli.region.did_you_mean", lang, suggestions=hint) if hint else ""))


def open_data(db: Path | None, lang: str) -> None:
    """Point the data layer at the database (`--db`, else the fetched one, else the snapshot)."""
    from drivers.commands.serve import settings_for
    from drivers.report import data

    settings = settings_for(db)
    if not settings.database_for_reading().exists():
        raise UserError(i18n.t("cli.no_db", lang, path=settings.database_for_reading()))
    data.configure(settings)


def parse_state(region: str, year: int | None, peers: str, convention: str, lang: str):
    """Validate the view like the dashboard's URL does: one line with suggestions when it is not one."""
    from drivers.report import state as st

    query = {"kommune": region, "peers": peers, "konv": convention, "lang": lang}
    if year is not None:
        query["aar"] = str(year)
    try:
        return st.parse(query)
    except st.StateError as exc:
        hints = "; ".join(label for label, _ in exc.suggestions[:5])
        raise UserError(exc.message + (i18n.t("cli.suggestions", lang, hints=hints) if hints else "")) from None


def load_state(region: str, year: int | None, peers: str, convention: str, lang: str, db: Path | None):
    """The view for a municipality number (names and old numbers: `resolve_region` first, as `run` does)."""
    open_data(db, lang)
    return parse_state(region, year, peers, convention, lang)


# ---------------------------------------------------------------------------------------------- progress


class Bar:
    """A plain text progress bar on stderr: redrawn in place on a terminal; elsewhere (a pipe, a log) a line at
    the start, at every tenth and at the end, so a log shows progress without a line per image."""

    def __init__(self, label: str, unit: str, stream=None):
        self.label, self.unit = label, unit
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.shown = -1
        self.ended = False

    def line(self, done: int, total: int) -> str:
        total = max(total, 1)
        filled = round(BAR_WIDTH * done / total)
        return f"{self.label} [{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {done}/{total} {self.unit}"

    def __call__(self, done: int, total: int) -> None:
        if self.ended:
            return
        tenth = done * 10 // max(total, 1)
        if self.tty:
            self.stream.write("\r" + self.line(done, total))
        elif tenth != self.shown or done == total:
            self.stream.write(self.line(done, total) + "\n")
        self.shown = tenth
        if done >= total:
            self.end()
        self.stream.flush()

    def end(self) -> None:
        if self.tty and self.shown >= 0 and not self.ended:
            self.stream.write("\n")
            self.stream.flush()
        self.ended = True


# ---------------------------------------------------------------------------------------------- products


def _pack(state, theme, progress):
    from drivers.products import pack

    return pack.make(state, theme=theme, progress=progress)


def _report(products: list, lang: str, said: list[str]) -> None:
    """Notes not `said` yet, then what was left out, each once across the products (the pack and the deck share
    the storyline)."""
    notes, left = list(said), []
    for product in products:
        notes += [n for n in product.notes if n not in notes]
        for item in product.left_out:
            if (item.title, item.reason) not in [(i.title, i.reason) for i in left]:
                left.append(item)
    for note in notes[len(said):]:
        print(f"drivers: {i18n.t('cli.note', lang, note=note)}", file=sys.stderr)
    for item in left:
        key = "cli.left_out_cmd" if item.command else "cli.left_out"
        print(f"drivers: {i18n.t(key, lang, title=item.title, reason=item.reason, command=item.command)}",
              file=sys.stderr)


def _stop_browser() -> None:
    from drivers.export import image

    if image._renderer is not None:  # noqa: SLF001 - the process's shared renderer, if it was started
        image._renderer._abandon()  # noqa: SLF001


def run(args: argparse.Namespace) -> int:
    written: list[Path] = []
    lang = args.lang
    try:
        return _run(args, written)
    except KeyboardInterrupt:
        _stop_browser()
        if written:
            print(f"drivers: {i18n.t('cli.interrupted_some', lang, paths=', '.join(map(str, written)))}",
                  file=sys.stderr)
        else:
            print(f"drivers: {i18n.t('cli.interrupted', lang)}", file=sys.stderr)
        return INTERRUPTED


def _run(args: argparse.Namespace, written: list[Path]) -> int:
    lang = args.lang
    # every path first: a wrong one is one line before the data is read or anything is drawn
    out = args.out
    default_out = out is None and args.deck is None and args.docx is None
    # the default pack takes its own name in the current folder: check the folder with a name nothing has
    targets = {"out": out if out is not None else (Path(".drivers-pakke.zip") if default_out else None),
               "deck": args.deck, "docx": args.docx}
    examples = {"out": "pakke.zip", "deck": "seminar.pptx", "docx": "kapittel.docx"}
    seen: dict[Path, str] = {}
    for flag, path in targets.items():
        if path is None:
            continue
        check_output(path, flag, lang, examples[flag])
        real = Path(os.path.abspath(path))
        if real in seen:
            raise UserError(i18n.t("cli.out.same", lang, a=seen[real], b=flag, path=path))
        seen[real] = flag
    check_template(args.template, "template", lang)
    check_template(args.docx_template, "docx-template", lang)

    from drivers.export import theme

    open_data(args.db, lang)
    code, note = resolve_region(args.region, lang)
    state = parse_state(code, args.year, args.peers, args.convention, lang)
    if note:
        print(f"drivers: {i18n.t('cli.note', lang, note=note)}", file=sys.stderr)
    from drivers.report import story

    # a switched peer group changes every file: said before the work starts (and not again after it)
    _prepared, switched = story.prepare(state)
    said = [switched] if switched else []
    for sentence in said:
        print(f"drivers: {i18n.t('cli.note', lang, note=sentence)}", file=sys.stderr)
    look = theme.load()
    made = []

    def emit(product, path: Path | None, what: str, started: float) -> None:
        path = Path(path) if path is not None else Path(product.filename)
        try:
            write_atomic(path, product.payload)
        except IsADirectoryError:
            raise UserError(i18n.t("cli.out.is_dir", lang, flag="out", path=path, example=path / "pakke.zip")) from None
        except OSError as exc:
            raise UserError(i18n.t("cli.write_failed", lang, path=path, reason=exc.strerror or exc)) from None
        written.append(path)
        made.append(product)
        seconds = f"{time.perf_counter() - started:.1f}".replace(".", i18n.t("fmtx.separators", lang)[0])
        print(f"drivers: {i18n.t('cli.wrote', lang, path=path, what=i18n.t(what, lang, n=product.count), seconds=seconds)}")

    unit = i18n.t("cli.progress.images", lang)
    if targets["out"] is not None:
        started = time.perf_counter()
        bar = Bar(i18n.t("cli.progress.pack", lang), unit)
        product = _pack(state, look, bar)
        bar.end()
        emit(product, out, "cli.what.pack", started)
    if args.deck is not None:
        from drivers.products import deck

        started = time.perf_counter()
        bar = Bar(i18n.t("cli.progress.deck", lang), unit)
        product = deck.make(state, what_if=args.what_if, lever=args.lever, theme=look, template=args.template,
                            progress=bar)
        bar.end()
        emit(product, args.deck, "cli.what.deck", started)
    if args.docx is not None:
        from drivers.products import chapter

        started = time.perf_counter()
        bar = Bar(i18n.t("cli.progress.chapter", lang), unit)
        product = chapter.make(state, theme=look, template=args.docx_template, progress=bar)
        bar.end()
        emit(product, args.docx, "cli.what.chapter", started)
    _report(made, lang, said)
    return 0
