"""Mål og indikatorer in headless Chromium: reached from the navigation with the view kept, every chart drawn, the
statuses shown in the page's language, no console error."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def _open(browser, bt, url: str) -> None:
    browser.get(url)
    bt.wait_css(browser, "#page-root, #error-page")
    bt.wait_dash_idle(browser)


def test_maal001_from_the_navigation_with_charts_and_statuses(dash_url, browser, bt):
    _open(browser, bt, f"{dash_url}/?kommune=3201&peers=kostragruppe")
    link = next(a for a in browser.find_elements("css selector", "#nav a")
                if a.get_attribute("href").split("?")[0].endswith("/maal"))
    assert link.text == "Mål og indikatorer"
    link.click()
    bt.wait_css(browser, "#goal-0", timeout=60)
    bt.wait_dash_idle(browser)
    assert "kommune=3201" in browser.find_element("css selector", "#state-key").get_attribute("textContent")
    assert browser.find_element("css selector", "#nav a.active").text == "Mål og indikatorer"
    statuses = [e.text for e in browser.find_elements("css selector", ".goal-status")]
    assert len(statuses) == 7 and set(statuses) <= {"nådd", "på vei", "ikke nådd", "mangler tall"}
    cards = browser.find_elements("css selector", ".goal .chart-card")
    bt.wait_until(browser, lambda d: len(d.find_elements("css selector", ".goal .chart-card .main-svg")) >= len(cards),
                  timeout=60, message="every chart drawn")
    assert "drivers fetch --tables 12134" in browser.find_element("css selector", "#goal-0").text
    assert bt.console_errors(browser) == []


def test_maal002_in_english(dash_url, browser, bt):
    _open(browser, bt, f"{dash_url}/maal?kommune=0301&lang=en")
    bt.wait_css(browser, "#goal-0", timeout=60)
    statuses = {e.text for e in browser.find_elements("css selector", ".goal-status")}
    assert statuses <= {"met", "on track", "not met", "no figure"} and "not met" in statuses
    assert browser.title == "Goals and indicators – municipal finances"
    assert bt.console_errors(browser) == []
