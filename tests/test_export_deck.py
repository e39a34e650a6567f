"""The deck opens: a title slide, then one slide per storyline step with its message title in the title
placeholder, the key number, the chart picture with alt text, speaker notes and no text under 18 pt; a .potx or
.pptx template gives the look. Real data (tests/export_data.py)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from export_data import charts
from pptx import Presentation
from pptx.util import Pt

from drivers.export import deck

PICTURE = 13  # MSO_SHAPE_TYPE.PICTURE


@dataclass
class _Slide:
    section: str
    chart: object
    notes: str
    title: str = ""
    key: str = ""
    key_label: str = ""
    alt: str = ""
    lines: tuple = ()


def _slides(n: int = 3) -> list[_Slide]:
    chosen = charts(n)
    out = [_Slide(f"Del {i}", c, f"Oppsummering for {c.title}", f"Melding {i}: kommune {c.id}", f"+{i},0 mill. kr",
                  "netto driftsutgifter", f"{c.title}. Oppsummering {i}", (f"Linje {i}",))
           for i, c in enumerate(chosen, 1)]
    return [*out, _Slide("Hva betyr dette", None, "Alt sammen.", "Hva betyr dette?", lines=("Første.", "Andre."))]


def _texts(slide) -> str:
    return " ".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)


def _check(prs, slides) -> None:
    assert len(prs.slides) == 1 + len(slides)
    for slide, spec in zip(list(prs.slides)[1:], slides, strict=True):
        pictures = [s for s in slide.shapes if s.shape_type == PICTURE]
        assert len(pictures) == (spec.chart is not None)
        notes = slide.notes_slide.notes_text_frame.text
        assert notes.startswith(spec.notes)  # the summary, then the chart's whole source line (the picture's is short)
        if spec.chart is not None:
            assert spec.chart.caption in notes
        assert spec.section in _texts(slide)
        assert slide.shapes.title.is_placeholder and slide.shapes.title.text_frame.text == spec.title
        for pic in pictures:
            assert pic._element.nvPicPr.cNvPr.get("descr") == spec.alt
        for line in (spec.key, spec.key_label, *spec.lines):
            assert line.replace(" ", "\u00a0") in _texts(slide).replace(" ", "\u00a0")
        runs = [r for s in slide.shapes if s.has_text_frame for p in s.text_frame.paragraphs for r in p.runs]
        assert runs and all(r.font.size >= Pt(deck.MIN_PT) for r in runs)


def test_deck_has_title_slide_then_message_titles_pictures_with_alt_text_and_notes(warm):
    slides = _slides()
    raw = deck.build_deck(slides, title="Budsjettseminar", subtitle="Test 2024", engine=warm, note="Byttet gruppe.")
    prs = Presentation(io.BytesIO(raw))
    assert prs.slide_width * 9 == prs.slide_height * 16
    assert "Byttet gruppe." in _texts(prs.slides[0]) and prs.slides[0].shapes.title.text_frame.text == "Budsjettseminar"
    _check(prs, slides)


def _potx(tmp_path):
    """python-pptx's own template, with one example slide, saved as a .potx (the template content type)."""
    prs = Presentation()
    prs.slides.add_slide(prs.slide_layouts[0]).shapes.title.text = "Eksempel"
    buf = io.BytesIO()
    prs.save(buf)
    src, out = zipfile.ZipFile(io.BytesIO(buf.getvalue())), io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(deck.PPTX.encode(), deck.POTX.encode())
            dst.writestr(item, data)
    path = tmp_path / "kommune.potx"
    path.write_bytes(out.getvalue())
    return path


def test_a_potx_template_gives_the_masters_and_its_example_slides_go(warm, tmp_path):
    slides = _slides(2)
    template = _potx(tmp_path)
    raw = deck.build_deck(slides, title="Budsjettseminar", subtitle="Test 2024", engine=warm, template=template)
    prs = Presentation(io.BytesIO(raw))
    assert "Eksempel" not in " ".join(_texts(s) for s in prs.slides)
    assert (prs.slide_width, prs.slide_height) == (Presentation(io.BytesIO(_as_pptx(template))).slide_width,
                                                   Presentation(io.BytesIO(_as_pptx(template))).slide_height)
    _check(prs, slides)


def _as_pptx(path) -> bytes:
    src, out = zipfile.ZipFile(path), io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            dst.writestr(item, data.replace(deck.POTX.encode(), deck.PPTX.encode()))
    return out.getvalue()
