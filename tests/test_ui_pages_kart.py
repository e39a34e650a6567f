"""Kart (/kart) on real data: the map's values, missing municipalities in grey (never 0), county outlines,
the selected municipality, the boundary routes, clicks, and friendly errors."""

from __future__ import annotations

import json

import dash
import numpy as np
import plotly.graph_objects as go
import pytest
from ui_pages_data import (
    duplicate_ids,
    find,
    page_layout,
    pages_app,  # noqa: F401  (the module fixture below)
    text,
)

from drivers.report import data
from drivers.ui import ids
from drivers.ui.pages import _mapview as mv

pytestmark = pytest.mark.usefixtures("pages_app")

def _ind(indicator_id):
    from drivers.engine import indicators

    return indicators.get(indicator_id)


def test_kart001_values_equal_net_expenditure_over_residents():
    panel = data.get_panel()
    year = data.meta().default_year
    frame = mv.values(panel, _ind("ndu_total_per_innb"), year).frame
    assert len(frame) == 357 and frame["region"].is_unique
    # independent: municipal total (AGD1, 1000 kr) × 1000 / residents 1.1. the year after, from the raw frames
    obs = panel.observations
    tot = obs[(obs["measure"] == "ndu_1000kr") & (obs["dims"] == "KOKart0000=AGD1") & (obs["year"] == year)]
    pop = panel.population[panel.population["year"] == year + 1].groupby("region")["persons"].sum()
    for code in ("0301", "3222", "1151"):
        expected = float(tot[tot["region"] == code]["value"].iloc[0]) * 1000 / float(pop[code])
        got = float(frame.loc[frame["region"] == code, "value"].iloc[0])
        assert got == pytest.approx(expected, rel=1e-9)


def test_kart002_missing_values_are_grey_never_zero():
    panel = data.get_panel()
    year = data.meta().default_year
    # SSB's own kindergarten coverage exists only for a handful of municipalities in the snapshot
    values = mv.values(panel, _ind("barnehage_andel_1_5"), year)
    frame = values.frame
    have, missing = frame[frame["value"].notna()], frame[frame["value"].isna()]
    assert len(missing) > 0, "the test needs an indicator with missing municipalities"
    chart = mv.choropleth(values, "3222", "t", "Kilde: SSB", "/k.geojson", "/f.geojson")
    traces = go.Figure(chart.browser_figure).data
    coloured = next(t for t in traces if t.showscale is not False and t.z is not None and len(t.locations) == len(have))
    grey = next(t for t in traces if t.name and "grå" in t.name)
    assert set(coloured.locations) == set(have["region"])
    assert not set(coloured.locations) & set(missing["region"]), "a missing municipality got a colour"
    assert set(grey.locations) == set(missing["region"])
    assert {c for _, c in grey.colorscale} == {mv.MISSING_COLOR}
    assert any("ikke som 0" in n for n in chart.notes)
    # the data table behind the chart keeps the gaps as gaps
    assert chart.data.iloc[:, 2].isna().sum() == len(missing)


def test_kart003_selected_outline_and_county_layer():
    panel = data.get_panel()
    values = mv.values(panel, _ind("ndu_total_per_innb"), data.meta().default_year)
    chart = mv.choropleth(values, "1151", "t", "c", "/k.geojson", "/f.geojson")
    browser = go.Figure(chart.browser_figure)
    sel = browser.data[-1]
    assert list(sel.locations) == ["1151"] and sel.marker.line.color == "#D55E00"
    counties = next(t for t in browser.data if t.geojson == "/f.geojson")
    assert counties.hoverinfo == "skip"  # clicks and hover reach the municipalities underneath
    assert len(set(counties.locations)) == 15
    assert browser.layout.geo.fitbounds == "locations"
    assert "Kartverket" in " ".join(chart.notes)
    # the exportable figure (kaleido cannot fetch the page's URLs) carries the boundaries inline
    exported = chart.figure.to_dict()
    inline = [t["geojson"] for t in exported["data"]]
    assert all(isinstance(g, dict) and g["type"] == "FeatureCollection" for g in inline)
    assert {len(g["features"]) for g in inline} == {357, 15}


def test_kart004_boundary_and_topojson_routes():
    client = dash.get_app().server.test_client()
    kom = client.get("/_drivers/geo/kommune.geojson")
    assert kom.status_code == 200
    features = json.loads(kom.data)["features"]
    assert len(features) == 357 and {"0301", "3222", "1151"} <= {f["id"] for f in features}
    fylke = json.loads(client.get("/_drivers/geo/fylke.geojson").data)["features"]
    assert len(fylke) == 15
    assert client.get("/_drivers/geo/nope.geojson").status_code == 404
    topo = json.loads(client.get("/_drivers/topojson/world_110m.json").data)
    assert topo["type"] == "Topology"


@pytest.mark.parametrize("code", ["0301", "3222", "1151"])
def test_kart006_layout_for_three_municipalities(code):
    layout = page_layout("/kart")(kommune=code, indikator="ndu_fgk7_per_innb")
    assert find(layout, ids.PAGE_ROOT) is not None
    graph = find(layout, "graph-kart")
    assert graph is not None and graph.config["topojsonURL"].endswith("/_drivers/topojson/")
    assert graph.figure["data"][0]["geojson"].endswith("/_drivers/geo/kommune.geojson")  # by URL, not 1 MB inline
    body = text(layout)
    assert "Kilde: Statistisk sentralbyrå" in body and "© Kartverket" in body
    assert data.meta().name(code) in body
    assert duplicate_ids(layout) == []
    assert find(layout, "kart-indikator").value == "ndu_fgk7_per_innb"


def test_kart007_bad_indicator_gives_friendly_page():
    layout = page_layout("/kart")(kommune="3222", indikator="<script>")
    assert find(layout, ids.ERROR_PAGE) is not None
    assert "Ukjent indikator" in text(layout)


def test_kart008_indicator_without_data_says_so_and_names_command():
    year = data.meta().default_year
    frame = mv.values(data.get_panel(), _ind("pleie_andel_80_institusjon"), year).frame
    if frame["value"].notna().any():
        pytest.skip("the database has this indicator (a fetched database); the notice is for the snapshot")
    layout = page_layout("/kart")(kommune="3222", indikator="pleie_andel_80_institusjon")
    body = text(layout)
    assert "drivers fetch --tables 12209" in body  # 12209 holds the 80+ shares (contentscodes_found.csv)
    assert np.isnan(frame["value"]).all()
