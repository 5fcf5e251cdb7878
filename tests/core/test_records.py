"""Times as records write them: total, exact at the ends of what ISO 8601 can show."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.core.records import MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS, clamp_timestamp_ms, iso_ms


@pytest.mark.parametrize(
    ("ms", "written"),
    [
        (0, "1970-01-01T00:00:00.000+00:00"),
        (1_764_000_000_123, "2025-11-24T16:00:00.123+00:00"),
        (MAX_TIMESTAMP_MS, "9999-12-31T23:59:59.999+00:00"),
        # past the ends (a hostile trial, 2026-12-06: a Kafka timestamp of 10**16 ms, and a
        # story founded on published_at 0001-01-01 with INGEST_EVENT_TIME=published, each
        # stopped the worker at every start)
        (10**16, "9999-12-31T23:59:59.999+00:00"),
        (2**63 - 1, "9999-12-31T23:59:59.999+00:00"),
        (-14_182_980_000, "1969-07-20T20:17:00.000+00:00"),  # before 1970 as it was
        (-62_135_596_800_000, "0001-01-01T00:00:00.000+00:00"),
        (-62_135_596_800_001, "0001-01-01T00:00:00.000+00:00"),
        (-(2**63), "0001-01-01T00:00:00.000+00:00"),
    ],
)
def test_iso_ms_writes_every_integer(ms: int, written: str) -> None:
    assert iso_ms(ms) == written


@given(st.integers(MIN_TIMESTAMP_MS, MAX_TIMESTAMP_MS))
def test_iso_ms_is_what_datetime_writes_inside_the_range(ms: int) -> None:
    assert clamp_timestamp_ms(ms) == ms
    written = datetime.fromisoformat(iso_ms(ms))
    assert round(written.timestamp() * 1000) == ms
