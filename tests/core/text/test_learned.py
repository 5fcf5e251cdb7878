"""Learned boilerplate: footers no rule knows, learned per source."""

from __future__ import annotations

import sys

import pytest

from streams.core.errors import InternalError
from streams.core.text.article import normalize_article
from streams.core.text.learned import (
    NO_SOURCE,
    LearnedBoilerplateConfig,
    ParagraphStats,
    fingerprint_paragraphs,
)
from streams.core.text.normalize import fingerprint_text, paragraph_key

DAY = 86_400_000
FOOTER = (
    "Ellen Marsh reports on coastal communities for the Courier Trust.",
    "Tips and corrections go to the desk at any hour; we read every message.",
)


def _article(lead: str, *body: str) -> tuple[str, ...]:
    text = "\n".join((lead, *body, *FOOTER))
    return normalize_article(text).paragraphs


def _keys(paragraphs: tuple[str, ...]) -> list[int]:
    return [paragraph_key(p) for p in paragraphs]


def _trained(source: str = "courier", at_ms: int = 0) -> ParagraphStats:
    stats = ParagraphStats()
    for i in range(3):
        stats.observe(source, _keys(_article(f"Story number {i} about the harbour.")), at_ms + i)
    return stats


def test_footer_is_not_chrome_for_the_rules() -> None:
    assert normalize_article("\n".join(("Short story.", *FOOTER))).boilerplate_removed == 0


def test_learned_footer_leaves_two_short_articles_fingerprints() -> None:
    stats = _trained()
    fps = []
    for lead in ("The ferry was cancelled again.", "A new bakery opened on Quay Street."):
        paragraphs = _article(lead)
        learned = stats.boilerplate_keys("courier", _keys(paragraphs), now_ms=10)
        fps.append(fingerprint_text(fingerprint_paragraphs(paragraphs, learned)))
    assert fps == ["the ferry was cancelled again", "a new bakery opened on quay street"]


def test_copy_with_learned_footer_matches_original_without_it() -> None:
    stats = _trained()
    original = normalize_article("The ferry was cancelled again.\nPassengers waited.").paragraphs
    copy = _article("The ferry was cancelled again.", "Passengers waited.")
    learned = stats.boilerplate_keys("courier", _keys(copy), now_ms=10)
    assert fingerprint_paragraphs(copy, learned) == list(original)
    assert fingerprint_paragraphs(original, learned) == list(original)


def test_below_threshold_nothing_is_learned() -> None:
    stats = ParagraphStats()
    for i in range(2):
        stats.observe("courier", _keys(_article(f"Story {i}.")), i)
    assert stats.boilerplate_keys("courier", _keys(_article("Story 9.")), 5) == frozenset()


def test_learning_is_per_source() -> None:
    stats = _trained()
    keys = _keys(_article("Another story."))
    assert stats.boilerplate_keys("other", keys, 10) == frozenset()
    assert stats.boilerplate_keys(None, keys, 10) == frozenset()


def test_articles_without_a_source_learn_in_one_fallback_table() -> None:
    stats = ParagraphStats()
    for i in range(3):
        stats.observe(None, _keys(_article(f"Story number {i} about the harbour.")), i)
    keys = _keys(_article("Another story."))
    assert stats.boilerplate_keys(None, keys, 10) == frozenset(_keys(FOOTER))
    assert stats.boilerplate_keys("courier", keys, 10) == frozenset()  # not a source's table
    assert NO_SOURCE not in ("", "courier")


def test_the_fallback_table_has_its_own_larger_cap() -> None:
    config = LearnedBoilerplateConfig(max_keys_per_source=4, max_keys_without_source=8)
    stats = ParagraphStats(config)
    stats.observe(None, range(20), 0)
    stats.observe("a", range(20), 0)
    assert len(stats) == 8 + 4


def test_window_and_expire() -> None:
    stats = _trained(at_ms=0)
    keys = _keys(_article("Another story."))
    assert len(stats.boilerplate_keys("courier", keys, 14 * DAY)) == 2
    assert stats.boilerplate_keys("courier", keys, 15 * DAY) == frozenset()
    stats.expire(15 * DAY)
    assert len(stats) == 0


def test_stamps_from_a_worker_whose_clock_runs_ahead_count_at_once() -> None:
    """Another worker's clock 30 s ahead of ours: the articles it logged count now, not once
    our clock passes their stamps (every worker must know the same boilerplate)."""
    stats = _trained(at_ms=1_000_000 + 30_000)
    keys = _keys(_article("Another story."))
    assert len(stats.boilerplate_keys("courier", keys, 1_000_000)) == 2
    assert len(stats.boilerplate_keys("courier", keys, 1_000_000, min_articles=1)) == 2


def test_everything_boilerplate_keeps_everything() -> None:
    paragraphs = ("a", "b")
    assert fingerprint_paragraphs(paragraphs, frozenset(_keys(paragraphs))) == ["a", "b"]
    assert fingerprint_paragraphs((), frozenset()) == []


def test_memory_caps_evict_least_recent() -> None:
    stats = ParagraphStats(LearnedBoilerplateConfig(max_keys_per_source=4, max_sources=2))
    stats.observe("a", range(10), 0)
    stats.observe("b", [1], 0)
    stats.observe("c", [1], 0)
    assert len(stats) == 2  # source "a" evicted; b and c hold one key each
    stats.observe("c", range(100, 110), 1)
    assert len(stats) == 1 + 4


def test_state_round_trips_through_bytes() -> None:
    stats = _trained()
    restored = ParagraphStats.from_bytes(stats.to_bytes())
    keys = _keys(_article("Another story."))
    assert restored.boilerplate_keys("courier", keys, 10) == stats.boilerplate_keys(
        "courier", keys, 10
    )
    assert restored.to_bytes() == stats.to_bytes()


