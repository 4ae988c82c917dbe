"""The deterministic update policy: what graphmem decides when no LLM is configured, and what
fills any decision an LLM resolver left out or got wrong."""

from __future__ import annotations

from graphmem.ingest.flags import Decision, Flag, UpdateResolver
from graphmem.models import Usage


def policy_decision(flag: Flag) -> Decision:
    ref = flag.new.ref
    first = sorted(flag.existing)[:1] or sorted(flag.candidates)[:1]
    if flag.kind in ("duplicate", "near_duplicate"):
        return Decision(ref=ref, action="MERGE", targets=first, reason=f"policy: {flag.kind}")
    if flag.kind == "ambiguous_entity":
        return Decision(ref=ref, action="MERGE", targets=first, reason="policy: best-scoring match")
    if flag.kind == "contradiction":
        return Decision(
            ref=ref,
            action="INVALIDATE",
            targets=sorted(flag.existing),
            reason="policy: newer value of a one-valued relation supersedes the older",
        )
    if flag.kind == "negation":
        if not flag.existing:
            return Decision(ref=ref, action="SKIP", reason="policy: ends no stored fact")
        return Decision(
            ref=ref, action="INVALIDATE", targets=sorted(flag.existing), reason="policy: stated end"
        )
    return Decision(ref=ref, action="ADD", reason="policy: default")


class PolicyResolver(UpdateResolver):
    uses_llm = False

    def resolve(self, flags: list[Flag]) -> tuple[list[Decision], Usage]:
        return [policy_decision(f) for f in flags], Usage()
