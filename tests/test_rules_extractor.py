"""graphmem.extract.rules: the LLM-free extractor, pattern by pattern."""

from __future__ import annotations

import contextlib
import signal
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphmem import ontology
from graphmem.extract.base import ExtractionContext, Extractor
from graphmem.extract.rules import RulesExtractor, extract_relations, split_sentences
from graphmem.models import Entity, Episode, ExtractedRelation, Extraction, Usage
from graphmem.normalize import is_valid_relation, is_valid_type

# Monday 10 June 2024, 09:00 UTC
REF = datetime(2024, 6, 10, 9, 0, tzinfo=UTC)


def d(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def run(text: str, speaker: str = "Ana") -> Extraction:
    return extract_relations(text, speaker, REF, "ep1")


def triples(text: str, speaker: str = "Ana") -> set[tuple[str, str, str, bool]]:
    return {(r.source, r.relation, r.target, r.negated) for r in run(text, speaker).relations}


def one(text: str, relation: str | None = None, speaker: str = "Ana") -> ExtractedRelation:
    rels = [r for r in run(text, speaker).relations if relation is None or r.relation == relation]
    assert len(rels) == 1, (text, rels)
    return rels[0]


def episode(
    content: str, *, name: str | None = None, when: datetime = REF, ep_id: str | None = None
) -> Episode:
    extra = {"id": ep_id} if ep_id else {}
    return Episode(
        partition="u:ana",
        user_id="ana",
        name=name,
        content=content,
        reference_time=when,
        created_at=when,
        **extra,
    )


# ---------------------------------------------------------------- the pattern table

N = False  # not negated
NEG = True

PATTERNS: list[tuple[str, set[tuple[str, str, str, bool]]]] = [
    # where people live
    ("I live in Lisbon.", {("Ana", "LIVES_IN", "Lisbon", N)}),
    ("I'm living in New York.", {("Ana", "LIVES_IN", "New York", N)}),
    ("I am currently living in São Paulo.", {("Ana", "LIVES_IN", "São Paulo", N)}),
    ("I moved to Porto in May 2024.", {("Ana", "LIVES_IN", "Porto", N)}),
    ("I relocated to Berlin last year.", {("Ana", "LIVES_IN", "Berlin", N)}),
    ("We moved to Porto.", {("Ana", "LIVES_IN", "Porto", N)}),
    ("I'm based in London.", {("Ana", "LIVES_IN", "London", N)}),
    ("I reside in Paris.", {("Ana", "LIVES_IN", "Paris", N)}),
    ("Bob lives in Paris.", {("Bob", "LIVES_IN", "Paris", N)}),
    ("Ana moved to Porto in May 2024.", {("Ana", "LIVES_IN", "Porto", N)}),
    ("Bob Smith lives in New York City.", {("Bob Smith", "LIVES_IN", "New York City", N)}),
    ("I'm from Brazil.", {("Ana", "FROM", "Brazil", N)}),
    ("I am originally from Cape Verde.", {("Ana", "FROM", "Cape Verde", N)}),
    ("Bob is from Canada.", {("Bob", "FROM", "Canada", N)}),
    ("Bob comes from Kyiv.", {("Bob", "FROM", "Kyiv", N)}),
    ("I grew up in Lyon.", {("Ana", "GREW_UP_IN", "Lyon", N)}),
    ("I was born in Porto.", {("Ana", "BORN_IN", "Porto", N)}),
    (
        "I was born and raised in Lyon.",
        {("Ana", "BORN_IN", "Lyon", N), ("Ana", "GREW_UP_IN", "Lyon", N)},
    ),
    (
        "I live in Lisbon, Portugal.",
        {("Ana", "LIVES_IN", "Lisbon", N), ("Lisbon", "LOCATED_IN", "Portugal", N)},
    ),
    ("Globex Corp is based in Berlin.", {("Globex Corp", "LOCATED_IN", "Berlin", N)}),
    ("I visited Paris last week.", {("Ana", "VISITED", "Paris", N)}),
    ("I traveled to Japan in 2019.", {("Ana", "VISITED", "Japan", N)}),
    # work
    ("I work at Acme.", {("Ana", "WORKS_AT", "Acme", N)}),
    ("I work for Globex Corp.", {("Ana", "WORKS_AT", "Globex Corp", N)}),
    ("I'm working at Initech.", {("Ana", "WORKS_AT", "Initech", N)}),
    ("I joined Google last month.", {("Ana", "WORKS_AT", "Google", N)}),
    ("I started at Stripe two weeks ago.", {("Ana", "WORKS_AT", "Stripe", N)}),
    ("I started working at Procter & Gamble.", {("Ana", "WORKS_AT", "Procter & Gamble", N)}),
    ("I got a job at Netflix.", {("Ana", "WORKS_AT", "Netflix", N)}),
    ("I got a new job at the Bank of America.", {("Ana", "WORKS_AT", "Bank of America", N)}),
    ("I work at a startup called Nimbus.", {("Ana", "WORKS_AT", "Nimbus", N)}),
    ("I joined the marketing team at Globex.", {("Ana", "WORKS_AT", "Globex", N)}),
    ("Bob works at Globex.", {("Bob", "WORKS_AT", "Globex", N)}),
    ("Bob works at 腾讯.", {("Bob", "WORKS_AT", "腾讯", N)}),
    (
        "Bob is a software engineer at Globex.",
        {("Bob", "WORKS_AT", "Globex", N), ("Bob", "WORKS_AS", "software engineer", N)},
    ),
    ("I'm a nurse.", {("Ana", "WORKS_AS", "nurse", N)}),
    ("I am a senior data scientist.", {("Ana", "WORKS_AS", "senior data scientist", N)}),
    ("I work as a teacher.", {("Ana", "WORKS_AS", "teacher", N)}),
    (
        "I work at Google as an engineer.",
        {("Ana", "WORKS_AT", "Google", N), ("Ana", "WORKS_AS", "engineer", N)},
    ),
    ("I'm the CEO of Acme.", {("Ana", "WORKS_AT", "Acme", N), ("Ana", "WORKS_AS", "CEO", N)}),
    (
        "I started a new job as a Financial Analyst last week.",
        {("Ana", "WORKS_AS", "Financial Analyst", N)},
    ),
    ("I got promoted to team lead.", {("Ana", "WORKS_AS", "team lead", N)}),
    # ends of relations
    ("I no longer work at Acme.", {("Ana", "WORKS_AT", "Acme", NEG)}),
    ("I don't work at Acme anymore.", {("Ana", "WORKS_AT", "Acme", NEG)}),
    ("I left Acme.", {("Ana", "WORKS_AT", "Acme", NEG)}),
    ("I quit my job at Acme in March.", {("Ana", "WORKS_AT", "Acme", NEG)}),
    ("I resigned from Initech.", {("Ana", "WORKS_AT", "Initech", NEG)}),
    ("I was laid off from Twitter.", {("Ana", "WORKS_AT", "Twitter", NEG)}),
    ("I lost my job at Door Dash this month.", {("Ana", "WORKS_AT", "Door Dash", NEG)}),
    ("Bob quit Acme.", {("Bob", "WORKS_AT", "Acme", NEG)}),
    ("Bob doesn't work at Acme anymore.", {("Bob", "WORKS_AT", "Acme", NEG)}),
    ("I don't live in Lisbon anymore.", {("Ana", "LIVES_IN", "Lisbon", NEG)}),
    ("I no longer live in Lisbon.", {("Ana", "LIVES_IN", "Lisbon", NEG)}),
    ("Bob moved out of Paris.", {("Bob", "LIVES_IN", "Paris", NEG)}),
    (
        "I moved from Lisbon to Porto.",
        {("Ana", "LIVES_IN", "Lisbon", NEG), ("Ana", "LIVES_IN", "Porto", N)},
    ),
    ("I dropped out of Harvard.", {("Ana", "STUDIES_AT", "Harvard", NEG)}),
    ("Lost my job as a banker yesterday.", {("Ana", "WORKS_AS", "banker", NEG)}),
    # family and social
    ("My sister is Eva.", {("Eva", "SIBLING_OF", "Ana", N)}),
    ("Eva is my sister.", {("Eva", "SIBLING_OF", "Ana", N)}),
    ("My sister's name is Eva.", {("Eva", "SIBLING_OF", "Ana", N)}),
    (
        "My sister Eva lives in Madrid.",
        {("Eva", "SIBLING_OF", "Ana", N), ("Eva", "LIVES_IN", "Madrid", N)},
    ),
    (
        "My older brother, Rui, works at Siemens.",
        {("Rui", "SIBLING_OF", "Ana", N), ("Rui", "WORKS_AT", "Siemens", N)},
    ),
    ("I have a sister named Eva.", {("Eva", "SIBLING_OF", "Ana", N)}),
    ("My mother is Maria.", {("Maria", "PARENT_OF", "Ana", N)}),
    ("My dad Joe is a pilot.", {("Joe", "PARENT_OF", "Ana", N), ("Joe", "WORKS_AS", "pilot", N)}),
    ("My son Tom is 5 years old.", {("Ana", "PARENT_OF", "Tom", N), ("Tom", "HAS_AGE", "5", N)}),
    ("Lia is my daughter.", {("Ana", "PARENT_OF", "Lia", N)}),
    (
        "My grandmother Rosa lives in Faro.",
        {("Rosa", "GRANDPARENT_OF", "Ana", N), ("Rosa", "LIVES_IN", "Faro", N)},
    ),
    ("My wife is Maria.", {("Maria", "MARRIED_TO", "Ana", N)}),
    ("My husband Tom loves golf.", {("Tom", "MARRIED_TO", "Ana", N), ("Tom", "LIKES", "golf", N)}),
    (
        "My partner Sam works at IBM.",
        {("Sam", "PARTNER_OF", "Ana", N), ("Sam", "WORKS_AT", "IBM", N)},
    ),
    ("My boyfriend is Leo.", {("Leo", "PARTNER_OF", "Ana", N)}),
    (
        "My best friend Carol loves hiking.",
        {("Carol", "FRIEND_OF", "Ana", N), ("Carol", "LIKES", "hiking", N)},
    ),
    ("Dave is my colleague.", {("Dave", "COLLEAGUE_OF", "Ana", N)}),
    (
        "My coworker Dave joined Stripe.",
        {("Dave", "COLLEAGUE_OF", "Ana", N), ("Dave", "WORKS_AT", "Stripe", N)},
    ),
    ("My neighbor Ivo is from Goa.", {("Ivo", "NEIGHBOR_OF", "Ana", N), ("Ivo", "FROM", "Goa", N)}),
    ("My roommate is Kim.", {("Kim", "ROOMMATE_OF", "Ana", N)}),
    (
        "My cousin Pedro lives in Rio.",
        {("Pedro", "COUSIN_OF", "Ana", N), ("Pedro", "LIVES_IN", "Rio", N)},
    ),
    ("My uncle is Luis.", {("Luis", "RELATIVE_OF", "Ana", N)}),
    ("Carol is Bob's manager.", {("Carol", "MANAGES", "Bob", N)}),
    ("My manager is Carol.", {("Carol", "MANAGES", "Ana", N)}),
    ("My boss, Carol, is great.", {("Carol", "MANAGES", "Ana", N)}),
    ("I report to Carol.", {("Carol", "MANAGES", "Ana", N)}),
    ("Bob reports directly to Carol.", {("Carol", "MANAGES", "Bob", N)}),
    ("I manage Bob and Eve.", {("Ana", "MANAGES", "Bob", N), ("Ana", "MANAGES", "Eve", N)}),
    ("Carol manages me.", {("Carol", "MANAGES", "Ana", N)}),
    ("Bob is my direct report.", {("Ana", "MANAGES", "Bob", N)}),
    ("Ana is Bob's mentor.", {("Ana", "MENTORS", "Bob", N)}),
    ("Bob's wife is Maria.", {("Maria", "MARRIED_TO", "Bob", N)}),
    ("Maria is the sister of Bob.", {("Maria", "SIBLING_OF", "Bob", N)}),
    ("I'm Bob's sister.", {("Ana", "SIBLING_OF", "Bob", N)}),
    (
        "Ana's brother Bob works at Globex.",
        {("Bob", "SIBLING_OF", "Ana", N), ("Bob", "WORKS_AT", "Globex", N)},
    ),
    (
        "Bob's daughter Lia studies at MIT.",
        {("Bob", "PARENT_OF", "Lia", N), ("Lia", "STUDIES_AT", "MIT", N)},
    ),
    (
        "My sisters are Eva and Rita.",
        {("Eva", "SIBLING_OF", "Ana", N), ("Rita", "SIBLING_OF", "Ana", N)},
    ),
    ("Bob and I are friends.", {("Bob", "FRIEND_OF", "Ana", N)}),
    ("Bob and Maria are married.", {("Bob", "MARRIED_TO", "Maria", N)}),
    (
        "Bob, Eve and I are colleagues.",
        {("Bob", "COLLEAGUE_OF", "Eve", N), ("Bob", "COLLEAGUE_OF", "Ana", N)},
    ),
    ("I'm friends with Zoe.", {("Ana", "FRIEND_OF", "Zoe", N)}),
    ("I work with Dave.", {("Ana", "COLLEAGUE_OF", "Dave", N)}),
    ("I'm married to Maria.", {("Ana", "MARRIED_TO", "Maria", N)}),
    ("I married Maria in 2019.", {("Ana", "MARRIED_TO", "Maria", N)}),
    ("I'm engaged to Leo.", {("Ana", "PARTNER_OF", "Leo", N)}),
    ("I'm dating Leo.", {("Ana", "PARTNER_OF", "Leo", N)}),
    ("I broke up with Leo.", {("Ana", "PARTNER_OF", "Leo", NEG)}),
    ("I divorced Tom in 2020.", {("Ana", "MARRIED_TO", "Tom", NEG)}),
    (
        "My ex-wife Maria lives in Rome.",
        {("Maria", "MARRIED_TO", "Ana", NEG), ("Maria", "LIVES_IN", "Rome", N)},
    ),
    ("I live with Kim.", {("Ana", "LIVES_WITH", "Kim", N)}),
    ("I have a dog named Max.", {("Ana", "HAS_PET", "Max", N)}),
    ("Max is my dog.", {("Ana", "HAS_PET", "Max", N)}),
    # likes
    (
        "I like hiking and swimming.",
        {("Ana", "LIKES", "hiking", N), ("Ana", "LIKES", "swimming", N)},
    ),
    ("I love Italian food.", {("Ana", "LIKES", "Italian food", N)}),
    (
        "I enjoy reading, cooking and chess.",
        {
            ("Ana", "LIKES", "reading", N),
            ("Ana", "LIKES", "cooking", N),
            ("Ana", "LIKES", "chess", N),
        },
    ),
    ("I like to cook.", {("Ana", "LIKES", "cooking", N)}),
    ("I'm really into jazz.", {("Ana", "LIKES", "jazz", N)}),
    ("I'm a big fan of Radiohead.", {("Ana", "LIKES", "Radiohead", N)}),
    ("I hate traffic.", {("Ana", "DISLIKES", "traffic", N)}),
    ("I dislike crowds.", {("Ana", "DISLIKES", "crowds", N)}),
    ("I can't stand cilantro.", {("Ana", "DISLIKES", "cilantro", N)}),
    ("I don't like olives.", {("Ana", "DISLIKES", "olives", N)}),
    ("I don't like olives anymore.", {("Ana", "LIKES", "olives", NEG)}),
    ("Bob loves jazz.", {("Bob", "LIKES", "jazz", N)}),
    ("My favorite food is sushi.", {("Ana", "LIKES", "sushi", N)}),
    ("Bob's favourite band is Muse.", {("Bob", "LIKES", "Muse", N)}),
    ("Sushi is my favorite food.", {("Ana", "LIKES", "Sushi", N)}),
    # studies, birth, age
    ("I study at MIT.", {("Ana", "STUDIES_AT", "MIT", N)}),
    (
        "I'm studying computer science at Stanford University.",
        {
            ("Ana", "STUDIES", "computer science", N),
            ("Ana", "STUDIES_AT", "Stanford University", N),
        },
    ),
    ("I study biology.", {("Ana", "STUDIES", "biology", N)}),
    ("I'm a PhD student at Oxford.", {("Ana", "STUDIES_AT", "Oxford", N)}),
    ("I attend the University of Porto.", {("Ana", "STUDIES_AT", "University of Porto", N)}),
    ("I graduated from Yale in 2015.", {("Ana", "GRADUATED_FROM", "Yale", N)}),
    ("I was born in 1990.", {("Ana", "BORN_ON", "1990", N)}),
    (
        "I was born on 3 March 1990 in Porto.",
        {("Ana", "BORN_ON", "3 March 1990", N), ("Ana", "BORN_IN", "Porto", N)},
    ),
    ("I'm 32 years old.", {("Ana", "HAS_AGE", "32", N)}),
    ("Bob turned 40 last month.", {("Bob", "HAS_AGE", "40", N)}),
    # several statements, clauses, subjects
    (
        "I live in Lisbon and work at Acme.",
        {("Ana", "LIVES_IN", "Lisbon", N), ("Ana", "WORKS_AT", "Acme", N)},
    ),
    (
        "I live in Lisbon. My brother Rui lives in Porto. I love surfing!",
        {
            ("Ana", "LIVES_IN", "Lisbon", N),
            ("Rui", "SIBLING_OF", "Ana", N),
            ("Rui", "LIVES_IN", "Porto", N),
            ("Ana", "LIKES", "surfing", N),
        },
    ),
    ("My wife and I moved to Porto.", {("Ana", "LIVES_IN", "Porto", N)}),
    (
        "Ana and Bob live in Paris.",
        {("Ana", "LIVES_IN", "Paris", N), ("Bob", "LIVES_IN", "Paris", N)},
    ),
    ("I think Bob works at Globex.", {("Bob", "WORKS_AT", "Globex", N)}),
    ("Yesterday Bob moved to Porto.", {("Bob", "LIVES_IN", "Porto", N)}),
    (
        "Bob, who lives in Porto, joined Globex.",
        {("Bob", "LIVES_IN", "Porto", N), ("Bob", "WORKS_AT", "Globex", N)},
    ),
    ("Moved to Porto last week.", {("Ana", "LIVES_IN", "Porto", N)}),
    ("I used to work at Acme.", {("Ana", "WORKS_AT", "Acme", N)}),
    (
        "I lived in Lisbon before moving to Porto.",
        {("Ana", "LIVES_IN", "Lisbon", N), ("Ana", "LIVES_IN", "Porto", N)},
    ),
    ("I live in Lisbon, do you?", {("Ana", "LIVES_IN", "Lisbon", N)}),
    (
        "I moved to Porto in 2020, joined Globex and love it.",
        {("Ana", "LIVES_IN", "Porto", N), ("Ana", "WORKS_AT", "Globex", N)},
    ),
    (
        "Eva, my sister, lives in Rome.",
        {("Eva", "SIBLING_OF", "Ana", N), ("Eva", "LIVES_IN", "Rome", N)},
    ),
    (
        "My parents are Maria and Joe.",
        {("Maria", "PARENT_OF", "Ana", N), ("Joe", "PARENT_OF", "Ana", N)},
    ),
    ("I have a friend called Zoe.", {("Zoe", "FRIEND_OF", "Ana", N)}),
    ("Bob and Maria divorced in 2020.", {("Bob", "MARRIED_TO", "Maria", NEG)}),
    ("I was employed at Initech.", {("Ana", "WORKS_AT", "Initech", N)}),
    ("I got hired by Globex.", {("Ana", "WORKS_AT", "Globex", N)}),
    ("I retired from IBM.", {("Ana", "WORKS_AT", "IBM", NEG)}),
    ("I came from Paris.", {("Ana", "FROM", "Paris", N)}),
    ("I enrolled at MIT.", {("Ana", "STUDIES_AT", "MIT", N)}),
    ("My friend said Bob lives in Porto.", {("Bob", "LIVES_IN", "Porto", N)}),
    ("My girlfriend, Toby and I went camping.", set()),
    (
        "I'm a shooting guard for the team and our opener is next week.",
        {("Ana", "WORKS_AS", "shooting guard", N)},
    ),
    # case
    ("i live in lisbon", {("Ana", "LIVES_IN", "Lisbon", N)}),
    ("I LIVE IN LISBON", {("Ana", "LIVES_IN", "Lisbon", N)}),
    ("I live in lisbon.", {("Ana", "LIVES_IN", "Lisbon", N)}),
    ("bob works at globex", {("Bob", "WORKS_AT", "Globex", N)}),
    (
        "I WORK AT ACME AND LIVE IN OSLO",
        {("Ana", "WORKS_AT", "Acme", N), ("Ana", "LIVES_IN", "Oslo", N)},
    ),
]


@pytest.mark.parametrize(("text", "expected"), PATTERNS, ids=[t for t, _ in PATTERNS])
def test_patterns(text: str, expected: set[tuple[str, str, str, bool]]) -> None:
    assert triples(text) == expected


NOTHING = [
    "",
    "   ",
    "\n\n",
    "Hello!",
    "How are you?",
    "Do you live in Lisbon?",
    "Where do you work?",
    "Does Bob work at Acme?",
    "I would like to live in Paris.",
    "I'd love to visit Japan.",
    "I'm going to move to Paris.",
    "I want to work at Google.",
    "I might move to Berlin.",
    "I'm moving to Porto next month.",
    "If I lived in Paris I would be happy.",
    "She lives in Porto.",
    "He works at Globex.",
    "They moved to Rome.",
    "It is in Paris.",
    "My sister lives in Porto.",
    "You live in Lisbon.",
    "May I ask where you live?",
    "I live in a small town.",
    "I work at a bakery.",
    "I joined the gym.",
    "I left early.",
    "I left my keys at home.",
    "I love it!",
    "I like that.",
    "I love you.",
    "Thanks, I love this!",
    "Having loved ones who support us is so important.",
    "You can meet like-minded people.",
    "Things like that happen.",
    "I feel like dancing.",
    "I'm tired.",
    "I'm a bit tired.",
    "I'm a big believer in luck.",
    "I'm the best.",
    "Ana is the best.",
    "My friend is coming.",
    "I managed to finish.",
    "I work from home.",
    "I work in finance.",
    "Visit Paris!",
    "Join Acme today!",
    "I was in love.",
    "I have 2000 followers.",
    "I'm in Lisbon this week.",
    "Eu moro em Lisboa.",
    "我住在北京。",
    "我的朋友在腾讯工作。",
    "Я живу в Москве.",
    "أنا أعيش في القاهرة",
    "Ich wohne in Berlin.",
    "🙂🙂🙂",
    "1234567890",
    "....",
    "?!?!",
    "'); MATCH (n) DETACH DELETE n; //",
    "Robert'); DROP TABLE students;--",
]


@pytest.mark.parametrize("text", NOTHING, ids=[repr(t)[:40] for t in NOTHING])
def test_nothing_is_extracted(text: str) -> None:
    assert run(text).relations == []


# ---------------------------------------------------------------- facts and times


@pytest.mark.parametrize(
    ("text", "relation", "fact", "valid_at", "invalid_at"),
    [
        ("I live in Lisbon.", "LIVES_IN", "Ana lives in Lisbon.", None, None),
        (
            "I moved to Porto in May 2024.",
            "LIVES_IN",
            "Ana moved to Porto in May 2024.",
            d(2024, 5, 1),
            None,
        ),
        (
            "Ana moved to Porto in May 2024.",
            "LIVES_IN",
            "Ana moved to Porto in May 2024.",
            d(2024, 5, 1),
            None,
        ),
        (
            "In May 2024 I moved to Porto.",
            "LIVES_IN",
            "Ana moved to Porto in May 2024.",
            d(2024, 5, 1),
            None,
        ),
        (
            "I moved to Porto last month.",
            "LIVES_IN",
            "Ana moved to Porto in May 2024.",
            d(2024, 5, 1),
            None,
        ),
        (
            "I moved to Porto yesterday.",
            "LIVES_IN",
            "Ana moved to Porto on 9 June 2024.",
            d(2024, 6, 9),
            None,
        ),
        (
            "I joined Google last Friday.",
            "WORKS_AT",
            "Ana joined Google on 7 June 2024.",
            d(2024, 6, 7),
            None,
        ),
        (
            "I started at Stripe two weeks ago.",
            "WORKS_AT",
            "Ana started working at Stripe around 27 May 2024.",
            d(2024, 5, 27),
            None,
        ),
        (
            "I relocated to Berlin last year.",
            "LIVES_IN",
            "Ana moved to Berlin in 2023.",
            d(2023, 1, 1),
            None,
        ),
        (
            "I've lived in Lisbon since 2019.",
            "LIVES_IN",
            "Ana has lived in Lisbon since 2019.",
            d(2019, 1, 1),
            None,
        ),
        (
            "I've lived in Lisbon for 5 years.",
            "LIVES_IN",
            "Ana has lived in Lisbon since 2019.",
            d(2019, 6, 10),
            None,
        ),
        (
            "I have worked at Acme for the past 3 years.",
            "WORKS_AT",
            "Ana has worked at Acme since 2021.",
            d(2021, 6, 10),
            None,
        ),
        (
            "I lived in Lisbon from 2019 to 2022.",
            "LIVES_IN",
            "Ana lived in Lisbon from 2019 to 2022.",
            d(2019, 1, 1),
            d(2022, 1, 1),
        ),
        (
            "I lived in Lisbon until May 2022.",
            "LIVES_IN",
            "Ana lived in Lisbon until May 2022.",
            None,
            d(2022, 5, 1),
        ),
        ("I lived in Lisbon.", "LIVES_IN", "Ana lived in Lisbon.", None, REF),
        ("I lived in Lisbon for 5 years.", "LIVES_IN", "Ana lived in Lisbon.", None, REF),
        ("I used to work at Acme.", "WORKS_AT", "Ana worked at Acme.", None, REF),
        ("I was a nurse.", "WORKS_AS", "Ana worked as a nurse.", None, REF),
        ("I left Acme.", "WORKS_AT", "Ana left Acme.", None, REF),
        (
            "I quit my job at Acme in March.",
            "WORKS_AT",
            "Ana left Acme in March 2024.",
            None,
            d(2024, 3, 1),
        ),
        ("I no longer work at Acme.", "WORKS_AT", "Ana no longer works at Acme.", None, REF),
        (
            "I don't live in Lisbon anymore.",
            "LIVES_IN",
            "Ana no longer lives in Lisbon.",
            None,
            REF,
        ),
        (
            "I married Maria in 2019.",
            "MARRIED_TO",
            "Ana married Maria in 2019.",
            d(2019, 1, 1),
            None,
        ),
        ("I'm married to Maria.", "MARRIED_TO", "Ana is married to Maria.", None, None),
        ("I was born in 1990.", "BORN_ON", "Ana was born in 1990.", d(1990, 1, 1), None),
        (
            "I was born in Porto in 1990.",
            "BORN_IN",
            "Ana was born in Porto in 1990.",
            d(1990, 1, 1),
            None,
        ),
        ("My sister is Eva.", "SIBLING_OF", "Eva is Ana's sister.", None, None),
        ("Carol is Bob's manager.", "MANAGES", "Carol is Bob's manager.", None, None),
        ("I report to Carol.", "MANAGES", "Carol manages Ana.", None, None),
        ("My son Tom is 5 years old.", "PARENT_OF", "Tom is Ana's son.", None, None),
        ("My ex-wife Maria lives in Rome.", "MARRIED_TO", "Maria is Ana's ex-wife.", None, REF),
        ("I love Italian food.", "LIKES", "Ana loves Italian food.", None, None),
        ("I like to cook.", "LIKES", "Ana likes cooking.", None, None),
        ("I don't like olives.", "DISLIKES", "Ana does not like olives.", None, None),
        ("My favorite food is sushi.", "LIKES", "Ana's favorite food is sushi.", None, None),
        (
            "Bob is a software engineer at Globex.",
            "WORKS_AS",
            "Bob works as a software engineer.",
            None,
            None,
        ),
        ("I'm the CEO of Acme.", "WORKS_AT", "Ana is the CEO of Acme.", None, None),
        (
            "I started a new job as a Financial Analyst last week.",
            "WORKS_AS",
            "Ana started working as a Financial Analyst in the week of 3 June 2024.",
            d(2024, 6, 3),
            None,
        ),
    ],
)
def test_facts_and_times(
    text: str, relation: str, fact: str, valid_at: datetime | None, invalid_at: datetime | None
) -> None:
    rel = one(text, relation)
    assert rel.fact == fact
    assert rel.valid_at == valid_at
    assert rel.invalid_at == invalid_at


def test_a_time_in_another_clause_is_not_borrowed() -> None:
    rel = one("I'm a shooting guard for the team and our opener is next week.")
    assert rel.valid_at is None
    rels = {
        r.relation: r for r in run("I have lived in Lisbon since 2019 and work at Acme.").relations
    }
    assert rels["LIVES_IN"].valid_at == d(2019, 1, 1)
    assert rels["WORKS_AT"].valid_at is None


def test_past_tense_of_a_fixed_fact_does_not_end_it() -> None:
    for text in ("I grew up in Lyon.", "I came from Paris.", "I was born in Porto."):
        assert one(text).invalid_at is None, text


def test_moved_from_to_ends_one_and_starts_the_other() -> None:
    rels = {r.target: r for r in run("I moved from Lisbon to Porto in May 2024.").relations}
    assert rels["Lisbon"].negated and rels["Lisbon"].invalid_at == d(2024, 5, 1)
    assert not rels["Porto"].negated and rels["Porto"].valid_at == d(2024, 5, 1)
    assert rels["Porto"].fact == "Ana moved from Lisbon to Porto in May 2024."


def test_each_clause_gets_its_own_time() -> None:
    rels = {
        r.relation: r
        for r in run("I moved to Porto in 2020 and joined Globex in March 2024.").relations
    }
    assert rels["LIVES_IN"].valid_at == d(2020, 1, 1)
    assert rels["WORKS_AT"].valid_at == d(2024, 3, 1)


def test_a_fronted_time_dates_every_event_of_the_sentence() -> None:
    rels = {r.relation: r for r in run("Last year I moved to Porto and joined Globex.").relations}
    assert rels["LIVES_IN"].valid_at == d(2023, 1, 1)
    assert rels["WORKS_AT"].valid_at == d(2023, 1, 1)


def test_types() -> None:
    ex = run(
        "Bob is a software engineer at Globex Corp. My sister Eva lives in Madrid. "
        "I have a dog named Max. I love jazz."
    )
    types = {e.name: e.type for e in ex.entities}
    assert types == {
        "Bob": "Person",
        "Globex Corp": "Organization",
        "software engineer": "JobTitle",
        "Eva": "Person",
        "Ana": "Person",
        "Madrid": "Place",
        "Max": "Animal",
        "jazz": "Concept",
    }
    for rel in ex.relations:
        assert rel.source_type and is_valid_type(rel.source_type)
        assert rel.target_type and is_valid_type(rel.target_type)


RELATIONS = RulesExtractor.relations()


def test_relation_vocabulary_is_valid() -> None:
    assert set(ontology.RELATIONS) >= RELATIONS  # one vocabulary
    for name in RELATIONS:
        assert is_valid_relation(name)
    for _text, expected in PATTERNS:
        for _s, relation, _t, _n in expected:
            assert relation in RELATIONS


def test_every_relation_names_its_episode_and_its_entities() -> None:
    ex = run("I live in Lisbon and work at Acme. My sister Eva moved to Porto in May 2024.")
    names = {e.name for e in ex.entities}
    assert ex.relations
    for rel in ex.relations:
        assert rel.episode_id == "ep1"
        assert rel.source in names and rel.target in names
        assert rel.fact.endswith(".") and rel.fact[0].isupper()
        assert "I " not in f" {rel.fact}" and " my " not in f" {rel.fact} "


def test_duplicates_are_collapsed() -> None:
    ex = run("I live in Lisbon. I live in Lisbon! i live in lisbon")
    assert len(ex.relations) == 1
    assert len(ex.entities) == 2


def test_sentence_splitting() -> None:
    assert split_sentences("Hi. I live in Lisbon! Dr. Who works at St. Mary's. Ok?\nNew line") == [
        "Hi.",
        "I live in Lisbon!",
        "Dr. Who works at St. Mary's.",
        "Ok?",
        "New line",
    ]
    assert split_sentences("我住在北京。我喜欢茶。") == ["我住在北京。", "我喜欢茶。"]
    assert split_sentences("") == []


def test_the_documented_table_is_what_the_extractor_does() -> None:
    """docs/rules-extractor.md lists patterns with their triples; keep the two in sync."""
    import re
    from pathlib import Path

    doc = Path(__file__).resolve().parents[1] / "docs" / "rules-extractor.md"
    if not doc.exists():
        pytest.skip("docs/rules-extractor.md not present")
    rows = 0
    for line in doc.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.split(" | ")]
        if len(cells) != 3 or not cells[1].startswith("`"):
            continue
        said = cells[0].lstrip("| ").strip()
        documented = set(re.findall(r"`(.+?) -([A-Z_]+)-> (.+?)`", cells[1]))
        got = {(r.source, r.relation, r.target) for r in run(said).relations}
        assert got == documented, said
        rows += 1
    assert rows >= 100


