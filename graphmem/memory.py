"""Memory: the public facade (Mem0's API). It validates input, calls the add flow
(graphmem.ingest.flow) or the search flow (graphmem.recall.flow), and turns results into
Mem0-shaped dicts. It holds no policy: that lives in the flows and the components they call.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from graphmem.compat import (
    AddResponse,
    add_response,
    episode_memory,
    memory_dicts,
    relations_of,
    search_response,
)
from graphmem.config import MemoryConfig
from graphmem.embed import Embedder, build_embedder
from graphmem.errors import GraphmemError, InputError
from graphmem.extract.base import Extractor
from graphmem.filtered import FilteredStore
from graphmem.ingest.decide.policy import PolicyResolver
from graphmem.ingest.flags import UpdateResolver
from graphmem.ingest.flow import AddFlow
from graphmem.locks import PartitionLocks
from graphmem.memory_ops import MemoryOps
from graphmem.models import AddResult, Episode, Scope
from graphmem.normalize import clean_text, to_utc, utcnow
from graphmem.recall.flow import Retriever, SearchOptions
from graphmem.store import build_store
from graphmem.store.base import GraphStore
from graphmem.store.metadata_filter import Clauses, split_filters

log = logging.getLogger(__name__)

ROLES = frozenset({"user", "assistant", "system", "tool"})
MAX_BATCH_MESSAGES = 1000


class Memory(MemoryOps):
    """Graph memory for agents, with a Mem0-compatible surface.

    Concurrency. One Memory may be shared by many threads. Inside a process, the write step of
    adds to the same partition (user) is serialised by a lock per partition; extraction, adds
    to different users and all reads run concurrently. Several processes (or several Memory
    objects) may share one store: each add is planned against the graph it read (the
    partition version, GraphStore.partition_version) and applied in one transaction that the
    store refuses with ConflictError when another writer got in between (or took the same
    entity key first); the add is then re-planned against the new graph and retried, so the
    outcome is the one some serial order of the adds would give. A write still refused after
    graphmem.locks.WRITE_ATTEMPTS attempts leaves its episodes failed (AddResult.pending) for
    reprocess(). SQLite lock contention is retried inside the store. From asyncio, use AsyncMemory
    (graphmem.async_memory), the same methods as coroutines.
    """

    def __init__(
        self,
        config: MemoryConfig | None = None,
        *,
        store: GraphStore | None = None,
        embedder: Embedder | None = None,
        extractor: Extractor | None = None,
        resolver: UpdateResolver | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config or MemoryConfig()
        self._clock = clock or utcnow
        self.embedder = embedder or build_embedder(self.config.embedder)
        self.store = store or build_store(self.config.store)
        self.store.setup(self.embedder.dims)
        self.llm = None
        extractor, resolver = self._build_llm_parts(extractor, resolver)
        self._locks = PartitionLocks()
        self._ingest = AddFlow(
            self.store,
            self.embedder,
            extractor,
            resolver,
            self.config,
            self._clock,
            self._locks,
        )
        self._retriever = Retriever(self.store, self.embedder, self.config.retrieval, self._clock)

    @property
    def extractor(self) -> Extractor:
        """The extractor of step 2 (assignable: the add flow uses the new one)."""
        return self._ingest.extractor

    @extractor.setter
    def extractor(self, extractor: Extractor) -> None:
        self._ingest.extractor = extractor

    @property
    def resolver(self) -> UpdateResolver:
        """The update resolver of step 5 (assignable: the add flow uses the new one)."""
        return self._ingest.resolver

    @resolver.setter
    def resolver(self, resolver: UpdateResolver) -> None:
        self._ingest.resolver = resolver

    @classmethod
    def from_config(
        cls,
        config: dict[str, Any] | MemoryConfig | None = None,
        *,
        config_dict: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Memory:
        """Build from a config dict or MemoryConfig; `config_dict=` is Mem0's keyword."""
        if config_dict is not None:
            if config is not None:
                raise InputError("give the configuration once: config or config_dict")
            config = config_dict
        if isinstance(config, MemoryConfig):
            return cls(config, **kwargs)
        return cls(MemoryConfig.from_dict(config), **kwargs)

    def _build_llm_parts(
        self, extractor: Extractor | None, resolver: UpdateResolver | None
    ) -> tuple[Extractor, UpdateResolver]:
        from graphmem.extract.rules import RulesExtractor

        mode = self.config.extractor
        use_llm = False
        if extractor is None and mode != "rules":
            from graphmem.llm.client import is_llm_enabled

            use_llm = mode == "llm" or is_llm_enabled(self.config.llm)
        if use_llm:
            from graphmem.extras import require

            require("openai", "the LLM extractor (an LLM endpoint is configured)")
            from graphmem.extract.llm import LLMExtractor
            from graphmem.ingest.decide.llm_resolver import LLMUpdateResolver
            from graphmem.llm.client import LLMClient

            self.llm = LLMClient(self.config.llm)
            extractor = extractor or LLMExtractor(self.llm)
            resolver = resolver or LLMUpdateResolver(self.llm)
        return extractor or RulesExtractor(), resolver or PolicyResolver()

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- add ---------------------------------------------------------------------------------
    def add(
        self,
        messages: str | dict[str, Any] | list[dict[str, Any]],
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        timestamp: Any = None,
        infer: bool = True,
        prompt: str | None = None,
    ) -> AddResponse:
        """Store messages as episodes, then extract, resolve and write facts.

        The episodes are committed before any extraction, so a failure leaves them stored and
        marked failed, listed in `pending` (see `reprocess`), and nothing else half-written.
        Returns Mem0's dict ({"results": [{"id", "memory", "event", "action", ...}],
        "relations": [...], ...}; see graphmem.compat), which also answers AddResult's
        attributes. `metadata` is kept on the episodes and on every fact they yield.
        `prompt` (Mem0's custom extraction prompt) is accepted and not used: graphmem's
        extraction prompt is structured and versioned; the response's "ignored" says so.
        infer=False stores the messages as they are, returned as memories (get_all, search,
        get, delete), with no extraction.
        """
        if prompt is not None and not isinstance(prompt, str):
            raise InputError(f"prompt must be a string, got {type(prompt).__name__}")
        scope = Scope.of(user_id, agent_id, run_id)
        msgs = self._validate_messages(messages)
        if metadata is not None and not isinstance(metadata, dict):
            raise InputError(f"metadata must be a dict, got {type(metadata).__name__}")
        if not isinstance(infer, bool):
            raise InputError(f"infer must be True or False, got {type(infer).__name__}")
        reference = to_utc(timestamp) if timestamp is not None else None
        result, episodes = self._ingest.add(
            scope, msgs, metadata=_json_safe(metadata or {}), reference=reference, infer=infer
        )
        response = add_response(
            result, self._memory_ids(scope.partition, result), None if infer else episodes
        )
        if prompt is not None:
            response["ignored"] = ["prompt: graphmem's extraction prompt is not replaceable"]
        return response

    def _memory_ids(self, partition: str, result: AddResult) -> dict[str, str]:
        """Memory ids of the facts an add touched that may be later versions (a new fact is
        its own memory): from the plan, which knows them (no read after the write); read
        back only for a result that does not say."""
        known = {c.id: c.memory_id for c in result.results if c.memory_id}
        ids = [c.id for c in result.results if c.event != "ADD" and not c.memory_id]
        read = {f.id: f.memory_id for f in self.store.get_facts(partition, ids)} if ids else {}
        return {**known, **read}

    def add_facts(
        self,
        facts: Iterable[dict[str, Any]],
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        timestamp: Any = None,
    ) -> AddResponse:
        """Write caller-supplied triples through the same resolution and conflict handling;
        returns the same Mem0-shaped dict as `add`.

        Each dict needs source, relation and target; fact, source_type, target_type,
        valid_at and invalid_at are optional. One episode records them as provenance.
        """
        scope = Scope.of(user_id, agent_id, run_id)
        if isinstance(facts, (str, bytes, dict)) or not isinstance(facts, Iterable):
            raise InputError("facts must be a list of dicts with source, relation and target")
        rows = list(facts)
        if not rows:
            raise InputError("facts is empty")
        reference = to_utc(timestamp) if timestamp is not None else None
        result = self._ingest.add_facts(scope, rows, reference)
        return add_response(result, self._memory_ids(scope.partition, result))

    def reprocess(
        self,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        *,
        progress: Callable[[AddResult], None] | None = None,
    ) -> list[AddResult]:
        """Finish unprocessed episodes (all users when no scope): FAILED ones (extraction or
        the write failed; the error is on the episode) and PENDING ones (left by a crash).

        The episodes of one add (same partition, agent_id, run_id, created_at and reference
        time) go through ONE extraction together, as the add would have done; adds are
        replayed oldest first, each returning an AddResult. Calling this while adds for the
        same user are in flight may extract an in-flight episode a second time; that is
        harmless (the same facts merge, nothing is duplicated), only wasted work.
        """
        scope = Scope.of(user_id, agent_id, run_id) if user_id or agent_id or run_id else None
        return self._ingest.reprocess(scope, progress)

    def _text_arg(self, value: Any, name: str) -> str:
        """A text argument (a query, an update's data), cleaned; InputError naming it when it
        is not a string, is empty once cleaned, or is longer than max_message_chars."""
        if not isinstance(value, str):
            raise InputError(f"{name} must be a string, got {type(value).__name__}")
        text = clean_text(value)
        if not text:
            raise InputError(f"{name} is empty")
        if len(text) > self.config.max_message_chars:
            raise InputError(f"{name} is longer than {self.config.max_message_chars} characters")
        return text

    def _partition_lock(self, partition: str) -> AbstractContextManager[None]:
        return self._locks.hold(partition)

    # -- read --------------------------------------------------------------------------------
    def search(
        self,
        query: str,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        limit: int | None = None,
        as_of: Any = None,
        token_budget: int | None = None,
        include_history: bool | None = None,
        include_episodes: bool = True,
        hops: int | None = None,
        filters: dict[str, Any] | None = None,
        top_k: int | None = None,
        threshold: float | None = None,
        rerank: bool = True,
    ) -> dict[str, Any]:
        """Facts relevant to the query, with paths and provenance, and a context string.

        Returns {"results": [...], "relations": [...], "context": str, ...}: Mem0's graph-mode
        shape. Each result has id (the memory id), memory, hash, metadata, created_at,
        updated_at, score, source, relation, target, valid_at, invalid_at, episodes and path.
        No LLM call. `limit` (or Mem0's `top_k`) defaults to config.retrieval.limit.
        `filters`: Mem0's, scope keys and metadata conditions (graphmem.store.metadata_filter),
        evaluated in the store before any limit (graphmem.filtered). `threshold`: hits scoring
        below it (scores are in [0, 1]) are left out by the engine, context included; scores are
        comparable across
        one user's queries (docs/retrieval.md). `rerank`: accepted for Mem0;
        graphmem has no separate reranker (its ranking is the fusion itself), so it changes
        nothing.
        """
        scope, metadata = _scope(user_id, agent_id, run_id, filters)
        query = self._text_arg(query, "query")
        limit = _limit(limit, top_k, self.config.retrieval.limit)
        threshold = _threshold(threshold)
        _flag(rerank, "rerank")
        if token_budget is not None:
            token_budget = _positive_int(token_budget, "token_budget")
        if hops is not None and (
            isinstance(hops, bool) or not isinstance(hops, int) or not 0 <= hops <= 4
        ):
            raise InputError("hops must be an integer from 0 to 4")
        _flag(include_history, "include_history", optional=True)
        _flag(include_episodes, "include_episodes")
        when = to_utc(as_of, field="as_of") if as_of is not None else None
        retriever, allowed = self._retriever, None
        if metadata is not None:
            allowed = self.store.metadata_matches(scope, metadata)
            view = FilteredStore(self.store, *allowed, partition=scope.partition)
            retriever = Retriever(view, self.embedder, self.config.retrieval, self._clock)
        options = SearchOptions(
            limit=limit,
            as_of=when,
            include_history=include_history,
            token_budget=token_budget,
            hops=hops,
            include_episodes=include_episodes,
            threshold=threshold,
        )
        result = retriever.search(scope, query, options)
        return search_response(self.store, scope.partition, result.to_dict(), allowed)

    def get_all(
        self,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        limit: int = 100,
        include_history: bool = False,
        filters: dict[str, Any] | None = None,
        top_k: int | None = None,
    ) -> dict[str, Any]:
        """The newest `limit` memories in scope (current ones unless include_history), newest
        first (by when graphmem learned them): facts, and messages stored with infer=False.
        `filters` as in `search`, evaluated in the store before the limit. Returns
        {"results": [...], "relations": [...]}, Mem0's shape."""
        scope, metadata = _scope(user_id, agent_id, run_id, filters)
        limit = _limit(limit, top_k, 100)
        _flag(include_history, "include_history")
        facts = self.store.list_memories(
            scope, limit=limit, include_invalid=include_history, metadata=metadata
        )
        raw = self.store.list_raw_episodes(scope, limit=limit, metadata=metadata)
        shaped = memory_dicts(self.store, facts)
        rows = [
            *((f.created_at, f.id, d) for f, d in zip(facts, shaped, strict=True)),
            *((e.created_at, e.id, episode_memory(e)) for e in raw),
        ]
        rows.sort(key=lambda r: (r[0], r[1]), reverse=True)
        items = [d for _, _, d in rows[:limit]]
        return {"results": items, "relations": relations_of(items)}

    def delete_all(
        self, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> dict[str, Any]:
        scope = Scope.of(user_id, agent_id, run_id)
        removed = self.store.delete_scope(scope)
        return {"message": "Memories deleted successfully!", "facts": removed}

    def reset(self) -> None:
        self.store.reset()

    def episodes(
        self, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> list[Episode]:
        return self.store.list_episodes(Scope.of(user_id, agent_id, run_id))

    # -- validation --------------------------------------------------------------------------
    def _validate_messages(self, messages: Any) -> list[dict[str, Any]]:
        if isinstance(messages, str):
            messages = [{"role": "user", "content": messages}]
        elif isinstance(messages, dict):
            messages = [messages]
        if not isinstance(messages, list):
            raise InputError(
                "messages must be a string or a list of {'role', 'content'} dicts, "
                f"got {type(messages).__name__}"
            )
        if not messages:
            raise InputError("messages is empty")
        if len(messages) > MAX_BATCH_MESSAGES:
            raise InputError(f"at most {MAX_BATCH_MESSAGES} messages per add")
        out = []
        for i, msg in enumerate(messages):
            if not isinstance(msg, dict):
                raise InputError(f"message {i} must be a dict, got {type(msg).__name__}")
            content = msg.get("content")
            if not isinstance(content, str):
                raise InputError(f"message {i}: content must be a string")
            content = clean_text(content)
            if not content:
                raise InputError(f"message {i}: content is empty")
            if len(content) > self.config.max_message_chars:
                raise InputError(
                    f"message {i} is {len(content)} characters; the limit is "
                    f"{self.config.max_message_chars} (max_message_chars): split it"
                )
            role = msg.get("role", "user")
            if not isinstance(role, str) or role not in ROLES:
                raise InputError(f"message {i}: role must be one of {sorted(ROLES)}")
            name = msg.get("name")
            if name is not None:
                if not isinstance(name, str) or not clean_text(name):
                    raise InputError(f"message {i}: name must be a non-empty string")
                name = clean_text(name)[:200]
            out.append({"role": role, "content": content, "name": name})
        return out


def _scope(user_id: Any, agent_id: Any, run_id: Any, filters: Any) -> tuple[Scope, Clauses | None]:
    """The scope of a read from its arguments and the scope keys of Mem0-style `filters`
    (which may not contradict an argument given explicitly), and the filters' metadata
    conditions (graphmem.store.metadata_filter), None when there are none."""
    ids = {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}
    named, metadata = split_filters(filters)
    for key, value in named.items():
        if value is None:
            continue
        if ids[key] is not None and ids[key] != value:
            raise InputError(f"{key}={ids[key]!r} conflicts with filters[{key!r}]={value!r}")
        ids[key] = value
    return Scope.of(**ids), metadata


def _limit(limit: Any, top_k: Any, default: int) -> int:
    """`limit`, or Mem0's `top_k` (the same thing); both given must agree."""
    if top_k is not None:
        top_k = _positive_int(top_k, "top_k")
        if limit is not None and limit != default and limit != top_k:
            raise InputError(f"limit={limit!r} conflicts with top_k={top_k!r}: give one")
        return top_k
    return default if limit is None else _positive_int(limit, "limit")


def _threshold(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise InputError("threshold must be a number from 0 to 1 (scores are in [0, 1])")
    return float(value)


def _flag(value: Any, name: str, *, optional: bool = False) -> None:
    if not isinstance(value, bool) and not (optional and value is None):
        raise InputError(f"{name} must be True or False, got {type(value).__name__}")


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{name} must be a positive integer")
    return value


def _json_safe(data: dict[str, Any]) -> dict[str, Any]:
    try:
        safe = json.loads(json.dumps(data, default=str, allow_nan=False))
        json.dumps(safe, ensure_ascii=False).encode("utf-8")  # no surrogates
        return safe
    except (TypeError, ValueError, RecursionError) as exc:
        raise InputError(f"metadata must be JSON-serialisable text: {exc}") from None


__all__ = ["Memory", "GraphmemError"]
