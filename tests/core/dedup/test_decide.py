from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.dedup.decide import (
    apply_decision,
    decide,
    find_matches,
    group_members,
    moved_members,
    resolve_root,
)
from streams.core.dedup.index import FingerprintIndex
from streams.core.dedup.match import Candidate
from streams.core.dedup.model import Decision, IndexEntry
from streams.core.dedup.revision import Revision
from tests.core.dedup.helpers import CONFIG, document, edited, fp

ORIGINAL = document(100, words=700)
STORY = {
    "a": (1_000, fp(ORIGINAL)),
    "b": (2_000, fp(ORIGINAL)),  # exact re-send
    "c": (3_000, fp(edited(ORIGINAL, 0.03, seed=1))),  # copy-edit
    "d": (4_000, fp(ORIGINAL[:600])),  # truncated
    "x": (1_500, fp(document(200, words=700))),  # unrelated
    "y": (2_500, fp(edited(document(200, words=700), 0.02, seed=2))),
}


def feed(index: FingerprintIndex, article_id: str, now_ms: int = 0) -> Decision:
    event_time_ms, fingerprint = STORY[article_id]
    decision = decide(fingerprint, event_time_ms, article_id, index, CONFIG)
    apply_decision(index, fingerprint, event_time_ms, article_id, decision, now_ms=now_ms)
    return decision


def kept_ids(index: FingerprintIndex) -> set[str]:
    return {i for i in STORY if (e := index.get(i)) is not None and e.is_kept}


def test_first_article_is_kept() -> None:
    assert feed(FingerprintIndex(CONFIG.lsh), "a") == Decision(kept=True)


def test_exact_match_by_content_hash() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    feed(index, "a")
    assert feed(index, "b") == Decision(False, "a", "exact", 1.0)


def test_near_match_reports_verified_similarity() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    feed(index, "a")
    decision = feed(index, "c")
    assert (decision.kept, decision.duplicate_of, decision.match) == (False, "a", "near")
    assert decision.similarity is not None and 0.65 <= decision.similarity < 1.0


def test_earliest_match_wins_and_root_is_followed() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    feed(index, "a")
    feed(index, "c")
    decision = feed(index, "d")
    assert decision.duplicate_of == "a"


def test_earlier_arrival_supersedes_later_kept() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    feed(index, "c")
    feed(index, "d")  # dup of c
    decision = feed(index, "a")
    assert decision == Decision(kept=True, supersedes=("c",))
    # d follows c by indirection: its entry is not rewritten
    assert {e.id: e.root for e in (index.get("c"), index.get("d")) if e} == {"c": "a", "d": "c"}
    assert (resolve_root(index, "c"), resolve_root(index, "d")) == ("a", "a")


def test_duplicate_also_supersedes_later_kept_matches() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    event_time_ms, early = 500, fp(ORIGINAL[:300])  # excerpt: contained in a, not in c
    decision_early = decide(early, event_time_ms, "e", index, CONFIG)
    apply_decision(index, early, event_time_ms, "e", decision_early, now_ms=0)
    feed(index, "c")
    decision = feed(index, "a")
    assert (decision.kept, decision.duplicate_of, decision.supersedes) == (False, "e", ("c",))
    assert index.get("c").root == "e"  # type: ignore[union-attr]


def test_replay_repeats_the_first_decision() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    feed(index, "c")
    first = feed(index, "a", now_ms=1)
    assert feed(index, "a", now_ms=2) == first
    dup = feed(index, "d")
    assert feed(index, "d") == dup


def test_same_fingerprint_other_id_is_not_self() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    feed(index, "b")
    assert feed(index, "a").supersedes == ("b",)


def test_apply_decision_returns_changed_entries() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    feed(index, "c")
    feed(index, "d")
    event_time_ms, fingerprint = STORY["a"]
    decision = decide(fingerprint, event_time_ms, "a", index, CONFIG)
    changed = apply_decision(index, fingerprint, event_time_ms, "a", decision, now_ms=0)
    assert [(e.id, e.root, e.superseded_by) for e in changed] == [
        ("a", "a", None),
        ("c", "a", "a"),
    ]


