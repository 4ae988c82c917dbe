"""The Neo4j store without a server: a fake driver records every (statement, parameters).

What this proves here (the real-server behaviour is covered by tests/contract and
tests/test_neo4j_integration.py when NEO4J_URI is set):
- a hostile relation name or entity type from an extractor can't change a query's meaning:
  invalid identifiers are refused before anything is sent; a valid entity type travels only
  as a parameter value, and a valid relation type fills only the backticked placeholder of
  the fact-writing template (one statement per type: Neo4j 5.26.0 reuses a dynamic type);
- every $parameter a statement uses is supplied;
- apply() is one write transaction with a fixed number of statements, whatever the batch size;
  each search is one read transaction with one statement;
- a search through Memory is at most 5 round trips (whether the user said any message, then
  seed_search's text half, while the query is embedded; link_candidates beside seed_search's
  vector half; then expand: one read transaction with one statement each), and the batched
  reads send the same values the single methods they replace would send;
- driver errors become StoreError naming the server (and never its password).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from neo4j import exceptions as neo4j_errors
from neo4j.time import DateTime as Neo4jDateTime

from graphmem.errors import ConflictError, ScopeError, StoreError
from graphmem.models import (
    Entity,
    Episode,
    Fact,
    Invalidation,
    ProvenanceMerge,
    Scope,
    WriteBatch,
)
from graphmem.normalize import normalize_key, normalize_relation, normalize_type
from graphmem.store import cypher_loader
from graphmem.store.base import SeedHits
from graphmem.store.neo4j import Neo4jStore, browse_query, cypher_string_literal, fulltext

T0 = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
ALICE = Scope(user_id="alice")
SEED_LISTS = ("facts_vector", "facts_text", "episodes_vector", "episodes_text")
NAME_OF = {cypher_loader.statement(n): n for n in cypher_loader.names()}
# Templates (relationship types written literally): the text with any filled placeholder.
TEMPLATES = {
    n: re.compile(
        re.escape(cypher_loader.statement(n, RELATION="WORKS_AT")).replace(
            re.escape("`WORKS_AT`"), "`[A-Z][A-Z0-9_]{0,63}`"
        )
    )
    for n in cypher_loader.names()
    if cypher_loader.placeholders(n)
}


def name_of(query: str) -> str:
    """The statement name of a query text the store sent (templates once filled)."""
    if query in NAME_OF:
        return NAME_OF[query]
    return next((n for n, t in TEMPLATES.items() if t.fullmatch(query)), "<unknown statement>")


HOSTILE_RELATIONS = [
    "KNOWS]->(x) DETACH DELETE x //",
    "KNOWS`]->() MATCH (n) DETACH DELETE n //",
    "works at",
    "WORKS_AT; MATCH (n) DETACH DELETE n",
    "$(evil)",
    "",
    "A" * 65,
    "knows",
]
HOSTILE_TYPES = [
    "Person) DETACH DELETE n //",
    "Person:Admin",
    "Person`:`Admin",
    "person",
    "Per son",
    "",
    "$(x)",
    "P" * 65,
]


# -- a fake driver ---------------------------------------------------------------------------
class FakeResult:
    """The part of neo4j.Result the store uses: keys(), then records (tuples) in key order."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self._rows = rows
        self._keys = list(dict.fromkeys(k for row in rows for k in row))

    def keys(self) -> list[str]:
        return list(self._keys)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter([tuple(row.get(k) for k in self._keys) for row in self._rows])

    def data(self) -> list[dict[str, Any]]:
        return list(self._rows)


class FakeTx:
    def __init__(self, driver: FakeDriver, mode: str) -> None:
        self.driver, self.mode = driver, mode

    def run(self, query: str, parameters: dict[str, Any] | None = None, **kw: Any) -> FakeResult:
        params = dict(parameters or {}, **kw)
        name = name_of(query)
        self.driver.runs.append((self.mode, name, query, params))
        if self.driver.fail is not None:
            raise self.driver.fail
        return FakeResult(self.driver.respond(name, params))


