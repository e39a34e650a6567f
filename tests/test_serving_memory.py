"""Saving a peer set and viewing it, 500 times over, keeps the server's memory flat (issue 12: the sets file's
mtime in cache keys grew a server from 415 MB to 1 828 MB). Since issue 13 item 3 a save is the browser's own: the
save callback checks the set and hands back its URL form, and the view of that URL is keyed on the members. Each
loop saves an own set of 8 with other members (a window moving over the country, 40 distinct sets) and views it
on Oversikt, Tjenester and Sammenlign, and the administrator saves the team set «felles» with the same members
(the team file changes every loop, as the old sets file did: a new data version each time) and it is viewed on
Oversikt. On the real database, through the page layouts."""

from __future__ import annotations

import gc
import os

import pytest
from ui_pages_data import database, make_app, page_layout, page_module, walk

from drivers import peersets
from drivers.report import data

LOOPS = 500
WARM_UP = 60  # loops before the first reading: every cache has reached its bound by then
KOMMUNE = "3222"
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    gc.collect()
    data.release_free_memory()
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE / 1e6


def _expand(tree):
    from drivers.ui.serving import render_deferred

    for node in list(walk(tree)):
        if isinstance(getattr(node, "id", None), dict) and node.id.get("type") == "deferred":
            node.children = render_deferred(node.id)
    return tree


@pytest.mark.slow
def test_save_and_view_500_times_keeps_memory_flat(tmp_path, monkeypatch):
    database()
    monkeypatch.setenv("DRIVERS_PEER_SETS", str(tmp_path / "peer_sets.json"))
    make_app()
    panel = data.get_panel()
    sml = page_module("/sammenlign")
    codes = [c for c in panel.municipalities if c != KOMMUNE]
    overview, services, compare = page_layout("/"), page_layout("/tjenester"), page_layout("/sammenlign")
    readings = {}
    for i in range(LOOPS):
        members = [codes[(i % 40) * 8 + j] for j in range(8)]
        message, saved = sml.save_set("mine", members, "nb")
        assert saved is not None, message
        peersets.save("felles", members, panel=panel)
        for peers in (saved["peers"], "felles"):
            assert _expand(overview(kommune=KOMMUNE, peers=peers)).id == "page-root"
        assert _expand(services(kommune=KOMMUNE, peers=saved["peers"], tjeneste="FGK7")).id == "page-root"
        assert compare(kommune=KOMMUNE, peers=saved["peers"]).id == "page-root"
        if i + 1 in (WARM_UP, LOOPS):
            readings[i + 1] = rss_mb()
    before, after = readings[WARM_UP], readings[LOOPS]
    print(f"RSS after {WARM_UP} loops {before:.0f} MB, after {LOOPS} loops {after:.0f} MB")
    assert abs(after - before) <= 0.10 * before, f"RSS {before:.0f} MB -> {after:.0f} MB over {LOOPS - WARM_UP} loops"
