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
  '12362'           net operating expenditure from Lippen's third-party copy: 2024/2025 by service (ndu_1000kr),
                    and 2015-2023 for the total and FGK7/FGK8b/FGK9 with SSB's per-resident figure
                    (ndu_1000kr, ndu_per_innbygger_kr), mapped to 2024 codes and checked by population
                    (reference.kostra_series_2024: what is refused goes into meta dropped_12362_12137,
                    unmapped_12362_12137 and no_backcast); 2015-2019 of the 2020 mergers with a unique set of parts as
                    the sum of their parts' amounts (no per-resident figure; meta backcast_sums);
  '12137'           net debt (KG31) 2015-2018, same source and rules (table id inferred);
  '12209'           SSB 12209, 2025 (preliminary): shares of residents 80+ with home care / in an institution;
  '13502'           SSB 13502 KOSandel120000 2015-2023 (share of children 1-2 in kindergarten), on 2024 codes
                    where the 12362 files prove the territory (meta territory_differs, dropped_13502);
  '12134'           the recorded v2 response (frie inntekter 2024, Oslo/Bergen/Trondheim) and the Vestland
                    netto driftsresultat 2025 response (3 nulls without SSB's symbol: value NULL, status NULL);
  'lorenskog-xlsx'  the Lørenskog workbook's SSB key figures 2020-2025 (Lørenskog and 7 comparators);
  'ratedata-2015'   SSB's R package rateData: property management 2015, 2015 municipality codes.
Left out, with the reason:
- ssb/raw/riksdata_v0-jsonstat1_07218_bankruptcies.json, riksdata_v0-jsonstat1_11654_basic-salary.json,
  riksdata_v0-jsonstat1_08651_construction-costs.json, riksdata_v0-jsonstat1_03013_cpi-subgroups.json:
  national non-KOSTRA statistics (parser fixtures);
- ssb/raw/janbrus_ssbapi_table_07459_v0-query.json: a request body, no figures;
- ssb/raw/pxwebapi-v2_error-responses_2026-04-25.json and
  ssb/raw/kommunebarometer_ssb-spike-results_2026-04-25T10-35-12-819Z.json: error bodies and timings (the
  spike file's data bodies are the 12134 response and the KLASS codes loaded above);
- ssb/derived/contentscodes_found.csv: ContentsCodes and labels, not figures (the catalog's business);
- ssb/derived/ssb-13502_KOSandel120000_andel-barn-1-2-aar-i-barnehage_2015-2023_statbank-export.xlsm: the
  verbatim export the long CSV was made from (same numbers; the tests cross-check cells against it);
- ssb/derived/sondreolsen-kommunedata_12134_KOSAGD230000_netto-driftsresultat-pct_2025_vestland.csv: the same
  43 figures as the .json loaded above.

Long on purpose: it is the one recipe that turns every file of ../shared into a database, step by step in the
order listed above, so what the snapshot holds and lacks can be read from one file.
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
from drivers.provenance import SSB_SOURCES, third_party  # noqa: F401 - named here by callers

SOURCE_LIPPEN = "https://github.com/Lippen1995/Project_statsbudsjett/blob/215c01688a773611b305300736a395b8138a5f45/data/kostra/index.json"
SOURCE_FIXTURE = (
    "https://data.ssb.no/api/pxwebapi/v2/tables/12134/data?lang=no&format=json-stat2"
    "&valuecodes[KOKkommuneregion0000]=0301,4601,5001&valuecodes[ContentsCode]=KOSAG110000&valuecodes[Tid]=2024"
)
SOURCE_LORENSKOG = ("https://github.com/vegard1104/kommunebarometer/blob/058604d520be5f3a992bc42b37a366c612684d4b/"
                    "team/referansedata/Lorenskog_KOSTRA_2025_nokkeltall.xlsx")
SOURCE_OMSORG = "https://github.com/Alksalt/omsorgsradar/blob/23601337d787fbe102d829378911c8cc9047b4ab/data/findings.json"
SOURCE_13502 = ("https://github.com/taikiyakitaiyaki/OBLIG-5-group-/blob/ef041c88a0156676efcd41aa626d81167fee4af0/"
                "ssb-barnehager-2015-2023-alder-1-2-aar.xlsm")
SOURCE_RATEDATA = "https://github.com/statisticsnorway/ssb-kostra/blob/91631bddde0416ef9672c1a464dd4b1ccf1a65e3/data/rateData.RData"

# What no file in ../shared holds; the dashboard and README show this with the command that fetches it.
FETCH_COMMAND = ("drivers fetch --tables 12362,12134,13502,12255,12209,12292,11875,12293,12279,14019,12137,07459 "
                 "--years 2015-2025")
MISSING = [
    {
        "what": "Brukertall (12292, 11875) og korrigerte brutto driftsutgifter (12362 art AGD4): uten dem er "
                "enhetskostnad bare vårt avledede restledd. Dekningsgrad finnes for helse og omsorg (andel 80+ med "
                "hjemmetjenester / på institusjon, 12209, bare 2025, foreløpige tall) og barnehage (andel 1-2 år, "
                "13502, 2015-2023); andel 1-5 år i barnehage bare for Lørenskog og sammenligningsregionene",
        "what_en": "User counts (12292, 11875) and corrected gross expenditure (12362 art AGD4): without them unit "
                   "cost is only our derived residual. Coverage exists for health and care (share of residents 80+ "
                   "with home care / in an institution, 12209, 2025 only, preliminary) and kindergarten (share of "
                   "children aged 1-2, 13502, 2015-2023); share aged 1-5 only for Lørenskog and its comparators",
        "tables": ["12292", "11875", "12362", "13502", "12209"],
        "command": "drivers fetch --tables 12292,11875,12362,13502,12209 --years 2015-2025",
    },
    {
        "what": "Tjenestestatistikk for grunnskole, barnevern og sosialtjeneste (12255, 12293, 12279, 14019) for de "
                "fleste kommuner",
        "what_en": "Service statistics for primary school, child welfare and social services for most municipalities",
        "tables": ["12255", "12293", "12279", "14019"],
        "command": "drivers fetch --tables 12255,12293,12279,14019 --years 2015-2025",
    },
    {
        "what": "Netto driftsutgifter 2015-2023 for andre tjenester enn barnehage, grunnskole og helse og omsorg; "
                "i alt og brann og kirke for 2025; 2015-2019 for kommuner som ble delt eller fikk en grensejustering "
                "i 2020, der ingen entydig sum av de gamle kommunene stemmer (se meta no_backcast; sammenslåtte "
                "kommuner med et entydig sett er summert, se backcast_sums), Trondheim 2015-2019 og Ålesund "
                "2020-2023 (kildens tall gjelder et annet område)",
        "what_en": "Net expenditure 2015-2023 for services other than kindergarten, primary school and health and "
                   "care; the total, fire and church for 2025; 2015-2019 for municipalities split or re-bordered in "
                   "2020 without a unique sum of their parts (mergers with one are summed), Trondheim 2015-2019 and "
                   "Ålesund 2020-2023",
        "tables": ["12362"],
        "command": "drivers fetch --tables 12362 --years 2015-2025",
    },
    {
        "what": "Finansielle nøkkeltall (12134) for alle kommuner og år; her bare tre byer 2024, Vestland 2025 og "
                "Lørenskog med sammenligningsregioner. Netto lånegjeld (12137) bare 2015-2018",
        "what_en": "Financial key figures (12134) for all municipalities and years; net debt (12137) only 2015-2018",
        "tables": ["12134", "12137"],
        "command": "drivers fetch --tables 12134,12137 --years 2015-2025",
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

    series = reference.kostra_series_2024(shared)
    series["labels"] = reference.ssb_labels(shared)
    facts13502 = _write_series_tables(con, shared, series)

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

    for key, value in series_meta(series, facts13502).items():
        store.set_meta(con, key, json.dumps(value, ensure_ascii=False, sort_keys=True))
    store.set_meta(con, "built_at", store.utcnow().isoformat(timespec="seconds") + "Z")
    store.set_meta(con, "built_by", "drivers snapshot build")
    store.set_meta(con, "shared_dir", str(shared))
    for path in inputs:
        store.set_meta(con, f"sha256:{path.relative_to(shared)}", sha256(path))


def _years_text(years) -> str:
    """2015, 2016, 2017 -> '2015-2017'; gaps as a list."""
    ys = sorted({int(y) for y in years})
    if ys == list(range(ys[0], ys[-1] + 1)) and len(ys) > 1:
        return f"{ys[0]}-{ys[-1]}"
    return ", ".join(map(str, ys))


def _no_backcast_text(series: dict) -> str:
    codes = series["no_backcast"]
    return ", ".join(f"{c} {series['names'][c]}" for c in sorted(codes))


def _backcast_text(series: dict) -> str:
    """The 12362 note's paragraph on the 2020 mergers back-cast as sums of their parts."""
    sets = series["backcast"]["sets"]
    listed = "; ".join(
        f"{c} {series['names'][c]} {_years_text(s['years'])} = "
        + " + ".join(sorted({p for ps in s["parts_by_year"].values() for p in ps}))
        for c, s in sorted(sets.items()))
    worst = max(abs(e) for s in sets.values() for e in s["errors"].values())
    return (f"Tilbakeført 2015-2019 for {len(sets)} kommuner slått sammen i 2020 (og Vestfold 2017-2018, "
            "Trøndelag 2018): netto driftsutgifter (1000 kr) er summen av de gamle kommunenes beløp; tall per "
            "innbygger summeres aldri (ndu_per_innbygger_kr står ikke for disse årene; per innbygger regnes av "
            "beløpet og folketallet). Settet av gamle koder er utledet av dataene alene: innbyggerne som "
            "kildens beløp / tall per innbygger gir for hver gammel kode summerer seg til 2024-kommunens innbyggere "
            f"(csdata, 2024-grenser) innen {reference.BACKCAST_IDENTIFY:.2%} i hvert år (periodens siste år kan vise en "
            "grensejustering: innbyggerne 1.1. året etter telles på de nye grensene), og ingen annen delmengde "
            f"(1-{reference.BACKCAST_MAX_PARTS} koder i samme eller nabofylke) gjør det; et år skrives bare innen "
            f"{reference.BACKCAST_TOLERANCE:.1%} (største avvik skrevet {worst:.3%}). Et år der en del mangler tall, "
            f"står tomt. {listed}.")


def _write_series_tables(con, shared: Path, series: dict) -> dict:
    """12362 (2015-2025), 12137 (2015-2018), 12209 (2025) and 13502 (2015-2023); returns 13502's facts."""
    recent, cats = reference.lippen_net_expenditure(shared)
    ndu_metrics = [m for m in reference.LIPPEN_INDEX if m != "debt"]
    history = reference.series_observations(series["rows"], ndu_metrics, reference.NDU_MEASURES)
    summed = reference.backcast_observations(series["backcast_rows"], ndu_metrics, reference.NDU_MEASURES[0])
    obs = pd.concat([recent, history, summed], ignore_index=True)
    _check_unique(obs, "12362")
    extra = reference.category_frame([
        ("gruppering", "pre2020", "KOSTRA-gruppering før 2020 (SSBs gamle grupper, ikke dagens EKG)", None, None),
        ("enhet", "fylkeskommune", "Fylkeskommunens regnskap (ikke kommunene i fylket)", None, None),
    ])
    cats = pd.concat([cats, extra], ignore_index=True)
    dropped = series["dropped"]
    refused = dropped[dropped["reason"].str.startswith("folketall") & (dropped["metric"] != "debt")]
    refused_text = "; ".join(
        f"{c}" + (f" (-> {t})" if t != c else "") + " " + _years_text(g["year"])
        for (c, t), g in refused.groupby(["code", "target"]))
    store.write_table(con, {
        "table_id": "12362",
        "title": "Utgifter til tjenesteområdene, kommunekonsern: netto driftsutgifter (tredjepartskopi)",
        "updated": None,
        "source_url": SOURCE_LIPPEN,
        "release": "endelig",
        "origin": "snapshot",
        "note": reference.LIPPEN_NOTE + " Endelig: tredjeparten hentet tallene 2026-09-14 (etter SSBs endelige "
                "publisering 16. juni 2026). " + reference.LIPPEN_INDEX_NOTE
                + f" Ikke lagret etter folketallskontrollen (kode, år): {refused_text}."
                + " " + _backcast_text(series)
                + " Fortsatt uten tall for (deler av) 2015-2019 (se meta no_backcast for grunnen): "
                + _no_backcast_text(series) + ". Se meta-nøklene backcast_sums, no_backcast, dropped_12362_12137 og "
                  "unmapped_12362_12137.",
        "notes_json": "[]",
    }, obs, cats)

    debt = reference.series_observations(series["rows"], ["debt"], reference.LIPPEN_INDEX_MEASURES["debt"])
    summed_debt = reference.backcast_observations(series["backcast_rows"], ["debt"],
                                                  reference.LIPPEN_INDEX_MEASURES["debt"][0])
    debt = pd.concat([debt, summed_debt], ignore_index=True)
    _check_unique(debt, "12137")
    store.write_table(con, {
        "table_id": "12137",
        "title": "Finansielle nøkkeltall, kommunekonsern: netto lånegjeld (KG31) (tredjepartskopi; tabell utledet)",
        "updated": None,
        "source_url": SOURCE_LIPPEN,
        "release": "endelig",
        "origin": "snapshot",
        "note": reference.DEBT_NOTE + f" Sammenslåtte kommuner 2015-2018: {len(summed_debt)} summer av de gamle "
                "kommunenes netto lånegjeld (1000 kr, bare beløpet; per innbygger regnes av folketallet), samme sett "
                "som for 12362 (meta backcast_sums).",
        "notes_json": "[]",
    }, debt, reference.category_frame([
        ("gruppering", "pre2020", "KOSTRA-gruppering før 2020 (SSBs gamle grupper, ikke dagens EKG)", None, None)]))

    omsorg, omsorg_cats, facts = reference.coverage_12209(shared)
    _check_unique(omsorg, "12209")
    absent = ", ".join(f"{c} {n}" for c, n in sorted(facts["absent"].items()))
    empty = ", ".join(facts["empty"]["pleie_andel_80_institusjon_pct"])
    store.write_table(con, {
        "table_id": "12209",
        "title": "Utvalgte nøkkeltall for helse og omsorg: andel 80 år og over med hjemmetjenester / på institusjon",
        "updated": pd.Timestamp("2026-03-16 07:00"),
        "source_url": SOURCE_OMSORG,
        "release": "foreløpig",
        "origin": "snapshot",
        "note": reference.OMSORG_NOTE + f"Ingen verdi i kilden for {absent}: lagret med verdi NULL og status NULL "
                f"(SSBs symbol står ikke i kilden). Andel på institusjon er tom i kilden for {empty}: NULL, ikke 0.",
        "notes_json": "[]",
    }, omsorg, omsorg_cats)

    bhg, bhg_cats, facts13502 = reference.kindergarten_13502(shared, series["checks"], series["rows"])
    _check_unique(bhg, "13502")
    refused13502 = facts13502["refused"]
    store.write_table(con, {
        "table_id": "13502",
        "title": "Utvalgte nøkkeltall for barnehager: andel barn 1-2 år i barnehage",
        "updated": None,
        "source_url": SOURCE_13502,
        "release": "endelig",
        "origin": "snapshot",
        "note": reference.BARNEHAGE_NOTE + " Annet område enn 2024-kommunen etter folketallskontrollen: "
                + "; ".join(f"{c} {_years_text(ys)}" for c, ys in sorted(facts13502["territory_differs"].items()))
                + f". {len(refused13502)} tall i kilden er ikke koblet til en 2024-kode "
                "(se meta-nøkkelen dropped_13502): koder før 2020 uten bevist 2024-område (f.eks. delene av "
                "kommuner slått sammen i 2020), 2111 Longyearbyen og kodene over.",
        "notes_json": "[]",
    }, bhg, bhg_cats)
    return facts13502


def _check_unique(obs: pd.DataFrame, table_id: str) -> None:
    dup = obs.duplicated(["region", "year", "contents_code", "dims", "measure"])
    if dup.any():
        raise UserError(f"snapshot build: table {table_id} has {int(dup.sum())} duplicate cells, e.g. "
                        f"{obs[dup].head(3).to_dict('records')}")


def series_meta(series: dict, facts13502: dict) -> dict:
    """The meta keys that say what the series could not map: no_backcast, dropped rows, unmapped codes."""
    dropped = series["dropped"]
    checked = dropped[dropped["reason"].str.startswith(("folketall", "tvetydig"))]
    rows = [
        {"code": r.code, "target": r.target, "year": int(r.year), "metric": r.metric,
         "implied_residents": None if pd.isna(r.implied_residents) else int(r.implied_residents),
         "residents": None if pd.isna(r.residents) else int(r.residents), "reason": r.reason}
        for r in checked.itertuples(index=False)
    ]
    other = dropped[~dropped.index.isin(checked.index)]
    unmapped = {f"{k}:{c}": sorted({int(y) for y in g["year"]})
                for (k, c), g in other.groupby(["kind", "code"])}
    reasons = sorted(set(other["reason"]))
    refused = facts13502["refused"]
    return {
        "no_backcast": series["no_backcast"],
        "backcast_sums": reference.backcast_meta(series, series.get("labels", {})),
        "dropped_12362_12137": rows,
        "unmapped_12362_12137": {"codes": unmapped, "reasons": reasons},
        "territory_differs": facts13502["territory_differs"],
        "dropped_13502": {c: {"years": sorted(int(y) for y in g["year"]), "reason": sorted(set(g["reason"]))[0]}
                          for c, g in refused.groupby("region_code")},
    }


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
        # what the 2015-2023 series could not put on 2024 codes (meta keys written by build)
        "no_backcast": json.loads(meta.get("no_backcast", "{}")),
        # 2020 mergers whose 2015-2019 amounts are the sums of their parts: code -> parts, names, years
        "backcast_sums": json.loads(meta.get("backcast_sums", "{}")),
        "dropped_by_population_check": len(json.loads(meta.get("dropped_12362_12137", "[]"))),
    }
