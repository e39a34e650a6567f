"""A real `drivers serve` (waitress, in a subprocess) on 127.0.0.1 for tests, and plain HTTP requests to it.

    proc = servers.start(servers.serve_command(port, "--db", str(db)), port, log)
    status, headers, body = servers.request(port, "GET", "/kart?kommune=1151")
    servers.stop(proc)

A server that exits or does not answer `/_dash-layout` in time fails the test with the end of its log.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drivers.config import PROJECT_ROOT

START_TIMEOUT = 120  # s; a cold start on a busy 2-core CI machine has taken ~40 s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env(**extra: str) -> dict:
    """The test process's environment with the project on PYTHONPATH, plus `extra`."""
    out = dict(os.environ, **extra)
    out["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT / "src"), str(PROJECT_ROOT), out.get("PYTHONPATH", "")])
    return out


def serve_command(port: int, *args: str) -> list[str]:
    """`python -m drivers.cli serve --host 127.0.0.1 --port PORT ARGS…`."""
    return [sys.executable, "-m", "drivers.cli", "serve", "--host", "127.0.0.1", "--port", str(port), *args]


def request(port: int, method: str, path: str, payload: dict | None = None, timeout: float = 60):
    """(status, headers with lower-case names, body bytes); `payload` is sent as JSON."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        body = json.dumps(payload).encode() if payload is not None else None
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def start(cmd: list[str], port: int, log: Path, environ: dict | None = None,
          timeout: float = START_TIMEOUT) -> subprocess.Popen:
    """Start `cmd` (writing to `log`) and wait until it answers `/_dash-layout` with 200."""
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=environ or env(),
                                cwd=str(PROJECT_ROOT))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if request(port, "GET", "/_dash-layout", timeout=10)[0] == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.3)
    stop(proc)
    pytest.fail(f"server did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after 15 s."""
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
