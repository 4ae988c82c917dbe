"""An embedder that loads its model on first use.

Commands that embed nothing (list facts, history, delete, export) still open a Memory, which
asks its embedder for the vector size; loading torch and a model for that took 10-20 s per
command. The packaged MiniLM's size is known without loading it; any other model is loaded
when its size or a vector is first needed.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from graphmem.config import EmbedderConfig
from graphmem.embed.base import Embedder

MINILM_DIMS = 384  # all-MiniLM-L6-v2, the packaged default


class LazyEmbedder(Embedder):
    def __init__(self, config: EmbedderConfig) -> None:
        self._config = config
        self._loaded: Embedder | None = None
        self._lock = threading.Lock()
        self.name = config.provider

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def _model(self) -> Embedder:
        with self._lock:
            if self._loaded is None:
                from graphmem.embed import build_embedder

                self._loaded = build_embedder(self._config)
            return self._loaded

    @property
    def dims(self) -> int:
        if self._loaded is None:
            if self._config.dims is not None:
                return self._config.dims
            if self._config.provider == "sentence-transformers" and self._config.model is None:
                return MINILM_DIMS
        return self._model().dims

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._model().embed(texts)
