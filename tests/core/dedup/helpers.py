"""Deterministic token documents and fingerprints for the dedup tests."""

from __future__ import annotations

import random

from streams.core.dedup.config import DedupConfig
from streams.core.dedup.minhash import fingerprint
from streams.core.dedup.model import Fingerprint

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