class FakeSession:
    def __init__(self, driver: FakeDriver, config: dict[str, Any]) -> None:
        self.driver, self.config = driver, config

    def __enter__(self) -> FakeSession:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def execute_read(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        self.driver.transactions.append("read")
        return fn(FakeTx(self.driver, "read"), *args, **kwargs)

    def execute_write(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        self.driver.transactions.append("write")
        return fn(FakeTx(self.driver, "write"), *args, **kwargs)


class FakeDriver:
    def __init__(self) -> None:
        self.runs: list[tuple[str, str, str, dict[str, Any]]] = []
        self.transactions: list[str] = []
        self.sessions: list[dict[str, Any]] = []
        self.responses: dict[str, list[dict[str, Any]]] = {}
        self.fail: Exception | None = None
        self.closed = False

    def session(self, **config: Any) -> FakeSession:
        self.sessions.append(config)
        return FakeSession(self, config)

    def verify_connectivity(self, **config: Any) -> None:
        if self.fail is not None:
            raise self.fail

    def close(self) -> None:
        self.closed = True

    def respond(self, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        if name in self.responses:
            return self.responses[name]
        rows = params.get("rows") or []
        counters = {
            "write/upsert_entities": "upserted",
            "write/create_facts": "created",
            "write/add_episodes": "written",
        }
        if name in counters:
            return [{counters[name]: len(rows)}]
        if name == "write/claim_partition_version":
            return [{"version": 0}]
        if name == "read/ping":
            return [{"ok": 1}]
        if name == "schema/stored_vector_dims":
            return [{"entity_dims": [], "fact_dims": [], "episode_dims": []}]
        if name == "read/expand":
            return [{"facts": [], "frontier_ids": [], "visited_ids": params["visited_ids"]}]
        if name == "read/link_candidates":
            return [{"by_key": [], "near": []}]
        if name == "read/seed_search":
            return [dict.fromkeys(SEED_LISTS, [])]
        if name.startswith("write/"):
            return [{"deleted": 0, "updated": 0, "linked": 0}]
        return []

    def clear(self) -> None:
        self.runs.clear()
        self.transactions.clear()

    def round_trips(self) -> list[tuple[str, str]]:
        """(transaction mode, statement name) per statement sent since the last clear(): with
        one statement per transaction, each is one client/server round trip."""
        return [(mode, name) for mode, name, _, _ in self.runs]


@pytest.fixture
def driver() -> FakeDriver:
    return FakeDriver()


@pytest.fixture
def store(driver: FakeDriver) -> Neo4jStore:
    s = Neo4jStore("neo4j://db.example:7687", "neo4j", "s3cret", "memory", driver=driver)
    s.setup(4)
    driver.clear()
    return s


def entity(name: str, type: str = "Person", **kw: Any) -> Entity:
    return Entity(
        partition=ALICE.partition,
        user_id="alice",
        name=name,
        key=normalize_key(name),
        type=type,
        embedding=kw.pop("embedding", [1.0, 0.0, 0.0, 0.0]),
        created_at=T0,
        updated_at=T0,
        **kw,
    )


def fact(source: Entity, relation: str, target: Entity, **kw: Any) -> Fact:
    return Fact(
        partition=ALICE.partition,
        user_id="alice",
        source_id=source.id,
        source=source.name,
        relation=relation,
        target_id=target.id,
        target=target.name,
        fact=kw.pop("sentence", f"{source.name} {relation} {target.name}"),
        embedding=[0.0, 1.0, 0.0, 0.0],
        created_at=T0,
        **kw,
    )


def _statement_params(query: str) -> set[str]:
    code = cypher_loader.strip_comments(query)
    code = re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", "''", code)
    return set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", code))


def _assert_parameters_complete(driver: FakeDriver) -> None:
    assert driver.runs
    for _, name, query, params in driver.runs:
        assert name != "<unknown statement>", query[:80]
        missing = _statement_params(query) - set(params)
        assert not missing, f"{name} is sent without {sorted(missing)}"


# -- identifiers can't change a query's meaning -----------------------------------------------
@pytest.mark.parametrize("relation", HOSTILE_RELATIONS)
def test_a_hostile_relation_is_refused_before_anything_is_sent(store, driver, relation):
    ana, acme = entity("Ana"), entity("Acme", "Organization")
    batch = WriteBatch(
        partition=ALICE.partition, entities=[ana, acme], facts=[fact(ana, relation, acme)]
    )
    with pytest.raises(StoreError, match="relation type"):
        store.apply(batch)
    assert driver.runs == [] and driver.transactions == []


@pytest.mark.parametrize("entity_type", HOSTILE_TYPES)
def test_a_hostile_entity_type_is_refused_before_anything_is_sent(store, driver, entity_type):
    batch = WriteBatch(partition=ALICE.partition, entities=[entity("Ana", entity_type)])
    with pytest.raises(StoreError, match="entity type"):
        store.apply(batch)
    assert driver.runs == [] and driver.transactions == []


@pytest.mark.parametrize("raw", HOSTILE_RELATIONS[:5])
def test_a_normalised_hostile_relation_is_an_inert_parameter(store, driver, raw):
    """What the extractor layer sends after normalize_relation: a valid but odd identifier.
    The statements are the same as for a benign relation except for the relationship type,
    which appears only as the backticked identifier filling the template's placeholder."""
    ana, acme = entity("Ana"), entity("Acme", "Organization")
    relation = normalize_relation(raw)
    store.apply(
        WriteBatch(
            partition=ALICE.partition, entities=[ana, acme], facts=[fact(ana, "WORKS_AT", acme)]
        )
    )
    benign = [(name, query) for _, name, query, _ in driver.runs]
    driver.clear()
    store.apply(
        WriteBatch(
            partition=ALICE.partition, entities=[ana, acme], facts=[fact(ana, relation, acme)]
        )
    )
    hostile = [
        (name, query.replace(f"`{relation}`", "`WORKS_AT`")) for _, name, query, _ in driver.runs
    ]
    assert hostile == benign  # identical statements but for the validated type
    for _, name, query, _ in driver.runs:
        assert raw not in query or raw == relation
        if name == "write/create_facts":
            assert query == cypher_loader.statement(name, RELATION=relation)
        else:
            assert relation not in query


@pytest.mark.parametrize("raw", HOSTILE_TYPES[:3])
def test_a_normalised_hostile_type_is_an_inert_parameter(store, driver, raw):
    entity_type = normalize_type(raw)
    store.apply(WriteBatch(partition=ALICE.partition, entities=[entity("Ana")]))
    benign = [query for _, _, query, _ in driver.runs]
    driver.clear()
    store.apply(WriteBatch(partition=ALICE.partition, entities=[entity("Ana", entity_type)]))
    assert [query for _, _, query, _ in driver.runs] == benign
    [upsert] = [p for _, n, _, p in driver.runs if n == "write/upsert_entities"]
    assert upsert["rows"][0]["labels"] == ["Entity", entity_type]
    assert all(entity_type not in q and raw not in q for _, _, q, _ in driver.runs)


@pytest.mark.parametrize("reserved", ["Entity", "Episode"])
def test_reserved_types_never_become_labels(store, driver, reserved):
    store.apply(WriteBatch(partition=ALICE.partition, entities=[entity("Ana", reserved)]))
    [upsert] = [p for _, n, _, p in driver.runs if n == "write/upsert_entities"]
    assert upsert["rows"][0]["labels"] == ["Entity"]
    assert upsert["rows"][0]["type"] == reserved
    assert "Entity" in upsert["reserved"] and "Episode" in upsert["reserved"]


def test_rows_of_another_partition_are_refused_before_sending(store, driver):
    bob = Entity(partition="u:bob", name="Bob", key="bob", created_at=T0, updated_at=T0)
    with pytest.raises(StoreError, match="partition"):
        store.apply(WriteBatch(partition=ALICE.partition, entities=[entity("Ana"), bob]))
    assert driver.runs == []


# -- transactions and round trips --------------------------------------------------------------
def _batch(n_facts: int) -> WriteBatch:
    people = [entity(f"P{i}") for i in range(n_facts + 1)]
    facts = [fact(people[i], "KNOWS", people[i + 1]) for i in range(n_facts)]
    return WriteBatch(
        partition=ALICE.partition,
        entities=people,
        facts=facts,
        invalidations=[Invalidation(fact_id="old", invalid_at=T0, expired_at=T0)],
        merges=[ProvenanceMerge(fact_id="older", episodes=["e1", "e2"])],
        mentions=[("e1", people[0].id)],
        episode_ids=["e1"],
    )


def test_apply_is_one_transaction_whatever_the_batch_size(store, driver):
    store.apply(_batch(1))
    small = [(mode, name) for mode, name, _, _ in driver.runs]
    assert driver.transactions == ["write"]
    driver.clear()
    store.apply(_batch(200))
    assert driver.transactions == ["write"]
    # One statement per relationship type (here one type), whatever the number of facts.
    assert [(mode, name) for mode, name, _, _ in driver.runs] == small
    assert [name for _, name in small] == [
        "write/claim_partition_version",
        "write/upsert_entities",
        "write/create_facts",
        "write/update_facts",
        "write/finish_episodes",
    ]
    [create] = [p for _, n, _, p in driver.runs if n == "write/create_facts"]
    assert len(create["rows"]) == 200
    _assert_parameters_complete(driver)


def test_apply_rolls_back_when_an_endpoint_is_missing(store, driver):
    driver.responses["write/create_facts"] = [{"created": 0}]
    with pytest.raises(StoreError, match="does not exist"):
        store.apply(_batch(2))
    # The check ran inside the transaction function: nothing after it was sent.
    assert [n for _, n, _, _ in driver.runs] == [
        "write/claim_partition_version",
        "write/upsert_entities",
        "write/create_facts",
    ]


def test_an_empty_batch_sends_nothing(store, driver):
    store.apply(WriteBatch(partition=ALICE.partition))
    assert driver.runs == []


def _exercise_reads(store: Neo4jStore) -> None:
    v = [1.0, 0.0, 0.0, 0.0]
    narrowed = Scope(user_id="alice", agent_id="a", run_id="r")
    store.get_episodes(ALICE.partition, ["e1"])
    store.list_episodes(narrowed, limit=3)
    store.list_episodes(ALICE, newest_first=True)
    store.pending_episodes()
    store.search_episodes_text(narrowed, "where does Ana work?", 5)
    store.search_episodes_vector(narrowed, v, 5)
    store.get_entities(ALICE.partition, ["x"], with_embeddings=True)
    store.find_entities_by_key(ALICE.partition, ["Ana"])
    store.list_entities(ALICE.partition)
    store.search_entities_vector(ALICE.partition, v, 5)
    store.get_facts(ALICE.partition, ["f"])
    store.locate_fact("f")
    store.list_facts(narrowed, include_invalid=True)
    store.facts_for_entities(ALICE.partition, ["x"])
    store.facts_for_episodes(narrowed, ["e1"])
    store.search_facts_vector(narrowed, v, 5)
    store.search_facts_text(narrowed, "Ana Acme", 5)
    store.expand(narrowed, ["x"], hops=2, fanout=3, vector=v)
    store.counts(ALICE.partition)


def test_each_read_is_one_read_transaction_and_one_statement(store, driver):
    _exercise_reads(store)
    assert set(driver.transactions) == {"read"}
    assert len(driver.transactions) == len(driver.runs) == 19
    _assert_parameters_complete(driver)
    # Reads use the configured database and one bookmark manager (read-your-writes on a
    # cluster); execute_read routes them to readers on neo4j:// URIs.
    assert {s["database"] for s in driver.sessions} == {"memory"}
    assert len({id(s["bookmark_manager"]) for s in driver.sessions}) == 1


def test_every_write_sends_all_its_parameters(store, driver):
    ep = Episode(partition=ALICE.partition, content="hi", reference_time=T0, created_at=T0)
    store.add_episodes([ep], [[0.0, 0.0, 1.0, 0.0]])
    store.apply(_batch(3))
    store.set_episode_status(ALICE.partition, ep.id, "failed", "boom")
    store.delete_fact(ALICE.partition, "f")
    store.delete_scope(Scope(user_id="alice", agent_id="a"))
    store.delete_scope(ALICE)
    store.reset()
    _assert_parameters_complete(driver)
    names = [n for _, n, _, _ in driver.runs]
    assert names[-1] == "write/reset_batch"
    assert "write/delete_partition_entities" in names


def test_whole_partition_delete_ignores_narrowing_of_the_partition_key(store, driver):
    store.delete_scope(Scope(agent_id="bot"))  # the agent IS the partition here
    [facts] = [p for _, n, _, p in driver.runs if n == "write/delete_scope_facts"]
    assert facts == {"partition": "a:bot", "agent_id": None, "run_id": None, "batch": 5000}
    assert "write/delete_partition_entities" in [n for _, n, _, _ in driver.runs]
    driver.clear()
    store.delete_scope(Scope(agent_id="bot", run_id="r1"))
    [facts] = [p for _, n, _, p in driver.runs if n == "write/delete_scope_facts"]
    assert facts == {"partition": "a:bot", "agent_id": "bot", "run_id": "r1", "batch": 5000}
    assert "write/delete_partition_entities" not in [n for _, n, _, _ in driver.runs]


def test_vector_search_uses_the_index_after_setup_and_scans_before(driver):
    s = Neo4jStore("bolt://h:7687", "neo4j", "pw", driver=driver)
    s.search_entities_vector(ALICE.partition, [1.0, 0.0], 3)
    assert driver.runs[-1][1] == "read/search_entities_vector_scan"
    s.setup(2)
    s.search_entities_vector(ALICE.partition, [1.0, 0.0], 3)
    name, params = driver.runs[-1][1], driver.runs[-1][3]
    assert name == "read/search_entities_vector"
    assert params["fetch"] >= params["k"] == 3
    # A zero vector cannot go to a cosine index: exact scan instead.
    s.search_entities_vector(ALICE.partition, [0.0, 0.0], 3)
    assert driver.runs[-1][1] == "read/search_entities_vector_scan"
    with pytest.raises(StoreError, match="dimension"):
        s.search_entities_vector(ALICE.partition, [1.0, 0.0, 0.0], 3)


# -- the search path: at most 5 round trips (2 of them while the query is embedded) ----------
def _entity_item(e: Entity, score: float | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "entity": {
            "id": e.id,
            "partition": e.partition,
            "user_id": e.user_id,
            "name": e.name,
            "key": e.key,
            "type": e.type,
            "aliases": e.aliases,
            "created_at": e.created_at,
            "updated_at": e.updated_at,
        }
    }
    if score is not None:
        item["score"] = score
    return item


def _fact_item(f: Fact, score: float) -> dict[str, Any]:
    props = f.model_dump(include={"id", "partition", "user_id", "agent_id", "run_id", "fact"})
    props.update(
        valid_at=f.valid_at,
        invalid_at=None,
        created_at=f.created_at,
        expired_at=None,
        episodes=f.episodes,
        confidence=f.confidence,
        invalidated_by=None,
        metadata_json="{}",
    )
    return {
        "fact": props,
        "relation": f.relation,
        "source_id": f.source_id,
        "source": f.source,
        "target_id": f.target_id,
        "target": f.target,
        "score": score,
    }


def _episode_item(ep: Episode, score: float) -> dict[str, Any]:
    props = ep.model_dump(
        include={"id", "partition", "user_id", "agent_id", "run_id", "role", "name", "content"}
    )
    props.update(
        reference_time=ep.reference_time,
        created_at=ep.created_at,
        status="processed",
        error=None,
        infer=True,
        metadata_json="{}",
    )
    return {"episode": props, "score": score}


def _sent(driver: FakeDriver, name: str) -> dict[str, Any]:
    [params] = [p for _, n, _, p in driver.runs if n == name]
    return params


def test_link_candidates_is_one_statement_with_the_single_methods_values(store, driver):
    v = [1.0, 0.0, 0.0, 0.0]
    store.find_entities_by_key(ALICE.partition, [" Ana ", "ACME", ""])
    store.search_entities_vector(ALICE.partition, v, 7)
    by_key = _sent(driver, "read/find_entities_by_key")
    vector = _sent(driver, "read/search_entities_vector")
    driver.clear()
    assert store.link_candidates(ALICE.partition, [" Ana ", "ACME", ""], v, 7) == ([], [])
    assert driver.round_trips() == [("read", "read/link_candidates")]
    assert driver.transactions == ["read"]
    sent = _sent(driver, "read/link_candidates")
    assert sent["keys"] == by_key["keys"] == ["ana", "acme"]
    assert sent["partition"] == by_key["partition"] == vector["partition"]
    assert (sent["vector"], sent["k"], sent["fetch"]) == (vector["vector"], 7, vector["fetch"])
    _assert_parameters_complete(driver)


def test_link_candidates_index_or_scan_like_the_single_method(driver):
    s = Neo4jStore("bolt://h:7687", "neo4j", "pw", driver=driver)
    s.link_candidates(ALICE.partition, ["ana"], [1.0, 0.0], 3)
    assert driver.runs[-1][3]["fetch"] == 0  # no vector index before setup: exact scan
    s.setup(2)
    s.link_candidates(ALICE.partition, ["ana"], [1.0, 0.0], 3)
    assert driver.runs[-1][3]["fetch"] >= 100
    s.link_candidates(ALICE.partition, ["ana"], [0.0, 0.0], 3)
    assert driver.runs[-1][3]["fetch"] == 0  # a zero vector cannot go to a cosine index
    driver.clear()
    s.link_candidates(ALICE.partition, ["ana"], [7.0], 0)  # k = 0: no vector part at all
    assert driver.runs[-1][3]["k"] == 0 and driver.runs[-1][3]["vector"] is None
    assert s.link_candidates(ALICE.partition, [], [1.0, 0.0], 0) == ([], [])
    assert s.link_candidates(ALICE.partition, ["", "  "], [1.0, 0.0], 0) == ([], [])
    assert len(driver.runs) == 1  # nothing to look up: nothing sent
    with pytest.raises(StoreError, match="dimension"):
        s.link_candidates(ALICE.partition, ["ana"], [1.0, 0.0, 0.0], 3)


def test_link_candidates_rows_become_models(store, driver):
    ana, acme = entity("Ana"), entity("Acme", "Organization", aliases=["ACME Corp"])
    driver.responses["read/link_candidates"] = [
        {"by_key": [_entity_item(ana)], "near": [_entity_item(acme, 0.5), _entity_item(ana, 0.25)]}
    ]
    by_key, near = store.link_candidates(ALICE.partition, ["ana"], [1.0, 0.0, 0.0, 0.0], 2)
    assert [e.id for e in by_key] == [ana.id]
    assert [(e.id, score) for e, score in near] == [(acme.id, 0.5), (ana.id, 0.25)]
    assert near[0][0].aliases == ["ACME Corp"] and near[0][0].type == "Organization"
    assert all(e.embedding is None for e in [*by_key, *(e for e, _ in near)])


def test_seed_search_is_one_statement_with_the_single_methods_values(store, driver):
    v = [1.0, 0.0, 0.0, 0.0]
    narrowed = Scope(user_id="alice", agent_id="a", run_id="r")
    query = 'Where does "Ana" work? 王小明'
    store.search_facts_vector(narrowed, v, 9, include_invalid=True)
    store.search_facts_text(narrowed, query, 4, include_invalid=True)
    store.search_episodes_vector(narrowed, v, 9)
    store.search_episodes_text(narrowed, query, 4)
    single = {n: p for _, n, _, p in driver.runs}
    driver.clear()
    hits = store.seed_search(narrowed, query, v, vector_k=9, text_k=4, include_invalid=True)
    assert hits == SeedHits()
    assert driver.round_trips() == [("read", "read/seed_search")]
    assert driver.transactions == ["read"]
    sent = _sent(driver, "read/seed_search")
    facts_vector, facts_text = single["read/search_facts_vector"], single["read/search_facts_text"]
    episodes_vector = single["read/search_episodes_vector"]
    episodes_text = single["read/search_episodes_text"]
    for key in ("partition", "agent_id", "run_id", "include_invalid", "vector", "k"):
        assert sent[key] == facts_vector[key], key
    for key in ("partition", "agent_id", "run_id", "include_invalid", "terms"):
        assert sent[key] == facts_text[key], key
    assert sent["limit"] == facts_text["k"] == episodes_text["k"] == 4
    assert sent["fetch"] == episodes_vector["fetch"] and sent["k"] == episodes_vector["k"]
    assert sent["episode_terms"] == episodes_text["terms"]
    assert sent["episode_term_queries"] == episodes_text["term_queries"]
    assert sent["terms"] and sent["episode_terms"]
    _assert_parameters_complete(driver)


def test_seed_search_skips_what_the_single_methods_skip(driver):
    s = Neo4jStore("bolt://h:7687", "neo4j", "pw", driver=driver)
    v = [1.0, 0.0]
    s.seed_search(ALICE, "Ana", v, vector_k=5, text_k=5)
    assert driver.runs[-1][3]["fetch"] == 0  # no episode vector index before setup: scan
    s.setup(2)
    driver.clear()
    s.seed_search(ALICE, "Ana", v, vector_k=5, text_k=5)
    assert driver.runs[-1][3]["fetch"] >= 100
    s.seed_search(ALICE, "Ana", [0.0, 0.0], vector_k=5, text_k=5)
    assert driver.runs[-1][3]["fetch"] == 0
    s.seed_search(ALICE, "Ana", v, vector_k=5, text_k=5, episodes=False)
    assert driver.runs[-1][3]["fetch"] is None and driver.runs[-1][3]["episode_terms"] == []
    s.seed_search(ALICE, "?!*", v, vector_k=5, text_k=5)  # no words: no text parts
    assert driver.runs[-1][3]["terms"] == [] and driver.runs[-1][3]["episode_terms"] == []
    s.seed_search(ALICE, "Ana", [9.0], vector_k=0, text_k=5)  # no vector parts
    sent = driver.runs[-1][3]
    assert (sent["k"], sent["vector"], sent["fetch"]) == (0, None, None)
    assert driver.transactions == ["read"] * 5
    assert s.seed_search(ALICE, "?!*", v, vector_k=0, text_k=5) == SeedHits()
    assert s.seed_search(ALICE, "Ana", v, vector_k=0, text_k=0) == SeedHits()
    assert len(driver.runs) == 5  # nothing to search: nothing sent
    with pytest.raises(StoreError, match="dimension"):
        s.seed_search(ALICE, "Ana", [1.0], vector_k=5, text_k=5)


def test_seed_search_rows_become_models(store, driver):
    ana, acme = entity("Ana"), entity("Acme", "Organization")
    works = fact(ana, "WORKS_AT", acme, episodes=["e1"])
    ep = Episode(
        partition=ALICE.partition, content="I work at Acme", reference_time=T0, created_at=T0
    )
    driver.responses["read/seed_search"] = [
        {
            "facts_vector": [_fact_item(works, 0.75)],
            "facts_text": [_fact_item(works, 2.5)],
            "episodes_vector": [_episode_item(ep, 0.5)],
            "episodes_text": [_episode_item(ep, 1.5)],
        }
    ]
    hits = store.seed_search(ALICE, "Acme", [1.0, 0.0, 0.0, 0.0], vector_k=3, text_k=3)
    assert [(f.id, sc) for f, sc in hits.facts_vector] == [(works.id, 0.75)]
    assert [(f.id, sc) for f, sc in hits.facts_text] == [(works.id, 2.5)]
    assert [(e.id, sc) for e, sc in hits.episodes_vector] == [(ep.id, 0.5)]
    assert [(e.id, sc) for e, sc in hits.episodes_text] == [(ep.id, 1.5)]
    [(got, _)] = hits.facts_vector
    assert (got.source, got.relation, got.target, got.episodes) == (
        "Ana",
        "WORKS_AT",
        "Acme",
        ["e1"],
    )
    assert got.embedding is None


def _memory_on(driver: FakeDriver) -> Any:
    from graphmem import Memory, MemoryConfig
    from tests.conftest import Clock

    s = Neo4jStore("neo4j://db.example:7687", "neo4j", "pw", driver=driver)
    config = MemoryConfig.from_dict(
        {"embedder": {"provider": "hashing", "dims": 16}, "extractor": "rules"}
    )
    return Memory(config, store=s, clock=Clock(datetime(2024, 6, 1, tzinfo=UTC)))


@pytest.mark.parametrize(
    "options",
    [{}, {"hops": 4}, {"include_episodes": False}, {"include_history": True}, {"hops": 1}],
)
def test_a_search_through_memory_is_at_most_five_round_trips(driver, options):
    memory = _memory_on(driver)
    ana = entity("Ana", embedding=None)
    acme = entity("Acme", "Organization", embedding=None)
    works = fact(ana, "WORKS_AT", acme, sentence="Ana works at Acme")
    driver.responses["read/link_candidates"] = [{"by_key": [_entity_item(ana)], "near": []}]
    driver.responses["read/seed_search"] = [
        {**dict.fromkeys(SEED_LISTS, []), "facts_vector": [_fact_item(works, 0.5)]}
    ]
    driver.responses["read/expand"] = [
        {"facts": [_fact_item(works, 0.5)], "frontier_ids": [acme.id], "visited_ids": [ana.id]}
    ]
    driver.clear()
    found = memory.search("where does Ana work?", user_id="alice", **options)
    # the halves run on threads (Neo4jStore.overlaps_reads): their order may vary; whether
    # the user said any message is asked (first, while the query is embedded) when messages
    # are searched
    said = [] if options.get("include_episodes") is False else [("read", SAID)]
    assert sorted(driver.round_trips()) == sorted(
        [
            ("read", "read/expand"),
            ("read", "read/link_candidates"),
            ("read", "read/seed_search"),
            ("read", "read/seed_search"),
            *said,
        ]
    )
    assert driver.round_trips()[-1] == ("read", "read/expand")
    assert driver.transactions == ["read"] * (4 + len(said))
    _assert_seed_halves(driver)
    assert [r["id"] for r in found["results"]] == [works.id]
    assert found["results"][0]["path"][0]["id"] == works.id  # reached by expansion too
    _assert_parameters_complete(driver)


SAID = "read/holds_said_messages"


def _assert_seed_halves(driver: FakeDriver) -> None:
    """One seed_search reads the text lists without a vector, the other the vector lists."""
    seeds = [params for _, name, _, params in driver.runs if name == "read/seed_search"]
    text = [p for p in seeds if p["vector"] is None]
    by_vector = [p for p in seeds if p["vector"] is not None]
    assert len(text) == len(by_vector) == 1
    assert text[0]["k"] == 0 and text[0]["fetch"] is None and text[0]["fact_fetch"] == 0
    assert by_vector[0]["limit"] == 0 and by_vector[0]["k"] > 0


def test_a_search_with_no_linked_entity_is_three_round_trips(driver):
    memory = _memory_on(driver)
    driver.clear()
    found = memory.search("anything new?", user_id="alice")
    assert found["results"] == []
    assert sorted(driver.round_trips()) == [
        ("read", SAID),
        ("read", "read/link_candidates"),
        ("read", "read/seed_search"),
        ("read", "read/seed_search"),
    ]
    _assert_seed_halves(driver)


@pytest.mark.parametrize("said", [True, False])
def test_messages_are_searched_only_where_someone_said_one(driver, said):
    """A partition of add_facts records only (recall drops those from its message lists)
    skips both message parts of seed_search; either way the check asks the whole partition."""
    memory = _memory_on(driver)
    driver.responses[SAID] = [{"said": said}]
    driver.clear()
    memory.search("where does Ana work?", user_id="alice", agent_id="bot")
    check = [params for _, name, _, params in driver.runs if name == SAID]
    assert check == [{"partition": "u:alice", "record_role": "system", "record_name": "add_facts"}]
    seeds = [params for _, name, _, params in driver.runs if name == "read/seed_search"]
    text = next(p for p in seeds if p["vector"] is None)
    by_vector = next(p for p in seeds if p["vector"] is not None)
    assert bool(text["episode_terms"]) is said
    assert (by_vector["fetch"] is not None) is said


def test_expand_is_one_query_up_to_four_hops_then_continues(store, driver):
    frontier = iter([["b"], ["c"], []])

    def fake_expand(name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"facts": [], "frontier_ids": next(frontier), "visited_ids": ["a"]}]

    driver.respond = fake_expand  # type: ignore[method-assign]
    assert store.expand(ALICE, ["a"], hops=4, fanout=5) == []
    assert len(driver.runs) == 1 and driver.runs[0][3]["hops"] == 4
    driver.clear()
    store.expand(ALICE, ["a"], hops=9, fanout=5)  # 4 + 4 + 1, stops when frontier empties
    assert [p["hops"] for _, _, _, p in driver.runs] == [4, 4]
    assert driver.transactions == ["read"]  # one consistent snapshot
    assert store.expand(ALICE, ["a"], hops=0, fanout=5) == []


def test_rows_become_models_with_aware_utc_times(store, driver):
    created = Neo4jDateTime(2024, 3, 1, 9, 30, 0, 123456000, tzinfo=timezone(timedelta(hours=2)))
    driver.responses["read/get_facts"] = [
        {
            "fact": {
                "id": "f1",
                "partition": "u:alice",
                "user_id": "alice",
                "agent_id": None,
                "run_id": None,
                "fact": "Ana works at Acme",
                "valid_at": None,
                "invalid_at": None,
                "created_at": created,
                "expired_at": None,
                "episodes": ["e1"],
                "confidence": 0.5,
                "invalidated_by": None,
                "metadata_json": '{"n": 2}',
            },
            "relation": "WORKS_AT",
            "source_id": "s",
            "source": "Ana",
            "target_id": "t",
            "target": "Acme",
            "embedding": None,
        }
    ]
    [got] = store.get_facts(ALICE.partition, ["f1", "missing"])
    assert got.created_at == datetime(2024, 3, 1, 7, 30, 0, 123456, tzinfo=UTC)
    assert got.created_at.utcoffset() == timedelta(0)
    assert (got.relation, got.source, got.target, got.metadata) == (
        "WORKS_AT",
        "Ana",
        "Acme",
        {"n": 2},
    )
    assert got.embedding is None and got.confidence == 0.5


def test_times_are_sent_as_aware_utc(store, driver):
    naive = datetime(2024, 1, 1, 12, 0)  # taken as UTC
    plus_two = datetime(2024, 1, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    ana = entity("Ana").model_copy(update={"created_at": naive, "updated_at": plus_two})
    store.apply(WriteBatch(partition=ALICE.partition, entities=[ana]))
    [upsert] = [p for _, n, _, p in driver.runs if n == "write/upsert_entities"]
    row = upsert["rows"][0]
    assert row["created_at"] == row["updated_at"] == datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    assert row["created_at"].tzinfo is not None and row["updated_at"].utcoffset() == timedelta(0)


def test_find_by_key_normalises_keys_and_alias_keys_are_stored(store, driver):
    bob = entity("Robert", aliases=["Bob", "ＢＯＢＢＹ"])
    store.apply(WriteBatch(partition=ALICE.partition, entities=[bob]))
    [upsert] = [p for _, n, _, p in driver.runs if n == "write/upsert_entities"]
    assert upsert["rows"][0]["alias_keys"] == ["robert", "bob", "bobby"]
    store.find_entities_by_key(ALICE.partition, [" BOB ", "", "bob"])
    assert driver.runs[-1][3]["keys"] == ["bob"]


def test_text_search_terms_and_lucene_queries_are_inert():
    """Facts and messages are searched by graphmem's own tokens, one quoted Lucene term each,
    restricted to the partition's token: nothing typed reaches Lucene as syntax."""
    params = fulltext.search_params("u:alice", 'Ana AND "Acme" OR col:x* NOT (y) ^2 ~ \\ /re/')
    assert params["terms"] == ["ana", "and", "acme", "or", "col", "x", "not", "y", "2", "re"]
    part = fulltext.partition_token("u:alice")
    assert part.isalnum()
    assert params["term_queries"] == [f'+part:{part} +text:"{t}"' for t in params["terms"]]
    assert fulltext.search_params("u:alice", "?!* ()")["terms"] == []
    # CJK runs are searched by bigrams, as the embedded store does; diacritics folded.
    cjk = fulltext.query_tokens("王小明在哪里工作?")
    assert cjk == ["王小", "小明", "明在", "在哪", "哪里", "里工", "工作"]
    assert fulltext.query_tokens("서울 카페 Café") == ["서울", "카페", "cafe"]


def test_setup_refuses_other_dimensions_once_vectors_exist(driver):
    s = Neo4jStore("bolt://h:7687", "neo4j", "pw", driver=driver)
    driver.responses["schema/stored_vector_dims"] = [
        {"entity_dims": [32], "fact_dims": [], "episode_dims": []}
    ]
    with pytest.raises(StoreError, match="dimension 32"):
        s.setup(64)
    s.setup(32)
    for bad in (0, -1, 4097, 3.0, True, "32"):
        with pytest.raises(StoreError):
            s.setup(bad)  # type: ignore[arg-type]


def test_setup_rebuilds_a_vector_index_of_another_dimension_when_empty(driver):
    s = Neo4jStore("bolt://h:7687", "neo4j", "pw", driver=driver)
    driver.responses["schema/show_indexes"] = [
        {"name": "graphmem_entity_id", "type": "RANGE", "options": {}},
        {
            "name": "graphmem_entity_embedding",
            "type": "VECTOR",
            "options": {"indexConfig": {"vector.dimensions": 8}},
        },
        {
            "name": "graphmem_episode_embedding",
            "type": "VECTOR",
            "options": {"indexConfig": {"vector.dimensions": 4}},
        },
    ]
    driver.clear()
    s.setup(4)
    names = [n for _, n, _, _ in driver.runs]
    assert "schema/drop_vector_index_entity_embedding" in names
    assert "schema/vector_index_entity_embedding" in names
    assert "schema/drop_vector_index_episode_embedding" not in names
    assert "schema/vector_index_episode_embedding" not in names
    # The fact index is missing here: created (quantized, see its statement).
    assert "schema/vector_index_fact_embedding" in names
    create = [p for _, n, _, p in driver.runs if n == "schema/vector_index_entity_embedding"]
    assert create == [{"dims": 4}]
    # Only missing schema objects are created (an admin may have created them), each in its
    # own transaction.
    assert "schema/constraint_entity_id" not in names
    assert "schema/constraint_fact_ref_id" in names
    assert len(driver.transactions) == len(driver.runs)


def test_setup_on_a_complete_schema_changes_nothing(driver):
    s = Neo4jStore("bolt://h:7687", "neo4j", "pw", driver=driver)
    s.setup(4)
    created = {n for _, n, _, _ in driver.runs if n.startswith("schema/")}
    from graphmem.store.neo4j import BASE_SCHEMA, VECTOR_INDEXES

    vector = {"indexConfig": {"vector.dimensions": 4, "vector.quantization.enabled": True}}
    driver.responses["schema/show_indexes"] = [
        *({"name": n, "type": "RANGE", "options": {}} for n in BASE_SCHEMA),
        *({"name": n, "type": "VECTOR", "options": vector} for n in VECTOR_INDEXES),
    ]
    assert "schema/constraint_entity_id" in created
    again = Neo4jStore("bolt://h:7687", "neo4j", "pw", driver=driver)
    driver.clear()
    again.setup(4)
    assert [n for _, n, _, _ in driver.runs] == [
        "schema/show_indexes",
        "schema/stored_vector_dims",
        "schema/show_indexes",
    ]


# -- errors ------------------------------------------------------------------------------------
def test_unreachable_server_is_a_store_error_naming_the_uri_quickly():
    started = time.monotonic()
    with pytest.raises(StoreError) as info:
        Neo4jStore("bolt://127.0.0.1:1", "neo4j", "pw", connection_timeout=2)
    assert time.monotonic() - started < 10
    assert "bolt://127.0.0.1:1" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_a_bad_uri_is_a_store_error_without_the_password():
    with pytest.raises(StoreError, match="foo://db") as info:
        Neo4jStore("foo://db:7687", "neo4j", "pw")
    assert info.value.__cause__ is None
    with pytest.raises(StoreError) as info:
        Neo4jStore("bolt://me:hunter2@127.0.0.1:1", "neo4j", "pw", connection_timeout=2)
    assert "hunter2" not in str(info.value)


def test_no_uri_at_all(monkeypatch):
    monkeypatch.delenv("NEO4J_URI", raising=False)
    with pytest.raises(StoreError, match="NEO4J_URI"):
        Neo4jStore()


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (neo4j_errors.ServiceUnavailable("gone"), "unreachable"),
        (neo4j_errors.SessionExpired("expired"), "unreachable"),
        (neo4j_errors.AuthError("bad credentials"), "credentials"),
        (neo4j_errors.DriverError("odd"), "driver error"),
    ],
)
def test_driver_errors_become_store_errors(store, driver, error, message):
    driver.fail = error
    with pytest.raises(StoreError, match=message) as info:
        store.list_entities(ALICE.partition)
    assert "neo4j://db.example:7687" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_connecting_checks_connectivity_and_closes_on_failure(driver):
    driver.fail = neo4j_errors.ServiceUnavailable("no route")
    with pytest.raises(StoreError, match="unreachable while connecting"):
        Neo4jStore("neo4j://cluster.example", "neo4j", "pw", driver=driver)
    assert driver.closed


def test_a_closed_store_refuses_work(store, driver):
    store.close()
    assert driver.closed
    with pytest.raises(StoreError, match="closed"):
        store.counts(ALICE.partition)


# -- Neo4j Browser ------------------------------------------------------------------------------
def _unquote(literal: str) -> str:
    assert literal[0] == literal[-1] == "'"
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\":
            nxt = body[i + 1]
            if nxt == "u":
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
                continue
            if nxt == "U":
                out.append(chr(int(body[i + 2 : i + 10], 16)))
                i += 10
                continue
            out.append(nxt)
            i += 2
            continue
        assert body[i] != "'", "unescaped quote ends the literal early"
        out.append(body[i])
        i += 1
    return "".join(out)


@pytest.mark.parametrize(
    "user_id",
    [
        "alice",
        "x' + toString(1) + '",
        "o\\'brien",
        "Zoë 王",
        "x}) MATCH (n) DETACH DELETE n //",
        "tab\u2028sep",
    ],
)
def test_browse_query_sets_the_partition_as_one_escaped_literal(user_id):
    text = browse_query(user_id)
    first, *rest = text.splitlines()
    match = re.fullmatch(r":param partition => ('(?:[^'\\]|\\.)*');", first)
    assert match, first
    assert _unquote(match.group(1)) == Scope(user_id=user_id).partition
    assert "$partition" in "\n".join(rest)
    assert not any(line.lstrip().startswith("//") for line in rest)


def test_browse_query_refuses_a_bad_user_id():
    with pytest.raises(ScopeError):
        browse_query("")
    with pytest.raises(ScopeError):
        browse_query("a\x00b")


def test_cypher_string_literal_round_trips():
    for value in ["", "plain", "it's", 'say "hi"', "back\\slash", "\u2028", "😀"]:
        assert _unquote(cypher_string_literal(value)) == value


def test_each_relationship_type_gets_its_own_statement_in_the_one_transaction(store, driver):
    ana, acme, lisbon = entity("Ana"), entity("Acme", "Organization"), entity("Lisbon", "Place")
    facts = [
        fact(ana, "WORKS_AT", acme),
        fact(ana, "LIVES_IN", lisbon),
        fact(acme, "LOCATED_IN", lisbon),
        fact(ana, "WORKS_AT", lisbon),
    ]
    store.apply(WriteBatch(partition=ALICE.partition, entities=[ana, acme, lisbon], facts=facts))
    assert driver.transactions == ["write"]
    creates = [(q, p) for _, n, q, p in driver.runs if n == "write/create_facts"]
    assert [q for q, _ in creates] == [
        cypher_loader.statement("write/create_facts", RELATION=r)
        for r in ("WORKS_AT", "LIVES_IN", "LOCATED_IN")
    ]
    assert [[row["props"]["id"] for row in p["rows"]] for _, p in creates] == [
        [facts[0].id, facts[3].id],
        [facts[1].id],
        [facts[2].id],
    ]


def test_a_stale_plan_is_refused_before_anything_is_written(store, driver):
    """The version check is the transaction's first statement; a moved counter raises
    ConflictError inside the transaction function, so the driver rolls it back and nothing
    after it is sent."""
    driver.responses["write/claim_partition_version"] = [{"version": 7}]
    batch = _batch(2).model_copy(update={"expected_version": 6})
    with pytest.raises(ConflictError, match="changed while the batch was planned"):
        store.apply(batch)
    assert [n for _, n, _, _ in driver.runs] == ["write/claim_partition_version"]
    driver.clear()
    store.apply(batch.model_copy(update={"expected_version": 7}))
    assert [p["bump"] for _, n, _, p in driver.runs if n.endswith("partition_version")] == [1]


def test_an_unquantized_fact_index_is_rebuilt_quantized(store, driver):
    """Earlier versions created the fact index unquantized, which Neo4j 5.26 answers 5-10x
    slower once written by many small transactions; fact search now re-scores the quantized
    index's best hits exactly, so an unquantized fact index is rebuilt (data stays)."""
    unquantized = {"indexConfig": {"vector.dimensions": 4, "vector.quantization.enabled": False}}
    driver.responses["schema/show_indexes"] = [
        {"name": "graphmem_fact_embedding", "type": "VECTOR", "options": unquantized},
    ]
    store.setup(4)
    names = [n for _, n, _, _ in driver.runs]
    assert names.index("schema/drop_vector_index_fact_embedding") < names.index(
        "schema/vector_index_fact_embedding"
    )
    text = cypher_loader.load("schema/vector_index_fact_embedding")
    assert "`vector.quantization.enabled`: true" in text


def test_every_statement_sent_states_its_cypher_version(store, driver):
    """Neo4j 2025.x may default a database to Cypher 25: every statement the store sends
    starts with CYPHER 5, the version the files are written in."""
    ana, acme = entity("Ana"), entity("Acme", "Organization")
    store.apply(
        WriteBatch(
            partition=ALICE.partition, entities=[ana, acme], facts=[fact(ana, "WORKS_AT", acme)]
        )
    )
    store.search_facts_vector(ALICE, [1.0, 0.0, 0.0, 0.0], 3)
    store.setup(4)
    assert driver.runs
    assert all(query.startswith("CYPHER 5\n") for _, _, query, _ in driver.runs)


@pytest.mark.parametrize(
    "when",
    [
        datetime(2024, 3, 1, 9, 30, 5, 123456, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC),
        datetime(1901, 1, 1, tzinfo=UTC),
    ],
)
def test_fact_times_come_back_as_epoch_microseconds_exactly(when):
    """Fact reads return times as `epochSeconds * 1000000 + microsecond` (Neo4j's
    epochSeconds is floored, like Java's Instant), read back to the same aware datetime."""
    from graphmem.store.neo4j import _py_dt

    seconds = (when - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(seconds=1)
    assert _py_dt(seconds * 1_000_000 + when.microsecond) == when


def _add_trips(driver: FakeDriver) -> list[tuple[str, str]]:
    """The add's round trips but the episodes' write, which may run beside the first reads
    (graphmem.ingest.durable); that write is checked to be sent once, before the others'
    write transaction."""
    trips = driver.round_trips()
    episodes = [i for i, t in enumerate(trips) if t == ("write", "write/add_episodes")]
    assert len(episodes) == 1
    assert episodes[0] < trips.index(("write", "write/claim_partition_version"))
    return [t for t in trips if t != ("write", "write/add_episodes")]


def test_an_add_through_memory_reads_once_before_its_write(driver):
    """An add of two new names: the episodes' write, ONE read for the partition's version
    and the entities of the extracted names (read/version_and_entities), a vector search
    per name not found by key, then the write transaction; nothing is read back after it."""
    memory = _memory_on(driver)
    driver.clear()
    result = memory.add("Ana works at Acme.", user_id="alice")
    assert [r["event"] for r in result["results"]] == ["ADD"]
    assert _add_trips(driver) == [
        ("read", "read/version_and_entities"),
        ("read", "read/search_entities_vector"),
        ("read", "read/search_entities_vector"),
        ("write", "write/claim_partition_version"),
        ("write", "write/upsert_entities"),
        ("write", "write/create_facts"),
        ("write", "write/finish_episodes"),
    ]
    assert sorted(driver.transactions) == ["read"] * 3 + ["write"] * 2
    [read] = [p for _, n, _, p in driver.runs if n == "read/version_and_entities"]
    assert read["keys"] == ["ana", "acme"]
    _assert_parameters_complete(driver)


def test_an_add_plans_against_the_version_read_with_its_entities(driver):
    """The version comes from the same statement as the stored entities, and the write
    claims it: Ana, stored, is met by key (no vector search for her) and costs the read of
    the facts she may conflict with."""
    memory = _memory_on(driver)
    ana = entity("Ana", embedding=None)
    driver.responses["read/version_and_entities"] = [
        {"version": 3, "entities": [_entity_item(ana)["entity"]]}
    ]
    driver.responses["write/claim_partition_version"] = [{"version": 3}]
    driver.clear()
    result = memory.add("Ana works at Acme.", user_id="alice")
    assert [r["event"] for r in result["results"]] == ["ADD"] and not result["errors"]
    assert [n for _, n in _add_trips(driver)] == [
        "read/version_and_entities",
        "read/search_entities_vector",
        "read/facts_for_detection",
        "write/claim_partition_version",
        "write/upsert_entities",
        "write/create_facts",
        "write/finish_episodes",
    ]
    [create] = [p for _, n, _, p in driver.runs if n == "write/create_facts"]
    assert create["rows"][0]["source_id"] == ana.id  # the stored Ana, met by key
