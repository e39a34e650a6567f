"""Margins reserved for a chart's tick labels, axis titles and colour bar before the browser draws it.

plotly.js draws a chart once with the margins it is given, then measures the axes' labels ("automargin") and,
if they need more room than the margins hold, draws the whole chart a second time. That second drawing was
a third to a half of the time a dashboard page spent in plotly. Here the room is estimated from the text
itself (label lengths in a Helvetica/Arial-metric font, plotly's automatic tick spacing for numeric axes), a
little on the generous side, so the first drawing is the only one. automargin stays on: where an estimate
falls short (an unusually wide font, a very narrow screen) plotly still makes room, only slower.

Pure functions of a go.Figure; no Dash, no browser.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Iterable, Sequence

import numpy as np
import plotly.graph_objects as go

# Advance widths of Helvetica / Arial / Liberation Sans in 1/1000 em (Adobe's Helvetica AFM; the Norwegian
# letters from Arial). The dashboard's font stack starts with Inter and Segoe UI, which run up to ~8 % wider:
# SLACK covers that.
_EM = {
    " ": 278, "!": 278, '"': 355, "%": 889, "&": 667, "'": 191, "(": 333, ")": 333, "*": 389, "+": 584, ",": 278,
    "-": 333, ".": 278, "/": 278, ":": 278, ";": 278, "=": 584, "?": 556, "[": 278, "]": 278, "_": 556,
    "«": 556, "»": 556, "–": 556, "—": 1000, "−": 584, "·": 278, "×": 584,
    "a": 556, "b": 556, "c": 500, "d": 556, "e": 556, "f": 278, "g": 556, "h": 556, "i": 222, "j": 222, "k": 500,
    "l": 222, "m": 833, "n": 556, "o": 556, "p": 556, "q": 556, "r": 333, "s": 500, "t": 278, "u": 556, "v": 500,
    "w": 722, "x": 500, "y": 500, "z": 500, "æ": 889, "ø": 611, "å": 556, "é": 556, "á": 556, "č": 500, "đ": 556,
    "ŋ": 556, "š": 500, "ŧ": 278, "ž": 500, "ï": 278,
    "A": 667, "B": 667, "C": 722, "D": 722, "E": 667, "F": 611, "G": 778, "H": 722, "I": 278, "J": 500, "K": 667,
    "L": 556, "M": 833, "N": 722, "O": 778, "P": 667, "Q": 778, "R": 722, "S": 667, "T": 611, "U": 722, "V": 667,
    "W": 944, "X": 667, "Y": 667, "Z": 611, "Æ": 1000, "Ø": 778, "Å": 667, "Á": 667, "Č": 722, "Š": 667,
}
_DEFAULT_EM = 556  # digits and anything not listed
SLACK = 1.1
LINE = 1.3  # a line of text is about 1.3 font sizes high (plotly's own factor for tick labels)


def text_width(text: str, size: float) -> float:
    """Estimated width in px of `text` at font size `size` (px), with SLACK; the widest line if it has <br>."""
    return max(SLACK * size * sum(_EM.get(ch, _DEFAULT_EM) for ch in line) / 1000 for line in str(text).split("<br>"))


def lines(text: str) -> int:
    return str(text).count("<br>") + 1


def number_label(value: float, decimals: int, trim: bool = True) -> str:
    """A tick label as plotly writes it with tickformat ",~f" (`trim`, else ",.<decimals>f") and separators
    ", " ("12 500", "−2,5")."""
    text = f"{abs(value):,.{decimals}f}".replace(",", " ").replace(".", ",")
    if decimals and trim:
        text = text.rstrip("0").rstrip(",")
    return ("−" if value < 0 and text.strip("0, ") else "") + text


def _nice_step(raw: float) -> float:
    """plotly's automatic tick step: the raw step rounded up to 1, 2 or 5 × 10^k."""
    if not raw > 0 or not math.isfinite(raw):
        return 1.0
    base = 10 ** math.floor(math.log10(raw))
    return next(m * base for m in (1, 2, 5, 10) if m * base >= raw * (1 - 1e-9))


def tick_labels(lo: float, hi: float, length_px: float, min_px: float) -> list[str]:
    """Labels plotly may write on a numeric axis from `lo` to `hi` drawn `length_px` long: it aims at one tick
    per `min_px` (between 4 and 9 intervals). Both neighbouring tick counts are tried, since the exact count
    depends on the final plot size."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    labels: list[str] = []
    target = min(9.0, max(4.0, length_px / min_px)) + 1
    for n in (target - 1, target, target + 1):
        step = _nice_step((hi - lo) / max(n, 1))
        decimals = max(0, -math.floor(math.log10(step) + 1e-9))
        first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
        labels += [number_label(k * step, decimals) for k in range(first, last + 1)]
    return labels


class _View:
    """Attribute access over a figure's plain JSON (fig.layout.to_plotly_json()): a missing key is None, a
    nested dict is a view. Reading go.Figure properties directly validates every access and cost ~14 ms a chart."""

    __slots__ = ("_d",)

    def __init__(self, d: dict | None):
        self._d = d if isinstance(d, dict) else {}

    def __getattr__(self, name: str):
        value = self._d.get(name)
        if isinstance(value, dict):
            return _View(value)
        if isinstance(value, list | tuple) and value and isinstance(value[0], dict):
            return [_View(v) for v in value]
        return value


_EMPTY = _View({})


def _plain(trace) -> dict:
    """A trace's JSON with its data arrays as arrays (a figure built from JSON holds them base64-encoded)."""
    d = trace.to_plotly_json()
    for key in ("x", "y", "z"):
        value = d.get(key)
        if isinstance(value, dict) and "bdata" in value:
            d[key] = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value.get("dtype", "f8")))
    return d


