"""Two text forms: the display form and the fingerprint form.

Display form (:func:`normalize_text`, :func:`normalize_paragraphs`) - what we store and show:

1. line breaks folded to ``\\n``; control characters, NUL, zero-width and bidi marks, soft
   hyphens, BOMs and lone surrogates removed;
2. mojibake repaired with ftfy, but only when a cheap regex sees a typical UTF-8-read-as-
   cp1252 sequence (ftfy costs ~1.5 ms on 3 KB of clean text);
3. Unicode NFKC;
4. one form for quotes (straight ``'`` and ``"``) and dashes (``-``);
5. whitespace runs inside a paragraph become one space; paragraphs (``\\n``-separated) are
   stripped, empty ones dropped. Case, punctuation and digits are kept. Idempotent.

Fingerprint form (:func:`fingerprint_text`) - what dedup hashes: the display form of all
paragraphs joined, casefolded, digits of every script folded to ASCII, numbers written with
separators normalized (:func:`number_form`), every other character that is not a letter, a
combining mark or a digit (punctuation, symbols, whitespace, controls) replaced by a space,
and whitespace collapsed to single spaces. Layout, quote style, the way a number is written
and case therefore never make two copies differ; the figures themselves do (two closing
reports of a stock exchange differ mainly in their numbers). :func:`fingerprint_tokens`
splits it into words and numbers, and scripts written without spaces (Han, kana, Thai, Lao,
Khmer, Myanmar, Tibetan) into one token per character.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

import ftfy
import xxhash

_INVISIBLE_CLASS = (
    "\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5"
    "\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
    "\ufff0-\ufffb\ufffe\uffff\ud800-\udfff"
)
# A UTF-8 lead byte read as Latin-1 followed by a continuation byte read as cp1252:
# "Ã©", "â€™", "Â ". A false positive only costs one ftfy call that changes nothing.
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6"
    "\u02dc\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a"
    "\u20ac\u2122]"
)
_PUNCT_MAP = {
    **dict.fromkeys("‘’‚‛′‵‹›`´＇", "'"),
    **dict.fromkeys("“”„‟″‶«»〝〞〟＂", '"'),
    **dict.fromkeys("‐‑‒–—―−⁃﹘﹣－⸺⸻", "-"),
}
# One scan for both: typographic punctuation to its ASCII form, invisibles to nothing.
_PUNCT_OR_INVISIBLE = re.compile(f"[{re.escape(''.join(_PUNCT_MAP))}{_INVISIBLE_CLASS}]")
# ASCII fast path: one bytes.translate folds line breaks and deletes control characters.
_ASCII_NEWLINES = bytes.maketrans(b"\r\x0b\x0c\x1c\x1d\x1e", b"\n\n\n\n\n\n")
_ASCII_INVISIBLE = bytes(range(0x09)) + bytes(range(0x0E, 0x1C)) + b"\x1f\x7f"
_FTFY_CONFIG = ftfy.TextFixerConfig(
    unescape_html=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    fix_character_width=False,
    fix_latin_ligatures=False,
    normalization=None,
    explain=False,
)
_MAX_PASSES = 3


def normalize_text(text: str) -> str:
    """Display form of ``text``; paragraphs stay separated by one ``\\n``."""
    return normalize_text_bounded(text, None)[0]


def normalize_text_bounded(text: str, max_chars: int | None) -> tuple[str, bool]:
    """Display form of ``text`` cut to at most ``max_chars`` characters; and whether it was cut.

    NFKC is the one step that lengthens text (U+FDFA becomes 18 characters): the cut is made
    right after it, so every later step works on at most ``max_chars`` characters.
    """
    result, unsettled, cut = _normalize_once(text, max_chars)
    # ftfy and NFKC see different context after a pass (NFKC turns "¯" into " ̄", which
    # changes what ftfy calls mojibake): iterate such texts to a fixed point.
    for _ in range(_MAX_PASSES - 1):
        if not unsettled:
            break
        again, unsettled, cut_again = _normalize_once(result, max_chars)
        unsettled = unsettled and again != result
        cut = cut or cut_again
        result = again
    return result, cut


def normalize_paragraphs(paragraphs: Iterable[str]) -> tuple[str, ...]:
    """Display form of each paragraph; a paragraph with inner line breaks becomes several."""
    return normalize_paragraphs_bounded(paragraphs, None)[0]


def normalize_paragraphs_bounded(
    paragraphs: Iterable[str], max_chars: int | None
) -> tuple[tuple[str, ...], bool]:
    """:func:`normalize_paragraphs` of at most ``max_chars`` characters (``\\n`` counted
    between paragraphs), and whether the text was cut to fit."""
    text, cut = normalize_text_bounded("\n".join(paragraphs), max_chars)
    return (tuple(text.split("\n")) if text else ()), cut


def _normalize_once(text: str, max_chars: int | None = None) -> tuple[str, bool, bool]:
    """One pass of the display form; also says whether ftfy or NFKC were involved, and
    whether the text was cut to ``max_chars``."""
    unsettled = cut = False
    if text.isascii():
        data = text.encode("ascii").translate(_ASCII_NEWLINES, _ASCII_INVISIBLE)
        text = data.decode("ascii")
    else:
        # splitlines() knows exactly our line-break set, at C speed.
        text = "\n".join(text.splitlines())
        text = _PUNCT_OR_INVISIBLE.sub(_replace_punct, text)
        if _MOJIBAKE.search(text):
            unsettled = True
            fixed = ftfy.fix_text(text, _FTFY_CONFIG)
            text = _PUNCT_OR_INVISIBLE.sub(_replace_punct, "\n".join(fixed.splitlines()))
        if not unicodedata.is_normalized("NFKC", text):
            # NFKC can create typographic forms again (U+FE58 -> U+2014) and join pieces.
            unsettled = True
            text = unicodedata.normalize("NFKC", text)
            if max_chars is not None and len(text) > max_chars:
                text, cut = text[:max_chars], True
            text = _PUNCT_OR_INVISIBLE.sub(_replace_punct, "\n".join(text.splitlines()))
    # str.split() without arguments collapses and strips every kind of whitespace.
    lines = (" ".join(line.split()) for line in text.split("\n"))
    result = "\n".join(line for line in lines if line)
    if max_chars is not None and len(result) > max_chars:
        result, cut = result[:max_chars].rstrip(), True
    return result, unsettled, cut


def _replace_punct(match: re.Match[str]) -> str:
    return _PUNCT_MAP.get(match.group(), "")


def _letter_mark_ranges(lo: int, hi: int) -> str:
    """Regex class body of the letters and marks (categories L*, M*) in [lo, hi)."""
    ranges: list[tuple[int, int]] = []
    start: int | None = None
    for cp in range(lo, hi):
        keep = unicodedata.category(chr(cp))[0] in "LM"
        if keep and start is None:
            start = cp
        elif not keep and start is not None:
            ranges.append((start, cp - 1))
            start = None
    if start is not None:
        ranges.append((start, hi - 1))
    return "".join(f"\\U{a:08x}-\\U{b:08x}" if a != b else f"\\U{a:08x}" for a, b in ranges)


@functools.cache
def _bmp_non_words() -> re.Pattern[str]:
    """Runs of BMP characters that are neither letters, marks, ASCII digits nor the decimal
    mark; astral ones are left.

    Keeping the class inside the BMP lets sre use its fast two-level bitmap (5x faster).
    """
    body = _letter_mark_ranges(0, 0x10000)
    return re.compile(f"[^{body}0-9{_DECIMAL}\\U00010000-\\U0010ffff]+")


@functools.cache
def _astral_non_letters() -> re.Pattern[str]:
    # Planes 4-13 are unassigned and 15-16 private use: only scan where letters/marks live.
    body = _letter_mark_ranges(0x10000, 0x40000) + _letter_mark_ranges(0xE0000, 0xE1000)
    return re.compile(f"[^{body}\\u0000-\\uffff]+")


_ASTRAL = re.compile("[\\U00010000-\\U0010ffff]")
# The decimal mark of a number while the text is being simplified: a control character (the
# display form has none), so the character filters below can keep it while they turn every
# "." and "," into a space; it becomes "." at the end.
_DECIMAL = "\x01"
# ASCII fast path: every byte that is not a lowercase letter or a digit (or the decimal mark,
# once numbers have been rewritten) becomes a space.
_ASCII_WORD = bytes(b if 0x61 <= b <= 0x7A or 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_ASCII_WORD_DECIMAL = bytes(b if b == ord(_DECIMAL) else _ASCII_WORD[b] for b in range(256))
# A number written with separators: digit groups joined by "." "," or "'" (Swiss grouping;
# the display form has already folded typographic apostrophes to "'"). Plain digit runs need
# no work and are not matched. A match starts where a digit run does and never gives digits
# back (possessive, after a non-digit): until 2026-12-06 every start inside a run re-scanned
# it to its end, quadratic (a 30 KB digit run: 8.5 s; a regex audit).
_SEPARATED_NUMBER = re.compile(r"(?<![0-9])[0-9]++(?:[.,'][0-9]++)+")  # [0-9], not \d: faster
_SEPARATOR = re.compile(r"([.,'])")
# Gate of the number rule on ASCII text: digits become "0", the three separators ",", the
# rest a space; one substring test on that costs a fraction of a regex scan (sre tests a
# character class per character).
_ASCII_DIGIT_MAP = bytes(
    0x30 if 0x30 <= b <= 0x39 else 0x2C if b in b".,'" else 0x20 for b in range(256)
)


def number_form(number: str) -> str:
    """One written form per number, so the format of a figure never makes two copies differ.

    ``number`` is digit groups joined by ``.``, ``,`` or ``'``. Locales disagree on which
    separator groups thousands and which marks decimals, so the rule reads the structure,
    not the locale:

    * separators that group: each following group has three digits (two are allowed before
      the last three, for Indian lakh grouping), the first group has one to three digits and
      does not start with 0. They are dropped: ``1,000`` = ``1.000`` = ``1'000`` = ``1000``,
      ``1,00,000`` = ``100000``;
    * with two kinds of separator, the last one (used once, at the end) is the decimal mark
      and the others must group: ``1,234.5`` = ``1.234,5`` = ``1234.5``;
    * one separator that cannot group (``3,5``, ``0.25``, ``12.5``) is the decimal mark,
      written ``.``: ``3,5`` = ``3.5``;
    * anything else (``192.168.0.1``, ``1.2.3``, ``5'11``) is a list of numbers: separate
      tokens.

    The ambiguous case, one separator followed by exactly three digits (``1.250``), is read as
    grouping in every locale: the English decimal reading is rare in news text, and both
    copies of an article write it the same way, so only the format is lost, never a match.
    """
    parts = _SEPARATOR.split(number)
    groups, seps = parts[0::2], parts[1::2]
    if _groups_thousands(groups, seps):
        return "".join(groups)
    decimal_last = len(set(seps)) == 2 and seps[-1] in ".," and seps[-1] not in seps[:-1]
    if decimal_last and _groups_thousands(groups[:-1], seps[:-1]):
        return "".join(groups[:-1]) + _DECIMAL + groups[-1]
    if len(seps) == 1 and seps[0] in ".,":
        return groups[0] + _DECIMAL + groups[1]
    return " ".join(groups)


def _groups_thousands(groups: list[str], seps: list[str]) -> bool:
    """Whether ``seps`` (one character throughout) group the digits of ``groups``."""
    if len(set(seps)) != 1 or not 1 <= len(groups[0]) <= 3 or groups[0][0] == "0":
        return False
    if len(groups[-1]) != 3:
        return False
    middle = groups[1:-1]
    return all(len(g) == 3 for g in middle) or (
        seps[0] == "," and all(len(g) == 2 for g in middle)
    )


def _number_match(match: re.Match[str]) -> str:
    return number_form(match.group())


@functools.cache
def _non_ascii_digits() -> dict[int, int]:
    """Decimal digits of every script (Arabic-Indic, Devanagari, fullwidth...) -> ASCII, and
    the Arabic decimal and thousands separators (NFKC keeps them) -> "." and ","."""
    table: dict[int, int] = {0x066B: ord("."), 0x066C: ord(",")}
    for cp in range(0x80, 0x110000):
        char = chr(cp)
        if unicodedata.category(char) == "Nd":
            table[cp] = 0x30 + unicodedata.digit(char)
    return table


@functools.cache
def _bmp_non_ascii_digit() -> re.Pattern[str]:
    # BMP ranges only, like _bmp_non_words: sre then tests each character against a bitmap.
    ranges = sorted(cp for cp in _non_ascii_digits() if cp < 0x10000)
    body = "".join(f"\\u{cp:04x}" for cp in ranges)
    return re.compile(f"[{body}]")


def fingerprint_text(paragraphs: Iterable[str]) -> str:
    """Fingerprint form of the paragraphs (see the module docstring); may be empty."""
    text = " ".join(paragraphs)
    if text.isascii():
        data = text.encode("ascii").lower()
        digits = data.translate(_ASCII_DIGIT_MAP)
        if b"0,0" not in digits:
            return " ".join(data.translate(_ASCII_WORD).decode("ascii").split())
        text = _SEPARATED_NUMBER.sub(_number_match, data.decode("ascii").replace(_DECIMAL, " "))
        return _finish(text.encode("ascii").translate(_ASCII_WORD_DECIMAL).decode("ascii"))
    text = unicodedata.normalize("NFKC", text).casefold().replace(_DECIMAL, " ")
    try:
        data = text.encode("latin-1")
    except UnicodeEncodeError:
        pass
    else:  # Latin-1 (£, é): no digits of other scripts, byte tables instead of regex scans
        if b"0,0" in data.translate(_ASCII_DIGIT_MAP):
            data = _SEPARATED_NUMBER.sub(_number_match, text).encode("latin-1")
        return _finish(data.translate(_latin1_word()).decode("latin-1"))
    astral = _ASTRAL.search(text) is not None
    if astral or _bmp_non_ascii_digit().search(text):
        text = text.translate(_non_ascii_digits())
    text = _SEPARATED_NUMBER.sub(_number_match, text)
    text = _bmp_non_words().sub(" ", text)
    if astral:
        text = _astral_non_letters().sub(" ", text)
    return _finish(text)


@functools.cache
def _latin1_word() -> bytes:
    """:func:`_bmp_non_words` as a table of the Latin-1 characters: those it replaces
    become a space (runs of them several, which :func:`_finish` collapses)."""
    non_word = _bmp_non_words()
    return bytes(0x20 if non_word.fullmatch(chr(b)) else b for b in range(256))


def _finish(text: str) -> str:
    return " ".join(text.split()).replace(_DECIMAL, ".")


# Han and kana (a regex class body): ideographs, iteration marks, hiragana, katakana.
HAN_KANA_CLASS = (
    "\u3005-\u3007\u3021-\u3029\u3031-\u3035\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003ffff"
)
# Scripts written without spaces between words (a regex class body): Thai, Lao, Tibetan,
# Myanmar, Khmer, and Han and kana.
UNSPACED_CLASS = (
    "\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff\u19e0-\u19ff" + HAN_KANA_CLASS
)
_HAS_UNSPACED = re.compile(f"[{UNSPACED_CLASS}]")
# A character of an unspaced script with its combining marks (Thai vowels and tones).
_UNSPACED_UNIT = re.compile(
    f"[{UNSPACED_CLASS}][\u0300-\u036f\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u0eb1\u0eb4-\u0ebc\u0ec8-\u0ecd"
    f"\u0f71-\u0f84\u102b-\u103e\u17b6-\u17d3\u3099\u309a]*|[^{UNSPACED_CLASS}]+"
)
NO_SPACE_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo"})
# Han and kana: counted one word a character, as word processors count Chinese and Japanese.
_HAN_KANA = re.compile(f"[{HAN_KANA_CLASS}]")
_WORD_CHARACTER = re.compile(r"\w")


# Languages whose articles may count Han or kana characters ("und": not known).
_HAN_KANA_LANGUAGES = frozenset({"zh", "ja", "ko", "und"})


def word_count(paragraphs: Iterable[str], language: str = "und") -> int:
    """Words separated by spaces, and each Han or kana character one word (a 375-character
    Japanese article is ~375 words, not the 4 space-separated runs it has). Other scripts
    written without spaces (Thai, Khmer, ...) count their space-separated runs: no
    character convention exists for them, and a dictionary segmenter is not worth it here.

    Han and kana are looked for in Chinese, Japanese, Korean and undetermined articles only:
    the scan costs ~25 us an article of prose, and a Chinese quotation in an English article
    then counts as the words its spaces separate."""
    if language not in _HAN_KANA_LANGUAGES:
        return sum(len(paragraph.split()) for paragraph in paragraphs)
    total = 0
    for paragraph in paragraphs:
        if not _HAN_KANA.search(paragraph):
            total += len(paragraph.split())
            continue
        for word in paragraph.split():
            between = _HAN_KANA.split(word)  # one more part than Han or kana characters
            total += len(between) - 1 + sum(1 for part in between if _WORD_CHARACTER.search(part))
    return total


def fingerprint_tokens(fp_text: str, language: str = "und") -> list[str]:
    """Tokens of a fingerprint-form text: words; one token per character in unspaced scripts.

    The script decides, so detection failures and mixed text are handled. ``language`` only
    adds: for a no-space language every non-ASCII word is split into characters too.
    """
    split_all = language in NO_SPACE_LANGUAGES
    if not split_all and not _HAS_UNSPACED.search(fp_text):
        return fp_text.split()  # the common case: one scan instead of one per word
    tokens: list[str] = []
    for word in fp_text.split():
        if _HAS_UNSPACED.search(word):
            tokens.extend(_UNSPACED_UNIT.findall(word))
        elif split_all and not word.isascii():
            tokens.extend(word)
        else:
            tokens.append(word)
    return tokens


def paragraph_key(paragraph: str) -> int:
    """Stable unsigned 64-bit xxh3 of the paragraph's fingerprint form."""
    return form_key(fingerprint_text((paragraph,)))


def form_key(form: str) -> int:
    """:func:`paragraph_key` of a paragraph whose fingerprint form is already computed."""
    return int(xxhash.xxh3_64_intdigest(form.encode("utf-8")))
