"""The dashboard app on real data for the Sammenlign, Kart and Metode page tests.

Uses the project's database (fetched db, else data/snapshot.duckdb); without one, builds the snapshot from
../shared once into a temporary folder (never the repo's data/). Skips with the reason if ../shared is missing.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

import pytest

from drivers.config import Settings

_built: dict[str, Path] = {}


def database() -> Path:
    settings = Settings.from_env()
    path = settings.database_for_reading()
    if path.exists():
        return path
    if "snapshot" not in _built:
        if not (settings.shared_dir / "ssb").exists() or not (settings.shared_dir / "geo").exists():
            pytest.skip(f"no database at {path} and no real data under {settings.shared_dir} to build one")
        from drivers import snapshot

        out = Path(tempfile.mkdtemp(prefix="drivers-ui-pages-")) / "snapshot.duckdb"
        snapshot.build(settings.shared_dir, out)
        _built["snapshot"] = out
    return _built["snapshot"]


def make_app(db: Path | None = None, preload: bool = True):
    """A fresh app (pages re-imported) on `db`, or on the real database. `preload` as create_app's: True loads
    everything a server loads at start (and starts the export slots' Chromium and the background warm-up)."""
    from drivers.ui.app import create_app

    settings = dataclasses.replace(Settings.from_env(), db_path=db or database())
    return create_app(settings, preload=preload)


def copy_database(tmp_path: Path) -> Path:
    out = tmp_path / "copy.duckdb"
    shutil.copyfile(database(), out)
    return out


def page_layout(path: str):
    """The registered layout function of the page at `path`."""
    import dash

    return next(p["layout"] for p in dash.page_registry.values() if p["path"] == path)


def page_module(path: str):
    import sys

    import dash

    module = next(p["module"] for p in dash.page_registry.values() if p["path"] == path)
    return sys.modules[module]


def walk(component):
    """Every component in a Dash component tree (depth first)."""
    yield component
    children = getattr(component, "children", None)
    if children is None:
        return
    if not isinstance(children, list | tuple):
        children = [children]
    for child in children:
        if hasattr(child, "to_plotly_json"):
            yield from walk(child)


def find(component, cid):
    return next((c for c in walk(component) if getattr(c, "id", None) == cid), None)


def text(component) -> str:
    """All text in a component tree."""
    out = []
    for c in walk(component):
        ch = getattr(c, "children", None)
        if isinstance(ch, str | int | float):
            out.append(str(ch))
        elif isinstance(ch, list | tuple):
            out.extend(str(x) for x in ch if isinstance(x, str | int | float))
    return " ".join(out)


@pytest.fixture(scope="module")
def pages_app():
    """The app as the page tests read it: without create_app's preload, which would start Chromium for the export
    slots (kaleido: not the fast tier's) and a warm-up thread computing every peer set's tables beside the tests."""
    from drivers.report import data

    app = make_app(preload=False)
    yield app
    data.configure(Settings.from_env())


def duplicate_ids(component) -> list:
    """Component ids that occur more than once (Dash refuses a layout with duplicates)."""
    seen, dup = set(), []
    for c in walk(component):
        cid = getattr(c, "id", None)
        if cid is None:
            continue
        key = str(sorted(cid.items())) if isinstance(cid, dict) else cid
        if key in seen:
            dup.append(cid)
        seen.add(key)
    return dup
