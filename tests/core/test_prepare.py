"""The stateless step: total, picklable, and the same fingerprint the whole core computes."""

from __future__ import annotations

import pickle

from streams.core.config import CoreConfig
from streams.core.pipeline import Deduplicator
from streams.core.prepare import Prepared, Rejected, prepare_total
from streams.core.records import RawMessage
from tests.harness import SAMPLES, envelope

CONFIG = CoreConfig()


def raw(value: bytes, offset: int = 0) -> RawMessage:
    return RawMessage("articles.raw", 0, offset, None, value, 1_000 + offset)


def test_prepared_crosses_a_process_boundary_unchanged() -> None:
    prepared = prepare_total(raw(envelope(SAMPLES[0])), CONFIG)
    assert isinstance(prepared, Prepared)
    copy = pickle.loads(pickle.dumps(prepared))
    assert copy.id == prepared.id == SAMPLES[0].stem
    assert copy.forms == prepared.forms and copy.paragraph_keys == prepared.paragraph_keys
    assert copy.fingerprint.content_hash == prepared.fingerprint.content_hash
    assert (copy.fingerprint.signature == prepared.fingerprint.signature).all()
    assert copy.story_terms == prepared.story_terms and len(copy.story_terms) > 0
    assert [name for name, _ in copy.timings] == ["parse", "normalize", "fingerprint", "stories"]


def test_rejected_keeps_its_code_across_a_process_boundary() -> None:
    rejected = prepare_total(raw(b"\xff\xfe\x00garbage\x00" * 3), CONFIG)
    assert isinstance(rejected, Rejected)
    copy = pickle.loads(pickle.dumps(rejected))
    assert (copy.error.code, copy.error.detail) == (rejected.error.code, rejected.error.detail)


def test_deciding_a_prepared_message_equals_processing_it() -> None:
    one, two = Deduplicator(CONFIG, worker="a"), Deduplicator(CONFIG, worker="b")
    for offset, path in enumerate(SAMPLES):
        message = raw(envelope(path), offset)
        direct = one.process(message, now_ms=10_000)
        split = two.decide(prepare_total(message, CONFIG), now_ms=10_000)
        assert (split.verdict, split.match) == (direct.verdict, direct.match)
        assert [o.value["id"] for o in split.outputs] == [o.value["id"] for o in direct.outputs]
