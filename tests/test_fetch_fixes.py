"""The fetcher's fixes for three findings of an independent SSB emulator (issue 13, item 6):

1. a repeated code is never sent (SSB answers it with HTTP 500 and an empty body) and the CLI says what it dropped;
2. a body that is JSON but not JSON-stat is never cached, and a bad cached entry is deleted and fetched again;
3. SSB's status symbols are kept for every table, 07459 (stored by age in `population`) included.

Against the fake SSB (real HTTP on 127.0.0.1, real recorded responses and data, virtual time).
"""

from __future__ import annotations

import json
import logging
import math
import random

import pandas as pd
import pytest
from fakessb.server import NOT_JSONSTAT, FakeSSB, Faults
from fakessb.tables import POPULATION_CSV, RAW, revised, table_07459, table_12134, value_at

from drivers import catalog, cli, jsonstat, store
from drivers import fetch as fetching
from drivers.errors import SSBError
from drivers.ssb import Backoff, RateLimiter, ResponseCache, SSBClient

pytestmark = pytest.mark.skipif(not POPULATION_CSV.exists(), reason="real SSB data (../shared/ssb) missing")
SEL_12134 = {"KOKkommuneregion0000": ["0301", "4601", "5001"], "ContentsCode": ["KOSAG110000"], "Tid": ["2024"]}
V0_FILES = sorted(RAW.glob("riksdata_v0-jsonstat1_*.json"))


def _client(server, clock, cache_dir=None, **kw) -> SSBClient:
    return SSBClient(server.url, cache=ResponseCache(cache_dir) if cache_dir else None, clock=clock,
                     limiter=RateLimiter(clock=clock, sleep=clock.sleep), v0_base=server.v0_url,
                     backoff=kw.pop("backoff", Backoff(rng=random.Random(7))), timeout=10.0, **kw)


def _data_paths(server) -> list[str]:
    return [p for _, p, _ in server.log if "/data" in p]


def _cache_bodies(cache_dir) -> dict:
    return {p: p.read_bytes() for p in sorted(cache_dir.rglob("*.json"))}


# ---- 1. repeated codes ------------------------------------------------------------------------------------------


def test_the_fake_answers_a_repeated_code_as_ssb_does(vclock):
    """docs/ssb-api.md §3: 'Same code twice (0301,0301) -> 500, empty body' [skills troubleshooting]."""
    server = FakeSSB({"12134": table_12134()}, clock=vclock).start()
    try:
        client = _client(server, vclock)
        url = client.data_url("12134", {**SEL_12134, "KOKkommuneregion0000": ["0301", "0301"]})
        resp = client.session.get(url, timeout=10)
    finally:
        server.stop()
    assert resp.status_code == 500 and resp.content == b""


def test_500_with_an_empty_body_is_one_line_that_names_the_likely_cause(vclock):
    server = FakeSSB({"12134": table_12134()}, clock=vclock).start()
    sel = {**SEL_12134, "KOKkommuneregion0000": ["0301", "0301"]}
    try:
        client = _client(server, vclock)
        with pytest.raises(SSBError) as info:
            client._send("GET", client.data_url("12134", sel), None, ("12134", sel))  # what the old client sent
    finally:
        server.stop()
    msg = str(info.value)
    assert "gjentatt kode" in msg and "HTTP 500" in msg and "\n" not in msg
    assert server.statuses() == [500]  # not retried: a repeat will not fix itself


@pytest.mark.parametrize("regions", [["0301", "4601", "0301", "5001", "4601"], None])
def test_the_client_never_sends_a_repeated_code(vclock, regions):
    """By GET (three regions) and by POST (all 358 regions of 07459, repeated): each code goes once."""
    server = FakeSSB({"12134": table_12134(), "07459": table_07459()}, clock=vclock).start()
    try:
        client = _client(server, vclock)
        if regions:
            doc = client.data("12134", {**SEL_12134, "KOKkommuneregion0000": regions})
            assert doc["value"] == [81240, 66605, 62853]
            assert client.dropped == {"12134": {"KOKkommuneregion0000": ["0301", "4601"]}}
        else:
            codes = table_07459().dim["Region"].codes
            ages = table_07459().dim["Alder"].codes
            sel = {"Region": codes + codes[:5], "Alder": ages + ["000"], "ContentsCode": ["Personer1"], "Tid": ["2024"]}
            doc = client.data("07459", sel)
            assert len(doc["value"]) == 358 * 106 and server.log[-1][0] == "POST"
            assert client.dropped == {"07459": {"Region": codes[:5], "Alder": ["000"]}}
    finally:
        server.stop()
    assert server.statuses() == [200]


