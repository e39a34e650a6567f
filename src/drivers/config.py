"""Settings: where the data lives and which SSB API to talk to. Read from the environment once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SSB_API_V2 = "https://data.ssb.no/api/pxwebapi/v2"
SSB_API_V0 = "https://data.ssb.no/api/v0"


@dataclass(frozen=True)
class Settings:
    """Paths and endpoints. `db_path` is the fetched database; `snapshot_path` the shipped one."""

    data_dir: Path = PROJECT_ROOT / "data"
    db_path: Path = PROJECT_ROOT / "data" / "drivers.duckdb"
    snapshot_path: Path = PROJECT_ROOT / "data" / "snapshot.duckdb"
    cache_dir: Path = PROJECT_ROOT / "data" / "cache"
    assets_dir: Path = PROJECT_ROOT / "assets"
    shared_dir: Path = PROJECT_ROOT.parent / "shared"
    api_base: str = SSB_API_V2
    # the municipality's indikatorsett (goals and their indicators, drivers.goals); None: the example that ships
    indikatorsett: Path | None = None

    @classmethod
    def from_env(cls) -> Settings:
        """Override any path with DRIVERS_DB, DRIVERS_SNAPSHOT, DRIVERS_CACHE, DRIVERS_SHARED, SSB_API_BASE
        (the team's shared peer sets: DRIVERS_PEER_SETS, read by drivers.peersets; theme: DRIVERS_THEME, read by
        drivers.export.theme; the indikatorsett: DRIVERS_INDIKATORSETT, read by drivers.goals)."""
        base = cls()
        return cls(
            data_dir=base.data_dir,
            db_path=Path(os.environ.get("DRIVERS_DB", base.db_path)),
            snapshot_path=Path(os.environ.get("DRIVERS_SNAPSHOT", base.snapshot_path)),
            cache_dir=Path(os.environ.get("DRIVERS_CACHE", base.cache_dir)),
            assets_dir=base.assets_dir,
            shared_dir=Path(os.environ.get("DRIVERS_SHARED", base.shared_dir)),
            api_base=os.environ.get("SSB_API_BASE", base.api_base),
            indikatorsett=Path(os.environ["DRIVERS_INDIKATORSETT"]) if os.environ.get("DRIVERS_INDIKATORSETT") else None,
        )

    def database_for_reading(self) -> Path:
        """The fetched database if one exists, otherwise the embedded snapshot."""
        return self.db_path if self.db_path.exists() else self.snapshot_path
