"""The conflict detector: decide, without an LLM, which proposed facts need a decision.

Most new facts conflict with nothing and are simply added. The detector flags only:
exact duplicates, near-duplicates (same endpoints with a similar relation or sentence),
contradictions (a functional relation with another target, overlapping in time) and negations
(a statement that ends a relation). Flags go to an UpdateResolver; everything else is ADD.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from rapidfuzz import fuzz

from graphmem import ontology
from graphmem.ingest.entities import EntityMatch, names_compatible
from graphmem.ingest.flags import Flag, ProposedFact
from graphmem.models import NO_TARGET, Entity, Fact
from graphmem.normalize import normalize_key
from graphmem.store.base import GraphStore

SYMMETRIC_RELATIONS = ontology.symmetric()
RELATION_SIMILARITY = 85.0
NAME_SIMILARITY = 90.0  # token-set ratio of two target names that may be one thing


@dataclass
class Candidate:
    """A proposed fact with resolved endpoints, as it would be written."""

    ref: str
    fact: Fact  # id, endpoints, sentence, times, provenance; embedding set
    negated: bool = False
    stated_invalid_at: datetime | None = None

    @property
    def vector(self) -> np.ndarray:
        return np.asarray(self.fact.embedding, dtype=np.float32)

    def proposed(self) -> ProposedFact:
        f = self.fact
        return ProposedFact(
            ref=self.ref,
            source=f.source,
            relation=f.relation,
            target=f.target,
            fact=f.fact,
            source_id=f.source_id,
            target_id=f.target_id,
            valid_at=f.valid_at.isoformat() if f.valid_at else None,
            invalid_at=self.stated_invalid_at.isoformat() if self.stated_invalid_at else None,
            negated=self.negated,
        )


def same_endpoints(a: Fact, b: Fact, *, symmetric: bool) -> bool:
    if a.source_id == b.source_id and a.target_id == b.target_id:
        return True
    return symmetric and a.source_id == b.target_id and a.target_id == b.source_id


def overlaps(a: Fact, b: Fact) -> bool:
    """Whether two facts' world-time intervals overlap (open ends are unbounded)."""
    a_start, a_end = a.valid_at, a.invalid_at
    b_start, b_end = b.valid_at, b.invalid_at
    if a_end is not None and b_start is not None and a_end <= b_start:
        return False
    return not (b_end is not None and a_start is not None and b_end <= a_start)


def _cosine(a: Fact, b: np.ndarray) -> float:
    if a.embedding is None:
        return 0.0
    return float(np.dot(np.asarray(a.embedding, dtype=np.float32), b))


