"""Production response hygiene, installed on the Flask server: security headers, no version strings, access log.

    from drivers.ui.serving import headers
    headers.install(app.server)        # after create_app(): every callback and clientside script is registered

- **Content-Security-Policy** that fits Dash: scripts only from this origin plus, by sha256 hash, exactly the
  inline scripts the app's own index page carries (Dash writes one `<script>` per inline clientside callback
  and the `_dash-renderer` starter; the `_dash-config` block is JSON data, never run, so it needs no hash).
  The hashes are taken once, at install, from the index page rendered for a request the server makes to
  itself, never from a response a client's request produced: a script injected into a page is not allowed
  by being there. Styles allow 'unsafe-inline': dash-renderer, the dcc components (their CSS is bundled in
  their JS) and AG Grid (plotly.js too: its issue 2355) write `<style>` elements at run time that no hash can name
  (with style-src 'self' Chromium refused each of them). No script needs 'unsafe-eval' (no gl traces;
  checked in headless Chromium, tests/test_production.py). `frame-ancestors 'none'`, with X-Frame-Options: DENY
  for browsers that predate it; X-Content-Type-Options: nosniff; Referrer-Policy: same-origin.
- **No version strings** in the index page: Dash's config block loses dash/plotly/python versions, the favicon
  URL's `?v=<dash version>` and the component suites' fingerprints (`.v4_4_1m1796297645.`) become an opaque
  token derived from them, so a new version or file still changes the URL and the one-year caching of
  fingerprinted files stays as it is (Dash strips any fingerprint of that shape when serving). The `Server`
  header is waitress's `ident` (`drivers serve` passes ident="drivers"; a Server header set by the app would
  make waitress add `Via: waitress`).
- **Access log**: one line per request on stdout (logger `drivers.access`), written when the response has been
  sent: time (UTC), method, path with the values of secret-looking query parameters replaced by `***`,
  status, duration in ms.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import sys
import time
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote

import flask

ACCESS_LOGGER = "drivers.access"

# Dash's config keys that only name versions (the renderer reads them for its dev tools, off in production).
VERSION_KEYS = ("dash_version", "python_version", "plotly_version", "ddk_version", "dash_version_url")

# Query parameters whose values are never logged (the dashboard has none today; a proxy or a future login may).
SECRET_PARAM = re.compile(r"token|secret|pass|key|auth|session|sig|csrf|otp|jwt|cookie", re.IGNORECASE)

_CONFIG = re.compile(r'(<script id="_dash-config" type="application/json">)(.*?)(</script>)', re.DOTALL)
_FINGERPRINT = re.compile(r"(_dash-component-suites/[^\"'\s]*?\.)(v[\w-]+m[0-9a-fA-F]+)(?=\.)")
_FAVICON = re.compile(r"(_favicon\.ico\?v=)([^\"'&\s]+)")
_SCRIPT = re.compile(r"<script([^>]*)>(.*?)</script>", re.DOTALL | re.IGNORECASE)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)

STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def csp(script_hashes: list[str]) -> str:
    """The Content-Security-Policy for these inline script hashes ('sha256-…' tokens)."""
    scripts = " ".join(["'self'", *(f"'{h}'" for h in script_hashes)])
    return "; ".join([
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def inline_script_hashes(html: str) -> list[str]:
    """sha256 CSP sources of the inline scripts a browser would run in `html` (not JSON data blocks, not
    scripts inside HTML comments such as Dash's `<!--[if IE]>` note), in page order, without repeats."""
    out: list[str] = []
    for attrs, body in _SCRIPT.findall(_COMMENT.sub("", html)):
        if re.search(r"\bsrc\s*=", attrs) or re.search(r"type\s*=\s*[\"']application/json", attrs, re.IGNORECASE):
            continue
        digest = "sha256-" + base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii")
        if digest not in out:
            out.append(digest)
    return out


def _token(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def strip_versions(html: str) -> str:
    """The index page without version strings (see the module docstring); the inline scripts are unchanged."""

    def config(m: re.Match) -> str:
        try:
            cfg = json.loads(m.group(2))
        except ValueError:
            return m.group(0)
        for key in VERSION_KEYS:
            cfg.pop(key, None)
        text = json.dumps(cfg, separators=(",", ":"), ensure_ascii=False)
        # as Dash writes it: nothing in a string may close the script element
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("/", "\\u002f")
        return m.group(1) + text + m.group(3)

    def fingerprint(m: re.Match) -> str:
        h = _token(m.group(2))
        return f"{m.group(1)}v{h[:8]}m{h[8:16]}"

    html = _CONFIG.sub(config, html, count=1)
    html = _FINGERPRINT.sub(fingerprint, html)
    return _FAVICON.sub(lambda m: m.group(1) + _token(m.group(2))[:12], html)


def loggable_path(path: str, query: str) -> str:
    """Path and query for the access log: secret-looking parameters' values as ***, anything not printable
    ASCII %-escaped (no line breaks or terminal codes from a client reach the log), at most 500 characters."""
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = "&".join(f"{k}={'***' if SECRET_PARAM.search(k) else v}" for k, v in pairs)
        path = f"{path}?{query}"
    safe = quote(path.encode("latin-1", "replace"), safe="/?&=:@!$'()*+,;-._~%")
    return safe if len(safe) <= 500 else safe[:497] + "..."


class AccessLog:
    """WSGI middleware: one log line per request, written when the response has been sent (or failed)."""

    def __init__(self, app, logger: logging.Logger):
        self.app, self.logger = app, logger

    def __call__(self, environ, start_response):
        start = time.perf_counter()
        stamp = datetime.now(UTC)
        seen = {"status": "500"}

        def _start(status, headers, exc_info=None):
            seen["status"] = status.split(" ", 1)[0]
            return start_response(status, headers, exc_info)

        def write_line():
            ms = (time.perf_counter() - start) * 1000
            path = loggable_path(environ.get("PATH_INFO", "") or "/", environ.get("QUERY_STRING", ""))
            self.logger.info("%s %s %s %s %.1f ms", stamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                             environ.get("REQUEST_METHOD", "-"), path, seen["status"], ms)

        try:
            body = self.app(environ, _start)
        except BaseException:
            write_line()
            raise
        return _Closing(body, write_line)


class _Closing:
    """The app's response iterable; on close() (the server has sent it, or given up) the log line is written."""

    def __init__(self, body, on_close):
        self.body, self.on_close = body, on_close

    def __iter__(self):
        return iter(self.body)

    def close(self):
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.on_close()


def access_logger(stream=None) -> logging.Logger:
    """The `drivers.access` logger, writing bare lines to `stream` (stdout) unless it has a handler already."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not logger.handlers:
        handler = logging.StreamHandler(stream or sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def install(server: flask.Flask, access_log: bool = True) -> str:
    """Install the headers, the version stripping and (unless `access_log` is false) the access log on the
    Dash app's Flask `server`. Call it after the app is built (all callbacks registered). Returns the CSP."""
    if getattr(server, "_drivers_headers", None):
        return server._drivers_headers
    policy: list[str] = []  # set below, before any client's request

    @server.after_request
    def _secure(response: flask.Response) -> flask.Response:
        if response.mimetype == "text/html" and not response.direct_passthrough:
            response.set_data(strip_versions(response.get_data(as_text=True)))
        if policy:
            response.headers["Content-Security-Policy"] = policy[0]
        for name, value in STATIC_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    with server.test_client() as client:  # the index page as the app renders it, for no client's request
        probe = client.get("/")
    if probe.status_code != 200:  # without its scripts' hashes every page would be blank: fail at start-up
        raise RuntimeError(f"drivers.ui.serving.headers: the index page answered {probe.status_code}, "
                           "so the Content-Security-Policy cannot name its inline scripts")
    index = probe.get_data(as_text=True)
    policy.append(csp(inline_script_hashes(index)))
    if access_log:
        server.wsgi_app = AccessLog(server.wsgi_app, access_logger())
    server._drivers_headers = policy[0]
    return policy[0]
