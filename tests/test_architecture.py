"""The house rules as a test (issue 12 item 6): every module's imports and a few calls, read with `ast` (imports
inside functions and methods included, so a late `from drivers.engine import …` counts as much as one at the top).

Rules (DEVELOPERS.md "I/O at the edges", issue 12):
  http        HTTP clients (requests, urllib.request, http.client, socket, urllib3, httpx, aiohttp) only in drivers/ssb/
  duckdb      DuckDB only in drivers/store.py
  engine      drivers/engine/ imports no drivers module but drivers.engine.* and drivers.errors (so not store,
              config, ui, commands, loading, peersets …), no os/pathlib/tempfile/shutil/fcntl, and makes no
              file or environment call (open, Path.open/read_text/write_text/read_bytes/write_bytes/…, os.environ,
              os.getenv). Its own package data (indicators.json) is read with pkgutil.get_data(__package__, …):
              a resource shipped with the code, not a path from outside.
  renderers   drivers.export, drivers.report and drivers.products import neither dash (nor flask) nor drivers.ui
  ui          drivers.ui imports neither drivers.commands nor drivers.cli
  pages       drivers/ui/pages/* import neither drivers.engine nor drivers.store
  cycles      no import cycle between the top-level packages/modules of drivers (drivers.ui, drivers.engine, …)

Every rule holds (test_every_rule_holds). KNOWN (empty) is where a violation would be listed, by file and imported
module, with the issue that removes it: nothing outside it may appear, and every entry must still occur.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PKG = SRC / "drivers"

HTTP = ("requests", "urllib.request", "http.client", "socket", "urllib3", "httpx", "aiohttp")
# The one listening socket: `drivers serve --production` binds the port once (SO_REUSEPORT) for its server processes.
# It serves, it never calls out, so it is not the HTTP the rule keeps in drivers/ssb/.
SERVER_SOCKETS = {("drivers.commands.serve", "socket")}
ENGINE_MAY_IMPORT = ("drivers.engine", "drivers.errors")
ENGINE_NO_STDLIB = ("os", "pathlib", "tempfile", "shutil", "fcntl", "glob", "sqlite3")
FILE_METHODS = {"open", "read_text", "write_text", "read_bytes", "write_bytes", "unlink", "mkdir", "touch", "iterdir",
                "glob", "rglob", "exists", "stat", "rename", "replace"}
ENV_NAMES = {"environ", "getenv", "putenv", "unsetenv", "environb"}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. drivers.ui.pages.kart
    path: str  # relative to the repository, e.g. src/drivers/ui/pages/kart.py
    line: int
    target: str  # the imported module, e.g. drivers.engine.indicators


@dataclass(frozen=True)
class Violation:
    rule: str
    path: str
    line: int
    what: str  # the imported module or the call

    def key(self) -> tuple[str, str, str]:
        return (self.rule, self.path, self.what)

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.what} ({self.rule})"


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _files() -> list[Path]:
    files = sorted(PKG.rglob("*.py"))
    app = ROOT / "app.py"
    return files + ([app] if app.exists() else [])


def _name_of(path: Path) -> str:
    return "app" if path == ROOT / "app.py" else _module_name(path)


MODULES = {_name_of(p) for p in _files()}


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(path: Path, tree: ast.AST) -> list[Import]:
    module = _name_of(path)
    rel = str(path.relative_to(ROOT))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [Import(module, rel, node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, path.name == "__init__.py", node)
            for a in node.names:
                sub = f"{base}.{a.name}"
                # `from drivers import store` imports the module drivers.store; `from os import environ` a name
                out.append(Import(module, rel, node.lineno, sub if sub in MODULES else base))
                if a.name in ENV_NAMES and base == "os":
                    out.append(Import(module, rel, node.lineno, f"os.{a.name}"))
    return out


@pytest.fixture(scope="module")
def code() -> dict[Path, ast.AST]:
    return {p: ast.parse(p.read_text(encoding="utf-8"), filename=str(p)) for p in _files()}


@pytest.fixture(scope="module")
def imports(code) -> list[Import]:
    return [imp for p, tree in code.items() for imp in _imports(p, tree)]


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _engine_calls(path: Path, tree: ast.AST) -> list[Violation]:
    """File and environment access in an engine module, by call or attribute (ast, so comments do not count)."""
    rel = str(path.relative_to(ROOT))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id == "open":
                out.append(Violation("engine", rel, node.lineno, "open()"))
            elif isinstance(f, ast.Attribute) and f.attr in FILE_METHODS:
                if f.attr in ("replace", "exists", "stat", "glob") and not _looks_like_path(f.value):
                    continue  # str.replace, pandas .replace … are not file access
                out.append(Violation("engine", rel, node.lineno, f".{f.attr}()"))
            elif isinstance(f, ast.Attribute) and f.attr == "get_data" and not _own_package_data(node):
                out.append(Violation("engine", rel, node.lineno, "pkgutil.get_data() outside its own package"))
        if isinstance(node, ast.Attribute) and node.attr in ENV_NAMES:
            out.append(Violation("engine", rel, node.lineno, f".{node.attr}"))
        if isinstance(node, ast.Name) and node.id in ENV_NAMES:
            out.append(Violation("engine", rel, node.lineno, node.id))
    return out


def _looks_like_path(value: ast.AST) -> bool:
    """`Path(...).exists()`, `os.path.exists`, `registry_file.stat()`: a name that says os/path/file/dir."""
    return bool(re.search(r"\b(os|\w*path\w*|\w*file\w*|dir|directory|folder)\b", ast.unparse(value).lower()))


def _own_package_data(call: ast.Call) -> bool:
    return bool(call.args) and isinstance(call.args[0], ast.Name) and call.args[0].id == "__package__"


def violations(code, imports) -> list[Violation]:
    out: list[Violation] = []
    for imp in imports:
        t, m = imp.target, imp.module

        def add(rule: str, imp: Import = imp) -> None:
            out.append(Violation(rule, imp.path, imp.line, imp.target))

        if any(_under(t, h) for h in HTTP) and not _under(m, "drivers.ssb") and (m, t) not in SERVER_SOCKETS:
            add("http")
        if _under(t, "duckdb") and m != "drivers.store":
            add("duckdb")
        if _under(m, "drivers.engine"):
            if _under(t, "drivers") and not any(_under(t, ok) for ok in ENGINE_MAY_IMPORT):
                add("engine")
            if any(_under(t, s) for s in ENGINE_NO_STDLIB) or t in ("os.environ", "os.getenv"):
                add("engine")
        if (_under(m, "drivers.export") or _under(m, "drivers.report") or _under(m, "drivers.products")) and (
                t.split(".")[0].startswith("dash") or _under(t, "flask") or _under(t, "drivers.ui")):
            add("renderers")
        if _under(m, "drivers.ui") and (_under(t, "drivers.commands") or _under(t, "drivers.cli")):
            add("ui")
        if _under(m, "drivers.ui.pages") and (_under(t, "drivers.engine") or _under(t, "drivers.store")):
            add("pages")
    for path, tree in code.items():
        if _name_of(path).startswith("drivers.engine"):
            out += _engine_calls(path, tree)
    out += cycle_violations(imports)
    return sorted(out, key=lambda v: (v.rule, v.path, v.line, v.what))


def _top(name: str) -> str | None:
    parts = name.split(".")
    return ".".join(parts[:2]) if parts[0] == "drivers" and len(parts) > 1 else None


def top_level_graph(imports) -> dict[str, dict[str, Import]]:
    """drivers.<top> -> {drivers.<other top>: one import that makes the edge (the first by file and line)}."""
    graph: dict[str, dict[str, Import]] = {}
    for imp in sorted(imports, key=lambda i: (i.path, i.line)):
        a, b = _top(imp.module), _top(imp.target)
        if a and b and a != b:
            graph.setdefault(a, {}).setdefault(b, imp)
    return graph


def cycles(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(set(graph) | {w for e in graph.values() for w in e}):
        if v not in index:
            visit(v)
    return sorted(found)


def cycle_violations(imports) -> list[Violation]:
    """One violation per edge inside a cycle, at the import that makes it."""
    graph = top_level_graph(imports)
    out = []
    for comp in cycles(graph):
        members = set(comp)
        for a in comp:
            for b, imp in graph.get(a, {}).items():
                if b in members:
                    out.append(Violation("cycles", imp.path, imp.line, f"{imp.target} (cycle {' ⇄ '.join(comp)})"))
    return out


# Violations allowed, by (rule, file, imported module or call): none since issue 12 items 2 and 3 (report/ between
# the engine and its views). Add an entry only with the issue that removes it; test_known_violations_still_occur
# fails when a listed one is gone.
KNOWN: set[tuple[str, str, str]] = set()


def test_the_checker_sees_what_it_should(code, imports):
    """The rules can fail: a synthetic module breaking each one is caught, and real imports are read (including
    one inside a function)."""
    bad = ast.parse("import requests\nimport duckdb\nfrom drivers import store, ui\nimport os\n"
                    "def f():\n    from drivers.commands import show\n    open('x')\n    return os.environ['X']\n"
                    "def g(p):\n    return p.read_text() + str(os.getenv('Y'))\n")
    fake = PKG / "engine" / "_fake.py"
    MODULES.add("drivers.engine._fake")
    try:
        found = {(v.rule, v.what) for v in violations({fake: bad}, _imports(fake, bad))}
    finally:
        MODULES.discard("drivers.engine._fake")
    assert {("http", "requests"), ("duckdb", "duckdb"), ("engine", "drivers.store"), ("engine", "drivers.ui"),
            ("engine", "drivers.commands.show"), ("engine", "os"), ("engine", "open()"), ("engine", ".environ"),
            ("engine", ".read_text()"), ("engine", ".getenv")} <= found
    page = PKG / "ui" / "pages" / "_fake.py"
    tree = ast.parse("def f():\n    from drivers.engine import indicators\n    from drivers import store\n")
    MODULES.add("drivers.ui.pages._fake")
    try:
        assert {(v.rule, v.what) for v in violations({}, _imports(page, tree))} == {
            ("pages", "drivers.engine.indicators"), ("pages", "drivers.store")}
    finally:
        MODULES.discard("drivers.ui.pages._fake")
    g = {"drivers.a": {"drivers.b": None}, "drivers.b": {"drivers.c": None}, "drivers.c": {"drivers.a": None},
         "drivers.d": {"drivers.a": None}}
    assert cycles(g) == [["drivers.a", "drivers.b", "drivers.c"]]
    targets = {(i.module, i.target) for i in imports}
    assert ("drivers.loading", "drivers.store") in targets and ("drivers.store", "duckdb") in targets
    assert len(code) > 50


RULES = ["http", "duckdb", "engine", "renderers", "ui", "pages", "cycles"]


@pytest.mark.parametrize("rule", RULES)
def test_no_new_violations(rule, code, imports):
    """Per rule: nothing breaks it beyond the KNOWN list (for most rules that list is empty: the rule holds)."""
    new = [str(v) for v in violations(code, imports) if v.rule == rule and v.key() not in KNOWN]
    assert not new, f"rule {rule!r} broken:\n" + "\n".join(new)


def test_known_violations_still_occur(code, imports):
    """A fixed violation must leave KNOWN at once, so the list says what is left."""
    seen = {v.key() for v in violations(code, imports)}
    gone = sorted(KNOWN - seen)
    assert not gone, "fixed, remove from KNOWN: " + "; ".join(" ".join(k) for k in gone)


def test_every_rule_holds(code, imports):
    """No violation at all."""
    found = [str(v) for v in violations(code, imports)]
    assert not found, "\n".join(found)


def test_the_engine_imports_and_computes_without_duckdb():
    """`drivers.engine` needs no DuckDB: with duckdb made unimportable the engine imports and computes a gap."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['duckdb'] = None\n"
            "sys.path.insert(0, 'tests')\n"
            "from drivers.engine import api, PeerSet\n"
            "from engine_data import shared_panel\n"
            "p = shared_panel()\n"
            "g = api.gaps(p, '3222', 2024, PeerSet('Romerike', ('3205', '3220')))\n"
            "assert 'drivers.store' not in sys.modules and 'duckdb' not in [m for m in sys.modules if sys.modules[m]]\n"
            "print(round(float(g.set_index('service').loc['FGK9', 'peer_per_resident'])))\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert int(run.stdout.strip()) > 0


LONG = 400


def test_a_long_module_says_why_in_its_docstring():
    """Issue 12: no module in src/drivers over 400 lines without a reason in its docstring ("Long on purpose: …")."""
    unexplained = {}
    for path in sorted(PKG.rglob("*.py")):
        text = path.read_text("utf-8")
        lines = text.count("\n")
        if lines > LONG and "Long on purpose:" not in (ast.get_docstring(ast.parse(text)) or ""):
            unexplained[path.relative_to(PKG).as_posix()] = lines
    assert not unexplained, f"modules over {LONG} lines without 'Long on purpose:' in the docstring: {unexplained}"
