"""The municipality's analysis as a static website (`drivers publish`): plain HTML, CSS and a little JavaScript that
any web server can host, or a reader can open from disk, with no Python and no network.

Levelled like a web plan document: the overview (the storyline: its sections, message titles, text and charts;
the services in a sortable table; the map), a page per service (its key numbers, the storyline's text about it,
its charts), and a detail page per figure (the chart large, all its numbers in a sortable table, the notes and
the CSV). Every figure carries its source line (chart.caption), its numbers for download (CSV in the Norwegian
Excel dialect, drivers.export.tables.to_csv) and a text alternative (aria label from its title and a summary,
its numbers in a table beside it). Charts are plotly figure JSON drawn in the browser by the plotly.min.js of the
installed plotly package, copied into the site; the map's boundaries ship as a script (assets/geo.js) that fills
plotly's own look-up (window.PlotlyGeoAssets), so nothing is fetched: the site opens from file:// offline.

Languages: the view's language at the top of the folder and the other language(s) in a sub-folder of that code
(`en/`, or `nb/` for an English site), every page linking to its counterpart; the assets are shared.

Written to a temporary folder beside `out_dir` and renamed into place; an earlier site there (it holds
drivers-site.json) is replaced whole, any other non-empty folder is refused (`check_out`).
Figures whose inputs are missing are left out and named once (Site.left_out), never drawn as a placeholder.

Long on purpose: the site's five kinds of page (overview, service, detail, map, goals), the pieces they share
(page frame, figure block, sortable table) and the map and series charts the storyline does not make, in one place,
so every text goes into HTML through the one `esc` and every figure through the one `_figure`; each page is a
short function. CSS and JavaScript are files in site_assets/.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import plotly
import plotly.graph_objects as go

from drivers import figures, fmt, i18n
from drivers.errors import UserError
from drivers.export import tables as xtables
from drivers.export import theme as xtheme
from drivers.i18n import t
from drivers.products import LeftOut
from drivers.report import data, queries, story
from drivers.report import state as st

ASSETS = Path(__file__).with_name("site_assets")
MARKER = "drivers-site.json"  # written into every site: a folder holding it may be replaced by a new one
MAP_INDICATOR = "ndu_total_per_innb"  # the Kart page's default indicator
GEO_KEYS = {"kommune": "drivers/kommune", "fylke": "drivers/fylke"}  # names in window.PlotlyGeoAssets
# plotly.js fetches a base-map topojson for every geo subplot, even with every base layer hidden; these names
# (scope_resolution) are filled with an empty topology in assets/geo.js, so nothing is fetched.
TOPOJSON_NAMES = [f"{scope}_{res}m" for scope in ("world", "europe", "asia", "africa", "north-america",
                                                  "south-america", "usa") for res in (110, 50)]
LICENCE = "Statistisk sentralbyrå (SSB), CC BY 4.0"


@dataclass
class Site:
    """What `publish` wrote: the folder, its pages (relative paths), charts drawn per language, what was left
    out (named once, in the view's language) and notes the user must read."""

    path: Path
    pages: list[str] = field(default_factory=list)
    count: int = 0
    left_out: list[LeftOut] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    languages: tuple[str, ...] = ()


# ---- the output folder ------------------------------------------------------------------------------------


def check_out(out_dir: Path, lang: str = i18n.DEFAULT) -> Path:
    """`out_dir` as the folder to write, or a UserError (one line) before any work is done: its parent must be a
    writable folder; `out_dir` itself absent, empty, or an earlier site (it holds drivers-site.json)."""
    out = Path(out_dir).expanduser()
    parent = out.resolve().parent
    if out.exists() and not out.is_dir():
        raise UserError(t("pub.err.out_file", lang, path=out))
    if not parent.is_dir():
        raise UserError(t("pub.err.out_parent", lang, path=parent))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(t("pub.err.out_unwritable", lang, path=parent))
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UserError(t("pub.err.out_not_site", lang, path=out, marker=MARKER))
    return out


def _swap_into_place(tmp: Path, out: Path) -> None:
    """Rename the finished folder into place; an earlier site (or an empty folder) there goes only after."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.resolve().parent))
        old.rmdir()
        os.rename(out, old)
    try:
        os.rename(tmp, out)
    except BaseException:
        if old is not None:
            os.rename(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ---- text helpers -----------------------------------------------------------------------------------------


def esc(value) -> str:
    """Any text for HTML (names come from data): escaped, quotes included."""
    return html.escape("" if value is None else str(value), quote=True)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(text)).strip("-") or "x"


def _json_for_script(obj) -> str:
    """JSON that can sit inside <script type="application/json">: no '<', '>' or '&' that HTML could read."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_json_default)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, pd.Timestamp):
        return obj.isoformat()
    raise TypeError(f"not JSON: {type(obj).__name__}")


def _clean(obj):
    """A figure dict with NaN/inf as null (JSON has no NaN) and numpy values as plain Python."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _cell_text(value, decimals: int, lang: str) -> tuple[str, str]:
    """(shown text, sort key) for a table cell: numbers in the language's marks, missing as '–' (sorted last)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return fmt.MISSING, ""
    if isinstance(value, bool | np.bool_):
        return str(value), str(value)
    if isinstance(value, int | np.integer):
        return (str(int(value)) if decimals < 0 else fmt.number(value, 0, lang=lang)), repr(int(value))
    if isinstance(value, float | np.floating):
        if pd.isna(value):
            return fmt.MISSING, ""
        return fmt.number(float(value), max(decimals, 0), lang=lang), repr(float(value))
    return str(value), str(value).lower()


def _decimals(series: pd.Series) -> int:
    """Decimals to show for a numeric column: as many as the data has (at most 3); -1 for a year column."""
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return 0
    name = str(series.name or "").lower()
    if name in ("år", "year", "aar"):
        return -1
    values = series.dropna().astype(float)
    if not len(values) or (values % 1 == 0).all():
        return 0
    return min(3, max(len(f"{abs(v):.6g}".partition(".")[2]) for v in values))


def _contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two hex colours."""

    def lum(h: str) -> float:
        h = h.lstrip("#")
        chans = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in chans]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    la, lb = sorted((lum(a), lum(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def readable(color: str, background: str, fallback: str) -> str:
    """`color` if it reads on `background` at ≥ 4.5:1 (WCAG AA for body text), else `fallback`."""
    return color if _contrast(color, background) >= 4.5 else fallback


# ---- theme and assets -------------------------------------------------------------------------------------


def theme_css(look: xtheme.Theme) -> str:
    """CSS variables from the municipality's theme, every text colour checked against its background (≥ 4.5:1):
    a theme colour that would not read is replaced by the theme's text colour (or black/white)."""
    bg = look.color("background")
    text = readable(look.color("text"), bg, "#000000" if _contrast("#000000", bg) >= _contrast("#FFFFFF", bg)
                    else "#FFFFFF")
    primary = look.color("primary")
    head_bg, head_fg = (primary, "#FFFFFF") if _contrast(primary, "#FFFFFF") >= 4.5 else (bg, text)
    link = readable(primary, bg, text)
    muted = readable(look.color("muted"), bg, text)
    accent = look.color("highlight")
    font = look.font.replace("</", "")
    return (":root {\n"
            f"  --bg: {bg};\n  --text: {text};\n  --muted: {muted};\n  --link: {link};\n"
            f"  --head-bg: {head_bg};\n  --head-fg: {head_fg};\n  --accent: {accent};\n"
            f"  --font: {font};\n}}\n")


def _figure_dict(fig, look: xtheme.Theme) -> dict:
    """A chart's figure as a plain dict for plotly.js, in the theme's colours and font, sized by the page."""
    if isinstance(fig, go.Figure):
        d = json.loads(fig.to_json())
    else:
        d = json.loads(json.dumps(fig, default=_json_default))
    d = _clean(xtheme.recolor(d, look))
    layout = d.setdefault("layout", {})
    themed = xtheme.plotly_layout(look)
    for key, value in themed.items():
        if isinstance(value, dict) and isinstance(layout.get(key), dict):
            layout[key] = {**layout[key], **value}
        else:
            layout[key] = value
    layout.pop("width", None)
    layout["autosize"] = True
    return {"data": d.get("data", []), "layout": layout}


def _geo_script() -> str:
    """assets/geo.js: the stored boundaries and empty base-map topologies in plotly's own look-up."""
    assets = {"topojson": {name: figures.EMPTY_TOPOLOGY for name in TOPOJSON_NAMES}}
    for level, key in GEO_KEYS.items():
        assets[key] = json.loads(data.boundaries(level))
    return ("/* Boundaries: Kartverket 2024 (simplified by github.com/robhop/fylker-og-kommuner), from the drivers "
            "database. */\nwindow.PlotlyGeoAssets = " + _json_for_script(assets) + ";\n")


def _has_boundaries() -> bool:
    try:
        data.boundaries("kommune"), data.boundaries("fylke")
        return True
    except (UserError, LookupError):
        return False


# ---- the charts a language's pages show ------------------------------------------------------------------


@dataclass
class Figure:
    """A chart as the site shows it: the Chart, its text alternative, the storyline's text and key number."""

    chart: figures.Chart | None  # None: a text slide (the storyline's closing «hva betyr dette»)
    alt: str
    summary: str
    parent: str  # the page that shows it (index.html, tjeneste-FGK7.html, kart.html)
    title: str | None = None  # the storyline's message title, if any
    notes: str | None = None  # the storyline's text, if any
    key: str | None = None
    section: str | None = None  # the storyline's section, if any
    key_label: str | None = None  # what the key number is
    lines: tuple[str, ...] = ()  # a text slide's points

    @property
    def slug(self) -> str:
        return _slug(self.chart.id if self.chart is not None else f"text-{self.title}")


def summary_of(chart: figures.Chart, state: st.State) -> str:
    """One sentence that says what the chart shows, for its text alternative (numbers as the chart has them)."""
    if getattr(chart, "site_summary", None):
        return chart.site_summary
    lang = state.lang
    frame = chart.data
    rank = getattr(chart, "rank", None)
    name = data.meta().name(state.kommune)
    if rank and rank[0] is not None and frame is not None and len(frame.columns) >= 2:
        rows = frame[frame.iloc[:, 0] == name]
        value = rows.iloc[0, 1] if len(rows) else None
        return t("pub.alt.rank", lang, name=name, value=fmt.number(value, 0, lang=lang), unit=frame.columns[1],
                 rank=rank[0], n=rank[1])
    if chart.id.startswith("series-") and frame is not None and len(frame.columns) >= 2:
        year = frame.columns[0]
        parts = []
        for col in frame.columns[1:3]:
            known = frame[frame[col].notna()]
            if len(known) >= 2:
                first, last = known.iloc[0], known.iloc[-1]
                parts.append(t("pub.alt.series", lang, who=col, first=fmt.number(first[col], 0, lang=lang),
                               y0=int(first[year]), last=fmt.number(last[col], 0, lang=lang), y1=int(last[year])))
        if parts:
            return "; ".join(parts) + "."
    if frame is not None and len(frame.columns) == 2 and 0 < len(frame) <= 12:
        unit = str(frame.columns[1])
        parts = [f"{r[0]}: {fmt.number(r[1], _decimals(frame.iloc[:, 1]) or 0, lang=lang)}"
                 for r in frame.itertuples(index=False)]
        return f"{unit} – " + "; ".join(parts) + "."
    return t("pub.alt.table", lang)


def _series_chart(state: st.State, service: str) -> figures.Chart | None:
    """The service's net spending per resident over the years, the municipality against its peers."""
    frame = queries.service_timeseries(state, service)
    if frame is None or frame["value"].notna().sum() < 2:
        return None
    lang = state.lang
    years = frame.loc[frame["value"].notna(), "year"]
    span = f"{int(years.min())}–{int(years.max())}"
    caption = figures.source_line(queries.tables(), ["12362", "07459"], span, queries.peers_label(state),
                                  queries.konv_label(state), t("rep.not_need_corrected", lang), lang)
    sname = queries.service_name(service, lang)
    title = t("pub.series_title", lang, service=sname, peers=queries.peers_label(state))
    return figures.timeseries(frame, data.meta().name(state.kommune), queries.peers_label(state), title,
                              t("rep.unit_kr_per_resident", lang), caption, chart_id=f"series-{service}", lang=lang)


def _map_chart(state: st.State) -> figures.Chart | None:
    """The Kart page's default map (net spending per resident, every municipality), boundaries by name in
    window.PlotlyGeoAssets; None when the indicator has no figure at all or the database has no boundaries."""
    lang = state.lang
    ind = next((i for i in queries.all_indicators() if i.id == MAP_INDICATOR), None)
    if ind is None:
        return None
    panel = data.get_panel()
    comp = queries.indicator_components(panel, ind, state.aar)
    codes = list(panel.municipalities)
    frame = pd.DataFrame({"region": codes, "name": [panel.name(c) for c in codes],
                          "value": np.asarray(comp.value, dtype=float), "status": list(comp.status)})
    have, missing = frame[frame["value"].notna()], frame[frame["value"].isna()]
    if not len(have):
        return None
    unit, d = ind.unit, int(ind.decimals)

    def hover(v, status):
        return fmt.missing_label(status, lang) if fmt.is_missing(v) else f"{fmt.number(v, d, lang=lang)} {unit}"

    fig = go.Figure()
    fig.add_trace(go.Choropleth(
        geojson=GEO_KEYS["kommune"], locations=have["region"], z=have["value"],
        zmin=float(have["value"].quantile(0.02)), zmax=float(have["value"].quantile(0.98)), colorscale="Blues",
        marker_line_color="#FFFFFF", marker_line_width=0.4,
        customdata=np.stack([have["name"], [hover(v, None) for v in have["value"]]], axis=-1),
        hovertemplate="%{customdata[0]} (%{location})<br>%{customdata[1]}<extra></extra>",
        colorbar=dict(title=dict(text=unit, side="top"), thickness=16, len=0.7, x=0.98,
                      tickformat=",." + str(d) + "f"), showlegend=False))
    if len(missing):
        fig.add_trace(go.Choropleth(
            geojson=GEO_KEYS["kommune"], locations=missing["region"], z=np.zeros(len(missing)),
            colorscale=[[0, "#D3D7DC"], [1, "#D3D7DC"]], showscale=False, marker_line_color="#FFFFFF",
            customdata=np.stack([missing["name"], [hover(None, s) for s in missing["status"]]], axis=-1),
            hovertemplate="%{customdata[0]} (%{location})<br>%{customdata[1]}<extra></extra>",
            name=t("map.no_figure_grey", lang), showlegend=True))
    counties = sorted({str(r)[:2] for r in frame["region"]})
    fig.add_trace(go.Choropleth(
        geojson=GEO_KEYS["fylke"], locations=counties, z=np.zeros(len(counties)),
        colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]], showscale=False, marker_line_color="#3E4C59",
        marker_line_width=1.4, hoverinfo="skip", showlegend=False))
    own = frame[frame["region"] == state.kommune]
    if len(own):
        row = own.iloc[0]
        fig.add_trace(go.Choropleth(
            geojson=GEO_KEYS["kommune"], locations=[state.kommune], z=[0],
            colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]], showscale=False,
            marker=dict(line=dict(color=figures.HIGHLIGHT, width=3.5)),
            customdata=[[row["name"], hover(row["value"], row["status"])]],
            hovertemplate="%{customdata[0]} (%{location})<br>%{customdata[1]}<extra></extra>",
            name=str(row["name"]), showlegend=True))
    fig.update_geos(fitbounds="locations", visible=False, projection_type="mercator", bgcolor="white")
    fig.update_layout(template=figures.TEMPLATE_NAME, height=820, margin=dict(l=0, r=0, t=8, b=0),
                      separators=t("fmtx.separators", lang),
                      legend=dict(orientation="h", x=0, y=0, yanchor="bottom", bgcolor="rgba(255,255,255,0.8)"))
    tables = [x for x in str(ind.table).replace("+", ",").split(",") if x] + ["07459"]
    caption = figures.source_line(queries.tables(), tables, state.aar, lang=lang)
    title = f"{ind.name(lang)}, {state.aar}"
    table = pd.DataFrame({t("map.col_region", lang): frame["region"], t("map.col_name", lang): frame["name"],
                          t("map.col_value", lang, unit=unit): frame["value"],
                          t("map.col_status", lang): frame["status"]})
    notes = []
    if len(missing):
        notes.append(t("map.grey_note", lang, n=len(missing)))
    notes.append(t("map.credit", lang))
    chart = figures.Chart("kart", title, fig, table, caption, notes)
    ranked = have.sort_values("value", ascending=False)["region"].tolist()
    if len(own) and state.kommune in ranked:
        chart.site_summary = t("pub.alt.rank", lang, name=own.iloc[0]["name"],  # type: ignore[attr-defined]
                               value=fmt.number(own.iloc[0]["value"], d, lang=lang), unit=unit,
                               rank=ranked.index(state.kommune) + 1, n=len(ranked))
    return chart


