"""A file's stat signature: what tells the caches that a file they read (the database, the team's peer sets, the
indikatorsett) was replaced or edited, without reading it."""

from __future__ import annotations

from pathlib import Path


def signature(path: Path) -> tuple | None:
    """(inode, size, mtime ns, ctime ns) of `path`, or None when it cannot be read (missing, no permission)."""
    try:
        s = Path(path).stat()
    except OSError:
        return None
    return (s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns)
