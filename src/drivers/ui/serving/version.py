"""The data version (drivers.report.version) with Flask's per-request memo: inside a request the version is
computed once, so one request never mixes two versions."""

from __future__ import annotations

import flask

from drivers.report import version as _version
from drivers.report.version import RACY, data_version, database, sets_path  # noqa: F401  (the serving API)


def _scope():
    return flask.g if flask.has_request_context() else None


_version.request_scope = _scope
