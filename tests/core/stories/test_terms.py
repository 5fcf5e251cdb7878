"""Story terms of one article: words, capitalized names, figures; multilingual."""

from __future__ import annotations

import math
import textwrap
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.stories.config import StoryConfig
from streams.core.stories.terms import (
    ENTITY,
    NUMBER,
    WORD,
    StoryTerms,
    _entities,
    _lede,
    _numbers,
    _Sublinear,
    _with_bigrams,
    _words,
    kind_of,
    stopwords,
    story_terms,
    term_key,
    without_dateline,
)
from streams.core.text.normalize import fingerprint_text

CONFIG = StoryConfig()


def terms_of(text: str, title: str | None = None, language: str = "en") -> StoryTerms:
    paragraphs = tuple(p for p in text.split("\n\n") if p)
    forms = tuple(fingerprint_text((p,)) for p in paragraphs)
    return story_terms(title, paragraphs, forms, language, CONFIG)


def weights(terms: StoryTerms) -> dict[int, float]:
    return dict(zip(terms.keys, terms.counts, strict=True))


def test_term_keys_are_stable_and_carry_their_kind() -> None:
    # Golden values: keys travel on the log, so every worker and release must agree.
    assert term_key("reid", ENTITY) == 2327848805
    assert term_key("reid", WORD) == 2327848804
    assert term_key("1000", NUMBER) & 3 == NUMBER


def test_names_are_capitalized_words_and_adjacent_pairs() -> None:
    terms = weights(terms_of("Actress Tara Reid checked into Promises in Malibu, her rep said."))
    for name in ("tara", "reid", "tara reid", "promises", "malibu"):
        assert term_key(name, ENTITY) in terms, name
    assert term_key("her", ENTITY) not in terms


def test_a_sentence_opening_capital_is_no_name_when_the_text_says_it_in_lowercase() -> None:
    terms = weights(terms_of("Police said the road was closed. The police later reopened it."))
    assert term_key("police", ENTITY) not in terms
    assert term_key("police", WORD) in terms


def test_shouting_and_stopwords_are_not_names() -> None:
    terms = weights(terms_of("A SENIOR diplomat resigned. The Foreign Office confirmed it."))
    assert term_key("senior", ENTITY) not in terms
    assert term_key("the", ENTITY) not in terms
    assert term_key("foreign office", ENTITY) in terms


def test_figures_are_normalized_and_single_digits_ignored() -> None:
    a = weights(terms_of("Shares rose 1,000 points to 7,412.45 after a 2-1 win and 3 goals."))
    b = weights(terms_of("Die Aktien stiegen um 1.000 Punkte auf 7.412,45."))
    for figure in ("1000", "7412.45"):
        assert term_key(figure, NUMBER) in a and term_key(figure, NUMBER) in b
    assert term_key("2-1", NUMBER) in a
    assert term_key("3", NUMBER) not in a


def test_title_terms_weigh_more_than_body_terms() -> None:
    terms = weights(terms_of("The harbour flooded and the harbour closed.", title="Flood"))
    assert terms[term_key("flood", WORD)] > terms[term_key("closed", WORD)]


def test_unspaced_scripts_give_character_bigrams() -> None:
    terms = weights(terms_of("东京电力公司今天宣布涨价。", language="zh"))
    assert term_key("东京", WORD) in terms and term_key("电力", WORD) in terms


def test_only_the_lede_is_read() -> None:
    filler = "Officials gave details of the plan. " * 60  # ~2,200 characters
    terms = weights(terms_of(filler + "\n\nThe Zanzibar ferry arrived."))
    assert term_key("zanzibar", ENTITY) not in terms


