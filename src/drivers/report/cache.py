"""One bounded cache type for the views (dashboard and report): an LRU map with a maximum size, thread-safe,
that forgets everything when the data version (drivers.report.version) differs from the one it last saw, so a new
database file or a saved set saved again empties every cache at once.

A value is built outside the lock (two threads may build the same key once each; the later one wins). Every
cache is listed in CACHES (name, size, bound), for tests and for a look at a running server.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable

from drivers.report.version import data_version

CACHES: weakref.WeakSet[Cache] = weakref.WeakSet()
_MISSING = object()


class Cache:
    """LRU map of at most `maxsize` entries. `versioned=False`: kept across data versions (for values that do
    not derive from the data). maxsize 0 keeps nothing (every get builds)."""

    def __init__(self, name: str, maxsize: int, versioned: bool = True):
        if maxsize < 0:
            raise ValueError("maxsize must be ≥ 0")
        self.name, self.maxsize, self.versioned = name, maxsize, versioned
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._version = None
        self.hits = self.misses = 0
        CACHES.add(self)

    def _current(self) -> None:
        """Forget everything if the data changed since the last access. Call with the lock held."""
        if self.versioned:
            version = data_version()
            if version != self._version:
                self._entries.clear()
                self._version = version

    def get(self, key: Hashable, default=None):
        with self._lock:
            self._current()
            value = self._entries.get(key, _MISSING)
            if value is _MISSING:
                self.misses += 1
                return default
            self._entries.move_to_end(key)
            self.hits += 1
            return value

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            self._current()
            return key in self._entries

    def put(self, key: Hashable, value) -> None:
        if self.maxsize == 0:
            return
        with self._lock:
            self._current()
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def get_or_build(self, key: Hashable, build: Callable[[], object]):
        value = self.get(key, _MISSING)
        if value is _MISSING:
            value = build()
            self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __repr__(self) -> str:
        return f"Cache({self.name!r}, {len(self)}/{self.maxsize})"


def cached(name: str, maxsize: int, versioned: bool = True):
    """Decorator: the function's results in a Cache, keyed on its (hashable) positional arguments."""

    def wrap(fn):
        cache = Cache(name, maxsize, versioned)

        @functools.wraps(fn)
        def call(*args):
            return cache.get_or_build(args, lambda: fn(*args))

        call.cache = cache
        call.cache_clear = cache.clear  # as functools.lru_cache has it
        return call

    return wrap
