"""Delete forgets, on every store: after delete(memory_id) (or delete_episode) the deleted
content comes back by no route: fact vectors, fact BM25, graph walk, message vectors and BM25,
the context string, get/get_all/history, the store's own reads, and export.

The rule under test (graphmem.forget): a memory's versions go, with each message no surviving
fact rests on; a message deleted takes what was derived from it alone; entities left with no
fact and no mention go; vectors and full-text entries go with their rows.
"""

from __future__ import annotations

import io

import pytest

from graphmem.embed.hashing import HashingEmbedder
from graphmem.extract.rules import RulesExtractor
from graphmem.memory import Memory
from graphmem.models import Scope
from graphmem.transfer import export_jsonl
from tests.conftest import Clock
from tests.contract.builders import DIMS

SECRET = "Zanzibar"
SCOPE = Scope(user_id="ana")


@pytest.fixture
def memory(store):
    return Memory(
        store=store, embedder=HashingEmbedder(DIMS), extractor=RulesExtractor(), clock=Clock()
    )


def _everything(memory: Memory) -> str:
    """Every route by which stored text can come back, as one string."""
    store, parts = memory.store, []
    for query in (f"where does the user live? {SECRET}", SECRET, "Where do I live?"):
        found = memory.search(query, user_id="ana", limit=50, include_history=True)
        parts += [str(found["results"]), found["context"], str(found["relations"])]
        graph = memory.search(query, user_id="ana", limit=50, hops=2, include_episodes=False)
        parts += [str(graph["results"]), graph["context"]]
    vector = memory.embedder.embed_one(SECRET)
    parts.append(str(store.search_facts_vector(SCOPE, vector, 50, include_invalid=True)))
    parts.append(str(store.search_facts_text(SCOPE, SECRET, 50, include_invalid=True)))
    parts.append(str(store.search_episodes_vector(SCOPE, vector, 50)))
    parts.append(str(store.search_episodes_text(SCOPE, SECRET, 50)))
    entities = store.list_entities(SCOPE.partition)
    parts.append(str(store.find_entities_by_key(SCOPE.partition, [SECRET.lower()])))
    parts.append(str([e.name for e in entities]))
    parts.append(
        str(store.expand(SCOPE, [e.id for e in entities], hops=2, fanout=50, include_invalid=True))
    )
    parts.append(str(store.list_facts(SCOPE, include_invalid=True)))
    parts.append(str(store.list_episodes(SCOPE)))
    parts.append(str(memory.get_all(user_id="ana", include_history=True)))
    out = io.StringIO()
    export_jsonl(store, "ana", out)
    parts.append(out.getvalue())
    return "\n".join(parts)


def test_delete_memory_forgets_it_by_every_route(memory):
    added = memory.add(f"I live in {SECRET}.", user_id="ana")
    mid = added["results"][0]["id"]
    memory.update(memory_id=mid, data=f"User lives in {SECRET}, by the sea.")
    assert len(memory.history(mid)) == 2  # two versions, both to be forgotten
    # Another user says the same: a delete is confined to its own user.
    memory.add(f"I live in {SECRET}. I work at Acme.", user_id="bo")
    assert SECRET in _everything(memory)  # every route can see it before

    memory.delete(memory_id=mid)

    assert SECRET not in _everything(memory)
    assert memory.get(mid) is None and memory.history(mid) == []
    assert memory.store.counts("u:ana") == {
        "entities": 0,
        "facts": 0,
        "current_facts": 0,
        "episodes": 0,
    }
    # What the delete did not touch is still there.
    kept = memory.get_all(user_id="bo")["results"]
    assert sorted(r["target"] for r in kept) == ["Acme", SECRET]
    assert SECRET in memory.search(f"where do I live? {SECRET}", user_id="bo")["context"]


def test_a_message_that_still_supports_a_live_fact_is_kept(memory):
    memory.add(f"I live in {SECRET}. I work at Acme.", user_id="ana")
    lives = next(r for r in memory.get_all(user_id="ana")["results"] if r["target"] == SECRET)
    memory.delete(lives["id"])
    assert [r["target"] for r in memory.get_all(user_id="ana")["results"]] == ["Acme"]
    # The message is the Acme fact's evidence, so it stays (delete_episode removes it).
    [episode] = memory.episodes(user_id="ana")
    memory.delete_episode(episode.id)
    assert SECRET not in _everything(memory)
    assert memory.get_all(user_id="ana")["results"] == []


def test_deleting_a_message_hit_removes_it_and_what_came_from_it(memory):
    memory.add(f"{SECRET} was lovely, we talked about it all evening.", user_id="ana")
    memory.add(f"I live in {SECRET}.", user_id="ana")
    memory.add("I work at Acme.", user_id="bo")
    hits = memory.search(f"{SECRET} evening", user_id="ana", limit=50)["results"]
    message = next(h for h in hits if h.get("kind") == "message")
    assert memory.get(message["id"])["memory"].startswith(SECRET)
    memory.delete(message["id"])  # a message hit's id is accepted by delete
    assert "evening" not in _everything(memory)
    # The message behind a fact: deleting it removes the fact derived from it alone.
    [lives] = memory.get_all(user_id="ana")["results"]
    memory.delete_episode(lives["episodes"][0])
    assert SECRET not in _everything(memory)
    assert memory.get_all(user_id="ana")["results"] == []
    assert [r["target"] for r in memory.get_all(user_id="bo")["results"]] == ["Acme"]


def test_facts_stored_before_memory_ids_are_their_own_memories(tmp_path):
    """A SQLite file written before memory ids (no memory_id column) opens, and each of its
    facts is its own memory: get, update and delete by the old fact id work."""
    import sqlite3

    from graphmem.store.sqlite import SQLiteStore

    path = str(tmp_path / "old.db")
    mem = Memory(
        store=SQLiteStore(path),
        embedder=HashingEmbedder(DIMS),
        extractor=RulesExtractor(),
        clock=Clock(),
    )
    fact_id = mem.add("I live in Lisbon.", user_id="ana")["results"][0]["fact_id"]
    mem.close()
    with sqlite3.connect(path) as conn:  # make it an older file
        conn.execute("DROP INDEX facts_by_memory")
        conn.execute("DROP INDEX facts_by_memory_id")
        conn.execute("ALTER TABLE facts DROP COLUMN memory_id")
    mem = Memory(
        store=SQLiteStore(path),
        embedder=HashingEmbedder(DIMS),
        extractor=RulesExtractor(),
        clock=Clock(),
    )
    assert mem.get(fact_id)["id"] == fact_id
    assert mem.update(fact_id, "User lives in Porto.")["id"] == fact_id
    assert [h["event"] for h in mem.history(fact_id)] == ["ADD", "UPDATE"]
    mem.delete(fact_id)
    assert mem.get_all(user_id="ana")["results"] == []
    mem.close()
