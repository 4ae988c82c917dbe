"""Embeddings from any OpenAI-compatible /v1/embeddings endpoint, through the openai SDK."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from graphmem.embed.base import Embedder, normalize_rows
from graphmem.errors import ConfigError, LLMError


class OpenAIEmbedder(Embedder):
    name = "openai"

    def __init__(
        self,
        model: str = "text-embedding-3-small",
        *,
        dims: int | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        batch_size: int = 64,
        timeout: float = 60.0,
        max_retries: int = 2,
    ) -> None:
        import openai

        try:
            self._client = openai.OpenAI(
                base_url=base_url, api_key=api_key, timeout=timeout, max_retries=max_retries
            )
        except openai.OpenAIError as exc:
            raise ConfigError(f"openai embedder: {exc}") from exc
        self.model_name = model
        self._requested_dims = dims
        self._dims = dims
        self._batch_size = batch_size

    @property
    def dims(self) -> int:
        if self._dims is None:
            self._dims = int(self.embed(["dimension probe"]).shape[1])
        return self._dims

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import openai

        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        rows: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            chunk = [t if t.strip() else " " for t in texts[start : start + self._batch_size]]
            kwargs = {"model": self.model_name, "input": chunk}
            if self._requested_dims:
                kwargs["dimensions"] = self._requested_dims
            try:
                resp = self._client.embeddings.create(**kwargs)
            except openai.OpenAIError as exc:
                raise LLMError(
                    f"embeddings request to {self._client.base_url} failed: {exc}"
                ) from exc
            rows.extend(item.embedding for item in sorted(resp.data, key=lambda d: d.index))
        matrix = normalize_rows(np.asarray(rows, dtype=np.float32))
        if self._dims is None:
            self._dims = int(matrix.shape[1])
        return matrix
