"""The pack's workbook as frames (view model, no rendering): one sheet per figure plus «Om tallene».

Each figure's sheet holds the numbers an analyst builds a Word table from, in the view's language:
- kommunenummer and year on every row (codes as text, so 0301 keeps its zero);
- for a figure of one indicator (a municipality against its peers): every member of the peer set, the selected
  municipality, then one row each for the peer group, Landet and Landet uten Oslo. Those rows are SSB's own
  published figures where the database holds them (its EKGxx / county / EAK / EAKUO rows); where SSB publishes
  only the group's amount the row is that amount divided by the group's residents, and where SSB publishes nothing
  (nearest neighbours, a saved set, another averaging) we compute the average ourselves. The «Kilde» column says
  which, on every row;
- for the gaps and the decompositions: every service / component, against the view's peers, Landet and Landet uten
  Oslo (the engine's numbers for each comparison);
- each value twice: rounded as the figure shows it, and with full precision;
- a missing value is an empty cell (never 0) with SSB's status symbol in the column beside it, and the engine's
  reason where it gives one; a row without a figure stays a row.

`build(state, charts, left_out=..., notes=...)` -> Book. drivers.export.tables renders a Book as XLSX.
Nothing is computed here beyond rounding and the group averages named above; the numbers come from the engine
(drivers.report.queries) and the database's SSB rows (the Panel).

Long on purpose: one sheet builder per kind of figure (indicator, gaps, decomposition, any other chart) and the
«Om tallene» rows, kept together so what the workbook says about where each number comes from reads in one file.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

from drivers import i18n
from drivers.i18n import t
from drivers.report import data, queries
from drivers.report import state as st

SHEET_NAME_MAX = 31  # Excel's limit
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
STORY_INDICATORS = {"inntekt": "frie_inntekter_per_innb", "samlet": "ndu_total_per_innb"}
GAPS_IDS = ("gap-waterfall", "tjenester")
NOTHING_TO_HOLD = ("not_split", "peer_subset", "averaging")  # rows a decomposition has only when they hold a number


@dataclass
class Sheet:
    """One figure's numbers: `frame` with headers in the view's language; `decimals` the number of decimals shown
    for each numeric column (None: as many as the value has); `text_columns` are written as text (codes)."""

    name: str
    chart_id: str
    title: str
    caption: str
    frame: pd.DataFrame
    decimals: dict[str, int | None] = field(default_factory=dict)
    text_columns: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)


@dataclass
class Book:
    """The workbook: a sheet per figure, then «Om tallene» as (label, text) rows."""

    sheets: list[Sheet]
    about_name: str
    about: list[tuple[str, str]]
    lang: str = i18n.DEFAULT


# ---- columns -------------------------------------------------------------------------------------------------


def _cols(lang: str) -> dict[str, str]:
    keys = ["code", "name", "role", "year", "status", "source", "service", "service_code", "compared", "component",
            "reason"]
    return {k: t(f"wb.col.{k}", lang) for k in keys}


def _shown(label: str, lang: str) -> str:
    return t("wb.col.shown", lang, what=label)


def _full(label: str, lang: str) -> str:
    return t("wb.col.full", lang, what=label)


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value)) or (isinstance(value, float) and math.isinf(value))
    except (TypeError, ValueError):
        return False


def _round(value, decimals: int):
    return None if _missing(value) else round(float(value), decimals)


def _exact(value):
    return None if _missing(value) else float(value)


def _symbol(status, value) -> str | None:
    """SSB's status symbol of a missing value (None when the value is there or the data has no symbol)."""
    if not _missing(value) or _missing(status) or not str(status).strip():
        return None
    return str(status)


# ---- what a chart shows --------------------------------------------------------------------------------------


def _service_code(text: str) -> str | None:
    for code in queries.SERVICES:
        if code.lower() == text.lower():
            return code
    return None


