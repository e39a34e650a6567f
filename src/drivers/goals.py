"""The indikatorsett: the municipality's goals (mål, in the samfunnsdel's wording), each with indicators from the
registry and a target, read from a YAML file the municipality edits (schema: docs/indikatorsett.md).

Where: $DRIVERS_INDIKATORSETT (Settings.indikatorsett), else the example that ships with the code
(indikatorsett_eksempel.yaml beside this module, marked as an example). `load()` reads the file again when its stat
signature changes, so an edit shows on the next page view.

Validation. The file is composed with yaml.compose (nodes keep their line), then read node by node. Every problem
is one `Problem` naming the file and the line (a word key with values, worded in the page's language), and only
what it concerns is left out: an unknown indicator or an impossible target drops that indicator, a goal without
its text drops that goal, a file that is not YAML (or not this schema at the top) gives no goals. The rest is used.

Long on purpose: one file format, read node by node so that every message can name its line; the schema's parts
(top, goal, indicator, target) are short readers that only make sense side by side with the schema document.
"""

from __future__ import annotations

import difflib
import os
import pkgutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from drivers import filestat, i18n
from drivers.engine import goals as rules
from drivers.engine import indicators as registry

ENV = "DRIVERS_INDIKATORSETT"
EXAMPLE = "indikatorsett_eksempel.yaml"  # package data beside this module
MAX_FILE_BYTES = 1_000_000
MAX_GOALS = 50
MAX_INDICATORS = 30  # per goal
YEARS = (2000, 2100)  # a year in the file outside this span is a typo
# peer sets a target may name, with the spellings people write
PEER_NAMES = {"kostragruppe": "kostragruppe", "kostragruppen": "kostragruppe", "kostra-gruppen": "kostragruppe",
              "kostra-gruppe": "kostragruppe", "fylke": "fylke", "fylket": "fylke", "landet": "landet",
              "landet-uten-oslo": "landet-uten-oslo", "landet uten oslo": "landet-uten-oslo"}
