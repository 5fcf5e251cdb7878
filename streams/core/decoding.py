"""Raw bytes to text: which codec, and whether it was declared or guessed.

The first rule that applies decides:

1. a binary signature (gzip, PNG, zip, PDF, ...) -> :class:`BinaryContentError`;
2. a byte-order mark -> UTF-8, UTF-16 or UTF-32 (invalid data after it -> ``not_utf8``);
3. 7-bit bytes holding ISO-2022 escape sequences (``ESC $ B``, ``ESC $ ) C``) -> ISO-2022-JP
   or ISO-2022-KR, whatever a declaration says: they are valid UTF-8 too, so until
   2026-12-06 Japanese and Korean mail-era text was published as ``$B%3%s%=!<%k(J``;
4. valid UTF-8 -> UTF-8, whatever a declaration says: multi-byte UTF-8 is very unlikely to
   arise by chance in a legacy encoding, while pages that declare ``iso-8859-1`` and serve
   UTF-8 are common;
5. a declared charset: the producer's (the envelope's ``charset``), else the document's own
   (``<meta charset>``, ``<meta http-equiv="Content-Type">`` or an XML declaration in the
   first 4 KiB), mapped as browsers map it (the WHATWG Encoding Standard: ``iso-8859-1`` and
   ``us-ascii`` are read as ``windows-1252``, ``shift_jis`` as ``cp932``, ...);
6. charset-normalizer, limited to the legacy encodings of the web, with corrections of ours
   where it reads a language's letters wrong (Hungarian, Turkish and Polish read as cp1252,
   Czech and Slovak ISO-8859-2 as cp1250, the Cyrillic code pages mixed up: ``_detect``) or
   decides nothing (Japanese and Korean by script, Cyrillic by letter frequencies, Central
   European by language);
7. otherwise the bytes are undecidable -> ``not_utf8``.

Only rule 6 sets ``detected``. Encodings are named by Python's canonical codec names
(``utf-8``, ``cp1252``, ``iso8859-2``, ``shift_jis``, ...).
"""

from __future__ import annotations

import codecs
import math
import re
from collections import Counter
from dataclasses import dataclass

from charset_normalizer import from_bytes