def test_copies_laid_out_in_other_paragraphs_read_the_same_words() -> None:
    text = " ".join(f"Sentence number {i} mentions Kilimanjaro again." for i in range(80))
    one = terms_of(text)
    wrapped = terms_of("\n\n".join(textwrap.wrap(text, 300)))
    # The terms; the lede's paragraph skeletons follow the layout (a template's issues share it).
    assert (one.keys, one.counts, one.repeats) == (wrapped.keys, wrapped.counts, wrapped.repeats)
    # (The lede cuts the fourth paragraph to two sentences: 6 plain words, no skeleton.)
    assert len(one.skeletons) == 1 and len(wrapped.skeletons) == 3


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400), st.one_of(st.none(), st.text(max_size=60)))
def test_never_raises_and_is_deterministic(text: str, title: str | None) -> None:
    first = terms_of(text, title)
    assert first == terms_of(text, title)
    assert len(first.keys) == len(first.counts)
    assert all(0 <= k < 2**32 for k in first.keys)


def test_word_terms_come_in_text_order_whatever_the_hash_seed() -> None:
    # A set difference would order them by the process's string-hash seed, and the float
    # sums over them would then differ between processes in the last bits.
    terms = terms_of("zebra harbour quay mallet zebra anchor", language="en")
    words = [k for k in terms.keys if k & 3 == WORD]
    assert words == [term_key(w, WORD) for w in ("zebra", "harbour", "quay", "mallet",
                                                  "anchor")]


def test_the_dateline_opening_a_wire_story_gives_no_terms() -> None:
    """Its place and agency are names every story of that desk shares: two different dpa
    stories from Vienna joined on "WIEN (dpa-AFX)" (SemEval-2022 Task 8 pairs, 2026-12-06)."""
    story = "Österreich will ab dem 1. August wieder Zuschauer in die Stadien lassen."
    with_dateline = terms_of(f"WIEN (dpa-AFX) - {story}", language="de")
    assert with_dateline == terms_of(story, language="de")
    assert term_key("wien", ENTITY) not in with_dateline.keys
    for opening in ("LONDON, Dec 14 (Reuters) - ", "Bagdad/Washington (dpa) – ",
                    "COLUMBIA CITY, Ind. (AP) — ", "BEIJING, June 5 (Xinhua) -- "):
        assert terms_of(opening + story, language="de") == with_dateline
    for sentence in ("Apple (AAPL) - ", "Shares of Tesla (tt) - "):  # no agency: a sentence
        kept = terms_of(sentence + story, language="de")
        assert kept != with_dateline


# -- every part to the value -----------------------------------------------------------------
def test_names_pairs_acronyms_and_shouting() -> None:
    text = ("The Tara Reid met NYMEX and UK chiefs and the BBC ORCHESTRA in Paris. Police in "
            "Paris, a Paris police officer said. I A Police Said")
    words = Counter(fingerprint_text([text]).split())
    # a five-letter acronym is a name, a longer one shouting; "The" and "said" are stopwords
    assert _entities(text, words, stopwords("en")) == {
        "tara": 1, "reid": 1, "nymex": 1, "uk": 1, "bbc": 1, "paris": 3, "police": 2,
        "tara reid": 1}
    # capitalized in 1 of its 3 uses (a sentence's start): no name
    sentences = "Police came. The police left. The police stayed."
    assert _entities(sentences, Counter(fingerprint_text([sentences]).split()),
                     stopwords("en")) == {}


def test_figures_are_normalized_and_single_digits_left_out() -> None:
    assert _numbers("Up 7,412.45 and 7.412,45 or 1,5, the 2-1 in 2024; 3 and -- 12 or 1.,23") == {
        "7412.45": 2, "1.5": 1, "2-1": 1, "2024": 1, "12": 1, "23": 1}


def test_the_lede_is_cut_at_the_last_space_within_the_limit() -> None:
    paragraphs = ("aaa bbb", "c dddddd", "eee")
    forms = paragraphs
    assert _lede(paragraphs, forms, 100) == (list(paragraphs), "aaa bbb c dddddd eee")
    assert _lede(paragraphs, forms, 12) == (["aaa bbb", "c"], "aaa bbb c")  # 8 + 1 + 3
    assert _lede(paragraphs, forms, 6) == (["aaa"], "aaa")
    assert _lede(paragraphs, forms, 7) == (["aaa bbb", ""], "aaa bbb ")  # all of the first
    assert _lede(paragraphs, forms, 16) == (["aaa bbb", "c dddddd", ""], "aaa bbb c dddddd ")


