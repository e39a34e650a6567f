"""Building the engine's Panel from the store: the one place where the database meets the engine.

The engine is pure (no DuckDB, no files); this module reads the frames it needs through drivers.store's readers
and hands them to `engine.Panel`.
"""

from __future__ import annotations

from drivers import i18n, store  # noqa: F401  (i18n, on import, gives the engine its wording: engine/reasons.py)
from drivers.engine import indicators
from drivers.engine.panel import Panel
from drivers.errors import UserError

READERS = ["read_observations", "read_population", "read_regions", "read_kostra_groups", "read_need_index", "read_tables"]


def load_panel(con) -> Panel:
    """The Panel from an open store connection, through drivers.store's readers only (the observations of the
    measures the indicator registry reads, not the whole table)."""
    missing = [r for r in READERS if not hasattr(store, r)]
    if missing:
        raise UserError(f"drivers.store mangler lesefunksjonene {', '.join(missing)} (store readers missing)")
    code_changes = store.read_code_changes(con) if hasattr(store, "read_code_changes") else None
    wanted = sorted({m for ind in indicators.all() for m in ind.measures} | set(indicators.measures()))
    return Panel(
        observations=store.read_observations(con, measures=wanted),
        population=store.read_population(con),
        regions=store.read_regions(con),
        groups=store.read_kostra_groups(con),
        need=store.read_need_index(con),
        tables=store.read_tables(con),
        code_changes=code_changes,
    )


def load_panel_from(path) -> Panel:
    """The Panel from a database file, opened read-only and closed again."""
    con = store.connect(path, read_only=True)
    try:
        return load_panel(con)
    finally:
        con.close()