from streams.core.errors import BinaryContentError, NotUtf8Error

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_BINARY_MAGIC = (
    b"\x1f\x8b",  # gzip
    b"\x89PNG",
    b"\xff\xd8\xff",  # JPEG
    b"GIF8",
    b"PK\x03\x04",  # zip
    b"%PDF",
    b"RIFF",
    b"\x28\xb5\x2f\xfd",  # zstd
)
# Where a document declares its charset: the HTML standard's prescan reads 1 KiB; pages with
# long inline scripts before the <meta> exist, so a little more, still bounded.
SNIFF_BYTES = 4096
# Bounded runs keep the scan linear on hostile input, and possessive spaces: two ``\s*`` side
# by side shared every run of spaces every way (until 2026-12-06: ~100 "<meta" then spaces in
# the sniffed 4 KiB, 10 s; a regex audit). ``\\?`` lets a JSON-escaped quote through (an
# HTML body inside a JSON envelope).
_META_CHARSET = re.compile(
    rb"""<meta\b[^>]{0,512}?charset\s*+=\s*+\\?["']?\s*+([A-Za-z0-9._:\-]{1,40})""",
    re.IGNORECASE,
)
_XML_ENCODING = re.compile(
    rb"""<\?xml\b[^>]{0,200}?encoding\s*=\s*\\?["']([A-Za-z0-9._\-]{1,40})""", re.IGNORECASE
)
# An ISO-2022 designation: JIS X 0208 (``ESC $ @``, ``ESC $ B``), JIS X 0212 (``ESC $ ( D``),
# JIS X 0201 (``ESC ( J``, ``ESC ( I``) or KS X 1001 (``ESC $ ) C``). No UTF-8 text holds one.
_ISO2022_ESCAPE = re.compile(rb"\x1b(?:\$[@AB]|\$\(D|\([JI]|\$\)C)")
# The codecs tried on such bytes, in order: the first that decodes them strictly wins
# (ISO-2022-JP-2 passes ISO-2022-KR's shift bytes through as controls, so Korean goes first
# when its designation is there).
_ISO2022_JP_CODECS = ("iso2022_jp", "iso2022_jp_2", "iso2022_jp_ext")
_ISO2022_KR_DESIGNATION = b"\x1b$)C"
# Labels browsers read as a superset encoding (WHATWG Encoding Standard, "labels"): decoding
# with the superset never fails where the label's own codec would, and gives the same text.
_SUPERSETS = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gbk",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
}
# WHATWG labels Python's codec registry does not know.
_LABELS = {
    "windows-874": "cp874",
    "x-mac-cyrillic": "mac-cyrillic",
    "windows-31j": "cp932",
    "x-sjis": "cp932",
    "x-cp1252": "cp1252",
    "x-gbk": "gbk",
}
# What a declaration may name (Python canonical names of the WHATWG encodings and the
# supersets above). Anything else, e.g. "utf-7", "base64" or "rot13", is ignored.
WEB_ENCODINGS = frozenset(
    {
        "utf-8",
        "cp866",
        "iso8859-2",
        "iso8859-3",
        "iso8859-4",
        "iso8859-5",
        "iso8859-6",
        "iso8859-7",
        "iso8859-8",
        "iso8859-10",
        "iso8859-13",
        "iso8859-14",
        "iso8859-15",
        "iso8859-16",
        "koi8-r",
        "koi8-u",
        "mac-roman",
        "mac-cyrillic",
        "cp874",
        "cp1250",
        "cp1251",
        "cp1252",
        "cp1253",
        "cp1254",
        "cp1255",
        "cp1256",
        "cp1257",
        "cp1258",
        "gbk",
        "gb18030",
        "big5hkscs",
        "euc_jp",
        "iso2022_jp",
        "cp932",
        "cp949",
    }
)
# The detector's candidates: the legacy encodings news sites still serve. Leaving out the
# DOS and Mac code pages both speeds it up (3 KB of cp1252 text: 254 -> 12 ms, measured) and
# stops it answering "cp775" or "mac_latin2" for short Western text.
DETECTOR_CANDIDATES = (
    "cp1252",
    "cp1250",
    "cp1251",
    "cp1253",
    "cp1254",
    "cp1255",
    "cp1256",
    "cp1257",
    "cp1258",
    "iso8859_2",
    "iso8859_7",
    "iso8859_8",
    "iso8859_15",
    "koi8_r",
    "koi8_u",
    "cp874",
    "cp932",
    "euc_jp",
    "iso2022_jp",
    "gb18030",
    "big5hkscs",  # not big5: Taiwanese feeds use its extra characters (a trial's gave None)
    "cp949",
)
# The legacy encoding of most of the web: preferred when the detector rates it as good.
_PRIOR = "cp1252"
# The detector reads at most this much (cut after an ASCII byte, so no multi-byte character
# is split): 3.7 MB of cp1252 took 468 ms whole. The whole value must then decode strictly
# with the chosen codec, else the detector reads all of it.
DETECT_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class DecodedText:
    """Text decoded from raw bytes, with the codec used and how it was chosen."""

    text: str
    encoding: str
    detected: bool = False


