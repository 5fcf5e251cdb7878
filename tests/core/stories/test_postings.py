"""The postings index against a dict of sets: the same holders after any changes."""

from __future__ import annotations

import sys
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.stories import postings as postings_module
from streams.core.stories.postings import Postings, _count

# Term keys are uint32: the smallest, the largest, and some between.
KEY_VALUES = [0, 1, 2, 0x1000_0001, 0x7000_0007, 0xFFFF_FFFE, 0xFFFF_FFFF]
KEYS = st.sampled_from(KEY_VALUES)
STORIES = st.sampled_from(["a", "b", "c", "d", "e"])
KEY_LISTS = st.lists(KEYS, min_size=1, max_size=4, unique=True)
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), KEY_LISTS, STORIES),
        st.tuples(st.just("remove"), KEY_LISTS, STORIES),
        st.tuples(st.just("drop"), STORIES, STORIES),
        st.tuples(st.just("rename"), STORIES, st.sampled_from(["p", "q", "r"])),
        st.tuples(st.just("fold"), STORIES, STORIES),
    ),
    max_size=60,
)


def apply(model: dict[str, set[int]], index: Postings, op: tuple[str, Any, Any]) -> None:
    """One change to both, as StoryState makes it: keys added that the story does not hold,
    removed that it holds, a story dropped with all its keys, a rename to a free name."""
    kind, first, second = op
    if kind == "add":
        keys = [key for key in first if key not in model.setdefault(second, set())]
        model[second].update(keys)
        index.add(keys, second)
    elif kind == "remove":
        keys = [key for key in first if key in model.get(second, set())]
        model.get(second, set()).difference_update(keys)
        index.remove(keys, second)
    elif kind == "drop":
        index.drop(first, sorted(model.pop(first, set())))
    elif kind == "rename":
        if second not in model:
            model[second] = model.pop(first, set())
            index.rename(first, second)
    elif kind == "fold":
        index.fold()


def pending_pairs(index: Postings) -> int:
    return sum(_count(slots) for table in (index._added, index._removed)
               for slots in table.values())


def expected_holders(model: dict[str, set[int]], keys: list[int], budget: int) -> dict[str, int]:
    """The lookup as StoryState made it before the index: rarest keys first, ties by key,
    up to the first posting beyond what is left of the budget."""
    postings = {key: {story for story, held in model.items() if key in held} for key in keys}
    found = sorted((len(stories), key) for key, stories in postings.items() if stories)
    hits: dict[str, int] = {}
    for size, key in found:
        if size > budget:
            break
        budget -= size
        for story in postings[key]:
            hits[story] = hits.get(story, 0) + 1
    return hits


@settings(max_examples=400, deadline=None)
@given(OPS, st.booleans())
def test_holders_are_those_of_a_dict_of_sets_after_any_changes(
    ops: list[tuple[str, Any, Any]], fold_often: bool
) -> None:
    saved = postings_module._MIN_PENDING
    if fold_often:  # every few changes folded into the array, as a large index is
        postings_module._MIN_PENDING = 3
    try:
        index, model = Postings(), {}  # type: ignore[var-annotated]
        for op in ops:
            apply(model, index, op)
            # The pending count is the pairs held apart; past the limit they are folded.
            assert index._pending == pending_pairs(index) <= index._fold_at
            for budget in (0, 1, 3, 6, 50):
                assert index.holders(KEY_VALUES, budget) == expected_holders(
                    model, KEY_VALUES, budget)
        held = {k: frozenset(s for s, ks in model.items() if k in ks) for k in
                set().union(*model.values())} if model else {}
        assert index.held_by() == {k: v for k, v in held.items() if v}
    finally:
        postings_module._MIN_PENDING = saved


def test_a_pair_removed_then_added_again_before_a_fold_is_held_once() -> None:
    index = Postings.of([("a", [1, 2, 3]), ("b", [1, 2]), ("c", [1])])
    index.remove([1, 2], "a")
    index.remove([1], "b")
    assert index.holders([1, 2], 10) == {"b": 1, "c": 1}
    index.add([1], "d")  # key 1's pending removals are a's and b's, not d's: d is added
    assert index.holders([1], 10) == {"c": 1, "d": 1}
    index.add([1, 2], "a")  # both back in the array's pairs: nothing pending for them
    assert index._removed == {1: index._slot_of["b"]}
    assert index.holders([1, 2], 10) == {"a": 2, "b": 1, "c": 1, "d": 1}
    index.add([1], "e")  # key 1's pending removal is b's (one, held bare), not e's
    assert index.holders([1], 10) == {"a": 1, "c": 1, "d": 1, "e": 1}
    index.add([1], "b")
    assert index._pending == 2 and index.holders([1], 5) == {
        "a": 1, "b": 1, "c": 1, "d": 1, "e": 1}
    index.remove([1], "a")  # a built pair, while key 1 has pending additions (d's, e's)
    assert index.holders([1], 5) == {"b": 1, "c": 1, "d": 1, "e": 1}


