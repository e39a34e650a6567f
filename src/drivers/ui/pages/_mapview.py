"""The Kart page's data and figure: one indicator for all 357 municipalities as a choropleth.

Boundaries are Kartverket's 2024 municipalities and counties (simplified by github.com/robhop/fylker-og-kommuner),
stored in the database's `boundaries` table by `drivers snapshot build`; every feature has a top-level `id`
(kommunenummer / fylkesnummer) and its rings already wound for plotly's d3-geo. They are read with the rest of the
database into the data layer's Bundle (drivers.report.data), so a request reads them from memory, from the same
version as its numbers; the figure refers to them by URL (served by the page), so a view change does not resend
1 MB of geometry. Municipalities without a value are drawn grey in a separate trace and named in the notes: a
missing value is never coloured as 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from drivers import chartmargins, figures, fmt, i18n
from drivers.errors import UserError
from drivers.figures import Chart
from drivers.report import data
from drivers.report import queries as views
from drivers.report.cache import Cache

MISSING_COLOR = "#D3D7DC"
OUTLINE = "#FFFFFF"
COUNTY_LINE = "#3E4C59"
# Sequential, colour-blind-safe and neutral (light = low, dark = high); costs are not painted as good or bad.
SEQUENTIAL = "Blues"
DIVERGING_BETTER = "Cividis"
GEO_ROUTE = "_drivers/geo/"
TOPO_ROUTE = "_drivers/topojson/"
EMPTY_TOPOJSON = json.dumps(figures.EMPTY_TOPOLOGY)


def geojson_bytes(level: str, detail: str = "S") -> bytes:
    """The stored GeoJSON for `level` (kommune | fylke) of the data in use (the request's Bundle)."""
    try:
        return data.boundaries(level, detail)
    except UserError as exc:
        raise LookupError(f"{exc}; run `drivers snapshot build`") from exc


def has_boundaries() -> bool:
    try:
        geojson_bytes("kommune")
        return True
    except LookupError:
        return False


def feature_ids(level: str = "kommune") -> list[str]:
    return [f["id"] for f in json.loads(geojson_bytes(level))["features"]]


def reset_cache() -> None:
    """Nothing to forget here: the boundaries live in the data layer's Bundle, and go with it."""


@dataclass(frozen=True)
class MapValues:
    """One indicator for one year over every municipality: region, name, value, status, reason; plus the
    look-ups a view needs (row per region, rank among those with a value, median, min, max), computed once."""

    frame: pd.DataFrame
    indicator_id: str
    unit: str
    decimals: int
    rows: dict = field(default_factory=dict)  # region -> {name, value, status, reason}
    rank: dict = field(default_factory=dict)  # region -> 1 = highest value
    stats: dict = field(default_factory=dict)  # n, n_have, median, min, max


# One indicator-year over every municipality, with its ranks and median: measured (six municipalities, built
# whole) Kart ~10 ms a page without it, ~7 ms with it (and the base map is built from it).
_VALUES = Cache("kart-values", 256)


def values(panel, indicator, year: int) -> MapValues:
    """The indicator for all municipalities (engine components; cached)."""
    return _VALUES.get_or_build((indicator.id, int(year)), lambda: _values(panel, indicator, int(year)))


def _values(panel, indicator, year: int) -> MapValues:
    comp = views.indicator_components(panel, indicator, year)
    codes = list(panel.municipalities)
    frame = pd.DataFrame({
        "region": codes,
        "name": [panel.name(c) for c in codes],
        "value": np.asarray(comp.value, dtype=float),
        "status": list(comp.status),
        # object dtype: pandas would store the engine's Reasons as plain str, losing what words them per language
        "reason": pd.Series(list(comp.reason), dtype=object),
    })
    rows = {r["region"]: r for r in frame.to_dict("records")}
    have = frame[frame["value"].notna()].sort_values("value", ascending=False, kind="stable")
    rank = {code: i + 1 for i, code in enumerate(have["region"])}
    vals = have["value"]
    stats = {"n": len(frame), "n_have": len(have),
             "median": float(vals.median()) if len(vals) else np.nan,
             "min": float(vals.min()) if len(vals) else np.nan, "max": float(vals.max()) if len(vals) else np.nan}
    return MapValues(frame, indicator.id, indicator.unit, int(indicator.decimals), rows, rank, stats)


def _hover_value(v, status, decimals, unit, lang):
    if fmt.is_missing(v):
        return fmt.missing_label(status, lang)
    return f"{fmt.number(v, decimals)} {unit}".strip()


def rank_text(values: MapValues, region: str, lang: str = "nb") -> str | None:
    """'nr. 12 av 350 (høyest først)' for the selected municipality, or None without a value."""
    r = values.rank.get(region)
    if r is None:
        return None
    n = values.stats["n_have"]
    return i18n.t("map.rank", lang, rank=r, n=n)


def base_figure(mv: MapValues, geo_url: str, county_url: str | None, lang: str = "nb",
                polarity: str = "neutral") -> dict:
    """The map without the selection, as a plain figure dict (built once per indicator, year and language)."""
    frame = mv.frame
    have = frame[frame["value"].notna()]
    missing = frame[frame["value"].isna()]
    unit = mv.unit
    fig = go.Figure()
    if len(have):
        fig.add_trace(go.Choropleth(
            geojson=geo_url, locations=have["region"], z=have["value"],
            # The 2nd–98th percentile spans the colours, so a few extreme municipalities do not wash out the rest.
            zmin=float(have["value"].quantile(0.02)), zmax=float(have["value"].quantile(0.98)),
            colorscale=DIVERGING_BETTER if polarity not in ("neutral", "") else SEQUENTIAL,
            marker_line_color=OUTLINE, marker_line_width=0.4,
            customdata=np.stack([have["name"], [_hover_value(v, None, mv.decimals, unit, lang) for v in have["value"]]], axis=-1),
            hovertemplate="%{customdata[0]} (%{location})<br>%{customdata[1]}<extra></extra>",
            colorbar=dict(title=dict(text=unit, side="top"), thickness=16, len=0.7, x=0.98,
                          tickformat=",." + str(mv.decimals) + "f"),
            name=i18n.t("map.with_value", lang), showlegend=False,
        ))
    if len(missing):
        fig.add_trace(go.Choropleth(
            geojson=geo_url, locations=missing["region"], z=np.zeros(len(missing)),
            colorscale=[[0, MISSING_COLOR], [1, MISSING_COLOR]], showscale=False,
            marker_line_color=OUTLINE, marker_line_width=0.4,
            customdata=np.stack([missing["name"], [_hover_value(np.nan, s, mv.decimals, unit, lang) for s in missing["status"]]], axis=-1),
            hovertemplate="%{customdata[0]} (%{location})<br>%{customdata[1]}<extra></extra>",
            name=i18n.t("map.no_figure_grey", lang), showlegend=True,
        ))
    if county_url:
        # Outlines only: transparent fill, and 'skip' keeps hover and clicks on the municipalities below.
        counties = _county_codes(frame)
        fig.add_trace(go.Choropleth(
            geojson=county_url, locations=counties, z=np.zeros(len(counties)),
            colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]], showscale=False,
            marker_line_color=COUNTY_LINE, marker_line_width=1.4, hoverinfo="skip", showlegend=False,
            name="fylker",
        ))
    fig.update_geos(fitbounds="locations", visible=False, projection_type="mercator", bgcolor="white")
    fig.update_layout(template=figures.TEMPLATE_NAME, height=820, margin=dict(l=0, r=0, t=8, b=0),
                      legend=dict(orientation="h", x=0, y=0, yanchor="bottom", bgcolor="rgba(255,255,255,0.8)"),
                      clickmode="event", uirevision=f"{mv.indicator_id}")
    chartmargins.reserve(fig)  # room for the colour bar now, not in a second drawing of 357 polygons
    return fig.to_dict()


