"""Deterministic token documents and fingerprints for the dedup tests."""

from __future__ import annotations

import random

import orjson

from streams.core.config import CoreConfig
from streams.core.dedup.config import DedupConfig
from streams.core.dedup.match import Candidate
from streams.core.dedup.minhash import fingerprint
from streams.core.dedup.model import Fingerprint, IndexEntry
from streams.core.prepare import Prepared, prepare_total
from streams.core.records import RawMessage

CONFIG = DedupConfig()
VOCABULARY = [f"w{i}" for i in range(4000)]


def document(seed: int, words: int = 600) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(VOCABULARY) for _ in range(words)]


def edited(tokens: list[str], rate: float, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(VOCABULARY) if rng.random() < rate else t for t in tokens]


def fp(tokens: list[str]) -> Fingerprint:
    return fingerprint(tokens, " ".join(tokens), CONFIG.minhash)


def prepared_text(paragraphs: list[str] | tuple[str, ...], article_id: str = "a",
                  event_time_ms: int = 0) -> Prepared:
    """An article through the stateless step (text path, fingerprint, profile)."""
    value = orjson.dumps({"id": article_id, "body": "\n".join(paragraphs)})
    prepared = prepare_total(RawMessage("articles.raw", 0, 0, None, value, event_time_ms),
                             CoreConfig())
    assert isinstance(prepared, Prepared), prepared
    return prepared


def candidate(prepared: Prepared) -> Candidate:
    return Candidate(prepared.fingerprint, prepared.event_time_ms, prepared.profile)


def indexed(prepared: Prepared, exact_below: int = CONFIG.verify.exact_below_shingles
            ) -> IndexEntry:
    """``prepared`` as the index keeps it."""
    return IndexEntry(prepared.id, prepared.event_time_ms, prepared.fingerprint, prepared.id,
                      profile=prepared.profile.for_index(exact_below))
