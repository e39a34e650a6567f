"""`drivers fetch` end to end against the fake SSB serving real population data (07459) and 12134.

Time: the fake server and the client's rate limiter share a virtual clock (fakessb.server.VirtualClock)
whose sleep advances time instantly, so SSB's 40-per-60-s window and our 30-per-60-s limiter run at their
real settings while a fetch of ~50 requests takes a few seconds of wall time. The subprocess tests run on
real time and keep under 30 calls.
"""

from __future__ import annotations

import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from fakessb.server import FakeSSB, Faults, VirtualClock
from fakessb.tables import (
    NET_EXPENSES_CSV,
    POPULATION_CSV,
    population_frame,
    table_07459,
    table_12134,
    table_12362,
)

from drivers import catalog, cli, store
from drivers import fetch as fetching
from drivers.ssb import Backoff, RateLimiter, ResponseCache, SSBClient

pytestmark = pytest.mark.skipif(not POPULATION_CSV.exists(), reason="real SSB data (../shared/ssb) missing")
DRIVERS = Path(sys.executable).with_name("drivers")


def _server(clock, **kw) -> FakeSSB:
    tables = {"12134": table_12134(), "07459": table_07459(), "12362": table_12362()}
    return FakeSSB(tables, clock=clock, **kw).start()


def _client(server, clock, cache_dir=None, **kw) -> SSBClient:
    return SSBClient(server.url, cache=ResponseCache(cache_dir) if cache_dir else None, clock=clock,
                     limiter=RateLimiter(clock=clock, sleep=clock.sleep),
                     backoff=Backoff(rng=random.Random(7)), timeout=kw.pop("timeout", 10.0), **kw)


def _run(db, tables=("07459",), years=None, regions=None, max_cells=800_000, faults=None, cache_dir=None,
         on_chunk=None, timeout=10.0):
    clock = VirtualClock()
    server = _server(clock, max_cells=max_cells, faults=faults or Faults())
    try:
        client = _client(server, clock, cache_dir, timeout=timeout)
        report = fetching.fetch(client, db, list(tables), years, regions, on_chunk=on_chunk)
    finally:
        server.stop()
    return report, client, server, clock


def _db_state(db) -> dict[str, pd.DataFrame]:
    """Everything a fetch writes, without the fetch time."""
    con = store.connect(db, read_only=True)
    try:
        tables = store.read_tables(con).drop(columns=["fetched_at", "source_url"])
        obs = store.read_frame(con, "SELECT * FROM observations ORDER BY ALL")
        cats = store.read_frame(con, "SELECT * FROM categories ORDER BY ALL")
        return {"population": store.read_population(con), "tables": tables, "observations": obs, "categories": cats}
    finally:
        con.close()


def _assert_same(a: dict, b: dict) -> None:
    for key in a:
        pd.testing.assert_frame_equal(a[key].reset_index(drop=True), b[key].reset_index(drop=True), obj=key)


def _source(years=None) -> pd.DataFrame:
    src = population_frame()
    if years:
        src = src[(src["year"] >= years[0]) & (src["year"] <= years[1])]
    return src.sort_values(["region", "year", "age"]).reset_index(drop=True)


def test_full_07459_at_strict_limits_equals_the_source(tmp_path):
    db = tmp_path / "x.duckdb"
    report, client, server, clock = _run(db, max_cells=10_000)
    assert report.failures == [] and report.written == {"07459": 358 * 12 * 106}
    got = _db_state(db)["population"]
    src = _source()
    assert len(got) == len(src) == 455_376
    pd.testing.assert_frame_equal(got[["region", "year", "age"]], src[["region", "year", "age"]], check_dtype=False)
    assert (got["persons"].astype("int64").to_numpy() == src["persons"].to_numpy()).all()
    # SSB's limits held at default client settings: no 429, no request over the cell limit, no long GET
    assert 429 not in server.statuses() and client.stats.throttled == 0
    assert all(s != 400 for s in server.statuses())
    assert all(len(path) <= 2100 for _, path, _ in server.log)
    data_calls = [m for m, p, _ in server.log if "/data" in p]
    assert len(data_calls) <= math.ceil(math.ceil(455_376 / 10_000) * 1.05)
    assert clock.slept >= 60  # >30 calls: the limiter really waited a (virtual) minute
    assert store.read_tables(store.connect(db, read_only=True)).set_index("table_id").loc["07459", "release"] == "endelig"


