"""Which of our kept articles another worker could not have known: exact answers of the
race window (streams.core.dedup.race_window)."""

from __future__ import annotations

import dataclasses
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.dedup import race_window
from streams.core.dedup.config import LSHConfig
from streams.core.dedup.model import Fingerprint
from streams.core.dedup.race_window import MAX_CHECKED, NEVER_LOGGED_LIMIT, RaceWindow
from tests.core.dedup.helpers import document, edited, fp

ORIGINAL = fp(document(1))
NEAR = fp(edited(document(1), 0.05, seed=2))  # shares bands with ORIGINAL
OTHER = fp(document(3))  # shares none
THIRD = fp(document(5))  # shares no band with any of them
HASH_ONLY = dataclasses.replace(OTHER, content_hash=ORIGINAL.content_hash)  # no band with it
LSH = LSHConfig()


def shares_a_band(a: Fingerprint, b: Fingerprint) -> bool:
    used = LSH.bands * LSH.rows
    bands_a = np.asarray(a.signature[:used]).reshape(LSH.bands, LSH.rows)
    bands_b = np.asarray(b.signature[:used]).reshape(LSH.bands, LSH.rows)
    return bool((bands_a == bands_b).all(axis=1).any())


def test_the_fixtures_share_bands_as_named() -> None:
    assert shares_a_band(ORIGINAL, NEAR)
    assert not shares_a_band(ORIGINAL, OTHER)
    assert not any(shares_a_band(THIRD, f) for f in (ORIGINAL, NEAR, OTHER))
    assert not shares_a_band(HASH_ONLY, ORIGINAL)


def window_with(*kept: tuple[str, int, Fingerprint], limit: int = 16) -> RaceWindow:
    window = RaceWindow(LSH, limit=limit)
    for article_id, event_time_ms, fingerprint in kept:
        window.kept(article_id, event_time_ms, fingerprint)
    return window


def test_without_the_deciding_workers_positions_a_race_is_always_possible() -> None:
    assert window_with().may_race(OTHER, (5, "x"), None)
    assert not window_with().may_race(OTHER, (5, "x"), {})


def test_an_unlogged_later_kept_article_sharing_a_band_may_race() -> None:
    window = window_with(("mine", 10, NEAR))
    assert window.may_race(ORIGINAL, (5, "theirs"), {0: 100})
    assert not window.may_race(ORIGINAL, (20, "theirs"), {0: 100})  # ours is earlier
    assert not window.may_race(OTHER, (5, "theirs"), {0: 100})  # no band in common


def test_at_equal_event_times_the_ids_order_them() -> None:
    window = window_with(("m", 10, NEAR))
    assert window.may_race(ORIGINAL, (10, "a"), {})  # ("a") < ("m"): ours is later
    assert not window.may_race(ORIGINAL, (10, "z"), {})
    assert not window.may_race(ORIGINAL, (10, "m"), {})  # the same key is not later


def test_the_same_content_hash_may_race_without_a_band_in_common() -> None:
    same_hash = dataclasses.replace(OTHER, content_hash=ORIGINAL.content_hash)
    assert window_with(("mine", 10, same_hash)).may_race(ORIGINAL, (5, "theirs"), {})


def test_a_logged_article_the_other_worker_had_applied_cannot_race() -> None:
    window = window_with(("mine", 10, NEAR))
    window.logged("mine", 2, 40)
    assert not window.may_race(ORIGINAL, (5, "theirs"), {2: 41})
    assert window.may_race(ORIGINAL, (5, "theirs"), {2: 40})  # offset 40 not applied
    assert window.may_race(ORIGINAL, (5, "theirs"), {0: 1000})  # partition 2 not read


def test_only_the_unapplied_articles_are_compared() -> None:
    window = window_with(("seen", 10, NEAR), ("unseen", 11, OTHER))
    window.logged("seen", 0, 3)
    window.logged("unseen", 0, 4)
    assert not window.may_race(ORIGINAL, (5, "theirs"), {0: 4})
    assert window.may_race(ORIGINAL, (5, "theirs"), {0: 3})


