"""The plan chapter (DOCX): the storyline as a Word chapter ready to paste into the økonomiplan.

Heading 1 for the chapter, Heading 2 per storyline section and Heading 3 per message; the plain-language text; each
figure as a PNG picture (16 cm, or the page's text width if narrower) with alt text, a real Word caption
(«Figur N: …» in the Caption style with a SEQ Figure field, so Word numbers and lists it) and its source line; the
numbers behind each figure as a real Word table («Tabell N: …», SEQ Table) in the language's number format, missing
cells shown as missing, never 0; what was left out named once; the sources listed at the end.

Styles come from a template (.docx or .dotx: its body is cleared, its styles, page set-up, headers and footers kept);
without one, python-docx's default document on A4 with the theme's Office font and colours.

Pure rendering: view-model data in (items with worded texts, the chart's `data`), .docx bytes out; the pictures are
drawn by `drivers.export.image`. The texts the renderer itself writes («Figur», «Tabell», the legend) are words in
`drivers.i18n` (keys "ch.*").

Long on purpose: a Word document is built in one pass over one python-docx Document (styles, numbering fields,
pictures, tables and captions refer to each other); split, every part would pass the document and its counters.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Emu, Pt, RGBColor

from drivers import fmt, i18n
from drivers.errors import UserError
from drivers.export import image
from drivers.export.layout import PRINT_BARE as BARE
from drivers.export.theme import Theme

PICTURE_WIDTH = Cm(16)
MAX_ROWS = 40  # a longer table keeps its top, its bottom and the municipality with neighbours
KEEP_EDGE = 15
KEEP_AROUND = 3
MAX_NOTES = 6  # a figure's notes under its source line (e.g. 350 municipalities without a value: 6 and a count)
YEAR_HEADERS = {"år", "year", "aar"}
_TEMPLATE_TYPE = b"application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"
_DOCUMENT_TYPE = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


@dataclass
class Item:
    """One storyline message: its section (Heading 2), message title (Heading 3), text, chart (None: a text-only
    message, its `lines` as a bulleted list), alt text of the picture, and lines said after the text (e.g. what is
    our own calculation)."""

    section: str
    title: str
    text: str
    chart: object | None  # drivers.figures.Chart: .id .title .figure .data .caption .notes
    alt: str = ""
    lines: tuple[str, ...] = ()


# ------------------------------------------------------------------------------------------ numbers


def column_decimals(series: pd.Series) -> int | None:
    """Decimals a numeric column is shown with; None for a column that is not numbers (or holds years).

    The fewest decimals (0-3) that write every value exactly (e.g. 38.2 -> 1, 120 -> 0); a column of unrounded
    values (80 706.2587…) by its size, as the charts label them: 0 from 100 up, 1 from 10, else 2."""
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return None
    if str(series.name or "").strip().lower() in YEAR_HEADERS:
        return None
    values = [float(v) for v in series.dropna() if math.isfinite(float(v))]
    if not values:
        return 0
    for decimals in range(4):
        if all(abs(round(v, decimals) - v) <= 1e-9 * max(1.0, abs(v)) for v in values):
            return decimals
    biggest = max(abs(v) for v in values)
    return 0 if biggest >= 100 else 1 if biggest >= 10 else 2


def cell_text(value, decimals: int | None, lang: str = "nb") -> str:
    """A table cell: a number in the language's format («1 234,5»), a year as is, missing as «–» (never 0)."""
    if fmt.is_missing(value):
        return fmt.MISSING if decimals is not None else ""
    if decimals is None:
        if isinstance(value, float) and value.is_integer():
            return str(int(value))  # a year
        return str(value)
    return fmt.number(value, decimals, lang=lang)


