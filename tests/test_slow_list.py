"""tests/slow_tests.txt names tests that exist: a renamed or removed test would otherwise leave a stale line and
its successor would run in the fast tier unmeasured, or the list would grow lines that mean nothing."""

import ast
import functools
from pathlib import Path

from ui_fixtures import slow_list

HERE = Path(__file__).parent


@functools.cache
def _functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_listed_slow_test_exists():
    listed = slow_list()
    assert len(listed) > 10
    stale = []
    for node in sorted(listed):
        file, _, name = node.partition("::")
        path = HERE / file
        if not path.exists() or name.split("[")[0] not in _functions(path):
            stale.append(node)
    assert not stale, f"tests/slow_tests.txt names tests that do not exist: {stale}"
