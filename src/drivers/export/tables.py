"""The numbers behind a chart as XLSX and CSV, with the chart's Norwegian headers and units.

XLSX: sheet «Tall» holds the data (header row 1, one row per data row, missing values as empty cells, never 0);
sheet «Om tallene» holds title, caption (source, year, peers, averaging) and notes on missing values.

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
        return "#,##0." + "0" * max(decimals, 1)
    header = str(series.name or "").lower()
    if header in ("år", "year", "aar"):
        return "0"
    return "#,##0"


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
    text = chart.data.to_csv(sep=CSV_SEP, decimal=CSV_DECIMAL, index=False, lineterminator="\r\n")
    return text.encode(CSV_ENCODING)


def read_csv(raw: bytes) -> pd.DataFrame:
    """Read a CSV written by `to_csv` back (for tests and round trips)."""
    return pd.read_csv(io.BytesIO(raw), sep=CSV_SEP, decimal=CSV_DECIMAL, encoding=CSV_ENCODING)
