"""Questions about a World with gold answers and gold support paths (gold fact ids).

Types (hops = number of facts in the support path):
- 1hop      "Where does Ana Duarte live?" / work / manager / brother / mother ...
- 2hop      "Where does Ana Duarte's brother work?"
- 3hop      "Where does the manager of Ana Duarte's brother live?"
- temporal  "Where did Ana Duarte live before Porto?" (support: the previous and the anchor
            fact) and "Where did Ana Duarte work in March 2024?" (support: the fact valid then)
- set       "Who works at Globex?" / "Who lives in Porto?" (answers: every current one)
- unanswerable  about a person who does not exist (a new combination of a first name and a
            surname that both occur in the world) or a relation the world never has
            ("Who is Ana Duarte married to?"); no answer, no support.

Chains only use relations with a unique value (a person's only brother, their mother, their
manager), and are skipped when the answer equals the asking person's own value for the final
relation (which a 1-hop lookup would find by accident).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from benchmarks.relational.dialogue import MONTHS, month_year
from benchmarks.relational.names import FEMALE, MALE
from benchmarks.relational.world import (
    END,
    LIVES_IN,
    PARENT_OF,
    REPORTS_TO,
    SIBLING_OF,
    WORKS_AT,
    World,
)

TYPES = ("1hop", "2hop", "3hop", "temporal", "set", "unanswerable")


@dataclass
class Question:
    id: str
    type: str
    hops: int
    text: str
    answers: list[str]
    support: list[str]  # gold fact ids
    subtype: str = ""
    entity: str = ""  # the person the question names
    meta: dict = field(default_factory=dict)


def _unique(world: World, pid: int, role: str) -> int | None:
    """The one person in `role` to pid (brother, sister, mother, father, son, daughter,
    manager), or None when there is none or several."""
    if role == "manager":
        m = world.manager.get(pid)
        return m[0] if m else None
    gender = "m" if role in ("brother", "father", "son") else "f"
    pool = {
        "brother": world.siblings,
        "sister": world.siblings,
        "mother": world.parents,
        "father": world.parents,
        "son": world.children,
        "daughter": world.children,
    }[role].get(pid, [])
    match = [p for p in pool if world.person(p).gender == gender]
    return match[0] if len(match) == 1 else None


def _role_fact(world: World, pid: int, role: str, other: int) -> str:
    if role == "manager":
        return world.relation_fact(REPORTS_TO, pid, other).id
    if role in ("brother", "sister"):
        return world.relation_fact(SIBLING_OF, pid, other).id
    if role in ("mother", "father"):
        return world.relation_fact(PARENT_OF, other, pid).id
    return world.relation_fact(PARENT_OF, pid, other).id  # son / daughter


ROLES = ("brother", "sister", "mother", "father", "son", "daughter", "manager")
FINALS = {"live": LIVES_IN, "work": WORKS_AT}


def _near(world: World, pid: int) -> set[int]:
    """pid and the people one family or reporting step away from them."""
    near = {pid} | set(world.siblings.get(pid, [])) | set(world.parents.get(pid, []))
    near |= set(world.children.get(pid, []))
    if pid in world.manager:
        near.add(world.manager[pid][0])
    near |= {e for e, (m, _) in world.manager.items() if m == pid}
    return near


def _final(world: World, pid: int, final: str) -> tuple[str, str]:
    stints = world.homes[pid] if final == "live" else world.jobs[pid]
    return stints[-1].target, stints[-1].fact_id


def generate_questions(world: World, per_type: int = 40, seed: int | None = None) -> list[Question]:
    rng = random.Random((world.seed + 1) * 104729 if seed is None else seed)
    names = {p.id: p.name for p in world.people}
    pool: dict[str, list[Question]] = {t: [] for t in TYPES}

    def q(type_: str, hops: int, text: str, answers, support, subtype="", entity="", **meta):
        pool[type_].append(
            Question("", type_, hops, text, list(answers), list(support), subtype, entity, meta)
        )

    for p in world.people:
        pid, name = p.id, p.name
        # 1 hop
        for final, verb in (("live", "live"), ("work", "work")):
            ans, fid = _final(world, pid, final)
            q("1hop", 1, f"Where does {name} {verb}?", [ans], [fid], final, name)
        for role in ROLES:
            other = _unique(world, pid, role)
            if other is None:
                continue
            q(
                "1hop",
                1,
                f"Who is {name}'s {role}?",
                [names[other]],
                [_role_fact(world, pid, role, other)],
                role,
                name,
            )
            # 2 hops: role then a final relation
            for final, verb in (("live", "live"), ("work", "work")):
                if role == "manager" and final == "work":
                    continue  # same organisation by construction
                ans, fid = _final(world, other, final)
                if ans == _final(world, pid, final)[0]:
                    continue
                q(
                    "2hop",
                    2,
                    f"Where does {name}'s {role} {verb}?",
                    [ans],
                    [_role_fact(world, pid, role, other), fid],
                    f"{role}>{final}",
                    name,
                )
            # 2 hops: role then manager
            boss = _unique(world, other, "manager")
            if boss is not None and boss != pid and role != "manager":
                q(
                    "2hop",
                    2,
                    f"Who is the manager of {name}'s {role}?",
                    [names[boss]],
                    [
                        _role_fact(world, pid, role, other),
                        _role_fact(world, other, "manager", boss),
                    ],
                    f"{role}>manager",
                    name,
                )
            # 3 hops: role, role2, final
            for role2 in ROLES:
                third = _unique(world, other, role2)
                if third is None or third in _near(world, pid):
                    continue  # a shorter path reaches it (e.g. the son of my mother)
                for final, verb in (("live", "live"), ("work", "work")):
                    if role2 == "manager" and final == "work":
                        continue
                    ans, fid = _final(world, third, final)
                    if ans in (_final(world, pid, final)[0], _final(world, other, final)[0]):
                        continue
                    q(
                        "3hop",
                        3,
                        f"Where does the {role2} of {name}'s {role} {verb}?",
                        [ans],
                        [
                            _role_fact(world, pid, role, other),
                            _role_fact(world, other, role2, third),
                            fid,
                        ],
                        f"{role}>{role2}>{final}",
                        name,
                    )
        # temporal
        for final, stints in (("live", world.homes[pid]), ("work", world.jobs[pid])):
            for i in range(1, len(stints)):
                prev, cur = stints[i - 1], stints[i]
                text = (
                    f"Where did {name} live before {cur.target}?"
                    if final == "live"
                    else f"Where did {name} work before joining {cur.target}?"
                )
                q(
                    "temporal",
                    2,
                    text,
                    [prev.target],
                    [prev.fact_id, cur.fact_id],
                    f"before>{final}",
                    name,
                )
            for s in stints:
                month = _inner_month(s.start, s.end, rng)
                if month is None or (s.end is None and len(stints) > 1 and rng.random() < 0.7):
                    continue  # mostly ask about past values: the current one is a 1-hop question
                verb = "live" if final == "live" else "work"
                q(
                    "temporal",
                    1,
                    f"Where did {name} {verb} in {month_year(month)}?",
                    [s.target],
                    [s.fact_id],
                    f"in-month>{final}",
                    name,
                    month=month.isoformat(),
                    past=s.end is not None,
                )
    # set questions
    for org in world.orgs:
        staff = [names[pid] for pid, st in world.jobs.items() if st[-1].target == org]
        if 2 <= len(staff) <= 8:
            support = [st[-1].fact_id for pid, st in world.jobs.items() if st[-1].target == org]
            q("set", 1, f"Who works at {org}?", sorted(staff), support, "works-at", org)
    for city in world.cities:
        locals_ = [names[pid] for pid, st in world.homes.items() if st[-1].target == city]
        if 2 <= len(locals_) <= 8:
            support = [st[-1].fact_id for pid, st in world.homes.items() if st[-1].target == city]
            q("set", 1, f"Who lives in {city}?", sorted(locals_), support, "lives-in", city)
    # unanswerable
    firsts = sorted({p.first for p in world.people})
    lasts = sorted({p.last for p in world.people})
    existing = {p.name for p in world.people}
    single = any(p.single for p in world.people)  # name style "first": no surnames said
    unused = sorted(set(FEMALE + MALE) - set(firsts))
    for _ in range(per_type * 3):
        fake = rng.choice(unused) if single else f"{rng.choice(firsts)} {rng.choice(lasts)}"
        if fake in existing or any(x.entity == fake for x in pool["unanswerable"]):
            continue
        text = rng.choice(
            [f"Where does {fake} live?", f"Where does {fake} work?", f"Who is {fake}'s manager?"]
        )
        first, last = fake.split()[0], fake.split()[-1]
        namesakes = [
            p.name for p in world.people if not single and (p.first == first or p.last == last)
        ]
        q("unanswerable", 0, text, [], [], "unknown-person", fake, namesakes=namesakes)
    for p in rng.sample(world.people, min(len(world.people), per_type)):
        text = rng.choice(
            [
                f"Who is {p.name} married to?",
                f"Where did {p.name} go to university?",
                f"What is the name of {p.name}'s dog?",
            ]
        )
        q("unanswerable", 0, text, [], [], "unknown-relation", p.name)

    out: list[Question] = []
    for type_ in TYPES:
        items = pool[type_]
        if type_ == "unanswerable":
            a = [x for x in items if x.subtype == "unknown-person"]
            b = [x for x in items if x.subtype == "unknown-relation"]
            half = per_type // 2
            items = rng.sample(a, min(len(a), half)) + rng.sample(b, min(len(b), per_type - half))
        else:
            items = _balanced_sample(items, per_type, rng)
        out.extend(items)
    for i, item in enumerate(out, start=1):
        item.id = f"q{i}"
    return out


def _balanced_sample(items: list[Question], n: int, rng: random.Random) -> list[Question]:
    """Up to n questions, round-robin over subtypes so no template dominates."""
    by_sub: dict[str, list[Question]] = {}
    for item in items:
        by_sub.setdefault(item.subtype, []).append(item)
    for v in by_sub.values():
        rng.shuffle(v)
    keys = sorted(by_sub)
    out: list[Question] = []
    while len(out) < n and any(by_sub.values()):
        for k in keys:
            if by_sub[k] and len(out) < n:
                out.append(by_sub[k].pop())
    return out


def _inner_month(start: date, end: date | None, rng: random.Random) -> date | None:
    """The first day of a calendar month lying wholly inside [start + 75 days, end - 30 days)
    (the margin keeps clear of when the fact was first said and of the change)."""
    lo = start + timedelta(days=75)
    lo = max(
        lo, date(2022, 3, 1) + timedelta(days=31)
    )  # initial stints are said by early March 2022
    hi = (end or END) - timedelta(days=30)
    months = []
    cur = date(lo.year, lo.month, 1)
    if cur < lo:
        cur = _next_month(cur)
    while _next_month(cur) <= hi:
        months.append(cur)
        cur = _next_month(cur)
    return rng.choice(months) if months else None


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


__all__ = ["MONTHS", "Question", "TYPES", "generate_questions"]
