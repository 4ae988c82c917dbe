"""Neo4j's holds_said_messages on a live server: a partition whose messages are all add_facts
records (the provenance of imported triples) has nothing for recall's message lists (store.base.said
drops those records), so the search skips both message parts of seed_search. The answer must
follow store.base.said exactly, for the whole partition, and results must not change.

    NEO4J_URI=bolt://localhost:7687 pytest tests/test_neo4j_said_messages.py
"""

from __future__ import annotations

import os

import pytest

from graphmem.models import Episode, Scope
from graphmem.store.base import said as _said
from tests.contract.builders import ALICE, BOB, axis, episode
from tests.test_neo4j_integration import store  # noqa: F401  (the fixture: a reset server)

pytestmark = [
    pytest.mark.neo4j,
    pytest.mark.skipif(
        not os.environ.get("NEO4J_URI"),
        reason="NEO4J_URI not set: these tests need a running Neo4j 5.26 (docs/neo4j.md)",
    ),
]


def _record(scope: Scope, content: str, *, role: str, name: str | None) -> Episode:
    return episode(scope, content, name=name).model_copy(update={"role": role})


def test_an_empty_partition_holds_no_said_message(store):  # noqa: F811
    assert store.holds_said_messages(ALICE) is False


@pytest.mark.parametrize(
    ("role", "name"),
    [("user", None), ("user", "add_facts"), ("assistant", None), ("system", None), ("system", "x")],
)
def test_a_message_anyone_said_counts_and_an_add_facts_record_does_not(store, role, name):  # noqa: F811
    store.add_episodes([_record(ALICE, '[{"source": "Ana"}]', role="system", name="add_facts")])
    assert store.holds_said_messages(ALICE) is False
    said = _record(ALICE, "I live in Lisbon.", role=role, name=name)
    store.add_episodes([said])
    assert store.holds_said_messages(ALICE) is _said(said) is True


def test_the_whole_partition_counts_and_no_other(store):  # noqa: F811
    store.add_episodes([episode(BOB, "I live in Porto.")], [axis(1)])
    assert store.holds_said_messages(ALICE) is False
    assert store.holds_said_messages(Scope(user_id="bob", agent_id="bot")) is True


def test_a_search_of_imported_facts_skips_the_messages_with_the_same_results():
    from tests.conftest import Clock, make_memory

    memory = make_memory(Clock(), store={"provider": "neo4j", "uri": os.environ["NEO4J_URI"]})
    try:
        memory.delete_all(user_id="imp")
        rows = [
            {"source": "Ana", "relation": "LIVES_IN", "target": "Lisbon"},
            {"source": "Ana", "relation": "WORKS_AT", "target": "Globex"},
            {"source": "Rui", "relation": "SIBLING_OF", "target": "Ana"},
        ]
        memory.add_facts(rows, user_id="imp")
        store = memory.store
        queries = ("Where does Ana live?", "Who is Ana's sibling?", "globex lisbon")
        asked = [memory.search(q, user_id="imp") for q in queries]
        assert any(found["results"] for found in asked)
        store.holds_said_messages = lambda scope: True  # the lists read, records dropped
        assert [memory.search(q, user_id="imp") for q in queries] == asked
    finally:
        memory.delete_all(user_id="imp")
        memory.close()
