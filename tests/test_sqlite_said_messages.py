"""A partition whose messages are all add_facts records (the provenance of imported triples)
has nothing for the message lists: recall drops those records from them (flow._said), so the
SQLite store says so up front and the search skips both message lists (a vector scan, a
full-text query and the reading of every record it found, each a JSON dump of the import).
Results must be exactly those of reading the lists and dropping the records."""

from __future__ import annotations

import pytest

from graphmem.models import Episode, Scope
from graphmem.recall.flow import _said
from graphmem.store.sqlite import SQLiteStore
from tests.conftest import make_memory
from tests.contract.builders import ALICE, BOB, DIMS, at, axis, episode

FACTS = [
    {"source": "Ana", "relation": "LIVES_IN", "target": "Lisbon"},
    {"source": "Ana", "relation": "WORKS_AT", "target": "Globex"},
    {"source": "Rui", "relation": "SIBLING_OF", "target": "Ana"},
]
QUERIES = ("Where does Ana live?", "Who is Ana's sibling?", "globex", "What did I say?")


def _record(scope: Scope, content: str, *, role: str, name: str | None) -> Episode:
    return episode(scope, content, name=name).model_copy(update={"role": role})


@pytest.fixture
def store(tmp_path):
    store = SQLiteStore(str(tmp_path / "said.db"))
    store.setup(DIMS)
    yield store
    store.close()


def test_an_empty_partition_holds_no_said_message(store):
    assert store.holds_said_messages(ALICE) is False


@pytest.mark.parametrize(
    ("role", "name"),
    [("user", None), ("user", "add_facts"), ("assistant", None), ("system", None), ("system", "x")],
)
def test_a_message_anyone_said_counts_and_an_add_facts_record_does_not(store, role, name):
    store.add_episodes([_record(ALICE, '[{"source": "Ana"}]', role="system", name="add_facts")])
    assert store.holds_said_messages(ALICE) is False
    said = _record(ALICE, "I live in Lisbon.", role=role, name=name)
    store.add_episodes([said])
    assert store.holds_said_messages(ALICE) is _said(said) is True


def test_another_users_messages_do_not_count(store):
    store.add_episodes([episode(BOB, "I live in Porto.")], [axis(1)])
    assert store.holds_said_messages(ALICE) is False
    assert store.holds_said_messages(Scope(user_id="bob", agent_id="bot")) is True


def test_a_deleted_message_no_longer_counts(store):
    said = episode(ALICE, "I live in Lisbon.", minute=1)
    store.add_episodes([said], [axis(2)])
    assert store.holds_said_messages(ALICE) is True
    store.purge(ALICE.partition, [], [said.id])
    assert store.holds_said_messages(ALICE) is False


def _results(memory, query: str) -> list[tuple]:
    found = memory.search(query, user_id="u", limit=20)
    return [(h["memory"], h["score"], h["relation"]) for h in found["results"]]


@pytest.mark.parametrize("with_message", [False, True])
def test_search_skips_the_message_lists_only_when_nothing_was_said(clock, with_message):
    memory = make_memory(clock)
    memory.add_facts(FACTS, user_id="u", timestamp=at(0))
    if with_message:
        memory.add([{"role": "user", "content": "Ana moved to Lisbon last year."}], user_id="u")
    asked: list[bool] = []
    seed_search = memory.store.seed_search

    def spy(*args, **kwargs):
        asked.append(kwargs["episodes"])
        return seed_search(*args, **kwargs)

    memory.store.seed_search = spy
    got = {q: _results(memory, q) for q in QUERIES}
    assert asked == [with_message] * len(QUERIES)
    # the reference: read the lists anyway and let recall drop the records
    memory.store.holds_said_messages = lambda scope: True
    assert {q: _results(memory, q) for q in QUERIES} == got
    assert all(got.values())
    memory.close()
