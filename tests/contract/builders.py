"""Deterministic building blocks for the store contract tests.

Vectors are built by hand (unit vectors and known mixtures) so expected cosine scores are exact
numbers; times are fixed offsets from T0 so orderings never depend on the clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from graphmem.models import (
    Entity,
    Episode,
    Fact,
    Invalidation,
    ProvenanceMerge,
    Scope,
    WriteBatch,
)
from graphmem.normalize import normalize_key
from graphmem.store.base import GraphStore

DIMS = 32
T0 = datetime(2024, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)
SCORE_TOL = 1e-4  # vectors are stored as float32

ALICE = Scope(user_id="alice")
BOB = Scope(user_id="bob")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def vec(*components: tuple[int, float]) -> list[float]:
    """A unit vector from (axis, weight) pairs: vec((0, 1), (1, 1)) is (e0 + e1)/sqrt 2."""
    values = [0.0] * DIMS
    for axis, weight in components:
        values[axis] += weight
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


def axis(i: int) -> list[float]:
    return vec((i, 1.0))


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def entity(
    scope: Scope,
    name: str,
    *,
    type: str = "Person",
    aliases: Iterable[str] = (),
    embedding: list[float] | None = None,
    minute: float = 0,
    id: str | None = None,
) -> Entity:
    extra = {"id": id} if id else {}
    return Entity(
        partition=scope.partition,
        user_id=scope.user_id,
        name=name,
        key=normalize_key(name),
        type=type,
        aliases=list(aliases),
        embedding=embedding,
        created_at=at(minute),
        updated_at=at(minute),
        **extra,
    )


def fact(
    scope: Scope,
    source: Entity,
    relation: str,
    target: Entity,
    sentence: str | None = None,
    *,
    embedding: list[float] | None = None,
    minute: float = 0,
    episodes: Iterable[str] = (),
    valid_at: datetime | None = None,
    invalid_at: datetime | None = None,
    id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
) -> Fact:
    """A fact stored under `scope` (its agent/run unless given explicitly)."""
    extra = {"id": id} if id else {}
    return Fact(
        partition=scope.partition,
        user_id=scope.user_id,
        agent_id=agent_id if agent_id is not None else scope.agent_id,
        run_id=run_id if run_id is not None else scope.run_id,
        source_id=source.id,
        source=source.name,
        relation=relation,
        target_id=target.id,
        target=target.name,
        fact=sentence or f"{source.name} {relation.lower().replace('_', ' ')} {target.name}",
        embedding=embedding,
        valid_at=valid_at,
        invalid_at=invalid_at,
        created_at=at(minute),
        episodes=list(episodes),
        **extra,
    )


def episode(
    scope: Scope,
    content: str,
    *,
    minute: float = 0,
    created_minute: float | None = None,
    id: str | None = None,
    name: str | None = None,
) -> Episode:
    extra = {"id": id} if id else {}
    return Episode(
        partition=scope.partition,
        user_id=scope.user_id,
        agent_id=scope.agent_id,
        run_id=scope.run_id,
        name=name,
        content=content,
        reference_time=at(minute),
        created_at=at(minute if created_minute is None else created_minute),
        **extra,
    )


def write(
    store: GraphStore,
    scope: Scope,
    *,
    entities: Iterable[Entity] = (),
    facts: Iterable[Fact] = (),
    invalidations: Iterable[Invalidation] = (),
    merges: Iterable[ProvenanceMerge] = (),
    mentions: Iterable[tuple[str, str]] = (),
    episode_ids: Iterable[str] = (),
) -> None:
    store.apply(
        WriteBatch(
            partition=scope.partition,
            entities=list(entities),
            facts=list(facts),
            invalidations=list(invalidations),
            merges=list(merges),
            mentions=list(mentions),
            episode_ids=list(episode_ids),
        )
    )


def ids(items: Iterable[object]) -> list[str]:
    """Ids of models, or of the models in (model, score) pairs, in order."""
    out = []
    for item in items:
        model = item[0] if isinstance(item, tuple) else item
        out.append(model.id)  # type: ignore[attr-defined]
    return out


def scores(pairs: Iterable[tuple[object, float]]) -> list[float]:
    return [score for _, score in pairs]