def test_faults_leave_the_same_database_as_a_clean_run(tmp_path):
    years = (2024, 2026)
    clean, faulty = tmp_path / "clean.duckdb", tmp_path / "faulty.duckdb"
    _run(clean, tables=("07459", "12134"), years=years, max_cells=8_000)
    faults = Faults(rate=0.3, kinds=("503", "reset", "truncate", "drop"), seed=11)
    report, client, server, _ = _run(faulty, tables=("07459", "12134"), years=years, max_cells=8_000,
                                     faults=faults)
    assert report.failures == []
    assert client.stats.retries >= 5, "the seeded schedule should have injected faults"
    assert {-1, 503} <= set(server.statuses())
    _assert_same(_db_state(clean), _db_state(faulty))


def test_too_many_cells_from_ssb_is_split_and_retried(tmp_path):
    """SSB's limit is stricter than /config says: the 400 'Too many cells selected' requests are halved."""
    clock = VirtualClock()
    server = _server(clock, max_cells=30_000, advertised_cells=100_000)
    try:
        client = _client(server, clock)
        report = fetching.fetch(client, tmp_path / "x.duckdb", ["07459"], (2021, 2026))
    finally:
        server.stop()
    assert report.failures == [] and client.stats.splits >= 1 and 400 in server.statuses()
    got = _db_state(tmp_path / "x.duckdb")["population"]
    assert (got["persons"].astype("int64").to_numpy() == _source((2021, 2026))["persons"].to_numpy()).all()


def test_12362_net_expenditure_lands_under_its_measure_id(tmp_path):
    """The catalog's 12362 recipe (FGK groups, every art, contents by label) on the real net-expenditure copy."""
    report, client, server, _ = _run(tmp_path / "x.duckdb", tables=("12362",), max_cells=2_000)
    assert report.failures == [] and len([m for m, p, _ in server.log if "/data" in p]) == 4  # ceil(6750/2000)
    assert any("KOSbelopinnbygge0000" in w for w in report.warnings)  # per-resident code absent: reported
    obs = _db_state(tmp_path / "x.duckdb")["observations"]
    assert set(obs["measure"]) == {"ndu_1000kr"}
    src = pd.read_csv(NET_EXPENSES_CSV, dtype={"kommunenummer": str})
    src = src[src["service_code"] != "TOTAL"]
    got = obs.assign(fgk=obs["dims"].str.extract(r"KOKfunksjon0000=([^;]+)")[0])
    merged = src.merge(got, left_on=["kommunenummer", "year", "service_code"], right_on=["region", "year", "fgk"],
                       how="outer", indicator=True)
    assert (merged.loc[merged["_merge"] == "both", "amount_nok_1000"] == merged.loc[merged["_merge"] == "both", "value"]).all()
    assert (merged["_merge"] != "left_only").all()  # nothing lost
    extra = merged[merged["_merge"] == "right_only"]  # cells the source lacks (FGK15/FGK17 in 2025): null, not 0
    assert len(extra) == 2 * 375 and extra["value"].isna().all()
    assert set(obs["dims"].str.contains("KOKart0000=AGD2")) == {True}


def test_interrupted_table_leaves_the_previous_state(tmp_path):
    db = tmp_path / "x.duckdb"
    _run(db, tables=("07459", "12134"), years=(2025, 2026), max_cells=20_000)
    before = _db_state(db)

    def boom(table, n):
        if n == 3:
            raise KeyboardInterrupt  # as a Ctrl-C mid-table

    with pytest.raises(KeyboardInterrupt):
        _run(db, years=(2015, 2026), max_cells=20_000, on_chunk=boom)
    _assert_same(before, _db_state(db))
    assert not list(tmp_path.glob(".*.tmp*"))


