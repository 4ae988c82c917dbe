"""A seeded synthetic world: people in families, organisations and cities; homes and jobs that
change over time; siblings, parents, friendships and reporting lines. Everything here is ground
truth: the gold facts the dialogue states and the questions are asked about.

Time line: the dialogue runs from START to END (2022-2024). Homes and jobs held at START began
earlier (2018-2021); later moves and job changes happen at least 100 days after START and 120
days apart, and each one ends the previous value (its stint's `end`). Family and friendship
facts carry no world date (true throughout); a reporting line starts when both people hold
their final jobs at the same organisation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from benchmarks.relational.names import CITIES, ORGANISATIONS, Namer

START = date(2022, 1, 3)
END = date(2024, 12, 20)
FIRST_CHANGE = START + timedelta(days=100)
MIN_GAP = 120

LIVES_IN = "LIVES_IN"
WORKS_AT = "WORKS_AT"
SIBLING_OF = "SIBLING_OF"
PARENT_OF = "PARENT_OF"
FRIEND_OF = "FRIEND_OF"
REPORTS_TO = "REPORTS_TO"
SYMMETRIC = {SIBLING_OF, FRIEND_OF}


@dataclass(frozen=True)
class Person:
    id: int
    first: str
    last: str
    gender: str  # "f" | "m"
    single: bool = False  # known by the first name alone (name style "first")

    @property
    def name(self) -> str:
        return self.first if self.single else f"{self.first} {self.last}"

    @property
    def pronoun(self) -> str:
        return "she" if self.gender == "f" else "he"


@dataclass
class Stint:
    """A home or a job held from `start` until `end` (None: still)."""

    person: int
    relation: str  # LIVES_IN | WORKS_AT
    target: str
    start: date
    end: date | None
    index: int  # 0 for the first one in the person's history
    fact_id: str = ""


@dataclass
class GoldFact:
    id: str
    source: str
    relation: str
    target: str
    sentence: str
    source_type: str
    target_type: str
    valid_at: date | None  # None: no world date (true throughout)
    invalid_at: date | None = None
    ends: str | None = None  # the gold fact this one ends (a move or a job change)
    symmetric: bool = False

    def endpoints(self) -> set[str]:
        return {self.source, self.target}

    def triple(self) -> tuple[str, str, str]:
        return (self.source, self.relation, self.target)


@dataclass
class World:
    seed: int
    people: list[Person]
    cities: list[str]
    orgs: list[str]
    homes: dict[int, list[Stint]]
    jobs: dict[int, list[Stint]]
    siblings: dict[int, list[int]]
    parents: dict[int, list[int]]  # child -> parents
    children: dict[int, list[int]]  # parent -> children
    friends: dict[int, list[int]]
    manager: dict[int, tuple[int, date]]  # employee -> (manager, since)
    facts: dict[str, GoldFact] = field(default_factory=dict)
    # fact ids by relation key: (relation, person id, other id or target)
    fact_index: dict[tuple, str] = field(default_factory=dict)

    def person(self, pid: int) -> Person:
        return self.people[pid]

    def by_name(self) -> dict[str, Person]:
        return {p.name: p for p in self.people}

    def current(self, stints: list[Stint]) -> Stint:
        return stints[-1]

    def relation_fact(self, relation: str, a: int, b: int) -> GoldFact:
        """The gold fact linking two people (symmetric relations in either order)."""
        key = (relation, a, b)
        if key not in self.fact_index and relation in SYMMETRIC:
            key = (relation, b, a)
        return self.facts[self.fact_index[key]]

    def summary(self) -> dict[str, int]:
        by_rel: dict[str, int] = {}
        for f in self.facts.values():
            by_rel[f.relation] = by_rel.get(f.relation, 0) + 1
        return {
            "people": len(self.people),
            "organisations": len(self.orgs),
            "cities": len(self.cities),
            "gold_facts": len(self.facts),
            **{f"facts_{k}": v for k, v in sorted(by_rel.items())},
        }


def _rand_date(rng: random.Random, lo: date, hi: date) -> date:
    return lo + timedelta(days=rng.randint(0, max(0, (hi - lo).days)))


def _change_dates(rng: random.Random, n: int) -> list[date]:
    """n sorted dates in [FIRST_CHANGE, END - 45 days], at least MIN_GAP days apart."""
    for _ in range(200):
        days = sorted(rng.sample(range((END - timedelta(days=45) - FIRST_CHANGE).days), n))
        if all(b - a >= MIN_GAP for a, b in zip(days, days[1:], strict=False)):
            return [FIRST_CHANGE + timedelta(days=d) for d in days]
    return [FIRST_CHANGE + timedelta(days=MIN_GAP * i + 10) for i in range(n)]


def _stints(rng: random.Random, pid: int, relation: str, pool: list[str]) -> list[Stint]:
    changes = rng.choices([0, 1, 2], weights=[0.35, 0.4, 0.25])[0]
    targets = rng.sample(pool, changes + 1)  # never returns to an earlier value
    starts = [_rand_date(rng, date(2018, 1, 1), date(2021, 10, 31)), *_change_dates(rng, changes)]
    out = []
    for i, (target, start) in enumerate(zip(targets, starts, strict=True)):
        end = starts[i + 1] if i + 1 < len(starts) else None
        out.append(Stint(pid, relation, target, start, end, i))
    return out


def _family_shapes(rng: random.Random, n: int) -> list[tuple[int, int]]:
    """(parents, children) per family until n people are placed."""
    shapes = [(0, 1), (0, 2), (1, 1), (0, 3), (1, 2), (2, 2), (1, 3), (2, 3)]
    weights = [0.22, 0.16, 0.12, 0.08, 0.14, 0.12, 0.08, 0.08]
    out, placed = [], 0
    while placed < n:
        p, c = rng.choices(shapes, weights=weights)[0]
        if placed + p + c > n:
            p, c = 0, n - placed
        out.append((p, c))
        placed += p + c
    return out


def generate_world(n_people: int = 30, seed: int = 0, names: str = "full") -> World:
    """A seeded world; `names` is a name style of benchmarks.relational.names.Namer."""
    if n_people < 4:
        raise ValueError("a world needs at least 4 people")
    rng = random.Random(seed)
    namer = Namer(rng, names)
    shapes = _family_shapes(rng, n_people)
    surnames = namer.surnames(len(shapes))
    people: list[Person] = []
    siblings: dict[int, list[int]] = {}
    parents: dict[int, list[int]] = {}
    children: dict[int, list[int]] = {}
    for (n_par, n_child), last in zip(shapes, surnames, strict=True):
        used: set[str] = set()

        def make(gender: str, last: str = last, used: set[str] = used) -> int:
            first = namer.first(gender, last, used)
            used.add(first)
            people.append(Person(len(people), first, last, gender, namer.single))
            return people[-1].id

        par = [make("f" if i == 0 else "m") for i in range(n_par)]
        if n_par == 1 and rng.random() < 0.5:  # single fathers too
            pid = par[0]
            old = people[pid]
            used.discard(old.first)
            namer.release(old.first, last)
            first = namer.first("m", last, used)
            used.add(first)
            people[pid] = Person(pid, first, last, "m", namer.single)
        kids = [make(rng.choice("fm")) for _ in range(n_child)]
        for k in kids:
            siblings[k] = [s for s in kids if s != k]
            parents[k] = list(par)
        for p in par:
            children[p] = list(kids)

    n = len(people)
    cities = rng.sample(CITIES, max(8, min(len(CITIES), n // 3)))
    orgs = rng.sample(list(ORGANISATIONS), max(8, min(len(ORGANISATIONS), n // 3)))
    homes = {p.id: _stints(rng, p.id, LIVES_IN, cities) for p in people}
    jobs = {p.id: _stints(rng, p.id, WORKS_AT, orgs) for p in people}

    family = {
        p.id: set(siblings.get(p.id, [])) | set(parents.get(p.id, [])) | set(children.get(p.id, []))
        for p in people
    }
    friends: dict[int, list[int]] = {p.id: [] for p in people}
    target_pairs = int(n * 0.8)
    tries = 0
    while sum(len(v) for v in friends.values()) // 2 < target_pairs and tries < n * 50:
        tries += 1
        a, b = rng.sample(range(n), 2)
        if b in friends[a] or b in family[a] or len(friends[a]) >= 4 or len(friends[b]) >= 4:
            continue
        friends[a].append(b)
        friends[b].append(a)

    # Reporting lines among the current staff of each organisation: a tree, earliest hire on top.
    manager: dict[int, tuple[int, date]] = {}
    staff: dict[str, list[Stint]] = {}
    for stints in jobs.values():
        staff.setdefault(stints[-1].target, []).append(stints[-1])
    for org in orgs:
        members = sorted(staff.get(org, []), key=lambda s: (s.start, s.person))
        for i, s in enumerate(members[1:], start=1):
            if rng.random() < 0.75:
                boss = members[rng.randrange(0, i)]
                manager[s.person] = (boss.person, max(s.start, boss.start, START))

    world = World(
        seed, people, cities, orgs, homes, jobs, siblings, parents, children, friends, manager
    )
    _gold_facts(world)
    return world


def _word_sibling(p: Person) -> str:
    return "sister" if p.gender == "f" else "brother"


def _word_parent(p: Person) -> str:
    return "mother" if p.gender == "f" else "father"


def _word_child(p: Person) -> str:
    return "daughter" if p.gender == "f" else "son"


def _gold_facts(world: World) -> None:
    counter = 0

    def new(fact: GoldFact, key: tuple) -> GoldFact:
        nonlocal counter
        counter += 1
        fact.id = f"g{counter}"
        world.facts[fact.id] = fact
        world.fact_index[key] = fact.id
        return fact

    for p in world.people:
        for stints, rel, ttype, verb in (
            (world.homes[p.id], LIVES_IN, "Place", "lives in"),
            (world.jobs[p.id], WORKS_AT, "Organization", "works at"),
        ):
            previous = None
            for s in stints:
                fact = new(
                    GoldFact(
                        "",
                        p.name,
                        rel,
                        s.target,
                        f"{p.name} {verb} {s.target}.",
                        "Person",
                        ttype,
                        valid_at=s.start,
                        invalid_at=s.end,
                        ends=previous,
                    ),
                    (rel, p.id, s.index),
                )
                s.fact_id = fact.id
                previous = fact.id
    for a, sibs in sorted(world.siblings.items()):
        for b in sibs:
            if b < a:
                continue
            pa, pb = world.person(a), world.person(b)
            new(
                GoldFact(
                    "",
                    pa.name,
                    SIBLING_OF,
                    pb.name,
                    f"{pa.name} and {pb.name} are siblings: {pb.name} is {pa.name}'s "
                    f"{_word_sibling(pb)}.",
                    "Person",
                    "Person",
                    None,
                    symmetric=True,
                ),
                (SIBLING_OF, a, b),
            )
    for child, pars in sorted(world.parents.items()):
        for par in pars:
            pp, pc = world.person(par), world.person(child)
            new(
                GoldFact(
                    "",
                    pp.name,
                    PARENT_OF,
                    pc.name,
                    f"{pp.name} is {pc.name}'s {_word_parent(pp)}.",
                    "Person",
                    "Person",
                    None,
                ),
                (PARENT_OF, par, child),
            )
    for a, fs in sorted(world.friends.items()):
        for b in sorted(fs):
            if b < a:
                continue
            pa, pb = world.person(a), world.person(b)
            new(
                GoldFact(
                    "",
                    pa.name,
                    FRIEND_OF,
                    pb.name,
                    f"{pa.name} and {pb.name} are friends.",
                    "Person",
                    "Person",
                    None,
                    symmetric=True,
                ),
                (FRIEND_OF, a, b),
            )
    for e, (m, since) in sorted(world.manager.items()):
        pe, pm = world.person(e), world.person(m)
        new(
            GoldFact(
                "",
                pe.name,
                REPORTS_TO,
                pm.name,
                f"{pm.name} is {pe.name}'s manager.",
                "Person",
                "Person",
                since,
            ),
            (REPORTS_TO, e, m),
        )


def check_names(world: World) -> list[str]:
    """Entity names that contain another entity name as a whole word (would blur answer
    matching); empty for every world the generator makes."""
    import re

    names = [p.name for p in world.people] + world.cities + world.orgs
    clashes = []
    for a in names:
        for b in names:
            if a != b and re.search(rf"\b{re.escape(b)}\b", a, re.IGNORECASE):
                clashes.append(f"{b!r} in {a!r}")
    return clashes
