"""The one place pages get data: the database opened read-only, everything the pages need from it read into memory
as one `Bundle`, and a newer database picked up while serving.

A Bundle is one version of the database in memory: the engine's Panel, `meta()` (names, groups, years for the
controls and URL validation, built from the Panel on first use), the map's boundaries (GeoJSON, detail S) and what
Metode shows (`describe()`, `changes()`). It is read through one read-only connection, closed again: callbacks never
touch DuckDB and a writer is never blocked.

Long on purpose: reading a version, holding it for a request and swapping in the next are one protocol (the locks,
the watcher and the reader share its state); split over modules, its rules would be harder to check together.

A new database while serving. Writers never change the served file: drivers.store.writer builds the new database
beside it and renames it into place when complete. A request (the serving layer's `request_scope`, Flask's g) takes
the current Bundle at its first data access and keeps it to its end: every part of one request reads one version.
That first access also stats the file (~9 µs); when the file's identity (inode, size, mtime, ctime) differs from
the Bundle's, one thread reads it into a new Bundle and swaps it in whole (one reference). A request whose first data
access comes while a new version is being read waits for it (at most SWAP_WAIT), so the first page asked for after
a fetch has renamed its database in shows the new numbers: a rare wait of a few seconds, rather than seconds of
pages with the old numbers after the fetch said it was done. Requests that began before keep the Bundle they hold.
The old Bundle is freed when the last request holding it ends (caches of values derived from it are keyed on the
data version, drivers.report.version, and forget them on their next access).

A file is not used, and the old Bundle kept, when it was written in place less than SETTLE seconds ago (it may still
be being written; a file renamed in, a new inode, is complete by the writers' contract), is locked by a writer
(DuckDB's lock on a file open read-write in place), is no database of this schema, or changes while it is read: one
log line says why, and it is tried again when it changes, or after RETRY seconds.
A database file that disappears keeps being served from memory. Outside a request (CLI, exports, the warm-up
thread) the current Bundle is used and the file is not watched.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from drivers import store
from drivers.config import Settings
from drivers.errors import UserError
from drivers.report import version as _version

log = logging.getLogger(__name__)

TOTAL_DIMS = "KOKart0000=AGD1"
# Watching the database file while serving. Measured on this machine (2 cores, the 7.6 MB snapshot, other tests
# running): reading a Bundle takes ~3.4 s (Panel ~2.9 s, describe ~0.5 s, boundaries and changes ~0.07 s); a stat
# costs ~9 µs, so every request's first data access makes one (STAT_INTERVAL 0). Before, with one stat a second and
# no waiting, tests/test_fetch_while_serving.py saw the new figure on a page ~8 s after the rename.
STAT_INTERVAL = 0.0  # seconds: the database file is stat'ed at most this often (by the first request after it)
SETTLE = 1.0  # seconds: a file written in place more recently than this may be incomplete; looked at again later
SWAP_WAIT = 30.0  # seconds a request waits at most for a new version being read (then it reads the old one)
RETRY = 5.0  # seconds: a file that could not be used is tried again after this even if it has not changed
REVISIONS_PER_TABLE = 10  # Metode's largest revisions kept per table and region
BOUNDARIES = (("kommune", "S"), ("fylke", "S"))  # what the map serves
_HELD = "drivers_bundle"  # the attribute on the request scope that holds the request's Bundle

_lock = threading.Lock()  # configure, the first load, the swap
_watch_lock = threading.Lock()  # one watcher decision at a time
_first_lock = threading.Lock()
_settings: Settings | None = None
_bundle: Bundle | None = None
_generation = 0  # bumped by configure: a load started for another database is not swapped in
_loads = 0  # Bundles read in this process (their number)
_checked = 0.0  # time.monotonic() of the last stat
_inodes: dict[Path, int] = {}  # path -> the inode its last stat saw (a new inode: a file renamed in)
_failed: dict[tuple, float] = {}  # (path, identity) -> time.monotonic() of its last failed load
_loader: threading.Thread | None = None


class ChangedWhileRead(UserError):
    """The database file was written in place while it was read: what was read may be half of it."""


def identity(path: Path | str) -> tuple | None:
    """The file's identity (inode, size, mtime ns, ctime ns), or None if it is missing. A rename of a new file onto
    the path changes the inode; a write in place changes the size or the times."""
    try:
        s = os.stat(path)
    except OSError:
        return None
    return (s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns)


@dataclass(eq=False)
class Bundle:
    """One version of the database, in memory. `identity` is the file's when it was read; `number` counts the
    Bundles read in this process (so two reads of one file are two versions)."""

    path: Path
    identity: tuple
    number: int
    panel: object  # drivers.engine.panel.Panel
    boundaries: dict[tuple[str, str], bytes]
    description: dict
    changes: dict
    read_seconds: float
    _meta: Meta | None = field(default=None, repr=False)
    _memo: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def version(self) -> tuple:
        """What the data version (drivers.report.version) holds for this Bundle."""
        return (str(self.path), self.identity, self.number)

    def meta(self) -> Meta:
        if self._meta is None:
            built = _build_meta(self.panel)
            with self._lock:
                if self._meta is None:
                    self._meta = built
        return self._meta

    def memo(self, key, build):
        """A value derived from this Bundle alone (e.g. the parsed boundaries), built once and freed with it."""
        value = self._memo.get(key)
        if value is None:
            value = build()
            with self._lock:
                value = self._memo.setdefault(key, value)
        return value


def configure(settings: Settings) -> None:
    """Point the data layer at a database; forget what was loaded (the next call loads again)."""
    global _settings, _bundle, _generation, _checked
    with _lock:
        _settings, _bundle = settings, None
        _generation += 1
        _checked = 0.0
        _failed.clear()


def database_path():
    return (_settings or Settings.from_env()).database_for_reading()


# ---- the Bundle a caller reads ------------------------------------------------------------------------------------
def _scope():
    return _version.request_scope() if _version.request_scope is not None else None


def current() -> Bundle:
    """The Bundle to read: inside a request the one it took at its first data access; outside a request the newest.
    The first call in a process reads the database (a missing or broken file is a UserError here)."""
    return _take(load=True)


def loaded() -> Bundle | None:
    """As `current()`, but None rather than reading the database when nothing is loaded yet."""
    return _take(load=False)


def _take(load: bool) -> Bundle | None:
    scope = _scope()
    if scope is not None:
        held = getattr(scope, _HELD, None)
        if held is not None:
            return held
        _watch()
        loader = _loader
        if loader is not None and loader.is_alive():
            loader.join(SWAP_WAIT)  # a new version is being read: this request shows it (see the docstring)
    bundle = _bundle or (_load_first() if load else None)
    if scope is not None and bundle is not None:
        setattr(scope, _HELD, bundle)
    return bundle


def get_panel():
    """The engine's Panel of the Bundle in use (see `current`)."""
    return current().panel


