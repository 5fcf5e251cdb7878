"""A story is named after its earliest article by (event time, id), on every worker.

An article earlier than every member of the story it joins renames the story: the deciding
worker publishes the rename as an update record (stories topic and log), and the article's
log note carries it too, so another worker applies it with the note whatever order the two
records reach it in, and never mistakes the renamed story for a concurrent opening.
"""

from __future__ import annotations

import itertools

import pytest

from streams.core.config import CoreConfig
from streams.core.pipeline import Deduplicator
from streams.core.records import RawMessage
from tests.core.stories.helpers import HOUR_MS, T0, story_id
from tests.core.stories.test_workers import deliver, log_of
from tests.harness import SAMPLES, SCHEMAS, envelope

CONFIG = CoreConfig()
# Four outlets on one resignation (004, a copy of 001, is left out: a duplicate takes its
# kept article's story and never renames one). Event times: 000 earliest.
OUTLETS = SAMPLES[:4]


def sample(dedup: Deduplicator, n: int, offset: int = 0) -> object:
    raw = RawMessage("articles.raw", 0, offset, None, envelope(SAMPLES[n]), T0 + n * HOUR_MS)
    return dedup.process(raw, now_ms=T0 + 10 * HOUR_MS + offset)


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_a_story_is_named_after_its_earliest_article_whatever_the_arrival_order(
    order: tuple[int, ...]
) -> None:
    dedup = Deduplicator(CONFIG, worker="w")
    published = [sample(dedup, n, offset) for offset, n in enumerate(order)]
    members: dict[str, list[int]] = {}
    for n in order:
        members.setdefault(dedup.stories.story_of(SAMPLES[n].stem) or "", []).append(n)
    # (In 3 of the 24 orders 001 stays a story of its own, as before renames: the grouping
    # of a streaming clustering depends on the order; the names do not.)
    assert {name: min(ns) for name, ns in members.items()} == {
        SAMPLES[min(ns)].stem: min(ns) for ns in members.values()}
    assert SAMPLES[0].stem in members
    # Each rename names the story after an article earlier than all of its members so far.
    for outcome in published:
        for update in outcome.story_updates:  # type: ignore[attr-defined]
            assert update.reason == "rename" and update.into < update.story
            assert update.into_time_ms < update.story_time_ms


@pytest.mark.parametrize("update_first", [False, True])
def test_another_worker_follows_a_rename_in_either_record_order(update_first: bool) -> None:
    a, b = Deduplicator(CONFIG, worker="a"), Deduplicator(CONFIG, worker="b")
    opened = sample(a, 2)  # 002 opens the story on worker a
    assert story_id(opened) == SAMPLES[2].stem  # type: ignore[arg-type]
    assert deliver(log_of(opened), b, now_ms=T0 + 11 * HOUR_MS) == []  # type: ignore[arg-type]

    earlier = sample(b, 0, offset=1)  # 000, earlier, joins it on worker b: a rename
    assert story_id(earlier) == SAMPLES[0].stem  # type: ignore[arg-type]
    [update] = earlier.story_updates  # type: ignore[attr-defined]
    assert (update.story, update.into, update.reason, update.worker) == (
        SAMPLES[2].stem, SAMPLES[0].stem, "rename", "b")
    [output] = [o for o in earlier.outputs if o.kind == "stories"]  # type: ignore[attr-defined]
    assert output.key == SAMPLES[2].stem
    SCHEMAS["story-update"].validate(output.value)

    items = log_of(earlier)  # type: ignore[arg-type]
    if update_first:
        items = items[::-1]
    # Worker a opened 002: it must not take the renamed story for a concurrent opening.
    assert deliver(items, a, now_ms=T0 + 12 * HOUR_MS) == []
    for dedup in (a, b):
        assert dedup.stories.story_of(SAMPLES[2].stem) == SAMPLES[0].stem
        assert dedup.stories.size_of(SAMPLES[0].stem) == 2

    # Both name the story alike from now on, whichever decides the next outlet.
    assert story_id(sample(a, 3, offset=2)) == SAMPLES[0].stem  # type: ignore[arg-type]
    assert story_id(sample(b, 1, offset=3)) == SAMPLES[0].stem  # type: ignore[arg-type]
    assert {a.stories.find(s) for s in a.stories.stories} == {
        b.stories.find(s) for s in b.stories.stories} == {SAMPLES[0].stem}
