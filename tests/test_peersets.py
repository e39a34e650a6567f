"""Saved peer sets on disk (drivers.peersets): round trip, validation and limits, concurrent saves from threads and
processes, and the stale-set case of issue 12: a set saved again with other members gives new numbers at once
on Oversikt's gaps and Tjenester's figures (drivers.report.queries), not the old members' until a restart."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from engine_data import shared_panel

from drivers import peersets
from drivers.config import Settings
from drivers.engine import api
from drivers.engine.peers import PeerSet
from drivers.errors import UserError


@pytest.fixture(scope="module")
def panel():
    return shared_panel()


def test_round_trip_atomic_and_validated(panel, tmp_path):
    path = tmp_path / "peer_sets.json"
    assert peersets.load(path) == {} and peersets.sets(path) == ()  # no file: no saved sets
    saved = peersets.save("Romerike", ["3224", "3205", "3220", "3205"], path, panel=panel)
    assert saved == ["3205", "3220", "3224"]
    assert peersets.load(path) == {"Romerike": ["3205", "3220", "3224"]}
    assert json.loads(path.read_text())["sets"]["Romerike"]["members"] == saved
    assert not list(tmp_path.glob(".peer_sets.*"))  # no temp file left behind
    assert (tmp_path / "peer_sets.json.lock").exists()  # the lock lives beside the file
    assert peersets.get("Romerike", path) == PeerSet("Romerike", ("3205", "3220", "3224"))
    assert peersets.resolve("landet", path) == "landet" and peersets.resolve("Romerike", path).members == tuple(saved)
    m = api.peer_members(panel, "3222", 2024, peersets.get("Romerike", path))
    assert m == ["3205", "3220", "3224"]
    # a historical code is mapped to today's with the panel (Bærum was 3024 in 2020–2023, 3201 since 2024)
    assert peersets.save("Vest", ["3024"], path, panel=panel) == ["3201"]
    before = path.read_bytes()
    for name, members, what in [("landet", ["3205"], "innebygd"), ("", ["3205"], "navn"), ("a/b", ["3205"], "navnet"),
                                ("x" * 41, ["3205"], "navnet"), ("Tom", [], "ingen kommuner"),
                                ("Feil", ["9998"], "9998"), ("Feil", ["32a5"], "fire sifre"),
                                ("Feil", "3205", "liste")]:
        with pytest.raises(UserError, match=what):
            peersets.save(name, members, path, panel=panel if name == "Feil" else None)
    assert path.read_bytes() == before  # bad input: nothing written
    with pytest.raises(UserError, match="ukjent sammenligningsgruppe «Nord»"):
        peersets.get("Nord", path)
    peersets.delete("Romerike", path)
    assert peersets.names(path) == ["Vest"]
    with pytest.raises(UserError, match="ingen lagret"):
        peersets.delete("Romerike", path)


def test_limits_on_count_size_and_a_broken_file(tmp_path, monkeypatch):
    path = tmp_path / "sets.json"
    monkeypatch.setattr(peersets, "MAX_SETS", 3)
    for i in range(3):
        peersets.save(f"s{i}", ["3205"], path)
    with pytest.raises(UserError, match="høyst 3"):
        peersets.save("s3", ["3205"], path)
    peersets.save("s1", ["3220"], path)  # replacing a set is not a new one
    with pytest.raises(UserError, match="høyst 400 kommuner"):
        peersets.save("stor", [f"{i:04d}" for i in range(1, 402)], path)
    path.write_text("{not json")
    with pytest.raises(UserError, match="kan ikke lese"):
        peersets.load(path)
    path.write_text(json.dumps({"sets": {"x": {"members": "3205"}}}))
    with pytest.raises(UserError, match="ødelagt"):
        peersets.load(path)
    path.write_text(" " * (peersets.MAX_FILE_BYTES + 1))
    with pytest.raises(UserError, match="større enn"):
        peersets.load(path)


def test_the_path_comes_from_the_environment_else_beside_the_database(tmp_path, monkeypatch):
    monkeypatch.setenv(peersets.ENV, str(tmp_path / "mine.json"))
    assert peersets.path() == tmp_path / "mine.json"
    monkeypatch.delenv(peersets.ENV)
    assert peersets.path() == Settings.from_env().data_dir / "peer_sets.json"


THREADS = 20
SAVES_EACH = 4


def test_concurrent_saves_from_threads_lose_nothing(tmp_path):
    """20 threads × 4 saves of distinct sets, released together: every one of the 80 is in the file."""
    path = tmp_path / "peer_sets.json"
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        start.wait()
        try:
            for s in range(SAVES_EACH):
                peersets.save(f"t{t}-{s}", [f"{3201 + s:04d}", f"{4601 + t:04d}"], path)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    saved = peersets.load(path)
    assert len(saved) == THREADS * SAVES_EACH  # saves lost: 0 of 80
    assert saved["t7-3"] == ["3204", "4608"]


_CHILD = """
import sys, time
from drivers import peersets
path, proc, start = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
while time.time() < start:
    time.sleep(0.001)
