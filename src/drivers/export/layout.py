"""An export figure's layout: the chart's figure laid out for one output size, with its title, caption (and notes)
and logo drawn into the picture, so a PNG pasted into Word still says where the numbers come from.

Nothing may be clipped or overlap (tests/test_export_layout.py measures every text box in Chromium). So the layout
is computed here, not left to plotly's automargin (which moves the plot area after the title and caption are
placed): every text is measured (`drivers.chartmargins.text_width`, Helvetica metrics with slack), the margins are
the sum of what lies in them, the plot area is then known to the pixel, and title and caption are placed from the
picture's edges. On the way:
- no rotated labels: a bar chart or waterfall whose category labels do not fit side by side is drawn horizontally;
- value labels outside bars get room inside the axis range; a long list of category names is labelled as densely
  as its font allows (the selected municipality, the first and the last always), bars without a label lose their
  value text too;
- texts above the plot (the peer average's label, a what-if's change) get a row of their own under the title;
- at the slide size every text is at least `SLIDE.text` px (18 pt where the deck places the picture, 9.3 in wide).

Pure: a figure dict in, a figure dict out; the renderer (`drivers.export.image`) turns it into PNG/SVG.

Long on purpose: the margins, the plot area and every text placed in them depend on each other (a label's width
sets a margin, the margin sets the plot width, the plot width decides which labels fit); one module computes them
in one pass so the render test's guarantee has one place to hold.
"""

from __future__ import annotations

import base64
import copy
import math
from dataclasses import dataclass

import numpy as np

from drivers import chartmargins as cm
from drivers import i18n
from drivers.export.theme import Theme, plotly_layout, recolor

TITLE_FONT = 21
CAPTION_FONT = 15  # 7 pt at 16 cm wide


@dataclass(frozen=True)
class Size:
    """An output size: CSS pixels the layout is made for, the scale factor, the dpi written to PNG, and the
    smallest text, the title's and the caption's font size (CSS px). A title or caption size of 0 draws none: the
    document around the picture says it (a Word caption, a slide's message title)."""

    name: str
    width: int
    height: int
    scale: float
    dpi: int
    text: float = 14
    title: float = TITLE_FONT
    caption: float = CAPTION_FONT

    @property
    def pixels(self) -> tuple[int, int]:
        return round(self.width * self.scale), round(self.height * self.scale)


PRINT = Size("trykk", 945, 590, 2, 300)  # 1890 × 1180 px = 16.0 × 10.0 cm at 300 dpi
# the same picture for the Word chapter, whose own caption («Figur N: …») and source line stand under it
PRINT_BARE = Size("trykk-uten-tekst", 945, 590, 2, 300, 14, 0, 0)
SCREEN = Size("skjerm", 1280, 720, 1, 96, 15, 23, 14)
# the deck's picture, placed 9.3 in (670 pt) wide on the slide (export/deck.py PIC_W): 1 CSS px ≈ 0.72 pt, so
# 25 px ≈ 18 pt when projected. No title: the slide's message title stands above it; the source line stays.
SLIDE = Size("lysbilde", 930, 480, 2.58, 192, 25, 0, 25)
SIZES = {s.name: s for s in (PRINT, PRINT_BARE, SCREEN, SLIDE)}

PAD = 14  # px between the picture's edge and any text
GAP = 8  # px between two bands of text
STANDOFF = 8  # px between an axis' tick labels and its title
LINE = 1.25  # a line of text, in font sizes (plotly's line spacing for multi-line text is 1.3)
BOLD = 1.08  # bold text runs this much wider
CARTESIAN = {"bar", "scatter", "waterfall"}


# ------------------------------------------------------------------------------------------------ text


def _width(text: str, font: float, bold: bool = False) -> float:
    return cm.text_width(text, font) * (BOLD if bold else 1.0)


def _wrap(text: str, font_px: float, width_px: float, bold: bool = False) -> list[str]:
    """`text` broken into lines no wider than `width_px` (measured), at spaces; a word longer than the line
    is cut."""
    lines: list[str] = []
    for part in str(text).split("\n"):
        line = ""
        for word in part.split():
            candidate = f"{line} {word}" if line else word
            if not line or _width(candidate, font_px, bold) <= width_px:
                line = candidate
            else:
                lines.append(line)
                line = word
            while _width(line, font_px, bold) > width_px and len(line) > 1:  # one word wider than the line
                cut = len(line)
                while cut > 1 and _width(line[:cut], font_px, bold) > width_px:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line)
    return lines


