"""Deterministic guards between a language model's answers and the store.

A small local model returns schema-valid JSON whose content can still be impossible: a fact
about Carol "is a duplicate of" a fact about Sam, a stored job is "invalidated" by a sentence
about someone's boss, a sentence copied from the context block is attached to an unrelated
triple. Nothing the model says is written unless it passes these checks, and every refusal is
recorded with its reason (AddResult.refusals) so it can be counted.

- GroundingGuard (extraction) lives beside the extractor it checks: graphmem/extract/grounding.py.
- DecisionGuard (resolution): MERGE needs the same endpoints and relation (or a declared
  synonym, or a declared inverse read backwards); INVALIDATE (and ADD with superseded targets)
  needs a real conflict the ontology allows (same anchor, a one-valued relation, overlapping
  time) or a negation of that very fact; ADD may not duplicate a stored fact. A refused
  decision is replaced by the deterministic policy's, itself checked the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from graphmem.ingest.detect import NO_TARGET, SYMMETRIC_RELATIONS, overlaps
from graphmem.ingest.flags import Decision, Flag, ProposedFact
from graphmem.models import Fact

# Relations that say the same thing under another name, and relations that say it backwards
# (A PARENT_OF B == B CHILD_OF A). Callers may pass their own; these are the defaults.
DEFAULT_SYNONYMS: dict[str, str] = {
    "SPOUSE_OF": "MARRIED_TO",
    "EMPLOYED_BY": "WORKS_AT",
    "WORKS_FOR": "WORKS_AT",
    "RESIDES_IN": "LIVES_IN",
    "OWNS_PET": "HAS_PET",
    "ENJOYS": "LIKES",
}
DEFAULT_INVERSES: dict[str, str] = {
    "PARENT_OF": "CHILD_OF",
    "MANAGES": "REPORTS_TO",
    "EMPLOYS": "WORKS_AT",
}

RivalTest = Callable[[Fact, Fact, bool], bool]


class DecisionGuard:
    """Checks a resolver decision against the flagged new fact and the stored facts it names.

    `rivals(stored, new, symmetric)` is the conflict detector's one-valued-relation test (same
    anchor, one value at a time, another value at the other end).
    """

    def __init__(
        self,
        rivals: RivalTest,
        *,
        synonyms: Mapping[str, str] | None = None,
        inverses: Mapping[str, str] | None = None,
    ) -> None:
        self._rivals = rivals
        self._synonyms = dict(DEFAULT_SYNONYMS if synonyms is None else synonyms)
        self._inverses = dict(DEFAULT_INVERSES if inverses is None else inverses)
        self._inverses.update({v: k for k, v in list(self._inverses.items())})

    def canonical(self, relation: str) -> str:
        return self._synonyms.get(relation, relation)

    def refuse(self, decision: Decision, flag: Flag, new: Fact) -> str | None:
        """Why `decision` cannot be applied to `flag` (whose new fact is `new`), or None."""
        if flag.kind == "ambiguous_entity" or decision.action == "SKIP":
            return None
        targets = [flag.existing[t] for t in decision.targets if t in flag.existing]
        negated = flag.new.negated
        if decision.action == "MERGE":
            if negated:
                return "MERGE of a negation into the fact it ends"
            for old in targets:
                if not self.same_fact(old, new):
                    return f"MERGE into a different fact ({_triple(old)} vs {_triple(new)})"
            return None
        if decision.action == "ADD" and not targets:
            if flag.kind == "duplicate" and not negated:
                return f"ADD would store {_triple(new)} a second time"
            return None
        # INVALIDATE, or ADD superseding targets: each must really be ended by the new fact.
        for old in targets:
            if negated:
                if not (self.same_fact(old, new) or _placeholder_match(old, flag.new, new)):
                    return f"a negation of {_triple(new)} cannot end {_triple(old)}"
            elif not (self._conflicts(old, new)):
                return (
                    f"{_triple(new)} does not conflict with {_triple(old)} (needs the same "
                    "anchor, a one-valued relation and overlapping time)"
                )
        return None

    def same_fact(self, a: Fact, b: Fact) -> bool:
        ra, rb = self.canonical(a.relation), self.canonical(b.relation)
        if ra == rb:
            if a.source_id == b.source_id and a.target_id == b.target_id:
                return True
            return ra in SYMMETRIC_RELATIONS and (a.source_id, a.target_id) == (
                b.target_id,
                b.source_id,
            )
        inverse = self._inverses.get(ra)
        return (
            inverse is not None
            and self.canonical(inverse) == rb
            and (
                a.source_id,
                a.target_id,
            )
            == (b.target_id, b.source_id)
        )

    def _conflicts(self, old: Fact, new: Fact) -> bool:
        if self.canonical(old.relation) != self.canonical(new.relation):
            return False
        same = old.model_copy(update={"relation": new.relation})
        symmetric = new.relation in SYMMETRIC_RELATIONS
        return self._rivals(same, new, symmetric) and overlaps(same, new)


def _placeholder_match(old: Fact, proposed: ProposedFact, new: Fact) -> bool:
    """ "I quit my job" (no concrete target) ends the speaker's job, whatever it was."""
    return (
        proposed.target.strip() in NO_TARGET
        and old.source_id == new.source_id
        and old.relation == new.relation
    )


def _triple(fact: Fact) -> str:
    return f"{fact.source} -{fact.relation}-> {fact.target or '?'}"
