"""Publication dates as one format: ISO 8601 date-time with a UTC offset.

Pages and producers write dates in many ways (``2024-08-18``, ``2024-08-18T10:00:00Z``,
``2024-08-18 10:00:00+0100``, ``Sun, 18 Aug 2024 10:00:00 GMT``, epoch seconds). Records carry
one: ``2024-08-18T10:00:00+01:00``, seconds precision, the offset the source gave (in UTC when
that offset has seconds, which ISO 8601 cannot write). A time without an offset is taken as
UTC, and a date without a time as midnight UTC: consumers get one parseable type, at the price
of a time that a date-only source did not state.
"""

from __future__ import annotations

import datetime as dt
import re
from email.utils import parsedate_to_datetime

# Outside this range a date is a placeholder ("0001-01-01") or a typo, not a publication date.
MIN_YEAR = 1900
MAX_YEAR = 2100
_MAX_CHARS = 64
# English month and weekday names, lower case, in their order.
MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august",
               "september", "october", "november", "december")
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Epoch seconds or milliseconds, as producers serialise timestamps (a fraction allowed).
_EPOCH = re.compile(r"(\d{10}(?:\d{3})?)(?:\.\d{1,9})?")


_UNIX_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def epoch_ms(value: str | None) -> int | None:
    """Milliseconds since the Unix epoch of a date as :func:`iso_datetime` writes it; None
    for anything else."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return (parsed - _UNIX_EPOCH) // dt.timedelta(milliseconds=1)


def iso_datetime(value: str | None) -> str | None:
    """``value`` as ``YYYY-MM-DDTHH:MM:SS±HH:MM``, or None when it is not a date we know."""
    if not value:
        return None
    text = value.strip()[:_MAX_CHARS]
    parsed = _parse(text)
    if parsed is None or not MIN_YEAR <= parsed.year <= MAX_YEAR:
        return None
    offset = parsed.utcoffset()
    if offset is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    elif offset % dt.timedelta(minutes=1):
        # ISO 8601 offsets are hours and minutes; Python writes "+05:53:28" (pytz's local
        # mean time), which RFC 3339 readers refuse: the same instant in UTC instead.
        parsed = parsed.astimezone(dt.UTC)
    return parsed.isoformat(timespec="seconds")


def _parse(text: str) -> dt.datetime | None:
    if (epoch := _EPOCH.fullmatch(text)) is not None:
        seconds = float(text) / (1000 if len(epoch.group(1)) == 13 else 1)
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    try:
        # A date alone is midnight (then UTC, as any time without an offset). RFC 3339 allows
        # a lower-case "t" and "z" (2024-08-18t10:00:00z), Python does not.
        return dt.datetime.fromisoformat(text.upper())
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
