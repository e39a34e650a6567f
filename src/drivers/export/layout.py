"""An export figure's layout: the chart's figure laid out for one output size, with its title, caption (and notes)
and logo drawn into the picture, so a PNG pasted into Word still says where the numbers come from.

Pure: a figure dict in, a figure dict out; the renderer (`drivers.export.image`) turns it into PNG/SVG.
"""

from __future__ import annotations

import copy
import math
import textwrap
from dataclasses import dataclass

from drivers.export.theme import Theme, plotly_layout, recolor


@dataclass(frozen=True)
class Size:
    """An output size: CSS pixels the layout is made for, the scale factor, and the dpi written to PNG."""

    name: str
    width: int
    height: int
    scale: float
    dpi: int

    @property
    def pixels(self) -> tuple[int, int]:
        return round(self.width * self.scale), round(self.height * self.scale)


PRINT = Size("trykk", 945, 590, 2, 300)  # 1890 × 1180 px = 16.0 × 10.0 cm at 300 dpi
SCREEN = Size("skjerm", 1280, 720, 1, 96)
SLIDE = Size("lysbilde", 1200, 620, 2, 192)  # the deck's picture area (16:9 slide minus the title)
SIZES = {s.name: s for s in (PRINT, SCREEN, SLIDE)}

TITLE_FONT = 21
CAPTION_FONT = 13


def _wrap(text: str, font_px: float, width_px: float, bold: bool = False) -> list[str]:
    per_char = font_px * (0.58 if bold else 0.52)
    chars = max(20, int(width_px / per_char))
    lines: list[str] = []
    for part in str(text).split("\n"):
        lines.extend(textwrap.wrap(part, chars) or [""])
    return lines


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _is_cartesian(fig: dict) -> bool:
    cartesian = {"bar", "scatter", "waterfall", "box", "histogram", "heatmap", "violin", "funnel", "scattergl"}
    return any(t.get("type", "scatter") in cartesian for t in fig.get("data", []))


def _category_labels(fig: dict, axis: str) -> list[str]:
    labels: list[str] = []
    for t in fig.get("data", []):
        values = t.get(axis)
        if values is None:
            continue
        if isinstance(values, dict):  # plotly's typed-array encoding: numbers, not labels
            continue
        labels.extend(str(v) for v in values if isinstance(v, str))
    return labels


def _x_band(fig: dict, base_font: float, plot_width: float) -> float:
    """Pixels below the plot area taken by x tick labels and the x axis title (estimated generously)."""
    layout = fig.setdefault("layout", {})
    xaxis = layout.get("xaxis")
    if not isinstance(xaxis, dict):
        xaxis = layout["xaxis"] = {}
    tick_font = ((xaxis.get("tickfont") or {}).get("size")) or base_font
    labels = _category_labels(fig, "x")
    angle = xaxis.get("tickangle")
    longest = max((len(s) for s in labels), default=6)
    if labels and not isinstance(angle, int | float):
        # plotly rotates labels that do not fit side by side; decide it here so the estimate holds
        fits = len(set(labels)) * longest * tick_font * 0.55 < plot_width
        angle = 0 if fits else -30
        xaxis["tickangle"] = angle
    angle = float(angle or 0)
    rad = math.radians(abs(angle))
    label_len = longest * tick_font * 0.55 if labels else 5 * tick_font * 0.55
    band = label_len * math.sin(rad) + tick_font * 1.6 * math.cos(rad) + 16
    title = xaxis.get("title")
    title_text = title.get("text") if isinstance(title, dict) else title
    if title_text:
        title_font = (((title.get("font") or {}).get("size")) if isinstance(title, dict) else None) or base_font * 1.1
        band += title_font * 2.3
    return band


