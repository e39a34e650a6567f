"""Browser test fixtures: the dashboard under a real WSGI server (waitress, in a subprocess) on 127.0.0.1,
against the project's database (fetched db if present, else data/snapshot.duckdb), and a headless Debian
Chromium driven by selenium 4.

    def test_x(dash_url, browser):
        browser.get(dash_url + "/?kommune=0301")
        wait_css(browser, "#page-root")
        assert console_errors(browser) == []

Missing chromium/chromedriver or a missing database skip the tests with the reason.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import servers

from drivers.config import Settings

CHROMIUM = os.environ.get("DRIVERS_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("DRIVERS_CHROMEDRIVER", "/usr/bin/chromedriver")


@pytest.fixture(scope="session")
def dashboard_db() -> Path:
    """The database the dashboard reads (fetched db, else the embedded snapshot)."""
    path = Settings.from_env().database_for_reading()
    if not path.exists():
        pytest.skip(f"no database at {path}: build the snapshot with `drivers snapshot build`")
    return path


@pytest.fixture(scope="session")
def dash_url(dashboard_db: Path, tmp_path_factory) -> str:
    """Base URL of the dashboard served by waitress (`drivers serve`) in a subprocess on 127.0.0.1."""
    port = servers.free_port()
    log = tmp_path_factory.mktemp("server") / "serve.log"
    proc = servers.start(servers.serve_command(port, "--db", str(dashboard_db), "--threads", "4"), port, log)
    yield f"http://127.0.0.1:{port}"
    servers.stop(proc)


def _have_browser() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).exists() or shutil.which(path)):
            return f"{path} not found: install Debian's chromium and chromium-driver (see .ci/run)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="session")
def browser_factory(tmp_path_factory):
    """Make fresh headless Chromium drivers (each with its own profile); all are quit at the end."""
    reason = _have_browser()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    drivers = []

    def make(width: int = 1600, height: int = 1100):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--disable-extensions", "--disable-default-apps", "--mute-audio",
                    f"--window-size={width},{height}", "--lang=nb-NO",
                    f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
        driver.set_page_load_timeout(60)
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        try:
            driver.quit()
        except Exception:  # noqa: BLE001 - a crashed browser must not hide the test result
            pass


@pytest.fixture(scope="module")
def browser(browser_factory):
    """One headless Chromium per test module."""
    return browser_factory()


def wait_css(driver, css: str, timeout: float = 20):
    """Wait until an element matching `css` is present; return it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def wait_until(driver, predicate, timeout: float = 20, message: str = ""):
    """Wait for `predicate(driver)`; elements going stale or missing while Dash re-renders count as 'not yet'."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException))
    return wait.until(lambda d: predicate(d), message)


def wait_dash_idle(driver, timeout: float = 20) -> None:
    """Wait until Dash has no callback in flight (no element with data-dash-is-loading)."""
    wait_until(driver, lambda d: d.execute_script(
        "return document.querySelectorAll('[data-dash-is-loading=\"true\"]').length === 0"
        " && !!document.getElementById('react-entry-point')"
        " && document.readyState === 'complete'"), timeout, "Dash did not settle")


def console_errors(driver) -> list[dict]:
    """SEVERE entries of the browser console since the last call (the log is drained on read)."""
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


@pytest.fixture
def bt():
    """The helpers above as a fixture, so browser tests need no import from this conftest."""
    from types import SimpleNamespace

    return SimpleNamespace(wait_css=wait_css, wait_until=wait_until, wait_dash_idle=wait_dash_idle,
                           console_errors=console_errors)


def pytest_collection_modifyitems(config, items):
    """Every test in tests/browser is a browser test (`make test-fast` leaves them out with -m "not browser")."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)
