"""WSGI entry point: `waitress-serve app:server` (or `drivers serve`)."""

from drivers.config import Settings
from drivers.ui.app import create_app

app = create_app(Settings.from_env())
server = app.server
