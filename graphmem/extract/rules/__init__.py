"""The LLM-free default extractor: English patterns over sentences, a fallback, not the product.

`RulesExtractor` reads each message sentence by sentence and recognises a fixed set of English
statement patterns (where people live and work, family and social ties, likes, studies, birth),
in the first person ("I moved to Porto in May 2024", attached to the speaker) and the third
person ("Bob works at Globex"). Every pattern it knows, with the triple it yields, is in
docs/rules-extractor.md; what it does not understand is listed there too.

Modules: lexicon (names, word lists, text helpers), patterns (the verb-phrase table and its
examples, from which docs/rules-extractor.md is generated), state (what reading keeps),
subjects and objects (readers of names, subjects and each kind of object), reader (one
sentence), and this module (the Extractor).

How a sentence is read
- The text is NFKC-normalised, contractions are expanded ("I'm" -> "I am", "don't" ->
  "do not"), and it is split into sentences; questions ("Do you live in Lisbon?") are skipped.
- Time expressions are found first (graphmem.timeparse) and resolved against the episode's
  reference time; their words never become part of a name.
- Verb phrases ("live in", "work at", "joined", "no longer ... work at", "left") are found with
  small, anchored regular expressions; the subject is read right-to-left from the verb (I, a
  name, "my sister" when this add already named her, "Ana and I"), the object left-to-right.
  A verb that follows "and"/"but"/"then" without a subject inherits the previous one ("I live
  in Lisbon and work at Acme"). Family and social ties are read around the kinship word ("my
  sister Ana", "Ana is my sister", "Bob's wife is Maria", "the sister of Bob").
- Names are runs of capitalised words ("New York", "Globex Corp", "Bank of America") or words
  of a script without case ("腾讯"). In a sentence with no capitals at all (or all capitals) any
  non-function word counts, and the name is written capitalised ("lisbon" -> "Lisbon").
- Pronouns ("she", "he", "they") are not resolved: a statement whose subject is a pronoun is
  skipped. "my sister" is resolved only when the same add named her ("my sister is Ana").

Relation vocabulary (source -> target; the fact sentence keeps the original word)
    LIVES_IN, FROM, GREW_UP_IN, BORN_IN (Person -> Place), BORN_ON (Person -> Date),
    HAS_AGE (Person -> Age), VISITED (Person -> Place), LOCATED_IN (Place/Organization -> Place)
    WORKS_AT (Person -> Organization), WORKS_AS (Person -> JobTitle),
    STUDIES_AT, GRADUATED_FROM (Person -> Organization), STUDIES (Person -> Concept)
    SIBLING_OF, COUSIN_OF, RELATIVE_OF: the relative -> the person it is relative to
    PARENT_OF, GRANDPARENT_OF: the parent -> the child ("my son Tom" -> speaker PARENT_OF Tom)
    MARRIED_TO, PARTNER_OF, FRIEND_OF, COLLEAGUE_OF, ROOMMATE_OF, NEIGHBOR_OF, LIVES_WITH:
        symmetric in meaning, stored once: the named relative -> the anchor
    MANAGES: the manager -> the managed ("Carol is Ana's manager", "Ana reports to Carol" and
        "my manager is Carol" all give Carol MANAGES Ana)
    MENTORS: the mentor -> the mentee; HAS_PET: the owner -> the animal
    LIKES, DISLIKES (Person -> Concept, or Entity for proper names)

Time
- valid_at is the start of a stated time ("moved to Porto in May 2024" -> 2024-05-01; "since
  2020"; "for the past 3 years"; "from 2019 to 2022"), else None (the caller uses the episode
  time).
- A state said in the past tense ("I lived in Lisbon", "I used to work at Acme", "I was a
  nurse") is a closed interval: invalid_at is the end of a stated range ("until 2022",
  "from 2019 to 2022"), else the episode's reference time.
- A statement that ends a relation ("I left Acme", "I no longer live in Lisbon", "my ex-wife
  Maria") has negated=True and invalid_at = the stated time, else the episode's reference time.
"""

from __future__ import annotations

from datetime import datetime

