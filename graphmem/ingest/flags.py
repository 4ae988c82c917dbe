"""Shapes shared by the conflict detector and the update resolvers (policy and LLM).

The detector turns proposed facts into Flags: only flagged items need a decision. A resolver
decides every flag at once (the LLM resolver in ONE batched call), naming new items and stored
facts by short ids ("N1", "E3") that the caller validates: a decision naming an unknown id is
rejected, never applied.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Literal

from pydantic import BaseModel, Field

from graphmem.models import Entity, Fact, Usage

Action = Literal["ADD", "MERGE", "INVALIDATE", "SKIP"]
FlagKind = Literal[
    "duplicate",  # same source, relation and target as a stored fact
    "near_duplicate",  # same endpoints, similar relation or sentence
    "contradiction",  # functional relation with another target, or a stated end
    "negation",  # the statement ends a relation ("I no longer work at Acme")
    "ambiguous_entity",  # a name matched several stored entities about equally well
]


class ProposedFact(BaseModel):
    """A new fact after entity resolution, before it is written. `ref` is unique among the
    flags of one resolve call ("N1" for facts, "A1" for ambiguous entity mentions)."""

    ref: str  # short id, "N1"
    source: str
    relation: str
    target: str
    fact: str
    source_id: str | None = None
    target_id: str | None = None
    valid_at: str | None = None  # ISO text, as shown to an LLM
    invalid_at: str | None = None
    negated: bool = False


class Flag(BaseModel):
    kind: FlagKind
    new: ProposedFact
    # For fact flags: the stored facts involved, by short id ("E1" -> Fact).
    existing: dict[str, Fact] = Field(default_factory=dict)
    # For ambiguous_entity flags: the candidate entities by short id, and which name is ambiguous.
    candidates: dict[str, Entity] = Field(default_factory=dict)
    mention: str | None = None
    detail: str = ""


class Decision(BaseModel):
    """What to do with one flagged new item.

    ADD: write the new fact (and, with `targets`, invalidate those stored facts it supersedes).
    MERGE: the new fact is the stored fact `targets[0]`: add provenance only. For an
           ambiguous_entity flag, `targets[0]` names the candidate entity it is.
    INVALIDATE: end the stored facts in `targets`; write the new fact unless it is a negation.
    SKIP: write nothing.
    """

    ref: str
    action: Action
    targets: list[str] = Field(default_factory=list)
    reason: str = ""


class UpdateResolver(ABC):
    uses_llm: bool = False

    @abstractmethod
    def resolve(self, flags: list[Flag]) -> tuple[list[Decision], Usage]:
        """One decision per flag (by `flag.new.ref`); may raise LLMError, in which case the
        caller falls back to the deterministic policy."""
