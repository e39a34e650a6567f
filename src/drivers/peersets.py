"""Peer sets as data: a user's own sets, carried in the URL, and a team's shared sets, read from a file an
administrator edits. No request to the app writes either: nothing an anonymous user sends reaches the disk.

Own sets. `peers=egen.Byer.0301.4601.5001` (prefix, name, member codes, joined by dots: characters neither
Python's urlencode nor the browser's URLSearchParams escapes, so the address stays readable). `from_param` reads
one, `own(name, members)` makes one; either is a `Personal`: a str whose value is the set's name (what titles,
labels and legends show) carrying the set as data (`.set`, an engine PeerSet). The view state holds it, so
every cache keyed on the view or on the peer argument is keyed on the members, and sharing the URL shares the
set. At most MAX_OWN_MEMBERS members (the largest county has 46 municipalities), a name of at most 40
characters; the browser keeps the user's list of own sets (drivers.ui.shell, localStorage), MAX_OWN_SETS of them.

Team sets. `$DRIVERS_PEER_SETS`, default data/peer_sets.json:
    {"version": 1, "sets": {"Romerike": {"members": ["3205", "3220", "3224"]}, ...}}
The app only reads it, again when its stat signature changes (`team()`; the data version keys every cache on its
contents, drivers.report.version). At most MAX_SETS sets of at most MAX_MEMBERS members; a set over a cap, with a
bad name or bad codes is left out, and a file that is not JSON is read as no sets; each problem is one message
naming the file and the set (or the line and column), logged once per version of the file and raised by
`load()` and `python -m drivers.peersets check`. `save`/`delete` are the administrator's writers (atomic, under an
flock), used by `python -m drivers.peersets add/remove` and tests; nothing in drivers.ui calls them.

Long on purpose: one concept in four short sections (own sets in the URL, team sets read from the file, the
administrator's writers and their CLI, the engine's api with team names resolved); each is what the others check
against, so they are kept side by side.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import inspect
import json
import logging
import os
import re
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from drivers import filestat, i18n
from drivers.engine.peers import BUILTIN, PeerSet
from drivers.engine.reasons import Reason
from drivers.errors import UserError

try:  # POSIX; elsewhere only threads of one process are serialised
    import fcntl
except ImportError:  # pragma: no cover - not on Linux
    fcntl = None

log = logging.getLogger(__name__)

ENV = "DRIVERS_PEER_SETS"
MAX_SETS = 100  # team sets read from the file
MAX_MEMBERS = 400  # members of one team set (Norway has 357 municipalities)
MAX_FILE_BYTES = 2_000_000  # a larger file is not ours (100 sets × 400 codes is ~0.5 MB)
MAX_NAME = 40
MAX_OWN_MEMBERS = 60  # an own set, in the URL: the largest county (Innlandet) has 46 municipalities
MAX_OWN_SETS = 30  # own sets one browser keeps (the oldest goes first)
PREFIX, SEP = "egen", "."  # peers=egen.<name>.<code>.<code>…
MAX_PARAM = len(PREFIX) + 1 + MAX_NAME * 4 + 5 * MAX_OWN_MEMBERS  # longer is refused unread (a name of 4-byte letters)
NAME_RE = re.compile(r"^[\w][\w \-]{0,39}$")  # letters, digits, _, - and inner spaces; at most 40
CODE_RE = re.compile(r"^\d{4}$")
RACY = 2.0  # seconds: a read this close to the file's mtime is repeated on the next call (as report.version)
_thread_lock = threading.Lock()
_seen_lock = threading.Lock()


class SetProblem(UserError):
    """A peer set that cannot be used, as a word key (`sets.err.*`) with values: `text(lang)` words it; its str
    is the bokmål text."""

    def __init__(self, key: str, **values):
        self.key, self.values = key, values
        super().__init__(self.text())

    def text(self, lang: str | None = None) -> str:
        return i18n.t(self.key, i18n.known(lang), **self.values)


# ---- own sets: in the URL ----------------------------------------------------------------------------------------
class Personal(Reason):
    """An own peer set as the view state holds it: a str whose value is the set's name, carrying the set as data
    (`.set`: PeerSet(name, members)). Equal and hashed by name and members (never equal to a plain str, so never
    to a team set of the same name); `.param` is its form in the URL. It is a Reason (key "sets.name", the name
    as it is in every language), so where the view's label is worded (drivers.i18n.reason_text) it becomes the
    plain name."""

    set: PeerSet

    def __new__(cls, name: str, members) -> Personal:
        self = super().__new__(cls, "sets.name", (("name", str(name)),))
        self.set = PeerSet(str(name), tuple(members))
        return self

    @property
    def members(self) -> tuple[str, ...]:
        return self.set.members

    @property
    def param(self) -> str:
        return SEP.join([PREFIX, str(self), *self.set.members])

    def __eq__(self, other) -> bool:
        return isinstance(other, Personal) and self.set == other.set

    def __ne__(self, other) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(("own", self.set))

    def __reduce__(self):
        return (Personal, (str(self), self.set.members))

    def __repr__(self) -> str:
        return f"Personal({self.param!r})"


def is_param(text) -> bool:
    """Whether a `peers=` value is an own set's form (it may still be a bad one)."""
    return isinstance(text, str) and text.startswith(PREFIX + SEP)


