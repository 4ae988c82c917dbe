"""The embedder contract: texts in, L2-normalised float32 vectors out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np


class Embedder(ABC):
    """Turns texts into unit vectors, so a dot product is a cosine similarity."""

    name: str = "embedder"

    @property
    @abstractmethod
    def dims(self) -> int: ...

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """A (len(texts), dims) float32 array of unit vectors; empty input gives (0, dims)."""

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms
