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
