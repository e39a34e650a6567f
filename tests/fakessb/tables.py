"""Tables the fake SSB serves, built only from real data in ../shared/ssb.

- 12134: the recorded v2 response (3 municipalities, KOSAG110000, 2024), as recorded.
- 07459: the real population by single year of age, 1 January 2015-2026 (csdata's copy of SSB 07459,
  2024 borders), re-shaped to SSB's 07459 layout: Region (357 municipalities + '0' Hele landet),
  Kjonn (only the both-sexes total is real, so the fake has just that one category, code '0', and
  marks it eliminable), Alder '000'-'104' and '105+', ContentsCode Personer1, Tid.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

SHARED = Path(__file__).resolve().parents[3] / "shared"
RAW = SHARED / "ssb" / "raw"
DERIVED = SHARED / "ssb" / "derived"
FIXTURE_12134 = RAW / "pxwebapi-v2_12134_data_0301-4601-5001_KOSAG110000_2024.json"
POPULATION_CSV = DERIVED / "csdata_nor_population_by_age_b2024_total_2015-2026.csv.gz"
KLASS_131 = RAW / "klass-v1_classifications-131_codesAt_2026-01-01_nb.json"
ERRORS = RAW / "pxwebapi-v2_error-responses_2026-04-25.json"


@dataclass
class Dim:
    id: str
    label: str
    codes: list[str]
    labels: dict[str, str]
    elimination: bool = False
    extension: dict = field(default_factory=dict)
    units: dict | None = None

    @functools.cached_property
    def index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.codes)}


@dataclass
class Table:
    """A dense cube of values (NaN = missing) with optional SSB status symbols per flat index."""

    id: str
    label: str
    updated: str
    dims: list[Dim]
    values: np.ndarray
    status: dict[int, str] = field(default_factory=dict)
    role: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    extension: dict = field(default_factory=dict)

    @property
    def dim(self) -> dict[str, Dim]:
        return {d.id: d for d in self.dims}

    def dimension_json(self, dims: list[Dim]) -> dict:
        out = {}
        for d in dims:
            cat = {"index": {c: i for i, c in enumerate(d.codes)}, "label": {c: d.labels[c] for c in d.codes}}
            if d.units:
                cat["unit"] = {c: d.units[c] for c in d.codes if c in d.units}
            out[d.id] = {"label": d.label, "category": cat,
                         "extension": {"elimination": d.elimination, **d.extension}}
        return out

    def metadata(self) -> dict:
        """JSON-stat2 metadata (no values), as /tables/{id}/metadata?outputFormat=json-stat2."""
        return {
            "version": "2.0", "class": "dataset", "label": self.label, "source": "Statistisk sentralbyrå",
            "updated": self.updated, "note": self.notes, "role": self.role,
            "id": [d.id for d in self.dims], "size": [len(d.codes) for d in self.dims],
            "dimension": self.dimension_json(self.dims), "extension": self.extension,
        }

    def info(self) -> dict:
        tid = self.dim.get("Tid")
        return {
            "type": "Table", "id": self.id, "label": self.label, "updated": self.updated,
            "firstPeriod": tid.codes[0] if tid else None, "lastPeriod": tid.codes[-1] if tid else None,
            "discontinued": False, "links": [{"rel": "metadata", "href": f"tables/{self.id}/metadata"},
                                             {"rel": "data", "href": f"tables/{self.id}/data"}],
        }

    def cells(self, selection: dict[str, list[str]]) -> int:
        return math.prod(len(selection[d.id]) if d.id in selection else 1 for d in self.dims)

    def data(self, selection: dict[str, list[str]]) -> dict:
        """The dataset for a validated selection; omitted eliminable dims are summed and dropped."""
        axes, kept, sum_axes = [], [], []
        for i, d in enumerate(self.dims):
            if d.id in selection:
                idx = [d.index[c] for c in selection[d.id]]
                kept.append(Dim(d.id, d.label, list(selection[d.id]), d.labels, d.elimination, d.extension, d.units))
            else:
                idx = list(range(len(d.codes)))
                sum_axes.append(i)
            axes.append(idx)
        cube = self.values[np.ix_(*axes)]
        flat_status = {}
        # an eliminated dimension with a single category (07459's Kjonn '0', the total) is that cell itself, so
        # its symbol stays; a real sum over several categories has none
        if self.status and all(len(axes[i]) == 1 for i in sum_axes):
            strides = np.cumprod([1] + [len(d.codes) for d in self.dims[::-1]])[:-1][::-1]
            grid = np.ix_(*[np.asarray(a) for a in axes])
            flat = sum(g * s for g, s in zip(grid, strides, strict=True)).ravel()
            flat_status = {str(j): self.status[int(f)] for j, f in enumerate(flat) if int(f) in self.status}
        if sum_axes:
            cube = cube.sum(axis=tuple(sum_axes))  # NaN if any part is missing: a sum with a gap is no sum
        values = [None if math.isnan(v) else (int(v) if float(v).is_integer() else float(v)) for v in cube.ravel()]
        doc = {
            "version": "2.0", "class": "dataset", "label": self.label, "source": "Statistisk sentralbyrå",
            "updated": self.updated, "note": self.notes, "role": self.role,
            "id": [d.id for d in kept], "size": [len(d.codes) for d in kept],
            "dimension": self.dimension_json(kept), "extension": self.extension, "value": values,
        }
        if flat_status:
            doc["status"] = flat_status
        return doc


def table_from_jsonstat(doc: dict) -> Table:
    """A fake table holding exactly a recorded JSON-stat2 response."""
    dims = []
    for did in doc["id"]:
        d = doc["dimension"][did]
        cat = d["category"]
        codes = sorted(cat["index"], key=cat["index"].get)
        ext = {k: v for k, v in d.get("extension", {}).items() if k != "elimination"}
        dims.append(Dim(did, d.get("label", did), codes, cat.get("label", {c: c for c in codes}),
                        d.get("extension", {}).get("elimination", False), ext, cat.get("unit")))
    vals = np.array([np.nan if v is None else v for v in doc["value"]], dtype=float).reshape(doc["size"])
    status = doc.get("status") or {}
    if isinstance(status, list):
        status = {i: s for i, s in enumerate(status) if s}
    return Table(doc["extension"]["px"]["tableid"], doc["label"], doc["updated"], dims, vals,
                 {int(k): v for k, v in status.items()}, doc.get("role", {}), doc.get("note", []),
                 doc.get("extension", {}))


@functools.cache
def table_12134() -> Table:
    return table_from_jsonstat(json.loads(FIXTURE_12134.read_text(encoding="utf-8")))


@functools.cache
def population_frame() -> pd.DataFrame:
    """The real population rows (municipalities and nation) as region, year, age, persons."""
    with gzip.open(POPULATION_CSV, "rt", encoding="utf-8") as fh:
        df = pd.read_csv(fh, dtype={"location_code": str})
    df = df[df["granularity_geo"].isin(["municip", "nation"])]
    region = df["location_code"].str.replace("municip_nor", "", regex=False).replace({"nation_nor": "0"})
    return pd.DataFrame({"region": region.to_numpy(), "year": df["calyear"].astype(int).to_numpy(),
                         "age": df["age"].astype(int).to_numpy(), "persons": df["pop_jan1_n"].astype(int).to_numpy()})


def age_code(age: int) -> str:
    return "105+" if age >= 105 else f"{age:03d}"


@functools.cache
def table_07459(updated: str = "2026-02-20T07:00:00Z") -> Table:
    pop = population_frame()
    names = {c["code"]: c["name"] for c in json.loads(KLASS_131.read_text(encoding="utf-8"))["codes"]}
    regions = ["0"] + sorted(r for r in pop["region"].unique() if r != "0")
    years = sorted(pop["year"].unique())
    ages = list(range(0, 106))
    cube = np.full((len(regions), 1, len(ages), 1, len(years)), np.nan)
    ri = {r: i for i, r in enumerate(regions)}
    yi = {y: i for i, y in enumerate(years)}
    cube[pop["region"].map(ri).to_numpy(), 0, pop["age"].to_numpy(), 0, pop["year"].map(yi).to_numpy()] = pop["persons"]
    dims = [
        Dim("Region", "region", regions, {r: ("Hele landet" if r == "0" else names.get(r, r)) for r in regions}),
        Dim("Kjonn", "kjønn", ["0"], {"0": "Begge kjønn"}, elimination=True),
        Dim("Alder", "alder", [age_code(a) for a in ages], {age_code(a): f"{a} år" + (" eller eldre" if a == 105 else "")
                                                          for a in ages}, elimination=True),
        Dim("ContentsCode", "statistikkvariabel", ["Personer1"], {"Personer1": "Personer"},
            units={"Personer1": {"base": "personer", "decimals": 0}}),
        Dim("Tid", "år", [str(y) for y in years], {str(y): str(y) for y in years}),
    ]
    role = {"time": ["Tid"], "geo": ["Region"], "metric": ["ContentsCode"]}
    ext = {"px": {"tableid": "07459", "decimals": 0, "aggregallowed": True, "language": "no", "matrix": "BefolkSnittKomm"}}
    return Table("07459", "07459: Befolkning, etter region, kjønn, alder, statistikkvariabel og år", updated, dims, cube,
                 {}, role, [], ext)


@functools.cache
def error_bodies() -> dict[str, bytes]:
    """SSB's real error bodies (2026-04-25) by title, plus the IIS 404 page for a too-long URL."""
    doc = json.loads(ERRORS.read_text(encoding="utf-8"))
    out = {}
    for err in doc["errors"]:
        body = err["snippet"].encode()
        out[json.loads(body)["title"]] = body
    out["url_too_long"] = doc["singleBatch_url_too_long"]["body"].encode("utf-8")
    return out


