"""Between extraction and detection: the extracted relations in the vocabulary's names, the
names they mention, and the proposed facts (Candidates) once those names are resolved.

Kept apart from the entity resolver (which only maps names to entities) and the detector
(which only compares proposed facts with stored ones): this is where a relation becomes a
fact with ids, a sentence, a vector, times and provenance.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from graphmem import ontology
from graphmem.ingest.detect import NO_TARGET, Candidate
from graphmem.ingest.entities import EntityMatch, Mention
from graphmem.models import Episode, ExtractedRelation, Extraction, Fact, Scope
from graphmem.normalize import clean_name, clean_text, normalize_key, normalize_relation


def default_sentence(source: str, relation: str, target: str) -> str:
    return f"{source} {relation.lower().replace('_', ' ')} {target}."


def canonical_relations(extraction: Extraction) -> list[ExtractedRelation]:
    """The extracted relations worth proposing, named as the vocabulary names them: clean
    endpoint names, a synonym renamed, an inverse ("CHILD_OF") turned round; a relation
    without a source, without a target (unless it is a negation) or from a name to itself
    is dropped."""
    relations = []
    for rel in extraction.relations:
        source, target = clean_name(rel.source), clean_name(rel.target)
        if target in NO_TARGET:
            target = ""  # "I quit my job": a negation that ends any target
        if not source or (not target and not rel.negated):
            continue
        if normalize_key(source) == normalize_key(target):
            continue
        relation, swap = ontology.canonical(normalize_relation(rel.relation))
        if swap and target:
            source, target = target, source
            types = {"source_type": rel.target_type, "target_type": rel.source_type}
        else:
            types = {}
        relations.append(
            rel.model_copy(
                update={"source": source, "target": target, "relation": relation, **types}
            )
        )
    return relations


def mentions_of(extraction: Extraction, relations: list[ExtractedRelation]) -> list[Mention]:
    """Every name to resolve: the extracted entities, then each relation's endpoints (typed by
    the relation, else by the entity of that name)."""
    mentions = [Mention(clean_name(e.name), e.type) for e in extraction.entities]
    for rel in relations:
        mentions.append(Mention(rel.source, rel.source_type or _type_of(extraction, rel.source)))
        if rel.target:
            mentions.append(
                Mention(rel.target, rel.target_type or _type_of(extraction, rel.target))
            )
    return [m for m in mentions if m.name]


def sentences_of(relations: list[ExtractedRelation]) -> list[str]:
    """The sentence each fact will carry: the extractor's, else one made from the triple."""
    return [
        clean_text(rel.fact)
        or default_sentence(rel.source, normalize_relation(rel.relation), rel.target)
        for rel in relations
    ]


def candidates_for(
    scope: Scope,
    episodes: list[Episode],
    relations: list[ExtractedRelation],
    sentences: list[str],
    vectors: Sequence[Any],
    matches: dict[str, EntityMatch],
    now: datetime,
    errors: list[str],
) -> list[Candidate]:
    """The proposed facts between resolved entities, one per (source, relation, target,
    negated), numbered N1, N2, ... A relation whose two names resolve to one entity is skipped
    with a reason in `errors`."""
    by_episode = {e.id: e for e in episodes}
    candidates: list[Candidate] = []
    for rel, sentence, vec in zip(relations, sentences, vectors, strict=True):
        src = matches.get(normalize_key(rel.source))
        tgt = matches.get(normalize_key(rel.target)) if rel.target else None
        if src is None or (tgt is None and not rel.negated):
            continue
        if tgt is not None and tgt.entity.id == src.entity.id:
            # Two names resolved to one entity: a self-loop states nothing true.
            errors.append(
                f"skipped {rel.source} {rel.relation} {rel.target}: both names resolve "
                f"to the entity {src.entity.name!r}"
            )
            continue
        episode = by_episode.get(rel.episode_id or "", episodes[0])
        # Unknown start: the time it was said, unless the statement is about the past
        # ("I lived in Lisbon") or ends something ("I left Acme").
        closed = rel.negated or rel.invalid_at is not None
        valid_at = rel.valid_at or (None if closed else episode.reference_time)
        invalid_at = rel.invalid_at if not rel.negated else None
        if invalid_at is not None and valid_at is not None and invalid_at < valid_at:
            invalid_at = None
        fact = Fact(
            partition=scope.partition,
            user_id=scope.user_id,
            agent_id=scope.agent_id,
            run_id=scope.run_id,
            source_id=src.entity.id,
            source=src.entity.name,
            relation=normalize_relation(rel.relation),
            target_id=tgt.entity.id if tgt else "",
            target=tgt.entity.name if tgt else "",
            fact=sentence,
            embedding=[float(x) for x in vec],
            valid_at=valid_at,
            invalid_at=invalid_at,
            created_at=now,
            episodes=[episode.id],
            metadata=dict(episode.metadata),  # what the add was given, kept on its facts
        )
        candidates.append(
            Candidate(
                ref="",
                fact=fact,
                negated=rel.negated,
                stated_invalid_at=rel.invalid_at
                or (episode.reference_time if rel.negated else None),
            )
        )
    candidates = _dedupe(candidates)
    for i, cand in enumerate(candidates):
        cand.ref = f"N{i + 1}"
    return candidates


def union(a: list[str], b: list[str]) -> list[str]:
    """Both id lists, in order, without repeats (provenance merged)."""
    return list(dict.fromkeys([*a, *b]))


def _type_of(extraction: Extraction, name: str) -> str:
    key = normalize_key(name)
    for e in extraction.entities:
        if normalize_key(e.name) == key:
            return e.type
    return "Entity"


def _dedupe(candidates: list[Candidate]) -> list[Candidate]:
    """One candidate per (source, relation, target, negated) within an add; provenance merged."""
    out: dict[tuple[str, str, str, bool], Candidate] = {}
    for cand in candidates:
        f = cand.fact
        key = (f.source_id, f.relation, f.target_id, cand.negated)
        if key in out:
            kept = out[key].fact
            kept.episodes = union(kept.episodes, f.episodes)
        else:
            out[key] = cand
    return list(out.values())
