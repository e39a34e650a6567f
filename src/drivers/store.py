"""The DuckDB store: the only module that touches DuckDB.

One versioned schema (SCHEMA_VERSION). SSB observations are kept in long format with SSB's status
symbol per cell; a null value with a status is missing, never 0. Every SSB table has a provenance row
in `ssb_tables`. Each table's load is one transaction, so a crash or kill mid-fetch leaves the
previous state intact. The dashboard opens the file read-only, so a fetch can run while it serves.

Tables
------
meta(key, value)                       schema_version, built_at, built_by
ssb_tables(table_id, ...)              provenance: title, updated, fetched_at, source_url, release, origin
categories(table_id, dimension, code)  code -> label, unit, decimals, position, for every dimension
observations                           table_id, region, year, contents_code, dims, measure, value, status
                                       dims = the other dimensions as 'DIM=code;DIM=code' sorted by DIM ('' if none)
                                       measure = catalog measure id; the engine reads by measure, so rows
                                       from a third-party copy whose SSB ContentsCode is unknown
                                       (contents_code '') and fetched rows meet under one id
regions(code)                          kommune | fylke | kostragruppe | landet; historical codes map to current_code
code_changes(old_code, new_code)       KLASS 131 code changes (valid_to = last day the old code was valid)
population(region, year, age)          residents 1 January of `year` by single year of age (SSB 07459); unique
                                       per (region, year, age), checked on write (no index: it tripled the file)
kostra_groups(region, group_code)      KOSTRA group membership (2020 grouping, 2024 numbering)
need_index(region, year, sector)       expenditure-need index (kostnadsindeks), national mean = 1.0
boundaries(level, detail)              GeoJSON text (Kartverket via robhop), level kommune | fylke
fetch_changes(table_id, fetched_at)    optional (created by the first `drivers fetch` that writes a table): per
                                       table and fetch, SSB's old and new `updated`, the years and regions
                                       compared, and how many cells were revised, added and removed
revisions(table_id, ..., fetched_at)   optional, as fetch_changes: every cell whose value or status changed,
                                       old and new; written in the same transaction as the table
population_status(region, year, age)   optional (created by the first population write that has a symbol): SSB's
                                       status symbol ('.', '..', ':', ...) of a population cell, whose persons is
                                       NULL; `population` itself has no status column (schema unchanged), readers
                                       treat a missing table as "no symbols" (read_population_status)

Readers and one writer at the same time
---------------------------------------
DuckDB (checked with duckdb 2.0.1) takes an OS file lock: while one process has the file open read-write,
another process cannot open it at all, not even read-only ("Could not set lock on file ... Conflicting lock
is held"); and while a reader holds it, a writer cannot open it. So a fetch must never hold the served file.

Decision: **copy-on-write with an atomic rename.** `writer(path)` copies the database to a temporary file
next to it, opens the copy read-write, and on success checkpoints, closes, fsyncs and `os.replace`s the copy
onto `path`; on any exception (or kill) the copy is discarded and `path` is untouched. Writers are
serialised by an flock on `path.lock`. Readers (`connect(path, read_only=True)`) open whichever complete
file is in place: a reader that already has the old file open keeps reading the old inode, the next open
sees the new file. The dashboard loads what it needs and closes the connection, so it never blocks a
writer; while serving it watches the file's identity and reads a renamed-in database into memory between requests
(drivers.report.data). Callers that load several tables open one `writer` per table, so every finished table is kept and
the table in progress is all-or-nothing. The copy costs one file copy per session (tens of ms for the
snapshot), small against SSB's rate limit of 30 calls a minute. `write_table` itself also runs in one
transaction (`transaction`), so it is atomic on any connection.

Long on purpose: every DuckDB statement of the project lives here (tests/test_architecture.py holds that),
so the schema, the loads and the reads stay in one place; each function is one query or one transaction.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import gzip
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from drivers.errors import UserError

SCHEMA_VERSION = 2  # 2: population has no primary key (uniqueness checked on write)
# fetch_changes and revisions are optional tables, not part of DDL: a fetch creates them (CHANGES_DDL) and
# readers treat their absence as "no fetch yet", so snapshots and databases written before them stay readable
# without a schema bump.

DDL = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS ssb_tables (
    table_id   VARCHAR PRIMARY KEY,
    title      VARCHAR,
    updated    TIMESTAMP,          -- SSB's `updated` for the table (UTC)
    fetched_at TIMESTAMP,          -- when we fetched or loaded it (UTC)
    source_url VARCHAR,            -- request URL, or the file it was loaded from
    release    VARCHAR,            -- 'foreløpig' | 'endelig' | NULL when it cannot be judged
    origin     VARCHAR,            -- 'ssb-api' | 'statbank-file' | 'snapshot' (+ what third party, see note)
    note       VARCHAR,            -- provenance caveats in plain words
    notes_json VARCHAR             -- SSB's own notes (JSON list of strings)
);
CREATE TABLE IF NOT EXISTS categories (
    table_id  VARCHAR NOT NULL,
    dimension VARCHAR NOT NULL,
    code      VARCHAR NOT NULL,
    label     VARCHAR,
    unit      VARCHAR,
    decimals  INTEGER,
    position  INTEGER,
    PRIMARY KEY (table_id, dimension, code)
);
CREATE TABLE IF NOT EXISTS observations (
    table_id      VARCHAR NOT NULL,
    region        VARCHAR NOT NULL,
    year          INTEGER NOT NULL,
    contents_code VARCHAR NOT NULL,
    dims          VARCHAR NOT NULL DEFAULT '',
    measure       VARCHAR,           -- our catalog's measure id (e.g. 'ndu_1000kr'), NULL if uncatalogued
    value         DOUBLE,
    status        VARCHAR
);
CREATE TABLE IF NOT EXISTS regions (
    code         VARCHAR PRIMARY KEY,
    name         VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL,   -- kommune | fylke | kostragruppe | landet
    county       VARCHAR,            -- 2-digit county for municipalities
    valid_from   INTEGER,            -- first year the code is valid (NULL = before our data)
    valid_to     INTEGER,            -- last year the code is valid (NULL = still valid)
    current_code VARCHAR             -- the 2024-structure code it maps to (itself if current)
);
CREATE TABLE IF NOT EXISTS code_changes (
    old_code VARCHAR NOT NULL,
    new_code VARCHAR NOT NULL,
    valid_to DATE,
    name     VARCHAR
);
CREATE TABLE IF NOT EXISTS population (
    region  VARCHAR NOT NULL,
    year    INTEGER NOT NULL,        -- calendar year; residents on 1 January
    age     INTEGER NOT NULL,        -- 0..105 (105 = 105 and older)
    persons BIGINT
    -- no PRIMARY KEY: its index took 10 MB of the 17 MB snapshot; write_population checks uniqueness instead
);
CREATE TABLE IF NOT EXISTS kostra_groups (
    region     VARCHAR PRIMARY KEY,
    group_code VARCHAR NOT NULL,     -- EKG01..EKG17
    group_name VARCHAR,
    source     VARCHAR
);
CREATE TABLE IF NOT EXISTS need_index (
    region VARCHAR NOT NULL,
    year   INTEGER NOT NULL,         -- budget year of the index (Grønt hefte year)
    sector VARCHAR NOT NULL,         -- 'total' or a sector id (grunnskole, pleie_omsorg, ...)
    value  DOUBLE,
    source VARCHAR,
    PRIMARY KEY (region, year, sector)
);
CREATE TABLE IF NOT EXISTS boundaries (
    level   VARCHAR NOT NULL,        -- kommune | fylke
    detail  VARCHAR NOT NULL,        -- S | M
    geojson VARCHAR NOT NULL,       -- GeoJSON text, stored as 'gz64:' + base64(gzip(text)); see read_boundaries
    source  VARCHAR,
    PRIMARY KEY (level, detail)
);
"""


