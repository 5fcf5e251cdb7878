"""What the worker publishes after another worker's log record or an overdue race
(streams.shell.corrections), with a scripted producer in place of Faust's."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

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
    # The merge's articles.stories record goes out with its log record (publish_log_records).
    assert [topic for topic, _, _ in producer.delivered] == [
        "articles.duplicates", "ingest.fingerprints", "ingest.fingerprints", "articles.stories"]
    assert metrics.owed_corrections._value.get() == 1  # type: ignore[attr-defined]
    assert metrics.corrections._value.get() == 1  # type: ignore[attr-defined]
    assert ("published 1 correction(s) of races other workers lost, 0 duplicate(s) moved "
            "to the kept article and 1 story merge(s), which they did not publish within "
            "INGEST_RACE_FALLBACK_S" in caplog.text)


def race_correction() -> Outcome:
    """Worker b kept a copy; a's record of the earlier original reaches it: a correction."""
    a, b = Deduplicator(CoreConfig(), worker="a"), Deduplicator(CoreConfig(), worker="b")
    first = a.process(raw(envelope(ORIGINAL), 0, ts=1_000, partition=0), now_ms=5_000)
    b.process(raw(envelope(COPY), 0, ts=2_000, partition=1), now_ms=5_000)
    [corrected] = deliver(first, b, now_ms=5_100)
    assert corrected.corrections == 1
    return corrected


def test_races_are_summed_up_in_one_line_at_most_every_ten_seconds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Races are part of running several workers: each was a WARNING line, hundreds a minute
    with two workers in a backlog (~1,000 for 8,000 generated articles)."""
    caplog.set_level(logging.DEBUG, logger="streams.shell.worker")
    settings = load({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    producer, metrics = ScriptedProducer({}), Metrics.create(CollectorRegistry())
    publisher = Publisher(declare_topics(create_app(settings), settings), metrics, producer)
    now = [100.0]
    sink = Corrections(publisher, metrics, clock=lambda: now[0])
    outcome = race_correction()

    def infos() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]

    for at in (101.0, 105.0):
        now[0] = at
        asyncio.run(sink.after_log_record(outcome))
    assert len(producer.delivered) == 2 * (len(outcome.outputs) + len(outcome.log_records)
                                           + len(outcome.story_updates))
    assert metrics.corrections._value.get() == 2  # type: ignore[attr-defined]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert infos() == []  # not 10 s yet
    assert caplog.text.count("race with another worker: 1 verdict(s) corrected") == 2  # DEBUG
    now[0] = 110.0
    asyncio.run(sink.after_log_record(outcome))
    assert infos() == [
        f"races with other workers in the last 10 s: 3 (3 verdict(s) corrected, "
        f"{3 * outcome.root_changes} duplicate(s) moved to another kept article, "
        f"{3 * len(outcome.story_updates)} story merge(s))"]
    now[0] = 115.0
    asyncio.run(sink.after_log_record(outcome))
    assert len(infos()) == 1  # the next line sums up from 110 s on
    sink.log_races()  # the worker stops: what is left is logged
    assert infos()[1].startswith("races with other workers in the last 5 s: 1 (1 verdict(s)")
    sink.log_races()
    assert len(infos()) == 2  # nothing since