def choropleth(mv: MapValues, selected: str, title: str, caption: str, geo_url: str, county_url: str | None,
               lang: str = "nb", polarity: str = "neutral", base: dict | None = None) -> Chart:
    """The map: coloured municipalities, grey missing ones, county outlines, the selected one outlined.

    `base` is `base_figure(...)` for the same arguments, if the caller keeps one (it costs most of the time)."""
    frame = mv.frame
    base = base if base is not None else base_figure(mv, geo_url, county_url, lang, polarity)
    traces = list(base["data"])
    row = mv.rows.get(selected)
    if row is not None:
        traces.append(dict(
            type="choropleth", geojson=geo_url, locations=[selected], z=[0],
            colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]], showscale=False,
            marker=dict(line=dict(color=figures.HIGHLIGHT, width=3.5)),
            customdata=[[row["name"], _hover_value(row["value"], row["status"], mv.decimals, mv.unit, lang)]],
            hovertemplate="%{customdata[0]} (%{location})<br>%{customdata[1]}<extra></extra>",
            name=str(row["name"]), showlegend=True,
        ))
    layout = dict(base["layout"], meta={"title": title})
    browser_figure = dict(data=traces, layout=layout)
    missing = frame[frame["value"].isna()]
    notes = []
    if len(missing):
        summary = _reason_summary(missing, lang)
        notes.append(" ".join(filter(None, [i18n.t("map.grey_note", lang, n=len(missing)), summary])))
    if frame["value"].notna().sum() > 10:
        notes.append(i18n.t("map.scale_note", lang))
    notes.append(i18n.t("map.credit", lang))
    table = pd.DataFrame({
        i18n.t("map.col_region", lang): frame["region"],
        i18n.t("map.col_name", lang): frame["name"],
        i18n.t("map.col_value", lang, unit=mv.unit): frame["value"],
        i18n.t("map.col_status", lang): frame["status"],
    })
    inline = {geo_url: "kommune", **({county_url: "fylke"} if county_url else {})}
    return MapChart("kart", title, browser_figure, table, caption, notes, inline)