@dataclass
class Goals:
    """The «Mål og indikatorer» page's content: the view (drivers.report.goals), each indicator's chart (None
    where it has no figure), and the status table for download."""

    view: object
    charts: dict[tuple[int, int], Figure]
    table: pd.DataFrame


def _goals(state: st.State) -> tuple[Goals | None, list[LeftOut]]:
    """The indikatorsett against the view's figures; None without a goals module or with no goals in the file."""
    try:
        from drivers.report import goals as goalview
    except ImportError:  # an older checkout without the goals view: no page
        return None, []
    lang = state.lang
    v = goalview.view(state)
    if not v.goals:
        return None, []
    charts: dict[tuple[int, int], Figure] = {}
    left: list[LeftOut] = []
    for i, goal in enumerate(v.goals):
        for j, row in enumerate(goal.rows):
            frame = goalview.chart_frame(row)
            known = frame[frame["value"].notna()] if "value" in frame else frame.iloc[0:0]
            if not len(known):
                left.append(LeftOut(f"{row.name} ({t('pub.goals', lang)})", row.rule, row.fetch))
                continue
            span = f"{int(known['year'].min())}–{int(known['year'].max())}"
            caption = figures.source_line(queries.tables(), list(row.tables), span, v.peers_label,
                                          queries.konv_label(state), None, lang)
            chart = figures.timeseries(frame, data.meta().name(state.kommune), v.peers_label, row.name,
                                       row.unit, caption, norm=row.norm, decimals=row.decimals,
                                       chart_id=f"maal-{i + 1}-{j + 1}", lang=lang)
            summary = summary_of(chart, state)
            charts[(i, j)] = Figure(chart, f"{chart.title}. {summary}", summary, "maal.html")
    return Goals(v, charts, goalview.status_frame(state)), left