NET_EXPENSES_CSV = DERIVED / "lippen_kostra_net_expenses_by_service_2024.csv"
KOSTRA_GROUPS_CSV = DERIVED / "kostra_groups_municipalities_2024-structure.csv"
# SSB's ContentsCode for 12362's "Sum (1000 kr)" is not in any source we have, so the fake uses this
# visibly made-up code; the catalog finds the measure by its label, as it must against live SSB too.
PLACEHOLDER_SUM_CODE = "FAKEsum1000kr"


@functools.cache
def table_12362(updated: str = "2026-06-16T06:00:00Z") -> Table:
    """Net operating expenditure (AGD2, NOK 1000) by function group, 2024-2025, from the third-party copy
    of 12362 (Lippen1995, see PROVENANCE.md): 357 municipalities, EAK and EKG01-17. The municipal TOTAL
    rows (art AGD1, no function) do not fit this cube and are left out; cells the copy lacks are null."""
    df = pd.read_csv(NET_EXPENSES_CSV, dtype={"kommunenummer": str})
    df = df[df["service_code"] != "TOTAL"]
    names = {c["code"]: c["name"] for c in json.loads(KLASS_131.read_text(encoding="utf-8"))["codes"]}
    groups = pd.read_csv(KOSTRA_GROUPS_CSV, dtype=str).drop_duplicates("kostragruppe_kode")
    names |= dict(zip(groups["kostragruppe_kode"], groups["kostragruppe_navn"], strict=True)) | {"EAK": "Landet"}
    regions = sorted(r for r in df["kommunenummer"].unique() if r[0].isdigit())
    regions += ["EAK"] + sorted(r for r in df["kommunenummer"].unique() if r.startswith("EKG"))
    functions = list(dict.fromkeys(df["service_code"]))
    flabels = dict(zip(df["service_code"], df["service_name"], strict=False))
    years = sorted(df["year"].unique())
    cube = np.full((len(regions), len(functions), 1, 1, len(years)), np.nan)
    ri = {r: i for i, r in enumerate(regions)}
    fi = {f: i for i, f in enumerate(functions)}
    yi = {y: i for i, y in enumerate(years)}
    cube[df["kommunenummer"].map(ri).to_numpy(), df["service_code"].map(fi).to_numpy(), 0, 0,
         df["year"].map(yi).to_numpy()] = df["amount_nok_1000"].to_numpy()
    dims = [
        Dim("KOKkommuneregion0000", "region", regions, {r: names.get(r, r) for r in regions}),
        Dim("KOKfunksjon0000", "funksjon", functions, flabels),
        Dim("KOKart0000", "art", ["AGD2"], {"AGD2": "Netto driftsutgifter"}),
        Dim("ContentsCode", "statistikkvariabel", [PLACEHOLDER_SUM_CODE], {PLACEHOLDER_SUM_CODE: "Sum (1000 kr)"},
            units={PLACEHOLDER_SUM_CODE: {"base": "1000 kr", "decimals": 0}}),
        Dim("Tid", "år", [str(y) for y in years], {str(y): str(y) for y in years}),
    ]
    role = {"time": ["Tid"], "geo": ["KOKkommuneregion0000"], "metric": ["ContentsCode"]}
    ext = {"px": {"tableid": "12362", "decimals": 0, "aggregallowed": False, "language": "no"}}
    return Table("12362", "12362: Utgifter til tjenesteområdene, kommunekonsern, etter region, funksjon, art, "
                 "statistikkvariabel og år", updated, dims, cube, {}, role, [], ext)


