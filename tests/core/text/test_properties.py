"""Hypothesis properties of the text path: total, idempotent, layout-blind."""

from __future__ import annotations

import contextlib
import re

from hypothesis import assume, example, given
from hypothesis import strategies as st

from streams.core.errors import InputError
from streams.core.text.article import normalize_article
from streams.core.text.boilerplate import is_chrome_line
from streams.core.text.formats import parse_body
from streams.core.text.normalize import (
    fingerprint_text,
    fingerprint_tokens,
    normalize_paragraphs,
    normalize_text,
)

# Arbitrary text, with surrogates and controls, biased towards markup and our markers.
ANY_TEXT = st.one_of(
    st.text(st.characters(codec=None)),
    st.text(),
    st.lists(
        st.sampled_from(
            [
                "<p>",
                "</p>",
                "<a href='http://x.example'>",
                "</a>",
                "<html>",
                "<!doctype html>",
                "<body>",
                " date 2024-08-18 ",
                "T-E-X-T-S-T-A-R-T.",
                "T-I-T-L-E-S-T-A-R-T.",
                "F-N-S-T-A-R-T.",
                "&amp;",
                "&#x0;",
                "\x00",
                "\u200b",
                "Ã©",
                "â€™",
                "\n\n",
                "READ MORE:",
                "Advertisement",
                "word",
                "Wörd",
                "中文",
                " ",
                ", external",
                "”",
                "<!--",
                "<script>",
            ]
        ),
        max_size=40,
    ).map("".join),
)
WORDS = st.lists(st.from_regex(r"[A-Za-z]{1,10}", fullmatch=True), min_size=1, max_size=60)


@given(ANY_TEXT, st.sampled_from([None, "text/plain", "text/html", "application/json"]))
@example("𝋠", None)  # a numeral only: no letter, so no article
def test_normalize_article_is_total(body: str, content_type: str | None) -> None:
    try:
        article = normalize_article(body, content_type=content_type)
    except InputError:
        return
    assert article.paragraphs
    assert fingerprint_text(article.paragraphs)
    assert all(p == p.strip() and "\n" not in p for p in article.paragraphs)


@given(ANY_TEXT)
def test_parse_body_is_total(body: str) -> None:
    with contextlib.suppress(InputError):
        parse_body(body)


@given(ANY_TEXT)
@example("¯Â¶")  # NFKC turns "¯" into " ̄", after which ftfy sees "Â¶" as mojibake
@example("𝋠")  # a numeral that [^\W\d_] calls a letter
def test_normalize_text_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert normalize_paragraphs(once.split("\n")) == (tuple(once.split("\n")) if once else ())


@given(ANY_TEXT)
def test_fingerprint_text_is_idempotent(text: str) -> None:
    once = fingerprint_text([text])
    assert fingerprint_text([once]) == once


@given(ANY_TEXT)
@example("¯Â¶")
def test_article_display_form_is_a_fixed_point(body: str) -> None:
    try:
        article = normalize_article(body, content_type="text/plain")
    except InputError:
        return
    assert normalize_paragraphs(article.paragraphs) == article.paragraphs


NO_QUOTES = str.maketrans("", "", "\"'“”‘’«»")


@given(WORDS, st.data())
def test_layout_and_quote_variants_share_a_fingerprint(
    words: list[str], data: st.DataObject
) -> None:
    seps = data.draw(
        st.lists(
            st.sampled_from([" ", "  ", "\n", "\n\n", "\t", " \r\n "]),
            min_size=len(words),
            max_size=len(words),
        )
    )
    quotes = data.draw(
        st.lists(
            st.sampled_from(["", '"', "'", "“", "”", "‘", "’", "«", "»"]),
            min_size=len(words),
            max_size=len(words),
        )
    )
    plain = " ".join(f'"{w}"' for w in words)
    variant = "".join(f"{q}{w}{q}{s}" for w, q, s in zip(words, quotes, seps, strict=True))
    # A line that is publisher chrome on its own ("AD", "Share this article") is dropped by
    # design, so the layout that puts it there changes the text (found by the property).
    lines = re.split(r"\s*\n\s*", f"{plain}\n{variant}".replace("\r", "\n"))
    assume(not any(is_chrome_line(" ".join(line.translate(NO_QUOTES).split()))
                   for line in lines))
    assert fingerprint_text(normalize_article(plain).paragraphs) == fingerprint_text(
        normalize_article(variant).paragraphs
    )


def test_a_chrome_label_is_dropped_on_its_own_line_only() -> None:
    # The case the property above found and now leaves out: "AD" alone is an ad label.
    assert normalize_article("A A A A A A A\nAD").paragraphs == ("A A A A A A A",)
    assert normalize_article("A A A A A A A AD").paragraphs == ("A A A A A A A AD",)


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=1, max_value=99))
def test_a_number_has_one_form_in_every_written_format(whole: int, cents: int) -> None:
    en = f"{whole:,}"
    forms = {
        fingerprint_text([f"up {written} points"])
        for written in (str(whole), en, en.replace(",", "."), en.replace(",", "'"))
    }
    assert forms == {f"up {whole} points"}
    decimal = {
        fingerprint_text([f"up {written} points"])
        for written in (f"{en}.{cents:02d}", f"{en.replace(',', '.')},{cents:02d}")
    }
    assert decimal == {f"up {whole}.{cents:02d} points"}


@given(
    st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=20, max_size=200)
)
def test_cjk_text_yields_many_tokens(text: str) -> None:
    tokens = fingerprint_tokens(fingerprint_text([text]), "und")
    assert len(tokens) == len(text)
    assert max(len(t) for t in tokens) == 1