def table_rows(data: pd.DataFrame, highlight: str | None) -> tuple[list[int | None], int]:
    """Row positions to show (None marks a gap «…»), and how many rows the data has. Up to MAX_ROWS all rows;
    beyond that the first and last KEEP_EDGE rows and the row whose first cell is `highlight`, with neighbours."""
    n = len(data)
    if n <= MAX_ROWS:
        return list(range(n)), n
    keep = set(range(KEEP_EDGE)) | set(range(n - KEEP_EDGE, n))
    if highlight is not None and len(data.columns):
        for pos, value in enumerate(data.iloc[:, 0]):
            if str(value) == highlight:
                keep |= set(range(max(0, pos - KEEP_AROUND), min(n, pos + KEEP_AROUND + 1)))
    shown: list[int | None] = []
    for pos in sorted(keep):
        if shown and shown[-1] is not None and pos != shown[-1] + 1:
            shown.append(None)
        shown.append(pos)
    return shown, n


# ---------------------------------------------------------------------------------------- document


def open_template(path: Path | str | None, lang: str = "nb"):
    """A python-docx Document: the template with its body cleared (styles, page set-up, headers and footers kept),
    or python-docx's default document when `path` is None. A .dotx is read as the document it makes. A path that
    is missing or not a Word file is one UserError saying so."""
    if path is None:
        return Document()
    path = Path(path)
    if not path.is_file():
        raise UserError(i18n.t("ch.template_missing", lang, path=path))
    try:
        raw = path.read_bytes()
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            types = zf.read("[Content_Types].xml")
            if _TEMPLATE_TYPE in types:  # a .dotx: the same package, marked as a template
                out = io.BytesIO()
                with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
                    for info in zf.infolist():
                        body = zf.read(info.filename)
                        dst.writestr(info, types.replace(_TEMPLATE_TYPE, _DOCUMENT_TYPE)
                                     if info.filename == "[Content_Types].xml" else body)
                raw = out.getvalue()
        doc = Document(io.BytesIO(raw))
    except (zipfile.BadZipFile, KeyError, PackageNotFoundError, ValueError, OSError) as exc:
        why = i18n.t("ch.not_zip", lang) if isinstance(exc, zipfile.BadZipFile) else str(exc)[:120]
        raise UserError(i18n.t("ch.template_bad", lang, path=path, why=why)) from None
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):  # the last section's page set-up, headers and footers stay
            body.remove(child)
    return doc


def _style(doc, name: str, kind=WD_STYLE_TYPE.PARAGRAPH, base: str = "Normal"):
    """The document's style `name`, added (based on `base`) when the template lacks it."""
    try:
        return doc.styles[name]
    except KeyError:
        style = doc.styles.add_style(name, kind)
        if kind == WD_STYLE_TYPE.PARAGRAPH:
            try:
                style.base_style = doc.styles[base]
            except KeyError:
                pass
        return style


def _has_style(doc, name: str) -> bool:
    try:
        doc.styles[name]
        return True
    except KeyError:
        return False


def _set_font(font, name: str) -> None:
    font.name = name
    rpr = font.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), name)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme", "w:eastAsiaTheme"):
        fonts.attrib.pop(qn(attr), None)


def _default_look(doc, theme: Theme, source_style: str) -> None:
    """No template: A4 with 2.5 cm margins (16 cm text width), the theme's Office font and colours."""
    for section in doc.sections:
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.left_margin = section.right_margin = Cm(2.5)
        section.top_margin = section.bottom_margin = Cm(2.5)
    primary, muted, text = (RGBColor(*theme.rgb(k)) for k in ("primary", "muted", "text"))
    normal = doc.styles["Normal"]
    _set_font(normal.font, theme.font_office)
    normal.font.size = Pt(11)
    normal.font.color.rgb = text
    normal.paragraph_format.space_after = Pt(6)
    for name, size in (("Heading 1", 18), ("Heading 2", 14), ("Heading 3", 12)):
        style = doc.styles[name]
        _set_font(style.font, theme.font_office)
        style.font.size = Pt(size)
        style.font.color.rgb = primary
    caption = doc.styles["Caption"]
    _set_font(caption.font, theme.font_office)
    caption.font.size = Pt(10)
    caption.font.bold = True
    caption.font.italic = False
    caption.font.color.rgb = text
    source = doc.styles[source_style]
    source.font.size = Pt(8.5)
    source.font.color.rgb = muted