def chart_kind(chart, lang: str = i18n.DEFAULT) -> tuple[str, str | None]:
    """('indicator', indicator id) | ('decomposition', service) | ('gaps', None) | ('chart', None), from the chart's
    `indicator` / `service` attributes when it has them, else from its id (story-N-…, rank-…, decomp-…)."""
    ind = getattr(chart, "indicator", None)
    if isinstance(ind, str) and queries.has_indicator(ind):
        return "indicator", ind
    cid = str(chart.id)
    if cid in GAPS_IDS:
        return "gaps", None
    m = re.fullmatch(r"rank-(\w+)", cid)
    if m and _service_code(m.group(1)):
        return "indicator", queries.indicator_id(_service_code(m.group(1)))
    m = re.fullmatch(r"decomp-(\w+)", cid)
    if m and _service_code(m.group(1)):
        return "decomposition", _service_code(m.group(1))
    m = re.fullmatch(r"story-\d+-(.+)", cid)
    if m:
        rest = m.group(1)
        if rest in STORY_INDICATORS:
            return "indicator", STORY_INDICATORS[rest]
        if rest in GAPS_IDS:
            return "gaps", None
        service = _service_code(rest)
        if service:
            if t("fig.col_component", lang) in getattr(chart, "data", pd.DataFrame()).columns:
                return "decomposition", service
            return "indicator", queries.indicator_id(service)
    return "chart", None


# ---- the group rows ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupFigure:
    """A group's figure for one indicator and year: `source` is 'ssb' (SSB's published figure in the database),
    'ssb_amount' (SSB's amount for the group / the group's residents), 'ours' (our average of the members) or
    'none' (no figure)."""

    code: str
    name: str
    value: float | None
    source: str


def _registry(ind_id: str):
    from drivers.engine import indicators

    return indicators.get(ind_id)


def _published(panel, ind, year: int) -> dict[str, float]:
    """SSB's own published figure of the indicator for the aggregates the database holds (code -> value)."""
    num = ind.numerator
    if ind.kind == "ssb" and not ind.extra.get("divide_by_need") and "measure" in num:
        return panel.aggregate(num["measure"], num.get("dims"), year)
    den = ind.denominator or {}
    if ind.kind == "per_resident" and num.get("measure") == "ndu_1000kr" and den.get("population") == [0, 105] \
            and not den.get("times_need") and not den.get("times_measure_pct"):
        return panel.aggregate("ndu_per_innbygger_kr", num.get("dims"), year)
    return {}


def group_figure(state: st.State, ind_id: str, code: str, name: str) -> GroupFigure:
    """The figure of indicator `ind_id` for the aggregate `code` (EKGxx, a county, EAK, EAKUO) in the view's year:
    SSB's where the database has it, else computed (weighted, nobody left out, as SSB's group figures)."""
    from drivers.engine import measures

    panel, year = data.get_panel(), state.aar
    ind = _registry(ind_id)
    published = _published(panel, ind, year)
    if code in published:
        return GroupFigure(code, name, float(published[code]), "ssb")
    derived = measures.ssb_aggregate(panel, ind, year)
    if code in derived and not _missing(derived[code]):
        return GroupFigure(code, name, float(derived[code]), "ssb_amount")
    group = {"EAK": "landet", "EAKUO": "landet-uten-oslo"}.get(code, code)
    try:
        value = data.api().group_value(panel, ind_id, year, group, "weighted")
    except Exception:  # noqa: BLE001 - a group the engine cannot form (no members) has no figure
        value = math.nan
    return GroupFigure(code, name, None if _missing(value) else float(value), "none" if _missing(value) else "ours")


def _peer_group(state: st.State) -> tuple[str, str] | None:
    """(SSB code, name) of the view's peer group when SSB publishes a figure for it (KOSTRA group, county, Landet)."""
    row = queries.municipality(state.kommune)
    if state.peers == "kostragruppe" and isinstance(row.get("group_code"), str):
        return row["group_code"], queries.group_label(row["group_code"], state.lang)
    if state.peers == "fylke" and isinstance(row.get("county"), str):
        return row["county"], row.get("county_name") or row["county"]
    if state.peers == "landet":
        return "EAK", t("peers_landet", state.lang)
    if state.peers == "landet-uten-oslo":
        return "EAKUO", t("peers_landet-uten-oslo", state.lang)
    return None


