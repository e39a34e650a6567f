"""Charts: one plotly template and one function per chart, DataFrame in, `Chart` out (pure; no Dash, no DuckDB).

The template is made for a projector: large type, few lines, a colour-blind-safe palette (Okabe-Ito),
neutral blues and greys for cost (more spending is not painted as "bad"), and one fixed highlight colour
(vermillion) that always means "the selected municipality". Numbers use the chart language's marks (bokmål:
decimal comma, space for thousands; English "1,234.5") through the layout's `separators` (words "fmtx.separators").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from drivers import chartmargins, fmt, i18n, provenance

# Our maps draw only their own boundaries (geo.visible=False), yet plotly.js fetches a base-map topojson for every
# geo subplot; this empty topology, served locally, stands in for all of them (dashboard and static export alike).
EMPTY_TOPOLOGY = {
    "type": "Topology", "arcs": [],
    "objects": {name: {"type": "GeometryCollection", "geometries": []}
                for name in ("coastlines", "land", "ocean", "lakes", "rivers", "countries", "subunits")},
}

# Okabe & Ito (2008), "Color Universal Design"
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#56B4E9", "#CC79A7", "#F0E442", "#D55E00", "#000000"]
HIGHLIGHT = "#D55E00"  # the selected municipality, everywhere
PEER = "#0072B2"  # the peer average / reference
COST = "#56B4E9"  # neutral cost bars
NEUTRAL = "#A0A7B0"  # other municipalities
MORE = "#0072B2"  # spends more than peers (neutral blue, not red)
LESS = "#A0A7B0"  # spends less than peers (grey, not green)
NORM = "#009E73"  # a recommended level
GRID = "#E3E6EA"
FONT = "Inter, 'Source Sans 3', 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

TEMPLATE_NAME = "drivers"


def _template() -> go.layout.Template:
    t = go.layout.Template()
    t.layout = go.Layout(
        font=dict(family=FONT, size=17, color="#1F2933"),
        title=dict(font=dict(size=22), x=0, xanchor="left", y=0.97),
        colorway=OKABE_ITO,
        separators=", ",
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin=dict(l=16, r=24, t=56, b=40),
        hoverlabel=dict(font=dict(size=16, family=FONT)),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0, font=dict(size=16)),
        # ",~f": space thousands and decimal comma through `separators`, no SI suffixes ("12 500", not "12.5k")
        xaxis=dict(showgrid=False, linecolor="#9AA5B1", ticks="outside", tickfont=dict(size=16), automargin=True,
                   tickformat=",~f"),
        yaxis=dict(gridcolor=GRID, zerolinecolor="#9AA5B1", tickfont=dict(size=16), automargin=True, tickformat=",~f"),
    )
    return t


pio.templates[TEMPLATE_NAME] = _template()
# The project's one template is the default for every figure in the process. Besides consistency this is
# much faster: plotly's own default template is deep-copied into each new figure (~13 ms a figure).
pio.templates.default = TEMPLATE_NAME

_DEFAULT_COLORS = {"HIGHLIGHT": HIGHLIGHT, "PEER": PEER, "MORE": MORE}


def apply_theme(layout: dict | None = None, highlight: str | None = None, peer: str | None = None) -> None:
    """Register the template again with the municipality's look (drivers.export.theme) merged in: `layout`
    (font, text colour, background) over the defaults, and the theme's highlight and peer colours in place of
    vermillion and blue, in the colourway and in the figure functions alike (exactly the swap the exports make,
    so screen and print agree). No arguments: the default look. The app calls this once at start-up, before
    any figure is made: a figure copies the template when it is created."""
    global HIGHLIGHT, PEER, MORE
    HIGHLIGHT = highlight or _DEFAULT_COLORS["HIGHLIGHT"]
    PEER = peer or _DEFAULT_COLORS["PEER"]
    MORE = peer or _DEFAULT_COLORS["MORE"]  # "spends more" shares the peer blue, as in the exports' recolour
    swaps = {_DEFAULT_COLORS["HIGHLIGHT"]: HIGHLIGHT, _DEFAULT_COLORS["PEER"]: PEER}
    template = _template()
    template.layout.colorway = [swaps.get(c, c) for c in OKABE_ITO]
    if layout:
        template.layout.update(layout)
    pio.templates[TEMPLATE_NAME] = template


@dataclass
class Chart:
    """A chart and what it stands on. `data` has headers with units in the chart's language; `caption` names source
    and year."""

    id: str
    title: str
    figure: go.Figure
    data: pd.DataFrame
    caption: str
    notes: list[str] = field(default_factory=list)  # missing-value notes shown under the caption


def _layout(fig: go.Figure, title: str, height: int = 440, lang: str = "nb", **kw) -> go.Figure:
    # the language's decimal and thousands marks for ticks and hover labels ("1 234,5", "1,234.5")
    fig.update_layout(title=None, height=height, meta={"title": title}, separators=i18n.t("fmtx.separators", lang),
                      **kw)
    return fig


def _reference_line(fig: go.Figure, axis: str, at: float, line: dict, text: str | None = None,
                    position: str = "top", font: dict | None = None) -> None:
    """A vertical (axis "x") or horizontal ("y") line across the plot at `at`, with its label, exactly as
    fig.add_vline / add_hline(annotation_position=`position`: "top" for a vertical line, "top left" for a
    horizontal one) add them (the same figure JSON), in one layout update: measured, a rank chart with the peer
    line took ~24 ms (CPU) with add_vline, ~17 ms with this (plotly's add_vline walks the figure's subplots and
    validates each property step by step)."""
    other = "y" if axis == "x" else "x"
    shape = {"type": "line", f"{axis}0": at, f"{axis}1": at, f"{axis}ref": axis, f"{other}0": 0, f"{other}1": 1,
             f"{other}ref": f"{other} domain", "line": line}
    update = {"shapes": [*fig.layout.shapes, shape]}
    if text is not None:
        note = {"text": text, "showarrow": False, "font": font or {}, axis: at, f"{axis}ref": axis,
                f"{other}ref": f"{other} domain"}
        if axis == "x" and position == "top":
            note.update({other: 1, "xanchor": "center", "yanchor": "bottom"})
        elif axis == "y" and position == "top left":
            note.update({other: 0, "xanchor": "left", "yanchor": "bottom"})
        else:
            raise ValueError(f"no label position {position!r} for a line along {axis}")
        update["annotations"] = [*fig.layout.annotations, note]
    fig.update_layout(**update)


def source_line(tables: pd.DataFrame | None, table_ids: list[str], year: int | str | None,
                peers_label: str | None = None, konv_label: str | None = None, extra: str | None = None,
                lang: str = "nb") -> str:
    """'Kilde: SSB, KOSTRA tabell 12362 (snapshot …), 2024 · Sammenligning: … · Snitt: …'."""
    parts = []
    info = _table_info(tables)
    for tid in table_ids:
        text = i18n.t("fig.source_table", lang, table=tid)
        row = info.get(str(tid))
        if row is None and info:
            # the database records where its other tables come from, not this one (the snapshot's population,
            # 07459, is a third party's copy): not SSB's answer as far as we know
            text += ", " + i18n.t("fig.source_unrecorded", lang)
        elif row is not None and provenance.third_party(row):
            # a copy of SSB's figures, not SSB's answer: neither its date nor «endelig/foreløpig» is SSB's own
            text += ", " + i18n.t("wb.third_party", lang)
        elif row is not None:
            updated = row.get("updated")
            if updated is not None and not pd.isna(updated):
                text += ", " + i18n.t("fig.source_updated", lang, date=f"{pd.Timestamp(updated):%d.%m.%Y}")
            release = row.get("release")
            if isinstance(release, str) and release:
                word = i18n.t(_RELEASE[release], lang) if release in _RELEASE else release
                text += ", " + i18n.t("fig.source_release", lang, release=word)
        parts.append(text)
    line = i18n.t("fig.source", lang, tables="; ".join(parts))
    if year is not None:
        line += " · " + i18n.t("fig.source_year", lang, year=year)
    if peers_label:
        line += " · " + i18n.t("fig.source_peers", lang, peers=peers_label)
    if konv_label:
        line += " · " + i18n.t("fig.source_avg", lang, konv=konv_label)
    if extra:
        line += f" · {extra}"
    return line


# SSB's release words (table metadata, bokmål) -> their key, so each language names the release its own way
_RELEASE = {"endelig": "fig.release_final", "endelige": "fig.release_final_pl", "foreløpig": "fig.release_prelim",
            "foreløpige": "fig.release_prelim_pl"}

_TABLE_INFO: dict[int, tuple[pd.DataFrame, dict]] = {}


def _table_info(tables: pd.DataFrame | None) -> dict[str, dict]:
    """table_id -> provenance row, computed once per tables frame (the Panel's frame lives as long as the app)."""
    if tables is None or not len(tables) or "table_id" not in tables:
        return {}
    hit = _TABLE_INFO.get(id(tables))
    if hit is not None and hit[0] is tables:
        return hit[1]
    info = {str(r["table_id"]): r for r in tables.to_dict("records")}
    _TABLE_INFO[id(tables)] = (tables, info)
    return info


def gap_waterfall(gaps: pd.DataFrame, name: str, peers_label: str, caption: str, lang: str = "nb") -> Chart:
    """Per-service gap in NOK (own minus peers per resident × residents) as a waterfall ending in the sum.

    `gaps`: service, name (label), gap_nok. Rows without a gap are left out of the bars (listed in notes).
    """
    have = gaps[gaps["gap_nok"].notna()].copy()
    missing = gaps[gaps["gap_nok"].isna() & (gaps["service"] != "OTHER")]
    other = have[have["service"] == "OTHER"]  # the total minus the services: last, so the end bar is the total
    have = have[have["service"] != "OTHER"]
    have = pd.concat([have.reindex(have["gap_nok"].abs().sort_values(ascending=False).index), other])
    mill = have["gap_nok"] / 1e6
    total = float(mill.sum())
    end = i18n.t("fig.total_gap" if len(other) else "fig.sum_services", lang)
    fig = go.Figure(
        go.Waterfall(
            orientation="v",
            x=[*have["name"], end],
            y=[*mill, total],
            measure=["relative"] * len(have) + ["total"],
            text=[fmt.number(v, 1, lang=lang) for v in [*mill, total]],
            textposition="outside",
            textfont=dict(size=16),
            cliponaxis=False,  # the highest step's label may reach above the plot area: drawn, not cut
            increasing=dict(marker=dict(color=MORE)),
            decreasing=dict(marker=dict(color=LESS)),
            totals=dict(marker=dict(color=HIGHLIGHT)),
            connector=dict(line=dict(color="#9AA5B1", width=1)),
            hovertemplate="%{x}: %{y:,.1f} " + i18n.t("fig.mill_kr_short", lang) + "<extra></extra>",
        )
    )
    title = i18n.t("fig.waterfall_title", lang, name=name, peers=peers_label)
    _layout(fig, title, height=480, lang=lang, yaxis_title=i18n.t("fig.mill_kr", lang), showlegend=False)
    fig.update_xaxes(tickangle=-30)
    table = pd.DataFrame({
        i18n.t("fig.col_service", lang): [*have["name"], end],
        i18n.t("fig.col_gap", lang): [*mill.round(1), round(total, 1)],
    })
    notes = [f"{r['name']}: {i18n.reason_text(r.get('reason'), lang) or i18n.t('fig.no_figure', lang)}"
             for _, r in missing.iterrows()]
    chartmargins.reserve(fig, plot_width=900)  # a wide card
    return Chart("gap-waterfall", title, fig, table, caption, notes)


def timeseries(frame: pd.DataFrame, name: str, peers_label: str, title: str, unit: str, caption: str,
               norm: float | None = None, norm_label: str | None = None, decimals: int = 0,
               chart_id: str = "timeseries", lang: str = "nb") -> Chart:
    """`frame`: year, value, peer_value (either may be NaN). Selected municipality in the highlight colour.
    Years where both are missing are left out; a missing year between two known ones shows as a gap."""
    cols = ["value", "peer_value"] if "peer_value" in frame else ["value"]
    known = frame[cols].notna().any(axis=1).to_numpy()
    if known.any():  # leading and trailing empty years go; an empty year inside stays, as a gap in the line
        first, last = known.argmax(), len(known) - known[::-1].argmax()
        frame = frame.iloc[first:last]
    else:
        frame = frame.iloc[0:0]
    back = frame["backcast"].fillna(False).astype(bool).to_numpy() if "backcast" in frame else np.zeros(len(frame), bool)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=frame["year"], y=frame["value"], name=name, mode="lines+markers", connectgaps=False,
                             line=dict(color=HIGHLIGHT, width=4),
                             marker=dict(size=11, symbol=np.where(back, "circle-open", "circle").tolist())))
    if "peer_value" in frame and frame["peer_value"].notna().any():
        fig.add_trace(go.Scatter(x=frame["year"], y=frame["peer_value"], name=peers_label, mode="lines+markers",
                                 line=dict(color=PEER, width=3, dash="dot"), marker=dict(size=9)))
    if norm is not None:
        _reference_line(fig, "y", norm, dict(color=NORM, width=2, dash="dash"),
                        norm_label or fmt.number(norm, 1, lang=lang), "top left", dict(size=15, color=NORM))
    _layout(fig, title, lang=lang, yaxis_title=unit)
    fig.update_xaxes(dtick=1, tickformat="d")
    table = pd.DataFrame({i18n.t("fig.col_year", lang): frame["year"], f"{name} ({unit})": frame["value"]})
    if "peer_value" in frame:
        table[f"{peers_label} ({unit})"] = frame["peer_value"]
    notes = []
    if back.any():
        table[i18n.t("fig.col_backcast", lang)] = np.where(back, i18n.t("fig.yes", lang), "")
        years = ", ".join(str(int(y)) for y in frame["year"][back])
        notes.append(i18n.t("fig.backcast_note", lang, years=years))
    gaps = frame.loc[frame["value"].isna(), "year"]
    if len(gaps):
        notes.append(i18n.t("fig.gap_years", lang, years=", ".join(str(int(y)) for y in gaps)))
    chartmargins.reserve(fig)
    return Chart(chart_id, title, fig, table, caption, notes)


