"""Why a figure could not be computed, as a code with arguments: the engine says what, drivers.i18n words it.

A Reason is a hashable value (it sits in DataFrame cells and in cached results). `code` names a key
`reason.<code>` in every language file of drivers.i18n; `args` are the values its text needs (numbers, codes,
labels, fetch commands, or other Reasons). str(reason) is the code with its arguments, for logs and tests.
"""

from __future__ import annotations

from typing import NamedTuple


class Reason(NamedTuple):
    code: str
    args: tuple[tuple[str, object], ...] = ()

    def arg(self, name: str, default=None):
        return dict(self.args).get(name, default)

    def __str__(self) -> str:
        inner = ", ".join(f"{k}={v}" for k, v in self.args)
        return f"{self.code}({inner})"


def why(code: str, **args) -> Reason:
    """A Reason; list arguments become tuples so the value stays hashable."""
    return Reason(code, tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in args.items()))