def from_param(text: str, panel=None) -> Personal:
    """The own set a `peers=egen.<name>.<code>…` value describes (members checked against the panel's
    municipalities when one is given: historical codes mapped to today's, sorted, unique); a SetProblem if not."""
    if not is_param(text) or len(text) > MAX_PARAM:
        raise SetProblem("sets.err.form")
    parts = text[len(PREFIX) + 1:].split(SEP)
    if len(parts) < 2:
        raise SetProblem("sets.err.form")
    return own(parts[0], parts[1:], panel)


def own(name, members, panel=None) -> Personal:
    """An own set from a name and member codes, checked (see from_param)."""
    return Personal(check_name(name), check_members(members, panel, MAX_OWN_MEMBERS))


def check_name(name) -> str:
    name = (name or "").strip() if isinstance(name, str) or name is None else name
    if not isinstance(name, str) or not name:
        raise SetProblem("sets.err.no_name")
    if name in BUILTIN:
        raise SetProblem("sets.err.builtin", name=name)
    if not NAME_RE.match(name):
        raise SetProblem("sets.err.bad_name", name=name[:MAX_NAME], max=MAX_NAME)
    return name


def check_members(members, panel=None, limit: int = MAX_MEMBERS) -> list[str]:
    """Sorted unique current codes. Codes must be four digits; with a panel, known municipalities (a historical
    code is mapped to today's). At most `limit`."""
    if isinstance(members, str) or not isinstance(members, list | tuple):
        raise SetProblem("sets.err.not_list")
    if len(members) > 4 * limit:  # not worth reading
        raise SetProblem("sets.err.too_many", max=limit, n=len(members))
    codes = sorted({str(m).strip() for m in members if str(m).strip()})
    if not codes:
        raise SetProblem("sets.err.empty")
    bad = [c for c in codes if not CODE_RE.match(c)]
    if bad:
        raise SetProblem("sets.err.not_codes", codes=", ".join(b[:10] for b in bad[:5]))
    if panel is not None:
        current = [panel.code_map.get(c, c) for c in codes]
        unknown = [c for c, now in zip(codes, current, strict=True) if now not in panel.pos]
        if unknown:
            raise SetProblem("sets.err.unknown", codes=", ".join(unknown[:5]))
        codes = sorted(set(current))
    if len(codes) > limit:
        raise SetProblem("sets.err.too_many", max=limit, n=len(codes))
    return codes


# ---- team sets: a file the app only reads --------------------------------------------------------------------------
def path() -> Path:
    """Where the team's sets live: $DRIVERS_PEER_SETS, else data/peer_sets.json (beside the database)."""
    from drivers.config import Settings

    return Path(os.environ.get(ENV) or Settings.from_env().data_dir / "peer_sets.json")


def _path(where: Path | str | None) -> Path:
    return Path(where) if where else path()


@dataclass(frozen=True)
class Team:
    """The team file as read: its usable sets by name (file order) and what is wrong with the rest."""

    sets: dict
    problems: tuple[str, ...] = ()


