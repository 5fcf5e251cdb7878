"""What the worker publishes after another worker's log record or an overdue race
(streams.shell.corrections), with a scripted producer in place of Faust's."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from prometheus_client import CollectorRegistry

from streams.core.config import CoreConfig
from streams.core.outcome import Outcome
from streams.core.pipeline import Deduplicator
from streams.core.stories.config import StoryConfig
from streams.settings import load
from streams.shell.agents import Publisher
from streams.shell.app import create_app
from streams.shell.corrections import Corrections
from streams.shell.metrics import Metrics
from streams.shell.topics import declare_topics
from tests.core.test_races import COPY, ORIGINAL, deliver, envelope, raw
from tests.shell.test_publisher import ScriptedProducer


def corrections() -> tuple[Corrections, ScriptedProducer, Metrics]:
    settings = load({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    producer = ScriptedProducer({})
    metrics = Metrics.create(CollectorRegistry())
    publisher = Publisher(declare_topics(create_app(settings), settings), metrics, producer)
    return Corrections(publisher, metrics), producer, metrics


def test_a_re_root_without_outputs_is_published_to_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The loser of a race held its copy's verdict: its re-decision has no outputs (the copy
    is released as a duplicate later) but re-roots the copy on the log. That record must go
    out, or the winner finds the copy still kept and corrects it again 60 s later (found by
    a review: the shell published outcomes with outputs only)."""
    config = dataclasses.replace(CoreConfig(), stories=StoryConfig(enabled=False))
    a, b = Deduplicator(config, worker="a"), Deduplicator(config, worker="b")
    first = a.process(raw(envelope(ORIGINAL), 0, ts=1_000, partition=0), now_ms=5_000)
    b.process(raw(envelope(COPY), 0, ts=2_000, partition=1), now_ms=5_000, hold=True)
    [rerooted] = deliver(first, b, now_ms=5_100)
    assert rerooted.outputs == []
    sink, producer, metrics = corrections()
    asyncio.run(sink.after_log_record(rerooted))
    assert [(topic, key) for topic, key, _ in producer.delivered] == [
        ("ingest.fingerprints", COPY.stem.encode())]
    assert metrics.corrections._value.get() == 0  # type: ignore[attr-defined]
    assert "race with another worker" not in caplog.text


def test_nothing_is_published_for_an_empty_outcome() -> None:
    sink, producer, _ = corrections()
    asyncio.run(sink.after_log_record(Outcome(verdict="duplicate", outputs=[])))
    assert producer.delivered == []


def test_an_owed_correction_is_published_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    a, b = Deduplicator(CoreConfig(), worker="a"), Deduplicator(CoreConfig(), worker="b")
    a.process(raw(envelope(ORIGINAL), 0, ts=1_000, partition=0), now_ms=5_000)
    deliver(b.process(raw(envelope(COPY), 0, ts=2_000, partition=1), now_ms=5_000), a, 5_100)
    owed = a.owed_corrections(now_ms=5_100 + CoreConfig().race_fallback_ms)
    assert owed is not None
    sink, producer, metrics = corrections()
    asyncio.run(sink.owed(owed))
    assert [topic for topic, _, _ in producer.delivered] == [
        "articles.duplicates", "articles.stories", "ingest.fingerprints", "ingest.fingerprints"]
    assert metrics.owed_corrections._value.get() == 1  # type: ignore[attr-defined]
    assert metrics.corrections._value.get() == 1  # type: ignore[attr-defined]
    assert ("published 1 correction(s) of races other workers lost and 0 duplicate(s) moved "
            "to the kept article, which they did not publish within INGEST_RACE_FALLBACK_S"
            in caplog.text)
