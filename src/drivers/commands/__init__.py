"""Subcommands of `drivers`; see drivers.cli."""
