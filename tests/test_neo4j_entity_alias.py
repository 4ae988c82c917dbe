"""Linking a name to an entity on Neo4j through indexes (skipped unless NEO4J_URI is set).

What a user relies on: a name finds the entity holding it as its key or as an alias, in their
own graph only, whatever characters it holds, in time that does not grow with their graph
(every add and search links names). Aliases are looked up in the full-text index
graphmem_entity_alias (keyword analyzer over "<partition> <alias key>" terms); a database
written before that index gets the terms at setup.
"""

from __future__ import annotations

import os

import pytest

from graphmem.models import Scope
from tests import test_neo4j_fulltext as neo4j_fulltext_tests
from tests.contract.builders import ALICE, BOB, DIMS, entity, write

pytestmark = [
    pytest.mark.neo4j,
    pytest.mark.skipif(
        not os.environ.get("NEO4J_URI"),
        reason="NEO4J_URI not set: these tests need a running Neo4j 5.26 (docs/neo4j.md)",
    ),
]

_open = neo4j_fulltext_tests._open
store = neo4j_fulltext_tests.store  # the fixture: a reset store, set up, reset again after

ODD = ['Robert "Bob" Smith', "back\\slash", "a* OR b:c~", "part:x AND (y)", "Zoë"]


def _people(store, scope: Scope, count: int = 0) -> None:
    """Ana (aliases Annie and the odd names) and Bob in `scope`, plus `count` others."""
    people = [
        entity(scope, "Ana", aliases=["Annie", *ODD], minute=1, id=f"{scope.partition}:ana"),
        entity(scope, "Bob", minute=2, id=f"{scope.partition}:bob"),
    ]
    people += [
        entity(scope, f"Person {i}", aliases=[f"P{i}"], minute=3 + i, id=f"{scope.partition}:{i}")
        for i in range(count)
    ]
    write(store, scope, entities=people)


def _names(found) -> list[str]:
    return [e.name for e in found]


def _link(store, scope: Scope, keys: list[str]) -> list[str]:
    by_key, _ = store.link_candidates(scope.partition, keys, [0.0] * DIMS, 0)
    return _names(by_key)


@pytest.mark.parametrize("key", ["Annie", "annie", *ODD])
def test_an_alias_finds_its_entity_in_the_users_graph_only(store, key):
    _people(store, ALICE)
    _people(store, BOB)
    assert _names(store.find_entities_by_key(ALICE.partition, [key])) == ["Ana"]
    assert _link(store, ALICE, [key]) == ["Ana"]


def test_keys_and_aliases_together_each_entity_once_in_creation_order(store):
    _people(store, ALICE)
    keys = ["bob", "Annie", "Ana", "nobody"]
    assert _names(store.find_entities_by_key(ALICE.partition, keys)) == ["Ana", "Bob"]
    assert _link(store, ALICE, keys) == ["Ana", "Bob"]


def test_renamed_aliases_are_found_by_the_new_ones_only(store):
    _people(store, ALICE)
    ana = store.find_entities_by_key(ALICE.partition, ["Ana"])[0]
    write(store, ALICE, entities=[ana.model_copy(update={"aliases": ["Nana"]})])
    assert _names(store.find_entities_by_key(ALICE.partition, ["nana"])) == ["Ana"]
    assert store.find_entities_by_key(ALICE.partition, ["annie"]) == []


def _db_hits(store, keys: list[str]) -> int:
    from graphmem.store import cypher_loader
    from graphmem.store.neo4j import fulltext

    query = cypher_loader.load("read/find_entities_by_key")
    params = {"keys": keys, "alias_queries": fulltext.alias_queries(ALICE.partition, keys)}
    with store._driver.session(database=store._database) as session:
        summary = session.run("PROFILE " + query, partition=ALICE.partition, **params).consume()

    def hits(plan) -> int:
        return plan.get("dbHits", 0) + sum(hits(child) for child in plan.get("children", []))

    return hits(summary.profile)


def test_looking_up_a_name_does_not_scan_the_users_entities(store):
    """The look-up's database work is the same for 2 entities as for 300: a seek."""
    _people(store, ALICE)
    small = _db_hits(store, ["annie", "bob"])
    _people(store, ALICE, count=300)
    assert _db_hits(store, ["annie", "bob"]) <= small + 20


def test_a_database_written_before_the_alias_index_is_indexed_at_setup(store):
    _people(store, ALICE)
    with store._driver.session(database=store._database) as session:
        session.run("MATCH (e:Entity) REMOVE e.alias_terms").consume()
        session.run("DROP INDEX graphmem_entity_alias").consume()
    upgraded = _open()
    try:
        upgraded.setup(DIMS)
        assert _names(upgraded.find_entities_by_key(ALICE.partition, ["annie"])) == ["Ana"]
        assert _link(upgraded, ALICE, ["a* OR b:c~"]) == ["Ana"]
    finally:
        upgraded.close()
