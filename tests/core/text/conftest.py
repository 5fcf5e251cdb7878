"""Shared fixtures of the text-path tests; a modest hypothesis profile keeps them fast."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "text", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("text-thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "text"))

SEEDS = Path(__file__).resolve().parents[2] / "fixtures" / "seeds"
PAGES = Path(__file__).resolve().parents[3] / "bench" / "pages"


def read_seed(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def seeds() -> dict[str, str]:
    return {prefix: read_seed(prefix) for prefix in ("000", "001", "002", "003", "004")}
