"""The pure core's configuration, built from the worker settings (the core never reads them)."""

from __future__ import annotations

import dataclasses

from streams.core.dedup.config import DedupConfig
from streams.core.hold import HoldConfig
from streams.core.pipeline import CoreConfig
from streams.core.record_budget import RECORD_HEADROOM_BYTES
from streams.core.stories.config import StoryConfig
from streams.core.text.article import DEFAULT_TEXT_CONFIG
from streams.core.text.learned import LearnedBoilerplateConfig
from streams.settings import Settings


def core_config(settings: Settings) -> CoreConfig:
    """The core's configuration from the worker settings."""
    # The dedup window bounds both the index (expiry) and which pairs can match (event time).
    dedup = DedupConfig(window_ms=settings.dedup_window_ms)
    if settings.near_threshold:
        verify = dataclasses.replace(dedup.verify, jaccard_threshold=settings.near_threshold)
        dedup = dataclasses.replace(dedup, verify=verify)
    return CoreConfig(
        max_body_bytes=settings.max_body_bytes,
        max_record_bytes=settings.max_message_bytes - RECORD_HEADROOM_BYTES,
        window_ms=settings.dedup_window_ms,
        # Only NFKC expansion can take the display text past the body limit: cap that.
        text=dataclasses.replace(
            DEFAULT_TEXT_CONFIG,
            max_text_chars=max(settings.max_body_bytes, DEFAULT_TEXT_CONFIG.max_text_chars),
            html=dataclasses.replace(
                DEFAULT_TEXT_CONFIG.html, fast=settings.extraction == "fast"
            ),
        ),
        dedup=dedup,
        learned=LearnedBoilerplateConfig(
            min_articles=settings.boilerplate_min_articles, window_ms=settings.dedup_window_ms,
            max_bytes=settings.boilerplate_max_bytes,
        ),
        hold=HoldConfig(hold_ms=settings.verdict_hold_ms),
        stories=StoryConfig(enabled=settings.stories),
        race_fallback_ms=round(settings.race_fallback_s * 1000),
        event_time_from_published=settings.event_time == "published",
        publishing_platforms=settings.publishing_platform_set,
    )
