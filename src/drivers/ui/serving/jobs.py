"""Exports as bounded background work: the chart pack (ZIP) and the seminar deck (PPTX) are made by a fixed
number of render slots, never by the threads that serve pages.

- `Exports(makers)`: SLOTS render slots and a queue of at most QUEUE waiting jobs. A request names a kind
  ("pakke", "seminar") and a view (its canonical query string); identical requests (same data version, kind and
  view) share one job, whose id is a digest of the three. A full queue raises `Full` with a Retry-After estimate
  (the routes answer 503).
- Finished jobs (the file, or the one-line error) are kept in a bounded Cache keyed on the job id, that is on
  (data version, kind, view). The Cache forgets everything on a new data version, so the same request after the
  data changed is a new job (and the old job's id is unknown: 404), never the old file.
- Progress: a maker calls `progress(n, m)` (step n of m; m None while not yet known); `status(job)` is the JSON
  the browser polls.

Slots are threads (default) or processes (DRIVERS_EXPORT_SLOTS=process; "thread:2" / "process:1" also sets how
many). A pack is ~1.5 s of Python in 30-45 s of wall time (idle machine): the rest is Chromium (kaleido), a
process of its own either way, so a slot's GIL share is small. What hurt other users was the browser's CPU, so a
slot lowers Chromium's priority (nice BROWSER_NICE; in process mode the whole slot process and its Chromium) and
pages win the cores. bench/exports_load.py (`drivers serve --production`, 2 processes with 1 slot each, 20 users,
60 s phases, 10 concurrent pack requests for 10 different municipalities; 2 cores shared with other work at load
average ~10, so noisy), other users' p95 without → with the exports:
  before (issue 13: unbounded, on the request threads): 0.56 s → 51 s, ×91
  thread slots:  2.06 s → 2.75 s, ×1.33 (page views ×1.26); the 10 packs done after 56-344 s, median 237 s
  process slots: 1.45 s → 1.87 s, ×1.30 (page views ×1.18); the 10 packs done after 70-252 s, median 177 s
The two are the same within the noise; a slot process holds its own copy of the data (~310 MB RSS after a deck)
and needs ~30 s to start, so threads are the default.

One queue per server process: `drivers serve --production` runs one process per core on the same port
(SO_REUSEPORT), each with its own queue, slots and Chromium; the same export asked of two processes is made once
in each. A job's URL carries its view, so a status request that reaches another process than the one that
started the job starts (or joins) the job there instead of answering 404.

Flask-free: the routes are in drivers.ui.downloads.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import math
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from drivers.errors import UserError
from drivers.report.cache import Cache
from drivers.report.version import data_version

log = logging.getLogger(__name__)

ENV = "DRIVERS_EXPORT_SLOTS"
QUEUE = 8  # distinct jobs waiting for a slot, at most (identical requests join a job and take no place)
RESULTS = 6  # finished jobs kept (a pack is ~6.5 MB)
RESULT_BYTES = 64 * 2**20  # and at most this much of their files (a deck with many slides can be larger)
RETRY_AFTER = 30  # seconds a full queue asks to wait before any job has been timed
BROWSER_NICE = 19  # Chromium's nice value (and a slot process's): pages first, exports with what is left

Progress = Callable[..., None]


@dataclass(frozen=True)
class File:
    """A made file: its bytes, content type and the file name the browser saves it under."""

    payload: bytes
    mimetype: str
    filename: str


class Full(Exception):
    """The queue is full: try again in `retry_after` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"export queue full; retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(eq=False)
class Job:
    """One export: queued → running → done | failed. `file` when done, `error` (a one-line message) when failed."""

    id: str
    kind: str
    view: str
    params: dict
    version: tuple
    state: str = "queued"
    step: int = 0
    steps: int | None = None
    file: File | None = None
    error: str | None = None
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None
    finished: float | None = None
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    def progress(self, n: int, m: int | None = None) -> None:
        self.step = n
        if m is not None:
            self.steps = m


def job_id(kind: str, view: str, version: tuple) -> str:
    """The id identical requests share: a digest of (data version, kind, view), the same in every process."""
    return hashlib.blake2b(repr((version, kind, view)).encode("utf-8"), digest_size=10).hexdigest()


