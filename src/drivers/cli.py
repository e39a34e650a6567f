"""The `drivers` command. Each subcommand lives in its own module `drivers.commands.<name>`.

A command module defines `add_parser(subparsers)` and `run(args) -> int`. Errors a user can cause
raise `drivers.errors.UserError`; they are printed as one line and give exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from drivers.errors import UserError

COMMANDS = ["fetch", "load", "export", "snapshot", "serve", "show", "export_pack", "publish"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="drivers", description="KOSTRA drivers: data, numbers and dashboard.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"drivers.commands.{name}")
        except ModuleNotFoundError as exc:  # a command not built yet is simply absent
            if exc.name == f"drivers.commands.{name}":
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except UserError as exc:
        print(f"drivers: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # a command says what an interruption leaves (fetch: the table in progress is unchanged); else this
        print(getattr(args, "interrupted", None) or "drivers: avbrutt (interrupted); nothing was written half",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
