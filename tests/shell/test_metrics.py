"""The story and dead-letter metrics an outcome moves."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from streams.core.config import CoreConfig
from streams.core.pipeline import Deduplicator
from streams.core.stories.attach import race_outcome
from streams.core.stories.model import StoryUpdate
from streams.shell.metrics import Metrics, count_stories
from tests.core.stories import fixtures as f
from tests.core.stories.helpers import HOUR_MS, T0, decide


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    sample = registry.get_sample_value(name, labels)
    return sample if sample is not None else -1.0


def test_opened_assigned_merged_and_sizes_are_counted() -> None:
    registry = CollectorRegistry()
    metrics = Metrics.create(registry)
    assert value(registry, "ingest_story_merges_total", reason="race") == 0.0  # born at 0
    dedup = Deduplicator(CoreConfig(), worker="w")
    for i, (name, article) in enumerate([("a", f.MATCH_ARSENAL), ("b", f.MATCH_LIVERPOOL),
                                         ("c", f.MATCH_ARSENAL_OTHER_OUTLET),
                                         ("d", f.MATCH_ARSENAL)]):
        count_stories(metrics, decide(dedup, name, article, T0 + i * HOUR_MS))
    count_stories(metrics, race_outcome([StoryUpdate("x", 2, "y", 1, 3, "w", "race")]))
    assert value(registry, "ingest_stories_opened_total") == 2.0
    assert value(registry, "ingest_story_articles_total", verdict="enriched") == 3.0
    assert value(registry, "ingest_story_articles_total", verdict="duplicate") == 1.0
    assert value(registry, "ingest_story_merges_total", reason="race") == 1.0
    assert value(registry, "ingest_story_size_articles_count") == 4.0
    assert value(registry, "ingest_story_size_articles_sum") == 1 + 1 + 2 + 2


def test_every_dead_letter_code_has_a_series_from_the_start() -> None:
    """Until 2026-12-06 a code's series appeared with its first dead letter, at 1: rate()
    and increase() never counted that one (an operator trial)."""
    registry = CollectorRegistry()
    Metrics.create(registry)
    for code in ("not_utf8", "missing_body", "processing_timeout", "internal_error"):
        assert value(registry, "ingest_deadletters_total", code=code) == 0.0
    assert value(registry, "ingest_deadletters_total", code="publish_failed") == -1.0


def test_labelled_counters_and_stage_times_have_their_series_from_the_start() -> None:
    registry = CollectorRegistry()
    Metrics.create(registry)
    assert value(registry, "ingest_duplicates_total", match="near") == 0.0
    assert value(registry, "ingest_boilerplate_removed_total", layer="learned") == 0.0
    for stage in ("parse", "decide", "publish"):
        assert value(registry, "ingest_stage_seconds_count", stage=stage) == 0.0
