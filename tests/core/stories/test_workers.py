"""Two workers' story states exchanging fingerprint-log records, without Kafka.

As in ``tests/core/test_races.py``: each :class:`Deduplicator` plays one worker, and what one
appends to the log the other reads through ``on_log_record`` in the order we choose.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterable

import pytest

from streams.core.config import CoreConfig
from streams.core.fingerprint_log import LogRecord, decode_log_value, encode_log_record
from streams.core.outcome import Outcome
from streams.core.pipeline import Deduplicator
from streams.core.stories.model import StoryUpdate
from tests.core.stories import fixtures as f
from tests.core.stories.helpers import DAY_MS, HOUR_MS, T0, decide, story_id
from tests.harness import SCHEMAS

CONFIG = CoreConfig()
LogItem = LogRecord | StoryUpdate


def log_of(outcome: Outcome) -> list[LogItem]:
    """What the log gives a reader: every record the outcome appends, encoded and decoded."""
    items: list[LogItem] = [*outcome.log_records, *outcome.story_updates]
    return [decode_log_value(encode_log_record(item)[1]) for item in items]


def deliver(items: Iterable[LogItem], to: Deduplicator, now_ms: int) -> list[Outcome]:
    results = []
    for item in items:
        result = to.on_log_record(item, catching_up=False, now_ms=now_ms)
        if result is not None:
            results.append(result)
    return results


def stories_of(dedup: Deduplicator, ids: Iterable[str]) -> dict[str, str | None]:
    return {i: dedup.stories.story_of(i) for i in ids}


def test_one_event_opened_at_once_by_two_workers_is_merged_once_by_the_later_opener() -> None:
    a, b = Deduplicator(CONFIG, worker="a"), Deduplicator(CONFIG, worker="b")
    # Decided at the same moment: neither has seen the other's record.
    first = decide(a, "arsenal", f.MATCH_ARSENAL, T0, now_ms=T0 + 5_000)
    second = decide(b, "saka", f.MATCH_ARSENAL_OTHER_OUTLET, T0 + HOUR_MS, now_ms=T0 + 5_000)
    assert (story_id(first), story_id(second)) == ("arsenal", "saka")

    at_a = deliver(log_of(second), a, now_ms=T0 + 5_100)  # a opened the earlier story
    at_b = deliver(log_of(first), b, now_ms=T0 + 5_100)  # b opened the later one: it merges
    assert at_a == []
    [merge] = at_b
    [update] = merge.story_updates
    assert (update.story, update.into, update.reason, update.worker) == (
        "saka", "arsenal", "race", "b")
    [output] = merge.outputs
    assert (output.kind, output.key) == ("stories", "saka")
    SCHEMAS["story-update"].validate(output.value)
    assert output.value["merged_into"] == "arsenal"

    assert deliver(log_of(merge), a, now_ms=T0 + 5_200) == []  # the merge record, read back
    for state in (a, b):
        assert stories_of(state, ["arsenal", "saka"]) == {"arsenal": "arsenal", "saka": "arsenal"}
        assert set(state.stories.stories) == {"arsenal"}
        assert state.stories.size_of("arsenal") == 2


def test_different_events_opened_at_once_are_not_merged() -> None:
    a, b = Deduplicator(CONFIG, worker="a"), Deduplicator(CONFIG, worker="b")
    first = decide(a, "arsenal", f.MATCH_ARSENAL, T0, now_ms=T0 + 5_000)
    second = decide(b, "liverpool", f.MATCH_LIVERPOOL, T0, now_ms=T0 + 5_000)
    assert deliver(log_of(second), a, T0 + 5_100) == deliver(log_of(first), b, T0 + 5_100) == []
    for state in (a, b):
        assert set(state.stories.stories) == {"arsenal", "liverpool"}


def test_a_copy_decided_by_another_worker_carries_the_kept_articles_story() -> None:
    a, b = Deduplicator(CONFIG, worker="a"), Deduplicator(CONFIG, worker="b")
    kept = decide(a, "monday", f.MARKETS_MONDAY, T0, now_ms=T0)
    deliver(log_of(kept), b, now_ms=T0 + 100)
    copy = decide(b, "monday-resent", f.MARKETS_MONDAY, T0 + HOUR_MS, now_ms=T0 + 200)
    assert copy.verdict == "duplicate"
    assert copy.outputs[0].value["duplicate_of"] == "monday"
    assert story_id(copy) == "monday"
    SCHEMAS["duplicate"].validate(copy.outputs[0].value)


ARTICLES = [
    ("monday", f.MARKETS_MONDAY, 0), ("tuesday", f.MARKETS_TUESDAY, 24 * HOUR_MS),
    ("monday-2", f.MARKETS_MONDAY_OTHER_OUTLET, 2 * HOUR_MS),
    ("arsenal", f.MATCH_ARSENAL, 0), ("liverpool", f.MATCH_LIVERPOOL, HOUR_MS),
    ("arsenal-2", f.MATCH_ARSENAL_OTHER_OUTLET, 3 * HOUR_MS),
]


def test_every_worker_and_a_restarted_one_hold_the_same_stories_whatever_the_order() -> None:
    """Worker a decides everything; b reads a's log in a shuffled order (another
    partitioning of the log), a restarted worker catches up from it: all agree."""
    a = Deduplicator(CONFIG, worker="a")
    log: list[LogItem] = []
    for i, (name, article, offset) in enumerate(ARTICLES):
        log += log_of(decide(a, name, article, T0 + offset, now_ms=T0 + i))
    ids = [name for name, _, _ in ARTICLES]
    expected = stories_of(a, ids)
    assert expected == {"monday": "monday", "tuesday": "tuesday", "monday-2": "monday",
                        "arsenal": "arsenal", "liverpool": "liverpool", "arsenal-2": "arsenal"}
    for seed in range(5):
        shuffled = list(log)
        random.Random(seed).shuffle(shuffled)
        b = Deduplicator(CONFIG, worker="b")
        assert deliver(shuffled, b, now_ms=T0 + 1_000) == []
        restarted = Deduplicator(CONFIG, worker="a")
        for item in shuffled:
            assert restarted.on_log_record(item, catching_up=True, now_ms=T0 + 2_000) is None
        for state in (b, restarted):
            assert stories_of(state, ids) == expected
            assert {k: s.size for k, s in state.stories.stories.items()} == {
                k: s.size for k, s in a.stories.stories.items()}
            for key, story in a.stories.stories.items():
                assert state.stories.stories[key].centroid == story.centroid


def test_an_opening_decided_knowing_our_story_is_not_merged_as_a_race() -> None:
    """The race merge is owed only when the other worker had not applied our opening: with
    positions past our opening's record (partition 0, offset 0) b merges nothing; with
    positions before it, the merge of the first test; the same when a story merge record of
    ours (a review: a bridge can join stories the articles do not show) was not applied."""
    for applied, merges, own_merge in ((((0, 1),), 0, None), (((0, 0),), 1, None),
                                       (((0, 1),), 1, 4), (((0, 1), (2, 5)), 0, 4)):
        a, b = Deduplicator(CONFIG, worker="a"), Deduplicator(CONFIG, worker="b")
        first = decide(a, "arsenal", f.MATCH_ARSENAL, T0, now_ms=T0 + 5_000)
        decide(b, "saka", f.MATCH_ARSENAL_OTHER_OUTLET, T0 + HOUR_MS, now_ms=T0 + 5_000)
        b.logged("saka", 0, 0)
        if own_merge is not None:  # a story merge record of b's at offset 4 of partition 2:
            b.race_window.updates_sent(1)  # unless a had applied it, any story may race
            b.logged(None, 2, own_merge)
        records = [dataclasses.replace(r, applied=applied) for r in first.log_records]
        at_b = deliver([decode_log_value(encode_log_record(r)[1]) for r in records], b,
                       now_ms=T0 + 5_100)
        assert sum(len(o.story_updates) for o in at_b) == merges, applied
        assert set(b.stories.stories) == ({"arsenal"} if merges else {"arsenal", "saka"})


@pytest.mark.timeout(20)
def test_one_article_sent_twice_to_two_workers_at_two_times_keeps_story_names_acyclic() -> None:
    """A producer sends article "saka" twice (a retry: one id, two event times) and the two
    copies reach two workers. Worker a's copy (later) opened a story and merged it into b's
    earlier "arsenal" story as a race; b reads that merge before a's article record and then
    decides its own, earlier copy. It joins "arsenal": renaming "arsenal" after "saka", a
    name that already resolved to "arsenal", looped the names (every later lookup in the
    story spun forever: a worker stuck at full CPU, seen once in a 2-worker benchmark)."""
    a, b = Deduplicator(CONFIG, worker="a"), Deduplicator(CONFIG, worker="b")
    late_copy = decide(a, "saka", f.MATCH_ARSENAL_OTHER_OUTLET, T0 + 2 * HOUR_MS,
                       now_ms=T0 + 5_000)
    opened = decide(b, "arsenal", f.MATCH_ARSENAL, T0 + HOUR_MS, now_ms=T0 + 5_000)
    [merge] = deliver(log_of(opened), a, now_ms=T0 + 5_100)
    assert [(u.story, u.into, u.reason) for u in merge.story_updates] == [
        ("saka", "arsenal", "race")]
    assert deliver(merge.story_updates, b, now_ms=T0 + 5_200) == []  # before "saka"'s record

    early_copy = decide(b, "saka", f.MATCH_ARSENAL_OTHER_OUTLET, T0, now_ms=T0 + 5_300)

    assert story_id(early_copy) == "arsenal" and early_copy.story_updates == []
    deliver(log_of(late_copy), b, now_ms=T0 + 5_400)
    assert stories_of(b, ["arsenal", "saka"]) == {"arsenal": "arsenal", "saka": "arsenal"}
    assert set(b.stories.stories) == {"arsenal"} and b.stories.size_of("arsenal") == 2


def test_a_race_lost_to_an_earlier_copy_far_in_time_merges_the_copys_stories() -> None:
    """b keeps "b" and opens its story; a, not knowing it, keeps "a", the same text dated 8
    days earlier, and opens its own (no race merge: beyond the time gap). When a's record
    reaches b, b corrects "b" to a duplicate of "a" and merges its story into a's, as one
    worker deciding both does (a kill trial's copies kept in a race named two stories)."""
    a, b = Deduplicator(CONFIG, worker="a"), Deduplicator(CONFIG, worker="b")
    later = decide(b, "b", f.MATCH_ARSENAL, T0 + 8 * DAY_MS, now_ms=T0 + 8 * DAY_MS)
    earlier = decide(a, "a", f.MATCH_ARSENAL, T0, now_ms=T0 + 8 * DAY_MS)
    assert (story_id(later), story_id(earlier)) == ("b", "a")
    [corrected] = deliver(log_of(earlier), b, now_ms=T0 + 8 * DAY_MS + 1_000)
    assert [(o.kind, o.key, o.value.get("supersedes"), o.value.get("story_id"))
            for o in corrected.outputs] == [("duplicates", "b", "kept", "a"),
                                            ("stories", "b", None, "b")]
    assert [(u.story, u.into, u.reason) for u in corrected.story_updates] == [
        ("b", "a", "race")]
    deliver(log_of(later) + log_of(corrected), a, now_ms=T0 + 8 * DAY_MS + 2_000)
    for state in (a, b):
        assert stories_of(state, ["a", "b"]) == {"a": "a", "b": "a"}


@pytest.mark.parametrize("owing_worker_merges", [True, False])
def test_a_shared_article_merge_the_other_worker_owed_is_published_after_the_fallback(
    owing_worker_merges: bool,
) -> None:
    """As above, with a's copy the earlier one: b owes the merge of "arsenal" into "saka".
    If b stops before it reads a's record (a restarted b catches up without merging), a
    publishes it after INGEST_RACE_FALLBACK_S, as it does an owed correction (a kill trial
    with three workers left one article in two stories); if b merged, a publishes nothing."""
    a, b = Deduplicator(CONFIG, worker="a"), Deduplicator(CONFIG, worker="b")
    opened = decide(b, "arsenal", f.MATCH_ARSENAL, T0 + HOUR_MS, now_ms=T0 + 1_000)
    copy_a = decide(a, "saka", f.MATCH_ARSENAL_OTHER_OUTLET, T0, now_ms=T0 + 5_000)
    copy_b = decide(b, "saka", f.MATCH_ARSENAL_OTHER_OUTLET, T0 + 3 * HOUR_MS, now_ms=T0 + 5_000)
    assert not [u for o in deliver(log_of(opened) + log_of(copy_b), a, now_ms=T0 + 6_000)
                for u in o.story_updates]
    if owing_worker_merges:
        merged = deliver(log_of(copy_a), b, now_ms=T0 + 6_000)
        deliver([u for o in merged for u in log_of(o)], a, now_ms=T0 + 7_000)
    due = T0 + 6_000 + CONFIG.race_fallback_ms
    assert a.owed_corrections(now_ms=due - 1) is None
    owed = a.owed_corrections(now_ms=due)
    if owing_worker_merges:
        assert owed is None
    else:
        assert owed is not None and owed.outputs[0].kind == "stories"
        assert [(u.story, u.into, u.reason, u.worker) for u in owed.story_updates] == [
            ("arsenal", "saka", "race", "a")]
        deliver(log_of(owed), b, now_ms=due + 1)
    for state in (a, b):
        assert stories_of(state, ["arsenal", "saka"]) == {"arsenal": "saka", "saka": "saka"}


@pytest.mark.parametrize("earlier_copy_on", ["a", "b"])
def test_one_article_decided_by_two_workers_into_two_stories_ends_in_one(
    earlier_copy_on: str,
) -> None:
    """Both workers decide article "saka" at once (sent twice): a opens a story with it, b
    puts it in its "arsenal" story. Its second note is not applied anywhere (the article is
    a member already), so until 2026-12-05 a worker whose copy was the earlier one kept
    "saka" and "arsenal" apart while the other held "saka" in "arsenal". Now the worker whose
    own story of the article was founded later merges it into the other: one merge, and both
    hold one story named after the earliest article."""
    a, b = Deduplicator(CONFIG, worker="a"), Deduplicator(CONFIG, worker="b")
    opened = decide(b, "arsenal", f.MATCH_ARSENAL, T0 + HOUR_MS, now_ms=T0 + 1_000)
    at_a = T0 if earlier_copy_on == "a" else T0 + 2 * HOUR_MS
    copy_a = decide(a, "saka", f.MATCH_ARSENAL_OTHER_OUTLET, at_a, now_ms=T0 + 5_000)
    copy_b = decide(b, "saka", f.MATCH_ARSENAL_OTHER_OUTLET, T0 + 3 * HOUR_MS, now_ms=T0 + 5_000)
    assert (story_id(copy_a), story_id(copy_b)) == ("saka", "arsenal")

    merges = deliver(log_of(opened) + log_of(copy_b), a, now_ms=T0 + 6_000)
    merges += deliver(log_of(copy_a), b, now_ms=T0 + 6_000)
    updates = [u for o in merges for u in o.story_updates]
    name = "saka" if earlier_copy_on == "a" else "arsenal"
    assert [(u.story, u.into, u.reason, u.worker) for u in updates] == [
        ("arsenal", "saka", "race", "b") if earlier_copy_on == "a"
        else ("saka", "arsenal", "race", "a")]
    for state in (a, b):
        deliver(updates, state, now_ms=T0 + 7_000)  # read back, or the other's
    for state in (a, b):
        assert stories_of(state, ["arsenal", "saka"]) == {"arsenal": name, "saka": name}
        assert set(state.stories.stories) == {name}
