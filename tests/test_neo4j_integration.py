"""Neo4j-specific checks against a real server (skipped unless NEO4J_URI is set).

The store contract itself is tests/contract (the same suite as the embedded store). These
check what only Neo4j has: every statement in cypher/ plans on the server, the graph reads
like the facts in Browser (labels, typed relationships, DATETIME values), odd identifiers
stay inert, the vector-index path agrees with the exact scan, and the Browser queries run.

    NEO4J_URI=bolt://localhost:7687 NEO4J_PASSWORD=... pytest -m neo4j
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime

import pytest

from graphmem.models import Entity, Fact, Invalidation, Scope, WriteBatch
from graphmem.normalize import normalize_key, normalize_relation
from graphmem.store import cypher_loader
from graphmem.store.neo4j import Neo4jStore, browse_query

pytestmark = [
    pytest.mark.neo4j,
    pytest.mark.skipif(
        not os.environ.get("NEO4J_URI"),
        reason="NEO4J_URI not set: these tests need a running Neo4j 5.26 (docs/neo4j.md)",
    ),
]

DIMS = 32
T0 = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)


def _axis(i: int, scale: float = 1.0) -> list[float]:
    v = [0.0] * DIMS
    v[i % DIMS] = scale
    v[(i * 7 + 3) % DIMS] += 0.5
    return v


@pytest.fixture
def store():
    s = Neo4jStore(
        uri=os.environ["NEO4J_URI"],
        user=os.environ.get("NEO4J_USER", "neo4j"),
        password=os.environ.get("NEO4J_PASSWORD", ""),
        database=os.environ.get("NEO4J_DATABASE"),
    )
    s.reset()
    s.setup(DIMS)
    yield s
    s.reset()
    s.close()


def _run(store: Neo4jStore, cypher: str, /, **params):
    """Ad-hoc verification queries (tests only; the store itself runs cypher/ files). The
    statement is positional-only, so a statement parameter may be called `query` too."""
    with store._session() as session:  # noqa: SLF001 - test access to the same driver
        return session.run(cypher, params).data()


def _entity(scope: Scope, name: str, type: str = "Person", i: int = 0) -> Entity:
    return Entity(
        partition=scope.partition,
        user_id=scope.user_id,
        name=name,
        key=normalize_key(name),
        type=type,
        embedding=_axis(i),
        created_at=T0,
        updated_at=T0,
    )


def _fact(scope: Scope, a: Entity, relation: str, b: Entity, i: int = 0) -> Fact:
    return Fact(
        partition=scope.partition,
        user_id=scope.user_id,
        source_id=a.id,
        source=a.name,
        relation=relation,
        target_id=b.id,
        target=b.name,
        fact=f"{a.name} {relation.lower()} {b.name}",
        embedding=_axis(i + 1),
        created_at=T0,
    )


SAMPLE = {
    "record_role": "system",
    "record_name": "add_facts",
    "bump": 0,
    "fact_fetch": 0,
    "partition": "u:sample",
    "id": "x",
    "ids": ["x"],
    "keys": ["x"],
    "alias_queries": ['"p0 x"'],
    "entity_ids": ["x"],
    "episode_ids": ["x"],
    "episodes": [{"id": "x", "embedding": None}],
    "frontier_ids": ["x"],
    "visited_ids": ["x"],
    "found_ids": [],
    "rows": [],
    "reserved": ["Entity", "Episode"],
    "agent_id": None,
    "run_id": None,
    "status": "processed",
    "statuses": ["pending", "failed"],
    "error": None,
    "limit": 10,
    "k": 5,
    "fetch": 100,
    "hops": 2,
    "fanout": 5,
    "beam": 10,
    "batch": 10,
    "terms": ["x"],
    "term_queries": ['+part:p0 +text:"x"'],
    "episode_terms": ["x"],
    "episode_term_queries": ['+part:p0 +text:"x"'],
    "part": "p0",
    "sep": " ",
    "prune_from": 10000,
    "max_fetch": 10000,
    "rescore": 40,
    "rare_share": 0.05,
    "query": "x",
    "include_invalid": False,
    "with_embeddings": False,
    "invalidations": {},
    "merges": {},
    "mentions": [{"episode_id": "x", "entity_id": "x"}],
    "vector": [0.1] * DIMS,
    "timeout": 10,
    "dims": DIMS,
    "by_source": [{"entity_id": "x", "relation": "KNOWS", "target_id": None}],
    "by_target": [{"entity_id": "x", "relation": "KNOWS"}],
    "memory_id": "x",
    "fact_ids": ["x"],
    "facts": True,
    "raw_only": False,
    "clauses": [
        [
            {
                "prop": "m.x",
                "negate": False,
                "exists": False,
                "eq": "x",
                "ne": None,
                "gt": None,
                "gte": None,
                "lt": None,
                "lte": None,
                "in": None,
                "nin": None,
                "contains": None,
                "icontains": None,
            }
        ]
    ],
    # Browser queries
    "entity_id": "x",
    "fact_id": "x",
    "name": "x",
    "since": T0,
}


@pytest.mark.parametrize(
    "name",
    [n for n in cypher_loader.names(("read", "write", "browser"))],
)
def test_every_statement_plans_on_the_server(store, name):
    query = cypher_loader.load(name)
    wanted = set(re.findall(r"\$([A-Za-z_]\w*)", cypher_loader.strip_comments(query)))
    params = {k: SAMPLE[k] for k in wanted}
    _run(store, "EXPLAIN " + query, **params)


def test_the_graph_reads_like_the_facts(store):
    alice = Scope(user_id="alice")
    ana, acme = _entity(alice, "Ana", i=0), _entity(alice, "Acme", "Organization", i=1)
    works = _fact(alice, ana, "WORKS_AT", acme)
    store.apply(WriteBatch(partition=alice.partition, entities=[ana, acme], facts=[works]))
    [row] = _run(
        store,
        "MATCH (a:Entity:Person {id: $a})-[r:WORKS_AT]->(b:Entity:Organization {id: $b}) "
        "RETURN r.id AS id, valueType(r.created_at) AS t, r.embedding IS NOT NULL AS v",
        a=ana.id,
        b=acme.id,
    )
    assert row["id"] == works.id and row["t"].startswith("ZONED DATETIME") and row["v"]
    # The type label follows the entity's type.
    store.apply(
        WriteBatch(
            partition=alice.partition, entities=[ana.model_copy(update={"type": "Engineer"})]
        )
    )
    [row] = _run(store, "MATCH (n:Entity {id: $id}) RETURN labels(n) AS labels", id=ana.id)
    assert sorted(row["labels"]) == ["Engineer", "Entity"]


def test_each_fact_of_a_batch_keeps_its_own_relationship_type(store):
    """Neo4j 5.26.0 reuses the first dynamic relationship type of an UNWIND for every row
    (and cached plan): the store writes each type literally, so every fact keeps its own."""
    alice = Scope(user_id="alice")
    ana, acme = _entity(alice, "Ana", i=0), _entity(alice, "Acme", "Organization", i=1)
    lisbon = _entity(alice, "Lisbon", "Place", i=2)
    for round_ in range(2):  # the second batch runs on cached plans
        facts = [
            _fact(alice, ana, "WORKS_AT", acme),
            _fact(alice, ana, "LIVES_IN", lisbon),
            _fact(alice, acme, "LOCATED_IN", lisbon),
            _fact(alice, ana, "WORKS_AT", acme),
        ]
        store.apply(
            WriteBatch(partition=alice.partition, entities=[ana, acme, lisbon], facts=facts)
        )
        got = {f.id: f.relation for f in store.get_facts(alice.partition, [f.id for f in facts])}
        assert got == {f.id: f.relation for f in facts}, round_
    rows = _run(
        store,
        "MATCH (:Entity {partition: $p})-[r]->(:Entity) RETURN type(r) AS t, count(*) AS n",
        p=alice.partition,
    )
    assert {r["t"]: r["n"] for r in rows} == {"WORKS_AT": 4, "LIVES_IN": 2, "LOCATED_IN": 2}


def test_odd_identifiers_stay_inert(store):
    alice = Scope(user_id="alice")
    ana, acme = _entity(alice, "Ana", i=0), _entity(alice, "Acme", "Organization", i=1)
    relation = normalize_relation("KNOWS]->(x) DETACH DELETE x //")
    odd = _fact(alice, ana, relation, acme)
    store.apply(
        WriteBatch(
            partition=alice.partition,
            entities=[ana, acme.model_copy(update={"type": "Episode"})],
            facts=[odd],
        )
    )
    [got] = store.get_facts(alice.partition, [odd.id])
    assert got.relation == relation
    assert store.counts(alice.partition)["entities"] == 2
    [row] = _run(store, "MATCH (n:Entity {id: $id}) RETURN labels(n) AS labels", id=acme.id)
    assert row["labels"] == ["Entity"]  # a reserved type never becomes a label
    assert store.list_episodes(alice) == []


def test_index_path_agrees_with_the_exact_scan(store):
    users = [Scope(user_id=f"user{i}") for i in range(40)]
    for u_i, scope in enumerate(users):
        people = [_entity(scope, f"P{j}", i=u_i + j) for j in range(6)]
        store.apply(WriteBatch(partition=scope.partition, entities=people))
    query = _axis(5, scale=2.0)
    for scope in users[:5]:
        indexed = store.search_entities_vector(scope.partition, query, 3)
        scan = _run(
            store,
            cypher_loader.load("read/search_entities_vector_scan"),
            partition=scope.partition,
            vector=query,
            k=3,
        )
        assert [e.id for e, _ in indexed] == [r["entity"]["id"] for r in scan]
        assert [s for _, s in indexed] == pytest.approx([r["score"] for r in scan], abs=1e-6)


def test_fact_vector_index_agrees_with_the_exact_scan(store):
    """Fact similarity goes through the node vector index on :FactRef (over-fetch, keep the
    scope's hits, re-score exactly); with $fetch = 0 the same statement scans the partition.
    Both give the same facts and scores, for every type, with invalidated facts filtered."""
    users = [Scope(user_id=f"user{i}") for i in range(12)]
    for u_i, scope in enumerate(users):
        people = [_entity(scope, f"P{j}", i=u_i + j) for j in range(5)]
        facts = [
            _fact(scope, people[j], ("KNOWS", "WORKS_AT", "LIKES")[j % 3], people[j + 1], i=j + u_i)
            for j in range(4)
        ]
        store.apply(WriteBatch(partition=scope.partition, entities=people, facts=facts))
    query = _axis(3, scale=2.0)
    for scope in users[:4]:
        for k in (1, 3, 10):
            indexed = store.search_facts_vector(scope, query, k)
            scan = _run(
                store,
                cypher_loader.load("read/search_facts_vector"),
                partition=scope.partition,
                agent_id=None,
                run_id=None,
                include_invalid=False,
                vector=query,
                k=k,
                fetch=0,
                max_fetch=10_000,
                rescore=2 * k + 20,
                with_embeddings=False,
            )
            assert [f.id for f, _ in indexed] == [r["fact"]["id"] for r in scan]
            assert [f.relation for f, _ in indexed] == [r["relation"] for r in scan]
            assert [s for _, s in indexed] == pytest.approx([r["score"] for r in scan], abs=1e-6)
            assert all(f.partition == scope.partition for f, _ in indexed)


def test_long_walks_continue_past_four_hops(store):
    alice = Scope(user_id="alice")
    chain = [_entity(alice, f"N{i}", i=i) for i in range(8)]
    facts = [_fact(alice, chain[i], "NEXT", chain[i + 1], i=i) for i in range(7)]
    store.apply(WriteBatch(partition=alice.partition, entities=chain, facts=facts))
    assert len(store.expand(alice, [chain[0].id], hops=4, fanout=5)) == 4
    assert len(store.expand(alice, [chain[0].id], hops=9, fanout=5)) == 7


def test_browse_query_runs(store):
    alice = Scope(user_id="alice")
    ana, acme = _entity(alice, "Ana"), _entity(alice, "Acme", "Organization", i=1)
    store.apply(
        WriteBatch(
            partition=alice.partition,
            entities=[ana, acme],
            facts=[_fact(alice, ana, "WORKS_AT", acme)],
        )
    )
    param_line, query = browse_query("alice").split("\n", 1)
    assert param_line == ":param partition => 'u:alice';"
    rows = _run(store, query, partition=alice.partition)
    assert [(r["source"], r["relation"], r["target"]) for r in rows] == [
        ("Ana", "WORKS_AT", "Acme")
    ]


def _unreadable(value, where="row"):
    """Where a Browser result holds something a person cannot read: a graph element (its
    panel lists every property, vectors included), a vector, a search-token list."""
    from neo4j.graph import Node, Path, Relationship

    if isinstance(value, Node | Relationship | Path):
        return [f"{where}: a {type(value).__name__} (shows every stored property)"]
    if isinstance(value, dict):
        helpers = ("embedding", "terms", "alias_keys", "alias_terms")
        found = [f"{where}.{k}" for k in value if k in helpers]
        return found + [x for k, v in value.items() for x in _unreadable(v, f"{where}.{k}")]
    if isinstance(value, list):
        if len(value) > 16 and all(isinstance(x, float) for x in value):
            return [f"{where}: a vector of {len(value)} numbers"]
        return [x for i, v in enumerate(value) for x in _unreadable(v, f"{where}[{i}]")]
    return []


def _strings(value):
    """Every string inside a result (rows, maps, lists, nested)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def test_every_saved_browser_query_returns_readable_rows(store):
    """Each query in cypher/browser/ runs on the server with its documented parameters and
    returns names, relation types, fact sentences and validity: no vectors, no token lists,
    no raw nodes or relationships."""
    from graphmem.models import Episode

    alice = Scope(user_id="alice")
    ana, acme = _entity(alice, "Ana"), _entity(alice, "Acme", "Organization", i=1)
    initech = _entity(alice, "Initech", "Organization", i=2)
    lisbon = _entity(alice, "Lisbon", "Place", i=3)
    ep = Episode(
        partition=alice.partition,
        user_id="alice",
        content="I work at Acme.",
        reference_time=T0,
        created_at=T0,
    )
    store.add_episodes([ep], [_axis(1)])
    old = _fact(alice, ana, "WORKS_AT", acme).model_copy(update={"episodes": [ep.id]})
    new = _fact(alice, ana, "WORKS_AT", initech, i=1)
    home = _fact(alice, acme, "LOCATED_IN", lisbon, i=2)
    store.apply(
        WriteBatch(
            partition=alice.partition,
            entities=[ana, acme, initech, lisbon],
            facts=[old, new, home],
            episode_ids=[ep.id],
        )
    )
    store.apply(
        WriteBatch(
            partition=alice.partition,
            invalidations=[
                Invalidation(fact_id=old.id, invalid_at=T0, expired_at=T0, invalidated_by=new.id)
            ],
        )
    )
    params = {
        "partition": alice.partition,
        "name": "ana",
        "entity_id": ana.id,
        "fact_id": old.id,
        "since": datetime(2000, 1, 1, tzinfo=UTC),
    }
    expected = {
        "user_graph": {"Initech", "Lisbon"},
        "find_entity": {"Ana"},
        "entity_neighbourhood": {"Initech", "WORKS_AT"},  # Acme ended: not current
        "fact_history": {"Acme", "Initech"},
        "fact_episodes": {"I work at Acme."},
        "changes_since": {"Acme", "Initech", "Lisbon"},
    }
    names = cypher_loader.names(("browser",))
    assert {n.split("/")[1] for n in names} == set(expected)
    for name in names:
        text = cypher_loader.load(name)
        used = set(re.findall(r"\$([A-Za-z_]\w*)", cypher_loader.strip_comments(text)))
        rows = _run(store, text, **{k: params[k] for k in used})
        assert rows, name
        problems = [p for i, r in enumerate(rows) for p in _unreadable(r, f"{name}[{i}]")]
        assert problems == [], problems
        seen = set(_strings(rows))
        assert expected[name.split("/")[1]] <= seen, (name, rows)


def test_a_search_logs_no_warnings(store, caplog):
    """A fresh database has never seen optional properties such as run_id; the server would
    flag each as 'property key does not exist' (01N52) on every search. The store turns that
    classification of notification off, so a user's log stays quiet."""
    from tests.conftest import make_memory

    memory = make_memory(
        store={"provider": "neo4j", "uri": os.environ["NEO4J_URI"]}, embedder={"dims": DIMS}
    )
    try:
        memory.add("I live in Lisbon and work at Acme.", user_id="alice")
        caplog.clear()
        with caplog.at_level("WARNING"):
            hits = memory.search("where does alice work?", user_id="alice")
            memory.search("where does alice work?", user_id="alice", agent_id="a", run_id="r")
        assert hits["results"]
        assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == []
    finally:
        memory.delete_all(user_id="alice")
        memory.close()


def test_missing_property_notifications_are_not_logged(store, caplog):
    """The search above stays quiet on a fresh database too: a property the database has
    never held (optional ones like run_id, before anything sets them) draws no warning."""
    with caplog.at_level("WARNING"):
        _run(store, "MATCH (e:Entity) WHERE e.graphmem_never_set_xyz = 1 RETURN e.id AS id")
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == []


def test_a_routing_uri_and_a_database_name_work(store):
    """neo4j:// (client-side routing: reads to readers, writes to the leader on a cluster)
    and an explicit database name, against the same server."""
    uri = os.environ["NEO4J_URI"].replace("bolt://", "neo4j://", 1)
    if not uri.startswith("neo4j://"):
        pytest.skip("NEO4J_URI is not a bolt:// URI")
    routed = Neo4jStore(
        uri=uri,
        user=os.environ.get("NEO4J_USER", "neo4j"),
        password=os.environ.get("NEO4J_PASSWORD", ""),
        database=os.environ.get("NEO4J_DATABASE") or "neo4j",
    )
    try:
        routed.setup(DIMS)
        alice = Scope(user_id="alice")
        ana, acme = _entity(alice, "Ana"), _entity(alice, "Acme", "Organization", i=1)
        works = _fact(alice, ana, "WORKS_AT", acme)
        routed.apply(WriteBatch(partition=alice.partition, entities=[ana, acme], facts=[works]))
        [got] = routed.get_facts(alice.partition, [works.id])  # read your own write
        assert (got.source, got.relation, got.target) == ("Ana", "WORKS_AT", "Acme")
        assert store.get_facts(alice.partition, [works.id])  # the same database
        assert "database='neo4j'" in repr(routed) or os.environ.get("NEO4J_DATABASE")
    finally:
        routed.close()
