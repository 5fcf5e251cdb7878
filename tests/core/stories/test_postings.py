"""The postings index against a dict of sets: the same holders after any changes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.stories import postings as postings_module
from streams.core.stories.postings import Postings

# Term keys are uint32: the smallest, the largest, and some between.
KEY_VALUES = [0, 1, 2, 0x1000_0001, 0x7000_0007, 0xFFFF_FFFE, 0xFFFF_FFFF]
KEYS = st.sampled_from(KEY_VALUES)
STORIES = st.sampled_from(["a", "b", "c", "d", "e"])
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), KEYS, STORIES),
        st.tuples(st.just("remove"), KEYS, STORIES),
        st.tuples(st.just("drop"), STORIES, STORIES),
        st.tuples(st.just("rename"), STORIES, st.sampled_from(["p", "q", "r"])),
        st.tuples(st.just("fold"), STORIES, STORIES),
    ),
    max_size=60,
)


def apply(model: dict[str, set[int]], index: Postings, op: tuple[str, object, object]) -> None:
    """One change to both, as StoryState makes it: a pair added only if absent, removed
    only if present, a rename only to a free name."""
    kind, first, second = op
    if kind == "add" and isinstance(first, int) and isinstance(second, str):
        if first not in model.setdefault(second, set()):
            model[second].add(first)
            index.add([first], second)
    elif kind == "remove" and isinstance(first, int) and isinstance(second, str):
        if first in model.get(second, set()):
            model[second].discard(first)
            index.remove([first], second)
    elif kind == "drop" and isinstance(first, str):
        index.drop(first, sorted(model.pop(first, set())))
    elif kind == "rename" and isinstance(first, str) and isinstance(second, str):
        if second not in model and first in model:
            model[second] = model.pop(first)
            index.rename(first, second)
    elif kind == "fold":
        index.fold()


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


@settings(max_examples=300, deadline=None)
@given(OPS, st.integers(min_value=0, max_value=12), st.booleans())
def test_holders_are_those_of_a_dict_of_sets_after_any_changes(
    ops: list[tuple[str, object, object]], budget: int, fold_often: bool
) -> None:
    if fold_often:  # every few changes folded into the array, as a large index is
        postings_module._MIN_PENDING, saved = 2, postings_module._MIN_PENDING
    index, model = Postings(), {}  # type: ignore[var-annotated]
    try:
        for op in ops:
            apply(model, index, op)
            assert index.holders(KEY_VALUES, budget) == expected_holders(model, KEY_VALUES,
                                                                           budget)
        held = {k: frozenset(s for s, ks in model.items() if k in ks) for k in
                set().union(*model.values())} if model else {}
        assert index.held_by() == held
    finally:
        if fold_often:
            postings_module._MIN_PENDING = saved


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