def _parse(file: Path) -> Team:
    try:
        size = file.stat().st_size
    except FileNotFoundError:
        return Team({})
    except OSError as exc:
        return Team({}, (f"kan ikke lese sammenligningsgruppene i {file}: {exc}",))
    if size > MAX_FILE_BYTES:
        return Team({}, (f"filen med sammenligningsgrupper {file} er større enn {MAX_FILE_BYTES} byte; "
                         "den er ikke laget av drivers, og ingen grupper er lest",))
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Team({})
    except json.JSONDecodeError as exc:
        return Team({}, (f"kan ikke lese sammenligningsgruppene i {file}: linje {exc.lineno}, kolonne {exc.colno}: "
                         f"{exc.msg}",))
    except (OSError, UnicodeDecodeError, RecursionError) as exc:
        return Team({}, (f"kan ikke lese sammenligningsgruppene i {file}: {exc}",))
    if not isinstance(raw, dict) or not isinstance(raw.get("sets", {}), dict):
        return Team({}, (f"ødelagt fil med sammenligningsgrupper {file}: ventet "
                         '{"sets": {navn: {"members": ["0301", ...]}}}',))
    sets, problems = {}, []
    for name, entry in raw.get("sets", {}).items():
        where = f"«{str(name)[:MAX_NAME]}» i {file}"
        if len(sets) >= MAX_SETS:
            left = list(raw["sets"])[MAX_SETS:]
            problems.append(f"{file} har {len(raw['sets'])} sammenligningsgrupper; høyst {MAX_SETS} leses, så "
                            f"{len(left)} er utelatt: {', '.join(str(n)[:MAX_NAME] for n in left[:5])}"
                            f"{' …' if len(left) > 5 else ''}")
            break
        members = entry.get("members") if isinstance(entry, dict) else None
        if not isinstance(members, list):
            problems.append(f"ødelagt sammenligningsgruppe {where}: ventet {{\"members\": [\"0301\", ...]}}")
            continue
        try:
            sets[check_name(name)] = tuple(check_members(members))
        except SetProblem as exc:
            problems.append(f"sammenligningsgruppen {where} er utelatt: {exc}")
    return Team(sets, tuple(problems))


_seen: dict[Path, tuple] = {}  # file -> (stat signature, read at, Team)


def team(where: Path | str | None = None) -> Team:
    """The team file, read again only when its stat signature changes (or the last read was too close to its
    mtime to trust it: two edits within the file system's timestamp granularity look alike). Problems are
    logged once per version of the file."""
    file = _path(where)
    sig = filestat.signature(file)
    with _seen_lock:
        seen = _seen.get(file)
    if seen is not None and seen[0] == sig and (sig is None or seen[1] - sig[2] / 1e9 > RACY):
        return seen[2]
    now = time.time()
    read = _parse(file)
    with _seen_lock:
        if len(_seen) > 16:
            _seen.clear()
        _seen[file] = (sig, now, read)
    if read.problems and (seen is None or seen[2].problems != read.problems):
        for problem in read.problems:
            log.warning("%s", problem)
    return read


def load(where: Path | str | None = None) -> dict[str, list[str]]:
    """The team's sets, name -> member codes, strictly: any problem in the file is a UserError (for the
    administrator's tools). A missing file means no sets."""
    read = team(where)
    if read.problems:
        raise UserError("; ".join(read.problems))
    return {name: list(members) for name, members in read.sets.items()}


def sets(where: Path | str | None = None) -> tuple[PeerSet, ...]:
    """Every usable team set as data, by name: hashable, so it can key a cache of things that list the sets."""
    return tuple(PeerSet(name, members) for name, members in sorted(team(where).sets.items()))


def names(where: Path | str | None = None) -> list[str]:
    """The usable team sets' names, sorted."""
    return sorted(team(where).sets)


def get(name: str, where: Path | str | None = None) -> PeerSet:
    """One team set as data; an unknown name is a UserError naming the known ones."""
    known = team(where).sets
    if name not in known:
        raise UserError(f"ukjent sammenligningsgruppe «{str(name)[:MAX_NAME]}» (unknown peer set); kjente: "
                        f"{', '.join(BUILTIN + sorted(known))}")
    return PeerSet(name, known[name])


def resolve(peers, where: Path | str | None = None):
    """What the engine takes for a peer choice: a built-in name as it is, an own set (a Personal, or its URL form)
    as its PeerSet, a team set's name as its PeerSet (read now, so the members are the file's latest), a PeerSet as
    it is."""
    if isinstance(peers, Personal):
        return peers.set
    if isinstance(peers, PeerSet) or peers in BUILTIN:
        return peers
    if not isinstance(peers, str) or not peers:
        raise UserError("velg en sammenligningsgruppe (peers)")
    if is_param(peers):
        return from_param(peers).set
    return get(peers, where)


# ---- the administrator's writers (never called by the app) ---------------------------------------------------------
@contextlib.contextmanager
def _locked(file: Path):
    """Exclusive lock for a read-modify-write of `file`: an flock on `<file>.lock` (other processes) and a
    thread lock (this one)."""
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