def loaded_panel():
    """The newest Panel if one is loaded, else None (never loads; the warm-up stops when this changes)."""
    bundle = _bundle
    return bundle.panel if bundle is not None else None


def meta() -> Meta:
    """Names, groups and years of the Bundle in use, built once per Bundle from its Panel."""
    return current().meta()


def describe() -> dict:
    """What the data holds and lacks (drivers.snapshot.describe), read with the Bundle ({} if that failed)."""
    return current().description


def changes() -> dict:
    """The last fetch's changes per table ("changes"), the largest revisions per table and region ("revisions") and
    the tables' origins ("origins"), read with the Bundle ({} if that failed)."""
    return current().changes


def boundaries(level: str, detail: str = "S") -> bytes:
    """The stored GeoJSON (UTF-8) for `level` (kommune | fylke), read with the Bundle."""
    body = current().boundaries.get((level, detail))
    if body is None:
        raise UserError(f"no boundaries for {level}/{detail} in the database")
    return body


def read_boundaries(level: str, detail: str = "S") -> str:
    """The stored GeoJSON text for `level` (kommune | fylke), from the Bundle in use."""
    return boundaries(level, detail).decode("utf-8")


def memo(key, build):
    """A value derived from the Bundle in use alone, built once per Bundle (see Bundle.memo)."""
    return current().memo(key, build)


def api():
    """The engine's api (pages call it through drivers.report.queries, which caches per view), with a saved peer set's
    name resolved to its current members at each call (drivers.peersets.resolving)."""
    from drivers import peersets
    from drivers.engine import api as engine_api

    return peersets.resolving(engine_api)


