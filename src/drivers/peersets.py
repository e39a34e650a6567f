"""Saved peer sets on disk: the user's named groups of municipalities (data/peer_sets.json, not committed).

The file is `{"version": 1, "sets": {name: {"members": [codes], "saved": iso-time}}}`. This module is the only
one that reads or writes it; the engine takes a set as data (`engine.peers.PeerSet(name, members)`), so every
cache keyed on a set is keyed on its members and a set saved again with other members gives new numbers at once.

Writes are atomic (temp file + os.replace: readers see the old or the new file, never half of one) and
serialised by an flock on `<file>.lock` beside it, so concurrent saves from threads or processes (several
server workers, the CLI) each read the latest file and none is lost. Reads take no lock.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import os
import re
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

from drivers.engine.peers import BUILTIN, PeerSet
from drivers.errors import UserError

try:  # POSIX; elsewhere only threads of one process are serialised
    import fcntl
except ImportError:  # pragma: no cover - not on Linux
    fcntl = None

ENV = "DRIVERS_PEER_SETS"
MAX_SETS = 100  # saved sets in one file
MAX_MEMBERS = 400  # members of one set (Norway has 357 municipalities)
MAX_FILE_BYTES = 2_000_000  # a larger file is not ours (100 sets × 400 codes is ~0.5 MB)
NAME_RE = re.compile(r"^[\w][\w \-]{0,39}$")  # letters, digits, _, - and inner spaces; at most 40
CODE_RE = re.compile(r"^\d{4}$")
_thread_lock = threading.Lock()


def path() -> Path:
    """Where saved sets live: $DRIVERS_PEER_SETS, else data/peer_sets.json (beside the database)."""
    from drivers.config import Settings

    return Path(os.environ.get(ENV) or Settings.from_env().data_dir / "peer_sets.json")


def _path(where: Path | str | None) -> Path:
    return Path(where) if where else path()


def _read_raw(file: Path) -> dict:
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            raise UserError(f"filen med lagrede sammenligningsgrupper {file} er større enn {MAX_FILE_BYTES} byte; "
                            "den er ikke laget av drivers")
        raw = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"version": 1, "sets": {}}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"kan ikke lese lagrede sammenligningsgrupper i {file}: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("sets", {}), dict) or not all(
            isinstance(e, dict) and isinstance(e.get("members"), list) for e in raw.get("sets", {}).values()):
        raise UserError(f"ødelagt fil med sammenligningsgrupper {file}: ventet {{\"sets\": {{navn: {{\"members\": [...]}}}}}}")
    raw.setdefault("sets", {})
    return raw


def load(where: Path | str | None = None) -> dict[str, list[str]]:
    """Saved peer sets: name -> member codes. A missing file means no saved sets."""
    return {name: [str(c) for c in entry["members"]] for name, entry in _read_raw(_path(where))["sets"].items()}


def sets(where: Path | str | None = None) -> tuple[PeerSet, ...]:
    """Every saved set as data, by name: hashable, so it can key a cache of things that list the sets."""
    return tuple(PeerSet(name, tuple(members)) for name, members in sorted(load(where).items()))


def names(where: Path | str | None = None) -> list[str]:
    return sorted(load(where))


def get(name: str, where: Path | str | None = None) -> PeerSet:
    """One saved set as data; an unknown name is a UserError naming the known ones."""
    saved = load(where)
    if name not in saved:
        known = ", ".join(BUILTIN + sorted(saved))
        raise UserError(f"ukjent sammenligningsgruppe «{name}» (unknown peer set); kjente: {known}")
    return PeerSet(name, tuple(saved[name]))


def resolve(peers, where: Path | str | None = None):
    """What the engine takes for a peer choice: a built-in name as it is, a saved set's name as its PeerSet
    (read now, so the members are the latest saved), a PeerSet as it is."""
    if isinstance(peers, PeerSet) or peers in BUILTIN:
        return peers
    if not isinstance(peers, str) or not peers:
        raise UserError("velg en sammenligningsgruppe (peers)")
    return get(peers, where)


def check_name(name) -> str:
    name = (name or "").strip() if isinstance(name, str) or name is None else name
    if not isinstance(name, str) or not name:
        raise UserError("sammenligningsgruppen må ha et navn (a peer set needs a name)")
    if name in BUILTIN:
        raise UserError(f"«{name}» er en innebygd sammenligningsgruppe; velg et annet navn")
    if not NAME_RE.match(name):
        raise UserError(f"navnet «{name[:40]}» kan ikke brukes: bruk bokstaver, tall, mellomrom, - og _ (høyst 40 tegn)")
    return name


def check_members(members, panel=None) -> list[str]:
    """Sorted unique current codes. Codes must be four digits; with a panel, known municipalities (a
    historical code is mapped to today's)."""
    if isinstance(members, str) or members is None:
        raise UserError("medlemmene må være en liste med kommunenumre (members must be a list of codes)")
    codes = sorted({str(m).strip() for m in members if str(m).strip()})
    if not codes:
        raise UserError("sammenligningsgruppen har ingen kommuner (no members)")
    bad = [c for c in codes if not CODE_RE.match(c)]
    if bad:
        raise UserError(f"ikke kommunenumre (fire sifre): {', '.join(b[:10] for b in bad[:5])}")
    if panel is not None:
        codes = sorted({panel.municipalities[panel.check_region(c)] for c in codes})
    if len(codes) > MAX_MEMBERS:
        raise UserError(f"en sammenligningsgruppe kan ha høyst {MAX_MEMBERS} kommuner (har {len(codes)})")
    return codes


@contextlib.contextmanager
def _locked(file: Path):
    """Exclusive lock for a read-modify-write of `file`: an flock on `<file>.lock` (other processes) and a
    thread lock (this one; flock would serialise threads too, the lock keeps it cheap)."""
    file.parent.mkdir(parents=True, exist_ok=True)
    with _thread_lock, open(file.with_name(file.name + ".lock"), "a+") as fh:
        if fcntl is not None:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _write_atomic(file: Path, payload: dict) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".peer_sets.", suffix=".tmp", dir=file.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, ensure_ascii=False, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, file)  # atomic: readers see the old or the new file, never half of one
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(name: str, members, where: Path | str | None = None, panel=None) -> list[str]:
    """Save (or replace) a named set; returns its sorted codes. Checked against the panel when one is given.
    Bad input is one UserError and nothing is written."""
    name = check_name(name)
    codes = check_members(members, panel)
    file = _path(where)
    with _locked(file):
        raw = _read_raw(file)
        if name not in raw["sets"] and len(raw["sets"]) >= MAX_SETS:
            raise UserError(f"det er allerede {len(raw['sets'])} lagrede sammenligningsgrupper (høyst {MAX_SETS}); "
                            "slett en først")
        raw["sets"][name] = {"members": codes, "saved": datetime.now(UTC).isoformat(timespec="seconds")}
        _write_atomic(file, raw)
    return codes


