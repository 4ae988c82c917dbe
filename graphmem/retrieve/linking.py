"""Entity linking for a query, without an LLM: which stored entities does the question name?

Exact keys of the query's word n-grams (and CJK character n-grams) are looked up in one store
call; the nearest entities by name embedding add typo-tolerant (fuzzy) and semantic matches.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from rapidfuzz import fuzz

from graphmem.models import Entity
from graphmem.normalize import normalize_key

MAX_NGRAM_WORDS = 4
MAX_KEYS = 400
FUZZY_LINK = 88.0

_TOKEN = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+")
STOPWORDS = frozenset(
    (
        "a an the of in on at to for from by with and or is are was were be been do does "
        "did who whom whose what which where when why how i me my we our you your he him "
        "his she her it its they them their this that these those there here not no as "
        "than then so if before after during until since ever now currently used live "
        "lives lived work works worked "
    ).split()
)


def query_keys(query: str) -> list[str]:
    """Candidate entity keys named in a query: word n-grams and CJK character n-grams."""
    words = [w.removesuffix("'s").removesuffix("’s") for w in _TOKEN.findall(query)]
    keys: dict[str, None] = {}
    for n in range(MAX_NGRAM_WORDS, 0, -1):
        for i in range(len(words) - n + 1):
            gram = words[i : i + n]
            if all(w.casefold() in STOPWORDS for w in gram):
                continue
            keys[normalize_key(" ".join(gram))] = None
    for run in _CJK.findall(query):
        for n in range(min(len(run), 6), 1, -1):
            for i in range(len(run) - n + 1):
                keys[normalize_key(run[i : i + n])] = None
    return list(keys)[:MAX_KEYS]


def near_k(k: int) -> int:
    """How many nearest entities by name vector linking looks at."""
    return max(k * 4, 20) if k > 0 else 0


def rank_links(
    keys: Sequence[str],
    by_key: Sequence[Entity],
    near: Sequence[tuple[Entity, float]],
    *,
    k: int,
    threshold: float,
) -> list[tuple[Entity, float]]:
    """Exact key matches first (confidence 1), then near entities whose key fuzzily matches a
    query n-gram or whose name vector is close enough, best first, at most k of those."""
    found: dict[str, tuple[Entity, float]] = {e.id: (e, 1.0) for e in by_key}
    grams = [g for g in keys if len(g) >= 3]
    for entity, cos in near:
        if entity.id in found:
            continue
        best = max((fuzz.ratio(entity.key, g) for g in grams), default=0.0)
        if best >= FUZZY_LINK:
            found[entity.id] = (entity, best / 100.0)
        elif cos >= threshold:
            found[entity.id] = (entity, float(cos))
    ranked = sorted(found.values(), key=lambda t: (-t[1], t[0].id))
    exact = [t for t in ranked if t[1] >= 1.0]
    return exact + [t for t in ranked if t[1] < 1.0][: max(k, 0)]


# Function words only: unlike STOPWORDS, "live" and "work" carry meaning for coverage.
FUNCTION_WORDS = frozenset(
    (
        "a an the of in on at to for from by with and or is are was were be been do does did "
        "who whom whose what which where when why how i me my we our you your he him his she "
        "her it its they them their this that these those there here not no as than then so "
        "if now ever currently s"
    ).split()
)
_SUFFIXES = ("ing", "ed", "es", "er", "s")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A deliberately crude stemmer: enough to equate works/worked/work, manager/manages."""
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    # live/lives/lived/living all end as "liv"; manage/manager/manages as "manag".
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


@lru_cache(maxsize=16384)
def terms_of(text: str) -> frozenset[str]:
    """Cached: searches over the same graph keep meeting the same hub facts."""
    words = (w.casefold().removesuffix("'s").removesuffix("’s") for w in _TOKEN.findall(text))
    return frozenset(stem(w) for w in words if w not in FUNCTION_WORDS)


def query_terms(query: str) -> frozenset[str]:
    """Content terms of a question, for judging how much of it a chain of facts answers."""
    return terms_of(query)


def fact_terms(fact) -> frozenset[str]:
    """Content terms of a fact: its sentence, relation words and entity names."""
    return terms_of(f"{fact.fact} {fact.relation.replace('_', ' ')} {fact.source} {fact.target}")