def peer_rank(frame: pd.DataFrame, selected: str, title: str, unit: str, caption: str, peer_value: float | None = None,
              peer_label: str | None = None, decimals: int = 0, chart_id: str = "peer-rank", lang: str = "nb",
              max_bars: int = 31) -> Chart:
    """Horizontal bars for every peer and the selected municipality, sorted; the selected one highlighted.

    `frame`: region, name, value, status. Missing values are not drawn as bars; they are listed in notes.
    With more than `max_bars` municipalities (e.g. the whole country) the chart shows the top ten, the bottom
    ten and the selected municipality with its neighbours; `data` keeps every row.
    """
    full = frame[frame["value"].notna()].sort_values("value")
    missing = frame[frame["value"].isna()]
    have = full
    shown_note = None
    if len(full) > max_bars:
        pos = list(full["region"]).index(selected) if selected in set(full["region"]) else None
        keep = set(range(10)) | set(range(len(full) - 10, len(full)))
        if pos is not None:
            keep |= set(range(max(0, pos - 4), min(len(full), pos + 5)))
        have = full.iloc[sorted(keep)]
        shown_note = i18n.t("fig.shown_of", lang, shown=len(have), n=len(full))
    colors = [HIGHLIGHT if r == selected else NEUTRAL for r in have["region"]]
    rank = None
    if selected in set(full["region"]):
        order = full.sort_values("value", ascending=False)["region"].tolist()
        rank = order.index(selected) + 1
    fig = go.Figure(go.Bar(
        x=have["value"], y=have["name"], orientation="h", marker_color=colors,
        text=[fmt.number(v, decimals, lang=lang) for v in have["value"]], textposition="outside", textfont=dict(size=14),
        hovertemplate="%{y}: %{x:,." + str(decimals) + "f} " + unit + "<extra></extra>", cliponaxis=False,
    ))
    if peer_value is not None and not fmt.is_missing(peer_value):
        _reference_line(fig, "x", peer_value, dict(color=PEER, width=3, dash="dot"),
                        _peer_label(peer_label, peer_value, unit, decimals, lang), "top", dict(size=15, color=PEER))
    if len(have):  # room for the value labels right of the longest bar
        lo, hi = float(min(0.0, have["value"].min())), float(max(0.0, have["value"].max()))
        fig.update_xaxes(range=[lo * 1.18, hi * 1.18 if hi > 0 else 1])
    height = max(360, 26 * len(have) + 120)
    _layout(fig, title, height=height, lang=lang, xaxis_title=unit, showlegend=False)
    fig.update_yaxes(tickfont=dict(size=14 if len(have) > 20 else 16))
    table = pd.DataFrame({i18n.t("fig.col_municipality", lang): full["name"][::-1], f"{unit}": full["value"][::-1]})
    notes = ([shown_note] if shown_note else []) + [f"{r['name']}: {fmt.missing_label(r.get('status'), lang)}"
                                                    for _, r in missing.iterrows()]
    chartmargins.reserve(fig)
    chart = Chart(chart_id, title, fig, table, caption, notes)
    chart.rank = (rank, len(full))  # type: ignore[attr-defined]
    return chart