from graphmem.extract.base import ExtractionContext, Extractor
from graphmem.extract.rules.lexicon import (
    _KIN,
    _QUESTION_START,
    BORN_ON,
    DISLIKES,
    GREW_UP_IN,
    LIKES,
    LIVES_IN,
    LOCATED_IN,
    MAX_CONTENT_CHARS,
    WORKS_AS,
    _prepare,
    normalize_key,
    split_sentences,
)
from graphmem.extract.rules.patterns import _PAIR_REL, _RULES
from graphmem.extract.rules.reader import Sentence
from graphmem.extract.rules.state import _Collector, _Memory
from graphmem.models import Episode, Extraction, Usage
from graphmem.normalize import clean_name, to_utc

# ---------------------------------------------------------------- the extractor


def _is_question(sentence: str) -> bool:
    return sentence.rstrip().endswith("?")


def _strip_question(sentence: str) -> str:
    """Drop a trailing question clause: "I live in Lisbon, do you?" -> "I live in Lisbon"."""
    if not _is_question(sentence):
        return sentence
    body = sentence.rstrip().rstrip("?")
    cut = max(body.rfind(","), body.rfind(" - "))
    clause = body[cut + 1 :] if cut >= 0 else body
    words = clause.split()
    first = words[0].casefold().strip("\"'(") if words else ""
    if (
        first in _QUESTION_START
        or first in ("so", "and", "but", "also", "or")
        and (len(words) > 1 and words[1].casefold() in _QUESTION_START)
    ):
        return body[:cut] if cut >= 0 else ""
    return body


class RulesExtractor(Extractor):
    """Pattern-based, LLM-free extraction of English statements; see the module docstring and
    docs/rules-extractor.md. Never raises for ordinary text; returns an empty Extraction when it
    recognises nothing."""

    uses_llm = False

    @staticmethod
    def relations() -> frozenset[str]:
        """Every relation this extractor can emit (all in graphmem.ontology's vocabulary)."""
        return frozenset(
            {r.relation for r in _RULES}
            | {rel for rel, _ in _KIN.values()}
            | {rel for rel, _, _ in _PAIR_REL.values()}
            | {LIKES, DISLIKES, LOCATED_IN, BORN_ON, GREW_UP_IN, WORKS_AS, LIVES_IN}
        )  # the last set: emitted by the readers themselves, beside a table's relation

    def extract(
        self, episodes: list[Episode], context: ExtractionContext
    ) -> tuple[Extraction, Usage]:
        out = _Collector()
        memory = _Memory()
        for entity in context.known_entities:
            memory.known[normalize_key(entity.name)] = (entity.name, entity.type)
        for ep in episodes:
            speaker = clean_name(context.speakers.get(ep.id) or ep.name or ep.role or "user")
            speaker = speaker or "user"
            try:
                ref = to_utc(ep.reference_time)
            except Exception:  # noqa: BLE001 - a malformed time falls back to the add's time
                ref = to_utc(context.reference_time)
            self.extract_text(ep.content or "", speaker, ref, ep.id, memory, out)
        return out.result(), Usage()

    @staticmethod
    def extract_text(
        text: str, speaker: str, ref: datetime, episode_id: str, memory: _Memory, out: _Collector
    ) -> None:
        text = _prepare(text[:MAX_CONTENT_CHARS])
        done: set[str] = set()
        for sentence in split_sentences(text):
            sentence = _strip_question(sentence)
            if not sentence.strip() or sentence in done:
                continue
            done.add(sentence)
            Sentence(sentence, speaker, ref, episode_id, memory, out).run()


def extract_relations(
    text: str, speaker: str = "user", reference_time: datetime | None = None, episode_id: str = ""
) -> Extraction:
    """Convenience for tests and scripts: run the rules over one text said by `speaker`."""
    from graphmem.normalize import utcnow

    out = _Collector()
    ref = to_utc(reference_time) if reference_time is not None else utcnow()
    RulesExtractor.extract_text(
        text, clean_name(speaker) or "user", ref, episode_id, _Memory(), out
    )
    return out.result()


__all__ = ["RulesExtractor", "extract_relations", "split_sentences"]
