"""The LLM update resolver: every flag of one add decided in ONE batched call.

Stored facts and candidate entities get prompt-wide short ids (E1.., C1..; a fact shared by two
flags is shown once) that are mapped back to each flag's own keys in Flag.existing /
Flag.candidates. Every decision is validated before it is returned: an unknown ref, an unknown
action, or a target that was not listed for that flag rejects the decision (it is dropped and
the reason recorded), so a hallucinated id is never applied. Flags left without a decision are
for the caller's deterministic policy.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from graphmem.ingest.decide.prompts import (
    ACTIONS,
    PROMPT_VERSION,
    DecisionOut,
    FactView,
    FlagView,
    ResolveOutput,
    build_messages,
)
from graphmem.ingest.flags import Decision, Flag, UpdateResolver
from graphmem.models import Fact, Usage
from graphmem.normalize import clean_text

if TYPE_CHECKING:
    from graphmem.llm.client import LLMClient

log = logging.getLogger(__name__)

MAX_REASON_CHARS = 300
_SYNONYMS = {
    "UPDATE": "INVALIDATE",  # Mem0's vocabulary
    "DELETE": "INVALIDATE",
    "NONE": "SKIP",
    "NOOP": "SKIP",
    "IGNORE": "SKIP",
}
_ID = re.compile(r"[^A-Za-z0-9]+")


@dataclass
class ResolveOutcome:
    """Validated decisions, the rejected ones (ref -> why), and the usage of the call."""

    decisions: list[Decision] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)


@dataclass
class _Prompt:
    flags: list[FlagView]
    facts: dict[str, FactView]
    entities: dict[str, tuple[str, str, list[str]]]
    # per ref: prompt id -> the flag's own key
    fact_ids: dict[str, dict[str, str]]
    entity_ids: dict[str, dict[str, str]]


class LLMUpdateResolver(UpdateResolver):
    uses_llm = True
    prompt_version = PROMPT_VERSION

    def __init__(self, client: LLMClient) -> None:
        self.client = client
        self.last_rejections: dict[str, str] = {}

    def resolve(self, flags: list[Flag]) -> tuple[list[Decision], Usage]:
        """One decision per flag it could decide; see resolve_detailed for the rejections.
        Raises LLMError when the endpoint fails or the reply stays unusable."""
        outcome = self.resolve_detailed(flags)
        self.last_rejections = outcome.rejected
        return outcome.decisions, outcome.usage

    def resolve_detailed(self, flags: list[Flag]) -> ResolveOutcome:
        if not flags:
            return ResolveOutcome()
        prompt = build_prompt(flags)
        messages = build_messages(prompt.flags, prompt.facts, prompt.entities)
        output, usage = self.client.complete(messages, ResolveOutput, name="resolve")
        outcome = validate(output, flags, prompt)
        outcome.usage = usage
        if outcome.rejected:
            log.warning(
                "resolver: rejected %d decision(s): %s",
                len(outcome.rejected),
                "; ".join(f"{k}: {v}" for k, v in outcome.rejected.items()),
            )
        return outcome

    def build_messages(self, flags: list[Flag]) -> list[dict[str, str]]:
        """The chat messages of the resolve call (public for debugging and benchmarks)."""
        prompt = build_prompt(flags)
        return build_messages(prompt.flags, prompt.facts, prompt.entities)


def build_prompt(flags: list[Flag]) -> _Prompt:
    facts: dict[str, FactView] = {}
    fact_pid: dict[str, str] = {}  # stored fact id -> prompt id
    entities: dict[str, tuple[str, str, list[str]]] = {}
    entity_pid: dict[str, str] = {}
    views: list[FlagView] = []
    fact_ids: dict[str, dict[str, str]] = {}
    entity_ids: dict[str, dict[str, str]] = {}
    for flag in flags:
        ref = flag.new.ref
        if ref in fact_ids:
            continue  # a repeated ref: the first flag wins
        fact_ids[ref], entity_ids[ref] = {}, {}
        for key, fact in flag.existing.items():
            pid = fact_pid.get(fact.id)
            if pid is None:
                pid = fact_pid[fact.id] = f"E{len(fact_pid) + 1}"
                facts[pid] = _stored(fact)
            fact_ids[ref][pid] = key
        for key, entity in flag.candidates.items():
            pid = entity_pid.get(entity.id)
            if pid is None:
                pid = entity_pid[entity.id] = f"C{len(entity_pid) + 1}"
                entities[pid] = (entity.name, entity.type, list(entity.aliases))
            entity_ids[ref][pid] = key
        new = flag.new
        views.append(
            FlagView(
                ref=ref,
                kind=flag.kind,
                new=FactView(
                    source=new.source,
                    relation=new.relation,
                    target=new.target,
                    fact=new.fact,
                    valid_at=new.valid_at,
                    invalid_at=new.invalid_at,
                    negated=new.negated,
                ),
                detail=clean_text(flag.detail),
                existing=list(fact_ids[ref]),
                candidates=list(entity_ids[ref]),
                mention=flag.mention,
            )
        )
    return _Prompt(views, facts, entities, fact_ids, entity_ids)


def validate(output: ResolveOutput, flags: list[Flag], prompt: _Prompt) -> ResolveOutcome:
    """Keep the decisions that name a known ref, a known action and only targets listed for
    that ref; map targets back to the flag's keys. Everything else is rejected with a reason."""
    kinds: dict[str, str] = {}
    refs: dict[str, str] = {}  # normalised ref -> the flag's ref
    for flag in flags:
        kinds.setdefault(flag.new.ref, flag.kind)
        refs.setdefault(_norm_id(flag.new.ref), flag.new.ref)
    outcome = ResolveOutcome()
    decided: set[str] = set()
    for item in output.decisions:
        ref = refs.get(_norm_id(item.ref), "")
        if ref not in kinds:
            outcome.rejected[item.ref or "?"] = f"unknown ref {item.ref!r}"
            continue
        if ref in decided:
            continue  # a second decision for the same ref: the first one stands
        decision, why = _check(item, ref, kinds[ref], prompt)
        if decision is None:
            outcome.rejected[ref] = why
            continue
        decided.add(ref)
        outcome.rejected.pop(ref, None)
        outcome.decisions.append(decision)
    return outcome


def _check(item: DecisionOut, ref: str, kind: str, prompt: _Prompt) -> tuple[Decision | None, str]:
    action = item.action.strip().upper()
    action = _SYNONYMS.get(action, action)
    if action not in ACTIONS:
        return None, f"unknown action {item.action!r}"
    entity_flag = kind == "ambiguous_entity"
    allowed = prompt.entity_ids[ref] if entity_flag else prompt.fact_ids[ref]
    targets: list[str] = []
    for raw in item.targets:
        pid = _norm_id(str(raw))
        if pid not in allowed:
            return None, f"{action} names {raw!r}, which is not listed for {ref}"
        key = allowed[pid]
        if key not in targets:
            targets.append(key)
    if entity_flag:
        if action == "INVALIDATE":
            return None, "INVALIDATE does not apply to an ambiguous entity"
        if action in ("ADD", "SKIP"):
            targets = []
    elif action == "SKIP":
        targets = []
    if action in ("MERGE", "INVALIDATE") and not targets:
        return None, f"{action} without a target"
    reason = clean_text(item.reason)[:MAX_REASON_CHARS]
    return Decision(ref=ref, action=action, targets=targets, reason=f"llm: {reason}".strip()), ""


def _norm_id(value: str) -> str:
    return _ID.sub("", value or "").upper()


def _stored(fact: Fact) -> FactView:
    return FactView(
        source=fact.source,
        relation=fact.relation,
        target=fact.target,
        fact=fact.fact,
        valid_at=_iso(fact.valid_at),
        invalid_at=_iso(fact.invalid_at),
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.date().isoformat() if moment is not None else None