def _wrap_label(label: str, font: float, width: float) -> str:
    """A category label on as many lines (<br>) as it needs to be at most `width` wide."""
    flat = str(label).replace("<br>", " ")
    if _width(flat, font) <= width:
        return flat
    return "<br>".join(_wrap(flat, font, width))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ------------------------------------------------------------------------------------------- figure data


def _array(value) -> list:
    """A data array as a list (plotly's to_dict writes numpy arrays as {'dtype', 'bdata'})."""
    if value is None:
        return []
    if isinstance(value, dict) and "bdata" in value:
        arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value.get("dtype", "f8")))
        if "shape" in value:
            arr = arr.reshape([int(s) for s in str(value["shape"]).split(",")])
        return arr.tolist()
    if isinstance(value, str | int | float):
        return [value]
    return list(value.tolist() if hasattr(value, "tolist") else value)


_numbers = cm._numbers  # the finite numbers among plotly values: parsed as the dashboard's margins parse them


def _is_cartesian(fig: dict) -> bool:
    return bool(fig.get("data")) and all(t.get("type", "scatter") in CARTESIAN for t in fig["data"])


def _font_of(obj: dict | None, default: float) -> float:
    size = (obj or {}).get("size") if isinstance(obj, dict) else None
    return float(size) if size else float(default)


def _title_of(axis: dict) -> str | None:
    title = axis.get("title")
    text = title.get("text") if isinstance(title, dict) else title
    return str(text) if text else None


def _title_dict(axis: dict) -> dict:
    title = axis.get("title")
    if not isinstance(title, dict):
        title = {"text": title} if title else {}
        axis["title"] = title
    return title


def _raise(obj: dict, key: str, minimum: float, default: float) -> float:
    """obj[key]['size'] set to at least `minimum` (the inherited `default` if unset); returns it."""
    font = obj.get(key)
    if not isinstance(font, dict):
        font = obj[key] = {}
    size = max(_font_of(font, default), minimum)
    font["size"] = size
    return size


def _fonts(fig: dict, size: Size, template: dict) -> float:
    """Every font in the figure made explicit and at least `size.text`; returns the base font."""
    layout = fig["layout"]
    base = _raise(layout, "font", size.text, _font_of(template.get("font"), 16))
    for letter in "xy":
        axis = layout.setdefault(f"{letter}axis", {})
        t_axis = template.get(f"{letter}axis") or {}
        _raise(axis, "tickfont", size.text, _font_of(t_axis.get("tickfont"), base))
        _raise(_title_dict(axis), "font", size.text, _font_of(((t_axis.get("title") or {}).get("font")), base))
    legend = layout.setdefault("legend", {})
    _raise(legend, "font", size.text, _font_of((template.get("legend") or {}).get("font"), base))
    for note in layout.get("annotations") or []:
        _raise(note, "font", size.text, base)
    for trace in fig.get("data", []):
        if trace.get("text") is not None or "text" in str(trace.get("mode", "")) or trace.get("texttemplate"):
            _raise(trace, "textfont", size.text, base)
        bar = trace.get("colorbar")
        if isinstance(bar, dict) or (trace.get("type") == "choropleth" and trace.get("showscale") is not False):
            bar = trace.setdefault("colorbar", {})
            _raise(bar, "tickfont", size.text, base)
            _raise(_title_dict(bar), "font", size.text, base)
    return base


# --------------------------------------------------------------------------------------- chart geometry


def _categories(trace: dict, letter: str) -> list[str]:
    return [str(v) for v in _array(trace.get(letter)) if isinstance(v, str)]


def _vertical_categories(fig: dict) -> list[dict]:
    """Bar and waterfall traces drawn vertically over category labels."""
    return [t for t in fig["data"] if t.get("type") in ("bar", "waterfall") and t.get("orientation", "v") == "v"
            and _categories(t, "x")]


