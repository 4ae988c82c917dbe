"""What reading a message keeps: subjects, clauses, the kin named so far, and the collector
of entities and relations."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from graphmem.extract.rules.lexicon import CONCEPT, ENTITY, PERSON, normalize_key
from graphmem.extract.rules.patterns import _Rule
from graphmem.models import ExtractedEntity, ExtractedRelation, Extraction
from graphmem.timeparse import TimeSpan

# ---------------------------------------------------------------- output collection


@dataclass
class _Subject:
    name: str
    first_person: bool = False
    type: str = PERSON


@dataclass(slots=True)
class _Clause:
    """One recognised verb phrase with its subjects, ready for its object reader."""

    rule: _Rule
    m: re.Match[str]
    ts: int  # first token of the verb phrase
    te: int  # first token after it (where the object starts)
    nxt: int  # first token of the next verb phrase (the clause ends there)
    subjects: list[_Subject]
    neg: bool  # "not", "never", "no longer"
    ended: bool  # a past state: "I lived in", "I used to work at", "I was a nurse"
    flags: set[str]
    lo: int  # first token of the clause (after the previous clause's object)
    fronted: TimeSpan | None  # a time said before the sentence's first verb


@dataclass
class _Memory:
    """What one extract call has learnt so far: kin names per anchor, known entity names."""

    kin: dict[tuple[str, str], str] = field(default_factory=dict)
    known: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (name, type)
    types: dict[str, str] = field(default_factory=dict)  # key -> type seen in this extraction


class _Collector:
    def __init__(self) -> None:
        self.entities: dict[str, ExtractedEntity] = {}
        self.relations: list[ExtractedRelation] = []
        self._seen: set[tuple[str, str, str, str, bool]] = set()

    def entity(self, name: str, type_: str) -> None:
        key = normalize_key(name)
        got = self.entities.get(key)
        if got is None:
            self.entities[key] = ExtractedEntity(name=name, type=type_)
        elif got.type in (ENTITY, CONCEPT) and type_ not in (ENTITY, CONCEPT):
            got.type = type_

    def seen(self, episode_id: str, source: str, relation: str, target: str, negated: bool) -> bool:
        """Whether this relation was already collected (or is a self-loop); marks it seen."""
        key = (episode_id, normalize_key(source), relation, normalize_key(target), negated)
        if key in self._seen or key[1] == key[3]:
            return True
        self._seen.add(key)
        return False

    def add(self, rel: ExtractedRelation) -> None:
        self.entity(rel.source, rel.source_type or ENTITY)
        self.entity(rel.target, rel.target_type or ENTITY)
        self.relations.append(rel)

    def result(self) -> Extraction:
        return Extraction(entities=list(self.entities.values()), relations=self.relations)
