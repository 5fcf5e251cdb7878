"""Dead-letter codes: the error classes, the dead-letter schema and the README agree."""

from __future__ import annotations

import re
from pathlib import Path

from streams.core import errors
from streams.core.records import record_schema

README = Path(__file__).resolve().parents[2] / "README.md"


def deadletter_codes() -> set[str]:
    """Codes a dead letter can carry: every concrete input error, the internal error, and an
    output the broker refused (the publisher's)."""
    return {*errors.message_error_codes(), errors.PublishFailedError.code}


def test_the_message_codes_are_the_input_errors_and_the_internal_one() -> None:
    assert errors.message_error_codes() == (
        "binary_content", "empty_body", "extraction_failed", "internal_error",
        "invalid_envelope", "missing_body", "not_utf8", "processing_timeout",
        "record_too_large", "too_large", "unsupported_format")


def test_the_schema_enum_is_the_set_of_codes() -> None:
    enum = record_schema("deadletter")["properties"]["error"]["enum"]
    assert len(enum) == len(set(enum))
    assert set(enum) == deadletter_codes()


def test_the_readme_lists_the_same_codes() -> None:
    [paragraph] = re.findall(r"^Dead-letter codes: (.*?)\.$", README.read_text(),
                             flags=re.M | re.S)
    assert set(re.findall(r"`(\w+)`", paragraph)) == deadletter_codes()


def test_codes_are_unique_snake_case() -> None:
    classes = [c for c in vars(errors).values()
               if isinstance(c, type) and issubclass(c, errors.IngestError)]
    codes = [c.code for c in classes]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", code) for code in codes)