# ---------------------------------------------------------------- the Extractor contract


def test_extract_uses_speakers_and_episode_ids() -> None:
    eps = [
        episode("I live in Lisbon.", ep_id="e1"),
        episode("I work at Acme.", ep_id="e2", name="Bob"),
    ]
    ctx = ExtractionContext(speakers={"e1": "Ana Lopez"}, reference_time=REF)
    extraction, usage = RulesExtractor().extract(eps, ctx)
    assert usage == Usage()
    got = {(r.source, r.relation, r.target, r.episode_id) for r in extraction.relations}
    assert got == {("Ana Lopez", "LIVES_IN", "Lisbon", "e1"), ("Bob", "WORKS_AT", "Acme", "e2")}


def test_extract_falls_back_to_user() -> None:
    ctx = ExtractionContext(reference_time=REF)
    extraction, _ = RulesExtractor().extract([episode("I live in Lisbon.")], ctx)
    assert [(r.source, r.target) for r in extraction.relations] == [("user", "Lisbon")]


def test_each_episode_resolves_against_its_own_time() -> None:
    eps = [
        episode("I moved to Porto yesterday.", ep_id="a", when=d(2023, 5, 8, 13, 56)),
        episode("I joined Globex yesterday.", ep_id="b", when=d(2024, 1, 4, 0, 19)),
    ]
    ctx = ExtractionContext(speakers={"a": "Ana", "b": "Ana"}, reference_time=REF)
    extraction, _ = RulesExtractor().extract(eps, ctx)
    assert {r.episode_id: r.valid_at for r in extraction.relations} == {
        "a": d(2023, 5, 7),
        "b": d(2024, 1, 3),
    }


