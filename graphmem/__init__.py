"""graphmem: graph-augmented long-term memory for LLM agents.

    from graphmem import Memory
    memory = Memory()                      # embedded store, offline MiniLM embedder
    memory.add("I moved to Porto in May 2024", user_id="ana")
    memory.search("where does Ana live?", user_id="ana")
"""

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

__version__ = "0.1.0"

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
