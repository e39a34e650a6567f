"""What a product leaves out: a chart, slide or section whose inputs are missing, named once with the reason and
the command that supplies the numbers. The storyline decides it (drivers.report.story); the products list it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LeftOut:
    """A chart, slide or section left out because its inputs are missing: what, why, and the command that
    supplies the numbers (None when no fetch can)."""

    title: str
    reason: str
    command: str | None = None
