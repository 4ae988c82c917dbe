"""The SQLite walk over the cached adjacency returns exactly what the SQL walk returns.

expand() walks in memory when every fact of the partition is in the cached fact index (the
usual case) and over SQL reads otherwise; both must choose the same facts with the same
similarities, including ties at an entity's fan-out cut, ended facts, agent/run narrowing,
self-loops, and after writes patch the cache (appends, invalidations, deletes).
"""

from __future__ import annotations

import random

import pytest

import graphmem.store.sqlite.expand as expand_module
from graphmem.models import Invalidation, Scope
from graphmem.store.sqlite import SQLiteStore
from tests.contract.builders import ALICE, DIMS, at, entity, fact, vec, write

HUB_FACTS = 60


def _walks(store: SQLiteStore, scope: Scope, seeds, query, **kw):
    """(held walk, SQL walk) of the same call, as (id, similarity) lists."""
    args = dict(hops=3, fanout=5, vector=query, beam=4, **kw)
    held = store.expand(scope, seeds, **args)
    real = expand_module.fts.rows
    expand_module.fts.rows = lambda *a: -1  # "some fact is not cached": the SQL walk
    try:
        sql = store.expand(scope, seeds, **args)
    finally:
        expand_module.fts.rows = real
    return [(f.id, s) for f, s in held], [(f.id, s) for f, s in sql]


@pytest.fixture
def hub_store(tmp_path):
    """A person linked to a hub city with many residents; residents have friends; several
    residents' facts share one vector (ties at the fan-out cut); one self-loop."""
    store = SQLiteStore(str(tmp_path / "adj.db"))
    store.setup(DIMS)
    rng = random.Random(7)
    city = entity(ALICE, "Porto", type="Place")
    ana = entity(ALICE, "Ana")
    people = [entity(ALICE, f"P{i:02d}") for i in range(HUB_FACTS)]
    shared = vec((3, 1.0), (4, 1.0))
    facts = [fact(ALICE, ana, "LIVES_IN", city, embedding=vec((0, 1.0)), minute=1)]
    for i, p in enumerate(people):
        v = shared if i % 3 == 0 else vec(*((rng.randrange(DIMS), rng.random()) for _ in range(3)))
        facts.append(fact(ALICE, p, "LIVES_IN", city, embedding=v, minute=2 + i))
        friend = people[(i * 7 + 3) % HUB_FACTS]
        facts.append(fact(ALICE, p, "FRIEND_OF", friend, embedding=v, minute=100 + i))
    facts.append(fact(ALICE, ana, "LIKES", ana, embedding=shared, minute=300))  # self-loop
    agent = Scope(user_id="alice", agent_id="bot")
    facts.append(fact(ALICE, ana, "KNOWS", people[1], embedding=shared, agent_id="bot", minute=5))
    write(store, ALICE, entities=[city, ana, *people], facts=facts)
    yield store, {"city": city, "ana": ana, "people": people, "agent": agent}
    store.close()


@pytest.mark.parametrize("include_invalid", [False, True])
def test_held_walk_equals_sql_walk(hub_store, include_invalid, monkeypatch):
    store, world = hub_store
    held_walks = []
    real_walk = expand_module._walk_held
    monkeypatch.setattr(
        expand_module, "_walk_held", lambda *a, **k: held_walks.append(1) or real_walk(*a, **k)
    )
    for query in (vec((3, 1.0), (4, 1.0)), vec((0, 1.0), (5, 0.3)), vec((9, 1.0))):
        held, sql = _walks(store, ALICE, [world["ana"].id], query, include_invalid=include_invalid)
        assert held == sql
        assert len(held) > 10
    assert len(held_walks) == 3  # the first walk of each pair was the held one


def test_held_walk_equals_sql_walk_after_writes(hub_store):
    store, world = hub_store
    seeds = [world["ana"].id, world["people"][5].id]
    query = vec((3, 1.0), (4, 1.0))
    store.expand(ALICE, seeds, hops=2, fanout=5, vector=query)  # load the cache
    ended = store.expand(ALICE, [world["city"].id], hops=1, fanout=3, vector=query)
    newcomer = entity(ALICE, "Zed")
    write(
        store,
        ALICE,
        entities=[newcomer],
        facts=[fact(ALICE, newcomer, "LIVES_IN", world["city"], embedding=query, minute=400)],
        invalidations=[
            Invalidation(fact_id=ended[0][0].id, invalid_at=at(500), expired_at=at(500))
        ],
    )
    held, sql = _walks(store, ALICE, seeds, query)
    assert held == sql
    assert ended[0][0].id not in {fid for fid, _ in held}  # ended: not walked by default
    index = store._indexes[("facts", ALICE.partition)]
    assert store.delete_fact(ALICE.partition, ended[1][0].id)
    assert store._indexes[("facts", ALICE.partition)] is index  # patched, not reloaded
    held, sql = _walks(store, ALICE, seeds, query)
    assert held == sql
    assert ended[1][0].id not in {fid for fid, _ in held}


def test_held_walk_keeps_agent_narrowing(hub_store):
    store, world = hub_store
    query = vec((3, 1.0), (4, 1.0))
    held, sql = _walks(store, world["agent"], [world["ana"].id], query)
    assert held == sql
    assert len(held) == 1  # only the bot's own fact


def test_a_fact_without_a_vector_is_walked_by_sql(hub_store):
    store, world = hub_store
    bare = fact(ALICE, world["ana"], "WORKS_AT", world["city"], minute=600)  # no embedding
    write(store, ALICE, facts=[bare])
    got = store.expand(ALICE, [world["ana"].id], hops=1, fanout=100, vector=vec((9, 1.0)))
    assert (bare.id, 0.0) in [(f.id, s) for f, s in got]
