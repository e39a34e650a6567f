"""Metode og kilder (/metode): every indicator's definition from the engine registry, every source table
with SSB's `updated` date, preliminary or final, and when it was fetched; what the data lacks and the command
that fetches it; licences and the third-party copies the snapshot is built from.

Long on purpose: six sections of one page (indicators, sources, gaps, licences, copies, conventions), each a
short builder; splitting them would scatter one page's layout over several files."""

from __future__ import annotations

import json
import logging

import dash
import dash_ag_grid as dag
import pandas as pd
from dash import dcc, html

from drivers import fmt
from drivers.report import data
from drivers.report import queries as views
from drivers.report import state as st
from drivers.ui import components, serving

PATH = "/metode"
IND_GRID = "metode-indikatorer"
TABLE_GRID = "metode-tabeller"
CHANGES_TOP = 10  # revisions listed per table for the municipality in view
log = logging.getLogger(__name__)

dash.register_page(__name__, path=PATH, name="Metode og kilder", title="Metode og kilder – kommuneøkonomi", order=4)

MATCH_NB = {
    "verified": "SSBs definisjon, testet lik SSBs publiserte tall",
    "same-definition": "SSBs formel, ikke testet mot et publisert tall",
    "unverified": "SSB publiserer et lignende tall som ikke er kontrollert",
    "differs": "avviker kjent fra SSBs tall (se definisjonen)",
    "own": "egen indikator, ikke fra SSB",
    "ssb": "SSBs eget publiserte tall",
}
MATCH_EN = {
    "verified": "SSB's definition, tested equal to SSB's published figure",
    "same-definition": "SSB's formula, not tested against a published figure",
    "unverified": "SSB publishes a similar figure we could not check",
    "differs": "known to differ from SSB's figure (see the definition)",
    "own": "own indicator, not from SSB",
    "ssb": "SSB's own published figure",
}
POLARITY_NB = {"neutral": "nøytral (kostnad: høyere er ikke bedre eller verre)", "higher_is_better": "høyere er bedre",
               "lower_is_better": "lavere er bedre", "higher_is_more_room": "høyere gir mer handlingsrom"}
POLARITY_EN = {"neutral": "neutral (a cost: higher is neither better nor worse)", "higher_is_better": "higher is better",
               "lower_is_better": "lower is better", "higher_is_more_room": "higher gives more room"}

# Third-party copies the snapshot is built from (see ../shared/ssb/PROVENANCE.md and ../shared/geo/PROVENANCE.md).
THIRD_PARTY = [
    ("Netto driftsutgifter per tjeneste, alle kommuner 2024 (delvis 2025) — SSB 12362",
     "Lippen1995/Project_statsbudsjett, data/kostra/index.json (bygd fra SSBs API)", "ingen lisens oppgitt"),
    ("Befolkning 1.1. etter ettårig alder 2015–2026, 2024-grenser — SSB 07459",
     "R-pakken csdata (Folkehelseinstituttet), niphr/csdata", "MIT"),
    ("KOSTRA-gruppene (2020-inndeling, 2024-numre)", "Lippen1995/Project_statsbudsjett", "ingen lisens oppgitt"),
    ("Kostnadsindeks (utgiftsbehov) — Grønt hefte 2026, tabell A-k (KMD), ikke SSB",
     "vegard1104/kommunebarometer, data/dki-2026.json", "offentlig informasjon; ikke kontrollert mot departementets publikasjon"),
    ("Kommunenummerendringer 1.1.2024 (KLASS 131)", "vegard1104/kommunebarometer, data/code-history.json", "—"),
    ("KOSTRA-nøkkeltall for Lørenskog og sammenligningsregioner 2020–2025",
     "vegard1104/kommunebarometer, team/referansedata (arbeidsbok)", "—"),
    ("Netto driftsresultat 2025, Vestland — SSB 12134", "sondreolsen/kommunedata", "ingen lisens oppgitt"),
    ("Eiendomsforvaltning 2015 (KOSTRA 4.1)", "SSBs R-pakke Kostra, statisticsnorway/ssb-kostra", "MIT"),
    ("Kommune- og fylkesgrenser 2024 (Kartverket)", "github.com/robhop/fylker-og-kommuner (forenklet)",
     "Kartverkets data: CC BY 4.0; repoet oppgir ingen egen lisens"),
]


