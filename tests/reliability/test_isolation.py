"""Isolation, as a property: over random users, agents, runs, messages and queries, search,
get_all, history and delete never touch another user's data, and delete_all(user_id) removes
that user completely and nothing else.

Every partition (a user; or an agent or a run without a user) gets its own marker names, and
all of them share a pool of people, so the same names exist as separate entities in several
graphs. What each partition owns is known from the AddResults (its episode ids and the ids of
the facts its adds created), so every id a read returns can be checked against its owner.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphmem.models import Scope
from tests.conftest import Clock, make_memory

pytestmark = pytest.mark.reliability

SCOPES = [
    {"user_id": "u1"},
    {"user_id": "u1", "agent_id": "planner"},
    {"user_id": "u1", "run_id": "r1"},
    {"user_id": "u1", "agent_id": "planner", "run_id": "r1"},
    {"user_id": "u2"},
    {"user_id": "u2", "agent_id": "planner"},
    {"user_id": "u3", "run_id": "r1"},
    {"agent_id": "planner"},
    {"agent_id": "helper", "run_id": "r1"},
    {"run_id": "r9"},
]
MARKERS = {
    "u:u1": ("Quimby", "Lisbon"),
    "u:u2": ("Vasquez", "Nairobi"),
    "u:u3": ("Okonkwo", "Reykjavik"),
    "a:planner": ("Thistlewood", "Ushuaia"),
    "a:helper": ("Brannigan", "Tashkent"),
    "r:r9": ("Yamamoto", "Valparaiso"),
}
PEOPLE = ["Alice", "Bruno", "Chiara", "Dmitri"]
TEMPLATES = [
    "{p} works at {org}.",
    "I live in {city}.",
    "My sister is {p}. {p} lives in {city}.",
    "{p} and {q} are friends.",
    "{p} likes chess. I work at {org}.",
    "I moved to {city}.",
]
QUERIES = [
    "where does {p} work?",
    "who lives in {city}?",
    "{p} {q} {org} {city}",
    "who is my sister?",
    "Quimby Vasquez Okonkwo Thistlewood Brannigan Yamamoto",
    "Lisbon Nairobi Reykjavik Ushuaia Tashkent Valparaiso",
]
STATS = {"examples": 0, "reads checked": 0, "ids checked": 0, "leaks": 0}

adds_strategy = st.lists(
    st.tuples(
        st.integers(0, len(SCOPES) - 1),
        st.integers(0, len(TEMPLATES) - 1),
        st.sampled_from(PEOPLE),
        st.sampled_from(PEOPLE),
        st.integers(0, 3),
    ),
    min_size=1,
    max_size=14,
)
reads_strategy = st.lists(
    st.tuples(
        st.integers(0, len(SCOPES) - 1),
        st.integers(0, len(QUERIES) - 1),
        st.sampled_from(PEOPLE),
        st.sampled_from(sorted(MARKERS)),
    ),
    min_size=1,
    max_size=6,
)


def partition_of(scope: dict[str, str]) -> str:
    return Scope(**scope).partition


def fill(template: str, part: str, p: str, q: str, n: int) -> str:
    marker, city = MARKERS[part]
    return template.format(p=p, q=q, org=f"{marker} Labs", city=f"{city}{'' if n == 0 else n}")


class Owners:
    """Who owns which ids, learned from what the adds returned."""

    def __init__(self) -> None:
        self.episodes: dict[str, str] = {}
        self.facts: dict[str, str] = {}

    def learn(self, part: str, result: Any) -> None:
        for ep in result.episodes:
            self.episodes[ep] = part
        for change in result.results:
            if change.event == "ADD":
                self.facts[change.id] = part

    def check(self, part: str, ids: list[str], *, what: str) -> None:
        STATS["reads checked"] += 1
        for i in ids:
            STATS["ids checked"] += 1
            owner = self.facts.get(i) or self.episodes.get(i)
            if owner != part:
                STATS["leaks"] += 1
            assert owner == part, f"{what} in {part} returned {i} owned by {owner}"


def snapshot(memory, part_scope: dict[str, str]) -> Any:
    part = partition_of(part_scope)
    return (
        memory.get_all(**part_scope, include_history=True, limit=10_000),
        [e.model_dump() for e in memory.episodes(**part_scope)],
        memory.store.counts(part),
    )


def whole(part: str) -> dict[str, str]:
    kind, _, name = part.partition(":")
    return {{"u": "user_id", "a": "agent_id", "r": "run_id"}[kind]: name}


def narrowed_ok(row: dict[str, Any], scope: dict[str, str]) -> bool:
    return all(row.get(k) == scope[k] for k in ("agent_id", "run_id") if k in scope)


@settings(
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    adds=adds_strategy,
    reads=reads_strategy,
    victim=st.integers(0, 1000),
    purge=st.integers(0, len(SCOPES) - 1),
)
def test_reads_and_deletes_stay_inside_their_partition(adds, reads, victim, purge):
    STATS["examples"] += 1
    memory = make_memory(Clock())
    owners = Owners()
    for scope_i, template_i, p, q, n in adds:
        scope = SCOPES[scope_i]
        part = partition_of(scope)
        text = fill(TEMPLATES[template_i], part, p, q if q != p else "Elena", n)
        owners.learn(part, memory.add(text, **scope))
    parts = sorted({partition_of(s) for s in SCOPES})

    # search / get_all / history return only the partition's own ids, narrowed as asked.
    for scope_i, query_i, p, other in reads:
        scope = SCOPES[scope_i]
        part = partition_of(scope)
        query = fill(QUERIES[query_i], other, p, "Elena", 0)
        found = memory.search(query, **scope, limit=50)
        for hit in found["results"]:
            owners.check(part, [hit["id"], *hit["episodes"]], what="search")
            owners.check(part, [step["id"] for step in hit["path"]], what="search path")
            assert narrowed_ok(hit, scope)
        foreign = [m for k, m in MARKERS.items() if k != part]
        assert not any(name in found["context"] for marker in foreign for name in marker)
        rows = memory.get_all(**scope, include_history=True, limit=10_000)["results"]
        owners.check(part, [r["id"] for r in rows], what="get_all")
        owners.check(part, [e for r in rows for e in r["episodes"]], what="get_all provenance")
        assert all(narrowed_ok(r, scope) for r in rows)
        for row in rows[:3]:
            versions = memory.history(row["id"])
            owners.check(part, [v["id"] for v in versions], what="history")

    # Nothing lost: a partition holds exactly the facts its adds created.
    for part in parts:
        rows = memory.get_all(**whole(part), include_history=True, limit=10_000)["results"]
        assert {r["id"] for r in rows} == {f for f, o in owners.facts.items() if o == part}

    # delete(fact_id) removes that fact and touches no other partition.
    if owners.facts:
        fact_id = sorted(owners.facts)[victim % len(owners.facts)]
        owner = owners.facts[fact_id]
        before = {part: snapshot(memory, whole(part)) for part in parts if part != owner}
        count = memory.store.counts(owner)["facts"]
        memory.delete(fact_id)
        assert memory.store.counts(owner)["facts"] == count - 1
        assert before == {part: snapshot(memory, whole(part)) for part in before}

    # delete_all(scope): the whole partition when the scope names only its key, else only
    # what was stored with the scope's agent/run; never anything of another partition.
    scope = SCOPES[purge]
    part = partition_of(scope)
    before = {p: snapshot(memory, whole(p)) for p in parts if p != part}
    memory.delete_all(**scope)
    assert before == {p: snapshot(memory, whole(p)) for p in before}
    if scope == whole(part):
        assert memory.store.counts(part) == dict.fromkeys(
            ("entities", "facts", "current_facts", "episodes"), 0
        )
        assert memory.search("Alice Lisbon Quimby", **scope)["results"] == []
    else:
        assert memory.get_all(**scope, include_history=True)["results"] == []
        assert memory.episodes(**scope) == []
    memory.close()


def test_report_isolation_figures():
    """Runs after the property above (same module, file order) and prints its figures."""
    if STATS["examples"]:
        print(f"\nisolation: {STATS}")
    assert STATS["leaks"] == 0
