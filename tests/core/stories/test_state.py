"""The story state on hand-made terms: ties, merges, and merges applied in any order."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from streams.core.stories.config import DAY_MS, StoryConfig
from streams.core.stories.model import StoryUpdate
from streams.core.stories.state import StoryState
from streams.core.stories.terms import ENTITY, WORD, StoryTerms, term_key

WINDOW = 14 * DAY_MS


def terms(*names: str) -> StoryTerms:
    keys = tuple(term_key(n, ENTITY) for n in names)
    return StoryTerms(keys, tuple(1.5 for _ in keys))


def state() -> StoryState:
    return StoryState(StoryConfig(), window_ms=WINDOW)


def test_equal_scores_go_to_the_earlier_founded_story_which_absorbs_the_other() -> None:
    s = state()
    event = terms("kilimanjaro", "avalanche", "moshi", "tanzania")
    s.assign("a", 0, event, now_ms=0, worker="w")
    # Eight days later: beyond the longest gap, so the same words open a second story.
    assert s.assign("b", 8 * DAY_MS, event, now_ms=1, worker="w").opened
    # Four days from each: equal scores; the tie goes to (event time, id), and the article
    # bridges the two stories, so the later-founded one is merged into the earlier one.
    middle = s.assign("c", 4 * DAY_MS, event, now_ms=2, worker="w")
    assert (middle.story, middle.opened, middle.size) == ("a", False, 3)
    [update] = middle.updates
    assert (update.story, update.into, update.reason, update.worker) == ("b", "a", "bridge", "w")
    assert (update.story_time_ms, update.into_time_ms) == (8 * DAY_MS, 0)
    assert s.story_of("b") == s.story_of("c") == "a"
    assert set(s.stories) == {"a"}


def test_unrelated_articles_open_their_own_stories() -> None:
    s = state()
    first = s.assign("a", 0, terms("kilimanjaro", "avalanche", "moshi"), now_ms=0, worker="w")
    second = s.assign("b", 0, terms("reykjavik", "eruption", "grindavik"), now_ms=0, worker="w")
    assert (first.story, first.opened, second.story, second.opened) == ("a", True, "b", True)
    assert second.note is not None and second.note.story == "b"
    assert len(second.note.vector) == 3


def test_merges_applied_in_any_order_give_the_same_stories() -> None:
    updates = [
        StoryUpdate("b", 20, "a", 10, at_ms=1, worker="x"),
        StoryUpdate("c", 30, "b", 20, at_ms=2, worker="y"),
        StoryUpdate("d", 5, "e", 40, at_ms=3, worker="x"),  # "d" founded first: it wins
        StoryUpdate("e", 40, "c", 30, at_ms=4, worker="y"),
    ]
    outcomes = set()
    for order in itertools.permutations(updates):
        s = state()
        for update in order:
            s.apply_update(update)
        outcomes.add(tuple(s.find(x) for x in "abcde"))
    assert outcomes == {("d",) * 5}


class _ScoreSpy(StoryState):
    """Records the stories a lookup scores."""

    def __init__(self, config: StoryConfig) -> None:
        super().__init__(config, window_ms=10 * WINDOW)
        self.scored_ids: list[str] = []

    def _score(self, query: Any, story: Any) -> float:
        self.scored_ids.append(story.id)
        return super()._score(query, story)


def _common_and_rare(budget: int) -> _ScoreSpy:
    """Four stories sharing "common" and one holding "rare", 8 days apart (none joins
    another), then an article naming both; the spy has recorded that article's lookup."""
    s = _ScoreSpy(StoryConfig(lookup_budget=budget))
    for i in range(4):
        s.assign(f"c{i}", i * 8 * DAY_MS, terms("common", f"c{i}a", f"c{i}b"), now_ms=i,
                 worker="w")
    s.assign("r", 32 * DAY_MS, terms("rare", "rb", "rc"), now_ms=4, worker="w")
    s.scored_ids.clear()
    s.assign("x", 33 * DAY_MS, terms("common", "rare"), now_ms=5, worker="w")
    return s


def test_a_lookup_reads_the_rarest_postings_first_and_stops_at_its_budget() -> None:
    # Budget 3: "rare" (one story) is read; "common" (four) would exceed what is left.
    assert _common_and_rare(budget=3).scored_ids == ["r"]
    # Budget 5: both postings fit, every story holding a head term is a candidate.
    assert sorted(_common_and_rare(budget=5).scored_ids) == ["c0", "c1", "c2", "c3", "r"]
    # A budget of one reads the single-story posting only.
    assert _common_and_rare(budget=1).scored_ids == ["r"]