for s in range({saves}):
    peersets.save(f"p{{proc}}-{{s}}", [f"{{3201 + s:04d}}", f"{{4601 + proc:04d}}"], path)
"""


def test_concurrent_saves_from_processes_lose_nothing(tmp_path):
    """20 processes × 4 saves, started at the same instant (each waits for a shared start time): all 80 kept."""
    path = tmp_path / "peer_sets.json"
    start = time.time() + 3.0  # after every interpreter has imported drivers
    code = _CHILD.format(saves=SAVES_EACH)
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path), str(p), str(start)],
                              stderr=subprocess.PIPE, text=True) for p in range(THREADS)]
    failed = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    assert all(rc == 0 for rc, _ in failed), [err for rc, err in failed if rc][:1]
    saved = peersets.load(path)
    assert len(saved) == THREADS * SAVES_EACH  # saves lost: 0 of 80
    assert saved["p19-0"] == ["3201", "4620"]


# ---- the stale-set case (issue 12 "Why"): the views follow a set saved again ---------------------------------------
@pytest.fixture
def dashboard(tmp_path, monkeypatch):
    from drivers.report import data

    settings = Settings.from_env()
    if not settings.database_for_reading().exists():
        pytest.skip(f"no database at {settings.database_for_reading()}: run `drivers snapshot build`")
    data.configure(settings)
    monkeypatch.setenv(peersets.ENV, str(tmp_path / "peer_sets.json"))
    yield data
    data.configure(settings)


def _view(name: str, service: str = "FGK9"):
    """What Oversikt (gaps, summary, no-peers notice) and Tjenester (values against the peers, series,
    decomposition) show for Lørenskog against the saved set `name`."""
    from drivers.report import queries as views
    from drivers.report import state as st

    state = st.parse({"kommune": "3222", "peers": name}).with_(tjeneste=service)
    gaps = views.gaps(state).set_index("service")
    values = views.service_values(state, service)
    series = views.service_timeseries(state, service)
    frame, _ = views.decomposition(state, service)
    return {
        "peer_per_resident": float(gaps.loc[service, "peer_per_resident"]),
        "gap_total": float(gaps.loc["TOTAL", "gap_nok"]),
        "regions": sorted(values["region"]),
        "peer_value": float(values["peer_value"].iloc[0]),
        "series_peer": series["peer_value"].to_numpy(float),
        "decomposed": float(frame["nok"].sum()),
        "summary": views.summary_text(state),
        "alone": views.no_peers(state),
    }


def test_a_set_saved_again_with_other_members_gives_new_numbers_at_once(dashboard):
    """Save «Mine» = Romerike, view it; save «Mine» again = the four largest cities, view again: every number
    follows the new members (before issue 12 item 4, Oversikt and Tjenester kept the old ones until a restart)."""
    panel = dashboard.get_panel()
    romerike, cities = ["3205", "3220", "3224"], ["0301", "4601", "5001", "1103"]
    peersets.save("Mine", romerike, panel=panel)
    first = _view("Mine")
    assert first["regions"] == sorted([*romerike, "3222"]) and not first["alone"]
    peersets.save("Mine", cities, panel=panel)
    second = _view("Mine")
    assert second["regions"] == sorted([*cities, "3222"])
    for key in ("peer_per_resident", "gap_total", "peer_value", "decomposed"):
        assert np.isfinite(first[key]) and np.isfinite(second[key]) and first[key] != second[key], key
    assert not np.allclose(first["series_peer"], second["series_peer"], equal_nan=True)
    assert first["summary"] != second["summary"]
    # the new numbers are the engine's for the new members, the same as asking it directly
    direct = api.gaps(panel, "3222", second_year(dashboard), PeerSet("Mine", tuple(cities))).set_index("service")
    assert second["peer_per_resident"] == pytest.approx(float(direct.loc["FGK9", "peer_per_resident"]), rel=1e-12)
    # and saving the first members again brings the first numbers back
    peersets.save("Mine", romerike, panel=panel)
    assert _view("Mine")["peer_per_resident"] == first["peer_per_resident"]


def second_year(data) -> int:
    return data.meta().default_year