@settings(max_examples=25, deadline=None)
@given(st.permutations(sorted(STORY)))
def test_kept_set_is_independent_of_arrival_order(order: list[str]) -> None:
    index = FingerprintIndex(CONFIG.lsh)
    for article_id in order:
        feed(index, article_id)
    assert kept_ids(index) == {"a", "x"}
    assert {i: resolve_root(index, i) for i in STORY} == {
        "a": "a",
        "b": "a",
        "c": "a",
        "d": "a",
        "x": "x",
        "y": "x",
    }


@pytest.mark.parametrize("order", [("b", "a"), ("a", "b")])
def test_equal_event_times_are_broken_by_the_smaller_id(order: tuple[str, str]) -> None:
    """Two copies with one event time: ``a`` < ``b``, so ``a`` is kept in either arrival order."""
    index = FingerprintIndex(CONFIG.lsh)
    same = fp(ORIGINAL)
    decisions = {}
    for article_id in order:
        decisions[article_id] = decide(same, 1_000, article_id, index, CONFIG)
        apply_decision(index, same, 1_000, article_id, decisions[article_id], now_ms=0)
    assert {i: e.root for i in "ab" if (e := index.get(i))} == {"a": "a", "b": "a"}
    if order == ("b", "a"):
        assert decisions["a"] == Decision(kept=True, supersedes=("b",))
    else:
        assert decisions["b"] == Decision(False, "a", "exact", 1.0)


def test_an_article_matching_two_kept_articles_points_at_the_earliest_root() -> None:
    """``r`` contains both ``p`` and ``q``, which are unrelated and both kept.

    The later match ``q`` is the more similar one (1.0 against 0.97), so neither "the latest"
    nor "the most similar" can pass for "the earliest".
    """
    index = FingerprintIndex(CONFIG.lsh)
    p_tokens, q_tokens = document(330, words=400), document(331, words=400)
    for article_id, event_time_ms, tokens in (("q", 2_000, q_tokens), ("p", 1_000, p_tokens)):
        fingerprint = fp(tokens)
        decision = decide(fingerprint, event_time_ms, article_id, index, CONFIG)
        assert decision == Decision(kept=True)
        apply_decision(index, fingerprint, event_time_ms, article_id, decision, now_ms=0)
    combined = fp(p_tokens + q_tokens)
    matches = find_matches(Candidate(combined, 3_000), "r", index, CONFIG)
    assert sorted((m.entry.id, m.kind, round(m.similarity, 3)) for m in matches) == [
        ("p", "near", 0.97), ("q", "near", 1.0)]
    decision = decide(combined, 3_000, "r", index, CONFIG)
    assert (decision.kept, decision.duplicate_of, decision.match) == (False, "p", "near")


def test_a_match_with_a_later_key_is_not_earlier() -> None:
    """Same event time, larger id: the indexed copy is later, so the new one is kept."""
    index = FingerprintIndex(CONFIG.lsh)
    feed_at(index, "m", 1_000)
    assert decide(STORY["a"][1], 1_000, "l", index, CONFIG) == Decision(kept=True,
                                                                       supersedes=("m",))
    assert decide(STORY["a"][1], 1_000, "n", index, CONFIG) == Decision(False, "m", "exact", 1.0)


def feed_at(index: FingerprintIndex, article_id: str, event_time_ms: int) -> Decision:
    fingerprint = STORY["a"][1]
    decision = decide(fingerprint, event_time_ms, article_id, index, CONFIG)
    apply_decision(index, fingerprint, event_time_ms, article_id, decision, now_ms=0)
    return decision


