"""Registers the ``bench_smoke`` marker (deselect with ``-m 'not bench_smoke'``)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "bench_smoke: fast smoke test of the bench/ pieces")
