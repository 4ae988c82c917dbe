"""What step 2 (extract) is told besides the new messages: who said each one, when, the
previous messages of the conversation and the stored entities it may refer to.

Only an LLM extractor reads history and known entities, so the rules extractor costs no read.
No embedding call happens here: an add stays at one model call, made after extraction for
everything new at once.
"""

from __future__ import annotations

from graphmem.extract.base import ExtractionContext, Extractor
from graphmem.ingest.episodes import speaker
from graphmem.models import Edge, Entity, Episode, Scope
from graphmem.normalize import normalize_key
from graphmem.recall.analyze import query_keys
from graphmem.store.base import GraphStore

KNOWN_ENTITIES_FOR_CONTEXT = 20


def extraction_context(
    store: GraphStore,
    extractor: Extractor,
    history_messages: int,
    scope: Scope,
    episodes: list[Episode],
) -> ExtractionContext:
    """The speakers and reference time of an add's episodes; for an LLM extractor also the
    `history_messages` messages before them and the known entities they may name."""
    ids = {e.id for e in episodes}
    previous = []
    if extractor.uses_llm and history_messages:
        recent = store.list_episodes(
            scope, limit=history_messages + len(episodes), newest_first=True
        )
        previous = [e for e in reversed(recent) if e.id not in ids][-history_messages:]
    speakers = {e.id: speaker(e) for e in episodes}
    known = known_entities(store, scope, episodes, speakers) if extractor.uses_llm else []
    return ExtractionContext(
        speakers=speakers,
        reference_time=episodes[0].reference_time,
        previous=previous,
        known_entities=known,
    )


def known_entities(
    store: GraphStore, scope: Scope, episodes: list[Episode], speakers: dict[str, str]
) -> list[Entity]:
    """Stored entities the extraction prompt lists for reuse by exact name: those the
    messages name (any n-gram of their words, found by key), the speakers, and the
    speakers' most recent neighbours ("my wife" -> the known "Maria")."""
    partition = scope.partition
    text = " ".join(e.content for e in episodes)[:2000]
    speaker_keys = {normalize_key(s) for s in speakers.values()} - {""}
    keys = [k for k in dict.fromkeys([*sorted(speaker_keys), *query_keys(text)]) if k]
    named = store.find_entities_by_key(partition, keys)
    speaker_ids = [e.id for e in named if e.key in speaker_keys]
    near: list[str] = []
    if speaker_ids:
        # One hop, the newest facts of each speaker (no query vector), read as edges only:
        # a long-running user's own entity can have thousands of facts.
        edges: list[Edge] = []

        def endpoints_only(reached: list[tuple[Edge, float]]) -> set[str]:
            edges.extend(e for e, _ in reached)
            return set()

        facts = store.expand(
            scope,
            speaker_ids,
            hops=1,
            fanout=KNOWN_ENTITIES_FOR_CONTEXT,
            select=endpoints_only,
        )
        edges = edges or [Edge(f.id, f.source_id, f.target_id) for f, _ in facts]
        for e in edges:
            for other in (e.source_id, e.target_id):
                if other and other not in speaker_ids and other not in near:
                    near.append(other)
    near = near[:KNOWN_ENTITIES_FOR_CONTEXT]
    neighbours = store.get_entities(partition, near) if near else []
    found = {e.id: e for e in [*named, *neighbours]}
    return list(found.values())[:KNOWN_ENTITIES_FOR_CONTEXT]
