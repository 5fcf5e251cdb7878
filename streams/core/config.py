"""The pure core's configuration: small frozen dataclasses, built by the shell from settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from streams.core.dedup.config import DedupConfig
from streams.core.domains import PUBLISHING_PLATFORMS
from streams.core.hold import HoldConfig
from streams.core.record_budget import DEFAULT_MAX_RECORD_BYTES
from streams.core.stories.config import StoryConfig
from streams.core.text.article import DEFAULT_TEXT_CONFIG, TextConfig
from streams.core.text.learned import LearnedBoilerplateConfig


@dataclass(frozen=True, slots=True)
class CoreConfig:
    """Everything the pure core needs to know; built by the shell from the settings."""

    # Raw values over this are dead-lettered ``too_large`` (INGEST_MAX_BODY_BYTES).
    max_body_bytes: int = 1024 * 1024 - 64 * 1024
    # Every output record (key and value) fits this: the topic limit minus Kafka's framing.
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    window_ms: int = 14 * 86_400_000
    text: TextConfig = DEFAULT_TEXT_CONFIG
    dedup: DedupConfig = field(default_factory=DedupConfig)
    learned: LearnedBoilerplateConfig = field(default_factory=LearnedBoilerplateConfig)
    hold: HoldConfig = field(default_factory=HoldConfig)
    stories: StoryConfig = field(default_factory=StoryConfig)
    # A race another worker lost and has not corrected this long after its record arrived
    # here is corrected by this worker (it may have stopped); 0: never.
    race_fallback_ms: int = 60_000
    # The event time is the article's published_at when earlier than the message's timestamp
    # (INGEST_EVENT_TIME=published: a backfill); else the message's timestamp.
    event_time_from_published: bool = False
    # Hosts whose subdomains are publications: the derived ``source`` is the publication's
    # host under one (INGEST_PUBLISHING_PLATFORMS adds to the built-in ones).
    publishing_platforms: frozenset[str] = PUBLISHING_PLATFORMS
