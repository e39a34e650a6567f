"""Browser tests over every page (Oversikt, Tjenester, Sammenlign, Kart, Metode og kilder) in headless Chromium
against the real database: for Oslo, Lørenskog and Utsira every page opens without console errors; the page
controls (indicator view, convention, peer links, map indicator, a click on the map, navigation) write the URL;
a shared URL restores the same view; back and forward walk through the views."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT = 60  # seconds; generous, because CI machines and shared 2-core boxes are slow
MUNICIPALITIES = [("0301", "Oslo"), ("3222", "Lørenskog"), ("1151", "Utsira")]


def _ctl(param: str) -> str:
    """CSS selector of the control that sets query parameter `param` (pattern id {"param": …, "type": "ctl"})."""
    return '[id="{&quot;param&quot;:&quot;%s&quot;,&quot;type&quot;:&quot;ctl&quot;}"]'.replace("&quot;", '\\"') % param


def _open(browser, bt, url: str) -> None:
    browser.get(url)
    bt.wait_css(browser, "#page-root, #error-page", WAIT)
    bt.wait_dash_idle(browser, WAIT)


def _state_key(browser, bt) -> str:
    return bt.wait_css(browser, "#state-key", WAIT).get_attribute("textContent")


def _rows(browser, grid: str) -> list[str]:
    """The pinned-left cells (municipality names) of an AG Grid's rows, top to bottom (pinned bottom rows excluded)."""
    rows = browser.find_elements("css selector", f"#{grid} .ag-pinned-left-cols-container .ag-row")
    rows = sorted(rows, key=lambda r: int(r.get_attribute("row-index") or 0))
    return [r.text for r in rows]


def _choose(browser, bt, css: str, label: str) -> None:
    """Open the dropdown matching `css` and click the option `label`."""
    bt.wait_css(browser, css, WAIT).click()
    bt.wait_until(browser, lambda d: any(o.text == label for o in d.find_elements("css selector", "[role=option]")),
                  timeout=WAIT, message=f"option {label!r} not shown")
    next(o for o in browser.find_elements("css selector", "[role=option]") if o.text == label).click()


def _page_ready(browser, bt, path: str) -> None:
    """Wait for the page's main content (grids filled, map drawn)."""
    if path == "/":
        bt.wait_css(browser, "#oversikt-profil .stat-value", WAIT)
    elif path == "/tjenester":
        bt.wait_css(browser, ".service-tab.active", WAIT)
    elif path == "/sammenlign":
        bt.wait_until(browser, lambda d: any(_rows(d, "sml-grid")), timeout=WAIT, message="side-by-side grid empty")
        bt.wait_css(browser, "#sml-konv-grid .ag-row", WAIT)
    elif path == "/kart":
        bt.wait_until(browser, lambda d: len(d.find_elements(
            "css selector", "#graph-kart .choroplethlayer .choroplethlocation")) >= 357, 60, "map not drawn")
    elif path == "/metode":
        bt.wait_css(browser, "#metode-indikatorer .ag-row", WAIT)
        bt.wait_css(browser, "#metode-tabeller .ag-row", WAIT)


# Per chart: the margins the server reserved, and the ones plotly.js ended up drawing with. They differ only when
# automargin found labels that did not fit, and then plotly drew the whole chart a second time.
_MARGINS_JS = """
return Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => {
  const m = gd._fullLayout.margin, s = gd._fullLayout._size, box = window.getComputedStyle(gd);
  return {id: gd.parentElement.id, reserved: [m.l, m.r, m.t, m.b], drawn: [s.l, s.r, s.t, s.b],
          size: [gd._fullLayout.width, gd._fullLayout.height], box: [parseFloat(box.width), parseFloat(box.height)],
          debounced: gd._redrawTimer !== undefined};
});
"""


def _charts_settled(browser, bt) -> list[dict]:
    bt.wait_until(browser, lambda d: not d.find_elements("css selector", ".loading, .dash-graph--pending")
                  and all(g.find_elements("css selector", ".main-svg") for g in d.find_elements("css selector", ".dash-graph")),
                  timeout=WAIT, message="charts not drawn")
    return browser.execute_script(_MARGINS_JS)