def _legend_rows(fig: dict) -> int:
    layout = fig.get("layout", {})
    shown = [t for t in fig.get("data", []) if t.get("showlegend", True) and t.get("name")]
    if layout.get("showlegend") is False or (layout.get("showlegend") is None and len(shown) < 2):
        return 0
    legend = layout.get("legend") or {}
    if legend.get("orientation", "h") != "h" or float(legend.get("y", 1.0)) < 1.0:
        return 0  # a vertical legend sits beside the plot, not in the top margin
    return 1 + sum(len(t.get("name", "")) for t in shown) * 9 // 900


def export_figure(chart, size: Size = PRINT, theme: Theme | None = None) -> dict:
    """The chart's figure as a dict laid out for `size`, with title, caption (and notes) and logo drawn in."""
    theme = theme or Theme()
    fig = chart.figure.to_dict() if hasattr(chart.figure, "to_dict") else copy.deepcopy(chart.figure)
    fig = recolor(fig, theme)
    layout = fig.setdefault("layout", {})
    template_layout = ((layout.get("template") or {}).get("layout") or {})
    base_font = ((layout.get("font") or {}).get("size") or (template_layout.get("font") or {}).get("size") or 16)
    text_width = size.width - 40

    title_lines = _wrap(chart.title, TITLE_FONT, text_width, bold=True)
    caption = str(chart.caption or "")
    notes = list(getattr(chart, "notes", None) or [])
    if notes:
        shown = notes[:3] + ([f"… og {len(notes) - 3} til"] if len(notes) > 3 else [])
        # notes are missing values, and also what a reader must know (map credit, colour scale, rows shown)
        caption += "\nMerknader: " + "; ".join(shown)
    caption_lines = _wrap(caption, CAPTION_FONT, text_width)

    margin = dict(template_layout.get("margin") or {})
    margin.update(layout.get("margin") or {})
    left, right = max(int(margin.get("l", 16)), 16), max(int(margin.get("r", 24)), 24)
    title_h = len(title_lines) * TITLE_FONT * 1.3
    legend_h = _legend_rows(fig) * base_font * 1.9
    caption_h = len(caption_lines) * CAPTION_FONT * 1.35 + 10
    top = 14 + title_h + legend_h + 10
    band = _x_band(fig, base_font, size.width - left - right) if _is_cartesian(fig) else 0.0
    bottom = band + caption_h + 12

    layout.update(plotly_layout(theme))
    layout["font"] = {**(template_layout.get("font") or {}), **(layout.get("font") or {}), **plotly_layout(theme)["font"]}
    layout.update(
        width=size.width,
        height=size.height,
        title=None,
        margin=dict(l=left, r=right, t=round(top), b=round(bottom), pad=margin.get("pad", 0)),
        paper_bgcolor=theme.color("background"),
    )
    if layout.get("xaxis") is not None:
        layout["xaxis"]["automargin"] = True
    annotations = list(layout.get("annotations") or [])
    annotations.append(dict(
        text="<br>".join(f"<b>{_escape(line)}</b>" for line in title_lines),
        xref="paper", x=0, xanchor="left", yref="paper", y=1, yanchor="bottom",
        yshift=legend_h + 6, showarrow=False, align="left",
        font=dict(size=TITLE_FONT, color=theme.color("primary"), family=theme.font),
    ))
    annotations.append(dict(
        text="<br>".join(_escape(line) for line in caption_lines),
        xref="paper", x=0, xanchor="left", yref="paper", y=0, yanchor="top",
        yshift=-band, showarrow=False, align="left",
        font=dict(size=CAPTION_FONT, color=theme.color("muted"), family=theme.font),
    ))
    layout["annotations"] = annotations
    logo = theme.logo_data_uri()
    if logo:
        images = list(layout.get("images") or [])
        images.append(dict(source=logo, xref="paper", yref="paper", x=1, y=1, xanchor="right", yanchor="bottom",
                           sizex=0.15, sizey=(top - 12) / max(size.height - top - bottom, 1),
                           sizing="contain", layer="above"))
        layout["images"] = images
    return fig
