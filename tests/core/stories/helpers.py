"""Messages for the story tests: an article as a raw message, through the whole core."""

from __future__ import annotations

import orjson

from streams.core.outcome import Outcome
from streams.core.pipeline import Deduplicator
from streams.core.records import RawMessage

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
T0 = 1_700_000_000_000


def message(article_id: str, article: tuple[str, str], event_time_ms: int, offset: int = 0,
            partition: int = 0) -> RawMessage:
    title, body = article
    value = orjson.dumps({"id": article_id, "title": title, "body": body})
    return RawMessage("articles.raw", partition, offset, None, value, event_time_ms)


def decide(dedup: Deduplicator, article_id: str, article: tuple[str, str], event_time_ms: int,
           now_ms: int | None = None) -> Outcome:
    raw = message(article_id, article, event_time_ms)
    return dedup.process(raw, now_ms=now_ms if now_ms is not None else event_time_ms)


def story_id(outcome: Outcome) -> str:
    value = outcome.outputs[0].value["story_id"]
    assert isinstance(value, str)
    return value
