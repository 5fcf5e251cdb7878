"""The core's configuration follows the worker settings (``streams.shell.config``)."""

from __future__ import annotations

from streams.core.dedup.config import DedupConfig
from streams.settings import load
from streams.shell.config import core_config

DAY_MS = 86_400_000


def test_environment_reaches_the_core() -> None:
    config = core_config(load({
        "INGEST_DEDUP_WINDOW_DAYS": "3",
        "INGEST_NEAR_THRESHOLD": "0.8",
        "INGEST_MAX_BODY_BYTES": "65536",
        "INGEST_BOILERPLATE_MIN_ARTICLES": "5",
        "INGEST_RACE_FALLBACK_S": "2.5",
    }))
    assert config.race_fallback_ms == 2_500
    assert config.window_ms == 3 * DAY_MS
    assert config.learned.window_ms == 3 * DAY_MS
    assert config.learned.min_articles == 5
    assert config.max_body_bytes == 65_536
    assert config.dedup.verify.jaccard_threshold == 0.8
    # Only the Jaccard threshold is overridden; the rest stays the evaluated default.
    default = DedupConfig()
    assert config.dedup.verify.containment_threshold == default.verify.containment_threshold
    assert (config.dedup.minhash, config.dedup.lsh) == (default.minhash, default.lsh)


def test_defaults_are_the_evaluated_core_defaults() -> None:
    config = core_config(load({}))
    assert config.window_ms == 14 * DAY_MS
    assert config.learned.window_ms == 14 * DAY_MS
    assert config.dedup == DedupConfig()
    assert config.race_fallback_ms == 60_000
    assert config.dedup.verify.jaccard_threshold == 0.55  # re-derived in issue 12


def test_extraction_mode_reaches_the_html_config() -> None:
    assert core_config(load({})).text.html.fast is False
    fast = core_config(load({"INGEST_EXTRACTION": "fast"}))
    assert fast.text.html.fast is True
    # Only fast mode changes: recall mode and tables stay.
    assert (fast.text.html.favor_precision, fast.text.html.include_tables) == (False, True)


def test_event_time_setting_reaches_the_core() -> None:
    assert core_config(load({})).event_time_from_published is False
    assert core_config(load({"INGEST_EVENT_TIME": "published"})).event_time_from_published
