"""Shared pytest fixtures. Each helper adds one import line for its own fixtures module."""

from export_fixtures import *  # noqa: F401,F403  (one warm kaleido renderer per module: warm)
from fakessb.fixtures import *  # noqa: F401,F403  (fake SSB server: fake_ssb, fast_cli, make_client, vclock)
from shared_data import snapshot_db  # noqa: F401  (the snapshot built once per session from ../shared)
from ui_fixtures import *  # noqa: F401,F403  (the dashboard's pages on the real database: pages)