@pytest.mark.parametrize("data", [b"", b"{}", b'{"version": 9, "sources": []}', b"[1,2]"])
def test_corrupt_state_raises_internal_error(data: bytes) -> None:
    with pytest.raises(InternalError):
        ParagraphStats.from_bytes(data)


def test_tables_are_bounded_in_bytes_by_evicting_least_recent_sources() -> None:
    """Attacker-chosen sources fill the tables: the byte cap evicts, whatever the counts say."""
    config = LearnedBoilerplateConfig(max_bytes=2 * 1024 * 1024)
    stats = ParagraphStats(config)
    for i in range(500):
        stats.observe(f"source-{i}-" + "x" * 200, range(i * 100, i * 100 + 100), 0)
        assert stats.approx_bytes <= config.max_bytes
    assert stats.approx_bytes > 2 * 1024 * 1024 - 25_000
    assert len(stats) < 500 * 100
    assert stats.boilerplate_keys("source-499-" + "x" * 200, [49_950], 0) == frozenset()
    assert len(stats._sources["source-499-" + "x" * 200]) == 100  # the newest stays whole


def test_one_source_alone_is_cut_to_the_byte_cap() -> None:
    config = LearnedBoilerplateConfig(max_keys_per_source=100_000, max_bytes=1024 * 1024)
    stats = ParagraphStats(config)
    stats.observe("only", range(50_000), 0)
    source_bytes = stats.approx_bytes - 210 * len(stats)  # ~210 B a key
    assert len(stats) == (config.max_bytes - source_bytes) // 210


def test_byte_estimate_follows_expiry_and_restores() -> None:
    stats = ParagraphStats(LearnedBoilerplateConfig(window_ms=10))
    stats.observe("a", [1, 2], 0)
    stats.observe("b", [3], 100)
    both = stats.approx_bytes
    stats.expire(105)
    assert (len(stats), stats.approx_bytes < both) == (1, True)
    restored = ParagraphStats.from_bytes(stats.to_bytes(), stats.config)
    assert restored.approx_bytes == stats.approx_bytes
    stats.expire(1_000)
    assert (len(stats), stats.approx_bytes) == (0, 0)


# -- the byte estimate and the caps, to the key ---------------------------------------------
KEY, SOURCE = 210, 330  # the estimate's bytes a key and a source (its name besides)


def test_the_byte_estimate_counts_each_key_and_source_once() -> None:
    stats = ParagraphStats()
    stats.observe("s", [1, 2, 3], 0)
    stats.observe("s", [3, 4], 1)
    assert stats.approx_bytes == 4 * KEY + SOURCE + sys.getsizeof("s")
    stats.observe("t", [1], 1)
    assert stats.approx_bytes == 5 * KEY + 2 * SOURCE + sys.getsizeof("s") + sys.getsizeof("t")


def test_a_full_source_forgets_its_least_recently_seen_key() -> None:
    stats = ParagraphStats(LearnedBoilerplateConfig(max_keys_per_source=2))
    stats.observe("s", [1], 0)
    stats.observe("s", [2], 1)
    stats.observe("s", [1], 2)  # seen again: the most recent
    stats.observe("s", [3], 3)
    assert set(stats._sources["s"]) == {1, 3}


def test_a_source_alone_keeps_at_least_one_key_and_what_the_bytes_allow() -> None:
    name_bytes = SOURCE + sys.getsizeof("s")
    for room_keys, kept in ((0, 1), (1, 1), (2, 2), (3, 3)):
        config = LearnedBoilerplateConfig(max_bytes=name_bytes + room_keys * KEY)
        stats = ParagraphStats(config)
        stats.observe("s", range(10), 0)
        assert list(stats._sources["s"]) == list(range(10 - kept, 10)), room_keys


def test_over_the_byte_cap_the_least_recent_other_sources_go_to_the_byte() -> None:
    names = {name: SOURCE + sys.getsizeof(name) for name in "abc"}
    exact = names["a"] + names["b"] + 2 * KEY  # a and b with a key each: exactly the cap
    stats = ParagraphStats(LearnedBoilerplateConfig(max_bytes=exact))
    stats.observe("a", [1], 0)
    stats.observe("b", [1], 0)
    assert list(stats._sources) == ["a", "b"]  # at the cap, nothing goes
    stats.observe("a", [2], 1)  # a is the most recent now, and one key over
    assert list(stats._sources) == ["a"]
    three = ParagraphStats(LearnedBoilerplateConfig(max_bytes=exact + names["c"] + KEY - 1))
    for name in "abc":
        three.observe(name, [1], 0)
    assert list(three._sources) == ["b", "c"]  # the least recent went, not the second


def test_a_stamp_exactly_a_window_old_is_kept_by_expiry() -> None:
    stats = ParagraphStats(LearnedBoilerplateConfig(window_ms=10))
    stats.observe("a", [1], 0)
    stats.expire(10)
    assert len(stats) == 1
    stats.expire(11)
    assert len(stats) == 0


@pytest.mark.parametrize(("data", "says"), [
    (b'{"version": 9, "sources": []}', "unknown paragraph-stats version 9"),
    (b"{}", "corrupt paragraph-stats state: 'version'"),
])
def test_a_state_that_is_not_ours_is_named(data: bytes, says: str) -> None:
    with pytest.raises(InternalError) as caught:
        ParagraphStats.from_bytes(data)
    assert caught.value.detail == says


def test_paragraphs_and_their_keys_must_pair_up() -> None:
    with pytest.raises(ValueError, match="zip"):
        fingerprint_paragraphs(("a", "b"), frozenset(), keys=[1])