@pytest.mark.parametrize(("code", "name"), MUNICIPALITIES)
def test_pages001_every_page_opens_without_console_errors(dash_url, browser, bt, code, name):
    for path, extra in [("/", ""), ("/tjenester", "&tjeneste=FGK9"), ("/sammenlign", ""), ("/kart", ""), ("/metode", "")]:
        _open(browser, bt, f"{dash_url}{path}?kommune={code}{extra}")
        assert browser.find_elements("css selector", "#page-root"), f"{path} shows an error page for {code}"
        _page_ready(browser, bt, path)
        assert name in bt.wait_css(browser, ".brand-sub", WAIT).text, path
        if path == "/sammenlign":
            assert name in _rows(browser, "sml-grid")[0]  # the selected municipality is the first row
        if path == "/kart":
            assert "© Kartverket" in bt.wait_css(browser, ".map-credit", WAIT).text
        for caption in browser.find_elements("css selector", ".caption"):
            assert "Statistisk sentralbyrå" in caption.text or "SSB" in caption.text, path
        # every chart is drawn once: its labels, titles, legend and colour bar fit the margins the server reserved
        # (drivers.chartmargins), so plotly's automargin had nothing to push and no second drawing to make
        charts = _charts_settled(browser, bt)
        assert charts or path in ("/sammenlign", "/metode"), f"no chart on {path} for {code}"
        for chart in charts:
            assert chart["drawn"] == chart["reserved"], f"{chart['id']} on {path} for {code}: {chart}"
            # drawn at its box's size, and without plotly's debounced resize pass (assets/graph-resize.js)
            assert all(abs(a - b) <= 1 for a, b in zip(chart["size"], chart["box"], strict=True)), chart
            assert not chart["debounced"], f"{chart['id']} on {path} for {code} waited for a resize pass"
        assert bt.console_errors(browser) == [], f"console errors on {path} for {code}"


def test_pages002_sammenlign_controls_shared_url_and_history(dash_url, browser, browser_factory, bt):
    _open(browser, bt, f"{dash_url}/sammenlign?kommune=3222")
    _page_ready(browser, bt, "/sammenlign")
    first = _state_key(browser, bt)

    _choose(browser, bt, "#sml-visning", "Andel av netto driftsutgifter")
    bt.wait_until(browser, lambda d: "visning=andel" in _state_key(d, bt), timeout=WAIT, message="view did not change")
    _page_ready(browser, bt, "/sammenlign")
    headers = [h.text for h in browser.find_elements("css selector", "#sml-grid .ag-header-cell-text")]
    assert any("i prosent av samlede netto driftsutgifter" in h for h in headers)
    second = _state_key(browser, bt)

    bt.wait_css(browser, "#sml-konv-switch", WAIT).click()  # "Bytt til uvektet"
    bt.wait_until(browser, lambda d: "konv=unweighted" in _state_key(d, bt), timeout=WAIT, message="convention did not change")
    _page_ready(browser, bt, "/sammenlign")
    assert browser.find_element("css selector", "input[value='unweighted']").is_selected()
    third = _state_key(browser, bt)

    link = next(a for a in browser.find_elements("css selector", "#sml-peers a") if "Nærmeste naboer" in a.text)
    link.click()
    bt.wait_until(browser, lambda d: "peers=naboer" in _state_key(d, bt), timeout=WAIT, message="peer link did not work")
    bt.wait_css(browser, "#sml-naboer-grid .ag-row", WAIT)
    _page_ready(browser, bt, "/sammenlign")
    bt.wait_css(browser, "#sml-csv", WAIT).click()  # CSV export runs in the browser
    bt.wait_dash_idle(browser, WAIT)
    view = _state_key(browser, bt)
    rows = _rows(browser, "sml-grid")
    shared = browser.current_url
    assert bt.console_errors(browser) == []

    other = browser_factory()
    _open(other, bt, shared)
    _page_ready(other, bt, "/sammenlign")
    assert _state_key(other, bt) == view
    assert _rows(other, "sml-grid")[:3] == rows[:3]
    assert other.find_element("css selector", "input[value='unweighted']").is_selected()
    assert bt.console_errors(other) == []

    for expected in (third, second, first):
        browser.back()
        bt.wait_until(browser, lambda d, e=expected: _state_key(d, bt) == e, timeout=WAIT, message=f"back did not restore {expected}")
    browser.forward()
    bt.wait_until(browser, lambda d: _state_key(d, bt) == second, timeout=WAIT, message="forward did not restore the view")
    _page_ready(browser, bt, "/sammenlign")
    assert bt.console_errors(browser) == []


