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
population(region, year, age)          residents 1 January of `year` by single year of age (SSB 07459)
kostra_groups(region, group_code)      KOSTRA group membership (2020 grouping, 2024 numbering)
need_index(region, year, sector)       expenditure-need index (kostnadsindeks), national mean = 1.0
boundaries(level, detail)              GeoJSON text (Kartverket via robhop), level kommune | fylke
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from drivers.errors import UserError

SCHEMA_VERSION = 1

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
    persons BIGINT,
    PRIMARY KEY (region, year, age)
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
    geojson VARCHAR NOT NULL,
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
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
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


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])


def read_frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    """Run a read query and return a DataFrame."""
    return con.execute(sql, params or []).df()
