"""The request guard: a hostile request is a short 4xx answer, never a 500 or a traceback.

- Size: a body over MAX_BODY is a 413, from the Content-Length header, unread (Flask's MAX_CONTENT_LENGTH, set by
  the app, also stops a body without that header once it is read past the limit).
- Callbacks (POST /_dash-update-component): before Dash dispatches it, a request is checked against the callback
  it names in `app.callback_map`: a JSON object whose `output` is a server callback, whose `outputs`, `inputs`
  and `state` are the registered dependencies in number and shape (ids, pattern ids, properties), and whose
  values are of a type the property can hold. The type comes from the component with that id in the app's layout
  or a page's default view: the property's annotation on the component class (Dash >= 3), narrowed as a browser
  sends it (a text input: a string; a dropdown or radio list: one of its options' values, a list if `multi`).
  A deferred part's placeholder (serving.parts) must name a registered part and carry the parameters it reads.
  Anything else is a 400 (415 for a body that is not JSON) with a short JSON answer.
- Dash's files (/_dash-component-suites/...): a path with `..`, `.` or empty segments, or one Dash has not
  registered, is a 404.

A callback's own error is a bug and stays a 500 with its traceback in the log. Only an error Dash's dispatch
raises on a request the checks let through (no drivers code on its traceback) is answered 400 with one log line:
the last resort, counted by `rescued()`, which the hostile-input test expects to stay at zero.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import threading
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import flask
from dash.exceptions import CallbackException, DependencyException, InvalidCallbackReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

log = logging.getLogger(__name__)

MAX_BODY = 1_000_000  # bytes: the largest callback request a page sends is a few KB (a peer set of 357 codes)
WILDCARDS = ("MATCH", "ALL", "ALLSMALLER")
_rescued = 0


def install(app) -> None:
    """Check every request before Flask and Dash handle it (see the module docstring)."""
    server = app.server
    prefix = app.config.routes_pathname_prefix
    update, suites = f"{prefix}_dash-update-component", f"{prefix}_dash-component-suites/"
    shapes = Shapes(app)
    server.extensions["drivers-guard"] = shapes

    @server.before_request
    def _guard():
        request = flask.request
        limit = flask.current_app.config.get("MAX_CONTENT_LENGTH") or MAX_BODY
        if (request.content_length or 0) > limit:
            return refuse(413, f"the request body is over {limit} bytes")
        if request.path.startswith(suites) and not _plain_path(request.path[len(suites):]):
            return refuse(404, "no such file")
        if request.path == update and request.method == "POST":
            problem = shapes.problem(request)
            if problem is not None:
                return refuse(*problem)
        return None

    server.register_error_handler(RequestEntityTooLarge, lambda _exc: refuse(413, "the request body is too large"))
    # Dash raises DependencyException for a package or a file in it that it has not registered
    server.register_error_handler(DependencyException, lambda _exc: refuse(404, "no such file"))

    def last_resort(exc):
        # Dash's dispatch failing on a payload the checks let through: a 400 and one log line, no traceback
        # anywhere. A callback's own error (drivers code on the traceback) is re-raised: a 500, logged in full.
        global _rescued
        if flask.request.path != update or not _payload_caused(exc):
            raise exc
        _rescued += 1
        log.warning("refused a callback request Dash could not dispatch: %s: %s", type(exc).__name__,
                    " ".join(str(exc).split())[:200])
        return refuse(400, "the request does not match the callback")

    for kind in (TypeError, KeyError, ValueError, AttributeError, IndexError, CallbackException):
        server.register_error_handler(kind, last_resort)


def refuse(status: int, message: str) -> flask.Response:
    log.debug("refused %s %s: %s %s", flask.request.method, flask.request.path[:100], status, message)
    return flask.Response(json.dumps({"status": status, "error": message}), status=status,
                          mimetype="application/json")


def rescued() -> int:
    """How many callback requests the last resort answered (each one a gap in the checks)."""
    return _rescued


def _plain_path(rest: str) -> bool:
    """`package/path/in/package.js`: no `..`, `.` or empty segment, no backslash or NUL."""
    return "/" in rest and not {"", ".", ".."} & set(rest.split("/")) and not {"\\", "\x00"} & set(rest)


def _payload_caused(exc: BaseException) -> bool:
    if isinstance(exc, InvalidCallbackReturnValue):  # a callback returned the wrong shape: its bug
        return False
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_globals.get("__name__", "").startswith("drivers") or frame.f_code.co_name == "_prepare_response":
            return False
        tb = tb.tb_next
    return True


# ---- what a value may be ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Kind:
    """The JSON types a value may have; `items`: what a list's elements may be (None: anything)."""

    kinds: frozenset
    items: Kind | None = None

    def accepts(self, value) -> bool:
        kind = _kind_of(value)
        if kind not in self.kinds:
            return False
        return kind != "list" or self.items is None or all(self.items.accepts(v) for v in value)

    @staticmethod
    def of(*names: str, items: Kind | None = None) -> Kind:
        return Kind(frozenset(names), items)

    def __or__(self, other: Kind) -> Kind:
        if "list" not in self.kinds or "list" not in other.kinds:
            items = self.items if "list" in self.kinds else other.items
        else:
            items = None if self.items is None or other.items is None else self.items | other.items
        return Kind(self.kinds | other.kinds, items)

    def describe(self) -> str:
        names = sorted(self.kinds)
        if "list" in self.kinds and self.items is not None:
            names[names.index("list")] = f"list of {self.items.describe()}"
        return " or ".join(names)


