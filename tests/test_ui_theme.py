"""The municipality's theme (assets/theme.json, or the file $DRIVERS_THEME names) reaches the dashboard itself:
the page links /tema.css (colours, font, logo), and every figure gets the theme's font, text colour, background
and highlight/peer colours through the one plotly template. With the default theme the Okabe-Ito palette and
the one highlight colour for the selected municipality hold. Real database (the figures are Lørenskog's)."""

from __future__ import annotations

import json
import struct
import sys
import zlib

import plotly.io as pio
import pytest
from ui_pages_data import database

from drivers import figures
from drivers.config import Settings
from drivers.errors import UserError
from drivers.export import theme
from drivers.report import state as st
from drivers.ui import ids

CUSTOM = {
    "name": "Testkommune",
    "colors": {"primary": "#123456", "highlight": "#B8336A", "peer": "#2A6F97", "text": "#222222",
               "muted": "#4A4A4A", "background": "#FBFAF5"},
    "font": "Georgia, 'Times New Roman', serif",
    "font_office": "Georgia",
    "logo": "logo.png",
}


def _png(width: int = 4, height: int = 2) -> bytes:
    """A small valid RGB PNG (grey), written by hand so the test needs no imaging library."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _app(monkeypatch, theme_file=None):
    import dataclasses

    from drivers.ui.app import create_app

    if theme_file is None:
        monkeypatch.delenv("DRIVERS_THEME", raising=False)
    else:
        monkeypatch.setenv("DRIVERS_THEME", str(theme_file))
    return create_app(dataclasses.replace(Settings.from_env(), db_path=database()), preload=False)


@pytest.fixture
def default_look_after():
    """Every test leaves the process with the default look (the template is process-wide)."""
    yield
    figures.apply_theme()


def _oversikt_figure(section: str, chart_id: str, lang: str = "nb"):
    """One of Lørenskog's charts as the Oversikt page draws it (built now, with the current template)."""
    oversikt = sys.modules["pages.oversikt"]
    tree = getattr(oversikt, section)(st.parse({"kommune": "3222", "lang": lang}))
    stack = list(tree)
    while stack:
        node = stack.pop()
        if type(node).__name__ == "Graph" and node.id == ids.chart(chart_id):
            return node.figure
        children = getattr(node, "children", None)
        if isinstance(children, list | tuple):
            stack.extend(children)
        elif children is not None and hasattr(children, "to_plotly_json"):
            stack.append(children)
    pytest.fail(f"Lørenskog's chart {chart_id} is missing from Oversikt")


def test_custom_theme_styles_page_css_logo_and_figures(tmp_path, monkeypatch, default_look_after):
    (tmp_path / "logo.png").write_bytes(_png())
    path = tmp_path / "tema.json"
    path.write_text(json.dumps(CUSTOM), encoding="utf-8")
    app = _app(monkeypatch, path)
    client = app.server.test_client()

    page = client.get("/").get_data(as_text=True)
    assert 'href="/tema.css"' in page, "the dashboard links the theme stylesheet"
    css = client.get("/tema.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    body = css.get_data(as_text=True)
    for key, value in CUSTOM["colors"].items():
        assert f"--farge-{key}: {value};" in body
    assert f"--skrift: {CUSTOM['font']};" in body
    assert ".header .brand-row::before" in body and "data:image/png;base64," in body  # the logo in the header
    # the dashboard stylesheet reads the theme's variables
    sheet = (Settings.from_env().assets_dir / "drivers.css").read_text()
    for var in ("--farge-text", "--farge-highlight", "--farge-peer", "--farge-primary", "--skrift"):
        assert f"var({var}" in sheet

    tpl = pio.templates[figures.TEMPLATE_NAME].layout
    assert tpl.font.family == CUSTOM["font"] and tpl.font.color == CUSTOM["colors"]["text"]
    assert tpl.font.size >= 16, "the theme keeps the projector-size type"
    assert tpl.paper_bgcolor == CUSTOM["colors"]["background"]
    assert CUSTOM["colors"]["highlight"] in tpl.colorway and figures.OKABE_ITO[6] not in tpl.colorway

    fig = _oversikt_figure("health_section", "health-netto_driftsresultat_pct")
    assert fig.layout.template.layout.font.family == CUSTOM["font"]
    own = fig.data[0]
    assert own.name == "Lørenskog" and own.line.color == CUSTOM["colors"]["highlight"]
    waterfall = _oversikt_figure("gap_section", "gap-waterfall").data[0]
    assert waterfall.totals.marker.color == CUSTOM["colors"]["highlight"]  # the municipality's own sum
    assert waterfall.increasing.marker.color == CUSTOM["colors"]["peer"]  # "more than peers": the peer blue, themed
    assert figures.HIGHLIGHT not in (figures.MORE, figures.LESS, figures.NEUTRAL, figures.PEER, figures.COST)


def test_default_theme_keeps_palette_and_highlight(monkeypatch, default_look_after):
    app = _app(monkeypatch)
    body = app.server.test_client().get("/tema.css").get_data(as_text=True)
    assert "--farge-highlight: #D55E00;" in body
    assert "brand-row::before" not in body, "no logo configured, none shown"
    tpl = pio.templates[figures.TEMPLATE_NAME].layout
    assert list(tpl.colorway) == figures.OKABE_ITO
    assert figures.HIGHLIGHT == "#D55E00" == theme.DEFAULT_COLORS["highlight"]
    assert figures.HIGHLIGHT not in (figures.MORE, figures.LESS, figures.NEUTRAL, figures.PEER, figures.COST)
    fig = _oversikt_figure("health_section", "health-netto_driftsresultat_pct", "en")
    assert fig.data[0].line.color == figures.HIGHLIGHT
    assert fig.layout.template.layout.font.family == theme.DEFAULT_FONT


@pytest.mark.parametrize(("change", "needle"), [
    ({"colors": {"highlight": "#0072B2"}}, "colors.highlight og colors.peer"),
    ({"colors": {"text": "red"}}, "colors.text"),
    ({"font": "Arial; } body { display: none"}, "font"),
    ({"logo": "mangler.png"}, "logoen"),
])
def test_bad_theme_file_is_one_clear_message(tmp_path, monkeypatch, default_look_after, change, needle):
    path = tmp_path / "tema.json"
    path.write_text(json.dumps({**CUSTOM, "logo": None, **change}), encoding="utf-8")
    with pytest.raises(UserError) as err:
        _app(monkeypatch, path)
    assert str(path) in str(err.value) and needle in str(err.value)
