"""A client-side record of every LLM reply, keyed by the request, so runs share calls.

The "before" and "after" runs send the same extraction request for a message (same stored
state, same prompt); the second one is answered from this record and only requests that the
guards change (a resolver call over other flags) reach the model. Usage is recorded with the
reply, so calls and tokens per add count what graphmem asked for, cached or not.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any

from graphmem.llm.client import LLMClient
from graphmem.models import Usage


class MissingReply(RuntimeError):
    """A request that has no recorded reply, in a run that may not ask the model for it."""


class ReplyCache:
    """offline: every reply must be recorded. recorded_only: calls with these names (e.g.
    "extract") must be recorded, others may go to the model (a replay that re-measures the
    messages already extracted, with new guards, without extracting new ones)."""

    def __init__(
        self, path: Path, *, offline: bool = False, recorded_only: frozenset[str] = frozenset()
    ) -> None:
        self.path = path
        self.offline = offline
        self.recorded_only = recorded_only
        self.entries: dict[str, dict[str, Any]] = {}
        self.hits = self.misses = 0
        self.seconds = 0.0  # spent on real calls
        self._lock = threading.Lock()
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    self.entries[row["key"]] = row

    def install(self, client: LLMClient) -> None:
        """Route the client's completions through the record."""
        real = client._call

        def call(msgs: list[dict[str, Any]], response_model: Any, name: str) -> tuple[str, Usage]:
            key = _key(client.model, client.mode, name, msgs)
            with self._lock:
                row = self.entries.get(key)
            if row is not None:
                self.hits += 1
                return row["content"], Usage(**row["usage"])
            if self.offline or name in self.recorded_only:
                raise MissingReply(f"no recorded reply for a {name} request")
            start = time.perf_counter()
            content, usage = real(msgs, response_model, name)
            took = time.perf_counter() - start
            row = {
                "key": key,
                "name": name,
                "model": client.model,
                "content": content,
                "usage": usage.model_dump(),
                "seconds": round(took, 2),
            }
            with self._lock:
                self.misses += 1
                self.seconds += took
                self.entries[key] = row
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as fp:
                    fp.write(json.dumps(row, ensure_ascii=False) + "\n")
            return content, usage

        client._call = call  # type: ignore[method-assign]


def _key(model: str, mode: str, name: str, msgs: list[dict[str, Any]]) -> str:
    blob = json.dumps([model, mode, name, msgs], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
