"""Metode og kilder (/metode): every indicator's definition from the engine registry, every source table
with SSB's `updated` date, preliminary or final, and when it was fetched; what the data lacks and the command
that fetches it; licences and the third-party copies the snapshot is built from.

Long on purpose: six sections of one page (indicators, sources, gaps, licences, copies, conventions), each a
short builder; splitting them would scatter one page's layout over several files."""

from __future__ import annotations

import json

import dash
import dash_ag_grid as dag
import pandas as pd
from dash import dcc, html

from drivers import fmt, i18n
from drivers.report import data
from drivers.report import queries as views
from drivers.report import state as st
from drivers.ui import components, serving

PATH = "/metode"
IND_GRID = "metode-indikatorer"
TABLE_GRID = "metode-tabeller"
CHANGES_TOP = data.REVISIONS_PER_TABLE  # revisions listed per table for the municipality in view

dash.register_page(__name__, path=PATH, name="Metode og kilder", title="Metode og kilder – kommuneøkonomi", order=4)

# The third-party copies the snapshot is built from (see ../shared/ssb/PROVENANCE.md and ../shared/geo/PROVENANCE.md):
# each one's words are "met.copy.<copy>.what", ".src" (the copy) and ".lic" (its licence).
THIRD_PARTY = ("lippen", "csdata", "groups", "dki", "codes", "lorenskog", "vestland", "ratedata", "borders")
# SSB's release of a table, as stored (bokmål), to its words' key.
RELEASE = {"foreløpig": "met.release.preliminary", "endelig": "met.release.final"}
# The list "how the figures are computed", in order.
METHOD_ITEMS = ("met.how.per_resident", "met.how.averages", "met.how.coverage", "met.how.gaps", "met.how.nok",
                "met.how.need", "met.how.neighbours", "met.how.missing")


def _word(prefix: str, code: str, lang: str) -> str:
    """The words for a registry code (ssb_match, polarity), or the code itself if there are none."""
    return i18n.t(f"{prefix}.{code}", lang) if i18n.has(f"{prefix}.{code}") else code


def _headers(keys: tuple[str, ...], lang: str) -> html.Thead:
    return html.Thead(html.Tr([html.Th(i18n.t(k, lang)) for k in keys]))


@serving.page(PATH)
def layout(state: st.State):
    """The whole page for one view."""
    lang = state.lang
    title = i18n.t("met.title", lang)
    sections = list(_sections(st.State(st.DEFAULT_KOMMUNE, state.aar, lang=lang)))
    # the only part that depends on the municipality: its revisions at the last fetch
    sections.insert(3, components.guarded(changes_section, state, lang=lang))
    return components.page(state, PATH, sections, title=title)


@serving.cached("metode-sections", 8)
def _sections(state: st.State) -> list:
    """The content depends only on the language (and the data), not on the municipality: built once per language.
    Measured (six municipalities): Metode ~3.6 ms a page without this cache, ~0.8 ms with it."""
    lang = state.lang
    return [
        components.guarded(method_section, state, lang=lang),
        components.guarded(indicator_section, state, lang=lang),
        components.guarded(tables_section, state, lang=lang),
        components.guarded(lacks_section, state, lang=lang),
        components.guarded(licence_section, state, lang=lang),
    ]


def describe() -> dict:
    """What the database holds and lacks, read with the rest of it (the data layer's Bundle: no page request opens
    the database)."""
    return data.describe()


def changes() -> dict:
    """The last fetch's changes per table and the largest revisions per table and region (CHANGES_TOP), read with
    the rest of the database (the data layer's Bundle)."""
    return data.changes()


