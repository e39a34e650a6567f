"""The embedded snapshot: `data/snapshot.duckdb`, built only from the real files in ../shared.

`build(shared, out)` writes a complete store database to a temporary file and renames it onto `out`, so a
failed build leaves the previous snapshot in place. `describe(con)` says what a database holds and what it
lacks, for the README and the dashboard.

What goes in (every figure comes from a file in ../shared; see their PROVENANCE.md):
- regions: 357 municipalities (KLASS 131 names, with Sami/Kven forms), 112 historical codes of the 2024
  changes, 15 counties, EKG01-EKG17, EAK, EAKUO; code_changes; KOSTRA groups;
- population: residents 1 January by single year of age 2015-2026 (csdata copy of 07459; municipalities
  '0301', counties '03', the nation 'EAK'); before 2024 redistricted onto 2024 borders by csdata;
- need_index: Grønt hefte 2026 kostnadsindeks (NOT SSB, marked so in `source`);
- boundaries: kommune S and M, fylke S (Kartverket via robhop);
- observations, one provenance row each in ssb_tables (origin 'snapshot'):
  '12362'           net operating expenditure, NOK 1000 (measure ndu_1000kr) from Lippen's third-party copy;
  '12134'           the recorded v2 response (frie inntekter 2024, Oslo/Bergen/Trondheim) and the Vestland
                    netto driftsresultat 2025 response (3 nulls without SSB's symbol: value NULL, status NULL);
  'lorenskog-xlsx'  the Lørenskog workbook's SSB key figures 2020-2025 (Lørenskog and 7 comparators);
  'ratedata-2015'   SSB's R package rateData: property management 2015, 2015 municipality codes.
Left out: the v0 JSON-stat files (not KOSTRA), the request fixture, the error bodies.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

import pandas as pd

from drivers import jsonstat, reference, store
from drivers.errors import UserError

SOURCE_LIPPEN = "https://github.com/Lippen1995/Project_statsbudsjett/blob/215c01688a773611b305300736a395b8138a5f45/data/kostra/index.json"
SOURCE_FIXTURE = (
    "https://data.ssb.no/api/pxwebapi/v2/tables/12134/data?lang=no&format=json-stat2"
    "&valuecodes[KOKkommuneregion0000]=0301,4601,5001&valuecodes[ContentsCode]=KOSAG110000&valuecodes[Tid]=2024"
)
SOURCE_LORENSKOG = ("https://github.com/vegard1104/kommunebarometer/blob/058604d520be5f3a992bc42b37a366c612684d4b/"
                    "team/referansedata/Lorenskog_KOSTRA_2025_nokkeltall.xlsx")
SOURCE_RATEDATA = "https://github.com/statisticsnorway/ssb-kostra/blob/91631bddde0416ef9672c1a464dd4b1ccf1a65e3/data/rateData.RData"

# What no file in ../shared holds; the dashboard and README show this with the command that fetches it.
FETCH_COMMAND = "drivers fetch --tables 12362,12134,13502,12255,12209,12293,12279,14019,07459 --years 2015-2025"
MISSING = [
    {
        "what": "Tjenestestatistikk bak dekningsgrad og enhetskostnad (barnehage, grunnskole, helse og omsorg, "
                "barnevern, sosialtjeneste) for de fleste kommuner",
        "what_en": "Service statistics behind coverage and unit cost for most municipalities",
        "tables": ["13502", "12255", "12209", "12293", "12279", "14019"],
        "command": "drivers fetch --tables 13502,12255,12209,12293,12279,14019",
    },
    {
        "what": "Netto driftsutgifter før 2024 (og 2025 for brann, kirke og i alt), korrigerte brutto driftsutgifter, "
                "SSBs egne tall per innbygger",
        "what_en": "Net expenditure before 2024 (and 2025 for fire, church and the total), corrected gross "
                   "expenditure, SSB's own per-resident figures",
        "tables": ["12362"],
        "command": "drivers fetch --tables 12362 --years 2015-2025",
    },
    {
        "what": "Finansielle nøkkeltall (12134) for alle kommuner og år; her bare tre byer 2024, Vestland 2025 og "
                "Lørenskog med sammenligningsregioner",
        "what_en": "Financial key figures (12134) for all municipalities and years",
        "tables": ["12134"],
        "command": "drivers fetch --tables 12134 --years 2015-2025",
    },
    {
        "what": "Sektorvise kostnadsindekser for alle kommuner (bare samlet indeks, ikke fra SSB)",
        "what_en": "Sector need indices for all municipalities (only the total index, not from SSB)",
        "tables": [],
        "command": None,
    },
]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _meta_for_catalog(parsed_categories: pd.DataFrame, ids: list[str], role: dict, title: str | None) -> dict:
    """A JSON-stat-2-shaped metadata dict from parsed categories (what drivers.catalog reads)."""
    dims = {}
    for dim in ids:
        cats = parsed_categories[parsed_categories["dimension"] == dim].sort_values("position")
        dims[dim] = {"category": {"index": list(cats["code"]), "label": dict(zip(cats["code"], cats["label"], strict=True))}}
    return {"id": ids, "role": role, "label": title, "dimension": dims}


def assign_catalog_measures(table_id: str | None, parsed: jsonstat.ParsedTable) -> tuple[pd.DataFrame, list[str]]:
    """Observations with the catalog's measure ids (None where the catalog has no rule or table)."""
    obs = parsed.observations
    try:
        from drivers import catalog

        entry = catalog.get(str(table_id))
    except (ImportError, UserError):
        out = obs.copy()
        out["measure"] = None
        return out, []
    meta = _meta_for_catalog(parsed.categories, parsed.dimension_ids, parsed.role, parsed.title)
    plain = obs.copy()
    plain["contents_code"] = plain["contents_code"].astype(str)
    plain["dims"] = plain["dims"].astype(str)
    return catalog.assign_measures(entry, meta, plain)


