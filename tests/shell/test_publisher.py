"""The publisher's answer to a send the broker refuses: retry with backoff, then a small
dead letter, and only when that is refused too, a fatal error (never an ack past it).

A scripted producer stands in for Faust's: each send is accepted, refused when the send is
made (aiokafka's check of the record size) or refused in its delivery future (a broker
error). The backoff's sleep is recorded, not slept.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import jsonschema
import numpy as np
import orjson
import pytest
from prometheus_client import CollectorRegistry

from streams.core.dedup.model import Fingerprint, IndexEntry
from streams.core.errors import IngestError, PublishFailedError
from streams.core.fingerprint_log import LogRecord
from streams.core.outcome import Outcome
from streams.core.records import Output, record_schema, story_update_record
from streams.core.stories.model import StoryUpdate
from streams.settings import load
from streams.shell.agents import Publisher
from streams.shell.app import create_app
from streams.shell.lifecycle import FatalState
from streams.shell.metrics import Metrics
from streams.shell.topics import declare_topics

ORIGIN = {"topic": "articles.raw", "partition": 2, "offset": 41}


class TooLargeError(Exception):
    """Stands in for aiokafka's MessageSizeTooLargeError / the broker's RecordTooLargeError."""


class ScriptedProducer:
    """Refuses the first ``refusals[topic]`` sends to a topic, the rest are accepted."""

    def __init__(self, refusals: dict[str, int], *, at_send: bool = False) -> None:
        self.refusals = dict(refusals)
        self.at_send = at_send
        self.attempts: list[str] = []
        self.delivered: list[tuple[str, bytes, bytes]] = []

    async def send(self, topic: str, key: bytes, value: bytes, *args: Any) -> asyncio.Future[Any]:
        self.attempts.append(topic)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.refusals.get(topic, 0) > 0:
            self.refusals[topic] -= 1
            if self.at_send:
                raise TooLargeError(f"{len(value)} bytes is over the limit")
            future.set_exception(TooLargeError(f"{len(value)} bytes is over the limit"))
            return future
        self.delivered.append((topic, key, value))
        future.set_result(None)
        return future


def enriched_outcome() -> Outcome:
    value = {"schema_version": 1, "id": "1", "scoped_id": "bbc.co.uk:1", "origin": ORIGIN,
             "text": "x" * 5000}
    return Outcome(verdict="enriched", outputs=[Output("enriched", "bbc.co.uk:1", value)])


def run(producer: ScriptedProducer, *, retries: int = 3) -> tuple[list[float], Metrics,
                                                                   list[IngestError]]:
    settings = load({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    topics = declare_topics(create_app(settings), settings)
    metrics = Metrics.create(CollectorRegistry())
    sleeps: list[float] = []
    fatal: list[IngestError] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def on_fatal(error: IngestError) -> None:
        fatal.append(error)

    publisher = Publisher(topics, metrics, producer, retries=retries, backoff_s=0.2,
                          sleep=sleep, on_fatal=on_fatal)

    async def main() -> None:
        await publisher.publish_outputs(enriched_outcome())
        await publisher.flush()

    asyncio.run(main())
    return sleeps, metrics, fatal


def failures(metrics: Metrics, topic: str) -> float:
    return metrics.publish_failures.labels(topic=topic)._value.get()  # type: ignore[no-any-return]


@pytest.mark.parametrize("at_send", [False, True])
def test_a_refusal_that_passes_is_retried_with_backoff(at_send: bool) -> None:
    producer = ScriptedProducer({"articles.enriched": 2}, at_send=at_send)
    sleeps, metrics, fatal = run(producer)
    assert producer.attempts == ["articles.enriched"] * 3
    assert [(t, k) for t, k, _ in producer.delivered] == [("articles.enriched", b"bbc.co.uk:1")]
    assert sleeps == [0.2, 0.4]
    assert (failures(metrics, "articles.enriched"), fatal) == (0, [])


@pytest.mark.parametrize("at_send", [False, True])
def test_a_record_refused_every_time_is_dead_lettered_small_and_counted(at_send: bool) -> None:
    producer = ScriptedProducer({"articles.enriched": 99}, at_send=at_send)
    sleeps, metrics, fatal = run(producer)
    assert producer.attempts == ["articles.enriched"] * 4 + ["articles.deadletter"]
    assert sleeps == [0.2, 0.4, 0.8]
    [(topic, key, value)] = producer.delivered
    assert (topic, key) == ("articles.deadletter", b"bbc.co.uk:1")
    letter = orjson.loads(value)
    jsonschema.validate(letter, record_schema("deadletter"))
    assert (letter["error"], letter["id"], letter["origin"]) == ("publish_failed", "1", ORIGIN)
    assert (letter["raw"], letter["raw_encoding"]) == (None, "none")
    assert (letter["raw_key"], letter["failed_topic"]) == ("bbc.co.uk:1", "articles.enriched")
    assert letter["detail"].startswith("articles.enriched refused the record for '1' (")
    assert "4 times: TooLargeError" in letter["detail"]
    assert len(value) < 2000  # not the 5 KB value
    assert (failures(metrics, "articles.enriched"), fatal) == (1, [])


def test_without_retries_the_first_refusal_is_dead_lettered() -> None:
    producer = ScriptedProducer({"articles.enriched": 1})
    sleeps, _, _ = run(producer, retries=0)
    assert (producer.attempts, sleeps) == (["articles.enriched", "articles.deadletter"], [])


def test_a_refused_dead_letter_stops_the_worker_without_an_ack() -> None:
    producer = ScriptedProducer({"articles.enriched": 99, "articles.deadletter": 99})
    with pytest.raises(PublishFailedError, match="dead letter was refused too"):
        run(producer)
    assert producer.attempts == ["articles.enriched"] * 4 + ["articles.deadletter"] * 4
    assert producer.delivered == []


def test_the_fatal_handler_hears_of_it_and_the_exit_code_is_5() -> None:
    producer = ScriptedProducer({"articles.enriched": 99, "articles.deadletter": 99})
    settings = load({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    topics = declare_topics(create_app(settings), settings)
    heard: list[IngestError] = []

    async def on_fatal(error: IngestError) -> None:
        heard.append(error)

    async def no_sleep(_: float) -> None:
        return None

    publisher = Publisher(topics, Metrics.create(CollectorRegistry()), producer, retries=1,
                          sleep=no_sleep, on_fatal=on_fatal)

    async def main() -> None:
        await publisher.publish_outputs(enriched_outcome())
        await publisher.flush()

    with pytest.raises(PublishFailedError):
        asyncio.run(main())
    [error] = heard
    assert error.code == "publish_failed"
    assert FatalState(error).exit_code == 5


class AcknowledgingProducer(ScriptedProducer):
    """Answers each accepted send with its partition and offset, as aiokafka does."""

    async def send(self, topic: str, key: bytes, value: bytes, *args: Any) -> asyncio.Future[Any]:
        future = await super().send(topic, key, value, *args)
        if not future.done() or future.exception() is None:
            offset = len(self.delivered) - 1
            future = asyncio.get_running_loop().create_future()
            future.set_result(SimpleNamespace(partition=2, offset=100 + offset))
        return future


def entry(article_id: str, root: str) -> IndexEntry:
    return IndexEntry(article_id, 1, Fingerprint("0" * 32, np.zeros(128, dtype=np.uint32), 3),
                      root)


def test_where_kept_articles_records_landed_is_reported_with_the_positions_they_carry() -> None:
    """Only kept articles' records are reported (a moved duplicate's or a story merge's
    offset says nothing of what another worker knew), when the broker answers, and after a
    retry at the flush; every record of the outcome carries the positions its decision had
    applied."""
    producer = AcknowledgingProducer({"ingest.fingerprints": 1})
    settings = load({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    topics = declare_topics(create_app(settings), settings)
    logged: list[tuple[str | None, int, int]] = []

    async def no_sleep(_: float) -> None:
        return None

    publisher = Publisher(topics, Metrics.create(CollectorRegistry()), producer, sleep=no_sleep,
                          on_logged=lambda *where: logged.append(where))
    outcome = Outcome(verdict="enriched", outputs=[], log_records=[
        LogRecord(entry("x", "x"), (), "A"), LogRecord(entry("y", "x"), (), "A"),
        LogRecord(entry("z", "z"), (), "A")],
        story_updates=[StoryUpdate("s2", 5, "s1", 1, 9, "A", "bridge")])

    async def main() -> None:
        await publisher.publish_log_records(outcome, ((0, 5), (3, 9)))
        await asyncio.sleep(0)
        # as soon as the broker answers, before the flush; a story merge as None
        assert logged == [("z", 2, 101), (None, 2, 102)]
        await publisher.flush()

    asyncio.run(main())
    assert [orjson.loads(v).get("ap") for _, _, v in producer.delivered] == [
        [[0, 5], [3, 9]]] * 2 + [None, [[0, 5], [3, 9]]]
    assert [k for _, k, _ in producer.delivered][:2] == [b"y", b"z"]
    assert producer.delivered[-1][1] == b"x"  # after its retry
    assert logged == [("z", 2, 101), (None, 2, 102), ("x", 2, 103)]


def test_a_story_merge_goes_to_articles_stories_with_its_log_record_not_after_the_hold() -> None:
    """The merge's consumer record leaves with its fingerprint-log record (at the decision),
    the verdict after the hold; a worker that died in between took only the verdict with it,
    which the message's replay publishes again (its merge it finds applied, and owes none)."""
    producer = ScriptedProducer({})
    settings = load({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    publisher = Publisher(declare_topics(create_app(settings), settings),
                          Metrics.create(CollectorRegistry()), producer)
    merge = StoryUpdate("s2", 5, "s1", 1, 9, "A", "bridge")
    outcome = enriched_outcome()
    outcome.outputs.append(Output("stories", "s2", story_update_record(merge)))
    outcome.story_updates.append(merge)
    outcome.log_records.append(LogRecord(entry("x", "x"), (), "A"))

    async def main() -> None:
        await publisher.publish_log_records(outcome)  # at the decision
        assert [topic for topic, _, _ in producer.delivered] == [
            "ingest.fingerprints", "ingest.fingerprints", "articles.stories"]
        assert orjson.loads(producer.delivered[-1][2])["merged_into"] == "s1"
        await publisher.publish_outputs(outcome)  # after the hold: the verdict only
        await publisher.flush()

    asyncio.run(main())
    assert [topic for topic, _, _ in producer.delivered][3:] == ["articles.enriched"]
    producer.delivered.clear()
    asyncio.run(publisher.publish(outcome))  # an outcome published at once: each record once
    assert sorted(topic for topic, _, _ in producer.delivered) == [
        "articles.enriched", "articles.stories", "ingest.fingerprints", "ingest.fingerprints"]