def _transpose(fig: dict) -> None:
    """A vertical bar chart or waterfall drawn horizontally (first category on top), instead of rotated labels."""
    layout = fig["layout"]
    for trace in fig["data"]:
        if trace.get("type") in ("bar", "waterfall", "scatter"):
            trace["x"], trace["y"] = trace.get("y"), trace.get("x")
            if trace.get("type") in ("bar", "waterfall"):
                trace["orientation"] = "h"
            hover = trace.get("hovertemplate")
            if isinstance(hover, str):
                trace["hovertemplate"] = hover.replace("%{x", "%{X").replace("%{y", "%{x").replace("%{X", "%{y")
    x, y = layout.get("xaxis") or {}, layout.get("yaxis") or {}
    layout["xaxis"], layout["yaxis"] = dict(y), dict(x)
    layout["xaxis"].update(showgrid=True, gridcolor=layout["xaxis"].get("gridcolor") or "#E3E6EA")
    layout["yaxis"].update(showgrid=False, autorange="reversed", tickangle=0)
    layout["yaxis"].pop("range", None)
    for shape in layout.get("shapes") or []:
        for a, b in (("x0", "y0"), ("x1", "y1"), ("xref", "yref")):
            shape[a], shape[b] = shape.get(b), shape.get(a)


def _bar_ends(trace: dict, value_letter: str) -> list[tuple[float, float]]:
    """(start, end) of each bar along the value axis (a waterfall's steps from their running sum)."""
    values = _array(trace.get(value_letter))
    out = []
    if trace.get("type") == "waterfall":
        measure = trace.get("measure") or ["relative"] * len(values)
        total = 0.0
        for v, m in zip(values, measure, strict=False):
            v = float(v) if v is not None and np.isfinite(float(v)) else 0.0
            if m in ("total",):
                out.append((0.0, total))
            elif m == "absolute":
                out.append((0.0, v))
                total = v
            else:
                out.append((total, total + v))
                total += v
        return out
    base = trace.get("base")
    for v in values:
        try:
            f = float(v)
        except (TypeError, ValueError):
            f = math.nan
        b = float(base) if isinstance(base, int | float) else 0.0
        out.append((b, b + f) if math.isfinite(f) else (b, b))
    return out


def _texts(trace: dict, n: int) -> list[str]:
    text = trace.get("text")
    if text is None:
        return [""] * n
    values = _array(text) if not isinstance(text, str) else [text] * n
    return [("" if v is None else str(v)) for v in values] + [""] * max(0, n - len(values))


def _range_with_text(ends: list[tuple[float, float, float]], length: float, lo: float | None = None,
                     hi: float | None = None) -> list[float]:
    """An axis range [lo, hi] holding every bar (start, end) and its outside text of `need` px beyond the end."""
    points = [p for s, e, _ in ends for p in (s, e)] + [0.0]
    lo = min(points) if lo is None else min(lo, *points)
    hi = max(points) if hi is None else max(hi, *points)
    if hi <= lo:
        hi = lo + 1.0
    for _ in range(30):
        scale = length / (hi - lo)
        new_lo, new_hi = lo, hi
        for start, end, need in ends:
            if not need:
                continue
            if end >= start:
                new_hi = max(new_hi, end + need / scale)
            else:
                new_lo = min(new_lo, end - need / scale)
        if abs(new_lo - lo) < 1e-9 * (hi - lo) and abs(new_hi - hi) < 1e-9 * (hi - lo):
            break
        lo, hi = new_lo, new_hi
    span = hi - lo
    return [lo - (0.02 * span if lo < 0 else 0.0), hi + (0.02 * span if hi > 0 else 0.0)]


def _thin(labels: list[str], per_label: float, px_per_category: float, keep_first: list[int]) -> list[int]:
    """The categories to label when their labels (`per_label` px high) do not all fit: those in `keep_first`,
    the first and the last, then an even spread, never two closer than a label's height."""
    n = len(labels)
    gap = max(1, math.ceil(per_label / max(px_per_category, 1e-9)))
    if gap <= 1:
        return list(range(n))
    chosen: list[int] = []
    order = [*keep_first, 0, n - 1, *range(0, n, gap), *range(n)]
    for i in order:
        if 0 <= i < n and i not in chosen and all(abs(i - j) >= gap for j in chosen):
            chosen.append(i)
    return sorted(chosen)


