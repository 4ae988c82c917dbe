"""Step 1 of recall: the ONE query analysis every later step reads.

A question is read once into an `Analysis`: the entity keys it may name (word n-grams, CJK
n-grams), its content terms (stemmed by the Snowball English stemmer), its words in order (so
later steps can tell which relational words come before or after the anchor), first person
("I", "my", "me": the asking user), time cues (graphmem.timeparse), the answer type (where / who /
when / what) and the full-text query for raw messages. Nothing here reads the store: which of
the words are *relational* is decided against the relation vocabulary (the rules extractor's
kinship words and the relation names present in the graph), in `relational_words`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache

import snowballstemmer
from pydantic import BaseModel, ConfigDict, Field

# The relation vocabulary's words for people and pets ("brother" -> SIBLING_OF, with which
# end the named relative is): imported from the extractor, not copied.
from graphmem.extract.rules.lexicon import _KIN as KIN_WORDS
from graphmem.extract.rules.lexicon import _KIN_PLURALS as KIN_PLURALS
from graphmem.normalize import normalize_key
from graphmem.text import fts_query_terms
from graphmem.timeparse import QueryTime, query_time

MAX_NGRAM_WORDS = 4
MAX_KEYS = 400

_TOKEN = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+")

#: Words that carry no content: never entity keys on their own, never terms.
FUNCTION_WORDS = frozenset(
    (
        "a an the of in on at to for from by with and or is are was were be been do does did "
        "who whom whose what which where when why how i me my mine myself we our you your he him "
        "his she her it its they them their this that these those there here not no as than "
        "then so if now ever currently s has have had having some any both also just very many "
        "much more most other others about into over after before while will would could should "
        "can may might must done being during ago each every such same like until since used "
        "called named name"
    ).split()
)
FIRST_PERSON = frozenset(("i", "me", "my", "mine", "myself"))
_DO_SUPPORT = frozenset(("do", "does", "did"))
_ANSWER_TYPES = {"where": "place", "who": "person", "whom": "person", "when": "time"}

_STEMMER = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball (Porter 2) English stem of a casefolded word: lives/lived/living -> live."""
    return _STEMMER.stemWord(word)


def words_of(text: str) -> list[str]:
    """Casefolded words in order, possessive 's removed."""
    return [
        w.casefold().removesuffix("'s").removesuffix("’s").replace("’", "'")
        for w in _TOKEN.findall(text)
    ]


@lru_cache(maxsize=32768)
def terms_of(text: str) -> frozenset[str]:
    """Stemmed content terms of a text (cached: searches keep meeting the same hub facts)."""
    return frozenset(stem(w) for w in words_of(text) if w not in FUNCTION_WORDS)


def fact_terms(fact) -> frozenset[str]:
    """Content terms of a fact: its sentence, relation words and entity names. No word spans
    a space, so this is terms_of of them joined by spaces, built from parts the cache keeps
    (names recur across facts; the sentence's terms are word_match's too): in a large graph
    most facts a search meets are new to the cache (454 misses per search at 100k facts
    before, 333 after, each shorter)."""
    return (
        terms_of(fact.fact)
        | relation_terms(fact.relation)
        | terms_of(fact.source)
        | terms_of(fact.target)
    )


@lru_cache(maxsize=4096)
def relation_terms(relation: str) -> frozenset[str]:
    """Stemmed words of a relation name: LIVES_IN -> {live}, HEADQUARTERED_IN -> {headquart}."""
    return terms_of(relation.replace("_", " "))


# Which kinship words say the relative is a woman or a man ("daughter" vs "son" are the same
# PARENT_OF edge): the graph's own sentences then tell which child is meant ("Hazel is
# George's sister" makes Hazel a woman). Gender-neutral words (parent, sibling, partner) are
# absent.
KIN_GENDER: dict[str, str] = {
    **dict.fromkeys(
        "sister mother mom mum mommy mama mamma stepmother stepmom daughter stepdaughter "
        "grandmother grandma granny nana granddaughter aunt niece wife girlfriend fiancee "
        "fiancée mother-in-law sister-in-law daughter-in-law".split(),
        "f",
    ),
    **dict.fromkeys(
        "brother father dad daddy papa stepfather stepdad son stepson grandfather grandpa "
        "granddad grandson uncle nephew husband boyfriend fiance fiancé father-in-law "
        "brother-in-law son-in-law".split(),
        "m",
    ),
}


def kin_gender(word: str) -> str | None:
    """ "f" or "m" when a kinship word says the relative's gender, else None."""
    return KIN_GENDER.get(word.casefold())


def kin_relation(word: str) -> tuple[str, bool] | None:
    """(relation, is the named relative the source?) for a kinship or pet word, else None."""
    word = KIN_PLURALS.get(word, word)
    return KIN_WORDS.get(word)


class Analysis(BaseModel):
    """What search needs to know about a question, computed once."""

    model_config = ConfigDict(frozen=True)

    query: str
    words: list[str]  # casefolded words in order (possessive 's removed)
    keys: list[str]  # candidate entity keys: word and CJK n-grams (+ the asker's key)
    terms: frozenset[str]  # stemmed content terms
    first_person: bool  # "I", "my", "me": the asking user is an anchor
    user_key: str | None = None  # normalised name of the asking user's entity
    do_support: bool  # "where does X live": the last relational word is the final hop
    answer_type: str | None = None  # place, person, time, or None
    time: QueryTime
    message_query: str  # full-text query for raw messages (words, then inflections)
    candidates: list[tuple[int, str]] = Field(default_factory=list)  # (position, word)


