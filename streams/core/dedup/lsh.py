"""LSH banding: a signature becomes ``bands`` 64-bit keys; sharing one key makes a candidate."""

from __future__ import annotations

import numpy as np
import xxhash

from streams.core.dedup.config import LSHConfig
from streams.core.dedup.model import Signature


def band_keys(signature: Signature, lsh_config: LSHConfig) -> list[int]:
    """One xxh3_64 key per band over the band's little-endian bytes, seeded by the band index.

    Seeding by the band index keeps equal rows in different bands apart, so all bands can
    share one dictionary.
    """
    rows = lsh_config.rows
    data = np.ascontiguousarray(signature[: lsh_config.bands * rows], dtype="<u4").tobytes()
    width = rows * 4
    return [
        xxhash.xxh3_64_intdigest(data[band * width : (band + 1) * width], seed=band)
        for band in range(lsh_config.bands)
    ]
