"""Anchor matching of whole pages: which links survived extraction, in linear time."""

from __future__ import annotations

from streams.core.text.htmltext import anchors_in_text


def test_anchors_are_kept_when_their_words_run_in_the_text() -> None:
    anchors = [("https://a", "the flood report"), ("https://b", "Related stories"),
               ("https://c", "U.S. agency"), ("https://d", "the flood report")]
    text = "Read the flood report (PDF). The U.S. agency said so."
    assert anchors_in_text(anchors, text) == ["https://a", "https://c", "https://d"]


def test_anchors_match_whole_words_not_substrings() -> None:
    assert anchors_in_text([("https://a", "port"), ("https://b", "report")], "A report.") == [
        "https://b"
    ]


def test_unspaced_scripts_match_character_by_character() -> None:
    assert anchors_in_text([("https://a", "北京新闻")], "今天北京新闻报道了洪水。") == ["https://a"]


def test_short_and_empty_anchor_texts_are_never_kept() -> None:
    assert anchors_in_text([("https://a", "ok"), ("https://b", "...")], "ok ... ok") == []


def test_work_is_capped_and_the_rest_count_as_absent() -> None:
    """Anchors made of common words that never run in order: each is tried at every
    occurrence of its rarest word until the cap (4 comparisons a word of text) is spent."""
    text = "a b " * 1000
    anchors = [(f"https://{i}", "b a a" + " b" * i) for i in range(4)]  # 3,000+ each
    anchors += [("https://last", "a b a b a")]
    assert anchors_in_text(anchors, text) == []
    assert anchors_in_text([("https://first", "a b a b a")], text) == ["https://first"]