def test_every_story_holding_a_term_is_in_its_posting_through_renames_merges_and_expiry(
) -> None:
    """The postings say, for each term, exactly the stories whose centroid holds it."""
    s = state()
    event = terms("kilimanjaro", "avalanche", "moshi", "tanzania")
    for i in range(6):  # a week apart: each opens its own story
        assert s.assign(f"a{i}", 8 * DAY_MS * (i + 1), event, now_ms=i, worker="w").opened
    assert s._postings.held_by() == {k: frozenset(f"a{i}" for i in range(6))
                                     for k in event.keys}
    # Earlier than a0's story: it takes the new name, its terms go with it.
    assert s.assign("z", 8 * DAY_MS - 1, event, now_ms=6, worker="w").story == "z"
    assert s._postings.held_by() == {k: frozenset(["z", *(f"a{i}" for i in range(1, 6))])
                                     for k in event.keys}
    s.expire(6 + WINDOW + 1)
    assert s._postings.held_by() == {}
    assert s._postings.holders(list(event.keys), 200) == {}


def test_a_centroid_is_packed_at_12_bytes_a_term_and_read_back_in_its_order() -> None:
    """Story state was ~4.9 KB per story on real news with dict centroids (README, State
    size); packed, the terms keep their order, so sums over a centroid are the same float
    operations, and a read is a copy: only an assignment changes the story."""
    s = state()
    s.assign("a", 0, terms("kilimanjaro", "avalanche", "moshi", "tanzania"), now_ms=0,
             worker="w")
    story = s.stories["a"]
    centroid = story.centroid
    assert len(centroid) == 4 and len(story.packed) == 12 * 4
    reordered = dict(reversed(list(centroid.items())))
    story.centroid = reordered
    assert list(story.centroid.items()) == list(reordered.items())
    copy = story.centroid
    copy[1] = 1.0
    assert 1 not in story.centroid
    story.centroid = {}
    assert story.packed == b"" and story.centroid == {}


def report(company: str) -> StoryTerms:
    """An issue of a template: its words and names, and the company's name twice as often."""
    words = ("quarterly", "profit", "surpassed", "analysts", "estimate", "revenue")
    keys = (term_key(company, ENTITY), term_key("zacks", ENTITY), term_key("wall", ENTITY),
            *(term_key(w, WORD) for w in words))
    return StoryTerms(keys, (3.0, *(1.5 for _ in keys[1:])))


def test_a_templated_article_joins_only_a_story_that_names_its_subject() -> None:
    words_only = state()
    words_only.assign("a", 0, report("acme"), now_ms=0, worker="w")
    assert words_only.assign("b", 0, report("zenith"), now_ms=1, worker="w").story == "a"
    gated = state()
    gated.assign("a", 0, report("acme"), now_ms=0, worker="w")
    second = gated.assign("b", 0, report("zenith"), now_ms=1, worker="w", templated=True)
    assert (second.story, second.opened) == ("b", True)
    again = gated.assign("c", 0, report("zenith"), now_ms=2, worker="w", templated=True)
    assert (again.story, again.opened) == ("b", False)


# -- one article id at two event times (the same bare text sent twice) ---------------------------
@pytest.mark.timeout(10)
def test_an_article_id_another_worker_merged_away_never_loops_the_story_names() -> None:
    """Two workers decide one article id from two messages with different event times (a
    bare text sent twice: its id is its content's). Worker w learns from the log that the
    other worker's story "x" (at 500) was merged into "r" (at 300), then decides its own
    copy of "x" at 100, earlier than "r": it must not rename "r" to "x" while "x" already
    resolves to "r" (a loop: x -> r -> x, and every lookup in that story spun forever)."""
    s = state()
    event = terms("kilimanjaro", "avalanche", "moshi", "tanzania")
    s.assign("r", 300, event, now_ms=0, worker="w")
    s.apply_update(StoryUpdate("x", 500, "r", 300, 1, "v", "race"))
    assert s.story_of("r") == "r" and s.find("x") == "r"

    assignment = s.assign("x", 100, event, now_ms=2, worker="w")

    assert assignment.story == s.find("x") == s.find("r") == s.story_of("x") == s.story_of("r")
    assert s.size_of("r") == 2 and len(s) == 1