def test_pages003_kart_indicator_and_click_select(dash_url, browser, bt):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    _open(browser, bt, f"{dash_url}/kart?kommune=1151")
    _page_ready(browser, bt, "/kart")
    start = _state_key(browser, bt)

    bt.wait_css(browser, "#kart-indikator", WAIT).click()
    field = bt.wait_css(browser, ".dash-dropdown-search", WAIT)
    field.send_keys("Netto driftsutgifter grunnskole per innbygger (kr)")
    field.send_keys(Keys.ENTER)
    bt.wait_until(browser, lambda d: "indikator=ndu_fgk8b_per_innb" in _state_key(d, bt), timeout=WAIT, message="indicator not in URL")
    _page_ready(browser, bt, "/kart")
    assert "grunnskole" in bt.wait_css(browser, ".chart-title", WAIT).text.lower()
    with_indicator = _state_key(browser, bt)

    # click the largest coloured municipality on the map: it becomes the selected one
    def click_largest(d):
        try:
            paths = d.find_elements("css selector", "#graph-kart .choroplethlayer .trace:first-child .choroplethlocation")
            target = max(paths, key=lambda p: p.size["width"] * p.size["height"])
            d.execute_script("arguments[0].scrollIntoView({block: 'center'})", target)
            ActionChains(d).move_to_element(target).pause(0.3).click().perform()
            return True
        except (StaleElementReferenceException, ValueError):
            return False  # the map was still re-rendering; try again

    bt.wait_until(browser, click_largest, timeout=WAIT, message="could not click the map")
    bt.wait_until(browser, lambda d: "kommune=1151" not in _state_key(d, bt), timeout=WAIT, message="map click did not select")
    bt.wait_dash_idle(browser, WAIT)
    selected = _state_key(browser, bt)
    assert "indikator=ndu_fgk8b_per_innb" in selected  # the rest of the view is kept
    _page_ready(browser, bt, "/kart")
    assert "Utsira" not in bt.wait_css(browser, ".brand-sub", WAIT).text

    browser.back()
    bt.wait_until(browser, lambda d: _state_key(d, bt) == with_indicator, timeout=WAIT, message="back after the click failed")
    browser.back()
    bt.wait_until(browser, lambda d: _state_key(d, bt) == start, timeout=WAIT, message="back to the first view failed")
    _page_ready(browser, bt, "/kart")
    assert bt.console_errors(browser) == []


def test_pages004_navigation_keeps_the_view_and_history(dash_url, browser, bt):
    _open(browser, bt, f"{dash_url}/?kommune=1151&peers=fylke&konv=unweighted")
    visited = [_state_key(browser, bt)]
    for path in ("/sammenlign", "/kart", "/metode", "/tjenester"):
        link = next(a for a in browser.find_elements("css selector", "#nav a")
                    if a.get_attribute("href").split("?")[0].endswith(path))
        link.click()
        bt.wait_until(browser, lambda d, p=path: _state_key(d, bt).startswith(p + "?"), timeout=WAIT, message=f"nav to {path}")
        _page_ready(browser, bt, path)
        key = _state_key(browser, bt)
        assert "kommune=1151" in key and "peers=fylke" in key and "konv=unweighted" in key, key
        visited.append(key)
        assert bt.console_errors(browser) == [], path
    for expected in reversed(visited[:-1]):
        browser.back()
        bt.wait_until(browser, lambda d, e=expected: _state_key(d, bt) == e, timeout=WAIT, message=f"back to {expected}")
    bt.wait_dash_idle(browser, WAIT)
    assert bt.console_errors(browser) == []


