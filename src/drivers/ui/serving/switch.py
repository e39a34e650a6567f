"""The one switch of the serving layer: DRIVERS_SERVING=plain turns it off (no deferred parts, no warm-up,
no kept JSON, no page cache): every page is built whole, on demand, for each request."""

from __future__ import annotations

import os

from drivers.errors import UserError

ENV = "DRIVERS_SERVING"
MODES = ("fast", "plain")


def mode() -> str:
    value = (os.environ.get(ENV) or "fast").strip().lower()
    if value not in MODES:
        raise UserError(f"{ENV}={value[:20]!r}: use {' or '.join(MODES)}")
    return value


def enabled() -> bool:
    """True unless DRIVERS_SERVING=plain (read at each call, so a test can switch it)."""
    return os.environ.get(ENV, "").strip().lower() != "plain"