@serving.page(PATH)
def layout(state: st.State):
    """The whole page for one view."""
    lang = state.lang
    title = "Method and sources" if lang == "en" else "Metode og kilder"
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


def database() -> tuple:
    """The database file in use and its stat signature (serving.version)."""
    from drivers.ui.serving import version

    return version.database()


def describe() -> dict:
    """What the database holds and lacks, read once per database (the data layer opens the file read-only)."""
    return _describe(database())


# Keyed on the database file alone (not on the saved sets): a saved set never makes a page open the database.
@serving.cached("metode-describe", 4, versioned=False)
def _describe(db: tuple) -> dict:
    try:
        return data.describe()
    except Exception as exc:  # noqa: BLE001 - the method page must render even if describe fails
        log.warning("describe() failed: %s", exc)
        return {}


def changes() -> dict:
    """The last fetch's changes per table and the largest revisions per table and region, read once per database."""
    return _changes(database())


@serving.cached("metode-changes", 4, versioned=False)
def _changes(db: tuple) -> dict:
    path = db[0]
    try:
        return data.read_changes(path, CHANGES_TOP)
    except Exception as exc:  # noqa: BLE001 - the method page must render even if this fails
        log.warning("reading the fetch changes failed: %s", exc)
        return {}


# ---- pure builders (tests call these) -------------------------------------------------------------------------
def _part(spec: dict | None, lang: str) -> str:
    """A numerator or denominator in words: 'ndu_1000kr [KOKart0000=AGD2;KOKfunksjon0000=FGK7] × 1000'."""
    if not spec:
        return "—"
    en = lang == "en"
    out = []
    if "measure" in spec:
        text = spec["measure"]
        if spec.get("dims"):
            text += f" [{spec['dims']}]"
        out.append(text)
    if "population" in spec:
        lo, hi = spec["population"]
        off = int(spec.get("year_offset", 1))
        when = ("1 January of the next year (= 31.12)" if en else "1.1. året etter (= 31.12.)") if off == 1 else \
            (f"1 January, year + {off}" if en else f"1.1. år + {off}")
        ages = ("all residents" if en else "alle innbyggere") if (lo, hi) == (0, 105) else \
            (f"residents {lo}–{hi} years" if en else f"innbyggere {lo}–{hi} år")
        out.append(f"{ages}, {when} (SSB 07459)")
    if spec.get("times_need"):
        out.append("× kostnadsindeks (Grønt hefte, ikke SSB)" if not en else "× cost index (Grønt hefte, not SSB)")
    if spec.get("times_measure_pct"):
        out.append(f"× {spec['times_measure_pct']} / 100")
    scale = spec.get("scale")
    if scale not in (None, 1, 1.0):
        out.append(f"× {fmt.number(scale)}")
    return " ".join(out)


def indicator_rows(indicators: list, lang: str = "nb") -> list[dict]:
    """One row per registry indicator: what it is and how it is computed, in words."""
    en = lang == "en"
    match = MATCH_EN if en else MATCH_NB
    pol = POLARITY_EN if en else POLARITY_NB
    rows = []
    for ind in indicators:
        tg = ind.target_group
        rows.append({
            "id": ind.id,
            "navn": ind.name(lang),
            "tjeneste": views.service_name(ind.service, lang) if ind.service else "—",
            "teller": _part(ind.numerator, lang),
            "nevner": _part(ind.denominator, lang) if ind.kind != "ssb" else
            ("SSB's published figure" if en else "SSBs publiserte tall"),
            "tabell": str(ind.table),
            "enhet": ind.unit,
            "maalgruppe": f"{tg[0]}–{tg[1]} år" if tg else "—",
            "polaritet": pol.get(ind.polarity, ind.polarity),
            "ssb_definisjon": ind.ssb_definition,
            "samsvar": match.get(ind.ssb_match, ind.ssb_match),
        })
    return rows


