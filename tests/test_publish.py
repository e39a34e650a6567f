"""`drivers publish`: the analysis as a static website, on the real database (fetched db, else the snapshot built
from ../shared). Bærum (3201) is published once per module; the site is checked as files (pages, links, CSVs,
headings, text alternatives, escaping, what was left out) and, marked browser, opened from disk (file://) in
headless Chromium: every chart drawn, no console error, tables sort on click, the keyboard reaches the links.
Oslo (0301, alone in its KOSTRA group) and Utsira (1151, many figures suppressed) publish without error."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import plotly
import pytest
from export_data import service_chart
from ui_pages_data import database

from drivers.cli import main
from drivers.config import Settings
from drivers.export import tables
from drivers.export.theme import Theme
from drivers.products import site

# left out of `make test-fast` (the edit-test loop): each case publishes a real site (10-35 s)
pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def db() -> Path:
    from drivers.report import data

    path = database()
    data.configure(dataclasses.replace(Settings.from_env(), db_path=path))
    return path


@pytest.fixture(scope="module")
def state(db):
    from drivers.report import state as st

    return st.parse({"kommune": "3201"})


@pytest.fixture(scope="module")
def published(state, tmp_path_factory):
    out = tmp_path_factory.mktemp("pub") / "site"
    calls = []
    result = site.publish(state, out, progress=lambda done, total: calls.append((done, total)))
    return out, result, calls


class _Doc(HTMLParser):
    """The parts of a page the tests read: headings in order, elements with their attributes, texts by id."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.headings: list[tuple[int, str]] = []
        self.elements: list[tuple[str, dict]] = []
        self._in_heading: int | None = None
        self._text: list[str] = []
        self.ids: dict[str, str] = {}
        self._id_stack: list[tuple[str, str, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elements.append((tag, a))
        if re.fullmatch(r"h[1-6]", tag):
            self._in_heading, self._text = int(tag[1]), []
        if "id" in a:
            self._id_stack.append((tag, a["id"], []))

    def handle_endtag(self, tag):
        if self._in_heading and tag == f"h{self._in_heading}":
            self.headings.append((self._in_heading, "".join(self._text).strip()))
            self._in_heading = None
        if self._id_stack and self._id_stack[-1][0] == tag:
            _, ident, parts = self._id_stack.pop()
            self.ids[ident] = "".join(parts)

    def handle_data(self, text):
        if self._in_heading:
            self._text.append(text)
        for _, _, parts in self._id_stack:
            parts.append(text)


def _parse(path: Path) -> _Doc:
    doc = _Doc()
    doc.feed(path.read_text("utf-8"))
    return doc


def _pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


# ---- the files ----------------------------------------------------------------------------------------------


def test_site_is_levelled_in_both_languages_with_plotly_shipped(published):
    out, result, calls = published
    assert (out / "index.html").is_file() and (out / "en" / "index.html").is_file()
    assert result.languages == ("nb", "en")
    for lang_dir in (out, out / "en"):
        services = sorted(p.name for p in lang_dir.glob("tjeneste-*.html"))
        assert len(services) >= 5 and (lang_dir / "kart.html").is_file()
        assert len(list(lang_dir.glob("figur-*.html"))) >= result.count - 1
    shipped = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert (out / "assets" / "plotly.min.js").read_bytes() == shipped.read_bytes()
    assert (out / "assets" / "geo.js").read_text("utf-8").startswith("/*")
    manifest = json.loads((out / site.MARKER).read_text("utf-8"))
    assert manifest["region"] == "3201" and set(manifest["pages"]) == {str(p.relative_to(out)) for p in _pages(out)}
    assert calls and calls[-1][0] == calls[-1][1]  # progress ran to the end
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".site.")]  # no temporary folder left


def test_every_link_and_script_is_local_and_resolves(published):
    out, _, _ = published
    for page in _pages(out):
        doc = _parse(page)
        for tag, a in doc.elements:
            ref = a.get("href") if tag in ("a", "link") else a.get("src") if tag in ("script", "img") else None
            if ref is None or ref.startswith(("#", "data:")):
                continue
            assert not re.match(r"^[a-z]+:", ref), f"{page.name}: {ref} is not local (the site must work offline)"
            target = (page.parent / ref.split("#")[0]).resolve()
            assert target.exists(), f"{page.relative_to(out)} links to a missing {ref}"
            fragment = ref.partition("#")[2]
            if fragment and target.suffix == ".html":
                assert f'id="{fragment}"' in target.read_text("utf-8"), f"{ref}: no element #{fragment}"


