"""Where the real data lives for the data-store tests, and a session-wide snapshot built from it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from drivers.config import Settings

SHARED = Path(os.environ.get("DRIVERS_SHARED", Settings().shared_dir))
RAW = SHARED / "ssb" / "raw"
DERIVED = SHARED / "ssb" / "derived"
FIXTURE_12134 = RAW / "pxwebapi-v2_12134_data_0301-4601-5001_KOSAG110000_2024.json"
V0_FILES = sorted(RAW.glob("riksdata_v0-jsonstat1_*.json"))


def need_shared() -> None:
    if not FIXTURE_12134.exists():
        pytest.skip(f"real SSB data not found under {SHARED} (../shared is missing); these tests need it")


@pytest.fixture(scope="session")
def snapshot_db(tmp_path_factory) -> Path:
    """The snapshot built once from ../shared into a temporary folder (never the repo's data/)."""
    need_shared()
    from drivers import snapshot

    out = tmp_path_factory.mktemp("snapshot") / "snapshot.duckdb"
    snapshot.build(SHARED, out)
    return out
