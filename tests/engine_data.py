"""Real SSB data from /work/shared, read into the same frames the store readers return.

Used by the engine tests so they run on real numbers even without data/snapshot.duckdb. Each frame has
the columns of the store table of the same name (src/drivers/store.py). Nothing here is invented:
every number is read from the files that /work/shared/ssb/PROVENANCE.md describes.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pandas as pd
import pytest

from drivers.config import Settings

SSB = Settings.from_env().shared_dir / "ssb"
DERIVED = SSB / "derived"
LIPPEN = DERIVED / "lippen_kostra_net_expenses_by_service_2024.csv"
POPULATION = DERIVED / "csdata_nor_population_by_age_b2024_total_2015-2026.csv.gz"
GROUPS = DERIVED / "kostra_groups_municipalities_2024-structure.csv"
CODE_HISTORY = DERIVED / "kommunebarometer_code-history_klass131_2024.json"
DKI = DERIVED / "kommunebarometer_dki-2026_gronthefte_NON-SSB.json"
KLASS = SSB / "raw" / "klass-v1_classifications-131_codesAt_2026-01-01_nb.json"
FRIE_12134 = SSB / "raw" / "pxwebapi-v2_12134_data_0301-4601-5001_KOSAG110000_2024.json"
LORENSKOG_XLSX = DERIVED / "Lorenskog_KOSTRA_2025_nokkeltall.xlsx"

NEEDED = [LIPPEN, POPULATION, GROUPS, CODE_HISTORY, DKI, KLASS, FRIE_12134]


def require_shared() -> None:
    missing = [str(p) for p in NEEDED if not Path(p).exists()]
    if missing:
        pytest.skip(f"real data from /work/shared missing: {', '.join(missing)}")


def _observations() -> pd.DataFrame:
    nd = pd.read_csv(LIPPEN, dtype={"kommunenummer": str})
    total = nd["service_code"] == "TOTAL"
    dims = ("KOKart0000=AGD2;KOKfunksjon0000=" + nd["service_code"]).where(~total, "KOKart0000=AGD1")
    obs = pd.DataFrame(
        {
            "table_id": "12362",
            "region": nd["kommunenummer"],
            "year": nd["year"].astype(int),
            "contents_code": "",
            "dims": dims,
            "measure": "ndu_1000kr",
            "value": nd["amount_nok_1000"].astype(float),
            "status": None,
        }
    )
    raw = json.loads(FRIE_12134.read_text())
    regions = list(raw["dimension"]["KOKkommuneregion0000"]["category"]["index"])
    year = int(next(iter(raw["dimension"]["Tid"]["category"]["index"])))
    frie = pd.DataFrame(
        {
            "table_id": "12134",
            "region": regions,
            "year": year,
            "contents_code": "KOSAG110000",
            "dims": "",
            "measure": "frie_inntekter_per_innbygger_kr",
            "value": [float(v) for v in raw["value"]],
            "status": None,
        }
    )
    return pd.concat([obs, frie], ignore_index=True)


def _population() -> pd.DataFrame:
    pop = pd.read_csv(POPULATION)
    pop = pop[pop["granularity_geo"] == "municip"]
    return pd.DataFrame(
        {
            "region": pop["location_code"].str[-4:].to_numpy(),
            "year": pop["calyear"].astype(int).to_numpy(),
            "age": pop["age"].astype(int).to_numpy(),
            "persons": pop["pop_jan1_n"].astype("int64").to_numpy(),
        }
    )


def _regions_and_changes() -> tuple[pd.DataFrame, pd.DataFrame]:
    klass = json.loads(KLASS.read_text())["codes"]
    rows = [
        {"code": c["code"], "name": c["name"], "kind": "kommune", "county": c["code"][:2],
         "valid_from": None, "valid_to": None, "current_code": c["code"]}
        for c in klass
        if c["code"] != "9999"
    ]
    hist = json.loads(CODE_HISTORY.read_text())["endringer"]
    changes = []
    for new, entry in hist.items():
        for old in entry["oldCodes"]:
            valid_to = pd.Timestamp(old["validTo"])
            changes.append({"old_code": old["code"], "new_code": new, "valid_to": valid_to, "name": entry["name"]})
            rows.append({"code": old["code"], "name": entry["name"], "kind": "kommune", "county": old["code"][:2],
                         "valid_from": None, "valid_to": valid_to.year - 1, "current_code": new})
    return pd.DataFrame(rows), pd.DataFrame(changes)


def _groups() -> pd.DataFrame:
    g = pd.read_csv(GROUPS, dtype=str)
    return pd.DataFrame(
        {"region": g["kommunenummer"], "group_code": g["kostragruppe_kode"], "group_name": g["kostragruppe_navn"],
         "source": "Lippen1995/Project_statsbudsjett (see PROVENANCE.md)"}
    )


def _need() -> pd.DataFrame:
    raw = json.loads(DKI.read_text())
    rows = []
    for region, value in raw["kommuner"].items():
        total = value["samlet"] if isinstance(value, dict) else value
        rows.append({"region": region, "year": int(raw["år"]), "sector": "total", "value": float(total),
                     "source": "Grønt hefte 2026 tabell A-k via kommunebarometer (NOT SSB)"})
    return pd.DataFrame(rows)


@functools.cache
def shared_frames() -> dict[str, pd.DataFrame]:
    """The store's tables built from /work/shared: observations, population, regions, groups, need, tables."""
    regions, changes = _regions_and_changes()
    tables = pd.DataFrame(
        [
            {"table_id": "12362", "title": "Netto driftsutgifter (third-party copy)", "origin": "snapshot"},
            {"table_id": "12134", "title": "Utvalgte nøkkeltall kommuneregnskap", "origin": "ssb-api"},
        ]
    )
    return {
        "observations": _observations(),
        "population": _population(),
        "regions": regions,
        "groups": _groups(),
        "need": _need(),
        "tables": tables,
        "code_changes": changes,
    }


