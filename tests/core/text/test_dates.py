"""Dates normalized to ISO 8601 date-time with offset."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from streams.core.text.dates import epoch_ms, iso_datetime


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-08-18", "2024-08-18T00:00:00+00:00"),  # a date alone: midnight UTC
        ("2024-08-18T10:00:00Z", "2024-08-18T10:00:00+00:00"),
        ("2024-08-18T10:00", "2024-08-18T10:00:00+00:00"),  # no offset: UTC
        ("2024-08-18 10:00:00+0100", "2024-08-18T10:00:00+01:00"),
        ("2016-12-23T16:42:59-05:00", "2016-12-23T16:42:59-05:00"),  # the source's offset kept
        ("2024-08-18T10:00:00.123456+05:30", "2024-08-18T10:00:00+05:30"),
        ("20240818T1000Z", "2024-08-18T10:00:00+00:00"),
        # RFC 3339's lower-case "t" and "z" (until 2026-12-05 passed on unchanged)
        ("2024-08-18t10:00:00z", "2024-08-18T10:00:00+00:00"),
        ("2024-08-18t10:00:00.5-05:00", "2024-08-18T10:00:00-05:00"),
        ("Sun, 18 Aug 2024 10:00:00 GMT", "2024-08-18T10:00:00+00:00"),
        ("Mon, 11 Mar 2024 09:00:00 +0200", "2024-03-11T09:00:00+02:00"),
        ("1724000000", "2024-08-18T16:53:20+00:00"),
        ("1724000000123", "2024-08-18T16:53:20+00:00"),
        ("1724000000.5", "2024-08-18T16:53:20+00:00"),  # a fraction of a second
        ("1724000000123.25", "2024-08-18T16:53:20+00:00"),
        ("1724000000.", None),
        # An offset with seconds (pytz's local mean time, +05:53:28) is no ISO 8601 offset:
        # the instant in UTC.
        ("2024-08-18T10:00:00+05:53:28", "2024-08-18T04:06:32+00:00"),
        ("2024-08-18T10:00:00-00:00:30.5", "2024-08-18T10:00:30+00:00"),
        ("172400000.5", None),
        ("0001-01-01T00:00:00", None),  # placeholder year
        ("2024-02-31", None),
        ("Aug 18, 2024", None),
        ("yesterday", None),
        ("2024-08-18T10:00:00+01:00 trailing", None),
        ("", None),
        (None, None),
    ],
)
def test_iso_datetime(value: str | None, expected: str | None) -> None:
    assert iso_datetime(value) == expected


def test_idempotent() -> None:
    once = iso_datetime("Sun, 18 Aug 2024 10:00:00 +0100")
    assert once is not None and iso_datetime(once) == once


def test_epoch_ms_of_the_dates_iso_datetime_writes() -> None:
    assert epoch_ms("1970-01-01T00:00:01+00:00") == 1_000
    assert epoch_ms("2023-11-14T23:13:19+01:00") == 1_699_999_999_000
    assert epoch_ms(iso_datetime("1700000000")) == 1_700_000_000_000
    assert [epoch_ms(v) for v in (None, "", "2024-03-11T07:45:00", "soon")] == [None] * 4


@pytest.fixture
def local_time_not_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A host whose local time is not UTC: a reading that used it would show."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("local_time_not_utc")
def test_epoch_seconds_and_odd_offsets_never_read_the_hosts_time_zone() -> None:
    assert iso_datetime("1723975200") == "2024-08-18T10:00:00+00:00"
    assert iso_datetime("2024-08-18T10:00:00+05:53:28") == "2024-08-18T04:06:32+00:00"
    assert iso_datetime("2024-08-18") == "2024-08-18T00:00:00+00:00"


@pytest.mark.parametrize(("value", "expected"), [
    ("1900-01-01", "1900-01-01T00:00:00+00:00"),  # the first year taken
    ("2100-12-31", "2100-12-31T00:00:00+00:00"),  # the last
    ("2024-08-18T10:00:00+05:31", "2024-08-18T10:00:00+05:31"),  # an odd minute is an offset
])
def test_the_limits_of_what_is_a_date(value: str, expected: str) -> None:
    assert iso_datetime(value) == expected


def test_epoch_ms_are_whole_milliseconds() -> None:
    assert epoch_ms("2024-08-18T10:00:00.000500+00:00") == 1_723_975_200_000
