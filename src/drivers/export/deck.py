"""The budget-seminar deck (PPTX) for a projector: a title slide, then one slide per step of the storyline.

Each content slide has its message title in the layout's title placeholder (so outlines, screen readers and
«Go to slide» see it), the key number large beside the chart, the lines that tie it to the slide before, the
chart picture with alt text (the chart's title and summary, in the picture's `descr`), and the plain-language
summary in the speaker notes. Every text run on a slide is at least 18 pt. A slide without a chart (the closing
«hva betyr dette») is its points in large type. Colours, font and logo come from the theme; `template` (a .pptx
or .potx, e.g. the municipality's own) gives the masters, layouts and theme colours instead of python-pptx's.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile
from pathlib import Path

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.util import Emu, Inches, Pt

from drivers.export import image
from drivers.export.theme import Theme

SLIDE_W, SLIDE_H = Emu(12192000), Emu(6858000)  # 13.333 × 7.5 in: 16:9 exactly
BLANK = 6  # the blank layout in python-pptx's default template
MIN_PT = 18  # the smallest text on a slide: readable at the back of a meeting room
TITLE_PT, KEY_PT, TEXT_PT, POINTS_PT, COVER_PT = 28, 40, MIN_PT, 24, 40
# inches on a 13.333 × 7.5 slide: the title (0.1–1.25), the key number and its label (KEY_TOP), the picture
# (left, under the key) and the lines that tie the slide to the one before (right of the picture)
KEY_TOP, KEY_W = 1.3, 4.3  # KEY_W: the narrowest key box (it widens for a long number)
PIC_LEFT, PIC_TOP, PIC_W = 0.4, 2.1, 9.3
SIDE_LEFT, SIDE_W = 9.9, 3.1
POTX = "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"


class _Geometry:
    """Positions given in inches of a 13.333 × 7.5 slide, scaled to the presentation's own size (a template
    may be another size)."""

    def __init__(self, prs):
        self.sx = prs.slide_width / SLIDE_W
        self.sy = prs.slide_height / SLIDE_H

    def x(self, inches: float) -> Emu:
        return Emu(int(Inches(inches) * self.sx))

    def y(self, inches: float) -> Emu:
        return Emu(int(Inches(inches) * self.sy))


def _open(template: str | Path | bytes | None):
    """The presentation to add slides to: python-pptx's default at 16:9, or the template without its slides.
    A .potx is a .pptx whose main part has the template content type: changed here, so python-pptx opens it."""
    if template is None:
        prs = Presentation()
        prs.slide_width, prs.slide_height = SLIDE_W, SLIDE_H
        return prs, False
    raw = template if isinstance(template, bytes) else Path(template).read_bytes()
    src = zipfile.ZipFile(io.BytesIO(raw))
    types = src.read("[Content_Types].xml")
    if POTX.encode() in types:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for item in src.infolist():
                data = src.read(item.filename)
                dst.writestr(item, data.replace(POTX.encode(), PPTX.encode()) if item.filename == "[Content_Types].xml"
                             else data)
        raw = out.getvalue()
    prs = Presentation(io.BytesIO(raw))
    ids = prs.slides._sldIdLst  # a template's own example slides go: the deck is ours
    for sld in list(ids):
        prs.part.drop_rel(sld.rId)
        ids.remove(sld)
    return prs, True


def _layout(prs, types: set) -> object:
    """The layout whose placeholders are `types` and as few others as possible (e.g. «Title Only»)."""
    best, score = None, None
    for layout in prs.slide_layouts:
        have = {ph.placeholder_format.type for ph in layout.placeholders}
        have = {PP_PLACEHOLDER.TITLE if t == PP_PLACEHOLDER.CENTER_TITLE else t for t in have}
        if not types <= have:
            continue
        extra = len(have - types - {PP_PLACEHOLDER.DATE, PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER})
        if score is None or extra < score:
            best, score = layout, extra
    return best if best is not None else prs.slide_layouts[0]


def _style(run, size: int, theme: Theme, color: str | None, bold: bool, own_look: bool):
    run.font.size = Pt(size)
    run.font.bold = bold
    if own_look and color is not None:  # with a template, its fonts and colours stand
        run.font.name = theme.font_office
        run.font.color.rgb = RGBColor(*theme.rgb(color))


def _text(slide, box, lines, size, theme: Theme, color="text", bold=False, own_look=True, space=0):
    """A text box at `box` (left, top, width, height in EMU) with one paragraph per line."""
    shape = slide.shapes.add_textbox(*box)
    frame = shape.text_frame
    frame.word_wrap = True
    for i, line in enumerate([lines] if isinstance(lines, str) else lines):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        if space and i:
            para.space_before = Pt(space)
        run = para.add_run()
        run.text = line
        _style(run, size, theme, color, bold, own_look)
    return shape


def _title(slide, text: str, box, size: int, theme: Theme, color: str, own_look: bool):
    """The message title in the slide's title placeholder (placed at `box`, one run of `size` pt)."""
    ph = slide.shapes.title
    if ph is None:  # a template layout without a title: a text box, so the slide still says it
        return _text(slide, box, text, size, theme, color, True, own_look)
    ph.left, ph.top, ph.width, ph.height = box
    frame = ph.text_frame
    frame.word_wrap = True
    frame.text = ""
    run = frame.paragraphs[0].add_run()
    run.text = text
    _style(run, size, theme, color, True, own_look)
    return ph