def test_acknowledgements_of_unknown_or_already_logged_ids_change_nothing() -> None:
    window = window_with(("mine", 10, NEAR))
    window.logged("mine", 0, 3)
    window.logged("mine", 0, 9)  # a later record of the same id: the first one counts
    window.logged("stranger", 0, 1)
    assert not window.may_race(ORIGINAL, (5, "theirs"), {0: 4})


def test_an_article_that_leaves_the_window_raises_its_partitions_floor() -> None:
    window = window_with(("first", 10, OTHER), ("second", 11, OTHER), limit=2)
    window.logged("first", 1, 7)
    window.logged("second", 1, 8)
    window.kept("third", 12, OTHER)  # "first" leaves: offsets of partition 1 below 8 unknown
    window.logged("third", 1, 9)
    assert len(window) == 2
    assert window.may_race(ORIGINAL, (5, "theirs"), {1: 7})  # may not have applied "first"
    assert not window.may_race(ORIGINAL, (5, "theirs"), {1: 10})
    assert not window.blind


def test_an_unlogged_article_leaving_the_window_stays_in_every_check_until_logged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = window_with(("slow", 10, NEAR), limit=1)
    window.kept("next", 11, OTHER)  # "slow" leaves the window before its acknowledgement
    window.logged("next", 0, 0)
    assert window.may_race(ORIGINAL, (5, "theirs"), {0: 100})  # "slow" is still checked
    assert window.unapplied({0: 100}) == ["slow"]
    window.logged("slow", 0, 7)  # acknowledged at last: its offset becomes a floor
    assert window.unapplied({0: 100}) == []
    assert window.unapplied({0: 7}) is None
    assert not window.blind
    monkeypatch.setattr(race_window, "NEVER_LOGGED_LIMIT", 1)
    window.kept("refused", 12, OTHER)  # "next" leaves, logged
    window.kept("refused-too", 13, OTHER)  # "refused" leaves, never logged: 1 is the limit
    window.kept("third", 14, OTHER)  # "refused-too" leaves unlogged: past the limit
    assert window.blind
    assert window.may_race(OTHER, (50, "theirs"), {0: 100})


def test_an_older_records_acknowledgement_is_not_taken_for_the_newer_ones() -> None:
    """Kept twice (a revision) before either record is acknowledged: the article is logged
    at the newer record's offset once both answers are in, whatever their order."""
    for first, second in ((3, 6), (6, 3)):
        window = window_with(("mine", 10, OTHER))
        window.kept("mine", 10, NEAR)
        window.logged("mine", 0, first)
        assert window.unapplied({0: 4}) == ["mine"]  # one record still awaited
        window.logged("mine", 0, second)
        assert window.unapplied({0: 6}) == ["mine"]
        assert window.unapplied({0: 7}) == []


def test_an_article_kept_again_is_tracked_once_with_its_new_record() -> None:
    window = window_with(("mine", 10, OTHER))
    window.logged("mine", 0, 3)
    window.kept("mine", 10, NEAR)  # a new revision, kept again: not logged yet
    assert len(window) == 1
    assert window.may_race(ORIGINAL, (5, "theirs"), {0: 4})
    window.logged("mine", 0, 6)
    assert not window.may_race(ORIGINAL, (5, "theirs"), {0: 7})
    assert window.may_race(ORIGINAL, (5, "theirs"), {0: 6})


def test_too_many_unapplied_articles_leave_the_check_to_the_index() -> None:
    window = RaceWindow(LSH, limit=MAX_CHECKED + 10)
    for i in range(MAX_CHECKED + 1):
        window.kept(f"m{i}", 10, OTHER)
        window.logged(f"m{i}", 0, i)
    assert window.may_race(ORIGINAL, (5, "theirs"), {0: 0})
    assert not window.may_race(ORIGINAL, (5, "theirs"), {0: 1})  # MAX_CHECKED unapplied


