"""SSB access: the HTTP client (the only place that speaks HTTP), planner, rate limiter and cache."""

from drivers.ssb.cache import ResponseCache
from drivers.ssb.client import OfflineMiss, SSBClient, Stats, TooManyCells
from drivers.ssb.planner import Plan, plan, split_request
from drivers.ssb.ratelimit import Backoff, RateLimiter

__all__ = [
    "Backoff", "OfflineMiss", "Plan", "RateLimiter", "ResponseCache", "SSBClient", "Stats", "TooManyCells",
    "plan", "split_request",
]