def connect(path: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the database. Read-only opening fails with a clear message if the file is missing."""
    path = Path(path)
    if read_only:
        if not path.exists():
            raise UserError(f"fant ingen database {path} (no database); run `drivers snapshot build` or `drivers fetch`")
        con = duckdb.connect(str(path), read_only=True)
        check_schema(con)
        return con
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    init_schema(con)
    return con


def init_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables if they do not exist and record the schema version."""
    con.execute(DDL)
    con.execute(
        "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT (key) DO NOTHING", [str(SCHEMA_VERSION)]
    )
    check_schema(con)


def check_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Refuse a database written by another schema version."""
    try:
        row = _one(con, "SELECT value FROM meta WHERE key = 'schema_version'")
    except duckdb.CatalogException as exc:
        raise UserError("the file is not a drivers database (no meta table)") from exc
    if row is None or int(row[0]) != SCHEMA_VERSION:
        raise UserError(f"database schema {row and row[0]} is not {SCHEMA_VERSION}; rebuild it")


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All-or-nothing: commit on success, roll back on any exception (including KeyboardInterrupt)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple | None:
    """First row or None. Reads the whole result: duckdb 2.0 refuses further work on a connection while
    a result is only partly fetched (e.g. after fetchone() on a multi-row result)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])


def read_frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    """Run a read query and return a DataFrame."""
    return con.execute(sql, params or []).df()


# --------------------------------------------------------------------------------------------- writing


