from __future__ import annotations

import numpy as np
import pytest
import xxhash
from datasketch import MinHash

from streams.core.dedup.config import LSHConfig, MinHashConfig
from streams.core.dedup.lsh import band_keys
from streams.core.dedup.minhash import (
    content_hash,
    fingerprint,
    minhash_signature,
    outside_share,
    shingle_hashes,
)
from streams.core.dedup.similarity import estimated_jaccard
from tests.core.dedup.helpers import CONFIG, document, edited

FOX = ["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"]


def test_content_hash_golden() -> None:
    assert content_hash("the quick brown fox") == "2830e9c6299d0ff9ab2ec4cf7e8d85d2"


def test_shingle_hashes_golden() -> None:
    hashes = shingle_hashes(FOX, 3)
    assert hashes.dtype == np.uint64
    assert hashes.size == 7
    assert hashes[:3].tolist() == [4027524075244861615, 4461180884074346800, 5587912275220284305]


def test_signature_golden() -> None:
    signature = minhash_signature(shingle_hashes(FOX, 3), MinHashConfig())
    assert signature.dtype == np.uint32
    assert signature.shape == (128,)
    assert signature[:8].tolist() == [
        1016608839,
        354484724,
        769271947,
        195175385,
        1663742128,
        473236011,
        110111816,
        1007732497,
    ]
    assert int(signature.astype(np.uint64).sum()) == 73321308406


def test_band_keys_golden() -> None:
    signature = minhash_signature(shingle_hashes(FOX, 3), MinHashConfig())
    keys = band_keys(signature, LSHConfig())
    assert len(keys) == 32
    assert keys[:3] == [1794041008668637804, 9359979974077404863, 6455052118301970162]


def test_band_index_is_mixed_into_keys() -> None:
    signature = np.zeros(128, dtype=np.uint32)
    assert len(set(band_keys(signature, LSHConfig()))) == 32


def test_shingles_are_distinct() -> None:
    assert shingle_hashes(["a", "b", "c"] * 10, 3).size == 3


def test_fewer_tokens_than_k_form_one_shingle() -> None:
    assert shingle_hashes(["a", "b"], 3).size == 1
    assert shingle_hashes(["a", "b"], 3).tolist() != shingle_hashes(["a", "c"], 3).tolist()


def test_no_tokens_no_shingles() -> None:
    assert shingle_hashes([], 3).size == 0
    empty = fingerprint([], "", MinHashConfig())
    assert empty.shingle_count == 0
    assert (empty.signature == np.iinfo(np.uint32).max).all()


def test_fingerprint_fields() -> None:
    result = fingerprint(FOX, " ".join(FOX), MinHashConfig())
    assert result.content_hash == content_hash(" ".join(FOX))
    assert result.shingle_count == 7


def test_seed_changes_signature() -> None:
    hashes = shingle_hashes(FOX, 3)
    a = minhash_signature(hashes, MinHashConfig(seed=1))
    b = minhash_signature(hashes, MinHashConfig(seed=2))
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("rate", [0.02, 0.05, 0.1, 0.3])
def test_estimated_jaccard_close_to_exact_and_datasketch(rate: float) -> None:
    config = MinHashConfig(num_perm=256)
    a_tokens = document(1)
    b_tokens = edited(a_tokens, rate, seed=2)
    a_hashes, b_hashes = shingle_hashes(a_tokens, 3), shingle_hashes(b_tokens, 3)
    a_set, b_set = set(a_hashes.tolist()), set(b_hashes.tolist())
    exact = len(a_set & b_set) / len(a_set | b_set)
    ours = estimated_jaccard(
        minhash_signature(a_hashes, config), minhash_signature(b_hashes, config)
    )
    reference_a, reference_b = MinHash(num_perm=256, seed=3), MinHash(num_perm=256, seed=3)
    reference_a.update_batch([str(h).encode() for h in a_set])
    reference_b.update_batch([str(h).encode() for h in b_set])
    theirs = reference_a.jaccard(reference_b)
    # 3 standard errors of a 256-permutation estimate (<= 0.031 at J = 0.5)
    assert abs(ours - exact) < 0.095
    assert abs(ours - theirs) < 0.13


