"""Label grounding: the relation a model names must be one its message states.

The structural guards (resolve/guards.py) check that a relation's entities are in the message
and that its sentence names them; they cannot tell a wrong label from a right one. A small
model relates the right entities under the wrong name ("My colleague Sara" -> `Omar MARRIED_TO
Sara`, "My dad Klaus" -> `Elena FRIEND_OF Klaus`, "My girlfriend Lin works as a nurse" ->
`Chen WORKS_AT Lin`), and a wrong one-valued label then ends a true stored fact. Two checks,
both deterministic and read off the relation vocabulary:

- Role words. "my colleague Sara", "our son Karim", "my manager Tom" say how the speaker and
  the named person are related (the rules extractor's kinship lexicon: word -> relation and
  direction). A relation between the speaker and that person under another label, or the wrong
  way round, is relabelled to what the role word says, with a sentence built from the message's
  own words ("Sara is Omar's colleague."); "my ex-wife", "my late father" are left alone.
  "my mom" with no name counts too (the model names her "Aiko's mom"), and "partner" is a
  romantic partner only unqualified ("my partner at the firm" is a colleague).
- Cue words. Every vocabulary relation has words that state it (its name, its role words, verbs
  such as "moved" for LIVES_IN, job titles for WORKS_AT); at least one must occur in the
  message, compared by Snowball stem ("moving" ~ "move"); a role word counts only for a
  relation with the speaker ("My manager Tom is leaving Globex" does not state `Tom MANAGES
  Globex`). A relation outside the vocabulary
  (ALLERGIC_TO, PLAYS_IN) needs the words of its own name in the message. An unsupported label
  is refused: the fact is dropped, not guessed.

The cue words are English: a message with no common English word, or a relation whose names
or sentence are in another script, is not label-checked (it is left to the structural guards).

What it cannot see: a label whose cue word is in the message but says something else about
other words of it. The check is on words, not parses; it only removes or relabels.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

from graphmem.extract.grounding import names_entity, words
from graphmem.extract.rules.lexicon import _KIN as KIN_WORDS
from graphmem.extract.rules.lexicon import _KIN_PLURALS as KIN_PLURALS
from graphmem.extract.rules.lexicon import _TITLES as JOB_TITLES
from graphmem.models import ExtractedRelation
from graphmem.normalize import normalize_key, normalize_relation
from graphmem.ontology import VOCABULARY, Ontology, canonical

_STEMMER = snowballstemmer.stemmer("english")

# Words that state a relation, beyond its name and its role words (the kinship lexicon).
# Verbs in any form: they are compared by stem.
_VERB_CUES: dict[str, str] = {
    "LIVES_IN": "live reside move relocate settle based apartment flat house",
    "WORKS_AT": "work job employ employer hire join offer intern company quit leave left resign "
    "fire laid career colleague",
    "WORKS_AS": "work job as become became promote promotion hire career profession role "
    "position title",
    "STUDIES_AT": "study student school university college campus enrol enroll attend degree "
    "major phd master class course graduate",
    "STUDIES": "study student major degree learn course class",
    "BORN_IN": "born birth birthplace native",
    "FROM": "from born native originally hometown grew",
    "MARRIED_TO": "married marry wed wedding anniversary divorce separate",
    "PARTNER_OF": "date dating engaged engagement together relationship broke break split",
    "SIBLING_OF": "sibling",
    "PARENT_OF": "baby born",
    "FRIEND_OF": "friend friendship befriend",
    "COLLEAGUE_OF": "colleague team teammate",
    "MANAGES": "manage lead report",
    "REPORTS_TO": "report manager boss supervisor",
    "LIKES": "like love enjoy fan favorite favourite adore passion hobby prefer into",
    "DISLIKES": "dislike hate stand detest loathe avoid allergic",
    "HAS_PET": "pet adopt rescue",
    "VISITED": "visit trip travel went go going fly flying flew vacation holiday tour been",
    "GREW_UP_IN": "grew grow raised childhood",
    "LOCATED_IN": "located based in move relocate office headquarters",
    "GRADUATED_FROM": "graduate graduated degree alumnus alumna alum finished",
    "ROOMMATE_OF": "share",
    "NEIGHBOR_OF": "next door",
    "LIVES_WITH": "live share",
    "KNOWS": "know met meet",
    "MENTORS": "mentor advise advisor adviser supervise supervisor coach teach teacher taught",
    "BORN_ON": "born birthday",
    "HAS_AGE": "age old turn turns year",
    "NATIONALITY": "citizen nationality passport",
    "FAVORITE_COLOR": "favorite favourite colour color",
}
# Contractions split by `words` ("I'm" -> "i", "m"), and the forms of "be" as one word.
_CONTRACTED = {"m": "be", "s": "be", "re": "be", "ve": "have", "d": "would", "ll": "will"}
_CONTRACTED.update(dict.fromkeys("am is are was were be been being".split(), "be"))
# Common English words: a message with none of them is not read as English.
_ENGLISH = frozenset(
    "the is are was were i my me we our you your he she his her it its they their and of to "
    "at with have has had this that just for from".split()
)
# Words of a relation name that say nothing by themselves (HAS_PET -> "pet").
_PARTICLES = frozenset("of to in at on for with by the a an from has have had".split())
# A role word with one of these before it is not a current relation ("my ex-wife Ana").
_NOT_CURRENT = frozenset("ex former late old previous deceased".split())
# "my colleague Sara", "our son Karim", "My best friend, Sofia": a possessive, up to two
# modifiers, a role word, then a capitalised name (case matters, so not re.IGNORECASE).
_ROLE_INTRO = re.compile(
    r"\b(?:[Mm]y|[Oo]ur)\s+((?:[a-z][\w-]*\s+){0,2}?)([a-z][\w-]*)"
    r"(?:\s+(?:at|from|in)\s+(?:[\w'.-]+\s+){0,2}?[\w'.-]+\s*,)?"  # "my friend from work, Ana"
    r"\s*,?\s+((?!I\b)[A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*)*)"
)

# "partner" qualified as a work or activity partner; group 3 a following preposition.
_WORK_PARTNER = frozenset("business law legal founding managing senior junior equity".split())
_ACTIVITY_PARTNER = frozenset(
    "tennis squash padel dance dancing lab study training sparring climbing running chess "
    "research writing project sales trading gym hiking cycling".split()
)
_PARTNER = re.compile(r"\b([A-Za-z-]+\s+)?partner(s?)\b(\s+(?:at|from|for)\b)?", re.I)


@lru_cache(maxsize=16384)
def stem(word: str) -> str:
    """Snowball stem of a casefolded word; every form of "be" (and "I'm") is "be"."""
    word = _CONTRACTED.get(word, word)
    return _STEMMER.stemWord(word)


def stems(text: str) -> frozenset[str]:
    """Stemmed words of a text."""
    return frozenset(stem(w) for w in words(text))


def _role_words() -> dict[str, tuple[str, bool]]:
    """Role word (singular and plural) -> (relation, whether the named person is its source)."""
    roles = dict(KIN_WORDS)
    for plural, singular in KIN_PLURALS.items():
        roles[plural] = KIN_WORDS[singular]
    return roles


ROLES = _role_words()
ROLE_STEMS: dict[str, frozenset[str]] = {
    relation: frozenset(stem(w) for w, (r, _) in ROLES.items() if r == relation)
    for relation in {r for r, _ in ROLES.values()}
}

# "my mom", "our little brother": a role word of the lexicon with no name after it.
_UNNAMED_ROLE = re.compile(
    r"\b(?:[Mm]y|[Oo]ur)\s+((?:[a-z][\w-]*\s+){0,2}?)("
    + "|".join(sorted(map(re.escape, ROLES), key=len, reverse=True))
    + r")\b(?![\w-])(?!\s*,?\s+[A-Z])"
)


def _cue_table() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for name in VOCABULARY:
        cue = table.setdefault(name, set())
        cue |= set(_name_words(name))
        for synonym in VOCABULARY[name].synonyms:
            cue |= set(_name_words(synonym))
        cue |= {stem(w) for w in _VERB_CUES.get(name, "").split()}
    for word, (relation, _) in ROLES.items():
        table.setdefault(relation, set()).add(stem(word))
    for relation in ("WORKS_AT", "WORKS_AS"):
        table[relation] |= {stem(t) for t in JOB_TITLES}
    table["REPORTS_TO"] |= table["MANAGES"]
    return {name: frozenset(cues) for name, cues in table.items()}


def _name_words(relation: str) -> list[str]:
    return [stem(w) for w in relation.casefold().split("_") if w and w not in _PARTICLES]


CUES = _cue_table()


@dataclass(frozen=True)
class Role:
    """A person the message introduces by their role to the speaker: "my colleague Sara"
    (named), or "my mom" with no name after it (`named` False: the model names that person
    with the role word, "Aiko's mom", "Mom")."""

    name: str
    word: str
    relation: str
    named_is_source: bool
    named: bool = True
    span: tuple[int, int] = (0, 0)  # where the role word is in the text

    def fits(self, other: str) -> bool:
        """Whether an endpoint name is this person."""
        if self.named:
            return _names(self.name, other)
        return any(ROLES.get(w) == (self.relation, self.named_is_source) for w in words(other))


def _current(modifiers: str, word: str) -> tuple[str, bool] | None:
    """The role a role word states, unless it is not a current one ("my ex-wife", "my late
    father")."""
    mods = set(re.split(r"[\s-]+", modifiers.casefold()))
    role = ROLES.get(word) or ROLES.get(word.rsplit("-", 1)[-1])
    if word.startswith("ex-") or mods & _NOT_CURRENT:
        return None
    return role


def introduced_roles(text: str) -> list[Role]:
    """The people a message introduces as "my <role> Name", then those it calls "my <role>"
    with no name (role words of the lexicon)."""
    text = plain_partners(text)
    found: list[Role] = []
    for match in _ROLE_INTRO.finditer(text):
        role = _current(match.group(1), match.group(2).casefold())
        if role is not None:
            word = match.group(2).casefold()
            found.append(Role(match.group(3), word, *role, span=match.span(2)))
    for match in _UNNAMED_ROLE.finditer(text):
        word = match.group(2).casefold()
        role = _current(match.group(1), word)
        if role is not None and not any(r.word == word for r in found):
            found.append(Role(word, word, *role, named=False, span=match.span(2)))
    return found


def without_roles(text: str) -> str:
    """The text without the role words that introduce someone to the speaker: "manager" in
    "My manager Tom is leaving Globex" says who manages the speaker, so it cannot state that
    Tom MANAGES Globex."""
    for role in sorted(introduced_roles(text), key=lambda r: r.span, reverse=True):
        start, end = role.span
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def plain_partners(text: str) -> str:
    """The text with "partner" rewritten where it is not a romantic partner: "my partner at
    the firm", "my business partner" (a colleague), "my tennis partner" (no relation the
    vocabulary names). Only an unqualified "partner" states PARTNER_OF."""

    def rewrite(match: re.Match[str]) -> str:
        modifier = (match.group(1) or "").strip().casefold()
        at_work = bool(match.group(3)) or modifier in _WORK_PARTNER
        if not (at_work or modifier in _ACTIVITY_PARTNER):
            return match.group(0)
        word = "colleague" if at_work else "associate"
        return f"{match.group(1) or ''}{word}{match.group(2)}{match.group(3) or ''}"

    return _PARTNER.sub(rewrite, text)


class LabelGuard:
    """Checks (and where the message's role word says so, corrects) a relation's label against
    the message it came from. `ontology`: a user ontology whose relation descriptions add
    cue words for its own relations."""

    def __init__(self, ontology: Ontology | None = None) -> None:
        self._extra: dict[str, frozenset[str]] = {}
        if ontology is not None:
            for name, rel in ontology.relation_types.items():
                self._extra[name] = frozenset(stem(w) for w in words(rel.description))

    def check(
        self, rel: ExtractedRelation, text: str, speaker: str
    ) -> tuple[ExtractedRelation | None, str | None]:
        """(the relation to keep, or None; why it was changed or refused, or None)."""
        if not _english(text, (rel.source, rel.target, rel.fact)):
            return rel, None
        text = plain_partners(text)
        fixed = self._role(rel, text, speaker)
        if fixed is not None:
            return fixed
        me = normalize_key(speaker)
        if me not in (normalize_key(rel.source), normalize_key(rel.target)):
            text = without_roles(text)  # role words relate people to the speaker only
        why = self.unsupported(rel.relation, text)
        return (None, why) if why else (rel, None)

    def stated_by_role(self, rel: ExtractedRelation, text: str, speaker: str) -> bool:
        """Whether a role word of the message ("my brother Luis", "my mom") states exactly
        this relation between the speaker and that person."""
        found = self._role(rel, plain_partners(text), speaker)
        return found is not None and found[0] is rel and found[1] is None

    def unsupported(self, relation: str, text: str) -> str | None:
        """Why the message does not state `relation` (no cue word of it), or None."""
        text = plain_partners(text)
        name, _ = canonical(normalize_relation(relation))
        own = set(_name_words(relation)) or {stem(w) for w in relation.casefold().split("_")}
        cues = CUES.get(name, frozenset()) | self._extra.get(name, frozenset())
        if name not in CUES:
            # A name outside the vocabulary made of a relation's cue words (HATES, ENJOYS,
            # JOINS) is stated by that relation's cues too ("can't stand", "love", "offer").
            for known in CUES.values():
                if own & known:
                    cues |= known
        found = stems(text)
        if found & (cues | own):
            return None
        return f"the message has no word that states {name}"

    def _role(
        self, rel: ExtractedRelation, text: str, speaker: str
    ) -> tuple[ExtractedRelation | None, str | None] | None:
        """The relation as the message's role word states it, when `rel` joins the speaker
        and a person introduced by role; None when no role word applies."""
        me = normalize_key(speaker)
        ends = (normalize_key(rel.source), normalize_key(rel.target))
        if me not in ends or ends[0] == ends[1]:
            return None
        other = rel.target if ends[0] == me else rel.source
        for role in introduced_roles(text):
            if not role.fits(other):
                continue
            relation, swap = canonical(normalize_relation(rel.relation))
            source_is_other = (ends[0] != me) != swap
            either_way = VOCABULARY[role.relation].symmetric
            if relation == role.relation and (
                either_way or source_is_other == role.named_is_source
            ):
                return rel, None
            # "My boss Tom is also my neighbour": another role word states the other label.
            others = stems(text) - {stem(role.word)}
            if relation != role.relation and others & ROLE_STEMS.get(relation, frozenset()):
                return None
            # Symmetric relations read from the speaker, as the prompt's examples do.
            named_first = role.named_is_source and not either_way
            src, dst = (other, speaker) if named_first else (speaker, other)
            fixed = rel.model_copy(
                update={
                    "source": src,
                    "relation": role.relation,
                    "target": dst,
                    "fact": f"{other} is {_possessive(speaker)} {role.word}."
                    if role.named
                    else f"{other} is the {role.word} of {speaker}.",
                    "source_type": None,
                    "target_type": None,
                    "valid_at": None,
                    "invalid_at": None,
                    "negated": False,
                }
            )
            return fixed, (
                f"relabelled {src} -{role.relation}-> {dst}: the message calls {other!r} "
                f"the speaker's {role.word}"
            )
        return None


def _english(text: str, parts: tuple[str, ...]) -> bool:
    """Whether the cue words can read this: an English message, and a relation written in
    Latin script (names and sentence)."""
    if not set(words(text)) & _ENGLISH:
        return False
    return all(
        not ch.isalpha() or unicodedata.name(ch, "").startswith("LATIN")
        for part in parts
        for ch in part
    )


def _names(introduced: str, name: str) -> bool:
    return names_entity(set(words(introduced)), normalize_key(introduced), name, ())


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"