def test_sigkill_mid_table_leaves_the_previous_state(tmp_path):
    """A real `drivers fetch` process killed with SIGKILL while downloading 07459."""
    db, cache = tmp_path / "x.duckdb", tmp_path / "cache"
    _run(db, years=(2025, 2026))
    before = _db_state(db)
    server = _server(time.monotonic, max_cells=50_000, faults=Faults(script={n: "slow" for n in range(7, 40)},
                                                                     slow_seconds=3))
    env = {**os.environ, "DRIVERS_CACHE": str(cache)}
    try:
        proc = subprocess.Popen([str(DRIVERS), "fetch", "--base-url", server.url, "--db", str(db), "--tables", "07459"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while sum("/data" in p for _, p, _ in server.log) < 4 and time.time() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        server.stop()
    _assert_same(before, _db_state(db))
    assert sum("/data" in p for _, p, _ in server.log) >= 4


def test_offline_runs_from_the_cache_and_says_what_is_missing(tmp_path):
    cache = tmp_path / "cache"
    online_db, offline_db = tmp_path / "on.duckdb", tmp_path / "off.duckdb"
    clock = VirtualClock()
    server = _server(clock, max_cells=20_000)
    try:
        _, client, _, _ = None, _client(server, clock, cache), None, None
        fetching.fetch(client, online_db, ["07459", "12134"], (2024, 2026))
        n = len(server.log)
        offline = SSBClient(server.url, cache=ResponseCache(cache), offline=True)
        report = fetching.fetch(offline, offline_db, ["07459", "12134"], (2024, 2026))
        assert len(server.log) == n and report.failures == []
        _assert_same(_db_state(online_db), _db_state(offline_db))
        missing = fetching.fetch(SSBClient(server.url, cache=ResponseCache(cache), offline=True),
                                 tmp_path / "m.duckdb", ["07459"], (2015, 2026))
    finally:
        server.stop()
    assert len(missing.failures) == 1 and "mangler i cachen" in missing.failures[0]
    assert not (tmp_path / "m.duckdb").exists()


def test_missing_catalog_code_is_reported_and_the_rest_goes_on(tmp_path, monkeypatch):
    entries = catalog.entries()
    entry = entries["07459"]
    patched = {**entries, "07459": type(entry)(**{**entry.__dict__,
                                                 "selection": {**entry.selection, "ContentsCode": ["Personer1", "Personer9"]}})}
    monkeypatch.setattr(catalog, "entries", lambda: patched)
    report, *_ = _run(tmp_path / "x.duckdb", tables=("07459", "12134"), years=(2024, 2024))
    assert "07459: koden Personer9 finnes ikke i ContentsCode (renamed or removed?)" in report.warnings
    assert any("KOSAGD230000" in w for w in report.warnings)  # 12134's other measures are not in the fixture
    assert report.written == {"07459": 358 * 106, "12134": 3}
    obs = _db_state(tmp_path / "x.duckdb")["observations"]
    assert obs.set_index("region")["measure"].to_dict() == {r: "frie_inntekter_per_innbygger_kr" for r in ("0301", "4601", "5001")}


# ---- the command line: one clear line, non-zero exit, database unchanged --------------------------------------


@pytest.fixture
def seeded_db(tmp_path):
    db = tmp_path / "x.duckdb"
    _run(db, tables=("12134",))
    return db, _db_state(db)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tables", "99999"], "tabell 99999 er ikke i katalogen"),
        (["--tables", "12134", "--regions", "0301,9998"], "ukjent region 9998"),
        (["--tables", "12134", "--region", "9997"], "ukjent region 9997 (unknown region; not in table 12134)"),
        (["--tables", "12134", "--years", "2024-20x5"], "--years må være"),
    ],
)
def test_bad_input_one_line_nonzero_db_unchanged(seeded_db, fast_cli, capsys, args, message, tmp_path):
    db, before = seeded_db
    clock = fast_cli
    server = _server(clock)
    try:
        code = cli.main(["fetch", "--base-url", server.url, "--db", str(db), "--cache", str(tmp_path / "c"), *args])
    finally:
        server.stop()
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
    _assert_same(before, _db_state(db))