# ---- publishing a new version: SSB bumps `updated`, revises cells, relabels a code -------------------------------


def _status_cube(table: Table) -> np.ndarray:
    cube = np.full(table.values.size, None, dtype=object)
    for flat, sym in table.status.items():
        cube[flat] = sym
    return cube.reshape(table.values.shape)


def _from_cubes(table: Table, dims: list[Dim], values: np.ndarray, status: np.ndarray, updated: str) -> Table:
    flat = status.ravel()
    return dataclasses.replace(table, updated=updated, dims=dims, values=values,
                               status={i: s for i, s in enumerate(flat) if s is not None})


def _at(table: Table, coords: dict[str, str]) -> tuple:
    """The cube index of one cell; every dimension must be named."""
    return tuple(d.index[coords[d.id]] for d in table.dims)


def revised(table: Table, updated: str, cells: list[tuple[dict[str, str], float | None, str | None]] = (),
            drop: dict[str, list[str]] | None = None) -> Table:
    """A new publication of `table`: `updated` bumped, `cells` set to (value or None, status), and the codes in
    `drop` ({dimension: [codes]}) no longer published. The original is not changed (tables are cached)."""
    values, status = table.values.copy(), _status_cube(table)
    for coords, value, sym in cells:
        at = _at(table, coords)
        values[at] = np.nan if value is None else value
        status[at] = sym
    dims = list(table.dims)
    for dim_id, codes in (drop or {}).items():
        axis = [d.id for d in dims].index(dim_id)
        keep = [i for i, c in enumerate(dims[axis].codes) if c not in set(codes)]
        values, status = np.take(values, keep, axis=axis), np.take(status, keep, axis=axis)
        d = dims[axis]
        dims[axis] = Dim(d.id, d.label, [d.codes[i] for i in keep], d.labels, d.elimination, d.extension, d.units)
    return _from_cubes(table, dims, values, status, updated)