@contextlib.contextmanager
def writer(path: Path | str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection on a private copy of `path`, renamed into place only on success.

    See "Readers and one writer at the same time" in the module docstring.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one writer at a time; readers take no part in this lock
        try:
            for stale in path.parent.glob(f".{path.name}.*.tmp*"):  # left by a killed writer; we hold the lock
                _discard(stale)
            if path.exists():
                shutil.copyfile(path, tmp)
                wal = path.with_name(path.name + ".wal")
                if wal.exists():  # left by a direct read-write connection; replayed when the copy opens
                    shutil.copyfile(wal, tmp.with_name(tmp.name + ".wal"))
            con = connect(tmp)
            try:
                yield con
                con.execute("CHECKPOINT")
            finally:
                con.close()
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            _discard(tmp.with_name(tmp.name + ".wal"))
            os.replace(tmp, path)  # readers see the old file or the new one, never a part of either
            _fsync_dir(path.parent)  # the rename itself survives a crash
            _discard(path.with_name(path.name + ".wal"))
        except BaseException:
            _discard(tmp)
            _discard(tmp.with_name(tmp.name + ".wal"))
            raise
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _discard(p: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        p.unlink()


# SSB's KOSTRA calendar: preliminary (unrevised) figures on 15 March, final on 15 June; a weekend date
# moves to Monday. Known actual dates override the rule (2026: 16 March and 16 June; 15 June 2026 was a
# Monday, yet SSB published on the 16th).
KNOWN_RELEASE_DATES: dict[int, tuple[date, date]] = {2026: (date(2026, 3, 16), date(2026, 6, 16))}


def _weekday_or_monday(d: date) -> date:
    return d + timedelta(days=(7 - d.weekday()) % 7) if d.weekday() >= 5 else d


def release_dates(year: int) -> tuple[date, date]:
    """(preliminary, final) publication dates of KOSTRA year `year - 1` in calendar year `year`."""
    if year in KNOWN_RELEASE_DATES:
        return KNOWN_RELEASE_DATES[year]
    return _weekday_or_monday(date(year, 3, 15)), _weekday_or_monday(date(year, 6, 15))


def release_for(updated: datetime | None) -> str | None:
    """'foreløpig' or 'endelig' for a KOSTRA table last updated at `updated` (None if unknown).

    Between the March and the June date of year Y the newest KOSTRA year (Y-1) is preliminary; from the
    June date, and before the March date (when Y-2 is the newest year, final since last June), it is final.
    """
    if updated is None or pd.isna(updated):
        return None
    day = pd.Timestamp(updated).date()
    march, june = release_dates(day.year)
    return "foreløpig" if march <= day < june else "endelig"


def kostra_year_for(updated: datetime | None) -> int | None:
    """The newest KOSTRA year a table updated at `updated` can hold (Y-1 from the March date, else Y-2)."""
    if updated is None or pd.isna(updated):
        return None
    day = pd.Timestamp(updated).date()
    march, _ = release_dates(day.year)
    return day.year - 1 if day >= march else day.year - 2


TABLE_COLUMNS = ["table_id", "title", "updated", "fetched_at", "source_url", "release", "origin", "note", "notes_json"]
OBS_COLUMNS = ["table_id", "region", "year", "contents_code", "dims", "measure", "value", "status"]
CAT_COLUMNS = ["table_id", "dimension", "code", "label", "unit", "decimals", "position"]


def _table_row(meta: dict) -> list:
    if not meta.get("table_id"):
        raise UserError("the table has no id (no extension.px.tableid and none given)")
    unknown = set(meta) - set(TABLE_COLUMNS)
    if unknown:
        raise ValueError(f"unknown ssb_tables fields: {sorted(unknown)}")
    row = dict(meta)
    row.setdefault("fetched_at", utcnow())
    row.setdefault("origin", "ssb-api")
    if "release" not in row:
        row["release"] = release_for(row.get("updated"))
    if isinstance(row.get("notes_json"), list):
        row["notes_json"] = json.dumps(row["notes_json"], ensure_ascii=False)
    for key in ("updated", "fetched_at"):
        value = row.get(key)
        if value is not None and not isinstance(value, datetime):
            value = pd.Timestamp(value)
            if value.tzinfo is not None:
                value = value.tz_convert("UTC").tz_localize(None)
            row[key] = value.to_pydatetime()
        elif isinstance(value, datetime) and value.tzinfo is not None:
            row[key] = value.astimezone(UTC).replace(tzinfo=None)
    return [row.get(c) for c in TABLE_COLUMNS]


def _plain(col: pd.Series | None, n: int) -> pd.Series:
    """A string column as a plain object Series (None for missing).

    DuckDB reads object strings much faster than pandas Categoricals (which it turns into ENUMs) or
    pandas' arrow-backed str dtype, so categoricals are decoded here with one numpy take.
    """
    if col is None:
        return pd.Series(np.full(n, None, dtype=object), dtype=object)
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy()
        cats = np.append(np.asarray(col.cat.categories, dtype=object), None)  # code -1 -> None
        return pd.Series(cats[codes], dtype=object)
    arr = col.to_numpy(dtype=object, na_value=None)
    return pd.Series(arr, dtype=object)


def _arrow_strings(col: pd.Series | None) -> pa.Array | None:
    """A string column as an Arrow array for DuckDB, or None when the column is absent or all missing.

    A pandas Categorical (what jsonstat.parse returns) goes over as an Arrow dictionary array built from its
    codes without copying a string: DuckDB reads it at least as fast as plain strings, and casting it to
    strings first cost more than the rest of the frame. Other columns become Arrow strings (DuckDB reads
    those 3-4x faster than Python object strings). An all-missing column is left to SQL as a NULL literal,
    which DuckDB stores without reading 800 000 nulls.
    """
    if col is None:
        return None
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy()  # int8/int16/int32 as pandas chose: Arrow takes any as indices
        if not len(codes) or codes.max() < 0:
            return None
        categories = pa.array(np.asarray(col.cat.categories, dtype=object), type=pa.string())
        indices = pa.array(codes, mask=codes < 0) if codes.min() < 0 else pa.array(codes)
        return pa.DictionaryArray.from_arrays(indices, categories)
    arr = pa.array(col.to_numpy(dtype=object, na_value=None), type=pa.string(), from_pandas=True)
    return None if arr.null_count == len(arr) else arr


def _observation_frame(observations: pd.DataFrame) -> tuple[pa.Table, dict[str, str]]:
    """The observations as an Arrow table, and per store column (after table_id) the SELECT expression that
    reads it: contents_code and dims default to '' when the frame lacks them; an all-missing measure or
    status is a NULL literal."""
    missing = {"region", "year", "value"} - set(observations.columns)
    if missing:
        raise UserError(f"observations lack the columns {sorted(missing)}")
    obs = observations
    n = len(obs)
    if obs["year"].isna().any():
        raise UserError("some cells have no year (the table has no time dimension with years); not stored")
    columns: dict[str, pa.Array] = {
        "year": pa.array(obs["year"].to_numpy(dtype=np.int32)),
        "value": pa.array(obs["value"].to_numpy(dtype=np.float64, na_value=np.nan), from_pandas=True),
    }
    select: dict[str, str] = {}
    for name in OBS_COLUMNS[1:]:
        if name in columns:
            select[name] = name
        elif name in ("contents_code", "dims") and name not in obs:
            select[name] = "''"
        else:
            arr = _arrow_strings(obs.get(name))
            if arr is None and name in ("region", "contents_code", "dims"):
                arr = pa.nulls(n, pa.string())  # kept, so that NOT NULL refuses the write
            if arr is None:
                select[name] = "NULL::VARCHAR"
            else:
                columns[name] = arr
                select[name] = name
    return pa.table(columns), select


def write_table(
    con: duckdb.DuckDBPyConnection,
    meta: dict,
    observations: pd.DataFrame,
    categories: pd.DataFrame | None = None,
    replace: str = "region_year",
) -> int:
    """Store one SSB table's cells in one transaction; returns the number of observations written.

    `meta` is the ssb_tables row (table_id required; `release` is judged from `updated` when absent,
    `fetched_at` defaults to now, `origin` to 'ssb-api'). `observations` has region, year, contents_code,
    dims, value, status and optionally measure (the catalog's id). Existing cells of the table are replaced:
    replace='region_year' deletes the table's rows for every (region, year) present in the new frame;
    'table' deletes all of the table's rows; 'cells' deletes only rows with the same (region, year,
    contents_code, dims). Pass a table's whole fetch (all chunks concatenated) in one call.
    """
    if replace not in ("region_year", "table", "cells"):
        raise ValueError(f"replace must be region_year, table or cells, not {replace!r}")
    row = _table_row(meta)
    table_id = str(row[0])
    obs, select = _observation_frame(observations)
    cats = categories if categories is not None and len(categories) else None
    # Frames are registered outside the transaction: after a failed statement DuckDB refuses every call
    # but ROLLBACK, and an unregister in there would hide the real error.
    con.register("_new_obs", obs)
    if cats is not None:
        con.register("_new_categories", _category_frame(cats))
    try:
        with transaction(con):
            con.execute(f"INSERT OR REPLACE INTO ssb_tables ({', '.join(TABLE_COLUMNS)}) "
                        f"VALUES ({', '.join('?' * len(TABLE_COLUMNS))})", row)
            if cats is not None:
                _insert_categories(con, table_id, "_new_categories")
            if _one(con, "SELECT 1 FROM observations WHERE table_id = ? LIMIT 1", [table_id]) is None:
                pass  # first load of this table: nothing to replace (saves a DISTINCT over every new cell)
            elif replace == "table":
                con.execute("DELETE FROM observations WHERE table_id = ?", [table_id])
            elif replace == "region_year":
                con.execute(
                    "DELETE FROM observations o USING (SELECT DISTINCT region, year FROM _new_obs) n "
                    "WHERE o.table_id = ? AND o.region = n.region AND o.year = n.year",
                    [table_id],
                )
            else:
                con.execute(
                    f"DELETE FROM observations o USING (SELECT DISTINCT region, year, {select['contents_code']} "
                    f"AS contents_code, {select['dims']} AS dims FROM _new_obs) n "
                    "WHERE o.table_id = ? AND o.region = n.region AND o.year = n.year "
                    "AND o.contents_code = n.contents_code AND o.dims = n.dims",
                    [table_id],
                )
            con.execute(f"INSERT INTO observations SELECT ?, {', '.join(select.values())} FROM _new_obs", [table_id])
    finally:
        _unregister(con, "_new_obs")
        _unregister(con, "_new_categories")
    return len(obs)


def _category_frame(categories: pd.DataFrame) -> pd.DataFrame:
    """Categories as plain columns (dimension, code, label, unit, decimals, position), one row per code."""
    cats = categories.reindex(columns=CAT_COLUMNS[1:]).drop_duplicates(["dimension", "code"], keep="last")
    return pd.DataFrame({
        "dimension": _plain(cats["dimension"], len(cats)),
        "code": _plain(cats["code"], len(cats)),
        "label": _plain(cats["label"], len(cats)),
        "unit": _plain(cats["unit"], len(cats)),
        "decimals": cats["decimals"].astype("Int64").to_numpy(),
        "position": cats["position"].astype("Int64").to_numpy(),
    })


def _insert_categories(con: duckdb.DuckDBPyConnection, table_id: str, registered: str) -> None:
    """Upsert a table's categories from a registered frame (inside the caller's transaction)."""
    con.execute(
        f"INSERT OR REPLACE INTO categories SELECT ?, dimension, code, label, unit, decimals::INTEGER, "
        f"position::INTEGER FROM {registered}",
        [table_id],
    )


def _unregister(con: duckdb.DuckDBPyConnection, name: str) -> None:
    with contextlib.suppress(duckdb.Error):
        con.unregister(name)


def _replace_all(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, columns: list[str]) -> int:
    """Replace a reference table's whole contents with `frame` in one transaction."""
    missing = set(columns) - set(frame.columns)
    if missing:
        raise ValueError(f"{table}: missing columns {sorted(missing)}")
    data = frame[columns].reset_index(drop=True)
    con.register("_new_ref", data)
    try:
        with transaction(con):
            con.execute(f"DELETE FROM {table}")
            con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM _new_ref")
    finally:
        _unregister(con, "_new_ref")
    return len(data)


REGION_COLUMNS = ["code", "name", "kind", "county", "valid_from", "valid_to", "current_code"]


def write_regions(con: duckdb.DuckDBPyConnection, regions: pd.DataFrame) -> int:
    """Replace `regions` (code, name, kind, county, valid_from, valid_to, current_code)."""
    return _replace_all(con, "regions", regions, REGION_COLUMNS)


def write_code_changes(con: duckdb.DuckDBPyConnection, changes: pd.DataFrame) -> int:
    """Replace `code_changes` (old_code, new_code, valid_to, name)."""
    return _replace_all(con, "code_changes", changes, ["old_code", "new_code", "valid_to", "name"])


POPULATION_STATUS_DDL = """
CREATE TABLE IF NOT EXISTS population_status (
    region VARCHAR NOT NULL,
    year   INTEGER NOT NULL,
    age    INTEGER NOT NULL,
    status VARCHAR NOT NULL          -- SSB's symbol; the population row's persons is NULL
);
"""


def _population_status_rows(frame: pd.DataFrame) -> pd.DataFrame | None:
    """The (region, year, age, status) rows of a population frame that carry a symbol; None without a status column."""
    if "status" not in frame:
        return None
    has = frame["status"].notna().to_numpy()
    rows = frame.loc[has, ["region", "year", "age", "status"]].reset_index(drop=True)
    return pd.DataFrame({"region": _plain(rows["region"], len(rows)), "year": rows["year"].astype("int64"),
                         "age": rows["age"].astype("int64"), "status": _plain(rows["status"].astype(str), len(rows))})


def _write_population_status(con: duckdb.DuckDBPyConnection, status: pd.DataFrame | None, where: str,
                             params: list | None = None) -> None:
    """Inside a population write's transaction: delete the symbols `where` selects (SQL on alias s), add `status`.
    The table is created only when there is a symbol to keep."""
    exists = _has_table(con, "population_status")
    if not exists and (status is None or not len(status)):
        return
    if not exists:
        con.execute(POPULATION_STATUS_DDL)
    con.execute(f"DELETE FROM population_status s WHERE {where}", params or [])
    if status is not None and len(status):
        con.register("_new_pop_status", status)
        try:
            con.execute("INSERT INTO population_status SELECT region, year, age, status FROM _new_pop_status")
        finally:
            _unregister(con, "_new_pop_status")


def write_population(
    con: duckdb.DuckDBPyConnection,
    meta_or_frame: dict | pd.DataFrame,
    population: pd.DataFrame | None = None,
    categories: pd.DataFrame | None = None,
) -> int:
    """Store residents on 1 January by single year of age (region, year, age, persons).

    `write_population(con, frame)` replaces the whole table (the snapshot). `write_population(con, meta, frame,
    categories)` (a fetch of 07459) records the table's provenance row and categories and replaces the rows for
    every (region, year) present, all in one transaction. A frame with a `status` column (SSB's symbol, None
    where there is none) keeps its symbols in `population_status` for the same rows.
    """
    columns = ["region", "year", "age", "persons"]
    frame = meta_or_frame if isinstance(meta_or_frame, pd.DataFrame) else population
    dup = frame.duplicated(["region", "year", "age"])
    if dup.any():
        raise UserError(f"population has {int(dup.sum())} duplicate (region, year, age) rows, e.g. "
                        f"{frame.loc[dup, ['region', 'year', 'age']].iloc[0].tolist()}")
    if isinstance(meta_or_frame, pd.DataFrame):
        n = _replace_all(con, "population", meta_or_frame, columns)
        with transaction(con):
            _write_population_status(con, _population_status_rows(meta_or_frame), "TRUE")
        return n
    status = _population_status_rows(population)
    row = _table_row(meta_or_frame)
    data = population[columns].reset_index(drop=True).copy()
    data["region"] = _plain(data["region"], len(data))
    con.register("_new_pop", data)
    has_cats = categories is not None and len(categories) > 0
    if has_cats:
        con.register("_new_categories", _category_frame(categories))
    try:
        with transaction(con):
            con.execute(f"INSERT OR REPLACE INTO ssb_tables ({', '.join(TABLE_COLUMNS)}) "
                        f"VALUES ({', '.join('?' * len(TABLE_COLUMNS))})", row)
            if has_cats:
                _insert_categories(con, str(row[0]), "_new_categories")
            con.execute("DELETE FROM population p USING (SELECT DISTINCT region, year FROM _new_pop) n "
                        "WHERE p.region = n.region AND p.year = n.year")
            con.execute("INSERT INTO population SELECT region, year, age, persons FROM _new_pop")
            _write_population_status(con, status, "(s.region, s.year) IN (SELECT DISTINCT region, year FROM _new_pop)")
    finally:
        _unregister(con, "_new_pop")
        _unregister(con, "_new_categories")
    return len(data)


def write_kostra_groups(con: duckdb.DuckDBPyConnection, groups: pd.DataFrame) -> int:
    """Replace `kostra_groups` (region, group_code, group_name, source)."""
    return _replace_all(con, "kostra_groups", groups, ["region", "group_code", "group_name", "source"])


def write_need_index(con: duckdb.DuckDBPyConnection, need: pd.DataFrame) -> int:
    """Replace `need_index` (region, year, sector, value, source)."""
    return _replace_all(con, "need_index", need, ["region", "year", "sector", "value", "source"])


GZ_PREFIX = "gz64:"


def write_boundaries(con: duckdb.DuckDBPyConnection, level: str, detail: str, geojson: str, source: str) -> None:
    """Store one GeoJSON text for (level, detail), replacing any earlier one.

    Stored gzip-compressed and base64-encoded behind the prefix 'gz64:' (still VARCHAR, schema unchanged):
    DuckDB keeps multi-megabyte strings poorly (2.7 MB of GeoJSON took 12.8 MB of file; compressed, 1.1 MB).
    Read it with `read_boundaries`, which returns the plain text.
    """
    packed = GZ_PREFIX + base64.b64encode(gzip.compress(geojson.encode("utf-8"), 9)).decode("ascii")
    with transaction(con):
        con.execute("INSERT OR REPLACE INTO boundaries VALUES (?, ?, ?, ?)", [level, detail, packed, source])


CHANGES_DDL = """
CREATE TABLE IF NOT EXISTS fetch_changes (
    table_id    VARCHAR NOT NULL,
    fetched_at  TIMESTAMP NOT NULL,   -- the fetch (UTC); same as ssb_tables.fetched_at after it
    old_updated TIMESTAMP,            -- SSB's `updated` of the stored version (NULL: first fetch)
    new_updated TIMESTAMP,            -- SSB's `updated` now
    years       VARCHAR,              -- the years compared and replaced, e.g. '2023,2024'
    regions     VARCHAR,              -- NULL = every region; else the regions compared
    cells       BIGINT,               -- cells in the new fetch
    revised     BIGINT,               -- same key, value or status changed
    added       BIGINT,               -- key not stored before
    removed     BIGINT,               -- key stored before, not in the new fetch (deleted)
    first_fetch BOOLEAN,              -- nothing of this table was stored before
    PRIMARY KEY (table_id, fetched_at)
);
CREATE TABLE IF NOT EXISTS revisions (
    table_id      VARCHAR NOT NULL,
    region        VARCHAR NOT NULL,
    year          INTEGER NOT NULL,
    contents_code VARCHAR NOT NULL,
    dims          VARCHAR NOT NULL,
    measure       VARCHAR,
    old_value     DOUBLE,
    new_value     DOUBLE,
    old_status    VARCHAR,
    new_status    VARCHAR,
    fetched_at    TIMESTAMP NOT NULL
);
"""
CHANGE_COLUMNS = ["table_id", "fetched_at", "old_updated", "new_updated", "years", "regions", "cells", "revised",
                  "added", "removed", "first_fetch"]
REVISION_COLUMNS = ["table_id", "region", "year", "contents_code", "dims", "measure", "old_value", "new_value",
                    "old_status", "new_status", "fetched_at"]


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return _one(con, "SELECT 1 FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main'", [name]) is not None


def stored_table(con: duckdb.DuckDBPyConnection, table_id: str, population: bool = False) -> dict | None:
    """What is stored of one SSB table (None if nothing): updated, origin, fetched_at, the years held, whether a
    fetch recorded it in fetch_changes (`fetched`) and the regions that last fetch was limited to (None = all).
    `population`: the table is the population table (years from `population`)."""
    row = _one(con, "SELECT updated, origin, fetched_at FROM ssb_tables WHERE table_id = ?", [str(table_id)])
    if row is None:
        return None
    years = [r[0] for r in con.execute("SELECT DISTINCT year FROM observations WHERE table_id = ? ORDER BY 1",
                                       [str(table_id)]).fetchall()]
    if population:  # 07459 is stored by age in `population`, not in observations
        years = [r[0] for r in con.execute("SELECT DISTINCT year FROM population ORDER BY 1").fetchall()]
    last = None
    if _has_table(con, "fetch_changes"):
        last = _one(con, "SELECT regions FROM fetch_changes WHERE table_id = ? ORDER BY fetched_at DESC LIMIT 1",
                    [str(table_id)])
    return {"updated": row[0], "origin": row[1], "fetched_at": row[2], "years": years,
            "fetched": last is not None, "last_regions": last[0] if last else None}


def _scope_sql(alias: str, years: list[int] | None, regions: list[str] | None, params: list) -> str:
    sql = ""
    if years is not None:
        sql += f" AND {alias}.year IN (SELECT UNNEST(?::INTEGER[]))"
        params.append([int(y) for y in years])
    if regions is not None:
        sql += f" AND {alias}.region IN (SELECT UNNEST(?::VARCHAR[]))"
        params.append([str(r) for r in regions])
    return sql


def write_fetched_table(
    con: duckdb.DuckDBPyConnection,
    meta: dict,
    observations: pd.DataFrame,
    categories: pd.DataFrame | None = None,
    years: list[int] | None = None,
    regions: list[str] | None = None,
) -> dict:
    """Store a fetched table and what changed against the stored version, in one transaction.

    The scope is the table's stored cells in `years` (None = all) and `regions` (None = all): those are
    compared with the new cells by key (region, year, contents_code, dims), then replaced by them — so a
    cell SSB no longer publishes in the scope is removed. Cells whose value or status changed go to
    `revisions`, the counts to `fetch_changes`, with the ssb_tables row and categories. Returns the counts
    (cells, revised, added, removed, first_fetch, fetched_at).
    """
    row = _table_row(meta)
    table_id, fetched_at = str(row[0]), row[TABLE_COLUMNS.index("fetched_at")]
    obs, select = _observation_frame(observations)
    cats = categories if categories is not None and len(categories) else None
    con.execute(CHANGES_DDL)
    con.register("_new_obs", obs)
    if cats is not None:
        con.register("_new_categories", _category_frame(cats))
    try:
        with transaction(con):
            old = _one(con, "SELECT updated FROM ssb_tables WHERE table_id = ?", [table_id])
            first = _one(con, "SELECT 1 FROM observations WHERE table_id = ? LIMIT 1", [table_id]) is None
            con.execute(f"CREATE OR REPLACE TEMP TABLE _new AS SELECT {', '.join(f'{v} AS {k}' for k, v in select.items())} "
                        "FROM _new_obs")
            params: list = [table_id]
            con.execute("CREATE OR REPLACE TEMP TABLE _old AS SELECT region, year, contents_code, dims, measure, value, "
                        "status FROM observations o WHERE o.table_id = ?" + _scope_sql("o", years, regions, params), params)
            key = "USING (region, year, contents_code, dims)"
            revised = con.execute(
                f"INSERT INTO revisions SELECT ?, region, year, contents_code, dims, COALESCE(n.measure, o.measure), "
                f"o.value, n.value, o.status, n.status, ? FROM _old o JOIN _new n {key} "
                "WHERE o.value IS DISTINCT FROM n.value OR o.status IS DISTINCT FROM n.status",
                [table_id, fetched_at]).fetchall()[0][0]
            added = _one(con, f"SELECT count(*) FROM _new n ANTI JOIN _old o {key}")[0]
            removed = _one(con, f"SELECT count(*) FROM _old o ANTI JOIN _new n {key}")[0]
            con.execute(f"INSERT OR REPLACE INTO ssb_tables ({', '.join(TABLE_COLUMNS)}) "
                        f"VALUES ({', '.join('?' * len(TABLE_COLUMNS))})", row)
            if cats is not None:
                _insert_categories(con, table_id, "_new_categories")
            params = [table_id]
            con.execute("DELETE FROM observations o WHERE o.table_id = ?" + _scope_sql("o", years, regions, params), params)
            # a new cell outside the scope (e.g. a region not asked for) would otherwise be doubled
            con.execute("DELETE FROM observations o USING (SELECT DISTINCT region, year FROM _new) n "
                        "WHERE o.table_id = ? AND o.region = n.region AND o.year = n.year", [table_id])
            con.execute(f"INSERT INTO observations SELECT ?, {', '.join(select)} FROM _new", [table_id])
            counts = {"cells": len(obs), "revised": int(revised), "added": int(added), "removed": int(removed),
                      "first_fetch": first, "fetched_at": fetched_at}
            con.execute(f"INSERT OR REPLACE INTO fetch_changes VALUES ({', '.join('?' * len(CHANGE_COLUMNS))})", [
                table_id, fetched_at, old[0] if old else None, row[TABLE_COLUMNS.index("updated")],
                ",".join(str(y) for y in sorted(years)) if years is not None else None,
                ",".join(regions) if regions is not None else None,
                counts["cells"], counts["revised"], counts["added"], counts["removed"], first])
    finally:
        _unregister(con, "_new_obs")
        _unregister(con, "_new_categories")
        con.execute("DROP TABLE IF EXISTS _new")
        con.execute("DROP TABLE IF EXISTS _old")
    return counts


def write_fetched_population(
    con: duckdb.DuckDBPyConnection,
    meta: dict,
    population: pd.DataFrame,
    categories: pd.DataFrame | None = None,
    years: list[int] | None = None,
    regions: list[str] | None = None,
) -> dict:
    """As write_fetched_table for 07459 (stored by age in `population`): revisions keyed by region, year and
    age (contents_code 'Personer1', dims 'Alder=NNN'), then write_population's replacement, one transaction."""
    columns = ["region", "year", "age", "persons"]
    dup = population.duplicated(["region", "year", "age"])
    if dup.any():
        raise UserError(f"population has {int(dup.sum())} duplicate (region, year, age) rows")
    row = _table_row(meta)
    table_id, fetched_at = str(row[0]), row[TABLE_COLUMNS.index("fetched_at")]
    status = _population_status_rows(population)
    data = population[columns].reset_index(drop=True).copy()
    data["region"] = _plain(data["region"], len(data))
    con.execute(CHANGES_DDL)
    con.register("_new_pop", data)
    has_cats = categories is not None and len(categories) > 0
    if has_cats:
        con.register("_new_categories", _category_frame(categories))
    try:
        with transaction(con):
            old = _one(con, "SELECT updated FROM ssb_tables WHERE table_id = ?", [table_id])
            first = _one(con, "SELECT 1 FROM population LIMIT 1") is None
            params: list = []
            # the symbols ride along by LEFT JOIN: `population` itself has no status column
            if _has_table(con, "population_status"):
                old_sql = ("SELECT p.*, s.status FROM population p LEFT JOIN population_status s "
                           "ON s.region = p.region AND s.year = p.year AND s.age = p.age")
            else:
                old_sql = "SELECT p.*, NULL::VARCHAR AS status FROM population p"
            con.execute(f"CREATE OR REPLACE TEMP TABLE _oldpop AS {old_sql} WHERE TRUE"
                        + _scope_sql("p", years, regions, params), params)
            if status is not None and len(status):
                con.register("_new_pop_symbols", status)
                new_sql = ("SELECT n.*, y.status AS new_status FROM _new_pop n LEFT JOIN _new_pop_symbols y "
                           "ON y.region = n.region AND y.year = n.year AND y.age = n.age")
            else:
                new_sql = "SELECT n.*, NULL::VARCHAR AS new_status FROM _new_pop n"
            key = "USING (region, year, age)"
            age = "CASE WHEN age >= 105 THEN 'Alder=105+' ELSE 'Alder=' || lpad(age::VARCHAR, 3, '0') END"
            revised = con.execute(
                f"INSERT INTO revisions SELECT ?, region, year, 'Personer1', {age}, NULL, o.persons, n.persons, "
                f"o.status, n.new_status, ? FROM _oldpop o JOIN ({new_sql}) n "
                f"{key} WHERE o.persons IS DISTINCT FROM n.persons OR o.status IS DISTINCT FROM n.new_status",
                [table_id, fetched_at]).fetchall()[0][0]
            added = _one(con, f"SELECT count(*) FROM _new_pop n ANTI JOIN _oldpop o {key}")[0]
            removed = _one(con, f"SELECT count(*) FROM _oldpop o ANTI JOIN _new_pop n {key}")[0]
            con.execute(f"INSERT OR REPLACE INTO ssb_tables ({', '.join(TABLE_COLUMNS)}) "
                        f"VALUES ({', '.join('?' * len(TABLE_COLUMNS))})", row)
            if has_cats:
                _insert_categories(con, table_id, "_new_categories")
            params = []
            con.execute("DELETE FROM population p WHERE TRUE" + _scope_sql("p", years, regions, params), params)
            con.execute("DELETE FROM population p USING (SELECT DISTINCT region, year FROM _new_pop) n "
                        "WHERE p.region = n.region AND p.year = n.year")
            con.execute("INSERT INTO population SELECT region, year, age, persons FROM _new_pop")
            params = []
            _write_population_status(con, status, "(TRUE" + _scope_sql("s", years, regions, params) + ") OR "
                                     "(s.region, s.year) IN (SELECT DISTINCT region, year FROM _new_pop)", params)
            counts = {"cells": len(data), "revised": int(revised), "added": int(added), "removed": int(removed),
                      "first_fetch": first, "fetched_at": fetched_at}
            con.execute(f"INSERT OR REPLACE INTO fetch_changes VALUES ({', '.join('?' * len(CHANGE_COLUMNS))})", [
                table_id, fetched_at, old[0] if old else None, row[TABLE_COLUMNS.index("updated")],
                ",".join(str(y) for y in sorted(years)) if years is not None else None,
                ",".join(regions) if regions is not None else None,
                counts["cells"], counts["revised"], counts["added"], counts["removed"], first])
    finally:
        _unregister(con, "_new_pop")
        _unregister(con, "_new_categories")
        _unregister(con, "_new_pop_symbols")
        con.execute("DROP TABLE IF EXISTS _oldpop")
    return counts


def read_fetch_changes(con: duckdb.DuckDBPyConnection, latest: bool = True) -> pd.DataFrame:
    """Per table and fetch: SSB's old and new `updated`, years, cells revised/added/removed (latest fetch per
    table when `latest`). Empty (with the columns) when no fetch has written the table yet."""
    if not _has_table(con, "fetch_changes"):
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    sql = f"SELECT {', '.join(CHANGE_COLUMNS)} FROM fetch_changes"
    if latest:
        sql += " QUALIFY row_number() OVER (PARTITION BY table_id ORDER BY fetched_at DESC) = 1"
    return read_frame(con, sql + " ORDER BY table_id, fetched_at")


def read_revisions(
    con: duckdb.DuckDBPyConnection,
    tables: Iterable[str] | str | None = None,
    regions: Iterable[str] | str | None = None,
    latest: bool = True,
    limit_per_table: int | None = None,
    per_region: bool = False,
) -> pd.DataFrame:
    """Revised cells (old and new value and status), largest absolute change first within each table.

    `latest`: only each table's most recent fetch. `limit_per_table`: the N largest per table (per table and
    region when `per_region`); a change to or from a missing value counts as largest. Empty when no fetch has
    recorded revisions.
    """
    if not _has_table(con, "revisions"):
        return pd.DataFrame(columns=REVISION_COLUMNS)
    params: list = []
    where = "TRUE" + _in_clause("table_id", tables, params) + _in_clause("region", regions, params)
    if latest:
        where += (" AND fetched_at = (SELECT max(f.fetched_at) FROM fetch_changes f "
                  "WHERE f.table_id = revisions.table_id)")
    rank = (f"row_number() OVER (PARTITION BY table_id{', region' if per_region else ''} ORDER BY "
            "abs(new_value - old_value) DESC NULLS FIRST, region, year, contents_code, dims)")
    sql = f"SELECT {', '.join(REVISION_COLUMNS)} FROM revisions WHERE {where}"
    if limit_per_table is not None:
        sql += f" QUALIFY {rank} <= {int(limit_per_table)}"
    return read_frame(con, sql + " ORDER BY table_id, abs(new_value - old_value) DESC NULLS FIRST, region, year, "
                      "contents_code, dims", params)


# --------------------------------------------------------------------------------------------- reading


def _in_clause(column: str, values: Iterable | None, params: list) -> str:
    if values is None:
        return ""
    values = [values] if isinstance(values, (str, int)) else list(values)
    if not values:
        return " AND FALSE"
    params.extend(values)
    return f" AND {column} IN ({', '.join('?' * len(values))})"


def read_observations(
    con: duckdb.DuckDBPyConnection,
    measures: Iterable[str] | str | None = None,
    tables: Iterable[str] | str | None = None,
    regions: Iterable[str] | str | None = None,
    years: Iterable[int] | int | None = None,
) -> pd.DataFrame:
    """Observations (table_id, region, year, contents_code, dims, measure, value, status), filtered."""
    params: list = []
    sql = f"SELECT {', '.join(OBS_COLUMNS)} FROM observations WHERE TRUE"
    sql += _in_clause("measure", measures, params)
    sql += _in_clause("table_id", tables, params)
    sql += _in_clause("region", regions, params)
    sql += _in_clause("year", years, params)
    return read_frame(con, sql + " ORDER BY table_id, measure, region, year, contents_code, dims", params)


def read_population(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Residents on 1 January by region, year and single year of age (region, year, age, persons)."""
    return read_frame(con, "SELECT region, year, age, persons FROM population ORDER BY region, year, age")


def read_population_status(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """SSB's status symbols of population cells (region, year, age, status); empty when none were stored
    (the table is optional: databases and snapshots without it have no symbols)."""
    if not _has_table(con, "population_status"):
        return pd.DataFrame({"region": pd.Series(dtype=object), "year": pd.Series(dtype="int32"),
                             "age": pd.Series(dtype="int32"), "status": pd.Series(dtype=object)})
    return read_frame(con, "SELECT region, year, age, status FROM population_status ORDER BY region, year, age")


def read_regions(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """All region codes with names, kind, county, valid years and the 2024-structure code they map to."""
    return read_frame(con, f"SELECT {', '.join(REGION_COLUMNS)} FROM regions ORDER BY kind, code")


def read_code_changes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """KLASS 131 code changes (old_code, new_code, valid_to, name)."""
    return read_frame(con, "SELECT old_code, new_code, valid_to, name FROM code_changes ORDER BY new_code, old_code")


def read_kostra_groups(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """KOSTRA group membership (region, group_code, group_name, source)."""
    return read_frame(con, "SELECT region, group_code, group_name, source FROM kostra_groups ORDER BY region")


def read_need_index(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Expenditure-need index (region, year, sector, value, source)."""
    return read_frame(con, "SELECT region, year, sector, value, source FROM need_index ORDER BY region, year, sector")


def read_tables(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Provenance: one row per stored table (see ssb_tables)."""
    return read_frame(con, f"SELECT {', '.join(TABLE_COLUMNS)} FROM ssb_tables ORDER BY table_id")


def read_categories(con: duckdb.DuckDBPyConnection, table_id: str) -> pd.DataFrame:
    """The table's dimensions' codes with label, unit, decimals and position."""
    return read_frame(
        con,
        "SELECT dimension, code, label, unit, decimals, position FROM categories WHERE table_id = ? "
        "ORDER BY dimension, position, code",
        [table_id],
    )


def read_meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The meta table as a dict (schema_version, built_at, input hashes, ...)."""
    return dict(con.execute("SELECT key, value FROM meta ORDER BY key").fetchall())


def read_boundaries(con: duckdb.DuckDBPyConnection, level: str, detail: str = "S") -> str:
    """GeoJSON text for level 'kommune' or 'fylke' at detail 'S' or 'M'."""
    row = _one(con, "SELECT geojson FROM boundaries WHERE level = ? AND detail = ?", [level, detail])
    if row is None:
        raise UserError(f"no boundaries for {level}/{detail} in the database")
    text = row[0]
    if text.startswith(GZ_PREFIX):
        return gzip.decompress(base64.b64decode(text[len(GZ_PREFIX):])).decode("utf-8")
    return text


def _label_map(cats: pd.DataFrame, codes: pd.Series, preferred: Iterable[str] = ()) -> dict[str, str]:
    """code -> label from the dimension whose codes cover `codes` best (preferred dimension names first)."""
    wanted = set(codes.dropna().astype(str).unique())
    if not wanted or cats.empty:
        return {}
    best, best_hits = None, 0
    for dim, group in cats.groupby("dimension", sort=False):
        hits = len(wanted & set(group["code"]))
        if hits > best_hits or (hits == best_hits and hits and dim in preferred):
            best, best_hits = dim, hits
    if best is None:
        return {}
    group = cats[cats["dimension"] == best]
    return dict(zip(group["code"], group["label"], strict=True))


def export_frame(con: duckdb.DuckDBPyConnection, table_id: str) -> pd.DataFrame:
    """A stored table in long format with codes and labels, value and status (what `export_table` writes)."""
    table_id = str(table_id)
    if _one(con, "SELECT 1 FROM ssb_tables WHERE table_id = ?", [table_id]) is None:
        known = [r[0] for r in con.execute("SELECT table_id FROM ssb_tables ORDER BY 1").fetchall()]
        raise UserError(f"table {table_id} is not in the database (it has: {', '.join(known) or 'none'})")
    obs = read_observations(con, tables=[table_id])
    cats = read_categories(con, table_id)
    names = dict(con.execute("SELECT code, name FROM regions").fetchall())
    if obs.empty and (cats["dimension"] == "Alder").any():
        return _population_export(con, table_id, cats, names)
    region_labels = _label_map(cats, obs["region"])
    contents_labels = _label_map(cats, obs["contents_code"], preferred=("ContentsCode",))
    by_dim = {d: dict(zip(g["code"], g["label"], strict=True)) for d, g in cats.groupby("dimension")}

    def dims_label(dims: str) -> str:
        if not dims:
            return ""
        parts = []
        for part in dims.split(";"):
            dim, _, code = part.partition("=")
            parts.append(f"{dim}={by_dim.get(dim, {}).get(code, code)}")
        return ";".join(parts)

    dims_labels = {d: dims_label(d) for d in obs["dims"].unique()}
    out = pd.DataFrame(
        {
            "table_id": obs["table_id"],
            "region": obs["region"],
            "region_label": obs["region"].map(lambda c: region_labels.get(c) or names.get(c)),
            "year": obs["year"],
            "contents_code": obs["contents_code"],
            "contents_label": obs["contents_code"].map(contents_labels),
            "dims": obs["dims"],
            "dims_label": obs["dims"].map(dims_labels),
            "measure": obs["measure"],
            "value": obs["value"],
            "status": obs["status"],
        }
    )
    return out


def _population_export(con: duckdb.DuckDBPyConnection, table_id: str, cats: pd.DataFrame,
                       names: dict[str, str]) -> pd.DataFrame:
    """A population table (07459: stored by age in `population`, not in `observations`) in the same long format.

    The age codes and labels are SSB's from the table's categories ('000' '0 år' ... '105+' '105 år eller eldre').
    """
    pop = read_population(con)
    ages = cats[cats["dimension"] == "Alder"]
    age_code = {int(str(c).rstrip("+")): c for c in ages["code"]}
    age_label = dict(zip(ages["code"], ages["label"], strict=True))
    contents = cats[cats["dimension"] == "ContentsCode"]
    code, label = (contents["code"].iloc[0], contents["label"].iloc[0]) if len(contents) else ("", "")
    region_labels = _label_map(cats, pop["region"])
    dims = pop["age"].map(lambda a: f"Alder={age_code.get(a, f'{a:03d}')}")
    return pd.DataFrame({
        "table_id": table_id,
        "region": pop["region"],
        "region_label": pop["region"].map(lambda c: region_labels.get(c) or names.get(c)),
        "year": pop["year"],
        "contents_code": code,
        "contents_label": label,
        "dims": dims,
        "dims_label": dims.map(lambda d: "Alder=" + age_label.get(d.partition("=")[2], d.partition("=")[2])),
        "measure": None,
        "value": pop["persons"].astype("Int64"),  # whole persons
        "status": _population_symbols(con, pop),
    })


def _population_symbols(con: duckdb.DuckDBPyConnection, pop: pd.DataFrame) -> pd.Series | None:
    """Each population row's status symbol (population_status), None where it has none; None if no symbols."""
    status = read_population_status(con)
    if not len(status):
        return None
    keys = pd.MultiIndex.from_frame(status[["region", "year", "age"]].astype({"year": "int64", "age": "int64"}))
    lookup = pd.Series(status["status"].to_numpy(), index=keys)
    at = pd.MultiIndex.from_frame(pop[["region", "year", "age"]].astype({"year": "int64", "age": "int64"}))
    return pd.Series(lookup.reindex(at).to_numpy(dtype=object), index=pop.index).where(lambda s: s.notna(), None)


# CSV dialects of export_table: "nb" for Norwegian Excel (the default: `;` between fields, decimal comma, UTF-8 with
# a byte-order mark, so a double-click opens it in columns with æøå intact and numbers as numbers), "plain" for
# programs (`,`, decimal point, UTF-8 without BOM). drivers.export.tables writes the pack's CSV in the same "nb" form.
CSV_DIALECTS = {
    "nb": {"sep": ";", "decimal": ",", "encoding": "utf-8-sig", "lineterminator": "\r\n"},
    "plain": {"sep": ",", "decimal": ".", "encoding": "utf-8", "lineterminator": "\n"},
}


def export_table(con: duckdb.DuckDBPyConnection, table_id: str, path: Path | str, fmt: str,
                 dialect: str = "nb") -> int:
    """Write a stored table as CSV or Parquet (long: codes, labels, value, status); returns the row count.

    CSV in `dialect` (CSV_DIALECTS: "nb" Norwegian Excel by default, "plain" on request); a missing value is an
    empty field with SSB's symbol in `status`. Written to a temporary file and renamed, so a failed export leaves
    no half-written file.
    """
    if fmt not in ("csv", "parquet"):
        raise UserError(f"unknown export format {fmt!r}; use csv or parquet")
    if dialect not in CSV_DIALECTS:
        raise UserError(f"unknown CSV dialect {dialect!r}; use {' or '.join(CSV_DIALECTS)}")
    frame = export_frame(con, table_id)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if fmt == "csv":
            frame.to_csv(tmp, index=False, **CSV_DIALECTS[dialect])
        else:
            frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        _discard(tmp)
        raise
    return len(frame)