def delete(name: str, where: Path | str | None = None) -> None:
    file = _path(where)
    with _locked(file):
        raw = _read_raw(file)
        if name not in raw["sets"]:
            raise UserError(f"ingen lagret sammenligningsgruppe heter «{name}»")
        del raw["sets"][name]
        _write_atomic(file, raw)


# ---- the engine's api with saved names resolved ---------------------------------------------------------------
def resolving(api, where: Path | str | None = None) -> _ResolvingApi:
    """The engine's api module, with a saved set's name (as a URL carries it) turned into its PeerSet at every
    call, so callers that hold a name get the latest members. `peer_sets()` lists the saved names too."""
    return _ResolvingApi(api, where)


@functools.cache
def _signature(fn) -> inspect.Signature:
    return inspect.signature(fn)


class _ResolvingApi:
    def __init__(self, api, where):
        self._api, self._where = api, where

    def __getattr__(self, attr):
        fn = getattr(self._api, attr)
        if attr == "peer_sets":
            return lambda: fn(names(self._where))
        if not callable(fn) or isinstance(fn, type):
            return fn
        try:
            params = [p for p in ("peers", "group") if p in _signature(fn).parameters]
        except (TypeError, ValueError):
            return fn
        if not params:
            return fn

        @functools.wraps(fn)
        def call(*args, **kwargs):
            bound = _signature(fn).bind_partial(*args, **kwargs)
            if "peers" in bound.arguments:
                bound.arguments["peers"] = resolve(bound.arguments["peers"], self._where)
            group = bound.arguments.get("group")
            if isinstance(group, str) and group not in ("landet", "landet-uten-oslo") and group in names(self._where):
                bound.arguments["group"] = get(group, self._where)
            return fn(*bound.args, **bound.kwargs)

        return call