def _read_for_edit(file: Path) -> dict:
    read = _parse(file)
    if read.problems:
        raise UserError("; ".join(read.problems) + " (rett filen først)")
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"version": 1, "sets": {}}


def save(name: str, members, where: Path | str | None = None, panel=None) -> list[str]:
    """The administrator adds (or replaces) a team set; returns its sorted codes. Checked against the panel when
    one is given. Bad input is one UserError and nothing is written."""
    name = check_name(name)
    codes = check_members(members, panel)
    file = _path(where)
    with _locked(file):
        raw = _read_for_edit(file)
        raw.setdefault("sets", {})
        if name not in raw["sets"] and len(raw["sets"]) >= MAX_SETS:
            raise UserError(f"det er allerede {len(raw['sets'])} sammenligningsgrupper i {file} (høyst {MAX_SETS}); "
                            "slett en først")
        raw["sets"][name] = {"members": codes, "saved": datetime.now(UTC).isoformat(timespec="seconds")}
        _write_atomic(file, raw)
    return codes


def delete(name: str, where: Path | str | None = None) -> None:
    """The administrator removes a team set."""
    file = _path(where)
    with _locked(file):
        raw = _read_for_edit(file)
        if name not in raw.get("sets", {}):
            raise UserError(f"ingen sammenligningsgruppe i {file} heter «{name}»")
        del raw["sets"][name]
        _write_atomic(file, raw)


def main(argv: list[str] | None = None) -> int:
    """`python -m drivers.peersets list | check | add NAME CODE… | remove NAME` on the team file."""
    parser = argparse.ArgumentParser(prog="python -m drivers.peersets",
                                     description="The team's shared peer sets (the dashboard only reads them).")
    parser.add_argument("--file", type=Path, default=None, help=f"the sets file (default ${ENV}, else data/peer_sets.json)")
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("list", help="the usable sets and their members")
    sub.add_parser("check", help="what is wrong with the file (exit code 1 if anything)")
    add = sub.add_parser("add", help="add or replace a set")
    add.add_argument("name")
    add.add_argument("codes", nargs="+", help="municipality numbers, e.g. 3205 3220")
    remove = sub.add_parser("remove", help="remove a set")
    remove.add_argument("name")
    args = parser.parse_args(argv)
    file = _path(args.file)
    try:
        if args.what in ("list", "check"):
            read = _parse(file)
            if args.what == "list":
                for name, members in read.sets.items():
                    print(f"{name}: {' '.join(members)}")
            for problem in read.problems:
                print(problem, file=sys.stderr)
            return 1 if read.problems and args.what == "check" else 0
        if args.what == "add":
            codes = save(args.name, args.codes, file, panel=_panel())
            print(f"lagret «{args.name}» med {len(codes)} kommuner i {file}")
        else:
            delete(args.name, file)
            print(f"slettet «{args.name}» fra {file}")
    except UserError as exc:
        print(f"drivers: {exc}", file=sys.stderr)
        return 2
    return 0


def _panel():
    """The panel to check codes against, when there is a database (else only the codes' form is checked)."""
    from drivers.config import Settings
    from drivers.loading import load_panel_from

    db = Settings.from_env().database_for_reading()
    return load_panel_from(db) if db.exists() else None


# ---- the engine's api with team sets' names resolved -----------------------------------------------------------
def resolving(api, where: Path | str | None = None) -> _ResolvingApi:
    """The engine's api module, with a team set's name (as a URL carries it) and an own set turned into its
    PeerSet at every call, so callers that hold a name get the latest members. `peer_sets()` lists the team's."""
    return _ResolvingApi(api, where)


@functools.cache
def _fn_signature(fn) -> inspect.Signature:
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
            params = [p for p in ("peers", "group") if p in _fn_signature(fn).parameters]
        except (TypeError, ValueError):
            return fn
        if not params:
            return fn

        @functools.wraps(fn)
        def call(*args, **kwargs):
            bound = _fn_signature(fn).bind_partial(*args, **kwargs)
            if "peers" in bound.arguments:
                bound.arguments["peers"] = resolve(bound.arguments["peers"], self._where)
            group = bound.arguments.get("group")
            if isinstance(group, Personal):
                bound.arguments["group"] = group.set
            elif isinstance(group, str) and group not in ("landet", "landet-uten-oslo") \
                    and group in team(self._where).sets:
                bound.arguments["group"] = get(group, self._where)
            return fn(*bound.args, **bound.kwargs)

        return call


if __name__ == "__main__":
    sys.exit(main())
