"""Incremental refresh and the revision report, against the fake SSB serving real recorded data.

A refresh reads each table's `updated` (GET /tables/{id}) and fetches only what SSB republished; the fake
counts every request it receives. The revision scenario uses SSB 13502 (share of children 1-2 in
kindergarten, SSB's Statbank export 2015-2023): an earlier «March» version differs from the real figures in
a few 2023 cells and regions, and the «June» version is exactly the real export, so after the refresh the
database holds SSB's numbers and the report names the differences.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from fakessb.server import FakeSSB, VirtualClock
from fakessb.tables import (
    BARNEHAGE_13502_CSV,
    OMSORG_12209_CSV,
    POPULATION_CSV,
    LABEL_KOSandel120000,
    relabelled,
    revised,
    table_07459,
    table_12134,
    table_12209,
    table_12362,
    table_13502,
    value_at,
)

from drivers import cli, store
from drivers import fetch as fetching
from drivers.ssb import Backoff, RateLimiter, SSBClient

pytestmark = pytest.mark.skipif(not (POPULATION_CSV.exists() and BARNEHAGE_13502_CSV.exists()
                                     and OMSORG_12209_CSV.exists()), reason="real SSB data (../shared/ssb) missing")
DRIVERS = Path(sys.executable).with_name("drivers")
ALL = ("12134", "07459", "12362", "13502", "12209")
REGION, CODE = "KOKkommuneregion0000", "KOSandel120000"


def _tables() -> dict:
    return {"12134": table_12134(), "07459": table_07459(), "12362": table_12362(), "13502": table_13502(),
            "12209": table_12209()}


def _client(server, clock) -> SSBClient:
    return SSBClient(server.url, clock=clock, limiter=RateLimiter(clock=clock, sleep=clock.sleep),
                     backoff=Backoff(rng=random.Random(3)), timeout=10.0)


def _state(db) -> dict[str, pd.DataFrame]:
    con = store.connect(db, read_only=True)
    try:
        return {"tables": store.read_tables(con), "observations": store.read_frame(con, "SELECT * FROM observations ORDER BY ALL"),
                "population": store.read_population(con), "changes": store.read_fetch_changes(con, latest=False),
                "revisions": store.read_revisions(con, latest=False)}
    finally:
        con.close()


def _cell(region: str, year: str) -> dict[str, str]:
    return {REGION: region, "ContentsCode": CODE, "Tid": year}


def test_a_refresh_with_nothing_new_is_one_call_per_table_and_writes_nothing(tmp_path):
    db, clock = tmp_path / "x.duckdb", VirtualClock()
    server = FakeSSB(_tables(), clock=clock).start()
    try:
        first = fetching.fetch(_client(server, clock), db, list(ALL))
        assert first.failures == [] and set(first.written) == set(ALL) and first.unchanged == []
        before, n = _state(db), len(server.log)
        mtime = db.stat().st_mtime_ns
        again = fetching.fetch(_client(server, clock), db, list(ALL))
        calls = server.log[n:]
    finally:
        server.stop()
    assert again.failures == [] and again.written == {} and again.unchanged == list(ALL)
    assert [(m, p.split("?")[0].rsplit("/", 1)[-1], s) for m, p, s in calls] == [("GET", t, 200) for t in ALL]
    assert db.stat().st_mtime_ns == mtime  # not even rewritten
    for key, frame in _state(db).items():
        pd.testing.assert_frame_equal(frame, before[key], obj=key)
    assert fetching.changes_report(again) == [
        "uendret hos SSB siden forrige henting, ikke hentet på nytt: 12134, 07459, 12362, 13502, 12209 (--full henter likevel)"]
    # --full fetches them anyway, and finds nothing revised
    server = FakeSSB(_tables(), clock=clock).start()
    try:
        forced = fetching.fetch(_client(server, clock), db, ["13502"], full=True)
    finally:
        server.stop()
    assert forced.written == {"13502": 723 * 9}
    assert {k: forced.changes["13502"][k] for k in ("revised", "added", "removed")} == {"revised": 0, "added": 0, "removed": 0}


def test_no_change_refresh_by_the_real_command_on_real_time(tmp_path):
    """`drivers fetch` twice as a user runs it (subprocess, real clock, real rate limiter)."""
    db = tmp_path / "x.duckdb"
    tables = {"12134": table_12134(), "13502": table_13502(), "12209": table_12209()}
    server = FakeSSB(tables).start()
    env = {**os.environ, "DRIVERS_CACHE": str(tmp_path / "cache")}
    cmd = [str(DRIVERS), "fetch", "--base-url", server.url, "--db", str(db), "--tables", ",".join(tables)]
    try:
        first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert first.returncode == 0, first.stderr
        n = len(server.log)
        t0 = time.monotonic()
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        seconds = time.monotonic() - t0
        calls = server.log[n:]
    finally:
        server.stop()
    assert second.returncode == 0, second.stderr
    assert len(calls) == 3 and all(m == "GET" and "/data" not in p and "/metadata" not in p for m, p, _ in calls)
    assert "uendret hos SSB siden forrige henting, ikke hentet på nytt: 12134, 13502, 12209" in second.stdout
    assert "ferdig: 0 tabeller skrevet, 3 uendret, 3 forespørsler" in second.stderr
    print(f"no-change refresh: {len(calls)} requests, {seconds:.2f} s")  # the report quotes this (pytest -s)


def _march_and_june():
    """The real 13502 as «June» (final) and a «March» version differing from it in 2023 only."""
    june_real = table_13502(updated="2024-06-17T06:00:00Z")
    v = {r: value_at(june_real, _cell(r, "2023"))[0] for r in ("0301", "4601", "5001", "3024", "1505")}
    prev = {r: value_at(june_real, _cell(r, "2022"))[0] for r in ("4601", "5001")}
    assert None not in v.values() and None not in prev.values()  # real 2023 and 2022 values
    march = revised(june_real, "2024-03-15T07:00:00Z",
                    cells=[(_cell("0301", "2023"), None, ".."),  # preliminary: not yet published
                           (_cell("4601", "2023"), prev["4601"], None),  # preliminary: last year's figure
                           (_cell("5001", "2023"), prev["5001"], None)],
                    drop={REGION: ["3024"]})  # 3024 (Bærum) not in March: its 2023 cell is added in June
    june = revised(june_real, "2024-06-17T06:00:00Z", drop={REGION: ["1505"]})  # 1505 (Kristiansund) gone in June
    return march, june, v, prev


def test_march_to_june_revision_end_to_end(tmp_path, capsys):
    db, clock = tmp_path / "x.duckdb", VirtualClock()
    march, june, v, prev = _march_and_june()
    server = FakeSSB({"13502": march}, clock=clock).start()
    try:
        first = fetching.fetch(_client(server, clock), db, ["13502"])
        assert first.changes["13502"]["first_fetch"] and first.changes["13502"]["cells"] == 722 * 9
        server.tables["13502"] = june  # SSB publishes: `updated` bumped, cells revised
        n = len(server.log)

        def client(base, **kw):
            return SSBClient(base, clock=clock, limiter=RateLimiter(clock=clock, sleep=clock.sleep), **kw)

        import drivers.commands.fetch as command

        real = command.SSBClient
        command.SSBClient = client
        try:
            code = cli.main(["fetch", "--base-url", server.url, "--db", str(db), "--tables", "13502",
                             "--region", "0301", "--cache", str(tmp_path / "c")])
        finally:
            command.SSBClient = real
        calls = server.log[n:]
    finally:
        server.stop()
    out, err = capsys.readouterr()
    assert code == 0, err
    # table info, metadata, /config and one data request for 2023 only (the newest stored year)
    assert [p.split("?")[0].rsplit("/", 1)[-1] for _, p, _ in calls] == ["13502", "metadata", "config", "data"]
    lines = out.splitlines()
    assert lines[0] == "13502: 3 celler revidert, 1 lagt til, 1 fjernet av 722 hentet (år 2023; SSB oppdatert 17.06.2024 06:00)"
    assert lines[1:] == ["  største revisjoner for 0301:", f"    0301 2023 {CODE}: .. → {fetching._num(v['0301'])} (–)"]

    state = _state(db)
    revs = state["revisions"].set_index("region")
    assert sorted(revs.index) == ["0301", "4601", "5001"] and set(revs["year"]) == {2023}
    assert revs.loc["0301", "old_status"] == ".." and pd.isna(revs.loc["0301", "old_value"])
    assert revs.loc["0301", "new_value"] == v["0301"] and revs.loc["0301", "new_status"] is None
    for r in ("4601", "5001"):
        assert (revs.loc[r, "old_value"], revs.loc[r, "new_value"]) == (prev[r], v[r])
    assert set(revs["measure"]) == {"barnehage_andel_1_2_pct"}
    change = state["changes"].iloc[-1]
    assert (change["revised"], change["added"], change["removed"], change["years"]) == (3, 1, 1, "2023")
    assert change["old_updated"] == pd.Timestamp("2024-03-15 07:00") and change["new_updated"] == pd.Timestamp("2024-06-17 06:00")
    # the stored 2023 column is now exactly SSB's export (1505 removed), earlier years untouched
    obs = state["observations"]
    y23 = obs[obs["year"] == 2023].set_index("region")
    src = pd.read_csv(BARNEHAGE_13502_CSV, dtype={"region_code": str, "year": int})
    src23 = src[(src["year"] == 2023) & (src["region_code"] != "1505")].set_index("region_code")
    assert sorted(y23.index) == sorted(src23.index)
    both = y23.join(src23.drop(columns="year"), how="inner")
    assert ((both["value"] == both["value_pct"]) | (both["value"].isna() & both["value_pct"].isna())).all()
    assert (both["status"].fillna("") == both["ssb_status_symbol"].fillna("")).all()
    assert "1505" in set(obs.loc[obs["year"] == 2022, "region"]) and "3024" not in set(obs.loc[obs["year"] == 2022, "region"])
    tables = state["tables"].set_index("table_id")
    assert tables.at["13502", "updated"] == pd.Timestamp("2024-06-17 06:00") and tables.at["13502", "release"] == "endelig"


def test_without_region_the_largest_absolute_revisions_come_first(tmp_path):
    db, clock = tmp_path / "x.duckdb", VirtualClock()
    march, june, v, prev = _march_and_june()
    server = FakeSSB({"13502": march}, clock=clock).start()
    try:
        fetching.fetch(_client(server, clock), db, ["13502"])
        server.tables["13502"] = june
        report = fetching.fetch(_client(server, clock), db, ["13502"], top=2)
    finally:
        server.stop()
    top = report.changes["13502"]["top"]
    assert len(top) == 2 and top.loc[0, "region"] == "0301"  # a value where there was none counts as largest
    bigger = max(("4601", "5001"), key=lambda r: abs(v[r] - prev[r]))
    assert top.loc[1, "region"] == bigger


def test_a_changed_label_is_one_warning_line_and_the_fetch_goes_on(tmp_path, capsys, monkeypatch):
    db, clock = tmp_path / "x.duckdb", VirtualClock()
    found = "Andel barn 1-2 år i barnehage (prosent)"
    renamed = relabelled(table_13502(updated="2024-06-17T06:00:00Z"), "ContentsCode", CODE, found)
    server = FakeSSB({"13502": renamed, "12134": table_12134()}, clock=clock).start()
    monkeypatch.setattr("drivers.commands.fetch.SSBClient", lambda base, **kw: SSBClient(
        base, clock=clock, limiter=RateLimiter(clock=clock, sleep=clock.sleep), **kw))
    try:
        code = cli.main(["fetch", "--base-url", server.url, "--db", str(db), "--tables", "13502,12134",
                         "--cache", str(tmp_path / "c")])
    finally:
        server.stop()
    err = capsys.readouterr().err.splitlines()
    label_lines = [line for line in err if "ny etikett" in line]
    assert code == 0
    assert label_lines == [f"drivers: advarsel: tabell 13502: koden {CODE} har fått ny etikett hos SSB — ventet "
                           f"«{LABEL_KOSandel120000}», fant «{found}» (måltallet barnehage_andel_1_2_pct hentes fortsatt; "
                           "sjekk at det betyr det samme)"]
    state = _state(db)
    assert set(state["tables"]["table_id"]) == {"13502", "12134"}  # the rest of the fetch went on
    obs = state["observations"]
    assert (obs.loc[obs["table_id"] == "13502", "measure"] == "barnehage_andel_1_2_pct").all()
    assert "ny etikett" in state["tables"].set_index("table_id").at["13502", "note"]


def test_population_revisions_are_kept_by_age(tmp_path):
    db, clock = tmp_path / "x.duckdb", VirtualClock()
    real = table_07459()
    old = revised(real, "2025-02-20T07:00:00Z", cells=[({"Region": "0301", "Kjonn": "0", "Alder": "080",
                                                        "ContentsCode": "Personer1", "Tid": "2025"}, None, None)])
    server = FakeSSB({"07459": old}, clock=clock).start()
    try:
        fetching.fetch(_client(server, clock), db, ["07459"], years=(2024, 2026))
        server.tables["07459"] = real
        report = fetching.fetch(_client(server, clock), db, ["07459"])
    finally:
        server.stop()
    change = report.changes["07459"]
    # the default years start in 2015: the missing 2015-2023 are added, 2024-2026 compared
    assert (change["revised"], change["added"], change["removed"]) == (1, 358 * 106 * 9, 0)
    rev = _state(db)["revisions"]
    assert rev[["region", "year", "dims"]].values.tolist() == [["0301", 2025, "Alder=080"]]
    want = value_at(real, {"Region": "0301", "Kjonn": "0", "Alder": "080", "ContentsCode": "Personer1", "Tid": "2025"})[0]
    assert pd.isna(rev.loc[0, "old_value"]) and rev.loc[0, "new_value"] == want
