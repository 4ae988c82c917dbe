"""AsyncMemory: Memory's API as coroutines, as Mem0's AsyncMemory offers it.

Each call runs the shared Memory's method in a worker thread (asyncio.to_thread), so the event
loop never blocks on the embedder, the store or an LLM call. Many concurrent calls on one loop
are safe: Memory is thread-safe (one lock per user around writes, reads run concurrently), and
the outcome of concurrent adds is the one some serial order of them would give.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

from graphmem.config import MemoryConfig
from graphmem.memory import Memory

# The Memory methods AsyncMemory offers as coroutines (same arguments, same results).
METHODS = (
    "add",
    "add_facts",
    "search",
    "get",
    "get_all",
    "history",
    "update",
    "delete",
    "delete_episode",
    "forget",
    "delete_all",
    "reset",
    "reprocess",
    "episodes",
    "entity",
    "entity_timeline",
    "explain",
)


class AsyncMemory:
    """`await memory.add(...)`, `await memory.search(...)`, ...: see Memory for each."""

    def __init__(
        self, config: MemoryConfig | None = None, *, memory: Memory | None = None, **kwargs: Any
    ) -> None:
        self.memory = memory or Memory(config, **kwargs)

    @classmethod
    async def from_config(
        cls,
        config: dict[str, Any] | MemoryConfig | None = None,
        *,
        config_dict: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> AsyncMemory:
        """`await AsyncMemory.from_config(config_dict=...)`, as in Mem0 (the store and the
        embedder are opened in a worker thread)."""
        memory = await asyncio.to_thread(
            Memory.from_config, config, config_dict=config_dict, **kwargs
        )
        return cls(memory=memory)

    async def close(self) -> None:
        await asyncio.to_thread(self.memory.close)

    async def __aenter__(self) -> AsyncMemory:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _coroutine(name: str) -> Callable[..., Any]:
    method = getattr(Memory, name)

    @functools.wraps(method)
    async def call(self: AsyncMemory, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(getattr(self.memory, name), *args, **kwargs)

    return call


for _name in METHODS:
    setattr(AsyncMemory, _name, _coroutine(_name))

__all__ = ["AsyncMemory"]
