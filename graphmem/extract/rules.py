"""The LLM-free default extractor: English patterns over sentences, a fallback, not the product.

`RulesExtractor` reads each message sentence by sentence and recognises a fixed set of English
statement patterns (where people live and work, family and social ties, likes, studies, birth),
in the first person ("I moved to Porto in May 2024", attached to the speaker) and the third
person ("Bob works at Globex"). Every pattern it knows, with the triple it yields, is in
docs/rules-extractor.md; what it does not understand is listed there too.

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

import functools
import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from graphmem.extract.base import ExtractionContext, Extractor
from graphmem.models import (
    Episode,
    ExtractedEntity,
    ExtractedRelation,
    Extraction,
    Usage,
)
from graphmem.normalize import clean_name, to_utc
from graphmem.normalize import normalize_key as _normalize_key
from graphmem.timeparse import TimeSpan, find_time_expressions, format_when

normalize_key = functools.lru_cache(maxsize=8192)(_normalize_key)

# ---------------------------------------------------------------- vocabulary

LIVES_IN = "LIVES_IN"
FROM = "FROM"
GREW_UP_IN = "GREW_UP_IN"
BORN_IN = "BORN_IN"
BORN_ON = "BORN_ON"
HAS_AGE = "HAS_AGE"
VISITED = "VISITED"
LOCATED_IN = "LOCATED_IN"
WORKS_AT = "WORKS_AT"
WORKS_AS = "WORKS_AS"
STUDIES_AT = "STUDIES_AT"
STUDIES = "STUDIES"
GRADUATED_FROM = "GRADUATED_FROM"
SIBLING_OF = "SIBLING_OF"
PARENT_OF = "PARENT_OF"
GRANDPARENT_OF = "GRANDPARENT_OF"
COUSIN_OF = "COUSIN_OF"
RELATIVE_OF = "RELATIVE_OF"
MARRIED_TO = "MARRIED_TO"
PARTNER_OF = "PARTNER_OF"
FRIEND_OF = "FRIEND_OF"
COLLEAGUE_OF = "COLLEAGUE_OF"
ROOMMATE_OF = "ROOMMATE_OF"
NEIGHBOR_OF = "NEIGHBOR_OF"
LIVES_WITH = "LIVES_WITH"
MANAGES = "MANAGES"
MENTORS = "MENTORS"
HAS_PET = "HAS_PET"
LIKES = "LIKES"
DISLIKES = "DISLIKES"

PERSON = "Person"
ORG = "Organization"
PLACE = "Place"
TITLE = "JobTitle"
CONCEPT = "Concept"
ENTITY = "Entity"
ANIMAL = "Animal"
DATE = "Date"
AGE = "Age"

MAX_NAME_CHARS = 80
MAX_CONTENT_CHARS = 200_000  # per message; longer text is read up to here

# ---------------------------------------------------------------- word lists

_DETERMINERS = {
    "a", "an", "the", "this", "that", "these", "those", "my", "your", "his", "her", "its", "our",
    "their", "some", "any", "no", "every", "each", "all", "both", "another", "other", "such",
}
_PRONOUNS = {
    "i", "me", "you", "he", "him", "she", "it", "we", "us", "they", "them", "myself",
    "yourself", "himself", "herself", "itself", "ourselves", "themselves", "who", "whom",
    "whose", "which", "what", "where", "when", "why", "how", "there", "here", "someone",
    "somebody", "everyone", "everybody", "anyone", "anybody", "nobody", "one", "mine", "yours",
    "hers", "ours", "theirs", "everything", "something", "anything", "nothing",
}
_FUNCTION = {
    "in", "on", "at", "to", "for", "from", "with", "by", "of", "about", "as", "into", "onto",
    "near", "after", "before", "since", "until", "till", "during", "over", "under", "between",
    "through", "without", "within", "around", "across", "against", "and", "or", "but", "so",
    "because", "if", "though", "although", "while", "whereas", "than", "then", "yet", "nor",
    "am", "is", "are", "was", "were", "be", "been", "being", "have", "has", "had", "do", "does",
    "did", "will", "would", "shall", "should", "can", "could", "may", "might", "must", "not",
    "never", "yes", "also", "now", "just", "still", "currently", "really", "very", "actually",
    "recently", "finally", "already", "today", "yesterday", "tomorrow", "tonight", "last",
    "next", "ago", "anymore", "again", "too", "well", "oh", "hey", "hi", "hello", "thanks",
    "thank", "ok", "okay", "wow", "yeah", "sure", "please", "maybe", "definitely", "honestly",
    "lately", "soon", "later", "always", "usually", "sometimes", "often", "ever", "only", "even",
    "week", "month", "year", "day", "weekend", "morning", "evening", "night", "afternoon",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "'s", "no",
    "here", "like", "love", "let",
    "lol", "haha", "btw", "um", "uh", "anyway", "basically", "literally", "probably", "both",
    "either", "neither", "back", "away", "out", "up", "down", "off", "much", "more",
    "most", "many", "few", "lot", "lots", "bit", "little", "kind", "sort", "thing", "things",
    "stuff", "people", "guys", "everyone", "family", "kids", "name", "named", "called",
}
# common nouns that are never names in text without capitals ("i work at home")
_UNCASED_STOP = {
    "home", "work", "school", "office", "gym", "church", "abroad", "downtown", "job", "company",
    "startup", "city", "town", "country", "place", "house", "uni", "college", "university",
    "new", "old", "big", "small", "good", "great", "nice", "hospital", "bank", "store", "shop",
    "restaurant", "cafe", "bar", "library", "park", "beach", "mall", "team", "apartment", "flat",
}

# kinship and social words: word -> (relation, the named relative is the source?)
_KIN: dict[str, tuple[str, bool]] = {}
for _words, _rel, _holder_src in (
    ("sister brother sibling twin", SIBLING_OF, True),
    ("mother mom mum mommy mommie mama mamma father dad daddy papa parent stepmother "
     "stepfather stepmom stepdad", PARENT_OF, True),
    ("son daughter child kid stepson stepdaughter", PARENT_OF, False),
    ("grandmother grandma granny nana grandfather grandpa granddad grandparent", GRANDPARENT_OF,
     True),
    ("grandson granddaughter grandchild grandkid", GRANDPARENT_OF, False),
    ("cousin", COUSIN_OF, True),
    ("aunt uncle niece nephew relative mother-in-law father-in-law sister-in-law "
     "brother-in-law son-in-law daughter-in-law", RELATIVE_OF, True),
    ("wife husband spouse", MARRIED_TO, True),
    ("partner girlfriend boyfriend fiance fiancee fiancé fiancée", PARTNER_OF, True),
    ("friend bff buddy pal", FRIEND_OF, True),
    ("colleague coworker co-worker", COLLEAGUE_OF, True),
    ("roommate flatmate housemate", ROOMMATE_OF, True),
    ("neighbor neighbour", NEIGHBOR_OF, True),
    ("manager boss supervisor", MANAGES, True),
    ("employee subordinate report", MANAGES, False),
    ("mentor", MENTORS, True),
    ("mentee", MENTORS, False),
    ("dog cat puppy kitten pet horse parrot hamster rabbit bunny", HAS_PET, False),
):
    for _w in _words.split():
        _KIN[_w] = (_rel, _holder_src)
_KIN_PLURALS = {
    "children": "child", "grandchildren": "grandchild", "kids": "kid", "puppies": "puppy",
    "bunnies": "bunny", "buddies": "buddy", "wives": "wife", "pals": "pal",
}
_KIN_TOKENS = set(_KIN) | set(_KIN_PLURALS)
_KIN_MODS = {
    "older", "younger", "big", "little", "baby", "twin", "elder", "eldest", "oldest",
    "youngest", "best", "good", "close", "old", "dear", "childhood", "new", "late", "direct",
    "line", "own", "only", "lovely", "beloved", "former", "ex", "first", "second", "third",
    "current", "future", "step", "half", "great", "school", "college", "work", "longtime",
    "long-time", "closest", "favorite", "favourite",
}
_KIN_PREFIXES = ("ex-", "step-", "half-", "great-")
_PET_WORDS = {w for w, (r, _) in _KIN.items() if r == HAS_PET}

_TITLES = set(
    """engineer developer programmer coder nurse doctor physician surgeon dentist teacher
    professor lecturer tutor instructor lawyer attorney paralegal judge analyst manager
    designer architect accountant auditor consultant scientist researcher writer author
    editor journalist reporter photographer artist painter sculptor illustrator animator
    musician singer composer drummer guitarist pianist actor actress dancer chef cook baker
    barista bartender waiter waitress server cashier clerk receptionist secretary assistant
    intern pilot driver mechanic electrician plumber carpenter builder firefighter officer
    cop detective soldier pharmacist therapist psychologist psychiatrist counselor counsellor
    coach trainer director ceo cto cfo coo cmo vp founder co-founder cofounder owner
    entrepreneur freelancer technician veterinarian vet paramedic librarian banker broker
    agent recruiter administrator admin specialist coordinator supervisor lead head president
    chairman chairwoman chair associate representative rep economist statistician
    mathematician physicist chemist biologist nutritionist dietitian worker farmer sailor
    marine attorney strategist marketer producer translator interpreter tester sysadmin
    nanny caregiver housekeeper janitor guard postdoc officer executive principal dean
    mayor senator governor minister diplomat salesman saleswoman salesperson realtor
    optometrist midwife surveyor planner copywriter blogger influencer streamer youtuber
    podcaster model stylist hairdresser barber tailor florist gardener landscaper fisherman
    butcher miner welder machinist operator dispatcher inspector investigator economist
    professor teller underwriter actuary cartographer geologist astronomer engineer
    student undergrad undergraduate postgrad candidate fellow resident""".split()
)
_STUDENT_HEADS = {"student", "undergrad", "undergraduate", "postgrad", "candidate", "fellow"}
_EXEC_HEADS = {
    "ceo", "cto", "cfo", "coo", "cmo", "vp", "founder", "co-founder", "cofounder", "owner",
    "president", "director", "head", "chair", "chairman", "chairwoman", "principal", "dean",
    "mayor", "editor", "member", "partner", "chief", "manager",
}
_TITLE_STOP = _FUNCTION - {"new", "old", "big", "small", "good", "great", "work", "school",
                          "company", "job", "lead", "head", "kind", "little", "back", "out"}
_PHRASE_STOP = {
    "because", "when", "while", "since", "but", "so", "as", "if", "though", "although", "that",
    "which", "who", "where", "too", "very", "much", "more", "than", "lately", "recently",
    "really", "anymore", "now", "here", "there", "at", "on", "for", "about", "from", "by",
    "after", "before", "during", "except", "instead", "then", "again", "right", "already",
    "either", "also", "nowadays", "especially", "is", "are", "was", "were", "am", "has", "have",
    "had", "will", "would", "can", "could", "do", "does", "did", "not", "its", "it's", "to",
    "with", "like", "whenever", "every", "all", "honestly", "these", "yet", "just",
    "lol", "haha", "today", "yesterday", "tonight", "always", "still", "ever",
}
_PHRASE_DETERMINERS = {"the", "a", "an", "some", "all", "any", "both", "this", "that", "these",
                       "those", "lots", "of", "plenty", "many", "most", "such"}
_PHRASE_BAD_START = _PRONOUNS | {
    "way", "idea", "fact", "feeling", "thought", "moment", "part", "sound", "look", "vibe",
    "energy", "chance", "opportunity", "time", "times", "thing", "things", "stuff", "lot",
    "my", "your", "his", "her", "our", "their", "its", "this", "that", "these", "those",
    "it's", "how", "what", "doing", "being", "having", "getting", "going", "seeing", "hearing",
    "talking", "knowing", "you're", "when", "to", "a", "an", "the",
}
_ORG_SUFFIXES = {
    "inc", "corp", "corporation", "ltd", "llc", "gmbh", "plc", "co", "company", "group", "labs",
    "lab", "bank", "university", "college", "school", "institute", "technologies", "technology",
    "systems", "studios", "studio", "foundation", "hospital", "agency", "partners", "holdings",
    "ventures", "industries", "solutions", "software", "consulting", "media", "airlines",
    "academy", "clinic", "association", "society", "ag", "sa", "bv", "ab", "ltda", "limited",
}
_SCHOOL_WORDS = {"university", "college", "school", "academy", "institute", "polytechnic",
                 "conservatory", "seminary", "uni", "mit", "ucla", "nyu", "harvard", "stanford",
                 "oxford", "cambridge"}
_NAME_JOINERS = {"of", "de", "da", "do", "dos", "das", "del", "della", "di", "du", "la", "le",
                 "van", "von", "der", "den", "y", "&", "the", "al", "el", "bin", "ibn"}
_CONNECTORS = {
    "and", "but", "then", ",", "also", "so", "later", "before", "after", "since", "while",
    "until", "eventually", "finally", "recently", "now", "just", "have", "had", "has", "and,",
    "plus", "&", ";", "-", "–", "—", "soon", "yet",
}
_GERUND_CONNECTORS = {"before", "after", "since", "while", "when"}
_OPENERS = {"so", "well", "oh", "also", "just", "finally", "and", "but", "then", "recently",
            "actually", "anyway", "btw", "guess", "what", "yeah", "yes", "ok", "okay", "hey",
            "hi", "update", "news", "lol", "wow", "ugh", "sadly", "unfortunately", "luckily",
            "fortunately", "officially", "today", "yesterday", "finally,", "good"}

# aux/adverb words walked over between a subject and its verb, with what they mean
_AUX = {
    "am": "be", "is": "be", "are": "be", "'s": "be", "be": "be", "being": "be", "been": "been",
    "was": "was", "were": "was", "have": "have", "has": "have", "had": "had", "do": "do",
    "does": "do", "did": "did", "will": "future", "shall": "future", "gonna": "future",
    "would": "modal", "could": "modal", "might": "modal", "may": "modal", "should": "modal",
    "must": "modal", "can": "modal", "not": "neg", "never": "neg",
    "also": "", "now": "", "just": "", "still": "", "currently": "", "actually": "",
    "recently": "", "finally": "", "already": "", "eventually": "", "then": "", "really": "",
    "even": "", "officially": "", "only": "", "both": "", "all": "", "originally": "",
    "basically": "", "mostly": "", "mainly": "", "usually": "", "happily": "", "newly": "",
    "soon": "", "once": "", "first": "", "later": "", "again": "", "always": "", "totally": "",
    "absolutely": "", "truly": "", "genuinely": "", "honestly": "", "definitely": "",
    "certainly": "", "kinda": "", "kind": "", "of": "", "sort": "", "pretty": "",
    "physically": "", "legally": "", "technically": "", "temporarily": "", "permanently": "",
    "ultimately": "", "suddenly": "", "somehow": "", "already,": "", "fully": "", "proudly": "",
    "lately": "", "got": "", "get": "", "gets": "", "getting": "",
}
_QUESTION_START = {
    "do", "does", "did", "are", "is", "was", "were", "have", "has", "had", "can", "could",
    "would", "will", "should", "shall", "may", "might", "where", "what", "who", "whom", "when",
    "why", "how", "which", "whose", "am", "any", "anything", "wanna", "want",
}
_HYPOTHETICAL = {"if", "unless", "whether", "wish", "imagine", "suppose", "assuming",
                 "hopefully", "maybe", "perhaps"}
_ABBREVIATIONS = {
    "dr", "mr", "mrs", "ms", "st", "jr", "sr", "prof", "inc", "corp", "co", "ltd", "vs", "etc",
    "e.g", "i.e", "u.s", "u.k", "mt", "ft", "no", "gen", "col", "lt", "sgt", "capt", "rev",
}

_STOP = _DETERMINERS | _PRONOUNS | _FUNCTION | set(_KIN) | set(_KIN_PLURALS) | {
    f"{w}s" for w in _KIN
} | {"i'm", "i've", "i'd", "i'll", "it's", "that's", "mr", "mrs", "ms", "dr"}

# ---------------------------------------------------------------- text preparation

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'"})
_CONTRACTIONS = [
    (re.compile(r"\b([Ww])on't\b"), r"\1ill not"),
    (re.compile(r"\b([Cc])an't\b"), r"\1an not"),
    (re.compile(r"\b([Aa])in't\b"), r"\1re not"),
    (re.compile(r"\b([Ss])han't\b"), r"\1hall not"),
    (re.compile(r"(?<=[A-Za-z])n't\b"), " not"),
    (re.compile(r"\b([Ii])'m\b"), r"\1 am"),
    (re.compile(r"(?<=[A-Za-z])'re\b"), " are"),
    (re.compile(r"(?<=[A-Za-z])'ve\b"), " have"),
    (re.compile(r"(?<=[A-Za-z])'ll\b"), " will"),
    (re.compile(r"(?<=[A-Za-z])'d\b"), " would"),
    (re.compile(r"\b([Ii])m\b"), r"\1 am"),
    (re.compile(r"\b([Ii])ve\b"), r"\1 have"),
    (re.compile(r"\b(do|does|did|is|was|are|were|have|has|had)nt\b", re.I), r"\1 not"),
    (re.compile(r"\bdont\b", re.I), "do not"),
    (re.compile(r"\bcant\b", re.I), "can not"),
]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|(?<=[。！？；])|\s+[-–—]\s+(?=[A-Z])")
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*(?:[-.&][^\W_]+)*|'s\b|[^\w\s]")


def _prepare(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)
    text = _CONTROL.sub(" ", text)
    for pattern, repl in _CONTRACTIONS:
        text = pattern.sub(repl, text)
    return text


def split_sentences(text: str) -> list[str]:
    """Sentences of a message: split at line breaks and at ., !, ?, ; (and their CJK forms),
    not after common abbreviations ("Dr.", "St.", "Inc.") or initials ("J.")."""
    out: list[str] = []
    for line in text.splitlines():
        line = " ".join(line.split())
        if not line:
            continue
        pieces = _SENTENCE_END.split(line)
        buf = ""
        for piece in pieces:
            buf = f"{buf} {piece}" if buf else piece
            last = buf.rstrip().rsplit(" ", 1)[-1].rstrip(".").casefold()
            abbreviation = last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha())
            if buf.endswith(".") and abbreviation:
                continue
            out.append(buf.strip())
            buf = ""
        if buf.strip():
            out.append(buf.strip())
    return [s for s in out if s]


@dataclass(slots=True)
class _Tok:
    text: str
    low: str
    start: int
    end: int
    word: bool
    time: int = -1  # index of the time expression this token is part of, or -1


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    for m in _TOKEN.finditer(text):
        word = m.group()
        low = word.casefold()
        if len(word) > 2 and low.endswith("'s") and word[0] != "'":
            cut = m.end() - 2
            toks.append(_Tok(word[:-2], low[:-2], m.start(), cut, True))
            toks.append(_Tok("'s", "'s", cut, m.end(), False))
            continue
        toks.append(_Tok(word, low, m.start(), m.end(), word[0].isalnum()))
    return toks


def _gerund(verb: str) -> str:
    v = verb.casefold()
    if v.endswith("ing") or not v.isalpha():
        return verb
    if v.endswith("ie"):
        return verb[:-2] + "ying"
    if v.endswith("e") and not v.endswith(("ee", "ye", "oe")) and len(v) > 2:
        return verb[:-1] + "ing"
    vowels = "aeiou"
    if (len(v) <= 4 and len(v) >= 3 and v[-1] not in vowels + "wxy" and v[-2] in vowels
            and v[-3] not in vowels):
        return verb + verb[-1] + "ing"
    return verb + "ing"


def _article(phrase: str) -> str:
    return "an" if phrase[:1].casefold() in "aeiou" else "a"


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("'s") else f"{name}'s"


_IRREGULAR_PAST = set(
    """left grew came got took began went became flew quit broke split born was were had lost
    found met made bought sold won ran saw did said told heard felt kept drove rode wrote read
    taught thought brought caught fought sought spent sent built lent bent meant slept swept
    knew threw drew gave forgot forgave hid led fled fell held sat stood understood wore tore
    swore chose froze spoke stole woke""".split()
)


def _verb_form(word: str) -> str:
    """base | 3sg | past | ing of an English verb word (rough, for subject agreement)."""
    w = word.casefold()
    if w.endswith("ing"):
        return "ing"
    if w in _IRREGULAR_PAST:
        return "past"
    if w.endswith("ed"):
        return "past"
    if w in {"is", "has", "does"} or (w.endswith("s") and not w.endswith("ss")):
        return "3sg"
    return "base"


# ---------------------------------------------------------------- rules

@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    relation: str
    obj: str  # place | org | person | phrase | title | title_be | study | born | age | ...
    aspect: str = "state"  # state | start | end | fact (true once, never "ended")
    fact: str = ""  # "{s} lives in {t}"
    past: str = ""  # the ended form: "{s} lived in {t}"
    since: str = ""  # with "since"/"for N years": "{s} has lived in {t}"
    target_type: str = ENTITY
    reverse: bool = False  # the object is the source (MANAGES from "reports to")
    we_ok: bool = False  # "we" counts as the speaker
    needs_aux_be: bool = False  # "-ing" forms need am/is/was (or a gerund connector)
    keys: frozenset[str] = frozenset()  # one of these words must be in the sentence ({} = any)


def _r(pattern: str, relation: str, obj: str, keys: str = "", **kw: object) -> _Rule:
    kw["keys"] = frozenset(keys.split())
    return _Rule(re.compile(r"(?<![-'])\b(?:" + pattern + r")\b(?![-'])", re.I), relation, obj,
                 **kw)  # type: ignore[arg-type]


_BE = r"(?:am|is|are|was|were|'s|be|been)"
_JOBWORD = (r"(?:a|an|the|my|his|her|their|our)\s+(?:new\s+|first\s+|dream\s+)?(?:full[- ]time\s+"
            r"|part[- ]time\s+|summer\s+|remote\s+)?(?:job|position|role|gig|internship|post)")

_RULES: list[_Rule] = [
    # where people live
    _r(r"(?:live|lives|lived|living|reside|resides|resided|residing)\s+in", LIVES_IN, "place",
       fact="{s} lives in {t}", past="{s} lived in {t}", since="{s} has lived in {t}",
       target_type=PLACE, we_ok=True,
       keys="live lives lived living reside resides resided residing"),
    _r(_BE + r"\s+(?:now\s+|currently\s+)?based\s+(?:in|out\s+of)", LIVES_IN, "place",
       fact="{s} is based in {t}", past="{s} was based in {t}", target_type=PLACE, we_ok=True,
       keys="based"),
    _r(r"(?:moved|move|moves|moving|relocated|relocate|relocates|relocating)\s+(?:back\s+|over"
       r"\s+|here\s+|all\s+the\s+way\s+)?to", LIVES_IN, "place", aspect="start",
       fact="{s} moved to {t}", target_type=PLACE, we_ok=True, needs_aux_be=True,
       keys="moved move moves moving relocated relocate relocates relocating"),
    _r(r"settled\s+(?:down\s+)?in", LIVES_IN, "place", aspect="start",
       fact="{s} settled in {t}", target_type=PLACE, we_ok=True,
       keys="settled"),
    _r(r"(?:moved|move|moves|moving)\s+(?:out\s+of|away\s+from)", LIVES_IN, "place",
       aspect="end", fact="{s} moved out of {t}", target_type=PLACE, we_ok=True,
       keys="moved move moves moving"),
    _r(r"(?:moved|relocated|moving|relocating)\s+(?:here\s+|over\s+)?from", LIVES_IN,
       "from_to", aspect="end", fact="{s} moved away from {t}", target_type=PLACE, we_ok=True,
       needs_aux_be=True,
       keys="moved relocated moving relocating"),
    _r(_BE + r"\s+(?:originally\s+|actually\s+|also\s+)?from|(?:come|comes|came)\s+"
       r"(?:originally\s+)?from|hails?\s+from", FROM, "place", aspect="fact",
       fact="{s} is from {t}",
       target_type=PLACE, we_ok=True,
       keys="from"),
    _r(r"grew\s+up\s+in|(?:was|were)\s+raised\s+in", GREW_UP_IN, "place", aspect="fact",
       fact="{s} grew up in {t}", target_type=PLACE, we_ok=True,
       keys="grew raised"),
    _r(_BE + r"\s+born(?:\s+and\s+raised)?", BORN_IN, "born", fact="{s} was born in {t}",
       target_type=PLACE,
       keys="born"),
    _r(r"visited|(?:travel(?:l)?ed|went|flew|drove|headed)\s+(?:back\s+)?to|took\s+a\s+trip\s+"
       r"to|went\s+on\s+a\s+trip\s+to", VISITED, "place", aspect="start",
       fact="{s} visited {t}", target_type=PLACE, we_ok=True,
       keys="visited traveled travelled went flew drove headed took"),
    # work
    _r(r"(?:work|works|worked|working)\s+(?:full[- ]time\s+|part[- ]time\s+|remotely\s+)?"
       r"(?:at|for)", WORKS_AT, "org", fact="{s} works at {t}", past="{s} worked at {t}",
       since="{s} has worked at {t}", target_type=ORG, needs_aux_be=True,
       keys="work works worked working"),
    _r(_BE + r"\s+hired\s+(?:at|by)|(?:got|get|gets)\s+hired\s+(?:at|by)",
       WORKS_AT, "org", aspect="start", fact="{s} was hired by {t}", target_type=ORG,
       keys="hired"),
    _r(_BE + r"\s+(?:employed|working)\s+(?:at|by|with)", WORKS_AT, "org",
       fact="{s} works at {t}", past="{s} worked at {t}", target_type=ORG, keys="employed"),
    _r(r"joined|join|joins", WORKS_AT, "join", aspect="start", fact="{s} joined {t}",
       target_type=ORG,
       keys="joined join joins"),
    _r(r"(?:started|start|starts|began|begin|begins)\s+(?:working\s+|a\s+new\s+job\s+|work\s+)?"
       r"(?:at|for|with)", WORKS_AT, "org", aspect="start", fact="{s} started working at {t}",
       target_type=ORG,
       keys="started start starts began begin begins"),
    _r(r"(?:got|get|gets|took|take|takes|landed|accepted|started|start|starts|began|have|has|"
       r"found|was\s+offered)\s+" + _JOBWORD + r"\s+(?:at|with)", WORKS_AT, "org",
       aspect="start", fact="{s} got a job at {t}", target_type=ORG,
       keys="job position role gig internship post"),
    _r(r"(?:left|quit|quits|leave|leaves|lost)\s+" + _JOBWORD + r"\s+(?:at|with|in)|(?:resigned|"
       r"retired)\s+from|(?:was|were|got|been|be)\s+(?:laid\s+off|fired|let\s+go)\s+(?:from|by|"
       r"at)|(?:stopped|stop|stops)\s+working\s+(?:at|for)", WORKS_AT, "org", aspect="end",
       fact="{s} left {t}", target_type=ORG,
       keys="job position role gig internship post resigned retired laid fired let stopped stop "
            "stops"),
    _r(r"left|quit|quits", WORKS_AT, "left", aspect="end", fact="{s} left {t}",
       target_type=ORG,
       keys="left quit quits"),
    _r(r"(?:work|works|worked|working)\s+as", WORKS_AS, "title", fact="{s} works as {t}",
       past="{s} worked as {t}", target_type=TITLE, needs_aux_be=True,
       keys="work works worked working"),
    _r(r"(?:left|quit|quits|lost|leave|leaves)\s+" + _JOBWORD + r"\s+as", WORKS_AS, "title",
       aspect="end", fact="{s} left {t}", target_type=TITLE,
       keys="job position role gig internship post"),
    _r(r"(?:hired|employed)\s+as|(?:promoted|promotion)\s+to|(?:got|get|gets|took|landed|"
       r"accepted|started|start|starts|began|have|has|found)\s+" + _JOBWORD + r"\s+as",
       WORKS_AS, "title", aspect="start", fact="{s} started working as {t}", target_type=TITLE,
       keys="hired employed promoted promotion job position role gig internship post"),
    _r(_BE + r"(?:\s+(?:now|currently|also|still|actually|just))?(?=\s+(?:a|an|the)\s)",
       WORKS_AS, "title_be", fact="{s} works as {t}", past="{s} worked as {t}",
       target_type=TITLE,
       keys=""),
    _r(r"(?:became|become|becomes)(?=\s+(?:a|an|the)\s)", WORKS_AS, "title_be", aspect="start",
       fact="{s} became {t}", target_type=TITLE,
       keys="became become becomes"),
    # study
    _r(r"(?:study|studies|studied|studying)", STUDIES, "study", fact="{s} studies {t}",
       past="{s} studied {t}", target_type=CONCEPT, needs_aux_be=True,
       keys="study studies studied studying"),
    _r(r"enrolled\s+(?:at|in)", STUDIES_AT, "school", aspect="start",
       fact="{s} enrolled at {t}", target_type=ORG, keys="enrolled"),
    _r(r"(?:attend|attends|attended|attending)", STUDIES_AT,
       "school", fact="{s} attends {t}", past="{s} attended {t}", target_type=ORG,
       needs_aux_be=True,
       keys="attend attends attended attending"),
    _r(r"graduated\s+from|(?:got|earned|received)\s+(?:my|his|her|a|an)\s+(?:degree|diploma|"
       r"phd|masters|master's|bachelor's|bachelors|mba)\s+from", GRADUATED_FROM, "org",
       aspect="start", fact="{s} graduated from {t}", target_type=ORG,
       keys="graduated degree diploma phd masters master bachelor bachelors mba"),
    _r(r"dropped\s+out\s+of|(?:stopped|stop)\s+studying\s+at", STUDIES_AT, "org", aspect="end",
       fact="{s} dropped out of {t}", target_type=ORG,
       keys="dropped stopped stop"),
    # people
    _r(r"(?:married|marry|marries|marrying)(?:\s+to)?", MARRIED_TO, "person",
       fact="{s} is married to {t}", target_type=PERSON,
       keys="married marry marries marrying"),
    _r(r"engaged\s+to", PARTNER_OF, "person", fact="{s} is engaged to {t}", target_type=PERSON,
       keys="engaged"),
    _r(r"dating|dates|dated|(?:going|went)\s+out\s+with", PARTNER_OF, "person",
       fact="{s} is dating {t}", past="{s} dated {t}", target_type=PERSON,
       keys="dating dates dated out"),
    _r(r"(?:divorced|divorcing|divorces)(?:\s+from)?", MARRIED_TO, "person", aspect="end",
       fact="{s} divorced {t}", target_type=PERSON,
       keys="divorced divorcing divorces"),
    _r(r"(?:broke|break|breaks|split)\s+up\s+with|separated\s+from", PARTNER_OF, "person",
       aspect="end", fact="{s} broke up with {t}", target_type=PERSON,
       keys="broke break breaks split separated"),
    _r(r"(?:report|reports|reported|reporting)\s+(?:directly\s+)?to", MANAGES, "person",
       fact="{t} manages {s}", past="{t} managed {s}", target_type=PERSON, reverse=True,
       needs_aux_be=True,
       keys="report reports reported reporting"),
    _r(r"(?:manage|manages|managed|managing|supervise|supervises|supervised|supervising)"
       r"(?!\s+to\b)", MANAGES, "person", fact="{s} manages {t}", past="{s} managed {t}",
       target_type=PERSON, needs_aux_be=True,
       keys="manage manages managed managing supervise supervises supervised supervising"),
    _r(r"(?:mentor|mentors|mentored|mentoring)", MENTORS, "person", fact="{s} mentors {t}",
       past="{s} mentored {t}", target_type=PERSON, needs_aux_be=True,
       keys="mentor mentors mentored mentoring"),
    _r(r"(?:friends|became\s+friends|made\s+friends)\s+with", FRIEND_OF, "person",
       fact="{s} is friends with {t}", target_type=PERSON,
       keys="friends"),
    _r(r"(?:work|works|worked|working)\s+(?:closely\s+)?(?:with|alongside)", COLLEAGUE_OF,
       "colleague", fact="{s} works with {t}", past="{s} worked with {t}", target_type=PERSON,
       needs_aux_be=True,
       keys="work works worked working"),
    _r(r"(?:live|lives|lived|living)\s+with", LIVES_WITH, "person", fact="{s} lives with {t}",
       past="{s} lived with {t}", target_type=PERSON, needs_aux_be=True,
       keys="live lives lived living"),
    # likes
    _r(r"like|likes|liked|love|loves|loved|enjoy|enjoys|enjoyed|adore|adores|adored|"
       r"prefer|prefers", LIKES, "phrase", fact="{s} {v} {t}", target_type=CONCEPT,
       keys="like likes liked love loves loved enjoy enjoys enjoyed adore adores adored prefer "
            "prefers"),
    _r(_BE + r"\s+(?:really\s+|very\s+|so\s+)?(?:into|passionate\s+about|obsessed\s+with|"
       r"(?:a\s+)?(?:big|huge|great|massive)?\s*fans?\s+of|crazy\s+about|keen\s+on)", LIKES,
       "phrase", fact="{s} likes {t}", target_type=CONCEPT,
       keys="into passionate obsessed fan fans crazy keen"),
    _r(r"hate|hates|hated|dislike|dislikes|disliked|detest|detests|can\s+not\s+stand|"
       r"cannot\s+stand", DISLIKES, "phrase", fact="{s} {v} {t}", target_type=CONCEPT,
       keys="hate hates hated dislike dislikes disliked detest detests stand"),
    # age
    _r(_BE + r"\s+(?P<age>\d{1,3})(?:\s*-?\s*years?[\s-]+old|\s+yo|\s+y/o)", HAS_AGE, "age",
       fact="{s} is {t} years old", target_type=AGE,
       keys="old yo y"),
    _r(r"(?:turned|turns)\s+(?P<age>\d{1,3})\b(?!\s*(?:%|:|\.\d))", HAS_AGE, "age",
       aspect="start", fact="{s} turned {t}", target_type=AGE,
       keys="turned turns"),
]

_RULES_BY_KEY: dict[str, list[int]] = {}
_ALWAYS_RULES: list[int] = []
for _i, _rule in enumerate(_RULES):
    if not _rule.keys:
        _ALWAYS_RULES.append(_i)
    for _k in _rule.keys:
        _RULES_BY_KEY.setdefault(_k, []).append(_i)

_PAIR = re.compile(
    r"\b(?:are|were|have\s+been|became|become|got)\s+(?:(?:good|best|close|old|great|"
    r"childhood|really|very|just)\s+)?(?P<w>friends|colleagues|coworkers|co-workers|siblings|"
    r"cousins|neighbou?rs|roommates|flatmates|housemates|married|engaged|partners|dating|"
    r"divorced)\b|(?<=\s)(?P<v>married|divorced)\b",
    re.I,
)
_PAIR_REL = {
    "friends": (FRIEND_OF, "{a} and {b} are friends", False),
    "colleagues": (COLLEAGUE_OF, "{a} and {b} are colleagues", False),
    "coworkers": (COLLEAGUE_OF, "{a} and {b} are coworkers", False),
    "co-workers": (COLLEAGUE_OF, "{a} and {b} are coworkers", False),
    "siblings": (SIBLING_OF, "{a} and {b} are siblings", False),
    "cousins": (COUSIN_OF, "{a} and {b} are cousins", False),
    "neighbors": (NEIGHBOR_OF, "{a} and {b} are neighbors", False),
    "neighbours": (NEIGHBOR_OF, "{a} and {b} are neighbours", False),
    "roommates": (ROOMMATE_OF, "{a} and {b} are roommates", False),
    "flatmates": (ROOMMATE_OF, "{a} and {b} are flatmates", False),
    "housemates": (ROOMMATE_OF, "{a} and {b} are housemates", False),
    "married": (MARRIED_TO, "{a} and {b} are married", False),
    "engaged": (PARTNER_OF, "{a} and {b} are engaged", False),
    "partners": (PARTNER_OF, "{a} and {b} are partners", False),
    "dating": (PARTNER_OF, "{a} and {b} are dating", False),
    "divorced": (MARRIED_TO, "{a} and {b} divorced", True),
}
_CLAUSE_BREAKS = {"and", "but", "so", "because", "while", "whereas", "although", "though", "-",
                  "–", "—", ";", "which", "who", "where", "when", "whose", "cause", "'cause"}
_POSSESSIVES = {"my", "your", "his", "her", "our", "their", "its"}
_VAGUE_FAVORITES = {"part", "thing", "things", "moment", "moments", "memory", "memories", "time",
                    "times", "one", "ones", "way", "bit", "kind", "type", "sort"}
_NOT_SUBJECTS = {"hard", "abroad", "late", "together", "all", "lot", "much", "online", "really",
                 "remotely", "full-time", "part-time", "every", "each", "day", "night", "more",
                 "well", "long", "there", "here", "up", "on", "for"}  # "I studied hard"
# A word before "X and I" that makes X its object, not a subject ("a fan of X and I ...").
_OBJECT_MARKERS = {"of", "with", "to", "at", "for", "from", "by", "about", "than", "like", "in",
                   "on", "into", "love", "loves", "likes", "hate", "hates", "met", "saw"}
_NO_AGREEMENT = {"title_be", "born", "age"}  # their patterns include the verb "be"
_BE_WORDS = {"am", "is", "are", "was", "were", "'s", "be", "been"}
_GRAN_RANK = {"day": 0, "week": 1, "month": 2, "year": 3}


def _third_person(verb: str) -> str:
    """ "love" -> "loves", "enjoyed" -> "enjoyed" (for fact sentences)."""
    v = verb.casefold()
    if v.endswith(("ed", "s")):
        return v
    if v.endswith("y") and v[-2:-1] not in "aeiou":
        return v[:-1] + "ies"
    if v.endswith(("sh", "ch", "x", "o")):
        return v + "es"
    return v + "s"


# ---------------------------------------------------------------- output collection

@dataclass
class _Subject:
    name: str
    first_person: bool = False
    type: str = PERSON


@dataclass(slots=True)
class _Clause:
    """One recognised verb phrase with its subjects, ready for its object reader."""

    rule: _Rule
    m: re.Match[str]
    ts: int  # first token of the verb phrase
    te: int  # first token after it (where the object starts)
    nxt: int  # first token of the next verb phrase (the clause ends there)
    subjects: list[_Subject]
    neg: bool  # "not", "never", "no longer"
    ended: bool  # a past state: "I lived in", "I used to work at", "I was a nurse"
    flags: set[str]
    lo: int  # first token of the clause (after the previous clause's object)
    fronted: TimeSpan | None  # a time said before the sentence's first verb


@dataclass
class _Memory:
    """What one extract call has learnt so far: kin names per anchor, known entity names."""

    kin: dict[tuple[str, str], str] = field(default_factory=dict)
    known: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (name, type)
    types: dict[str, str] = field(default_factory=dict)  # key -> type seen in this extraction


class _Collector:
    def __init__(self) -> None:
        self.entities: dict[str, ExtractedEntity] = {}
        self.relations: list[ExtractedRelation] = []
        self._seen: set[tuple[str, str, str, str, bool]] = set()

    def entity(self, name: str, type_: str) -> None:
        key = normalize_key(name)
        got = self.entities.get(key)
        if got is None:
            self.entities[key] = ExtractedEntity(name=name, type=type_)
        elif got.type in (ENTITY, CONCEPT) and type_ not in (ENTITY, CONCEPT):
            got.type = type_

    def seen(self, episode_id: str, source: str, relation: str, target: str,
             negated: bool) -> bool:
        """Whether this relation was already collected (or is a self-loop); marks it seen."""
        key = (episode_id, normalize_key(source), relation, normalize_key(target), negated)
        if key in self._seen or key[1] == key[3]:
            return True
        self._seen.add(key)
        return False

    def add(self, rel: ExtractedRelation) -> None:
        self.entity(rel.source, rel.source_type or ENTITY)
        self.entity(rel.target, rel.target_type or ENTITY)
        self.relations.append(rel)

    def result(self) -> Extraction:
        return Extraction(entities=list(self.entities.values()), relations=self.relations)


# ---------------------------------------------------------------- one sentence

class _Sentence:
    """Reads one sentence; appends to the collector."""

    def __init__(self, text: str, speaker: str, ref: datetime, episode_id: str,
                 memory: _Memory, out: _Collector) -> None:
        self.text = text
        self.speaker = speaker
        self.ref = ref
        self.episode_id = episode_id
        self.memory = memory
        self.out = out
        self.toks = _tokenize(text)
        self.n = len(self.toks)
        self.starts = [t.start for t in self.toks]
        words = [t for t in self.toks if t.word and t.text[0].isalpha()]
        has_lower = any(ch.islower() for ch in text)
        has_upper = any(ch.isupper() for ch in text)
        later_caps = any(t.text[0].isupper() and t.low != "i" for t in words[1:])
        # "cased": names are capitalised; "lower": no case information at all (all lower or all
        # upper), any non-function word may be a name; in between ("sentence" case: only the
        # first word and "I" capitalised) subjects must be capitalised but the object of a
        # strong verb ("live in", "work at") may be a lowercase word ("I live in lisbon").
        self.lower = not has_lower or not has_upper
        self.cased = has_lower and later_caps
        self.times: list[TimeSpan] = find_time_expressions(text, ref)
        self.time_tok: list[int] = []  # first token of each time expression (non-decreasing)
        if self.times:
            j = 0
            for k, span in enumerate(self.times):
                lo, hi = span.span
                while j < self.n and self.toks[j].end <= lo:
                    j += 1
                self.time_tok.append(j)
                i = j
                while i < self.n and self.toks[i].start < hi:
                    self.toks[i].time = k
                    i += 1

    # ---- names

    def namey(self, i: int, strict: bool = True) -> bool:
        """Whether token i can be part of a name. strict: it must be capitalised (unless the
        text has no case at all)."""
        if i < 0 or i >= self.n:
            return False
        t = self.toks[i]
        if not t.word or t.time >= 0 or t.low in _STOP or not t.text[0].isalpha():
            return False
        if self.lower:
            return t.low not in _UNCASED_STOP
        if t.text[0].islower():
            return not strict and not self.cased and t.low not in _UNCASED_STOP
        if i == 0 or (i == 1 and not self.toks[0].word):
            # a capitalised sentence opener: "Having ...", "Honestly ...", "Moved ..."
            return not t.low.endswith(("ing", "ly", "ed")) or t.text.isupper()
        return True

    def _name_text(self, a: int, b: int) -> str:
        raw = self.text[self.toks[a].start:self.toks[b].end]
        if self.lower:
            raw = " ".join(w[:1].upper() + w[1:].lower() if w.isalpha() else w for w in raw.split())
        elif raw[:1].islower():
            raw = " ".join(w[:1].upper() + w[1:] if w[:1].islower() else w for w in raw.split())
        name = clean_name(raw)
        known = self.memory.known.get(normalize_key(name))
        return known[0] if known else name

    def name_at(self, i: int, max_tokens: int | None = None,
                strict: bool = True) -> tuple[str, int] | None:
        """The name starting at token i: (name, index after it). strict=False lets the object
        of a strong verb be a lowercase word in sentence-case text ("I live in lisbon")."""
        n = self.n
        if i < n and self.toks[i].low == "the" and not self.lower and self.namey(i + 1):
            i += 1
        if not self.namey(i, strict):
            return None
        lowercase = self.toks[i].text[0].islower() and not self.lower
        limit = max_tokens or (3 if self.lower or lowercase else 6)
        j, last, count = i, i, 0
        while j < n and count < limit:
            if self.namey(j, strict) and (not lowercase or self.toks[j].text[0].islower()):
                last, count, j = j, count + 1, j + 1
                continue
            k = j
            while k < n and k - j < 2 and self.toks[k].low in _NAME_JOINERS and not self.lower:
                k += 1
            if k > j and self.namey(k, strict) and not lowercase:
                j = k
                continue
            break
        name = self._name_text(i, last)
        if not name or len(name) > MAX_NAME_CHARS:
            return None
        return name, last + 1

    def name_before(self, e: int) -> tuple[str, int] | None:
        """The name ending at token e (inclusive): (name, its first index)."""
        if not self.namey(e):
            return None
        limit = 1 if self.lower else 4
        s, count, j = e, 1, e - 1
        while j >= 0 and count < limit:
            if self.namey(j):
                s, count, j = j, count + 1, j - 1
                continue
            k = j
            while k >= 0 and e - k < 8 and self.toks[k].low in _NAME_JOINERS and not self.lower:
                k -= 1
            if k < j and self.namey(k) and self.toks[k + 1].low != "the":
                j = k
                continue
            break
        name = self._name_text(s, e)
        if not name or len(name) > MAX_NAME_CHARS:
            return None
        return name, s

    def names_at(self, i: int) -> tuple[list[str], int]:
        """A list of names: "Ana", "Ana and Eva", "Ana, Eva and Rui"."""
        names: list[str] = []
        got = self.name_at(i)
        while got is not None and len(names) < 6:
            names.append(got[0])
            j = got[1]
            if j < self.n and self.toks[j].low == ",":
                j += 1
            if j < self.n and self.toks[j].low == "and":
                j += 1
            nxt = self.name_at(j) if j > got[1] else None
            if nxt is None:
                return names, got[1]
            got = nxt
        return names, i

    # ---- kin

    def _kin_word(self, k: int) -> tuple[str, str, bool, bool] | None:
        """(relation, singular word, holder is source, ex) for a kinship token."""
        low = self.toks[k].low
        ex = False
        for prefix in _KIN_PREFIXES:
            if low.startswith(prefix) and low[len(prefix):] in _KIN:
                ex = prefix == "ex-"
                low = low[len(prefix):] if prefix == "ex-" else low
                break
        if low.startswith(("step-", "half-", "great-")):
            base = low.split("-", 1)[1]
            if base in _KIN:
                rel, holder_src = _KIN[base]
                return rel, low, holder_src, ex
        word = _KIN_PLURALS.get(low) or low
        if word not in _KIN and word.endswith("s") and word[:-1] in _KIN:
            word = word[:-1]
        if word not in _KIN:
            return None
        if word == "report" and not (k > 0 and self.toks[k - 1].low == "direct"):
            return None
        rel, holder_src = _KIN[word]
        return rel, word, holder_src, ex

    def _anchor_before(self, d: int) -> tuple[_Subject, int] | None:
        """The anchor of "my X" / "Bob's X" whose determiner is token d."""
        if d < 0:
            return None
        low = self.toks[d].low
        if low == "my":
            return _Subject(self.speaker, True), d
        if low == "'s":
            got = self.name_before(d - 1)
            if got is not None:
                return _Subject(got[0]), got[1]
        return None

    def kin_subject(self, k: int) -> tuple[_Subject | None, int] | None:
        """For a kinship word used as a subject ("my sister lives..."): the remembered name.
        Returns None when token k is not such a phrase; (None, start) when it is but unknown."""
        info = self._kin_word(k)
        if info is None:
            return None
        d = k - 1
        while d >= 0 and k - d <= 3 and self.toks[d].low in _KIN_MODS:
            d -= 1
        anchor = self._anchor_before(d)
        if anchor is None:
            return None
        name = self.memory.kin.get((normalize_key(anchor[0].name), info[1]))
        kind = ANIMAL if info[1] in _PET_WORDS else PERSON
        return (_Subject(name, type=kind) if name else None), anchor[1]

    def scan_kin(self) -> None:
        toks, n = self.toks, self.n
        for k in range(n):
            low = toks[k].low
            if not toks[k].word or toks[k].time >= 0 or not (
                low in _KIN_TOKENS or (low[-1:] == "s" and low[:-1] in _KIN) or "-" in low
            ):
                continue
            info = self._kin_word(k)
            if info is None:
                continue
            rel, word, holder_src, ex = info
            mods: list[str] = []
            d = k - 1
            while d >= 0 and k - d <= 3 and toks[d].low in _KIN_MODS:
                mods.insert(0, toks[d].text)
                d -= 1
            ex = ex or any(m.casefold() in ("ex", "former") for m in mods)
            det = toks[d].low if d >= 0 else ""
            anchor: _Subject | None = None
            holders: list[_Subject] = []
            anchor_start = d
            after = k + 1
            if det in ("my", "'s"):
                got = self._anchor_before(d)
                if got is None:
                    continue
                anchor, anchor_start = got
            elif det == "the" and after < n and toks[after].low == "of":
                if after + 1 < n and toks[after + 1].low == "me":
                    anchor, after = _Subject(self.speaker, True), after + 2
                else:
                    got2 = self.name_at(after + 1)
                    if got2 is None:
                        continue
                    anchor, after = _Subject(got2[0]), got2[1]
            elif det in ("a", "an") and d >= 1 and toks[d - 1].low in ("have", "has", "had"):
                subj = self._simple_subject(d - 2)
                if subj is None:
                    continue
                anchor = subj
                if after < n and toks[after].low in ("named", "called", ","):
                    names, _ = self.names_at(after + 1)
                    holders = [_Subject(x) for x in names]
                elif not self.lower:
                    names, _ = self.names_at(after)
                    holders = [_Subject(x) for x in names]
                if not holders:
                    continue
            else:
                continue
            if not holders:
                holders = self._holders_after(after)
            if not holders and det != "the":
                holders = self._holders_before(anchor_start - 1)
            elif not holders:
                holders = self._holders_before(d - 1)
            if not holders or anchor is None:
                continue
            kind = ANIMAL if word in _PET_WORDS else PERSON
            label = " ".join([*(m for m in mods if m.casefold() not in ("ex", "former")), word])
            if ex:
                label = "ex-" + label
            for holder in holders:
                if normalize_key(holder.name) == normalize_key(anchor.name):
                    continue
                if len(holders) == 1:
                    self.memory.kin[(normalize_key(anchor.name), word)] = holder.name
                fact = f"{holder.name} is {_possessive(anchor.name)} {label}."
                src, dst = (holder, anchor) if holder_src else (anchor, holder)
                src_type = kind if src is holder else PERSON
                dst_type = kind if dst is holder else PERSON
                self.emit(src.name, rel, dst.name, fact, src_type, dst_type,
                          negated=ex, invalid_at=self.ref if ex else None)

    def _holders_after(self, a: int) -> list[_Subject]:
        toks, n = self.toks, self.n
        if a >= n:
            return []
        low = toks[a].low
        if low == "'s" and a + 3 < n and toks[a + 1].low == "name" and toks[a + 2].low in (
            "is", "was"
        ):
            return self._names_final(a + 3)
        if low in ("is", "was", "are", "were", "named", "called"):
            return self._names_final(a + 1)
        if low == "," and not self.lower:
            names, j = self.names_at(a + 1)
            if j < self.n and self.toks[j].low in ("and", "&"):
                return []  # "my girlfriend, Toby and I": a list, not an appositive
            return [_Subject(x) for x in names]
        if not self.lower and self.namey(a):
            names, j = self.names_at(a)
            return [_Subject(x) for x in names]
        return []

    def _names_final(self, a: int) -> list[_Subject]:
        names, j = self.names_at(a)
        if not names:
            return []
        if self.lower and j < self.n and self.toks[j].word and self.toks[j].time < 0:
            return []  # "my sister is tired today": in lowercase text only a final word
        return [_Subject(x) for x in names]

    def _holders_before(self, b: int) -> list[_Subject]:
        """Who is the relative in "Ana is my sister", "I am Bob's sister", "Ana, my sister"."""
        toks = self.toks
        if b < 0:
            return []
        low = toks[b].low
        if low in ("is", "was", "are", "were", "am", "'s"):
            return self._subjects_ending(b - 1)
        if low == "," and not self.lower:
            got = self.name_before(b - 1)
            if got is not None:
                return [_Subject(got[0])]
        return []

    def _simple_subject(self, e: int) -> _Subject | None:
        if e < 0:
            return None
        if self.toks[e].low == "i":
            return _Subject(self.speaker, True)
        got = self.name_before(e)
        return _Subject(got[0]) if got else None

    def _subjects_ending(self, e: int, we_ok: bool = False) -> list[_Subject]:
        """Subjects ending at token e: I, a name, a known kin phrase, joined by "and"."""
        out: list[_Subject] = []
        while e >= 0 and len(out) < 4:
            t = self.toks[e]
            start = e
            if t.low == "i" or (we_ok and t.low == "we"):
                out.append(_Subject(self.speaker, True))
            elif (kin := self.kin_subject(e)) is not None:
                subj, start = kin
                if subj is None:
                    break  # "my wife and I": unnamed, so only "I"
                out.append(subj)
            else:
                got = self.name_before(e)
                if got is None:
                    break
                out.append(_Subject(got[0]))  # also "my sister Ana" (the appositive)
                start = got[1]
            if start >= 1 and self.toks[start - 1].low in ("and", "&"):  # "Ana and I"
                e = start - 2
                if e >= 0 and self.toks[e].low == ",":  # "Ana, Bob, and I"
                    e -= 1
                continue
            if start >= 2 and self.toks[start - 1].low == "," and len(out) >= 2:
                e = start - 2  # "Ana, Bob and I"
                continue
            if len(out) >= 2 and start >= 1 and self.toks[start - 1].low in _OBJECT_MARKERS:
                return out[:1]  # "a fan of Radiohead and I hate traffic": Radiohead is an object
            break
        return out

    # ---- verbs

    def triggers(self) -> list[tuple[int, int, _Rule, re.Match[str]]]:
        """Verb phrases of the sentence, in order, without overlaps (longest first)."""
        found: list[tuple[int, int, _Rule, re.Match[str]]] = []
        # cheap pre-filter: only the rules whose verb occurs in the sentence
        wanted = set(_ALWAYS_RULES)
        for t in self.toks:
            got = _RULES_BY_KEY.get(t.low)
            if got:
                wanted.update(got)
        for index in sorted(wanted):
            rule = _RULES[index]
            for m in rule.pattern.finditer(self.text):
                found.append((m.start(), m.end(), rule, m))
        found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
        chosen: list[tuple[int, int, _Rule, re.Match[str]]] = []
        for f in found:
            if chosen and f[0] < chosen[-1][1]:
                continue
            chosen.append(f)
        return chosen

    def _tok_index(self, pos: int) -> int:
        """Index of the first token starting at or after character `pos`."""
        return bisect_left(self.starts, pos)

    def run(self) -> None:
        if not self.toks:
            return
        self.scan_kin()
        self.scan_pairs()
        self.scan_favorite()
        trig = self.triggers()
        if not trig:
            return
        spans = [(self._tok_index(s), self._tok_index(e)) for s, e, _, _ in trig]
        prev_end = 0
        prev_subjects: list[_Subject] = []
        # a time before the first verb dates the whole sentence's events
        fronted = self._best_time(0, spans[0][0], spans[0][0])
        for idx, (_s, _e, rule, m) in enumerate(trig):
            ts, te = spans[idx]
            nxt = spans[idx + 1][0] if idx + 1 < len(spans) else self.n
            if te <= ts or ts >= self.n:
                continue
            clause = self._clause(rule, m, ts, te, nxt, prev_end, prev_subjects, fronted)
            if clause is None:
                continue
            end = getattr(self, "_obj_" + rule.obj)(clause)
            if end is not None:
                # a time right after the object belongs to this clause, not to the next one
                while end < nxt and (self.toks[end].time >= 0 or self.toks[end].low == ","):
                    end += 1
                prev_end, prev_subjects = end, clause.subjects

    def _walk_aux(self, ts: int) -> tuple[int, set[str]]:
        """Walk left from the verb over auxiliaries and adverbs; (subject end index, flags)."""
        flags: set[str] = set()
        j = ts - 1
        while j >= 0 and ts - j <= 8:
            low = self.toks[j].low
            if low == "longer" and j >= 1 and self.toks[j - 1].low == "no":
                flags.add("neg")
                j -= 2
                continue
            if low == "to" and j >= 1 and self.toks[j - 1].low == "used":
                flags.add("used_to")
                j -= 2
                continue
            if low == "to":
                flags.add("infinitive")  # "I want to move to Paris": not a fact
                return j, flags
            if low in ("going", "gonna", "planning", "hoping", "want", "wants", "trying"):
                flags.add("future")
            if low in _AUX:
                if _AUX[low]:
                    flags.add(_AUX[low])
                j -= 1
                continue
            break
        return j, flags

    def _clause(self, rule: _Rule, m: re.Match[str], ts: int, te: int, nxt: int,
                prev_end: int, prev_subjects: list[_Subject],
                fronted: TimeSpan | None) -> _Clause | None:
        """Who said the verb at tokens [ts, te) and how (negated, ended), or None to skip."""
        j, flags = self._walk_aux(ts)
        if flags & {"infinitive", "future", "modal"}:
            return None
        if any(self.toks[x].low in _HYPOTHETICAL for x in range(max(0, j - 3), j + 1)):
            return None  # "if I lived in Paris", "maybe Bob works at Acme"
        subjects = self._subjects_ending(j, we_ok=rule.we_ok) if j >= 0 else []
        if not subjects and j >= 1 and self.toks[j].low == ",":
            subjects = self._appositive_subject(j)
        inherited = False
        if not subjects and j >= 0 and self.toks[j].low == "who":
            k = j - 2 if j >= 1 and self.toks[j - 1].low == "," else j - 1
            got = self.name_before(k)  # "Bob, who lives in Porto, ..."
            if got is not None:
                subjects = [_Subject(got[0])]
        if not subjects and self._subjectless(j, ts):
            subjects = [_Subject(self.speaker, True)]
        if not subjects and prev_subjects and self._gap_connects(prev_end, j + 1):
            subjects, inherited = prev_subjects, True  # "I live in Lisbon and work at Acme"
        if not subjects:
            return None
        verb = self.toks[ts].low
        form = _verb_form(verb)
        if (len(subjects) == 1 and not subjects[0].first_person and form == "base"
                and not inherited
                and not flags & {"do", "did", "neg"} and rule.obj not in _NO_AGREEMENT
                and verb != "quit"):
            return None  # "Things like X": a base-form verb needs I (or does/did/not)
        if form == "ing" and rule.needs_aux_be and not flags & {"be", "was", "been"} and not any(
            self.toks[x].low in _GERUND_CONNECTORS for x in range(max(0, ts - 2), ts)
        ):
            return None  # "-ing" without am/is/was: only after "before"/"after"/"since"
        if form == "ing" and rule.aspect == "start" and "be" in flags and "was" not in flags:
            return None  # "I am moving to Porto": a plan
        ended = "used_to" in flags or (
            (form == "past" or "was" in flags) and rule.aspect == "state"
            and not flags & {"have", "had"} and rule.relation not in (LIKES, DISLIKES)
        )
        return _Clause(rule, m, ts, te, nxt, subjects, "neg" in flags, ended, flags, prev_end,
                       fronted)

    def _appositive_subject(self, comma: int) -> list[_Subject]:
        """ "My brother, Rui, works ..." and "Rui, my brother, works ..." -> Rui."""
        got = self.name_before(comma - 1)
        if got is not None and got[1] >= 1 and self.toks[got[1] - 1].low == ",":
            return [_Subject(got[0])]
        kin = self.kin_subject(comma - 1)
        if kin is not None and kin[0] is not None:
            return [kin[0]]
        return []

    def _subjectless(self, j: int, ts: int) -> bool:
        """Chat style without "I": "Moved to Porto last week.", "Lost my job at Acme." -- a
        past-tense verb opening the sentence (after interjections or a time) is the speaker's."""
        if _verb_form(self.toks[ts].low) != "past" or self.toks[ts].low in ("was", "were"):
            return False
        for x in range(0, j + 1):
            t = self.toks[x]
            if t.time >= 0 or t.low in _OPENERS or not t.word:
                continue
            return False
        return True

    def _gap_connects(self, lo: int, hi: int) -> bool:
        """Whether tokens [lo, hi) only join two clauses ("and", ",", a time expression)."""
        if hi <= lo:  # nothing between: only if the clause ended with "," or a time
            return hi >= 1 and (self.toks[hi - 1].low == "," or self.toks[hi - 1].time >= 0)
        for x in range(lo, hi):
            t = self.toks[x]
            if t.time >= 0 or t.low in _CONNECTORS or t.low in _AUX:
                continue
            return False
        return True

    # ---- time

    def _best_time(self, lo: int, hi: int, anchor: int) -> TimeSpan | None:
        """The time expression in tokens [lo, hi) that best dates a verb at `anchor`: a range
        or "until" first, then the most specific, then the nearest."""
        best: tuple[tuple[int, int], TimeSpan] | None = None
        first = bisect_left(self.time_tok, lo)
        for k in range(first, len(self.times)):
            at = self.time_tok[k]
            if at >= hi:
                break
            span = self.times[k]
            mode_rank = 0 if span.mode in ("range", "until") else 1
            key = (mode_rank * 10 + _GRAN_RANK[span.granularity], abs(at - anchor))
            if best is None or key < best[0]:
                best = (key, span)
        return best[1] if best else None

    def _time_for(self, c: _Clause, end: int, aspect: str | None = None) -> TimeSpan | None:
        """The time of a clause whose object ends before token `end`: one said in the clause
        (from its start to the next verb, or to a conjunction after the object), else for an
        event one said before the sentence's first verb."""
        hi = end
        while hi < c.nxt and (self.toks[hi].time >= 0 or self.toks[hi].low not in _CLAUSE_BREAKS):
            hi += 1
        span = self._best_time(c.lo, hi, c.te)
        if span is None and c.fronted is not None and (aspect or c.rule.aspect) in (
            "start", "end"
        ):
            span = c.fronted
        if span is not None and span.mode == "duration" and not (
            not c.ended and c.flags & {"have", "been"}
        ):
            span = None  # "for 5 years" dates only a present perfect: "I have lived ... for"
        return span

    def _when_words(self, span: TimeSpan) -> str:
        """A resolved time as words for a fact: " in May 2024", " on 3 March 2024"."""
        g = span.granularity
        if span.mode == "range":
            if re.search(r"\d{4}", span.text):  # absolute already: keep the words
                return " " + re.sub(r"^(?:between|from)\s+", "from ", span.text.strip(), flags=re.I)
            end = span.ends_at or span.end
            return f" from {format_when(span.start, g)} to {format_when(end, g)}"
        if span.mode in ("since", "duration"):
            return f" since {format_when(span.start, 'day' if g == 'week' else g)}"
        if span.mode in ("until", "before", "after"):
            return f" {span.mode} {format_when(span.start, g)}"
        if span.end - span.start == timedelta(days=1) and g != "day":
            return f" around {format_when(span.start, 'day')}"  # "two weeks ago"
        words = format_when(span.start, g)
        return f" on {words}" if g == "day" else f" in {words}"

    # ---- emit

    def emit(self, source: str, relation: str, target: str, fact: str, source_type: str,
             target_type: str, *, valid_at: datetime | None = None,
             invalid_at: datetime | None = None, negated: bool = False) -> None:
        source, target = source.strip(), target.strip()
        if not source or not target:
            return
        known_s = self.memory.known.get(normalize_key(source))
        known_t = self.memory.known.get(normalize_key(target))
        if known_t and target_type in (ENTITY, CONCEPT) and known_t[1] not in ("", ENTITY):
            target_type = known_t[1]
        if known_s and source_type == ENTITY and known_s[1]:
            source_type = known_s[1]
        if self.out.seen(self.episode_id, source, relation, target, negated):
            return
        fact = fact.strip()
        if fact and fact[-1] not in ".!?":
            fact += "."
        fact = fact[:1].upper() + fact[1:]
        self.memory.types.setdefault(normalize_key(target), target_type)
        self.out.add(ExtractedRelation(
            source=source, relation=relation, target=target, fact=fact,
            source_type=source_type, target_type=target_type, valid_at=valid_at,
            invalid_at=invalid_at, negated=negated, episode_id=self.episode_id,
        ))

    def _emit_rel(self, c: _Clause, target: str, target_type: str, span: TimeSpan | None, *,
                  relation: str | None = None, fact: str | None = None, past: str | None = None,
                  subjects: list[_Subject] | None = None, ended: bool | None = None) -> None:
        """Emit `subject RELATION target` for each subject of the clause, with its times.

        fact/past are templates with {s} (subject) and {t} (target); they default to the rule's.
        """
        rule = c.rule
        relation = relation or rule.relation
        template = fact or rule.fact
        past_t = past if past is not None else (rule.past or template)
        ended = c.ended if ended is None else ended
        when = self._when_words(span) if span is not None else ""
        valid_at: datetime | None = None
        invalid_at: datetime | None = None
        negated = False
        if rule.aspect == "end" or c.neg:
            if rule.aspect in ("start", "end") and c.neg:
                return  # "I did not move to Porto", "I did not leave Acme"
            negated = True  # "I left Acme", "I no longer live in Lisbon"
            invalid_at = span.start if span is not None and span.mode != "since" else self.ref
            text = template + when if rule.aspect == "end" else self._negate(template)
        elif ended:  # "I lived in Lisbon (from 2019 to 2022)", "I used to work at Acme"
            text = past_t + when
            if span is not None and span.mode in ("at", "since", "range"):
                valid_at = span.start
            invalid_at = span.ends_at if span is not None and span.ends_at else self.ref
        else:
            text = template + when
            if span is not None and span.mode in ("since", "duration") and rule.since and (
                fact is None
            ):
                text = rule.since + when  # "Ana has lived in Lisbon since 2019"
            if span is not None and span.mode == "until":
                if span.ends_at is not None and span.ends_at <= self.ref:
                    invalid_at = span.ends_at
            elif span is not None and span.mode not in ("before", "after"):
                valid_at = span.start
        for subj in subjects or c.subjects:
            if rule.reverse:
                src, dst, src_type, dst_type = target, subj.name, target_type, subj.type
            else:
                src, dst, src_type, dst_type = subj.name, target, subj.type, target_type
            sentence = text.format(s=subj.name, t=target)
            self.emit(src, relation, dst, sentence, src_type, dst_type, valid_at=valid_at,
                      invalid_at=invalid_at, negated=negated)

    @staticmethod
    def _negate(template: str) -> str:
        """ "{s} lives in {t}" -> "{s} no longer lives in {t}"."""
        for a, b in (("{s} is ", "{s} is no longer "), ("{t} ", "{t} no longer "),
                     ("{s} ", "{s} no longer ")):
            if template.startswith(a):
                return b + template[len(a):]
        return template

    def _place_extras(self, target: str, end: int) -> None:
        """ "Lisbon, Portugal" -> Lisbon LOCATED_IN Portugal."""
        toks = self.toks
        if end < self.n and toks[end].low == "," and not self.lower:
            got = self.name_at(end + 1, max_tokens=3)
            if got is not None:
                after = got[1]
                if after >= self.n or not toks[after].word or toks[after].time >= 0 or toks[
                    after
                ].low in ("and", "but", "since", "where", "with", "for", "in", "last"):
                    self.emit(target, LOCATED_IN, got[0], f"{target} is in {got[0]}", PLACE, PLACE)

    def _org_or_place(self, name: str, default: str) -> str:
        """Organization or Place for a name, from known entities, this extraction, or a
        suffix ("Globex Corp", "University of Porto"); else `default`."""
        key = normalize_key(name)
        known = self.memory.known.get(key)
        if known and known[1] in (ORG, PLACE):
            return known[1]
        seen = self.memory.types.get(key)
        if seen in (ORG, PLACE):
            return seen
        words = key.replace(".", "").split()
        if words and (words[-1] in _ORG_SUFFIXES or words[0] in _SCHOOL_WORDS):
            return ORG
        return default

    # ---- object readers: each returns the token index after what it read, or None

    def _obj_place(self, c: _Clause) -> int | None:
        got = self.name_at(c.te, strict=c.rule.relation == VISITED)
        if got is None:
            return None
        name, end = got
        span = self._time_for(c, end)
        if c.rule.relation == LIVES_IN and all(not s.first_person for s in c.subjects) and (
            self._org_or_place(c.subjects[0].name, PERSON) == ORG
        ):  # "Globex is based in Berlin"
            orgs = [_Subject(s.name, False, ORG) for s in c.subjects]
            self._emit_rel(c, name, PLACE, span, relation=LOCATED_IN,
                           fact="{s} is located in {t}", past="{s} was located in {t}",
                           subjects=orgs)
        else:
            self._emit_rel(c, name, c.rule.target_type, span)
        self._place_extras(name, end)
        return end

    def _obj_from_to(self, c: _Clause) -> int | None:
        """ "moved from Lisbon to Porto": ends LIVES_IN Lisbon, starts LIVES_IN Porto."""
        got = self.name_at(c.te, strict=False)
        if got is None:
            return None
        old, end = got
        if c.neg:
            return end
        new = None
        if end < self.n and self.toks[end].low == "to":
            got2 = self.name_at(end + 1, strict=False)
            if got2 is not None:
                new, end = got2
        span = self._time_for(c, end, "start")
        when = self._when_words(span) if span is not None else ""
        at = span.start if span is not None else None
        for s in c.subjects:
            fact = (f"{s.name} moved from {old} to {new}{when}" if new
                    else f"{s.name} moved away from {old}{when}")
            self.emit(s.name, LIVES_IN, old, fact, s.type, PLACE, invalid_at=at or self.ref,
                      negated=True)
            if new:
                self.emit(s.name, LIVES_IN, new, fact, s.type, PLACE, valid_at=at)
        return end

    def _obj_org(self, c: _Clause) -> int | None:
        got = self.name_at(c.te, strict=False) or self._called(c.te)
        if got is None:
            return None
        name, end = got
        span = self._time_for(c, end)
        self._emit_rel(c, name, ORG, span)
        if c.rule.relation == WORKS_AT and not c.neg and c.rule.aspect != "end":
            end = self._org_extras(c, name, end)
        return end

    def _org_extras(self, c: _Clause, org: str, end: int) -> int:
        """ "... at Google as an engineer" (WORKS_AS), "... at Acme in Berlin" (LOCATED_IN)."""
        toks = self.toks
        if end < self.n and toks[end].low == "as":
            got = self._title(end + 1, need_whitelist=False)
            if got is not None:
                title, article, end = got
                for s in c.subjects:  # the title's own sentence, without the employer
                    text = (f"{s.name} worked as {article} {title}" if c.ended
                            else f"{s.name} works as {article} {title}")
                    self.emit(s.name, WORKS_AS, title, text, s.type, TITLE,
                              invalid_at=self.ref if c.ended else None)
        if end + 1 < self.n and toks[end].low == "in" and toks[end + 1].time < 0:
            got2 = self.name_at(end + 1, max_tokens=3)
            if got2 is not None:
                self.emit(org, LOCATED_IN, got2[0], f"{org} is in {got2[0]}", ORG, PLACE)
                end = got2[1]
        return end

    def _called(self, i: int) -> tuple[str, int] | None:
        """ "a startup called Nimbus" -> Nimbus (within a few words)."""
        for j in range(i, min(i + 6, self.n)):
            t = self.toks[j]
            if t.low in ("called", "named"):
                return self.name_at(j + 1)
            if not t.word or t.time >= 0:
                return None
        return None

    def _obj_join(self, c: _Clause) -> int | None:
        got = self.name_at(c.te)
        if got is None:
            # "joined the marketing team at Globex", "joined a startup called Nimbus"
            for j in range(c.te, min(c.te + 6, self.n)):
                t = self.toks[j]
                if t.low in ("at", "called", "named"):
                    got = self.name_at(j + 1)
                    break
                if not t.word or t.time >= 0:
                    break
        if got is None:
            return None
        name, end = got
        if end < self.n and self.toks[end].time < 0 and self.toks[end].low in (
            "for", "'s", "in", "on"
        ):
            return None  # "joined Bob for dinner", "joined Bob's team", "joined Ana in Rome"
        if self._org_or_place(name, ORG) == PLACE:
            return None
        self._emit_rel(c, name, ORG, self._time_for(c, end))
        return self._org_extras(c, name, end)

    def _obj_left(self, c: _Clause) -> int | None:
        """ "I left Acme" ends WORKS_AT, unless Acme is known to be a place (then LIVES_IN)."""
        got = self.name_at(c.te)
        if got is None:
            return None
        name, end = got
        if end < self.n and self.toks[end].low in ("'s", "for", "with", "to", "and", "at", "on"):
            return None  # "left Bob's place", "left Lisbon for Porto", "left Ana at home"
        span = self._time_for(c, end, "end")
        if self._org_or_place(name, ORG) == PLACE:
            self._emit_rel(c, name, PLACE, span, relation=LIVES_IN, fact="{s} left {t}")
        else:
            self._emit_rel(c, name, ORG, span)
        return end

    def _kin_object(self, i: int) -> tuple[list[str], int] | None:
        """ "my wife" as an object, when this add already named her."""
        toks = self.toks
        if i >= self.n or toks[i].low != "my":
            return None
        j = i + 1
        while j < self.n and toks[j].low in _KIN_MODS:
            j += 1
        info = self._kin_word(j) if j < self.n else None
        if info is None:
            return None
        name = self.memory.kin.get((normalize_key(self.speaker), info[1]))
        return ([name], j + 1) if name else None

    def _obj_person(self, c: _Clause) -> int | None:
        toks = self.toks
        if c.te < self.n and toks[c.te].low == "me":
            targets, end = [self.speaker], c.te + 1
        else:
            targets, end = self.names_at(c.te)
            if not targets:
                kin = self._kin_object(c.te)
                if kin is None:
                    return None
                targets, end = kin
        if end < self.n and toks[end].low == "'s":
            return None  # "I manage Acme's marketing"
        if c.rule.obj == "colleague":
            targets = [x for x in targets if self._org_or_place(x, PERSON) == PERSON]
        span = self._time_for(c, end)
        fact, past, ended = None, None, c.ended
        if c.rule.relation == MARRIED_TO and c.rule.aspect == "state":
            past = "{s} was married to {t}"
            if toks[c.ts].low == "married" and not c.flags & {"be", "was", "been"}:
                fact, ended = "{s} married {t}", False  # an event: "I married Maria in 2019"
            else:
                ended = "was" in c.flags  # "I am married to", "I was married to"
        for target in targets:
            self._emit_rel(c, target, PERSON, span, fact=fact, past=past, ended=ended)
        return end

    _obj_colleague = _obj_person

    def _phrases(self, i: int, hi: int) -> tuple[list[str], int]:
        """Items of a likes-list: "hiking and swimming" -> ["hiking", "swimming"]; "to cook"
        -> ["cooking"]. Pronouns and possessives ("it", "my job") are dropped."""
        toks = self.toks
        items: list[str] = []
        cur: list[int] = []

        def push() -> None:
            words = list(cur)
            while len(words) > 1 and toks[words[0]].low in _PHRASE_DETERMINERS:
                words.pop(0)
            if not words:
                return
            first = toks[words[0]].low
            if first == "to" and len(words) >= 2:
                rest = self.text[toks[words[1]].end:toks[words[-1]].end]
                items.append((_gerund(toks[words[1]].text) + rest).strip())
                return
            if first in _PHRASE_BAD_START or not toks[words[0]].text[0].isalpha():
                return
            items.append(self.text[toks[words[0]].start:toks[words[-1]].end])

        j = i
        while j < min(hi, self.n) and len(items) < 5:
            t = toks[j]
            if t.time >= 0:
                break
            if t.low == "," and not any(
                toks[k].low in ("and", "or", "&") for k in range(j + 1, min(hi, self.n))
            ):
                break  # "hates the apartment, keeps hiding": a new clause, not a list item
            if t.low in ("and", "or", ",", "&"):
                if cur:
                    push()
                    cur = []
                elif t.low == "," or not items:
                    break
                j += 1
                continue
            keep = (t.low == "to" and not cur) or (
                t.low == "in" and cur and self.namey(j + 1)
            ) or (t.low == "of" and cur and j + 1 < self.n and toks[j + 1].word)
            if not keep and (not t.word or t.low in _PHRASE_STOP or len(cur) >= 6
                             or t.low == "'s" or (cur and t.low in _PRONOUNS | _POSSESSIVES)):
                break
            cur.append(j)
            j += 1
        if cur:
            push()
        return items, j

    def _obj_phrase(self, c: _Clause) -> int | None:
        toks = self.toks
        if c.te < self.n and toks[c.te].low in ("it", "that", "this", "when", "how", "what"):
            return None
        items, end = self._phrases(c.te, self.n)
        if not items:
            return None
        relation, negated = c.rule.relation, False
        if c.neg:
            anymore = any(toks[x].low == "anymore" for x in range(end, min(end + 3, self.n)))
            if anymore or any(toks[x].low == "longer" for x in range(max(0, c.ts - 3), c.ts)):
                negated = True  # "I no longer like X", "I do not like X anymore"
            elif relation == LIKES:
                relation = DISLIKES  # "I do not like X"
            else:
                return end  # "I do not hate X": says little
        verb = toks[c.ts].low
        if negated:
            template = "{s} no longer likes {t}"
        elif relation != c.rule.relation:
            template = "{s} does not like {t}"
        elif verb in _BE_WORDS:
            template = "{s} likes {t}"  # "I am into X", "a big fan of X"
        elif verb in ("can", "cannot"):
            template = "{s} cannot stand {t}"
        else:
            template = "{s} " + _third_person(verb) + " {t}"
        for item in items:
            ttype = ENTITY if item[:1].isupper() else CONCEPT
            for s in c.subjects:
                self.emit(s.name, relation, item, template.format(s=s.name, t=item), s.type,
                          ttype, negated=negated, invalid_at=self.ref if negated else None)
        return end

    def _title(self, i: int, need_whitelist: bool) -> tuple[str, str, int] | None:
        """(title, article, index after) for "a senior software engineer"."""
        toks = self.toks
        article = ""
        if i < self.n and toks[i].low in ("a", "an", "the"):
            article = toks[i].low
            i += 1
        parts: list[int] = []
        j = i
        while j < self.n and len(parts) < 5:
            t = toks[j]
            if (t.time >= 0 or not t.word or t.low in _TITLE_STOP or t.low in _PRONOUNS
                    or t.low in _DETERMINERS or t.low == "'s"):
                break
            parts.append(j)
            j += 1
        if not parts:
            return None
        head = toks[parts[-1]].low
        if need_whitelist and head not in _TITLES and head.rstrip("s") not in _TITLES:
            return None
        if head in _KIN and head not in _TITLES:
            return None
        title = self.text[toks[parts[0]].start:toks[parts[-1]].end]
        if article != "the":
            article = _article(title)
        return title, article, j

    def _obj_title(self, c: _Clause) -> int | None:
        """ "works as a nurse", "job as a Financial Analyst", "is a nurse (at X)"."""
        got = self._title(c.te, need_whitelist=c.rule.obj == "title_be")
        if got is None:
            return None
        title, article, end = got
        head = title.rsplit(" ", 1)[-1].casefold()
        org = None
        prep = self.toks[end].low if end < self.n else ""
        if prep in ("at", "for", "with") or (prep == "of" and head in _EXEC_HEADS | _STUDENT_HEADS):
            got_org = self.name_at(end + 1, strict=False)
            if got_org is not None and self._org_or_place(got_org[0], ORG) != PLACE:
                org, end = got_org
        span = self._time_for(c, end)
        if head in _STUDENT_HEADS:  # "a PhD student at MIT"
            if org is not None:
                label = f"{article} {title}"
                self._emit_rel(c, org, ORG, span, relation=STUDIES_AT,
                               fact="{s} is " + label + " at {t}",
                               past="{s} was " + label + " at {t}")
            return end
        if c.rule.obj == "title_be" and org is None and self.toks[c.te].low == "the":
            return end  # "Ana is the best": not a job without "at"/"of"
        label = f"{article} {title}"
        if org and prep == "of":
            fact, past = "{s} is " + label + " of " + org, "{s} was " + label + " of " + org
        else:
            # Each sentence states its own triple only: the job title without the employer,
            # which a later job change ends on its own ("works as a nurse at Harborview" must
            # not stay current after "I got a job at Swedish").
            past = "{s} worked as " + label
            if c.rule.aspect == "start":
                fact = c.rule.fact.replace("{t}", label)
            elif c.rule.aspect == "end":
                fact = "{s} stopped working as " + label
            else:
                fact = "{s} works as " + label
        self._emit_rel(c, title, TITLE, span, fact=fact, past=past)
        if org and prep == "of":  # "the CEO of Acme": the title names the employer
            self._emit_rel(c, org, ORG, span, relation=WORKS_AT, fact=fact, past=past)
        elif org:
            verb = "stopped working at" if c.rule.aspect == "end" else "works at"
            self._emit_rel(c, org, ORG, span, relation=WORKS_AT, fact="{s} " + verb + " {t}",
                           past="{s} worked at {t}")
        return end

    _obj_title_be = _obj_title

    def _obj_study(self, c: _Clause) -> int | None:
        """ "I study biology (at MIT)", "I am studying at the University of Porto"."""
        toks = self.toks
        end = c.te
        items: list[str] = []
        if c.te < self.n and toks[c.te].low not in ("at", "in"):
            items, end = self._phrases(c.te, self.n)
            items = [x for x in items[:2] if x.split()[0].casefold() not in _NOT_SUBJECTS]
        school: str | None = None
        if end < self.n and toks[end].low in ("at", "in"):
            got = self.name_at(end + 1, strict=False)
            if got is not None:
                name, after = got
                at = toks[end].low == "at" or self._org_or_place(name, PLACE) == ORG
                if at and self._org_or_place(name, ORG) != PLACE:
                    school, end = name, after
        span = self._time_for(c, end)
        for item in items:
            self._emit_rel(c, item, CONCEPT, span)
        if school is not None:
            self._emit_rel(c, school, ORG, span, relation=STUDIES_AT, fact="{s} studies at {t}",
                           past="{s} studied at {t}")
        return end if (items or school) else None

    def _obj_school(self, c: _Clause) -> int | None:
        """ "I attend the University of Porto" (only schools: "attend church" is not)."""
        got = self.name_at(c.te, strict=False)
        if got is None:
            return None
        name, end = got
        if self._org_or_place(name, PLACE) != ORG and "enrolled" not in self.toks[c.ts].low:
            return None
        self._emit_rel(c, name, ORG, self._time_for(c, end))
        return end

    def _obj_born(self, c: _Clause) -> int | None:
        """ "born in Porto", "born on 3 March 1990", "born in Porto in 1990", "born and raised
        in Lyon"."""
        if c.neg:
            return None
        toks = self.toks
        j = c.te
        place: str | None = None
        when: TimeSpan | None = None
        for _ in range(4):
            if j >= self.n:
                break
            if toks[j].low in (",", "and"):
                j += 1
                continue
            if toks[j].time >= 0:
                k = toks[j].time
                when = self.times[k]
                while j < self.n and toks[j].time == k:
                    j += 1
                continue
            if toks[j].low in ("in", "at") and place is None:
                got = self.name_at(j + 1, strict=False)
                if got is None:
                    break
                place, j = got
                continue
            break
        raised = "raised" in c.m.group().casefold()
        for s in c.subjects:
            if place:
                on = self._when_words(when) if when else ""
                self.emit(s.name, BORN_IN, place, f"{s.name} was born in {place}{on}", s.type,
                          PLACE, valid_at=when.start if when else None)
                if raised:
                    self.emit(s.name, GREW_UP_IN, place, f"{s.name} grew up in {place}", s.type,
                              PLACE)
            if when is not None and when.mode == "at":
                day = when.granularity == "day" or when.end - when.start == timedelta(days=1)
                label = format_when(when.start, "day" if day else when.granularity)
                self.emit(s.name, BORN_ON, label,
                          f"{s.name} was born {'on' if day else 'in'} {label}", s.type, DATE,
                          valid_at=when.start)
        return j if (place or when) else None

    def _obj_age(self, c: _Clause) -> int | None:
        """ "I am 32 years old", "Bob turned 40 last month"."""
        if c.neg or c.ended:
            return None
        age = int(c.m.group("age"))
        if not 0 < age < 130:
            return None
        span = self._time_for(c, c.te)
        start = c.rule.aspect == "start"
        for s in c.subjects:
            text = (f"{s.name} turned {age}" + (self._when_words(span) if span else "")
                    if start else f"{s.name} is {age} years old")
            self.emit(s.name, HAS_AGE, str(age), text, s.type, AGE,
                      valid_at=span.start if span is not None and start else None)
        return c.te

    # ---- other patterns

    def scan_pairs(self) -> None:
        """ "Ana and I are friends", "Bob and Maria are married", "Bob and Maria divorced in
        2020": the first name -> each of the others."""
        for m in _PAIR.finditer(self.text):
            i = self._tok_index(m.start())
            subjects = self._subjects_ending(i - 1)
            if len(subjects) < 2:
                continue
            word = (m.group("w") or m.group("v")).casefold()
            rel, template, negated = _PAIR_REL[word]
            if m.group("v"):
                template = "{a} and {b} " + word  # the event: "Bob and Maria married in 2019"
            end = self._tok_index(m.end())
            hi = end
            while hi < self.n and (self.toks[hi].time >= 0
                                   or self.toks[hi].low not in _CLAUSE_BREAKS):
                hi += 1
            span = self._best_time(end, hi, end)
            at = span.start if span is not None and span.mode != "until" else None
            when = self._when_words(span) if span is not None else ""
            first = subjects[-1]
            for other in subjects[:-1]:
                self.emit(first.name, rel, other.name,
                          template.format(a=first.name, b=other.name) + when, first.type,
                          other.type, negated=negated,
                          valid_at=None if negated else at,
                          invalid_at=(at or self.ref) if negated else None)

    def scan_favorite(self) -> None:
        """ "my favorite food is sushi", "Bob's favourite band is Muse", "sushi is my favorite
        food"."""
        toks = self.toks
        for k in range(self.n):
            if toks[k].low not in ("favorite", "favourite", "fave"):
                continue
            d = k - 1
            while d >= 0 and toks[d].low in ("all-time", "absolute", "current", "new", "very",
                                               "most"):
                d -= 1
            anchor = self._anchor_before(d)
            if anchor is None:
                continue
            owner = anchor[0]
            c = k + 1
            cat: list[int] = []
            while c < self.n and len(cat) < 3 and toks[c].word and toks[c].low not in (
                "is", "are", "was", "were", "has", "have"
            ):
                cat.append(c)
                c += 1
            items: list[str] = []
            if cat and c < self.n and toks[c].low in ("is", "are", "was", "were"):
                items, _ = self._phrases(c + 1, self.n)
            elif cat and d >= 1 and toks[d - 1].low in ("is", "are", "was"):
                start = d - 2
                lo = start
                while lo > 0 and start - lo < 5 and toks[lo - 1].word and toks[
                    lo - 1
                ].low not in _PHRASE_STOP and toks[lo - 1].low not in ("and", "but"):
                    lo -= 1
                if start >= 0:
                    items, _ = self._phrases(lo, start + 1)
            if not cat or not items or toks[cat[-1]].low in _VAGUE_FAVORITES:
                continue  # "my favorite part is when ...": not a preference to remember
            category = self.text[toks[cat[0]].start:toks[cat[-1]].end]
            for item in items:
                ttype = CONCEPT if not item[:1].isupper() else ENTITY
                verb = "is" if len(items) == 1 else "includes"
                self.emit(owner.name, LIKES, item,
                          f"{_possessive(owner.name)} favorite {category} {verb} {item}",
                          owner.type, ttype)