def test_apply_decision_indexes_the_article_with_what_it_was_given() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    event_time_ms, fingerprint = STORY["a"]
    [entry] = apply_decision(index, fingerprint, event_time_ms, "a", Decision(kept=True),
                             now_ms=77, source="bbc", origin="articles.raw/2/9")
    assert entry == IndexEntry("a", event_time_ms, fingerprint, "a", source="bbc", seen_at_ms=77,
                               origin="articles.raw/2/9", superseded_by=None)
    assert index.get("a") is entry
    [bare] = apply_decision(index, STORY["x"][1], 5, "x", Decision(kept=True), now_ms=1)
    assert (bare.source, bare.origin) == (None, "")


def test_replays_after_a_supersede_repeat_both_decisions() -> None:
    """``c`` is superseded by the earlier ``a``; replaying ``c`` must keep that fact."""
    index = FingerprintIndex(CONFIG.lsh)
    feed(index, "c")
    first_a = feed(index, "a")
    assert first_a.supersedes == ("c",)
    replayed_c = feed(index, "c")
    assert (replayed_c.kept, replayed_c.duplicate_of, replayed_c.supersedes) == (False, "a", ())
    assert index.get("c").superseded_by == "a"  # type: ignore[union-attr]
    assert feed(index, "a") == first_a


def test_replay_of_a_decided_article_changes_only_its_own_entry() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    feed(index, "c")
    feed(index, "d")  # a member of c
    event_time_ms, fingerprint = STORY["a"]
    decision = decide(fingerprint, event_time_ms, "a", index, CONFIG)
    apply_decision(index, fingerprint, event_time_ms, "a", decision, now_ms=0)
    again = decide(fingerprint, event_time_ms, "a", index, CONFIG)
    assert again == decision
    changed = apply_decision(index, fingerprint, event_time_ms, "a", again, now_ms=0)
    assert [e.id for e in changed] == ["a"]
    event_time_ms, fingerprint = STORY["c"]
    replayed_c = decide(fingerprint, event_time_ms, "c", index, CONFIG)
    changed = apply_decision(index, fingerprint, event_time_ms, "c", replayed_c, now_ms=0)
    assert [(e.id, e.root) for e in changed] == [("c", "a")]


def test_supersedes_skips_ids_no_longer_indexed() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    feed(index, "c")
    feed(index, "d")
    event_time_ms, fingerprint = STORY["a"]
    decision = Decision(kept=True, supersedes=("b-expired", "c"))
    changed = apply_decision(index, fingerprint, event_time_ms, "a", decision, now_ms=0)
    assert [(e.id, e.root, e.superseded_by) for e in changed] == [
        ("a", "a", None), ("c", "a", "a")]


def test_a_superseded_entry_with_a_stale_root_is_re_rooted() -> None:
    """``c`` already names ``a`` as its superseder but has another root (records out of order)."""
    index = FingerprintIndex(CONFIG.lsh)
    index.add(IndexEntry("c", STORY["c"][0], STORY["c"][1], root="old", superseded_by="a"))
    event_time_ms, fingerprint = STORY["a"]
    decision = Decision(kept=True, supersedes=("c",))
    changed = apply_decision(index, fingerprint, event_time_ms, "a", decision, now_ms=0)
    assert [(e.id, e.root, e.superseded_by) for e in changed] == [
        ("a", "a", None), ("c", "a", "a")]
def test_duplicate_of_is_the_end_of_a_root_chain() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    fingerprint = STORY["a"][1]
    index.add(IndexEntry("a", 1_000, fingerprint, "a"))
    # "c" still names "b", whose own re-rooting to "a" arrived first through the log
    index.add(IndexEntry("b", 1_100, fingerprint, "a"))
    index.add(IndexEntry("c", 1_200, STORY["c"][1], "b"))
    assert resolve_root(index, "b") == "a" and resolve_root(index, "c") == "a"
    event_time_ms, fingerprint = STORY["d"]
    decision = decide(fingerprint, event_time_ms, "d", index, CONFIG)
    assert (decision.kept, decision.duplicate_of) == (False, "a")


