"""The add flow of DESIGN.md, top-down: episode, extract, entities, detect, decide, write.

1 episode   the messages are stored first (pending): nothing is lost if a later step fails
            (beside steps 2-5 on a server store when no LLM is in the add: ingest.durable)
2 extract   ONE extraction for the add (graphmem.extract), told the speakers and context
3 entities  names resolved to stored entities (key, fuzzy, embedding); ONE embedding call
4 detect    proposed facts compared with the stored facts they can conflict with
5 decide    flagged items only: the resolver (one batched LLM call) or the policy, guarded
6 write     the decisions planned into ONE WriteBatch, applied in one transaction; the
            episodes become processed. A write that loses a race with another writer is
            planned again (steps 3-6) against the new graph, repeating no model work.

Memory validates input and calls AddFlow; the steps' policy lives in the modules named above.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from graphmem.config import MemoryConfig
from graphmem.embed.base import Embedder
from graphmem.errors import ConflictError, ExtractionError, LLMError
from graphmem.extract.base import Extractor
from graphmem.ingest.candidates import (
    candidates_for,
    canonical_relations,
    mentions_of,
    sentences_of,
)
from graphmem.ingest.context import extraction_context
from graphmem.ingest.decide.decider import Decider
from graphmem.ingest.decide.guards import DecisionGuard
from graphmem.ingest.decide.policy import policy_decision
from graphmem.ingest.detect import (
    Candidate,
    ConflictDetector,
    ambiguous_flags,
    globalize,
    past_for,
    stored_for,
)
from graphmem.ingest.durable import STORED, EpisodeWrite
from graphmem.ingest.entities import (
    EntityMatch,
    EntityResolver,
    apply_entity_choices,
    stored_keys,
)
from graphmem.ingest.episodes import (
    episode_text,
    extractable,
    facts_episode,
    facts_extraction,
    is_facts_episode,
    mark_failed,
    message_episodes,
    unprocessed_adds,
)
from graphmem.ingest.flags import Decision, Flag, UpdateResolver
from graphmem.ingest.plan import Plan, PlanMemo, mentions, plan_writes
from graphmem.locks import PartitionLocks, write_attempts
from graphmem.models import (
    AddResult,
    Entity,
    Episode,
    ExtractedRelation,
    Extraction,
    Scope,
    Usage,
    WriteBatch,
)
from graphmem.normalize import normalize_key
from graphmem.store.base import GraphStore

log = logging.getLogger(__name__)


class AddFlow:
    """The add path of one Memory: its store, embedder, extractor and resolver, and the
    per-partition locks it shares with Memory's other writes.

    Concurrency: where the store checks versions, the first plan (its embedding call and any
    resolver call) runs without the partition lock, so a slow model never blocks the user's
    other adds; only the apply, and re-plans after a lost race, hold it. A store without
    versions plans under the lock, as its apply cannot notice a concurrent change.
    """

    def __init__(
        self,
        store: GraphStore,
        embedder: Embedder,
        extractor: Extractor,
        resolver: UpdateResolver,
        config: MemoryConfig,
        clock: Callable[[], datetime],
        locks: PartitionLocks,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.extractor = extractor
        self._config = config
        self._clock = clock
        self._locks = locks
        resolution = config.resolution
        ontology = getattr(extractor, "ontology", None)
        functional = set(ontology.functional_relations()) if ontology is not None else set()
        self.detector = ConflictDetector(
            set(resolution.functional_relations) | functional,
            resolution.near_duplicate_threshold,
            target_functional=resolution.target_functional_relations,
        )
        self.entities = EntityResolver(store, embedder, resolution, clock)
        self.decider = Decider(resolver, DecisionGuard(self.detector.rivals))

    @property
    def resolver(self) -> UpdateResolver:
        return self.decider.resolver

    @resolver.setter
    def resolver(self, resolver: UpdateResolver) -> None:
        self.decider.resolver = resolver

    @property
    def guards(self) -> DecisionGuard | None:
        """The decision guard (None: LLM decisions unchecked, only for measuring)."""
        return self.decider.guards

    @guards.setter
    def guards(self, guards: DecisionGuard | None) -> None:
        self.decider.guards = guards

    # -- the flow ------------------------------------------------------------------------------
    def add(
        self,
        scope: Scope,
        messages: Sequence[dict[str, Any]],
        *,
        metadata: dict[str, Any],
        reference: datetime | None,
        infer: bool,
    ) -> tuple[AddResult, list[Episode]]:
        """Validated messages through the six steps (infer=False: stored as they are, no
        extraction). Returns what the add did and its episodes."""
        now = self._clock()
        episodes = message_episodes(
            scope, messages, metadata=metadata, reference=reference or now, now=now, infer=infer
        )
        # 1 episode: durable before any model call and before anything else is written
        stored = EpisodeWrite(self.store, episodes, overlap=self._llm_free(infer))
        result = AddResult(episodes=[e.id for e in episodes])
        try:
            if infer:
                self.extract_and_write(scope, episodes, result, stored)
            else:
                self.write(scope, episodes, Extraction(), result, stored)
        finally:
            stored.wait()  # committed (or its error raised) before the add returns
        return result, episodes

    def add_facts(self, scope: Scope, rows: list[Any], reference: datetime | None) -> AddResult:
        """Caller-supplied triples through steps 3-6; one episode records them."""
        now = self._clock()
        episode, relations = facts_episode(scope, rows, reference=reference or now, now=now)
        stored = EpisodeWrite(self.store, [episode], overlap=self._llm_free(False))
        result = AddResult(episodes=[episode.id])
        try:
            self.write(scope, [episode], Extraction(relations=relations), result, stored)
        finally:
            stored.wait()
        return result

    def _llm_free(self, infer: bool) -> bool:
        """No language model can be called before this add's knowledge is written (rules
        extraction or none, policy decisions), so the episodes' write may overlap the
        planning (graphmem.ingest.durable)."""
        return not self.decider.resolver.uses_llm and not (infer and self.extractor.uses_llm)

    def reprocess(
        self, scope: Scope | None, progress: Callable[[AddResult], None] | None = None
    ) -> list[AddResult]:
        """Finish unprocessed episodes, one original add at a time, oldest first."""
        results = []
        for episodes in unprocessed_adds(self.store, scope):
            first = episodes[0]
            add_scope = Scope.of(first.user_id, first.agent_id, first.run_id)
            result = AddResult(episodes=[e.id for e in episodes])
            if is_facts_episode(first):
                self.write(add_scope, episodes, facts_extraction(episodes), result)
            elif first.infer:
                self.extract_and_write(add_scope, episodes, result)
            else:
                self.write(add_scope, episodes, Extraction(), result)
            results.append(result)
            if progress is not None:  # e.g. the CLI's progress bar, once per replayed add
                progress(result)
        return results

    def extract_and_write(
        self,
        scope: Scope,
        episodes: list[Episode],
        result: AddResult,
        stored: EpisodeWrite = STORED,
    ) -> None:
        """2 extract (what people said; context turns are not extracted), then 3-6.
        `stored` is the episodes' write, waited for before anything else is written."""
        targets = [e for e in episodes if extractable(e)]
        extraction = Extraction()
        if targets:
            try:
                history = self._config.history_messages
                context = extraction_context(self.store, self.extractor, history, scope, episodes)
                extraction, usage = self.extractor.extract(targets, context)
                _account(result, usage)
            except (ExtractionError, LLMError) as exc:
                stored.wait()
                mark_failed(self.store, scope, episodes, f"extraction failed: {exc}", result)
                return
        self.write(scope, episodes, extraction, result, stored)

    def write(
        self,
        scope: Scope,
        episodes: list[Episode],
        extraction: Extraction,
        result: AddResult,
        stored: EpisodeWrite = STORED,
    ) -> None:
        """Plan (steps 3-6) and apply one batch; re-plan when a concurrent writer wins the race.

        A re-plan reuses the vectors and the resolver's decisions for flags the new graph left
        unchanged, and asks no LLM under the lock (the policy decides new flags). A write still
        refused after WRITE_ATTEMPTS attempts leaves the episodes failed for reprocess().
        The first plan may run while the episodes' write (`stored`) is still in flight; it is
        waited for before the batch, or a failed status, is written."""
        partition = scope.partition
        memo = PlanMemo()
        keys = mention_keys(extraction)
        version, by_key = self.store.version_and_entities(partition, keys)
        plan: Plan | None = None
        if version is not None:
            plan = self._plan_or_fail(scope, episodes, extraction, memo, result, stored, by_key)
            if plan is None:
                return
        stored.wait()
        with self._locks.hold(partition):
            for attempt, last in write_attempts():
                if plan is None:
                    version, by_key = self.store.version_and_entities(partition, keys)
                    plan = self._plan_or_fail(
                        scope, episodes, extraction, memo, result, by_key=by_key
                    )
                    if plan is None:
                        return
                memo.allow_llm = version is None  # never an LLM call under the lock otherwise
                plan.batch.expected_version = version
                try:
                    self.store.apply(plan.batch)
                    break
                except ConflictError as exc:
                    if last:
                        error = f"write lost {attempt} races with concurrent writers: {exc}"
                        mark_failed(self.store, scope, episodes, error, result)
                        return
                    log.debug("write conflict (attempt %d), re-planning: %s", attempt, exc)
                    plan = None
        assert plan is not None
        result.results.extend(plan.changes)
        result.entities = [e.id for e in plan.batch.entities]
        result.errors.extend(plan.errors)
        result.refusals.extend(plan.refusals)

    def plan(
        self,
        scope: Scope,
        episodes: list[Episode],
        extraction: Extraction,
        memo: PlanMemo | None = None,
        by_key: list[Entity] | None = None,
    ) -> Plan:
        """Steps 3-6 against the graph as it is now: reads the store, never writes it.
        `by_key`: the stored entities of the extraction's names (mention_keys), when already
        read with the partition's version (GraphStore.version_and_entities)."""
        memo = memo if memo is not None else PlanMemo()
        now = self._clock()
        relations = canonical_relations(extraction)
        sentences = sentences_of(relations)
        # 3 entities (and the add's ONE embedding call)
        plan, matches, upserts, fact_vectors = self._resolve_entities(
            scope, episodes, extraction, relations, sentences, memo, by_key
        )
        candidates = candidates_for(
            scope, episodes, relations, sentences, fact_vectors, matches, now, plan.errors
        )
        # 4 detect
        known = {m.entity.id for m in matches.values() if m.method != "new"}
        fact_flags = self._detect(scope.partition, candidates, known)
        entity_flags = ambiguous_flags(matches, candidates)
        flags = globalize(fact_flags + entity_flags)
        # 5 decide
        plan.refusals.extend(extraction.refusals)
        new_facts = {c.ref: c.fact for c in candidates}
        decisions = self.decider.decide(flags, plan, memo, new_facts)
        if entity_flags and apply_entity_choices(
            self.store,
            self._clock,
            scope.partition,
            entity_flags,
            decisions,
            matches,
            candidates,
            upserts,
        ):
            flags, decisions = self._redetect(scope.partition, candidates)
        # 6 write, planned: one WriteBatch. The decisions name stored facts by the
        # globalized short ids, so the writes map them through the same flags.
        plan.batch.entities = upserts
        self.plan_writes(candidates, decisions, flags, plan, now)
        plan.batch.mentions = mentions(episodes, candidates, matches, extraction)
        return plan

    # The writes of step 6 (an attribute, so instrumentation can wrap it).
    plan_writes = staticmethod(plan_writes)

    # -- the steps' helpers ----------------------------------------------------------------------
    def _resolve_entities(
        self,
        scope: Scope,
        episodes: list[Episode],
        extraction: Extraction,
        relations: list[ExtractedRelation],
        sentences: list[str],
        memo: PlanMemo,
        by_key: list[Entity] | None,
    ) -> tuple[Plan, dict[str, EntityMatch], list[Entity], list[Any]]:
        """Every mentioned name resolved; the plan's batch started with the episodes' vectors.
        Names already stored resolve by key: only the others need a vector. ONE embedding call
        per add: the episodes' content, new entity names and fact sentences together."""
        partition = scope.partition
        found = mentions_of(extraction, relations)
        names = _keys_of(found)
        name_text = {normalize_key(m.name): m.name for m in found}
        if by_key is None:
            by_key = self.store.find_entities_by_key(partition, names) if names else []
        stored = stored_keys(by_key)
        names = [k for k in names if k not in stored]
        texts = [episode_text(e) for e in episodes] + [name_text[k] for k in names] + sentences
        todo = list(dict.fromkeys(t for t in texts if t not in memo.vectors))
        if todo:
            memo.vectors.update(zip(todo, self.embedder.embed(todo), strict=True))
        vectors = [memo.vectors[t] for t in texts]
        n_eps, n_names = len(episodes), len(names)
        name_vectors = dict(zip(names, vectors[n_eps : n_eps + n_names], strict=True))
        matches, upserts = self.entities.resolve(
            partition, scope.user_id, found, name_vectors, by_key=by_key
        )
        plan = Plan(
            batch=WriteBatch(
                partition=partition,
                episode_ids=[e.id for e in episodes],
                episode_embeddings={
                    e.id: [float(x) for x in v] for e, v in zip(episodes, vectors, strict=False)
                },
            )
        )
        return plan, matches, upserts, vectors[n_eps + n_names :]

    def _detect(self, partition: str, candidates: list[Candidate], known: set[str]) -> list[Flag]:
        """Flags of the proposed facts that touch a stored entity, against the stored facts
        they can conflict with and the past states they may repeat (one read each)."""
        touching = [
            c.fact for c in candidates if c.fact.source_id in known or c.fact.target_id in known
        ]
        stored = stored_for(self.store, self.detector, partition, touching)
        past = past_for(self.store, self.detector, partition, candidates)
        return self.detector.detect(candidates, stored, past)

    def _redetect(
        self, partition: str, candidates: list[Candidate]
    ) -> tuple[list[Flag], dict[str, Decision]]:
        """An entity changed: detect again against the new endpoints with the policy alone,
        so an add never costs more than one resolver call."""
        stored = stored_for(self.store, self.detector, partition, [c.fact for c in candidates])
        flags = globalize(self.detector.detect(candidates, stored))
        return flags, {f.new.ref: policy_decision(f) for f in flags}

    def _plan_or_fail(
        self,
        scope: Scope,
        episodes: list[Episode],
        extraction: Extraction,
        memo: PlanMemo,
        result: AddResult,
        stored: EpisodeWrite = STORED,
        by_key: list[Entity] | None = None,
    ) -> Plan | None:
        try:
            plan = self.plan(scope, episodes, extraction, memo, by_key)
        except LLMError as exc:  # pragma: no cover - the decider falls back to policy
            stored.wait()
            mark_failed(self.store, scope, episodes, f"resolution failed: {exc}", result)
            return None
        _account(result, plan.usage)  # a re-plan's LLM calls are spent too
        return plan


def mention_keys(extraction: Extraction) -> list[str]:
    """The keys of every name an extraction mentions, first seen first: what step 3 looks
    up by key (read with the partition's version, before planning)."""
    return _keys_of(mentions_of(extraction, canonical_relations(extraction)))


def _keys_of(found: list[Any]) -> list[str]:
    return list(dict.fromkeys(k for m in found if (k := normalize_key(m.name))))


def _account(result: AddResult, usage: Usage) -> None:
    result.llm_calls += usage.llm_calls
    result.prompt_tokens += usage.prompt_tokens
    result.completion_tokens += usage.completion_tokens
