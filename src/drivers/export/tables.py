"""The numbers behind the charts as XLSX and CSV.

`workbook_xlsx(book)`: the pack's one workbook (drivers.report.workbook.Book): a sheet per figure and «Om tallene».
Header row frozen with the code and name columns beside it; codes as text (0301 keeps its zero); every number a
numeric cell with a Norwegian-looking format (`[$-414]`: nb-NO, so LibreOffice shows «1 234,5» whatever its locale,
and Excel in a Norwegian locale does anyway), as many decimals as the figure shows in the rounded columns and all of
them in the full-precision ones; a missing value is an empty cell (never 0).
`to_xlsx(chart)`: one chart's own table (the dashboard's per-chart download): sheet «Tall» and «Om tallene».

CSV is written for Norwegian Excel: `;` between fields, decimal comma, UTF-8 with a byte-order mark (BOM).
Excel in a Norwegian locale opens such a file by double-click with æøå intact and numbers as numbers;
a plain comma-separated, dot-decimal UTF-8 file would land in one column or with garbled letters.
"""

from __future__ import annotations

import io
import math

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from drivers.export.theme import Theme

NB = "[$-414]"  # the nb-NO locale tag of a number format
FULL_FORMAT = NB + "General"  # every digit the value has, with a decimal comma
HEADER_HEIGHT = 48  # points: room for two lines of a long header

CSV_SEP = ";"
CSV_DECIMAL = ","
CSV_ENCODING = "utf-8-sig"  # UTF-8 with BOM


def _cell(value):
    """A value openpyxl can write; NaN/NA/None stay empty (missing is not zero)."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and math.isinf(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def _number_format(series: pd.Series) -> str | None:
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return None
    values = series.dropna()
    if len(values) and (values.astype(float) % 1 != 0).any():
        decimals = min(3, max(len(f"{abs(float(v)):.6g}".partition(".")[2]) for v in values))
        return NB + "#,##0." + "0" * max(decimals, 1)
    header = str(series.name or "").lower()
    if header in ("år", "year", "aar"):
        return "0"
    return NB + "#,##0"


def number_format(decimals: int | None, year: bool = False) -> str:
    """The nb-NO format of a numeric column: "0" for years, thousands in groups and `decimals` decimals, or
    FULL_FORMAT (all digits) for None."""
    if year:
        return "0"
    if decimals is None:
        return FULL_FORMAT
    return NB + "#,##0" + ("." + "0" * decimals if decimals > 0 else "")


def _shown_width(value, decimals: int | None) -> int:
    if value is None:
        return 0
    if isinstance(value, int | float) and not isinstance(value, bool):
        if decimals is None:
            return len(repr(float(value))) + 1
        return len(f"{float(value):,.{decimals}f}")
    return len(str(value))


def _write_sheet(ws, sheet, theme: Theme, year_col: str | None) -> None:
    frame = sheet.frame
    header_fill = PatternFill("solid", fgColor=theme.color("primary").lstrip("#"))
    header_font = Font(bold=True, color="FFFFFF", name=theme.font_office)
    body_font = Font(name=theme.font_office)
    ws.append([str(c) for c in frame.columns])
    for cell in ws[1]:
        cell.fill, cell.font = header_fill, header_font
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[1].height = HEADER_HEIGHT
    text_cols = set(sheet.text_columns)
    for row in frame.itertuples(index=False, name=None):
        ws.append([None if _cell(v) is None else (str(v) if col in text_cols else _cell(v))
                   for col, v in zip(frame.columns, row, strict=True)])
    for i, col in enumerate(frame.columns, start=1):
        letter = get_column_letter(i)
        numeric = col in sheet.decimals and col not in text_cols
        fmt = number_format(sheet.decimals.get(col), year=col == year_col) if numeric else ("@" if col in text_cols
                                                                                              else None)
        for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
            cell.font = body_font
            if fmt:
                cell.number_format = fmt
            if col == year_col:
                cell.alignment = Alignment(horizontal="center", vertical="top")
            elif not numeric:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        values = frame[col].head(300).tolist()
        longest = max([_shown_width(_cell(v), sheet.decimals.get(col)) for v in values] + [0])
        ws.column_dimensions[letter].width = min(max(longest + 3, _header_width(str(col)), 8), 60)
    _fit_rows(ws, start=2)
    # frozen: the header row and the code/name columns (the first two)
    ws.freeze_panes = "C2" if len(frame.columns) > 2 else "A2"
    ws.auto_filter.ref = ws.dimensions
    _print_setup(ws)


LINE_POINTS = 15  # one line of 11 pt text
CHARS_PER_WIDTH = 1.1  # characters of body text per unit of column width (Calibri/Carlito, roughly)


def _lines(text: str, width: float) -> int:
    per_line = max(int(width * CHARS_PER_WIDTH), 1)
    return sum(max(1, math.ceil(len(part) / per_line)) for part in str(text).split("\n"))


def _fit_rows(ws, start: int = 1) -> None:
    """Row heights for wrapped text: LibreOffice keeps a file's default height and lets long text run over the rows
    below, so every row with text longer than its column is given the lines it needs."""
    widths = {letter: dim.width or 10 for letter, dim in ws.column_dimensions.items()}
    for row in ws.iter_rows(min_row=start):
        lines = 1
        for cell in row:
            if isinstance(cell.value, str) and cell.alignment is not None and cell.alignment.wrap_text:
                lines = max(lines, _lines(cell.value, widths.get(cell.column_letter, 10)))
        if lines > 1:
            ws.row_dimensions[row[0].row].height = LINE_POINTS * lines


def _header_width(header: str) -> float:
    """A column wide enough for its header on at most three lines (a short header on one, whole words)."""
    longest_word = max((len(w) for w in header.split()), default=0)
    if len(header) <= 18:
        return len(header) * 1.2 + 2  # bold
    return max(longest_word + 2, len(header) / 2.6 + 2, 14)


def _print_setup(ws) -> None:
    """Printed (or made a PDF) landscape on A4, as wide as the page, the header row on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = "1:1"