# ---- HTML ---------------------------------------------------------------------------------------------


class _Lang:
    """One language's pages: the view, where it sits in the site (prefix), and its counterpart's folder."""

    def __init__(self, state: st.State, root_lang: str, langs: tuple[str, ...], look: xtheme.Theme, logo: str | None):
        self.state = state
        self.lang = state.lang
        self.prefix = "" if state.lang == root_lang else f"{state.lang}/"
        self.up = "" if not self.prefix else "../"
        self.root_lang = root_lang
        self.langs = langs
        self.look = look
        self.logo = logo
        self.name = data.meta().name(state.kommune)

    def w(self, key: str, **values) -> str:
        return t(key, self.lang, **values)

    def other_links(self, page: str) -> str:
        links = []
        for code in self.langs:
            if code == self.lang:
                continue
            href = (f"{code}/" if code != self.root_lang else "") if not self.prefix else (
                "../" + (f"{code}/" if code != self.root_lang else ""))
            label = t("lang_name", code)
            links.append(f'<a href="{esc(href + page)}" hreflang="{esc(code)}" lang="{esc(code)}">{esc(label)}</a>')
        return " ".join(links)


def _page(ctx: _Lang, page: str, title: str, body: str, crumbs: list[tuple[str, str | None]],
          scripts: tuple[str, ...] = ()) -> str:
    up = ctx.up
    logo = (f'<img class="logo" src="{esc(up + ctx.logo)}" alt="{esc(ctx.look.name)}">' if ctx.logo else "")
    nav = " <span aria-hidden=\"true\">›</span> ".join(
        f'<a href="{esc(href)}">{esc(label)}</a>' if href else f'<span aria-current="page">{esc(label)}</span>'
        for label, href in crumbs)
    tags = "".join(f'<script src="{esc(up)}assets/{esc(s)}"></script>\n' for s in scripts)
    made = datetime.now(UTC).strftime("%d.%m.%Y")
    return f"""<!DOCTYPE html>
<html lang="{esc(ctx.lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{esc(up)}assets/theme.css">
<link rel="stylesheet" href="{esc(up)}assets/site.css">
</head>
<body>
<a class="skip" href="#main">{esc(ctx.w("pub.skip"))}</a>
<header class="site-head">
<div class="brand">{logo}<a class="site-name" href="index.html">{esc(ctx.w("pub.site_name", name=ctx.name, year=ctx.state.aar))}</a></div>
<nav class="lang" aria-label="{esc(ctx.w("pub.lang_nav"))}">{ctx.other_links(page)}</nav>
</header>
<nav class="crumbs" aria-label="{esc(ctx.w("pub.crumbs"))}">{nav}</nav>
<main id="main" tabindex="-1">
{body}
</main>
<footer class="site-foot">
<p>{esc(ctx.w("pub.footer", licence=LICENCE, date=made))}</p>
<p>{esc(ctx.w("pub.footer_symbols"))}</p>
</footer>
<script src="{esc(up)}assets/plotly.min.js"></script>
{tags}<script src="{esc(up)}assets/site.js"></script>
</body>
</html>
"""


