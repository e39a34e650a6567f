"""Images export right: PNG size and dpi, SVG parses and carries title and caption, captions wrap, the theme reaches
the picture. Real data (tests/export_data.py)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from export_data import service_chart

from drivers import chartmargins
from drivers.errors import UserError
from drivers.export import image, layout, theme


def test_print_png_is_16cm_at_300dpi_and_screen_png_is_1280x720(warm):
    chart = service_chart("3222")
    out = image.render_charts([chart], (("png", image.PRINT), ("png", image.SCREEN)), engine=warm)
    printed = image.png_info(out[(chart.id, "png", "trykk")])
    assert (printed["width"], printed["height"]) == (1890, 1180)
    assert printed["dpi"] == pytest.approx(300, abs=0.01)
    assert printed["width"] / printed["dpi"] * 2.54 == pytest.approx(16.0, abs=0.01)  # what Word shows
    screen = image.png_info(out[(chart.id, "png", "skjerm")])
    assert (screen["width"], screen["height"], round(screen["dpi"])) == (1280, 720, 96)


def test_svg_parses_and_carries_title_and_caption(warm):
    chart = service_chart("0301")
    svg = image.render_charts([chart], (("svg", image.PRINT),), engine=warm)[(chart.id, "svg", "trykk")]
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    text = " ".join(t for t in root.itertext())
    assert "Netto driftsutgifter per tjeneste, kommune 0301" in text
    assert "Kilde: SSB, KOSTRA tabell 12362" in text
    # the bars' categories are the file's service names
    for name in service_chart("0301").data["Tjeneste"]:
        assert name.split()[0] in text


def test_long_caption_and_notes_wrap_inside_the_image():
    chart = service_chart("3222")
    chart.notes = [f"Tjeneste {i}: tall mangler (..)" for i in range(5)]
    fig = image.export_figure(chart, image.PRINT)
    caption = fig["layout"]["annotations"][-1]["text"]
    assert "Merknader:" in caption and "og 2 til" in caption
    # every line measured (Helvetica metrics with slack) fits between the picture's edges
    widest = max(chartmargins.text_width(line, image.CAPTION_FONT) for line in caption.split("<br>"))
    assert widest <= image.PRINT.width - 2 * layout.PAD
    assert fig["layout"]["margin"]["b"] >= len(caption.split("<br>")) * image.CAPTION_FONT  # room for the caption
    assert fig["layout"]["annotations"][-1]["xanchor"] == "left" and fig["layout"]["annotations"][-1]["x"] < 0


def test_set_png_dpi_replaces_existing_phys(warm):
    chart = service_chart("4601")
    png = image.render_charts([chart], (("png", image.SCREEN),), engine=warm)[(chart.id, "png", "skjerm")]
    again = image.set_png_dpi(png, 300)
    assert again.count(b"pHYs") == 1
    assert image.png_info(again)["dpi"] == pytest.approx(300, abs=0.01)
    with pytest.raises(ValueError):
        image.set_png_dpi(b"GIF89a....", 300)


def test_theme_default_file_loads_and_bad_theme_is_a_user_error(tmp_path):
    t = theme.load()
    assert theme.HEX.match(t.color("highlight"))
    bad = tmp_path / "theme.json"
    bad.write_text(json.dumps({"colors": {"primary": "blue"}}))
    with pytest.raises(UserError, match="colors.primary"):
        theme.load(bad)
    bad.write_text(json.dumps({"logo": "finnes-ikke.png"}))
    with pytest.raises(UserError, match="logoen"):
        theme.load(bad)
    bad.write_text("{not json")
    with pytest.raises(UserError):
        theme.load(bad)


def test_theme_colours_and_logo_reach_the_export(tmp_path, warm):
    chart = service_chart("3222")
    png = image.render_charts([chart], (("png", image.SCREEN),), engine=warm)[(chart.id, "png", "skjerm")]
    (tmp_path / "logo.png").write_bytes(png)  # any real PNG will do as a logo
    (tmp_path / "theme.json").write_text(json.dumps({
        "colors": {"primary": "#123456", "highlight": "#AA00AA"}, "font": "Arial", "logo": "logo.png"}))
    t = theme.load(tmp_path / "theme.json")
    fig = image.export_figure(chart, image.PRINT, t)
    assert fig["layout"]["annotations"][-2]["font"]["color"] == "#123456"
    assert fig["layout"]["images"][-1]["source"].startswith("data:image/png;base64,")
    assert fig["layout"]["font"]["family"] == "Arial"
    recoloured = theme.recolor({"data": [{"marker": {"color": ["#D55E00", "#A0A7B0"]}}]}, t)
    assert recoloured["data"][0]["marker"]["color"] == ["#AA00AA", "#A0A7B0"]
    assert "--farge-primary: #123456;" in theme.css_variables(t)
