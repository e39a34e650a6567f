"""Pure readers of the real data files in ../shared (see their PROVENANCE.md); each returns a DataFrame.

No DuckDB here and no network: `drivers.snapshot` puts these frames into the store. Region codes follow the
store: municipalities 4 digits (2024 structure), counties 2 digits, KOSTRA groups EKG01..EKG17, the nation
'EAK' and the nation without Oslo 'EAKUO' (SSB's KOSTRA codes).

Long on purpose: one pure reader per file in ../shared, each shaped by that file's PROVENANCE entry; they
share the code-mapping and checking helpers, and a reader split from them would repeat them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

# File names inside shared_dir (= /work/shared): ssb/raw, ssb/derived and geo.
KLASS_131 = "ssb/raw/klass-v1_classifications-131_codesAt_2026-01-01_nb.json"
CODE_HISTORY = "ssb/derived/kommunebarometer_code-history_klass131_2024.json"
KOSTRA_GROUPS = "ssb/derived/kostra_groups_municipalities_2024-structure.csv"
POPULATION = "ssb/derived/csdata_nor_population_by_age_b2024_total_2015-2026.csv.gz"
NEED_INDEX = "ssb/derived/kommunebarometer_dki-2026_gronthefte_NON-SSB.json"
LIPPEN_NDU = "ssb/derived/lippen_kostra_net_expenses_by_service_2024.csv"
FIXTURE_12134 = "ssb/raw/pxwebapi-v2_12134_data_0301-4601-5001_KOSAG110000_2024.json"
VESTLAND_12134 = "ssb/derived/sondreolsen-kommunedata_12134_KOSAGD230000_netto-driftsresultat-pct_2025_vestland.json"
LORENSKOG_XLSX = "ssb/derived/Lorenskog_KOSTRA_2025_nokkeltall.xlsx"
RATEDATA_2015 = "ssb/derived/ssb-kostra-Rpkg_rateData_eiendomsforvaltning_konsern_2015_429-municipalities.csv"
RATEDATA_2015_GROUPS = "ssb/derived/ssb-kostra-Rpkg_rateData_estimates_kostragrupper_2015.csv"
GEO_KOMMUNER_CSV = "geo/kommuner_2024.csv"
GEO_FYLKER_CSV = "geo/fylker_2024.csv"
GEO_FILES = {
    ("kommune", "S"): "geo/kommuner_2024_S_plotly.geojson",
    ("kommune", "M"): "geo/kommuner_2024_M_plotly.geojson",
    ("fylke", "S"): "geo/fylker_2024_S_plotly.geojson",
}
BOUNDARY_SOURCE = (
    "Kart: © Kartverket (CC BY 4.0), Administrative enheter 2024, forenklet via github.com/robhop/fylker-og-kommuner "
    "(commit ae87825); ring winding reversed for Plotly, coordinates rounded to 5 decimals (see geo/PROVENANCE.md)"
)
NATION = "EAK"
NATION_EX_OSLO = "EAKUO"
GROUP_CODES = [f"EKG{i:02d}" for i in range(1, 18)]



def category_frame(rows: list[tuple]) -> pd.DataFrame:
    """Category rows (dimension, code, label, unit, decimals) as the store's frame, numbered within each dimension."""
    frame = pd.DataFrame(rows, columns=["dimension", "code", "label", "unit", "decimals"])
    frame["position"] = frame.groupby("dimension").cumcount()
    return frame

def _path(shared: Path, rel: str) -> Path:
    return Path(shared) / rel


def klass_municipalities(shared: Path) -> pd.DataFrame:
    """KLASS 131 on 2026-01-01: code, name (official, with Sami/Kven forms). '9999 Uoppgitt' is dropped."""
    doc = json.loads(_path(shared, KLASS_131).read_text(encoding="utf-8"))
    frame = pd.DataFrame([(c["code"], c["name"]) for c in doc["codes"]], columns=["code", "name"])
    return frame[frame["code"] != "9999"].reset_index(drop=True)


def code_changes(shared: Path) -> pd.DataFrame:
    """KLASS 131 code changes of 2024-01-01: old_code, new_code, valid_to (last valid day), name."""
    doc = json.loads(_path(shared, CODE_HISTORY).read_text(encoding="utf-8"))
    rows = []
    for new_code, entry in doc["endringer"].items():
        for old in entry["oldCodes"]:
            # the file's validTo is the first day the old code is no longer valid ("gjelder for år FØR validTo")
            last_day = (pd.Timestamp(old["validTo"]) - pd.Timedelta(days=1)).date()
            rows.append((old["code"], new_code, last_day, entry["name"]))
    return pd.DataFrame(rows, columns=["old_code", "new_code", "valid_to", "name"])


def counties(shared: Path) -> pd.DataFrame:
    """The 15 counties of 2024: code (2 digits), name (short), official name, number of municipalities."""
    frame = pd.read_csv(_path(shared, GEO_FYLKER_CSV), dtype=str)
    return frame.rename(columns={"fylkesnummer": "code", "fylkesnavn": "name", "fylkesnavn_offisielt": "official_name",
                                 "antall_kommuner": "municipalities"})


def kostra_groups(shared: Path) -> pd.DataFrame:
    """KOSTRA group membership of the 357 municipalities: region, group_code, group_name, source."""
    frame = pd.read_csv(_path(shared, KOSTRA_GROUPS), dtype=str)
    out = pd.DataFrame({
        "region": frame["kommunenummer"],
        "group_code": frame["kostragruppe_kode"],
        "group_name": frame["kostragruppe_navn"],
    })
    out["source"] = (
        "KOSTRA-grupper 2020 (2024-nummerering, Haram i gruppe 1), transkribert fra Lippen1995/Project_statsbudsjett "
        "data/kostra/index.json (215c016); gruppestørrelser kontrollert mot SSB; autoritativ kilde KLASS 1358/2840"
    )
    return out


def regions(shared: Path) -> pd.DataFrame:
    """Every region code the store knows (columns of store.regions).

    Municipalities: the 357 of KLASS 131 (2026 names); valid_from 2024 for codes new on 2024-01-01.
    Historical codes: the old codes of the 2024 code changes (valid_to 2023, current_code = new code).
    Counties (15, 2 digits), KOSTRA groups EKG01..EKG17, EAK (Landet) and EAKUO (Landet uten Oslo).
    """
    kom = klass_municipalities(shared)
    changes = code_changes(shared)
    new_in_2024 = set(changes["new_code"])
    rows = [
        (c, n, "kommune", c[:2], 2024 if c in new_in_2024 else None, None, c)
        for c, n in zip(kom["code"], kom["name"], strict=True)
    ]
    current = set(kom["code"])
    for old, new, valid_to, name in changes.itertuples(index=False):
        if old in current:  # a code both retired and current would be ambiguous; none is in the 2024 changes
            raise ValueError(f"old code {old} is also a current municipality code")
        rows.append((old, name, "kommune", old[:2], None, valid_to.year, new))
    for code, name in counties(shared)[["code", "name"]].itertuples(index=False):
        rows.append((code, name, "fylke", code, None, None, code))
    groups = kostra_groups(shared)[["group_code", "group_name"]].drop_duplicates()
    for code, name in sorted(groups.itertuples(index=False)):
        rows.append((code, name, "kostragruppe", None, None, None, code))
    rows.append((NATION, "Landet", "landet", None, None, None, NATION))
    rows.append((NATION_EX_OSLO, "Landet uten Oslo", "landet", None, None, None, NATION_EX_OSLO))
    frame = pd.DataFrame(rows, columns=["code", "name", "kind", "county", "valid_from", "valid_to", "current_code"])
    frame["valid_from"] = frame["valid_from"].astype("Int64")
    frame["valid_to"] = frame["valid_to"].astype("Int64")
    return frame


def population(shared: Path) -> pd.DataFrame:
    """Residents on 1 January by single year of age 0..105, 2015-2026 (csdata copy of SSB 07459, 2024 borders).

    region: municipality '0301', county '03', nation 'EAK'. Values before 2024 are redistricted onto the 2024
    borders by csdata (sums/weighted re-mappings of the then-current municipalities).
    """
    raw = pd.read_csv(_path(shared, POPULATION), dtype={"location_code": str})
    if (raw["sex"] != "total").any():
        raise ValueError("population file holds more than sex=total")
    code = raw["location_code"].str.replace(r"^(municip|county)_nor", "", regex=True)
    code = code.where(raw["granularity_geo"] != "nation", NATION)
    return pd.DataFrame({
        "region": code,
        "year": raw["calyear"].astype("int32"),
        "age": raw["age"].astype("int32"),
        "persons": raw["pop_jan1_n"].astype("int64"),
    })


NEED_SOURCE = (
    "IKKE SSB: Kommunal- og distriktsdepartementet, Grønt hefte 2026, tabell A-k (samlet kostnadsindeks), "
    "samlet via vegard1104/kommunebarometer data/dki-2026.json (9d2105e); bør kontrolleres mot departementets publikasjon"
)
NEED_SECTORS = {"samlet": "total"}


