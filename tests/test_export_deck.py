"""The deck opens: a title slide, then one chart per slide with speaker notes. Real data (tests/export_data.py)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from export_data import charts
from pptx import Presentation

from drivers.export import deck


@dataclass
class _Slide:
    section: str
    chart: object
    notes: str


def test_deck_has_title_slide_then_one_chart_per_slide_with_notes(warm):
    chosen = charts(3)
    slides = [_Slide(f"Del {i}", c, f"Oppsummering for {c.title}") for i, c in enumerate(chosen, 1)]
    raw = deck.build_deck(slides, title="Budsjettseminar", subtitle="Test 2024", engine=warm)
    prs = Presentation(io.BytesIO(raw))
    assert len(prs.slides) == 1 + len(chosen)
    for slide, spec in zip(list(prs.slides)[1:], slides, strict=True):
        pictures = [s for s in slide.shapes if s.shape_type == 13]  # MSO_SHAPE_TYPE.PICTURE
        assert len(pictures) == 1
        assert slide.notes_slide.notes_text_frame.text == spec.notes
        assert spec.section in " ".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
