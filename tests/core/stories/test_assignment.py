"""Assignment through the whole core: one event, several outlets; template and topic negatives."""

from __future__ import annotations

import pytest

from streams.core.config import CoreConfig
from streams.core.pipeline import Deduplicator
from streams.core.records import RawMessage
from streams.core.stories.config import StoryConfig
from tests.core.stories import fixtures as f
from tests.core.stories.helpers import DAY_MS, HOUR_MS, T0, decide, story_id
from tests.harness import SAMPLES, SCHEMAS, envelope


@pytest.fixture
def dedup() -> Deduplicator:
    return Deduplicator(CoreConfig(), worker="test")


def test_the_samples_are_one_story_and_the_duplicate_carries_it(dedup: Deduplicator) -> None:
    outcomes = [
        dedup.process(RawMessage("articles.raw", 0, i, None, envelope(p), T0 + i * HOUR_MS),
                      now_ms=T0 + i)
        for i, p in enumerate(SAMPLES)
    ]
    assert [o.verdict for o in outcomes] == ["enriched"] * 4 + ["duplicate"]
    assert {story_id(o) for o in outcomes} == {SAMPLES[0].stem}
    assert [o.story.opened for o in outcomes if o.story] == [True, False, False, False, False]
    assert outcomes[3].story is not None and outcomes[3].story.size == 4
    for outcome in outcomes:
        schema = "enriched" if outcome.verdict == "enriched" else "duplicate"
        SCHEMAS[schema].validate(outcome.outputs[0].value)


@pytest.mark.parametrize("order", [("monday", "other", "tuesday"), ("tuesday", "monday", "other")])
def test_two_daily_market_reports_are_two_stories(
    dedup: Deduplicator, order: tuple[str, ...]
) -> None:
    # Same template, same index, same desk; other day, other figures, other companies.
    articles = {
        "monday": (f.MARKETS_MONDAY, T0),
        "other": (f.MARKETS_MONDAY_OTHER_OUTLET, T0 + 2 * HOUR_MS),
        "tuesday": (f.MARKETS_TUESDAY, T0 + DAY_MS),
    }
    stories = {name: story_id(decide(dedup, name, articles[name][0], articles[name][1]))
               for name in order}
    assert stories["monday"] == stories["other"]
    assert stories["tuesday"] != stories["monday"]


def test_two_matches_of_one_league_on_one_day_are_two_stories(dedup: Deduplicator) -> None:
    arsenal = story_id(decide(dedup, "arsenal", f.MATCH_ARSENAL, T0))
    liverpool = story_id(decide(dedup, "liverpool", f.MATCH_LIVERPOOL, T0 + HOUR_MS))
    other = story_id(decide(dedup, "arsenal-2", f.MATCH_ARSENAL_OTHER_OUTLET, T0 + 2 * HOUR_MS))
    assert (arsenal, liverpool, other) == ("arsenal", "liverpool", "arsenal")


def test_the_same_text_beyond_the_time_gap_opens_a_new_story(dedup: Deduplicator) -> None:
    first = decide(dedup, "a", f.MATCH_ARSENAL, T0)
    late = decide(dedup, "b", f.MATCH_ARSENAL_OTHER_OUTLET, T0 + 8 * DAY_MS)
    assert (story_id(first), story_id(late)) == ("a", "b")


def test_a_late_earlier_copy_that_opens_a_story_takes_its_copys_story_with_it(
    dedup: Deduplicator,
) -> None:
    """b is kept and opens a story; a, the same text dated 8 days earlier, arrives later: b
    becomes a's duplicate, and a opens its own story (beyond the time gap). b's story is
    merged into a's (reason race), as when another worker decided b: one article's
    versions are one event. Until 2026-12-05 b's story stayed apart (`bench.eval_stories`,
    FOMC on one day: recall 0.9937 -> 1.0 with the merge)."""
    b = decide(dedup, "b", f.MATCH_ARSENAL, T0 + 8 * DAY_MS)
    a = decide(dedup, "a", f.MATCH_ARSENAL, T0, now_ms=T0 + 8 * DAY_MS + 1)
    assert story_id(b) == "b"
    assert a.verdict == "enriched" and a.story is not None and a.story.opened
    assert [(o.kind, o.key, o.value.get("supersedes"), o.value.get("story_id"))
            for o in a.outputs] == [("enriched", "a", None, "a"),
                                    ("duplicates", "b", "kept", "a"),
                                    ("stories", "b", None, "b")]
    [merge] = a.story_updates
    assert (merge.story, merge.into, merge.reason) == ("b", "a", "race")
    assert dedup.stories.story_of("b") == dedup.stories.story_of("a") == "a"


def test_a_replay_repeats_the_story_and_does_not_grow_it(dedup: Deduplicator) -> None:
    first = decide(dedup, "a", f.MATCH_ARSENAL, T0)
    decide(dedup, "b", f.MATCH_ARSENAL_OTHER_OUTLET, T0 + HOUR_MS)
    again = decide(dedup, "a", f.MATCH_ARSENAL, T0)
    assert story_id(again) == story_id(first) == "a"
    assert dedup.stories.size_of("a") == 2
    assert again.log_records[0].story is not None  # the replayed record still carries its note


def test_stories_expire_with_the_window() -> None:
    config = CoreConfig(window_ms=DAY_MS)
    dedup = Deduplicator(config, worker="test")
    decide(dedup, "a", f.MATCH_ARSENAL, T0, now_ms=T0)
    dedup.expire(T0 + DAY_MS // 2)
    assert dedup.stories.story_of("a") == "a"
    dedup.expire(T0 + DAY_MS + 1)
    assert dedup.stories.story_of("a") is None and len(dedup.stories) == 0
    later = decide(dedup, "b", f.MATCH_ARSENAL_OTHER_OUTLET, T0 + HOUR_MS, now_ms=T0 + 2 * DAY_MS)
    assert story_id(later) == "b"


def test_disabled_stories_leave_records_as_they_were() -> None:
    dedup = Deduplicator(CoreConfig(stories=StoryConfig(enabled=False)), worker="test")
    outcome = decide(dedup, "a", f.MATCH_ARSENAL, T0)
    assert "story_id" not in outcome.outputs[0].value and outcome.story is None