def need_index(shared: Path) -> pd.DataFrame:
    """Expenditure-need index (kostnadsindeks; national mean 1.0) for 355 municipalities, budget year 2026.

    NOT SSB data. One 'total' row per municipality; Lørenskog also has the file's sector indices.
    """
    doc = json.loads(_path(shared, NEED_INDEX).read_text(encoding="utf-8"))
    year = int(doc["år"])
    rows = []
    for region, entry in doc["kommuner"].items():
        if isinstance(entry, dict):
            for key, value in entry.items():
                if key == "navn":
                    continue
                rows.append((region, year, NEED_SECTORS.get(key, key), float(value)))
        else:
            rows.append((region, year, "total", float(entry)))
    frame = pd.DataFrame(rows, columns=["region", "year", "sector", "value"])
    frame["source"] = NEED_SOURCE
    return frame


def boundaries(shared: Path) -> dict[tuple[str, str], str]:
    """GeoJSON text by (level, detail): kommune S and M, fylke S (Plotly-ready, see geo/PROVENANCE.md)."""
    return {key: _path(shared, rel).read_text(encoding="utf-8") for key, rel in GEO_FILES.items()}


# ----------------------------------------------------------------------------- KOSTRA figures (observations)

LIPPEN_NOTE = (
    "Tredjepartskopi: netto driftsutgifter (1000 kr) per funksjonsgruppe (art AGD2) og i alt (AGD1), kommunekonsern, "
    "fra Lippen1995/Project_statsbudsjett data/kostra/index.json (commit 215c016, bygd fra SSBs API; tabell 12362 "
    "utledet, ikke oppgitt). SSBs ContentsCode står ikke i kilden (contents_code ''). 2024: 9 tjenester og i alt; "
    "2025: 7 tjenester. Foreløpig/endelig er ikke merket i kilden. Risør 4201 og Tvedestrand 4213 2024: KOSTRAs "
    "folketall avviker ~1,5 % fra csdata (grensejustering). Funksjonsgrupper overlapper delvis."
)