# ---- pure builders (tests call these) -------------------------------------------------------------------------
def _part(spec: dict | None, lang: str) -> str:
    """A numerator or denominator in words: 'ndu_1000kr [KOKart0000=AGD2;KOKfunksjon0000=FGK7] × 1000'."""
    if not spec:
        return "—"
    out = []
    if "measure" in spec:
        text = spec["measure"]
        if spec.get("dims"):
            text += f" [{spec['dims']}]"
        out.append(text)
    if "population" in spec:
        lo, hi = spec["population"]
        off = int(spec.get("year_offset", 1))
        when = i18n.t("met.part.next_year", lang) if off == 1 else i18n.t("met.part.offset", lang, off=off)
        ages = i18n.t("met.part.all", lang) if (lo, hi) == (0, 105) else i18n.t("met.part.ages", lang, lo=lo, hi=hi)
        out.append(f"{ages}, {when} (SSB 07459)")
    if spec.get("times_need"):
        out.append(i18n.t("met.part.need", lang))
    if spec.get("times_measure_pct"):
        out.append(f"× {spec['times_measure_pct']} / 100")
    scale = spec.get("scale")
    if scale not in (None, 1, 1.0):
        out.append(f"× {fmt.number(scale)}")
    return " ".join(out)


def indicator_rows(indicators: list, lang: str = i18n.DEFAULT) -> list[dict]:
    """One row per registry indicator: what it is and how it is computed, in words (the SSB definition is the
    registry's, in bokmål only)."""
    rows = []
    for ind in indicators:
        tg = ind.target_group
        rows.append({
            "id": ind.id,
            "navn": ind.name(lang),
            "tjeneste": views.service_name(ind.service, lang) if ind.service else "—",
            "teller": _part(ind.numerator, lang),
            "nevner": _part(ind.denominator, lang) if ind.kind != "ssb" else i18n.t("met.ssb_published", lang),
            "tabell": str(ind.table),
            "enhet": ind.unit,
            "maalgruppe": i18n.t("met.target_group", lang, lo=tg[0], hi=tg[1]) if tg else "—",
            "polaritet": _word("met.polarity", ind.polarity, lang),
            "ssb_definisjon": ind.ssb_definition,
            "samsvar": _word("met.match", ind.ssb_match, lang),
        })
    return rows


def table_rows(tables: pd.DataFrame, lang: str = i18n.DEFAULT) -> list[dict]:
    """One row per stored source table: SSB's `updated`, preliminary or final, fetched, origin, note."""
    rows = []
    for r in tables.to_dict("records"):
        updated, fetched = r.get("updated"), r.get("fetched_at")
        release = r.get("release") if isinstance(r.get("release"), str) else None
        rows.append({
            "tabell": str(r.get("table_id")),
            "tittel": r.get("title") or "",
            "oppdatert": _date(updated) or i18n.t("met.tab.not_given", lang),
            "status": (i18n.t(RELEASE[release], lang) if release in RELEASE else release) if release else
            i18n.t("met.tab.cannot_judge", lang),
            "hentet": _date(fetched, with_time=True) or "—",
            "opphav": r.get("origin") or "",
            "kilde": r.get("source_url") or "",
            "merknad": r.get("note") or "",
            "ssb_merknader": " · ".join(json.loads(r["notes_json"])) if isinstance(r.get("notes_json"), str)
            and r["notes_json"].startswith("[") else "",
        })
    return rows


def change_rows(changes: pd.DataFrame, lang: str = i18n.DEFAULT) -> list[dict]:
    """One row per table of the last fetch: SSB's updated before and now, years compared, cells revised/added/removed."""
    rows = []
    for r in changes.to_dict("records"):
        years = str(r.get("years") or "")
        ys = years.split(",") if years else []
        rows.append({
            "tabell": str(r["table_id"]),
            "hentet": _date(r.get("fetched_at"), with_time=True) or "—",
            "ssb_oppdatert": f"{_date(r.get('old_updated')) or '—'} → {_date(r.get('new_updated')) or '—'}",
            "aar": (f"{ys[0]}–{ys[-1]}" if len(ys) > 1 else ys[0]) if ys else i18n.t("met.ch.all_years", lang),
            "revidert": int(r["revised"]), "lagt_til": int(r["added"]), "fjernet": int(r["removed"]),
            "celler": int(r["cells"]), "foerste": bool(r.get("first_fetch")),
        })
    return rows