def test_the_races_the_other_worker_lost_are_our_earlier_unapplied_articles() -> None:
    """may_have_lost is may_race the other way round: our earlier kept articles sharing a
    band or the hash that the other worker had not applied, by order key."""
    window = window_with(("mine", 10, NEAR), ("also", 8, ORIGINAL), ("other", 9, OTHER))
    assert window.may_have_lost(ORIGINAL, (20, "theirs"), {0: 100}) == ["also", "mine"]
    assert window.may_have_lost(ORIGINAL, (9, "theirs"), {0: 100}) == ["also"]
    assert window.may_have_lost(ORIGINAL, (5, "theirs"), {0: 100}) == []  # ours are later
    window.logged("mine", 2, 40)
    window.logged("also", 2, 41)
    assert window.may_have_lost(ORIGINAL, (20, "theirs"), {2: 41}) == ["also"]
    assert window.may_have_lost(ORIGINAL, (20, "theirs"), {2: 42}) == []  # both applied
    assert window.may_have_lost(ORIGINAL, (20, "theirs"), None) == ["also", "mine"]


def test_our_earlier_duplicates_sharing_a_band_may_have_lost_whatever_the_positions() -> None:
    """Near copies are not transitive: a duplicate of ours may be the earlier match of
    another worker's kept copy. Where its record landed is not tracked, so positions do not
    rule it out."""
    window = window_with()
    window.duplicate("dup", 8, NEAR)
    window.duplicate("later", 30, NEAR)
    window.duplicate("other", 8, OTHER)
    assert window.may_have_lost(ORIGINAL, (20, "theirs"), {0: 100}) == ["dup"]
    assert window.may_have_lost(ORIGINAL, (20, "theirs"), None) == ["dup"]
    window.kept("mine", 10, NEAR)
    assert window.may_have_lost(ORIGINAL, (20, "theirs"), {0: 100}) == ["dup", "mine"]


def test_only_the_last_duplicates_are_tracked() -> None:
    window = window_with(limit=2)
    assert not window.may_race(OTHER, (5, "x"), {})  # a check files what is tracked
    for i in range(3):
        window.duplicate(f"d{i}", i, NEAR)
    assert window.may_have_lost(ORIGINAL, (20, "theirs"), None) == ["d1", "d2"]
    window.duplicate("d1", 1, OTHER)  # decided again, other content: filed anew
    assert window.may_have_lost(ORIGINAL, (20, "theirs"), None) == ["d2"]


def test_a_window_needs_room() -> None:
    with pytest.raises(ValueError, match=r"^limit must be positive$"):
        RaceWindow(LSH, limit=0)


def test_the_unapplied_articles_are_listed_or_unknown() -> None:
    window = window_with(("seen", 10, NEAR), ("unseen", 11, OTHER), ("unlogged", 12, OTHER),
                         limit=3)
    window.logged("seen", 0, 3)
    window.logged("unseen", 1, 4)
    assert sorted(window.unapplied({0: 4, 1: 4}) or []) == ["unlogged", "unseen"]
    assert sorted(window.unapplied({0: 4, 1: 5}) or []) == ["unlogged"]
    assert window.unapplied(None) is None
    window.kept("fourth", 13, OTHER)  # "seen" leaves: partition 0 below 4 is not tracked
    assert window.unapplied({0: 3, 1: 5}) is None
    assert sorted(window.unapplied({0: 4, 1: 5}) or []) == ["fourth", "unlogged"]


def test_held_articles_are_checked_whatever_the_positions_say() -> None:
    window = window_with(("held", 10, NEAR))
    window.logged("held", 0, 3)
    assert not window.may_race(ORIGINAL, (5, "theirs"), {0: 4})
    assert window.may_race(ORIGINAL, (5, "theirs"), {0: 4}, held={"held", "gone"})
    assert not window.may_race(OTHER, (5, "theirs"), {0: 4}, held={"held"})


