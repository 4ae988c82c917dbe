"""From an extraction to one WriteBatch: resolve entities, detect conflicts, decide, plan writes.

This is steps 3-6 of the add flow in DESIGN.md. It reads the store (entity lookups and the
facts around the mentioned entities) but never writes: the caller applies the batch in one
transaction, so a failure anywhere here leaves the store untouched and the episode pending.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from graphmem import ontology
from graphmem.config import ResolutionConfig
from graphmem.embed.base import Embedder
from graphmem.errors import LLMError
from graphmem.ingest.decide.guards import DecisionGuard
from graphmem.ingest.decide.policy import policy_decision
from graphmem.ingest.detect import (
    NO_TARGET,
    Candidate,
    ConflictDetector,
    ambiguous_entity_flag,
)
from graphmem.ingest.entities import EntityMatch, EntityResolver, Mention, stored_keys
from graphmem.ingest.flags import Decision, Flag, UpdateResolver
from graphmem.models import (
    Entity,
    Episode,
    Extraction,
    Fact,
    FactChange,
    Invalidation,
    ProvenanceMerge,
    Scope,
    Usage,
    WriteBatch,
)
from graphmem.normalize import clean_name, clean_text, normalize_key, normalize_relation
from graphmem.store.base import GraphStore

log = logging.getLogger(__name__)


# At most this many resolver (LLM) calls per add, re-plans included; past it, the policy.
MAX_RESOLVER_CALLS = 2


@dataclass
class PlanMemo:
    """What one add's plans share, so a re-plan (after losing a write race) repeats no model
    work: vectors by text, and the resolver's decisions by the flag they answered (its kind,
    the proposed triple and the stored facts or entities it named). A flag the graph change
    left as it was keeps its decision; only new flags need deciding, by the resolver while
    `allow_llm` and the budget last, else by the policy."""

    vectors: dict[str, Any] = field(default_factory=dict)
    decisions: dict[tuple, tuple[str, list[str], str]] = field(default_factory=dict)
    resolver_calls: int = 0
    allow_llm: bool = True


@dataclass
class Plan:
    batch: WriteBatch
    changes: list[FactChange] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    errors: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # model answers the guards refused


def episode_text(episode: Episode) -> str:
    """What an episode's vector stands for: who said it and what they said, so "what did
    Caroline research?" finds Caroline's own words."""
    return f"{episode.name}: {episode.content}" if episode.name else episode.content


def default_sentence(source: str, relation: str, target: str) -> str:
    return f"{source} {relation.lower().replace('_', ' ')} {target}."


