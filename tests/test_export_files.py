"""Exports open and validate: PNG size and dpi, SVG parses, XLSX/CSV read back equal the chart's data,
the ZIP index lists every file, the PPTX has the slides and speaker notes. Real data (tests/export_data.py)."""

from __future__ import annotations

import io
import json
import math
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass

import numpy as np
import openpyxl
import pandas as pd
import pytest
from export_data import charts, service_chart
from pptx import Presentation

from drivers.errors import UserError
from drivers.export import deck, image, pack, tables, theme


@pytest.fixture(scope="module")
def warm():
    """One warm Chromium for the module; a missing browser skips with the reason."""
    r = image.Renderer()
    try:
        r.start()
    except image.ExportUnavailable as exc:
        pytest.skip(f"kaleido cannot drive Chromium here: {exc}")
    yield r
    r.close()


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
    longest = max(len(line) for line in caption.split("<br>"))
    assert longest * image.CAPTION_FONT * 0.52 <= image.PRINT.width - 40 + image.CAPTION_FONT
    assert fig["layout"]["margin"]["b"] > fig["layout"]["margin"]["t"] - 40  # room reserved for the caption


def test_set_png_dpi_replaces_existing_phys(warm):
    chart = service_chart("4601")
    png = image.render_charts([chart], (("png", image.SCREEN),), engine=warm)[(chart.id, "png", "skjerm")]
    again = image.set_png_dpi(png, 300)
    assert again.count(b"pHYs") == 1
    assert image.png_info(again)["dpi"] == pytest.approx(300, abs=0.01)
    with pytest.raises(ValueError):
        image.set_png_dpi(b"GIF89a....", 300)


def test_xlsx_reads_back_equal_to_the_chart_data():
    chart = service_chart("5001")
    wb = openpyxl.load_workbook(io.BytesIO(tables.to_xlsx(chart)))
    ws = wb["Tall"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == list(chart.data.columns)
    back = pd.DataFrame(rows[1:], columns=rows[0])
    pd.testing.assert_frame_equal(back, chart.data, check_dtype=False)
    about = {r[0]: r[1] for r in wb["Om tallene"].iter_rows(values_only=True)}
    assert about["Tittel"] == chart.title and about["Kilde og forklaring"] == chart.caption


def test_missing_values_stay_empty_not_zero_in_xlsx_and_csv():
    chart = service_chart("3222")
    data = chart.data.copy()
    data["Status"] = None
    data.loc[1, "Netto driftsutgifter (mill. kr)"] = np.nan
    data.loc[1, "Status"] = ".."
    chart.data = data
    ws = openpyxl.load_workbook(io.BytesIO(tables.to_xlsx(chart)))["Tall"]
    assert ws.cell(row=3, column=4).value is None
    assert ws.cell(row=3, column=5).value == ".."
    back = tables.read_csv(tables.to_csv(chart))
    assert math.isnan(back.loc[1, "Netto driftsutgifter (mill. kr)"])
    assert back.loc[1, "Status"] == ".."


def test_csv_is_semicolon_decimal_comma_with_bom_and_reads_back():
    chart = service_chart("1103")
    raw = tables.to_csv(chart)
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    header = text.splitlines()[0]
    assert header.split(";") == list(chart.data.columns)
    first = text.splitlines()[1].split(";")
    mill = chart.data["Netto driftsutgifter (mill. kr)"].iloc[0]
    assert first[3] == f"{mill}".replace(".", ",")
    back = tables.read_csv(raw)
    pd.testing.assert_frame_equal(back, chart.data, check_dtype=False)


def test_pack_zip_index_lists_every_file(warm):
    chosen = charts(3)
    raw = pack.build_pack(chosen, heading="Test: tre kommuner, 2024", engine=warm)
    zf = zipfile.ZipFile(io.BytesIO(raw))
    names = set(zf.namelist())
    index = zf.read(pack.INDEX_NAME).decode("utf-8")
    listed = set(pack.index_files(index))
    assert listed == names - {pack.INDEX_NAME}
    assert len(listed) == 5 * len(chosen)
    for chart in chosen:
        assert chart.title in index and chart.caption in index
    first = sorted(n for n in names if n.endswith(".png") and "skjerm" not in n)[0]
    assert image.png_info(zf.read(first))["width"] == 1890
    ET.fromstring(zf.read(sorted(n for n in names if n.endswith(".svg"))[0]))


def test_pack_without_charts_is_a_user_error():
    with pytest.raises(UserError):
        pack.build_pack([], heading="tom")


@dataclass
class _Slide:
    section: str
    chart: object
    notes: str


def test_deck_has_title_slide_then_one_chart_per_slide_with_notes(warm):
    chosen = charts(3)
    slides = [_Slide(f"Del {i}", c, f"Oppsummering for {c.title}") for i, c in enumerate(chosen, 1)]
    raw = deck.build_deck(slides, title="Budsjettseminar", subtitle="Test 2024", engine=warm)
    prs = Presentation(io.BytesIO(raw))
    assert len(prs.slides) == 1 + len(chosen)
    for slide, spec in zip(list(prs.slides)[1:], slides, strict=True):
        pictures = [s for s in slide.shapes if s.shape_type == 13]  # MSO_SHAPE_TYPE.PICTURE
        assert len(pictures) == 1
        assert slide.notes_slide.notes_text_frame.text == spec.notes
        assert spec.section in " ".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)


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