@pytest.mark.parametrize("url", ["/kart?kommune=3222&indikator=ukjent", "/sammenlign?kommune=3222&visning=alt",
                                 "/metode?kommune=9999", "/sammenlign?kommune=1151&aar=1901"])
def test_pages005_bad_urls_show_a_friendly_page(dash_url, browser, bt, url):
    _open(browser, bt, dash_url + url)
    page = bt.wait_css(browser, "#error-page", WAIT)
    assert page.find_elements("css selector", "a"), "the error page offers no links"
    assert "Traceback" not in browser.page_source
    assert bt.console_errors(browser) == []


def test_pages006_kart_boundaries_prefetched_while_idle(dash_url, browser, bt):
    """After the first page the browser fetches the map's boundaries while idle, into plotly's cache: the first
    visit to Kart draws all 357 municipalities without downloading them again."""
    _open(browser, bt, f"{dash_url}/?kommune=3222")
    _page_ready(browser, bt, "/")
    url = browser.find_element("css selector", "#prefetch").get_attribute("data-geojson").split()[0]
    bt.wait_until(browser, lambda d: d.execute_script(
        "const a = window.PlotlyGeoAssets || {}; const g = a[arguments[0]];"
        " return !!g && typeof g === 'object' && (g.features || []).length === 357", url),
        timeout=WAIT, message="boundaries not prefetched")
    # Oversikt has neither a table nor a map: both were drawn once out of sight, then removed
    bt.wait_until(browser, lambda d: _warmed(d) == {"grid", "map"}, timeout=WAIT, message="table and map not warmed")
    assert not browser.find_elements("css selector", "#warmup-grid, #warmup .js-plotly-plot")
    link = next(a for a in browser.find_elements("css selector", "#nav a") if "/kart" in a.get_attribute("href"))
    link.click()
    _page_ready(browser, bt, "/kart")
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').filter(e => e.name.endsWith(arguments[0])).length", url)
    assert fetched == 1, f"{url} downloaded {fetched} times (once by the prefetch, never by the map)"
    assert bt.console_errors(browser) == []


def test_pages007_charts_follow_a_resized_window(dash_url, browser, bt):
    """A chart's first drawing skips plotly's debounced resize when it already fills its box
    (assets/graph-resize.js); a later change of the window is still followed by every chart."""
    _open(browser, bt, f"{dash_url}/?kommune=3222")
    _page_ready(browser, bt, "/")
    before = _charts_settled(browser, bt)
    assert len(before) >= 3 and not any(c["debounced"] for c in before), before
    browser.set_window_size(1100, 1000)

    def followed(d):
        now = d.execute_script(_MARGINS_JS)
        return (all(abs(c["size"][0] - c["box"][0]) <= 1 for c in now)
                and all(abs(c["box"][0] - b["box"][0]) > 10 for c, b in zip(now, before, strict=True)))
    # the waterfall narrows with the window; the health charts widen as their grid goes from three to two columns
    bt.wait_until(browser, followed, timeout=WAIT, message="charts kept their old width after the window changed")
    assert bt.console_errors(browser) == []


def _warmed(browser) -> set[str]:
    return set((browser.find_element("css selector", "#warmup").get_attribute("data-warmed") or "").split())


_SCRIPTS_JS = "return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('.js'))"