def _peer_label(label: str | None, value: float, unit: str, decimals: int, lang: str) -> str:
    """The peer average's line label with its number: «Gruppens snitt: 53 210 kr» (kr units give the amount in
    kroner; the axis title says per what)."""
    words = str(unit).split()
    if words and words[0] in ("kr", "NOK"):
        number = fmt.kr(value, decimals, lang=lang)
    else:
        number = f"{fmt.number(value, decimals, lang=lang)} {unit}".strip()
    return i18n.t("fig.peer_avg_value", lang, label=label, value=number) if label else number


def coverage_unit_cost(frame: pd.DataFrame, selected: str, title: str, x_label: str, y_label: str, caption: str,
                       chart_id: str = "coverage-unit-cost", lang: str = "nb") -> Chart:
    """Scatter of coverage (x) against unit cost (y) with iso-cost curves x·y = const (spending per target resident).

    `frame`: region, name, coverage, unit_cost. Only rows with both values are drawn.
    """
    have = frame.dropna(subset=["coverage", "unit_cost"])
    fig = go.Figure()
    if len(have):
        product = have["coverage"] * have["unit_cost"]
        levels = np.quantile(product, [0.1, 0.5, 0.9])
        xs = np.linspace(max(have["coverage"].min() * 0.85, 1e-9), have["coverage"].max() * 1.15, 80)
        for level in levels:
            fig.add_trace(go.Scatter(x=xs, y=level / xs, mode="lines", line=dict(color=GRID, width=2),
                                     hoverinfo="skip", showlegend=False))
        others = have[have["region"] != selected]
        sel = have[have["region"] == selected]
        fig.add_trace(go.Scatter(x=others["coverage"], y=others["unit_cost"], mode="markers", text=others["name"],
                                 marker=dict(color=NEUTRAL, size=12), name="", showlegend=False,
                                 hovertemplate="%{text}<extra></extra>"))
        fig.add_trace(go.Scatter(x=sel["coverage"], y=sel["unit_cost"], mode="markers+text", text=sel["name"],
                                 textposition="top center", marker=dict(color=HIGHLIGHT, size=18),
                                 showlegend=False, hovertemplate="%{text}<extra></extra>"))
        ymax = have["unit_cost"].max() * 1.2
        fig.update_yaxes(range=[0, ymax])
    _layout(fig, title, lang=lang, xaxis_title=x_label, yaxis_title=y_label)
    municipality = i18n.t("fig.col_municipality", lang)
    table = have.rename(columns={"name": municipality, "coverage": x_label, "unit_cost": y_label})[
        [municipality, x_label, y_label]]
    chartmargins.reserve(fig)
    return Chart(chart_id, title, fig, table, caption)