# ---- reading a Bundle -----------------------------------------------------------------------------------------------
def _read(path: Path) -> Bundle:
    """Read everything the pages use from the database at `path` through one read-only connection. Raises if the
    file cannot be opened (missing, locked, not this schema) or changed while it was read."""
    global _loads
    from drivers import snapshot
    from drivers.loading import load_panel

    started = time.monotonic()
    before = identity(path)
    con = store.connect(path, read_only=True)
    try:
        panel = load_panel(con)
        bounds = {}
        for level, detail in BOUNDARIES:
            try:
                bounds[(level, detail)] = store.read_boundaries(con, level, detail).encode("utf-8")
            except UserError:
                pass  # the map says the boundaries are missing and names the command
        try:
            description = snapshot.describe(con)
        except Exception as exc:  # noqa: BLE001 - the method page must render even if describe fails
            log.warning("describe() failed: %s", _first_line(exc))
            description = {}
        try:
            fetched = {"changes": store.read_fetch_changes(con),
                       "revisions": store.read_revisions(con, limit_per_table=REVISIONS_PER_TABLE, per_region=True),
                       "origins": sorted(set(store.read_tables(con)["origin"].dropna()))}
        except Exception as exc:  # noqa: BLE001 - the method page must render even if this fails
            log.warning("reading the fetch changes failed: %s", _first_line(exc))
            fetched = {}
    finally:
        con.close()
    after = identity(path)
    if before is None or (after is not None and after[0] == before[0] and after != before):
        # written in place while it was read (a rename of a new file onto the path changes the inode and leaves
        # the file that was opened as it was: that read is whole, and the newer file is read at the next check)
        raise ChangedWhileRead(f"{path} changed while it was read")
    with _lock:
        _loads += 1
        number = _loads
    return Bundle(Path(path), before, number, panel, bounds, description, fetched, time.monotonic() - started)


def _load_first() -> Bundle:
    global _bundle
    with _first_lock:  # one first read, however many threads ask at start-up
        with _lock:
            bundle, generation = _bundle, _generation
        if bundle is not None:
            return bundle
        for attempt in range(3):
            try:
                bundle = _read(database_path())
                break
            except ChangedWhileRead:
                if attempt == 2:
                    raise
                time.sleep(SETTLE)
        with _lock:
            if _bundle is None and generation == _generation:
                _bundle = bundle
            return _bundle or bundle


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


# ---- watching the file while serving ------------------------------------------------------------------------------
def _watch() -> None:
    """At most once per STAT_INTERVAL: stat the database file and, if it is another complete file, start reading it
    in the background (`_reload`)."""
    global _checked, _loader
    now = time.monotonic()
    if now - _checked < STAT_INTERVAL or not _watch_lock.acquire(timeout=1.0):
        return
    try:
        if now - _checked < STAT_INTERVAL:
            return
        _checked = now
        bundle = _bundle
        if bundle is None or (_loader is not None and _loader.is_alive()):
            return
        if not bundle.path.exists():
            return  # gone: the data in memory is what is served
        path = Path(database_path())
        ident = identity(path)
        if ident is None or (path == bundle.path and ident == bundle.identity):
            return
        renamed_in = ident[0] not in (_inodes.get(path), bundle.identity[0] if path == bundle.path else None)
        _inodes[path] = ident[0]
        if not renamed_in and time.time() - ident[2] / 1e9 < SETTLE:
            return  # just written in place: maybe not complete yet; the next check looks again
        failed = _failed.get((path, ident))
        if failed is not None and now - failed < RETRY:
            return
        _loader = threading.Thread(target=_reload, args=(path, ident, _generation), name="drivers-reload",
                                   daemon=True)
        _loader.start()
    finally:
        _watch_lock.release()


def _reload(path: Path, ident: tuple, generation: int) -> None:
    """Read `path` into a new Bundle and swap it in; on any failure keep the old one and say why in one line."""
    global _bundle
    try:
        bundle = _read(path)
        bundle.meta()  # a database the controls cannot use is not served
    except Exception as exc:  # noqa: BLE001 - whatever is wrong with the new file, the old data keeps serving
        if len(_failed) > 64:
            _failed.clear()
        first = (path, ident) not in _failed
        _failed[(path, ident)] = time.monotonic()
        if first:
            log.warning("drivers: new database %s not used yet, still serving the previous one: %s", path,
                        _first_line(exc))
        return
    with _lock:
        if generation != _generation:
            return
        old, _bundle = _bundle, bundle
        _failed.clear()
    log.info("drivers: now serving %s (read in %.1f s; was %s)", path, bundle.read_seconds,
             old.path if old is not None else None)


def wait_for_reload(timeout: float = 60.0) -> None:
    """Wait for a background read in progress (tests, and at exit: a thread inside DuckDB at interpreter exit aborts
    the process)."""
    loader = _loader
    if loader is not None:
        loader.join(timeout)


atexit.register(wait_for_reload, 30.0)


# ---- what the controls need ---------------------------------------------------------------------------------------
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


def _build_meta(panel) -> Meta:
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
    return Meta(frame, years, default_year, dict(zip(frame["code"], frame["name"], strict=True)))


def release_free_memory() -> None:
    """Hand memory that Python has freed back to the OS (glibc's malloc_trim), e.g. after warming, whose
    temporary frames would otherwise stay in the server's RSS. No-op off glibc."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