def group_rows(state: st.State, ind_id: str, view_average: float | None) -> list[GroupFigure]:
    """The peer group, Landet and Landet uten Oslo (each once). SSB publishes group figures only for its own
    averaging (weighted, the municipality included): under another convention, or for a peer set SSB has no
    figure for, the peer row is the view's own average (ours)."""
    lang = state.lang
    rows: list[GroupFigure] = []
    group = _peer_group(state)
    if group is not None and state.konv == st.DEFAULT_KONV:
        rows.append(group_figure(state, ind_id, *group))
    else:
        rows.append(GroupFigure("", queries.peers_label(state), view_average, "ours_view"
                                if not _missing(view_average) else "none"))
    for code, key in (("EAK", "peers_landet"), ("EAKUO", "peers_landet-uten-oslo")):
        if not any(r.code == code for r in rows):
            rows.append(group_figure(state, ind_id, code, t(key, lang)))
    return rows


def _source_text(source: str, state: st.State, code: str) -> str:
    return t(f"wb.src.{source}", state.lang, code=code, konv=queries.konv_label(state))


# ---- the sheets ----------------------------------------------------------------------------------------------


def indicator_frame(state: st.State, ind_id: str) -> tuple[pd.DataFrame, dict, tuple]:
    """Members, the municipality and the group rows of one indicator (see the module's docstring)."""
    lang, c = state.lang, _cols(state.lang)
    ind = _registry(ind_id)
    decimals = int(getattr(ind, "decimals", 0) or 0)
    unit = t("rep.unit_kr_per_resident", lang) if ind.kind in ("per_resident", "need_corrected") else ind.unit
    label = unit if ind.kind in ("per_resident", "need_corrected") else f"{ind.name(lang)} ({unit})"
    values = queries.indicator_values(state, ind_id)
    values = values.assign(_missing=values["value"].isna()).sort_values(["_missing", "value"], ascending=[True, False])
    own_source = "ssb" if ind.kind == "ssb" and ind.ssb_match == "ssb" else "ours_calc"
    rows = []
    for r in values.itertuples(index=False):
        role = "selected" if r.region == state.kommune else "peer"
        rows.append({c["code"]: r.region, c["name"]: r.name, c["role"]: t(f"wb.role.{role}", lang),
                     c["year"]: state.aar, _shown(label, lang): _round(r.value, decimals),
                     _full(label, lang): _exact(r.value), c["status"]: _symbol(r.status, r.value),
                     c["source"]: None if _missing(r.value) else _source_text(own_source, state, r.region)})
    view_average = values["peer_value"].dropna()
    view_average = float(view_average.iloc[0]) if len(view_average) else None
    for g in group_rows(state, ind_id, view_average):
        rows.append({c["code"]: g.code, c["name"]: g.name, c["role"]: t("wb.role.group", lang), c["year"]: state.aar,
                     _shown(label, lang): _round(g.value, decimals), _full(label, lang): _exact(g.value),
                     c["status"]: None, c["source"]: _source_text(f"group_{g.source}", state, g.code)})
    frame = pd.DataFrame(rows, columns=[c["code"], c["name"], c["role"], c["year"], _shown(label, lang),
                                        _full(label, lang), c["status"], c["source"]])
    return frame, {c["year"]: 0, _shown(label, lang): decimals, _full(label, lang): None}, (c["code"],)


def _comparisons(state: st.State) -> list[st.State]:
    """The view's peers, then Landet and Landet uten Oslo (each once)."""
    out = [state]
    for peers in ("landet", "landet-uten-oslo"):
        if state.peers != peers:
            out.append(state.with_(peers=peers))
    return out