ANY, NULL = Kind.of("null", "bool", "number", "str", "list", "dict"), Kind.of("null")


def _kind_of(value) -> str:
    kinds = ((type(None), "null"), (bool, "bool"), (int | float, "number"), (str, "str"), (list, "list"), (dict, "dict"))
    return next((kind for cls, kind in kinds if isinstance(value, cls)), "other")


def _from_hint(hint) -> Kind:
    """A component property's type annotation as JSON kinds (anything unknown: ANY)."""
    if hint is None or hint is type(None):
        return NULL
    simple = {str: "str", bool: "bool", int: "number", float: "number", typing.SupportsFloat: "number",
              typing.SupportsInt: "number", typing.SupportsComplex: "number", dict: "dict", list: "list"}
    if isinstance(hint, type) and hint in simple:
        return Kind.of(simple[hint])
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        if any(getattr(a, "__name__", "") == "_NumberSchema" for a in args[1:]):
            return Kind.of("number")
        return _from_hint(args[0])
    if origin is typing.Literal:
        return Kind.of(*{_kind_of(a) for a in args})
    if origin is typing.Union or type(hint).__name__ == "UnionType":
        return functools.reduce(Kind.__or__, (_from_hint(a) for a in args))
    if origin in (list, tuple, Sequence):
        return Kind.of("list", items=_from_hint(args[0]) if args else None)
    if origin in (dict, Mapping) or typing.is_typeddict(hint):
        return Kind.of("dict")
    return ANY


@functools.cache
def _annotations(cls) -> dict:
    try:
        return {name: p.annotation for name, p in inspect.signature(cls.__init__).parameters.items()
                if p.annotation is not inspect.Parameter.empty}
    except (TypeError, ValueError):
        return {}


def _component_kind(node, prop: str) -> Kind:
    """What a browser can send for `prop` of this component: its annotation, narrowed by the instance."""
    kind = _from_hint(_annotations(type(node)).get(prop)) if prop in _annotations(type(node)) else ANY
    if prop == "value":
        if values := _option_values(getattr(node, "options", None)):
            one = Kind.of(*{_kind_of(v) for v in values})
            multi = bool(getattr(node, "multi", False)) or type(node).__name__ == "Checklist"
            return NULL | (Kind.of("list", items=one) if multi else one)
        if type(node).__name__ == "Input" and getattr(node, "_namespace", "") == "dash_core_components":
            numeric = getattr(node, "type", None) in ("number", "range")
            return NULL | Kind.of("number" if numeric else "str")
    return NULL | kind  # an unset property arrives as null