def test_kin_named_in_one_message_resolves_in_the_next() -> None:
    eps = [
        episode("My sister is Eva.", ep_id="a"),
        episode("My sister lives in Madrid.", ep_id="b"),
    ]
    ctx = ExtractionContext(speakers={"a": "Ana", "b": "Ana"}, reference_time=REF)
    extraction, _ = RulesExtractor().extract(eps, ctx)
    assert ("Eva", "LIVES_IN", "Madrid", "b") in {
        (r.source, r.relation, r.target, r.episode_id) for r in extraction.relations
    }


def test_known_entities_give_names_and_types() -> None:
    known = [
        Entity(
            partition="u:ana",
            name="Lisbon",
            key="lisbon",
            type="Place",
            created_at=REF,
            updated_at=REF,
        )
    ]
    ctx = ExtractionContext(speakers={"e": "Ana"}, reference_time=REF, known_entities=known)
    extraction, _ = RulesExtractor().extract([episode("i left lisbon", ep_id="e")], ctx)
    [rel] = extraction.relations
    assert (rel.source, rel.relation, rel.target, rel.negated) == (
        "Ana",
        "LIVES_IN",
        "Lisbon",
        True,
    )


def test_is_an_extractor_without_llm() -> None:
    assert isinstance(RulesExtractor(), Extractor)
    assert RulesExtractor.uses_llm is False


