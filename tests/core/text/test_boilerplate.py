"""Chrome rules: line rules and the trailing footer block."""

from __future__ import annotations

import pytest

from streams.core.text import boilerplate
from streams.core.text.article import normalize_article
from streams.core.text.boilerplate import (
    BoilerplateConfig,
    footer_start,
    is_chrome_line,
    remove_boilerplate,
)


@pytest.mark.parametrize(
    "line",
    [
        "READ MORE: Owen Jones: Angus Robertson meeting lent legitimacy",
        "RELATED: Council tax to rise",
        "WATCH: The moment the wall gave way",
        "Advertisement",
        "Story continues below advertisement",
        "Sign up to our daily newsletter for the top stories in your inbox",
        "We use cookies to improve your experience. By continuing you agree.",
        "© 2024 Coastal Courier Media Ltd. All rights reserved.",
        "Copyright 2023 City Evening News",
        "Follow us on Facebook, Twitter and Instagram",
        "Report this comment Cancel",
        "Please report any comments that break our rules.",
        "Comments are closed.",
        "Subscribe today for unlimited access to all our journalism",
        # "read also" cross-links in other languages: a labelled link, or the label alone
        "Lea también: Impiden ingreso a Nicaragua a reportero y camarógrafo",
        "LE PUEDE INTERESAR: La ficha de Juan Orlando Hernández en el MDC de Nueva York",
        "PUEDES VER: ¿Qué es la Sunedu?",
        "Notas relacionadas",
        "Leia também: Governo anuncia novo programa",
        "À lire aussi",
        "Lire aussi : Le gouvernement présente son budget",
        "Auch lesen:",
        "Lesen Sie auch: Die Koalition streitet über den Haushalt",
        "Leggi anche: Il governo approva la manovra",
        "Czytaj też",
        "Lees ook: Kabinet presenteert begroting",
        "VEA TAMBIÉN: Entre heces y guaricha",
        "Das könnte Sie auch interessieren",
        "Schon gelesen?",
        "Weitere Artikel zum Thema",
        # WordPress's share, like and loading labels in translation, and comment counts
        "Teilen mit:",
        "Wird geladen ...",  # the display form: NFKC writes "…" as three full stops
        "Me gusta esto:",
        "Partager :",
        "Keine Kommentare",
        "12 Kommentare",
        "3 comentarios",
        "1 Kommentar",
        "2 comentários",
        "Aucun commentaire",
        "A LIRE AUSSI : Le gouvernement présente son budget",
        # photo and image credits
        "Photo: Shutterstock",
        "Image credit: © Depositphotos.com/AndrewLozovyi",
        "(Credit: Clayton Aldern / Grist)",
        "Foto: dpa",
        "Titelbild: Geyres Christophe/ABACA/picture-alliance",
        "Crédits photos : Bestimage",
        "Fot. Lukasz Nowaczyk / Agencja Gazeta",
        # a newsletter pitch inside a sentence, "by signing up" or a thanks
        "We help you navigate the city. Sign up for our newsletter for the best of it.",
        "For daily wit & wisdom, sign up for the Almanac newsletter.",
        "- Sign up for our newsletter for mental health tips, updates, and events",
        "Thank you for subscribing to our daily newsletter.",
        "Never miss the latest news by signing up to our newsletter today!",
    ],
)
def test_chrome_lines(line: str) -> None:
    assert is_chrome_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "The spokesperson said the FCDO would not comment on individual cases.",
        'Commenting on the resignation, Dr Ian Overton said: "It is a profound indictment."',
        "A No10 spokeswoman declined to comment on Mr Smith's resignation.",
        "Video-sharing app TikTok said it would appeal the ruling.",
        "Related parties must disclose their interests, the regulator said.",
        "Joining him on stage were two former ministers.",
        # A bare label that is also a name heads an interview answer: article text.
        "Lee: We started the company in my garage in 2019.",
        "Mira: I never thought the vote would be this close.",
        "Lea: Ich habe damals in Berlin studiert.",
        # Nor a label that opens quoted speech.
        "Mire: yo no sabía nada de eso, dijo el ministro.",
        "Lesen Sie auch, was der Minister am Montag sagte.",
        "Mehr zum Thema Energie lesen Sie in unserem Dossier über die Preise im Winter.",
        "Weitere Themen der Woche waren die Wahl und das Wetter.",
        "Partager les richesses est essentiel, dit-il.",
        "Kommentare von Lesern zeigen, dass viele zustimmen.",
        # a YAML key in a code sample, a label without a credit, prose, a long caption
        "image: nginx:1.14.2",
        "Photo:",
        "Photos of the flooded harbour were shared widely on Monday.",
        "Credit card debt rose by 4 % in March, the central bank said.",
        "Photo: " + "the harbour wall after the January storms, seen from the pier. " * 3,
        # a report about newsletters, not a pitch
        "Readers who subscribe to the newsletter get the story a day early, the editor said.",
        "She said 40,000 people had signed up for the newsletter since March.",
    ],
)
def test_article_lines_are_kept(line: str) -> None:
    assert not is_chrome_line(line)


