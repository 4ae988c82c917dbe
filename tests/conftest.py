"""Shared fixtures: deterministic clocks, fast in-memory Memory objects, the real MiniLM."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Never let a developer's real endpoint or key leak into tests.
for _var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "GRAPHMEM_LLM_MODEL"):
    os.environ.pop(_var, None)


class Clock:
    """An injectable clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2024, 6, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_memory(clock=None, **config):
    from graphmem import Memory, MemoryConfig

    base = {
        "store": {"provider": "sqlite", "path": ":memory:"},
        "embedder": {"provider": "hashing", "dims": 256},
        "extractor": "rules",
    }
    for key, value in config.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return Memory(MemoryConfig.from_dict(base), clock=clock or Clock())


@pytest.fixture
def memory(clock):
    mem = make_memory(clock)
    yield mem
    mem.close()


@pytest.fixture(scope="session")
def minilm():
    """The real default embedder, loaded once per test session (a few seconds)."""
    from graphmem.embed.sentence import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()
