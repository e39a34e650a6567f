"""On-disk cache of raw SSB response bodies, keyed by a hash of method + URL + body.

An interrupted fetch resumes without downloading again, and `--offline` runs from this cache alone.
Writes are atomic (temporary file in the same directory, then rename), so a kill never leaves a
half-written entry. An entry is only stored, and only served, when its body passes the caller's check
(for data: a JSON-stat dataset, drivers.jsonstat.problem); an entry that fails it on reading (written by an
older version, or damaged on disk) is deleted and reported as BadEntry, so it is fetched again instead of
failing every later run.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

# (parsed JSON) -> why it is not acceptable, or None
Check = Callable[[object], "str | None"]


def cache_key(method: str, url: str, body: bytes | None = None) -> str:
    h = hashlib.sha256()
    for part in (method.upper().encode(), url.encode(), body or b""):
        h.update(part)
        h.update(b"\0")
    return h.hexdigest()


def json_object(doc) -> str | None:
    """The weakest check: any JSON object (config, table info)."""
    return None if isinstance(doc, dict) else "not a JSON object"


def verdict(raw: bytes | None, check: Check = json_object) -> tuple[object | None, str | None]:
    """(parsed document, None) when `raw` is JSON that passes `check`; (None, why) otherwise."""
    if not raw:
        return None, "empty body"
    try:
        doc = json.loads(raw)
    except ValueError:
        return None, "not valid JSON (truncated?)"
    why = check(doc)
    return (None, why) if why else (doc, None)


class BadEntry(Exception):
    """A cached body that does not pass its check; the entry has been deleted."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path.name}: {reason}")
        self.path = path
        self.reason = reason


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

    def load(self, key: str, check: Check = json_object):
        """The parsed entry, or None if there is none. An entry that fails `check` is deleted and BadEntry raised."""
        raw = self.get(key)
        if raw is None:
            return None
        doc, why = verdict(raw, check)
        if why:
            self.path(key).unlink(missing_ok=True)
            raise BadEntry(self.path(key), why)
        return doc

    def put(self, key: str, body: bytes, check: Check | None = None) -> None:
        """Store `body` atomically; with `check`, refuse (ValueError, nothing written) a body that fails it."""
        if check is not None:
            _, why = verdict(body, check)
            if why:
                raise ValueError(f"not cached: {why}")
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