def test_story_merge_records_are_unapplied_until_acknowledged_and_passed() -> None:
    window = RaceWindow(LSH)
    assert not window.updates_unapplied({})
    assert window.updates_unapplied(None)
    window.updates_sent(2)
    window.update_logged(1, 5)
    assert window.updates_unapplied({1: 100})  # one still awaited
    window.update_logged(1, 3)
    assert window.updates_unapplied({1: 5})  # offset 5 not applied
    assert not window.updates_unapplied({1: 6})
    assert window.updates_unapplied({0: 6})  # partition 1 not read


def test_an_article_leaving_a_band_shared_by_three_leaves_the_other_two_in_it() -> None:
    window = window_with(("a", 1, NEAR), ("b", 2, NEAR), ("c", 3, NEAR))
    assert window.may_have_lost(ORIGINAL, (20, "theirs"), None) == ["a", "b", "c"]  # filed
    window.kept("a", 1, THIRD)  # decided again, other content: out of NEAR's bands
    assert window.may_have_lost(ORIGINAL, (20, "theirs"), None) == ["b", "c"]
    window.kept("b", 2, THIRD)
    assert window.may_have_lost(ORIGINAL, (20, "theirs"), None) == ["c"]


def test_a_worker_that_never_checks_computes_no_bands_of_its_duplicates() -> None:
    """Duplicates are filed by band at the first check: a worker alone never checks."""
    window = window_with()
    with mock.patch.object(race_window, "band_keys", wraps=race_window.band_keys) as keys:
        window.duplicate("d1", 1, NEAR)
        window.duplicate("d2", 2, OTHER)
        assert keys.call_count == 0
        assert window.may_have_lost(ORIGINAL, (20, "theirs"), None) == ["d1"]
        assert keys.call_count == 3  # the probe's and the two duplicates'
        window.duplicate("d3", 3, NEAR)  # after the first check: filed at once
        assert keys.call_count == 4


def test_the_window_goes_blind_only_past_never_logged_limit_unlogged_articles() -> None:
    window = RaceWindow(LSH, limit=1)
    assert window.blind is False
    for i in range(NEVER_LOGGED_LIMIT + 1):  # all but the last leave the window unlogged
        window.kept(f"m{i}", i, OTHER)
    assert window.blind is False
    window.kept("one-more", NEVER_LOGGED_LIMIT + 1, OTHER)
    assert window.blind is True


def test_an_article_that_left_the_window_unlogged_races_only_later_keys() -> None:
    window = window_with(("mine", 10, ORIGINAL), limit=1)
    window.kept("next", 11, THIRD)  # "mine" leaves before its acknowledgement
    assert window.may_race(HASH_ONLY, (9, "theirs"), {})
    assert not window.may_race(HASH_ONLY, (10, "mine"), {})  # its own key is not later
    assert not window.may_race(HASH_ONLY, (11, "theirs"), {})


def test_a_logged_article_sharing_the_hash_races_from_its_partitions_next_offset() -> None:
    """Checked among the few articles sharing the hash: the record at the deciding worker's
    next offset of its own partition was not applied, one below it was."""
    window = window_with(("mine", 10, ORIGINAL), ("pending", 11, THIRD))
    window.logged("mine", 2, 40)
    assert window.may_race(HASH_ONLY, (5, "theirs"), {2: 40})
    assert not window.may_race(HASH_ONLY, (5, "theirs"), {2: 41})
    window = window_with(("first", 10, ORIGINAL), ("pending", 11, THIRD))
    window.logged("first", 2, 0)
    assert window.may_race(HASH_ONLY, (5, "theirs"), {0: 5})  # partition 2 not read


def test_a_floor_is_not_lowered_by_an_older_record_acknowledged_late() -> None:
    window = window_with(("slow", 10, OTHER), limit=1)
    window.kept("quick", 11, OTHER)  # "slow" leaves unlogged
    window.logged("quick", 0, 8)
    window.kept("third", 12, OTHER)  # "quick" leaves: partition 0 below 9 is not tracked
    window.logged("slow", 0, 7)  # acknowledged at last, below "quick"'s record
    assert window.unapplied({0: 8}) is None
    assert window.unapplied({0: 9}) == ["third"]