def test_pages008_component_code_loaded_while_idle(dash_url, browser, bt):
    """Landing on a page without charts or tables, the code other pages need (AG Grid, Markdown, dcc.Graph,
    plotly.js) is loaded while the browser is idle; the pages then load no script of their own."""
    _open(browser, bt, f"{dash_url}/kart?kommune=1151")
    _page_ready(browser, bt, "/kart")
    scripts = browser.find_element("css selector", "#prefetch").get_attribute("data-scripts").split()
    assert any("async-community" in s for s in scripts)
    bt.wait_until(browser, lambda d: all(any(n.endswith(s) for n in d.execute_script(_SCRIPTS_JS)) for s in scripts),
                  timeout=WAIT, message="component code not prefetched")
    # a small table was drawn out of sight and removed (the map's code needed no warming: Kart drew it)
    bt.wait_until(browser, lambda d: _warmed(d) == {"grid"}, timeout=WAIT, message="table code not warmed")
    assert not browser.find_elements("css selector", "#warmup-grid, #warmup .js-plotly-plot")
    before = set(browser.execute_script(_SCRIPTS_JS))
    for path in ["/metode", "/sammenlign"]:
        link = next(a for a in browser.find_elements("css selector", "#nav a") if path in a.get_attribute("href"))
        link.click()
        _page_ready(browser, bt, path)
    assert set(browser.execute_script(_SCRIPTS_JS)) == before, "a page loaded component code the prefetch had not"
    assert bt.console_errors(browser) == []


def test_pages009_plotly_loaded_while_idle_on_a_page_without_charts(dash_url, browser, bt):
    """Metode has no chart, so plotly.js is not loaded by the page: it is loaded while idle, once."""
    _open(browser, bt, f"{dash_url}/metode?kommune=3222")
    _page_ready(browser, bt, "/metode")
    bt.wait_until(browser, lambda d: d.execute_script("return !!window.Plotly"), timeout=WAIT,
                  message="plotly.js not prefetched")
    # the map was drawn once out of sight and removed (Metode's own tables needed no warm-up table)
    bt.wait_until(browser, lambda d: _warmed(d) == {"map"}, timeout=WAIT, message="map code not warmed")
    assert not browser.find_elements("css selector", "#warmup-grid, #warmup .js-plotly-plot")
    link = next(a for a in browser.find_elements("css selector", "#nav a") if "/tjenester" in a.get_attribute("href"))
    link.click()
    _page_ready(browser, bt, "/tjenester")
    _charts_settled(browser, bt)
    plotly = [n for n in browser.execute_script(_SCRIPTS_JS) if n.endswith("plotly.min.js")]
    assert len(plotly) == 1, plotly
    assert bt.console_errors(browser) == []


def test_pages010_dropdowns_speak_the_page_language(dash_url, browser, bt):
    """The dropdowns' own texts (count of chosen items, no match) follow the page's language, also in the
    control bar that stays mounted while the language changes."""
    _open(browser, bt, f"{dash_url}/sammenlign?kommune=1151")
    _page_ready(browser, bt, "/sammenlign")
    members = bt.wait_css(browser, "#sml-set-members", WAIT)
    assert "7 valgt" in members.text, members.text  # Utsira's KOSTRA group, preselected
    bt.wait_css(browser, ".ctl-kommune", WAIT).click()
    search = bt.wait_css(browser, ".ctl-kommune input, [role=listbox] input, input[type=search]", WAIT)
    search.send_keys("xqzxqz")
    bt.wait_until(browser, lambda d: "Ingen treff" in d.find_element("css selector", "body").text,
                  timeout=WAIT, message="no Norwegian 'no match' text")
    browser.find_element("css selector", "body").send_keys("\ue00c")  # Escape closes the list
    next(e for e in browser.find_elements("css selector", ".lang label") if e.text == "English").click()
    bt.wait_until(browser, lambda d: "lang=en" in _state_key(d, bt), timeout=WAIT, message="language not switched")
    bt.wait_until(browser, lambda d: "7 selected" in d.find_element("css selector", "#sml-set-members").text,
                  timeout=WAIT, message="member count not in English")
    bt.wait_css(browser, ".ctl-kommune", WAIT).click()
    search = bt.wait_css(browser, ".ctl-kommune input, [role=listbox] input, input[type=search]", WAIT)
    search.send_keys("xqzxqz")
    bt.wait_until(browser, lambda d: "No options found" in d.find_element("css selector", "body").text,
                  timeout=WAIT, message="no English 'no match' text in the control bar")
    assert bt.console_errors(browser) == []
