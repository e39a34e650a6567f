"""The SSB client: the only module in drivers that speaks HTTP (PxWebApi v2, v0 where v2 lacks something).

Every call goes through one loop: the rate limiter, then the request, then a verdict on the answer:
- 200 with a complete JSON body of the expected kind (data: a JSON-stat dataset): done (stored in the cache);
- 429, 5xx, timeouts, connection resets, truncated or invalid JSON, JSON that is not JSON-stat: retry with
  capped jittered backoff, honouring Retry-After (a body that is not what was asked for is never cached);
- 500 with an empty body (SSB's answer to a repeated value code): SSBError saying so; `data` removes
  repeated codes before it builds a request, so the fetcher never sends one;
- 403, or 400 "Too many cells selected": raise TooManyCells so the caller splits the request;
- 404 HTML on a long GET (IIS "URL too long"): the same request again as POST;
- any other 4xx: SSBError with one clear line naming table, variable, value and SSB's title.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

import requests

from drivers import jsonstat
from drivers.config import SSB_API_V0, SSB_API_V2
from drivers.errors import SSBError, UserError
from drivers.ssb.cache import BadEntry, ResponseCache, cache_key, json_object
from drivers.ssb.planner import dedupe
from drivers.ssb.ratelimit import Backoff, RateLimiter, retry_after

MAX_GET_URL = 2000  # SSB answers 404 past ~2 100 characters; keep a margin
DEFAULT_MAX_CELLS = 800_000
RETRY_STATUS = {429, 500, 502, 503, 504}
TOO_MANY_CELLS = "Too many cells selected"
log = logging.getLogger("drivers.ssb")


def _dataset(doc) -> str | None:
    return jsonstat.problem(doc)


def _metadata_doc(doc) -> str | None:
    return jsonstat.problem(doc, values=False)


class TooManyCells(Exception):
    """SSB refused a request as too large (403 or 400 'Too many cells selected'): split it."""


class OfflineMiss(UserError):
    """`--offline` and the response is not in the cache."""


class BadCacheEntry(UserError):
    """`--offline` and the cached response was not valid (deleted; a run without --offline fetches it again)."""


@dataclass
class Stats:
    """What a fetch cost: HTTP calls, answers from the cache, cells received, retries, 429s."""

    requests: int = 0
    cached: int = 0
    cells: int = 0
    retries: int = 0
    throttled: int = 0
    splits: int = 0
    bad_cache: int = 0  # cached bodies that did not parse: deleted and fetched again


@dataclass(frozen=True)
class Limits:
    max_cells: int = DEFAULT_MAX_CELLS
    max_values: int = 10**9


def _quote(code: str) -> str:
    return quote(code, safe="")


class SSBClient:
    """PxWebApi v2 client with limiter, retries and an optional on-disk cache."""

    def __init__(
        self,
        base_url: str = SSB_API_V2,
        *,
        cache: ResponseCache | None = None,
        offline: bool = False,
        limiter: RateLimiter | None = None,
        backoff: Backoff | None = None,
        session: requests.Session | None = None,
        timeout: float = 60.0,
        lang: str = "no",
        max_url: int = MAX_GET_URL,
        v0_base: str = SSB_API_V0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.base = base_url.rstrip("/")
        self.v0_base = v0_base.rstrip("/")
        self.cache = cache
        self.offline = offline
        if offline and cache is None:
            raise UserError("--offline trenger en cache-katalog (needs a cache directory)")
        self.limiter = limiter or RateLimiter()
        self.backoff = backoff or Backoff()
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", "drivers/0.1 (KOSTRA dashboard; sequential, <=30 calls/min)")
        self.timeout = timeout
        self.lang = lang
        self.max_url = max_url
        self.clock = clock
        self.stats = Stats()
        self._metadata: dict[str, dict] = {}
        self._config: dict | None = None
        self.dropped: dict[str, dict[str, list[str]]] = {}  # table -> {dimension: repeated codes removed}

    # ---- endpoints -------------------------------------------------------------------------------

    def config(self) -> dict:
        """GET /config (limits). Read once per client."""
        if self._config is None:
            self._config = self._fresh("GET", f"{self.base}/config", context=("config", None))
        return self._config

    def limits(self) -> Limits:
        """Cell and value limits from /config; SSB's documented 800 000 cells if it does not say."""
        try:
            cfg = self.config()
        except SSBError:  # a /config hiccup should not stop a fetch: SSB's documented limits apply
            cfg = {}
        cells = cfg.get("maxDataCells") or cfg.get("maxCells") or DEFAULT_MAX_CELLS
        values = cfg.get("maxValues") or 10**9
        return Limits(int(cells), int(values))

    def table(self, table_id: str) -> dict:
        """GET /tables/{id}: title, `updated`, first/last period, discontinued."""
        return self._fresh("GET", f"{self.base}/tables/{table_id}?lang={self.lang}", context=(table_id, None))

    def metadata(self, table_id: str) -> dict:
        """GET /tables/{id}/metadata as JSON-stat2 (dimensions, codes, labels, elimination, units)."""
        url = f"{self.base}/tables/{table_id}/metadata?lang={self.lang}&outputFormat=json-stat2"
        doc = self._fresh("GET", url, context=(table_id, None), check=_metadata_doc)
        self._metadata[table_id] = doc
        return doc

    def data_url(self, table_id: str, selection: Mapping[str, Sequence[str]] | None = None) -> str:
        url = f"{self.base}/tables/{table_id}/data?lang={self.lang}&outputFormat=json-stat2"
        for var, codes in (selection or {}).items():
            url += f"&valueCodes%5B{_quote(var)}%5D=" + ",".join(_quote(c) for c in codes)
        return url

    def data(self, table_id: str, selection: Mapping[str, Sequence[str]], version: str = "") -> dict:
        """The JSON-stat2 dataset for an explicit selection; GET when the URL is short, else POST.

        `version` (SSB's `updated` for the table) is part of the cache key, so a new publication is
        downloaded again while an interrupted run of the same publication resumes from the cache.
        """
        selection = self._dedupe(table_id, selection)
        get_url = self.data_url(table_id, selection)
        if len(get_url) <= self.max_url:
            method, url, body = "GET", get_url, None
        else:
            method, url, body = "POST", self.data_url(table_id), self.post_body(selection)
        doc = self._cached(method, url, body, version, context=(table_id, selection), check=_dataset)
        self.stats.cells += len(doc.get("value") or [])
        return doc

    def _dedupe(self, table_id: str, selection: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
        """The selection without repeated codes (SSB answers a repeated code with 500 and an empty body);
        what was removed is kept in `self.dropped` for the caller to say."""
        clean, dropped = dedupe(selection)
        for var, codes in dropped.items():
            seen = self.dropped.setdefault(table_id, {}).setdefault(var, [])
            seen += [c for c in codes if c not in seen]
        return clean

    @staticmethod
    def post_body(selection: Mapping[str, Sequence[str]]) -> bytes:
        sel = [{"variableCode": var, "valueCodes": list(codes)} for var, codes in selection.items()]
        return json.dumps({"selection": sel}, separators=(",", ":")).encode()

    def data_v0(self, table_id: str, selection: Mapping[str, Sequence[str]]) -> dict:
        """PxWebApi v1 (api/v0) POST, for what v2 lacks. Returns JSON-stat2 as well."""
        selection = self._dedupe(table_id, selection)
        query = [{"code": var, "selection": {"filter": "item", "values": list(codes)}} for var, codes in selection.items()]
        body = json.dumps({"query": query, "response": {"format": "json-stat2"}}).encode()
        url = f"{self.v0_base}/{self.lang}/table/{table_id}"
        return self._cached("POST", url, body, "", context=(table_id, selection), check=_dataset)

    # ---- cache -------------------------------------------------------------------------------

    def _fresh(self, method: str, url: str, context, check=json_object) -> dict:
        """Metadata-like calls: always asked anew online (SSB changes codes), from the cache offline."""
        key = cache_key(method, url)
        if self.offline:
            return self._from_cache(key, method, url, check)
        raw, doc = self._send(method, url, None, context, check)
        if self.cache is not None:
            self.cache.put(key, raw)  # _send has checked it
        return doc

    def _cached(self, method: str, url: str, body: bytes | None, version: str, context, check=json_object) -> dict:
        key = cache_key(method, url + "#" + version, body)
        if self.offline:
            return self._from_cache(key, method, url, check)
        if self.cache is not None:
            doc = self._load(key, method, url, check)
            if doc is not None:
                self.stats.cached += 1
                return doc
        raw, doc = self._send(method, url, body, context, check)
        if self.cache is not None:
            self.cache.put(key, raw)  # _send has checked it: only a body that passed is kept
        return doc

    def _load(self, key: str, method: str, url: str, check):
        """A cached entry, or None if absent or bad (a bad one is deleted and logged: fetched again)."""
        try:
            return self.cache.load(key, check)
        except BadEntry as bad:
            self.stats.bad_cache += 1
            log.warning("drivers: ugyldig cache-oppføring slettet, henter på nytt (bad cache entry deleted, "
                        "fetching again): %s %s: %s", method, url[:160], bad.reason)
            return None

    def _from_cache(self, key: str, method: str, url: str, check=json_object) -> dict:
        try:
            doc = self.cache.load(key, check) if self.cache else None
        except BadEntry as bad:
            self.stats.bad_cache += 1
            raise BadCacheEntry(f"offline: cache-oppføringen for {method} {url[:160]} var ugyldig ({bad.reason}) og "
                                "er slettet (bad cache entry deleted); kjør uten --offline for å hente den på nytt") from None
        if doc is None:
            raise OfflineMiss(f"offline: mangler i cachen (not cached): {method} {url[:160]}")
        self.stats.cached += 1
        return doc

    # ---- the request loop ------------------------------------------------------------------------

    def _send(self, method: str, url: str, body: bytes | None, context, check=json_object) -> tuple[bytes, dict]:
        attempt = 0
        not_jsonstat = None  # the last 200 answer that was JSON of the wrong kind (why)
        throttled = 0
        while True:
            self.limiter.acquire()
            self.stats.requests += 1
            problem = None
            try:
                resp = self.session.request(
                    method, url, data=body, timeout=self.timeout,
                    headers={"Content-Type": "application/json"} if body is not None else None,
                )
                raw = resp.content
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                problem = f"{type(exc).__name__}"
            else:
                status = resp.status_code
                if status != 429:  # on a 429, Retry-After is the precise word
                    self.limiter.observe(resp.headers)
                if status == 200:
                    doc = _json(raw)
                    if isinstance(doc, dict):
                        not_jsonstat = check(doc)
                        if not_jsonstat is None:
                            return raw, doc
                        problem = f"svaret er JSON, men ikke JSON-stat (not JSON-stat: {not_jsonstat})"
                    else:
                        problem = "ugyldig eller avkortet JSON (invalid or truncated JSON)"
                elif status == 429:
                    self.stats.throttled += 1
                    throttled += 1
                    if throttled > 10:
                        raise SSBError(f"SSB sier fortsatt 429 etter {throttled} forsøk (still rate limited); prøv senere")
                    self.stats.retries += 1
                    self.limiter.block(retry_after(resp.headers) or self.limiter.window)
                    continue
                elif status in RETRY_STATUS and not (status == 500 and not raw):
                    problem = f"HTTP {status}"
                else:
                    self._refuse(method, resp, raw, context)
                    # only a long GET that hit IIS's 404 gets here: same request again by POST
                    if method == "GET" and context[1] is not None and "/data" in url:
                        return self._send("POST", url.split("&valueCodes%5B")[0], self.post_body(context[1]), context,
                                          check)
                    raise SSBError(self._message(context, status, _title(raw)))
            attempt += 1
            if attempt >= self.backoff.max_attempts:
                if problem.startswith("svaret er JSON"):
                    raise SSBError(f"SSB ga ikke JSON-stat for {_where(context)} etter {attempt} forsøk "
                                   f"({not_jsonstat}); ingenting er lagret i cachen")
                raise SSBError(f"SSB svarer ikke (no answer) for {_where(context)} etter {attempt} forsøk: {problem}")
            self.stats.retries += 1
            wait = self.backoff.delay(attempt)
            if problem.startswith("HTTP"):  # a 503 may say how long to stay away
                wait = max(wait, retry_after(resp.headers) or 0.0)
            self.limiter.block(wait)

    def _refuse(self, method: str, resp, raw: bytes, context) -> None:
        """Raise for final answers; return only for the 404-HTML-on-long-GET case."""
        status = resp.status_code
        title = _title(raw)
        if status == 403 or (status == 400 and title == TOO_MANY_CELLS):
            raise TooManyCells(f"{_where(context)}: {title or status}")
        is_html = raw.lstrip()[:1] == b"<"
        if status == 404 and is_html and method == "GET" and len(resp.request.url or "") > 1000:
            return
        raise SSBError(self._message(context, status, title))

    def _message(self, context, status: int, title: str | None) -> str:
        """One line: table, the offending variable and value (looked up in metadata), SSB's title."""
        table_id, selection = context
        if status == 500 and not title:  # SSB's answer to a repeated value code (docs/ssb-api.md §3)
            title = "tomt svar (empty body; SSB svarer slik på en gjentatt kode i utvalget)"
        title = title or f"HTTP {status}"
        detail = ""
        meta = self._metadata.get(table_id)
        if selection and meta:
            dims = meta.get("dimension", {})
            unknown_vars = [v for v in selection if v not in dims]
            bad = [(v, c) for v, codes in selection.items() if v in dims
                   for c in codes if c not in dims[v]["category"]["index"]]
            missing = [d for d in meta.get("id", []) if d not in selection
                       and not dims[d].get("extension", {}).get("elimination", False)]
            if title == "Non-existent variable" and unknown_vars:
                detail = f"variabel {unknown_vars[0]}"
            elif bad:
                detail = f"variabel {bad[0][0]}, verdi {bad[0][1]}" + (f" (+{len(bad) - 1} til)" if len(bad) > 1 else "")
            elif missing:
                detail = f"variabel {missing[0]} mangler i utvalget"
        elif selection:
            detail = "utvalg " + "; ".join(f"{v}={','.join(c[:3])}{'…' if len(c) > 3 else ''}" for v, c in selection.items())
        where = f"tabell {table_id}" if table_id != "config" else "/config"
        return f"SSB avviste {where}: {title} (HTTP {status})" + (f" — {detail}" if detail else "")


def _json(raw: bytes | None):
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _title(raw: bytes) -> str | None:
    doc = _json(raw)
    if isinstance(doc, dict):
        return doc.get("title") or doc.get("error")
    return None


def _where(context) -> str:
    table_id, selection = context
    if not selection:
        return f"tabell {table_id}"
    return f"tabell {table_id} (" + ", ".join(f"{v}: {len(c)}" for v, c in selection.items()) + " verdier)"
