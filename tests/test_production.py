"""Production serving (issue 13 item 5): `drivers serve --production` is real waitress on a free loopback port, in a
subprocess. Its pages and callback responses carry the security headers (a CSP whose script hashes cover exactly
the page's inline scripts, nosniff, frame-ancestors and X-Frame-Options, Referrer-Policy), the page and headers
name no version (Dash, plotly, Python, waitress), fingerprinted files are still cached for a year, every request
gets one access-log line (secret-looking query values masked), and the pages render in headless Chromium with no
CSP violation. `waitress-serve app:server` (the README's command) gets the same headers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
import uuid
from importlib import metadata
from pathlib import Path

import dash
import plotly
import pytest
import servers

from drivers.config import Settings
from drivers.ui.serving import headers

CHROMIUM = os.environ.get("DRIVERS_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("DRIVERS_CHROMEDRIVER", "/usr/bin/chromedriver")
VERSIONS = [dash.__version__, plotly.__version__, sys.version.split()[0], metadata.version("waitress")]
ACCESS_LINE = re.compile(r"^(\S+Z) (GET|POST) (\S+) (\d{3}) ([\d.]+) ms$")


# ---- the functions, without a server -------------------------------------------------------------------------
def test_inline_script_hashes_skip_sources_data_and_comments():
    html = ('<!--[if IE]><script>alert("old")</script><![endif]-->'
            '<script id="_dash-config" type="application/json">{"a":1}</script>'
            '<script src="/x.js"></script><script>var a = 1;</script><script>var a = 1;</script>')
    assert headers.inline_script_hashes(html) == ["sha256-+dZ6udsWxNVoGfScAq7t5IIF5UJb4F6RhjbN6oe1p4w="]


def test_strip_versions_keeps_the_page_working():
    html = ('<link rel="icon" href="/_favicon.ico?v=4.4.1">'
            '<script id="_dash-config" type="application/json">{"url_base_pathname":null,"requests_pathname_prefix":'
            '"\\u002f","dash_version":"4.4.1","python_version":"3.11.7 (main)","plotly_version":"7.1.0",'
            '"dash_version_url":"https:\\u002f\\u002fdash-version.plotly.com:8080\\u002fcurrent_version","ddk_version":null,'
            '"end_id":"a~b"}</script>'
            '<script src="/_dash-component-suites/dash/deps/polyfill@7.v4_4_1m1796297645.12.1.min.js"></script>')
    out = headers.strip_versions(html)
    for needle in ("4.4.1", "4_4_1", "3.11.7", "7.1.0", "dash_version", "plotly.com"):
        assert needle not in out
    cfg = json.loads(re.search(r'application/json">(.*?)</script>', out).group(1))
    assert cfg == {"url_base_pathname": None, "requests_pathname_prefix": "/", "end_id": "a~b"}
    src = re.search(r'src="([^"]+)"', out).group(1)
    # still a fingerprint Dash strips when serving (and caches for a year)
    from dash.fingerprint import check_fingerprint

    assert check_fingerprint(src.split("/dash/", 1)[1]) == ("deps/polyfill@7.12.1.min.js", True)
    assert headers.strip_versions(html) == out  # the same token every time: stable URLs across instances


def test_access_log_masks_secrets_and_escapes():
    assert headers.loggable_path("/", "kommune=0301&token=abc&api_key=x") == "/?kommune=0301&token=***&api_key=***"
    assert "\n" not in headers.loggable_path("/a\nb", "x=\x1b[31m")
    assert len(headers.loggable_path("/" + "a" * 2000, "")) == 500


def test_production_sizing():
    """Sized so that 100 browsers (6 kept-alive connections each) never meet waitress's default limit of 100."""
    from drivers.cli import build_parser
    from drivers.commands import serve

    parse = build_parser().parse_args
    plain = serve.waitress_options(parse(["serve"]))
    assert plain["threads"] == 8 and "connection_limit" not in plain and plain["ident"] == "drivers"
    prod = serve.waitress_options(parse(["serve", "--production", "--workers", "2"]))
    assert prod["connection_limit"] >= 600 and prod["asyncore_use_poll"] and not prod["expose_tracebacks"]
    assert prod["threads"] == max(2, serve.THREADS_PER_CORE * (os.cpu_count() or 1) // 2)
    args = parse(["serve", "--production", "--port", "9", "--db", "x.duckdb", "--no-access-log"])
    again = parse(serve.worker_argv(args, 3))
    assert (again.port, again.db, again.no_access_log, again.workers, again.production) == (9, Path("x.duckdb"), True, 3, True)


# ---- a real server ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def db() -> Path:
    path = Settings.from_env().database_for_reading()
    if not path.exists():
        pytest.skip(f"no database at {path}")
    return path


@pytest.fixture(scope="module")
def prod(db, tmp_path_factory):
    """(port, access log path) of `drivers serve --production` on the project's database (one server process
    per core, as in production: on a machine with several cores the port is shared by several processes)."""
    port = servers.free_port()
    log = tmp_path_factory.mktemp("prod") / "serve.log"
    proc = servers.start(servers.serve_command(port, "--production", "--db", str(db)), port, log)
    yield port, log
    servers.stop(proc)


ROUTING = {"output": ".._pages_content.children..._pages_store.data..",
           "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
           "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/sammenlign"},
                      {"id": "_pages_location", "property": "search", "value": "?kommune=3222"}],
           "changedPropIds": ["_pages_location.pathname", "_pages_location.search"], "state": []}


