"""The data version (drivers.report.version) with Flask's per-request memo: inside a request the version is
computed once, and the data layer's Bundle (drivers.report.data: the database in memory) is taken once, at the
request's first data access, and kept on Flask's g to the request's end; so one request never mixes two versions,
and a database swapped in while it runs is read by the next request."""

from __future__ import annotations

import flask

from drivers.report import version as _version
from drivers.report.version import RACY, data_version, database, sets_path  # noqa: F401  (the serving API)


def _scope():
    return flask.g if flask.has_request_context() else None


_version.request_scope = _scope