def _from_env() -> tuple[str, int | None]:
    raw = os.environ.get(ENV, "").strip().lower()
    mode, _, count = raw.partition(":")
    mode = mode or "thread"
    if mode not in ("thread", "process"):
        raise UserError(f"{ENV} must be thread or process (optionally :N), not {raw!r}")
    try:
        slots = int(count) if count else None
    except ValueError:
        raise UserError(f"{ENV}: the count after ':' must be a number, not {count!r}") from None
    return mode, slots


def default_slots() -> int:
    """One render slot per core: a `drivers serve --production` process stands for one core, so it has one;
    a single server process has one per core."""
    return 1 if os.environ.get("DRIVERS_SERVE_WORKER") else max(1, os.cpu_count() or 1)


def lower_priority(pid: int, nice: int = BROWSER_NICE) -> None:
    """Raise every thread of process `pid` to `nice` (Linux: nice is per thread; a thread keeps the value for the
    threads and processes it starts). Never raises the priority; errors (a process gone) are ignored."""
    tasks = Path(f"/proc/{pid}/task")
    tids = [int(t.name) for t in tasks.iterdir()] if tasks.is_dir() else [pid]
    for tid in tids:
        try:
            if os.getpriority(os.PRIO_PROCESS, tid) < nice:
                os.setpriority(os.PRIO_PROCESS, tid, nice)
        except OSError:
            pass