@pytest.mark.timeout(10)
def test_an_article_whose_id_already_names_its_story_joins_it_without_renaming_it() -> None:
    """The other worker's copy of "x" (at 300) renamed story "s" to "x"; this worker's own
    copy of "x" is earlier still (100): renaming "x" to "x" linked the name to itself."""
    s = state()
    event = terms("kilimanjaro", "avalanche", "moshi", "tanzania")
    s.assign("s", 500, event, now_ms=0, worker="w")
    s.apply_update(StoryUpdate("s", 500, "x", 300, 1, "v", "rename"))
    assert s.find("s") == "x"

    assignment = s.assign("x", 100, event, now_ms=2, worker="w")

    assert (assignment.story, assignment.opened, assignment.updates) == ("x", False, ())
    assert s.story_of("x") == s.story_of("s") == "x" and s.size_of("x") == 2


def test_a_centroids_norms_between_refreshes_are_their_definition() -> None:
    """Between full refreshes a join updates the norms term by term with the IDF it was
    weighed with: they must equal the norms of the centroid computed whole with that IDF
    (all of it, and its names alone)."""
    state = StoryState(StoryConfig(), window_ms=14 * DAY_MS)
    story = state._open("s", 0, 0)  # the arithmetic under test
    idf = {1 << 2: 1.5, 2 << 2: 2.0, (3 << 2) | ENTITY: 3.0, (4 << 2) | ENTITY: 0.5}
    joins = [((1 << 2, 0.5), ((3 << 2) | ENTITY, 0.25)),
             ((1 << 2, 0.25), (2 << 2, 1.0)),
             (((4 << 2) | ENTITY, 2.0), ((3 << 2) | ENTITY, 0.75))]
    for n, vector in enumerate(joins, 1):
        state._add(story, vector, 2.0, idf)
        centroid = story.centroid
        assert story.stale == n  # incremental, not refreshed
        total = sum((w * idf[k]) ** 2 for k, w in centroid.items())
        names = sum((w * idf[k]) ** 2 for k, w in centroid.items() if k & 3 == ENTITY)
        assert story.norm == pytest.approx(total ** 0.5, rel=1e-12)
        assert story.entity_norm == pytest.approx(names ** 0.5, rel=1e-12)
    assert story.centroid == {1 << 2: 1.5, (3 << 2) | ENTITY: 2.0, 2 << 2: 2.0,
                              (4 << 2) | ENTITY: 4.0}


def test_another_workers_rename_onto_a_story_held_here_merges_the_two() -> None:
    """A renamed to B's name while B is held here apart (the new name's article sent twice,
    merged away here): the two are one story, under the earlier founder's name."""
    state = StoryState(StoryConfig(), window_ms=14 * DAY_MS)
    a, b = state._open("a", 10, 0), state._open("b", 5, 0)
    a.size, b.size = 2, 3
    state.apply_update(StoryUpdate("a", 10, "b", 5, at_ms=7, worker="w2", reason="rename"))
    assert (state.find("a"), state.find("b"), list(state.stories)) == ("b", "b", ["b"])
    assert state.stories["b"].size == 5
    # a rename to an earlier name no story here holds renames in place
    state.apply_update(StoryUpdate("b", 5, "z", 1, at_ms=8, worker="w2", reason="rename"))
    assert (state.find("a"), list(state.stories), state.stories["z"].time_ms) == ("z", ["z"], 1)
    # and to a later one: the later name resolves to the story
    state.apply_update(StoryUpdate("z", 1, "y", 9, at_ms=9, worker="w2", reason="rename"))
    assert (state.find("y"), list(state.stories)) == ("z", ["z"])


def test_a_refresh_keeps_the_heaviest_terms_ties_by_key_and_recomputes_the_norms() -> None:
    state = StoryState(StoryConfig(centroid_terms=4), window_ms=14 * DAY_MS)
    story = state._open("s", 0, 0)
    k1, k2, k3, k4, k5 = (n << 2 for n in (1, 2, 3, 4, 5))
    name = (6 << 2) | ENTITY
    state._add(story, ((k1, 5.0), (k2, 1.0), (k3, 3.0), (k4, 3.0)), 1.0)  # exactly the limit
    assert list(story.centroid) == [k1, k2, k3, k4] and story.stale == 0
    state._add(story, ((k5, 2.0), (name, 4.0)), 1.0)  # six terms: the two lightest go
    assert story.centroid == {k1: 5.0, k3: 3.0, k4: 3.0, name: 4.0}  # k2 (1) and k5 (2) go
    assert story.norm == pytest.approx((25 + 9 + 9 + 16) ** 0.5)  # no document yet: IDF 1
    assert story.entity_norm == pytest.approx(4.0)
    held = state._postings.holders([k1, k2, k3, k4, k5, name], 100)
    assert held == {"s": 4}
    state._add(story, ((k2, 3.0),), 1.0)  # k2, k3, k4 tie at 3.0: the highest key goes
    assert set(story.centroid) == {k1, name, k2, k3}