def lippen_net_expenditure(shared: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Net operating expenditure, NOK 1000 (Lippen's copy of 12362): (observations, categories).

    Observations in store shape with measure 'ndu_1000kr' and contents_code ''; a service row has dims
    'KOKart0000=AGD2;KOKfunksjon0000=FGKx', the municipal total 'KOKart0000=AGD1'.
    """
    raw = pd.read_csv(_path(shared, LIPPEN_NDU), dtype={"kommunenummer": str})
    total = raw["service_code"] == "TOTAL"
    dims = np.where(total, "KOKart0000=AGD1", "KOKart0000=AGD2;KOKfunksjon0000=" + raw["service_code"])
    obs = pd.DataFrame({
        "region": raw["kommunenummer"],
        "year": raw["year"].astype("int32"),
        "contents_code": "",
        "dims": dims,
        "measure": "ndu_1000kr",
        "value": raw["amount_nok_1000"].astype(float),
        "status": None,
    })
    services = raw.loc[~total, ["service_code", "service_name"]].drop_duplicates().sort_values("service_code")
    cats = [("KOKfunksjon0000", c, n, "1000 kr", 0) for c, n in services.itertuples(index=False)]
    cats += [("KOKart0000", "AGD1", "Netto driftsutgifter i alt", "1000 kr", 0),
             ("KOKart0000", "AGD2", "Netto driftsutgifter", "1000 kr", 0)]
    categories = category_frame(cats)
    return obs, categories


VESTLAND_NOTE = (
    "Netto driftsresultat i % av brutto driftsinntekter (KOSAGD230000), 2025, de 43 kommunene i Vestland, fra en "
    "SSB PxWebApi v2-respons (CSV) hentet 2026-05-23 (foreløpige tall 16. mars 2026), filtrert av "
    "sondreolsen/kommunedata (data/driftsresultat-2025.js, 05f3c27). Fedje 4633, Hyllestad 4637 og Vaksdal 4628 er "
    "null i kilden uten SSBs statussymbol; de er lagret som manglende (value NULL, status NULL), ikke 0."
)


def vestland_12134(shared: Path) -> tuple[pd.DataFrame, dict]:
    """12134 KOSAGD230000 for Vestland 2025 (observations, facts: source URL, fetched date, labels)."""
    doc = json.loads(_path(shared, VESTLAND_12134).read_text(encoding="utf-8"))
    rows = [(m["code"], name, m["value"]) for name, m in doc["municipalities"].items()]
    frame = pd.DataFrame(rows, columns=["region", "name", "value"]).sort_values("region")
    obs = pd.DataFrame({
        "region": frame["region"].to_numpy(),
        "year": int(doc["year"]),
        "contents_code": doc["contentsCode"],
        "dims": "",
        "value": pd.to_numeric(frame["value"]).astype(float).to_numpy(),
        "status": None,
    })
    facts = {"source_url": doc["sourceUrl"], "fetched": doc["fetchedAt"], "unit": doc["unit"],
             "names": dict(zip(frame["region"], frame["name"], strict=True)), "table": doc["table"]}
    return obs, facts


# Lørenskog workbook: comparator columns -> region codes. «Kostragr. 8» is verified to be EKG08's figures
# (Innbyggere 2024 = 158 586 = the sum of EKG08's residents 1.1.2025 in the csdata file; barnehage share of net
# expenditure 2024 12,8 % = EKG08 in Lippen's 12362 copy, EKG10 would be 14,3 %); Lørenskog itself is EKG10.
LORENSKOG_COLUMNS = {
    "Lørenskog": "3222", "Landet": NATION, "Landet u/Oslo": NATION_EX_OSLO, "Kostragr. 8": "EKG08",
    "Oslo": "0301", "Lillestrøm": "3205", "Enebakk": "3220", "Rælingen": "3224",
}
# Workbook indicator label -> catalog measure id, where the label names the same figure.
LORENSKOG_MEASURES = {
    "Netto driftsresultat i % av brutto driftsinntekter (%)": "netto_driftsresultat_pct",
    "Langsiktig gjeld (ekskl. pensjonsforpl.) i % av br. driftsinnt. (%)": "langsiktig_gjeld_pct",
    "Frie inntekter per innbygger (kr)": "frie_inntekter_per_innbygger_kr",
    "Fri egenkapital drift i % av br. driftsinnt. (%)": "fri_egenkapital_drift_pct",
    "Netto driftsutgifter til grunnskole per innbygger 6-15 år (kr)": "grunnskole_ndu_per_6_15_kr",
    "Netto driftsutgifter barnehage per innb. 1-5 år (kr)": "barnehage_ndu_per_1_5_kr",
    "Andel barn 1-5 år i barnehage (%)": "barnehage_andel_1_5_pct",
}
# Sheets of SSB figures (year rows x region columns) and the SSB table the workbook's metadata sheet lists for
# that topic. «Oversikt» repeats these sheets; «Kostnadsnivå (ENH)» is the workbook author's own need-adjusted
# computation (not SSB figures) and is left out.
LORENSKOG_SHEETS = {
    "Økonomi": "12134", "Grunnskole": "12255", "Barnehage": "13502", "Helse og omsorg": "12209",
    "Sosialtjeneste": "14019", "Kultur": "13135", "Befolkning": "11820",
}
LORENSKOG_NOTE = (
    "Tredjeparts arbeidsbok (vegard1104/kommunebarometer team/referansedata/Lorenskog_KOSTRA_2025_nokkeltall.xlsx, "
    "058604d) med SSB KOSTRA-nøkkeltall for Lørenskog 3222 og sammenligningsregioner 2020-2025, uttrekk 2026-04-24; "
    "2025 er foreløpige tall (16. mars 2026). Arkenes SSB-tabell (dimensjon ssb_tabell) er utledet av arbeidsbokens "
    "metadataark etter tema, ikke oppgitt per indikator. SSBs ContentsCode står ikke i kilden (contents_code ''); "
    "indikatoren står i dimensjonen indikator. Kolonnen «Kostragr. 8» er merket uverifisert i PROVENANCE.md "
    "(Lørenskog er i EKG10); tallene er kontrollert å være EKG08s (innbyggere 2024 = 158 586 = sum EKG08 "
    "1.1.2025; barnehageandel 12,8 % = EKG08) og er lagret som EKG08. «Kostnadsnivå (ENH)» er forfatterens egen "
    "beregning og er ikke tatt med. Tomme celler er utelatt."
)


def _slug(text: str) -> str:
    text = text.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a").replace("\xad", "")
    text = re.sub(r"\([^)]*\)\s*$", "", text)
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _unit(label: str) -> str | None:
    m = re.search(r"\(([^()]*)\)\s*$", label)
    return m.group(1) if m else None


def lorenskog_workbook(shared: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The workbook's SSB key figures as (observations, categories).

    Observations: region (see LORENSKOG_COLUMNS), year, contents_code '', dims 'indikator=<slug>;ssb_tabell=<id>',
    measure (catalog id where LORENSKOG_MEASURES names one, else None), value, status None. Empty cells are left
    out (the workbook has no status symbols), so nothing becomes 0.
    """
    import openpyxl  # only the snapshot build needs it

    wb = openpyxl.load_workbook(_path(shared, LORENSKOG_XLSX), data_only=True, read_only=True)
    obs_rows: list[tuple] = []
    indicators: dict[str, tuple[str, str | None]] = {}
    for sheet, table in LORENSKOG_SHEETS.items():
        rows = list(wb[sheet].iter_rows(values_only=True))
        title: str | None = None
        header: list | None = None
        for row in rows[2:]:
            first = row[0]
            if first is None:
                continue
            if isinstance(first, str) and first.startswith("År") and row[1] is not None:  # 'År \ Region' header
                header = list(row)
                continue
            if isinstance(first, str) and re.fullmatch(r"\d{4}", first.strip()) and header and title:
                year = int(first)
                for col, value in zip(header[1:], row[1:], strict=False):
                    if col is None or value is None:
                        continue
                    if col not in LORENSKOG_COLUMNS:
                        raise ValueError(f"unknown comparator column {col!r} in sheet {sheet}")
                    slug = _slug(title)
                    obs_rows.append((LORENSKOG_COLUMNS[col], year, f"indikator={slug};ssb_tabell={table}",
                                     LORENSKOG_MEASURES.get(title), float(value)))
                    indicators[slug] = (title, _unit(title))
                continue
            if isinstance(first, str) and row[1] is None:  # an indicator title line
                title, header = first.strip(), None
    wb.close()
    obs = pd.DataFrame(obs_rows, columns=["region", "year", "dims", "measure", "value"])
    obs.insert(2, "contents_code", "")
    obs["status"] = None
    obs["year"] = obs["year"].astype("int32")
    cats = [("indikator", slug, label, unit, None) for slug, (label, unit) in indicators.items()]
    cats += [("ssb_tabell", t, f"SSB tabell {t} (utledet av arbeidsbokens metadataark)", None, None)
             for t in dict.fromkeys(LORENSKOG_SHEETS.values())]
    cats += [("region", code, col, None, None) for col, code in LORENSKOG_COLUMNS.items()]
    categories = category_frame(cats)
    return obs, categories


RATEDATA_NOTE = (
    "KOSTRA 4.1 Konsern - Eiendomsforvaltning for utvalgte kommunale formålsbygg - grunnlagsdata (K), "
    "regnskapsår 2015, alle 428 kommuner i 2015-strukturen + 2111 Longyearbyen, fra SSBs R-pakke Kostra "
    "(statisticsnorway/ssb-kostra data/rateData.RData, MIT). Beløp i 1000 kr, areal i m², folkemengde i personer. "
    "Regionkodene er 2015-koder: kodehistorikken vi har dekker bare endringene 1.1.2024, så de er ikke koblet til "
    "2024-strukturen. Rader med region EKGxx i dims gruppering=pre2020 er gruppeestimater i den gamle (før 2020) "
    "KOSTRA-grupperingen, ikke dagens EKG-grupper (uverifisert om de er SSBs publiserte aggregater)."
)


def ratedata_2015(shared: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The 2015 rateData extracts as (observations, categories), year 2015, measure None.

    Municipal rows: region = the 2015 municipality code, dims 'variabel=<slug>'. Group rows (old grouping):
    region = 'EKGxx' as in the file, dims 'gruppering=pre2020;variabel=<slug>'.
    """
    kom = pd.read_csv(_path(shared, RATEDATA_2015), dtype={"kommunenummer": str})
    groups = pd.read_csv(_path(shared, RATEDATA_2015_GROUPS))
    variables = [c for c in groups.columns if c != "region_label"]
    frames = []
    k = kom.melt(id_vars=["kommunenummer"], value_vars=variables, var_name="variable", value_name="value")
    k["region"], k["prefix"] = k["kommunenummer"], ""
    frames.append(k)
    g = groups.melt(id_vars=["region_label"], value_vars=variables, var_name="variable", value_name="value")
    g["region"], g["prefix"] = g["region_label"].str.split(" ").str[0], "gruppering=pre2020;"
    frames.append(g)
    both = pd.concat(frames, ignore_index=True)
    both = both[both["value"].notna()]
    slugs = {v: _slug(v) for v in variables}
    obs = pd.DataFrame({
        "region": both["region"].to_numpy(),
        "year": np.int32(2015),
        "contents_code": "",
        "dims": (both["prefix"] + "variabel=" + both["variable"].map(slugs)).to_numpy(),
        "value": both["value"].astype(float).to_numpy(),
        "status": None,
    })
    unit = {v: ("m²" if v.startswith(("Areal", "Samlet areal")) else "personer" if v == "Folkemengde i alt"
                else "1000 kr") for v in variables}
    cats = [("variabel", slugs[v], v, unit[v], 0) for v in variables]
    cats += [("region", r, lab, None, None) for r, lab in zip(kom["kommunenummer"], kom["region_label"], strict=True)]
    cats += [("region_pre2020", lab.split(" ")[0], lab, None, None) for lab in groups["region_label"]]
    cats += [("gruppering", "pre2020", "KOSTRA-gruppering før 2020 (gammel nummerering)", None, None)]
    categories = category_frame(cats)
    return obs, categories


# ------------------------------------------------ KOSTRA series 2015-2023 on 2024 codes (Lippen's index copy)

LIPPEN_INDEX = {  # metric in the file -> (file, dims as in the 2024/2025 copy)
    "net_expenses": ("ssb/derived/lippen_index_2015-2023_net_expenses.csv", "KOKart0000=AGD1"),
    "service_FGK7": ("ssb/derived/lippen_index_2015-2023_service_FGK7.csv", "KOKart0000=AGD2;KOKfunksjon0000=FGK7"),
    "service_FGK8b": ("ssb/derived/lippen_index_2015-2023_service_FGK8b.csv", "KOKart0000=AGD2;KOKfunksjon0000=FGK8b"),
    "service_FGK9": ("ssb/derived/lippen_index_2015-2023_service_FGK9.csv", "KOKart0000=AGD2;KOKfunksjon0000=FGK9"),
    "debt": ("ssb/derived/lippen_index_2015-2018_debt.csv", ""),
}
# Measure ids per metric: (amount in NOK 1000, SSB's own figure per resident).
LIPPEN_INDEX_MEASURES = {
    "debt": ("netto_lanegjeld_1000kr", "netto_lanegjeld_per_innbygger_kr"),
}
NDU_MEASURES = ("ndu_1000kr", "ndu_per_innbygger_kr")
POPULATION_TOLERANCE = 0.02  # implied residents vs real residents (2024 borders), relative
FIRST_NEW_STRUCTURE_YEAR = 2020  # the 2020 reform: codes and KOSTRA groups before it are another structure
# Counties of 2024 whose territory is that of the 2020-2023 county of the same code.
COUNTIES_2024_KEPT_FROM_2020 = ("03", "11", "15", "18", "34", "42", "46", "50")
PRE2020_GROUP_DIM = "gruppering=pre2020"
COUNTY_AUTHORITY_DIM = "enhet=fylkeskommune"


def _append_dim(dims: pd.Series | str, extra: str):
    """dims with one more 'DIM=code' part; the extra dimension names sort after 'KOK…' (lower case), so the
    result stays sorted by dimension as the store wants."""
    if isinstance(dims, str):
        return f"{dims};{extra}" if dims else extra
    return dims.map(lambda d: f"{d};{extra}" if d else extra)


def lippen_index(shared: Path) -> pd.DataFrame:
    """The five 2015-2023 (debt 2015-2018) files as one frame, values as they stand.

    Columns: kind (municipality|county|country|peer_group), code, year, metric, amount_nok_1000, per_capita_nok,
    dims (the store's dims for the metric).
    """
    frames = []
    for metric, (rel, dims) in LIPPEN_INDEX.items():
        raw = pd.read_csv(_path(shared, rel), dtype={"entity": str})
        if set(raw["metric"]) != {metric}:
            raise ValueError(f"{rel}: expected only metric {metric}, found {sorted(set(raw['metric']))}")
        kind_code = raw["entity"].str.split(":", n=1, expand=True)
        frames.append(pd.DataFrame({
            "kind": kind_code[0].to_numpy(object), "code": kind_code[1].to_numpy(object),
            "year": raw["year"].astype("int32").to_numpy(), "metric": metric,
            "amount_nok_1000": raw["amount_nok_1000"].astype(float).to_numpy(),
            "per_capita_nok": raw["per_capita_nok"].astype(float).to_numpy(), "dims": dims,
        }))
    return pd.concat(frames, ignore_index=True)


def residents_31_december(population_frame: pd.DataFrame) -> pd.Series:
    """Residents per (region, KOSTRA year): 1 January of year + 1 (KOSTRA's per-resident convention)."""
    total = population_frame.groupby(["region", "year"])["persons"].sum()
    total.index = total.index.set_levels(total.index.levels[1] - 1, level=1)
    return total.rename("residents")


def check_population(frame: pd.DataFrame, residents: pd.Series, tolerance: float = POPULATION_TOLERANCE) -> pd.DataFrame:
    """Adds implied_residents, residents, deviation and population_ok to rows with code, target, year,
    amount_nok_1000 and per_capita_nok.

    implied = amount × 1000 / per capita. Both figures are rounded in the source (to 1000 kr and whole kroner),
    so a row passes when the real residents of `target` lie within `tolerance` of the interval the rounding
    allows. A row whose own figures are too small to tell (e.g. a per-capita figure of 3 kr) is judged by the
    best-determined row of the same (code, year) in any metric (the source's residents agree across files), so
    every row of a territory that is not the target's is refused.
    """
    out = frame.copy()
    pc, amount = out["per_capita_nok"].to_numpy(float), out["amount_nok_1000"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        implied = amount * 1000 / pc
        a = (np.abs(amount) + 0.5) * 1000 / np.maximum(np.abs(pc) - 0.5, 0)
        b = np.maximum(np.abs(amount) - 0.5, 0) * 1000 / (np.abs(pc) + 0.5)
    real = pd.Series(list(zip(out["target"], out["year"], strict=True))).map(residents.to_dict()).to_numpy(float)
    lo, hi = np.minimum(a, b) * (1 - tolerance), np.maximum(a, b) * (1 + tolerance)
    own_ok = (real >= lo) & (real <= hi)
    out["implied_residents"] = np.where(np.isfinite(implied), np.round(implied), np.nan)
    out["residents"] = real
    out["deviation"] = implied / real - 1
    # the best-determined row of each (code, target, year): the largest |per capita|
    key = out["code"].astype(str) + "|" + out["target"].astype(str) + "|" + out["year"].astype(str)
    best = out.assign(_key=key, _abs=np.abs(pc)).sort_values("_abs", ascending=False).drop_duplicates("_key")
    best_dev = dict(zip(best["_key"], np.abs(best["deviation"]), strict=True))
    best_ok = key.map(best_dev).to_numpy(float) <= tolerance
    out["population_ok"] = own_ok & best_ok & np.isfinite(real)
    return out


def municipality_targets(codes: pd.Series, current: set[str], code_map: dict[str, str]) -> pd.Series:
    """The 2024 code for each municipality code: itself if current, else its successor in the 2024 code
    history, else None (a pre-2020 code: no code history in ../shared)."""
    return codes.map(lambda c: c if c in current else code_map.get(c))


def _resolve_duplicates(rows: pd.DataFrame, key: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per key: rows with identical figures collapse (the row under the 2024 code is kept); keys with
    different figures that all passed the population check are refused as ambiguous. (kept, ambiguous)."""
    rows = rows.assign(_own=(rows["code"] == rows["target"]).astype(int))
    rows = rows.sort_values([*key, "_own"], ascending=[True] * len(key) + [False])
    distinct = rows.drop_duplicates([*key, "amount_nok_1000", "per_capita_nok"])
    n = distinct.groupby(key)["code"].transform("size")
    ambiguous = distinct[n > 1]
    kept = distinct[n == 1]
    return kept.drop(columns="_own"), ambiguous.drop(columns="_own")


def kostra_series_2024(shared: Path) -> dict:
    """Lippen's 2015-2023 series mapped to 2024 codes and checked by population (pure; no store).

    Returns a dict:
      rows      accepted rows: region, year, metric, dims, amount_nok_1000, per_capita_nok, code (the source's)
      dropped   refused rows with a reason: code, target, year, metric, implied_residents, residents,
                deviation, reason (a territory other than the 2024 code's, an ambiguous duplicate, an aggregate
                left out, or a pre-2020 code without a proven 2024 successor)
      checks    every municipality/county/nation row with its population check (for territory_differs and
                proven_codes)
      no_backcast  2024 municipality code -> Norwegian reason, for codes without 2015-2019 values
    Rules: see the module's KOSTRA series section and the 12362 note (LIPPEN_INDEX_NOTE).
    """
    raw = lippen_index(shared)
    residents = residents_31_december(population(shared))
    kom = klass_municipalities(shared)
    current, names = set(kom["code"]), dict(zip(kom["code"], kom["name"], strict=True))
    changes = code_changes(shared)
    code_map = dict(zip(changes["old_code"], changes["new_code"], strict=True))
    dropped: list[pd.DataFrame] = []

    mun = raw[raw["kind"] == "municipality"].copy()
    mun["target"] = municipality_targets(mun["code"], current, code_map)
    unmapped = mun[mun["target"].isna()]
    mun = mun[mun["target"].notna()]
    checked = check_population(mun, residents)
    bad = checked[~checked["population_ok"]]
    dropped.append(bad.assign(reason="folketallskontroll: annet område enn 2024-kommunen"))
    kept, ambiguous = _resolve_duplicates(checked[checked["population_ok"]], ["target", "year", "metric"])
    dropped.append(ambiguous.assign(reason="tvetydig: flere rader med ulike tall for samme 2024-kode"))

    # a pre-2020 code whose figures also stand under a kept 2024 code is a duplicate (renumbering), not lost
    kept_fp = set(zip(kept["year"], kept["metric"], kept["amount_nok_1000"], kept["per_capita_nok"], strict=True))
    fp = list(zip(unmapped["year"], unmapped["metric"], unmapped["amount_nok_1000"], unmapped["per_capita_nok"],
                  strict=True))
    is_dup = np.array([f in kept_fp for f in fp], dtype=bool)
    lost = unmapped[~is_dup]
    dropped.append(lost.assign(reason=np.where(
        lost["year"] < FIRST_NEW_STRUCTURE_YEAR,
        "kode før 2020 uten kjent 2024-etterfølger (ingen kodehistorikk for 2020 i ../shared)",
        "kode uten 2024-etterfølger i kodehistorikken (2111 Longyearbyen er ikke en kommune i 2024-strukturen)")))

    # aggregates
    agg = raw[raw["kind"] != "municipality"].copy()
    nation = agg[(agg["kind"] == "country") & (agg["code"] == NATION)].assign(target=NATION)
    eafk = agg[(agg["kind"] == "country") & (agg["code"] != NATION)]
    dropped.append(eafk.assign(target=None, reason="EAFK (fylkeskommunene samlet) er ikke en kommuneregion; utelatt"))
    county = agg[agg["kind"] == "county"]
    county_ok = (county["year"] >= FIRST_NEW_STRUCTURE_YEAR) & county["code"].isin(COUNTIES_2024_KEPT_FROM_2020)
    dropped.append(county[~county_ok].assign(
        target=None, reason="fylke før 2020 eller ikke et 2024-fylke (annen fylkesinndeling); utelatt"))
    county = county[county_ok].assign(target=county.loc[county_ok, "code"])
    checked_agg = check_population(pd.concat([nation, county], ignore_index=True), residents)
    dropped.append(checked_agg[~checked_agg["population_ok"]].assign(reason="folketallskontroll feilet"))
    good_agg = checked_agg[checked_agg["population_ok"]]
    # county rows are county authorities (fylkeskommune): Rogaland's 2022 total is 6.6 bn, its municipalities'
    # 33.5 bn; Oslo is both. They get a dimension of their own so nothing reads them as municipalities' sums.
    good_agg = good_agg.assign(dims=np.where(good_agg["kind"] == "county",
                                             _append_dim(good_agg["dims"], COUNTY_AUTHORITY_DIM), good_agg["dims"]))
    groups = agg[agg["kind"] == "peer_group"].copy()
    groups["target"] = groups["code"]
    old = groups["year"] < FIRST_NEW_STRUCTURE_YEAR
    groups.loc[old, "dims"] = _append_dim(groups.loc[old, "dims"], PRE2020_GROUP_DIM)

    rows = pd.concat([kept, good_agg, groups], ignore_index=True)
    rows = rows.rename(columns={"target": "region"})[
        ["region", "year", "metric", "dims", "amount_nok_1000", "per_capita_nok", "code", "kind"]]
    dup = rows.duplicated(["region", "year", "metric", "dims"])
    if dup.any():
        raise ValueError(f"two rows for one (region, year, dims): {rows[dup].head().to_dict('records')}")

    no_backcast = {}
    have = kept.groupby("target")["year"].agg(set).to_dict()
    failed = bad.groupby("target")["year"].agg(set).to_dict()
    for code in sorted(current):
        years = have.get(code, set())
        missing = [y for y in range(2015, FIRST_NEW_STRUCTURE_YEAR) if y not in years]
        if not missing:
            continue
        span = f"{missing[0]}–{missing[-1]}" if len(missing) > 1 else str(missing[0])
        if failed.get(code, set()) & set(missing):
            reason = (f"{names[code]}: kildens tall {span} gjelder et annet område (folketallskontroll) "
                      "og er ikke tatt med")
        else:
            reason = (f"{names[code]}: ingen tall {span} i kilden under 2024-koden (kommunen fikk nytt område eller "
                      "ny kode ved en sammenslåing eller deling); ../shared har ingen kodehistorikk før 2024, så "
                      "delene kan ikke summeres")
        no_backcast[code] = reason
    all_dropped = pd.concat([d for d in dropped if len(d)], ignore_index=True)
    cols = ["kind", "code", "target", "year", "metric", "amount_nok_1000", "per_capita_nok", "implied_residents",
            "residents", "deviation", "reason"]
    series = {"rows": rows.reset_index(drop=True), "dropped": all_dropped.reindex(columns=cols),
              "checks": pd.concat([checked, checked_agg], ignore_index=True), "no_backcast": no_backcast,
              "names": names}
    found = backcast_sets(series, raw, residents)
    series["backcast_rows"] = backcast_rows(found["sets"], backcast_pool(series, raw))
    series["backcast"] = found
    series["no_backcast"] = _still_missing(no_backcast, found, names)
    return series


def _still_missing(no_backcast: dict, found: dict, names: dict) -> dict:
    """no_backcast after the back-cast: the refusal's reason, or the years a back-cast municipality still lacks."""
    out = {}
    for code, reason in no_backcast.items():
        if code in found["refused"]:
            out[code] = found["refused"][code]
        elif code in found["sets"]:
            left = found["sets"][code]["left_out"]
            if left:
                out[code] = "; ".join(
                    f"{names[code]}: {y} ikke tilbakeført (delenes innbyggere avviker {e:+.1%} fra 2024-kommunens: "
                    "grensejustering 1.1.2020)" for y, e in sorted(left.items()))
        else:
            out[code] = reason
    return out


def backcast_rows(sets: dict, pool: pd.DataFrame) -> pd.DataFrame:
    """The summed amounts (NOK 1000) of each back-cast municipality-year-metric, in the shape of the series rows
    with per_capita_nok NaN (a per-resident figure is never summed; the engine divides by the population). A
    metric-year where a part lacks a row is left out (no partial sums). code = the parts joined by '+'."""
    by_key = {(c, int(y), m): (a, d) for c, y, m, a, d in
              zip(pool["code"], pool["year"], pool["metric"], pool["amount_nok_1000"], pool["dims"], strict=True)}
    metrics = sorted(set(pool["metric"]))
    out = []
    for target, s in sorted(sets.items()):
        for year, parts in sorted(s["parts_by_year"].items()):
            for metric in metrics:
                got = [by_key.get((c, year, metric)) for c in parts]
                if any(g is None or not np.isfinite(g[0]) for g in got):
                    continue
                out.append((target, year, metric, got[0][1], float(sum(g[0] for g in got)), np.nan,
                            "+".join(parts), "municipality"))
    frame = pd.DataFrame(out, columns=["region", "year", "metric", "dims", "amount_nok_1000", "per_capita_nok",
                                       "code", "kind"])
    frame["year"] = frame["year"].astype("int32")
    return frame


def backcast_observations(rows: pd.DataFrame, metrics: list[str], measure: str) -> pd.DataFrame:
    """Back-cast rows of `metrics` as store observations: only the summed amount, under `measure`."""
    sel = rows[rows["metric"].isin(metrics)]
    return pd.DataFrame({"region": sel["region"].to_numpy(object), "year": sel["year"].astype("int32").to_numpy(),
                         "contents_code": "", "dims": sel["dims"].to_numpy(object), "measure": measure,
                         "value": sel["amount_nok_1000"].astype(float).to_numpy(), "status": None})


def ssb_labels(shared: Path) -> dict[str, str]:
    """Region code -> SSB's label in the 13502 export («Skedsmo (-2019)»): names for notes, never a mapping."""
    raw = pd.read_csv(_path(shared, BARNEHAGE_13502), dtype={"region_code": str}, usecols=["region_code",
                                                                                         "region_label_ssb"])
    return dict(raw.drop_duplicates("region_code").itertuples(index=False, name=None))


def backcast_meta(series: dict, labels: dict[str, str]) -> dict:
    """Meta backcast_sums: 2024 code -> parts (every old code used), names (SSB's labels), years written,
    parts by year, max_rel_error (largest |implied residents of the parts / csdata residents - 1| written)."""
    out = {}
    for code, s in sorted(series["backcast"]["sets"].items()):
        parts = sorted({c for ps in s["parts_by_year"].values() for c in ps})
        out[code] = {"name": series["names"][code], "parts": parts, "names": [labels.get(c, c) for c in parts],
                     "years": s["years"], "parts_by_year": {str(y): p for y, p in sorted(s["parts_by_year"].items())},
                     "max_rel_error": float(max(abs(e) for e in s["errors"].values())),
                     "left_out": {str(y): round(float(e), 5) for y, e in sorted(s["left_out"].items())}}
    return out


def series_observations(rows: pd.DataFrame, metrics: list[str], measures: tuple[str, str]) -> pd.DataFrame:
    """Accepted series rows of `metrics` as store observations: the amount (NOK 1000) under measures[0] and SSB's
    per-resident figure (kr) under measures[1], contents_code '' (SSB's code is not in the source)."""
    sel = rows[rows["metric"].isin(metrics)]
    frames = [
        pd.DataFrame({"region": sel["region"].to_numpy(object), "year": sel["year"].astype("int32").to_numpy(),
                      "contents_code": "", "dims": sel["dims"].to_numpy(object), "measure": measure,
                      "value": sel[column].astype(float).to_numpy(), "status": None})
        for measure, column in zip(measures, ("amount_nok_1000", "per_capita_nok"), strict=True)
    ]
    return pd.concat(frames, ignore_index=True)


def territory_differs(checks: pd.DataFrame) -> dict[str, list[int]]:
    """Codes of 2020-2023 whose figures in a year belong to another territory than their 2024 successor
    (population check failed): old code -> years. E.g. 1507 Ålesund (included Haram, split off in 2024)."""
    new = checks[(checks["kind"] == "municipality") & (checks["year"] >= FIRST_NEW_STRUCTURE_YEAR)]
    bad = new[~new["population_ok"]]
    return {c: sorted({int(y) for y in g["year"]}) for c, g in bad.groupby("code")}


def proven_codes(checks: pd.DataFrame, rows: pd.DataFrame, raw: pd.DataFrame) -> dict[tuple[str, int], str]:
    """(source code, year) -> 2024 code, where the 12362/12137 files prove that the code covers the 2024 territory.

    Proof: the code's own rows passed the population check as that 2024 code, or (a renumbering the 2024 code
    history lacks, e.g. 0101 -> 3101 before 2020, 3018 -> 3114 Våler and 5414 -> 5516 Gratangen in 2020-2023)
    the code's rows in that year carry exactly the figures of accepted rows of one other 2024 code, in every
    metric the code has.
    """
    mun_checks = checks[checks["kind"] == "municipality"]
    ok = mun_checks.groupby(["code", "target", "year"])["population_ok"].all()
    proven = {(c, int(y)): t for (c, t, y), good in ok.items() if good and c == t}
    acc = rows[rows["kind"] == "municipality"]
    by_fp: dict[tuple, set[str]] = {}
    for r in acc.itertuples(index=False):
        by_fp.setdefault((r.year, r.metric, r.amount_nok_1000, r.per_capita_nok), set()).add(r.region)
    mun = raw[raw["kind"] == "municipality"]
    for (code, year), g in mun.groupby(["code", "year"]):
        if (code, int(year)) in proven:
            continue
        cands: set[str] | None = None
        for r in g.itertuples(index=False):
            hit = by_fp.get((r.year, r.metric, r.amount_nok_1000, r.per_capita_nok), set()) - {code}
            cands = hit if cands is None else cands & hit
        if cands is not None and len(cands) == 1:
            proven[(code, int(year))] = next(iter(cands))
    return proven


LIPPEN_INDEX_NOTE = (
    "2015-2023: netto driftsutgifter i alt (AGD1) og for barnehage FGK7, grunnskole FGK8b og helse og omsorg FGK9 "
    "(AGD2), i 1000 kr (ndu_1000kr) og SSBs eget tall per innbygger (ndu_per_innbygger_kr, KOSTRAs folketall), "
    "fra samme tredjepartsfil (Lippen1995/Project_statsbudsjett data/kostra/index.json, 215c016, oppdatert "
    "2026-09-19, hentet etter SSBs endelige publisering). Kodene er lagt på 2024-strukturen: 2020-2023-koder "
    "via kodehistorikken for 2024 (f.eks. 3029 -> 3222); 2015-2019 står mange kommuner i kilden både under gammel "
    "kode og 2024-koden med like tall (0101 og 3101): 2024-raden er beholdt, duplikatet droppet. Hver "
    "kommune-år er kontrollert: beløp x 1000 / tall per innbygger må stemme med innbyggerne i 2024-kommunen "
    "1.1. året etter (csdata-kopi av 07459, 2024-grenser) innen 2 %; rader som ikke stemmer gjelder et annet område "
    "og er ikke lagret (bl.a. 5001 Trondheim 2015-2019, der kilden har Klæbus tall, og Ålesund 1507 -> 1508 "
    "2020-2023, som inkluderte Haram). KOSTRA-grupper 2015-2019 er SSBs gamle gruppering og har dims "
    "gruppering=pre2020; 2020-2023 er 2020-grupperingen med årets koder. Fylkesradene er fylkeskommunens regnskap "
    "(ikke kommunene i fylket summert) og har dims enhet=fylkeskommune; bare 2020-2023 og fylker med samme "
    "område i 2024 (03, 11, 15, 18, 34, 42, 46, 50). EAFK (fylkeskommunene samlet) er utelatt."
)
DEBT_NOTE = (
    "Netto lånegjeld (KG31), kommunekonsern, 2015-2018, i 1000 kr (netto_lanegjeld_1000kr) og per innbygger "
    "(netto_lanegjeld_per_innbygger_kr), fra Lippen1995/Project_statsbudsjett data/kostra/index.json (215c016). "
    "Tabell 12137 er utledet (kildens sources[] nevner 12137; metrikken er ikke knyttet til tabell i kilden), "
    "SSBs ContentsCode står ikke i kilden (contents_code ''). Samme kodekobling og folketallskontroll som for "
    "12362; gamle KOSTRA-grupper har dims gruppering=pre2020, fylkesrader før 2020 er utelatt."
)


# ----------------------------------------------------------------------- SSB 12209 (2025) and 13502 (2015-2023)

OMSORG_12209 = "ssb/derived/omsorgsradar_ssb12209_2025_coverage80plus_EXTRACT.csv"
BARNEHAGE_13502 = "ssb/derived/ssb-13502_KOSandel120000_long_DERIVED-from-xlsm.csv"
BARNEHAGE_13502_XLSM = "ssb/derived/ssb-13502_KOSandel120000_andel-barn-1-2-aar-i-barnehage_2015-2023_statbank-export.xlsm"
CONTENTSCODES_FOUND = "ssb/derived/contentscodes_found.csv"
MEASURES_12209 = {  # column in the file -> (ContentsCode, measure id, label)
    "andel_80pluss_hjemmetjenester_pct_KOShjtj80aarover0001": (
        "KOShjtj80aarover0001", "pleie_andel_80_hjemmetjenester_pct",
        "Andel innbyggere 80 år og over som bruker hjemmetjenester (prosent)"),
    "andel_80pluss_institusjon_pct_KOSsykhjand80aar0000": (
        "KOSsykhjand80aar0000", "pleie_andel_80_institusjon_pct",
        "Andel innbyggere 80 år og over som er beboere på institusjon (prosent)"),
}
CONTENTS_13502 = "KOSandel120000"
MEASURE_13502 = "barnehage_andel_1_2_pct"
LABEL_13502 = "Andel barn 1-2 år i barnehage, i forhold til innbyggere 1-2 år (prosent)"


def coverage_12209(shared: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """SSB 12209, 2025: home care and institution shares of residents 80+ for the 357 municipalities.

    Municipalities without a row in the source get rows with value NULL and status NULL (SSB's symbol is not in
    the source); empty cells stay NULL. The source's population column is not stored. (obs, categories, facts).
    """
    raw = pd.read_csv(_path(shared, OMSORG_12209), dtype={"kommunenummer": str})
    kom = klass_municipalities(shared)
    unknown = set(raw["kommunenummer"]) - set(kom["code"])
    if unknown or raw["kommunenummer"].duplicated().any() or set(raw["kostra_aar"]) != {2025}:
        raise ValueError(f"{OMSORG_12209}: unexpected codes {sorted(unknown)} or years {set(raw['kostra_aar'])}")
    full = kom[["code", "name"]].merge(raw, left_on="code", right_on="kommunenummer", how="left")
    frames = []
    for column, (contents, measure, _label) in MEASURES_12209.items():
        frames.append(pd.DataFrame({
            "region": full["code"].to_numpy(object), "year": np.int32(2025), "contents_code": contents, "dims": "",
            "measure": measure, "value": pd.to_numeric(full[column]).astype(float).to_numpy(), "status": None,
        }))
    obs = pd.concat(frames, ignore_index=True)
    cats = [("ContentsCode", c, label, "prosent", 1) for c, _m, label in MEASURES_12209.values()]
    facts = {
        "absent": dict(zip(full.loc[full["kommunenummer"].isna(), "code"], full.loc[full["kommunenummer"].isna(), "name"],
                           strict=True)),
        "empty": {m: sorted(full.loc[full["kommunenummer"].notna() & full[col].isna(), "name"])
                  for col, (_c, m, _l) in MEASURES_12209.items()},
    }
    return obs, category_frame(cats), facts


def kindergarten_13502(shared: Path, checks: pd.DataFrame, rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """SSB 13502 KOSandel120000 2015-2023 on 2024 codes: (obs, categories, facts with the refused rows).

    2020-2023: a code goes to its 2024 code (itself or its successor in the 2024 code history) unless the
    12362 population check shows that code-year to be another territory (territory_differs, e.g. 1507 Ålesund).
    2015-2019 (and 2020-2023 codes the 2024 history lacks): only where proven_codes says the code is the 2024
    territory (the code itself passed the check, or a pure renumbering with identical figures). A rate is never
    summed or averaged over parts. SSB's status symbols stay in `status` with value NULL (a cell with only a
    symbol follows the code or its 2024 successor in any year; a value for the same cell beats it).
    """
    raw = pd.read_csv(_path(shared, BARNEHAGE_13502), dtype={"region_code": str, "value_pct": str,
                                                            "ssb_status_symbol": str})
    kom = klass_municipalities(shared)
    current = set(kom["code"])
    changes = code_changes(shared)
    code_map = dict(zip(changes["old_code"], changes["new_code"], strict=True))
    differs = territory_differs(checks)
    proven = proven_codes(checks, rows, lippen_index(shared))
    raw["target"] = None
    new = raw["year"] >= FIRST_NEW_STRUCTURE_YEAR
    targets_new = municipality_targets(raw.loc[new, "region_code"], current, code_map)
    raw.loc[new, "target"] = targets_new
    differ = np.array([int(y) in differs.get(c, []) for c, y in zip(raw["region_code"], raw["year"], strict=True)])
    raw.loc[new & differ, "target"] = None
    # before 2020 only a proven code; from 2020 a code the 2024 history lacks (3018 Våler, 5414 Gratangen) too
    by_proof = (~new | (raw["target"].isna() & ~differ))
    raw.loc[by_proof, "target"] = [proven.get((c, int(y))) for c, y in
                                   zip(raw.loc[by_proof, "region_code"], raw.loc[by_proof, "year"], strict=True)]
    value = pd.to_numeric(raw["value_pct"])
    has_value = value.notna()
    status = raw["ssb_status_symbol"].where(raw["ssb_status_symbol"].notna(), None)
    if (has_value & status.notna()).any():
        raise ValueError(f"{BARNEHAGE_13502}: a cell has both a value and a status symbol")
    # SSB's symbol for a code that did not exist yet (3030 Lillestrøm 2015-2019 '.') carries no figure, so it
    # follows the code itself or its 2024 successor in any year; a value elsewhere for that cell beats it
    symbol_only = raw["target"].isna() & ~has_value & status.notna() & ~differ
    raw.loc[symbol_only, "target"] = municipality_targets(raw.loc[symbol_only, "region_code"], current, code_map)
    refused = raw[raw["target"].isna() & has_value].copy()
    refused_differ = np.array([int(y) in differs.get(c, []) for c, y in
                               zip(refused["region_code"], refused["year"], strict=True)], dtype=bool)
    refused["reason"] = np.where(refused_differ, "annet område enn 2024-kommunen (folketallskontroll i 12362)",
                                 "ingen bevist 2024-kode (ikke i kodehistorikken 2024 og ikke bevist i 12362-filene)")
    keep = raw["target"].notna()
    obs = pd.DataFrame({
        "region": raw.loc[keep, "target"].to_numpy(object), "year": raw.loc[keep, "year"].astype("int32").to_numpy(),
        "contents_code": CONTENTS_13502, "dims": "", "measure": MEASURE_13502,
        "value": value[keep].astype(float).to_numpy(), "status": status[keep].to_numpy(object),
        "_own": (raw.loc[keep, "region_code"] == raw.loc[keep, "target"]).to_numpy(),
        "_code": raw.loc[keep, "region_code"].to_numpy(object),
    })
    # a 2024 code reached from two source codes (e.g. 3001 '.' and 3101 in 2020-2023): a value beats a symbol,
    # the code itself beats a predecessor; two different values are refused.
    obs = obs.assign(_has=obs["value"].notna()).sort_values(["region", "year", "_has", "_own"],
                                                            ascending=[True, True, False, False])
    vals = obs[obs["_has"]].drop_duplicates(["region", "year", "value"])
    clash = vals[vals.duplicated(["region", "year"], keep=False)]
    if len(clash):
        refused = pd.concat([refused, raw[raw["region_code"].isin(clash["_code"])
                                           & raw["year"].isin(clash["year"])].assign(reason="tvetydig")])
        obs = obs[~obs.set_index(["region", "year"]).index.isin(clash.set_index(["region", "year"]).index)]
    obs = obs.drop_duplicates(["region", "year"]).drop(columns=["_own", "_code", "_has"])
    cats = [("ContentsCode", CONTENTS_13502, LABEL_13502, "prosent", 1)]
    cats += [("region_ssb", c, lab, None, None) for c, lab in
             raw[["region_code", "region_label_ssb"]].drop_duplicates("region_code").itertuples(index=False)]
    facts = {"refused": refused[["region_code", "region_label_ssb", "year", "value_pct", "reason"]],
             "territory_differs": differs}
    return obs.reset_index(drop=True), category_frame(cats), facts


BARNEHAGE_NOTE = (
    "SSB 13502 KOSandel120000 «Andel barn 1-2 år i barnehage, i forhold til innbyggere 1-2 år», 2015-2023, fra en "
    "ordrett Statbank-eksport (taikiyakitaiyaki/OBLIG-5-group- ssb-barnehager-2015-2023-alder-1-2-aar.xlsm, "
    "ef041c8; langformat-CSV med samme tall). SSBs statussymboler (. ..) står i status med verdi NULL. Kodene er "
    "lagt på 2024-strukturen: 2020-2023 via kodehistorikken for 2024, unntatt koder der folketallskontrollen i "
    "12362 viser et annet område enn 2024-kommunen (1507 Ålesund, som inkluderte Haram); koder kodehistorikken "
    "mangler (3018 Våler -> 3114, 5414 Gratangen -> 5516) bare når 12362-filene viser identiske tall; før 2020 bare der "
    "12362-filene beviser samme område (samme kode godkjent i folketallskontrollen, eller ren omnummerering med "
    "identiske tall). En andel summeres eller snittes aldri over deler. Verdier over 100 % er ekte (barn går i "
    "barnehage i en annen kommune)."
)
OMSORG_NOTE = (
    "SSB 12209 «Utvalgte nøkkeltall for helse og omsorg», KOSTRA-år 2025, andel innbyggere 80+ med "
    "hjemmetjenester (KOShjtj80aarover0001) og på institusjon (KOSsykhjand80aar0000), fra Alksalt/omsorgsradar "
    "data/findings.json (2360133), hentet 2026-06-12, altså SSBs foreløpige tall fra 16. mars 2026. Kildens "
    "folketallskolonne er ikke lagret. "
)


def input_files(shared: Path) -> list[Path]:
    """Every file the snapshot is built from (their sha256 go into the snapshot's meta)."""
    rels = [KLASS_131, CODE_HISTORY, KOSTRA_GROUPS, POPULATION, NEED_INDEX, LIPPEN_NDU, FIXTURE_12134,
            VESTLAND_12134, LORENSKOG_XLSX, RATEDATA_2015, RATEDATA_2015_GROUPS,
            *(rel for rel, _dims in LIPPEN_INDEX.values()), OMSORG_12209, BARNEHAGE_13502,
            GEO_KOMMUNER_CSV, GEO_FYLKER_CSV, *GEO_FILES.values()]
    return [_path(shared, r) for r in rels]


# ------------------------------------------- back-cast of the 2020 mergers: the sum of their pre-2020 parts

# Which 2024 counties a pre-2020 municipality code can lie in (the code's first two digits). The 2020 reform
# moved whole municipalities across county lines (Hornindal 14 -> Volda 15, Rømskog 01 -> Aurskog-Høland 32,
# Svelvik 07 -> Drammen 33, Jevnaker and Lunner 05 -> 32), so those neighbours are allowed; backcast_sets checks
# the map against the renumberings proven by identical figures (renumbering_counties). 50xx are the Trøndelag
# codes of 2018-2019; 15 -> 50 is Rindal (1567 -> 5061, 2019) and Halsa (-> Heim).
PRE2020_COUNTIES = {
    "01": ("31", "32"), "02": ("32", "33"), "04": ("34",), "05": ("34", "32"), "06": ("33", "32"), "07": ("39", "33"),
    "08": ("40",), "09": ("42",), "10": ("42",), "11": ("11",), "12": ("46",), "14": ("46", "15"),
    "15": ("15", "50"), "16": ("50",), "17": ("50",), "18": ("18",), "19": ("55",), "20": ("56",), "50": ("50",),
}
# Residents implied by a part (amount x 1000 / per capita, both rounded) carry a relative error of about
# 0.5 / per capita: ~1e-5 for the totals (50-100 000 kr per resident). Exact predecessor sets measure at most
# 1.7e-4 in a year (Hammerfest 2017; most below 4e-5). A set identifies a merger when it is within
# BACKCAST_IDENTIFY in every year of its period (the last may show a border adjustment, see backcast_sets);
# wrong subsets of a county's codes come within 1.35e-4 of Trondheim over three years, which is why a set must
# also be the only one. A year is written only within BACKCAST_TOLERANCE (0.2 %).
BACKCAST_IDENTIFY = 2e-4
BACKCAST_TOLERANCE = 0.002
BACKCAST_MAX_PARTS = 6


def implied_residents(raw_rows: pd.DataFrame) -> pd.DataFrame:
    """Residents implied by the source's figures per (code, year): amount x 1000 / per capita from the row with
    the largest |per capita| (the best-determined), plus the spread across the metrics' rows with |per capita|
    >= 1000 (the same territory must imply the same residents in every file). Columns code, year, residents,
    spread."""
    m = raw_rows.assign(_abs=raw_rows["per_capita_nok"].abs())
    m = m[m["_abs"] > 0]
    m = m.assign(_imp=m["amount_nok_1000"] * 1000 / m["per_capita_nok"])
    best = m.sort_values("_abs", ascending=False).drop_duplicates(["code", "year"])
    firm = m[m["_abs"] >= 1000].groupby(["code", "year"])["_imp"].agg(lambda x: x.max() / x.min() - 1)
    out = best[["code", "year", "_imp"]].rename(columns={"_imp": "residents"})
    out["spread"] = [firm.get((c, y), 0.0) for c, y in zip(out["code"], out["year"], strict=True)]
    return out.reset_index(drop=True)


def _subset_sums(items: list[tuple[str, float]], target: float, tol: float, max_parts: int) -> list[tuple]:
    """Every subset of (code, residents) items (at most max_parts) whose residents sum within tol of target:
    [(codes sorted, relative error)]. Residents are positive, so a branch that overshoots is cut."""
    items = sorted(items, key=lambda x: -x[1])
    lo, hi = target * (1 - tol), target * (1 + tol)
    found: list[tuple] = []

    def walk(start: int, chosen: list[str], total: float) -> None:
        if chosen and lo <= total <= hi:
            found.append((tuple(sorted(chosen)), total / target - 1))
        if len(chosen) == max_parts:
            return
        for j in range(start, len(items)):
            code, value = items[j]
            if total + value <= hi:
                walk(j + 1, [*chosen, code], total + value)

    walk(0, [], 0.0)
    return found


def backcast_pool(series: dict, raw: pd.DataFrame) -> pd.DataFrame:
    """The pre-2020 municipality rows no 2024 code holds: unmapped codes (no 2024 successor known) and codes
    whose pre-2020 rows failed the population check as their own 2024 code (1103 Stavanger: another territory).
    A failed row whose figures are identical to another pool code's in that year is dropped (5001 2015-2019 =
    Klæbu 1662/5030, 4638 = 1416 in 2019, ...): one territory, one part."""
    d = series["dropped"]
    unmapped = d[d["reason"].str.startswith("kode før 2020") & (d["year"] < FIRST_NEW_STRUCTURE_YEAR)]
    failed = d[d["reason"].str.startswith("folketall") & (d["year"] < FIRST_NEW_STRUCTURE_YEAR)]
    keys_unmapped = set(zip(unmapped["code"], unmapped["year"], strict=True))
    keys_failed = set(zip(failed["code"], failed["year"], strict=True)) - keys_unmapped
    mun = raw[raw["kind"] == "municipality"]
    key = list(zip(mun["code"], mun["year"], strict=True))
    rows = mun[[k in keys_unmapped or k in keys_failed for k in key]].copy()
    fp = rows.groupby(["code", "year"]).apply(
        lambda g: tuple(sorted(zip(g["metric"], g["amount_nok_1000"], g["per_capita_nok"], strict=True))),
        include_groups=False).rename("fp").reset_index()
    drop = set()
    for (_fp, _year), g in fp.groupby(["fp", "year"]):
        if len(g) > 1:
            drop |= {(c, y) for c, y in zip(g["code"], g["year"], strict=True) if (c, y) in keys_failed}
    keep = [(c, y) not in drop for c, y in zip(rows["code"], rows["year"], strict=True)]
    return rows[keep].drop(columns=["kind"]).reset_index(drop=True)


def renumbering_counties(series: dict, raw: pd.DataFrame) -> set[tuple[str, str]]:
    """(pre-2020 code prefix, 2024 county) of every old code whose figures stand identically under a kept 2024
    code (a renumbering proven by the data, e.g. 0101 -> 3101): the county map must allow each."""
    rows = series["rows"]
    kept = rows[rows["kind"] == "municipality"]
    fp = {(r.year, r.metric, r.amount_nok_1000, r.per_capita_nok): r.region for r in kept.itertuples(index=False)}
    mun = raw[(raw["kind"] == "municipality") & (raw["year"] < FIRST_NEW_STRUCTURE_YEAR)]
    pairs = set()
    for r in mun.itertuples(index=False):
        target = fp.get((r.year, r.metric, r.amount_nok_1000, r.per_capita_nok))
        if target is not None and target != r.code:
            pairs.add((r.code[:2], target[:2]))
    return pairs


def backcast_sets(series: dict, raw: pd.DataFrame, residents: pd.Series, *,
                  identify: float = BACKCAST_IDENTIFY, tolerance: float = BACKCAST_TOLERANCE,
                  max_parts: int = BACKCAST_MAX_PARTS, counties: dict | None = None) -> dict:
    """Predecessor sets of the 2024 municipalities that lack 2015-2019 figures, derived from the data only.

    For each such municipality and year, every subset (1..max_parts) of the pool's codes in a plausible county
    whose implied residents sum to csdata's residents of the 2024 code (2024 borders) within `tolerance` is a
    candidate. A candidate's period is the missing years in which all its codes have figures (the codes of
    2015-2017 and 2018-2019 differ in Trøndelag, Vestfold merged in 2017-2018). A candidate is identified when
    it is within `identify` in every year of its period (at least two), save that the period's last year may be
    off (its residents, 1.1. of the next year, are on the borders after a change: a part moved on 1.1.2020
    shows in 2019). The municipality is back-cast when every missing year lies in the period of exactly one
    identified set and no code serves two municipalities in a year; a year off by more than `tolerance` is not
    written (left_out), and an offset beyond POPULATION_TOLERANCE (a part of an old municipality moved) refuses
    the municipality.

    Returns {"sets": {code: {...}}, "refused": {code: reason}, "candidates": {code: [(parts, period,
    max_error)]}, "county_check": [(prefix, county) renumberings the county map lacks], "pool_spread": x}.
    """
    counties = PRE2020_COUNTIES if counties is None else counties
    pool = backcast_pool(series, raw)
    imp = implied_residents(pool)
    value = {(c, int(y)): float(v) for c, y, v in zip(imp["code"], imp["year"], imp["residents"], strict=True)}
    present: dict[str, set[int]] = {}
    for c, y in value:
        present.setdefault(c, set()).add(y)
    have = series["rows"][series["rows"]["kind"] == "municipality"].groupby("region")["year"].agg(set).to_dict()
    names = series["names"]
    found: dict[str, tuple] = {}
    for target in sorted(series["no_backcast"]):
        missing = [y for y in range(2015, FIRST_NEW_STRUCTURE_YEAR) if y not in have.get(target, set())]
        if not missing:
            continue
        errors: dict[tuple, dict[int, float]] = {}
        for year in missing:
            real = residents.get((target, year))
            if real is None or not np.isfinite(real):
                continue
            items = [(c, v) for (c, y), v in value.items() if y == year and target[:2] in counties.get(c[:2], ())]
            for parts, err in _subset_sums(items, float(real), tolerance, max_parts):
                errors.setdefault(parts, {})[year] = err
        identified = []
        for parts, errs in errors.items():
            period = [y for y in missing if all(y in present[c] for c in parts)]
            good = [y for y in period if abs(errs.get(y, np.inf)) <= identify]
            off = [y for y in period if y not in good]
            # only the period's last year may be off: its residents (1.1. of the next year) are counted on the
            # borders after the change that ends the period, so a part moved then shows there (Lillestrøm 2019)
            if not off or off == [period[-1]]:
                identified.append((parts, period, errs, len(good)))
        found[target] = (missing, identified)
    sets, refused, candidates = _choose_sets(found, value, residents, names, tolerance)
    allowed = {(p, c) for p, cs in counties.items() for c in cs}
    county_check = sorted(renumbering_counties(series, raw) - allowed)
    return {"sets": sets, "refused": refused, "candidates": candidates, "county_check": county_check,
            "pool_spread": float(imp["spread"].max())}


def _span(years: list[int]) -> str:
    return f"{years[0]}–{years[-1]}" if len(years) > 1 and years == list(range(years[0], years[-1] + 1)) \
        else ", ".join(map(str, years))


def _linked(earlier: tuple, later: tuple, value: dict) -> bool:
    """A set of the years after a renumbering (Trøndelag 1703 -> 5005 on 1.1.2018) continues an identified set:
    as many codes, paired by size, each within POPULATION_TOLERANCE of its predecessor a year before."""
    (old, old_period), (new, new_period) = earlier, later
    if len(old) != len(new) or old_period[-1] + 1 != new_period[0]:
        return False
    a = sorted(value[(c, old_period[-1])] for c in old)
    b = sorted(value[(c, new_period[0])] for c in new)
    return all(abs(y / x - 1) <= POPULATION_TOLERANCE for x, y in zip(a, b, strict=True))


def _choose_sets(found: dict, value: dict, residents: pd.Series, names: dict, tolerance: float) -> tuple[dict, dict, dict]:
    """From every municipality's candidate sets: those identified (>= 2 years within the identifying bound, or
    one year and continuing an identified set of the previous period), less any that uses a code another
    municipality's only set needs in that year (repeated until nothing changes). Then each missing year must
    lie in exactly one set's period, and a year off by more than POPULATION_TOLERANCE (a part of an old
    municipality moved) refuses the municipality. Returns (sets, refused, candidates)."""
    cands = {t: [c for c in ident if c[3] >= 1] for t, (_m, ident) in found.items()}

    def only_sets() -> dict[tuple[str, int], str]:
        claim = {}
        for t, cs in cands.items():
            strong = [c for c in cs if c[3] >= 2]
            for parts, period, _e, _g in strong:
                if sum(1 for c in strong if set(c[1]) & set(period)) == 1:
                    for y in period:
                        for code in parts:
                            claim[(code, y)] = t
        return claim

    while True:
        claim = only_sets()
        pruned = {t: [c for c in cs if all(claim.get((code, y), t) == t for code in c[0] for y in c[1])]
                  for t, cs in cands.items()}
        if pruned == cands:
            break
        cands = pruned
    sets: dict[str, dict] = {}
    refused: dict[str, str] = {}
    candidates = {t: [(list(p), per, max(abs(e) for e in errs.values()), g) for p, per, errs, g in cs]
                  for t, cs in cands.items()}
    for target, (missing, _ident) in found.items():
        name = names[target]
        strong = [c for c in cands[target] if c[3] >= 2]
        weak = [c for c in cands[target] if c[3] == 1
                and any(_linked((s[0], s[1]), (c[0], c[1]), value) for s in strong)]
        chosen = strong + weak
        covered = [y for c in chosen for y in c[1]]
        if len(covered) != len(set(covered)):
            refused[target] = f"{name}: flere sett av gamle koder stemmer (ikke entydig); ikke tilbakeført"
            continue
        if sorted(covered) != missing:
            gap = [y for y in missing if y not in covered]
            refused[target] = (f"{name}: ingen entydig sum av gamle koder stemmer med innbyggerne i "
                               f"2024-kommunen for {_span(gap)} (deling, grensejustering, eller en del mangler "
                               "tall i kilden); ikke tilbakeført")
            continue
        years, parts_by_year, errs_all, left_out = [], {}, {}, {}
        for parts, period, errs, _g in chosen:
            for y in period:
                err = errs.get(y)
                if err is None or abs(err) > tolerance:
                    left_out[y] = sum(value[(c, y)] for c in parts) / float(residents[(target, y)]) - 1
                    continue
                years.append(y)
                parts_by_year[y] = list(parts)
                errs_all[y] = err
        worst = max(left_out.items(), key=lambda kv: abs(kv[1]), default=None)
        if worst is not None and abs(worst[1]) > POPULATION_TOLERANCE:
            refused[target] = (f"{name}: delvis grenseendring (delenes innbyggere avviker {worst[1]:+.1%} fra "
                               f"2024-kommunens i {worst[0]}: en del av en gammel kommune ble flyttet); ikke "
                               "tilbakeført")
            continue
        sets[target] = {"years": sorted(years), "parts_by_year": parts_by_year, "errors": errs_all,
                        "left_out": left_out}
    use: dict[tuple[str, int], list[str]] = {}
    for target, s in sets.items():
        for y, parts in s["parts_by_year"].items():
            for code in parts:
                use.setdefault((code, y), []).append(target)
    for (code, y), targets in sorted(use.items()):
        if len(targets) > 1:
            for t in targets:
                sets.pop(t, None)
                refused[t] = f"{names[t]}: koden {code} ({y}) passer også for en annen kommune; ikke tilbakeført"
    return sets, refused, candidates
