"""Grounding: an extracted relation is written only if the new messages state it.

A small local model returns schema-valid JSON whose content can still be ungrounded: a fact
whose entities the new message never mentions, or whose sentence was copied from the context
block. A relation's entities must be named in the new messages, or be their speaker (the
message says "I", "my", "we") or addressee ("you"), or be an entity of the context that a
pronoun or a "my wife"-style phrase in the message points back to; and its sentence must state
its own triple (name both endpoints) and not restate a context message. Every refusal is
recorded with its reason (AddResult.refusals). Step 2 of the add flow (extraction) runs it; the
decision guards of step 5 are in graphmem/ingest/decide/guards.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from graphmem.models import NO_TARGET, ExtractedRelation
from graphmem.normalize import normalize_key

FIRST_PERSON = frozenset({"i", "me", "my", "mine", "myself", "we", "us", "our", "ours"})
SPEAKER_AS_PERSON = frozenset({"i", "me", "myself", "we", "us", "ourselves"})  # not "my"
SECOND_PERSON = frozenset({"you", "your", "yours", "yourself"})
# Words that point back at something named earlier: pronouns and "there". A possessive points
# back only when no name follows ("my wife" may be the known Maria; "my wife Efua" is Efua).
BACK_REFERENCES = frozenset(
    "he him his she her hers they them their it its there that this these those".split()
)
STOPWORDS = frozenset(
    {"the", "of", "a", "an", "and", "at", "in", "on", "for", "to", "de", "da", "do", "la", "le"}
)
# A relation sentence this similar to a context message (and clearly less similar to the new
# messages) was copied from the context.
COPY_SIMILARITY = 90.0
COPY_MARGIN = 15.0  # a new message that says the same again is not a copy
_WORD = re.compile(r"\w+", re.UNICODE)
# "my brother Luis", "our daughter Marta", "my advisor, Professor Tanaka": a possessive, one to
# three lower-case words, then a capitalised name (case matters here, so not re.IGNORECASE).
_UNNAMED_POSSESSIVE = re.compile(r"\b(?:[Mm]y|[Oo]ur|[Yy]our)\s+[a-z][\w-]*(?![\w-]|\s+[A-Z])")
_INTRODUCED = re.compile(
    r"\b(?:[Mm]y|[Oo]ur)\s+(?:[a-z][\w-]*[\s,]+){1,3}?((?!I\b)[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*)"
)
# Han, kana, Hangul, Thai, Lao, Khmer, Myanmar: no spaces between words.
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]"
)


def words(text: str) -> list[str]:
    """Case-folded word tokens, split at apostrophes: "I've" -> "i", "ve"; "He's" -> "he"."""
    return _WORD.findall(text.casefold().replace("\u2019", " ").replace("'", " "))


def names_entity(text_words: set[str], text_key: str, name: str, aliases: Iterable[str]) -> bool:
    """Whether a text names an entity: its whole name (or an alias) as a phrase, or one
    significant word of a multi-word name ("Maria" for "Maria Lopez")."""
    for candidate in (name, *aliases):
        key = normalize_key(candidate)
        if not key:
            continue
        if _UNSPACED.search(key):  # scripts written without spaces: a substring is a mention
            if key in text_key:
                return True
        elif re.search(rf"(?<!\w){re.escape(key)}(?!\w)", text_key):
            return True
    tokens = [t for t in words(name) if len(t) >= 3 and t not in STOPWORDS]
    return any(t in text_words for t in tokens)


@dataclass
class Said:
    """One new message as the grounding guard sees it."""

    text: str
    speaker: str
    role: str

    def __post_init__(self) -> None:
        self.words = set(words(self.text))
        self.key = normalize_key(self.text)
        # "My brother Luis studies at Coimbra": a message whose only first-person words are
        # possessives introducing someone by name is about that someone; the speaker takes
        # part only in the relation to them (Sam SIBLING_OF Luis, not Sam STUDIES_AT Coimbra).
        self.points_back = bool(self.words & BACK_REFERENCES) or bool(
            _UNNAMED_POSSESSIVE.search(self.text)
        )
        self.introduced: list[str] = []
        if not self.words & SPEAKER_AS_PERSON:
            self.introduced = [m.group(1) for m in _INTRODUCED.finditer(self.text)]

    def about_introduced(self, speaker_key: str, other: str) -> str | None:
        """Why a relation between the speaker and `other` is not what this message says about
        the speaker, or None."""
        if not self.introduced or speaker_key != normalize_key(self.speaker):
            return None
        other_words = set(words(other))
        if any(other_words & set(words(name)) for name in self.introduced):
            return None
        names = ", ".join(repr(n) for n in self.introduced)
        return f"the message speaks of {names}, not of {self.speaker!r}"


@dataclass
class GroundingGuard:
    """Checks an extracted relation against what the new messages actually say.

    `context_names` are entities the context block showed (known entities, names in the
    previous messages): they may be reached by a back-reference ("she", "there", "my wife").
    `aliases` maps an entity's key to its known aliases.
    """

    messages: list[Said]
    context_text: list[str] = field(default_factory=list)
    context_names: set[str] = field(default_factory=set)
    aliases: Mapping[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._speakers = {normalize_key(m.speaker) for m in self.messages if m.speaker}
        self._context_keys = {normalize_key(n) for n in self.context_names} - {""}
        context_key = normalize_key(" ".join(self.context_text))
        self._context_words = set(words(" ".join(self.context_text)))
        self._context_key = context_key

    def refuse(self, rel: ExtractedRelation, said: Said | None) -> str | None:
        """Why `rel` is not grounded in the new messages, or None when it is. `said` is the
        message it is attributed to (None: any new message)."""
        scope = [said] if said is not None else self.messages
        for end in (rel.source, rel.target):
            if rel.negated and end.strip() in NO_TARGET:
                continue
            if not any(self.grounded(end, m) for m in scope):
                return f"{end!r} is not mentioned in the new message(s)"
        if said is not None:
            for end, other in ((rel.source, rel.target), (rel.target, rel.source)):
                why = said.about_introduced(normalize_key(end), other)
                if why:
                    return why
        return self._sentence(rel, scope)

    def grounded(self, name: str, said: Said) -> bool:
        """Whether one message names `name`, is said by it, or points back at it."""
        key = normalize_key(name)
        if names_entity(said.words, said.key, name, self.aliases.get(key, ())):
            return True
        if key == normalize_key(said.speaker):
            return bool(said.words & FIRST_PERSON)  # "I", "my", "we": never "she" or "there"
        if key in self._speakers:
            return bool(said.words & SECOND_PERSON)  # another speaker, addressed as "you"
        # A back-reference ("she", "there", "my wife") can only reach an entity the context
        # showed; "we" does not count (it would let every housemate in).
        if said.points_back:
            if key in self._context_keys:
                return True
            return names_entity(self._context_words, self._context_key, name, ())
        return False

    def _sentence(self, rel: ExtractedRelation, scope: list[Said]) -> str | None:
        sentence = rel.fact
        if not sentence:
            return None
        sent = Said(text=sentence, speaker="", role="")
        for end in (rel.source, rel.target):
            if rel.negated and end.strip() in NO_TARGET:
                continue
            key = normalize_key(end)
            first_person = key in self._speakers and sent.words & FIRST_PERSON
            named = names_entity(sent.words, sent.key, end, self.aliases.get(key, ()))
            if not (first_person or named):
                return f"its sentence {sentence!r} does not name {end!r}"
        new_score = max((fuzz.partial_ratio(sentence, m.text) for m in scope), default=0.0)
        for text in self.context_text:
            score = fuzz.partial_ratio(sentence, text)
            if score >= COPY_SIMILARITY and score - new_score > COPY_MARGIN:
                return f"its sentence {sentence!r} restates the context, not the new message"
        return None
