"""The Word chapter (drivers.products.chapter / drivers.export.chapter) on a snapshot built from /work/shared.

For 3201 Bærum, 0301 Oslo (alone in KOSTRA-gruppe 13: compared with Landet instead) and 1151 Utsira the .docx opens
with python-docx and has one Heading 1, a Heading 2 per storyline section, a picture per figure with alt text, a
Caption-style «Figur N» with a SEQ Figure field under it and the source line, and the chart's numbers as a Word table
(«Tabell N», SEQ Table) whose cells are the chart's data in Norwegian number format; no placeholder. A template's
styles reach the output; a bad template path is one clear message."""

from __future__ import annotations

import io
import re
import shutil
import struct
import subprocess
import zipfile
import zlib
from dataclasses import replace

import pandas as pd
import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import RGBColor

from drivers import fmt, i18n
from drivers.config import Settings
from drivers.errors import UserError
from drivers.export import chapter as render
from drivers.export.theme import Theme
from drivers.products import chapter

pytestmark = pytest.mark.slow  # the module builds the snapshot from ../shared

KOMMUNER = ["3201", "0301", "1151"]
NUMBER_NB = re.compile(r"^-?\d{1,3}( \d{3})*(,\d+)?$")


@pytest.fixture(scope="module")
def snapshot_db(snapshot_db):
    """The session's snapshot (tests/shared_data.py), configured as the data layer's database."""
    from drivers.report import data

    data.configure(replace(Settings.from_env(), db_path=snapshot_db))
    return snapshot_db


def _state(kommune: str, lang: str = "nb"):
    from drivers.report import state as st

    return st.parse({"kommune": kommune, "aar": "2024", "lang": lang})


def _tiny_png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 10, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(b"\x00" + b"\xff" * 48 for _ in range(10))))
            + chunk(b"IEND", b""))


class StubEngine:
    """Stands in for the kaleido renderer where a test is about the document, not the pictures."""

    def render_many(self, jobs, progress=None):
        for done in range(1, len(jobs) + 1):
            if progress is not None:
                progress(done, len(jobs))
        return [_tiny_png() for _ in jobs]


@pytest.fixture(scope="module")
def made(snapshot_db, warm):
    """kommune -> (state used, slides, Product, Document, progress calls), rendered through the warm Chromium."""
    from drivers.report import story

    out = {}
    for kommune in KOMMUNER:
        calls = []
        product = chapter.make(_state(kommune), engine=warm, progress=lambda d, t, c=calls: c.append((d, t)))
        used, _note = story.prepare(_state(kommune))
        slides = story.build(used)
        out[kommune] = (used, slides, product, Document(io.BytesIO(product.payload)), calls)
    return out


def _style(paragraph) -> str:
    return paragraph.style.name if paragraph.style is not None else ""


def _instructions(paragraph) -> str:
    return "".join(el.text or "" for el in paragraph._p.iter(qn("w:instrText")))


def _expected_cell(value, cell: str, column: pd.Series) -> None:
    """A number cell is the value in Norwegian format with the decimals the cell shows; missing is «–», never 0."""
    if render.column_decimals(column) is None:
        expected = "" if fmt.is_missing(value) else str(int(value)) if isinstance(value, float) and value.is_integer() \
            else str(value)
        assert cell == expected
        return
    if fmt.is_missing(value):
        assert cell == fmt.MISSING
        return
    assert NUMBER_NB.match(cell), cell
    decimals = len(cell.partition(",")[2])
    assert cell == fmt.number(value, decimals), (cell, value)
    assert abs(float(cell.replace(" ", "").replace(",", ".")) - float(value)) <= 0.5 * 10 ** -decimals + 1e-9


