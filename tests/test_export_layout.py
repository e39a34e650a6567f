"""Exported charts cannot clip (issue 14 item 1): every chart kind the app exports, for a big, a middle-sized and a
tiny municipality (Oslo 0301, Bærum 3201, Utsira 1151) in both languages, is rendered to SVG at the print, screen
and slide sizes through one warm renderer, each SVG is opened in one headless Chromium, and every <text> element's box is
measured: none may leave the picture or overlap another, and at the slide size none is smaller than 25 CSS px
(≥ 18 pt on a 16:9 slide: the picture is 1200 px placed 12.33 in wide, 1 px ≈ 0.74 pt).

Real charts from the snapshot database, built through the `drivers.figures` builders as the pages and the
storyline build them (the what-if bar through the storyline, its only builder).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest

from drivers.export import image, layout

MUNICIPALITIES = ("0301", "3201", "1151")
LANGS = ("nb", "en")
SIZES = (layout.PRINT, layout.SCREEN, layout.SLIDE)  # the pack's PNG/SVG and the deck's pictures
TOLERANCE = 2.0  # px a box may stick out or overlap (font rounding)
SLIDE_MIN_FONT = 25.0


def _rank(state, indicator: str, chart_id: str, title: str):
    from drivers import figures, fmt
    from drivers.i18n import t
    from drivers.report import queries

    frame = queries.indicator_values(state, indicator)
    if frame["value"].notna().sum() == 0:
        return None
    peer = frame["peer_value"].dropna()
    peer_value = float(peer.iloc[0]) if len(peer) and not fmt.is_missing(peer.iloc[0]) else None
    caption = figures.source_line(queries.tables(), ["12362", "07459"], state.aar, queries.peers_label(state),
                                  queries.konv_label(state), t("rep.not_need_corrected", state.lang), state.lang)
    return figures.peer_rank(frame, state.kommune, title, t("rep.unit_kr_per_resident", state.lang), caption,
                             peer_value, t("rep.peers_average", state.lang), 0, chart_id, state.lang)


def build_charts(kommune: str, lang: str) -> list:
    """Every chart kind the pack and the deck export, for one municipality and language (kinds without data left
    out: the products leave them out too)."""
    from drivers import figures
    from drivers.i18n import t
    from drivers.report import data, queries, story
    from drivers.report import state as st

    state = st.parse({"kommune": kommune, "lang": lang})
    if hasattr(story, "prepare"):  # Oslo is alone in KOSTRA-gruppe 13: the products compare it with Landet
        state, _note = story.prepare(state)
    name = data.meta().name(kommune)
    peers = queries.peers_label(state)
    charts = []
    rank = _rank(state, "ndu_total_per_innb", "rank-total",
                 t("rep.total.title", lang, name=name, peers=peers, year=state.aar))
    if rank is not None:
        charts.append(rank)
    # the whole country: the longest list of names (top and bottom ten and the municipality's neighbours)
    country = st.parse({"kommune": kommune, "lang": lang, "peers": "landet"})
    rank = _rank(country, queries.indicator_id("FGK7"), "rank-landet-fgk7",
                 t("rep.driver.values_title", lang, service=queries.service_name("FGK7", lang),
                   peers=queries.peers_label(country)))
    if rank is not None:
        charts.append(rank)
    caption = figures.source_line(queries.tables(), ["12362", "07459"], state.aar, peers, queries.konv_label(state),
                                  t("rep.services.caption", lang), lang)
    g = queries.gaps(state)
    services = g[g["service"] != "TOTAL"].copy()
    services["name"] = services["service"].map(lambda s: queries.service_name(s, lang))
    if services["gap_nok"].notna().any():
        charts.append(figures.gap_waterfall(services, name, peers, caption, lang))
    for service in story.largest_services(state):
        frame, _reason = queries.decomposition(state, service)
        if frame is not None and frame["nok"].notna().sum() > 0:
            labels = {**dict(zip(frame["component"], frame["name"], strict=False)), **queries.component_labels(lang)}
            charts.append(figures.decomposition(
                frame, t("rep.driver.title", lang, service=queries.service_name(service, lang)),
                figures.source_line(queries.tables(), queries.service_tables(service), state.aar, peers,
                                    queries.konv_label(state), t("rep.not_need_corrected", lang), lang),
                lang, labels, chart_id=f"decomp-{service}"))
            break
    series = queries.service_timeseries(state, "FGK7", "per_innb")
    if series is not None and series["value"].notna().sum() >= 2:
        have = series.dropna(subset=["value"])
        charts.append(figures.timeseries(
            series, name, peers, queries.service_name("FGK7", lang), "kr",
            figures.source_line(queries.tables(), ["12362", "07459"],
                                f"{int(have['year'].min())}–{int(have['year'].max())}", peers,
                                queries.konv_label(state), None, lang), chart_id="ts-FGK7", lang=lang))
    for view in (state, country):  # the snapshot has both figures for few municipalities: the country if need be
        frame = queries.coverage_unit_cost(view, "FGK7")
        if frame is not None and len(frame.dropna(subset=["coverage", "unit_cost"])) >= 3:
            charts.append(figures.coverage_unit_cost(
                frame, kommune, t("tj.scatter_title", lang, service=queries.service_name("FGK7", lang)),
                t("tj.scatter_x", lang), t("tj.scatter_y", lang),
                figures.source_line(queries.tables(), queries.service_tables("FGK7"), view.aar,
                                    queries.peers_label(view), None, t("tj.scatter_note", lang), lang),
                "scatter-FGK7", lang))
            break
    charts.append(_what_if(state, story))
    charts.append(_map(kommune, lang))
    return [c for c in charts if c is not None]


def _what_if(state, story):
    """The what-if bar (own against the peers, the change above the plot) as the storyline draws it; where the
    snapshot cannot answer a what-if, the same chart with the municipality's and the peers' free income per
    resident and the total gap above it (real numbers in the what-if's form: it is the layout under test)."""
    import plotly.graph_objects as go

    from drivers import figures, fmt
    from drivers.i18n import t
    from drivers.report import data, queries

    for lever in ("coverage", "unit_cost"):
        for service in story.largest_services(state):
            if story.what_if(state, service, lever).get("available"):
                return story.what_if_slide(state, service, lever).chart
    lang = state.lang
    frame = queries.indicator_values(state, "frie_inntekter_per_innb")
    own = frame[frame["region"] == state.kommune]
    peer = frame["peer_value"].dropna()
    if not len(own) or fmt.is_missing(own["value"].iloc[0]) or not len(peer):
        return None
    g = queries.gaps(state)
    total = g[g["service"] == "TOTAL"]["gap_nok"]
    labels = [data.meta().name(state.kommune), f"{queries.peers_label(state)} ({queries.konv_label(state)})"]
    values = [float(own["value"].iloc[0]), float(peer.iloc[0])]
    fig = go.Figure(go.Bar(x=labels, y=values, marker_color=[figures.HIGHLIGHT, figures.PEER],
                           text=[fmt.number(v, 0, lang=lang) for v in values], textposition="outside",
                           cliponaxis=False))
    fig.add_annotation(text=fmt.mill_kr(total.iloc[0] if len(total) else None, sign=True, lang=lang),
                       xref="paper", yref="paper", x=1, y=1.02, xanchor="right", yanchor="bottom", showarrow=False,
                       font=dict(size=18))
    fig.update_layout(template=figures.TEMPLATE_NAME, showlegend=False,
                      yaxis_title=t("rep.unit_kr_per_resident", lang), separators=t("fmtx.separators", lang))
    title = t("rep.income.title", lang, name=labels[0], peers=queries.peers_label(state), year=state.aar)
    return figures.Chart("what-if", title, fig, frame, figures.source_line(
        queries.tables(), ["12134", "07459"], state.aar, queries.peers_label(state), queries.konv_label(state),
        None, lang))



def _map(kommune: str, lang: str):
    from drivers import figures
    from drivers.engine import indicators
    from drivers.report import data, queries
    from drivers.ui.pages import _mapview as mv

    year = data.meta().default_year
    values = mv.values(data.get_panel(), indicators.get("ndu_total_per_innb"), year)
    caption = figures.source_line(queries.tables(), ["12362", "07459"], year, lang=lang)
    return mv.choropleth(values, kommune, f"{indicators.get('ndu_total_per_innb').name(lang)}, {year}", caption,
                         "/k.geojson", "/f.geojson", lang)


# --------------------------------------------------------------------------------------------- measuring

MEASURE = """
const svg = document.documentElement;
const out = {width: parseFloat(svg.getAttribute('width')), height: parseFloat(svg.getAttribute('height')), texts: []};
for (const el of document.querySelectorAll('text')) {
  const text = el.textContent.trim();
  if (!text) continue;
  const style = getComputedStyle(el);
  if (style.display === 'none' || style.visibility === 'hidden' || parseFloat(style.opacity) === 0) continue;
  const r = el.getBoundingClientRect();
  if (r.width < 0.5 || r.height < 0.5) continue;
  out.texts.push({text: text, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom,
                  size: parseFloat(style.fontSize), cls: (el.getAttribute('class') || '')});
}
return out;
"""


def problems(measured: dict, where: str, slide: bool) -> list[str]:
    """Every text box that leaves the picture, overlaps another box, or (on a slide) is smaller than 25 px."""
    width, height, texts = measured["width"], measured["height"], measured["texts"]
    out = []
    for box in texts:
        if box["x0"] < -TOLERANCE or box["y0"] < -TOLERANCE or box["x1"] > width + TOLERANCE \
                or box["y1"] > height + TOLERANCE:
            out.append(f"{where}: «{box['text'][:60]}» leaves the {width:.0f}×{height:.0f} picture "
                       f"(box {box['x0']:.0f},{box['y0']:.0f}–{box['x1']:.0f},{box['y1']:.0f})")
        if slide and box["size"] < SLIDE_MIN_FONT - 0.01:
            out.append(f"{where}: «{box['text'][:60]}» is {box['size']:.1f} px (< {SLIDE_MIN_FONT:.0f} px on a slide)")
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            w = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
            h = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"])
            if w > TOLERANCE and h > TOLERANCE:
                out.append(f"{where}: «{a['text'][:50]}» overlaps «{b['text'][:50]}» by {w:.0f}×{h:.0f} px")
    return out


def _driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1600,1300"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def measure_all(svgs: dict, folder: Path) -> dict:
    """{key: measured} for {key: svg bytes}, each opened as a file in one headless Chromium."""
    driver = _driver()
    try:
        out = {}
        for n, (key, svg) in enumerate(svgs.items()):
            path = folder / f"{n}.svg"
            path.write_bytes(svg)
            driver.get(path.as_uri())
            out[key] = driver.execute_script(MEASURE)
        return out
    finally:
        driver.quit()


def run(municipalities=MUNICIPALITIES, langs=LANGS, sizes=SIZES, engine=None) -> tuple[list[str], int, int]:
    """(problems, charts, text boxes) for every chart × municipality × language × size."""
    charts, where = [], {}
    for kommune in municipalities:
        for lang in langs:
            for chart in build_charts(kommune, lang):
                chart = _renamed(chart, f"{chart.id}|{kommune}|{lang}")
                charts.append(chart)
    svgs = image.render_charts(charts, tuple(("svg", s) for s in sizes), engine=engine)
    for key in svgs:
        chart_id, kommune, lang = key[0].split("|")
        where[key] = f"{chart_id} {kommune} {lang} {key[2]}"
    with tempfile.TemporaryDirectory() as tmp:
        measured = measure_all(svgs, Path(tmp))
    found, boxes = [], 0
    for key, m in measured.items():
        boxes += len(m["texts"])
        found += problems(m, where[key], key[2] == layout.SLIDE.name)
    return found, len(charts), boxes


def _renamed(chart, chart_id: str):
    """The chart under another id (render_charts keys by id; the same kind appears once per view)."""
    import copy

    other = copy.copy(chart)
    other.id = chart_id
    return other


@pytest.fixture(scope="module")
def warm(warm):
    """The shared warm renderer (tests/export_fixtures.py), once the database and the browser are known to be there."""
    from drivers.config import Settings

    if not Settings.from_env().database_for_reading().exists():
        pytest.skip("no database: run `drivers snapshot build`")
    if not (Path("/usr/bin/chromium").exists() and Path("/usr/bin/chromedriver").exists()):
        pytest.skip("needs /usr/bin/chromium and /usr/bin/chromedriver")
    return warm


@pytest.mark.kaleido
@pytest.mark.browser
@pytest.mark.slow
def test_no_exported_text_leaves_the_picture_or_overlaps_and_slide_text_is_projector_size(warm):
    found, n_charts, n_boxes = run(engine=warm)
    assert n_charts >= 6 * len(MUNICIPALITIES) * len(LANGS) - 6  # every kind, Utsira may lack one or two
    assert not found, f"{len(found)} problems in {n_charts} charts × {len(SIZES)} sizes ({n_boxes} text boxes):\n" + \
        "\n".join(found[:60])


def test_slide_size_is_readable_when_projected():
    from drivers.export import deck

    # the deck places the slide picture deck.PIC_W inches wide: 1 CSS px is PIC_W × 72 / width pt
    pt_per_px = deck.PIC_W * 72 / layout.SLIDE.width
    assert SLIDE_MIN_FONT * pt_per_px >= 18
    assert layout.SLIDE.text >= SLIDE_MIN_FONT and layout.SLIDE.caption >= SLIDE_MIN_FONT
    assert math.isclose(layout.SLIDE.width / layout.SLIDE.height, 1200 / 620, rel_tol=0.01)


# ------------------------------------------------------------------------------ the layout itself (no browser)


def _fonts_in(obj, out=None, key=None):
    out = [] if out is None else out
    if isinstance(obj, dict):
        if key is not None and "font" in key and isinstance(obj.get("size"), int | float):
            out.append((key, obj["size"]))
        for k, v in obj.items():
            if k != "template":
                _fonts_in(v, out, k)
    elif isinstance(obj, list):
        for v in obj:
            _fonts_in(v, out, key)
    return out


@pytest.mark.parametrize("size", [layout.PRINT, layout.SLIDE], ids=lambda s: s.name)
def test_title_and_caption_start_at_the_pictures_edge_and_wrap_to_its_width(size):
    from export_data import service_chart

    from drivers import chartmargins

    chart = service_chart("0301")
    fig = layout.export_figure(chart, size)
    margin = fig["layout"]["margin"]
    plot_w = size.width - margin["l"] - margin["r"]
    drawn = [(size.title, "title"), (size.caption, "caption")]
    drawn = [(font, what) for font, what in drawn if font]  # a size may leave the title to its document (slides)
    notes = fig["layout"]["annotations"][-len(drawn):]
    texts = [n["text"] for n in fig["layout"]["annotations"]]
    assert (chart.title.split()[0] in " ".join(texts)) == bool(size.title)
    for note, (font, _what) in zip(notes, drawn, strict=True):
        assert note["xanchor"] == "left"
        assert note["x"] * plot_w + margin["l"] == pytest.approx(layout.PAD, abs=1)  # not the plot's left edge
        for line in note["text"].replace("<b>", "").replace("</b>", "").split("<br>"):
            assert chartmargins.text_width(line, font) <= size.width - 2 * layout.PAD
    assert margin["autoexpand"] is False  # the plot area is where the layout says, so the annotations are too


def test_long_category_labels_are_horizontal_bars_not_rotated_labels():
    from export_data import service_chart

    chart = service_chart("3201")  # 15 vertical bars named by service
    fig = layout.export_figure(chart, layout.SLIDE)
    assert all(t["orientation"] == "h" for t in fig["data"])
    assert fig["layout"]["yaxis"]["autorange"] == "reversed"  # the first category on top, as it was on the left
    assert not fig["layout"]["xaxis"].get("tickangle") and not fig["layout"]["yaxis"].get("tickangle")


def test_every_text_on_a_slide_is_at_least_25_px():
    from export_data import service_chart

    fig = layout.export_figure(service_chart("3201"), layout.SLIDE)
    sizes = _fonts_in({k: v for k, v in fig.items()})
    assert sizes and min(size for _, size in sizes) >= 25, sorted(sizes, key=lambda x: x[1])[:5]


def test_value_labels_get_room_inside_the_range_and_thin_out_only_with_their_names():
    import pandas as pd

    from drivers import figures

    n = 40
    frame = pd.DataFrame({"region": [f"{i:04d}" for i in range(n)], "name": [f"Kommune {i}" for i in range(n)],
                          "value": [1000.0 + 250 * i for i in range(n)], "status": None})
    chart = figures.peer_rank(frame, "0007", "T", "kr per innbygger", "Kilde", 5000.0, "Gruppens snitt", max_bars=n)
    fig = layout.export_figure(chart, layout.SLIDE)
    bar = fig["data"][0]
    shown = fig["layout"]["yaxis"]["ticktext"]
    assert "Kommune 7" in shown and "Kommune 0" in shown and f"Kommune {n - 1}" in shown  # selected, ends
    assert len(shown) < n
    named = {y for y, text in zip(bar["y"], bar["text"], strict=True) if text}
    assert named == set(shown)  # a bar without its name has no value either
    lo, hi = fig["layout"]["xaxis"]["range"]
    assert hi > max(frame["value"]) and bar["cliponaxis"] is False
    peer = next(a for a in fig["layout"]["annotations"] if "Gruppens snitt" in a["text"])
    assert peer["text"] == "Gruppens snitt: 5 000 kr" and peer["yanchor"] == "bottom"
    title = fig["layout"]["annotations"][-2]
    margin = fig["layout"]["margin"]
    plot_h = layout.SLIDE.height - margin["t"] - margin["b"]
    # the peer label's row is under the title's last line
    title_bottom = layout.PAD + len(title["text"].split("<br>")) * layout.SLIDE.title * layout.LINE
    assert margin["t"] - title_bottom >= peer["font"]["size"] and plot_h > 0
