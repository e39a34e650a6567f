"""One bounded cache type for the views (dashboard and report): an LRU map with a maximum size, thread-safe,
that forgets everything when the data version (drivers.report.version) differs from the one it last saw, so a new
database file or a saved set saved again empties every cache at once.

A value is built outside the lock (two threads may build the same key once each; the later one wins). Every
cache is listed in CACHES (name, size, bound), for tests and for a look at a running server.

A cache whose values differ much in size may also have a byte bound (`maxbytes`; the export results have one):
each value's size is estimated once when it is put (`approx_bytes`, a walk that costs a few ms for a page or a
chart, so the caches of pages and charts keep entry counts sized from it), and the least recently used go until
the total is under the bound.
"""

from __future__ import annotations

import functools
import sys
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable

import numpy as np
import pandas as pd

from drivers.report.version import data_version

CACHES: weakref.WeakSet[Cache] = weakref.WeakSet()
_MISSING = object()


def approx_bytes(value, budget: int = 200_000) -> int:
    """A rough size of `value` in bytes, with what it holds: arrays and frames by their buffers, strings by their
    length, containers and objects (plotly figures, Dash components, dataclasses) by walking them, at most `budget`
    objects deep (what is past it is not counted). Shared objects are counted once."""
    seen: set[int] = set()
    stack, total = [value], 0
    while stack and budget > 0:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        budget -= 1
        if isinstance(obj, (str, bytes, bytearray, int, float, bool)) or obj is None:
            total += sys.getsizeof(obj)
        elif isinstance(obj, np.ndarray):
            total += obj.nbytes
            if obj.dtype == object:
                stack.extend(obj.ravel()[: min(obj.size, budget)].tolist())
        elif isinstance(obj, (pd.DataFrame, pd.Series, pd.Index)):
            used = obj.memory_usage(deep=True)
            total += int(used.sum()) if isinstance(obj, pd.DataFrame) else int(used)
            if not isinstance(obj, pd.Index):
                stack.extend(obj.attrs.values())
        elif isinstance(obj, dict):
            total += sys.getsizeof(obj)
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            total += sys.getsizeof(obj)
            stack.extend(obj)
        elif hasattr(obj, "__dict__") and not isinstance(obj, type):
            total += sys.getsizeof(obj)
            stack.append(vars(obj))
        else:
            total += sys.getsizeof(obj)
    return total


class Cache:
    """LRU map of at most `maxsize` entries (and, with `maxbytes`, of values of at most that many bytes in all, by
    `approx_bytes`). `versioned=False`: kept across data versions (for values that do not derive from the data).
    maxsize 0 keeps nothing (every get builds)."""

    def __init__(self, name: str, maxsize: int, versioned: bool = True, maxbytes: int | None = None):
        if maxsize < 0:
            raise ValueError("maxsize must be ≥ 0")
        self.name, self.maxsize, self.versioned, self.maxbytes = name, maxsize, versioned, maxbytes
        self._entries: OrderedDict = OrderedDict()
        self._sizes: dict = {}  # key -> approx_bytes of its value (with maxbytes)
        self.nbytes = 0
        self._lock = threading.Lock()
        self._version = None
        self.hits = self.misses = 0
        CACHES.add(self)

    def _current(self) -> None:
        """Forget everything if the data changed since the last access. Call with the lock held."""
        if self.versioned:
            version = data_version()
            if version != self._version:
                self._clear()
                self._version = version

    def _clear(self) -> None:
        self._entries.clear()
        self._sizes.clear()
        self.nbytes = 0

    def _pop_oldest(self) -> None:
        key, _ = self._entries.popitem(last=False)
        self.nbytes -= self._sizes.pop(key, 0)

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
        size = approx_bytes(value) if self.maxbytes is not None else 0
        if self.maxbytes is not None and size > self.maxbytes:
            return  # larger than the whole cache: kept, it would push out everything else
        with self._lock:
            self._current()
            self.nbytes += size - self._sizes.pop(key, 0)
            if self.maxbytes is not None:
                self._sizes[key] = size
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize or (self.maxbytes is not None and self.nbytes > self.maxbytes):
                self._pop_oldest()

    def get_or_build(self, key: Hashable, build: Callable[[], object]):
        value = self.get(key, _MISSING)
        if value is _MISSING:
            value = build()
            self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __repr__(self) -> str:
        held = f", {self.nbytes / 2**20:.1f}/{self.maxbytes / 2**20:.0f} MB" if self.maxbytes is not None else ""
        return f"Cache({self.name!r}, {len(self)}/{self.maxsize}{held})"


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
