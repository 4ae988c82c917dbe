"""graphmem: graph-augmented long-term memory for LLM agents.

    from graphmem import Memory
    memory = Memory()                      # embedded store, offline MiniLM embedder
    memory.add("I moved to Porto in May 2024", user_id="ana")
    memory.search("where does Ana live?", user_id="ana")

The names below are imported on first use (PEP 562), so `import graphmem.cli` or
`import graphmem.errors` does not pay for numpy, pydantic and the stores up front.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "MemoryConfig": "graphmem.config",
    "ConfigError": "graphmem.errors",
    "ConflictError": "graphmem.errors",
    "ExtractionError": "graphmem.errors",
    "GraphmemError": "graphmem.errors",
    "InputError": "graphmem.errors",
    "LLMError": "graphmem.errors",
    "NotFoundError": "graphmem.errors",
    "ScopeError": "graphmem.errors",
    "StoreError": "graphmem.errors",
    "AsyncMemory": "graphmem.async_memory",
    "Memory": "graphmem.memory",
    "AddResult": "graphmem.models",
    "Entity": "graphmem.models",
    "Episode": "graphmem.models",
    "Fact": "graphmem.models",
    "Scope": "graphmem.models",
    "SearchResult": "graphmem.models",
}

__all__ = [
    "AddResult",
    "AsyncMemory",
    "ConfigError",
    "ConflictError",
    "Entity",
    "Episode",
    "ExtractionError",
    "Fact",
    "GraphmemError",
    "InputError",
    "LLMError",
    "Memory",
    "MemoryConfig",
    "NotFoundError",
    "Scope",
    "ScopeError",
    "SearchResult",
    "StoreError",
]

if TYPE_CHECKING:
    from graphmem.async_memory import AsyncMemory
    from graphmem.config import MemoryConfig
    from graphmem.errors import (
        ConfigError,
        ConflictError,
        ExtractionError,
        GraphmemError,
        InputError,
        LLMError,
        NotFoundError,
        ScopeError,
        StoreError,
    )
    from graphmem.memory import Memory
    from graphmem.models import AddResult, Entity, Episode, Fact, Scope, SearchResult


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'graphmem' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