def _decimals(value) -> int:
    v = float(value)
    return 0 if v.is_integer() else min(3, len(f"{v:.3f}".rstrip("0").split(".")[1]))


def _value(value, status) -> str:
    if value is None or pd.isna(value):
        return status or "–"
    return fmt.number(float(value), _decimals(value))


def revision_rows(revisions: pd.DataFrame, region: str) -> list[dict]:
    """The region's revised cells (largest first within each table): table, year, code, dims, before, now, change."""
    out = []
    for r in revisions[revisions["region"] == region].to_dict("records"):
        old, new = r.get("old_value"), r.get("new_value")
        both = not (old is None or pd.isna(old) or new is None or pd.isna(new))
        out.append({
            "tabell": str(r["table_id"]), "aar": int(r["year"]), "kode": r["contents_code"],
            "maal": r.get("measure") or "", "dims": r.get("dims") or "",
            "foer": _value(old, r.get("old_status")), "naa": _value(new, r.get("new_status")),
            "endring": fmt.signed(float(new) - float(old), max(_decimals(old), _decimals(new))) if both else "–",
        })
    return out


def _date(value, with_time: bool = False) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    ts = pd.Timestamp(value)
    return f"{ts:%d.%m.%Y %H:%M} UTC" if with_time else f"{ts:%d.%m.%Y}"


# ---- sections ---------------------------------------------------------------------------------------------------
def method_section(state: st.State) -> html.Section:
    lang = state.lang
    symbols = [html.Li([html.Code(sym), " ", fmt.status_text(sym, lang)]) for sym in (".", "..", ":", "-", "...")]
    return html.Section([
        html.H2(i18n.t("met.how.title", lang)),
        html.Ul([html.Li(i18n.t(key, lang)) for key in METHOD_ITEMS]),
        html.H3(i18n.t("met.symbols", lang)),
        html.Ul(symbols),
    ], className="card", id="metode-metode")


def indicator_section(state: st.State) -> html.Section:
    lang = state.lang
    rows = indicator_rows(views.all_indicators(), state.lang)
    # fixed row height and the full text as a tooltip: wrapped, auto-sized rows make the grid slow to draw
    col = lambda f, h, **kw: {"field": f, "headerName": i18n.t(h, lang), "tooltipField": f, **kw}  # noqa: E731
    cols = [
        col("navn", "met.ind.col.name", pinned="left", minWidth=260, filter="agTextColumnFilter"),
        col("tjeneste", "met.ind.col.service", width=150, filter="agTextColumnFilter"),
        col("teller", "met.ind.col.numerator", minWidth=260),
        col("nevner", "met.ind.col.denominator", minWidth=240),
        col("tabell", "met.ind.col.table", width=120, filter="agTextColumnFilter"),
        col("enhet", "met.ind.col.unit", width=90),
        col("maalgruppe", "met.ind.col.target", width=120),
        col("polaritet", "met.ind.col.polarity", minWidth=170),
        col("ssb_definisjon", "met.ind.col.definition", minWidth=380),
        col("samsvar", "met.ind.col.match", minWidth=220, filter="agTextColumnFilter"),
        col("id", "met.ind.col.id", minWidth=220),
    ]
    return html.Section([
        html.H2(i18n.t("met.ind.title", lang, n=len(rows))),
        html.P(i18n.t("met.ind.hint", lang), className="hint"),
        dag.AgGrid(id=IND_GRID, rowData=rows, columnDefs=cols, className="ag-theme-alpine",
                   defaultColDef={"sortable": True, "resizable": True, "floatingFilter": True},
                   dashGridOptions={"suppressMovableColumns": True, "animateRows": False, "tooltipShowDelay": 200},
                   style={"height": "640px", "width": "100%"}),
    ], className="card", id="metode-sec-indikatorer")


