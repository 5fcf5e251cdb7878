"""The bad-input corpus through the pure core (no Kafka): outcome, contract, bounded cost."""

from __future__ import annotations

import base64
import time
import tracemalloc

import pytest

from streams.core.fingerprint_log import encode_record
from streams.core.pipeline import CoreConfig, Deduplicator, Outcome
from streams.core.record_budget import encoded_size
from streams.core.records import DEADLETTER_RAW_LIMIT, RawMessage
from tests.harness import schema_errors
from tests.robustness.corpus import BY_NAME, CASES, Case

TOPIC = "articles.raw"
RECEIVED_MS = 1_723_939_200_000
NOW_MS = RECEIVED_MS + 1_000
OUTPUT_TOPIC = {
    "enriched": "articles.enriched",
    "duplicates": "articles.duplicates",
    "deadletter": "articles.deadletter",
}


_RUNS: dict[str, tuple[Outcome, float]] = {}


def run(case: Case) -> tuple[Outcome, float]:
    """The case through a fresh core, once per session: several tests read the outcome."""
    if case.name not in _RUNS:
        raw = RawMessage(TOPIC, 0, 7, case.key, case.value, RECEIVED_MS)
        started = time.monotonic()
        outcome = Deduplicator(case.config, worker="t").process(raw, NOW_MS)
        _RUNS[case.name] = (outcome, time.monotonic() - started)
    return _RUNS[case.name]


def _param(case: Case) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=case.known_bug)] if case.known_bug else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_case_has_its_expected_outcome(case: Case) -> None:
    outcome, _ = run(case)
    (output,) = outcome.outputs
    detail = output.value.get("detail") or output.value.get("text", "")[:200]
    assert outcome.verdict == case.expected.verdict, detail
    assert OUTPUT_TOPIC[output.kind] == case.expected.topic
    assert case.expected.failures(output.value) == [], detail
    assert outcome.error_code == output.value.get("error")


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_record_validates_and_is_one_of_the_accepted_outcomes(case: Case) -> None:
    """Green even for known bugs: every case yields one valid record, in bounded time."""
    outcome, seconds = run(case)
    (output,) = outcome.outputs
    topic = OUTPUT_TOPIC[output.kind]
    assert schema_errors(topic, output.value) == []
    assert encoded_size(output.key, output.value) <= case.config.max_record_bytes
    for record in outcome.log_records:
        value = encode_record(record.entry, record.paragraph_keys, record.worker)
        assert len(value) + len(record.entry.id.encode()) <= case.config.max_record_bytes
    assert any(
        outcome.verdict == expected.verdict and not expected.failures(output.value)
        for expected in case.accepted()
    ), output.value.get("detail")
    if case.time_bound_s is not None:
        assert seconds < case.time_bound_s, f"{case.name} took {seconds:.1f} s"


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES
                                  if c.expected.verdict == "deadletter"])
def test_dead_letter_carries_the_raw_message_for_replay(case: Case) -> None:
    outcome, _ = run(case)
    record = outcome.outputs[0].value
    for field, data in (("raw", case.value), ("raw_key", case.key)):
        if data is None:
            assert (record[field], record[f"{field}_encoding"]) == (None, "none")
            assert record[f"{field}_truncated"] is False
            continue
        text = record[field]
        kept = base64.b64decode(text) if record[f"{field}_encoding"] == "base64" else text.encode()
        assert data.startswith(kept)
        assert record[f"{field}_truncated"] is (len(kept) < len(data))
        assert len(kept) <= DEADLETTER_RAW_LIMIT
    assert encoded_size(outcome.outputs[0].key, record) <= CoreConfig().max_record_bytes


def _process_traced(case: Case) -> tuple[Outcome, int, int]:
    """Process one case under tracemalloc: (outcome, peak bytes, value size)."""
    value = case.value
    assert value is not None
    raw = RawMessage(TOPIC, 0, 7, None, value, RECEIVED_MS)
    dedup = Deduplicator(case.config, worker="t")
    tracemalloc.start()
    try:
        outcome = dedup.process(raw, NOW_MS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return outcome, peak, len(value)


def test_too_large_value_is_refused_without_copying_it() -> None:
    outcome, peak, size = _process_traced(BY_NAME["one_line_5mb_default_limit"])
    assert outcome.error_code == "too_large"
    # The dead letter holds a 256 KiB prefix; the value itself is never decoded or copied.
    assert peak < 5 * DEADLETTER_RAW_LIMIT, f"peak {peak} bytes for a {size}-byte value"


@pytest.mark.parametrize("name", ["one_line_5mb_raised_limit", "varied_words_just_under_limit"])
def test_large_accepted_value_has_bounded_memory(name: str) -> None:
    outcome, peak, size = _process_traced(BY_NAME[name])
    assert outcome.verdict == "enriched"
    # Generous: tokens and word 3-grams as Python strings cost ~50 bytes per input byte today
    # (a list of each); what must not happen is a buffer per (permutation, shingle) pair.
    assert peak < 64 * size, f"peak {peak / 1e6:.0f} MB for a {size / 1e6:.1f} MB value"
