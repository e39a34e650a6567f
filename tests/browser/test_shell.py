"""Browser smoke tests of the shell pages (Oversikt, Tjenester, 404) for a city, a mid-size and a very small
municipality on the real snapshot: no console errors, the controls write the URL, a shared URL restores the
view, back/forward works."""

from __future__ import annotations

import time

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


def test_shell008_controls_to_url_in_the_browser(dash_url, browser, bt):
    """assets/controls.js, called as the clientside callbacks call it: a control becomes a new URL only when
    it differs from the view on screen; the URL keeps the page's other parameters."""
    _open(browser, bt, f"{dash_url}/?kommune=3222")
    js = "const d = window.dash_clientside.drivers; const a = arguments; return d[a[0]](...a[1]);"

    def call(fn, *args):
        return browser.execute_script(js, fn, list(args))

    shared = [{"type": "ctl", "param": p} for p in ("kommune", "aar", "peers", "konv", "lang")]
    href = call("controlsToHref", ["1151", 2024, "fylke", "weighted", "nb"], shared, "/tjenester",
                "?kommune=3222&aar=2024&peers=kostragruppe&konv=weighted&lang=nb&tjeneste=FGK7", None, None)
    assert href == "/tjenester?kommune=1151&aar=2024&peers=fylke&konv=weighted&lang=nb&tjeneste=FGK7"
    assert call("controlsToHref", ["3222"], shared[:1], "/", "?kommune=3222", None, None) is None
    # a page's first rendering when the URL lacks the defaults: the controls equal the canonical view
    key = "/?kommune=3222&aar=2024&peers=kostragruppe&konv=weighted&lang=nb"
    values = ["3222", "2024", "kostragruppe", "weighted", "nb"]
    assert call("controlsToHref", values, shared, "/", "?kommune=3222", key, None) is None
    # a page control without a canonical value counts only when the user changed it
    extra = [*shared, {"type": "ctl", "param": "visning"}]
    assert call("controlsToHref", [*values, "tabell"], extra, "/x", "?kommune=3222", key, None) is None
    assert call("controlsToHref", [*values, "tabell"], extra, "/x", "?kommune=3222", key, "visning") == \
        "/x?kommune=3222&aar=2024&peers=kostragruppe&konv=weighted&lang=nb&visning=tabell"
    # a value with spaces or Norwegian letters is encoded as the server writes it (urlencode)
    assert call("controlsToHref", ["Nedre Romerike æøå"], [{"param": "peers"}], "/", "?kommune=3222&peers=x", None,
                None) == "/?kommune=3222&peers=Nedre+Romerike+%C3%A6%C3%B8%C3%A5"
    # Sammenlign's view and Kart's indicator: against the URL's value, or the default when it has none
    assert call("paramToHref", "visning", "per-innbygger", "per-innbygger", "/sammenlign", "?kommune=3222") is None
    assert call("paramToHref", "visning", "per-innbygger", "andel", "/sammenlign", "?kommune=3222&peers=fylke") == \
        "/sammenlign?kommune=3222&peers=fylke&visning=andel"
    assert call("paramToHref", "indikator", "x", "y", "/kart", "?kommune=3222&indikator=y") is None
    # a map click: a municipality's number, not a county outline, not the one already chosen, not unknown
    names = {"1151": "Utsira", "3222": "Lørenskog"}
    assert call("clickedKommune", {"points": [{"location": "1151", "z": 1.0}]}, "3222", names) == "1151"
    assert call("clickedKommune", {"points": [{"location": "1151"}]}, "1151", names) is None
    assert call("clickedKommune", {"points": [{"location": "03"}]}, "3222", names) is None
    assert call("clickedKommune", {"points": [{"location": "9999"}]}, "3222", names) is None
    assert call("clickedKommune", None, "3222", names) is None
    assert bt.console_errors(browser) == []


_REQUESTS_JS = """
window.__callbacks = [];
if (!window.__fetchWrapped) {
  window.__fetchWrapped = true;
  const f = window.fetch;
  window.fetch = function (url, opts) {
    if (String(url).includes('_dash-update-component')) {
      try { window.__callbacks.push(JSON.parse(opts.body).output); } catch (e) { window.__callbacks.push('?'); }
    }
    return f.apply(this, arguments);
  };
}
"""


def test_shell009_a_page_view_costs_one_request(dash_url, browser, bt):
    """Clicking to a page asks the server for the page and nothing else (deferred parts aside): the callbacks
    that Dash runs when a page's controls and charts are inserted answer in the browser."""
    _open(browser, bt, f"{dash_url}/?kommune=3222")
    for path in ["/sammenlign", "/kart", "/metode", "/tjenester", "/", "/sammenlign", "/kart"]:
        browser.execute_script(_REQUESTS_JS)
        link = next(a for a in browser.find_elements("css selector", "#nav a")
                    if a.get_attribute("href").split("?")[0].rstrip("/") == (dash_url + path).rstrip("/"))
        link.click()
        bt.wait_until(browser, lambda d, p=path: _state_key(d, bt).startswith(p + "?"), message=path)
        bt.wait_dash_idle(browser)
        time.sleep(0.5)  # a callback that fires after the page settles would show here
        outputs = browser.execute_script("return window.__callbacks")
        pages = [o for o in outputs if "_pages_content.children" in o]
        others = [o for o in outputs if "_pages_content.children" not in o and '"type":"deferred"' not in o]
        assert len(pages) == 1 and others == [], f"{path}: {outputs}"
    assert bt.console_errors(browser) == []