def gaps_frame(state: st.State) -> tuple[pd.DataFrame, dict, tuple]:
    """Every service (and the rest and the total): the municipality's and the comparison's kroner per resident and
    the gap in kroner, against the view's peers, Landet and Landet uten Oslo (the engine's gaps)."""
    lang, c = state.lang, _cols(state.lang)
    name = data.meta().name(state.kommune)
    unit = t("rep.unit_kr_per_resident", lang)
    own, peer = t("wb.col.own", lang, unit=unit), t("wb.col.peer", lang, unit=unit)
    gap_shown, gap_full = t("wb.col.gap_mill", lang), t("wb.col.gap_kr", lang)
    rows = []
    for view in _comparisons(state):
        g = queries.gaps(view)
        for r in g.to_dict("records"):
            rows.append({c["code"]: state.kommune, c["name"]: name, c["year"]: state.aar,
                         c["compared"]: queries.peers_label(view),
                         c["service"]: queries.service_name(r["service"], lang), c["service_code"]: r["service"],
                         _shown(own, lang): _round(r.get("per_resident"), 0), _full(own, lang): _exact(r.get("per_resident")),
                         _shown(peer, lang): _round(r.get("peer_per_resident"), 0),
                         _full(peer, lang): _exact(r.get("peer_per_resident")),
                         gap_shown: None if _missing(r.get("gap_nok")) else round(float(r["gap_nok"]) / 1e6, 1),
                         gap_full: _exact(r.get("gap_nok")),
                         c["status"]: _symbol(r.get("status"), r.get("gap_nok")),
                         c["reason"]: r.get("reason") or None})
    cols = [c["code"], c["name"], c["year"], c["compared"], c["service"], c["service_code"], _shown(own, lang),
            _full(own, lang), _shown(peer, lang), _full(peer, lang), gap_shown, gap_full, c["status"], c["reason"]]
    decimals = {c["year"]: 0, _shown(own, lang): 0, _full(own, lang): None, _shown(peer, lang): 0,
                _full(peer, lang): None, gap_shown: 1, gap_full: None}
    return pd.DataFrame(rows, columns=cols), decimals, (c["code"], c["service_code"])


def decomposition_frame(state: st.State, service: str) -> tuple[pd.DataFrame, dict, tuple]:
    """The service's gap split into components (mill. kr as shown, kroner in full), against the view's peers,
    Landet and Landet uten Oslo; a component that cannot be computed stays a row, empty, with the reason."""
    lang, c = state.lang, _cols(state.lang)
    name = data.meta().name(state.kommune)
    shown, full = t("wb.col.comp_mill", lang), t("wb.col.comp_kr", lang)
    labels = queries.component_labels(lang)
    rows = []
    for view in _comparisons(state):
        frame, _reason = queries.decomposition(view, service)
        if frame is None:
            continue
        own = dict(zip(frame["component"], frame["name"], strict=False))
        for r in frame.to_dict("records"):
            comp = r["component"]
            if comp in NOTHING_TO_HOLD and _missing(r.get("nok")):
                continue  # nothing left unsplit / no member without figures: the figure has no such row either
            label = own.get(comp) if comp == "unit_cost" and queries.is_net_unit_cost(frame) else \
                labels.get(comp) or own.get(comp) or comp
            rows.append({c["code"]: state.kommune, c["name"]: name, c["year"]: state.aar,
                         c["compared"]: queries.peers_label(view), c["service"]: queries.service_name(service, lang),
                         c["component"]: str(label), shown: None if _missing(r.get("nok")) else round(r["nok"] / 1e6, 1),
                         full: _exact(r.get("nok")), c["status"]: _symbol(r.get("status"), r.get("nok")),
                         c["reason"]: r.get("reason") or None})
    cols = [c["code"], c["name"], c["year"], c["compared"], c["service"], c["component"], shown, full, c["status"],
            c["reason"]]
    return pd.DataFrame(rows, columns=cols), {c["year"]: 0, shown: 1, full: None}, (c["code"],)


def chart_frame(state: st.State, chart) -> tuple[pd.DataFrame, dict, tuple]:
    """A figure we know no numbers for beyond its own table: the table with kommunenummer and year in front."""
    c = _cols(state.lang)
    frame = chart.data.copy()
    front = {c["code"]: state.kommune, c["year"]: state.aar}
    for i, (col, value) in enumerate(front.items()):
        if col not in frame.columns:
            frame.insert(i, col, value)
    decimals = {c["year"]: 0}
    for col in frame.columns:
        if col not in decimals and pd.api.types.is_float_dtype(frame[col]):
            decimals[col] = None
    return frame, decimals, (c["code"],)