def test_a_root_change_marks_the_moved_duplicates() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    feed(index, "c")
    feed(index, "d")  # duplicate of c
    feed(index, "a")  # earlier: c becomes a's duplicate, d moves with it
    assert [e.id for e in moved_members(index, "a", "a", ("c",))] == ["d"]
    assert moved_members(index, "a", "other", ("c",)) == []  # not the article that moved it
    assert moved_members(index, "c", "a", ("c",)) == []  # not the root it moved to
    assert index.get("c").superseded_by == "a"  # type: ignore[union-attr]
    assert index.get("d").root == "c"  # type: ignore[union-attr]


# -- pinned by mutation testing (MUTATION.md) --------------------------------------------------

def test_an_exact_copy_outside_the_window_is_no_match() -> None:
    """Same content hash, event times one window and a millisecond apart."""
    index = FingerprintIndex(CONFIG.lsh)
    fingerprint = STORY["a"][1]
    index.add(IndexEntry("old", 0, fingerprint, "old"))
    late = CONFIG.window_ms + 1
    assert find_matches(Candidate(fingerprint, late), "new", index, CONFIG) == []
    assert decide(fingerprint, late, "new", index, CONFIG) == Decision(kept=True)
    [match] = find_matches(Candidate(fingerprint, late - 1), "new", index, CONFIG)
    assert (match.entry.id, match.kind, match.similarity) == ("old", "exact", 1.0)


def test_an_indexed_copy_only_the_full_form_matches_is_found_through_it() -> None:
    """``full`` (the article with its learned boilerplate) is a near copy of the indexed
    entry; the form without the boilerplate (here: unrelated text) matches nothing."""
    index = FingerprintIndex(CONFIG.lsh)
    index.add(IndexEntry("old", 1_000, STORY["a"][1], "old"))
    stripped, full = STORY["x"][1], STORY["c"][1]
    assert find_matches(Candidate(stripped, 2_000), "new", index, CONFIG) == []
    [match] = find_matches(Candidate(stripped, 2_000), "new", index, CONFIG,
                           full=Candidate(full, 2_000))
    assert (match.entry.id, match.kind) == ("old", "near")
    assert 0.65 <= match.similarity < 1.0
    decision = decide(stripped, 2_000, "new", index, CONFIG, full=Candidate(full, 2_000))
    assert (decision.kept, decision.duplicate_of, decision.match) == (False, "old", "near")
    assert decide(stripped, 2_000, "new", index, CONFIG) == Decision(kept=True)


def test_the_root_of_an_id_that_is_not_indexed_is_itself() -> None:
    assert resolve_root(FingerprintIndex(CONFIG.lsh), "gone") == "gone"


@pytest.mark.parametrize(("chain", "expected"), [
    ({"a": "b", "b": "a"}, "a"),  # a -> b -> a: stops where it began
    ({"a": "b", "b": "c", "c": "b"}, "b"),  # a -> b -> c -> b: stops at the first repeat
])
def test_a_root_cycle_ends_at_its_first_repeated_id(chain: dict[str, str], expected: str) -> None:
    index = FingerprintIndex(CONFIG.lsh)
    for i, (article_id, root) in enumerate(chain.items()):
        index.add(IndexEntry(article_id, i, STORY["a"][1], root))
    assert resolve_root(index, "a") == expected


def test_an_article_never_matches_its_own_entry_even_at_another_event_time() -> None:
    """A re-send of ``a`` with an earlier timestamp: its own (later) entry is not a kept
    copy it supersedes, nor an earlier one it duplicates."""
    index = FingerprintIndex(CONFIG.lsh)
    fingerprint = STORY["a"][1]
    index.add(IndexEntry("a", 5_000, fingerprint, "a"))
    assert decide(fingerprint, 1_000, "a", index, CONFIG) == Decision(kept=True, supersedes=())
    other = STORY["c"][1]  # the same id with edited content at a later time: a fresh decision
    assert decide(other, 9_000, "a", index, CONFIG) == Decision(kept=True)