def test_footer_block_dropped_only_in_trailing_zone() -> None:
    body = [f"Article paragraph {i}." for i in range(6)]
    footer = ["Comments: Our rules", "Some policy prose that no line rule knows.", "Callum Baird"]
    assert footer_start(body + footer) == 6
    result = remove_boilerplate(body + footer)
    assert result.kept == tuple(body)
    assert result.removed == 3


def test_footer_trigger_early_in_article_does_not_truncate() -> None:
    paragraphs = ["Intro.", "Have your say", *[f"Body {i}." for i in range(6)]]
    result = remove_boilerplate(paragraphs)
    assert result.kept == ("Intro.", "Have your say", *[f"Body {i}." for i in range(6)])


def test_a_trigger_that_long_prose_follows_is_a_heading_not_the_footer() -> None:
    body = [f"Article paragraph {i}." for i in range(6)]
    prose = "Shelves for every room: " + "sturdy, affordable and easy to assemble. " * 10
    assert len(prose) == 434
    paragraphs = [*body, "Recommended for you", prose, "Most read"]
    # The first trigger has a 434-character paragraph after it; the second starts the footer.
    assert footer_start(paragraphs) == 8
    assert remove_boilerplate(paragraphs).kept == (*body, "Recommended for you", prose)
    assert footer_start(paragraphs[:-1], BoilerplateConfig(max_footer_paragraph_chars=434)) == 6


def test_every_label_of_other_languages_passes_the_start_gate() -> None:
    # The gate (first three characters) must let every label through, as written by sites:
    # capitals, a colon and a headline, or the label alone.
    for label in boilerplate._READ_ALSO_LABELS:
        assert is_chrome_line(label.upper() + ": Die Regierung beschließt den Haushalt"), label
        assert is_chrome_line(label.capitalize()), label
    for label in boilerplate._WIDGET_LABELS:
        assert is_chrome_line(label.capitalize() + ":"), label
    for count in ("1", "12", "123", "4567"):
        for label in boilerplate._COUNTED_LABELS:
            assert is_chrome_line(f"{count} {label.capitalize()}"), (count, label)


def test_every_credit_label_passes_the_start_gate() -> None:
    for label in boilerplate._CREDIT_LABELS:
        assert is_chrome_line(label.capitalize() + ": Jane Doe / Coastal Courier"), label
        assert is_chrome_line(f"({label.capitalize()}: Jane Doe)"), label
        assert not is_chrome_line(label + ": jane-doe"), label  # lower case: a key, not a credit


@pytest.mark.parametrize(
    "chrome",
    [
        "Photo: Jane Doe / Coastal Courier",
        "For more stories like this, sign up for our newsletter.",
    ],
)
def test_a_credit_or_a_pitch_leaves_the_text_of_a_page(chrome: str) -> None:
    paragraphs = (
        "The harbour wall that storms damaged in January will be repaired this summer, the "
        "council said on Tuesday after engineers presented their report to councillors.",
        "Work starts in June and should take eleven weeks; boats can use the harbour while the "
        "builders are on site, except for two days when the crane arrives.",
    )
    page = (
        "<html><head><title>Harbour wall</title></head><body><article><h1>Harbour wall to be "
        f"repaired</h1><p>{paragraphs[0]}</p><p><img src='wall.jpg'></p><p>{chrome}</p>"
        f"<p>{paragraphs[1]}</p></article></body></html>"
    )
    article = normalize_article(page, content_type="text/html")
    assert article.paragraphs == paragraphs
    assert article.boilerplate_removed == 1
