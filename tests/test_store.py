"""The DuckDB store on real data: round trips, replacement, atomicity, the release calendar, concurrency."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from shared_data import FIXTURE_12134, RAW, SHARED, need_shared

from drivers import jsonstat, store
from drivers.errors import UserError

BANKRUPTCIES = RAW / "riksdata_v0-jsonstat1_07218_bankruptcies.json"
SALARY = RAW / "riksdata_v0-jsonstat1_11654_basic-salary.json"


@pytest.fixture(autouse=True)
def _shared():
    need_shared()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _load(con, path: Path, **meta) -> jsonstat.ParsedTable:
    parsed = jsonstat.parse(path.read_bytes())
    store.write_table(con, parsed.table_meta(**meta), parsed.observations, parsed.categories)
    return parsed


def test_round_trip_of_the_12134_response(tmp_path):
    con = store.connect(tmp_path / "db.duckdb")
    parsed = _load(con, FIXTURE_12134, source_url="fixture")
    obs = store.read_observations(con, tables=["12134"])
    assert obs[["region", "year", "contents_code", "value"]].values.tolist() == [
        ["0301", 2024, "KOSAG110000", 81240.0], ["4601", 2024, "KOSAG110000", 66605.0],
        ["5001", 2024, "KOSAG110000", 62853.0]]
    assert obs["status"].isna().all() and obs["measure"].isna().all()
    table = store.read_tables(con).set_index("table_id").loc["12134"]
    assert table["updated"] == pd.Timestamp("2026-03-16 07:00")
    assert table["release"] == "foreløpig"  # updated on SSB's 16 March 2026 preliminary release
    assert table["origin"] == "ssb-api" and table["source_url"] == "fixture"
    assert json.loads(table["notes_json"]) == parsed.notes
    cats = store.read_categories(con, "12134")
    assert cats.set_index("code").loc["KOSAG110000", "label"] == "Frie inntekter per innbygger (kr)"
    assert store.read_observations(con, regions=["4601"])["value"].tolist() == [66605.0]
    assert store.read_observations(con, years=[2023]).empty


def test_status_symbols_and_nulls_survive_the_store(tmp_path):
    con = store.connect(tmp_path / "db.duckdb")
    doc = json.loads(SALARY.read_text("utf-8"))["dataset"]
    _load(con, SALARY)
    obs = store.read_observations(con, tables=["11654"])
    assert len(obs) == len(doc["value"])
    assert (obs["status"] == ":").sum() == len(doc["status"])
    assert obs.loc[obs["status"] == ":", "value"].isna().all()  # missing, never 0
    assert obs["value"].notna().sum() == sum(v is not None for v in doc["value"])


def test_write_table_replaces_the_region_years_it_brings(tmp_path):
    con = store.connect(tmp_path / "db.duckdb")
    parsed = _load(con, SALARY)
    n = len(parsed.observations)
    _load(con, SALARY)  # the same again: replaced, not doubled
    assert len(store.read_observations(con, tables=["11654"])) == n
    # a new load for one region and one year replaces just those cells
    obs = parsed.observations
    part = obs[(obs["region"] == "FNorge") & (obs["year"] == 2020)].copy()
    part["value"] = part["value"] * 0 + 1.5
    store.write_table(con, parsed.table_meta(), part)
    after = store.read_observations(con, tables=["11654"])
    assert len(after) == n
    changed = after[(after["region"] == "FNorge") & (after["year"] == 2020)]
    assert (changed["value"] == 1.5).all() and len(changed) == len(part)
    assert (after.loc[after["region"] == "Ialt", "value"] != 1.5).all()


def test_exception_mid_write_leaves_the_previous_state(tmp_path):
    con = store.connect(tmp_path / "db.duckdb")
    parsed = _load(con, BANKRUPTCIES)
    before = store.read_observations(con)
    tables_before = store.read_tables(con)
    # same table again, but one cell has no region: the DELETE runs, then the INSERT violates NOT NULL
    bad = parsed.observations.astype({"region": object}).copy()
    bad.loc[bad.index[-1], "region"] = None
    with pytest.raises(Exception, match="(?i)not null|constraint"):
        store.write_table(con, parsed.table_meta(title="changed"), bad, parsed.categories)
    pd.testing.assert_frame_equal(store.read_observations(con), before)
    pd.testing.assert_frame_equal(store.read_tables(con), tables_before)


def test_a_killed_writer_leaves_the_file_as_it_was_and_readers_are_never_blocked(tmp_path):
    db = tmp_path / "db.duckdb"
    with store.writer(db) as con:
        _load(con, FIXTURE_12134)
    digest = _sha(db)
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from drivers import jsonstat, store
        p = jsonstat.parse(Path({str(SALARY)!r}).read_bytes())
        with store.writer(Path({str(db)!r})) as con:
            store.write_table(con, p.table_meta(), p.observations, p.categories)
            print("written", flush=True)
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "written"
        # while the writer holds its copy, a reader opens the served file and sees the previous state
        reader = store.connect(db, read_only=True)
        try:
            assert store.read_tables(reader)["table_id"].tolist() == ["12134"]
        finally:
            reader.close()
    finally:
        proc.kill()  # SIGKILL mid-session: nothing can clean up
        proc.wait()
    assert _sha(db) == digest
    # the next writer cleans up and commits normally
    with store.writer(db) as con:
        _load(con, SALARY)
    reader = store.connect(db, read_only=True)
    assert sorted(store.read_tables(reader)["table_id"]) == ["11654", "12134"]
    reader.close()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_writer_builds_beside_the_file_and_renames_it_in_when_complete(tmp_path):
    """What a serving app relies on (tests/test_fetch_while_serving.py): while a writer works the served file is not
    touched (same inode, same bytes, openable read-only); the new database appears whole, under a new inode, by
    one rename; a reader that had the old file open keeps reading the old version."""
    db = tmp_path / "db.duckdb"
    with store.writer(db) as con:
        _load(con, FIXTURE_12134)
    before, digest = db.stat().st_ino, _sha(db)
    old_reader = store.connect(db, read_only=True)
    try:
        with store.writer(db) as con:
            _load(con, SALARY)
            con.execute("CHECKPOINT")  # the new data on disk, in the copy
            assert db.stat().st_ino == before and _sha(db) == digest
            beside = [p for p in tmp_path.iterdir() if p.name.startswith(".db.duckdb.") and p.name.endswith(".tmp")]
            assert len(beside) == 1 and beside[0].parent == db.parent
            reader = store.connect(db, read_only=True)
            assert store.read_tables(reader)["table_id"].tolist() == ["12134"]
            reader.close()
        assert db.stat().st_ino != before
        assert store.read_tables(old_reader)["table_id"].tolist() == ["12134"]
    finally:
        old_reader.close()
    reader = store.connect(db, read_only=True)
    assert sorted(store.read_tables(reader)["table_id"]) == ["11654", "12134"]
    reader.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.duckdb", "db.duckdb.lock"]


def test_writer_failure_discards_the_session(tmp_path):
    db = tmp_path / "db.duckdb"
    with store.writer(db) as con:
        _load(con, FIXTURE_12134)
    digest = _sha(db)
    with pytest.raises(RuntimeError), store.writer(db) as con:
        _load(con, SALARY)
        raise RuntimeError("stop mid-fetch")
    assert _sha(db) == digest


@pytest.mark.parametrize("updated, release, kostra_year", [
    ("2026-03-16T07:00:00", "foreløpig", 2025),  # the fixture: preliminary release of 2025 figures
    ("2026-03-13T07:00:00", "endelig", 2024),    # before the March release: 2024 final since June 2025
    ("2026-06-15T07:00:00", "foreløpig", 2025),  # 15 June 2026 was a Monday, yet SSB published on the 16th
    ("2026-06-16T07:00:00", "endelig", 2025),
    ("2025-03-15T07:00:00", "endelig", 2023),    # Saturday: the release moved to Monday 17 March
    ("2025-03-17T07:00:00", "foreløpig", 2024),
    ("2024-06-15T07:00:00", "foreløpig", 2023),  # Saturday: final on Monday 17 June
    ("2024-06-17T07:00:00", "endelig", 2023),
])
def test_release_calendar(updated, release, kostra_year):
    stamp = datetime.fromisoformat(updated)
    assert store.release_for(stamp) == release
    assert store.kostra_year_for(stamp) == kostra_year


def test_release_dates_follow_the_weekend_rule():
    assert store.release_dates(2025) == (date(2025, 3, 17), date(2025, 6, 16))
    assert store.release_dates(2026) == (date(2026, 3, 16), date(2026, 6, 16))
    assert store.release_for(None) is None


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_long_format_with_codes_labels_value_status(tmp_path, fmt):
    """The long format, and CSV in the Norwegian Excel dialect."""
    con = store.connect(tmp_path / "db.duckdb")
    _load(con, SALARY)
    out = tmp_path / f"out.{fmt}"
    n = store.export_table(con, "11654", out, fmt)
    if fmt == "csv":  # Norwegian Excel by default: semicolons, decimal comma, UTF-8 with BOM
        assert out.read_bytes().startswith("\ufeff".encode())
        frame = pd.read_csv(out, dtype={"status": str}, sep=";", decimal=",", encoding="utf-8-sig")
    else:
        frame = pd.read_parquet(out)
    assert len(frame) == n == 1998
    assert list(frame.columns) == ["table_id", "region", "region_label", "year", "contents_code", "contents_label",
                                   "dims", "dims_label", "measure", "value", "status"]
    first = frame[(frame["region"] == "Ialt") & (frame["dims"] == "NACE2007=00-99;Tid=2016K1")].iloc[0]
    assert first["region_label"] == "Total"
    assert first["dims_label"] == "NACE2007=All industries;Tid=2016K1"
    assert first["value"] == 76.2
    assert (frame["status"] == ":").sum() == 285 and frame.loc[frame["status"] == ":", "value"].isna().all()
    with pytest.raises(UserError, match="not in the database"):
        store.export_table(con, "99999", tmp_path / "x.csv", "csv")
    assert not (tmp_path / "x.csv").exists()


def test_reference_tables_round_trip(tmp_path):
    from drivers import reference

    con = store.connect(tmp_path / "db.duckdb")
    regions = reference.regions(SHARED)
    store.write_regions(con, regions)
    back = store.read_regions(con)
    assert len(back) == len(regions)
    assert back.set_index("code").loc["1507", "current_code"] == "1508"
    text = (SHARED / "geo" / "fylker_2024_S_plotly.geojson").read_text("utf-8")
    store.write_boundaries(con, "fylke", "S", text, "test")
    assert store.read_boundaries(con, "fylke", "S") == text
    with pytest.raises(UserError):
        store.read_boundaries(con, "fylke", "M")
    pop = reference.population(SHARED)
    oslo = pop[pop["region"] == "0301"]
    store.write_population(con, oslo)
    assert store.read_population(con)["persons"].sum() == oslo["persons"].sum()
    with pytest.raises(UserError, match="duplicate"):
        store.write_population(con, pd.concat([oslo, oslo.head(1)]))
    assert store.read_population(con)["persons"].sum() == oslo["persons"].sum()


def test_population_from_a_fetch_replaces_region_years(tmp_path):
    from drivers import reference

    con = store.connect(tmp_path / "db.duckdb")
    pop = reference.population(SHARED)
    store.write_population(con, pop[pop["region"].isin(["0301", "4601"])])
    newer = pop[(pop["region"] == "0301") & (pop["year"] == 2026)].copy()
    newer["persons"] = newer["persons"] + 1
    store.write_population(con, {"table_id": "07459", "title": "Befolkning", "origin": "ssb-api"}, newer, None)
    back = store.read_population(con)
    got = back[(back["region"] == "0301") & (back["year"] == 2026)]["persons"].to_numpy()
    np.testing.assert_array_equal(got, newer["persons"].to_numpy())
    assert len(back) == len(pop[pop["region"].isin(["0301", "4601"])])
    assert store.read_tables(con)["table_id"].tolist() == ["07459"]


def test_read_only_open_of_a_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no database"):
        store.connect(tmp_path / "nope.duckdb", read_only=True)


def test_replace_modes_cells_and_table(tmp_path):
    con = store.connect(tmp_path / "db.duckdb")
    parsed = _load(con, SALARY)
    obs = parsed.observations
    n = len(obs)
    one_dim = obs[obs["dims"].astype(str) == "NACE2007=00-99;Tid=2016K1"].copy()
    one_dim["value"] = 7.0
    store.write_table(con, parsed.table_meta(), one_dim, replace="cells")
    after = store.read_observations(con, tables=["11654"])
    assert len(after) == n and (after["value"] == 7.0).sum() == len(one_dim)
    store.write_table(con, parsed.table_meta(), one_dim, replace="table")
    assert len(store.read_observations(con, tables=["11654"])) == len(one_dim)
    with pytest.raises(ValueError):
        store.write_table(con, parsed.table_meta(), one_dim, replace="everything")


# ---- what changed at a fetch: fetch_changes and revisions (optional tables) ------------------------------------------


def test_databases_without_the_change_tables_stay_readable(tmp_path):
    """A database written before fetch_changes/revisions existed (as the snapshot is) opens and reads as 'no fetch'."""
    db = tmp_path / "db.duckdb"
    with store.writer(db) as con:
        _load(con, FIXTURE_12134)
    con = store.connect(db, read_only=True)
    try:
        assert store.read_fetch_changes(con).empty and list(store.read_fetch_changes(con).columns) == store.CHANGE_COLUMNS
        assert store.read_revisions(con).empty
        st = store.stored_table(con, "12134")
        assert st["origin"] == "ssb-api" and st["years"] == [2024] and st["fetched"] is False
        assert store.stored_table(con, "99999") is None
        assert store.read_meta(con)["schema_version"] == str(store.SCHEMA_VERSION)
    finally:
        con.close()


def test_fetched_table_records_revised_added_removed_in_one_transaction(tmp_path):
    con = store.connect(tmp_path / "db.duckdb")
    parsed = jsonstat.parse(SALARY.read_bytes())
    meta = parsed.table_meta()
    first = store.write_fetched_table(con, {**meta, "fetched_at": "2026-03-16 08:00"}, parsed.observations, parsed.categories)
    assert first["first_fetch"] and first["added"] == len(parsed.observations) and first["revised"] == 0
    obs = parsed.observations.astype({"region": object, "status": object, "contents_code": object, "dims": object})
    real = obs[obs["value"].notna()].index[:2]
    newer = obs.copy()
    newer.loc[real[0], "value"] = obs.loc[real[1], "value"]  # another real cell's value: a revision
    newer.loc[real[1], ["value", "status"]] = [np.nan, ":"]  # now confidential
    newer = newer.drop(index=obs.index[-1])  # no longer published
    year = int(obs.loc[obs.index[-1], "year"])
    got = store.write_fetched_table(con, {**meta, "fetched_at": "2026-06-16 08:00", "updated": "2026-06-16 06:00"},
                                    newer[newer["year"] == year], years=[year])
    in_year = obs["year"] == year
    assert got == {"cells": int(in_year.sum()) - 1, "revised": int(sum(obs.loc[r, "year"] == year for r in real)),
                   "added": 0, "removed": 1, "first_fetch": False, "fetched_at": datetime(2026, 6, 16, 8)}
    assert len(store.read_observations(con, tables=["11654"])) == len(obs) - 1  # other years untouched
    change = store.read_fetch_changes(con).iloc[0]
    assert change["years"] == str(year) and change["old_updated"] == pd.Timestamp(meta["updated"]).tz_localize(None)
    # a failure mid-write (a cell without a region) leaves table, revisions and counts as they were
    before = {k: f(con) for k, f in {"obs": store.read_observations, "rev": store.read_revisions,
                                     "chg": store.read_fetch_changes}.items()}
    bad = obs.copy()
    bad.loc[real[0], "value"] = -1.0
    bad.loc[bad.index[0], "region"] = None
    with pytest.raises(Exception, match="(?i)not null|constraint"):
        store.write_fetched_table(con, {**meta, "fetched_at": "2026-09-01 08:00"}, bad)
    for key, f in {"obs": store.read_observations, "rev": store.read_revisions, "chg": store.read_fetch_changes}.items():
        pd.testing.assert_frame_equal(f(con), before[key], obj=key)
