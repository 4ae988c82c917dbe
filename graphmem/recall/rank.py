"""Step 4 of recall: rank. Paths are scored as answers to the question; facts and messages
share one [0, 1] scale; a named recipe fuses and diversifies.

Path alignment. A question has anchors (linked entities, "I/my/me" = the asker) and relational
words in chain order (graphmem.recall.analyze.relational_words: "where does the manager of
Ana's brother live" -> brother, manager, live). A path from an anchor, relations r1..rh, is
scored by how its relations take those words in order: an in-order weighted match count M
(a longest common subsequence whose match weight is `word_match`), as coverage M/m times
precision M/h, halved unless the last relation takes the last word (the answer hop). So

- a direct fact about the anchor that answers a 1-word question scores 1, and a 3-hop chain
  through colleagues ending in the same relation scores 1/3: the direct answer comes first;
- for "where does Ana's brother live", the chain brother -> lives scores 1, Ana's own home
  1/2, the brother fact alone 1/4;
- a path whose relations take none of the words scores 0 and is not a graph answer at all;
- paths through hubs are damped by node specificity: the product over intermediate entities
  of 1 / (1 + ln degree) (degree counted over the facts the walk kept) takes up to a quarter
  of the score (HUB_SHARE), so it orders equally aligned paths without overriding alignment.

Scores. answer = alignment x link confidence x (0.75 + 0.25 specificity); sem = cosine(query,
item) clipped to [0, 1]; lex = IDF-weighted share of the query's content terms the item holds
(stemmed; IDF over the candidates; the anchors' names are left to `about`); about = link
confidence of the anchor a fact touches or a message is about, times the anchor's specificity
among the candidates (`about_scores`); asker = the same for the asking user in an "I/my/me"
question (its facts and its own turns). Default recipe ("answers"): a question whose
relational words a chain in the graph takes scores 0.7 answer + 0.2 sem + 0.1 lex; any other
question 0.5 sem + 0.3 lex + 0.2 about (a name the question says is shared), times (0.75 +
0.25 asker) in a first-person question: being about the asker scales what an item shares and
adds nothing alone. A message that only asks keeps 1 - 0.3 of its score (ASKING), one said
outside the window a question names 0.8 (OUTSIDE_WINDOW). A message answers when it is by or
about an anchor, by the share of relational words it holds, times 0.9 (a fact that answers
equally comes first). Every score is in [0, 1] and means the same for every query of a user:
thresholds work (docs/retrieval.md).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from graphmem.models import Episode, Fact
from graphmem.normalize import normalize_key, stand_in
from graphmem.recall.analyze import (
    KIN_WORDS,
    fact_terms,
    kin_gender,
    kin_relation,
    relation_terms,
    stem,
    terms_of,
    words_of,
)

MESSAGE_ANSWER = 0.9  # a message that answers, relative to a fact that answers as well
HUB_DAMPING = 1.0  # specificity 1 / (1 + HUB_DAMPING * ln degree)
HUB_SHARE = 0.25  # how much of a path's answer score specificity can take away
ASKER = normalize_key(stand_in("user"))  # the name a user who never said one is stored under
ASKER_SHARE = 0.25  # how much of a first-person score hinges on being about the asker
PATHS_PER_ENTITY = 3  # partial paths kept per entity and depth in the aligned walk
ASKING = 0.3  # how much of a message's score hinges on it not only asking (asking_share)
OUTSIDE_WINDOW = 0.8  # a message said outside the asked window (it may report or plan it)

# Relations the vocabulary names from both ends ("mother" and "son" are both PARENT_OF): for
# those, which end the question's word names matters.
DIRECTIONAL = frozenset(
    rel
    for rel in {r for r, _ in KIN_WORDS.values()}
    if {src for r, src in KIN_WORDS.values() if r == rel} == {True, False}
)


class Recipe(BaseModel):
    """A named way to turn the candidates into one ranked list (as Graphiti's search recipes).

    fusion "answers": the weighted [0, 1] score above; "rrf": reciprocal rank fusion of the
    lists (graph answers, fact vectors, fact BM25, message vectors, message BM25), scaled to
    [0, 1]. mmr: near-duplicates (term Jaccard >= mmr_threshold) of a higher hit are moved
    below the first `limit`. recency_half_life_days: scores decay with the age of what they
    say (None: no decay).
    """

    model_config = ConfigDict(frozen=True)

    fusion: str = "answers"
    mmr: bool = True
    mmr_threshold: float = 0.8
    recency_half_life_days: float | None = None
    rrf_k: int = 60


RECIPES: dict[str, Recipe] = {
    "answers": Recipe(),
    "answers_no_mmr": Recipe(mmr=False),
    "answers_recency": Recipe(recency_half_life_days=365.0),
    "rrf": Recipe(fusion="rrf"),
    "rrf_mmr": Recipe(fusion="rrf", mmr=True),
}


@dataclass
class Candidate:
    """One fact or message on its way to becoming a hit."""

    fact: Fact | None = None
    episode: Episode | None = None
    similarity: float | None = None
    sources: list[str] = field(default_factory=list)
    ranks: dict[str, int] = field(default_factory=dict)
    path: list[Fact] = field(default_factory=list)
    answer: float = 0.0
    about: float = 0.0  # link confidence of the named anchor the item is about (0: none)
    asker: float = 0.0  # for "I/my/me" questions: link confidence of the asker it is about
    lexical: float = 0.0
    asks: float = 0.0  # a message: the share of its sentences that are questions
    in_window: bool = True  # a message: said inside the window the question names
    score: float = 0.0
    chain: bool = False  # on a strong chain, or the value before X: the walk found an answer

    @property
    def key(self) -> str:
        if self.fact is not None:
            return self.fact.id
        assert self.episode is not None
        return "ep:" + self.episode.id

    @property
    def tie(self) -> tuple:
        """Stable tie-break: facts and messages by what they say, never by random ids."""
        if self.fact is not None:
            return self.fact.order_key
        assert self.episode is not None
        return self.episode.order_key

    @property
    def when(self) -> datetime | None:
        if self.fact is not None:
            return self.fact.valid_at or self.fact.created_at
        return self.episode.reference_time if self.episode else None

    def terms(self) -> frozenset[str]:
        if self.fact is not None:
            return fact_terms(self.fact)
        assert self.episode is not None
        return terms_of(f"{self.episode.name or ''} {self.episode.content}")


# -- matching a relational word against one hop ------------------------------------------------
@lru_cache(maxsize=65536)
def _possessive(sentence: str, holder: str, word_stem: str) -> bool:
    """Whether the sentence says "<holder>'s <word>" (up to two words between)."""
    pattern = rf"\b{re.escape(holder)}['’]s\s+(?:\w+\s+){{0,2}}{re.escape(word_stem)}"
    return re.search(pattern, sentence.casefold()) is not None


def word_match(
    word: str, fact: Fact, holder_id: str, genders: Mapping[str, frozenset[str]] | None = None
) -> float:
    """How well one hop (fact, walked from holder) takes one relational word, in [0, 1].

    1: the relation's name says it (live ~ LIVES_IN), or the sentence says "<holder>'s
    <word>" ("Bob is Ana's brother" from Ana). 0.9: the vocabulary maps the word to the
    relation (brother -> SIBLING_OF) from the right end. 0.7: the sentence holds the word
    about someone else ("Carl is Bob's manager" walked from Carl). 0.5: the vocabulary's
    relation, but the sentence gives the far end another word ("father" over "Diana is
    Beatriz's mother" walked from Beatriz). 0.3: the vocabulary's relation from the wrong end
    ("Ana's mother" over "Ana is Zoe's mother").

    A gendered word ("daughter", "sister") over its relation is checked against what the
    graph says of the far end (`genders`, from `genders_of`): 1 when only that gender is
    said, at most 0.5 when only the other one is ("Who is Noah's daughter?" over "Noah is
    George's father" when "George is Hazel's brother").
    """
    w = stem(word)
    best = 1.0 if w in relation_terms(fact.relation) else 0.0
    if best == 1.0:
        return best
    kin = kin_relation(word)
    said = terms_of(fact.fact) - (terms_of(fact.source) | terms_of(fact.target))  # cached parts
    if kin is not None and kin[0] == fact.relation:
        if fact.relation in DIRECTIONAL and fact.source_id != fact.target_id:
            holder_is_source = fact.source_id == holder_id
            best = 0.9 if holder_is_source != kin[1] else 0.3
        else:
            best = 0.9
    holder = fact.source if fact.source_id == holder_id else fact.target
    contradicted = (
        kin is not None
        and kin[0] == fact.relation
        and w not in said
        and _other_kin_word(fact.fact, fact.relation, holder.casefold())
    )
    if contradicted:  # "Diana is Beatriz's mother" walked from Beatriz, asked as "father"
        best = min(best, 0.5)
    gender = kin_gender(word) if genders and best >= 0.9 else None
    if gender is not None:
        far = fact.target_id if fact.source_id == holder_id else fact.source_id
        said = genders.get(far, frozenset())
        if said == {gender}:
            best = 1.0
        elif said and gender not in said:
            best = min(best, 0.5)
    if w in said:
        best = max(best, 1.0 if _possessive(fact.fact, holder.casefold(), w) else 0.7)
    return best


@lru_cache(maxsize=65536)
def _other_kin_word(sentence: str, relation: str, holder: str) -> bool:
    """Whether the sentence gives the far end another kinship word of the relation: "Diana is
    Beatriz's mother" walked from Beatriz. ("Felix is Hazel's brother" walked from Felix says
    what Felix is, not Hazel: no contradiction of "Felix's sister".)"""
    return any(
        (k := kin_relation(w)) is not None
        and k[0] == relation
        and _possessive(sentence, holder, stem(w))
        for w in words_of(sentence)
    )


def genders_of(facts: Iterable[Fact]) -> dict[str, frozenset[str]]:
    """Entity id -> the genders the graph's sentences give it: "Hazel is George's sister"
    says Hazel is a woman ("<holder>'s <word>" names the other end)."""
    found: dict[str, set[str]] = defaultdict(set)
    for fact in facts:
        for w in words_of(fact.fact):
            gender = kin_gender(w)
            if gender is None:
                continue
            ends = ((fact.source, fact.target_id), (fact.target, fact.source_id))
            for holder, other in ends:
                if holder and _possessive(fact.fact, holder.casefold(), stem(w)):
                    found[other].add(gender)
    return {e: frozenset(g) for e, g in found.items()}


def _extend(
    row: Sequence[float],
    words: Sequence[str],
    fact: Fact,
    holder: str,
    genders: Mapping[str, frozenset[str]] | None = None,
) -> list[float]:
    """One more relation on a path: the next row of the weighted in-order match table."""
    out = [0.0] * (len(words) + 1)
    for j, word in enumerate(words, start=1):
        out[j] = max(out[j - 1], row[j], row[j - 1] + word_match(word, fact, holder, genders))
    return out


def specificity(degree: int) -> float:
    """Node specificity: 1 for a leaf, smaller for a hub (HippoRAG 2 uses 1/degree; the log
    keeps a person with a few facts nearly undamped)."""
    return 1.0 / (1.0 + HUB_DAMPING * math.log(max(degree, 1)))


@dataclass
class _State:
    entity: str
    path: list[Fact]
    row: list[float]
    weight: float  # specificity of the entities passed through
    conf: float  # link confidence of the anchor the path starts at


def aligned_paths(
    anchors: dict[str, float], facts: Iterable[Fact], words: Sequence[str], hops: int
) -> dict[str, tuple[float, list[Fact]]]:
    """For every fact reachable from an anchor within `hops` over `facts`, the best answer
    score (alignment x confidence x specificity) and its path. Facts scoring 0 are left out.

    Breadth-first, keeping the best PATHS_PER_ENTITY partial paths per entity and depth (by
    matched words, then weight, then what the path's facts say), so hubs cannot multiply the work.
    """
    if not anchors or not words or hops <= 0:
        return {}
    by_entity: dict[str, list[Fact]] = defaultdict(list)
    name_of: dict[str, str] = {}  # entity id -> name: visit order by name, not random id
    for fact in sorted({f.id: f for f in facts}.values(), key=lambda f: f.order_key):
        by_entity[fact.source_id].append(fact)
        name_of.setdefault(fact.source_id, fact.source)
        if fact.target_id != fact.source_id:
            by_entity[fact.target_id].append(fact)
            name_of.setdefault(fact.target_id, fact.target)

    def visit_order(entity_id: str) -> tuple[str, str]:
        return (name_of.get(entity_id, ""), entity_id)

    m = len(words)
    kept = [f for fs in by_entity.values() for f in fs]
    genders = genders_of(kept) if any(kin_gender(w) for w in words) else None
    best: dict[str, tuple[float, list[Fact]]] = {}
    frontier = [
        _State(e, [], [0.0] * (m + 1), 1.0, anchors[e]) for e in sorted(anchors, key=visit_order)
    ]
    for depth in range(1, hops + 1):
        nxt: dict[str, list[_State]] = defaultdict(list)
        for state in frontier:
            on_path = {state.entity, *(f.source_id for f in state.path)}
            on_path |= {f.target_id for f in state.path}
            weight = state.weight
            if depth > 1:
                weight *= specificity(len(by_entity[state.entity]))
            for fact in by_entity.get(state.entity, ()):
                other = fact.target_id if fact.source_id == state.entity else fact.source_id
                if any(f.id == fact.id for f in state.path):
                    continue
                row = _extend(state.row, words, fact, state.entity, genders)
                last = word_match(words[-1], fact, state.entity, genders)
                align = (row[m] / m) * (row[m] / depth) * (0.5 + 0.5 * last)
                score = align * state.conf * (1 - HUB_SHARE + HUB_SHARE * weight)
                path = [*state.path, fact]
                prior = best.get(fact.id)
                if score > 0 and (prior is None or score > prior[0] + 1e-12):
                    best[fact.id] = (score, path)
                if depth < hops and other not in on_path:
                    nxt[other].append(_State(other, path, row, weight, state.conf))
        frontier = []
        for entity in sorted(nxt, key=visit_order):
            states = sorted(
                nxt[entity], key=lambda s: (-s.row[m], -s.weight, [f.order_key for f in s.path])
            )
            frontier.extend(states[:PATHS_PER_ENTITY])
        if not frontier:
            break
    return best


# -- messages ----------------------------------------------------------------------------------
def message_answer(
    episode: Episode, words: Sequence[str], anchor_names: Iterable[str], user_key: str | None
) -> float:
    """How far a message answers: by or about an anchor, by the share of the relational words
    it holds (kinship words through the vocabulary too), times MESSAGE_ANSWER."""
    if not words:
        return 0.0
    speaker = normalize_key(episode.name or "")
    text_terms = terms_of(episode.content)
    about = any(
        normalize_key(n) == speaker or (terms_of(n) and terms_of(n) <= text_terms)
        for n in anchor_names
    )
    if not about and user_key is not None:
        about = episode.role == "user" and speaker in ("", user_key)
    if not about:
        return 0.0
    held = sum(1 for w in words if stem(w) in text_terms)
    return MESSAGE_ANSWER * held / len(words)


def _message_names(episode: Episode, name: str) -> bool:
    """Whether a message is about a named entity: its speaker, or its text names it."""
    if normalize_key(name) == normalize_key(episode.name or ""):
        return True
    return bool(terms_of(name)) and terms_of(name) <= terms_of(episode.content)


def about_scores(cands: Sequence[Candidate], named: Mapping[str, tuple[str, float]]) -> None:
    """Set each candidate's `about`: the link confidence of the named anchor it is about (a
    fact touching it; a message it speaks or that names it), times that anchor's specificity
    among the candidates, 1 - the share of them about it.

    A name is a term the question shares with an item, and like any term it says little when
    most candidates hold it: in a conversation between two people, half of all messages are
    by the named speaker, and a flat bonus for them put the named speaker's small talk above
    the other speaker's turn that answers (LoCoMo category 5 asks about one speaker what the
    other said). A name only a few items carry (a friend, a CJK name MiniLM and the terms
    read poorly) keeps nearly its whole weight. `named`: entity id -> (name, confidence).
    """
    if not cands or not named:
        return
    holders: dict[str, list[int]] = {}
    for aid, (name, _) in named.items():
        holders[aid] = [
            i
            for i, c in enumerate(cands)
            if (c.fact is not None and aid in (c.fact.source_id, c.fact.target_id))
            or (c.episode is not None and _message_names(c.episode, name))
        ]
    for aid, held in holders.items():
        conf = named[aid][1] * (1.0 - len(held) / len(cands))
        for i in held:
            cands[i].about = max(cands[i].about, conf)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def asking_share(text: str) -> float:
    """The share of a message's sentences that are questions ("Wow! What got you into
    running?": 1/2). A turn that asks restates a question; it rarely answers one."""
    parts = [p for p in _SENTENCE_END.split(text.strip()) if p]
    if not parts:
        return 0.0
    return sum(1 for p in parts if p.endswith("?")) / len(parts)


def asker_keys(user_key: str | None) -> frozenset[str]:
    """The keys the asking user's entity is stored under: the user id and the stand-in a user
    who never said a name gets ("User")."""
    return frozenset((user_key, ASKER)) if user_key is not None else frozenset()


def asker_turn(episode: Episode, user_key: str | None) -> bool:
    """Whether a message is the asking user's own turn (role user, no other name)."""
    speaker = normalize_key(episode.name or "")
    return episode.role == "user" and speaker in {"", *asker_keys(user_key)}


# -- fusion ------------------------------------------------------------------------------------
def term_weights(terms: frozenset[str], items: Sequence[frozenset[str]]) -> dict[str, float]:
    """IDF of each query term over the candidates (one user's, so no other user's data moves
    it): a term every candidate holds ("live" in a graph of homes) weighs little."""
    n = len(items)
    return {t: math.log(1.0 + (n + 1) / (1 + sum(1 for i in items if t in i))) for t in terms}


def lexical(weights: dict[str, float], item_terms: frozenset[str]) -> float:
    """IDF-weighted share of the query's content terms the item holds, in [0, 1]."""
    total = sum(weights.values())
    if not total:
        return 0.0
    return sum(w for t, w in weights.items() if t in item_terms) / total


def fuse(
    cands: list[Candidate],
    recipe: Recipe,
    *,
    relational: bool,
    weights: dict[str, float],
    first_person: bool = False,
    now: datetime,
) -> None:
    """Set every candidate's score in [0, 1] by the recipe."""
    if recipe.fusion == "rrf":
        total = sum(weights.values()) / (recipe.rrf_k + 1)
        for c in cands:
            raw = sum(weights.get(n, 1.0) / (recipe.rrf_k + r + 1) for n, r in c.ranks.items())
            c.score = min(1.0, raw / total) if total else 0.0
    else:
        for c in cands:
            sem = max(0.0, min(1.0, c.similarity or 0.0))
            if relational:
                c.score = 0.7 * c.answer + 0.2 * sem + 0.1 * c.lexical
            else:
                c.score = 0.5 * sem + 0.3 * c.lexical + 0.2 * c.about
                if first_person:  # being about the asker scales what it shares, adds nothing
                    c.score *= 1 - ASKER_SHARE + ASKER_SHARE * c.asker
    for c in cands:  # messages that only ask, or were said outside the asked window
        c.score *= 1.0 - ASKING * c.asks
        if not c.in_window:
            c.score *= OUTSIDE_WINDOW
    if recipe.recency_half_life_days:
        for c in cands:
            when = c.when
            if when is not None:
                age = max(0.0, (now - when).total_seconds() / 86400.0)
                c.score *= 0.5 ** (age / recipe.recency_half_life_days)


def order_key(c: Candidate) -> tuple:
    """Best score first; then current, newest, facts before messages, then what they say:
    stable across processes and stores (never a random id)."""
    when = c.when
    recency = when.timestamp() if when is not None else 0.0
    current = c.fact is not None and c.fact.is_current
    return (-round(c.score, 9), not current, -recency, c.fact is None, c.tie)


def diversify(cands: list[Candidate], recipe: Recipe, limit: int) -> list[Candidate]:
    """MMR as a near-duplicate rule: a candidate whose terms overlap a higher one's by
    mmr_threshold (Jaccard) or more waits until the first `limit` are filled with others."""
    if not recipe.mmr or len(cands) < 2:
        return cands
    chosen: list[Candidate] = []
    waiting: list[Candidate] = []
    seen: list[frozenset[str]] = []
    for c in cands:
        if len(chosen) >= limit:
            chosen.append(c)
            continue
        terms = c.terms()
        if any(_jaccard(terms, s) >= recipe.mmr_threshold for s in seen):
            waiting.append(c)
            continue
        chosen.append(c)
        seen.append(terms)
    head, tail = chosen[:limit], chosen[limit:]
    return head + waiting + tail


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
