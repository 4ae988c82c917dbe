"""The data graphmem stores and returns, as pydantic models.

Stores persist these shapes; the resolvers and retrievers pass them around; the public API turns
them into Mem0-shaped dicts at the edge.
"""

from __future__ import annotations

import uuid
from collections.abc import KeysView
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from graphmem.errors import ScopeError

MAX_SCOPE_ID_CHARS = 256


def new_id() -> str:
    return uuid.uuid4().hex


def _stamp(value: datetime | None) -> float:
    return value.timestamp() if value is not None else float("-inf")


class Scope(BaseModel):
    """Who a memory belongs to. user_id is a hard partition; agent_id and run_id narrow within it.

    Without a user_id, the agent (or, failing that, the run) is the partition, as in Mem0 where
    agent memory can exist without a user.
    """

    model_config = ConfigDict(frozen=True)

    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None

    @field_validator("user_id", "agent_id", "run_id", mode="before")
    @classmethod
    def _check_id(cls, value: Any, info: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ScopeError(f"{info.field_name} must be a string, got {type(value).__name__}")
        text = value.strip()
        if not text:
            raise ScopeError(f"{info.field_name} must not be empty")
        if len(text) > MAX_SCOPE_ID_CHARS:
            raise ScopeError(f"{info.field_name} is longer than {MAX_SCOPE_ID_CHARS} characters")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
            raise ScopeError(f"{info.field_name} must not contain control characters")
        if any("\ud800" <= ch <= "\udfff" for ch in text):
            raise ScopeError(f"{info.field_name} must be valid Unicode (it holds a surrogate)")
        return text

    @model_validator(mode="after")
    def _at_least_one(self) -> Scope:
        if self.user_id is None and self.agent_id is None and self.run_id is None:
            raise ScopeError("one of user_id, agent_id or run_id is required")
        return self

    @classmethod
    def of(cls, user_id: Any = None, agent_id: Any = None, run_id: Any = None) -> Scope:
        """Build a scope, turning pydantic's wrapped validation errors into ScopeError."""
        try:
            return cls(user_id=user_id, agent_id=agent_id, run_id=run_id)
        except ScopeError:
            raise
        except Exception as exc:  # pydantic.ValidationError wrapping our ScopeError
            cause = exc.__cause__ or exc
            msg = str(cause)
            if hasattr(exc, "errors"):
                msgs = [e.get("msg", "") for e in exc.errors()]  # type: ignore[attr-defined]
                msg = "; ".join(m.removeprefix("Value error, ") for m in msgs if m) or msg
            raise ScopeError(msg) from None

    @property
    def partition(self) -> str:
        """The hard partition key every stored row carries."""
        if self.user_id is not None:
            return "u:" + self.user_id
        if self.agent_id is not None:
            return "a:" + self.agent_id
        return "r:" + str(self.run_id)

    def narrows(self, agent_id: str | None, run_id: str | None) -> bool:
        """Whether a row stored with agent_id/run_id is visible in this scope."""
        if self.agent_id is not None and agent_id != self.agent_id:
            return False
        return self.run_id is None or run_id == self.run_id


class EpisodeStatus(StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    FAILED = "failed"


class Episode(BaseModel):
    """One message as it was said; stored before any extraction so nothing is lost."""

    id: str = Field(default_factory=new_id)
    partition: str
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    role: str = "user"
    name: str | None = None
    content: str
    reference_time: datetime
    created_at: datetime
    status: EpisodeStatus = EpisodeStatus.PENDING
    error: str | None = None
    infer: bool = True
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def order_key(self) -> tuple:
        """Tie-break key from what was said and when, not the random id: equal scores order
        the same way in every process and on both stores (the id only when all else is equal)."""
        return (_stamp(self.reference_time), self.name or "", self.content, self.id)


class Entity(BaseModel):
    id: str = Field(default_factory=new_id)
    partition: str
    user_id: str | None = None
    name: str
    key: str
    type: str = "Entity"
    aliases: list[str] = Field(default_factory=list)
    embedding: list[float] | None = Field(default=None, repr=False)
    created_at: datetime
    updated_at: datetime

    @property
    def order_key(self) -> tuple:
        """Tie-break key from the entity's normalized name, not its random id (see Fact)."""
        return (self.key, self.type, self.name, self.id)


class Fact(BaseModel):
    """A directed, labelled, timestamped edge: source -RELATION-> target, with its sentence.

    valid_at/invalid_at are world time (when it was true); created_at/expired_at are system time
    (when graphmem learned it and when it learned it stopped being current).
    """

    id: str = Field(default_factory=new_id)
    # The stable id the user holds (Mem0's memory_id): every version of one memory shares it;
    # a fact that is no memory's later version is its own memory (memory_id == id).
    memory_id: str = ""
    partition: str
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    source_id: str
    source: str
    relation: str
    target_id: str
    target: str
    fact: str
    embedding: list[float] | None = Field(default=None, repr=False)
    valid_at: datetime | None = None
    invalid_at: datetime | None = None
    created_at: datetime
    expired_at: datetime | None = None
    episodes: list[str] = Field(default_factory=list)
    confidence: float = 1.0
    invalidated_by: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _own_memory(self) -> Fact:
        if not self.memory_id:
            self.memory_id = self.id
        return self

    @property
    def is_current(self) -> bool:
        return self.invalid_at is None and self.expired_at is None

    @property
    def order_key(self) -> tuple:
        """Tie-break key from what the fact says and when it held, not its random id, so the
        same graph and query return equal-scored hits in the same order in every process and
        on both stores. created_at (system time) follows the order facts were learnt; the id
        decides only between facts equal in all of these."""
        return (
            self.fact,
            self.source,
            self.relation,
            self.target,
            _stamp(self.valid_at),
            _stamp(self.invalid_at),
            _stamp(self.created_at),
            self.id,
        )

    def valid_at_time(self, when: datetime) -> bool:
        """True when the fact held in the world at `when` (open ends are unbounded)."""
        if self.valid_at is not None and self.valid_at > when:
            return False
        return self.invalid_at is None or self.invalid_at > when


class Edge(NamedTuple):
    """A fact reached by graph expansion before it is read in full: all a path needs."""

    id: str
    source_id: str
    target_id: str


class Invalidation(BaseModel):
    """Ends a stored fact's validity without deleting it."""

    fact_id: str
    invalid_at: datetime
    expired_at: datetime
    invalidated_by: str | None = None


class ProvenanceMerge(BaseModel):
    """Adds episode ids to an existing fact that was said again."""

    fact_id: str
    episodes: list[str]


class WriteBatch(BaseModel):
    """Everything one add writes, applied by a store in a single transaction."""

    partition: str
    entities: list[Entity] = Field(default_factory=list)  # new or updated (upsert by id)
    facts: list[Fact] = Field(default_factory=list)  # new facts
    invalidations: list[Invalidation] = Field(default_factory=list)
    merges: list[ProvenanceMerge] = Field(default_factory=list)
    mentions: list[tuple[str, str]] = Field(default_factory=list)  # (episode_id, entity_id)
    episode_ids: list[str] = Field(default_factory=list)  # marked processed in the same tx
    # Content vectors for episodes stored without one: the add embeds every text in one model
    # call after the episode is durable, and the vector lands with the rest of the batch.
    # Keys are among episode_ids; a store sets each only where the episode has none yet.
    episode_embeddings: dict[str, list[float]] = Field(default_factory=dict)
    # The partition's version (GraphStore.partition_version) the batch was planned against; a
    # store that tracks versions refuses the batch with ConflictError when it has moved on.
    expected_version: int | None = None


Event = Literal["ADD", "MERGE", "INVALIDATE", "SKIP"]


class FactChange(BaseModel):
    """What an add did to one fact; `event` mirrors Mem0's ADD/UPDATE/DELETE/NONE vocabulary."""

    id: str
    memory: str
    event: Event
    source: str
    relation: str
    target: str
    reason: str = ""
    replaced_by: str | None = None
    # The memory this result names (Mem0's id), known to the plan: the written fact's own, or
    # the stored fact's it merged into or ended (an earlier version's memory). None when
    # unknown; Memory then reads it back. Not part of the result's dict.
    memory_id: str | None = Field(default=None, exclude=True, repr=False)


class AddResult(BaseModel):
    """What one add did. Reads like Mem0's dict result: `result["results"]` (a list of dicts),
    `result.get(key)`, `"results" in result`, `result.keys()` and `dict(result)`."""

    results: list[FactChange] = Field(default_factory=list)
    episodes: list[str] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # Episodes left unprocessed (extraction or the write failed); reprocess() finishes them.
    pending: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    # LLM answers the deterministic guards refused, each with its reason ("grounding: ...",
    # "decision N1 MERGE: ..."); nothing of them was written.
    refusals: list[str] = Field(default_factory=list)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def _of(self, event: Event) -> list[FactChange]:
        return [c for c in self.results if c.event == event]

    @property
    def added(self) -> list[FactChange]:
        return self._of("ADD")

    @property
    def merged(self) -> list[FactChange]:
        return self._of("MERGE")

    @property
    def invalidated(self) -> list[FactChange]:
        return self._of("INVALIDATE")

    @property
    def skipped(self) -> list[FactChange]:
        return self._of("SKIP")

    # The Mapping side; __iter__ stays pydantic's (field, value) pairs.
    def __getitem__(self, key: str) -> Any:
        if key not in type(self).model_fields:
            raise KeyError(key)
        value = getattr(self, key)
        if isinstance(value, list):  # a copy, with FactChange rows as dicts
            return [v.model_dump() if isinstance(v, BaseModel) else v for v in value]
        return value

    def __contains__(self, key: object) -> bool:
        return key in type(self).model_fields

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def keys(self) -> KeysView[str]:
        return type(self).model_fields.keys()


class PathStep(BaseModel):
    id: str
    source: str
    relation: str
    target: str
    memory: str
    # When the step held: the context prints it, so an ended step never reads as current.
    valid_at: datetime | None = None
    invalid_at: datetime | None = None


class Hit(BaseModel):
    """One retrieved fact with why it was retrieved."""

    id: str
    memory: str
    source: str
    relation: str
    target: str
    score: float
    valid_at: datetime | None = None
    invalid_at: datetime | None = None
    created_at: datetime | None = None
    episodes: list[str] = Field(default_factory=list)
    path: list[PathStep] = Field(default_factory=list)
    hops: int = 0
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    current: bool = True
    why: list[str] = Field(default_factory=list)  # which retrievers found it
    memory_id: str | None = None  # the fact's memory (Mem0's id; see graphmem.compat)
    metadata: dict[str, Any] = Field(default_factory=dict)


class SearchResult(BaseModel):
    results: list[Hit] = Field(default_factory=list)
    context: str = ""
    entities: list[str] = Field(default_factory=list)  # entity names linked from the query
    as_of: datetime | None = None
    include_history: bool = False
    approximations: list[str] = Field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class ExtractedEntity(BaseModel):
    name: str
    type: str = "Entity"


# How an extracted negation with no concrete target names it ("I don't have pets": target "").
NO_TARGET = frozenset({"", "*"})


class ExtractedRelation(BaseModel):
    """One relation as an extractor proposes it, before resolution.

    `negated` marks statements that end a relation ("I no longer work at Acme"): they invalidate
    a matching stored fact and add nothing.
    """

    source: str
    relation: str
    target: str
    fact: str = ""
    source_type: str | None = None
    target_type: str | None = None
    valid_at: datetime | None = None
    invalid_at: datetime | None = None
    negated: bool = False
    episode_id: str | None = None


class Extraction(BaseModel):
    entities: list[ExtractedEntity] = Field(default_factory=list)
    relations: list[ExtractedRelation] = Field(default_factory=list)
    # Proposed relations an extractor refused (not grounded in the new messages), with why.
    refusals: list[str] = Field(default_factory=list)


class Usage(BaseModel):
    """LLM work done for one step, accumulated into AddResult."""

    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            llm_calls=self.llm_calls + other.llm_calls,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
        )