def lower_browsers(nice: int = BROWSER_NICE) -> int:
    """Lower the priority of the Chromium processes this process started (kaleido's, and their children).
    Returns how many were found."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = 0, list(children.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"chrom" in cmdline.lower():
            lower_priority(pid, nice)
            found += 1
    return found


# ------------------------------------------------------------------------------------ slot processes
_worker_progress = None  # in a slot process: the queue progress goes back on


def _worker_init(progress_queue, setup, setup_args, nice) -> None:
    global _worker_progress
    _worker_progress = progress_queue
    try:
        os.nice(max(0, nice - os.nice(0)))
    except OSError:
        pass
    if setup is not None:
        setup(*setup_args)


def _in_worker(maker, jid: str, params: dict) -> File:
    def progress(n: int, m: int | None = None) -> None:
        _worker_progress.put((jid, n, m))

    return maker(params, progress)


def _noop(seconds: float) -> None:
    time.sleep(seconds)


# ------------------------------------------------------------------------------------------- queue
class Exports:
    """A fixed pool of render slots with a bounded queue, identical requests on one job, finished jobs cached.

    makers: kind -> `maker(params, progress) -> File` (module-level functions in process mode: they are pickled).
    prepare: thread mode, run in the slot before each job (idempotent: start Chromium, lower its priority).
    setup, setup_args: process mode, run once in each slot process (configure the data, start Chromium)."""

    def __init__(self, makers: Mapping[str, Callable], slots: int | None = None, size: int = QUEUE,
                 results: int = RESULTS, mode: str | None = None, prepare: Callable[[], None] | None = None,
                 setup: Callable | None = None, setup_args: tuple = ()):
        env_mode, env_slots = _from_env()
        self.mode = mode or env_mode
        self.slots = max(1, slots or env_slots or default_slots())
        self.size = size
        self.makers = dict(makers)
        self.prepare, self.setup, self.setup_args = prepare, setup, setup_args
        self.renders: Counter = Counter()  # maker calls by kind
        self._done = Cache("export-results", results, maxbytes=RESULT_BYTES)
        self._active: dict[str, Job] = {}
        self._pending: deque[Job] = deque()
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._durations: deque[float] = deque(maxlen=8)
        self._pool = None
        self._progress_queue = None
        self._closed = False
        atexit.register(self.close)

    # -- requests
    def job_id(self, kind: str, view: str, version: tuple | None = None) -> str:
        return job_id(kind, view, data_version() if version is None else version)

    def submit(self, kind: str, view: str, params: dict) -> Job:
        """The job for (data version, kind, view): a running or queued one, a finished one, or a new one.
        Raises Full when a new job finds QUEUE jobs waiting."""
        if kind not in self.makers:
            raise KeyError(kind)
        version = data_version()
        jid = job_id(kind, view, version)
        with self._cond:
            job = self._active.get(jid)
            if job is not None:
                return job
            job = self._done.get(jid)
            if job is not None and job.state == "done":
                return job
            if len(self._pending) >= self.size:
                raise Full(self.retry_after())
            job = Job(jid, kind, view, dict(params), version)
            self._active[jid] = job
            self._pending.append(job)
            self._ensure_slots()
            self._cond.notify()
            return job

    def find(self, jid: str) -> Job | None:
        with self._cond:
            return self._active.get(jid) or self._done.get(jid)

    def status(self, job: Job) -> dict:
        with self._cond:  # ahead: the jobs before this one, waiting or being made
            ahead = 0
            if job.state == "queued":
                ahead = next((i for i, j in enumerate(self._pending) if j is job), 0)
                ahead += sum(1 for j in self._active.values() if j.state == "running")
        end = job.finished or time.monotonic()
        return {"id": job.id, "kind": job.kind, "state": job.state, "step": job.step, "steps": job.steps,
                "ahead": ahead, "seconds": round(end - job.submitted, 1)}

    def retry_after(self) -> int:
        """Seconds until a place in the queue is likely free: the recent jobs' mean time, times the jobs ahead
        per slot (RETRY_AFTER before any job has been timed), within 5 s - 10 min."""
        with self._cond:
            per = sum(self._durations) / len(self._durations) if self._durations else RETRY_AFTER
            running = sum(1 for j in self._active.values() if j.state == "running")
            waiting = len(self._pending) + running
        return int(min(600, max(5, math.ceil(per * max(1, waiting) / self.slots))))

    def pending(self) -> int:
        with self._cond:
            return len(self._pending)

    # -- slots
    def warm(self) -> None:
        """Start the slots now (server start): thread mode starts Chromium (prepare); process mode starts the
        slot processes, which load the data and start their Chromium."""
        if self.mode == "process":
            pool = self._get_pool()
            for _ in range(self.slots):
                pool.submit(_noop, 0.5)
            return
        with self._cond:
            self._ensure_slots()
        if self.prepare is not None:
            self.prepare()

    def _ensure_slots(self) -> None:
        """Call with the lock held."""
        self._threads = [t for t in self._threads if t.is_alive()]
        while len(self._threads) < self.slots:
            thread = threading.Thread(target=self._slot, name=f"drivers-export-{len(self._threads)}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _slot(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                job = self._pending.popleft()
                job.state, job.started = "running", time.monotonic()
            try:
                job.file = self._run(job)
                job.state = "done"
            except UserError as exc:
                job.error, job.state = getattr(exc, "message", None) or str(exc), "failed"
            except Exception:  # noqa: BLE001 - one failed export is a message, never a dead slot
                log.exception("export %s %s failed", job.kind, job.view)
                job.error, job.state = None, "failed"
            finally:
                job.finished = time.monotonic()
                if job.version == data_version():
                    self._done.put(job.id, job)  # before it leaves _active: no moment without the job
                with self._cond:
                    self._active.pop(job.id, None)
                    if job.state == "done":
                        self._durations.append(job.finished - job.started)
                job.done.set()

    def _run(self, job: Job) -> File:
        maker = self.makers[job.kind]
        with self._cond:
            self.renders[job.kind] += 1
        if self.mode != "process":
            if self.prepare is not None:
                self.prepare()
            return maker(job.params, job.progress)
        from concurrent.futures.process import BrokenProcessPool

        try:
            return self._get_pool().submit(_in_worker, maker, job.id, job.params).result()
        except BrokenProcessPool:
            with self._cond:
                self._pool = None  # a slot process died (out of memory, killed): the next job starts a new one
            raise

    def _get_pool(self):
        with self._cond:
            if self._pool is None:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                ctx = multiprocessing.get_context("spawn")  # no fork of a process with threads and DuckDB
                if self._progress_queue is None:
                    self._progress_queue = ctx.Queue()
                    threading.Thread(target=self._listen, name="drivers-export-progress", daemon=True).start()
                self._pool = ProcessPoolExecutor(
                    self.slots, mp_context=ctx, initializer=_worker_init,
                    initargs=(self._progress_queue, self.setup, self.setup_args, BROWSER_NICE))
            return self._pool

    def _listen(self) -> None:
        while not self._closed:
            try:
                jid, n, m = self._progress_queue.get()
            except (EOFError, OSError, ValueError):
                return
            with self._cond:
                job = self._active.get(jid)
            if job is not None:
                job.progress(n, m)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