def test_raising_a_floor_keeps_the_record_at_the_floor_whatever_its_id() -> None:
    """Acknowledged out of order: "25" is still in the window, logged below "first" that
    leaves it; "17" (an id sorting before letters) is at the new floor's offset."""
    window = window_with(("first", 10, OTHER), ("25", 11, OTHER), ("17", 12, OTHER), limit=3)
    window.logged("25", 0, 5)
    window.logged("first", 0, 7)
    window.logged("17", 0, 8)
    window.kept("fourth", 13, OTHER)  # "first" leaves: partition 0 below 8 is not tracked
    assert window.unapplied({0: 7}) is None
    assert window.unapplied({0: 8}) == ["fourth", "17"]


def test_a_floor_on_a_partition_the_other_worker_has_not_read_makes_the_list_unknown() -> None:
    window = window_with(("first", 10, OTHER), limit=1)
    window.logged("first", 1, 0)
    window.kept("second", 11, OTHER)  # "first" leaves: offset 0 of partition 1 untracked
    assert window.unapplied({0: 100}) is None  # partition 1 not read: "first" not applied
    assert window.unapplied({1: 1}) == ["second"]


def test_every_record_from_the_first_unapplied_offset_counts_toward_max_checked() -> None:
    ids = [f"{i:04d}" for i in range(MAX_CHECKED + 1)]  # ids sorting before letters
    window = RaceWindow(LSH, limit=MAX_CHECKED + 10)
    for offset, article_id in enumerate(ids):
        window.kept(article_id, 10, OTHER)
        window.logged(article_id, 0, offset)
    assert window.unapplied({}) is None  # partition 0 not read: MAX_CHECKED + 1 unapplied
    assert window.unapplied({0: 0}) is None
    assert window.unapplied({0: 1}) == ids[1:]


def test_the_unapplied_list_starts_at_each_partitions_next_offset() -> None:
    window = window_with(("17", 10, OTHER), ("article", 11, OTHER))
    window.logged("17", 0, 0)
    window.logged("article", 1, 5)
    assert window.unapplied({}) == ["17", "article"]  # neither partition read
    assert window.unapplied({1: 5}) == ["17", "article"]
    assert window.unapplied({0: 1, 1: 6}) == []


def test_an_article_kept_again_after_its_record_was_logged_is_listed_once() -> None:
    window = window_with(("mine", 10, OTHER))
    window.logged("mine", 0, 3)
    window.kept("mine", 10, NEAR)  # awaiting its new record: no longer at offset 3
    assert window.unapplied({0: 0}) == ["mine"]
    window.logged("mine", 0, 6)
    assert window.unapplied({0: 0}) == ["mine"]
    assert window.unapplied({0: 4}) == ["mine"]
    assert window.unapplied({0: 7}) == []


def test_an_article_kept_three_times_is_logged_at_the_third_acknowledgement() -> None:
    window = window_with(("mine", 10, OTHER))
    window.kept("mine", 10, NEAR)
    window.kept("mine", 10, ORIGINAL)
    window.logged("mine", 0, 3)
    window.logged("mine", 0, 4)
    assert window.unapplied({0: 100}) == ["mine"]  # one record still awaited
    window.logged("mine", 0, 5)
    assert window.unapplied({0: 100}) == []
    assert window.unapplied({0: 5}) == ["mine"]


def test_a_duplicate_decided_again_with_other_content_is_filed_only_under_the_new() -> None:
    window = window_with()
    window.duplicate("dup", 8, NEAR)
    assert window.may_have_lost(ORIGINAL, (20, "theirs"), None) == ["dup"]  # filed
    window.duplicate("dup", 8, OTHER)
    assert window.may_have_lost(ORIGINAL, (20, "theirs"), None) == []
    assert window.may_have_lost(OTHER, (20, "theirs"), None) == ["dup"]


