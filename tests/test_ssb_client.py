"""The SSB client against the fake SSB (real HTTP on 127.0.0.1, real recorded bodies and real data).

Time is virtual: the fake server and the client's rate limiter share one clock whose `sleep` advances it
instantly, so a minute of SSB rate-limit waiting costs no real time.
"""

from __future__ import annotations

import json
import math
import random

import pytest
from fakessb.server import FakeSSB, Faults
from fakessb.tables import FIXTURE_12134, RAW, table_07459, table_12134

from drivers import jsonstat
from drivers.errors import SSBError
from drivers.ssb import Backoff, OfflineMiss, RateLimiter, ResponseCache, SSBClient, TooManyCells
from drivers.ssb.ratelimit import retry_after

SEL_12134 = {"KOKkommuneregion0000": ["0301", "4601", "5001"], "ContentsCode": ["KOSAG110000"], "Tid": ["2024"]}
V0_FILES = sorted(RAW.glob("riksdata_v0-jsonstat1_*.json"))


def _sel_07459(regions=None, years=("2024",)):
    t = table_07459()
    return {"Region": list(regions or t.dim["Region"].codes), "Alder": t.dim["Alder"].codes,
            "ContentsCode": ["Personer1"], "Tid": list(years)}


def test_12134_round_trip_equals_the_recorded_response(fake_ssb, make_client):
    client = make_client(fake_ssb)
    doc = client.data("12134", SEL_12134)
    recorded = json.loads(FIXTURE_12134.read_text(encoding="utf-8"))
    assert doc["value"] == recorded["value"] == [81240, 66605, 62853]
    ours, theirs = jsonstat.parse(doc), jsonstat.parse(recorded)
    assert ours.observations.equals(theirs.observations)
    assert ours.updated == theirs.updated and ours.notes == theirs.notes
    assert fake_ssb.log[-1][0] == "GET"  # short selection: GET


@pytest.mark.parametrize("path", V0_FILES, ids=lambda p: p.name[:30])
def test_recorded_v0_responses_round_trip_and_parse(path, vclock):
    """Each real v0 JSON-stat 1.x file, replayed by the fake's v0 endpoint, comes back identical and parses."""
    body = path.read_bytes()
    table_id = path.name.split("_")[2]
    server = FakeSSB({}, recorded_v0={table_id: body}, clock=vclock).start()
    try:
        client = SSBClient(server.url, v0_base=server.v0_url, limiter=RateLimiter(clock=vclock, sleep=vclock.sleep))
        doc = client.data_v0(table_id, {"Tid": ["*"]})
    finally:
        server.stop()
    assert doc == json.loads(body)
    parsed = jsonstat.parse(doc)
    sizes = doc["dataset"]["dimension"]["size"]
    assert len(parsed.observations) == math.prod(sizes)


def test_metadata_and_table_info(fake_ssb, make_client):
    client = make_client(fake_ssb)
    meta = client.metadata("07459")
    assert meta["id"] == ["Region", "Kjonn", "Alder", "ContentsCode", "Tid"]
    assert len(meta["dimension"]["Region"]["category"]["index"]) == 358
    assert client.table("07459")["updated"] == table_07459().updated
    assert client.limits().max_cells == 800_000


def test_long_code_lists_go_by_post_short_ones_by_get(fake_ssb, make_client):
    client = make_client(fake_ssb)
    client.data("07459", _sel_07459(regions=["0301", "4601"]))
    assert fake_ssb.log[-1][0] == "GET" and len(fake_ssb.log[-1][1]) <= 2000
    doc = client.data("07459", _sel_07459())
    assert fake_ssb.log[-1][0] == "POST"
    assert len(doc["value"]) == 358 * 106
    assert 200 not in [s for m, _, s in fake_ssb.log if m == "GET" and len(_) > 2100]


def test_404_html_on_a_long_get_switches_to_post(fake_ssb, make_client):
    client = make_client(fake_ssb, max_url=100_000)  # pretend we think long URLs are fine
    doc = client.data("07459", _sel_07459())
    assert [s for _, _, s in fake_ssb.log[-2:]] == [404, 200]
    assert fake_ssb.log[-1][0] == "POST" and len(doc["value"]) == 358 * 106


@pytest.mark.parametrize("status", [400, 403])
def test_too_many_cells_asks_the_caller_to_split(fake_ssb, make_client, status):
    fake_ssb.max_cells = 10_000
    fake_ssb.too_many_cells_status = status
    client = make_client(fake_ssb)
    with pytest.raises(TooManyCells):
        client.data("07459", _sel_07459())
    assert fake_ssb.log[-1][2] == status and client.stats.retries == 0


@pytest.mark.parametrize(
    ("selection", "title", "expected"),
    [
        ({**SEL_12134, "KOKkommuneregion0000": ["0301", "9999"]}, "Non-existent value",
         "variabel KOKkommuneregion0000, verdi 9999"),
        ({**SEL_12134, "ContentsCode": ["KOSXX0000"]}, "Non-existent value", "variabel ContentsCode, verdi KOSXX0000"),
        ({"KOKkommuneregion0000": ["0301"], "ContentsCode": ["KOSAG110000"]},
         "Missing selection for mandantory variable", "variabel Tid mangler"),
        ({**SEL_12134, "Kjonn": ["0"]}, "Non-existent variable", "variabel Kjonn"),
    ],
)
def test_other_4xx_is_one_clear_message_naming_table_variable_value(fake_ssb, make_client, selection, title, expected):
    client = make_client(fake_ssb)
    client.metadata("12134")
    n = len(fake_ssb.log)
    with pytest.raises(SSBError) as info:
        client.data("12134", selection)
    msg = str(info.value)
    assert msg.startswith(f"SSB avviste tabell 12134: {title} (HTTP 400)")
    assert expected in msg and "\n" not in msg
    assert len(fake_ssb.log) == n + 1  # no retry loop