def decomposition(frame: pd.DataFrame, title: str, caption: str, lang: str = "nb",
                  labels: dict[str, str] | None = None, chart_id: str = "decomposition") -> Chart:
    """Horizontal bars of a gap split into components (need, target share, coverage, unit cost, net/gross, …)
    in NOK million; components that cannot be computed are listed in notes with the engine's reason."""
    # the averaging row is exactly 0 under the weighted convention: no bar for it
    have = frame[frame["nok"].notna() & ~((frame["component"] == "averaging") & (frame["nok"].abs() < 0.5))]
    labels = labels or {}
    names = [labels.get(c, c) for c in have["component"]]
    mill = have["nok"] / 1e6
    # "Utgiftsbehov (kostnadsindeks)" on two lines: the bars keep room in a half-width card
    wrapped = [n.replace(" (", "<br>(", 1) for n in names]
    fig = go.Figure(go.Bar(y=wrapped, x=mill, orientation="h", marker_color=[MORE if v >= 0 else LESS for v in mill],
                           text=[fmt.number(v, 1, lang=lang) for v in mill], textposition="outside", cliponaxis=False,
                           hovertemplate="%{y}: %{x:,.1f}<extra></extra>"))
    _reference_line(fig, "x", 0, dict(color="#52606D", width=1))
    if len(mill):  # room for the value labels on both sides of zero
        lo, hi = float(min(0.0, mill.min())), float(max(0.0, mill.max()))
        pad = 0.35 * max(hi - lo, 1e-9)
        fig.update_xaxes(range=[lo - (pad if lo < 0 else 0), hi + (pad if hi > 0 else 0)])
    _layout(fig, title, height=max(300, 70 * len(have) + 120), lang=lang,
            xaxis_title=i18n.t("fig.mill_kr", lang), showlegend=False)
    fig.update_yaxes(autorange="reversed")
    table = pd.DataFrame({i18n.t("fig.col_component", lang): names, i18n.t("fig.mill_kr", lang): mill.round(1)})
    # what could not be split, and which bar is our own derivation; rows with nothing to hold (nothing left
    # unsplit, no member without figures) are not listed
    unsplit = frame[frame["nok"].isna() & ~frame["component"].isin(["not_split", "peer_subset", "averaging"])]
    derived = have[have["reason"].fillna("").str.contains("vår utledning|our derivation")] if "reason" in have else have[:0]
    notes = [f"{labels.get(r['component'], r['component'])}: {i18n.reason_text(r.get('reason'), lang) or ''}"
             for _, r in pd.concat([derived, unsplit]).iterrows()]
    chartmargins.reserve(fig)
    return Chart(chart_id, title, fig, table, caption, notes)
