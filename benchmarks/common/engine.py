"""Building graphmem Memory objects and embedders for the benchmarks, and timing its search."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

EMBEDDERS = ("sentence-transformers", "hashing")


def embedder_config(kind: str) -> dict[str, Any]:
    if kind == "hashing":
        return {"provider": "hashing", "dims": 384}
    if kind == "sentence-transformers":
        return {"provider": "sentence-transformers"}
    raise ValueError(f"unknown embedder {kind!r}; choose from {EMBEDDERS}")


def set_threads(threads: int | None) -> None:
    """Pin torch's intra-op threads (None: torch's default, one per core). On a shared,
    oversubscribed machine one thread is often faster than two busy-waiting ones."""
    if threads:
        import torch

        torch.set_num_threads(threads)


def add_threads_arg(parser) -> None:
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch intra-op threads for the embedder (default: torch's choice, one per core)",
    )


def build_embedder(kind: str, threads: int | None = None):
    """One embedder, shared by graphmem and the baselines so the model loads once."""
    set_threads(threads)
    from graphmem.config import EmbedderConfig
    from graphmem.embed import build_embedder as _build

    return _build(EmbedderConfig(**embedder_config(kind)))


def build_memory(
    *,
    embedder=None,
    embedder_kind: str = "sentence-transformers",
    store: str = "sqlite",
    path: str = ":memory:",
    extractor: str = "rules",
    llm: dict[str, Any] | None = None,
    retrieval: dict[str, Any] | None = None,
    clock=None,
):
    """A Memory for a benchmark. `store` is "sqlite" (file path or ":memory:") or "neo4j"
    (connection from NEO4J_URI / NEO4J_USER / NEO4J_PASSWORD / NEO4J_DATABASE)."""
    from graphmem.config import MemoryConfig
    from graphmem.memory import Memory

    config: dict[str, Any] = {
        "store": {"provider": "sqlite", "path": path}
        if store == "sqlite"
        else {"provider": "neo4j"},
        "embedder": embedder_config(embedder_kind),
        "extractor": extractor,
    }
    if llm:
        config["llm"] = llm
    if retrieval:
        config["retrieval"] = retrieval
    kwargs: dict[str, Any] = {}
    if embedder is not None:
        kwargs["embedder"] = embedder
    if clock is not None:
        kwargs["clock"] = clock
    return Memory(MemoryConfig.from_dict(config), **kwargs)


@dataclass
class GraphRetrieval:
    """graphmem's answer to one query at one budget, in the benchmark's terms."""

    context: str
    hits: list[dict[str, Any]]  # results that fit in the context, best first
    tokens: int
    seconds: float
    entities: list[str] = field(default_factory=list)


def graph_search(
    memory, query: str, user_id: str, budget: int, limit: int = 200, **kw
) -> GraphRetrieval:
    from benchmarks.common.tokens import count_tokens

    start = time.perf_counter()
    out = memory.search(query, user_id=user_id, limit=limit, token_budget=budget, **kw)
    seconds = time.perf_counter() - start
    context = out.get("context") or ""
    return GraphRetrieval(
        context=context,
        hits=list(out.get("results") or []),
        tokens=count_tokens(context) if context else 0,
        seconds=seconds,
        entities=list(out.get("entities") or []),
    )


def llm_endpoint() -> dict[str, str] | None:
    """The OpenAI-compatible endpoint named in the environment, or None (offline)."""
    base = os.environ.get("OPENAI_BASE_URL", "").strip()
    key = os.environ.get("OPENAI_API_KEY", "").strip()
    model = os.environ.get("GRAPHMEM_LLM_MODEL", "").strip()
    if not (base or key):
        return None
    out = {"base_url": base or "", "api_key": key or "not-needed", "model": model or "gpt-4o-mini"}
    return out
