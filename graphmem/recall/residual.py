"""Step 4 of recall, continued: what a chain leaves to ask.

"When is my sister's baby due?" has one relational word (sister): the path User -SIBLING_OF->
Ana takes it fully, so on alignment alone "Ana is User's sister" is the answer. It is only the
bridge: the question's other content terms ("baby", "due") are asked *about the chain's end*
(Ana), and the message "ana's pregnant again!! due in february" answers them.

So, when a question has residual terms (content terms that are neither the anchor's name, nor
its relational words, nor its time expression) and a path takes its relational words:

- an item about the chain's end (a message it speaks or that names it; a fact off the path that
  touches it) that holds a residual term answers by the path's score times (1/2 + 1/2 the
  IDF-weighted share of the residual terms it holds); a message times MESSAGE_ANSWER, as
  elsewhere;
- once something about that end holds residual terms, the bridge facts that hold none of them
  (and the messages they were read from) keep half their answer: a message that literally
  answers beats a fact that does not.

When nothing about the end holds a residual term ("Where is the company of Hugo's manager
headquartered?": no item says "company"), nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from graphmem.models import Fact
from graphmem.normalize import normalize_key
from graphmem.recall.analyze import Analysis, stem, terms_of, words_of
from graphmem.recall.rank import MESSAGE_ANSWER, Candidate, lexical, term_weights

STRONG_PATH = 0.5  # a path scoring at least this (of 1) takes the question's relational words
SHARE_WEIGHT = 0.5  # holding any residual term answers half; the IDF share of them the rest
BRIDGE_KEEPS = 0.5  # the share of its answer a bridge fact keeps when its end answers instead


def residual_terms(
    analysis: Analysis, words: Sequence[str], anchor_names: Iterable[str]
) -> frozenset[str]:
    """The question's content terms left once its anchors, relational words and time
    expression are taken out."""
    taken = {stem(w) for w in words}
    for name in anchor_names:
        taken |= terms_of(name)
    expression = analysis.time.expression
    if expression is not None:
        taken |= terms_of(expression.text)
    if analysis.time.before_entity:  # "before joining Trey Research": a time cue
        taken |= terms_of(analysis.time.before_entity)
        taken |= _before_clause(analysis.words, analysis.time.before_entity)
    return frozenset(analysis.terms - taken)


def _before_clause(words: Sequence[str], entity: str) -> frozenset[str]:
    """The terms of "before <...> X" up to X's name ("joining" in "before joining Globex"):
    the clause says when, so its verb is not asked about the previous value's end (else
    "Carl joined Yoyodyne" answered "where did Ana work before joining Globex")."""
    name = words_of(entity)
    if not name:
        return frozenset()
    for i, w in enumerate(words):
        if w != "before":
            continue
        rest = list(words[i + 1 :])
        for j in range(len(rest) - len(name) + 1):
            if rest[j : j + len(name)] == name:
                return terms_of(" ".join(rest[:j]))
    return frozenset()


def chain_ends(
    aligned: Mapping[str, tuple[float, list[Fact]]], anchors: Mapping[str, float]
) -> dict[str, tuple[float, str, frozenset[str]]]:
    """Entity id -> (best path score, name, ids of the facts on that path) of the entities
    strong paths end at."""
    ends: dict[str, tuple[float, str, frozenset[str]]] = {}
    for score, path in aligned.values():
        if score < STRONG_PATH or not path:
            continue
        first = path[0]
        at = first.source_id if first.source_id in anchors else first.target_id
        name = ""
        for fact in path:
            if fact.source_id == at:
                at, name = fact.target_id, fact.target
            else:
                at, name = fact.source_id, fact.source
        prior = ends.get(at)
        if prior is None or score > prior[0]:
            ends[at] = (score, name, frozenset(f.id for f in path))
    return ends


def answer_the_rest(
    cands: list[Candidate],
    residual: frozenset[str],
    ends: Mapping[str, tuple[float, str, frozenset[str]]],
) -> None:
    """Credit items about a chain's end by the residual terms they hold; halve the bridges
    whose end is answered that way (module docstring)."""
    if not residual or not ends:
        return
    item_terms = [c.terms() for c in cands]
    weights = term_weights(residual, item_terms)
    # the end's own name is not the rest of the question ("Ivan works at Trey Research" holds
    # "Trey Research" because it touches the end, not because it answers)
    rest = {
        e: {t: w for t, w in weights.items() if t not in terms_of(n)}
        for e, (_, n, _) in ends.items()
    }
    answered: set[str] = set()
    for c, held in zip(cands, item_terms, strict=True):
        for entity, (score, name, path_ids) in ends.items():
            share = lexical(rest[entity], held)
            if share <= 0:
                continue
            if c.fact is not None:
                if c.fact.id in path_ids or entity not in (c.fact.source_id, c.fact.target_id):
                    continue
                gain = score * (1 - SHARE_WEIGHT + SHARE_WEIGHT * share)
            elif c.episode is not None and _names(c.episode.name, c.episode.content, name):
                gain = MESSAGE_ANSWER * score * (1 - SHARE_WEIGHT + SHARE_WEIGHT * share)
            else:
                continue
            if gain > c.answer:
                c.answer = gain
            answered.add(entity)
    if not answered:
        return
    bridges = {fid for e in answered for fid in ends[e][2]}
    sources = {
        e for c in cands if c.fact is not None and c.fact.id in bridges for e in c.fact.episodes
    }
    for c, held in zip(cands, item_terms, strict=True):
        if held & residual:
            continue
        if (c.fact is not None and c.fact.id in bridges) or (
            c.episode is not None and c.episode.id in sources
        ):
            c.answer *= BRIDGE_KEEPS


def _names(speaker: str | None, content: str, name: str) -> bool:
    """Whether a message is by or names the entity."""
    if not name:
        return False
    if speaker and normalize_key(speaker) == normalize_key(name):
        return True
    words = terms_of(name)
    return bool(words) and words <= terms_of(content)