@pytest.mark.kaleido
@pytest.mark.parametrize("kommune", KOMMUNER)
def test_chapter_has_headings_captions_pictures_and_word_tables(made, kommune):
    state, slides, product, doc, calls = made[kommune]
    charted = [s for s in slides if s.chart is not None]
    assert product.filename == f"kapittel-{kommune}-2024.docx"
    assert product.mime.endswith("wordprocessingml.document") and product.count == len(charted) > 0
    assert calls and calls[-1] == (len(charted), len(charted))

    paragraphs = doc.paragraphs
    h1 = [p.text for p in paragraphs if _style(p) == "Heading 1"]
    assert h1 == [i18n.t("ch.title", "nb", name=chapter_name(state), year=2024)]
    h2 = [p.text for p in paragraphs if _style(p) == "Heading 2"]
    sections = list(dict.fromkeys(s.section for s in slides))
    assert h2 == [*sections, "Kilder"]

    figures = [p for p in paragraphs if _style(p) == "Caption" and p.text.startswith("Figur ")]
    tables_caps = [p for p in paragraphs if _style(p) == "Caption" and p.text.startswith("Tabell ")]
    assert [p.text for p in figures] == [f"Figur {n}: {s.chart.title}" for n, s in enumerate(charted, 1)]
    assert [p.text for p in tables_caps] == [f"Tabell {n}: {s.chart.title}" for n, s in enumerate(charted, 1)]
    assert all("SEQ Figure" in _instructions(p) for p in figures)
    assert all("SEQ Table" in _instructions(p) for p in tables_caps)
    for caption in figures:  # the source line right under each figure's caption
        after = paragraphs[paragraphs.index(caption) + 1]
        assert after.text.startswith("Kilde: Statistisk sentralbyrå (SSB)") and _style(after) == "Kilde"

    pictures = doc.inline_shapes
    assert len(pictures) == len(charted)
    for shape, slide in zip(pictures, charted, strict=True):
        doc_pr = shape._inline.docPr
        assert doc_pr.get("descr") == slide.alt and slide.alt
        assert abs(shape.width.cm - 16) < 0.01

    assert len(doc.tables) == len(charted)
    for table, slide in zip(doc.tables, charted, strict=True):
        data = slide.chart.data
        rows = [[c.text for c in r.cells] for r in table.rows]
        assert rows[0] == [str(c) for c in data.columns]
        positions, total = render.table_rows(data, chapter_name(state))
        assert total == len(data) and len(rows) == 1 + len(positions)
        for pos, cells in zip(positions, rows[1:], strict=True):
            if pos is None:
                assert set(cells) == {"…"}
                continue
            for col, value, cell in zip(data.columns, data.iloc[pos].tolist(), cells, strict=True):
                _expected_cell(value, cell, data[col])

    text = "\n".join(p.text for p in paragraphs) + "\n".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    # no placeholder: no «missing» slide, no unfilled {word}, no key standing in for its text
    assert i18n.t("rep.mc.missing", "nb", what="").strip() not in text
    assert not re.search(r"\{[a-z_]+\}|\bch\.[a-z_]+\b|\brep\.[a-z_]+\b", text)
    for item in product.left_out:  # named once, with the command where a fetch supplies the numbers
        sentence = chapter.left_out_sentence(item, "nb", chapter_name(state))
        assert text.count(sentence) == 1 and sentence.startswith("Ikke med: ")
    sources = paragraphs[[p.text for p in paragraphs].index("Kilder") + 1:]
    assert any("tabell 12362" in p.text and "ssb.no/statbank/table/12362" in p.text for p in sources)


def chapter_name(state) -> str:
    from drivers.report import data

    return data.meta().name(state.kommune)


@pytest.mark.kaleido
def test_oslo_is_compared_with_landet_and_says_so(made):
    state, _slides, product, doc, _calls = made["0301"]
    assert state.peers == "landet" and len(product.notes) == 1
    assert "sammenlignet med Landet i stedet" in product.notes[0]
    assert product.notes[0] in [p.text for p in doc.paragraphs]
    # Landet holds 357 municipalities: the table keeps the top, the bottom and Oslo with neighbours, and says so
    long = [t for t in doc.tables if len(t.rows) > 1 and any(c.text == "…" for r in t.rows for c in r.cells)]
    assert long
    assert any("Tabellen viser" in p.text and "av 357 rader" in p.text for p in doc.paragraphs)


def test_english_chapter_words_and_number_marks(snapshot_db):
    product = chapter.make(_state("1151", "en"), engine=StubEngine())
    doc = Document(io.BytesIO(product.payload))
    captions = [p.text for p in doc.paragraphs if _style(p) == "Caption"]
    assert captions and captions[0].startswith("Figure 1: ") and any(c.startswith("Table 1: ") for c in captions)
    assert "Sources" in [p.text for p in doc.paragraphs if _style(p) == "Heading 2"]
    cells = [c.text for t in doc.tables for r in t.rows[1:] for c in r.cells]
    assert "245,060" in cells  # Utsira's net spending per resident, English marks
    assert doc.core_properties.language == "en-GB"


