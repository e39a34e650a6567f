"""Politeness towards SSB: a sliding-window call limiter and a capped, jittered retry backoff.

SSB allows about 30-40 calls per 60 s per IP (`x-ratelimit-policy: 40;w=60s`, see docs/ssb-api.md);
we keep to 30 by default and run sequentially. Clock and sleep are injectable so tests can run a
whole fetch on virtual time.
"""

from __future__ import annotations

import collections
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass
class RateLimiter:
    """At most `max_calls` calls in any `window` seconds; also obeys the server's own counters."""

    max_calls: int = 30
    window: float = 60.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    calls: collections.deque = field(default_factory=collections.deque)
    blocked_until: float = 0.0
    waited: float = 0.0

    def acquire(self) -> None:
        """Wait until one more call fits, then record it."""
        while True:
            now = self.clock()
            while self.calls and self.calls[0] <= now - self.window:
                self.calls.popleft()
            delay = self.blocked_until - now
            if len(self.calls) >= self.max_calls:
                delay = max(delay, self.calls[0] + self.window - now)
            if delay <= 0:
                self.calls.append(now)
                return
            self.waited += delay
            self.sleep(delay)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Read SSB's `x-ratelimit-remaining`: none left means wait a full window from now."""
        remaining = headers.get("x-ratelimit-remaining")
        if remaining is not None and remaining.strip().isdigit() and int(remaining) == 0:
            self.block(_policy_window(headers) or self.window)

    def block(self, seconds: float) -> None:
        """No calls for `seconds` (from Retry-After or our own backoff)."""
        self.blocked_until = max(self.blocked_until, self.clock() + seconds)


def _policy_window(headers: Mapping[str, str]) -> float | None:
    """The window of `x-ratelimit-policy: 40;w=60s`, in seconds."""
    policy = headers.get("x-ratelimit-policy", "")
    for part in policy.split(";"):
        part = part.strip()
        if part.startswith("w="):
            try:
                return float(part[2:].rstrip("s"))
            except ValueError:
                return None
    return None


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds form; SSB sends that), else None."""
    value = headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


@dataclass
class Backoff:
    """Capped exponential backoff with full jitter: attempt n waits U(0.5, 1) * min(cap, base * 2**n)."""

    base: float = 2.0
    cap: float = 60.0
    max_attempts: int = 6
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        ceiling = min(self.cap, self.base * 2**attempt)
        return ceiling * (0.5 + 0.5 * self.rng.random())