def test_superseded_ids_are_sorted_by_id_with_their_own_match() -> None:
    """The exact copy ``z`` is found before the near copy ``m``; ``supersedes`` is by id."""
    index = FingerprintIndex(CONFIG.lsh)
    index.add(IndexEntry("z", 2_000, STORY["a"][1], "z"))
    index.add(IndexEntry("m", 3_000, STORY["c"][1], "m"))
    decision = decide(STORY["a"][1], 1_000, "a", index, CONFIG)
    assert (decision.kept, decision.supersedes) == (True, ("m", "z"))
    [(m_kind, m_similarity), z_match] = decision.superseded_matches
    assert m_kind == "near" and 0.65 <= m_similarity < 1.0
    assert z_match == ("exact", 1.0)


def test_a_replay_of_a_kept_article_stays_kept_unless_an_earlier_match_is_indexed() -> None:
    """``k`` is indexed as kept and ``l``, a later copy, too: a replay of ``k`` stays kept
    and supersedes ``l``. Once an earlier copy ``e`` is indexed (its record came later
    through the log, and the race went uncorrected: the worker that decided ``k`` died
    first), the replay corrects ``k``: a duplicate of ``e``. With other content it is
    decided afresh."""
    index = FingerprintIndex(CONFIG.lsh)
    index.add(IndexEntry("k", 2_000, STORY["a"][1], "k"))
    index.add(IndexEntry("l", 3_000, STORY["a"][1], "l"))  # later and kept: k supersedes it
    replay = decide(STORY["a"][1], 2_000, "k", index, CONFIG)
    assert replay == Decision(kept=True, supersedes=("l",))
    assert replay.superseded_matches == (("exact", 1.0),)
    index.add(IndexEntry("e", 1_000, STORY["a"][1], "e"))
    corrected = decide(STORY["a"][1], 2_000, "k", index, CONFIG)
    assert corrected == Decision(False, "e", "exact", 1.0, supersedes=("l",))
    fresh = decide(STORY["c"][1], 2_000, "k", index, CONFIG)
    assert (fresh.kept, fresh.duplicate_of, fresh.match) == (False, "e", "near")
    assert fresh.supersedes == ("l",) and fresh.superseded_matches[0][0] == "near"


def test_a_replayed_duplicate_repeats_its_match_and_what_it_superseded() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    index.add(IndexEntry("e", 1_000, STORY["a"][1], "e"))
    index.add(IndexEntry("d", 2_000, STORY["a"][1], "e", match="near", similarity=0.75))
    index.add(IndexEntry("l", 3_000, STORY["a"][1], "e", superseded_by="d"))
    replay = decide(STORY["a"][1], 2_000, "d", index, CONFIG)
    assert replay == Decision(False, "e", "near", 0.75, supersedes=("l",))
    assert replay.superseded_matches == (("exact", 1.0),)


def test_a_replayed_duplicate_of_a_version_1_record_is_a_near_copy_of_similarity_one() -> None:
    """Entries logged before verdicts were (version 1) have no match nor similarity."""
    index = FingerprintIndex(CONFIG.lsh)
    index.add(IndexEntry("e", 1_000, STORY["x"][1], "e"))
    index.add(IndexEntry("d", 2_000, STORY["a"][1], "e"))
    assert decide(STORY["a"][1], 2_000, "d", index, CONFIG) == Decision(False, "e", "near", 1.0)


def test_a_duplicate_that_supersedes_states_each_superseded_match() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    index.add(IndexEntry("e", 1_000, STORY["a"][1], "e"))
    index.add(IndexEntry("l", 3_000, STORY["a"][1], "l"))
    decision = decide(STORY["a"][1], 2_000, "d", index, CONFIG)
    assert decision == Decision(False, "e", "exact", 1.0, supersedes=("l",))
    assert decision.superseded_matches == (("exact", 1.0),)