def decode_unicode(value: bytes) -> DecodedText | None:
    """Rules 1-4: binary refused, BOM, ISO-2022 escapes, valid UTF-8; None when the bytes are
    none of these."""
    for magic in _BINARY_MAGIC:
        if value.startswith(magic):
            raise BinaryContentError(f"value starts with the {magic!r} signature of binary data")
    for bom, codec in _BOMS:
        if value.startswith(bom):
            try:
                return DecodedText(value.decode(codec), codecs.lookup(codec).name)
            except UnicodeDecodeError as exc:
                raise NotUtf8Error(f"value has a {codec} byte-order mark but {exc.reason}") from exc
    if b"\x1b" in value and value.isascii() and _ISO2022_ESCAPE.search(value):
        korean = _ISO2022_KR_DESIGNATION in value
        for codec in ("iso2022_kr", *_ISO2022_JP_CODECS) if korean else _ISO2022_JP_CODECS:
            try:
                return DecodedText(value.decode(codec), codec)
            except UnicodeDecodeError:
                continue
    try:
        return DecodedText(value.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        return None


def decode_legacy(value: bytes, declared: str | None = None) -> DecodedText:
    """Rules 5-7 for bytes that are not Unicode: ``declared`` (the producer's charset), the
    document's own declaration, then the detector; NotUtf8Error when none decides."""
    for label in (declared, sniff_declared_charset(value)):
        codec = web_codec(label)
        if codec is None:
            continue
        text = _decode_declared(value, codec)
        if text is not None:
            return DecodedText(text, codec)
    detected = detect_encoding(value)
    if detected is None:
        raise NotUtf8Error(
            "value is not UTF-8, has no byte-order mark, declares no charset that decodes it, "
            "and the detector could not decide its encoding"
        )
    return detected


def decode_bytes(value: bytes, declared: str | None = None) -> DecodedText:
    """All rules: see the module docstring."""
    return decode_unicode(value) or decode_legacy(value, declared)


def web_codec(label: str | None) -> str | None:
    """The codec a browser would use for a charset label, or None when it is not one."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()[:40]
    try:
        name = codecs.lookup(_LABELS.get(label, label)).name
    except (LookupError, ValueError):
        return None
    name = _SUPERSETS.get(name, name)
    return name if name in WEB_ENCODINGS else None


def sniff_declared_charset(value: bytes) -> str | None:
    """The charset a document declares in its first bytes (meta tag or XML declaration)."""
    head = value[:SNIFF_BYTES]
    found = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    return found.group(1).decode("ascii") if found else None


def detect_encoding(value: bytes) -> DecodedText | None:
    """charset-normalizer's choice among :data:`DETECTOR_CANDIDATES`, or None."""
    if len(value) > DETECT_BYTES:
        cut = max(value.rfind(b"\n", 0, DETECT_BYTES), value.rfind(b" ", 0, DETECT_BYTES))
        sample = _detect(value[: cut if cut > 0 else DETECT_BYTES])
        if sample is not None:
            errors = "replace" if sample.encoding == _PRIOR else "strict"
            try:
                return DecodedText(value.decode(sample.encoding, errors), sample.encoding, True)
            except UnicodeDecodeError:
                pass
    return _detect(value)


def _detect(value: bytes) -> DecodedText | None:
    matches = from_bytes(value, cp_isolation=list(DETECTOR_CANDIDATES))
    best = matches.best()
    if best is None:
        return decode_by_script(value) or decode_cyrillic(value) or _central_european(value)
    text = str(best)
    encoding = best.encoding
    if encoding != _PRIOR and _PRIOR in DETECTOR_CANDIDATES:
        prior = next((m for m in matches if m.encoding == _PRIOR), None)
        as_prior = value.decode(_PRIOR, "replace")
        # Ties go to cp1252; and when cp1252 gives the very same text (English with curly
        # quotes reads the same in cp1250 and cp1252), the label says so too.
        tied = prior is not None and (
            prior.chaos <= best.chaos and prior.coherence >= best.coherence
        )
        if tied or as_prior == text:
            text, encoding = as_prior, _PRIOR
    name = codecs.lookup(encoding).name
    if name in _LATIN_MISREADINGS and (latin := _as_own_latin(value, text)) is not None:
        return latin
    # Where no Cyrillic reading is likely, the bytes may be another script's code page.
    if name in _DETECTED_CYRILLIC and (
            found := decode_cyrillic(value) or _other_script(value)) is not None:
        return found
    if name == "cp1250" and (central := _as_iso8859_2(value, text)) is not None:
        return central
    return DecodedText(text, name, detected=True)


# Latin single-byte codecs the detector picks for Hungarian, Turkish and Polish, none with
# their own letters (ő and ű; ğ, ı, ş, İ, Ş, Ğ; ą, ł, ś, ź, ż).
_LATIN_MISREADINGS = frozenset({"cp1252", "cp1257", "iso8859-15"})
# language -> (the bytes of its own letters, the codec that has them there): ő ű Ő Ű are
# õ û Õ Û in cp1252 (cp1250 and ISO-8859-2 agree on those bytes); ğ ı ş Ğ İ Ş are ð ý þ Ð Ý
# Þ in cp1252 (cp1254 and ISO-8859-9 agree on them); Polish's are cp1250's.
_OWN_LATIN = {
    "hu": (re.compile(rb"[\xf5\xfb\xd5\xdb]"), "cp1250"),
    "tr": (re.compile(rb"[\xf0\xfd\xfe\xd0\xdd\xde]"), "cp1254"),
    # ą ł ś ź ż Ą Ł Ś Ź Ż: ¹ ³ œ Ÿ ¿ ¥ £ Œ  ¯ in cp1252 ("Rz¹d og³osi³").
    "pl": (re.compile(rb"[\xb9\xb3\x9c\x9f\xbf\xa5\xa3\x8c\x8f\xaf]"), "cp1250"),
}


def _as_own_latin(value: bytes, text: str) -> DecodedText | None:
    """``value`` in its language's code page when the detector's Latin reading of it is in
    a language of :data:`_OWN_LATIN` and it holds the bytes of letters only that code page
    has (every other letter of the language is where cp1252 has it too).

    charset-normalizer reads Hungarian as cp1252 or cp1257 (a trial, 2026-12-06: 13 of 22
    windows-1250 and ISO-8859-2 texts, "vezetõ", "elõtt") and Turkish as cp1252 (3 of 3
    windows-1254 and ISO-8859-9 texts, "Ýstanbul", "deðil"), which fastText still calls
    Hungarian and Turkish, so the record named the language over a text with wrong letters.
    Icelandic, whose ð ý þ these are, is not Turkish.
    """
    sample = value[:DETECT_BYTES]
    from streams.core.text.language import detect_language  # noqa: PLC0415 - only here

    read_as: str | None = None  # the language of the detector's reading, once needed
    for language, (own, codec) in _OWN_LATIN.items():
        if own.search(sample) is None:
            continue
        try:
            own_text = value.decode(codec)
        except UnicodeDecodeError:
            continue
        if read_as is None:
            read_as = detect_language(text)
        # The language of either reading: fastText is often unsure of the wrong one (short
        # lines, "altyazýsý") and sure of the right one.
        if language in (read_as, detect_language(own_text)):
            return DecodedText(own_text, codec, detected=True)
    return None


# Bytes where cp1250 has letters and ISO-8859-2 C1 controls (Š Ť Ž Ź š ť ž ź): text that
# holds none of them may be ISO-8859-2.
_CP1250_ONLY = re.compile(rb"[\x8a\x8c-\x8f\x9a\x9c-\x9f]")


def _as_iso8859_2(value: bytes, text: str) -> DecodedText | None:
    """``value`` as ISO-8859-2 when the detector's cp1250 reading holds ą and the
    ISO-8859-2 reading is Czech or Slovak: their š is ą in cp1250 (0xB9), and neither
    language has ą (Polish has, at 0xB1 in ISO-8859-2: ± in cp1250).

    charset-normalizer reads Czech and Slovak ISO-8859-2 text as cp1250 (a trial,
    2026-12-06: 4 of 4 such texts; "ąpatně", "Ľivot"), the letters š, ž, Š, Ž, ť, Ť wrong.
    """
    sample = value[:DETECT_BYTES]
    if "ą" not in text[:_SCRIPT_SAMPLE_CHARS] or _CP1250_ONLY.search(sample):
        return None
    from streams.core.text.language import detect_language  # noqa: PLC0415 - only here

    own_text = value.decode("iso8859-2")
    if detect_language(own_text) not in ("cs", "sk"):
        return None
    return DecodedText(own_text, "iso8859-2", detected=True)


# Languages written in ISO-8859-2 and cp1250, and ISO-8859-2's C1 controls (a reading holding
# one is not text).
_CENTRAL_EUROPEAN = frozenset({"pl", "cs", "sk", "sl", "hr", "hu", "ro", "bs", "sr"})
_C1_CONTROLS = re.compile("[\x80-\x9f]")


def _central_european(value: bytes) -> DecodedText | None:
    """``value`` read as ISO-8859-2, else as cp1250, when that reading has no C1 control
    and fastText calls it a language written in them; for bytes the detector decides
    nothing on (a trial, 2026-12-06: Polish in ISO-8859-2 was ``not_utf8``, as was a Polish
    news paragraph of ours)."""
    from streams.core.text.language import detect_language  # noqa: PLC0415 - only here

    for codec in ("iso8859-2", "cp1250"):
        try:
            text = value.decode(codec)
        except UnicodeDecodeError:
            continue
        if _C1_CONTROLS.search(text) is None and detect_language(text) in _CENTRAL_EUROPEAN:
            return DecodedText(text, codec, detected=True)
    return None


# Single-byte code pages of other scripts, with the letters and marks of each.
_OTHER_SCRIPTS = (
    ("cp1255", ((0x0590, 0x05FF),)),  # Hebrew
    ("cp1256", ((0x0600, 0x06FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))),  # Arabic
    ("cp1253", ((0x0370, 0x03FF),)),  # Greek
)


def _other_script(value: bytes) -> DecodedText | None:
    """``value`` in the first of the Hebrew, Arabic and Greek code pages that decodes it
    strictly into text whose non-ASCII characters are 90 % that script's, for bytes the
    detector read as Cyrillic that no Cyrillic code page reads as likely Cyrillic text (a
    trial, 2026-12-06: a windows-1255 Hebrew text published as KOI8-R, "ФИЖХ ЬЕЮИБ")."""
    sample = value[:_CYRILLIC_SAMPLE_CHARS]
    for codec, ranges in _OTHER_SCRIPTS:
        try:
            text = sample.decode(codec)
        except UnicodeDecodeError:
            continue
        chars = _judged_chars(text)
        if chars and _share(chars, *ranges) >= _SCRIPT_SHARE:
            try:
                return DecodedText(value.decode(codec), codec, detected=True)
            except UnicodeDecodeError:
                return None
    return None


# The single-byte Cyrillic codecs, most used first (the first of equal readings wins), and
# those of them the detector answers with (it is not offered the DOS and Mac code pages, nor
# ISO-8859-5: see DETECTOR_CANDIDATES).
_CYRILLIC_CODECS = ("cp1251", "koi8-r", "koi8-u", "iso8859-5", "cp866", "mac-cyrillic")
_DETECTED_CYRILLIC = frozenset({"cp1251", "koi8-r", "koi8-u"})
# Letter frequencies of Russian news text (per 1,000 letters; the usual published table),
# with the Ukrainian and Bulgarian letters Russian lacks given a common letter's share, so
# those languages read as well as Russian; any other Cyrillic letter (Serbian ђ, љ, џ, ...,
# what a wrong code page makes of Russian) is rare.
_CYRILLIC_PER_MILLE = {
    "о": 110, "е": 85, "а": 80, "и": 74, "н": 67, "т": 63, "с": 55, "р": 47, "в": 45, "л": 44,
    "к": 35, "м": 32, "д": 30, "п": 28, "у": 26, "я": 20, "ы": 19, "ь": 17, "г": 17, "з": 17,
    "б": 16, "ч": 14, "й": 12, "х": 10, "ж": 9, "ш": 7, "ю": 6, "ц": 5, "щ": 4, "э": 3,
    "ф": 3, "ъ": 10, "ё": 1, "і": 10, "ї": 5, "є": 5, "ґ": 2,
}
_CYRILLIC_LOG = {c: math.log(n / 1000) for c, n in _CYRILLIC_PER_MILLE.items()}
_RARE_LOG = math.log(0.0005)
# What a capital inside a word costs (a wrong code page swaps the cases of many letters:
# KOI8-R read as cp1251 is mostly capitals, MacCyrillic's я reads as cp1251's Я).
_MID_WORD_CAPITAL_LOG = math.log(0.001)
# What costs as much: a lowercase Cyrillic letter followed by a capital (а-џ, then Ѐ-Я), and
# a Cyrillic letter beside a Latin one (Hungarian or Polish read as KOI8-R is Latin words with
# Cyrillic capitals inside: "kormАny").
_MID_WORD_CAPITAL = re.compile(
    "[\u0430-\u045f][\u0400-\u042f]|[A-Za-z][\u0400-\u04ff]|[\u0400-\u04ff][A-Za-z]")
_CYRILLIC_SHARE = 0.8  # of the non-ASCII characters: Cyrillic letters (the rest « » — №)
# A non-ASCII character that is not a Cyrillic letter; and the least mean log-likelihood a
# reading may have. Cyrillic text read right scores -3.0 to -3.2 (the entropy of its
# letters); a wrong Cyrillic code page -3.7 and below; Chinese, Japanese or Polish bytes that
# happen to read as Cyrillic letters -4.7 and below.
_SYMBOL_LOG = math.log(0.005)
_CYRILLIC_FLOOR = -3.6
# At most this share of a reading's Cyrillic letters capitals: Hebrew read as KOI8-R is all
# capitals, each at a word's start, where no mid-word penalty falls ("ДННЫЛД ДЕЦИРД").
_CAPITALS_SHARE = 0.5
# Characters of each reading scored: the readings differ on most Cyrillic letters, so a
# page's first 2,048 decide as its first 8,192 did on every test text, at a quarter of the
# cost (six readings of 8 KB of Russian: ~5 ms; of 2 KB: ~1 ms, on a loaded host).
_CYRILLIC_SAMPLE_CHARS = 2048


def decode_cyrillic(value: bytes) -> DecodedText | None:
    """``value`` in the single-byte Cyrillic codec whose reading is most like Cyrillic text
    (letter frequencies, capitals only at word starts), or None when no reading is mostly
    Cyrillic letters.

    charset-normalizer tells the Cyrillic code pages apart badly: of chardet's test texts
    (a trial, 2026-12-06), 13 of 13 IBM866 and 14 of 23 ISO-8859-5 ones were dead-lettered
    ``not_utf8``, and 15 of 16 MacCyrillic texts were read as cp1251 or KOI8-R, their
    capitals and я wrong. They differ in where the letters are, so the reading with the most
    likely letters is the right one.
    """
    sample = value[:_CYRILLIC_SAMPLE_CHARS]  # single-byte codecs: a byte a character
    best: tuple[float, str] | None = None
    for codec in _CYRILLIC_CODECS:
        try:
            text = sample.decode(codec)
        except UnicodeDecodeError:
            continue
        score = _cyrillic_score(text)
        if score is not None and (best is None or score > best[0]):
            best = (score, codec)
    if best is None:
        return None
    try:
        return DecodedText(value.decode(best[1]), best[1], detected=True)
    except UnicodeDecodeError:
        return None


def _cyrillic_score(text: str) -> float | None:
    """Mean log-likelihood per non-ASCII character of ``text`` read as Cyrillic text, or
    None when those characters are not mostly Cyrillic letters or not likely enough.
    Counted by character (in C), not looped over: a page is read six ways."""
    letters = capitals = non_ascii = 0
    total = 0.0
    for char, count in Counter(text).items():
        if char < "\x80":
            continue
        non_ascii += count
        if "\u0400" <= char <= "\u04ff" and char.isalpha():
            letters += count
            lower = char.lower()
            if char != lower:
                capitals += count
            total += count * _CYRILLIC_LOG.get(lower, _RARE_LOG)
        else:  # « » — №, or what a wrong code page makes of a letter (cp1251's Я as Mac's ﬂ)
            total += count * _SYMBOL_LOG
    if (letters < _MIN_SCRIPT_CHARS or letters < _CYRILLIC_SHARE * non_ascii
            or capitals > _CAPITALS_SHARE * letters):
        return None
    total += len(_MID_WORD_CAPITAL.findall(text)) * _MID_WORD_CAPITAL_LOG
    score = total / non_ascii
    return score if score >= _CYRILLIC_FLOOR else None


# Characters of Japanese and Korean text besides kana, kanji and hangul: CJK punctuation,
# full-width forms, circled numbers (①, cp932's NEC row), arrows, shapes and symbols (♪).
_EAST_ASIAN_MARKS = ((0x2190, 0x21FF), (0x2460, 0x24FF), (0x2500, 0x26FF), (0x3000, 0x303F),
                     (0xFF00, 0xFFEF))
_KANA = (0x3040, 0x30FF)
_HAN = (0x4E00, 0x9FFF)
_HANGUL = (0xAC00, 0xD7AF)
# Non-ASCII characters a decoding needs before its script is judged, and the shares.
_MIN_SCRIPT_CHARS = 20
_SCRIPT_SHARE = 0.9  # of the non-ASCII characters: the language's script and marks
_KANA_SHARE = 0.1  # Japanese is never written without kana; Chinese and Korean are
_HANGUL_SHARE = 0.5


def decode_by_script(value: bytes) -> DecodedText | None:
    """The one of cp932, EUC-JP and cp949 that decodes ``value`` strictly into text of its
    language's script, or None when none or several do.

    charset-normalizer, restricted to our candidates, decides nothing on some real Japanese
    and Korean text (a trial, 2026-12-06: 3 of 29 Shift_JIS, 2 of 3 CP932 and 2 of 32
    EUC-KR news texts without a declaration were dead-lettered ``not_utf8``). Multi-byte
    decoding is strict enough that a wrong one fails or gives another script: Korean read as
    EUC-JP has no kana, Latin or Cyrillic text read as cp932 is not 90 % kanji and kana.
    """
    found = []
    for codec, own, own_share in (("cp932", _KANA, _KANA_SHARE), ("euc_jp", _KANA, _KANA_SHARE),
                                  ("cp949", _HANGUL, _HANGUL_SHARE)):
        try:
            text = value.decode(codec)
        except UnicodeDecodeError:
            continue
        # The script is judged on a sample: a whole 1 MB value would be a million
        # characters looked at in Python, three times over.
        if _reads_as(text[:_SCRIPT_SAMPLE_CHARS], own, own_share):
            found.append(DecodedText(text, codec, detected=True))
    return found[0] if len(found) == 1 else None


_SCRIPT_SAMPLE_CHARS = 8192


def _share(chars: list[int], *ranges: tuple[int, int]) -> float:
    return sum(1 for c in chars if any(lo <= c <= hi for lo, hi in ranges)) / len(chars)


def _judged_chars(text: str) -> list[int]:
    """The code points of ``text``'s non-ASCII characters, or none when there are too few
    to judge its script by."""
    chars = [ord(c) for c in text if ord(c) > 0x7F]
    return chars if len(chars) >= _MIN_SCRIPT_CHARS else []


def _reads_as(text: str, own: tuple[int, int], own_share: float) -> bool:
    """Whether ``text`` is written in a language's script: of its non-ASCII characters, at
    least ``own_share`` in the script's ``own`` range (kana for Japanese, hangul for Korean)
    and :data:`_SCRIPT_SHARE` in it, Han or the CJK marks."""
    chars = _judged_chars(text)
    return (bool(chars) and _share(chars, own) >= own_share
            and _share(chars, own, _HAN, *_EAST_ASIAN_MARKS) >= _SCRIPT_SHARE)


def _decode_declared(value: bytes, codec: str) -> str | None:
    # windows-1252 leaves five bytes undefined; browsers map them to C1 controls, which the
    # text path removes anyway, so they never make a declared cp1252 document undecodable.
    errors = "replace" if codec == "cp1252" else "strict"
    try:
        return value.decode(codec, errors)
    except UnicodeDecodeError:
        return None
