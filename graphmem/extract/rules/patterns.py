"""The rules extractor's pattern table: each verb phrase it recognises (a regular expression),
the relation it yields, how its object is read (`obj`, a key of objects.READERS), and the
sentences it writes for the fact (current, ended, "since")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from graphmem.extract.rules.lexicon import (
    AGE,
    BORN_IN,
    COLLEAGUE_OF,
    CONCEPT,
    COUSIN_OF,
    DISLIKES,
    ENTITY,
    FRIEND_OF,
    FROM,
    GRADUATED_FROM,
    GREW_UP_IN,
    HAS_AGE,
    LIKES,
    LIVES_IN,
    LIVES_WITH,
    MANAGES,
    MARRIED_TO,
    MENTORS,
    NEIGHBOR_OF,
    ORG,
    PARTNER_OF,
    PERSON,
    PLACE,
    ROOMMATE_OF,
    SIBLING_OF,
    STUDIES,
    STUDIES_AT,
    TITLE,
    VISITED,
    WORKS_AS,
    WORKS_AT,
)

# fmt: off
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
# fmt: on


# Examples of the table, by the section of docs/rules-extractor.md that shows them; the doc
# rows are generated from them (scripts/gen_rules_doc.py), so the doc is what the reader does.
EXAMPLES: dict[str, tuple[str, ...]] = {
    "Where people live": (
        "I live in Lisbon.",
        "I'm living in New York.",
        "We moved to Porto in May 2024.",
        "I relocated to Berlin last year.",
        "I moved back to Lisbon.",
        "I settled in Faro.",
        "I've lived in Lisbon for 5 years.",
        "I'm based in London.",
        "Bob lives in Paris.",
        "I live in Lisbon, Portugal.",
        "Globex Corp is based in Berlin.",
        "I'm from Brazil.",
        "Bob comes from Kyiv.",
        "I grew up in Lyon.",
        "I was born in Porto in 1990.",
        "I visited Paris last week.",
    ),
    "Work": (
        "I work at Acme.",
        "I'm working for Globex Corp.",
        "I joined Google last month.",
        "I started at Stripe two weeks ago.",
        "I started working at Acme.",
        "I got a job at Netflix.",
        "I took a job with Stripe.",
        "I got hired by Globex.",
        "I work at a startup called Nimbus.",
        "I joined the marketing team at Globex.",
        "Bob works at 腾讯.",
        "Bob is a software engineer at Globex.",
        "I'm a nurse.",
        "I work as a teacher.",
        "I work at Google as an engineer.",
        "I'm the CEO of Acme.",
        "I started a new job as a Financial Analyst last week.",
        "I got promoted to team lead.",
    ),
    "Ends of relations (negated=True)": (
        "I no longer work at Acme.",
        "I don't work at Acme anymore.",
        "I left Acme.",
        "I quit my job at Acme in March.",
        "I resigned from Initech.",
        "I was laid off from Twitter.",
        "I got fired from Acme.",
        "I retired from IBM.",
        "I stopped working at Acme.",
        "Lost my job as a banker yesterday.",
        "Bob quit Acme.",
        "I don't live in Lisbon anymore.",
        "Bob moved out of Paris.",
        "I moved from Lisbon to Porto in May 2024.",
        "I dropped out of Harvard.",
        "I broke up with Leo.",
        "I divorced Tom in 2020.",
        "My ex-wife Maria lives in Rome.",
        "I don't like olives anymore.",
    ),
    "Past states (closed: invalid_at set)": (
        "I lived in Lisbon from 2019 to 2022.",
        "I lived in Lisbon until May 2022.",
        "I used to work at Acme.",
        "I was employed at Initech.",
        "I was a nurse.",
    ),
    "Family and social": (
        "My sister is Eva.",
        "Eva is my sister.",
        "My sister's name is Eva.",
        "My sister Eva lives in Madrid.",
        "My older brother, Rui, works at Siemens.",
        "Eva, my sister, lives in Rome.",
        "I have a sister named Eva.",
        "I'm Bob's sister.",
        "Maria is the sister of Bob.",
        "My sisters are Eva and Rita.",
        "My mother is Maria.",
        "My parents are Maria and Joe.",
        "My son Tom is 5 years old.",
        "My grandmother Rosa lives in Faro.",
        "My cousin Pedro lives in Rio.",
        "My uncle is Luis.",
        "My wife is Maria.",
        "Bob's wife is Maria.",
        "I'm married to Maria.",
        "I married Maria in 2019.",
        "My partner Sam works at IBM.",
        "I'm dating Leo.",
        "My best friend Carol loves hiking.",
        "I have a friend called Zoe.",
        "I'm friends with Zoe.",
        "Bob and I are friends.",
        "Bob and Maria are married.",
        "Dave is my colleague.",
        "I work with Dave.",
        "My roommate is Kim.",
        "My neighbor Ivo is from Goa.",
        "I live with Kim.",
        "Carol is Bob's manager.",
        "My manager is Carol.",
        "I report to Carol.",
        "Carol manages me.",
        "I manage Bob and Eve.",
        "Bob is my direct report.",
        "Ana is Bob's mentor.",
        "Ana's brother Bob works at Globex.",
        "I have a dog named Max.",
    ),
    "Likes": (
        "I like hiking and swimming.",
        "I love Italian food.",
        "I like to cook.",
        "I'm really into jazz.",
        "I'm a big fan of Radiohead.",
        "I hate traffic.",
        "I can't stand cilantro.",
        "I don't like olives.",
        "My favorite food is sushi.",
        "Bob's favourite band is Muse.",
    ),
    "Studies, birth, age": (
        "I study at MIT.",
        "I'm studying computer science at Stanford University.",
        "I'm a PhD student at Oxford.",
        "I attend the University of Porto.",
        "I enrolled at MIT.",
        "I graduated from Yale in 2015.",
        "I was born on 3 March 1990.",
        "I'm 32 years old.",
        "Bob turned 40 last month.",
    ),
    "Clauses, subjects, case": (
        "I live in Lisbon and work at Acme.",
        "I moved to Porto in 2020, joined Globex and love it.",
        "My wife and I moved to Porto.",
        "Ana and Bob live in Paris.",
        "Bob, who lives in Porto, joined Globex.",
        "I think Bob works at Globex.",
        "Last year I moved to Porto and joined Globex.",
        "Moved to Porto last week.",
        "i live in lisbon",
        "I live in lisbon.",
        "I LIVE IN LISBON",
    ),
}
