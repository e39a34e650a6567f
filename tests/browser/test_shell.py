"""Browser smoke tests of the shell pages (Oversikt, Tjenester, 404) for a city, a mid-size and a very small
municipality on the real snapshot: no console errors, the controls write the URL, a shared URL restores the
view, back/forward works."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

MUNICIPALITIES = [("0301", "Oslo"), ("3222", "Lørenskog"), ("1151", "Utsira")]


def _state_key(browser, bt) -> str:
    """The canonical query string of the view on screen ('' while the page re-renders)."""
    return browser.execute_script("var e = document.getElementById('state-key'); return e ? e.textContent : '';")


def _open(browser, bt, url: str) -> None:
    browser.get(url)
    bt.wait_css(browser, "#page-root, #error-page")
    bt.wait_dash_idle(browser)


@pytest.mark.parametrize(("code", "name"), MUNICIPALITIES)
def test_shell001_oversikt_renders_without_console_errors(dash_url, browser, bt, code, name):
    _open(browser, bt, f"{dash_url}/?kommune={code}")
    brand = bt.wait_css(browser, ".brand-sub").text
    assert name in brand
    assert browser.find_elements("css selector", "#oversikt-profil .stat-value"), "profile tiles missing"
    # every chart card carries a caption line with the source
    for caption in browser.find_elements("css selector", ".chart-card .caption"):
        assert "SSB" in caption.text
    assert bt.console_errors(browser) == []


@pytest.mark.parametrize(("code", "name"), MUNICIPALITIES)
def test_shell002_tjenester_renders_without_console_errors(dash_url, browser, bt, code, name):
    _open(browser, bt, f"{dash_url}/tjenester?kommune={code}&tjeneste=FGK7")
    assert name in bt.wait_css(browser, ".brand-sub").text
    assert "Barnehage" in bt.wait_css(browser, ".service-tab.active").text
    assert bt.console_errors(browser) == []


def test_shell003_controls_write_url_and_shared_link_restores_view(dash_url, browser, browser_factory, bt):
    _open(browser, bt, f"{dash_url}/?kommune=3222")
    before = _state_key(browser, bt)
    # switch the averaging convention and the language with the controls
    browser.find_element("css selector", "#\\{\\\"param\\\"\\:\\\"konv\\\"\\,\\\"type\\\"\\:\\\"ctl\\\"\\} input[value='unweighted']").click()
    bt.wait_until(browser, lambda d: "konv=unweighted" in d.current_url, message="URL did not take konv")
    bt.wait_until(browser, lambda d: "konv=unweighted" in _state_key(d, bt), message="page did not re-render")
    shared = browser.current_url
    view = _state_key(browser, bt)
    bt.wait_dash_idle(browser)
    title = bt.wait_css(browser, ".page-title").text
    other = browser_factory()
    _open(other, bt, shared)
    assert _state_key(other, bt) == view
    assert bt.wait_css(other, ".page-title").text == title
    assert other.find_element("css selector", "input[value='unweighted']").is_selected()
    # back goes to the view before the change
    browser.back()
    bt.wait_until(browser, lambda d: _state_key(d, bt) == before, message="back did not restore the view")
    browser.forward()
    bt.wait_until(browser, lambda d: _state_key(d, bt) == view, message="forward did not restore the view")
    assert bt.console_errors(browser) == []
    assert bt.console_errors(other) == []


def test_shell004_municipality_search_by_name_changes_view(dash_url, browser, bt):
    from selenium.webdriver.common.keys import Keys

    _open(browser, bt, f"{dash_url}/?kommune=3222")
    for text, code, name in [("Guovdageaidnu", "5612", "Kautokeino"), ("1151", "1151", "Utsira"),
                             ("aurskog høland", "3226", "Aurskog-Høland")]:
        bt.wait_css(browser, ".ctl-kommune").click()
        field = bt.wait_css(browser, ".dash-dropdown-search")
        field.send_keys(text)  # Sami name, a municipality number, a hyphenated name typed with a space
        field.send_keys(Keys.ENTER)
        bt.wait_until(browser, lambda d, code=code: f"kommune={code}" in d.current_url, message=f"search for {text} failed")
        bt.wait_until(browser, lambda d, name=name: name in d.find_element("css selector", ".brand-sub").text)
        bt.wait_dash_idle(browser)
    assert bt.console_errors(browser) == []


@pytest.mark.parametrize("path", ["/?kommune=9999", "/?kommune=0301&aar=1990", "/?kommune=abc&peers=%3Cscript%3E",
                                  "/finnes-ikke", "/tjenester?kommune=0301&tjeneste=XYZ"])
def test_shell005_bad_urls_show_friendly_page(dash_url, browser, bt, path):
    _open(browser, bt, dash_url + path)
    page = bt.wait_css(browser, "#error-page")
    assert page.find_elements("css selector", "a"), "the error page offers links"
    assert "Traceback" not in browser.page_source
    assert bt.console_errors(browser) == []


@pytest.mark.parametrize("path", ["/?kommune=3222", "/tjenester?kommune=1151"])
def test_shell006_opening_a_page_pushes_no_history_entry(dash_url, browser, bt, path):
    """Mounting a page must not rewrite the URL (that would trap the back button)."""
    _open(browser, bt, dash_url + path)
    length = browser.execute_script("return window.history.length")
    bt.wait_until(browser, lambda d: _state_key(d, bt) != "", message="page did not render")
    bt.wait_dash_idle(browser)
    import time

    time.sleep(1.5)  # give a stray callback time to push
    assert browser.current_url == dash_url + path
    assert browser.execute_script("return window.history.length") == length
    assert bt.console_errors(browser) == []


def test_shell007_header_and_controls_stay_mounted_and_follow_the_view(dash_url, browser, bt):
    """The control bar is mounted once (drivers.ui.shell): navigating keeps the same DOM elements and only
    their values, links and labels follow the page's view, also through back and a language switch."""
    _open(browser, bt, f"{dash_url}/tjenester?kommune=1151&peers=fylke")
    bt.wait_until(browser, lambda d: "Utsira" in d.find_element("css selector", ".brand-sub").text)
    browser.execute_script("document.querySelector('.ctl-kommune').__mark = 'mounted once';")
    link = next(a for a in browser.find_elements("css selector", "#nav a") if "/sammenlign" in a.get_attribute("href"))
    assert "kommune=1151" in link.get_attribute("href") and "peers=fylke" in link.get_attribute("href")
    link.click()
    bt.wait_until(browser, lambda d: _state_key(d, bt).startswith("/sammenlign?kommune=1151"))
    bt.wait_dash_idle(browser)
    assert browser.execute_script("return document.querySelector('.ctl-kommune').__mark") == "mounted once"
    active = browser.find_element("css selector", "#nav a.active")
    assert "/sammenlign" in active.get_attribute("href")

    browser.get(f"{dash_url}/kart?kommune=0301&lang=en")  # a new page load: the shell follows the URL's view
    bt.wait_until(browser, lambda d: _state_key(d, bt).startswith("/kart?kommune=0301"))
    bt.wait_until(browser, lambda d: "Oslo" in d.find_element("css selector", ".brand-sub").text)
    assert browser.find_element("css selector", "#nav a.active").text == "Map"
    assert browser.find_element("css selector", "#label-ctl_kommune").text.lower() == "municipality"
    assert "Oslo" in browser.find_element("css selector", ".ctl-kommune").text
    browser.back()
    bt.wait_until(browser, lambda d: _state_key(d, bt).startswith("/sammenlign?kommune=1151"))
    bt.wait_until(browser, lambda d: "Utsira" in d.find_element("css selector", ".ctl-kommune").text)
    assert browser.find_element("css selector", "#label-ctl_kommune").text.lower() == "kommune"
    assert bt.console_errors(browser) == []