def _measure_for(table_id: str, contents_code: str) -> str | None:
    """The catalog's measure id for a contents code of a table (rules without `where` only)."""
    try:
        from drivers import catalog

        entry = catalog.get(table_id)
    except (ImportError, UserError):
        return None
    for rule in entry.measures:
        if rule.get("contents") == contents_code and not rule.get("where"):
            return rule["id"]
    return None


def _obs_12134(shared: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The recorded 12134 response plus the Vestland 2025 response, one table."""
    fixture = jsonstat.parse(reference._path(shared, reference.FIXTURE_12134).read_bytes())
    fx = fixture.observations.astype({"region": str, "contents_code": str, "dims": str, "status": object})
    vest, facts = reference.vestland_12134(shared)
    obs = pd.concat([fx, vest], ignore_index=True)
    obs["measure"] = [_measure_for("12134", c) for c in obs["contents_code"]]
    cats = fixture.categories.copy()
    extra = [("KOKkommuneregion0000", code, name, None, None) for code, name in sorted(facts["names"].items())
             if code not in set(cats.loc[cats["dimension"] == "KOKkommuneregion0000", "code"])]
    extra.append(("ContentsCode", "KOSAGD230000", "Netto driftsresultat i prosent av brutto driftsinntekter",
                  facts["unit"], None))
    extra_frame = pd.DataFrame(extra, columns=["dimension", "code", "label", "unit", "decimals"])
    cats = pd.concat([cats, extra_frame], ignore_index=True)
    cats["position"] = cats.groupby("dimension").cumcount()
    meta = {
        "table_id": "12134",
        "title": fixture.title,
        "updated": fixture.updated,
        "source_url": SOURCE_FIXTURE,
        "release": store.release_for(fixture.updated),
        "origin": "snapshot",
        "note": (
            "Ekte SSB PxWebApi v2-svar: (1) frie inntekter per innbygger 2024 for Oslo, Bergen og Trondheim, "
            "JSON-stat2 lagret 2026-04-25 av vegard1104/kommunebarometer (spike/results, 0ff4e10); "
            "(2) " + reference.VESTLAND_NOTE + " Vestland-URL: " + facts["source_url"]
        ),
        "notes_json": json.dumps(fixture.notes, ensure_ascii=False),
    }
    return obs, cats, meta


def build(shared: Path, out: Path) -> dict:
    """Build the snapshot from `shared` into `out` atomically; returns describe() of the result."""
    shared, out = Path(shared), Path(out)
    inputs = reference.input_files(shared)
    absent = [str(p) for p in inputs if not p.exists()]
    if absent:
        raise UserError(f"snapshot build: input files missing under {shared}: {', '.join(absent)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.build")
    _remove(tmp)
    try:
        con = store.connect(tmp)
        try:
            _fill(con, shared, inputs)
            summary = describe(con)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, out)
    except BaseException:
        _remove(tmp)
        raise
    return summary


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _fill(con, shared: Path, inputs: list[Path]) -> None:
    store.write_regions(con, reference.regions(shared))
    store.write_code_changes(con, reference.code_changes(shared))
    store.write_kostra_groups(con, reference.kostra_groups(shared))
    store.write_population(con, reference.population(shared))
    store.write_need_index(con, reference.need_index(shared))
    for (level, detail), text in reference.boundaries(shared).items():
        store.write_boundaries(con, level, detail, text, reference.BOUNDARY_SOURCE)

    obs, cats = reference.lippen_net_expenditure(shared)
    fetched = pd.Timestamp("2026-09-14")  # the third party's fetch date from SSB (its sources[])
    store.write_table(con, {
        "table_id": "12362",
        "title": "Utgifter til tjenesteområdene, kommunekonsern: netto driftsutgifter (tredjepartskopi)",
        "updated": None,
        "source_url": SOURCE_LIPPEN,
        "release": store.release_for(fetched),
        "origin": "snapshot",
        "note": reference.LIPPEN_NOTE + " Foreløpig/endelig er vurdert ut fra tredjepartens hentedato 2026-09-14 "
                "(etter SSBs endelige publisering 16. juni 2026).",
        "notes_json": "[]",
    }, obs, cats)

    obs12134, cats12134, meta12134 = _obs_12134(shared)
    store.write_table(con, meta12134, obs12134, cats12134)

    wb, wb_cats = reference.lorenskog_workbook(shared)
    # A cell that the raw SSB responses above already hold is kept once (from the response), after checking
    # that the workbook agrees; a disagreement stops the build.
    primary = obs12134.dropna(subset=["measure"])
    merged = wb.merge(primary[["region", "year", "measure", "value"]], on=["region", "year", "measure"],
                      how="left", suffixes=("", "_api"))
    clash = merged[merged["value_api"].notna() & (merged["value"] != merged["value_api"])]
    if len(clash):
        raise UserError(f"the Lørenskog workbook disagrees with the SSB response: {clash.head().to_dict('records')}")
    wb = wb[merged["value_api"].isna().to_numpy()]
    store.write_table(con, {
        "table_id": "lorenskog-xlsx",
        "title": "KOSTRA-nøkkeltall 2020-2025 for Lørenskog og sammenligningsregioner (tredjeparts arbeidsbok)",
        "updated": pd.Timestamp("2026-03-16 07:00"),
        "source_url": SOURCE_LORENSKOG,
        "release": "foreløpig",
        "origin": "snapshot",
        "note": reference.LORENSKOG_NOTE + f" {len(merged) - len(wb)} celle(r) som også finnes i SSB-svaret for "
                "12134 er kontrollert like og lagret bare der.",
        "notes_json": "[]",
    }, wb, wb_cats)

    rd, rd_cats = reference.ratedata_2015(shared)
    store.write_table(con, {
        "table_id": "ratedata-2015",
        "title": "KOSTRA 4.1 Konsern - Eiendomsforvaltning, grunnlagsdata (K), 2015",
        "updated": None,
        "source_url": SOURCE_RATEDATA,
        "release": None,
        "origin": "snapshot",
        "note": reference.RATEDATA_NOTE,
        "notes_json": "[]",
    }, rd, rd_cats)

    store.set_meta(con, "built_at", store.utcnow().isoformat(timespec="seconds") + "Z")
    store.set_meta(con, "built_by", "drivers snapshot build")
    store.set_meta(con, "shared_dir", str(shared))
    for path in inputs:
        store.set_meta(con, f"sha256:{path.relative_to(shared)}", sha256(path))


def describe(con) -> dict:
    """What the database holds (per table and measure: years and region counts) and what it lacks."""
    meta = store.read_meta(con)
    rows = store.read_frame(con, """
        SELECT o.table_id, coalesce(o.measure, '') AS measure, count(*) AS cells, count(o.value) AS values,
               min(o.year) AS first_year, max(o.year) AS last_year, list(DISTINCT o.year ORDER BY o.year) AS years,
               count(DISTINCT o.region) AS regions,
               count(DISTINCT o.region) FILTER (WHERE r.kind = 'kommune' AND r.valid_to IS NULL) AS municipalities,
               any_value(t.origin) AS origin, any_value(t.title) AS title
        FROM observations o LEFT JOIN regions r ON r.code = o.region LEFT JOIN ssb_tables t USING (table_id)
        GROUP BY ALL ORDER BY o.table_id, measure""")
    holdings = [
        {k: (v.tolist() if hasattr(v, "tolist") else (None if pd.isna(v) else v)) if k != "years" else
         [int(y) for y in v] for k, v in rec.items()}
        for rec in rows.to_dict("records")
    ]
    pop = store.read_frame(con, """SELECT min(year) AS first_year, max(year) AS last_year, count(DISTINCT region) AS regions,
                                   count(*) AS rows FROM population""").iloc[0]
    counts = dict(store.read_frame(con, "SELECT kind, count(*) AS n FROM regions GROUP BY kind").values.tolist())
    return {
        "built_at": meta.get("built_at"),
        "schema_version": meta.get("schema_version"),
        "observations": holdings,
        "population": {k: (None if pd.isna(v) else int(v)) for k, v in pop.items()},
        "regions": {str(k): int(v) for k, v in counts.items()},
        "kostra_groups": int(store.read_frame(con, "SELECT count(*) AS n FROM kostra_groups").iloc[0, 0]),
        "need_index": int(store.read_frame(con, "SELECT count(*) AS n FROM need_index").iloc[0, 0]),
        "boundaries": [f"{lv}/{dt}" for lv, dt in store.read_frame(con, "SELECT level, detail FROM boundaries ORDER BY 1, 2").values],
        "missing": MISSING,
        "fetch_command": FETCH_COMMAND,
    }
