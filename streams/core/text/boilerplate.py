"""Rule-based removal of known publisher chrome, whole paragraphs at a time.

Two kinds of rules run over lowercased display-form paragraphs (straight quotes, single
spaces); the patterns are therefore lowercase and case-sensitive, which sre matches faster:

* line rules drop a single short paragraph anywhere: promo lines ("READ MORE: ...",
  "Advertisement", "Story continues below"), newsletter and subscription pitches, cookie
  notices, copyright lines, social-follow lines, comment-moderation lines;
* footer triggers (comment policy, "Comments: Our rules", newsletter sign-up headings,
  related-stories headings) drop the trigger and everything after it, but only in the
  trailing part of the article, so a mid-article mention cannot truncate it.

Rules only match paragraphs shorter than ``max_rule_chars``: chrome is short, and a long
paragraph that merely mentions comments or cookies is article text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BoilerplateConfig:
    """Knobs of the chrome rules."""

    # A footer trigger only counts in the last (1 - footer_zone_start) of the paragraphs.
    footer_zone_start: float = 0.5
    max_rule_chars: int = 400
    # A trigger followed by a paragraph longer than this is a heading inside the text (a
    # shop page's "Recommended for you" above its own prose), not the start of the footer:
    # related-story lists, comment rules and newsletter blocks are short lines.
    max_footer_paragraph_chars: int = 400
    enabled: bool = True


DEFAULT_BOILERPLATE_CONFIG = BoilerplateConfig()


@dataclass(frozen=True, slots=True)
class BoilerplateResult:
    """Paragraphs kept after the chrome rules and how many were removed."""

    kept: tuple[str, ...]
    removed: int


_SOCIAL = (
    r"(?:facebook|twitter|x|instagram|tiktok|linkedin|youtube|threads|bluesky|whatsapp|telegram|"
    r"pinterest|reddit|flipboard|google news)"
)

# "Read also" / "see also" / "related" cross-links of news sites in other languages (es, pt,
# fr, de, it, pl, nl): a labelled link line ("Lea también: <headline>", "LE PUEDE INTERESAR:
# ...") or the label alone as a heading over a list of links ("À lire aussi", "Czytaj też").
# Bare labels that are also given names ("Lea:", "Mira:", "Lee:" heading an interview
# answer) or open quoted speech ("Mire: yo no sabía nada", said the minister) are left out:
# such a line is article text.
_READ_ALSO_LABELS = (
    # es
    "lea más", "lea también", "lea además", "lee más", "lee también", "puedes ver",
    "vea también", "ver también", "te puede interesar", "te pueden interesar",
    "le puede interesar", "le pueden interesar", "también te puede interesar",
    "también le puede interesar", "noticia relacionada", "noticias relacionadas",
    "notas relacionadas", "contenido relacionado",
    # pt
    "leia mais", "leia também", "veja mais", "veja também", "saiba mais",
    # fr
    "lire aussi", "à lire aussi", "a lire aussi", "lire également", "à lire également",
    "a lire également", "voir aussi", "à voir aussi", "a voir aussi", "sur le même sujet",
    # de
    "lesen sie auch", "lesen sie mehr", "lies auch", "lies mehr", "auch lesen",
    "mehr zum thema", "zum weiterlesen", "auch interessant", "das könnte sie auch interessieren",
    "das könnte dich auch interessieren", "das thema könnte sie auch interessieren",
    "das thema könnte dich auch interessieren", "dieses thema könnte sie auch interessieren",
    "dieses thema könnte dich auch interessieren", "schon gelesen?", "mehr themen",
    "weitere themen", "weitere artikel", "weitere artikel zum thema", "empfohlene beiträge",
    "ähnliche beiträge",
    # it
    "leggi anche", "vedi anche", "potrebbe interessarti", "ti potrebbe interessare",
    "ti potrebbero interessare", "potrebbe interessarti anche",
    "ti potrebbe interessare anche", "ti potrebbero interessare anche",
    # pl
    "czytaj też", "czytaj także", "czytaj również", "czytaj więcej", "zobacz też",
    "zobacz także", "zobacz również",
    # nl
    "lees ook", "lees meer", "bekijk ook",
)
# WordPress's share, like and loading labels under a post as its translations write them
# (de, es, fr, pt, it; the English ones are in the rules below), and comment counts.
_WIDGET_LABELS = (
    "teilen mit", "gefällt mir", "wird geladen", "compartir esto", "me gusta esto", "cargando",
    "partager", "j'aime ça", "chargement", "compartilhe isso", "curtir isso", "carregando",
    "condividi", "mi piace", "caricamento", "kommentare insgesamt", "keine kommentare",
    "aucun commentaire", "nessun commento", "sin comentarios", "sem comentários",
    "kommentare", "comentarios", "comentários", "commentaires", "commenti",
)
# Comment counts: "12 Kommentare", "1 commentaire".
_COUNTED_LABELS = (
    "kommentar", "kommentare", "comentario", "comentarios", "comentário", "comentários",
    "commentaire", "commentaires", "commento", "commenti",
)


# Photo and image credit lines: a label, a colon and the credit ("Photo: Shutterstock",
# "Foto: dpa", "Titelbild: Geyres Christophe/ABACA", "Crédits photos : Bestimage", "(Credit:
# Clayton Aldern / Grist)", "Fot. Lukasz Nowaczyk / Agencja Gazeta"). Only lines of at most
# ``_MAX_CREDIT_CHARS`` that start with a capital or a parenthesis: a lower-case "image:" line
# is a YAML key in a code sample ("image: nginx:1.14.2"), and a long line is a caption.
_CREDIT_LABELS = (
    "photo", "photos", "photo credit", "photo credits", "image", "images", "image credit",
    "image credits", "credit", "credits", "featured image", "cover image", "header image",
    "top image", "foto", "fotos", "bild", "titelbild", "beitragsbild", "bildquelle",
    "fotoquelle", "crédit photo", "crédits photo", "crédit photos", "crédits photos",
    "image illustrative", "imagen", "imágenes", "fotografía", "zdjęcie", "zdjęcia",
)
_MAX_CREDIT_CHARS = 150


def _alternatives(labels: Sequence[str]) -> str:
    # Sorted only so the pattern is the same on every run: fullmatch backtracks into the
    # other alternatives, so their order does not change what matches.
    return "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True))


# Rules run on the display form, where NFKC has already made "…" three full stops.
_LABEL_RULES = re.compile(
    "(?:" + _alternatives(_READ_ALSO_LABELS) + r")(?:\s*[:|].*|[\s.:!]*)"
    "|(?:" + _alternatives(_WIDGET_LABELS) + r")[\s.:!]*"
    r"|\d+ (?:" + _alternatives(_COUNTED_LABELS) + r")[\s.:!]*"
)
_CREDIT_RULE = re.compile(r"\(?(?:(?:" + _alternatives(_CREDIT_LABELS) + r")\s*:|fot\.)\s*\S.*")
_CREDIT_STARTS = frozenset(
    [label[:3] for label in _CREDIT_LABELS] + ["(" + label[:2] for label in _CREDIT_LABELS]
    + ["fot", "(fo"]
)
# What the labels' lines start with: their first three characters, and a count's (one to
# three digits and a space, or three digits). Any other paragraph is not tried against them,
# which saves the ~60 alternatives' cost on nearly every paragraph (a set lookup instead).
_DIGITS = "0123456789"
_LABEL_STARTS = frozenset(
    [label[:3] for label in _READ_ALSO_LABELS + _WIDGET_LABELS]
    + [f"{d} {label[0]}" for d in _DIGITS for label in _COUNTED_LABELS]
    + [f"{d}{e} " for d in _DIGITS for e in _DIGITS]
    + [f"{d}{e}{f}" for d in _DIGITS for e in _DIGITS for f in _DIGITS]
)


_LINE_RULES = re.compile(
    "|".join(
        (
            # promo and cross-links
            r"(?:read more|more reading|read also|also read|read next|related|see also|watch|"
            r"listen|"
            r"more on this story|recommended|most read|trending|explore more|"
            r"more from [\w .'-]{1,40}|"
            r"click here|don't miss|must read|in pictures|video|podcast)\s*[:|].*",
            r"(?:advertisement|advert|ad|sponsored(?: content)?|promoted(?: content)?|paid content|"
            r"story continues below(?: advertisement| this ad)?|"
            r"article continues below(?: advertisement)?|"
            r"continue reading(?: below| the main story)?|scroll to continue(?: with content)?|"
            r"skip (?:to (?:main )?content|advertisement)|listen to this article|"
            r"\d+ min(?:ute)?s? read|share(?: this)?(?: article| story| page)?|"
            r"print(?: this)?(?: article)?|"
            r"email|loading\.*|getty images)\W*",
            # A caption or credit line: at most 80/200 characters up to its last word
            # character, then trailing punctuation. Written as "(.{0,n-1}\w)?\W*+" rather than
            # ".{0,n}\W*": that form retries the trailing run from every cut of .{0,n}, which
            # cost 5.7 s on 1 MiB of 400-character caption lines.
            r"image source,? (?:.{0,79}\w)?\W*+|image caption,? (?:.{0,199}\w)?\W*+",
            # subscription / newsletter pitches
            r"(?:sign up|subscribe|register|join)\b.{0,160}\b(?:newsletter|inbox|updates|"
            r"subscription|"
            r"subscriber|for free|free trial|unlimited access|digital access).{0,160}",
            r"(?:already a subscriber|subscribe now|subscribe today|become a (?:member|subscriber)|"
            r"support (?:our|independent) journalism|to continue reading|log ?in to (?:continue|"
            r"read)|"
            r"this (?:article|content) is (?:only )?(?:available|for) (?:to )?subscribers).{0,240}",
            # cookie and privacy notices
            r"(?:we use cookies|this (?:web)?site uses cookies|we and our partners (?:use|store)|"
            r"by (?:continuing to use|using) (?:this|our) (?:site|website)|accept (?:all )?cookies|"
            r"manage (?:cookie|privacy) (?:settings|preferences)|cookie (?:policy|settings|"
            r"preferences)"
            r"|privacy policy|terms (?:of (?:use|service)|and conditions)).{0,300}",
            # copyright
            r"(?:©|\(c\)|copyright)\s*(?:©\s*)?(?:\d{4}|all rights).{0,200}",
            # social follow
            r"(?:follow|like|join) (?:us|the [\w ]{1,40}|@\w+) on " + _SOCIAL + r"\b.{0,160}",
            r"(?:share|follow)(?: (?:this|us))?(?: on| via)? "
            + _SOCIAL
            + r"(?:\W+"
            + _SOCIAL
            + r")*\W*",
            r"click here to (?:follow|join) .{0,120}\b(?:on )?" + _SOCIAL + r"\b.{0,80}",
            # comments and moderation
            r"report this comment(?: cancel)?\W*|cancel|reply|report|"
            r"(?:\d+ )?comments?(?: \(\d+\))?|show comments|view comments|load comments|"
            r"leave a comment|post a comment|add a comment|be the first to comment\W*|"
            r"comments? (?:are|is) (?:now )?closed\W*|"
            r"comments? (?:have|has) been (?:closed|disabled)\W*",
            r"(?:please )?report any comments? that .{0,120}|read the rules here.{0,40}|"
            r"comments: our rules|you must be logged in to (?:post a )?comment\W*|"
            r"this comment (?:has been|was) (?:removed|deleted).{0,80}",
        )
    ),
)

_FOOTER_TRIGGERS = re.compile(
    "|".join(
        (
            r"why (?:are|is) (?:you|we|the [\w ]{1,40}) making comment(?:ing|s) .{0,200}",
            r"comments?: our rules|comment(?:s|ing)? (?:policy|guidelines|rules)\W*|"
            r"we want our comments to be .{0,300}|have your say\W*|"
            r"join the (?:debate|conversation|discussion)\W*",
            r"(?:sign up|subscribe) (?:to|for) (?:our|the) [\w ]{0,40}newsletters?\W*",
            r"(?:related (?:articles|stories|content|topics|coverage|links)|more (?:stories|"
            r"on this story)|"
            r"you (?:may|might) also (?:like|be interested in)|recommended (?:for you|stories|"
            r"reading)|"
            r"most (?:read|popular|viewed)|top stories|latest (?:news|stories)|around the web)\W*",
        )
    ),
)


# Rules that match anywhere in a short paragraph: searched, not anchored, so that the
# anchored rules above fail fast at the first character.
_LINE_SEARCH_RULES = re.compile(
    r"\b(?:newsletter|our daily briefing)\b.{0,80}\b(?:sign up|subscribe|inbox|email address)\b"
    # the pitch inside a sentence: "Want more? Sign up for our newsletter, The Selection, and
    # shop smarter.", "For daily wit & wisdom, sign up for the Almanac newsletter."
    # (an imperative at the start of a sentence or clause, "by signing up" or a thanks), not a
    # report of it ("Readers who subscribe to the newsletter get it a day early.")
    r"|(?:^(?:[-•*] )?|[.!?:,] )(?:please )?(?:sign up|subscribe) (?:to|for) (?:our|the|my) "
    r"(?:[\w'&.-]+ ){0,4}newsletters?\b"
    r"|\b(?:thank you for|thanks for|by) (?:signing up|subscribing) (?:to|for) (?:our|the|my) "
    r"(?:[\w'&.-]+ ){0,4}newsletters?\b"
    r"|\ball rights reserved\W*$"
)
_FOOTER_SEARCH_TRIGGERS = re.compile(
    r"\bcomment(?:ing|s)?\b.{0,120}\bonly (?:available )?(?:to|for) (?:our )?(?:paying )?"
    r"subscribers\b"
)


def is_chrome_line(paragraph: str, config: BoilerplateConfig = DEFAULT_BOILERPLATE_CONFIG) -> bool:
    """True when a single paragraph is known publisher chrome."""
    if len(paragraph) > config.max_rule_chars:
        return False
    low = paragraph.lower()
    if _LINE_RULES.fullmatch(low) or (low[:3] in _LABEL_STARTS and _LABEL_RULES.fullmatch(low)):
        return True
    if (
        low[:3] in _CREDIT_STARTS
        and len(paragraph) <= _MAX_CREDIT_CHARS
        and (paragraph[0] == "(" or paragraph[0].isupper())
        and _CREDIT_RULE.fullmatch(low)
    ):
        return True
    # Substring checks first: an unanchored regex search is ~50 ns per position.
    return ("newsletter" in low or "briefing" in low or "rights reserved" in low) and bool(
        _LINE_SEARCH_RULES.search(low)
    )


def footer_start(
    paragraphs: Sequence[str], config: BoilerplateConfig = DEFAULT_BOILERPLATE_CONFIG
) -> int:
    """Index of the first footer trigger in the trailing zone that no long paragraph
    follows, or ``len(paragraphs)``."""
    first = int(len(paragraphs) * config.footer_zone_start)
    last_long = max(
        (i for i, p in enumerate(paragraphs) if len(p) > config.max_footer_paragraph_chars),
        default=-1,
    )
    for index in range(max(first, last_long + 1), len(paragraphs)):
        paragraph = paragraphs[index]
        if len(paragraph) > config.max_rule_chars:
            continue
        low = paragraph.lower()
        if _FOOTER_TRIGGERS.fullmatch(low) or (
            "subscribers" in low and _FOOTER_SEARCH_TRIGGERS.search(low)
        ):
            return index
    return len(paragraphs)


def remove_boilerplate(
    paragraphs: Sequence[str], config: BoilerplateConfig = DEFAULT_BOILERPLATE_CONFIG
) -> BoilerplateResult:
    """Drop the trailing footer block, then chrome lines; may return no paragraphs."""
    if not config.enabled:
        return BoilerplateResult(tuple(paragraphs), 0)
    end = footer_start(paragraphs, config)
    kept = tuple(p for p in paragraphs[:end] if not is_chrome_line(p, config))
    return BoilerplateResult(kept, len(paragraphs) - len(kept))