def _assert_security_headers(hdrs: dict) -> str:
    policy = hdrs.get("content-security-policy", "")
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "'unsafe-eval'" not in policy and "'unsafe-inline'" not in directives["script-src"]
    assert hdrs["x-content-type-options"] == "nosniff"
    assert hdrs["x-frame-options"] == "DENY"
    assert hdrs["referrer-policy"] == "same-origin"
    assert hdrs["server"] == "drivers" and "via" not in hdrs
    return directives["script-src"]


def _assert_no_versions(text: str) -> None:
    for version in filter(None, VERSIONS):
        assert version not in text, version
        assert version.replace(".", "_") not in text, version
    for key in headers.VERSION_KEYS:
        assert key not in text


@pytest.mark.slow
def test_page_has_security_headers_and_no_versions(prod):
    port, _ = prod
    status, hdrs, body = servers.request(port, "GET", "/?kommune=3222")
    assert status == 200
    html = body.decode()
    script_src = _assert_security_headers(hdrs)
    inline = headers.inline_script_hashes(html)
    assert inline, "Dash's index page has inline scripts (clientside callbacks, the renderer)"
    assert script_src.split() == ["'self'", *(f"'{h}'" for h in inline)]  # exactly those, nothing else
    _assert_no_versions(html + json.dumps(hdrs))
    # fingerprinted files: still served, still cached for a year
    src = next(s for s in re.findall(r'src="([^"]+)"', html) if "dash_renderer" in s)
    status, hdrs, _ = servers.request(port, "GET", src)
    assert status == 200 and "max-age=31536000" in hdrs["cache-control"]
    assert hdrs["x-content-type-options"] == "nosniff"


@pytest.mark.slow
def test_callback_response_has_security_headers(prod):
    port, _ = prod
    status, hdrs, body = servers.request(port, "POST", "/_dash-update-component", ROUTING)
    assert status == 200 and hdrs["content-type"].startswith("application/json")
    _assert_security_headers(hdrs)
    _assert_no_versions(json.dumps(hdrs))
    status, hdrs, body = servers.request(port, "GET", "/_dash-dependencies")
    assert status == 200
    _assert_no_versions(body.decode() + json.dumps(hdrs))


@pytest.mark.slow
def test_one_access_log_line_per_request(prod):
    port, log = prod
    marker = uuid.uuid4().hex
    sent = [("GET", f"/?kommune=0301&m={marker}&token=hemmelig"), ("GET", f"/finnes-ikke?m={marker}"),
            ("GET", f"/assets/drivers.css?m={marker}"), ("GET", f"/_dash-layout?m={marker}"),
            ("POST", f"/_dash-update-component?m={marker}")]
    for method, path in sent:
        servers.request(port, method, path, ROUTING if method == "POST" else None)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [m for m in map(ACCESS_LINE.match, log.read_text().splitlines()) if m and marker in m.group(3)]
        if len(lines) >= len(sent):
            break
        time.sleep(0.2)
    # one line each (in the order the responses were sent, which with several server processes need not be the
    # order they were asked for)
    assert sorted((m.group(2), m.group(3).split("?")[0]) for m in lines) == sorted((mt, p.split("?")[0]) for mt, p in sent)
    assert any("token=***" in m.group(3) for m in lines) and "hemmelig" not in log.read_text()
    assert all(m.group(4) == "200" for m in lines)  # the unknown page is the app's own 404 page, with 200
    assert all(float(m.group(5)) >= 0 for m in lines)
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", m.group(1)) for m in lines)


@pytest.mark.slow
def test_waitress_serve_app_server_gets_the_headers(db, tmp_path):
    """The README's WSGI command, on app.py's `server`."""
    exe = shutil.which("waitress-serve", path=str(Path(sys.executable).parent)) or shutil.which("waitress-serve")
    if exe is None:
        pytest.skip("waitress-serve not installed")
    port = servers.free_port()
    proc = servers.start([exe, f"--listen=127.0.0.1:{port}", "--ident=drivers", "app:server"], port, tmp_path / "w.log")
    try:
        status, hdrs, body = servers.request(port, "GET", "/kart?kommune=1151")
        assert status == 200
        _assert_security_headers(hdrs)
        _assert_no_versions(body.decode() + json.dumps(hdrs))
    finally:
        servers.stop(proc)


# ---- headless Chromium -------------------------------------------------------------------------------------------
_LISTEN = ("window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push("
           "e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber));")
_READY = {
    "/?kommune=3222": "return document.querySelectorAll('#page-root .main-svg').length > 0",
    "/sammenlign?kommune=3222": "return document.querySelectorAll('#sml-grid .ag-row').length > 0",
    "/kart?kommune=1151": "return document.querySelectorAll('#graph-kart .choroplethlocation').length >= 357",
    "/metode?kommune=1151": "return document.querySelectorAll('#metode-indikatorer .ag-row').length > 0",
}


@pytest.mark.browser
@pytest.mark.slow
def test_pages_render_in_chromium_without_csp_violations(prod, tmp_path):
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).exists() or shutil.which(path)):
            pytest.skip(f"{path} not found: install Debian's chromium and chromium-driver (see .ci/run)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    port, _ = prod
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-extensions", "--window-size=1600,1100",
                f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        driver.set_page_load_timeout(60)
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _LISTEN})
        for url, ready in _READY.items():
            driver.get(f"http://127.0.0.1:{port}{url}")
            deadline = time.monotonic() + 60
            while not driver.execute_script(ready):
                assert time.monotonic() < deadline, f"{url} did not render"
                time.sleep(0.2)
            time.sleep(1)  # late callbacks (deferred parts, prefetch) run under the same policy
            assert driver.execute_script("return window.__csp") == [], url
            severe = [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
            assert not [m for m in severe if "Content Security Policy" in m or "Refused" in m], (url, severe)
    finally:
        driver.quit()
