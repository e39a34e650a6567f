"""pytest fixtures for the fake SSB server (imported by tests/conftest.py)."""

from __future__ import annotations

import random

import pytest

from drivers.ssb import Backoff, RateLimiter, ResponseCache, SSBClient

from .server import FakeSSB, Faults, VirtualClock
from .tables import POPULATION_CSV, table_07459, table_12134, table_12362


def _need_shared():
    if not POPULATION_CSV.exists():
        pytest.skip(f"real SSB data not found at {POPULATION_CSV.parent} (../shared is missing)")


@pytest.fixture
def vclock():
    """Virtual time shared by the fake server and the client: waits cost no real time."""
    return VirtualClock()


@pytest.fixture
def fake_ssb(vclock):
    """A running fake SSB with 12134 (recorded), 07459 (real population) and 12362 (real net expenditure,
    placeholder ContentsCode), at SSB's default limits."""
    _need_shared()
    server = FakeSSB({"12134": table_12134(), "07459": table_07459(), "12362": table_12362()}, clock=vclock).start()
    yield server
    server.stop()


@pytest.fixture
def make_client(vclock, tmp_path):
    """Build a client on the virtual clock: make_client(server, **overrides)."""

    def build(server: FakeSSB, cache: bool = True, **kw) -> SSBClient:
        limiter = kw.pop("limiter", None) or RateLimiter(clock=vclock, sleep=vclock.sleep)
        return SSBClient(server.url, cache=ResponseCache(tmp_path / "cache") if cache else None, limiter=limiter,
                         backoff=kw.pop("backoff", Backoff(rng=random.Random(1))),
                         clock=vclock, timeout=kw.pop("timeout", 10.0), **kw)

    return build


__all__ = ["Faults", "fake_ssb", "fast_cli", "make_client", "vclock"]


@pytest.fixture
def fast_cli(monkeypatch):
    """`drivers fetch` in-process with the client on virtual time."""
    clock = VirtualClock()

    def client(base, **kw):
        return SSBClient(base, limiter=RateLimiter(clock=clock, sleep=clock.sleep), clock=clock,
                         backoff=Backoff(max_attempts=3, rng=random.Random(1)), **kw)

    monkeypatch.setattr("drivers.commands.fetch.SSBClient", client)
    return clock