class ConflictDetector:
    def __init__(
        self,
        functional: Iterable[str],
        near_duplicate_threshold: float,
        target_functional: Iterable[str] = (),
    ) -> None:
        self.functional = frozenset(functional)
        self.target_functional = frozenset(target_functional)
        self.near_duplicate_threshold = near_duplicate_threshold

    @staticmethod
    def is_symmetric(relation: str) -> bool:
        """Whether a relation reads the same both ways (the vocabulary's symmetric ones)."""
        return relation in SYMMETRIC_RELATIONS

    def detect(
        self, candidates: list[Candidate], stored: list[Fact], past: Iterable[Fact] = ()
    ) -> list[Flag]:
        """Flag each candidate against current stored facts and the earlier candidates of the
        same add (so "moved from Paris to Berlin" in one message resolves in order).

        A candidate with no flag is a plain ADD. A past state ("I lived in Lisbon") that
        overlaps a current fact with the same triple is turned into a negation of it here;
        one that a stored ended fact (`past`, see `past_pairs`) already covers is a duplicate.
        """
        flags: list[Flag] = []
        index = _FactIndex()
        for f in stored:
            if f.is_current:
                index.add(f)
        history = _FactIndex()
        for f in past:
            if not f.is_current:
                history.add(f)
        for cand in candidates:
            new = cand.fact
            said_before = self._past_duplicate(cand, history.near(new, []))
            if said_before is not None:
                flags.append(said_before)
                continue
            flags.extend(self._flags_for(cand, index.near(new, self.ends(new))))
            if not cand.negated:
                index.add(new)
        return flags

    @staticmethod
    def past_pairs(candidates: Iterable[Candidate]) -> list[tuple[str, str]]:
        """The entity pairs whose ended facts `detect` needs: those of the past states
        ("I lived in Lisbon from 2019 to 2022") among the candidates."""
        return list(
            dict.fromkeys(
                (c.fact.source_id, c.fact.target_id)
                for c in candidates
                if not c.negated and c.fact.invalid_at is not None
            )
        )

    def _past_duplicate(self, cand: Candidate, ended: list[Fact]) -> Flag | None:
        """A past state said again: an ended fact with the same triple whose interval covers
        the new one (open starts cover anything earlier)."""
        new = cand.fact
        if cand.negated or new.invalid_at is None:
            return None
        symmetric = self.is_symmetric(new.relation)
        for f in ended:
            if f.relation != new.relation or not same_endpoints(f, new, symmetric=symmetric):
                continue
            if not _same_narrowing(f, new) or f.invalid_at is None:
                continue
            starts_before = f.valid_at is None or (
                new.valid_at is not None and f.valid_at <= new.valid_at
            )
            if starts_before and new.invalid_at <= f.invalid_at:
                return Flag(
                    kind="duplicate",
                    new=cand.proposed(),
                    existing=_short_ids([f]),
                    detail="a past state already stored",
                )
        return None

    def ends(self, new: Fact) -> list[tuple[str, str, str]]:
        """(end, entity id, relation) of the stored facts a rule can flag `new` against,
        besides those joining its two entities: its relation from its source (one-valued
        relations, near-duplicates, negations), into its target when one-valued by target,
        and at every end of both entities for a symmetric one-valued relation (MARRIED_TO).
        Hubs stay out: "Ana lives in Lisbon" never needs everyone else living in Lisbon."""
        s, r, t = new.source_id, new.relation, new.target_id
        out = [("source", s, r)]
        symmetric_functional = self.is_symmetric(r) and r in self.functional
        if r in self.target_functional or symmetric_functional:
            out.append(("target", t, r))
        if symmetric_functional:
            out += [("source", t, r), ("target", s, r)]
        return out

    def probes(
        self, facts: Iterable[Fact]
    ) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
        """What to read from the store (GraphStore.facts_for_detection) to check `facts`."""
        pairs: dict[tuple[str, str], None] = {}
        ends: dict[tuple[str, str, str], None] = {}
        for f in facts:
            pairs[(f.source_id, f.target_id)] = None
            ends.update(dict.fromkeys(self.ends(f)))
        return list(pairs), list(ends)

    def _flags_for(self, cand: Candidate, existing: list[Fact]) -> list[Flag]:
        new = cand.fact
        symmetric = self.is_symmetric(new.relation)
        vec = cand.vector

        def same_triple(f: Fact) -> bool:
            return f.relation == new.relation and same_endpoints(f, new, symmetric=symmetric)

        if not cand.negated and new.invalid_at is not None:
            # A past state ("I lived in Lisbon" / "in Paris 2010-2015"). If it overlaps the
            # current fact with the same triple, the statement ends that fact; otherwise it is
            # history, added as is, and contradicts nothing current.
            if not any(same_triple(f) and overlaps(f, new) for f in existing):
                return []
            cand.negated = True
            cand.stated_invalid_at = new.invalid_at
        proposed = cand.proposed()

        if cand.negated:
            ended = [
                f
                for f in existing
                if same_triple(f)
                or (
                    f.relation == new.relation
                    and f.source_id == new.source_id
                    and _is_placeholder(new)
                )
            ]
            if not ended:
                # A negation that ends nothing known: resolve it anyway (policy: SKIP).
                return [Flag(kind="negation", new=proposed, detail="ends no stored fact")]
            return [
                Flag(
                    kind="negation",
                    new=proposed,
                    existing=_short_ids(ended),
                    detail=f"the statement ends {new.relation}",
                )
            ]

        # Saying something again merges provenance, but only into a fact the same agent/run
        # can see, so a merge never hides a fact from the scope that said it. Contradictions
        # and ends, below, act across the user's whole graph: a move is a move.
        mergeable = [f for f in existing if _same_narrowing(f, new)]
        duplicates = [f for f in mergeable if same_triple(f)]
        if duplicates:
            return [Flag(kind="duplicate", new=proposed, existing=_short_ids(duplicates[:1]))]

        rivals = [f for f in existing if self.rivals(f, new, symmetric) and overlaps(f, new)]
        if rivals:
            return [
                Flag(
                    kind="contradiction",
                    new=proposed,
                    existing=_short_ids(rivals),
                    detail=f"{new.relation} holds one value at a time",
                )
            ]

        near: list[tuple[float, Fact]] = []
        for f in mergeable:
            if same_endpoints(f, new, symmetric=symmetric):
                rel_sim = fuzz.ratio(f.relation, new.relation)
                cos = _cosine(f, vec)
                if rel_sim >= RELATION_SIMILARITY or cos >= self.near_duplicate_threshold:
                    near.append((max(rel_sim / 100.0, cos), f))
            elif (
                f.relation == new.relation
                and f.source_id == new.source_id
                and _same_target_name(f, new)
            ):
                cos = _cosine(f, vec)
                if cos >= self.near_duplicate_threshold:
                    near.append((cos, f))
        if not near:
            return []
        near.sort(key=lambda t: (-t[0], t[1].id))
        return [
            Flag(
                kind="near_duplicate",
                new=proposed,
                existing=_short_ids([f for _, f in near[:3]]),
                detail=f"similar to a stored fact (score {near[0][0]:.2f})",
            )
        ]

    def rivals(self, f: Fact, new: Fact, symmetric: bool) -> bool:
        """Whether stored fact f and the new fact cannot both hold: same one-valued relation,
        sharing the end that has one value, differing at the other. For a symmetric one-valued
        relation (MARRIED_TO) either end counts: "Ana married Carl" ends "Bob married to Ana"."""
        if f.relation != new.relation:
            return False
        by_source = new.relation in self.functional
        by_target = new.relation in self.target_functional
        if not (by_source or by_target):
            return False
        if symmetric and by_source:
            shared = {f.source_id, f.target_id} & {new.source_id, new.target_id}
            return bool(shared) and {f.source_id, f.target_id} != {new.source_id, new.target_id}
        if by_source and f.source_id == new.source_id and f.target_id != new.target_id:
            return True
        return by_target and f.target_id == new.target_id and f.source_id != new.source_id


def ambiguous_entity_flag(
    ref: str, mention: str, options: list[Entity], example: ProposedFact
) -> Flag:
    return Flag(
        kind="ambiguous_entity",
        new=example.model_copy(update={"ref": ref}),
        candidates={f"C{i + 1}": e for i, e in enumerate(options)},
        mention=mention,
        detail=f"'{mention}' matches {len(options)} stored entities about equally well",
    )


class _FactIndex:
    """Facts by endpoint pair and by (end, relation), in the order they were added.

    Every rule of the detector compares a new fact only with facts that join the same two
    entities, or that share its relation at one of its ends; a hub entity (a city everyone
    lives in) has thousands of facts, so scanning them all per candidate made adds quadratic.
    """

    def __init__(self) -> None:
        self._facts: list[Fact] = []
        self._by_pair: dict[frozenset[str], list[int]] = {}
        self._by_end: dict[tuple[str, str, str], list[int]] = {}

    def add(self, fact: Fact) -> None:
        i = len(self._facts)
        self._facts.append(fact)
        self._by_pair.setdefault(frozenset((fact.source_id, fact.target_id)), []).append(i)
        self._by_end.setdefault(("source", fact.source_id, fact.relation), []).append(i)
        self._by_end.setdefault(("target", fact.target_id, fact.relation), []).append(i)

    def near(self, new: Fact, ends: list[tuple[str, str, str]]) -> list[Fact]:
        """The facts joining new's two entities (either direction) or found at one of
        `ends`, in insertion order."""
        hits = set(self._by_pair.get(frozenset((new.source_id, new.target_id)), ()))
        for key in ends:
            hits.update(self._by_end.get(key, ()))
        return [self._facts[i] for i in sorted(hits)]