def test_headings_are_in_order_and_each_page_has_one_h1(published):
    out, _, _ = published
    for page in _pages(out):
        levels = [lvl for lvl, _ in _parse(page).headings]
        assert levels and levels[0] == 1 and levels.count(1) == 1, page.name
        for before, after in zip(levels, levels[1:], strict=False):
            assert after <= before + 1, f"{page.relative_to(out)}: h{before} followed by h{after}"


def test_every_chart_has_a_text_alternative_a_source_line_and_its_csv(published):
    out, _, _ = published
    n = 0
    for page in _pages(out):
        doc = _parse(page)
        text = page.read_text("utf-8")
        for tag, a in doc.elements:
            if tag == "div" and "data-fig" in a:
                n += 1
                slug = a["id"][2:]
                assert a.get("role") == "img" and len(a.get("aria-label", "")) > 20, (page.name, slug)
                assert doc.ids.get(a["aria-describedby"], "").strip(), (page.name, slug)
                spec = json.loads(doc.ids[a["data-fig"]])
                assert spec["data"], f"{slug}: a chart without traces is a placeholder"
                assert (page.parent / "data" / f"{slug}.csv").is_file()
                assert f'href="data/{slug}.csv"' in text
        sources = [a for tag, a in doc.elements if tag == "p" and a.get("class") == "source"]
        assert len(sources) == text.count('data-fig="'), page.name
    assert n > 40


def test_source_lines_name_ssb_in_the_pages_language(published):
    out, _, _ = published
    assert "Kilde: Statistisk sentralbyrå (SSB)" in (out / "tjeneste-FGK7.html").read_text("utf-8")
    en = (out / "en" / "tjeneste-FGK7.html").read_text("utf-8")
    assert "Source: Statistics Norway (SSB)" in en and 'lang="en"' in en
    assert 'href="../tjeneste-FGK7.html"' in en and 'href="en/tjeneste-FGK7.html"' in (
        out / "tjeneste-FGK7.html").read_text("utf-8")  # the language switch goes to the same page


