"""Language identification."""

from __future__ import annotations

import pytest

from streams.core.text import language
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


class FakeDetector:
    """Stands in for fastText: answers ``lang`` with ``score`` and records what it was given."""

    def __init__(self, lang: str, score: float) -> None:
        self.answer = [{"lang": lang, "score": score}]
        self.samples: list[str] = []

    def detect(self, sample: str, model: str, k: int) -> list[dict[str, object]]:
        self.samples.append(sample)
        return self.answer


def fake(monkeypatch: pytest.MonkeyPatch, lang: str = "en", score: float = 0.9) -> FakeDetector:
    detector = FakeDetector(lang, score)
    monkeypatch.setattr(language, "_detector", lambda: detector)
    return detector


@pytest.mark.parametrize(("text", "expected"), [
    ("abcde fghijk 123", "und"),  # 11 letters: too little evidence
    ("abcdef ghijkl 123", "en"),  # 12 letters
])
def test_at_least_12_letters_are_needed(
    monkeypatch: pytest.MonkeyPatch, text: str, expected: str
) -> None:
    fake(monkeypatch)
    assert detect_language(text) == expected


@pytest.mark.parametrize(("score", "expected"), [(0.5, "en"), (0.4999, "und")])
def test_a_guess_needs_a_score_of_at_least_0_5(
    monkeypatch: pytest.MonkeyPatch, score: float, expected: str
) -> None:
    fake(monkeypatch, score=score)
    assert detect_language("The council approved the harbour wall.") == expected


@pytest.mark.parametrize(("lang", "expected"), [("yue", "zh"), ("arz", "ar"), ("ceb", "und")])
def test_model_labels_become_iso_639_1_codes(
    monkeypatch: pytest.MonkeyPatch, lang: str, expected: str
) -> None:
    fake(monkeypatch, lang=lang)
    assert detect_language("The council approved the harbour wall.") == expected


def test_only_the_first_240_characters_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    detector = fake(monkeypatch)
    text = "word " * 100
    detect_language(text)
    assert detector.samples == [text[:240]]


@pytest.mark.parametrize(("tag", "expected"), [
    ("de", "de"), ("EN-gb", "en"), ("pt_BR", "pt"), ("zh-Hant-TW", "zh"), ("sr-Latn", "sr"),
    ("yue", "zh"), ("iw", "he"), ("in", "id"), ("  it  ", "it"),
    ("deu", None), ("eng", None), ("und", None), ("zxx", None), ("xx", None), ("d", None),
    ("de-", None), ("de CH", None), ("de-CH.UTF-8", None), ("", None), (7, None), (None, None),
])
def test_language_of_tag(tag: object, expected: str | None) -> None:
    assert language.language_of_tag(tag) == expected