class MapChart(Chart):
    """The map as a `Chart`. `browser_figure` (a plain dict) refers to the boundaries by URL, which the browser
    fetches once; `figure` (a go.Figure, built on first use) has them inline, because a server-side export
    (kaleido) cannot fetch the page's URLs."""

    def __init__(self, id, title, browser_figure, data, caption, notes, inline):  # noqa: A002 - Chart's field name
        self.id, self.title, self.data, self.caption, self.notes = id, title, data, caption, notes
        self.browser_figure = browser_figure
        self._inline = inline
        self._figure = None

    @property
    def figure(self) -> go.Figure:
        if self._figure is None:
            traces = [dict(t, geojson=geojson_dict(self._inline[t["geojson"]])) if t.get("geojson") in self._inline else t
                      for t in self.browser_figure["data"]]
            self._figure = go.Figure(dict(data=traces, layout=self.browser_figure["layout"]), _validate=False)
        return self._figure

    @figure.setter
    def figure(self, value) -> None:
        self._figure = value


def geojson_dict(level: str) -> dict:
    """The boundaries as a parsed GeoJSON dict (parsed once per Bundle; for server-side export)."""
    return data.memo(("geojson-dict", level), lambda: json.loads(geojson_bytes(level)))


def _county_codes(frame: pd.DataFrame) -> list[str]:
    return sorted({str(r)[:2] for r in frame["region"]})


def _reason_summary(missing: pd.DataFrame, lang: str) -> str:
    reasons = [r for r in missing["reason"] if isinstance(r, str) and r]
    if not reasons:
        return ""
    common = pd.Series([str(r) for r in reasons]).value_counts()
    top = next(r for r in reasons if r == common.index[0])  # the engine's Reason itself, to word it in `lang`
    return i18n.t("map.common_reason", lang, reason=i18n.reason_text(top, lang))
