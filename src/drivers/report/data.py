"""The one place pages get data: open the database read-only once, load the Panel, close, keep it in memory.

`get_panel()` is the engine's Panel (frames: observations, population, regions, groups, need, tables).
`meta()` is what the controls and URL validation need (municipality names incl. Sami forms, counties,
KOSTRA groups, the years with data), computed once from the Panel. Callbacks never touch DuckDB.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pandas as pd

from drivers import store
from drivers.config import Settings
from drivers.errors import UserError

_lock = threading.Lock()
_settings: Settings | None = None
_panel = None
_meta: Meta | None = None

TOTAL_DIMS = "KOKart0000=AGD1"


def configure(settings: Settings) -> None:
    """Point the data layer at a database; forget what was loaded (the next call loads again)."""
    global _settings, _panel, _meta
    with _lock:
        _settings, _panel, _meta = settings, None, None


def database_path():
    return (_settings or Settings.from_env()).database_for_reading()


def get_panel():
    """The engine's Panel, loaded on first use from the fetched database (else the snapshot), read-only."""
    global _panel
    if _panel is not None:
        return _panel
    with _lock:
        if _panel is None:
            from drivers.loading import load_panel_from

            _panel = load_panel_from(database_path())
    return _panel


def loaded_panel():
    """The Panel if it is loaded, else None (never loads)."""
    return _panel


def api():
    """The engine's api (pages call it through drivers.report.queries, which caches per view), with a saved peer set's
    name resolved to its current members at each call (drivers.peersets.resolving)."""
    from drivers import peersets
    from drivers.engine import api as engine_api

    return peersets.resolving(engine_api)


@dataclass(frozen=True)
class Meta:
    """Names, groups and years: what the controls offer and what URL validation checks against."""

    municipalities: pd.DataFrame  # code, name, county, county_name, group_code, group_name
    years: list[int]
    default_year: int
    names: dict[str, str] = field(default_factory=dict)

    def name(self, code: str) -> str:
        return self.names.get(code, code)

    def has(self, code: str) -> bool:
        return code in self.names


def meta() -> Meta:
    """Built once from the Panel."""
    global _meta
    if _meta is not None:
        return _meta
    panel = get_panel()
    codes = [str(c) for c in panel.municipalities]
    groups = list(panel.group)
    frame = pd.DataFrame({"code": codes, "name": [panel.name(c) for c in codes], "county": [c[:2] for c in codes]})
    frame["county_name"] = [panel.county_name(c) for c in frame["county"]]
    frame["group_code"] = groups
    frame["group_name"] = [f"KOSTRA-gruppe {int(g[3:])}" if isinstance(g, str) and g.startswith("EKG") else None
                           for g in groups]
    years = list(panel.years)
    if not years:
        raise UserError("databasen har ingen netto driftsutgifter (no ndu_1000kr); run `drivers snapshot build`")
    obs = panel.observations
    with_total = obs.loc[(obs["measure"] == "ndu_1000kr") & (obs["dims"] == TOTAL_DIMS) & obs["value"].notna(), "year"]
    default_year = int(with_total.max()) if len(with_total) else years[-1]
    _meta = Meta(frame, years, default_year, dict(zip(frame["code"], frame["name"], strict=True)))
    return _meta


def describe() -> dict:
    """What the data holds and lacks (from drivers.snapshot.describe when that exists)."""
    try:
        from drivers import snapshot

        with store.connect(database_path(), read_only=True) as con:
            return snapshot.describe(con)
    except (ImportError, AttributeError):
        m = meta()
        return {"years": m.years, "path": str(database_path())}


def release_free_memory() -> None:
    """Hand memory that Python has freed back to the OS (glibc's malloc_trim), e.g. after warming, whose
    temporary frames would otherwise stay in the server's RSS. No-op off glibc."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def read_boundaries(level: str, detail: str = "S") -> str:
    """The stored GeoJSON text for `level` (kommune | fylke) from the database in use (opened read-only)."""
    con = store.connect(database_path(), read_only=True)
    try:
        return store.read_boundaries(con, level, detail)
    finally:
        con.close()


def read_changes(path, revisions_per_table: int) -> dict:
    """The last fetch's changes per table, the largest revisions per table and region, and the tables' origins
    in the database at `path` (opened read-only)."""
    con = store.connect(path, read_only=True)
    try:
        return {"changes": store.read_fetch_changes(con),
                "revisions": store.read_revisions(con, limit_per_table=revisions_per_table, per_region=True),
                "origins": sorted(set(store.read_tables(con)["origin"].dropna()))}
    finally:
        con.close()