class UpdatePipeline:
    def __init__(
        self,
        store: GraphStore,
        embedder: Embedder,
        config: ResolutionConfig,
        resolver: UpdateResolver,
        clock: Callable[[], datetime],
        functional: set[str] | None = None,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._config = config
        self._resolver = resolver
        self._clock = clock
        self._entities = EntityResolver(store, embedder, config, clock)
        self._detector = ConflictDetector(
            set(config.functional_relations) | (functional or set()),
            config.near_duplicate_threshold,
            target_functional=config.target_functional_relations,
        )
        # Checks every LLM decision before it is applied (None: apply them unchecked, only
        # for measuring what the guards prevent).
        self.guards: DecisionGuard | None = DecisionGuard(self._detector.rivals)

    @property
    def functional(self) -> frozenset[str]:
        return self._detector.functional

    @property
    def target_functional(self) -> frozenset[str]:
        return self._detector.target_functional

    def plan(
        self,
        scope: Scope,
        episodes: list[Episode],
        extraction: Extraction,
        memo: PlanMemo | None = None,
    ) -> Plan:
        memo = memo if memo is not None else PlanMemo()
        now = self._clock()
        partition = scope.partition
        by_episode = {e.id: e for e in episodes}
        fallback_episode = episodes[0]

        relations = []
        for rel in extraction.relations:
            source, target = clean_name(rel.source), clean_name(rel.target)
            if target in NO_TARGET:
                target = ""  # "I quit my job": a negation that ends any target
            if not source or (not target and not rel.negated):
                continue
            if normalize_key(source) == normalize_key(target):
                continue
            # The vocabulary's name: a synonym renamed, an inverse ("CHILD_OF") turned round.
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

        mentions = [Mention(clean_name(e.name), e.type) for e in extraction.entities]
        for rel in relations:
            mentions.append(
                Mention(rel.source, rel.source_type or _type_of(extraction, rel.source))
            )
            if rel.target:
                mentions.append(
                    Mention(rel.target, rel.target_type or _type_of(extraction, rel.target))
                )
        mentions = [m for m in mentions if m.name]

        sentences = [
            clean_text(rel.fact)
            or default_sentence(rel.source, normalize_relation(rel.relation), rel.target)
            for rel in relations
        ]
        names = list(dict.fromkeys(k for m in mentions if (k := normalize_key(m.name))))
        name_text = {normalize_key(m.name): m.name for m in mentions}
        # Names already stored resolve by key: only the others need a vector.
        by_key = self._store.find_entities_by_key(partition, names) if names else []
        known = stored_keys(by_key)
        names = [k for k in names if k not in known]
        # ONE embedding call per add: the episodes' content, new entity names, fact sentences.
        texts = [episode_text(e) for e in episodes] + [name_text[k] for k in names] + sentences
        todo = list(dict.fromkeys(t for t in texts if t not in memo.vectors))
        if todo:
            memo.vectors.update(zip(todo, self._embedder.embed(todo), strict=True))
        vectors = [memo.vectors[t] for t in texts]
        n_eps, n_names = len(episodes), len(names)
        name_vectors = dict(zip(names, vectors[n_eps : n_eps + n_names], strict=True))
        fact_vectors = vectors[n_eps + n_names :]

        matches, upserts = self._entities.resolve(
            partition, scope.user_id, mentions, name_vectors, by_key=by_key
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

        candidates: list[Candidate] = []
        for rel, sentence, vec in zip(relations, sentences, fact_vectors, strict=True):
            src = matches.get(normalize_key(rel.source))
            tgt = matches.get(normalize_key(rel.target)) if rel.target else None
            if src is None or (tgt is None and not rel.negated):
                continue
            if tgt is not None and tgt.entity.id == src.entity.id:
                # Two names resolved to one entity: a self-loop states nothing true.
                plan.errors.append(
                    f"skipped {rel.source} {rel.relation} {rel.target}: both names resolve "
                    f"to the entity {src.entity.name!r}"
                )
                continue
            episode = by_episode.get(rel.episode_id or "", fallback_episode)
            # Unknown start: the time it was said, unless the statement is about the past
            # ("I lived in Lisbon") or ends something ("I left Acme").
            closed = rel.negated or rel.invalid_at is not None
            valid_at = rel.valid_at or (None if closed else episode.reference_time)
            invalid_at = rel.invalid_at if not rel.negated else None
            if invalid_at is not None and valid_at is not None and invalid_at < valid_at:
                invalid_at = None
            fact = Fact(
                partition=partition,
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

        known = {m.entity.id for m in matches.values() if m.method != "new"}
        stored = self._stored_for(
            partition,
            [c.fact for c in candidates if c.fact.source_id in known or c.fact.target_id in known],
        )
        flags = self._detector.detect(candidates, stored, self._past_for(partition, candidates))
        amb_flags = self._ambiguous_flags(matches, candidates)
        all_flags = _globalize(flags + amb_flags)

        plan.refusals.extend(extraction.refusals)
        decisions = self._decide(all_flags, plan, memo, {c.ref: c.fact for c in candidates})
        if amb_flags and self._apply_entity_decisions(
            partition, amb_flags, decisions, matches, candidates, upserts
        ):
            # An entity changed: re-detect against the new endpoints with the policy alone,
            # so an add never costs more than one resolver call.
            stored = self._stored_for(partition, [c.fact for c in candidates])
            all_flags = _globalize(self._detector.detect(candidates, stored))
            decisions = {f.new.ref: policy_decision(f) for f in all_flags}

        plan.batch.entities = upserts
        # The decisions name stored facts by the globalized short ids, so _apply must map them
        # through the same flags (each raw flag numbers its own facts from E1).
        self._apply(candidates, decisions, all_flags, plan, now)
        plan.batch.mentions = _mentions(episodes, candidates, matches, extraction)
        return plan

    def _past_for(self, partition: str, candidates: list[Candidate]) -> list[Fact]:
        """Ended facts joining the entities of the past states among the candidates, so a
        past state said again is recognised (read only when an add states one)."""
        pairs = self._detector.past_pairs(candidates)
        if not pairs:
            return []
        wanted = {frozenset(p) for p in pairs}
        sources = sorted({s for s, _ in pairs})
        facts = self._store.facts_for_entities(partition, sources, include_invalid=True)
        return [f for f in facts if frozenset((f.source_id, f.target_id)) in wanted]

    def _stored_for(self, partition: str, facts: list[Fact]) -> list[Fact]:
        """The stored facts the detector can flag these against, and no more (one read)."""
        if not facts:
            return []
        pairs, ends = self._detector.probes(facts)
        return self._store.facts_for_detection(partition, pairs=pairs, ends=ends)

    # -- deciding ----------------------------------------------------------------------------
    def _decide(
        self, flags: list[Flag], plan: Plan, memo: PlanMemo, new_facts: dict[str, Fact]
    ) -> dict[str, Decision]:
        if not flags:
            return {}
        by_ref = {f.new.ref: f for f in flags}
        chosen: dict[str, Decision] = {}
        for flag in flags:  # decided by an earlier plan of this add, against the same facts
            known = memo.decisions.get(_flag_key(flag))
            if known is not None:
                chosen[flag.new.ref] = _decision_from_ids(flag, *known)
        flags = [f for f in flags if f.new.ref not in chosen]
        llm_ok = memo.allow_llm and memo.resolver_calls < MAX_RESOLVER_CALLS
        if flags and self._resolver.uses_llm and not llm_ok:
            plan.errors.append("resolver call budget of this add spent; policy decided the rest")
        elif flags and self._resolver.uses_llm:
            memo.resolver_calls += 1
            try:
                decisions, usage = self._resolver.resolve(flags)
                plan.usage = plan.usage + usage
                rejected = getattr(self._resolver, "last_rejections", {})
                plan.refusals.extend(f"decision {ref}: {why}" for ref, why in rejected.items())
            except LLMError as exc:
                plan.errors.append(f"update resolver failed, deterministic policy used: {exc}")
                decisions = []
            for d in decisions:
                flag = by_ref.get(d.ref)
                if flag is None:
                    log.warning("resolver named unknown item %r; ignored", d.ref)
                    continue
                known = set(flag.existing) | set(flag.candidates)
                if any(t not in known for t in d.targets) or (
                    d.action in ("MERGE", "INVALIDATE")
                    and not d.targets
                    and flag.kind != "ambiguous_entity"
                ):
                    log.warning(
                        "resolver decision for %s names unknown ids %s; ignored", d.ref, d.targets
                    )
                    continue
                if d.ref not in chosen and not self._refused(d, flag, new_facts, plan):
                    chosen[d.ref] = d
                    memo.decisions[_flag_key(flag)] = _decision_ids(flag, d)
        elif flags:
            decisions, _ = self._resolver.resolve(flags)
            chosen.update({d.ref: d for d in decisions})
        for flag in flags:  # left undecided: the policy, checked by the guard on the LLM path
            if flag.new.ref not in chosen:
                chosen[flag.new.ref] = (
                    self._guarded_policy(flag, new_facts)
                    if self._resolver.uses_llm
                    else policy_decision(flag)
                )
        return chosen

    def _refused(self, d: Decision, flag: Flag, new_facts: dict[str, Fact], plan: Plan) -> bool:
        """Whether the decision guard refuses an LLM decision (the reason is recorded)."""
        new = new_facts.get(d.ref)
        why = self.guards.refuse(d, flag, new) if self.guards and new else None
        if why:
            plan.refusals.append(f"decision {d.ref} {d.action}: {why}")
            log.info("guard refused %s %s: %s", d.ref, d.action, why)
        return bool(why)

    def _guarded_policy(self, flag: Flag, new_facts: dict[str, Fact]) -> Decision:
        """The policy's decision for a flag the LLM left undecided, unless the guard refuses
        that too (a near-duplicate with another target): then ADD, or SKIP for a negation."""
        d = policy_decision(flag)
        new = new_facts.get(flag.new.ref)
        if self.guards is None or new is None or not self.guards.refuse(d, flag, new):
            return d
        action = "SKIP" if flag.new.negated else "ADD"
        return Decision(ref=d.ref, action=action, reason=f"guard: {action.lower()}, not {d.action}")

    def _ambiguous_flags(
        self, matches: dict[str, EntityMatch], candidates: list[Candidate]
    ) -> list[Flag]:
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

    def _apply_entity_decisions(
        self, partition, amb_flags, decisions, matches, candidates, upserts
    ) -> bool:
        """Move the facts of each ambiguous mention onto the entity the resolver chose, and
        its alias with them: the rejected entity must not keep answering to the name."""
        changed = False
        for flag in amb_flags:
            d = decisions.get(flag.new.ref)
            if d is None or d.action != "MERGE" or not d.targets:
                continue  # ADD would mean "a new entity": keep the policy's match, stay safe
            chosen = flag.candidates[d.targets[0]]
            current = flag.candidates["C1"]
            if chosen.id == current.id:
                continue
            chosen = self._move_alias(partition, flag.mention or "", current, chosen, upserts)
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
        self, partition: str, mention: str, rejected: Entity, chosen: Entity, upserts: list[Entity]
    ) -> Entity:
        """Take `mention` off the rejected entity's upsert and give it to the chosen one."""
        key = normalize_key(mention)
        for i, e in enumerate(upserts):
            if e.id == rejected.id:
                kept = [a for a in e.aliases if normalize_key(a) != key]
                upserts[i] = e.model_copy(update={"aliases": kept})
        if not key or key == chosen.key or key in {normalize_key(a) for a in chosen.aliases}:
            return chosen
        stored = self._store.get_entities(partition, [chosen.id], with_embeddings=True)
        base = stored[0] if stored else chosen
        chosen = base.model_copy(
            update={"aliases": [*base.aliases, clean_name(mention)], "updated_at": self._clock()}
        )
        upserts[:] = [e for e in upserts if e.id != chosen.id] + [chosen]
        return chosen

    # -- planning writes ---------------------------------------------------------------------
    def _apply(
        self,
        candidates: list[Candidate],
        decisions: dict[str, Decision],
        flags: list[Flag],
        plan: Plan,
        now: datetime,
    ) -> None:
        by_ref = {f.new.ref: f for f in flags}
        facts_by_short = {sid: fact for f in flags for sid, fact in f.existing.items()}
        pending: dict[str, Fact] = {}  # new facts of this add, by id
        ended: dict[str, Invalidation] = {}
        merged: dict[str, list[str]] = {}

        def current(fact_id: str) -> Fact | None:
            fact = pending.get(fact_id) or next(
                (f for f in facts_by_short.values() if f.id == fact_id), None
            )
            if fact is None or fact_id in ended or fact.invalid_at is not None:
                return None
            return fact

        def mergeable(fact_id: str) -> bool:
            """A merge target: current, or a past state (ended before this add) said again."""
            if current(fact_id) is not None:
                return True
            fact = facts_by_short_id.get(fact_id)
            return fact is not None and not fact.is_current and fact_id not in ended

        facts_by_short_id = {f.id: f for f in facts_by_short.values()}
        for cand in candidates:
            new = cand.fact
            decision = decisions.get(cand.ref) or Decision(ref=cand.ref, action="ADD")
            flag = by_ref.get(cand.ref)
            targets = [facts_by_short[t].id for t in decision.targets if t in facts_by_short]
            action = decision.action
            if action == "ADD" and cand.negated:
                action = "INVALIDATE" if targets else "SKIP"
            elif action == "ADD" and targets:
                action = "INVALIDATE"  # "ADD, superseding E1": write it and end E1

            if action == "SKIP":
                plan.changes.append(_change(new, "SKIP", decision.reason or "nothing to do"))
                continue
            if action == "MERGE":
                target = next((t for t in targets if mergeable(t)), None)
                if target is None:
                    action = "ADD"  # merge target gone (ended earlier in this add): keep the fact
                else:
                    if target in pending:
                        pending[target].episodes = _union(pending[target].episodes, new.episodes)
                    else:
                        merged[target] = _union(merged.get(target, []), new.episodes)
                    kept = current(target)
                    plan.changes.append(
                        _change(
                            kept or new, "MERGE", decision.reason or "said again", fact_id=target
                        )
                    )
                    continue
            if action == "INVALIDATE":
                for target in targets:
                    old = current(target)
                    if old is None:
                        continue
                    if (
                        not cand.negated
                        and old.valid_at
                        and new.valid_at
                        and new.valid_at < old.valid_at
                    ):
                        # The new fact is older news: it held until the stored one began.
                        new.invalid_at = old.valid_at
                        continue
                    end = (cand.stated_invalid_at if cand.negated else None) or new.valid_at or now
                    if old.valid_at and end < old.valid_at:
                        end = old.valid_at
                    by = None if cand.negated else new.id
                    if target in pending:
                        pending[target].invalid_at = end
                        pending[target].expired_at = now
                        pending[target].invalidated_by = by
                    else:
                        ended[target] = Invalidation(
                            fact_id=target, invalid_at=end, expired_at=now, invalidated_by=by
                        )
                    plan.changes.append(
                        _change(
                            old,
                            "INVALIDATE",
                            decision.reason or (flag.detail if flag else ""),
                            fact_id=target,
                            replaced_by=by,
                        )
                    )
                if cand.negated:
                    continue
            pending[new.id] = new
            plan.changes.append(_change(new, "ADD", decision.reason if flag else "new fact"))

        plan.batch.facts = list(pending.values())
        plan.batch.invalidations = list(ended.values())
        plan.batch.merges = [ProvenanceMerge(fact_id=k, episodes=v) for k, v in merged.items()]


def _change(
    fact: Fact, event, reason: str, *, fact_id: str | None = None, replaced_by: str | None = None
) -> FactChange:
    return FactChange(
        id=fact_id or fact.id,
        memory=fact.fact,
        event=event,
        source=fact.source,
        relation=fact.relation,
        target=fact.target,
        reason=reason,
        replaced_by=replaced_by,
    )


def _union(a: list[str], b: list[str]) -> list[str]:
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
            kept.episodes = _union(kept.episodes, f.episodes)
        else:
            out[key] = cand
    return list(out.values())


def _flag_key(flag: Flag) -> tuple:
    """What a decision answered, without the ids that differ between plans of one add (short
    refs, the ids of entities created by the add): kind, proposed triple, stored facts named."""
    proposed = flag.new.model_dump(exclude={"ref", "source_id", "target_id"})
    return (
        flag.kind,
        tuple(sorted(proposed.items())),
        tuple(sorted(f.id for f in flag.existing.values())),
        tuple(sorted(e.id for e in flag.candidates.values())),
        flag.mention,
    )


def _decision_ids(flag: Flag, d: Decision) -> tuple[str, list[str], str]:
    """A decision with its targets as stored ids (short ids are renumbered per plan)."""
    ids = {
        **{k: f.id for k, f in flag.existing.items()},
        **{k: e.id for k, e in flag.candidates.items()},
    }
    return d.action, [ids[t] for t in d.targets if t in ids], d.reason


def _decision_from_ids(flag: Flag, action: str, ids: list[str], reason: str) -> Decision:
    short = {
        **{f.id: k for k, f in flag.existing.items()},
        **{e.id: k for k, e in flag.candidates.items()},
    }
    return Decision(
        ref=flag.new.ref,
        action=action,
        targets=[short[i] for i in ids if i in short],
        reason=reason,
    )


def _globalize(flags: list[Flag]) -> list[Flag]:
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


def _mentions(episodes, candidates, matches, extraction) -> list[tuple[str, str]]:
    pairs: dict[tuple[str, str], None] = {}
    for cand in candidates:
        for ep in cand.fact.episodes:
            pairs[(ep, cand.fact.source_id)] = None
            if cand.fact.target_id:
                pairs[(ep, cand.fact.target_id)] = None
    for ent in extraction.entities:
        match = matches.get(normalize_key(clean_name(ent.name)))
        if match is None:
            continue
        said = re.compile(rf"(?<!\w){re.escape(match.entity.key)}(?!\w)")
        for ep in episodes:
            if said.search(normalize_key(ep.content)):
                pairs[(ep.id, match.entity.id)] = None
    return list(pairs)