def tables_section(state: st.State) -> html.Section:
    lang = state.lang
    panel = data.get_panel()
    rows = table_rows(panel.tables, state.lang)
    col = lambda f, h, **kw: {"field": f, "headerName": i18n.t(h, lang), "tooltipField": f, **kw}  # noqa: E731
    cols = [
        col("tabell", "met.tab.col.table", pinned="left", width=130),
        col("tittel", "met.tab.col.title", minWidth=280),
        col("oppdatert", "met.tab.col.updated", width=150),
        col("status", "met.tab.col.release", width=170),
        col("hentet", "met.tab.col.fetched", width=180),
        col("opphav", "met.tab.col.origin", width=120),
        col("merknad", "met.tab.col.note", minWidth=480),
        col("kilde", "met.tab.col.url", minWidth=300),
        col("ssb_merknader", "met.tab.col.ssb_notes", minWidth=360),
    ]
    extra = []
    d = describe()
    pop = d.get("population") or {}
    if pop:
        extra.append(html.Li(i18n.t("met.tab.population", lang, first=pop.get("first_year"), last=pop.get("last_year"),
                                    regions=pop.get("regions"))))
    need_src = sorted({s for s in panel.need.get("source", pd.Series(dtype=object)).dropna().unique()}) if len(panel.need) else []
    if need_src:
        extra.append(html.Li(i18n.t("met.tab.need_sources", lang, sources="; ".join(need_src))))
    group_src = sorted({s for s in panel.groups.get("source", pd.Series(dtype=object)).dropna().unique()}) if len(panel.groups) else []
    if group_src:
        extra.append(html.Li(i18n.t("met.tab.group_sources", lang, sources="; ".join(group_src))))
    built = d.get("built_at")
    return html.Section([
        html.H2(i18n.t("met.tab.title", lang)),
        html.P((i18n.t("met.tab.built", lang, built=built) if built else "") + i18n.t("met.tab.release_hint", lang),
               className="hint"),
        dag.AgGrid(id=TABLE_GRID, rowData=rows, columnDefs=cols, className="ag-theme-alpine",
                   defaultColDef={"sortable": True, "resizable": True},
                   dashGridOptions={"domLayout": "autoHeight", "suppressMovableColumns": True, "tooltipShowDelay": 200},
                   style={"width": "100%"}),
        html.P(i18n.t("met.tab.hover", lang), className="hint"),
        html.Ul(extra) if extra else None,
    ], className="card", id="metode-sec-tabeller")


def changes_section(state: st.State) -> html.Section:
    """«Endringer ved siste henting»: per table the counts, and the largest revisions for the municipality in view."""
    lang = state.lang
    head = html.H2(i18n.t("met.ch.title", lang))
    ch = changes()
    frame = ch.get("changes")
    if frame is None or frame.empty:
        snapshot = "ssb-api" not in (ch.get("origins") or [])
        what = i18n.t("met.ch.snapshot" if snapshot else "met.ch.none_yet", lang) + i18n.t("met.ch.run", lang)
        return html.Section([head, html.P([what, html.Code("drivers fetch"), i18n.t("met.ch.run_tail", lang)])],
                            className="card", id="metode-endringer")
    rows = change_rows(frame, state.lang)
    hdr = tuple(f"met.ch.col.{c}" for c in ("table", "fetched", "updated", "years", "revised", "added", "removed", "cells"))
    first = i18n.t("met.ch.first", lang)
    body = [html.Tr([html.Td(r["tabell"]), html.Td(r["hentet"]), html.Td(r["ssb_oppdatert"]), html.Td(r["aar"]),
                     html.Td(first if r["foerste"] else fmt.number(r["revidert"])),
                     html.Td("—" if r["foerste"] else fmt.number(r["lagt_til"])),
                     html.Td("—" if r["foerste"] else fmt.number(r["fjernet"])), html.Td(fmt.number(r["celler"]))])
            for r in rows]
    name = data.meta().name(state.kommune)
    revs = revision_rows(ch.get("revisions", pd.DataFrame(columns=["region"])), state.kommune)
    out = [head,
           html.P(i18n.t("met.ch.hint", lang), className="hint"),
           html.Table([_headers(hdr, lang), html.Tbody(body)], className="table"),
           html.H3(i18n.t("met.ch.largest", lang, name=name))]
    if revs:
        rhdr = tuple(f"met.ch.rev.{c}" for c in ("table", "year", "code", "measure", "dims", "before", "now", "change"))
        out.append(html.Table([_headers(rhdr, lang), html.Tbody([
            html.Tr([html.Td(r["tabell"]), html.Td(r["aar"]), html.Td(r["kode"]), html.Td(r["maal"] or "—"),
                     html.Td(r["dims"] or "—"), html.Td(r["foer"]), html.Td(r["naa"]), html.Td(r["endring"])])
            for r in revs])], className="table"))
    else:
        out.append(html.P(i18n.t("met.ch.no_revisions", lang, name=name), className="hint"))
    return html.Section(out, className="card", id="metode-endringer")


