"""The graph reads (an entity, its timeline, why a memory is known) as the library offers them:
the same Memory methods the server and MemoryClient answer with, one way to read them."""

from __future__ import annotations

import asyncio

import pytest

from graphmem.async_memory import AsyncMemory
from graphmem.errors import InputError, NotFoundError, ScopeError


def _moves(memory, clock) -> str:
    memory.add("I live in Porto. My wife Maria works at Acme.", user_id="ana")
    top = memory.search("where does Maria work?", user_id="ana", limit=5)["results"]
    memory_id = next(h["id"] for h in top if h["target"] == "Acme")
    clock.advance(days=30)
    memory.update(memory_id, "Maria works at Globex.")
    return memory_id


def test_entity_shows_current_facts_and_neighbours(memory, clock):
    _moves(memory, clock)
    maria = memory.entity("maria", user_id="ana")
    assert maria["entity"]["name"] == "Maria"
    assert {f["target"] for f in maria["facts"] if f["relation"] == "WORKS_AT"} == {"Globex"}
    assert {r for n in maria["neighbours"] for r in n["relations"]} >= {"WORKS_AT", "MARRIED_TO"}


def test_entity_timeline_keeps_what_used_to_be_true(memory, clock):
    _moves(memory, clock)
    timeline = memory.entity_timeline("Maria", user_id="ana")["timeline"]
    jobs = [(t["target"], t["current"]) for t in timeline if t["relation"] == "WORKS_AT"]
    assert jobs == [("Acme", False), ("Globex", True)]


def test_explain_names_the_source_message_and_the_path(memory, clock):
    memory_id = _moves(memory, clock)
    why = memory.explain(memory_id, query="where does Maria work?")
    assert why["memory"]["id"] == memory_id
    assert "Maria works at Acme" in why["sources"][0]["content"]
    assert why["found"] is not None and why["path"][-1]["target"] == "Globex"
    assert memory.explain(memory_id)["found"] is None  # no query: sources only


def test_graph_reads_stay_inside_the_user(memory, clock):
    _moves(memory, clock)
    with pytest.raises(NotFoundError):
        memory.entity("Maria", user_id="bob")
    with pytest.raises(NotFoundError):
        memory.explain("no-such-id")
    with pytest.raises(InputError):
        memory.entity("  ", user_id="ana")
    with pytest.raises(ScopeError):
        memory.entity_timeline("Maria")


def test_async_memory_offers_the_graph_reads(memory, clock):
    _moves(memory, clock)
    async_memory = AsyncMemory(memory=memory)
    found = asyncio.run(async_memory.entity("Maria", user_id="ana"))
    assert found == memory.entity("Maria", user_id="ana")
