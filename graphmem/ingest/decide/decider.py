"""Step 5 of the add flow: one decision per flagged item, and nothing unchecked.

The resolver (the LLM's, in ONE batched call; or the deterministic policy) decides the flags
an earlier plan of this add has not decided already. An LLM decision is applied only when it
names ids the flag listed and the DecisionGuard accepts it; whatever is left undecided gets
the policy's decision, itself checked by the guard on the LLM path. A re-plan after a lost
write race reuses the decisions of flags the graph change left as they were (PlanMemo).
"""

from __future__ import annotations

import logging

from graphmem.errors import LLMError
from graphmem.ingest.decide.guards import DecisionGuard
from graphmem.ingest.decide.policy import policy_decision
from graphmem.ingest.flags import Decision, Flag, UpdateResolver
from graphmem.ingest.plan import Plan, PlanMemo
from graphmem.models import Fact

log = logging.getLogger(__name__)

# At most this many resolver (LLM) calls per add, re-plans included; past it, the policy.
MAX_RESOLVER_CALLS = 2


class Decider:
    def __init__(self, resolver: UpdateResolver, guards: DecisionGuard | None) -> None:
        self.resolver = resolver
        # Checks every LLM decision before it is applied (None: apply them unchecked, only
        # for measuring what the guards prevent).
        self.guards = guards

    def decide(
        self, flags: list[Flag], plan: Plan, memo: PlanMemo, new_facts: dict[str, Fact]
    ) -> dict[str, Decision]:
        """A decision for every flag, by the flag's ref; the resolver's usage, errors and the
        answers the guards refused are recorded on `plan`."""
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
        if flags and self.resolver.uses_llm and not llm_ok:
            plan.errors.append("resolver call budget of this add spent; policy decided the rest")
        elif flags and self.resolver.uses_llm:
            memo.resolver_calls += 1
            try:
                decisions, usage = self.resolver.resolve(flags)
                plan.usage = plan.usage + usage
                rejected = getattr(self.resolver, "last_rejections", {})
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
            decisions, _ = self.resolver.resolve(flags)
            chosen.update({d.ref: d for d in decisions})
        for flag in flags:  # left undecided: the policy, checked by the guard on the LLM path
            if flag.new.ref not in chosen:
                chosen[flag.new.ref] = (
                    self._guarded_policy(flag, new_facts)
                    if self.resolver.uses_llm
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