def relabelled(table: Table, dim_id: str, code: str, label: str) -> Table:
    """The same table with one code's label changed in its metadata (as when SSB renames a statistikkvariabel)."""
    dims = [Dim(d.id, d.label, d.codes, {**d.labels, code: label} if d.id == dim_id else d.labels, d.elimination,
                d.extension, d.units) for d in table.dims]
    return dataclasses.replace(table, dims=dims)


def value_at(table: Table, coords: dict[str, str]) -> tuple[float | None, str | None]:
    at = _at(table, coords)
    v = table.values[at]
    return (None if math.isnan(v) else float(v)), _status_cube(table)[at]


# ---- 13502 and 12209 from the real extracts in ../shared/ssb/derived ----------------------------------------------

BARNEHAGE_13502_CSV = DERIVED / "ssb-13502_KOSandel120000_long_DERIVED-from-xlsm.csv"
OMSORG_12209_CSV = DERIVED / "omsorgsradar_ssb12209_2025_coverage80plus_EXTRACT.csv"
# SSB's label as the Statbank export (taikiyakitaiyaki/OBLIG-5-group-, see PROVENANCE.md) carries it
LABEL_KOSandel120000 = "Andel barn 1-2 år i barnehage, i forhold til innbyggere 1-2 år (prosent)"


