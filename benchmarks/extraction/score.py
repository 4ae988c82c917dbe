"""Scoring one add against its labels, and an independent check of applied decisions.

A predicted triple (a fact the add wrote) is correct when it matches any accepted spelling of a
gold or "also" triple of that message: relation names as listed (or each other's reverse for a
symmetric relation), entity names equal or one's words a subset of the other's. Recall counts
the gold triples (not the "also" ones) that some written fact matches.

`impossible` re-checks every applied MERGE / INVALIDATE against the structure of the two facts,
independently of graphmem's guards: a MERGE needs the same endpoints and relation; ending a
stored fact needs a negation of that fact, or the same one-valued relation at the same anchor
with another value at the other end.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.common.metrics import same_name
from graphmem.config import FUNCTIONAL_RELATIONS
from graphmem.ingest.detect import SYMMETRIC_RELATIONS
from graphmem.models import Fact

ARTICLES = ("a ", "an ", "the ")


@dataclass(frozen=True)
class Pattern:
    source: str
    relations: frozenset[str]
    target: str

    @classmethod
    def parse(cls, text: str) -> Pattern:
        source, relations, target = (p.strip() for p in text.split("|"))
        return cls(source, frozenset(r.strip().upper() for r in relations.split("/")), target)

    def matches(self, source: str, relation: str, target: str) -> bool:
        if relation.upper() not in self.relations:
            return False
        if _name(self.source, source) and _name(self.target, target):
            return True
        symmetric = relation.upper() in SYMMETRIC_RELATIONS
        return symmetric and _name(self.source, target) and _name(self.target, source)


def patterns(spec: str | list[str]) -> list[Pattern]:
    """One labelled fact: a spelling, or a list of accepted alternatives."""
    return [Pattern.parse(s) for s in ([spec] if isinstance(spec, str) else spec)]


def _name(label: str, got: str) -> bool:
    a, b = label.casefold(), got.casefold()
    for art in ARTICLES:
        a, b = a.removeprefix(art), b.removeprefix(art)
    return same_name(a, b)


@dataclass
class Score:
    predicted: int = 0
    correct: int = 0
    gold: int = 0
    found: int = 0
    ends: int = 0
    ends_done: int = 0
    wrong_invalidations: int = 0


def score_message(
    written: list[tuple[str, str, str]],
    ended: list[tuple[str, str, str]],
    gold: list[str | list[str]],
    also: list[str | list[str]],
    ends: list[str],
) -> Score:
    gold_p = [patterns(g) for g in gold]
    ok_p = gold_p + [patterns(a) for a in also]
    s = Score(predicted=len(written), gold=len(gold), ends=len(ends))
    s.correct = sum(any(p.matches(*t) for alts in ok_p for p in alts) for t in written)
    s.found = sum(any(p.matches(*t) for p in alts for t in written) for alts in gold_p)
    end_p = [Pattern.parse(e) for e in ends]
    for t in ended:
        if any(p.matches(*t) for p in end_p):
            s.ends_done += 1
        else:
            s.wrong_invalidations += 1
    return s


def impossible(action: str, new: Fact, negated: bool, old: Fact) -> bool:
    """Whether applying `action` (MERGE, or ending `old`) is structurally impossible."""
    same_pair = (new.source_id, new.target_id) == (old.source_id, old.target_id)
    swapped = (new.source_id, new.target_id) == (old.target_id, old.source_id)
    symmetric = new.relation in SYMMETRIC_RELATIONS
    same = new.relation == old.relation and (same_pair or (symmetric and swapped))
    if action == "MERGE":
        return negated or not same
    if negated:
        placeholder = not new.target_id and new.source_id == old.source_id
        return not (same or (placeholder and new.relation == old.relation))
    if new.relation != old.relation:
        return True
    one_valued = new.relation in FUNCTIONAL_RELATIONS or new.relation == "MANAGES"
    anchored = new.source_id == old.source_id and new.target_id != old.target_id
    if new.relation == "MANAGES":
        anchored = new.target_id == old.target_id and new.source_id != old.source_id
    if symmetric:
        anchored = bool({new.source_id, new.target_id} & {old.source_id, old.target_id}) and not (
            same_pair or swapped
        )
    return not (one_valued and anchored)
