"""The fake SSB PxWebApi v2: a real HTTP server on 127.0.0.1 (ThreadingHTTPServer in a thread).

Behaves like SSB where our client cares (docs/ssb-api.md): /config, /tables/{id}, /tables/{id}/metadata,
/tables/{id}/data by GET (valueCodes[VAR]=a,b) and POST ({"selection": [...]}); SSB's real error bodies;
400 "Too many cells selected" past the cell limit; an IIS 404 HTML page past the URL limit; 500 with an
empty body for a repeated code; 429 with Retry-After and x-ratelimit-* headers past the rate limit.
Faults (503, connection reset, truncated body, dropped connection, slow answer, a 200 `{"foo": 1}` that is
JSON but not JSON-stat) come from a scripted
schedule ({request number: kind}) or a seeded random draw. The server's clock is injectable so a test
can share a virtual clock with the client's rate limiter.
"""

from __future__ import annotations

import json
import math
import random
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from .tables import Table, error_bodies

PREFIX = "/api/pxwebapi/v2"
FAULT_KINDS = ("503", "reset", "truncate", "drop", "slow", "notjsonstat")
NOT_JSONSTAT = b'{"foo": 1}'  # a 200 answer that is JSON but not JSON-stat (seen from an SSB emulator)


@dataclass
class Faults:
    """Which requests fail and how: `script` by 1-based request number, else `rate` with a seeded RNG."""

    script: dict[int, str] = field(default_factory=dict)
    rate: float = 0.0
    kinds: tuple[str, ...] = ("503", "reset", "truncate")
    seed: int = 0
    slow_seconds: float = 0.5

    def __post_init__(self):
        self.rng = random.Random(self.seed)

    def draw(self, n: int) -> str | None:
        if n in self.script:
            return self.script[n]
        if self.rate and self.rng.random() < self.rate:
            return self.rng.choice(self.kinds)
        return None


