"""WSGI entry point: `waitress-serve app:server` (or `drivers serve --production`, see docs/deploy.md).

The server gets the production headers and access log (drivers.ui.serving.headers); waitress's own sizing is
given on its command line (README, docs/deploy.md)."""

from drivers.config import Settings
from drivers.ui.app import create_app
from drivers.ui.serving import headers

app = create_app(Settings.from_env())
server = app.server
headers.install(server)
