"""The Kart choropleth exports to PNG and SVG with the network off.

plotly.js fetches a base-map topojson from cdn.plot.ly for every map unless told otherwise; the export's
Chromium here runs behind a proxy on a closed local port, so any web request fails. A guard figure that does
need the web proves the network really is off in that browser, so the map passing means it needed nothing.
Real data: the project's database (or the snapshot built from ../shared), all 357 municipalities.
"""

from __future__ import annotations

import dataclasses
import socket
import xml.etree.ElementTree as ET

import plotly.graph_objects as go
import pytest
from ui_pages_data import database

from drivers.config import Settings
from drivers.errors import UserError
from drivers.export import image
from drivers.figures import Chart


def _closed_port() -> int:
    """A loopback port nothing listens on (bound then released), so the proxy refuses every request."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def offline_renderer():
    mp = pytest.MonkeyPatch()
    # choreographer (kaleido's browser driver) passes this to Chromium as --proxy-server
    mp.setenv("CHOREO_PROXY_SERVER", f"http://127.0.0.1:{_closed_port()}")
    r = image.Renderer(timeout=20)
    try:
        r.start()
    except image.ExportUnavailable as exc:
        mp.undo()
        pytest.skip(f"kaleido cannot drive Chromium here: {exc}")
    yield r
    r.close()
    mp.undo()


@pytest.fixture(scope="module")
def map_chart():
    from drivers.engine import indicators
    from drivers.report import data
    from drivers.ui.pages import _mapview as mv

    data.configure(dataclasses.replace(Settings.from_env(), db_path=database()))
    mv.reset_cache()
    panel = data.get_panel()
    year = data.meta().default_year
    values = mv.values(panel, indicators.get("ndu_total_per_innb"), year)
    title = f"Netto driftsutgifter per innbygger, {year}"
    return mv.choropleth(values, "3222", title, f"Kilde: SSB, KOSTRA tabell 12362 · År {year}",
                         "/k.geojson", "/f.geojson")


def test_guard_the_export_browser_has_no_network(offline_renderer):
    remote = go.Figure(go.Choropleth(geojson="https://cdn.plot.ly/un/world_110m.json", locations=["x"], z=[1]))
    chart = Chart("guard", "guard", remote, None, "")
    with pytest.raises(UserError):
        image.render_charts([chart], (("png", image.SCREEN),), engine=offline_renderer)


def test_map_exports_to_png_and_svg_offline(offline_renderer, map_chart):
    out = image.render_charts([map_chart], (("png", image.PRINT), ("png", image.SCREEN), ("svg", image.PRINT)),
                              engine=offline_renderer)
    printed = image.png_info(out[("kart", "png", "trykk")])
    assert (printed["width"], printed["height"]) == image.PRINT.pixels
    assert printed["dpi"] == pytest.approx(300, abs=0.01)
    screen = image.png_info(out[("kart", "png", "skjerm")])
    assert (screen["width"], screen["height"]) == (1280, 720)

    root = ET.fromstring(out[("kart", "svg", "trykk")])
    assert root.tag.endswith("svg")
    assert (root.get("width"), root.get("height")) == (str(image.PRINT.width), str(image.PRINT.height))
    text = " ".join(root.itertext())
    assert map_chart.title in text and "Kartverket" in text
    # every municipality is drawn: one path per feature in the coloured and grey layers together
    ns = {"svg": "http://www.w3.org/2000/svg"}
    choropleth_paths = root.findall(".//svg:g[@class='choroplethlocation']", ns) or [
        p for p in root.iter("{http://www.w3.org/2000/svg}path") if "choroplethlocation" in (p.get("class") or "")]
    drawn = len(choropleth_paths)
    # 357 municipalities + 15 county outlines + the selected one's outline
    assert drawn >= 357 + 15 + 1, f"only {drawn} map shapes in the SVG"


def test_renderer_page_preloads_every_base_map_name():
    folder = image.geo_assets_dir()
    script = (folder / "plotly-geo-assets.js").read_text()
    for name in image.topojson_names():
        assert f'["{name}"]' in script
        assert (folder / f"{name}.json").is_file()
    assert "http" not in script
    assert image.topojson_url().startswith("file://")


def test_kart_page_download_links_answer_with_png_and_svg():
    """The links under the map on /kart (what a user clicks) give a print PNG and an SVG of the whole map."""
    from ui_pages_data import make_app, page_layout, walk

    if image.chromium_path() is None:
        pytest.skip("no Chromium: images cannot be made here")
    app = make_app()
    with app.server.test_request_context("/"):
        tree = page_layout("/kart")(kommune="1151")
    hrefs = {n.href.split("?")[0].rsplit(".", 1)[1]: n.href for n in walk(tree)
             if type(n).__name__ == "A" and (n.href or "").startswith("/last-ned/chart/kart.")
             and "storrelse" not in n.href}
    client = app.server.test_client()
    png = client.get(hrefs["png"])
    assert png.status_code == 200, png.get_data(as_text=True)
    assert (image.png_info(png.data)["width"], image.png_info(png.data)["height"]) == image.PRINT.pixels
    svg = client.get(hrefs["svg"])
    assert svg.status_code == 200, svg.get_data(as_text=True)
    root = ET.fromstring(svg.data)
    assert "Utsira" in " ".join(root.itertext())  # the selected municipality is named in the legend
