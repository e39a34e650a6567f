"""Pure readers of the real data files in ../shared (see their PROVENANCE.md); each returns a DataFrame.

No DuckDB here and no network: `drivers.snapshot` puts these frames into the store. Region codes follow the
store: municipalities 4 digits (2024 structure), counties 2 digits, KOSTRA groups EKG01..EKG17, the nation
'EAK' and the nation without Oslo 'EAKUO' (SSB's KOSTRA codes).
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


def input_files(shared: Path) -> list[Path]:
    """Every file the snapshot is built from (their sha256 go into the snapshot's meta)."""
    rels = [KLASS_131, CODE_HISTORY, KOSTRA_GROUPS, POPULATION, NEED_INDEX, LIPPEN_NDU, FIXTURE_12134,
            VESTLAND_12134, LORENSKOG_XLSX, RATEDATA_2015, RATEDATA_2015_GROUPS, GEO_KOMMUNER_CSV, GEO_FYLKER_CSV,
            *GEO_FILES.values()]
    return [_path(shared, r) for r in rels]
