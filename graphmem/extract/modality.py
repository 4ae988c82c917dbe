"""Modality: a relation the message only plans, offers, wishes or supposes is not a fact.

A small model reads "Mateo got a job offer in Santiago" as `Mateo WORKS_AT Santiago`, "I might
move to Berlin" as `LIVES_IN Berlin`, "I'm thinking of quitting" as the end of a job; stored as
current facts, the one-valued ones then end true ones (Mateo's real job, the real home). The
check is on words, like the label guard: the clause of the message that names the relation's
far end (its target, else its source) must not be hedged by a modal ("might", "could",
"would"), doubt ("I think", "probably"), a plan or wish ("thinking of", "planning to",
"hoping to", "want to"), a condition ("if", "unless") or an unaccepted offer or application
("job offer", "applied", "interview").
A relation a role word states ("my brother Luis might visit": Luis is still the brother) is
not hedged by the rest of the sentence (the caller exempts those), and neither is a relation
whose own name says the hedge (`OFFERED_JOB_IN`, `PLANS_TO_MOVE_TO`): that is what was said.

English only, like the cue words: a message without a common English word is not checked.
"""

from __future__ import annotations

import re

from graphmem.extract.grounding import names_entity, words
from graphmem.extract.labels import stem
from graphmem.models import ExtractedRelation
from graphmem.normalize import normalize_key

# Hedges as lower-case word sequences (a message's words are case-folded, split at
# apostrophes: "I'd" -> "i", "d").
_HEDGES = tuple(
    tuple(h.split())
    for h in (
        "might",
        "maybe",
        "perhaps",
        "possibly",
        "could",
        "would",
        "d like",
        "d love",
        "if",
        "unless",
        "whether",
        "considering",
        "wondering",
        "thinking of",
        "thinking about",
        "think about",
        "plan to",
        "plans to",
        "planning to",
        "planning on",
        "hope to",
        "hopes to",
        "hoping to",
        "want to",
        "wants to",
        "wanted to",
        "wish",
        "i think",
        "i guess",
        "i believe",
        "i suppose",
        "not sure",
        "probably",
        "dream of",
        "dreams of",
        "someday",
        "applied",
        "applying",
        "apply",
        "interview",
        "interviews",
        "interviewed",
        "interviewing",
    )
)
_TELLING = frozenset("tell let say share mention ask update thank remind announce".split())
# An offer hedges unless the clause accepts it ("accepted an offer from Shopify").
_OFFERS = frozenset({"offer", "offers", "offered"})
_ACCEPTED = frozenset({"accept", "accepted", "accepts", "accepting", "took", "take", "signed"})
# "may" is a modal only in lower case and not as a month ("in may 2024", "since may").
_MAY = re.compile(r"(?<!\bin )(?<!\bof )(?<!\bsince )(?<!\buntil )\bmay\b(?!\s+\d)")
# Clause boundaries: sentence ends, semicolons and contrasting conjunctions.
_CLAUSES = re.compile(r"[.!?;]+\s+|\s*[.!?;]+$|,?\s+\b(?:but|although|though|whereas)\b\s+")
_ENGLISH = frozenset(
    "the a an is are was were i my me we our you he she it they and of to at in on got get "
    "has have had for with".split()
)


def clauses(text: str) -> list[str]:
    """The message split where a statement ends or turns ("..., but ...")."""
    return [c for c in _CLAUSES.split(text) if c and c.strip()]


def hedge(clause: str) -> str | None:
    """The hedge word(s) of a clause, or None when it states something as so. A hedge on
    telling ("I wanted to let you know ...", "I'd like to tell you ...") hedges nothing."""
    tokens = words(clause)
    for h in _HEDGES:
        n = len(h)
        for i in range(len(tokens) - n + 1):
            if tuple(tokens[i : i + n]) == h and not set(tokens[i + n : i + n + 2]) & _TELLING:
                return " ".join(h).replace("d like", "'d like").replace("d love", "'d love")
    if set(tokens) & _OFFERS and not set(tokens) & _ACCEPTED:
        return "offer"
    if _MAY.search(clause):
        return "may"
    return None


def hedged(rel: ExtractedRelation, text: str) -> str | None:
    """Why the message does not state `rel` as so (the hedge of the clause that names its
    far end), or None."""
    tokens = set(words(text))
    if not tokens & _ENGLISH:
        return None
    parts = clauses(text) or [text]
    for end in (rel.target, rel.source):
        naming = [c for c in parts if names_entity(set(words(c)), normalize_key(c), end, ())]
        if naming:
            break
    else:
        naming = parts
    found = [hedge(c) for c in naming]
    if not all(found):
        return None
    # A relation that names the hedge states it: "Mateo OFFERED_JOB_IN Santiago" is so.
    named = {stem(w) for w in rel.relation.casefold().split("_")}
    if any(named & {stem(w) for w in words(h or "")} for h in found):
        return None
    return f"the message does not state it as so ({found[0]!r})"