def sheet_name(i: int, title: str, taken: set[str]) -> str:
    """'01 Barnehage: hva driver forskjellen' cut to Excel's 31 characters, unique in the workbook."""
    base = re.sub(r"\s+", " ", _BAD_SHEET_CHARS.sub(" ", f"{i:02d} {title}")).strip()
    name = base[:SHEET_NAME_MAX].rstrip()
    k = 2
    while name.lower() in taken:
        suffix = f" ({k})"
        name = base[:SHEET_NAME_MAX - len(suffix)].rstrip() + suffix
        k += 1
    taken.add(name.lower())
    return name


def sheet_for(state: st.State, chart, i: int = 1, taken: set[str] | None = None) -> Sheet:
    kind, arg = chart_kind(chart, state.lang)
    if kind == "indicator":
        frame, decimals, text = indicator_frame(state, arg)
    elif kind == "gaps":
        frame, decimals, text = gaps_frame(state)
    elif kind == "decomposition":
        frame, decimals, text = decomposition_frame(state, arg)
    else:
        frame, decimals, text = chart_frame(state, chart)
    name = sheet_name(i, chart.title, taken if taken is not None else set())
    return Sheet(name, chart.id, chart.title, chart.caption, frame.reset_index(drop=True), decimals, text,
                 list(getattr(chart, "notes", None) or []))


def _table_rows(state: st.State, table_ids: list[str]) -> list[tuple[str, str]]:
    """One «Om tallene» row per table the figures stand on: title, where the copy comes from, SSB's `updated`."""
    from drivers import provenance

    lang = state.lang
    tables = queries.tables()
    info = {str(r["table_id"]): r for r in tables.to_dict("records")} if tables is not None and len(tables) else {}
    out = []
    for tid in table_ids:
        row = info.get(tid)
        if row is None:
            continue
        if provenance.third_party(row):
            how = t("wb.about.third_party", lang, url=row.get("source_url") or "")
        else:
            updated = row.get("updated")
            when = f"{pd.Timestamp(updated):%d.%m.%Y}" if not _missing(updated) else "–"
            release = row.get("release")
            word = t(_RELEASE[release], lang) if release in _RELEASE else (release or "–")
            how = t("wb.about.ssb", lang, updated=when, release=word)
        out.append((t("wb.about.table", lang, table=tid), f"{row.get('title') or tid}. {how}"))
    return out


_RELEASE = {"endelig": "fig.release_final", "foreløpig": "fig.release_prelim"}
_TABLE_RE = re.compile(r"\b(\d{5}|lorenskog-xlsx|ratedata-2015)\b")


def about_rows(state: st.State, sheets: list[Sheet], heading: str, left_out=(), notes=()) -> list[tuple[str, str]]:
    lang = state.lang
    rows = [(t("wb.about.title", lang), heading),
            (t("wb.about.made", lang), t("wb.about.made_text", lang, when=f"{datetime.now(UTC):%d.%m.%Y %H:%M}"))]
    rows += [(t("wb.about.note", lang), str(n)) for n in notes]
    for s in sheets:
        rows.append((s.name, s.title))
        rows.append(("", s.caption))
        rows += [("", n) for n in s.notes]
    for key in ("rounding", "missing", "groups", "codes"):
        rows.append((t(f"wb.about.{key}_label", lang), t(f"wb.about.{key}", lang)))
    tables = sorted({m for s in sheets for m in _TABLE_RE.findall(s.caption)})
    rows += _table_rows(state, tables)
    for item in left_out:
        command = f" {t('wb.about.command', lang, command=item.command)}" if item.command else ""
        rows.append((t("wb.about.left_out", lang), f"{item.title}: {item.reason}.{command}"))
    rows.append((t("wb.about.licence_label", lang), t("wb.about.licence", lang)))
    return rows


def build(state: st.State, charts, *, heading: str | None = None, left_out=(), notes=()) -> Book:
    """The workbook for these charts (one sheet each, in their order) and «Om tallene»."""
    taken = {t("wb.about_sheet", state.lang).lower()}
    sheets = [sheet_for(state, chart, i, taken) for i, chart in enumerate(charts, start=1)]
    heading = heading or f"{data.meta().name(state.kommune)} ({state.kommune}), {state.aar}"
    return Book(sheets, t("wb.about_sheet", state.lang), about_rows(state, sheets, heading, left_out, notes),
                state.lang)