def _option_values(options) -> list:
    if isinstance(options, dict):  # {value: label}
        return list(options)
    return [o.get("value") if isinstance(o, dict) else o for o in options] if isinstance(options, list) else []


# ---- the registered callbacks -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dep:
    """One registered dependency: its id (a string, or a dict whose wildcard values are ["MATCH"] and the like),
    its property, whether a request sends a list of items for it (ALL, ALLSMALLER), what its value may be."""

    id: str | dict
    prop: str
    many: bool = False
    value: Kind = ANY

    @classmethod
    def of(cls, id_text: str, prop: str) -> Dep:
        id_ = json.loads(id_text) if id_text.startswith("{") else id_text
        many = isinstance(id_, dict) and any(v in (["ALL"], ["ALLSMALLER"]) for v in id_.values())
        return cls(id_, prop.split("@")[0], many)

    def matches(self, given) -> bool:
        if isinstance(self.id, str):
            return isinstance(given, str) and given == self.id
        if not isinstance(given, dict) or set(given) != set(self.id):
            return False
        for key, want in self.id.items():
            value = given[key]
            if isinstance(want, list) and len(want) == 1 and want[0] in WILDCARDS:
                if not isinstance(value, str | int | float):  # Dash's rule for a pattern id's values
                    return False
            elif value != want or type(value) is not type(want):
                return False
        return True

    def problem(self, item, where: str, with_value: bool) -> str | None:
        if self.many:
            if not isinstance(item, list):
                return f"{where} must be a list"
            return next((p for x in item if (p := self._one(x, where, with_value)) is not None), None)
        return self._one(item, where, with_value)

    def _one(self, item, where: str, with_value: bool) -> str | None:
        if not isinstance(item, dict):
            return f"{where} must be an object with id and property"
        if not self.matches(item.get("id")):
            return f"{where} names an id the callback does not have"
        prop = item.get("property")
        if not isinstance(prop, str) or prop.split("@")[0] != self.prop:
            return f"{where} names a property the callback does not have"
        if not with_value:
            return None
        value = item.get("value")
        if self.prop == "id":
            if value != item["id"]:
                return f"{where}: the value of an id property is the id itself"
        elif not self.value.accepts(value):
            return f"{where}: {self.prop} must be {self.value.describe()}"
        elif self.prop == "pathname" and not (isinstance(value, str) and value.startswith("/")):
            # Dash's page router raises UnsupportedRelativePath on "" or "x": a path is absolute
            return f"{where}: a pathname starts with /"
        check = ID_CHECKS.get(item["id"].get("type")) if isinstance(item["id"], dict) else None
        return check(item["id"], where) if check is not None else None


def _deferred_problem(id_: dict, where: str) -> str | None:
    """A deferred part's placeholder: a registered part, its key a query string with the part's parameters."""
    from drivers.report import state as st
    from drivers.ui.serving import parts

    part, key = id_.get("part"), id_.get("key")
    if not isinstance(part, str) or part not in parts.DEFERRED:
        return f"{where}: no such deferred part"
    if not isinstance(key, str):
        return f"{where}: a deferred part's key is a query string"
    query = st.query_from_search(key)
    missing = [p for p in parts.DEFERRED[part][1] if not query.get(p)]
    return f"{where}: the key lacks {', '.join(missing)}" if missing else None


ID_CHECKS = {"deferred": _deferred_problem}  # the "type" of a pattern id -> its own check


@dataclass(frozen=True)
class Spec:
    """A server callback's request, as registered: `outputs` a Dep (one output) or a list of Deps."""

    outputs: Dep | list
    inputs: list
    state: list