def _table(frame: pd.DataFrame, ctx: _Lang, caption: str, links: dict[int, str] | None = None,
           table_id: str | None = None) -> str:
    """A data frame as a sortable HTML table: a button in each header cell (keyboard), numbers right-aligned,
    each cell's sort key in data-sort; `links` makes the first cell of row i a link."""
    links = links or {}
    heads, kinds = [], []
    for col in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(frame[col])
        kinds.append(("num", _decimals(frame[col])) if numeric else ("text", 0))
        cls = ' class="num"' if numeric else ""
        heads.append(f'<th scope="col"{cls} aria-sort="none"><button type="button" class="sort" '
                     f'data-type="{"num" if numeric else "text"}">{esc(col)}</button></th>')
    rows = []
    for i, row in enumerate(frame.itertuples(index=False, name=None)):
        cells = []
        for j, (value, (kind, dec)) in enumerate(zip(row, kinds, strict=False)):
            shown, key = _cell_text(value, dec, ctx.lang) if kind == "num" else (
                (fmt.MISSING, "") if value is None or (isinstance(value, float) and math.isnan(value)) else
                (str(value), str(value).lower()))
            content = esc(shown)
            if j == 0 and i in links:
                content = f'<a href="{esc(links[i])}">{content}</a>'
            tag = "th" if j == 0 else "td"
            scope = ' scope="row"' if j == 0 else ""
            cls = ' class="num"' if kind == "num" else ""
            cells.append(f'<{tag}{scope}{cls} data-sort="{esc(key)}">{content}</{tag}>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    tid = f' id="{esc(table_id)}"' if table_id else ""
    return (f'<div class="table-wrap"><table class="sortable"{tid}>'
            f'<caption>{esc(caption)} <span class="hint">{esc(ctx.w("pub.sort_hint"))}</span></caption>'
            f'<thead><tr>{"".join(heads)}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def _figure(ctx: _Lang, f: Figure, look: xtheme.Theme, level: int = 3, detail_link: bool = True,
            table: str = "details", heading: bool = True) -> str:
    """A chart block: heading (the chart's title), the plotly chart (role=img, aria label), its source line,
    notes, the CSV link and the numbers (a table, folded or open)."""
    c = f.chart
    sid = f.slug
    if c is None:
        points = "".join(f"<li>{esc(x)}</li>" for x in f.lines)
        return (f'<section class="text-block" aria-labelledby="h-{esc(sid)}"><h{level} id="h-{esc(sid)}">'
                f'{esc(f.title)}</h{level}>' + (f'<ul class="points">{points}</ul>' if points else "")
                + (f'<p class="story">{esc(f.notes)}</p>' if f.notes else "") + "</section>")
    spec_dict = _figure_dict(getattr(c, "browser_figure", None) or c.figure, look)
    spec = _json_for_script(spec_dict)
    height = int(spec_dict["layout"].get("height") or 440)
    notes = "".join(f"<li>{esc(n)}</li>" for n in (c.notes or []))
    notes_html = f'<ul class="notes">{notes}</ul>' if notes else ""
    links = [f'<a href="data/{esc(sid)}.csv" download>{esc(ctx.w("pub.csv"))}</a>']
    if detail_link:
        links.append(f'<a href="figur-{esc(sid)}.html">{esc(ctx.w("pub.detail"))}</a>')
    numbers = _table(c.data, ctx, ctx.w("pub.table_caption", title=c.title), table_id=f"t-{sid}")
    if table == "details":
        numbers = f'<details class="numbers"><summary>{esc(ctx.w("pub.show_numbers"))}</summary>{numbers}</details>'
    key = (f'<p class="key">{esc(f.key)}' + (f' <span class="key-label">{esc(f.key_label)}</span>' if f.key_label
                                               else "") + "</p>") if f.key else ""
    text = f'<p class="story">{esc(f.notes)}</p>' if f.notes else ""
    head = f'<h{level} id="h-{esc(sid)}">{esc(f.title or c.title)}</h{level}>\n' if heading else ""
    sub = f'<p class="chart-title">{esc(c.title)}</p>' if f.title and f.title != c.title else ""
    return f"""<section class="figure-block" aria-labelledby="h-{esc(sid)}">
{head}{key}{text}<figure>
{sub}<div class="chart" id="c-{esc(sid)}" data-fig="f-{esc(sid)}" role="img" aria-label="{esc(f.alt)}" aria-describedby="s-{esc(sid)}" style="min-height:{height}px"></div>
<script type="application/json" id="f-{esc(sid)}">{spec}</script>
<figcaption>
<p class="summary" id="s-{esc(sid)}">{esc(f.summary)}</p>
<p class="source">{esc(c.caption)}</p>
{notes_html}<p class="links">{" · ".join(links)}</p>
</figcaption>
</figure>
{numbers}
</section>"""


# ---- the pages ----------------------------------------------------------------------------------------


def _figures_for(state: st.State) -> tuple:
    """(storyline figures in order, service -> its figures, the map, what was left out, the goals) for one
    language."""
    lang = state.lang
    slides = story.build(state)
    left: list[LeftOut] = story.left_out(state)
    story_figs: list[Figure] = []
    for slide in slides:
        c = slide.chart
        title, key = getattr(slide, "title", None) or None, getattr(slide, "key", None) or None
        key_label, lines = getattr(slide, "key_label", None) or None, tuple(getattr(slide, "lines", ()) or ())
        if c is None:  # a text slide: its points, no chart
            if lines or slide.notes:
                story_figs.append(Figure(None, "", "", "index.html", title, None if lines else slide.notes, key,
                                         slide.section, key_label, lines))
            continue
        summary = summary_of(c, state)
        alt = getattr(slide, "alt", None) or f"{c.title}. {summary}"
        story_figs.append(Figure(c, alt, summary, "index.html", title, slide.notes, key, slide.section, key_label))
    by_id = {c.id: c for c in story.all_charts(state)}
    services: dict[str, list[Figure]] = {}
    for service in queries.SERVICES:
        page = f"tjeneste-{service}.html"
        charts = [by_id.get(f"rank-{service}"), _series_chart(state, service), by_id.get(f"decomp-{service}")]
        figs = []
        for c in charts:
            if c is None:
                continue
            summary = summary_of(c, state)
            figs.append(Figure(c, f"{c.title}. {summary}", summary, page))
        if figs:
            services[service] = figs
        else:
            left.append(LeftOut(queries.service_name(service, lang), t("pub.no_service_figures", lang),
                                queries.fetch_command(service)))
    map_fig = None
    if not _has_boundaries():
        left.append(LeftOut(t("pub.map", lang), t("pub.no_boundaries", lang), "drivers snapshot build"))
    else:
        chart = _map_chart(state)
        if chart is None:
            left.append(LeftOut(t("pub.map", lang), t("pub.no_map_values", lang, year=state.aar),
                                "drivers fetch --tables 12362"))
        else:
            summary = summary_of(chart, state)
            map_fig = Figure(chart, f"{chart.title}. {summary}", summary, "kart.html")
    goals, goals_left = _goals(state)
    return story_figs, services, map_fig, [*left, *goals_left], goals


def _goals_page(ctx: _Lang, g: Goals) -> str:
    v = g.view
    parts = [f"<h1>{esc(ctx.w('pub.goals_title', name=ctx.name, year=ctx.state.aar))}</h1>"]
    if v.title:
        parts.append(f'<p class="lead">{esc(v.title)}</p>')
    if v.about:
        parts.append(f"<p>{esc(v.about)}</p>")
    if v.example:
        parts.append(f'<p class="note" role="note">{esc(ctx.w("pub.goals_example"))}</p>')
    if v.problems:
        parts.append(f'<div class="note" role="note"><p>{esc(ctx.w("pub.goals_problems", file=v.file))}</p><ul>'
                     + "".join(f"<li>{esc(p)}</li>" for p in v.problems) + "</ul></div>")
    parts.append(f'<p><a href="data/maal.csv" download>{esc(ctx.w("pub.goals_csv"))}</a></p>')
    for i, goal in enumerate(v.goals):
        parts.append(f'<section aria-labelledby="goal-{i + 1}"><h2 id="goal-{i + 1}">{esc(goal.text)}</h2>'
                     f'<p class="key-label">{esc(goal.summary)}</p>')
        about = [x for x in (goal.owner and ctx.w("pub.goals_owner", owner=goal.owner),
                             goal.target_year and ctx.w("pub.goals_year", year=goal.target_year)) if x]
        if about:
            parts.append(f"<p>{esc(' · '.join(about))}</p>")
        table = pd.DataFrame({
            t("goal.col.indicator", ctx.lang): [r.name for r in goal.rows],
            t("goal.col.value", ctx.lang): [r.value_text for r in goal.rows],
            t("goal.col.year", ctx.lang): pd.array([r.year for r in goal.rows], dtype="Int64"),
            t("goal.col.target", ctx.lang): [r.target_text for r in goal.rows],
            t("goal.col.status", ctx.lang): [r.status_text for r in goal.rows],
            t("goal.col.rule", ctx.lang): [r.rule for r in goal.rows]})
        parts.append(_table(table, ctx, ctx.w("pub.goals_table", goal=goal.text), table_id=f"t-goal-{i + 1}"))
        for j, _row in enumerate(goal.rows):
            f = g.charts.get((i, j))
            if f is not None:
                parts.append(_figure(ctx, f, ctx.look, level=3))
        parts.append("</section>")
    crumbs = [(ctx.w("pub.overview"), "index.html"), (ctx.w("pub.goals"), None)]
    return _page(ctx, "maal.html", f"{ctx.w('pub.goals')} – {ctx.name} {ctx.state.aar}", "\n".join(parts), crumbs)


def _index(ctx: _Lang, story_figs: list[Figure], services: dict[str, list[Figure]], map_fig: Figure | None,
           left: list[LeftOut], notes: list[str], goals: Goals | None = None) -> str:
    state, lang = ctx.state, ctx.lang
    parts = [f"<h1>{esc(ctx.w('pub.index_title', name=ctx.name, year=state.aar))}</h1>",
             f'<p class="lead">{esc(story.heading(state))}</p>']
    parts += [f'<p class="note" role="note">{esc(n)}</p>' for n in notes]
    toc = ['<nav class="toc" aria-labelledby="toc-h"><h2 id="toc-h">' + esc(ctx.w("pub.toc")) + "</h2><ul>"]
    sections: list[tuple[str, list[Figure]]] = []
    for f in story_figs:
        sec = f.section or ""
        if sections and sections[-1][0] == sec:
            sections[-1][1].append(f)
        else:
            sections.append((sec, [f]))
    for i, (sec, _figs) in enumerate(sections):
        toc.append(f'<li><a href="#sec-{i}">{esc(sec)}</a></li>')
    toc.append(f'<li><a href="#tjenester">{esc(ctx.w("pub.services"))}</a></li>')
    if goals is not None:
        toc.append(f'<li><a href="maal.html">{esc(ctx.w("pub.goals"))}</a></li>')
    if map_fig is not None:
        toc.append(f'<li><a href="kart.html">{esc(ctx.w("pub.map"))}</a></li>')
    if left:
        toc.append(f'<li><a href="#utelatt">{esc(ctx.w("pub.left_out"))}</a></li>')
    toc.append("</ul></nav>")
    parts.append("".join(toc))
    for i, (sec, figs) in enumerate(sections):
        parts.append(f'<section class="story-section" aria-labelledby="sec-{i}-h" id="sec-{i}">'
                     f'<h2 id="sec-{i}-h">{esc(sec)}</h2>')
        for f in figs:
            parts.append(_figure(ctx, f, ctx.look))
            service = next((s for s in services if f.chart is not None
                            and f.chart.id.lower().endswith("-" + s.lower())), None)
            if service:
                parts.append(f'<p class="more"><a href="tjeneste-{esc(service)}.html">'
                             f'{esc(ctx.w("pub.more_service", service=queries.service_name(service, lang)))}</a></p>')
        parts.append("</section>")
    parts.append(_services_table(ctx, services))
    if goals is not None:
        items = "".join(f'<li><a href="maal.html#goal-{i + 1}">{esc(g.text)}</a>: {esc(g.summary)}</li>'
                        for i, g in enumerate(goals.view.goals))
        parts.append(f'<section aria-labelledby="maal-h"><h2 id="maal-h">{esc(ctx.w("pub.goals"))}</h2>'
                     f'<ul>{items}</ul></section>')
    if map_fig is not None:
        parts.append(f'<section aria-labelledby="kart-h"><h2 id="kart-h">{esc(ctx.w("pub.map"))}</h2>'
                     f'<p><a href="kart.html">{esc(ctx.w("pub.map_link", title=map_fig.chart.title))}</a></p></section>')
    if left:
        items = []
        for item in left:
            text = f"<strong>{esc(item.title)}</strong>: {esc(item.reason)}"
            if item.command:
                text += " " + esc(ctx.w("pub.fetch_with")) + f" <code>{esc(item.command)}</code>"
            items.append(f"<li>{text}</li>")
        parts.append(f'<section id="utelatt" aria-labelledby="utelatt-h"><h2 id="utelatt-h">'
                     f'{esc(ctx.w("pub.left_out"))}</h2><p>{esc(ctx.w("pub.left_out_intro"))}</p>'
                     f'<ul>{"".join(items)}</ul></section>')
    title = ctx.w("pub.index_title", name=ctx.name, year=state.aar)
    return _page(ctx, "index.html", title, "\n".join(parts), [(ctx.w("pub.overview"), None)])


def _services_table(ctx: _Lang, services: dict[str, list[Figure]]) -> str:
    state, lang = ctx.state, ctx.lang
    g = queries.gaps(state)
    rows = g[g["service"].isin(queries.SERVICES)].copy()
    rows["order"] = rows["service"].map({s: i for i, s in enumerate(queries.SERVICES)})
    rows = rows.sort_values("order")
    frame = pd.DataFrame({
        ctx.w("pub.col_service"): [queries.service_name(s, lang) for s in rows["service"]],
        ctx.w("pub.col_own", name=ctx.name): rows["per_resident"].astype(float).round(0).to_numpy(),
        ctx.w("pub.col_peers", peers=queries.peers_label(state)): rows["peer_per_resident"].astype(float).round(0).to_numpy(),
        ctx.w("pub.col_gap"): (rows["gap_nok"].astype(float) / 1e6).round(1).to_numpy(),
    })
    links = {i: f"tjeneste-{s}.html" for i, s in enumerate(rows["service"]) if s in services}
    table = _table(frame, ctx, ctx.w("pub.services_caption", peers=queries.peers_label(state), year=state.aar),
                   links, table_id="t-tjenester")
    return (f'<section id="tjenester" aria-labelledby="tjenester-h"><h2 id="tjenester-h">{esc(ctx.w("pub.services"))}'
            f'</h2><p>{esc(ctx.w("pub.services_intro"))}</p>{table}</section>')


def _service_page(ctx: _Lang, service: str, figs: list[Figure], story_figs: list[Figure]) -> str:
    state, lang = ctx.state, ctx.lang
    sname = queries.service_name(service, lang)
    g = queries.gaps(state)
    row = g[g["service"] == service]
    parts = [f"<h1>{esc(ctx.w('pub.service_title', service=sname, name=ctx.name, year=state.aar))}</h1>"]
    if len(row):
        r = row.iloc[0]
        facts = [(ctx.w("pub.col_own", name=ctx.name), fmt.kr(r["per_resident"], lang=lang)),
                 (ctx.w("pub.col_peers", peers=queries.peers_label(state)), fmt.kr(r["peer_per_resident"], lang=lang)),
                 (ctx.w("pub.col_gap"), fmt.mill_kr(r["gap_nok"], sign=True, lang=lang))]
        parts.append('<dl class="facts">' + "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>"
                                                    for k, v in facts) + "</dl>")
    told = next((f for f in story_figs if f.chart is not None and f.notes
                 and f.chart.id.lower().endswith("-" + service.lower())), None)
    if told is not None:
        parts.append(f'<section aria-labelledby="story-h"><h2 id="story-h">{esc(ctx.w("pub.from_story"))}</h2>'
                     f'<p class="story">{esc(told.notes)}</p></section>')
    parts.append(f'<h2 id="figs-h">{esc(ctx.w("pub.figures"))}</h2>')
    for f in figs:
        parts.append(_figure(ctx, f, ctx.look, level=3))
    title = f"{sname} – {ctx.name} {state.aar}"
    crumbs = [(ctx.w("pub.overview"), "index.html"), (ctx.w("pub.services"), "index.html#tjenester"), (sname, None)]
    return _page(ctx, f"tjeneste-{service}.html", title, "\n".join(parts), crumbs)


