"""Entity resolution: map the names an extractor proposes onto the user's stored entities.

Order of evidence, cheapest and surest first: the normalised key (or an alias key), then a
fuzzy string match, then name-embedding similarity. Fuzzy and embedding checks only look at the
nearest entities by embedding, so resolution cost does not grow with the size of the graph.
Two candidates scoring about equally are flagged as ambiguous for the update resolver.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz import fuzz

from graphmem.config import ResolutionConfig
from graphmem.embed.base import Embedder
from graphmem.models import Entity
from graphmem.normalize import DEFAULT_TYPE, clean_name, normalize_key, normalize_type
from graphmem.store.base import GraphStore

if TYPE_CHECKING:  # detect imports this module: the types only, no cycle
    from graphmem.ingest.detect import Candidate
    from graphmem.ingest.flags import Decision, Flag

CANDIDATES = 8


@dataclass
class Mention:
    name: str
    type: str = DEFAULT_TYPE


@dataclass
class EntityMatch:
    """How one mentioned name was resolved."""

    mention: str
    entity: Entity
    method: str  # "key" | "fuzzy" | "embedding" | "new"
    score: float = 1.0
    ambiguous_with: list[tuple[Entity, float]] = field(default_factory=list)


def types_compatible(a: str, b: str) -> bool:
    return a == b or DEFAULT_TYPE in (a, b)


# Two name words this alike are one word misspelt ("Katharina"/"Katharine"); below, different
# words ("Jon"/"Jan", "Anna"/"Anne").
SAME_WORD_RATIO = 85.0


def names_compatible(a: str, b: str) -> bool:
    """Whether two normalised names can name the same thing, judged by their words.

    Names that share a word but differ in another ("boris hoffmann" / "peter hoffmann",
    "jon smithers" / "jan smithers") are different people, however alike the strings or
    their embeddings: families share surnames. A differing word is allowed when it is the
    other's prefix or initial ("chris" / "christopher", "j" / "john") or a misspelling of it.
    Names with no word in common ("bob" / "robert") or one inside the other ("peter" /
    "peter hoffmann") are left to the other evidence.
    """
    wa, wb = a.replace(".", " ").split(), b.replace(".", " ").split()
    only_a, only_b = set(wa) - set(wb), set(wb) - set(wa)
    if not only_a or not only_b or not set(wa) & set(wb):
        return True
    return all(any(_same_word(x, y) for y in only_b) for x in only_a) and all(
        any(_same_word(x, y) for x in only_a) for y in only_b
    )


def _same_word(x: str, y: str) -> bool:
    if x.startswith(y) or y.startswith(x):
        return True
    return fuzz.ratio(x, y) >= SAME_WORD_RATIO


class EntityResolver:
    def __init__(
        self,
        store: GraphStore,
        embedder: Embedder,
        config: ResolutionConfig,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._config = config
        self._clock = clock

    def resolve(
        self,
        partition: str,
        user_id: str | None,
        mentions: Sequence[Mention],
        name_vectors: dict[str, np.ndarray] | None = None,
        by_key: list[Entity] | None = None,
    ) -> tuple[dict[str, EntityMatch], list[Entity]]:
        """Resolve names to entities. Returns (key -> match, entities to upsert).

        Entities to upsert are the new ones and stored ones whose type or aliases changed.
        `name_vectors` (key -> embedding of the cleaned name) lets the caller embed every text
        of an add in one batch; missing ones are embedded here. `by_key` is what
        find_entities_by_key returned for these keys, when the caller already read it.
        """
        now = self._clock()
        unique: dict[str, Mention] = {}
        for m in mentions:
            name = clean_name(m.name)
            key = normalize_key(name)
            if not key:
                continue
            typ = normalize_type(m.type)
            prior = unique.get(key)
            if prior is None or prior.type == DEFAULT_TYPE:
                unique[key] = Mention(name=name, type=typ)
        if not unique:
            return {}, []

        matches: dict[str, EntityMatch] = {}
        if by_key is None:
            by_key = self._store.find_entities_by_key(partition, list(unique))
        for key, mention in unique.items():
            hits = [e for e in by_key if e.key == key or key in _alias_keys(e)]
            if hits:
                hits.sort(
                    key=lambda e: (not types_compatible(e.type, mention.type), e.created_at, e.id)
                )
                matches[key] = EntityMatch(mention.name, hits[0], "key")

        pending = [k for k in unique if k not in matches]
        if pending:
            known = name_vectors or {}
            todo = [k for k in pending if k not in known]
            fresh = (
                dict(zip(todo, self._embedder.embed([unique[k].name for k in todo]), strict=True))
                if todo
                else {}
            )
            for key in pending:
                vec = known[key] if key in known else fresh[key]
                match = self._match_similar(partition, unique[key], vec)
                if match is None:
                    entity = Entity(
                        partition=partition,
                        user_id=user_id,
                        name=unique[key].name,
                        key=key,
                        type=unique[key].type,
                        embedding=[float(x) for x in vec],
                        created_at=now,
                        updated_at=now,
                    )
                    match = EntityMatch(unique[key].name, entity, "new")
                matches[key] = match

        upserts: dict[str, Entity] = {}
        for key, match in matches.items():
            entity = match.entity
            mention = unique[key]
            if match.method == "new":
                upserts[entity.id] = entity
                continue
            changed = False
            if entity.type == DEFAULT_TYPE and mention.type != DEFAULT_TYPE:
                entity = entity.model_copy(update={"type": mention.type})
                changed = True
            if key != entity.key and key not in _alias_keys(entity):
                entity = entity.model_copy(update={"aliases": [*entity.aliases, mention.name]})
                changed = True
            if changed:
                entity = entity.model_copy(update={"updated_at": now})
                match.entity = entity
                upserts[entity.id] = entity
        # Entities re-read from the store lack embeddings; keep the stored one when upserting.
        missing = [e.id for e in upserts.values() if e.embedding is None]
        if missing:
            stored = {
                e.id: e for e in self._store.get_entities(partition, missing, with_embeddings=True)
            }
            for eid in missing:
                if eid in stored:
                    upserts[eid] = upserts[eid].model_copy(
                        update={"embedding": stored[eid].embedding}
                    )
        return matches, list(upserts.values())

    def _match_similar(
        self, partition: str, mention: Mention, vec: np.ndarray
    ) -> EntityMatch | None:
        near = self._store.search_entities_vector(partition, vec, CANDIDATES)
        key = normalize_key(mention.name)
        scored: list[tuple[Entity, float, str]] = []
        digits = _digits(key)
        for entity, cos in near:
            if not types_compatible(entity.type, mention.type):
                continue
            if _digits(entity.key) != digits:
                continue  # "Windows 10" is not "Windows 11", however alike they look
            if not names_compatible(key, entity.key):
                continue  # "Boris Hoffmann" is not "Peter Hoffmann"
            ratio = max(
                [fuzz.ratio(key, entity.key)]
                + [fuzz.ratio(key, normalize_key(a)) for a in entity.aliases]
            )
            if ratio >= self._config.fuzzy_threshold:
                scored.append((entity, ratio / 100.0, "fuzzy"))
            elif cos >= self._config.embedding_threshold and entity.type == mention.type:
                scored.append((entity, float(cos), "embedding"))
        if not scored:
            return None
        # Fuzzy (string) evidence outranks embedding evidence; scores compare only within one
        # kind, so a fuzzy ratio is never weighed against a cosine.
        scored.sort(key=lambda t: (t[2] != "fuzzy", -t[1], t[0].id))
        best, best_score, method = scored[0]
        rivals = [
            (e, s)
            for e, s, m in scored[1:]
            if m == method and best_score - s <= self._config.ambiguity_margin
        ]
        return EntityMatch(mention.name, best, method, best_score, rivals)


def _digits(key: str) -> str:
    return "".join(ch for ch in key if ch.isdigit())


def _alias_keys(entity: Entity) -> set[str]:
    return {normalize_key(a) for a in entity.aliases}


def stored_keys(entities: Sequence[Entity]) -> set[str]:
    """Every key the entities answer to (their own and their aliases'): a mention with one of
    these resolves by key, so its name needs no embedding."""
    keys: set[str] = set()
    for e in entities:
        keys.add(e.key)
        keys.update(_alias_keys(e))
    return keys


def apply_entity_choices(
    store: GraphStore,
    clock: Callable[[], datetime],
    partition: str,
    amb_flags: list[Flag],
    decisions: dict[str, Decision],
    matches: dict[str, EntityMatch],
    candidates: list[Candidate],
    upserts: list[Entity],
) -> bool:
    """Move the facts of each ambiguous mention onto the entity the resolver chose, and
    its alias with them: the rejected entity must not keep answering to the name. Returns
    whether any entity changed (the flow then detects again)."""
    changed = False
    for flag in amb_flags:
        d = decisions.get(flag.new.ref)
        if d is None or d.action != "MERGE" or not d.targets:
            continue  # ADD would mean "a new entity": keep the policy's match, stay safe
        chosen = flag.candidates[d.targets[0]]
        current = flag.candidates["C1"]
        if chosen.id == current.id:
            continue
        chosen = _move_alias(store, clock, partition, flag.mention or "", current, chosen, upserts)
        for cand in candidates:
            if cand.fact.source_id == current.id:
                cand.fact.source_id, cand.fact.source = chosen.id, chosen.name
            if cand.fact.target_id == current.id:
                cand.fact.target_id, cand.fact.target = chosen.id, chosen.name
        for m in matches.values():
            if m.entity.id == current.id:
                m.entity = chosen
        changed = True
    return changed


def _move_alias(
    store: GraphStore,
    clock: Callable[[], datetime],
    partition: str,
    mention: str,
    rejected: Entity,
    chosen: Entity,
    upserts: list[Entity],
) -> Entity:
    """Take `mention` off the rejected entity's upsert and give it to the chosen one."""
    key = normalize_key(mention)
    for i, e in enumerate(upserts):
        if e.id == rejected.id:
            kept = [a for a in e.aliases if normalize_key(a) != key]
            upserts[i] = e.model_copy(update={"aliases": kept})
    if not key or key == chosen.key or key in {normalize_key(a) for a in chosen.aliases}:
        return chosen
    stored = store.get_entities(partition, [chosen.id], with_embeddings=True)
    base = stored[0] if stored else chosen
    chosen = base.model_copy(
        update={"aliases": [*base.aliases, clean_name(mention)], "updated_at": clock()}
    )
    upserts[:] = [e for e in upserts if e.id != chosen.id] + [chosen]
    return chosen