# ---------------------------------------------------------------- robustness


def test_empty_input() -> None:
    ctx = ExtractionContext(reference_time=REF)
    assert RulesExtractor().extract([], ctx) == (Extraction(), Usage())
    assert RulesExtractor().extract([episode("")], ctx)[0] == Extraction()


HOSTILE = [
    "I work at Acme') DETACH DELETE n //",
    "I live in Lisbon]->(x) MATCH (n) DETACH DELETE n RETURN 1 //",
    "I work at `Robert'); DROP TABLE facts;--`",
    "I live in {{7*7}} and ${jndi:ldap://x}",
    "I work at Acme\x00Corp and live in Lis\u202ebon",
    "I live in " + "A" * 5000,
    "My sister is " + "Eva " * 500,
    "I like " + "and " * 1000 + "tea",
    "\ufeffI live in Lisbon\u200b.",
]


@pytest.mark.parametrize("text", HOSTILE, ids=[repr(t)[:30] for t in HOSTILE])
def test_hostile_text(text: str) -> None:
    ex = run(text)
    for rel in ex.relations:
        assert is_valid_relation(rel.relation)
        for name in (rel.source, rel.target):
            assert name.strip() and len(name) <= 200
            assert not any(ch in name for ch in "()[]{};`$\x00")


def test_hostile_names_are_plain_words() -> None:
    assert triples("I work at Acme') DETACH DELETE n //") == {("Ana", "WORKS_AT", "Acme", N)}