def test_apply_decision_keeps_the_verdict_and_the_moved_by_of_the_entry_it_replaces() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    index.add(IndexEntry("e", 1_000, STORY["a"][1], "e"))
    index.add(IndexEntry("d", 2_000, STORY["c"][1], "e", moved_by="z", superseded_by="y"))
    [entry] = apply_decision(index, STORY["c"][1], 2_000, "d",
                             Decision(False, "e", "near", 0.8), now_ms=5)
    assert (entry.root, entry.match, entry.similarity) == ("e", "near", 0.8)
    assert (entry.moved_by, entry.superseded_by, entry.seen_at_ms) == ("z", "y", 5)


def test_a_kept_article_decided_again_as_a_duplicate_takes_its_duplicates_along() -> None:
    """``c`` was kept with a duplicate ``d``; decided again (new content) as a duplicate of
    ``a``, ``d`` follows it to ``a`` (its entry unchanged) and counts as moved by ``c``."""
    index = FingerprintIndex(CONFIG.lsh)
    index.add(IndexEntry("a", 1_000, STORY["a"][1], "a"))
    index.add(IndexEntry("c", 3_000, STORY["x"][1], "c"))
    index.add(IndexEntry("d", 4_000, STORY["y"][1], "c", match="near", similarity=0.9))
    changed = apply_decision(index, STORY["c"][1], 3_000, "c",
                             Decision(False, "a", "near", 0.9), now_ms=0,
                             revision=Revision(2, STORY["x"][1].content_hash))
    assert [(e.id, e.root, e.moved_by) for e in changed] == [("c", "a", None)]
    assert resolve_root(index, "d") == "a"
    assert [(e.id, e.root) for e in moved_members(index, "a", "c", ())] == [("d", "c")]


def test_a_superseded_entry_takes_the_match_its_decision_gives_it() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    index.add(IndexEntry("l", 3_000, STORY["c"][1], "l"))
    index.add(IndexEntry("m", 4_000, STORY["a"][1], "m"))
    decision = Decision(kept=True, supersedes=("l", "m"),
                        superseded_matches=(("near", 0.8125), ("exact", 1.0)))
    changed = apply_decision(index, STORY["a"][1], 1_000, "a", decision, now_ms=0)
    assert [(e.id, e.root, e.superseded_by, e.match, e.similarity) for e in changed] == [
        ("a", "a", None, None, None), ("l", "a", "a", "near", 0.8125),
        ("m", "a", "a", "exact", 1.0)]


@pytest.mark.parametrize(("similarity", "expected"), [(None, 1.0), (0.8, 0.8)])
def test_a_superseded_entry_without_its_own_match_takes_the_decision_s(
    similarity: float | None, expected: float
) -> None:
    """A decision built without ``superseded_matches`` (older callers): a near match of the
    decision's own similarity, or 1.0 for a kept article's."""
    index = FingerprintIndex(CONFIG.lsh)
    index.add(IndexEntry("e", 500, STORY["a"][1], "e"))
    index.add(IndexEntry("l", 3_000, STORY["c"][1], "l"))
    kept = similarity is None
    decision = Decision(kept=kept, duplicate_of=None if kept else "e",
                        match=None if kept else "near", similarity=similarity,
                        supersedes=("l",))
    changed = apply_decision(index, STORY["a"][1], 1_000, "a", decision, now_ms=0)
    root = "a" if kept else "e"
    assert [(e.id, e.root, e.match, e.similarity) for e in changed[1:]] == [
        ("l", root, "near", expected)]


