"""Language identification."""

from __future__ import annotations

import pytest

from streams.core.text.language import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The diplomat resigned from the Foreign Office over arms sales to Israel.", "en"),
        ("Der Diplomat ist wegen der Waffenverkäufe an Israel zurückgetreten.", "de"),
        ("Le diplomate a démissionné du ministère en raison des ventes d'armes.", "fr"),
        ("一名英国外交官因对以色列的武器销售而辞职，他表示政府可能参与战争罪。", "zh"),
        ("", "und"),
        ("ok", "und"),
        ("12345 67890 !!!", "und"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected
