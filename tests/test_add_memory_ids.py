"""An add answers with Mem0's memory ids without reading its facts back.

Each result of an add names a memory (Mem0's `id`): for a fact it wrote, the fact's own
memory; for a stored fact it merged into or ended, that fact's memory, which may be an
earlier version's. The plan holds all of these, so the add needs no read after its write
(one store round trip less per add on Neo4j). These tests hold the ids to what reading the
facts back gives, for every kind of result, and that nothing is read back.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.add_stores import STORES, memory_on_fixture  # noqa: F401 (the fixture)


def no_reads_back(memory: Any) -> list[list[str]]:
    """Record every get_facts call (the add's former read back)."""
    calls: list[list[str]] = []
    get_facts = memory.store.get_facts

    def recording(partition: str, ids: Any, **kwargs: Any) -> Any:
        calls.append(list(ids))
        return get_facts(partition, ids, **kwargs)

    memory.store.get_facts = recording
    return calls


def read_back(memory: Any, response: Any) -> dict[str, str]:
    """What the ids were when an add read its facts back: each fact's stored memory id, or
    the result's own id when the fact is not stored (a skipped statement)."""
    ids = [r["fact_id"] for r in response["results"]]
    stored = {f.id: f.memory_id for f in memory.store.get_facts("u:ana", ids)}
    return {r["fact_id"]: stored.get(r["fact_id"], r["fact_id"]) for r in response["results"]}


@pytest.mark.parametrize("store", STORES)
def test_every_kind_of_result_names_its_memory_without_a_read_back(store, clock, memory_on):
    memory = memory_on(store)
    calls = no_reads_back(memory)
    first = memory.add("I live in Lisbon.", user_id="ana")["results"][0]["id"]
    clock.advance(minutes=1)
    memory.update(first, "User lives in Porto")  # a later version of the same memory
    said = [
        ("I live in Porto.", [("MERGE", first)]),  # into the later version: its memory
        ("I moved to Madrid.", [("INVALIDATE", first), ("ADD", None)]),
        ("I live in Madrid.", [("MERGE", None)]),  # into the fact the last add wrote
        ("I don't work at Initech.", [("SKIP", None)]),  # nothing stored to end
        ("I don't live in Madrid.", [("INVALIDATE", None)]),
    ]
    for text, expected in said:
        clock.advance(minutes=1)
        calls.clear()
        response = memory.add(text, user_id="ana")
        assert calls == []  # nothing read back after the write
        results = response["results"]
        assert [r["action"] for r in results] == [action for action, _ in expected]
        for r, (_, memory_id) in zip(results, expected, strict=True):
            if memory_id is not None:
                assert r["id"] == memory_id and r["fact_id"] != memory_id
        assert {r["fact_id"]: r["id"] for r in results} == read_back(memory, response)
    memory.close()


@pytest.mark.parametrize("store", STORES)
def test_add_facts_names_memories_without_a_read_back(store, clock, memory_on):
    memory = memory_on(store)
    calls = no_reads_back(memory)
    row = {"source": "Ana", "relation": "WORKS_AT", "target": "Acme"}
    memory.add_facts([row], user_id="ana")
    calls.clear()
    response = memory.add_facts([row], user_id="ana")
    assert calls == [] and [r["action"] for r in response["results"]] == ["MERGE"]
    assert {r["fact_id"]: r["id"] for r in response["results"]} == read_back(memory, response)
    memory.close()