@functools.cache
def table_13502(updated: str = "2024-06-17T06:00:00Z") -> Table:
    """SSB 13502, statistikkvariabel KOSandel120000 only, 2015-2023, the 723 region codes of SSB's Statbank
    export with its status symbols (`.` `..`). `updated` is a test parameter: the export does not carry
    SSB's (the default is the June 2024 final-release date by store.release_dates)."""
    df = pd.read_csv(BARNEHAGE_13502_CSV, dtype={"region_code": str, "year": str, "ssb_status_symbol": str})
    regions = list(dict.fromkeys(df["region_code"]))
    years = sorted(df["year"].unique())
    cube = np.full((len(regions), 1, len(years)), np.nan)
    ri, yi = {r: i for i, r in enumerate(regions)}, {y: i for i, y in enumerate(years)}
    r_idx, y_idx = df["region_code"].map(ri).to_numpy(), df["year"].map(yi).to_numpy()
    cube[r_idx, 0, y_idx] = pd.to_numeric(df["value_pct"]).to_numpy()
    status = {int(r * len(years) + y): s for r, y, s in zip(r_idx, y_idx, df["ssb_status_symbol"], strict=True)
              if isinstance(s, str) and s}
    labels = dict(zip(df["region_code"], df["region_label_ssb"], strict=False))
    dims = [
        Dim("KOKkommuneregion0000", "region", regions, labels),
        Dim("ContentsCode", "statistikkvariabel", ["KOSandel120000"], {"KOSandel120000": LABEL_KOSandel120000},
            units={"KOSandel120000": {"base": "prosent", "decimals": 1}}),
        Dim("Tid", "år", years, {y: y for y in years}),
    ]
    role = {"time": ["Tid"], "geo": ["KOKkommuneregion0000"], "metric": ["ContentsCode"]}
    ext = {"px": {"tableid": "13502", "decimals": 1, "aggregallowed": False, "language": "no"}}
    return Table("13502", "13502: Utvalgte nøkkeltall for barnehager, etter region, statistikkvariabel og år", updated,
                 dims, cube, status, role, [], ext)


@functools.cache
def table_12209(updated: str = "2026-03-16T07:00:00Z") -> Table:
    """SSB 12209, the two 80+ coverage shares for 2025 as the omsorgsradar extract holds them (354
    municipalities; its 4 empty institution shares are missing cells). Labels are the extract's (not SSB's
    exact wording). `updated` defaults to SSB's 16 March 2026 preliminary release, when the extract's
    source fetched it."""
    df = pd.read_csv(OMSORG_12209_CSV, dtype={"kommunenummer": str})
    codes = {"KOShjtj80aarover0001": "andel_80pluss_hjemmetjenester_pct_KOShjtj80aarover0001",
             "KOSsykhjand80aar0000": "andel_80pluss_institusjon_pct_KOSsykhjand80aar0000"}
    regions = list(df["kommunenummer"])
    cube = np.stack([df[col].to_numpy(dtype=float) for col in codes.values()], axis=1)[:, :, None]
    dims = [
        Dim("KOKkommuneregion0000", "region", regions, dict(zip(regions, df["navn_kilde"], strict=True))),
        Dim("ContentsCode", "statistikkvariabel", list(codes),
            {"KOShjtj80aarover0001": "Andel innbyggere 80+ som bruker hjemmetjenester (%)",
             "KOSsykhjand80aar0000": "Andel 80+ med institusjonsopphold (%)"}),
        Dim("Tid", "år", ["2025"], {"2025": "2025"}),
    ]
    role = {"time": ["Tid"], "geo": ["KOKkommuneregion0000"], "metric": ["ContentsCode"]}
    ext = {"px": {"tableid": "12209", "decimals": 1, "aggregallowed": False, "language": "no"}}
    return Table("12209", "12209: Utvalgte nøkkeltall for helse og omsorg, etter region, statistikkvariabel og år",
                 updated, dims, cube, {}, role, [], ext)
