"""A small labelled stream for the real-broker tests, built at run time from the bundled samples.

The four distinct articles among the samples (000, 001, 002, 003: one story told by four
newsrooms, so every pair is a hard negative) are the clusters; 004 is 001 without its
footer. Each cluster gets copies made from the article's paragraphs: an exact re-send, a
reflowed one, a whole HTML page, one with publisher chrome, a copy-edit, a truncation and
one with a paragraph dropped. Every message has a random event time and the stream a random
arrival order, so the kept article of a cluster (the earliest by ``(event time, id)``) often
arrives after its copies.

The truth is the label, not another run of the core: :func:`expected_kept` is one id per
cluster. Nothing here is a copy of a sample file, and nothing comes from ``bench/`` (whose
larger generator ``bench/corpus.py`` serves the evaluation and the benchmarks).
"""

from __future__ import annotations

import html
import random
from dataclasses import dataclass

import orjson

from streams.core.text.article import normalize_article
from tests.harness import SAMPLES

KINDS = ("exact", "reflow", "html", "chrome", "copyedit", "truncate", "para_drop")
HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class Labelled:
    """One raw article and the cluster (the article) it belongs to."""

    id: str
    body: str
    content_type: str | None
    cluster: str
    kind: str
    event_time_ms: int

    def value(self) -> bytes:
        envelope: dict[str, str] = {"id": self.id, "body": self.body}
        if self.content_type:
            envelope["content_type"] = self.content_type
        return orjson.dumps(envelope)


def _variant(  # noqa: PLR0911 - one branch per kind of copy
    kind: str, paragraphs: list[str], rng: random.Random
) -> tuple[str, str | None]:
    if kind == "exact":
        return "\n\n".join(paragraphs), None
    if kind == "reflow":
        return "\n\n".join("  ".join(p.split(" ")) for p in paragraphs), None
    if kind == "html":
        body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
        page = (f"<!doctype html><html><head><title>{html.escape(paragraphs[0][:60])}</title>"
                f"</head><body><article>{body}</article></body></html>")
        return page, None
    if kind == "chrome":
        chrome = ["READ MORE: Ministers face questions over licences", *paragraphs,
                  "Advertisement", "Subscribe to our newsletter for the day's top stories.",
                  "© 2024 Example Media Ltd. All rights reserved."]
        return "\n\n".join(chrome), None
    if kind == "copyedit":
        words = "\n\n".join(paragraphs).split(" ")
        for i in rng.sample(range(len(words)), len(words) // 40):  # 2.5 % of the words
            words[i] = "indeed"
        return " ".join(words), None
    if kind == "truncate":
        words = "\n\n".join(paragraphs).split(" ")
        return " ".join(words[: int(len(words) * 0.85)]), None
    if kind == "para_drop":
        # Samples 002 and 003 are one paragraph each: drop a sentence from them instead.
        units = paragraphs if len(paragraphs) >= 3 else paragraphs[0].split(". ")
        dropped = rng.randrange(1, len(units) - 1)
        joiner = "\n\n" if units is paragraphs else ". "
        return joiner.join(u for i, u in enumerate(units) if i != dropped), None
    raise ValueError(kind)


def stream(seed: int = 7, kinds_per_cluster: int = 4) -> list[Labelled]:
    """The samples and ``kinds_per_cluster`` copies of each distinct one, in arrival order."""
    rng = random.Random(seed)

    def when() -> int:
        return rng.randrange(48 * HOUR_MS)

    messages = []
    for path in SAMPLES:
        number = path.stem[:3]
        cluster = "001" if number == "004" else number
        messages.append(Labelled(path.stem, path.read_text("utf-8"), None, cluster,
                                 "footerless" if number == "004" else "original", when()))
        if number == "004":
            continue
        paragraphs = list(normalize_article(path.read_text("utf-8")).paragraphs)
        for kind in rng.sample(KINDS, kinds_per_cluster):
            body, content_type = _variant(kind, paragraphs, rng)
            messages.append(Labelled(f"{number}-{kind}", body, content_type, cluster, kind,
                                     when()))
    rng.shuffle(messages)
    return messages


def expected_kept(messages: list[Labelled]) -> set[str]:
    """One id per cluster: the earliest message by ``(event time, id)``."""
    first: dict[str, Labelled] = {}
    for m in messages:
        best = first.get(m.cluster)
        if best is None or (m.event_time_ms, m.id) < (best.event_time_ms, best.id):
            first[m.cluster] = m
    return {m.id for m in first.values()}


def expected_roots(messages: list[Labelled]) -> dict[str, str]:
    """Every id -> the id its cluster keeps."""
    kept = {m.cluster: m.id for m in messages if m.id in expected_kept(messages)}
    return {m.id: kept[m.cluster] for m in messages}
