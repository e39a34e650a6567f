"""The municipality's look: colours, font and logo from `assets/theme.json` (or the file $DRIVERS_THEME names),
used by exports, the deck, the presentation page and the dashboard: the app registers the plotly template with
`plotly_layout` and the theme's colours at start-up, and links `/tema.css` (`dashboard_css`: CSS variables that
assets/drivers.css reads, plus the logo in the page header).

A missing theme file means the default look; a malformed one is a UserError naming the file and the key.
"""

from __future__ import annotations

import base64
import json
import os
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
    """$DRIVERS_THEME if set (a municipality keeps its theme outside the repo), else assets/theme.json."""
    override = os.environ.get("DRIVERS_THEME")
    if override:
        return Path(override)
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
    if colors["highlight"] == colors["peer"]:
        # the selected municipality must stand out from the peer average on every chart
        raise UserError(f"temafila {path}: colors.highlight og colors.peer må være ulike farger")
    logo = raw.get("logo")
    logo_path = None
    if logo:
        logo_path = (path.parent / logo).resolve()
        if not logo_path.is_file():
            raise UserError(f"temafila {path}: logoen {logo!r} finnes ikke (sti relativt til {path.parent})")
        if logo_path.suffix.lower() not in (".png", ".svg"):
            raise UserError(f"temafila {path}: logoen må være PNG eller SVG, ikke {logo_path.suffix}")
    font = str(raw.get("font") or DEFAULT_FONT)
    if any(ch in font for ch in ";{}<>"):  # it goes into CSS and SVG: a font list, nothing else
        raise UserError(f"temafila {path}: font = {font[:60]!r} må være en skriftliste som \"Arial, sans-serif\"")
    return Theme(
        name=str(raw.get("name") or "Standard"),
        colors=colors,
        font=font,
        font_office=str(raw.get("font_office") or "Calibri"),
        logo=logo_path,
    )


def plotly_layout(theme: Theme) -> dict:
    """Layout settings that carry the theme into a plotly figure: font, text colour, background."""
    return {"font": {"family": theme.font, "color": theme.color("text")},
            "hoverlabel": {"font": {"family": theme.font}},
            "paper_bgcolor": theme.color("background"), "plot_bgcolor": theme.color("background")}


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


def dashboard_css(theme: Theme) -> str:
    """What `/tema.css` serves: the CSS variables (assets/drivers.css reads them, with the default look as
    fallback) and, when the theme has a logo, the logo before the title in every page header (inlined, so
    the stylesheet is the only request)."""
    css = f"/* Tema: {theme.name.replace('*/', '')} (assets/theme.json or $DRIVERS_THEME) */\n" + css_variables(theme)
    logo = theme.logo_data_uri()
    if logo:
        css += (".header .brand-row::before { content: \"\"; display: inline-block; align-self: center; "
                "width: 9rem; height: 2.6rem; margin-right: 0.2rem; "
                f"background: url(\"{logo}\") left center / contain no-repeat; }}\n")
    return css
