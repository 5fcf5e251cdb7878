"""The day-one alternative: what a team would write on its first day, as a throughput baseline.

One Faust agent; trafilatura with its defaults on HTML, the text as it is otherwise; datasketch
``MinHash`` over word 3-shingles and an in-memory ``MinHashLSH`` (threshold 0.8): a match is a
duplicate of the first article that matched. No normalization, no boilerplate, no shared
state across workers, no corrections. Run with ``python -m bench.dayone``; it publishes to
the pipeline's output topics (with ``origin``, so the benchmark counts it the same way) and
serves ``/count``.
"""

from __future__ import annotations

import sys
from typing import Any

import faust
import orjson
import trafilatura
from datasketch import MinHash, MinHashLSH

from bench.baselines import _faust_main
from streams import settings as settings_mod
from streams.kafka.broker import ensure_topics
from streams.settings import Settings
from streams.shell.app import create_app
from streams.shell.logs import configure_logging


def article_text(value: bytes) -> tuple[str, str]:
    """(id, text) of a raw message: JSON envelope or bare body; HTML through trafilatura."""
    try:
        envelope = orjson.loads(value)
        body, article_id = str(envelope.get("body", "")), str(envelope.get("id", ""))
    except (orjson.JSONDecodeError, AttributeError):
        body, article_id = value.decode("utf-8", "replace"), ""
    if body.lstrip().startswith("<"):
        body = trafilatura.extract(body) or ""
    return article_id, body


def minhash(text: str) -> MinHash:
    words = text.lower().split()
    shingles = {" ".join(words[i:i + 3]).encode() for i in range(max(1, len(words) - 2))}
    signature = MinHash(num_perm=128)
    signature.update_batch(shingles)
    return signature


def run_dayone(settings: Settings) -> int:
    ensure_topics(settings)
    app = create_app(settings)

    def raw_topic(name: str) -> Any:
        return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw",
                         value_serializer="raw", partitions=settings.partitions)

    source = raw_topic(settings.topic_raw)
    enriched, duplicates = raw_topic(settings.topic_enriched), raw_topic(settings.topic_duplicates)
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    consumed = [0]

    @app.agent(source, name="dayone", concurrency=1)
    async def dayone(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            message = event.message
            origin = {"topic": message.topic, "partition": message.partition,
                      "offset": message.offset}
            article_id, text = article_text(message.value or b"")
            article_id = article_id or f"{message.topic}/{message.partition}/{message.offset}"
            signature = minhash(text)
            matches = lsh.query(signature)
            if matches:
                value = {"id": article_id, "origin": origin, "duplicate_of": sorted(matches)[0]}
                await duplicates.send(key=article_id.encode(), value=orjson.dumps(value))
            else:
                if article_id not in lsh:
                    lsh.insert(article_id, signature)
                value = {"id": article_id, "origin": origin, "text": text}
                await enriched.send(key=article_id.encode(), value=orjson.dumps(value))
            consumed[0] += 1

    @app.page("/count")
    async def count(self: Any, request: Any) -> Any:
        return self.json({"forwarded": consumed[0]})

    return _faust_main(app, settings)


if __name__ == "__main__":
    loaded = settings_mod.load()
    configure_logging(loaded)
    sys.exit(run_dayone(loaded))