def test_a_new_revision_is_not_a_duplicate_of_its_own_copies() -> None:
    """``a`` comes back with edited content at a later event time; its exact re-send ``b``
    (a duplicate rooted at ``a``) is an earlier match, but a copy of the article itself."""
    index = FingerprintIndex(CONFIG.lsh)
    feed(index, "a")
    feed(index, "b")
    assert index.get("b").root == "a"  # type: ignore[union-attr]
    revised = fp(edited(ORIGINAL, 0.03, seed=1))
    assert decide(revised, 3_000, "a", index, CONFIG) == Decision(kept=True)
    # Any other id with that content is b's duplicate, i.e. a's.
    assert decide(revised, 3_000, "z", index, CONFIG).duplicate_of == "a"


def test_apply_decision_without_a_revision_keeps_the_indexed_one() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    event_time_ms, fingerprint = STORY["a"]
    apply_decision(index, fingerprint, event_time_ms, "a", Decision(kept=True), now_ms=0,
                   revision=Revision(3, "f" * 32))
    apply_decision(index, fingerprint, event_time_ms, "a", Decision(kept=True), now_ms=1)
    entry = index.get("a")
    assert entry is not None
    assert (entry.revision, entry.previous_hash) == (3, "f" * 32)
    apply_decision(index, fingerprint, event_time_ms, "n", Decision(kept=True), now_ms=1)
    assert (index.get("n").revision, index.get("n").previous_hash) == (1, None)  # type: ignore[union-attr]


def test_the_full_hash_is_kept_only_when_it_differs_from_the_content_hash() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    event_time_ms, fingerprint = STORY["a"]
    apply_decision(index, fingerprint, event_time_ms, "a", Decision(kept=True), now_ms=0,
                   full_hash="e" * 32)
    apply_decision(index, fingerprint, event_time_ms, "b", Decision(kept=True), now_ms=0,
                   full_hash=fingerprint.content_hash)
    assert index.get("a").full_hash == "e" * 32  # type: ignore[union-attr]
    assert index.get("a").revision_key == "e" * 32  # type: ignore[union-attr]
    assert index.get("b").full_hash is None  # type: ignore[union-attr]
    assert index.get("b").revision_key == fingerprint.content_hash  # type: ignore[union-attr]


# -- issue 14: early stop, indirection, group trees (pinned by mutation testing) -------------

def test_a_later_kept_copy_only_the_full_form_matches_is_superseded_through_it() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    index.add(IndexEntry("old", 3_000, STORY["a"][1], "old"))
    stripped, full = STORY["x"][1], STORY["c"][1]
    decision = decide(stripped, 2_000, "new", index, CONFIG, full=Candidate(full, 2_000))
    assert (decision.kept, decision.supersedes) == (True, ("old",))
    assert decide(stripped, 2_000, "new", index, CONFIG) == Decision(kept=True)


def test_find_matches_leaves_out_the_article_itself() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    index.add(IndexEntry("new", 1_000, STORY["a"][1], "new"))
    index.add(IndexEntry("b", 2_000, STORY["b"][1], "b"))
    matches = find_matches(Candidate(STORY["a"][1], 1_000), "new", index, CONFIG)
    assert [(m.entry.id, m.kind) for m in matches] == [("b", "exact")]


def test_a_revision_skips_an_earlier_entry_of_its_own_group_and_goes_on() -> None:
    """``c`` (earlier, its root ``r``'s) is in the revised article's own group, so the next
    earlier match, ``o``, decides it."""
    index = FingerprintIndex(CONFIG.lsh)
    index.add(IndexEntry("r", 3_000, STORY["x"][1], "r"))
    index.add(IndexEntry("c", 500, STORY["b"][1], "r"))
    index.add(IndexEntry("o", 700, STORY["c"][1], "o"))
    decision = decide(STORY["a"][1], 3_000, "r", index, CONFIG)
    assert (decision.kept, decision.duplicate_of) == (False, "o")