class Shapes:
    """The registered server callbacks as request specs, built on first use (Dash adds the pages' callbacks at
    the first request), with each value's kind found from the component that has the id."""

    def __init__(self, app):
        self.app = app
        self.unresolved: set[tuple[str, str]] = set()  # (id, property) found in no layout: any value passes
        self._specs: dict[str, Spec | None] = {}
        self._nodes: list | None = None
        self._pages: list | None = None
        self._lock = threading.RLock()

    def problem(self, request) -> tuple[int, str] | None:
        """(status, message) of what is wrong with a callback request, or None."""
        if not request.is_json:
            return 415, "send the callback as JSON (Content-Type: application/json)"
        try:
            body = request.get_json(silent=True)
        except RecursionError:
            return 400, "the JSON is nested too deeply"
        if not isinstance(body, dict):
            return 400, "the body must be a JSON object"
        output = body.get("output")
        spec = self.spec(output) if isinstance(output, str) else None
        if spec is None:
            return 400, "output names no server callback"
        single = isinstance(spec.outputs, Dep)  # one output: `outputs` is its item, not a list of one
        for key, deps, items in (("inputs", spec.inputs, body.get("inputs")),
                                 ("state", spec.state, body.get("state", [])),
                                 ("outputs", [spec.outputs] if single else spec.outputs,
                                  [body.get("outputs")] if single else body.get("outputs"))):
            if not isinstance(items, list) or len(items) != len(deps):
                return 400, f"{key} must be a list of {len(deps)}"
            for i, (dep, item) in enumerate(zip(deps, items, strict=True)):
                if (p := dep.problem(item, key if single and key == "outputs" else f"{key}[{i}]",
                                     key != "outputs")) is not None:
                    return 400, p
        changed = body.get("changedPropIds")
        if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
            return 400, "changedPropIds must be a list of strings"
        return None

    def spec(self, output: str) -> Spec | None:
        """The request spec of the server callback registered for `output` (None: there is none)."""
        if output in self._specs:
            return self._specs[output]
        cb = self.app.callback_map.get(output)
        if not isinstance(cb, dict) or not callable(cb.get("callback")):
            return None  # not cached: an unknown key must not grow the table
        with self._lock:
            if output in self._specs:  # built by another thread meanwhile
                return self._specs[output]
            outs = [Dep.of(*o.rsplit(".", 1)) for o in (output[2:-2].split("...") if output.startswith("..") else [output])]
            spec = Spec(outs if output.startswith("..") else outs[0],
                        [self._valued(d) for d in cb.get("inputs", [])], [self._valued(d) for d in cb.get("state", [])])
            self._specs[output] = spec
        return spec

    def specs(self) -> dict[str, Spec]:
        """Every server callback's spec (the hostile-input test walks them)."""
        return {key: s for key in list(self.app.callback_map) if (s := self.spec(key)) is not None}

    def _valued(self, dep: dict) -> Dep:
        d = Dep.of(dep["id"], dep["property"])
        if d.prop == "id":
            return d
        nodes = self._find(d)
        if not nodes:
            self.unresolved.add((dep["id"], d.prop))
            log.info("no component in the layouts has the id %s: its %s is not type-checked", dep["id"], d.prop)
            return d
        return Dep(d.id, d.prop, d.many, functools.reduce(Kind.__or__, (_component_kind(n, d.prop) for n in nodes)))

    def _find(self, dep: Dep) -> list:
        """Components with the dependency's id: the app's layout first, then pages' default views, one at a time."""
        if self._nodes is None:
            self._nodes = _with_ids(self.app.layout)
        while True:
            found = [n for n in self._nodes if dep.matches(n.id)]
            if found or not self._more_nodes():
                return found

    def _more_nodes(self) -> bool:
        from drivers.report import state as st
        from drivers.ui.serving import routes

        if self._pages is None:
            self._pages = list(routes.LAYOUTS.items())
        if not self._pages:
            return False
        path, layout = self._pages.pop(0)
        try:
            self._nodes += _with_ids(layout.view(st.parse({})))
        except Exception as exc:  # noqa: BLE001 - a page that cannot be built only leaves its ids unchecked
            log.warning("guard: the page %s could not be built for its ids: %s", path, type(exc).__name__)
        return True


def _with_ids(tree) -> list:
    """Every component with an id in a layout (a component or a list of them)."""
    if isinstance(tree, list | tuple):
        return [n for t in tree for n in _with_ids(t)]
    if not hasattr(tree, "_traverse"):
        return []
    return [n for n in [tree, *tree._traverse()] if isinstance(getattr(n, "id", None), str | dict)]
