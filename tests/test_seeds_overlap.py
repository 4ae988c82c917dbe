"""A store whose reads wait on a server (GraphStore.overlaps_reads) gets a search's first-stage
reads split in halves that run at the same time (graphmem/recall/seeds.py): the same results
as the sequential calls, errors surface as they would, and no read outlives its search."""

from __future__ import annotations

import os
import threading
import time

import pytest

from graphmem.errors import StoreError
from tests.conftest import Clock, make_memory

QUERIES = [
    "where does Ana work?",
    "who lives in Porto?",
    "what did I say about the office?",
    "Where does Ana's brother live?",
    "when did Bruno move?",
    "nothing here matches",
]


FACTS = [
    ("Ana", "WORKS_AT", "Acme", "Ana works at Acme."),
    ("Ana", "LIVES_IN", "Porto", "Ana lives in Porto."),
    ("Bruno", "SIBLING_OF", "Ana", "Bruno is Ana's brother."),
    ("Bruno", "LIVES_IN", "Lyon", "Bruno lives in Lyon."),
    ("Acme", "HEADQUARTERED_IN", "Porto", "Acme is headquartered in Porto."),
]


def _fill(memory) -> None:
    rows = [{"source": s, "relation": r, "target": t, "fact": f} for s, r, t, f in FACTS]
    memory.add_facts(rows, user_id="u")
    memory.add("Ana likes jazz and plays in Porto.", user_id="u", metadata={"topic": "music"})
    memory.add("I moved to Porto last year and the office is near the river.", user_id="u")
    memory.add("Bruno moved to Lyon in March; he likes the office there.", user_id="u")


def _both_ways(memory) -> list[tuple[dict, dict]]:
    out = []
    for query in QUERIES:
        for options in (
            {},
            {"include_episodes": False},
            {"include_history": True},
            {"filters": {"topic": "music"}},  # a filtered view asks for k + what it excludes
        ):
            memory.store.overlaps_reads = False
            one = memory.search(query, user_id="u", **options)
            memory.store.overlaps_reads = True
            other = memory.search(query, user_id="u", **options)
            out.append((one, other))
    return out


def test_overlapped_reads_give_the_sequential_results():
    memory = make_memory(Clock())
    try:
        _fill(memory)
        pairs = _both_ways(memory)
        assert any(one["results"] for one, _ in pairs)
        for one, other in pairs:
            assert one == other
    finally:
        memory.close()


@pytest.mark.neo4j
@pytest.mark.skipif(not os.environ.get("NEO4J_URI"), reason="NEO4J_URI not set (docs/neo4j.md)")
def test_overlapped_reads_give_the_sequential_results_on_neo4j():
    memory = make_memory(Clock(), store={"provider": "neo4j", "uri": os.environ["NEO4J_URI"]})
    try:
        memory.delete_all(user_id="u")
        _fill(memory)
        assert type(memory.store).overlaps_reads  # the server store asks for it
        pairs = _both_ways(memory)
        assert any(one["results"] for one, _ in pairs)
        for one, other in pairs:
            assert one == other
    finally:
        memory.delete_all(user_id="u")
        memory.close()


def test_overlapped_reads_cut_long_message_lists_as_the_sequential_ones():
    """More messages than the first stage keeps (k = 3 here), said ones and add_facts records
    mixed: both ways cut each message list at the same place (the records count for the cut,
    then recall drops them), so the hits are the same."""
    memory = make_memory(Clock(), retrieval={"vector_k": 3, "bm25_k": 3})
    try:
        for i in range(6):
            row = {"source": f"Person {i}", "relation": "LIVES_IN", "target": "Porto"}
            memory.add_facts([row], user_id="u")
            memory.add(f"Person {i} said the office in Porto is near the river.", user_id="u")
        pairs = _both_ways(memory)
        assert any(
            hit["relation"] == "SAID" for one, _ in pairs for hit in one["results"]
        )  # message hits took part
        for one, other in pairs:
            assert one == other
    finally:
        memory.close()


def test_a_failed_read_fails_the_search_after_every_read_ended():
    """The text half fails on another thread: the caller gets its StoreError, and the other
    reads of the search have ended by then (nothing keeps reading a closed store)."""
    memory = make_memory(Clock())
    try:
        _fill(memory)
        store = memory.store
        store.overlaps_reads = True
        running = threading.Event()
        ended: list[str] = []
        seed_search, link_candidates = store.seed_search, store.link_candidates

        def failing_seed_search(scope, query, vector, *, vector_k, text_k, **kw):
            if vector_k == 0:  # the text half
                raise StoreError("the server went away")
            return seed_search(scope, query, vector, vector_k=vector_k, text_k=text_k, **kw)

        def slow_link(*args, **kw):
            running.set()
            time.sleep(0.05)
            ended.append("link")
            return link_candidates(*args, **kw)

        store.seed_search = failing_seed_search
        store.link_candidates = slow_link
        with pytest.raises(StoreError, match="went away"):
            memory.search("where does Ana work?", user_id="u")
        assert running.is_set() and ended == ["link"]
    finally:
        memory.close()
