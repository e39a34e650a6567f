"""Oversikt in headless Chromium: the theme stylesheet is applied, and one click on «Last ned alle figurer (ZIP)»
and «Last ned seminarpresentasjon (PPTX)» downloads a valid chart pack and deck for the view shown."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest

from drivers.export import pack, theme

pytestmark = [pytest.mark.browser, pytest.mark.kaleido]  # the pack renders every chart with kaleido

DOWNLOAD_TIMEOUT = 300  # the pack renders every chart three times on a shared 2-core machine


def _downloaded(folder: Path, suffix: str, timeout: float = DOWNLOAD_TIMEOUT) -> Path:
    """The finished download with `suffix` (Chromium writes *.crdownload until it is complete)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.glob(f"*{suffix}") if p.stat().st_size > 0]
        if done and not list(folder.glob("*.crdownload")):
            return done[0]
        time.sleep(0.5)
    pytest.fail(f"no {suffix} arrived in {timeout}s; folder holds {[p.name for p in folder.iterdir()]}")


@pytest.fixture(scope="module")
def downloader(browser_factory, tmp_path_factory):
    driver = browser_factory()
    # a click on a download link waits for the response to start, which is the whole pack build here
    driver.set_page_load_timeout(DOWNLOAD_TIMEOUT)
    folder = tmp_path_factory.mktemp("downloads")
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)})
    return driver, folder


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _css_rgb(value: str) -> tuple[int, int, int]:
    """'rgba(31, 58, 95, 1)' or 'rgb(31, 58, 95)' -> (31, 58, 95)."""
    parts = value[value.index("(") + 1:value.index(")")].split(",")
    return tuple(int(float(p)) for p in parts[:3])


def test_oversikt_theme_and_one_click_pack_and_deck(dash_url, downloader, bt):
    from pptx import Presentation
    from selenium.webdriver.common.by import By

    driver, folder = downloader
    driver.get(dash_url + "/?kommune=3222&aar=2024&peers=fylke")
    pack_link = bt.wait_css(driver, "#last-ned-pakke", timeout=60)
    bt.wait_dash_idle(driver, timeout=60)
    assert bt.console_errors(driver) == []

    # the theme stylesheet is linked and wins: header in the theme's primary colour, the theme's font
    look = theme.load()
    header = driver.find_element(By.CSS_SELECTOR, ".header")
    assert _css_rgb(header.value_of_css_property("background-color")) == _rgb(look.color("primary"))
    assert "Inter" in driver.find_element(By.TAG_NAME, "body").value_of_css_property("font-family")

    pack_link = driver.find_element(By.ID, "last-ned-pakke")
    assert pack_link.is_displayed() and pack_link.text == "Last ned alle figurer (ZIP)"
    pack_link.click()
    # the page says the pack is being made (it takes a while), so nobody clicks twice
    bt.wait_until(driver, lambda d: "Figurpakken lages" in d.find_element(By.ID, "eksport-status").text, 10,
                  "no 'being made' message after the click")
    zpath = _downloaded(folder, ".zip")
    assert zpath.name == "figurer-3222-2024.zip"
    with zipfile.ZipFile(zpath) as zf:
        assert zf.testzip() is None
        index = zf.read(pack.INDEX_NAME).decode("utf-8")
        listed = pack.index_files(index)
        assert listed and set(listed) <= set(zf.namelist())
        pngs = [n for n in listed if n.endswith(".png")]
        assert len(pngs) >= 10 and all(zf.read(n)[:8] == b"\x89PNG\r\n\x1a\n" for n in pngs)
    assert "Lørenskog" in index

    deck_link = driver.find_element(By.ID, "last-ned-seminar")
    assert deck_link.text == "Last ned seminarpresentasjon (PPTX)"
    deck_link.click()
    bt.wait_until(driver, lambda d: "Seminarpresentasjonen lages" in d.find_element(By.ID, "eksport-status").text, 10)
    ppath = _downloaded(folder, ".pptx", timeout=120)
    assert ppath.name == "seminar-3222-2024.pptx"
    deck = Presentation(str(ppath))
    assert len(deck.slides) >= 3
    notes = [s.notes_slide.notes_text_frame.text for s in deck.slides if s.has_notes_slide]
    assert any(n.strip() for n in notes), "the plain-language summary goes in the speaker notes"
    assert bt.console_errors(driver) == []