def table_rows(tables: pd.DataFrame, lang: str = "nb") -> list[dict]:
    """One row per stored source table: SSB's `updated`, preliminary or final, fetched, origin, note."""
    en = lang == "en"
    rows = []
    for r in tables.to_dict("records"):
        updated, fetched = r.get("updated"), r.get("fetched_at")
        release = r.get("release") if isinstance(r.get("release"), str) else None
        rows.append({
            "tabell": str(r.get("table_id")),
            "tittel": r.get("title") or "",
            "oppdatert": _date(updated) or ("not given by the source" if en else "ikke oppgitt i kilden"),
            "status": {"foreløpig": "preliminary", "endelig": "final"}.get(release, release) if en and release else
            (release or ("cannot be judged" if en else "kan ikke vurderes")),
            "hentet": _date(fetched, with_time=True) or "—",
            "opphav": r.get("origin") or "",
            "kilde": r.get("source_url") or "",
            "merknad": r.get("note") or "",
            "ssb_merknader": " · ".join(json.loads(r["notes_json"])) if isinstance(r.get("notes_json"), str)
            and r["notes_json"].startswith("[") else "",
        })
    return rows


def change_rows(changes: pd.DataFrame, lang: str = "nb") -> list[dict]:
    """One row per table of the last fetch: SSB's updated before and now, years compared, cells revised/added/removed."""
    en = lang == "en"
    rows = []
    for r in changes.to_dict("records"):
        years = str(r.get("years") or "")
        ys = years.split(",") if years else []
        rows.append({
            "tabell": str(r["table_id"]),
            "hentet": _date(r.get("fetched_at"), with_time=True) or "—",
            "ssb_oppdatert": f"{_date(r.get('old_updated')) or '—'} → {_date(r.get('new_updated')) or '—'}",
            "aar": (f"{ys[0]}–{ys[-1]}" if len(ys) > 1 else ys[0]) if ys else ("all" if en else "alle"),
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
    en = state.lang == "en"
    items_nb = [
        "Kronebeløp per innbygger bruker innbyggere 31.12. i regnskapsåret (= 1.1. året etter, SSB 07459), som KOSTRA.",
        "Vektet snitt for en sammenligningsgruppe er Σ teller / Σ nevner over kommunene, kommunen selv med, slik SSB "
        "lager gruppetall; der SSBs eget tall for KOSTRA-gruppen eller landet finnes i dataene, er det gruppens tall "
        "(for 2015–2023 mangler kommuner slått sammen i 2020 eller delt i 2024 på dagens kommunenummer). Uvektet snitt "
        "er gjennomsnittet av kommunenes egne tall. «Uten kommunen selv» (ASSS-praksis) er et valg og merket der det brukes.",
        "Dekningsgrad for helse og omsorg 80+ er SSBs andel med hjemmetjenester + andel med institusjonsopphold (12209; "
        "vår sum). Brukere = dekningsgrad × innbyggere 80+, og enhetskostnad er utgift per innbygger 80+ ÷ dekningsgrad "
        "(netto per bruker, vår utledning; uten korrigerte brutto driftsutgifter kan netto/brutto ikke skilles ut).",
        "Avvik per tjeneste summerer til samlet avvik: «Øvrige tjenester og overlapp» er totalen minus tjenestene som er vist.",
        "Mer- eller mindreforbruk i kroner = (kommunens verdi − gruppens verdi) × kommunens nevner (f.eks. innbyggere).",
        "Behovskorrigert: netto driftsutgifter / (innbyggere × kostnadsindeks). Indeksen er samlet utgiftsbehov fra "
        "Grønt hefte 2026 (KMD), ikke SSB-tall og ikke sektorindekser.",
        "Nærmeste naboer: strukturvariabler (innbyggere, aldersandeler, kostnadsindeks, frie inntekter) standardiseres, "
        "og avstanden er euklidsk (CIPFA-metoden).",
        "Manglende eller skjulte tall vises som manglende med SSBs symbol (. .. : -), aldri som 0.",
    ]
    items_en = [
        "Amounts per resident use residents at 31 December of the accounting year (= 1 January next year, SSB 07459), as KOSTRA does.",
        "A peer group's weighted average is Σ numerator / Σ denominator over its municipalities, the municipality "
        "included, as SSB's group figures; where SSB's own KOSTRA-group or national figure is in the data, it is the "
        "group's figure (for 2015–2023 municipalities merged in 2020 or split in 2024 lack figures on today's codes). "
        "The unweighted average is the mean of the municipalities' own figures. «Without the municipality» (ASSS "
        "practice) is a choice, labelled where used.",
        "Coverage in health and care 80+ is SSB's share with home-based services + share with an institution stay "
        "(12209; our sum). Users = coverage × residents 80+, and unit cost is spending per resident 80+ ÷ coverage "
        "(net per user, our derivation; without corrected gross expenditure the net/gross share cannot be split off).",
        "Gaps by service add up to the total gap: «Other services and overlap» is the total minus the services shown.",
        "Spending above or below in NOK = (own value − peer value) × the municipality's denominator (e.g. residents).",
        "Need-corrected: net expenditure / (residents × cost index). The index is the total expenditure need from "
        "Grønt hefte 2026 (ministry), not SSB figures and not sector indices.",
        "Nearest neighbours: structural variables (residents, age shares, cost index, free income) are standardised and "
        "the distance is Euclidean (CIPFA method).",
        "Missing or suppressed figures are shown as missing with SSB's symbol (. .. : -), never as 0.",
    ]
    symbols = [html.Li([html.Code(sym), " ", fmt.status_text(sym, state.lang)]) for sym in (".", "..", ":", "-", "...")]
    return html.Section([
        html.H2("How the figures are computed" if en else "Slik regnes tallene"),
        html.Ul([html.Li(t) for t in (items_en if en else items_nb)]),
        html.H3("SSB's symbols" if en else "SSBs symboler"),
        html.Ul(symbols),
    ], className="card", id="metode-metode")


def indicator_section(state: st.State) -> html.Section:
    en = state.lang == "en"
    rows = indicator_rows(views.all_indicators(), state.lang)
    # fixed row height and the full text as a tooltip: wrapped, auto-sized rows make the grid slow to draw
    col = lambda f, h, **kw: {"field": f, "headerName": h, "tooltipField": f, **kw}  # noqa: E731
    cols = [
        col("navn", "Indicator" if en else "Indikator", pinned="left", minWidth=260, filter="agTextColumnFilter"),
        col("tjeneste", "Service" if en else "Tjeneste", width=150, filter="agTextColumnFilter"),
        col("teller", "Numerator" if en else "Teller", minWidth=260),
        col("nevner", "Denominator" if en else "Nevner", minWidth=240),
        col("tabell", "SSB table" if en else "SSB-tabell", width=120, filter="agTextColumnFilter"),
        col("enhet", "Unit" if en else "Enhet", width=90),
        col("maalgruppe", "Target group" if en else "Målgruppe", width=120),
        col("polaritet", "Polarity" if en else "Retning", minWidth=170),
        col("ssb_definisjon", "Which SSB definition" if en else "Hvilken SSB-definisjon", minWidth=380),
        col("samsvar", "Agreement with SSB" if en else "Samsvar med SSB", minWidth=220, filter="agTextColumnFilter"),
        col("id", "Id", minWidth=220),
    ]
    return html.Section([
        html.H2(f"{'Indicators' if en else 'Indikatorer'} ({len(rows)})"),
        html.P("Every indicator the dashboard computes, from the engine's registry. Search in the column headers."
               if en else "Alle indikatorene dashbordet regner ut, fra motorens register. Søk i kolonneoverskriftene.",
               className="hint"),
        dag.AgGrid(id=IND_GRID, rowData=rows, columnDefs=cols, className="ag-theme-alpine",
                   defaultColDef={"sortable": True, "resizable": True, "floatingFilter": True},
                   dashGridOptions={"suppressMovableColumns": True, "animateRows": False, "tooltipShowDelay": 200},
                   style={"height": "640px", "width": "100%"}),
    ], className="card", id="metode-sec-indikatorer")


def tables_section(state: st.State) -> html.Section:
    en = state.lang == "en"
    panel = data.get_panel()
    rows = table_rows(panel.tables, state.lang)
    col = lambda f, h, **kw: {"field": f, "headerName": h, "tooltipField": f, **kw}  # noqa: E731
    cols = [
        col("tabell", "Table" if en else "Tabell", pinned="left", width=130),
        col("tittel", "Title" if en else "Tittel", minWidth=280),
        col("oppdatert", "SSB updated" if en else "Oppdatert (SSB)", width=150),
        col("status", "Preliminary or final" if en else "Foreløpig eller endelig", width=170),
        col("hentet", "Fetched" if en else "Hentet", width=180),
        col("opphav", "Origin" if en else "Opphav", width=120),
        col("merknad", "Note" if en else "Merknad", minWidth=480),
        col("kilde", "Source URL" if en else "Kilde-URL", minWidth=300),
        col("ssb_merknader", "SSB's notes" if en else "SSBs merknader", minWidth=360),
    ]
    extra = []
    d = describe()
    pop = d.get("population") or {}
    if pop:
        extra.append(html.Li(
            f"Population (SSB 07459): 1 January {pop.get('first_year')}–{pop.get('last_year')}, {pop.get('regions')} regions."
             if en else
             f"Befolkning (SSB 07459): 1.1.{pop.get('first_year')}–{pop.get('last_year')}, {pop.get('regions')} regioner."))
    need_src = sorted({s for s in panel.need.get("source", pd.Series(dtype=object)).dropna().unique()}) if len(panel.need) else []
    if need_src:
        extra.append(html.Li(("Cost index: " if en else "Kostnadsindeks: ") + "; ".join(need_src)))
    group_src = sorted({s for s in panel.groups.get("source", pd.Series(dtype=object)).dropna().unique()}) if len(panel.groups) else []
    if group_src:
        extra.append(html.Li(("KOSTRA groups: " if en else "KOSTRA-grupper: ") + "; ".join(group_src)))
    built = d.get("built_at")
    return html.Section([
        html.H2("Source tables" if en else "Kildetabeller"),
        html.P((f"The database was built {built}. " if built and en else f"Databasen ble bygd {built}. " if built else "")
               + ("«Preliminary» figures are SSB's 15 March publication; «final» the 15 June revision."
                  if en else "«Foreløpig» er SSBs publisering 15. mars; «endelig» er revisjonen 15. juni."),
               className="hint"),
        dag.AgGrid(id=TABLE_GRID, rowData=rows, columnDefs=cols, className="ag-theme-alpine",
                   defaultColDef={"sortable": True, "resizable": True},
                   dashGridOptions={"domLayout": "autoHeight", "suppressMovableColumns": True, "tooltipShowDelay": 200},
                   style={"width": "100%"}),
        html.P("Hover over a cell to read the whole note." if en else "Hold musen over en celle for å lese hele merknaden.",
               className="hint"),
        html.Ul(extra) if extra else None,
    ], className="card", id="metode-sec-tabeller")


def changes_section(state: st.State) -> html.Section:
    """«Endringer ved siste henting»: per table the counts, and the largest revisions for the municipality in view."""
    en = state.lang == "en"
    head = html.H2("Changes at the last fetch" if en else "Endringer ved siste henting")
    ch = changes()
    frame = ch.get("changes")
    if frame is None or frame.empty:
        snapshot = "ssb-api" not in (ch.get("origins") or [])
        what = (("The data is the snapshot shipped with the dashboard: nothing has been fetched from SSB yet. "
                 if snapshot else "No fetch has recorded its changes in this database yet. ")
                + "Run " if en else
                ("Dataene er snapshoten som følger med dashbordet: ingenting er hentet fra SSB ennå. "
                 if snapshot else "Ingen henting har registrert endringer i denne databasen ennå. ") + "Kjør ")
        tail = (" to fetch SSB's tables; later runs fetch only what SSB has republished and list here what changed."
                if en else " for å hente SSBs tabeller; senere kjøringer henter bare det SSB har publisert på nytt, "
                "og her står hva som endret seg.")
        return html.Section([head, html.P([what, html.Code("drivers fetch"), tail])], className="card",
                            id="metode-endringer")
    rows = change_rows(frame, state.lang)
    hdr = (["Table", "Fetched", "SSB updated (before → now)", "Years", "Revised", "Added", "Removed", "Cells"] if en else
           ["Tabell", "Hentet", "Oppdatert hos SSB (før → nå)", "År", "Revidert", "Lagt til", "Fjernet", "Celler"])
    first = "first fetch" if en else "første henting"
    body = [html.Tr([html.Td(r["tabell"]), html.Td(r["hentet"]), html.Td(r["ssb_oppdatert"]), html.Td(r["aar"]),
                     html.Td(first if r["foerste"] else fmt.number(r["revidert"])),
                     html.Td("—" if r["foerste"] else fmt.number(r["lagt_til"])),
                     html.Td("—" if r["foerste"] else fmt.number(r["fjernet"])), html.Td(fmt.number(r["celler"]))])
            for r in rows]
    name = data.meta().name(state.kommune)
    revs = revision_rows(ch.get("revisions", pd.DataFrame(columns=["region"])), state.kommune)
    out = [head,
           html.P("Per table: cells whose value or status SSB changed (revised), new and no longer published cells, "
                  "among the years the fetch compared. A table SSB has not republished since is not fetched again "
                  "and shows the fetch that last wrote it." if en else
                  "Per tabell: celler der SSB endret verdi eller status (revidert), nye celler og celler SSB ikke "
                  "lenger publiserer, blant årene hentingen sammenlignet. En tabell SSB ikke har publisert på nytt "
                  "siden, hentes ikke igjen og viser hentingen som sist skrev den.", className="hint"),
           html.Table([html.Thead(html.Tr([html.Th(h) for h in hdr])), html.Tbody(body)], className="table"),
           html.H3(f"Largest revisions for {name}" if en else f"Største revisjoner for {name}")]
    if revs:
        rhdr = (["Table", "Year", "ContentsCode", "Measure", "Other dimensions", "Before", "Now", "Change"] if en else
                ["Tabell", "År", "Statistikkvariabel", "Måltall", "Andre dimensjoner", "Før", "Nå", "Endring"])
        out.append(html.Table([html.Thead(html.Tr([html.Th(h) for h in rhdr])), html.Tbody([
            html.Tr([html.Td(r["tabell"]), html.Td(r["aar"]), html.Td(r["kode"]), html.Td(r["maal"] or "—"),
                     html.Td(r["dims"] or "—"), html.Td(r["foer"]), html.Td(r["naa"]), html.Td(r["endring"])])
            for r in revs])], className="table"))
    else:
        out.append(html.P(f"SSB revised no figure for {name} at the last fetch." if en else
                          f"SSB reviderte ingen tall for {name} ved siste henting.", className="hint"))
    return html.Section(out, className="card", id="metode-endringer")


def lacks_section(state: st.State) -> html.Section:
    en = state.lang == "en"
    d = describe()
    missing = d.get("missing") or []
    items = []
    for m in missing:
        what = m.get("what_en") if en and m.get("what_en") else m.get("what")
        body = [html.Span(what)]
        if m.get("command"):
            body += [html.Br(), html.Span("Fetch with " if en else "Hent med "), html.Code(m["command"])]
        items.append(html.Li(body))
    holdings = d.get("observations") or []
    hold_rows = [html.Tr([html.Td(h.get("table_id")), html.Td(h.get("measure") or "—"),
                          html.Td(", ".join(str(y) for y in h.get("years") or [])),
                          html.Td(fmt.number(h.get("municipalities"))), html.Td(fmt.number(h.get("values")))])
                 for h in holdings]
    body = [html.H2("What the data lacks" if en else "Hva dataene mangler")]
    if items:
        body.append(html.Ul(items))
    else:
        body.append(html.P("The database does not say what it lacks." if en else "Databasen sier ikke hva den mangler."))
    if d.get("fetch_command"):
        body.append(html.P([html.Strong("Everything at once: " if en else "Alt på én gang: "), html.Code(d["fetch_command"])]))
    if hold_rows:
        body += [
            html.H3("What the data holds" if en else "Hva dataene inneholder"),
            html.Table([html.Thead(html.Tr([html.Th(h) for h in (
                ["Table", "Measure", "Years", "Municipalities", "Values"] if en else
                ["Tabell", "Måltall", "År", "Kommuner", "Verdier"])])), html.Tbody(hold_rows)], className="table"),
        ]
    return html.Section(body, className="card", id="metode-mangler")


def licence_section(state: st.State) -> html.Section:
    en = state.lang == "en"
    third = [html.Tr([html.Td(w), html.Td(src), html.Td(lic)]) for w, src, lic in THIRD_PARTY]
    return html.Section([
        html.H2("Licences and credits" if en else "Lisenser og kreditering"),
        html.Ul([
            html.Li([html.Strong("«Kilde: Statistisk sentralbyrå»"), " — KOSTRA, befolkning, klassifikasjoner. ",
                     "CC BY 4.0 (", html.A("ssb.no", href="https://www.ssb.no/en/diverse/lisens"), ")."]),
            html.Li([html.Strong("«© Kartverket»"), " — kommune- og fylkesgrenser 2024 (Administrative enheter), CC BY 4.0 (",
                     html.A("kartverket.no", href="https://www.kartverket.no/"), "), forenklet via ",
                     html.A("github.com/robhop/fylker-og-kommuner", href="https://github.com/robhop/fylker-og-kommuner"), "."]),
            html.Li([html.Strong("Kostnadsindeks"), (" — the expenditure-need index is from the ministry's Grønt hefte 2026 "
                                                     "(table A-k), not from SSB." if en else
                                                     " — utgiftsbehovet er fra Kommunal- og distriktsdepartementets Grønt hefte "
                                                     "2026 (tabell A-k), ikke fra SSB.")]),
        ]),
        html.H3("Third-party copies in the snapshot" if en else "Tredjepartskopier i snapshoten"),
        html.P("Where no public raw SSB extract was found, the snapshot uses these copies; a live fetch "
               "(`drivers fetch`) replaces them with SSB's own figures." if en else
               "Der ingen offentlig råuttrekk fra SSB fantes, bruker snapshoten disse kopiene; en henting "
               "(`drivers fetch`) erstatter dem med SSBs egne tall.", className="hint"),
        html.Table([html.Thead(html.Tr([html.Th(h) for h in (["What", "Copy", "Licence"] if en else
                                                               ["Hva", "Kopi", "Lisens"])])),
                    html.Tbody(third)], className="table"),
        dcc.Markdown("Se også `../shared/ssb/PROVENANCE.md` og `../shared/geo/PROVENANCE.md` i kildekoden."
                     if not en else "See also `../shared/ssb/PROVENANCE.md` and `../shared/geo/PROVENANCE.md` in the source."),
    ], className="card", id="metode-lisenser")


# Read what the database holds once, at start-up, so no page request opens the database.
try:
    describe()
    changes()
except Exception:  # noqa: BLE001 - a missing database shows on the page, not at import
    pass