def _sub(view, name: str) -> _View:
    """view.name as a view, empty when missing (for chains such as template.legend.orientation)."""
    value = getattr(view, name, None) if view is not None else None
    return value if isinstance(value, _View) else _EMPTY


def _numbers(values: Iterable) -> list[float]:
    out = []
    for v in values if values is not None else ():
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            out.append(f)
    return out


def _extent(axis, values: list[float], pad: float) -> tuple[float, float] | None:
    """The axis' range: an explicit one, else the data's with plotly's autorange padding (bars from zero)."""
    if axis.range is not None and None not in axis.range:
        lo, hi = (float(v) for v in axis.range)
        return (min(lo, hi), max(lo, hi))
    if not values:
        return None
    lo, hi = min(values), max(values)
    span = (hi - lo) or abs(hi) or 1.0
    return lo - pad * span, hi + pad * span


def _axis_values(traces: list[_View], lay: _View, letter: str) -> tuple[list, bool]:
    """Every value the traces put on the x or y axis, and whether the axis shows categories (text)."""
    values: list = []
    for trace in traces:
        if trace.type not in ("bar", "scatter", "waterfall"):
            continue
        vals = getattr(trace, letter, None)
        if vals is None:
            continue
        values.extend(list(vals))
        if trace.type == "waterfall" and letter == "y":
            values.extend(_running_sums(trace))
        if trace.type == "bar" and ((trace.orientation == "h") == (letter == "x")):
            values.append(0.0)  # bars start at zero
    for shape in lay.shapes or ():  # reference lines (a norm, the peer average) widen the autorange
        if getattr(shape, f"{letter}ref", None) == letter:
            values += [getattr(shape, f"{letter}0"), getattr(shape, f"{letter}1")]
    categorical = any(isinstance(v, str) for v in values)
    return values, categorical


def _running_sums(trace) -> list[float]:
    """A waterfall's bar ends: the running sum of its relative steps."""
    out, total = [], 0.0
    for v, m in zip(_numbers(trace.y), trace.measure or [], strict=False):
        total = v if m in ("total", "absolute") else total + v
        out.append(total)
    return out


def _font_size(font, default: float) -> float:
    size = getattr(font, "size", None) if font is not None else None
    return float(size) if size else float(default)


def _title_text(axis) -> str | None:
    title = axis.title
    return title.text if title is not None and title.text else None