def _map_page(ctx: _Lang, f: Figure) -> str:
    parts = [f"<h1>{esc(ctx.w('pub.map_title', title=f.chart.title))}</h1>",
             f"<p>{esc(ctx.w('pub.map_intro', name=ctx.name))}</p>",
             _figure(ctx, f, ctx.look, level=2, detail_link=False)]
    crumbs = [(ctx.w("pub.overview"), "index.html"), (ctx.w("pub.map"), None)]
    return _page(ctx, "kart.html", f"{ctx.w('pub.map')} – {ctx.name} {ctx.state.aar}", "\n".join(parts), crumbs,
                 scripts=("geo.js",))


def _detail_page(ctx: _Lang, f: Figure, parent_label: str) -> str:
    # the page's h1 is the block's heading (the storyline's message title, else the chart's title)
    parts = [f'<h1 id="h-{esc(f.slug)}">{esc(f.title or f.chart.title)}</h1>',
             _figure(ctx, f, ctx.look, detail_link=False, table="open", heading=False)]
    crumbs = [(ctx.w("pub.overview"), "index.html")]
    if f.parent != "index.html":
        crumbs.append((parent_label, f.parent))
    crumbs.append((ctx.w("pub.detail_crumb"), None))
    return _page(ctx, f"figur-{f.slug}.html", f"{f.chart.title} – {ctx.name}", "\n".join(parts), crumbs)