def _ensure_styles(doc, source_style: str) -> None:
    for name, base in (("Heading 1", "Normal"), ("Heading 2", "Normal"), ("Heading 3", "Normal"),
                       ("Caption", "Normal")):
        if not _has_style(doc, name):
            style = _style(doc, name, base=base)
            style.font.bold = True
            if name == "Caption":
                style.font.size = Pt(10)
            else:
                style.font.size = Pt({"Heading 1": 18, "Heading 2": 14, "Heading 3": 12}[name])
                style.paragraph_format.keep_with_next = True
    if not _has_style(doc, source_style):
        style = _style(doc, source_style)
        style.font.size = Pt(8.5)
        style.paragraph_format.space_after = Pt(10)


def _field(paragraph, instruction: str, shown: str) -> None:
    """A Word field (e.g. SEQ Figure \\* ARABIC) with its current result, as Word writes one."""
    def fld_char(kind: str):
        run = paragraph.add_run()
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        run._r.append(el)

    fld_char("begin")
    run = paragraph.add_run()
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run._r.append(instr)
    fld_char("separate")
    paragraph.add_run(shown)
    fld_char("end")


def _caption(doc, label: str, sequence: str, number: int, text: str, keep_with_next: bool):
    para = doc.add_paragraph(style="Caption")
    para.add_run(f"{label} ")
    _field(para, f"SEQ {sequence} \\* ARABIC", str(number))
    para.add_run(f": {text}")
    para.paragraph_format.keep_with_next = keep_with_next
    return para


def _text_width(doc) -> Emu:
    section = doc.sections[-1]
    try:
        return Emu(section.page_width - section.left_margin - section.right_margin)
    except TypeError:  # a template without page size: Word's A4 default
        return Emu(Cm(16))


def _shade(cell, hex_color: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), hex_color.lstrip("#"))
    tc_pr.append(shd)