def test_a_duplicate_is_found_by_each_of_its_exact_hashes() -> None:
    window = window_with()
    window.duplicate("same", 8, HASH_ONLY)  # ORIGINAL's content hash, no band in common
    window.duplicate("full", 9, THIRD, (THIRD.content_hash, ORIGINAL.content_hash))
    assert window.may_have_lost(ORIGINAL, (20, "theirs"), None) == ["same", "full"]


def test_a_duplicate_of_ours_is_not_an_earlier_match_of_the_same_article() -> None:
    window = window_with()
    window.duplicate("dup", 8, NEAR)
    assert window.may_have_lost(ORIGINAL, (8, "dup"), None) == []
    assert window.may_have_lost(ORIGINAL, (8, "e"), None) == ["dup"]


def test_our_earlier_article_logged_at_offset_zero_of_an_unread_partition_may_have_lost() -> None:
    window = window_with(("mine", 10, NEAR))
    window.logged("mine", 2, 0)
    assert window.may_have_lost(ORIGINAL, (20, "theirs"), {0: 5}) == ["mine"]
    assert window.may_have_lost(ORIGINAL, (20, "theirs"), {2: 1}) == []


def test_story_merge_records_sent_in_batches_are_applied_from_offset_zero() -> None:
    window = RaceWindow(LSH)
    window.updates_sent(1)
    window.update_logged(1, 0)
    assert window.updates_unapplied({})  # partition 1 not read: offset 0 not applied
    assert not window.updates_unapplied({1: 1})
    window.updates_sent(2)
    window.updates_sent(1)
    window.update_logged(1, 1)
    window.update_logged(1, 2)
    assert window.updates_unapplied({1: 100})  # one of the three still awaited
    window.update_logged(1, 3)
    assert not window.updates_unapplied({1: 4})


# -- the band lookup answers as the pass over every unapplied article did -------------------


def linear_may_race(window: RaceWindow, fingerprint: Fingerprint, order_key: tuple[int, str],
                    applied: dict[int, int] | None, held: frozenset[str], *,
                    hashes: tuple[str, ...] = ()) -> bool:
    """The check as it was before the window kept its articles by band (2026-12-03): every
    unapplied article, then the later ones, then a band or the hash in common."""
    w = window
    if applied is None or w._blind:
        return True
    if any(applied.get(p, 0) < floor for p, floor in w._floor.items()):
        return True
    if len(w._awaiting) > race_window.MAX_CHECKED:
        return True
    unapplied = [w._kept.get(i) or w._never_logged[i] for i in w._awaiting]
    for partition, records in w._by_partition.items():
        start = applied.get(partition, 0)
        for offset, article_id in reversed(records):
            if offset < start:
                break
            unapplied.append(w._kept[article_id])
        if len(unapplied) > race_window.MAX_CHECKED:
            return True
    unapplied += [k for i in held if (k := w._kept.get(i)) is not None]
    later = [k for k in unapplied if k.order_key > order_key]
    bands = w._bands_of(fingerprint)
    return any(not set(k.hashes).isdisjoint(hashes or (fingerprint.content_hash,))
               or not k.bands.isdisjoint(bands) for k in later)


def linear_may_have_lost(window: RaceWindow, fingerprint: Fingerprint,
                         order_key: tuple[int, str], applied: dict[int, int] | None, *,
                         hashes: tuple[str, ...] = ()) -> list[str]:
    """Every tracked article, without the band tables: the earlier ones sharing a band or
    the hash whose records the other worker had not applied (any, when that is not
    certain)."""
    w = window
    certain = applied is not None and w._unapplied_count(applied) is not None
    bands = w._bands_of(fingerprint)
    found = []
    for article_id, kept in (*w._kept.items(), *w._never_logged.items()):
        shares = (not set(kept.hashes).isdisjoint(hashes or (fingerprint.content_hash,))
                  or not kept.bands.isdisjoint(bands))
        where = w._where.get(article_id)
        unapplied = (not certain or where is None or article_id in w._awaiting
                     or where[1] >= applied.get(where[0], 0))  # type: ignore[union-attr]
        if kept.order_key < order_key and shares and unapplied:
            found.append(kept.order_key)
    return [article_id for _, article_id in sorted(found)]