def test_several_removals_of_one_key_before_a_fold_remove_each_pair_of_the_array() -> None:
    top = 2**32 - 1  # the largest key: its pairs are beyond what a float64 holds exactly
    index = Postings.of([(story, [top, 5]) for story in "abcde"])
    for story in "bcd":
        index.remove([top], story)
    assert index.holders([top], 10) == {"a": 1, "e": 1}
    index.fold()
    assert index.holders([top, 5], 10) == {"a": 2, "e": 2, "b": 1, "c": 1, "d": 1}
    assert len(index._pairs) == 7


def test_changes_are_folded_into_the_array_past_a_sixteenth_of_it() -> None:
    limit = postings_module._MIN_PENDING  # the array is below 16 x this: the limit
    index = Postings()
    index.add(list(range(limit)), "a")
    assert len(index._pairs) == 0 and index._pending == limit  # at the limit: held apart
    index.add([limit], "b")
    assert len(index._pairs) == limit + 1 and index._pending == 0
    # Removals and drops count alike.
    index.remove(list(range(limit)), "a")
    assert index._pending == limit and len(index._pairs) == limit + 1
    index.drop("b", [limit])
    assert index._pending == 0 and len(index._pairs) == 0
    index.add(list(range(limit)), "c")
    index.add([limit], "d")
    index.drop("c", list(range(limit)))
    assert index._pending == limit and len(index._pairs) == limit + 1
    index.remove([limit], "d")
    assert index._pending == 0 and len(index._pairs) == 0
    built = Postings.of([("s", range(20 * limit))])
    assert built._fold_at == 20 * limit // 16
    built.add([10**6], "t")  # a change to a built index is held apart
    assert built._pending == 1 and built.holders([10**6], 1) == {"t": 1}


def test_renaming_or_removing_from_a_story_that_posted_nothing_changes_nothing() -> None:
    index = Postings()
    index.rename("nobody", "somebody")
    index.remove([1], "nobody")
    index.drop("nobody", [1])
    index.add([], "empty")  # no keys: no slot taken
    assert index._slot_of == {} and index._pending == 0 and index.held_by() == {}


def test_nbytes_counts_the_array_the_pending_changes_and_the_slot_table() -> None:
    index = Postings.of([("a", [1, 2]), ("b", [2])])
    index.add([7], "c")
    size = sys.getsizeof
    assert index.nbytes() == (3 * 8 + size(index._added) + size(index._removed) + 1 * 64
                              + size(index._slot_of) + size(index._ids))


def test_a_lookup_reads_the_rarest_keys_first_and_stops_before_the_budget() -> None:
    index = Postings()
    for story in ("a", "b", "c"):
        index.add([1], story)
    index.add([2], "c")
    index.add([3], "d")
    # Keys 2 and 3 (one story each) are read first: 2 of the budget of 4; key 1's three
    # stories would pass it, so the lookup stops there.
    assert index.holders([1, 2, 3], 4) == {"c": 1, "d": 1}
    assert index.holders([1, 2, 3], 5) == {"a": 1, "b": 1, "c": 2, "d": 1}
    assert index.holders([9], 5) == {}


def test_a_folded_index_is_8_bytes_a_pair_and_reuses_the_slots_of_gone_stories() -> None:
    index = Postings()
    for story in range(100):
        index.add([key * 1000 + story % 7 for key in range(32)], f"s{story}")
    index.fold()
    assert index._pairs.nbytes == 100 * 32 * 8
    index.drop("s0", [key * 1000 for key in range(32)])
    index.fold()  # s0's slot is free once no pair refers to it
    index.add([999_999], "new")
    assert index._slot_of["new"] == 0 and index.holders([999_999], 10) == {"new": 1}
    assert len(index._ids) == 100


def test_postings_built_at_once_equal_postings_built_one_by_one() -> None:
    centroids = [("a", [3, 1, 2]), ("b", [2, 4]), ("c", []), ("d", [2**32 - 1])]
    bulk = Postings.of(centroids)
    one_by_one = Postings()
    for story, keys in centroids:
        for key in keys:
            one_by_one.add([key], story)
    assert bulk.held_by() == one_by_one.held_by() == {
        1: frozenset("a"), 2: frozenset("ab"), 3: frozenset("a"), 4: frozenset("b"),
        2**32 - 1: frozenset("d")}
    assert bulk.holders([2, 2**32 - 1], 10) == {"a": 1, "b": 1, "d": 1}
