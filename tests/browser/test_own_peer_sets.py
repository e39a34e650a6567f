"""Own peer sets in a real browser (issue 13 item 3): saved in Sammenlign, a set lives in the browser and in the
URL, never on the server. Headless Chromium against `drivers serve` (waitress, in a subprocess) with a team file
of its own, read-only: save a set, see it in the peer control after a reload, open its URL in a fresh browser
profile and see the same numbers; forget it; the server's sets folder is as it was."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import servers
from browser.conftest import (  # the browser tests' helpers (tests/browser/conftest.py)
    console_errors,
    wait_css,
    wait_dash_idle,
    wait_until,
)

pytestmark = pytest.mark.browser

WAIT = 60
NAME = "Mine naboer"
PEERS_CONTROL = '[id=\'{"param":"peers","type":"ctl"}\']'


def _folder(path: Path) -> dict:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(path.iterdir())}


@pytest.fixture(scope="module")
def served(dashboard_db, tmp_path_factory):
    """`drivers serve` on 127.0.0.1 with DRIVERS_PEER_SETS a read-only team file in a folder of its own."""
    folder = tmp_path_factory.mktemp("team")
    team = folder / "peer_sets.json"
    team.write_text(json.dumps({"version": 1, "sets": {"Teamet": {"members": ["3205", "3220", "3224"]}}}), "utf-8")
    os.chmod(team, 0o444)
    port = servers.free_port()
    log = tmp_path_factory.mktemp("server") / "serve.log"
    proc = servers.start(servers.serve_command(port, "--db", str(dashboard_db), "--threads", "4"), port, log,
                         servers.env(DRIVERS_PEER_SETS=str(team)))
    yield f"http://127.0.0.1:{port}", team, _folder(folder)
    servers.stop(proc)
    os.chmod(team, 0o644)


def _open(driver, url: str) -> None:
    driver.get(url)
    wait_css(driver, "#page-root, #error-page", WAIT)
    wait_dash_idle(driver, WAIT)


def _state_key(driver) -> str:
    return driver.execute_script("var e = document.getElementById('state-key'); return e ? e.textContent : '';") or ""


def _numbers(driver) -> dict:
    """What Sammenlign shows about the peers: who they are, and the grid's peer-average rows."""
    wait_until(driver, lambda d: d.find_elements("css selector", "#sml-grid .ag-floating-bottom .ag-row"), WAIT,
               "the grid's peer rows did not appear")
    return {"peers": driver.find_element("css selector", "#sml-peers").text,
            "averages": driver.execute_script(
                "return document.querySelector('#sml-grid .ag-floating-bottom').innerText")}


def _peer_options(driver) -> list[str]:
    driver.find_element("css selector", PEERS_CONTROL).click()
    options = wait_until(driver, lambda d: [e.text for e in d.find_elements("css selector", "[role=option]")], WAIT)
    driver.find_element("css selector", "body").send_keys("\ue00c")  # Escape closes the list
    return options


def _own_sets(driver) -> list:
    raw = driver.execute_script("return window.localStorage.getItem('sets-own')")
    return (json.loads(raw) or {}).get("sets", []) if raw else []


def test_an_own_set_lives_in_the_browser_and_the_url(served, browser_factory):
    base, team, folder_before = served
    team_before = team.read_bytes()
    mine = browser_factory()
    # 1. save the ten nearest neighbours (the member picker is filled with the view's peers) as «Mine naboer»
    _open(mine, f"{base}/sammenlign?kommune=3222&peers=naboer")
    assert "10 valgt" in wait_css(mine, "#sml-set-members", WAIT).text
    wait_css(mine, "#sml-set-name", WAIT).send_keys(NAME)
    mine.find_element("css selector", "#sml-set-save").click()
    wait_until(mine, lambda d: "peers=egen.Mine+naboer." in _state_key(d), WAIT, "the view did not move to the set")
    wait_dash_idle(mine, WAIT)
    url = mine.current_url
    assert "peers=egen.Mine+naboer." in url
    seen = _numbers(mine)
    assert f"sammenlignes med {NAME}: 10 andre kommuner" in seen["peers"], seen["peers"]
    assert [s["name"] for s in _own_sets(mine)] == [NAME]
    assert NAME in mine.find_element("css selector", "#sets-own-list").text
    assert "Teamet" in mine.find_element("css selector", "#sets-team").text
    # 2. after a reload, and on another page, the peer control lists it (and the team's set)
    mine.refresh()
    wait_css(mine, "#page-root", WAIT)
    wait_dash_idle(mine, WAIT)
    assert f"{NAME} (egen)" in mine.find_element("css selector", PEERS_CONTROL).text
    _open(mine, f"{base}/?kommune=3222")
    options = _peer_options(mine)
    assert f"{NAME} (egen)" in options and "Teamet" in options and "KOSTRA-gruppen" in options, options
    # chosen there, it is the view
    mine.find_element("css selector", PEERS_CONTROL).click()
    next(e for e in wait_until(mine, lambda d: d.find_elements("css selector", "[role=option]"), WAIT)
         if e.text == f"{NAME} (egen)").click()
    wait_until(mine, lambda d: _state_key(d).startswith("/?") and "peers=egen.Mine+naboer." in _state_key(d), WAIT,
               "choosing the own set did not show it")
    assert console_errors(mine) == []
    # 3. its URL in a fresh profile (no local store): the same set, the same numbers
    other = browser_factory()
    _open(other, url)
    assert _numbers(other) == seen
    assert _own_sets(other) == []  # the recipient's browser keeps nothing until it saves
    assert f"{NAME} (egen)" in other.find_element("css selector", PEERS_CONTROL).text
    assert console_errors(other) == []
    # 4. forgotten in the first browser: gone from its list and its store
    _open(mine, f"{base}/sammenlign?kommune=3222")
    mine.find_element("css selector", "#sets-own-list .chip-forget").click()
    wait_until(mine, lambda d: _own_sets(d) == [], WAIT, "the set was not forgotten")
    wait_until(mine, lambda d: "ingen ennå" in d.find_element("css selector", "#sets-own-list").text, WAIT)
    assert f"{NAME} (egen)" not in _peer_options(mine)
    assert console_errors(mine) == []
    # 5. the server's disk: the team file and its folder as they were
    assert team.read_bytes() == team_before and _folder(team.parent) == folder_before
