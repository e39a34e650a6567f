"""The one place pages get data: open the database read-only once, load the Panel, close, keep it in memory.

`get_panel()` is the engine's Panel (frames: observations, population, regions, groups, need, tables).
`meta()` is what the controls and URL validation need (municipality names incl. Sami forms, counties,
KOSTRA groups, the years with data), computed once from the Panel. Callbacks never touch DuckDB.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import SimpleNamespace

import pandas as pd

from drivers import store
from drivers.config import Settings
from drivers.errors import UserError

_lock = threading.Lock()
_settings: Settings | None = None
_panel = None
_meta: Meta | None = None

SERVICES = ["FGK7", "FGK8b", "FGK9", "FGK13", "FGK12", "FGK1b", "FGK2", "FGK17", "FGK15"]
TOTAL_DIMS = "KOKart0000=AGD1"


def configure(settings: Settings) -> None:
    """Point the data layer at a database; forget what was loaded (the next call loads again)."""
    global _settings, _panel, _meta
    with _lock:
        _settings, _panel, _meta = settings, None, None


def database_path():
    return (_settings or Settings.from_env()).database_for_reading()


def _engine():
    try:
        from drivers import engine
    except ImportError:  # the engine package lands separately; the bridge below stands in until then
        return None
    return engine if hasattr(engine, "load_panel") else None


def _load_bridge_panel(con) -> SimpleNamespace:
    """Temporary stand-in for drivers.engine.load_panel: the store's tables as frames."""
    q = lambda sql: store.read_frame(con, sql)  # noqa: E731
    return SimpleNamespace(
        observations=q("SELECT * FROM observations"),
        population=q("SELECT * FROM population"),
        regions=q("SELECT * FROM regions"),
        groups=q("SELECT * FROM kostra_groups"),
        need=q("SELECT * FROM need_index"),
        tables=q("SELECT * FROM ssb_tables"),
    )


def get_panel():
    """The Panel, loaded on first use from the fetched database (else the snapshot), read-only."""
    global _panel
    if _panel is not None:
        return _panel
    with _lock:
        if _panel is None:
            path = database_path()
            con = store.connect(path, read_only=True)
            try:
                eng = _engine()
                _panel = eng.load_panel(con) if eng else _load_bridge_panel(con)
            finally:
                con.close()
    return _panel


def api():
    """The engine's api module, or the temporary bridge until it exists."""
    eng = _engine()
    if eng is not None:
        from drivers.engine import api as engine_api

        return engine_api
    from drivers.ui import bridge

    return bridge


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
    regions = panel.regions
    kom = regions[(regions["kind"] == "kommune") & (regions["current_code"].fillna(regions["code"]) == regions["code"])]
    kom = kom[(kom["valid_to"].isna())] if "valid_to" in kom else kom
    fylker = regions[regions["kind"] == "fylke"].set_index("code")["name"].to_dict()
    groups = panel.groups.set_index("region")
    frame = pd.DataFrame(
        {
            "code": kom["code"].astype(str),
            "name": kom["name"].astype(str),
            "county": kom["county"].astype(str),
        }
    ).sort_values("code")
    frame["county_name"] = frame["county"].map(fylker)
    frame["group_code"] = frame["code"].map(groups["group_code"]) if len(groups) else None
    frame["group_name"] = frame["code"].map(groups["group_name"]) if len(groups) else None
    obs = panel.observations
    ndu = obs[obs["measure"] == "ndu_1000kr"]
    years = sorted(int(y) for y in ndu["year"].unique()) or sorted(int(y) for y in obs["year"].unique())
    if not years:
        raise UserError("databasen har ingen KOSTRA-tall (no observations); run `drivers snapshot build`")
    with_total = ndu[ndu["dims"] == TOTAL_DIMS]["year"]
    default_year = int(with_total.max()) if len(with_total) else years[-1]
    _meta = Meta(frame.reset_index(drop=True), years, default_year, dict(zip(frame["code"], frame["name"], strict=True)))
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
