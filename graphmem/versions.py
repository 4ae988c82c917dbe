"""A memory's next version: what `update(memory_id, data)` writes.

The memory keeps its id (Fact.memory_id); the new version is a new fact whose triple is read
from the new sentence by the configured extractor, so graph and sentence agree ("Ana lives in
Porto" moves the LIVES_IN edge to Porto). The sentence is read as said by the memory's source
entity, so "I live in Porto" works too. When the extractor finds no relation (or fails) the
triple is kept and the response says so (`triple_kept`): the sentence is then the truth the
user asked for, on the old edge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from graphmem.embed import Embedder
from graphmem.errors import ExtractionError, LLMError
from graphmem.extract.base import ExtractionContext, Extractor
from graphmem.models import Entity, Episode, ExtractedRelation, Fact, Usage, new_id
from graphmem.normalize import clean_name, normalize_key, normalize_relation
from graphmem.store.base import GraphStore

NO_RELATION = "the extractor found no relation in the new text; the old triple is kept"


@dataclass
class Version:
    fact: Fact
    entities: list[Entity] = field(default_factory=list)  # new endpoints to write first
    note: str = ""
    usage: Usage = field(default_factory=Usage)


def next_version(
    store: GraphStore,
    embedder: Embedder,
    extractor: Extractor,
    clock: Callable[[], datetime],
    current: Fact,
    text: str,
    vector: list[float],
    metadata: dict[str, Any] | None,
) -> Version:
    now = clock()
    relation, usage, note = _read_triple(extractor, current, text, now)
    new = current.model_copy(
        update={
            "id": new_id(),
            "fact": text,
            "embedding": vector,
            "valid_at": now,
            "invalid_at": None,
            "created_at": now,
            "expired_at": None,
            "invalidated_by": None,
            "episodes": list(current.episodes),
            "metadata": {**current.metadata, **(metadata or {})},
        }
    )
    version = Version(new, note=note, usage=usage)
    if relation is None:
        return version
    source = _endpoint(store, embedder, current, relation.source, relation.source_type, now)
    target = _endpoint(store, embedder, current, relation.target, relation.target_type, now)
    version.entities = [e for e, fresh in (source, target) if fresh]
    version.fact = new.model_copy(
        update={
            "source_id": source[0].id,
            "source": source[0].name,
            "relation": normalize_relation(relation.relation),
            "target_id": target[0].id,
            "target": target[0].name,
        }
    )
    return version


def _read_triple(
    extractor: Extractor, current: Fact, text: str, now: datetime
) -> tuple[ExtractedRelation | None, Usage, str]:
    episode = Episode(
        partition=current.partition,
        user_id=current.user_id,
        agent_id=current.agent_id,
        run_id=current.run_id,
        role="user",
        name=current.source,
        content=text,
        reference_time=now,
        created_at=now,
    )
    context = ExtractionContext(speakers={episode.id: current.source}, reference_time=now)
    try:
        extraction, usage = extractor.extract([episode], context)
    except (ExtractionError, LLMError) as exc:
        return None, Usage(), f"extraction failed ({exc}); the old triple is kept"
    found = [r for r in extraction.relations if not r.negated and r.target.strip()]
    if not found:
        return None, usage, NO_RELATION
    # The relation the memory had, when the sentence still states it; else the first.
    same = [r for r in found if normalize_relation(r.relation) == current.relation]
    return (same or found)[0], usage, ""


def _endpoint(
    store: GraphStore,
    embedder: Embedder,
    current: Fact,
    name: str,
    entity_type: str | None,
    now: datetime,
) -> tuple[Entity, bool]:
    """The entity a name denotes: the memory's own ends first, then the user's entities by
    key (aliases included), else a new one. Returns (entity, whether it is new)."""
    key = normalize_key(name)
    for end_id, end_name in (
        (current.source_id, current.source),
        (current.target_id, current.target),
    ):
        if key == normalize_key(end_name):
            found = store.get_entities(current.partition, [end_id])
            if found:
                return found[0], False
    known = store.find_entities_by_key(current.partition, [key])
    if known:
        return sorted(known, key=lambda e: (e.key != key, e.id))[0], False
    clean = clean_name(name) or name
    vector = [float(x) for x in embedder.embed_one(clean)]
    return (
        Entity(
            partition=current.partition,
            user_id=current.user_id,
            name=clean,
            key=key,
            type=entity_type or "Entity",
            embedding=vector,
            created_at=now,
            updated_at=now,
        ),
        True,
    )