FINGERPRINTS = [ORIGINAL, NEAR, OTHER, fp(edited(document(3), 0.05, seed=4)), fp(document(5))]
_IDS = st.sampled_from([f"a{i}" for i in range(12)])
_OPERATIONS = st.lists(st.one_of(
    # kept: an article, its time and fingerprint, and its hash with learned boilerplate
    # (another fingerprint's; -1: none)
    st.tuples(st.just("kept"), _IDS, st.integers(0, 30), st.integers(0, len(FINGERPRINTS) - 1),
              st.integers(-1, len(FINGERPRINTS) - 1)),
    st.tuples(st.just("logged"), _IDS, st.integers(0, 2), st.integers(0, 40), st.just(-1)),
), max_size=60)


@settings(max_examples=300, deadline=None)
@given(_OPERATIONS, st.integers(1, 8), st.sampled_from([2, 5, MAX_CHECKED]), st.data())
def test_the_band_lookup_answers_as_the_pass_over_every_unapplied_article(
    operations: list[tuple[str, str, int, int, int]], limit: int, max_checked: int,
    data: st.DataObject,
) -> None:
    with mock.patch.object(race_window, "MAX_CHECKED", max_checked):
        _replay_and_compare(operations, limit, data)


def _with_full(fingerprint: Fingerprint, other: int) -> tuple[str, ...]:
    """Exact hashes of an article fingerprinted without learned boilerplate whose hash over
    every paragraph is fingerprint ``other``'s (-1: none left out)."""
    if other < 0 or FINGERPRINTS[other].content_hash == fingerprint.content_hash:
        return ()
    return (fingerprint.content_hash, FINGERPRINTS[other].content_hash)


def _replay_and_compare(operations: list[tuple[str, str, int, int, int]], limit: int,
                        data: st.DataObject) -> None:
    window = RaceWindow(LSH, limit=limit)
    for kind, article_id, a, b, full in operations:
        if kind == "kept":
            window.kept(article_id, a, FINGERPRINTS[b], _with_full(FINGERPRINTS[b], full))
        else:
            window.logged(article_id, a, b)
        for _ in range(3):
            probe = FINGERPRINTS[data.draw(st.integers(0, len(FINGERPRINTS) - 1))]
            hashes = _with_full(probe, data.draw(st.integers(-1, len(FINGERPRINTS) - 1)))
            order_key = (data.draw(st.integers(0, 30)), data.draw(_IDS))
            applied = data.draw(st.none() | st.dictionaries(st.integers(0, 2),
                                                            st.integers(0, 42), max_size=3))
            held = frozenset(data.draw(st.lists(_IDS, max_size=2)))
            expected = linear_may_race(window, probe, order_key, applied, held, hashes=hashes)
            assert window.may_race(probe, order_key, applied, held=held,
                                   hashes=hashes) == expected
            assert window.may_have_lost(probe, order_key, applied, hashes=hashes) == \
                linear_may_have_lost(window, probe, order_key, applied, hashes=hashes)
            if applied is None or window._unapplied_count(applied) is None:
                continue
            # Both ways of answering, whichever of their lists is shorter here.
            bands = window._bands_of(probe)
            tables = [(window._by_hash, h) for h in hashes or (probe.content_hash,)] + [
                (window._by_band, key) for key in bands]
            sharing = set().union(*(race_window._ids(table[key]) for table, key in tables
                                    if key in table))
            assert window._race_among(sharing, order_key, applied, held) == expected
            assert window._race_in_pass(hashes or (probe.content_hash,), bands, order_key,
                                        applied, held) == expected