def test_default_document_is_a4_in_the_theme_font(snapshot_db):
    product = chapter.make(_state("1151"), engine=StubEngine(), theme=Theme(font_office="Georgia"))
    doc = Document(io.BytesIO(product.payload))
    assert doc.styles["Normal"].font.name == "Georgia"
    assert doc.styles["Heading 1"].font.name == "Georgia"
    section = doc.sections[0]
    assert round(section.page_width.cm, 1) == 21.0 and round((section.page_width - section.left_margin
                                                              - section.right_margin) / 360000, 1) == 16.0


def _template(path, *, dotx: bool = False):
    doc = Document()
    doc.styles["Normal"].font.name = "Garamond"
    heading = doc.styles["Heading 1"]
    heading.font.name = "Georgia"
    heading.font.color.rgb = RGBColor(0x8B, 0x00, 0x00)
    doc.add_paragraph("MALTEKST SOM SKAL BORT")
    doc.sections[0].left_margin = doc.sections[0].right_margin = 914400  # 2.54 cm: a wider text column
    doc.save(path)
    if dotx:  # the same package marked as a Word template
        raw = path.read_bytes()
        with zipfile.ZipFile(io.BytesIO(raw)) as zf, zipfile.ZipFile(path, "w") as out:
            for info in zf.infolist():
                body = zf.read(info.filename)
                if info.filename == "[Content_Types].xml":
                    body = body.replace(b"document.main+xml", b"template.main+xml")
                out.writestr(info, body)
    return path


@pytest.mark.parametrize("suffix", [".docx", ".dotx"])
def test_a_templates_styles_reach_the_chapter(snapshot_db, tmp_path, suffix):
    path = _template(tmp_path / f"mal{suffix}", dotx=suffix == ".dotx")
    product = chapter.make(_state("3201"), engine=StubEngine(), template=path)
    doc = Document(io.BytesIO(product.payload))
    assert doc.styles["Heading 1"].font.name == "Georgia"
    assert doc.styles["Heading 1"].font.color.rgb == RGBColor(0x8B, 0x00, 0x00)
    assert doc.styles["Normal"].font.name == "Garamond"
    texts = [p.text for p in doc.paragraphs]
    assert "MALTEKST SOM SKAL BORT" not in texts
    assert [p for p in doc.paragraphs if _style(p) == "Heading 1"]
    assert [p for p in doc.paragraphs if _style(p) == "Caption"]
    assert abs(doc.sections[0].left_margin - 914400) < 10  # the template's page set-up is kept


def test_bad_template_is_one_clear_message(snapshot_db, tmp_path):
    missing = tmp_path / "finnes-ikke.docx"
    with pytest.raises(UserError) as exc:
        chapter.make(_state("3201"), engine=StubEngine(), template=missing)
    message = str(exc.value)
    assert "\n" not in message and str(missing) in message and "--template" in message
    not_word = tmp_path / "notat.docx"
    not_word.write_text("dette er ikke et Word-dokument", encoding="utf-8")
    with pytest.raises(UserError) as exc:
        chapter.make(_state("3201"), engine=StubEngine(), template=not_word)
    assert "kan ikke åpnes som Word-dokument" in str(exc.value) and "\n" not in str(exc.value)


def test_cells_missing_is_never_zero_and_numbers_are_norwegian():
    frame = pd.DataFrame({"Kommune": ["A", "B"], "År": [2023, 2024], "mill. kr": [1234.5, float("nan")],
                          "kr per innbygger": [80706.258783, 1.5]})
    decimals = [render.column_decimals(frame[c]) for c in frame.columns]
    assert decimals == [None, None, 1, 0]
    assert [render.cell_text(v, d) for v, d in zip(frame.iloc[0].tolist(), decimals, strict=True)] == \
        ["A", "2023", "1 234,5", "80 706"]
    assert render.cell_text(float("nan"), 1) == "–"
    assert render.cell_text(-191.0, 1) == "-191,0"
    assert render.cell_text(1234.5, 1, "en") == "1,234.5"


@pytest.mark.kaleido
def test_libreoffice_opens_the_chapter(made, tmp_path):
    """The chapter converts to PDF in LibreOffice with its headings, captions and tables (skipped without it)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    _state_used, _slides, product, _doc, _calls = made["3201"]
    source = tmp_path / product.filename
    source.write_bytes(product.payload)
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(source)], check=True, capture_output=True, timeout=180)
    pdf = source.with_suffix(".pdf")
    assert pdf.is_file() and pdf.stat().st_size > 10_000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
        assert "Figur 1:" in text and "Tabell 1:" in text and "Kilder" in text and "80 706" in text