# ---- publish --------------------------------------------------------------------------------------------


def _logo(look: xtheme.Theme, assets: Path) -> str | None:
    if look.logo is None or not Path(look.logo).is_file():
        return None
    name = "logo" + Path(look.logo).suffix.lower()
    shutil.copyfile(look.logo, assets / name)
    return f"assets/{name}"


def _write(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")


def publish(state: st.State, out_dir, *, theme: xtheme.Theme | None = None, progress=None,
            languages: tuple[str, ...] | None = None) -> Site:
    """Write the view's analysis as a static site into `out_dir` (see the module docstring); returns what was
    written. `languages`: all of i18n.LANGS by default, the view's language at the top."""
    out = check_out(Path(out_dir), state.lang)
    look = theme or xtheme.load()
    return _publish(state, out, look, progress, languages)


def _publish(state: st.State, out: Path, look: xtheme.Theme, progress, languages) -> Site:
    root_lang = state.lang
    langs = tuple(dict.fromkeys([root_lang, *(languages or i18n.LANGS)]))
    prepare = getattr(story, "prepare", None)
    notes_by_lang: dict[str, list[str]] = {}
    views: dict[str, st.State] = {}
    for code in langs:
        view = state.with_(lang=code)
        note = None
        if prepare is not None:
            view, note = prepare(view)
        views[code] = view
        notes_by_lang[code] = [note] if note else []
    parent = out.resolve().parent
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    site = Site(out, languages=langs)
    try:
        os.chmod(tmp, 0o755)
        assets = tmp / "assets"
        assets.mkdir()
        shutil.copyfile(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", assets / "plotly.min.js")
        for name in ("site.css", "site.js"):
            shutil.copyfile(ASSETS / name, assets / name)
        _write(assets / "theme.css", theme_css(look))
        logo = _logo(look, assets)
        built = {code: _figures_for(views[code]) for code in langs}
        if any(b[2] is not None for b in built.values()):
            _write(assets / "geo.js", _geo_script())
        total = sum(sum(f.chart is not None for f in b[0]) + sum(len(v) for v in b[1].values()) + (b[2] is not None)
                    + (len(b[4].charts) if b[4] is not None else 0) for b in built.values())
        done = 0
        for code in langs:
            view = views[code]
            story_figs, services, map_fig, left, goals = built[code]
            left = story.once(left)
            ctx = _Lang(view, root_lang, langs, look, logo)
            base = tmp / ctx.prefix if ctx.prefix else tmp
            pages: dict[str, str] = {}
            pages["index.html"] = _index(ctx, story_figs, services, map_fig, left, notes_by_lang[code], goals)
            detail: dict[str, tuple[Figure, str]] = {}
            for f in story_figs:
                if f.chart is not None:
                    detail.setdefault(f.slug, (f, ctx.w("pub.overview")))
            for service, figs in services.items():
                pages[f"tjeneste-{service}.html"] = _service_page(ctx, service, figs, story_figs)
                for f in figs:
                    detail.setdefault(f.slug, (f, queries.service_name(service, code)))
            if map_fig is not None:
                pages["kart.html"] = _map_page(ctx, map_fig)
            if goals is not None:
                pages["maal.html"] = _goals_page(ctx, goals)
                for f in goals.charts.values():
                    detail.setdefault(f.slug, (f, ctx.w("pub.goals")))
                _write(base / "data" / "maal.csv", xtables.to_csv(figures.Chart("maal", "", None, goals.table, "")))
            for slug, (f, parent_label) in detail.items():
                pages[f"figur-{slug}.html"] = _detail_page(ctx, f, parent_label)
            csvs = {f.slug: f.chart for f, _ in detail.values()}
            if map_fig is not None:
                csvs[map_fig.slug] = map_fig.chart
            for slug, chart in csvs.items():
                _write(base / "data" / f"{slug}.csv", xtables.to_csv(chart))
                done += 1
                if progress is not None:
                    progress(min(done, total), total)
            for name, text in pages.items():
                _write(base / name, text)
                site.pages.append(ctx.prefix + name)
            if code == root_lang:
                site.count = len(csvs)
                site.left_out = left
                site.notes = notes_by_lang[code]
        manifest = {"generator": "drivers publish", "region": state.kommune, "year": state.aar,
                    "peers": str(views[root_lang].peers), "convention": state.konv, "languages": list(langs),
                    "made": datetime.now(UTC).isoformat(timespec="seconds"), "pages": site.pages,
                    "left_out": [{"title": x.title, "reason": x.reason, "command": x.command} for x in site.left_out]}
        _write(tmp / MARKER, json.dumps(manifest, ensure_ascii=False, indent=1))
        if progress is not None:
            progress(total, total)
        _swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return site