def _clear_placeholders(slide, keep) -> None:
    """Empty placeholders other than `keep` would show «Click to add text» in the editor: removed."""
    for ph in list(slide.placeholders):
        if ph not in keep:
            ph._element.getparent().remove(ph._element)


def _logo(slide, theme: Theme, g: _Geometry):
    if theme.logo is not None and theme.logo.suffix.lower() == ".png":  # PowerPoint cannot place SVG via python-pptx
        slide.shapes.add_picture(str(theme.logo), g.x(13.333 - 1.9), g.y(0.2), height=g.y(0.6))


def _alt(picture, text: str, name: str) -> None:
    """Alt text: the picture's cNvPr `descr` (what PowerPoint and LibreOffice show as the description)."""
    c_nv_pr = picture._element.nvPicPr.cNvPr
    c_nv_pr.set("descr", text)
    c_nv_pr.set("name", name)


def _attr(spec, name: str, default=""):
    value = getattr(spec, name, default)
    return default if value is None else value


def slide_chart(chart):
    """The chart as a slide shows it: the source line cut to its sources and year (the comparison is in the slide's
    message title, the averaging and the notes go to the speaker notes). At 18 pt the whole line took five or six of
    the picture's lines, and the bars' names were thinned out to fit (measured: Bærum's decomposition lost
    «Målgruppens andel», the driver its title names)."""
    short = " · ".join(str(chart.caption or "").split(" · ")[:2])
    try:
        return dataclasses.replace(chart, caption=short, notes=[])
    except TypeError:  # not a dataclass (a test's stand-in): as it is
        return chart