def _borders(table) -> None:
    """Single thin borders on a table whose document has no «Table Grid» style."""
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        for key, value in (("w:val", "single"), ("w:sz", "4"), ("w:space", "0"), ("w:color", "9AA5B1")):
            el.set(qn(key), value)
        borders.append(el)
    tbl_pr.append(borders)


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _table(doc, data: pd.DataFrame, lang: str, theme: Theme, styled: bool, highlight: str | None) -> tuple[int, int, bool]:
    """The chart's numbers as a Word table. Returns (rows shown, rows in the data, whether a cell is missing)."""
    columns = list(data.columns)
    decimals = [column_decimals(data[c]) for c in columns]
    positions, total = table_rows(data, highlight)
    table = doc.add_table(rows=1, cols=len(columns))
    if _has_style(doc, "Table Grid"):
        table.style = doc.styles["Table Grid"]
    else:
        _borders(table)
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    header = table.rows[0]
    _repeat_header(header)
    for cell, name, dec in zip(header.cells, columns, decimals, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(str(name))
        run.bold = True
        if dec is not None:
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        if styled:
            run.font.color.rgb = RGBColor(*theme.rgb("background"))
            _shade(cell, theme.color("primary"))
    missing = False
    for pos in positions:
        cells = table.add_row().cells
        if pos is None:
            for cell in cells:
                cell.text = "…"
            continue
        row = data.iloc[pos]
        bold = highlight is not None and str(row.iloc[0]) == highlight
        for cell, value, dec in zip(cells, row.tolist(), decimals, strict=True):
            text = cell_text(value, dec, lang)
            missing = missing or (dec is not None and fmt.is_missing(value))
            cell.text = ""
            para = cell.paragraphs[0]
            run = para.add_run(text)
            run.bold = bold
            if dec is not None:
                para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    shown = sum(1 for p in positions if p is not None)
    return shown, total, missing


def build_chapter(items: Sequence[Item], *, title: str, intro: Iterable[str] = (), left_out: Iterable[str] = (),
                  sources: Iterable[str] = (), lang: str = "nb", highlight: str | None = None,
                  theme: Theme | None = None, template: Path | str | None = None,
                  engine: image.Renderer | None = None, progress=None) -> bytes:
    """DOCX bytes for the storyline `items`: `title` (Heading 1), the `intro` paragraphs, per item its section
    (Heading 2 when it changes), message title (Heading 3), text, figure with caption and source line, and its
    numbers as a table with caption and source line; the `left_out` sentences after the intro; the `sources`
    (Heading 2) at the end.
    `highlight`: the municipality's name, bold in the tables. `template`: a .docx/.dotx whose styles are used.
    `progress(done, total)`: called after each picture."""
    theme = theme or Theme()
    items = list(items)
    doc = open_template(template, lang)
    source_style = i18n.t("ch.style_source", lang)
    _ensure_styles(doc, source_style)
    if template is None:
        _default_look(doc, theme, source_style)
    doc.core_properties.title = title
    doc.core_properties.language = i18n.t("ch.doc_language", lang)

    # the pictures carry no title or source line: the Word caption and the source paragraph under them do
    plain = [item.chart for item in items]
    drawn_charts = [c for c in plain if c is not None]
    pictures = image.render_charts(drawn_charts, (("png", BARE),), theme, engine, progress) if drawn_charts else {}
    width = Emu(min(PICTURE_WIDTH, _text_width(doc)))
    bullet = "List Bullet" if _has_style(doc, "List Bullet") else None

    doc.add_heading(title, level=1)
    for text in intro:
        if text:
            doc.add_paragraph(text)
    for text in left_out:  # named once, before the story: what the chapter does not hold and how to get it
        if text:
            doc.add_paragraph(text)

    figure_no = table_no = 0
    section = None
    for item, drawn in zip(items, plain, strict=True):
        chart = item.chart
        if item.section != section:
            section = item.section
            doc.add_heading(section, level=2)
        if item.title and item.title != item.section:
            doc.add_heading(item.title, level=3)
        if chart is None:  # a text-only message: its points as a list, else its text
            if item.lines:
                for line in item.lines:
                    doc.add_paragraph(line if bullet else f"• {line}", style=bullet)
            elif item.text:
                doc.add_paragraph(item.text)
            continue
        if item.text:
            doc.add_paragraph(item.text)
        if item.lines:
            doc.add_paragraph(" ".join(item.lines))

        figure_no += 1
        para = doc.add_paragraph()
        para.paragraph_format.keep_with_next = True
        shape = para.add_run().add_picture(io.BytesIO(pictures[(drawn.id, "png", BARE.name)]), width=width)
        doc_pr = shape._inline.docPr
        doc_pr.set("descr", item.alt or chart.title)
        doc_pr.set("title", chart.title)
        _caption(doc, i18n.t("ch.figure", lang), "Figure", figure_no, chart.title, keep_with_next=True)
        source = doc.add_paragraph(chart.caption, style=source_style)
        notes = list(getattr(chart, "notes", None) or [])
        if notes:
            shown = notes[:MAX_NOTES] + ([i18n.t("ch.notes_more", lang, n=len(notes) - MAX_NOTES)]
                                         if len(notes) > MAX_NOTES else [])
            source.add_run("\n" + i18n.t("ch.notes", lang, notes="; ".join(shown)))

        data = getattr(chart, "data", None)
        if isinstance(data, pd.DataFrame) and len(data) and len(data.columns):
            table_no += 1
            _caption(doc, i18n.t("ch.table", lang), "Table", table_no, chart.title, keep_with_next=True)
            shown, total, missing = _table(doc, data, lang, theme, template is None, highlight)
            after = doc.add_paragraph(chart.caption, style=source_style)
            if shown < total:
                after.add_run("\n" + i18n.t("ch.rows_shown", lang, shown=shown, n=total, name=highlight or ""))
            if missing:
                after.add_run("\n" + i18n.t("ch.legend", lang, label=fmt.missing_label(None, lang)))

    sources = [text for text in sources if text]
    if sources:
        doc.add_heading(i18n.t("ch.sources", lang), level=2)
        for text in sources:
            doc.add_paragraph(text if bullet else f"• {text}", style=bullet)
        doc.add_paragraph(i18n.t("ch.licence", lang))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
