"""Fixture: the dashboard's Oversikt, Tjenester and 404 page modules on the real database (fetched db, else the
snapshot); skipped with the reason when there is none."""

import sys

import pytest

from drivers.config import Settings


@pytest.fixture(scope="module")
def pages():
    settings = Settings.from_env()
    if not settings.database_for_reading().exists():
        pytest.skip(f"no database at {settings.database_for_reading()}: run `drivers snapshot build`")
    from drivers.ui.app import create_app

    create_app(settings, preload=False)
    return {name: sys.modules[f"pages.{name}"] for name in ("oversikt", "tjenester", "feil")}
