"""Products: a view (municipality, year, peers, convention, language) made into a file a user takes away: the
chart pack (ZIP), the seminar deck (PPTX), the plan chapter (DOCX) and the published site.

Each module here joins the view model (`drivers.report`) to a renderer (`drivers.export`); the CLI commands and
the dashboard's download jobs both call these, so a file is made the same way wherever it is asked for.
Nothing here imports Dash or `drivers.ui`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from drivers.report.leftout import LeftOut

__all__ = ["LeftOut", "Product"]


@dataclass
class Product:
    """A finished file: its bytes, a file name and MIME type, what was left out (named once), notes the user must
    read (e.g. a peer group switched, stated), and how many charts/slides/sections it holds."""

    payload: bytes
    filename: str
    mime: str
    left_out: list[LeftOut] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    count: int = 0