def test_cli_drops_repeated_regions_and_tables_and_says_so_once(tmp_path, fast_cli, capsys):
    server = FakeSSB({"12134": table_12134()}, clock=fast_cli).start()
    db = tmp_path / "x.duckdb"
    try:
        code = cli.main(["fetch", "--base-url", server.url, "--db", str(db), "--cache", str(tmp_path / "c"),
                         "--tables", "12134,12134", "--regions", "0301,4601,0301"])
    finally:
        server.stop()
    err = capsys.readouterr().err.splitlines()
    said = [line for line in err if "gjentatte koder" in line]
    assert code == 0, err
    assert said == ["drivers: gjentatte koder fjernet før forespørselen, hver sendes én gang (repeated codes "
                    "dropped): --tables: 12134; --regions: 0301"]
    assert 500 not in server.statuses() and len(_data_paths(server)) == 1
    assert "0301%2C0301" not in _data_paths(server)[0] and "0301,0301" not in _data_paths(server)[0]
    con = store.connect(db, read_only=True)
    try:
        got = store.read_observations(con, tables="12134")
    finally:
        con.close()
    assert dict(zip(got["region"], got["value"], strict=True)) == {"0301": 81240.0, "4601": 66605.0}


def test_a_repeated_code_in_a_planned_selection_is_dropped_and_reported(tmp_path, monkeypatch, vclock):
    """A catalog selection naming a code twice (any dimension) is cleaned before the plan."""
    entries = catalog.entries()
    entry = entries["07459"]
    patched = {**entries, "07459": type(entry)(**{**entry.__dict__, "selection": {
        **entry.selection, "ContentsCode": ["Personer1", "Personer1"]}})}
    monkeypatch.setattr(catalog, "entries", lambda: patched)
    server = FakeSSB({"07459": table_07459()}, clock=vclock).start()
    try:
        report = fetching.fetch(_client(server, vclock), tmp_path / "x.duckdb", ["07459"], (2024, 2024))
    finally:
        server.stop()
    assert report.failures == [] and report.written == {"07459": 358 * 106}
    assert report.duplicates == {"07459": {"ContentsCode": ["Personer1"]}}
    assert fetching.duplicates_line(report).endswith("tabell 07459 ContentsCode: Personer1")
    assert 500 not in server.statuses()


# ---- 2. bodies that are JSON but not JSON-stat ------------------------------------------------------------------


def test_a_200_that_is_not_jsonstat_is_not_cached_and_is_retried(vclock, tmp_path):
    server = FakeSSB({"12134": table_12134()}, clock=vclock, faults=Faults(script={1: "notjsonstat"})).start()
    try:
        client = _client(server, vclock, tmp_path / "cache")
        doc = client.data("12134", SEL_12134, version="v1")
        n = len(server.log)
        again = _client(server, vclock, tmp_path / "cache").data("12134", SEL_12134, version="v1")
    finally:
        server.stop()
    assert doc["value"] == again["value"] == [81240, 66605, 62853]
    assert client.stats.retries == 1 and server.statuses() == [200, 200] and len(server.log) == n  # 2nd: cache
    bodies = _cache_bodies(tmp_path / "cache")
    assert len(bodies) == 1 and all(jsonstat.problem(json.loads(b)) is None for b in bodies.values())


def test_only_non_jsonstat_answers_fail_with_one_line_and_nothing_cached(vclock, tmp_path):
    server = FakeSSB({"12134": table_12134()}, clock=vclock, faults=Faults(rate=1.0, kinds=("notjsonstat",))).start()
    try:
        client = _client(server, vclock, tmp_path / "cache", backoff=Backoff(max_attempts=3, rng=random.Random(0)))
        with pytest.raises(SSBError) as info:
            client.data("12134", SEL_12134)
    finally:
        server.stop()
    msg = str(info.value)
    assert msg.startswith("SSB ga ikke JSON-stat for tabell 12134") and "etter 3 forsøk" in msg and "\n" not in msg
    assert "ingenting er lagret i cachen" in msg and len(server.log) == 3
    assert _cache_bodies(tmp_path / "cache") == {}


