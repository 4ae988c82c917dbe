"""MemoryService: one Memory, served. Each call checks the caller's Principal, then runs the
(synchronous) Memory method in a worker thread, so the event loop never blocks.

Reads and writes get separate thread pools: a burst of adds (extraction, embedding, the write)
never makes a search wait for a thread. Writes are counted, so shutdown can wait for the ones
in flight before the store is closed (nothing half-written, no acknowledged write lost).

The wrapping stays thin on purpose: arguments are passed through by keyword only when given,
so the server keeps working, unchanged, as Memory gains parameters.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any, TypeVar

import anyio

from graphmem.errors import InputError, NotFoundError
from graphmem.server.auth import ForbiddenError, Principal
from graphmem.server.settings import ServerSettings

T = TypeVar("T")


def _given(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}


class MemoryService:
    def __init__(self, memory: Any, settings: ServerSettings) -> None:
        self.memory = memory
        self.settings = settings
        self._reads = anyio.CapacityLimiter(settings.read_threads)
        self._writes = anyio.CapacityLimiter(settings.write_threads)
        self._in_flight = 0
        self._idle: anyio.Event | None = None

    # -- running Memory calls ----------------------------------------------------------------
    async def _read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs), limiter=self._reads)

    async def _write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A write runs to completion even if its client goes away or the server is told to
        stop: the worker thread is never abandoned, and drain() waits for it."""
        self._in_flight += 1
        try:
            with anyio.CancelScope(shield=True):
                return await anyio.to_thread.run_sync(
                    lambda: fn(*args, **kwargs), limiter=self._writes
                )
        finally:
            self._in_flight -= 1
            if self._in_flight == 0 and self._idle is not None:
                self._idle.set()

    async def drain(self) -> bool:
        """Wait (up to settings.drain_seconds) for in-flight writes; True when none is left."""
        with anyio.move_on_after(self.settings.drain_seconds):
            while self._in_flight:
                self._idle = anyio.Event()
                await self._idle.wait()
        return self._in_flight == 0

    @property
    def writes_in_flight(self) -> int:
        return self._in_flight

    # -- scope and ownership -----------------------------------------------------------------
    @staticmethod
    def _scope_args(
        who: Principal, user_id: Any, agent_id: Any = None, run_id: Any = None
    ) -> dict[str, Any]:
        return _given(user_id=who.user(user_id), agent_id=agent_id, run_id=run_id)

    async def _owned(self, who: Principal, memory_id: Any) -> dict[str, Any]:
        """The memory, if this principal may see it; another user's memory is 'not found',
        exactly as an unknown id is, so refusals reveal nothing."""
        fact = await self._read(self.memory.get, memory_id)  # None when unknown, as in Mem0
        if fact is None or (not who.admin and fact.get("user_id") not in who.users):
            raise NotFoundError(f"no fact with id {str(memory_id).strip()!r}")
        return fact

    # -- the Memory API ----------------------------------------------------------------------
    async def add(
        self,
        who: Principal,
        messages: Any,
        user_id: Any = None,
        agent_id: Any = None,
        run_id: Any = None,
        metadata: Any = None,
        timestamp: Any = None,
        infer: bool = True,
    ) -> dict[str, Any]:
        scope = self._scope_args(who, user_id, agent_id, run_id)
        extra = _given(metadata=metadata, timestamp=timestamp)
        result = await self._write(self.memory.add, messages, infer=infer, **scope, **extra)
        return _plain(result)

    async def add_facts(
        self,
        who: Principal,
        facts: Any,
        user_id: Any = None,
        agent_id: Any = None,
        run_id: Any = None,
        timestamp: Any = None,
    ) -> dict[str, Any]:
        scope = self._scope_args(who, user_id, agent_id, run_id)
        result = await self._write(
            self.memory.add_facts, facts, **scope, **_given(timestamp=timestamp)
        )
        return _plain(result)

    async def reprocess(
        self, who: Principal, user_id: Any = None, agent_id: Any = None, run_id: Any = None
    ) -> list[dict[str, Any]]:
        """Finish failed or pending episodes: one user's (every user's only for an admin)."""
        scope = self._scope_args(who, user_id, agent_id, run_id)
        results = await self._write(self.memory.reprocess, **scope)
        return [_plain(r) for r in results]

    async def episodes(
        self, who: Principal, user_id: Any = None, agent_id: Any = None, run_id: Any = None
    ) -> list[dict[str, Any]]:
        scope = self._scope_args(who, user_id, agent_id, run_id)
        found = await self._read(self.memory.episodes, **scope)
        return [e.model_dump(mode="json") for e in found]

    async def reset(self, who: Principal) -> dict[str, Any]:
        """Delete every user's memories: an admin key only."""
        if not who.admin:
            raise ForbiddenError(f"{who.label} may not reset the store (admin keys only)")
        await self._write(self.memory.reset)
        return {"message": "memory reset"}

    async def search(
        self,
        who: Principal,
        query: Any,
        user_id: Any = None,
        agent_id: Any = None,
        run_id: Any = None,
        limit: Any = None,
        as_of: Any = None,
        threshold: Any = None,
        **options: Any,
    ) -> dict[str, Any]:
        scope = self._scope_args(who, user_id, agent_id, run_id)
        extra = _given(limit=limit, as_of=as_of, threshold=threshold, **options)
        found = await self._read(self.memory.search, query, **scope, **extra)
        return found

    async def get_all(
        self,
        who: Principal,
        user_id: Any = None,
        agent_id: Any = None,
        run_id: Any = None,
        limit: Any = None,
        include_history: Any = None,
    ) -> dict[str, Any]:
        scope = self._scope_args(who, user_id, agent_id, run_id)
        extra = _given(limit=limit, include_history=include_history)
        return await self._read(self.memory.get_all, **scope, **extra)

    async def get(self, who: Principal, memory_id: Any) -> dict[str, Any]:
        return await self._owned(who, memory_id)

    async def history(self, who: Principal, memory_id: Any) -> list[dict[str, Any]]:
        fact = await self._owned(who, memory_id)
        return await self._read(self.memory.history, fact["id"])

    async def update(self, who: Principal, memory_id: Any, data: Any) -> dict[str, Any]:
        fact = await self._owned(who, memory_id)
        return await self._write(self.memory.update, fact["id"], data)

    async def delete(self, who: Principal, memory_id: Any) -> dict[str, Any]:
        fact = await self._owned(who, memory_id)
        return await self._write(self.memory.delete, fact["id"])

    async def delete_all(
        self, who: Principal, user_id: Any = None, agent_id: Any = None, run_id: Any = None
    ) -> dict[str, Any]:
        scope = self._scope_args(who, user_id, agent_id, run_id)
        return await self._write(self.memory.delete_all, **scope)

    # -- graph reads ---------------------------------------------------------------------------
    async def explain(self, who: Principal, memory_id: Any, query: Any = None) -> dict[str, Any]:
        fact = await self._owned(who, memory_id)
        return await self._read(self.memory.explain, fact["id"], query)

    async def entity(
        self, who: Principal, name: Any, user_id: Any = None, agent_id: Any = None
    ) -> dict[str, Any]:
        scope = self._scope_args(who, user_id, agent_id)
        return await self._read(self.memory.entity, name, **scope)

    async def timeline(
        self, who: Principal, name: Any, user_id: Any = None, agent_id: Any = None
    ) -> dict[str, Any]:
        scope = self._scope_args(who, user_id, agent_id)
        return await self._read(self.memory.entity_timeline, name, **scope)

    # -- export / import -----------------------------------------------------------------------
    async def export(self, who: Principal, user_id: Any) -> str:
        from graphmem.transfer import export_jsonl

        user = who.user(user_id)
        if user is None:
            raise InputError("user_id is required")
        out = io.StringIO()
        await self._read(export_jsonl, self.memory.store, user, out)
        return out.getvalue()

    async def import_(self, who: Principal, text: str, user_id: Any = None) -> dict[str, int]:
        from graphmem.transfer import import_jsonl

        if user_id is None:
            user_id = _exported_user(text)
        user = who.user(user_id)
        lines = text.splitlines()
        return await self._write(
            import_jsonl, self.memory.store, lines, user_id=user, embedder=self.memory.embedder
        )

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "store": type(self.memory.store).__name__,
            "writes_in_flight": self._in_flight,
        }


def _plain(result: Any) -> dict[str, Any]:
    """An add's result as JSON: a Mem0-shaped dict (Memory.add with Mem0 compatibility) as it
    is, an AddResult dumped."""
    return dict(result) if isinstance(result, dict) else result.model_dump(mode="json")


def _exported_user(text: str) -> Any:
    first = text.split("\n", 1)[0]
    try:
        header = json.loads(first)
    except ValueError:
        raise InputError("line 1: not JSON; expected an export header") from None
    if not isinstance(header, dict) or "user_id" not in header:
        raise InputError("line 1: expected an export header with user_id")
    return header["user_id"]
