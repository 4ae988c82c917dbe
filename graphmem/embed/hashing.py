"""A deterministic hashing embedder: no model, no network, stable across runs and machines.

Meant for fast tests and for measuring the engine apart from the embedding model. Words and
character trigrams are hashed (blake2b, not Python's salted hash) into signed buckets, so texts
that share words or word pieces land near each other.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from graphmem.embed.base import Embedder, normalize_rows

_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder(Embedder):
    name = "hashing"

    def __init__(self, dims: int = 384) -> None:
        if dims < 8:
            raise ValueError("hashing embedder needs at least 8 dimensions")
        self._dims = dims

    @property
    def dims(self) -> int:
        return self._dims

    def _bucket(self, token: str) -> tuple[int, float]:
        digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        return value % self._dims, 1.0 if (value >> 63) & 1 else -1.0

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self._dims, dtype=np.float32)
        words = _WORD.findall(text.casefold())
        for word in words:
            idx, sign = self._bucket("w:" + word)
            vec[idx] += 2.0 * sign
            padded = f"#{word}#"
            for i in range(max(1, len(padded) - 2)):
                idx, sign = self._bucket("c:" + padded[i : i + 3])
                vec[idx] += 0.5 * sign
        return vec

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dims), dtype=np.float32)
        return normalize_rows(np.stack([self._vector(t) for t in texts]))