def test_csv_is_norwegian_excel_and_holds_the_charts_numbers(published, state):
    from drivers.report import story

    out, _, _ = published
    raw = (out / "data" / "story-3-tjenester.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b";" in raw.splitlines()[0]
    chart = next(c for c in story.all_charts(state) if c.id == "story-3-tjenester")
    assert raw == tables.to_csv(chart)
    back = tables.read_csv(raw)
    assert list(back.columns) == list(chart.data.columns)
    pd.testing.assert_series_equal(back.iloc[:, 1], chart.data.iloc[:, 1].reset_index(drop=True), check_names=False,
                                   check_dtype=False)
    assert re.search(rb"\d,\d", raw)  # decimal comma


def test_the_services_table_shows_the_engines_gaps(published, state):
    from drivers.report import data

    out, _, _ = published
    doc = _parse(out / "index.html")
    table = doc.ids["t-tjenester"]
    g = data.api().gaps(data.get_panel(), "3201", state.aar, "kostragruppe", "weighted")
    row = g[g["service"] == "FGK7"].iloc[0]
    from drivers import fmt

    assert fmt.number(row["gap_nok"] / 1e6, 1) in table
    assert 'href="tjeneste-FGK7.html"' in (out / "index.html").read_text("utf-8")


def test_the_goals_page_shows_every_goal_with_its_status(published, state):
    from drivers.report import goals

    out, _, _ = published
    view = goals.view(state)
    if not view.goals:
        pytest.skip("no indikatorsett")
    page = (out / "maal.html").read_text("utf-8")
    headings = [h for lvl, h in _parse(out / "maal.html").headings if lvl == 2]
    assert headings == [g.text for g in view.goals]
    for g in view.goals:
        assert site.esc(g.summary) in page
        for r in g.rows:
            assert site.esc(r.status_text) in page and site.esc(r.rule) in page
    raw = (out / "data" / "maal.csv").read_bytes()
    assert raw == tables.to_csv(type("T", (), {"data": goals.status_frame(state)})())
    assert 'href="maal.html"' in (out / "index.html").read_text("utf-8")


def test_missing_inputs_are_named_once_and_never_drawn(published):
    out, result, _ = published
    assert result.left_out, "Bærum 2024 has no what-if answer in the data: something is left out"
    titles = [x.title for x in result.left_out]
    assert len(titles) == len(set(titles))
    index = (out / "index.html").read_text("utf-8")
    section = index[index.index('id="utelatt"'):]
    section = section[:section.index("</section>")]
    for item in result.left_out:
        shown = site.esc(item.title)
        assert section.count(f"<strong>{shown}</strong>") == 1
        if item.command:
            assert site.esc(item.command) in section
        for page in _pages(out):  # nowhere drawn as a figure
            assert item.title not in [h for _, h in _parse(page).headings], (page.name, item.title)
    manifest = json.loads((out / site.MARKER).read_text("utf-8"))
    assert [x["title"] for x in manifest["left_out"]] == titles


# ---- escaping, contrast, the theme --------------------------------------------------------------------------


def test_every_text_from_data_is_escaped(state):
    from drivers.report import data

    chart = service_chart("3201", 2024, chart_id='x"><script>alert(1)</script>')
    chart.title = 'Ås & «Bø» <script>alert("t")</script>'
    chart.caption = 'Kilde: <b>SSB</b> "quoted"'
    chart.notes = ["<img src=x onerror=alert(1)>"]
    chart.data.iloc[0, 0] = "<i>Tjeneste</i> & co"
    chart.figure.update_layout(meta={"title": "</script><script>alert(2)</script>"})
    ctx = site._Lang(state, "nb", ("nb", "en"), Theme(), None)
    ctx.name = "<Kommune & co>"
    f = site.Figure(chart, 'alt "<x>"', "sum <y>", "index.html", title="<h1>T</h1>", notes="<p>n</p>", key="<k>")
    block = site._figure(ctx, f, Theme())
    page = site._page(ctx, "index.html", "<title>", block, [("<a>", None)])
    assert "<script>alert" not in page and "<img src=x" not in page and "<i>Tjeneste" not in page
    assert "&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;" in page and "&lt;Kommune &amp; co&gt;" in page
    spec = re.search(r'<script type="application/json" id="f-[^"]*">(.*?)</script>', page, re.S).group(1)
    assert "<" not in spec and json.loads(spec)["layout"]["meta"]["title"].startswith("</script>")
    assert data.meta().name("3201") == "Bærum"


def test_theme_colours_keep_text_readable():
    css = site.theme_css(Theme())
    values = dict(re.findall(r"--([a-z-]+): (#[0-9A-Fa-f]{6});", css))
    for fg, bg in (("text", "bg"), ("muted", "bg"), ("link", "bg"), ("head-fg", "head-bg")):
        assert site._contrast(values[fg], values[bg]) >= 4.5, (fg, bg)
    pale = Theme(colors={**Theme().colors, "primary": "#FFE45C", "muted": "#C0C4C8"})
    values = dict(re.findall(r"--([a-z-]+): (#[0-9A-Fa-f]{6});", site.theme_css(pale)))
    assert values["link"] == values["text"] and values["muted"] == values["text"]
    assert site._contrast(values["head-fg"], values["head-bg"]) >= 4.5


def test_the_themes_logo_and_colours_are_used(tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 16)
    look = Theme(name="Testkommune", colors={**Theme().colors, "highlight": "#AA0000"}, logo=logo, font="Georgia, serif")
    (tmp_path / "assets").mkdir()
    assert site._logo(look, tmp_path / "assets") == "assets/logo.png"
    assert "--font: Georgia, serif;" in site.theme_css(look) and "--accent: #AA0000;" in site.theme_css(look)
    chart = service_chart("3201", 2024)
    chart.figure.data[0].marker.color = "#D55E00"
    assert "#AA0000" in json.dumps(site._figure_dict(chart.figure, look))


# ---- the output folder and the command ----------------------------------------------------------------------


def test_out_is_checked_before_any_work(tmp_path, capsys, monkeypatch):
    from drivers.commands import publish

    def no_data(*_a, **_k):
        raise AssertionError("the data was loaded before --out was checked")

    monkeypatch.setattr(publish, "_load_state", no_data)
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "mine.txt").write_text("keep me")
    for out, words in ((a_file, "er en fil"), (busy, "er ikke et nettsted"), (tmp_path / "no" / "site", "finnes ikke")):
        started = time.perf_counter()
        assert main(["publish", "--region", "3201", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and words in err and err.startswith("drivers: ")
        assert time.perf_counter() - started < 2
    assert (busy / "mine.txt").read_text() == "keep me" and sorted(p.name for p in busy.iterdir()) == ["mine.txt"]


def test_bad_region_is_one_clear_line(db, tmp_path, capsys):
    assert main(["publish", "--region", "9999", "--out", str(tmp_path / "s"), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "9999" in err and "Traceback" not in err
    assert not (tmp_path / "s").exists()


def test_a_failure_leaves_the_earlier_site_and_no_temporary_folder(published, state, tmp_path, monkeypatch):
    out = tmp_path / "site"
    out.mkdir()
    (out / site.MARKER).write_text("{}")
    (out / "index.html").write_text("earlier")

    def broken(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(site, "_index", broken)
    with pytest.raises(RuntimeError):
        site.publish(state, out, languages=("nb",))
    assert (out / "index.html").read_text() == "earlier"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_an_earlier_site_is_replaced_whole(tmp_path):
    out = tmp_path / "site"
    out.mkdir()
    (out / site.MARKER).write_text("{}")
    (out / "stale.html").write_text("old")
    assert site.check_out(out) == out
    new = tmp_path / ".site.tmp-x"
    new.mkdir()
    (new / "index.html").write_text("new")
    site._swap_into_place(new, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]


@pytest.mark.slow
@pytest.mark.parametrize("region", ["0301", "1151"])
def test_oslo_and_utsira_publish(db, region, tmp_path, capsys):
    out = tmp_path / "site"
    assert main(["publish", "--region", region, "--out", str(out), "--db", str(db)]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"drivers: wrote {out}/") and (out / "index.html").is_file()
    index = (out / "index.html").read_text("utf-8")
    if region == "0301":  # alone in KOSTRA-gruppe 13: compared with Landet instead, and the page says so
        assert 'class="note"' in index and "Landet" in index
    for page in _pages(out):
        for tag, a in _parse(page).elements:
            if tag == "div" and "data-fig" in a:
                assert (page.parent / "data" / f"{a['id'][2:]}.csv").is_file()


# ---- in a browser, from disk --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            pytest.skip(f"{path} not found: install Debian's chromium and chromium-driver")
    selenium = pytest.importorskip("selenium")
    del selenium
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--no-first-run", "--disable-extensions", "--window-size=1400,1000",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _open_drawn(browser, page: Path, timeout: float = 60) -> int:
    """Open `page` from disk and wait until every chart div holds plotly's .main-svg; the number of charts."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(page.as_uri())
    count = browser.execute_script("return document.querySelectorAll('.chart[data-fig]').length")
    WebDriverWait(browser, timeout).until(lambda d: d.execute_script(
        "return Array.from(document.querySelectorAll('.chart[data-fig]'))"
        ".every(e => e.querySelector('.main-svg') !== null)"), f"{page.name}: not every chart was drawn")
    return count


def _errors(browser) -> list[dict]:
    return [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]


@pytest.mark.browser
def test_the_site_opens_from_disk_with_every_chart_drawn(published, browser):
    out, _, _ = published
    browser.get_log("browser")
    pages = [out / "index.html", *sorted(out.glob("tjeneste-*.html")), out / "kart.html", *out.glob("maal.html"),
             out / "en" / "index.html", out / "en" / "kart.html", next(out.glob("figur-*.html"))]
    drawn = 0
    for page in pages:
        drawn += _open_drawn(browser, page)
        assert _errors(browser) == [], page.name
    assert drawn >= 20
    # the map's municipalities are drawn (357 paths, boundaries from assets/geo.js, nothing fetched)
    _open_drawn(browser, out / "kart.html")
    assert browser.execute_script("return document.querySelectorAll('.choroplethlocation').length") > 300


@pytest.mark.browser
def test_tables_sort_on_click(published, browser):
    out, _, _ = published
    _open_drawn(browser, out / "index.html")
    table = browser.find_element("css selector", "#t-tjenester")

    def column(i):
        return [c.get_attribute("data-sort") for c in table.find_elements("css selector", f"tbody tr > :nth-child({i})")]

    def numbers(keys):
        return [float(k) for k in keys if k != ""]

    gap_button = table.find_elements("css selector", "thead button.sort")[3]
    gap_button.click()
    up = numbers(column(4))
    assert up == sorted(up) and len(up) >= 5
    assert table.find_elements("css selector", "thead th")[3].get_attribute("aria-sort") == "ascending"
    gap_button.click()
    assert numbers(column(4)) == sorted(up, reverse=True)
    name_button = table.find_elements("css selector", "thead button.sort")[0]
    name_button.click()
    names = column(1)
    assert names == sorted(names)
    assert _errors(browser) == []


@pytest.mark.browser
def test_the_keyboard_reaches_the_links(published, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    out, _, _ = published
    _open_drawn(browser, out / "tjeneste-FGK7.html")  # a fresh page: the focus starts at the document's top
    reached = []
    for _ in range(60):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        reached.append(browser.execute_script(
            "var e = document.activeElement; return [e.tagName, e.getAttribute('href') || e.textContent.trim()];"))
    hrefs = [h for tag, h in reached if tag == "A"]
    assert hrefs[0] == "#main"  # the skip link comes first
    assert "en/tjeneste-FGK7.html" in hrefs and "index.html" in hrefs
    assert any(h.startswith("data/") and h.endswith(".csv") for h in hrefs)
    assert any(h.startswith("figur-") for h in hrefs)
    assert any(tag == "SUMMARY" for tag, _ in reached)  # «Vis tallene» opens by keyboard too
    # the skip link moves the focus to the content
    _open_drawn(browser, out / "tjeneste-FGK7.html")
    ActionChains(browser).send_keys(Keys.TAB).send_keys(Keys.ENTER).perform()
    assert browser.execute_script("return document.activeElement.id") == "main"