def _nticks(length: float, label_px: float) -> int:
    return max(2, min(10, int(length // max(label_px, 1.0))))


def _tick_extent(values: list[float], axis: dict, pad: float = 0.06) -> tuple[float, float] | None:
    rng = axis.get("range")
    if isinstance(rng, list | tuple) and len(rng) == 2 and None not in rng:
        lo, hi = (float(v) for v in rng)
        return min(lo, hi), max(lo, hi)
    if not values:
        return None
    lo, hi = min(values), max(values)
    span = (hi - lo) or abs(hi) or 1.0
    return lo - pad * span, hi + pad * span


def _numeric_labels(values: list[float], axis: dict, length: float, min_px: float) -> list[str]:
    if axis.get("tickformat") == "d" or axis.get("dtick") == 1:
        return [str(int(round(v))) for v in values]
    ext = _tick_extent(values, axis)
    return cm.tick_labels(*ext, length, min_px) if ext else []


# -------------------------------------------------------------------------------------------- the layout


def export_figure(chart, size: Size = PRINT, theme: Theme | None = None) -> dict:
    """The chart's figure as a dict laid out for `size`, with title, caption (and notes) and logo drawn in;
    no text leaves the picture or overlaps another."""
    theme = theme or Theme()
    fig = chart.figure.to_dict() if hasattr(chart.figure, "to_dict") else copy.deepcopy(chart.figure)
    fig = recolor(fig, theme)
    fig.setdefault("data", [])
    layout = fig.setdefault("layout", {})
    template = (layout.get("template") or {}).get("layout") or {}
    layout.update(plotly_layout(theme))
    layout["font"] = {**(template.get("font") or {}), **(layout.get("font") or {}), **plotly_layout(theme)["font"]}
    base = _fonts(fig, size, template)
    W, H = size.width, size.height
    text_w = W - 2 * PAD

    # title and caption (with the notes a reader must see), wrapped to the picture's width
    title_font, caption_font = size.title, size.caption
    title_lines = _wrap(chart.title, title_font, text_w, bold=True) if title_font else []
    caption_lines = _caption_lines(chart, _lang(fig), caption_font, text_w, 0.33 * H) if caption_font else []
    title_h = len(title_lines) * title_font * LINE
    caption_h = len(caption_lines) * caption_font * LINE

    top = PAD + (title_h + GAP if title_lines else 0.0)
    bottom = PAD + (caption_h + GAP if caption_lines else 0.0)
    left, right = float(PAD), float(PAD)
    cartesian = _is_cartesian(fig)
    above = _above_notes(layout)
    above_h = max((n["_lines"] * _font_of(n.get("font"), base) * LINE for n in above), default=0.0)
    legend_h = _legend(fig, layout, base, W - 2 * PAD)
    top += legend_h + (above_h + GAP if above else 0.0)

    if cartesian:
        for letter in "xy":  # an axis title the chart's title already says ("…, mill. kr") only takes room
            axis = layout.get(f"{letter}axis") or {}
            said = _title_of(axis)
            if said and said.strip().lower() in str(chart.title).lower():
                _title_dict(axis)["text"] = ""
        left, right, bottom = _cartesian(fig, size, base, top, bottom)
        # a wrapped category label is centred on its band and may reach past the plot area's top and bottom (the
        # first and the last category): give it that room (measured: «Primary and lower secondary school» on a
        # slide rose 5 px out of the picture)
        y_lines = max((str(c).count("<br>") + 1 for t in fig["data"] for c in _categories(t, "y")), default=1)
        if y_lines > 1:
            y_font = _font_of((layout.get("yaxis") or {}).get("tickfont"), base)
            extra = (y_lines - 1) * y_font * LINE / 2
            top, bottom = top + extra, bottom + extra
    elif any(t.get("type") == "choropleth" for t in fig["data"]):
        traces = [cm._View(_plain_trace(t)) for t in fig["data"]]
        right = max(right, cm._colorbar_width(traces, base) + PAD)
        bar_title = max((len(_title_of(t.get("colorbar") or {}) or "") for t in fig["data"]), default=0)
        if bar_title:
            top += base * LINE  # the colour bar's title above the bar

    plot_w, plot_h = max(W - left - right, 40.0), max(H - top - bottom, 40.0)
    if cartesian:
        _after_plot_size(fig, size, base, plot_w, plot_h)
    _place_above(above, layout, plot_w, plot_h, base)
    if legend_h:
        legend = layout.setdefault("legend", {})
        legend.update(orientation="h", x=0, xanchor="left", xref="paper", yanchor="bottom", yref="paper",
                      y=1 + ((above_h + GAP) if above else 0.0) / plot_h)

    layout.update(
        width=W,
        height=H,
        title=None,
        margin=dict(l=round(left), r=round(right), t=round(top), b=round(bottom), pad=0, autoexpand=False),
        paper_bgcolor=theme.color("background"),
    )
    annotations = list(layout.get("annotations") or [])
    for note in annotations:
        note.pop("_lines", None)
    x_edge = (PAD - round(left)) / plot_w  # the picture's left edge plus PAD, in paper units
    if title_lines:
        annotations.append(dict(
            text="<br>".join(f"<b>{_escape(line)}</b>" for line in title_lines),
            xref="paper", x=x_edge, xanchor="left", yref="paper", y=1 + (round(top) - PAD) / plot_h, yanchor="top",
            showarrow=False, align="left",
            font=dict(size=title_font, color=theme.color("primary"), family=theme.font),
        ))
    if caption_lines:
        annotations.append(dict(
            text="<br>".join(_escape(line) for line in caption_lines),
            xref="paper", x=x_edge, xanchor="left", yref="paper", y=-(round(bottom) - PAD) / plot_h,
            yanchor="bottom", showarrow=False, align="left",
            font=dict(size=caption_font, color=theme.color("muted"), family=theme.font),
        ))
    layout["annotations"] = annotations
    logo = theme.logo_data_uri() if title_lines else None  # the logo sits beside the title
    if logo:
        images = list(layout.get("images") or [])
        images.append(dict(source=logo, xref="paper", yref="paper", x=1 + (round(right) - PAD) / plot_w,
                           y=1 + (round(top) - PAD) / plot_h, xanchor="right", yanchor="top",
                           sizex=0.15, sizey=max(title_h, 24) / plot_h, sizing="contain", layer="above"))
        layout["images"] = images
    return fig


def _lang(fig: dict) -> str:
    """The language a chart was drawn in: the figures write its decimal marks into the layout."""
    marks = fig["layout"].get("separators")
    return next((code for code in i18n.LANGS if marks and i18n.t("fmtx.separators", code) == marks), i18n.DEFAULT)


def _caption_lines(chart, lang: str, font: float, width: float, room: float) -> list[str]:
    """The source line and the notes a reader must see (missing values, map credit, rows shown), wrapped; at most
    three notes, fewer when they would take more than `room` px (the rest counted, they are in the data)."""
    caption = str(chart.caption or "")
    notes = list(getattr(chart, "notes", None) or [])
    lines = _wrap(caption, font, width)
    for shown in range(min(3, len(notes)), -1, -1):
        if not notes:
            break
        listed = notes[:shown] + ([i18n.t("lay.more", lang, n=len(notes) - shown)] if len(notes) > shown else [])
        text = caption + "\n" + (i18n.t("lay.notes", lang, notes="; ".join(listed)) if shown
                                 else i18n.t("lay.notes_n", lang, n=len(notes)))
        lines = _wrap(text, font, width)
        if len(lines) * font * LINE <= room:
            break
    return lines


def _plain_trace(trace: dict) -> dict:
    out = dict(trace)
    for key in ("x", "y", "z"):
        if isinstance(out.get(key), dict):
            out[key] = _array(out[key])
    return out


def _legend(fig: dict, layout: dict, base: float, width: float) -> float:
    """Height of a horizontal legend above the plot (0 when there is none there)."""
    shown = [t for t in fig["data"] if t.get("showlegend", True) is not False and t.get("name")]
    if layout.get("showlegend") is False or (layout.get("showlegend") is None and len(shown) < 2):
        return 0.0
    legend = layout.get("legend") or {}
    if legend.get("orientation", "h") != "h" or float(legend.get("y", 1.0)) < 1.0:
        return 0.0  # a legend inside the plot (the map's) or beside it
    font = _font_of(legend.get("font"), base)
    rows, used = 1, 0.0
    for trace in shown:
        item = cm.text_width(trace["name"], font) + 46  # symbol and gaps
        if used and used + item > width:
            rows, used = rows + 1, 0.0
        used += item
    return rows * (font * LINE + 8) + GAP


def _above_notes(layout: dict) -> list[dict]:
    """The chart's own annotations above the plot (the peer average's label, a what-if's change)."""
    out = []
    for note in layout.get("annotations") or []:
        yref = note.get("yref", "y")
        if yref in ("paper", "y domain") and float(note.get("y", 0)) >= 1.0:
            note["_lines"] = str(note.get("text", "")).count("<br>") + 1
            out.append(note)
    return out


def _place_above(notes: list[dict], layout: dict, plot_w: float, plot_h: float, base: float) -> None:
    """Each annotation above the plot sits in its row right over the plot area, inside the plot's width."""
    xaxis = layout.get("xaxis") or {}
    rng = xaxis.get("range")
    for note in notes:
        note.update(y=1, yref="paper", yanchor="bottom", yshift=GAP / 2)
        width = max(cm.text_width(line, _font_of(note.get("font"), base))
                    for line in str(note.get("text", "")).split("<br>"))
        if note.get("xref", "x") in ("paper", "x domain"):
            at = float(note.get("x", 0.5)) * plot_w
        elif isinstance(rng, list) and len(rng) == 2 and None not in rng and rng[1] != rng[0]:
            at = (float(note.get("x", 0)) - rng[0]) / (rng[1] - rng[0]) * plot_w
        else:
            continue
        anchor = note.get("xanchor", "center")
        if anchor == "auto":
            anchor = "center"
        start = at - {"left": 0.0, "center": width / 2, "right": width}[anchor]
        if start < 0:
            note["xanchor"], note["xshift"] = "left", -at if at > 0 else 0.0
            if at <= 0:
                note["xshift"] = -at
        elif start + width > plot_w:
            note["xanchor"], note["xshift"] = "right", 0.0
            if at > plot_w:
                note["xshift"] = plot_w - at
        note.pop("_lines", None)


def _cartesian(fig: dict, size: Size, base: float, top: float, bottom: float) -> tuple[float, float, float]:
    """Left, right and bottom margins for a chart with one x and one y axis; makes labels horizontal."""
    layout = fig["layout"]
    W, H = size.width, size.height
    vertical = _vertical_categories(fig)
    if vertical:
        xaxis = layout["xaxis"]
        font = _font_of(xaxis.get("tickfont"), base)
        labels = list(dict.fromkeys(c for t in vertical for c in _categories(t, "x")))
        guess_w = W - 2 * PAD - 120
        per = guess_w / max(len(labels), 1)
        lines = max(_wrap_label(s, font, per - 12).count("<br>") + 1 for s in labels)
        if lines > 2 or any(_width(w, font) > per - 12 for s in labels for w in s.replace("<br>", " ").split()):
            _transpose(fig)
        else:
            mapping = {s: _wrap_label(s, font, per - 12) for s in labels}
            for trace in vertical:
                trace["x"] = [mapping.get(str(v), v) for v in _array(trace.get("x"))]
            xaxis["tickangle"] = 0
    xaxis, yaxis = layout["xaxis"], layout["yaxis"]
    for axis in (xaxis, yaxis):
        axis["automargin"] = False
        if isinstance(axis.get("tickangle"), int | float):
            axis["tickangle"] = 0
    x_font, y_font = _font_of(xaxis.get("tickfont"), base), _font_of(yaxis.get("tickfont"), base)
    ticklen = 5.0

    # left: the y labels (categories: one line if the plot keeps 55 % of the width, else wrapped) and the title
    y_cats = list(dict.fromkeys(c for t in fig["data"] for c in _categories(t, "y")))

    def title_room(axis: dict) -> float:
        if not _title_of(axis):
            return 0.0
        _title_dict(axis)["standoff"] = STANDOFF
        return _font_of(_title_dict(axis).get("font"), base) * LINE + STANDOFF + 4

    if y_cats:
        limit = 0.4 * W
        mapping = {c: (c.replace("<br>", " ") if _width(c.replace("<br>", " "), y_font) <= limit
                       else _wrap_label(c, y_font, limit)) for c in y_cats}
        for trace in fig["data"]:
            if _categories(trace, "y"):
                trace["y"] = [mapping.get(str(v), v) for v in _array(trace.get("y"))]
        label_w = max(_width(s, y_font) for s in mapping.values())
        yaxis["ticks"] = ""
        left = PAD + title_room(yaxis) + label_w + ticklen + 6
    else:
        values = _numbers(v for t in fig["data"] for v in _array(t.get("y")))
        values += [e for t in fig["data"] if t.get("type") in ("bar", "waterfall") for s, e in _bar_ends(t, "y")]
        guess_h = H - top - bottom - 2 * x_font
        labels = _numeric_labels(values + [0.0] if any(t.get("type") == "bar" for t in fig["data"]) else values,
                                 yaxis, guess_h, 2.2 * y_font)
        label_w = max((_width(s, y_font) for s in labels), default=_width("0", y_font))
        left = PAD + title_room(yaxis) + label_w + ticklen + 6

    # bottom: the x labels (one line, or as many as the longest wrapped category has) and the title
    x_cats = list(dict.fromkeys(c for t in fig["data"] for c in _categories(t, "x")))
    lines = max((c.count("<br>") + 1 for c in x_cats), default=1)
    band = lines * x_font * LINE + ticklen + 6 + title_room(xaxis)
    right = float(PAD)
    if not x_cats:  # a numeric axis' last label is centred on its tick
        values = _numbers(v for t in fig["data"] for v in _array(t.get("x")))
        labels = _numeric_labels(values, xaxis, W - left - right, 3 * x_font)
        right = max(right, max((_width(s, x_font) for s in labels), default=0.0) / 2 + 4)
    return left, right, bottom + band


def _after_plot_size(fig: dict, size: Size, base: float, plot_w: float, plot_h: float) -> None:
    """With the plot area known: axis ranges that hold the value labels, thinned category labels, tick counts."""
    layout = fig["layout"]
    xaxis, yaxis = layout["xaxis"], layout["yaxis"]
    bars = [t for t in fig["data"] if t.get("type") in ("bar", "waterfall")]
    horizontal = [t for t in bars if t.get("orientation") == "h"]
    vertical = [t for t in bars if t.get("orientation", "v") == "v"]
    x_font, y_font = _font_of(xaxis.get("tickfont"), base), _font_of(yaxis.get("tickfont"), base)

    if horizontal:  # value labels right (or left) of each bar end, inside the plot
        ends = []
        cats = list(dict.fromkeys(c for t in horizontal for c in _categories(t, "y")))
        per = plot_h / max(len(cats), 1)
        # a label's box is about 1.12 font sizes high (ascent and descent), its lines 1.3 apart; the test allows
        # boxes to touch by TOLERANCE px
        lines = max((c.count("<br>") + 1 for c in cats), default=1)
        label_h = ((lines - 1) * 1.3 + 1.12) * y_font - 2
        highlight = _highlighted(horizontal)
        chosen = set(_thin(cats, label_h, per, [cats.index(c) for c in highlight if c in cats]))
        if len(chosen) < len(cats):
            yaxis.update(tickmode="array", tickvals=[cats[i] for i in sorted(chosen)],
                         ticktext=[cats[i] for i in sorted(chosen)])
        for trace in horizontal:
            font = _font_of(trace.get("textfont"), base)
            ys = [str(v) for v in _array(trace.get("y"))]
            texts = _texts(trace, len(ys))
            if trace.get("text") is not None:  # a bar keeps its value while its category is labelled
                texts = [s if y in cats and cats.index(y) in chosen else "" for s, y in zip(texts, ys, strict=False)]
                trace["text"] = texts
                trace["cliponaxis"] = False
                trace["textposition"] = "outside"
                trace["constraintext"] = "none"
            for (start, end), text in zip(_bar_ends(trace, "x"), texts, strict=False):
                ends.append((start, end, (_width(text, font) + 8) if text else 0.0))
        extra = _numbers([s.get(k) for s in layout.get("shapes") or [] if s.get("xref", "x") == "x" for k in ("x0", "x1")])
        xaxis["range"] = _range_with_text(ends, plot_w, min(extra, default=None), max(extra, default=None))
        xaxis["autorange"] = False
    if vertical:  # value labels above each bar
        ends = []
        for trace in vertical:
            font = _font_of(trace.get("textfont"), base)
            texts = _texts(trace, len(_array(trace.get("y"))))
            if trace.get("text") is not None:
                trace["cliponaxis"] = False
                trace["constraintext"] = "none"
            for (start, end), text in zip(_bar_ends(trace, "y"), texts, strict=False):
                ends.append((start, end, font * LINE + 6 if text else 0.0))
        yaxis["range"] = _range_with_text(ends, plot_h)
        yaxis["autorange"] = False
    for trace in fig["data"]:  # a scatter's labelled points: room for the label above and to the sides
        if trace.get("type", "scatter") == "scatter" and "text" in str(trace.get("mode", "")):
            trace["cliponaxis"] = False
            _room_for_point_labels(fig, trace, base, plot_w, plot_h)

    # tick counts the labels' size allows (plotly's own spacing is made for 12 px labels)
    if not _categories_any(fig, "x") and xaxis.get("dtick") is None:
        values = _numbers(v for t in fig["data"] for v in _array(t.get("x")))
        labels = _numeric_labels(values, xaxis, plot_w, 3 * x_font)
        widest = max((_width(s, x_font) for s in labels), default=3 * x_font)
        xaxis["nticks"] = _nticks(plot_w, widest + 2 * x_font)
    if xaxis.get("dtick") == 1:  # years: one a year while they fit, else every second, fifth …
        years = sorted({int(v) for v in _numbers(v for t in fig["data"] for v in _array(t.get("x")))})
        if years:
            step = 1
            while (len(years) / step) * (_width("2024", x_font) + x_font) > plot_w:
                step += 1
            xaxis["dtick"] = step
    if not _categories_any(fig, "y"):
        yaxis["nticks"] = _nticks(plot_h, 2.4 * y_font)


def _categories_any(fig: dict, letter: str) -> bool:
    return any(_categories(t, letter) for t in fig["data"])


def _highlighted(traces: list[dict]) -> list[str]:
    """Categories whose bar has a colour of its own (the selected municipality among grey peers)."""
    out = []
    for trace in traces:
        colors = (trace.get("marker") or {}).get("color")
        if isinstance(colors, list | tuple) and colors:
            counts: dict = {}
            for c in colors:
                counts[c] = counts.get(c, 0) + 1
            common = max(counts, key=counts.get)
            ys = [str(v) for v in _array(trace.get("y"))]
            out += [y for y, c in zip(ys, colors, strict=False) if c != common and counts[c] <= 2]
    return out


def _room_for_point_labels(fig: dict, trace: dict, base: float, plot_w: float, plot_h: float) -> None:
    """Axis ranges widened so a labelled point's text (above it, centred) stays inside the plot."""
    layout = fig["layout"]
    xs, ys = _numbers(_array(trace.get("x"))), _numbers(_array(trace.get("y")))
    if not xs or not ys:
        return
    font = _font_of(trace.get("textfont"), base)
    half = max((_width(str(s), font) for s in _texts(trace, len(xs))), default=0.0) / 2 + 6
    all_x = _numbers(v for t in fig["data"] for v in _array(t.get("x")))
    all_y = _numbers(v for t in fig["data"] for v in _array(t.get("y")))
    xaxis, yaxis = layout["xaxis"], layout["yaxis"]
    x_rng = xaxis.get("range") if isinstance(xaxis.get("range"), list) else None
    lo, hi = (x_rng if x_rng else (min(all_x), max(all_x)))
    span = (hi - lo) or abs(hi) or 1.0
    lo, hi = lo - 0.04 * span, hi + 0.04 * span
    for _ in range(20):
        scale = plot_w / (hi - lo)
        new_lo = min(lo, min(xs) - half / scale)
        new_hi = max(hi, max(xs) + half / scale)
        if new_lo == lo and new_hi == hi:
            break
        lo, hi = new_lo, new_hi
    xaxis["range"], xaxis["autorange"] = [lo, hi], False
    y_rng = yaxis.get("range") if isinstance(yaxis.get("range"), list) else None
    ylo, yhi = (y_rng if y_rng else (min(0.0, min(all_y)), max(all_y)))
    need = font * LINE + 14  # the label and the marker's radius
    for _ in range(20):
        scale = plot_h / (yhi - ylo)
        new_hi = max(yhi, max(ys) + need / scale)
        if new_hi == yhi:
            break
        yhi = new_hi
    yaxis["range"], yaxis["autorange"] = [ylo, yhi], False
