"""The data version: what every cache of derived data is keyed on, so that they all forget together.

It is the database version in use and the saved peer sets' contents. The database version is the data layer's
Bundle (drivers.report.data: the path, the file's identity when it was read, and the Bundle's number), so the
version changes when a new database is swapped in, not when the file is replaced (the pages still read the old
Bundle until then); inside a request it is the Bundle the request holds. Before anything is loaded, or when the
file in use is another one than the Bundle's, it is that file's path and stat signature (path, inode, size, mtime,
ctime). A database file that disappears after start-up (the data is in memory) keeps the version it had. The sets file is re-read
only when its stat signature changes, or when the last read was too close to its mtime to trust the
signature (two saves within the file system's timestamp granularity, with the same size and a reused inode,
look alike: the racy case git's index has too). Inside a request the version is computed once, so one request
never mixes two versions: the server installs `request_scope` (drivers.ui.serving.version: Flask's `g`); without
it (the CLI) every call computes the version.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

from drivers import filestat

RACY = 2.0  # seconds: a read this close to the file's mtime is repeated on the next call
_lock = threading.Lock()
_db_seen: dict[str, tuple] = {}  # path -> its last stat signature (kept when the file is gone)
_sets_seen: tuple | None = None  # (path, stat signature, read at, digest)
_sets_paths: dict[str | None, Path] = {}
# () -> an object to memoise the version on for the current request, or None outside one (set by the server)
request_scope = None


def database() -> tuple:
    """The database version in use: (path, identity when read, Bundle number) of the data layer's Bundle, or
    (path, stat signature) of the file in use when no Bundle of that file is loaded."""
    from drivers.report import data

    path = str(data.database_path())
    bundle = data.loaded()
    if bundle is not None and str(bundle.path) == path:
        return bundle.version
    sig = filestat.signature(Path(path))
    with _lock:
        if sig is None:  # gone after start-up: the loaded data is what is served
            sig = _db_seen.get(path)
        else:
            _db_seen[path] = sig
    return (path, sig)


def sets_path() -> Path:
    """The saved peer sets file (drivers.peersets decides where: $DRIVERS_PEER_SETS, else data/). Resolved once
    per value of the variable (building Settings costs ~50 µs, and this runs on every cache access)."""
    from drivers import peersets

    env = os.environ.get(peersets.ENV)
    path = _sets_paths.get(env)
    if path is None:
        if len(_sets_paths) > 64:
            _sets_paths.clear()
        path = _sets_paths[env] = peersets.path()
    return path


def _sets() -> bytes:
    global _sets_seen
    path = sets_path()
    sig = filestat.signature(path)
    now = time.time()
    with _lock:
        seen = _sets_seen
    if seen is not None and seen[0] == path and seen[1] == sig and sig is not None \
            and seen[2] - sig[2] / 1e9 > RACY:
        return seen[3]
    try:
        digest = hashlib.blake2b(path.read_bytes(), digest_size=12).digest()
    except OSError:
        digest = b""  # no saved sets
    with _lock:
        _sets_seen = (path, sig, now, digest)
    return digest


def data_version() -> tuple:
    """(database path and stat signature, digest of the saved sets file). Equal versions: same data."""
    scope = request_scope() if request_scope is not None else None
    if scope is not None:
        version = getattr(scope, "drivers_data_version", None)
        if version is None:
            version = scope.drivers_data_version = (database(), _sets())
        return version
    return (database(), _sets())
