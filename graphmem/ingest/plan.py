"""Step 6 of the add flow, planned: the decisions made into ONE WriteBatch.

It reads nothing and writes nothing: the flow applies the batch in one transaction, so a
failure anywhere before leaves the store untouched and the episodes pending. Plan is what one
planning of an add yields; PlanMemo is what the plans of one add share, so a re-plan after a
lost write race repeats no model work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from graphmem.ingest.candidates import union
from graphmem.ingest.detect import Candidate
from graphmem.ingest.entities import EntityMatch
from graphmem.ingest.flags import Decision, Flag
from graphmem.models import (
    Episode,
    Extraction,
    Fact,
    FactChange,
    Invalidation,
    ProvenanceMerge,
    Usage,
    WriteBatch,
)
from graphmem.normalize import clean_name, normalize_key


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


def plan_writes(
    candidates: list[Candidate],
    decisions: dict[str, Decision],
    flags: list[Flag],
    plan: Plan,
    now: datetime,
) -> None:
    """Step 6: the decisions made into writes on `plan.batch` (new facts, ends of stored
    facts, provenance merges) and the FactChange of each, in the candidates' order. A merge
    target ended earlier in this add falls back to ADD; an INVALIDATE by older news ends the
    new fact instead of the stored one."""
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

        if action == "SKIP":  # nothing written: the result names its own id
            skipped = _change(new, "SKIP", decision.reason or "nothing to do")
            plan.changes.append(skipped.model_copy(update={"memory_id": new.id}))
            continue
        if action == "MERGE":
            target = next((t for t in targets if mergeable(t)), None)
            if target is None:
                action = "ADD"  # merge target gone (ended earlier in this add): keep the fact
            else:
                if target in pending:
                    pending[target].episodes = union(pending[target].episodes, new.episodes)
                else:
                    merged[target] = union(merged.get(target, []), new.episodes)
                kept = current(target)
                merged_into = kept or facts_by_short_id[target]
                plan.changes.append(
                    _change(
                        kept or new,
                        "MERGE",
                        decision.reason or "said again",
                        fact_id=target,
                        memory_id=merged_into.memory_id,
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
    fact: Fact,
    event,
    reason: str,
    *,
    fact_id: str | None = None,
    replaced_by: str | None = None,
    memory_id: str | None = None,
) -> FactChange:
    """A result of the add; its memory is `fact`'s unless named (a merge target's)."""
    return FactChange(
        id=fact_id or fact.id,
        memory_id=memory_id or fact.memory_id,
        memory=fact.fact,
        event=event,
        source=fact.source,
        relation=fact.relation,
        target=fact.target,
        reason=reason,
        replaced_by=replaced_by,
    )


def mentions(
    episodes: list[Episode],
    candidates: list[Candidate],
    matches: dict[str, EntityMatch],
    extraction: Extraction,
) -> list[tuple[str, str]]:
    """(episode id, entity id) for every entity an episode mentions: the endpoints of the
    facts it yields, and each extracted entity whose key the episode's text contains."""
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
