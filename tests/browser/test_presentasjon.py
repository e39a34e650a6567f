"""Presentation mode in a real browser: the keyboard steps through every slide, each slide has its own URL,
a deep link opens that slide, and the page logs no console errors."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def _slide(browser) -> tuple[int, int, str]:
    root = browser.find_element("id", "pres-root")
    title = browser.find_element("id", "pres-title").text
    return int(root.get_attribute("data-slide")), int(root.get_attribute("data-total")), title


def _wait_slide(browser, bt, number: int) -> None:
    bt.wait_until(browser, lambda d: d.execute_script(
        "var r = document.getElementById('pres-root'); return r && r.getAttribute('data-slide');") == str(number),
        30, f"slide {number} did not appear")
    bt.wait_dash_idle(browser, 30)


def test_pres001_arrow_keys_step_through_all_slides_and_back(dash_url, browser, bt):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    browser.get(dash_url + "/presentasjon?kommune=3222&lysbilde=1")
    bt.wait_css(browser, "#pres-root", 60)
    _wait_slide(browser, bt, 1)
    number, total, first_title = _slide(browser)
    assert number == 1 and total >= 6  # title + income, total gap, by service, drivers, what-if
    assert "Lørenskog" in first_title
    titles = {1: first_title}
    for expected in range(2, total + 1):
        ActionChains(browser).send_keys(Keys.ARROW_RIGHT).perform()
        _wait_slide(browser, bt, expected)
        assert f"lysbilde={expected}" in browser.current_url
        titles[expected] = _slide(browser)[2]
        if expected < total:
            assert browser.find_elements("id", "pres-graph"), f"slide {expected} has no chart"
        else:  # the closing «Hva betyr dette»: the story's points in large type, no chart
            assert not browser.find_elements("id", "pres-graph")
            assert len(browser.find_elements("css selector", "#pres-root ul.pres-lead li")) >= 3
    assert len(set(titles.values())) == total  # every slide is a different one
    ActionChains(browser).send_keys(Keys.ARROW_RIGHT).perform()  # at the end: stays on the last slide
    bt.wait_dash_idle(browser, 10)
    assert _slide(browser)[0] == total
    ActionChains(browser).send_keys(Keys.ARROW_LEFT).perform()
    _wait_slide(browser, bt, total - 1)
    assert _slide(browser)[2] == titles[total - 1]
    assert bt.console_errors(browser) == []

    # a deep link opens that slide directly
    browser.get(dash_url + "/presentasjon?kommune=3222&lysbilde=3")
    bt.wait_css(browser, "#pres-root", 60)
    _wait_slide(browser, bt, 3)
    assert _slide(browser)[2] == titles[3]
    assert bt.console_errors(browser) == []


def test_pres002_slide_out_of_range_is_a_friendly_page(dash_url, browser, bt):
    browser.get(dash_url + "/presentasjon?kommune=3222&lysbilde=99")
    bt.wait_css(browser, "#error-page", 60)
    assert "99" in browser.find_element("id", "error-page").text


def test_pres003_what_if_is_chosen_before_the_closing_slide(dash_url, browser, bt):
    # 2025: SSB 12209 gives coverage of residents 80+, so the storyline has a what-if the data can answer, just
    # before the closing «Hva betyr dette»
    browser.get(dash_url + "/presentasjon?kommune=3222&aar=2025")
    bt.wait_css(browser, "#pres-root", 60)
    total = int(browser.find_element("id", "pres-root").get_attribute("data-total")) - 1
    browser.get(dash_url + f"/presentasjon?kommune=3222&aar=2025&lysbilde={total}")
    bt.wait_css(browser, "#pres-what-if", 60)
    assert "helse og omsorg" in browser.find_element("id", "pres-title").text.lower()
    link = next(a for a in browser.find_elements("css selector", "#pres-what-if a") if a.text == "Barnehage")
    link.click()
    bt.wait_until(browser, lambda d: "hva_om=FGK7" in d.current_url, 30, "choice not in the URL")
    # kindergarten coverage for 2025 is not in the data (13502 ends in 2023): no what-if slide is made, and the
    # slide where the choice was made says why and keeps the choice open
    bt.wait_until(browser, lambda d: "barnehage" in (d.execute_script(
        "var t = document.getElementById('pres-title'), n = document.getElementById('pres-what-if-note');"
        " return (t ? t.textContent : '') + ' ' + (n ? n.textContent : '');") or "").lower(), 30,
        "the what-if slide neither switched to kindergarten nor said why it cannot")
    assert f"lysbilde={total}" in browser.current_url
    assert bt.console_errors(browser) == []