def test_a_100k_character_message_is_fast() -> None:
    base = (
        "I live in Lisbon and work at Acme. My sister Eva moved to Porto in May 2024. "
        "Yesterday I said that I love hiking, swimming and reading! Do you? "
    )
    numbered = "".join(
        f"I live in City{i} and my friend Bob{i} works at Org{i}. " for i in range(3000)
    )
    texts = [
        (base * 1000)[:100_000],
        numbered[:100_000],
        (
            "I live in Lisbon and work at Acme and my sister Eva moved to Porto in May 2024 and "
            * 1300
        )[:100_000],
        ("I like " * 15000)[:100_000],
        ("Ana is my sister is " * 5000)[:100_000],
        ("May 2024 " * 12000)[:100_000],
        ("a" * 100_000),
        ("我的朋友在腾讯工作" * 12000)[:100_000],
        ("((((]]]]''''" * 9000)[:100_000],
    ]
    # No pattern may backtrack catastrophically: each text must finish (a hang guard, not a
    # speed assertion; the speed of the rules extractor lives in benchmarks.perf).
    for text in texts:
        assert len(text) == 100_000
        with _hang_guard(120):
            run(text)
    assert len(run(numbered[:100_000]).relations) > 5000


@contextlib.contextmanager
def _hang_guard(seconds: int):
    """Fail (instead of hanging the suite) when the body runs past `seconds`."""

    def stop(signum, frame):
        raise AssertionError(f"still running after {seconds} s: catastrophic backtracking?")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_never_raises(text: str) -> None:
    ex = run(text)
    names = {e.name for e in ex.entities}
    for rel in ex.relations:
        assert is_valid_relation(rel.relation)
        assert rel.source in names and rel.target in names


WORDS = st.sampled_from(
    "I i Ana Bob my sister is live lives in at work works moved to from Lisbon Acme and , . ! ? "
    "'s not no longer left quit joined the a nurse love like hate since 2020 last May yesterday "
    "who was were used born married manager friend with favorite food".split()
)


@settings(max_examples=300, deadline=None)
@given(st.lists(WORDS, max_size=40))
def test_word_salad_never_raises(words: list[str]) -> None:
    ex = run(" ".join(words))
    for rel in ex.relations:
        assert rel.relation in RELATIONS
        assert rel.fact
