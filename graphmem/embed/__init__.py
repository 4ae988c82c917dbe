"""Embedders: sentence-transformers (default, offline MiniLM), OpenAI-compatible, hashing."""

from __future__ import annotations

from graphmem.config import EmbedderConfig
from graphmem.embed.base import Embedder
from graphmem.embed.hashing import HashingEmbedder

__all__ = ["Embedder", "HashingEmbedder", "build_embedder"]


def build_embedder(config: EmbedderConfig) -> Embedder:
    if config.provider == "hashing":
        return HashingEmbedder(config.dims or 384)
    if config.provider == "openai":
        from graphmem.embed.openai_compat import OpenAIEmbedder
        from graphmem.extras import require

        require("openai", "the openai embedder")

        return OpenAIEmbedder(
            config.model or "text-embedding-3-small",
            dims=config.dims,
            base_url=config.base_url,
            api_key=config.api_key,
            batch_size=config.batch_size,
        )
    from graphmem.embed.sentence import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(
        config.model, device=config.device, batch_size=config.batch_size, dims=config.dims
    )
