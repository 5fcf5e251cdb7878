"""Markdown bodies: told from plain text, rendered, titled by their opening heading."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.core.errors import InputError
from streams.core.text.article import normalize_article
from streams.core.text.formats import detect_format
from streams.core.text.markdown import MAX_MARKDOWN_CHARS, looks_like_markdown

ARTICLE = """# Drought forces water restrictions across the region

*By Hannah Schmidt — June 3, 2024*

Officials announced **stage two** water restrictions on Monday after the driest spring in
forty years.

## What changes

- Lawn watering is limited to two days a week.
- Fines start at $250.

> "We are asking everyone to do their part," said utility director [James Ortega](https://water.example.gov/staff/ortega).
"""


def test_a_markdown_article_is_titled_by_its_heading_and_loses_its_markup() -> None:
    article = normalize_article(ARTICLE)
    assert (article.format, article.title, article.title_source) == (
        "markdown", "Drought forces water restrictions across the region", "page")
    assert article.paragraphs == (
        "By Hannah Schmidt - June 3, 2024",
        "Officials announced stage two water restrictions on Monday after the driest spring "
        "in forty years.",
        "What changes",
        "Lawn watering is limited to two days a week.",
        "Fines start at $250.",
        '"We are asking everyone to do their part," said utility director James Ortega.',
    )
    assert article.outlinks == ("https://water.example.gov/staff/ortega",)


@pytest.mark.parametrize(
    ("text", "markdown"),
    [
        (ARTICLE, True),
        ("## Results\n\nThe **home side** won 3-1.", True),  # heading and strong
        ("See [the report](https://example.com/r).\n\n- one\n- two", True),  # link and list
        ("**Update:** the road is open.\n\n> Drivers were warned.", True),
        # one construct alone is plain text's too
        ("# 1 seed Alcaraz won in straight sets.", False),
        ("Note: **do not** reply to this e-mail.", False),
        ("- eggs\n- milk\n\n> quoted reply", False),  # lists and quotes are no evidence alone
        ("The score was 2*3 and 4*5 at the break.", False),
        ("A link [1] and (https://example.com) apart.", False),
    ],
)
def test_markdown_needs_two_constructs_one_of_them_strong(text: str, markdown: bool) -> None:
    assert looks_like_markdown(text) is markdown


def test_content_types_decide_and_long_bodies_stay_plain_text() -> None:
    assert detect_format("Plain words only.", "text/markdown") == "markdown"
    assert detect_format(ARTICLE, "text/plain") == "text"
    assert detect_format(ARTICLE, "text/html") == "html_fragment"
    long = ARTICLE + "\n\nMore words here." * (MAX_MARKDOWN_CHARS // 16)
    assert detect_format(long) == "text"


@given(st.text(st.sampled_from("#*_[]()>-`~ \nab1:/.h"), max_size=300))
def test_any_markdown_like_text_is_read_or_refused_with_a_clear_error(text: str) -> None:
    try:
        article = normalize_article(text, content_type="text/markdown")
    except InputError:
        return
    assert article.format == "markdown" and article.paragraphs
