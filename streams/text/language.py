"""Language identification with py3langid (its model ships in the wheel: no network).

The model loads once, lazily (~0.9 s). Classification walks the UTF-8 bytes in pure
Python (~0.35 µs a byte), so only a prefix of ``sample_chars`` characters is classified:
a few hundred characters of prose identify the language as well as the whole article.
"""

from __future__ import annotations

import functools
import re
from typing import Any

UNDETERMINED = "und"
DEFAULT_SAMPLE_CHARS = 240
# Fewer letters than this is too little evidence (langid would guess anyway).
MIN_LETTERS = 12
# Below this normalized probability the guess is no better than noise.
MIN_CONFIDENCE = 0.5

# Model labels without an ISO 639-1 code that have a clear macrolanguage; others -> "und".
_TO_ISO639_1 = {"yue": "zh", "wuu": "zh", "arz": "ar", "ary": "ar", "uzs": "uz", "gug": "gn"}
_LETTER = re.compile(r"[^\W\d_]")


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # noqa: PLC0415 - lazy: ~0.9 s load

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str, sample_chars: int = DEFAULT_SAMPLE_CHARS) -> str:
    """ISO 639-1 code of ``text``'s language, or "und" when empty, too short or unsure."""
    sample = text[:sample_chars]
    if len(_LETTER.findall(sample)) < MIN_LETTERS:
        return UNDETERMINED
    try:
        code, confidence = _identifier().classify(sample)
    except (ValueError, UnicodeError):
        return UNDETERMINED
    code = _TO_ISO639_1.get(str(code), str(code))
    if len(code) != 2 or float(confidence) < MIN_CONFIDENCE:
        return UNDETERMINED
    return code