def test_unknown_table(fake_ssb, make_client):
    with pytest.raises(SSBError, match="tabell 99999: Non-existent table"):
        make_client(fake_ssb).metadata("99999")


def test_429_honours_retry_after_and_then_succeeds(vclock, make_client):
    """Someone else on our IP used up SSB's window: we get 429, wait Retry-After, and carry on."""
    server = FakeSSB({"12134": table_12134()}, rate_calls=5, rate_window=60, clock=vclock).start()
    server.calls.extend([vclock() - 10] * 5)
    try:
        client = make_client(server, cache=False)
        t0 = vclock()
        assert client.data("12134", SEL_12134)["value"] == [81240, 66605, 62853]
    finally:
        server.stop()
    assert server.statuses() == [429, 200] and client.stats.throttled == 1
    assert vclock() - t0 == pytest.approx(50)  # exactly the Retry-After SSB named, no tight loop


def test_x_ratelimit_remaining_zero_pauses_before_a_429(vclock, make_client):
    server = FakeSSB({"12134": table_12134()}, rate_calls=5, rate_window=60, clock=vclock).start()
    try:
        client = make_client(server, cache=False)
        t0 = vclock()
        for _ in range(8):
            assert client.data("12134", SEL_12134)["value"] == [81240, 66605, 62853]
    finally:
        server.stop()
    assert 429 not in server.statuses() and client.stats.throttled == 0
    assert vclock() - t0 >= 60


def test_default_limiter_never_trips_ssbs_40_per_minute(fake_ssb, make_client, vclock):
    client = make_client(fake_ssb, cache=False)
    t0 = vclock()
    for _ in range(100):
        client.data("12134", SEL_12134)
    assert 429 not in fake_ssb.statuses()
    assert client.stats.throttled == 0
    assert vclock() - t0 >= 180  # 100 calls at 30/min take at least three virtual minutes


@pytest.mark.parametrize("kind", ["503", "reset", "truncate", "drop", "slow"])
def test_faults_are_retried(vclock, make_client, kind):
    script = {1: kind} if kind == "slow" else {1: kind, 2: kind}  # a slow answer costs real seconds
    server = FakeSSB({"12134": table_12134()}, clock=vclock,
                     faults=Faults(script=script, slow_seconds=2.5)).start()
    try:
        client = make_client(server, cache=False, timeout=1.0)
        doc = client.data("12134", SEL_12134)
    finally:
        server.stop()
    assert doc["value"] == [81240, 66605, 62853]
    assert client.stats.retries == len(script) and client.stats.requests == len(script) + 1


def test_persistent_503_gives_up_with_one_line(vclock, make_client):
    server = FakeSSB({"12134": table_12134()}, clock=vclock, faults=Faults(rate=1.0, kinds=("503",))).start()
    try:
        client = make_client(server, cache=False, backoff=Backoff(max_attempts=4, rng=random.Random(0)))
        with pytest.raises(SSBError, match="etter 4 forsøk: HTTP 503") as info:
            client.data("12134", SEL_12134)
    finally:
        server.stop()
    assert "\n" not in str(info.value) and len(server.log) == 4


def test_cache_resumes_without_http_and_offline_says_what_is_missing(fake_ssb, make_client, tmp_path, vclock):
    client = make_client(fake_ssb)
    first = client.data("12134", SEL_12134, version="v1")
    n = len(fake_ssb.log)
    again = make_client(fake_ssb).data("12134", SEL_12134, version="v1")
    assert again == first and len(fake_ssb.log) == n
    assert not list((tmp_path / "cache").rglob(".tmp-*"))
    offline = SSBClient(fake_ssb.url, cache=ResponseCache(tmp_path / "cache"), offline=True)
    assert offline.data("12134", SEL_12134, version="v1") == first
    assert len(fake_ssb.log) == n  # offline made no HTTP call
    with pytest.raises(OfflineMiss, match="offline: mangler i cachen"):
        offline.data("12134", SEL_12134, version="v2")  # a new SSB publication is not in the cache


def test_rate_limiter_sliding_window(vclock):
    limiter = RateLimiter(max_calls=3, window=60, clock=vclock, sleep=vclock.sleep)
    t0 = vclock()
    for _ in range(3):
        limiter.acquire()
    assert vclock() == t0
    limiter.acquire()
    assert vclock() == pytest.approx(t0 + 60)
    limiter.observe({"x-ratelimit-remaining": "0", "x-ratelimit-policy": "40;w=10s"})
    limiter.acquire()
    assert vclock() == pytest.approx(t0 + 70)
    assert retry_after({"retry-after": "12"}) == 12 and retry_after({}) is None


def test_backoff_is_capped_and_jittered():
    b = Backoff(base=2, cap=30, rng=random.Random(3))
    delays = [b.delay(n) for n in range(10)]
    assert all(0 < d <= 30 for d in delays)
    assert delays[9] >= 15 and len(set(delays)) == 10