# ---------------------------------------------------------------- the extractor

def _is_question(sentence: str) -> bool:
    return sentence.rstrip().endswith("?")


def _strip_question(sentence: str) -> str:
    """Drop a trailing question clause: "I live in Lisbon, do you?" -> "I live in Lisbon"."""
    if not _is_question(sentence):
        return sentence
    body = sentence.rstrip().rstrip("?")
    cut = max(body.rfind(","), body.rfind(" - "))
    clause = body[cut + 1:] if cut >= 0 else body
    words = clause.split()
    first = words[0].casefold().strip("\"'(") if words else ""
    if first in _QUESTION_START or first in ("so", "and", "but", "also", "or") and (
        len(words) > 1 and words[1].casefold() in _QUESTION_START
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
    def extract_text(text: str, speaker: str, ref: datetime, episode_id: str, memory: _Memory,
                     out: _Collector) -> None:
        text = _prepare(text[:MAX_CONTENT_CHARS])
        done: set[str] = set()
        for sentence in split_sentences(text):
            sentence = _strip_question(sentence)
            if not sentence.strip() or sentence in done:
                continue
            done.add(sentence)
            _Sentence(sentence, speaker, ref, episode_id, memory, out).run()


def extract_relations(text: str, speaker: str = "user", reference_time: datetime | None = None,
                      episode_id: str = "") -> Extraction:
    """Convenience for tests and scripts: run the rules over one text said by `speaker`."""
    from graphmem.normalize import utcnow

    out = _Collector()
    ref = to_utc(reference_time) if reference_time is not None else utcnow()
    RulesExtractor.extract_text(text, clean_name(speaker) or "user", ref, episode_id, _Memory(),
                                out)
    return out.result()


__all__ = ["RulesExtractor", "extract_relations", "split_sentences"]
