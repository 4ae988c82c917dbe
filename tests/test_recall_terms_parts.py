"""Recall builds a fact's terms from cached parts (sentence, relation, each name) instead of
one string per fact, which a large graph keeps missing in the cache. The parts' union must be
exactly the terms of the joined string: no word may span the joining space, whatever the
names hold (apostrophes, hyphens, possessives, non-Latin letters, empty names)."""

from __future__ import annotations

import random

from graphmem.models import Fact
from graphmem.recall.analyze import fact_terms, terms_of

PIECES = [
    "Ana", "O'", "Brien", "-", "x-", "-ray", "'s", "’s", "Zoë", "ß", "İ", "北京", "ǅ", "ﬁ",
    "lives", "in", "the", "my", "sister's", "manager", "", " ", "  ", "Mary-Jane", "K", "s",
    "works", "at", "5", "3rd", "'", "’", "a's", "it's",
]  # fmt: skip


def _text(rng: random.Random) -> str:
    return "".join(
        rng.choice(PIECES) + rng.choice(["", " ", "", "-", "'"]) for _ in range(rng.randint(0, 5))
    )


def test_a_facts_terms_from_parts_equal_the_terms_of_the_joined_string():
    rng = random.Random(5)
    for _ in range(3000):
        source, target, sentence = _text(rng), _text(rng), _text(rng)
        relation = rng.choice(["LIVES_IN", "WORKS_AT", "SIBLING_OF", "X", "HEADQUARTERED_IN"])
        fact = Fact.model_construct(fact=sentence, relation=relation, source=source, target=target)
        joined = terms_of(f"{sentence} {relation.replace('_', ' ')} {source} {target}")
        assert fact_terms(fact) == joined, (sentence, relation, source, target)
        assert terms_of(source) | terms_of(target) == terms_of(f"{source} {target}")