def shared_panel():
    """A Panel on the real /work/shared data (skips the test if the files are missing); one per session."""
    require_shared()
    return _panel()


@functools.cache
def _panel():
    from drivers.engine.panel import Panel

    return Panel(**shared_frames())


def build_duckdb(path: Path) -> Path:
    """A store database (schema v1) holding the /work/shared frames, for load_panel and CLI tests."""
    from drivers import store

    require_shared()
    frames = shared_frames()
    con = store.connect(path)
    try:
        columns = {
            "observations": ("observations", store.OBS_COLUMNS),
            "population": ("population", ["region", "year", "age", "persons"]),
            "regions": ("regions", store.REGION_COLUMNS),
            "code_changes": ("code_changes", ["old_code", "new_code", "valid_to", "name"]),
            "groups": ("kostra_groups", ["region", "group_code", "group_name", "source"]),
            "need": ("need_index", ["region", "year", "sector", "value", "source"]),
        }
        for key, (table, cols) in columns.items():
            frame = frames[key].reindex(columns=cols)
            con.register("frame_in", frame)
            con.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM frame_in")
            con.unregister("frame_in")
        for row in frames["tables"].itertuples():
            con.execute("INSERT INTO ssb_tables (table_id, title, origin) VALUES (?, ?, ?)",
                        [row.table_id, row.title, row.origin])
    finally:
        con.close()
    return path


def snapshot_panel():
    """The Panel of the embedded snapshot (data/snapshot.duckdb, read-only), as a newcomer's dashboard loads it;
    one per test process for the file as it is (as shared_panel: ~1 s to read, and the modules only read it)."""
    path = Settings.from_env().snapshot_path
    if not path.exists():
        pytest.skip(f"{path} not built (run `drivers snapshot build`)")
    stat = path.stat()
    return _snapshot_panel(path.resolve(), (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns))


@functools.lru_cache(maxsize=1)
def _snapshot_panel(path: Path, _identity: tuple):
    from drivers.loading import load_panel_from

    return load_panel_from(path)