def test_a_replayed_duplicate_keeps_its_place_in_the_tree() -> None:
    """``d`` follows ``c`` to ``a``; replayed, it still points at ``c`` (so a replay of ``a``
    announces it again) and resolves to ``a``."""
    index = FingerprintIndex(CONFIG.lsh)
    feed(index, "c")
    feed(index, "d")
    feed(index, "a")
    replay = feed(index, "d", now_ms=9)
    assert (replay.kept, replay.duplicate_of) == (False, "a")
    assert index.get("d").root == "c"  # type: ignore[union-attr]
    assert index.get("d").seen_at_ms == 9  # type: ignore[union-attr]
    assert [e.id for e in moved_members(index, "a", "a", ("c",))] == ["d"]


def test_a_duplicate_whose_old_root_moved_elsewhere_takes_the_new_root() -> None:
    """A decision naming another group than the stored root's rewrites the root."""
    index = FingerprintIndex(CONFIG.lsh)
    index.add(IndexEntry("a", 1_000, STORY["a"][1], "a"))
    index.add(IndexEntry("x", 1_500, STORY["x"][1], "x"))
    index.add(IndexEntry("d", 4_000, STORY["d"][1], "a", match="near", similarity=0.9))
    [entry] = apply_decision(index, STORY["d"][1], 4_000, "d",
                             Decision(False, "x", "near", 0.9), now_ms=1)
    assert entry.root == "x"


def test_a_superseded_article_stays_searchable_whatever_its_flag() -> None:
    index = FingerprintIndex(CONFIG.lsh)
    index.add(IndexEntry("c", 3_000, STORY["c"][1], "c", searchable=False))
    event_time_ms, fingerprint = STORY["a"]
    changed = apply_decision(index, fingerprint, event_time_ms, "a",
                             Decision(kept=True, supersedes=("c",)), now_ms=5)
    assert [(e.id, e.root, e.searchable, e.seen_at_ms) for e in changed] == [
        ("a", "a", True, 5), ("c", "a", True, 5)]
    assert [e.id for e in index.candidates(STORY["c"][1])] == ["a", "c"]


def tree(*entries: tuple[str, str, str | None, int]) -> FingerprintIndex:
    """Entries (id, root, superseded_by, revision) at increasing event times."""
    index = FingerprintIndex(CONFIG.lsh)
    for t, (article_id, root, superseded_by, revision) in enumerate(entries):
        index.add(IndexEntry(article_id, 1_000 + t, STORY["a"][1], root,
                             superseded_by=superseded_by, revision=revision))
    return index


def test_group_members_descend_into_once_kept_articles_only() -> None:
    index = tree(
        ("r", "r", None, 1),
        ("k", "r", "r", 1),  # superseded by r: its duplicates follow it
        ("m1", "k", None, 1),
        ("v", "r", None, 2),  # a kept article's revision that became a duplicate
        ("m2", "v", None, 1),
        ("p", "r", None, 1),  # decided as a duplicate: never a root, so never descended into
        ("q", "p", None, 1),
        ("k2", "k", "k", 1),  # superseded twice down the chain
        ("m3", "k2", None, 1),
        ("v3", "r", None, 3),
        ("m4", "v3", None, 1),
    )
    assert [e.id for e in group_members(index, "r")] == [
        "k", "m1", "v", "m2", "p", "k2", "m3", "v3", "m4"]
    assert [e.id for e in group_members(index, "k")] == ["m1", "k2", "m3"]


def test_group_members_stop_on_a_cycle_and_keep_its_other_members() -> None:
    index = tree(("k1", "k2", "x", 1), ("k2", "k1", "x", 1), ("m", "k2", None, 1))
    assert [e.id for e in group_members(index, "k1")] == ["k2", "m"]


def test_a_duplicate_that_was_never_kept_moved_nobody() -> None:
    index = tree(("r", "r", None, 1), ("d", "r", None, 1), ("m", "d", None, 1))
    assert moved_members(index, "r", "d", ()) == []
    revised = tree(("r", "r", None, 1), ("d", "r", None, 2), ("m", "d", None, 1))
    assert [e.id for e in moved_members(revised, "r", "d", ())] == ["m"]
