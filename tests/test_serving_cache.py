"""The serving layer's one cache type: bounded (LRU), thread-safe, and it forgets everything when the data
version changes (a saved set or the database file); the data version itself follows both files."""

from __future__ import annotations

import os
import threading

import pytest

from drivers.report import cache as cache_mod
from drivers.ui.serving import version


@pytest.fixture
def sets_file(tmp_path, monkeypatch):
    path = tmp_path / "peer_sets.json"
    monkeypatch.setenv("DRIVERS_PEER_SETS", str(path))
    return path


def test_bounded_least_recently_used_first(sets_file):
    c = cache_mod.Cache("test-bounded", 3)
    for key in "abc":
        c.put(key, key.upper())
    assert c.get("a") == "A"  # a is now the most recently used
    c.put("d", "D")
    assert len(c) == 3 and "b" not in c and c.get("a") == "A" and c.get("d") == "D"
    built = []
    assert c.get_or_build("e", lambda: built.append(1) or "E") == "E"
    assert c.get_or_build("e", lambda: built.append(1) or "E") == "E" and built == [1]
    assert len(c) == 3


def test_a_byte_bound_drops_the_least_recently_used_until_the_values_fit(sets_file):
    import numpy as np

    c = cache_mod.Cache("test-bytes", 100, maxbytes=3 * 2**20 + 2**19)  # room for three 1 MB arrays, not four
    for key in "abcd":
        c.put(key, np.zeros(2**17))  # 1 MB each
    assert len(c) == 3 and "a" not in c and all(k in c for k in "bcd")
    assert 3 * 2**20 <= c.nbytes <= c.maxbytes
    c.put("b", np.zeros(2**16))  # a key put again is counted once, at its new size
    assert 2.5 * 2**20 <= c.nbytes < 2.6 * 2**20
    c.put("huge", np.zeros(2**20))  # 8 MB: larger than the whole cache, so not kept (it would evict everything)
    assert "huge" not in c and len(c) == 3
    c.clear()
    assert c.nbytes == 0 and len(c) == 0


def test_approx_bytes_counts_what_frames_and_figures_hold():
    import numpy as np
    import pandas as pd
    import plotly.graph_objects as go

    frame = pd.DataFrame({"region": [f"{i:04d}" for i in range(1000)], "value": np.arange(1000.0)})
    assert frame.memory_usage(deep=True).sum() <= cache_mod.approx_bytes(frame) < 2 * frame.memory_usage(deep=True).sum()
    fig = go.Figure(go.Bar(x=list(range(20_000)), y=list(range(20_000))))
    assert cache_mod.approx_bytes(fig) > 20_000 * 2 * 24  # two lists of 20 000 ints (28 bytes each in CPython)
    shared = np.zeros(2**17)
    assert cache_mod.approx_bytes([shared, shared]) < 1.1 * shared.nbytes  # one buffer, counted once


def test_maxsize_zero_keeps_nothing(sets_file):
    c = cache_mod.Cache("test-off", 0)
    calls = []
    for _ in range(3):
        c.get_or_build("k", lambda: calls.append(1))
    assert len(calls) == 3 and len(c) == 0


def test_forgets_when_a_set_is_saved(sets_file):
    c = cache_mod.Cache("test-version", 10)
    c.put("page", "old members")
    assert c.get("page") == "old members"
    sets_file.write_text('{"version": 1, "sets": {"mine": {"members": ["0301"]}}}')
    assert c.get("page") is None, "a new saved set must empty the cache"
    c.put("page", "new members")
    # written again at once, same size (the file system's timestamps may not tell the two apart)
    sets_file.write_text('{"version": 1, "sets": {"mine": {"members": ["4601"]}}}')
    assert c.get("page") is None


def test_forgets_when_the_database_file_changes(sets_file, tmp_path, monkeypatch):
    from drivers.report import data

    db = tmp_path / "x.duckdb"
    db.write_bytes(b"one")
    monkeypatch.setattr(data, "database_path", lambda: db)
    c = cache_mod.Cache("test-db", 10)
    c.put("k", 1)
    assert c.get("k") == 1
    db.write_bytes(b"two, longer")
    assert c.get("k") is None
    c.put("k", 2)
    db.unlink()  # gone after start-up: the data in memory is what is served, the version stays
    assert c.get("k") == 2


def test_unversioned_cache_keeps_across_versions(sets_file):
    c = cache_mod.Cache("test-unversioned", 10, versioned=False)
    c.put("k", 1)
    sets_file.write_text("{}")
    assert c.get("k") == 1


def test_version_is_stable_while_nothing_changes(sets_file):
    sets_file.write_text('{"version": 1, "sets": {}}')
    assert version.data_version() == version.data_version()
    os.utime(sets_file, ns=(0, 0))  # an old file: its signature is trusted and the contents not re-read
    first = version.data_version()
    assert version.data_version() == first


def test_threads_share_one_bounded_cache(sets_file):
    c = cache_mod.Cache("test-threads", 50)

    def work(n):
        for i in range(500):
            c.get_or_build((n, i % 80), lambda i=i: i)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(c) == 50


def test_every_dashboard_cache_is_bounded():
    from ui_pages_data import database, make_app

    database()
    make_app()
    names = {c.name for c in cache_mod.CACHES}
    assert {"pages", "deferred-parts", "kept-json"} <= names
    assert all(0 <= c.maxsize <= 4096 for c in cache_mod.CACHES)