def analyze(
    query: str, now: datetime, user_name: str | None = None, user_aliases: Iterable[str] = ()
) -> Analysis:
    """Read a question once. "I", "my" and "me" anchor the asking user: `user_name` (the user
    id, which a named speaker often shares) and `user_aliases` (the stand-in the add path gives
    a user who never said a name: "User") are added to the entity keys; linking keeps the
    ones the graph holds."""
    words = words_of(query)
    first_person = any(w in FIRST_PERSON for w in words)
    keys = query_keys(query)
    user_key = normalize_key(user_name) if user_name else None
    if first_person:
        asker = [user_key, *(normalize_key(a) for a in user_aliases)]
        extra = [k for k in dict.fromkeys(asker) if k and k not in keys]
        keys = [*extra, *keys][:MAX_KEYS]
    head = words[:3]
    answer_type = next((_ANSWER_TYPES[w] for w in head if w in _ANSWER_TYPES), None)
    candidates = [
        (i, w) for i, w in enumerate(words) if w not in FUNCTION_WORDS and not w.isdigit()
    ]
    return Analysis(
        query=query,
        words=words,
        keys=keys,
        terms=terms_of(query),
        first_person=first_person,
        user_key=user_key if first_person else None,
        do_support=any(w in _DO_SUPPORT for w in head),
        answer_type=answer_type,
        time=query_time(query, now),
        message_query=message_query(query),
        candidates=candidates,
    )


def query_keys(query: str) -> list[str]:
    """Candidate entity keys named in a query: word n-grams and CJK character n-grams."""
    words = [w.removesuffix("'s").removesuffix("’s") for w in _TOKEN.findall(query)]
    keys: dict[str, None] = {}
    for n in range(MAX_NGRAM_WORDS, 0, -1):
        for i in range(len(words) - n + 1):
            gram = words[i : i + n]
            if all(w.casefold() in FUNCTION_WORDS for w in gram):
                continue
            keys[normalize_key(" ".join(gram))] = None
    for run in _CJK.findall(query):
        for n in range(min(len(run), 6), 1, -1):
            for i in range(len(run) - n + 1):
                keys[normalize_key(run[i : i + n])] = None
    return list(keys)[:MAX_KEYS]


def relational_words(
    analysis: Analysis, anchor_names: Iterable[str], relations: Iterable[str]
) -> list[str]:
    """The question's relational words, in the order a chain from the anchor takes them.

    A word is relational when the vocabulary knows it: a kinship or pet word ("brother",
    "manager", "cat"), or a word of a relation name present in the graph ("live" for
    LIVES_IN, "headquartered" for HEADQUARTERED_IN). Words of the anchor's own name are not.

    Order, read from English structure: possessives after the anchor go outward in text order
    ("Ana's brother's manager": brother, manager); "the X of <anchor>" goes outward in reverse
    text order ("the manager of Ana's brother": brother, then manager); with do-support the
    last relational word is the verb of the final hop ("where does ... live").
    """
    name_words = {w for name in anchor_names for w in words_of(name)}
    if analysis.first_person:
        name_words |= FIRST_PERSON
    rel_stems = set().union(*(relation_terms(r) for r in relations)) if relations else set()
    found = [
        (i, w)
        for i, w in analysis.candidates
        if w not in name_words and (kin_relation(w) is not None or stem(w) in rel_stems)
    ]
    if not found:
        return []
    positions = [i for i, w in enumerate(analysis.words) if w in name_words]
    anchor_at = min(positions) if positions else -1
    final: list[tuple[int, str]] = []
    if analysis.do_support and len(found) > 1:
        final = [found[-1]]
        found = found[:-1]
    after = [w for i, w in found if i > anchor_at]
    before = [w for i, w in reversed(found) if i < anchor_at]
    return [*after, *before, *(w for _, w in final)]  # repeats stay: manager of a manager


# -- the full-text query for raw messages ------------------------------------------------------
# Words not worth expanding into inflections (function words are skipped too).
_NOT_INFLECTED = frozenset("like same such".split())


def message_query(query: str) -> str:
    """The full-text query for raw messages: its words, then inflections of its content words
    ("painted" also asks for paint, paints, painting, painter).

    Neither store stems its full-text index (the tokens are the words as written, see
    graphmem.text), so "what has Melanie painted?" would miss "my latest painting". Asking for
    the inflections at query time needs no re-index and works the same on every store; forms
    nobody wrote cost nothing. The query's own words come first, so the store's cap on query
    terms (graphmem.text.MAX_QUERY_TERMS) only ever drops inflections. Facts keep the plain
    query: their sentences are written by the extractor and reached through the graph.
    """
    words = fts_query_terms(query)
    forms: list[str] = []
    for word in words:
        if len(word) < 4 or not word.isalpha() or word in FUNCTION_WORDS:
            continue
        if word in _NOT_INFLECTED:
            continue
        base = stem(word)
        found = [base, base + "e", base + "s", base + "es", base + "ed", base + "ing", base + "er"]
        if base.endswith("i"):  # studi (studies, studied) -> study
            found += [base[:-1] + "y", base[:-1] + "ies", base[:-1] + "ied"]
        elif len(base) > 3 and base.endswith("y") and base[-2] not in "aeiou":
            found += [base[:-1] + "ies", base[:-1] + "ied"]  # study -> studies, studied
        if len(base) > 2 and base[-1] not in "aeiouwy" and base[-2] in "aeiou":
            found += [base + base[-1] + "ing", base + base[-1] + "ed"]  # run -> running
        forms.extend(f for f in found if len(f) >= 3)
    known = set(words)
    extra = [f for f in dict.fromkeys(forms) if f not in known]
    return " ".join(words + extra)
