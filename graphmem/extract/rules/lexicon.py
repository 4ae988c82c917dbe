"""The rules extractor's lexicon: relation and type names, word lists, contractions, and the
small text helpers (sentence splitting, tokens, verb forms) the reader uses."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from graphmem.normalize import normalize_key as _normalize_key

# fmt: off
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
# fmt: on
