"""The deck and the pack's workbook open in LibreOffice as a user opens them (issue 14's done-when): decks for Oslo
0301, Bærum 3201 and Utsira 1151 convert to PDF with one page per slide and the message titles on them; the
workbook converts with its group rows and Norwegian number formats. Real snapshot data; skipped, with the reason,
without LibreOffice (.ci/run installs it)."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from pptx import Presentation

from drivers.report import state as st

pytestmark = [pytest.mark.kaleido, pytest.mark.slow]


def _soffice() -> str:
    soffice = shutil.which("soffice")
    if soffice is None or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice (soffice) or poppler (pdftotext) is not installed: see .ci/run")
    return soffice


def _pdf_text(soffice: str, source: Path) -> tuple[str, int]:
    """The PDF LibreOffice makes of `source`: its text and its page count."""
    profile = source.parent / "lo-profile"
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{profile}", "--convert-to", "pdf",
                    "--outdir", str(source.parent), str(source)], check=True, capture_output=True, timeout=300)
    pdf = source.with_suffix(".pdf")
    assert pdf.is_file(), f"LibreOffice made no PDF of {source.name}"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    return text, text.count("\f") or 1


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("kommune", ["0301", "3201", "1151"])
def test_the_deck_opens_in_libreoffice_with_its_message_titles(warm, tmp_path, kommune):
    from drivers.products import deck

    soffice = _soffice()
    product = deck.make(st.parse({"kommune": kommune, "aar": "2024"}), engine=warm)
    source = tmp_path / product.filename
    source.write_bytes(product.payload)
    slides = list(Presentation(io.BytesIO(product.payload)).slides)
    text, pages = _pdf_text(soffice, source)
    assert pages == len(slides)
    flat = _flat(text)
    for slide in slides[1:]:
        title = slide.shapes.title.text_frame.text
        assert _flat(title)[:40] in flat, f"«{title}» not in what LibreOffice drew"
    assert "Mangler tall" not in flat  # never a placeholder slide
    if kommune == "0301":
        assert "Landet" in flat  # Oslo alone in KOSTRA-gruppe 13: compared with Landet, stated


def test_the_pack_workbook_opens_in_libreoffice_with_group_rows(warm, tmp_path):
    from drivers.products import pack

    soffice = _soffice()
    product = pack.make(st.parse({"kommune": "3201", "aar": "2024"}), engine=warm)
    zf = zipfile.ZipFile(io.BytesIO(product.payload))
    name = next(n for n in zf.namelist() if n.endswith(".xlsx"))
    source = tmp_path / name
    source.write_bytes(zf.read(name))
    flat = _flat(_pdf_text(soffice, source)[0])
    for row in ("KOSTRA-gruppe 12", "Landet", "Landet uten Oslo", "CC BY 4.0"):  # the last: «Om tallene»
        assert row in flat, f"{row} not in the workbook as LibreOffice shows it"
    assert "80 706" in flat  # Bærum's net operating expenditure per resident 2024, in the Norwegian format