def test_shingle_hashes_are_the_sorted_distinct_hashes_of_the_k_grams() -> None:
    tokens = document(21, words=300) + document(21, words=300)[:50]
    grams = {" ".join(tokens[i:i + 3]) for i in range(len(tokens) - 2)}
    expected = sorted({xxhash.xxh3_64_intdigest(g.encode()) for g in grams})
    assert len(expected) < len(tokens) - 2  # the repeated prefix gives repeated shingles
    assert shingle_hashes(tokens, 3).tolist() == expected


@pytest.mark.parametrize("words", [10, 100, 1000, 5000])
def test_distinct_shingles_whatever_was_computed_before(words: int) -> None:
    """Each size twice, all-distinct first: a mask computed into uninitialised memory would
    inherit the previous call's all-true pattern and keep the repeats of the second."""
    unique = [f"u{i}" for i in range(words)]
    repeated = ["a", "b", "c", "d"] * (words // 4)
    for _ in range(3):
        assert shingle_hashes(unique, 3).size == words - 2
        assert shingle_hashes(repeated, 3).size == 4


def test_fewer_tokens_than_k_hash_the_space_joined_tokens() -> None:
    assert shingle_hashes(["a", "b"], 3).tolist() == [xxhash.xxh3_64_intdigest(b"a b")]


def test_empty_inputs_keep_their_dtypes() -> None:
    assert shingle_hashes([], 3).dtype == np.uint64
    empty = minhash_signature(shingle_hashes([], 3), MinHashConfig())
    assert empty.dtype == np.uint32


def test_one_shingle_has_a_real_signature() -> None:
    signature = minhash_signature(shingle_hashes(["a", "b", "c"], 3), MinHashConfig())
    assert not (signature == np.iinfo(np.uint32).max).any()
    assert signature.tolist() != minhash_signature(shingle_hashes(["a", "b", "d"], 3),
                                                   MinHashConfig()).tolist()
def test_outside_share_estimates_what_a_small_set_lacks_in_a_large_one() -> None:
    rng = np.random.default_rng(4)
    config = CONFIG.minhash
    estimates = []
    for _ in range(200):
        small = rng.integers(0, 2**63, size=60, dtype=np.uint64)
        large = np.concatenate([small[:54], rng.integers(0, 2**63, size=546, dtype=np.uint64)])
        estimates.append(outside_share(small, minhash_signature(large, config), 600, config))
    assert abs(float(np.mean(estimates)) - 0.1) < 0.01  # unbiased: 6 of 60 are outside
    inside = rng.integers(0, 2**63, size=600, dtype=np.uint64)
    assert outside_share(inside[:60], minhash_signature(inside, config), 600, config) == 0.0
    assert outside_share(np.empty(0, dtype=np.uint64), minhash_signature(inside, config), 600,
                         config) == 0.0


def test_outside_share_counts_each_shingle_below_a_minimum_as_other_count_plus_one() -> None:
    """A shingle outside a set of ``n`` beats its minimum with chance ``1 / (n + 1)``: each
    such event stands for ``n + 1`` shingles, so the estimate is proportional to ``n + 1``
    (exactly: the count of events is the same) and capped at the whole set."""
    rng = np.random.default_rng(5)
    config = CONFIG.minhash
    small = rng.integers(0, 2**63, size=60, dtype=np.uint64)
    signature = minhash_signature(rng.integers(0, 2**63, size=600, dtype=np.uint64), config)
    one, three = (outside_share(small, signature, n, config) for n in (1, 3))
    assert 0.0 < one < three < 1.0
    assert three == 2 * one
    assert outside_share(small, signature, 0, config) == one / 2
    assert outside_share(small, signature, 100_000, config) == 1.0  # every shingle, at most