def test_emulator_finding_one_bad_200_does_not_break_later_runs(tmp_path, vclock):
    """The emulator's case: one `{"foo": 1}` at 200 for 12134's data, then correct answers. The fetch succeeds,
    and a later offline run of the same request works from the cache (the old client cached the bad body)."""
    server = FakeSSB({"12134": table_12134()}, clock=vclock).start()
    cache = tmp_path / "cache"
    try:
        client = _client(server, vclock, cache)
        client.config()
        client.table("12134")
        client.metadata("12134")
        n = server.count  # a new client's fetch asks /tables/12134, metadata, /config, then the data
        server.faults = Faults(script={n + 4: "notjsonstat"})
        client = _client(server, vclock, cache)
        report = fetching.fetch(client, tmp_path / "x.duckdb", ["12134"])
        assert report.failures == [] and report.written == {"12134": 3}
        assert [s for _, p, s in server.log if "/data" in p] == [200, 200]  # the bad one, the retry
        assert client.stats.retries == 1
        offline = fetching.fetch(SSBClient(server.url, cache=ResponseCache(cache), offline=True),
                                 tmp_path / "y.duckdb", ["12134"])
    finally:
        server.stop()
    assert offline.failures == [] and offline.written == {"12134": 3}
    assert not any(b == NOT_JSONSTAT for b in _cache_bodies(cache).values())


