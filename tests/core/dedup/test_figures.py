"""Figures: a substituted figure separates two reports; added or dropped ones do not."""

from __future__ import annotations

from collections import Counter

import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.dedup.figures import (
    _numbered_tokens,
    decode_figures,
    encode_figures,
    figure_conflicts,
    figures_agree,
)
from streams.core.text.normalize import fingerprint_text


def figures(text: str) -> bytes:
    return encode_figures(fingerprint_text([text]).split())


CLOSE = "The index closed up {} at {} points, and sterling rose {} to {} dollars."


def test_runs_are_placed_by_the_words_around_them() -> None:
    runs = decode_figures(figures("raise the range to 4-1/4 to 4-1/2 percent"))
    assert sorted(digits for _, digits in runs) == ["412", "414"]
    assert len({context for context, _ in runs}) == 2


def test_a_report_with_other_figures_conflicts_everywhere() -> None:
    monday = figures(CLOSE.format("0.5%", "7,512.34", "0.2%", "1.2641"))
    tuesday = figures(CLOSE.format("0.3%", "7,498.10", "0.4%", "1.2702"))
    assert figure_conflicts(monday, tuesday) == (0, 4)
    assert not figures_agree(monday, tuesday, 0.2)


def test_the_same_report_resent_agrees() -> None:
    monday = figures(CLOSE.format("0.5%", "7,512.34", "0.2%", "1.2641"))
    resent = figures(CLOSE.format("0.5 %", "7512.34", "0,2%", "1.2641"))
    assert figure_conflicts(monday, resent) == (4, 0)
    assert figures_agree(monday, resent, 0.2)


def test_figures_added_or_dropped_are_no_conflict() -> None:
    body = "The jury deliberated for 7 hours and the sentence is 25 years."
    with_dateline = figures("Posted: Sep 27, 2013 5:50 PM " + body)
    assert figure_conflicts(figures(body), with_dateline) == (2, 0)


def test_a_figure_written_more_precisely_is_the_same_figure() -> None:
    # "4 p.m." and "4:00 p.m.", "2.6 million" and "R26 million" (measured on ECB+ copies)
    assert figure_conflicts(figures("arrived around 4 p.m. today"),
                            figures("arrived around 4:00 p.m. today")) == (1, 0)
    assert figure_conflicts(figures("worth 2.6 million"), figures("worth 26 million")) == (1, 0)


def test_one_conflict_among_many_agreements_is_tolerated() -> None:
    text = " ".join(f"item {i} cost {i * 10} pounds." for i in range(1, 10))
    changed = text.replace("cost 90 pounds", "cost 95 pounds")
    agree, conflict = figure_conflicts(figures(text), figures(changed))
    assert (agree, conflict) == (17, 1)
    assert figures_agree(figures(text), figures(changed), 0.2)
    assert not figures_agree(figures(text), figures(changed), 0.05)


def test_no_figures_or_rule_off_agrees() -> None:
    assert figures_agree(b"", figures("up 5 points"), 0.2)
    assert figures_agree(figures("up 4 points"), figures("up 5 points"), 1.0)


def test_number_tokens_are_found_from_the_digits_of_the_text() -> None:
    text = "a1 b 22 c3d e 4 f 5x5"
    assert _numbered_tokens(text) == [0, 2, 3, 5, 7]
    assert _numbered_tokens("no figures here") == []
    assert _numbered_tokens("7") == [0]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="ab19é٣ ", min_size=1, max_size=6).map(str.strip)
                .filter(bool).map(lambda t: t.replace(" ", "")).filter(bool), max_size=40))
def test_the_text_path_encodes_exactly_what_the_token_path_does(tokens: list[str]) -> None:
    assert encode_figures(tokens, " ".join(tokens)) == encode_figures(tokens)


def _conflicts_by_counters(a: bytes, b: bytes) -> tuple[int, int]:
    """figure_conflicts as it was before its one-run-a-side shortcut (2026-12-06)."""
    from collections import Counter

    from streams.core.dedup.figures import _by_context, _runs
    if a == b:
        return len(_runs(a)), 0
    left_all, right_all = _by_context(a), _by_context(b)
    agree = conflict = 0
    for context in left_all.keys() & right_all.keys():
        left, right = Counter(left_all[context]), Counter(right_all[context])
        agree += sum((left & right).values())
        only_left, only_right = list((left - right).elements()), list((right - left).elements())
        for digits in list(only_left):
            match = next((d for d in only_right if d.startswith(digits) or digits.startswith(d)),
                         None)
            if match is not None:
                only_left.remove(digits)
                only_right.remove(match)
                agree += 1
        conflict += min(len(only_left), len(only_right))
    return agree, conflict


_FIGURE_TEXT = st.lists(st.sampled_from(["rose", "fell", "to", "at", "1", "12", "123", "4.5",
                                         "45", "2024", "x"]), max_size=30).map(" ".join)


@settings(max_examples=400, deadline=None)
@given(_FIGURE_TEXT, _FIGURE_TEXT)
def test_the_one_run_shortcut_counts_what_the_counters_count(left: str, right: str) -> None:
    a, b = figures(left), figures(right)
    assert figure_conflicts(a, b) == _conflicts_by_counters(a, b)


# -- the encoding, byte for byte (every worker reads another's from the log) -------------------
def _context(left: str, right: str) -> int:
    return xxhash.xxh3_64_intdigest(f"{left}\x00{right}".encode()) & 0xFFFFFFFF


def test_a_run_is_its_context_hash_little_endian_its_digit_count_and_digits() -> None:
    tokens = ["4", "rate", "4", "1", "4", "pct", "up", "7"]
    expected = (_context("^", "rate").to_bytes(4, "little") + b"\x014"
                + _context("rate", "pct").to_bytes(4, "little") + b"\x03414"
                + _context("up", "$").to_bytes(4, "little") + b"\x017")
    assert encode_figures(tokens) == expected
    assert encode_figures(tokens, " ".join(tokens)) == expected
    assert decode_figures(expected) == Counter({
        (_context("^", "rate"), "4"): 1, (_context("rate", "pct"), "414"): 1,
        (_context("up", "$"), "7"): 1})


def test_a_figure_repeated_in_one_context_is_counted_each_time() -> None:
    twice = encode_figures(["at", "5", "pm", "at", "5", "pm"])
    assert decode_figures(twice) == Counter({(_context("at", "pm"), "5"): 2})


def test_conflicts_may_reach_their_share_of_the_shared_contexts_exactly() -> None:
    agreed = "a 1 b c 2 d e 3 f"
    a, b = figures(f"{agreed} g 4 h"), figures(f"{agreed} g 5 h")
    assert figure_conflicts(a, b) == (3, 1)
    assert figures_agree(a, b, 0.25)  # 1 of 4 contexts: at the limit
    assert not figures_agree(a, b, 0.24)