@dataclass
class FakeSSB:
    tables: dict[str, Table]
    recorded_v0: dict[str, bytes] = field(default_factory=dict)  # table id -> a recorded v0 response body
    max_cells: int = 800_000
    advertised_cells: int | None = None
    too_many_cells_status: int = 400  # live SSB says 400; the OpenAPI spec and SSB's guide say 403  # what /config says, when it should differ from what is enforced
    max_url: int = 2100
    rate_calls: int = 40
    rate_window: float = 60.0
    clock: Callable[[], float] = time.monotonic
    faults: Faults = field(default_factory=Faults)
    log: list[tuple[str, str, int]] = field(default_factory=list)
    calls: deque = field(default_factory=deque)
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, port: int = 0) -> FakeSSB:
        handler = type("Handler", (_Handler,), {"fake": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # resets are on purpose
        # a short shutdown poll: the default 0.5 s made each test using the server wait ~0.5 s at its teardown
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}{PREFIX}"

    @property
    def v0_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/api/v0"

    def statuses(self) -> list[int]:
        return [s for _, _, s in self.log]

    def rate_check(self) -> tuple[bool, dict[str, str]]:
        """Sliding window like SSB's `40;w=60s`; returns (allowed, headers)."""
        now = self.clock()
        while self.calls and self.calls[0] <= now - self.rate_window:
            self.calls.popleft()
        policy = f"{self.rate_calls};w={self.rate_window:g}s"
        if len(self.calls) >= self.rate_calls:
            wait = max(1, math.ceil(self.calls[0] + self.rate_window - now))
            return False, {"Retry-After": str(wait), "x-ratelimit-limit": str(self.rate_calls),
                           "x-ratelimit-remaining": "0", "x-ratelimit-policy": policy,
                           "x-ratelimit-resource": "SB_API_1MIN"}
        self.calls.append(now)
        return True, {"x-ratelimit-limit": str(self.rate_calls),
                      "x-ratelimit-remaining": str(self.rate_calls - len(self.calls)),
                      "x-ratelimit-policy": policy, "x-ratelimit-resource": "SB_API_1MIN"}


def _problem(title: str, status: int = 400, detail: str | None = None) -> bytes:
    """SSB's real body where one was recorded, else the same shape (docs/ssb-api.md, [skills])."""
    real = error_bodies().get(title)
    if real is not None and detail is None:
        return real
    doc = {"type": "Parameter error", "title": title, "status": status}
    if detail:
        doc["detail"] = detail
    return json.dumps(doc).encode()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeSSB
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; no 40 ms delayed-ACK stall

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def _serve(self, method: str) -> None:
        fake = self.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with fake.lock:
            fake.count += 1
            n = fake.count
            fault = fake.faults.draw(n)
            allowed, rl_headers = fake.rate_check()
        if fault == "reset":
            fake.log.append((method, self.path, -1))
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if fault == "slow":
            time.sleep(fake.faults.slow_seconds)
        if not allowed:
            self._reply(429, b"Too Many Requests", rl_headers, "text/plain", method)
            return
        if fault == "503":
            self._reply(503, b"Service Unavailable", rl_headers, "text/plain", method)
            return
        status, payload, ctype = self._route(method, body)
        if fault == "notjsonstat" and status == 200:
            payload, ctype = NOT_JSONSTAT, "application/json"
        if fault == "truncate" and status == 200:
            payload = payload[: len(payload) // 2]
        if fault == "drop" and status == 200:
            self._reply(status, payload, rl_headers, ctype, method, send=len(payload) // 2)
            return
        self._reply(status, payload, rl_headers, ctype, method)

    def _reply(self, status, payload, headers, ctype, method, send=None):
        self.fake.log.append((method, self.path, status))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload if send is None else payload[:send])
        if send is not None:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True

    def _route(self, method: str, body: bytes) -> tuple[int, bytes, str]:
        fake = self.fake
        if len(self.path) > fake.max_url:
            return 404, error_bodies()["url_too_long"], "text/html"
        parts = urlsplit(self.path)
        path = parts.path
        if path.startswith("/api/v0/") and method == "POST":
            recorded = fake.recorded_v0.get(path.rstrip("/").rsplit("/", 1)[-1])
            if recorded is None:  # v0 says 404 for an unknown table (docs/ssb-api.md §2)
                return 404, b"Not Found", "text/plain"
            return 200, recorded, "application/json; charset=utf-8"
        if not path.lower().startswith(PREFIX):
            return 404, b"Not Found", "text/plain"
        segs = [s for s in path[len(PREFIX):].split("/") if s]
        query = parse_qsl(parts.query, keep_blank_values=True)
        if segs == ["config"]:
            return 200, json.dumps(_config(fake)).encode(), "application/json"
        if not segs or segs[0].lower() != "tables" or len(segs) < 2:
            return 404, b"Not Found", "text/plain"
        table = fake.tables.get(segs[1])
        if table is None:
            return 400, _problem("Non-existent table", 404), "application/problem+json"
        rest = [s.lower() for s in segs[2:]]
        if rest == []:
            return 200, json.dumps(table.info()).encode(), "application/json"
        if rest == ["metadata"]:
            return 200, json.dumps(table.metadata()).encode(), "application/json"
        if rest != ["data"]:
            return 404, b"Not Found", "text/plain"
        if method == "POST":
            try:
                sel = {s["variableCode"]: list(s["valueCodes"]) for s in json.loads(body)["selection"]}
            except (ValueError, KeyError, TypeError):
                return 400, _problem("Parameter error"), "application/problem+json"
        else:
            sel = {}
            for k, v in query:
                if k.lower().startswith("valuecodes[") and k.endswith("]"):
                    sel[unquote(k[11:-1])] = v.split(",") if v else []
        return self._data(table, sel)

    def _data(self, table: Table, sel: dict[str, list[str]]) -> tuple[int, bytes, str]:
        dims = table.dim
        lowered = {d.lower(): d for d in dims}
        fixed = {}
        for var, codes in sel.items():
            real = lowered.get(var.lower())
            if real is None:
                return 400, _problem("Non-existent variable"), "application/problem+json"
            if codes == ["*"]:
                codes = list(dims[real].codes)
            if any(c not in dims[real].index for c in codes):
                return 400, _problem("Non-existent value"), "application/problem+json"
            if len(set(codes)) != len(codes):
                return 500, b"", "text/plain"
            fixed[real] = codes
        for d in table.dims:
            if d.id not in fixed and not d.elimination:
                return 400, _problem("Missing selection for mandantory variable"), "application/problem+json"
        cells = table.cells(fixed)
        if cells > self.fake.max_cells:
            status = self.fake.too_many_cells_status
            return status, _problem("Too many cells selected", status,
                                 f"{cells} cells selected, the limit is {self.fake.max_cells}"), "application/problem+json"
        return 200, json.dumps(table.data(fixed), ensure_ascii=False).encode(), "application/json; charset=utf-8"


def _config(fake: FakeSSB) -> dict:
    """Shaped like SSB's live /config in 2026: the call limit fields are 0 (limits are in headers)."""
    return {"apiVersion": "2.0.0", "defaultLanguage": "no", "languages": [{"id": "no"}, {"id": "en"}],
            "maxDataCells": fake.advertised_cells or fake.max_cells, "maxCallsPerTimeWindow": 0, "timeWindow": 0,
            "defaultDataFormat": "json-stat2", "dataFormats": ["json-stat2", "csv", "px", "xlsx", "parquet"],
            "sourceReferences": [{"language": "no", "text": "Kilde: Statistisk sentralbyrå"}]}


class VirtualClock:
    """Shared fake time: `sleep` advances it instantly. Used by both the fake server and the client."""

    def __init__(self, start: float = 1000.0):
        self.now = start
        self.lock = threading.Lock()
        self.slept = 0.0

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += max(0.0, seconds)
            self.slept += max(0.0, seconds)