def _corrupt_data_entries(cache_dir, how: str) -> int:
    n = 0
    for path, body in _cache_bodies(cache_dir).items():
        doc = json.loads(body)
        if "value" in doc:  # a data answer (metadata and /tables answers have no values)
            path.write_bytes(NOT_JSONSTAT if how == "foo" else body[: len(body) // 2])
            n += 1
    return n


@pytest.mark.parametrize("how", ["foo", "truncated"])
def test_a_bad_cached_entry_is_deleted_logged_and_fetched_again(tmp_path, vclock, caplog, how):
    cache, db = tmp_path / "cache", tmp_path / "x.duckdb"
    server = FakeSSB({"12134": table_12134(), "07459": table_07459()}, clock=vclock, max_cells=20_000).start()
    try:
        fetching.fetch(_client(server, vclock, cache), db, ["12134", "07459"], (2024, 2025))
        first = _db_state(db)
        bad = _corrupt_data_entries(cache, how)
        n_data = len(_data_paths(server))
        caplog.set_level(logging.WARNING, logger="drivers.ssb")
        client = _client(server, vclock, cache)
        report = fetching.fetch(client, db, ["12134", "07459"], (2024, 2025), full=True)
    finally:
        server.stop()
    assert bad == 1 + math.ceil(358 * 106 * 2 / 20_000)  # 12134 and every 07459 chunk
    assert report.failures == [] and client.stats.bad_cache == bad
    assert len(_data_paths(server)) == n_data + bad  # each bad entry fetched again, the rest none
    lines = [r.getMessage() for r in caplog.records if r.name == "drivers.ssb"]
    assert len(lines) == bad and all("ugyldig cache-oppføring slettet, henter på nytt" in m for m in lines)
    assert all("\n" not in m for m in lines)
    docs = [json.loads(b) for b in _cache_bodies(cache).values()]  # every entry is JSON again
    data = [d for d in docs if "value" in d]
    assert len(data) == bad and all(jsonstat.problem(d) is None for d in data)
    again = _db_state(db)
    for key in ("population", "observations"):
        pd.testing.assert_frame_equal(first[key], again[key], obj=key)


def test_offline_a_bad_cached_entry_is_one_clear_line(tmp_path, vclock, fast_cli, capsys):
    cache, db = tmp_path / "cache", tmp_path / "x.duckdb"
    server = FakeSSB({"12134": table_12134()}, clock=vclock).start()
    try:
        fetching.fetch(_client(server, vclock, cache), db, ["12134"])
        assert _corrupt_data_entries(cache, "foo") == 1
        n = len(server.log)
        code = cli.main(["fetch", "--base-url", server.url, "--db", str(tmp_path / "y.duckdb"), "--cache", str(cache),
                         "--tables", "12134", "--offline"])
    finally:
        server.stop()
    err = capsys.readouterr().err.splitlines()
    assert code == 1 and len(server.log) == n  # offline: no HTTP
    last = err[-1]
    assert last.startswith("drivers: 1 tabell(er) feilet: 12134: offline: cache-oppføringen for GET ")
    assert "/tables/12134/data?" in last and "var ugyldig" in last and "kjør uten --offline" in last
    assert not any(b == NOT_JSONSTAT for b in _cache_bodies(cache).values())  # deleted
    assert not (tmp_path / "y.duckdb").exists()


def test_metadata_that_is_not_jsonstat_is_retried(vclock, tmp_path):
    server = FakeSSB({"12134": table_12134()}, clock=vclock, faults=Faults(script={1: "notjsonstat"})).start()
    try:
        client = _client(server, vclock, tmp_path / "cache")
        meta = client.metadata("12134")
    finally:
        server.stop()
    assert meta["id"] == ["KOKkommuneregion0000", "ContentsCode", "Tid"] and client.stats.retries == 1


# ---- 3. status symbols ------------------------------------------------------------------------------------------


def _db_state(db) -> dict[str, pd.DataFrame]:
    con = store.connect(db, read_only=True)
    try:
        return {"population": store.read_population(con),
                "observations": store.read_frame(con, "SELECT * FROM observations ORDER BY ALL")}
    finally:
        con.close()


@pytest.mark.parametrize("path", V0_FILES, ids=lambda p: p.name[22:40])
def test_real_v0_files_keep_every_status_symbol_in_the_store(path, vclock, tmp_path):
    """Each real recorded v0 JSON-stat 1.x file (many nulls, a `status` object), replayed by the fake's v0
    endpoint, fetched, parsed and stored: every cell with a symbol is NULL + that symbol, the rest as given."""
    body = path.read_bytes()
    table_id = path.name.split("_")[2]
    server = FakeSSB({}, recorded_v0={table_id: body}, clock=vclock).start()
    try:
        doc = _client(server, vclock).data_v0(table_id, {"Tid": ["*"]})
    finally:
        server.stop()
    parsed = jsonstat.parse(doc)
    con = store.connect(tmp_path / "x.duckdb")
    try:
        store.write_fetched_table(con, parsed.table_meta(table_id=table_id, origin="ssb-api"), parsed.observations,
                                  parsed.categories)
        got = store.read_frame(con, "SELECT region, year, contents_code, dims, value, status FROM observations")
    finally:
        con.close()
    ds = json.loads(body)["dataset"]
    want = {int(k): v for k, v in ds["status"].items()}
    obs = parsed.observations.assign(cell=range(len(parsed.observations)))
    merged = obs.astype({"region": str, "contents_code": str, "dims": str}).merge(
        got, on=["region", "year", "contents_code", "dims"], suffixes=("_parsed", ""), validate="one_to_one")
    assert len(merged) == len(got) == len(ds["value"])
    stored = {int(c): s for c, s in zip(merged["cell"], merged["status"], strict=True) if isinstance(s, str)}
    assert stored == want and len(want) > 0
    assert merged.loc[merged["status"].notna(), "value"].isna().all()  # NULL, never 0
    given = [ds["value"][c] for c in merged["cell"]]
    assert all((v is None and pd.isna(s)) or v == s for v, s in zip(given, merged["value"], strict=True))


COORDS = {"Kjonn": "0", "ContentsCode": "Personer1", "Tid": "2024"}
SYMBOLS = [({**COORDS, "Region": "0301", "Alder": "000"}, None, "."),
           ({**COORDS, "Region": "4601", "Alder": "050"}, None, ".."),
           ({**COORDS, "Region": "5001", "Alder": "105+"}, None, ":")]


def _population_state(db):
    con = store.connect(db, read_only=True)
    try:
        return (store.read_population(con), store.read_population_status(con), store.export_frame(con, "07459"),
                store.read_revisions(con, tables="07459"))
    finally:
        con.close()


def test_07459_status_symbols_are_kept(tmp_path, vclock):
    """A fake 07459 answer with `.`, `..` and `:` on three real cells: persons NULL, symbols kept (in
    population_status), exported with the row; a republication with the value again clears the symbol and
    records the revision from symbol to value."""
    db = tmp_path / "x.duckdb"
    with_symbols = revised(table_07459(), "2026-03-01T07:00:00Z", SYMBOLS)
    server = FakeSSB({"07459": with_symbols}, clock=vclock, max_cells=20_000).start()
    try:
        report = fetching.fetch(_client(server, vclock), db, ["07459"], (2024, 2024))
        pop, status, export, _ = _population_state(db)
        assert report.failures == []
        assert status.to_dict("records") == [{"region": "0301", "year": 2024, "age": 0, "status": "."},
                                             {"region": "4601", "year": 2024, "age": 50, "status": ".."},
                                             {"region": "5001", "year": 2024, "age": 105, "status": ":"}]
        idx = pop.set_index(["region", "year", "age"])["persons"]
        assert all(pd.isna(idx[(r["region"], r["year"], r["age"])]) for r in status.to_dict("records"))
        assert idx.notna().sum() == len(idx) - 3
        marked = export[export["status"].notna()]
        assert sorted(zip(marked["region"], marked["dims"], marked["status"], strict=True)) == [
            ("0301", "Alder=000", "."), ("4601", "Alder=050", ".."), ("5001", "Alder=105+", ":")]
        assert marked["value"].isna().all()
        # SSB publishes the Oslo cell again (the real number): symbol gone, revision '.' -> value
        server.tables["07459"] = revised(with_symbols, "2026-04-01T07:00:00Z",
                                         [(SYMBOLS[0][0], *value_at(table_07459(), SYMBOLS[0][0]))])
        report = fetching.fetch(_client(server, vclock), db, ["07459"], (2024, 2024))
    finally:
        server.stop()
    pop, status, _, revs = _population_state(db)
    real = value_at(table_07459(), SYMBOLS[0][0])[0]
    assert report.failures == [] and real is not None
    assert list(status["region"]) == ["4601", "5001"]
    assert pop.set_index(["region", "year", "age"]).loc[("0301", 2024, 0), "persons"] == real
    rev = revs[(revs["region"] == "0301") & (revs["dims"] == "Alder=000")]
    assert len(rev) == 1 and rev["old_status"].iloc[0] == "." and rev["new_value"].iloc[0] == real
    assert pd.isna(rev["old_value"].iloc[0]) and rev["new_status"].iloc[0] is None


def test_population_without_symbols_creates_no_status_table(tmp_path, vclock):
    """Databases (and the snapshot) without symbols stay as they were: no population_status table, empty reader."""
    server = FakeSSB({"07459": table_07459()}, clock=vclock, max_cells=50_000).start()
    try:
        fetching.fetch(_client(server, vclock), tmp_path / "x.duckdb", ["07459"], (2024, 2024))
    finally:
        server.stop()
    con = store.connect(tmp_path / "x.duckdb", read_only=True)
    try:
        assert not store._has_table(con, "population_status")
        assert store.read_population_status(con).empty
        assert store.export_frame(con, "07459")["status"].isna().all()
    finally:
        con.close()


def test_write_population_keeps_symbols_on_both_paths(tmp_path):
    """store.write_population (the snapshot's replace-all and `drivers load`'s per-table write) with a `status`
    column: real Oslo 2024 rows, three of them NULL with a symbol; writing the rows again without symbols clears them."""
    from fakessb.tables import population_frame

    oslo = population_frame()
    oslo = oslo[(oslo["region"] == "0301") & (oslo["year"] == 2024)].reset_index(drop=True)
    marked = oslo.assign(persons=oslo["persons"].astype("Int64"), status=None)
    for age, sym in ((0, "."), (1, ".."), (105, ":")):
        marked.loc[marked["age"] == age, ["persons", "status"]] = [pd.NA, sym]
    con = store.connect(tmp_path / "x.duckdb")
    try:
        for write in (lambda f: store.write_population(con, f),
                      lambda f: store.write_population(con, {"table_id": "07459", "origin": "statbank-file"}, f, None)):
            write(marked)
            got = store.read_population_status(con)
            assert list(zip(got["age"], got["status"], strict=True)) == [(0, "."), (1, ".."), (105, ":")]
            assert store.read_population(con)["persons"].isna().sum() == 3
            write(oslo)  # the same rows, no symbols (all persons given)
            assert store.read_population_status(con).empty
            assert store.read_population(con)["persons"].sum() == oslo["persons"].sum()
    finally:
        con.close()
