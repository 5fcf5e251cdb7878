"""A title for plain-text bodies whose first line is a headline (evidence from the samples);
the headline inside a page title that ends with the site's name."""

from __future__ import annotations

import pytest

from streams.core.text.article import normalize_article
from streams.core.text.headline import (
    _another_headline,
    _is_dateline,
    _is_headline,
    _is_prose,
    _word_count,
    split_headline,
    strip_site_suffix,
    strip_suffix_after_headline,
    title_the_page_supports,
)
from tests.harness import SAMPLES

LEDE = (
    "A UK diplomat resigned on Monday over British arms sales to Israel, saying the "
    "department may be complicit in war crimes."
)
MORE = "The Foreign Office said it was reviewing the sales."


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_no_sample_first_line_is_taken_for_a_headline(path: object) -> None:
    # The plain-text samples start with a 170-200-character sentence ending in a full stop;
    # 002 is an HTML fragment and 003 brings its own title.
    article = normalize_article(path.read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    assert article.title_source != "first_line"


@pytest.mark.parametrize(
    "headline",
    [
        "Diplomat quits over UK arms sales to Israel",
        "Is the harbour wall worth £12m?",
        "“War crimes in plain sight”: diplomat resigns",
        "Foreign Office official resigns",
        "US, China agree trade truce",  # a comma after capitals, no date after it
        "UK, France sign deal on Monday",
        "Apple (AAPL) beats estimates",
        "EU, May agree Brexit divorce deal",  # a review's: a month's name, no number after it
        "UK, on brink of recession, cuts rates",
        "Storm hits Florida (PHOTOS)",
        "Oppenheimer (film review)",
    ],
)
def test_headline_led_body(headline: str) -> None:
    assert split_headline((headline, LEDE, MORE)) == (headline, (LEDE, MORE))


@pytest.mark.parametrize(
    ("first", "following"),
    [
        ("By Jane Doe", LEDE),  # byline
        ("Updated 18 August 2024 10:32 GMT", LEDE),  # a date line
        ("LONDON (Reuters) -", LEDE),  # dateline
        ("WASHINGTON, Dec 14 (Reuters)", LEDE),  # a new-user trial's Reuters export
        ("BEIJING, June 5 (Xinhua) --", LEDE),
        ("NEW YORK, March 3", LEDE),
        ("PARIS, Tuesday", LEDE),
        ("THURSDAY, DECEMBER 3, 2009, 9:36 AM", LEDE),  # ECB+ 3_5ecbplus
        ("LONDON (Reuters)", LEDE),
        ("A UK diplomat resigned.", LEDE),  # a sentence
        ("- first bullet of a list", LEDE),
        ("Diplomat", LEDE),  # one word
        ("Diplomat quits over arms", "and then the sentence goes on in lower case."),
        ("Diplomat quits over arms", "Short."),  # what follows is no longer than it
        ("Diplomat quits over arms", "A paragraph that does not end like a sentence at all"),
        ("Diplomat quits over arms sales " * 6, LEDE),  # too long for a headline
    ],
)
def test_not_a_headline(first: str, following: str) -> None:
    assert split_headline((first, following, MORE)) == (None, (first, following, MORE))


JA_LEDE = "18日、元ヤクルトスワローズ選手でプロ野球解説者の栗山英樹氏が、都内で取材に応じた。"
ZH_LEDE = "政府今日宣佈新措施支援經濟，財政司司長表示，有關改變會由明年一月一日起生效。"


@pytest.mark.parametrize(("headline", "lede"), [
    ("栗山氏、日本ハム監督就任報道に「本当に正式な話が僕の方にはきていない」", JA_LEDE),
    ("“ゴールデン・グローブ主演女優”メリル・ストリープの来日が決定", JA_LEDE),
    ("【Sports Watch】岩隈 “7年105億報道”に「一切ないです」", JA_LEDE),
    ("政府宣佈新措施支援經濟", ZH_LEDE),
])
def test_a_chinese_or_japanese_headline_led_body(headline: str, lede: str) -> None:
    """A headline in a script without spaces was one word, so never a headline: 1 of 800
    livedoor news texts (title line, then the story) got its title, 595 now (the others:
    a sub-heading or a short line after the title)."""
    assert split_headline((headline, lede, MORE)) == (headline, (lede, MORE))


def test_a_thai_headline_counts_its_words_by_spaces() -> None:
    """Thai's vowel and tone marks are characters: counted two a word, a 77-character
    headline was 38 words, never a headline (a review)."""
    headline = "นายกรัฐมนตรีประกาศมาตรการใหม่ กระตุ้นเศรษฐกิจ ช่วยเหลือผู้มีรายได้น้อยทั่วประเทศ"
    assert split_headline((headline, LEDE, MORE)) == (headline, (LEDE, MORE))


@pytest.mark.parametrize("first", [
    "栗山英樹氏が都内で取材に応じた。",  # a sentence: it ends with a full stop
    "栗山英樹氏が、",  # a clause
    "栗",  # one character
    "栗山氏の日本ハム監督就任報道について本人が語ったこととその背景にある球団の事情と" * 2,
])
def test_not_a_chinese_or_japanese_headline(first: str) -> None:
    assert split_headline((first, JA_LEDE, MORE)) == (None, (first, JA_LEDE, MORE))


def test_a_byline_between_the_headline_and_the_story_is_skipped_and_kept() -> None:
    paragraphs = ("Fed lifts rates, sees faster pace of hikes", "By Howard Schneider", LEDE,
                  MORE)
    assert split_headline(paragraphs) == (paragraphs[0], paragraphs[1:])
    # a byline and nothing else after the headline: no body
    assert split_headline(paragraphs[:2]) == (None, paragraphs[:2])
    # a long "By ..." line is a sentence, not a byline
    sentence = "By the end of the week the council had voted to fund the harbour wall."
    assert split_headline(("Council funds wall", sentence, MORE)) == (
        "Council funds wall", (sentence, MORE))


def test_a_headline_needs_a_body_after_it() -> None:
    assert split_headline(("Diplomat quits over arms sales",)) == (
        None,
        ("Diplomat quits over arms sales",),
    )


def test_normalize_article_moves_the_headline_to_the_title() -> None:
    body = f"Diplomat quits over UK arms sales\n\n{LEDE}\n\n{MORE}"
    article = normalize_article(body)
    assert (article.title, article.title_source) == (
        "Diplomat quits over UK arms sales",
        "first_line",
    )
    assert article.paragraphs == (LEDE, MORE)


def test_a_copy_with_its_headline_line_matches_the_copy_without() -> None:
    with_line = normalize_article(f"Diplomat quits over UK arms sales\n{LEDE}\n{MORE}")
    without = normalize_article(f"{LEDE}\n{MORE}")
    assert with_line.paragraphs == without.paragraphs


def test_html_fragments_do_not_get_a_first_line_title() -> None:
    article = normalize_article(f"<p>Diplomat quits over UK arms sales</p><p>{LEDE}</p>")
    assert article.title is None


@pytest.mark.parametrize(
    ("title", "site", "expected"),
    [
        (
            "Ein Jahr voller Proteste · Global Voices auf Deutsch",
            "Global Voices auf Deutsch",
            "Ein Jahr voller Proteste",
        ),
        ("Diplomat quits | THE DAILY", "The Daily", "Diplomat quits"),
        ("Diplomat quits - The Daily", "The Daily", "Diplomat quits"),
        ("Diplomat quits \u2014 The Daily", "The Daily", "Diplomat quits"),
    ],
)
def test_the_site_name_after_a_separator_is_not_part_of_the_headline(
    title: str, site: str, expected: str
) -> None:
    assert strip_site_suffix(title, site) == expected


@pytest.mark.parametrize(
    ("title", "site"),
    [
        ("Diplomat quits · Global Voices", None),  # no site name: nothing to compare with
        ("Diplomat quits · The Daily", "Global Voices"),  # another name
        ("Why I left The Daily", "The Daily"),  # no separator: the name is in the headline
        ("Diplomat quits:The Daily", "The Daily"),  # no spaces around the separator
        ("The Daily", "The Daily"),  # nothing but the name
        (" · The Daily", "The Daily"),
        ("2024 · The Daily", "The Daily"),  # no letter would be left
    ],
)
def test_titles_without_a_site_suffix_are_kept(title: str, site: str | None) -> None:
    assert strip_site_suffix(title, site) == title


def test_normalize_article_strips_the_site_name_from_the_page_title() -> None:
    # trafilatura trims "<title>" itself but takes og:title as written (Global Voices'
    # golden page: "... · Global Voices auf Deutsch").
    page = (
        '<html><head><meta property="og:title" content="Diplomat quits over arms sales'
        ' \u00b7 The Daily"><meta property="og:site_name" content="The Daily"></head>'
        f"<body><article><p>{LEDE}</p><p>{MORE}</p></article></body></html>"
    )
    article = normalize_article(page)
    assert (article.title, article.title_source) == ("Diplomat quits over arms sales", "page")


@pytest.mark.parametrize(
    ("title", "headline", "expected"),
    [
        # the visible headline, then a separator and whatever the publisher appends
        (
            "How To Book a Flight | It's All Trip To Me",
            "How To Book a Flight",
            "How To Book a Flight",
        ),
        (
            "History of coffee | Origin, Spread | Britannica",
            "history of coffee",
            "History of coffee",
        ),
        ("Top 10 Shoe Companies - Fastarz", "Top 10 Shoe Companies", "Top 10 Shoe Companies"),
        # no separator after the headline: a longer headline, not a suffix
        ("Rocket Lab: the company", "Rocket Lab", "Rocket Lab: the company"),
        ("Rocket Lab launches again", "Rocket Lab", "Rocket Lab launches again"),
        # the headline is not where the title starts, is the whole title, or is too short
        ("Leadfeeder | State of SEO", "State of SEO", "Leadfeeder | State of SEO"),
        ("State of SEO", "State of SEO", "State of SEO"),
        ("AB | Site", "AB", "AB | Site"),
        ("Any title | Site", None, "Any title | Site"),
        ("123 | Site name", "123", "123 | Site name"),  # nothing left that reads as a title
    ],
)
def test_suffix_after_the_visible_headline(title: str, headline: str | None, expected: str) -> None:
    assert strip_suffix_after_headline(title, headline) == expected


def test_a_page_title_is_cut_at_its_h1() -> None:
    body = "The council said on Tuesday that the harbour wall is repaired and the port reopens."
    page = (
        "<html><head><title>Harbour wall repaired | The Gazette Online</title></head><body>"
        f"<article><h1>Harbour   wall repaired</h1><p>{body}</p></article></body></html>"
    )
    article = normalize_article(page)
    assert (article.title, article.paragraphs) == ("Harbour wall repaired", (body,))


WIDGET_PAGE = (
    "<!doctype html><html><head><title>Council approves new harbour wall after winter floods"
    " | Daily Post</title></head><body><aside><h2 class='widget-title'>Most Popular</h2><ul>"
    "<li><a href='/a'>Other story one</a></li></ul></aside><article><h1>Council approves new "
    "harbour wall after winter floods</h1>" + "<p>The town council voted on Tuesday to fund a "
    "new sea wall along the harbour front, months after storms flooded two hundred homes.</p>"
    * 3 + "</article><h1>More Stories</h1></body></html>"
)


@pytest.mark.parametrize(
    ("title", "page_title", "headline", "title_tag", "expected"),
    [
        ("Most Popular", "Council approves wall | Daily Post", "Council approves wall", None,
         "Council approves wall | Daily Post"),
        ("Council approves wall", "Council approves wall | Daily Post", None, None,
         "Council approves wall"),
        ("Council approves  WALL", "Daily Post", "council approves wall", None,
         "Council approves  WALL"),  # the headline holds it
        # og:title is the brand, the <title> tag holds it (WCXB dev 4249)
        ("Which mower suits which lawn?", "Robomow", None,
         "Which mower suits which lawn? | Robomow", "Which mower suits which lawn?"),
        ("See Also", None, "Council approves wall", None, "See Also"),  # no page title
        (None, "Daily Post", None, None, "Daily Post"),
        ("Most Popular", None, None, None, "Most Popular"),
        # held by the <h1> alone, a logo's or a section's: the page title's headline part
        # shares no word with it (readability's webmd-1 and 001 test pages)
        ("Allergies Health Center", "Babies Who Eat Peanuts Early May Avoid Allergy",
         "Allergies Health Center", None, "Babies Who Eat Peanuts Early May Avoid Allergy"),
        ("Hi, I'm Nicolas.", "Get your Frontend JavaScript Code Covered | Code | Nicolas",
         "Hi, I'm Nicolas.", None, "Get your Frontend JavaScript Code Covered | Code | Nicolas"),
        # ... but a page title that is a site's name is no headline (WCXB test 5406)
        ("Rust Ownership, Borrowing, and Lifetimes", "Integralist",
         "Rust Ownership, Borrowing, and Lifetimes", None,
         "Rust Ownership, Borrowing, and Lifetimes"),
        # ... nor one that shares a word with it
        ("Harbour wall approved", "Council backs the harbour wall plan | Daily Post",
         "Harbour wall approved", None, "Harbour wall approved"),
        # ... and an <h1> of more than three words is a headline, the page title a slogan
        # (a review's: every article of such a site titled alike)
        ("Council approves new harbour wall",
         "Daily Post - Your trusted source for local news",
         "Council approves new harbour wall", None, "Council approves new harbour wall"),
    ],
)
def test_trafilatura_title_stands_only_where_the_page_title_or_headline_holds_it(
    title: str | None, page_title: str | None, headline: str | None, title_tag: str | None,
    expected: str,
) -> None:
    assert title_the_page_supports(title, page_title, headline, title_tag) == expected


def test_a_sidebar_heading_is_not_the_title_of_a_page_with_its_own() -> None:
    article = normalize_article(WIDGET_PAGE, content_type="text/html")
    assert article.title == "Council approves new harbour wall after winter floods"


def test_an_og_title_escaped_twice_is_unescaped() -> None:
    page = WIDGET_PAGE.replace(
        "<head>", "<head><meta property='og:title' content='Saving the Harbour&amp;#39;s "
        "Wall'>")
    assert normalize_article(page, content_type="text/html").title == "Saving the Harbour's Wall"


def test_an_h1_that_gave_way_to_the_page_title_is_not_the_texts_first_line() -> None:
    """WebMD's section heading on readability's webmd-1 test page: the title now, and it
    stayed the text's first line once the title was the page's (a verification trial)."""
    prose = ("Babies who eat peanut foods early may be far less likely to develop a peanut "
             "allergy, a large study found on Monday, reversing years of advice to parents.")
    page = ("<!doctype html><html><head><title>Babies Who Eat Peanuts Early May Avoid Allergy"
            "</title></head><body><article><h1>Allergies Health Center</h1>"
            f"<p>{prose}</p><p>{prose.replace('Monday', 'Tuesday')}</p></article></body></html>")
    article = normalize_article(page, content_type="text/html")
    assert article.title == "Babies Who Eat Peanuts Early May Avoid Allergy"
    assert article.text.startswith("Babies who eat peanut foods early")


# -- each rule at its boundary ------------------------------------------------------------------
@pytest.mark.parametrize(("line", "headline"), [
    ("Fed cuts", True),  # two words: the fewest
    (" ".join(["word"] * 25), True),  # 25 words: the most
    (" ".join(["word"] * 26), False),
    ("A" * 75 + " " + "B" * 74, True),  # 150 characters: the longest
    ("A" * 75 + " " + "B" * 75, False),
    ("2024 2025", False),  # no letter
    ('Minister says "we will not resign."', False),  # a full stop inside closing quotes
    ("Apple unveils its new Version 2.X", True),  # an X is no closer
])
def test_a_headline_at_its_limits(line: str, headline: bool) -> None:
    assert _is_headline(line) is headline


@pytest.mark.parametrize(("line", "dateline"), [
    ("WASHINGTON, Dec. 14 storm hits the capital", True),  # the month's stop is no matter
    ("WASHINGTON, Dec 4, storm hits the capital", True),  # one digit, then a comma
    ("WASHINGTON, Dec ,14 storm hits the capital", True),
    ("WASHINGTON, Dec 4th storm hits the capital", True),
    ("WASHINGTON, DecX 14 storm hits the capital", False),  # no month
    ("WASHINGTON, Dec X14 storm hits the capital", False),  # no day
    ("WASHINGTON, Dec", False),  # a month and nothing after it
    ("WASHINGTON, ", False),
])
def test_a_dateline_at_its_limits(line: str, dateline: bool) -> None:
    assert _is_dateline(line) is dateline


def test_prose_is_longer_than_the_headline_and_may_end_inside_quotes() -> None:
    assert not _is_prose("Abc.", 4)  # as long as the headline: not prose
    assert _is_prose("Abcd.", 4)
    assert _is_prose('He said: "It is over."', 3)
    assert not _is_prose("He said it was over.X", 3)  # an X is no closer


def test_unspaced_script_counts_a_word_every_two_characters_rounded_up() -> None:
    assert _word_count("日本語") == 2
    assert _word_count("日本語 news 日本") == 2 + 1 + 1


def test_a_headline_over_one_paragraph_or_over_a_byline_of_eight_words() -> None:
    story = "The council approved the harbour wall on Monday after a long debate."
    assert split_headline(("Harbour wall approved", story)) == (
        "Harbour wall approved", (story,))
    byline = "By Jane Doe and John Roe of Reuters"  # eight words: the most
    assert split_headline(("Harbour wall approved", byline, story)) == (
        "Harbour wall approved", (byline, story))


def test_another_headline_has_four_words_at_least() -> None:
    assert _another_headline("Allergies Health Center", "Babies Eat Peanuts Early")
    assert not _another_headline("Allergies Health Center", "Babies Eat Peanuts")


@pytest.mark.parametrize(("title", "expected"), [
    ("A | Site", "A"),  # the shortest title that holds a headline before the name
    ("Headline  | Site", "Headline"),
    ("Headline |Site", "Headline |Site"),
    ("Headline| Site", "Headline| Site"),
    ("Headline x Site", "Headline x Site"),
    ("Headline  Site", "Headline  Site"),
])
def test_a_site_suffix_is_cut_only_after_a_spaced_separator(title: str, expected: str) -> None:
    assert strip_site_suffix(title, "Site") == expected


@pytest.mark.parametrize(("title", "headline", "expected"), [
    ("Fed | X", "Fed", "Fed"),  # a three-letter headline, a one-letter suffix
    ("Fed  | Site", "Fed ", "Fed"),
    ("Fed |X", "Fed", "Fed |X"),
    ("Fed x X", "Fed", "Fed x X"),
    ("Fed -X", "Fed", "Fed -X"),
])
def test_a_title_is_cut_to_its_headline_only_before_a_spaced_separator(
    title: str, headline: str, expected: str
) -> None:
    assert strip_suffix_after_headline(title, headline) == expected