def reserve(fig: go.Figure, plot_width: float = 380.0) -> go.Figure:
    """Set fig.layout.margin so the tick labels, axis titles and legend fit at the first drawing (in place;
    returned).

    Only cartesian charts with one x and one y axis and choropleths with a colour bar are handled; other
    figures are returned as they are. `plot_width`: the narrowest plot area (px) the chart is expected to get
    on a laptop; rotated category labels and a wrapping legend are estimated for it (on a wider plot they need
    the same room or less; on a narrower one plotly's automargin makes room itself)."""
    lay = _View(fig.layout.to_plotly_json())
    traces = [_View(_plain(t)) for t in fig.data]
    template = _sub(_sub(lay, "template"), "layout")
    margin, t_margin = _sub(lay, "margin"), _sub(template, "margin")
    base = {}
    for side in "lrtb":
        value = getattr(margin, side)
        base[side] = value if value is not None else getattr(t_margin, side)
        if base[side] is None:
            base[side] = 80
    font = _font_size(lay.font, _font_size(template.font, 12))
    height = float(lay.height or 450)
    need = dict(base)

    if any(t.type == "choropleth" for t in traces):
        need["r"] = max(need["r"], _colorbar_width(traces, font))
        fig.layout.margin = {k: math.ceil(v) for k, v in need.items()}
        return fig
    if not traces or any(t.type not in ("bar", "scatter", "waterfall") for t in traces):
        return fig

    x_axis, y_axis = _sub(lay, "xaxis"), _sub(lay, "yaxis")
    t_x, t_y = _sub(template, "xaxis"), _sub(template, "yaxis")
    x_font = _font_size(x_axis.tickfont, _font_size(t_x.tickfont, font))
    y_font = _font_size(y_axis.tickfont, _font_size(t_y.tickfont, font))
    x_ticklen = float(x_axis.ticklen or t_x.ticklen or 5) if (x_axis.ticks or t_x.ticks) == "outside" else 0.0
    y_ticklen = float(y_axis.ticklen or t_y.ticklen or 5) if (y_axis.ticks or t_y.ticks) == "outside" else 0.0
    plot_h = max(60.0, height - base["t"] - base["b"] - 40)

    # left: the y axis' labels (categories, or the widest numeric tick) and its rotated title
    y_values, y_cat = _axis_values(traces, lay, "y")
    if y_cat:
        y_labels = [v for v in y_values if isinstance(v, str)]
    else:
        ext = _extent(y_axis, _numbers(y_values), 0.08)
        y_labels = tick_labels(*ext, plot_h, 40) if ext else []
        if y_axis.tickformat == "d" or (ext and y_axis.dtick):
            y_labels = [number_label(v, 0).replace(" ", "") for v in _numbers(y_values)]
    left = max((text_width(s, y_font) for s in y_labels), default=0.0) + y_ticklen + (7 if y_cat else 4)
    if _title_text(y_axis):
        left += _font_size(_sub(y_axis, "title").font, font) * LINE + 8
    need["l"] = max(need["l"], left)

    # bottom: the x axis' labels (one line, or rotated categories) and its title; right: the last label's half
    x_values, x_cat = _axis_values(traces, lay, "x")
    if x_cat:
        x_labels = [v for v in x_values if isinstance(v, str)]
    elif x_axis.tickformat == "d":
        x_labels = [str(int(v)) for v in _numbers(x_values)]
    else:
        ext = _extent(x_axis, _numbers(x_values), 0.08)
        x_labels = tick_labels(*ext, plot_width, 80) if ext else []
    widths = [text_width(s, x_font) for s in x_labels]
    angle = math.radians(abs(float(x_axis.tickangle))) if isinstance(x_axis.tickangle, int | float) else 0.0
    line_h = x_font * LINE
    if angle and widths:
        bottom = max(widths) * math.sin(angle) + line_h * math.cos(angle) + x_ticklen + 9
        # a rotated label reaches left past its tick, and the i-th tick sits i + 1/2 categories into the plot
        category = plot_width / max(len(x_labels), 1)
        reach = max(w * math.cos(angle) + line_h * math.sin(angle) - (i + 0.5) * category for i, w in enumerate(widths))
        need["l"] = max(need["l"], reach + 4)
    else:
        bottom = line_h + x_ticklen + 4
        if widths and not x_cat:
            need["r"] = max(need["r"], max(widths) / 2 + 10)
    if _title_text(x_axis):
        bottom += _font_size(_sub(x_axis, "title").font, font) * LINE + 9
    need["b"] = max(need["b"], bottom)
    need["t"] = max(need["t"], _legend_height(traces, lay, template, font, plot_width))
    fig.layout.margin = {k: math.ceil(v) for k, v in need.items()}
    return fig


def _legend_height(traces: list[_View], lay: _View, template: _View, font: float, plot_width: float) -> float:
    """Room above the plot for a horizontal legend placed on top (the template's), wrapped to `plot_width`."""
    shown = [t for t in traces if t.showlegend is not False and t.name]
    if lay.showlegend is False or (lay.showlegend is None and len(shown) < 2):
        return 0.0
    legend, t_legend = _sub(lay, "legend"), _sub(template, "legend")
    orientation = legend.orientation or t_legend.orientation
    y = legend.y if legend.y is not None else t_legend.y
    if orientation != "h" or y is None or y < 1:
        return 0.0
    size = _font_size(legend.font, _font_size(t_legend.font, font))
    rows, used = 1, 0.0
    for trace in shown:
        item = text_width(trace.name, size) + 40  # symbol and gaps
        if used and used + item > plot_width:
            rows, used = rows + 1, 0.0
        used += item
    return 22 + 1.5 * size * rows


def _parse_label(text: str) -> float:
    return float(text.replace("−", "-").replace(" ", "").replace(",", "."))


def _colorbar_width(traces: list[_View], font: float) -> float:
    """Room right of a choropleth for its colour bar: bar, padding and the widest tick label."""
    widest = 0.0
    for trace in traces:
        bar = trace.colorbar
        if trace.type != "choropleth" or trace.showscale is False or bar is None:
            continue
        values = _numbers(trace.z)
        lo = trace.zmin if trace.zmin is not None else (min(values) if values else 0.0)
        hi = trace.zmax if trace.zmax is not None else (max(values) if values else 1.0)
        size = _font_size(bar.tickfont, font)
        labels: Sequence[str] = tick_labels(float(lo), float(hi), 500, 40)
        fixed = re.fullmatch(r",?\.(\d+)f", bar.tickformat or "")
        if fixed:  # ",.0f": every label with that many decimals
            labels = [number_label(_parse_label(s), int(fixed.group(1)), trim=False) for s in labels]
        label_w = max((text_width(s, size) for s in labels), default=0.0)
        thickness = float(bar.thickness if bar.thickness is not None else 30)
        xpad = float(bar.xpad if bar.xpad is not None else 10)
        width = thickness + 2 * xpad + label_w + 8
        bar_title = _sub(bar, "title")
        title = bar_title.text or ""
        if title and bar_title.side in (None, "top", "bottom"):  # a title above the bar may be the widest part
            width = max(width, text_width(title, _font_size(bar_title.font, font)) + 2 * xpad + 8)
        widest = max(widest, width)
    return widest