def lacks_section(state: st.State) -> html.Section:
    lang = state.lang
    d = describe()
    missing = d.get("missing") or []
    items = []
    for m in missing:
        # the database words what it lacks in bokmål ("what") and may add other languages ("what_en")
        body = [html.Span(i18n.reason_text(m.get(f"what_{lang}") or m.get("what"), lang))]
        if m.get("command"):
            body += [html.Br(), html.Span(i18n.t("met.lack.fetch_with", lang)), html.Code(m["command"])]
        items.append(html.Li(body))
    holdings = d.get("observations") or []
    hold_rows = [html.Tr([html.Td(h.get("table_id")), html.Td(h.get("measure") or "—"),
                          html.Td(", ".join(str(y) for y in h.get("years") or [])),
                          html.Td(fmt.number(h.get("municipalities"))), html.Td(fmt.number(h.get("values")))])
                 for h in holdings]
    body = [html.H2(i18n.t("met.lack.title", lang))]
    if items:
        body.append(html.Ul(items))
    else:
        body.append(html.P(i18n.t("met.lack.unknown", lang)))
    if d.get("fetch_command"):
        body.append(html.P([html.Strong(i18n.t("met.lack.all_at_once", lang)), html.Code(d["fetch_command"])]))
    if hold_rows:
        hdr = tuple(f"met.hold.col.{c}" for c in ("table", "measure", "years", "municipalities", "values"))
        body += [
            html.H3(i18n.t("met.hold.title", lang)),
            html.Table([_headers(hdr, lang), html.Tbody(hold_rows)], className="table"),
        ]
    return html.Section(body, className="card", id="metode-mangler")


def licence_section(state: st.State) -> html.Section:
    lang = state.lang
    third = [html.Tr([html.Td(i18n.t(f"met.copy.{c}.{part}", lang)) for part in ("what", "src", "lic")]) for c in THIRD_PARTY]
    return html.Section([
        html.H2(i18n.t("met.lic.title", lang)),
        html.Ul([
            html.Li([html.Strong(i18n.t("met.lic.ssb_credit", lang)), i18n.t("met.lic.ssb_what", lang),
                     "CC BY 4.0 (", html.A("ssb.no", href="https://www.ssb.no/en/diverse/lisens"), ")."]),
            html.Li([html.Strong("«© Kartverket»"), i18n.t("met.lic.kv_what", lang),
                     html.A("kartverket.no", href="https://www.kartverket.no/"), i18n.t("met.lic.simplified_via", lang),
                     html.A("github.com/robhop/fylker-og-kommuner", href="https://github.com/robhop/fylker-og-kommuner"), "."]),
            html.Li([html.Strong(i18n.t("met.lic.dki", lang)), i18n.t("met.lic.dki_what", lang)]),
        ]),
        html.H3(i18n.t("met.lic.copies", lang)),
        html.P(i18n.t("met.lic.copies_hint", lang), className="hint"),
        html.Table([_headers(("met.lic.col.what", "met.lic.col.copy", "met.lic.col.licence"), lang), html.Tbody(third)],
                   className="table"),
        dcc.Markdown(i18n.t("met.lic.see_also", lang)),
    ], className="card", id="metode-lisenser")
