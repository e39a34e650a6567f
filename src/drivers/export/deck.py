"""The budget-seminar deck (PPTX): a title slide, then one chart per slide along the storyline, each with
its plain-language summary in the speaker notes. Colours, font and logo come from the theme.
"""

from __future__ import annotations

import io

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.util import Emu, Inches, Pt

from drivers.export import image
from drivers.export.theme import Theme

SLIDE_W, SLIDE_H = Inches(13.333), Inches(7.5)  # 16:9
BLANK = 6  # the blank layout in python-pptx's default template


def _text(slide, left, top, width, height, text, size, theme: Theme, color="text", bold=False):
    box = slide.shapes.add_textbox(left, top, width, height)
    frame = box.text_frame
    frame.word_wrap = True
    para = frame.paragraphs[0]
    run = para.add_run()
    run.text = text
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = theme.font_office
    run.font.color.rgb = RGBColor(*theme.rgb(color))
    return box


def _logo(slide, theme: Theme):
    if theme.logo is not None and theme.logo.suffix.lower() == ".png":  # PowerPoint cannot place SVG via python-pptx
        slide.shapes.add_picture(str(theme.logo), SLIDE_W - Inches(1.9), Inches(0.2), height=Inches(0.6))


def build_deck(slides, *, title: str, subtitle: str, theme: Theme | None = None,
               engine: image.Renderer | None = None, progress=None) -> bytes:
    """PPTX bytes. `slides`: StorySlide-like objects with `.section`, `.chart`, `.notes`.
    `progress(done, total)`: called after each picture (image.render_charts)."""
    theme = theme or Theme()
    slides = list(slides)
    pictures = image.render_charts([s.chart for s in slides], (("png", image.SLIDE),), theme, engine, progress)
    prs = Presentation()
    prs.slide_width, prs.slide_height = SLIDE_W, SLIDE_H
    layout = prs.slide_layouts[BLANK]

    first = prs.slides.add_slide(layout)
    band = first.shapes.add_shape(1, 0, Inches(2.4), SLIDE_W, Inches(2.6))  # 1 = rectangle
    band.fill.solid()
    band.fill.fore_color.rgb = RGBColor(*theme.rgb("primary"))
    band.line.fill.background()
    _text(first, Inches(0.8), Inches(2.6), Inches(11.5), Inches(1.2), title, 40, theme, "background", bold=True)
    _text(first, Inches(0.8), Inches(3.8), Inches(11.5), Inches(1.0), subtitle, 20, theme, "background")
    _logo(first, theme)
    first.notes_slide.notes_text_frame.text = subtitle

    for number, slide_spec in enumerate(slides, start=1):
        slide = prs.slides.add_slide(layout)
        _text(slide, Inches(0.5), Inches(0.2), Inches(10.5), Inches(0.5),
              f"{number}/{len(slides)} · {slide_spec.section}", 16, theme, "muted", bold=True)
        _logo(slide, theme)
        png = pictures[(slide_spec.chart.id, "png", image.SLIDE.name)]
        width = SLIDE_W - Inches(1.0)
        height = Emu(int(width * image.SLIDE.height / image.SLIDE.width))
        slide.shapes.add_picture(io.BytesIO(png), Inches(0.5), Inches(0.8), width=width, height=height)
        slide.notes_slide.notes_text_frame.text = slide_spec.notes or slide_spec.chart.caption
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()
