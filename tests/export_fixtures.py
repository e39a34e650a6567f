"""Fixtures for the export tests: one warm kaleido renderer (headless Chromium) per test module."""

from __future__ import annotations

import pytest

from drivers.export import image

__all__ = ["warm"]


@pytest.fixture(scope="module")
def warm():
    """One warm Chromium for the module; a missing browser skips with the reason."""
    r = image.Renderer()
    try:
        r.start()
    except image.ExportUnavailable as exc:
        pytest.skip(f"kaleido cannot drive Chromium here: {exc}")
    yield r
    r.close()