def workbook_xlsx(book, theme: Theme | None = None) -> bytes:
    """The pack's workbook (drivers.report.workbook.Book) as .xlsx bytes."""
    from drivers import i18n

    theme = theme or Theme()
    year_col = i18n.t("wb.col.year", book.lang)
    wb = Workbook()
    wb.remove(wb.active)
    for sheet in book.sheets:
        ws = wb.create_sheet(sheet.name)
        _write_sheet(ws, sheet, theme, year_col)
    about = wb.create_sheet(book.about_name)
    for label, text in book.about:
        about.append([label, text])
    about.column_dimensions["A"].width = 36
    about.column_dimensions["B"].width = 120
    for (label, text) in about.iter_rows(min_row=1):
        label.font = Font(bold=True, name=theme.font_office)
        label.alignment = Alignment(wrap_text=True, vertical="top")
        text.alignment = Alignment(wrap_text=True, vertical="top")
        text.font = Font(name=theme.font_office)
    _fit_rows(about)
    about.freeze_panes = "B1"
    _print_setup(about)
    about.print_title_rows = None
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def frame_csv(frame: pd.DataFrame) -> bytes:
    """A frame as CSV for Norwegian Excel (`;`, decimal comma, UTF-8 with BOM); a missing value is an empty field."""
    text = frame.to_csv(sep=CSV_SEP, decimal=CSV_DECIMAL, index=False, lineterminator="\r\n")
    return text.encode(CSV_ENCODING)


def sheet_csv(sheet) -> bytes:
    """One workbook sheet (drivers.report.workbook.Sheet) as CSV for Norwegian Excel."""
    return frame_csv(sheet.frame)


def to_xlsx(chart, theme: Theme | None = None) -> bytes:
    """The chart's data as an .xlsx workbook (bytes)."""
    theme = theme or Theme()
    data: pd.DataFrame = chart.data
    wb = Workbook()
    ws = wb.active
    ws.title = "Tall"
    header_fill = PatternFill("solid", fgColor=theme.color("primary").lstrip("#"))
    header_font = Font(bold=True, color="FFFFFF", name=theme.font_office)
    ws.append([str(c) for c in data.columns])
    for cell in ws[1]:
        cell.fill, cell.font = header_fill, header_font
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in data.itertuples(index=False, name=None):
        ws.append([_cell(v) for v in row])
    for i, col in enumerate(data.columns, start=1):
        fmt = _number_format(data[col])
        letter = get_column_letter(i)
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = fmt
        width = max([len(str(col))] + [len(str(v)) for v in data[col].head(200)]) + 2
        ws.column_dimensions[letter].width = min(max(width, 10), 60)
    ws.freeze_panes = "A2"

    about = wb.create_sheet("Om tallene")
    about.append(["Tittel", chart.title])
    about.append(["Kilde og forklaring", chart.caption])
    for note in getattr(chart, "notes", None) or []:
        about.append(["Mangler", note])
    about.append(["Tomme celler", "Tall som mangler eller er skjult hos SSB er tomme (ikke 0). SSBs symboler: "
                  ". = ikke mulig å oppgi tall, .. = tall mangler, : = vises ikke av konfidensialitetshensyn."])
    about.append(["Lisens", "Statistisk sentralbyrå (SSB), CC BY 4.0"])
    about.column_dimensions["A"].width = 22
    about.column_dimensions["B"].width = 110
    for (label, text) in about.iter_rows(min_row=1):
        label.font = Font(bold=True, name=theme.font_office)
        text.alignment = Alignment(wrap_text=True, vertical="top")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_csv(chart) -> bytes:
    """The chart's data as CSV for Norwegian Excel: `;`-separated, decimal comma, UTF-8 with BOM."""
    return frame_csv(chart.data)


def read_csv(raw: bytes, **kw) -> pd.DataFrame:
    """Read a CSV written by `to_csv` / `sheet_csv` back (for tests and round trips)."""
    return pd.read_csv(io.BytesIO(raw), sep=CSV_SEP, decimal=CSV_DECIMAL, encoding=CSV_ENCODING, **kw)