def test_words_of_unspaced_scripts_are_character_bigrams() -> None:
    assert _words("東 京", "ja") == Counter(["東京"])
    assert _words("東京 news", "en") == Counter(["東京", "news"])
    assert _words("x é y", "fr") == Counter(["x", "é", "y"])  # a spaced word of one letter
    assert _with_bigrams(["東", "京"]) == ["東京"]
    assert _with_bigrams(["x", "東", "京", "都"]) == ["x", "東京", "京都"]
    assert _with_bigrams(["東京", "都", "a", "b"]) == ["東京", "a", "b"]


def test_an_articles_terms_keys_counts_and_repeats() -> None:
    text = "Tara Reid met 12 chiefs in Paris and 12 more."
    terms = story_terms(None, (text,), (fingerprint_text([text]),), "en", StoryConfig())
    words = ["tara", "reid", "met", "chiefs", "paris"]  # "in", "and", "more": stopwords
    names = ["tara", "reid", "paris", "tara reid"]
    assert terms.keys == (*(term_key(w, WORD) for w in words),
                          *(term_key(n, ENTITY) for n in names), term_key("12", NUMBER))
    assert terms.counts == (1.0,) * 5 + (1.5,) * 4 + (1.0 + math.log(2),)
    assert terms.repeats == frozenset({5, 6, 7})
    assert [kind_of(key) for key in terms.keys] == [WORD] * 5 + [ENTITY] * 4 + [NUMBER]


def test_a_title_counts_its_weight_and_stopwords_follow_the_language() -> None:
    body = "Talks in Paris went on."
    once = story_terms("Paris summit", (body,), (fingerprint_text([body]),), "en",
                       StoryConfig(title_weight=1.0))
    paris = once.keys.index(term_key("paris", WORD))
    assert once.counts[paris] == 1.0 + math.log(2)  # the title once, the body once
    german = "Gespräche zum Gipfel und danach."
    assert term_key("und", WORD) not in story_terms(
        None, (german,), (fingerprint_text([german]),), "de", StoryConfig()).keys
    assert term_key("und", WORD) in story_terms(
        None, (german,), (fingerprint_text([german]),), "en", StoryConfig()).keys
    weighted = StoryConfig(number_weight=2.0, entity_weight=3.0)
    figures = story_terms(None, ("Rates at 4.5 for Acme.",), ("rates at 4.5 for acme",),
                          "en", weighted)
    assert figures.counts[figures.keys.index(term_key("4.5", NUMBER))] == 2.0
    assert figures.counts[figures.keys.index(term_key("acme", ENTITY))] == 3.0


def test_a_dateline_leaves_the_other_paragraphs_and_their_forms_alone() -> None:
    paragraphs = ("WIEN (dpa-AFX) - Die Börse stieg.", "Zweiter Absatz.", "Dritter Absatz.")
    forms = tuple(fingerprint_text([p]) for p in paragraphs)
    assert without_dateline(paragraphs, forms) == (
        ("Die Börse stieg.", *paragraphs[1:]),
        (fingerprint_text(["Die Börse stieg."]), *forms[1:]))


def test_sublinear_weights_are_one_plus_the_log_of_the_count() -> None:
    fresh = _Sublinear()  # the module's table may hold these counts already
    assert [fresh[n] for n in (1, 2, 3)] == [1.0, 1.0 + math.log(2), 1.0 + math.log(3)]
    assert dict(fresh) == {1: 1.0, 2: 1.0 + math.log(2), 3: 1.0 + math.log(3)}


def test_a_no_space_language_splits_every_non_ascii_word_into_characters() -> None:
    assert _words("café", "ja") == Counter(["c", "a", "f"])  # "é" alone: no bigram
    assert _words("café", "fr") == Counter(["café"])
    text = "Le café est bon"
    keys = story_terms(None, (text,), (fingerprint_text([text]),), "ja", StoryConfig()).keys
    assert term_key("café", WORD) not in keys and term_key("bon", WORD) in keys