DIRECTION_NAMES = {"opp": "up", "øke": "up", "økende": "up", "ned": "down", "redusere": "down", "synkende": "down"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the file: where (file, line) and what (a word key "goal.err.*" with values)."""

    file: str
    line: int | None
    key: str
    values: tuple = ()

    def text(self, lang: str | None = None) -> str:
        lang = i18n.known(lang)
        what = i18n.t(self.key, lang, **{k: i18n.reason_text(v, lang) for k, v in self.values})
        if self.line is None:
            return i18n.t("goal.err.where_file", lang, file=self.file, what=what)
        return i18n.t("goal.err.where", lang, file=self.file, line=self.line, what=what)

    def __str__(self) -> str:
        return self.text()


@dataclass(frozen=True)
class Entry:
    """One indicator of a goal: its registry id, target, target year and owner (the goal's unless its own), the
    source of a norm, a note, and the line it stands on."""

    indicator: str
    target: rules.Target
    target_year: int | None
    owner: str | None
    source: str | None = None
    note: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Goal:
    text: str
    owner: str | None
    target_year: int | None
    entries: tuple[Entry, ...]
    id: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class GoalSet:
    """What the file holds that can be used, and what is wrong with the rest."""

    file: str  # the name shown in messages
    title: str | None
    example: bool
    goals: tuple[Goal, ...] = ()
    problems: tuple[Problem, ...] = ()
    about: str | None = None
    path: str | None = field(default=None, compare=False)  # None: the example shipped with the code


# ---- where the file is ---------------------------------------------------------------------------------------------
def path() -> Path | None:
    """The municipality's own indikatorsett ($DRIVERS_INDIKATORSETT, Settings.indikatorsett), or None for the
    example."""
    from drivers.config import Settings

    env = os.environ.get(ENV)
    if env:
        return Path(env)
    return Settings.from_env().indikatorsett


def example_text() -> str:
    return pkgutil.get_data(__package__, EXAMPLE).decode("utf-8")


_lock = threading.Lock()
_seen: dict = {}  # key -> (signature, GoalSet)


def load(where: Path | str | None = None, text: str | None = None, name: str | None = None) -> GoalSet:
    """The indikatorsett at `where` (default: `path()`, else the example), or read from `text`. Re-read when the
    file's stat signature changes."""
    if text is not None:
        return parse(text, name or "indikatorsett")
    file = Path(where) if where else path()
    if file is None:
        with _lock:
            cached = _seen.get(None)
        if cached is None:
            cached = (None, parse(example_text(), EXAMPLE))
            with _lock:
                _seen[None] = cached
        return cached[1]
    sig = filestat.signature(file)
    with _lock:
        cached = _seen.get(str(file))
    if cached is not None and cached[0] == sig and sig is not None:
        return cached[1]
    got = _read(file)
    with _lock:
        if len(_seen) > 32:
            _seen.clear()
        _seen[str(file)] = (sig, got)
    return got


def version() -> tuple:
    """What the indikatorsett in use is now: its path and stat signature (the example: its name), for caches of
    views built from it (a page built from the file is built again once the file is edited)."""
    file = path()
    return (EXAMPLE,) if file is None else (str(file), filestat.signature(file))


def _read(file: Path) -> GoalSet:
    name = str(file)
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            return _broken(name, None, "goal.err.too_big", max=MAX_FILE_BYTES)
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return _broken(name, None, "goal.err.no_file")
    except (OSError, UnicodeDecodeError) as exc:
        return _broken(name, None, "goal.err.unreadable", error=str(exc)[:200])
    return parse(text, name, path=name)


def _broken(name: str, line: int | None, key: str, **values) -> GoalSet:
    return GoalSet(name, None, False, (), (Problem(name, line, key, tuple(values.items())),), path=name)


# ---- reading the nodes ---------------------------------------------------------------------------------------------
class _Bad(Exception):
    def __init__(self, node, word: str, /, **values):
        super().__init__(word)
        self.line = _line(node)
        self.key, self.values = word, tuple(values.items())


def _line(node) -> int | None:
    mark = getattr(node, "start_mark", None)
    return mark.line + 1 if mark is not None else None


class _Reader:
    def __init__(self, text: str, name: str):
        self.name = name
        self.loader = yaml.SafeLoader(text)
        self.problems: list[Problem] = []

    def close(self):
        self.loader.dispose()

    def problem(self, node, word: str, /, **values) -> None:
        self.problems.append(Problem(self.name, _line(node) if node is not None else None, word,
                                     tuple(values.items())))

    def scalar(self, node):
        if not isinstance(node, yaml.ScalarNode):
            raise _Bad(node, "goal.err.not_scalar")
        return self.loader.construct_object(node, deep=True)

    def mapping(self, node, what: str) -> dict:
        """key -> (key node, value node); keys as lower-case text."""
        if not isinstance(node, yaml.MappingNode):
            raise _Bad(node, "goal.err.not_mapping", what=i18n_term(what))
        out = {}
        for k, v in node.value:
            key = str(self.scalar(k)).strip().lower()
            if key in out:
                raise _Bad(k, "goal.err.field_twice", field=key)
            out[key] = (k, v)
        return out


def i18n_term(what: str):
    """A part of the file by its word key ("goal.part.<what>"), worded in the message's language."""
    from drivers.engine.reasons import term

    return term(f"goal.part.{what}")


def parse(text: str, name: str = "indikatorsett", path: str | None = None) -> GoalSet:
    """Read an indikatorsett from its text (see the module)."""
    reader = _Reader(text, name)
    try:
        try:
            root = reader.loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            return GoalSet(name, None, False, (), (Problem(name, line, "goal.err.yaml",
                                                           (("error", str(exc.problem or exc.context or "")),)),),
                           path=path)
        except yaml.YAMLError as exc:
            return GoalSet(name, None, False, (), (Problem(name, None, "goal.err.yaml", (("error", str(exc)),)),),
                           path=path)
        if root is None:
            return GoalSet(name, None, False, (), (Problem(name, None, "goal.err.empty"),), path=path)
        try:
            top = reader.mapping(root, "file")
            title = _text(reader, top, "tittel")
            about = _text(reader, top, "om")
            example = "eksempel" in top and reader.scalar(top["eksempel"][1]) is True
            if "mål" not in top:
                raise _Bad(root, "goal.err.no_goals")
            goals_node = top["mål"][1]
            if not isinstance(goals_node, yaml.SequenceNode):
                raise _Bad(goals_node, "goal.err.goals_not_list")
            defaults = {"eier": _text(reader, top, "eier"), "målår": _year(reader, top, "målår")}
            for key, (knode, _) in top.items():
                if key not in ("tittel", "om", "eksempel", "mål", "eier", "målår", "versjon"):
                    reader.problem(knode, "goal.err.field_unknown", field=key, known="tittel, om, eksempel, eier, målår, mål")
        except _Bad as bad:
            reader.problems.append(Problem(name, bad.line, bad.key, bad.values))
            return GoalSet(name, None, False, (), tuple(reader.problems), path=path)
        goals = []
        for node in goals_node.value[:MAX_GOALS]:
            try:
                goal = _goal(reader, node, defaults)
            except _Bad as bad:
                reader.problems.append(Problem(name, bad.line, bad.key, bad.values))
                continue
            if goal is not None:
                goals.append(goal)
        if len(goals_node.value) > MAX_GOALS:
            reader.problem(goals_node.value[MAX_GOALS], "goal.err.too_many_goals", max=MAX_GOALS)
        return GoalSet(name, title, example, tuple(goals), tuple(reader.problems), about, path=path)
    finally:
        reader.close()


def _text(reader: _Reader, fields: dict, key: str) -> str | None:
    if key not in fields:
        return None
    value = reader.scalar(fields[key][1])
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise _Bad(fields[key][1], "goal.err.field_not_text", field=key)
    return str(value).strip() or None


def _year(reader: _Reader, fields: dict, key: str) -> int | None:
    if key not in fields:
        return None
    node = fields[key][1]
    value = reader.scalar(node)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not YEARS[0] <= value <= YEARS[1]:
        raise _Bad(node, "goal.err.field_year", field=key, value=str(value)[:20], lo=YEARS[0], hi=YEARS[1])
    return value


def _number(reader: _Reader, node, key: str) -> float:
    value = reader.scalar(node)
    if isinstance(value, str):  # Norwegians write 1,75
        try:
            value = float(value.strip().replace(" ", "").replace("\u00a0", "").replace(",", "."))
        except ValueError:
            raise _Bad(node, "goal.err.field_number", field=key, value=value[:20]) from None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise _Bad(node, "goal.err.field_number", field=key, value=str(value)[:20])
    return float(value)


GOAL_KEYS = ("id", "mål", "eier", "målår", "indikatorer", "merknad")
ENTRY_KEYS = ("indikator", "målsetting", "målår", "eier", "kilde", "merknad")


def _goal(reader: _Reader, node, defaults: dict) -> Goal | None:
    fields = reader.mapping(node, "goal")
    text = _text(reader, fields, "mål")
    if not text:
        raise _Bad(node, "goal.err.no_goal_text")
    for key, (knode, _) in fields.items():
        if key not in GOAL_KEYS:
            reader.problem(knode, "goal.err.field_unknown", field=key, known=", ".join(GOAL_KEYS))
    owner = _text(reader, fields, "eier") or defaults["eier"]
    target_year = _year(reader, fields, "målår") or defaults["målår"]
    if "indikatorer" not in fields:
        raise _Bad(node, "goal.err.no_indicators", goal=text[:60])
    inds = fields["indikatorer"][1]
    if not isinstance(inds, yaml.SequenceNode) or not inds.value:
        raise _Bad(inds, "goal.err.no_indicators", goal=text[:60])
    entries = []
    for enode in inds.value[:MAX_INDICATORS]:
        try:
            entries.append(_entry(reader, enode, owner, target_year))
        except _Bad as bad:
            reader.problems.append(Problem(reader.name, bad.line, bad.key, bad.values))
    if len(inds.value) > MAX_INDICATORS:
        reader.problem(inds.value[MAX_INDICATORS], "goal.err.too_many_indicators", max=MAX_INDICATORS)
    goal_id = _text(reader, fields, "id")
    return Goal(text, owner, target_year, tuple(entries), goal_id, _line(node))


def _entry(reader: _Reader, node, owner: str | None, target_year: int | None) -> Entry:
    if isinstance(node, yaml.ScalarNode):  # "- netto_driftsresultat_pct": an indicator without a target
        raise _Bad(node, "goal.err.no_target", indicator=str(reader.scalar(node))[:60])
    fields = reader.mapping(node, "indicator")
    unknown = [(key, knode) for key, (knode, _) in fields.items() if key not in ENTRY_KEYS]
    if "indikator" in fields and "målsetting" not in fields and unknown:  # one message: the likely typo
        raise _Bad(node, "goal.err.no_target_typo", indicator=str(reader.scalar(fields["indikator"][1]))[:60],
                   field=unknown[0][0])
    for key, knode in unknown:
        reader.problem(knode, "goal.err.field_unknown", field=key, known=", ".join(ENTRY_KEYS))
    if "indikator" not in fields:
        raise _Bad(node, "goal.err.no_indicator")
    inode = fields["indikator"][1]
    ind_id = str(reader.scalar(inode) or "").strip()
    known = [i.id for i in registry.all()]
    if ind_id not in known:
        close = difflib.get_close_matches(ind_id, known, n=3, cutoff=0.5)
        raise _Bad(inode, "goal.err.unknown_indicator", indicator=ind_id[:60],
                   close=", ".join(close) if close else "—")
    if "målsetting" not in fields:
        raise _Bad(node, "goal.err.no_target", indicator=ind_id)
    tnode = fields["målsetting"][1]
    target = _target(reader, tnode)
    ind = registry.get(ind_id)
    bad = rules.impossible(target, ind.id, ind.unit, ind.polarity)
    if bad is not None:
        raise _Bad(tnode, "goal.err.impossible", indicator=ind_id, why=bad)
    year = _year(reader, fields, "målår") or target_year
    if target.kind == "direction" and year is not None and target.base_year >= year:
        raise _Bad(tnode, "goal.err.base_after_target", base_year=target.base_year, target_year=year)
    return Entry(ind_id, target, year, _text(reader, fields, "eier") or owner, _text(reader, fields, "kilde"),
                 _text(reader, fields, "merknad"), _line(node))


TARGET_KEYS = ("minst", "høyst", "retning", "fra", "på_eller_under", "på_eller_over", "bedre_enn")


def _target(reader: _Reader, node) -> rules.Target:
    """A target from its mapping (see docs/indikatorsett.md), or one of the two phrases «bedre enn fjoråret» and
    «på eller under/over <gruppe>»."""
    if isinstance(node, yaml.ScalarNode):
        phrase = " ".join(str(reader.scalar(node) or "").lower().split())
        if phrase in ("bedre enn fjoråret", "fjoråret"):
            return rules.Target("last_year")
        for prefix, direction in (("på eller under ", "down"), ("på eller over ", "up")):
            if phrase.startswith(prefix) and phrase[len(prefix):] in PEER_NAMES:
                return rules.Target("peers", direction=direction, peers=PEER_NAMES[phrase[len(prefix):]])
        raise _Bad(node, "goal.err.bad_target", value=phrase[:60])
    fields = reader.mapping(node, "target")
    unknown = [(k, n) for k, (n, _) in fields.items() if k not in TARGET_KEYS]
    if unknown:
        raise _Bad(unknown[0][1], "goal.err.field_unknown", field=unknown[0][0], known=", ".join(TARGET_KEYS))
    direction = None
    if "retning" in fields:
        raw = str(reader.scalar(fields["retning"][1]) or "").strip().lower()
        if raw not in DIRECTION_NAMES:
            raise _Bad(fields["retning"][1], "goal.err.bad_direction", value=raw[:20])
        direction = DIRECTION_NAMES[raw]
    kinds = [k for k in ("minst/høyst", "retning", "på_eller", "bedre_enn")
             if (k == "minst/høyst" and ({"minst", "høyst"} & set(fields)))
             or (k == "retning" and ("fra" in fields or (
                 "retning" in fields and not ({"minst", "høyst", "på_eller_under", "på_eller_over", "bedre_enn"}
                                              & set(fields)))))
             or (k == "på_eller" and ({"på_eller_under", "på_eller_over"} & set(fields)))
             or (k == "bedre_enn" and "bedre_enn" in fields)]
    if len(kinds) != 1:
        raise _Bad(node, "goal.err.one_kind" if kinds else "goal.err.no_kind")
    kind = kinds[0]
    if direction is not None and kind in ("minst/høyst", "på_eller"):
        raise _Bad(fields["retning"][0], "goal.err.direction_here")
    if kind == "minst/høyst":
        lo = _number(reader, fields["minst"][1], "minst") if "minst" in fields else None
        hi = _number(reader, fields["høyst"][1], "høyst") if "høyst" in fields else None
        return rules.Target("level", minimum=lo, maximum=hi)
    if kind == "retning":
        base = _year(reader, fields, "fra")
        if direction is None:
            raise _Bad(node, "goal.err.no_direction")
        return rules.Target("direction", direction=direction, base_year=base)
    if kind == "på_eller":
        if {"på_eller_under", "på_eller_over"} <= set(fields):
            raise _Bad(node, "goal.err.one_kind")
        key = "på_eller_under" if "på_eller_under" in fields else "på_eller_over"
        raw = " ".join(str(reader.scalar(fields[key][1]) or "").strip().lower().split())
        if raw not in PEER_NAMES:
            raise _Bad(fields[key][1], "goal.err.bad_peers", value=raw[:40], known=", ".join(rules.PEER_SETS))
        return rules.Target("peers", direction="down" if key == "på_eller_under" else "up", peers=PEER_NAMES[raw])
    raw = " ".join(str(reader.scalar(fields["bedre_enn"][1]) or "").strip().lower().split())
    if raw not in ("fjoråret", "året før"):
        raise _Bad(fields["bedre_enn"][1], "goal.err.bad_better", value=raw[:40])
    return rules.Target("last_year", direction=direction)
