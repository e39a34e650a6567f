"""On-disk cache of raw SSB response bodies, keyed by a hash of method + URL + body.

An interrupted fetch resumes without downloading again, and `--offline` runs from this cache alone.
Writes are atomic (temporary file in the same directory, then rename), so a kill never leaves a
half-written entry. Only bodies that parsed as JSON are stored.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def cache_key(method: str, url: str, body: bytes | None = None) -> str:
    h = hashlib.sha256()
    for part in (method.upper().encode(), url.encode(), body or b""):
        h.update(part)
        h.update(b"\0")
    return h.hexdigest()


class ResponseCache:
    """Raw response bodies under `root/<first two hex>/<key>.json`."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> bytes | None:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            return None

    def put(self, key: str, body: bytes) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
