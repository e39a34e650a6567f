"""The chart pack: one ZIP with every chart for a municipality as PNG (print and screen) and SVG, a CSV of each
chart's numbers, ONE workbook with a sheet per chart and «Om tallene» (drivers.report.workbook, rendered by
drivers.export.tables), and `innhold.txt`, an index naming each file with the chart's title and caption, what was
left out (with the reason and the command that fetches the numbers) and the notes the user must read.

A chart that is the same as an earlier one (the storyline's decomposition and the service's own, say) is packed
once: the index says so. Every entry is a regular file with mode 0644 (rw-r--r--), so an unzip gives files the
whole team can read. All images are rendered in one batch through the warm Chromium (`drivers.export.image`).
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from datetime import UTC, datetime
from types import SimpleNamespace

import pandas as pd

from drivers import i18n
from drivers.export import image, tables
from drivers.export.theme import Theme

INDEX_NAME = "innhold.txt"
WORKBOOK_NAME = "tall.xlsx"
FORMATS = (("png", image.PRINT), ("png", image.SCREEN), ("svg", image.PRINT))
FILE_MODE = 0o644
_UNIX_FILE = 0o100000  # S_IFREG


def slug(text: str) -> str:
    """A file-name-safe id: lower case, ascii letters/digits/hyphens (æøå spelt out)."""
    text = text.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60] or "figur"


def chart_files(charts) -> list[tuple[object, str]]:
    """(chart, file stem) with a running number so files sort in storyline order."""
    width = max(2, len(str(len(charts))))
    return [(c, f"{i:0{width}d}-{slug(c.id)}") for i, c in enumerate(charts, start=1)]


def _content_key(chart) -> str:
    """What a chart shows: title, caption and its table (two charts with the same key draw the same picture)."""
    data = getattr(chart, "data", None)
    table = data.to_csv(index=False) if data is not None else ""
    return hashlib.sha256("\x1f".join([str(chart.title), str(chart.caption), table]).encode("utf-8")).hexdigest()


def unique_charts(charts) -> tuple[list, list[tuple[object, object]]]:
    """(the charts, each once, in order; [(dropped chart, the earlier chart it repeats)]). The storyline repeats
    charts the service list also makes (its decompositions and rank charts, under other ids)."""
    kept, dropped, seen = [], [], {}
    for chart in charts:
        key = _content_key(chart)
        if key in seen:
            dropped.append((chart, seen[key]))
            continue
        seen[key] = chart
        kept.append(chart)
    return kept, dropped


def plain_book(charts, lang: str = i18n.DEFAULT, heading: str = "") -> SimpleNamespace:
    """A workbook of the charts' own tables, for charts packed without a view (benches, tests): no group rows.
    The same shape as drivers.report.workbook.Book (which the products pass), so tables.workbook_xlsx renders it."""
    about_name = i18n.t("wb.about_sheet", lang)
    sheets, about, taken = [], [(i18n.t("wb.about.title", lang), heading)], {about_name.lower()}
    for i, chart in enumerate(charts, start=1):
        frame = chart.data.reset_index(drop=True)
        name = re.sub(r"\s+", " ", re.sub(r"[\[\]:*?/\\]", " ", f"{i:02d} {chart.title}"))[:31].rstrip()
        while name.lower() in taken:
            name = name[:28].rstrip() + f" {i}"
        taken.add(name.lower())
        decimals = {c: None for c in frame.columns if pd.api.types.is_float_dtype(frame[c])}
        sheets.append(SimpleNamespace(name=name, chart_id=chart.id, title=chart.title, caption=chart.caption,
                                      frame=frame, decimals=decimals, text_columns=(),
                                      notes=list(getattr(chart, "notes", None) or [])))
        about += [(name, chart.title), ("", chart.caption)] + [("", n) for n in sheets[-1].notes]
    about += [(i18n.t("wb.about.missing_label", lang), i18n.t("wb.about.missing", lang)),
              (i18n.t("wb.about.licence_label", lang), i18n.t("wb.about.licence", lang))]
    return SimpleNamespace(sheets=sheets, about_name=about_name, about=about, lang=lang)


def zip_info(name: str, when: datetime | None = None) -> zipfile.ZipInfo:
    """A ZIP entry for a regular file with mode 0644, deflated."""
    stamp = (when or datetime.now(UTC)).timetuple()[:6]
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # unix: the mode below is read by unzip
    info.external_attr = (_UNIX_FILE | FILE_MODE) << 16
    return info


def build_pack(charts, *, heading: str, theme: Theme | None = None, engine: image.Renderer | None = None,
               progress=None, book=None, left_out=(), notes=(), lang: str = i18n.DEFAULT,
               workbook_name: str = WORKBOOK_NAME) -> bytes:
    """ZIP bytes: for each chart `NN-id.png` (16 cm, 300 dpi), `NN-id-skjerm.png`, `NN-id.svg`, `NN-id.csv`; the
    workbook `workbook_name`; and the index. `heading` opens the index (municipality, year, peers).
    `book`: the drivers.report.workbook.Book of these charts (its sheets by chart id); None: a workbook of the
    charts' own tables (plain_book). `left_out`: drivers.products.LeftOut items, listed in the index;
    `notes`: sentences the user must read. `progress(done, total)`: called after each image."""
    charts, dropped = unique_charts(list(charts))
    if not charts:
        from drivers.errors import UserError

        raise UserError("ingen figurer å pakke for dette utvalget")
    if book is None:
        book = plain_book(charts, lang, heading)
    sheets = {s.chart_id: s for s in book.sheets}
    images = image.render_charts(charts, FORMATS, theme, engine, progress)
    now = datetime.now(UTC)
    t = i18n.t
    index = [heading, t("wb.idx.made", lang, when=f"{now:%d.%m.%Y %H:%M}"), "", t("wb.idx.images", lang),
             t("wb.idx.workbook", lang, name=workbook_name, about=book.about_name), t("wb.idx.csv", lang), ""]
    for note in notes:
        index.append(f"{t('wb.idx.notes', lang)} {note}")
    if notes:
        index.append("")
    stems = {id(c): stem for c, stem in chart_files(charts)}
    written: dict[str, str] = {}  # payload digest -> the file that holds it
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        def put(name: str, payload: bytes) -> None:
            zf.writestr(zip_info(name, now), payload)
            written.setdefault(hashlib.sha256(payload).hexdigest(), name)

        for chart, stem in chart_files(charts):
            sheet = sheets.get(chart.id)
            files = {
                f"{stem}.png": images[(chart.id, "png", image.PRINT.name)],
                f"{stem}-skjerm.png": images[(chart.id, "png", image.SCREEN.name)],
                f"{stem}.svg": images[(chart.id, "svg", image.PRINT.name)],
                f"{stem}.csv": tables.sheet_csv(sheet) if sheet is not None else tables.to_csv(chart),
            }
            index.append(f"{stem}: {chart.title}")
            index.append(f"    {chart.caption}")
            for name, payload in files.items():
                digest = hashlib.sha256(payload).hexdigest()
                if digest in written:  # the same bytes as a file already packed: not twice
                    index.append(f"    ({name}: {t('wb.idx.same', lang, stem=written[digest])})")
                    continue
                put(name, payload)
                index.append(f"    - {name}")
            if sheet is not None:
                index.append(f"    ({t('wb.idx.sheet', lang, sheet=sheet.name, name=workbook_name)})")
            index.append("")
        for chart, same in dropped:
            index.append(f"{chart.id}: {t('wb.idx.same', lang, stem=stems[id(same)])}")
        if dropped:
            index.append("")
        put(workbook_name, tables.workbook_xlsx(book, theme))
        index.append(f"- {workbook_name}")
        index.append("")
        if left_out:
            index.append(t("wb.idx.left_out", lang))
            for item in left_out:
                command = f" ({t('wb.idx.command', lang, command=item.command)})" if item.command else ""
                index.append(f"  * {item.title}: {item.reason}{command}")
            index.append("")
        zf.writestr(zip_info(INDEX_NAME, now), "\n".join(index).encode("utf-8"))
    return buf.getvalue()


def index_files(index_text: str) -> list[str]:
    """The file names an index lists (for tests and checks)."""
    return [line.strip()[2:] for line in index_text.splitlines() if line.strip().startswith("- ")]
