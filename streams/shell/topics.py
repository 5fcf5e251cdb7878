"""Every topic the worker reads or writes, declared in one place."""

from __future__ import annotations

from dataclasses import dataclass

import faust

from streams.core.records import OutputKind
from streams.settings import Settings


@dataclass(frozen=True)
class Topics:
    raw: faust.TopicT
    enriched: faust.TopicT
    duplicates: faust.TopicT
    deadletter: faust.TopicT
    fingerprints: faust.TopicT
    stories: faust.TopicT

    def for_output(self, kind: OutputKind) -> faust.TopicT:
        return {"enriched": self.enriched, "duplicates": self.duplicates,
                "deadletter": self.deadletter, "stories": self.stories}[kind]


def declare_topics(app: faust.App, settings: Settings) -> Topics:
    def raw_bytes(name: str) -> faust.TopicT:
        # Values stay bytes end to end: we decode with orjson ourselves, once.
        return app.topic(
            name,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=settings.partitions,
        )

    return Topics(
        raw=raw_bytes(settings.topic_raw),
        enriched=raw_bytes(settings.topic_enriched),
        duplicates=raw_bytes(settings.topic_duplicates),
        deadletter=raw_bytes(settings.topic_deadletter),
        fingerprints=raw_bytes(settings.topic_fingerprints),
        stories=raw_bytes(settings.topic_stories),
    )