def build_deck(slides, *, title: str, subtitle: str, theme: Theme | None = None,
               engine: image.Renderer | None = None, progress=None, template=None,
               note: str | None = None) -> bytes:
    """PPTX bytes. `slides`: StorySlide-like objects with `.section`, `.chart` (None: a text slide), `.notes`
    and, where they have them, `.title` (message title), `.key` and `.key_label` (the key number and what it
    is), `.lines` (text for the slide), `.alt` (alt text). `note`: a sentence for the title slide (e.g. the peer
    group was switched). `template`: a .pptx/.potx path or bytes. `progress(done, total)`: after each picture."""
    theme = theme or Theme()
    slides = list(slides)
    charts = [slide_chart(s.chart) for s in slides if s.chart is not None]
    pictures = image.render_charts(charts, (("png", image.SLIDE),), theme, engine, progress) if charts else {}
    prs, templated = _open(template)
    own = not templated
    g = _Geometry(prs)
    title_only = _layout(prs, {PP_PLACEHOLDER.TITLE})
    cover_layout = _layout(prs, {PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.SUBTITLE})

    first = prs.slides.add_slide(cover_layout)
    if own:
        band = first.shapes.add_shape(1, 0, g.y(2.2), prs.slide_width, g.y(3.0))  # 1 = rectangle
        band.fill.solid()
        band.fill.fore_color.rgb = RGBColor(*theme.rgb("primary"))
        band.line.fill.background()
        tree = first.shapes._spTree  # behind the title and subtitle (the layout's placeholders come first)
        tree.remove(band._element)
        tree.insert(2, band._element)
    head = _title(first, title, (g.x(0.8), g.y(2.4), g.x(11.7), g.y(1.3)), COVER_PT, theme, "background", own)
    keep = [head]
    sub = next((ph for ph in first.placeholders if ph.placeholder_format.type == PP_PLACEHOLDER.SUBTITLE), None)
    sub_box = (g.x(0.8), g.y(3.75), g.x(11.7), g.y(1.3))
    if sub is not None:
        sub.left, sub.top, sub.width, sub.height = sub_box
        sub.text_frame.text = ""
        sub.text_frame.word_wrap = True
        run = sub.text_frame.paragraphs[0].add_run()
        run.text = subtitle
        _style(run, 22, theme, "background", False, own)
        keep.append(sub)
    else:
        _text(first, sub_box, subtitle, 22, theme, "background", own_look=own)
    _clear_placeholders(first, keep)
    if note:
        _text(first, (g.x(0.8), g.y(5.5), g.x(11.7), g.y(1.0)), note, 22, theme, "text", True, own)
    _logo(first, theme, g)
    first.notes_slide.notes_text_frame.text = " ".join(x for x in (subtitle, note) if x)

    total = len(slides)
    for number, spec in enumerate(slides, start=1):
        slide = prs.slides.add_slide(title_only)
        head = _title(slide, _attr(spec, "title") or (spec.chart.title if spec.chart is not None else spec.section),
                      (g.x(0.4), g.y(0.1), g.x(11.0 if theme.logo else 12.5), g.y(1.15)), TITLE_PT, theme, "text", own)
        _clear_placeholders(slide, [head])
        _logo(slide, theme, g)
        _text(slide, (g.x(0.4), g.y(6.95), g.x(9.3), g.y(0.45)), f"{number}/{total} · {spec.section}",
              TEXT_PT, theme, "muted", own_look=own)
        lines = list(_attr(spec, "lines", ()) or ())
        if spec.chart is None:
            _text(slide, (g.x(0.6), g.y(1.6), g.x(12.1), g.y(5.2)), [f"• {x}" for x in lines] or [spec.notes],
                  POINTS_PT, theme, "text", own_look=own, space=10)
        else:
            png = pictures[(spec.chart.id, "png", image.SLIDE.name)]
            width = g.x(PIC_W)
            height = Emu(int(width * image.SLIDE.height / image.SLIDE.width))
            pic = slide.shapes.add_picture(io.BytesIO(png), g.x(PIC_LEFT), g.y(PIC_TOP), width=width, height=height)
            alt = _attr(spec, "alt") or f"{spec.chart.title}. {spec.notes or ''}".strip()
            _alt(pic, alt, spec.chart.id)
            key, label = _attr(spec, "key"), _attr(spec, "key_label")
            # the key number large, under the title, on one line (it is never broken), what it is beside it
            key_w = min(7.0, max(KEY_W, 0.25 * len(key) + 0.5)) if key else 0.0
            if key:
                _text(slide, (g.x(0.4), g.y(KEY_TOP), g.x(key_w), g.y(0.75)), key.replace(" ", "\u00a0"), KEY_PT,
                      theme, "highlight", True, own)
            if label:
                _text(slide, (g.x(0.4 + key_w), g.y(KEY_TOP + 0.05), g.x(12.5 - key_w), g.y(0.75)), label, TEXT_PT,
                      theme, "text", own_look=own)
            if lines:
                _text(slide, (g.x(SIDE_LEFT), g.y(PIC_TOP), g.x(SIDE_W), g.y(6.9 - PIC_TOP)), lines, TEXT_PT, theme,
                      "text", own_look=own, space=8)
        # the speaker notes: the summary, then the chart's whole source line and notes (the picture has the short one)
        full = [spec.chart.caption, *(getattr(spec.chart, "notes", None) or [])] if spec.chart is not None else []
        slide.notes_slide.notes_text_frame.text = "\n\n".join(x for x in (spec.notes, *full) if x)
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()