def _same_target_name(a: Fact, b: Fact) -> bool:
    """Whether two facts' different target entities may still be one thing under two names
    ("Acme" / "Acme Inc"): only then can a similar sentence make them near-duplicates. "Maria
    is Ana's mother" and "Maria is Tom's mother" are two facts, however alike the sentences."""
    ka, kb = normalize_key(a.target), normalize_key(b.target)
    return fuzz.token_set_ratio(ka, kb) >= NAME_SIMILARITY and names_compatible(ka, kb)


def _same_narrowing(a: Fact, b: Fact) -> bool:
    return a.agent_id == b.agent_id and a.run_id == b.run_id


def _is_placeholder(fact: Fact) -> bool:
    """A negation with no concrete target ("I quit my job") ends any target."""
    return fact.target.strip() in NO_TARGET


def _short_ids(facts: list[Fact]) -> dict[str, Fact]:
    return {f"E{i + 1}": f for i, f in enumerate(facts)}


def stored_for(
    store: GraphStore, detector: ConflictDetector, partition: str, facts: list[Fact]
) -> list[Fact]:
    """The stored facts the detector can flag these against, and no more (one read)."""
    if not facts:
        return []
    pairs, ends = detector.probes(facts)
    return store.facts_for_detection(partition, pairs=pairs, ends=ends)


def past_for(
    store: GraphStore, detector: ConflictDetector, partition: str, candidates: list[Candidate]
) -> list[Fact]:
    """Ended facts joining the entities of the past states among the candidates, so a
    past state said again is recognised (read only when an add states one)."""
    pairs = detector.past_pairs(candidates)
    if not pairs:
        return []
    wanted = {frozenset(p) for p in pairs}
    sources = sorted({s for s, _ in pairs})
    facts = store.facts_for_entities(partition, sources, include_invalid=True)
    return [f for f in facts if frozenset((f.source_id, f.target_id)) in wanted]


def ambiguous_flags(matches: dict[str, EntityMatch], candidates: list[Candidate]) -> list[Flag]:
    """One ambiguous_entity flag (A1, A2, ...) per mention that matched several stored
    entities about equally well and that a proposed fact uses."""
    flags = []
    for key, match in sorted(matches.items()):
        if not match.ambiguous_with:
            continue
        example = next(
            (c for c in candidates if match.entity.id in (c.fact.source_id, c.fact.target_id)),
            None,
        )
        if example is None:
            continue
        options = [match.entity] + [e for e, _ in match.ambiguous_with]
        flag = ambiguous_entity_flag(
            f"A{len(flags) + 1}", match.mention, options, example.proposed()
        )
        flag.detail += f" (key {key})"
        flags.append(flag)
    return flags


def globalize(flags: list[Flag]) -> list[Flag]:
    """Renumber short ids so one stored fact has one id across all flags of a call."""
    ids: dict[str, str] = {}
    out = []
    for flag in flags:
        existing = {}
        for fact in flag.existing.values():
            sid = ids.setdefault(fact.id, f"E{len(ids) + 1}")
            existing[sid] = fact
        out.append(flag.model_copy(update={"existing": existing}))
    return out