def test_malformed_json_from_ssb_one_line_nonzero_db_unchanged(seeded_db, fast_cli, capsys, tmp_path):
    db, before = seeded_db
    server = FakeSSB({"12134": table_12134()}, clock=fast_cli,
                     faults=Faults(script={n: "truncate" for n in range(4, 100)})).start()
    try:
        code = cli.main(["fetch", "--base-url", server.url, "--db", str(db), "--tables", "12134", "--full",
                         "--cache", str(tmp_path / "c")])  # --full: 12134 is unchanged at SSB, fetch it anyway
    finally:
        server.stop()
    err = [line for line in capsys.readouterr().err.splitlines() if "advarsel" not in line]
    assert code == 1
    assert err[-1].startswith("drivers: 1 tabell(er) feilet: 12134:") and "ugyldig eller avkortet JSON" in err[-1]
    _assert_same(before, _db_state(db))


def test_fetch_then_export_round_trip_by_subprocess(tmp_path):
    """`drivers fetch --base-url <fake> --db X` then `drivers export` reads it back (real time, 6 calls)."""
    db, out = tmp_path / "x.duckdb", tmp_path / "12134.csv"
    server = _server(time.monotonic)
    env = {**os.environ, "DRIVERS_CACHE": str(tmp_path / "cache")}
    try:
        fetched = subprocess.run([str(DRIVERS), "fetch", "--base-url", server.url, "--db", str(db),
                                  "--tables", "12134,07459", "--years", "2024-2024"],
                                 env=env, capture_output=True, text=True, timeout=120)
    finally:
        server.stop()
    assert fetched.returncode == 0, fetched.stderr
    assert "ferdig: 2 tabeller skrevet" in fetched.stderr and "0 × 429" in fetched.stderr
    exported = subprocess.run([str(DRIVERS), "export", "--db", str(db), "--table", "12134", "--format", "csv",
                               "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert exported.returncode == 0, exported.stderr
    frame = pd.read_csv(out, dtype=str, sep=";", encoding="utf-8-sig")  # Norwegian Excel dialect
    values = dict(zip(frame.filter(regex="region").iloc[:, 0], frame["value"].str.replace(",", ".").astype(float), strict=False))
    assert values == {"0301": 81240.0, "4601": 66605.0, "5001": 62853.0}
    # 07459 lives in the population table (by age), and exports in the same long format with SSB's age codes
    pop_out = tmp_path / "07459.csv"
    exported = subprocess.run([str(DRIVERS), "export", "--db", str(db), "--table", "07459", "--format", "csv",
                               "--out", str(pop_out)], capture_output=True, text=True, timeout=120)
    assert exported.returncode == 0, exported.stderr
    pop = pd.read_csv(pop_out, dtype={"region": str, "value": "Int64"}, sep=";", decimal=",", encoding="utf-8-sig")
    source = population_frame()
    source = source[source["year"] == 2024]
    assert len(pop) == len(source) and set(pop["year"]) == {2024}
    assert set(pop["contents_code"]) == {"Personer1"}
    merged = pop.assign(age=pop["dims"].str.removeprefix("Alder=").str.rstrip("+").astype(int)).merge(
        source, on=["region", "age"], validate="one_to_one")
    assert (merged["value"] == merged["persons"]).all()
    assert pop.loc[pop["dims"] == "Alder=105+", "dims_label"].iloc[0] == "Alder=105 år eller eldre"
