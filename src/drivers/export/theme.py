"""The municipality's look: colours, font and logo from `assets/theme.json`, used by exports, the deck,
the presentation page and (via `plotly_layout` / `css_variables`) the dashboard.

A missing theme file means the default look; a malformed one is a UserError naming the file and the key.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from drivers.config import Settings
from drivers.errors import UserError

HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")
DEFAULT_COLORS = {
    "primary": "#1F3A5F",
    "highlight": "#D55E00",  # same as drivers.figures.HIGHLIGHT: the selected municipality
    "peer": "#0072B2",
    "text": "#1F2933",
    "muted": "#52606D",
    "background": "#FFFFFF",
}
DEFAULT_FONT = "Inter, 'Source Sans 3', 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"


@dataclass(frozen=True)
class Theme:
    """Colours (hex), a CSS font stack, a font name for Office files and an optional logo file."""

    name: str = "Standard"
    colors: dict = field(default_factory=lambda: dict(DEFAULT_COLORS))
    font: str = DEFAULT_FONT
    font_office: str = "Calibri"
    logo: Path | None = None

    def color(self, key: str) -> str:
        return self.colors.get(key, DEFAULT_COLORS[key])

    def rgb(self, key: str) -> tuple[int, int, int]:
        h = self.color(key).lstrip("#")
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)

    def logo_data_uri(self) -> str | None:
        """The logo inlined as a data URI (so kaleido's browser needs no file access)."""
        if self.logo is None:
            return None
        mime = "image/svg+xml" if self.logo.suffix.lower() == ".svg" else "image/png"
        return f"data:{mime};base64,{base64.b64encode(self.logo.read_bytes()).decode()}"


def theme_path(settings: Settings | None = None) -> Path:
    return (settings or Settings.from_env()).assets_dir / "theme.json"


def load(path: Path | None = None) -> Theme:
    """Read the theme file (default: assets/theme.json). Absent file → the default theme."""
    path = Path(path) if path else theme_path()
    if not path.exists():
        return Theme()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"temafila {path} kan ikke leses som JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise UserError(f"temafila {path} må være et JSON-objekt")
    colors = dict(DEFAULT_COLORS)
    for key, value in (raw.get("colors") or {}).items():
        if not isinstance(value, str) or not HEX.match(value):
            raise UserError(f"temafila {path}: colors.{key} = {value!r} er ikke en hex-farge som #1F3A5F")
        colors[key] = value.upper()
    logo = raw.get("logo")
    logo_path = None
    if logo:
        logo_path = (path.parent / logo).resolve()
        if not logo_path.is_file():
            raise UserError(f"temafila {path}: logoen {logo!r} finnes ikke (sti relativt til {path.parent})")
        if logo_path.suffix.lower() not in (".png", ".svg"):
            raise UserError(f"temafila {path}: logoen må være PNG eller SVG, ikke {logo_path.suffix}")
    return Theme(
        name=str(raw.get("name") or "Standard"),
        colors=colors,
        font=str(raw.get("font") or DEFAULT_FONT),
        font_office=str(raw.get("font_office") or "Calibri"),
        logo=logo_path,
    )


def plotly_layout(theme: Theme) -> dict:
    """Layout settings that carry the theme into a plotly figure (font and text colour)."""
    return {"font": {"family": theme.font, "color": theme.color("text")}}


def recolor(fig_dict: dict, theme: Theme) -> dict:
    """Swap the default highlight/peer colours for the theme's, everywhere in a figure dict."""
    swaps = {DEFAULT_COLORS[k].lower(): theme.color(k) for k in ("highlight", "peer")
             if theme.color(k).lower() != DEFAULT_COLORS[k].lower()}
    if not swaps:
        return fig_dict

    def walk(obj):
        if isinstance(obj, dict):
            return {k: walk(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [walk(v) for v in obj]
        if isinstance(obj, str) and obj.lower() in swaps:
            return swaps[obj.lower()]
        return obj

    return walk(fig_dict)


def css_variables(theme: Theme) -> str:
    """`:root { --farge-primary: …; … }` for the dashboard stylesheet."""
    lines = [f"  --farge-{k}: {v};" for k, v in theme.colors.items()]
    lines.append(f"  --skrift: {theme.font};")
    return ":root {\n" + "\n".join(lines) + "\n}\n"
