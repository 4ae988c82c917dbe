"""Memory on each store for the add-flow tests that must hold on both (SQLite in memory, and
Neo4j when NEO4J_URI is set: the store whose writes overlap planning).

Use: `from tests.add_stores import STORES, memory_on_fixture` (which registers the fixture
`memory_on`) and parametrize a test with `@pytest.mark.parametrize("store", STORES)`; the
test takes `memory_on` and calls `memory_on(store)`. The Neo4j database is reset before
and after (tests only), so the vectors of this dimension never meet another test's."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import make_memory

DIMS = 32  # the Neo4j tests' dimension (tests/test_neo4j_integration.py)
STORES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("neo4j", id="neo4j", marks=pytest.mark.neo4j),
]


def _reset_neo4j() -> None:
    from graphmem.store.neo4j import Neo4jStore

    store = Neo4jStore()
    try:
        store.reset()
    finally:
        store.close()


@pytest.fixture(name="memory_on")
def memory_on_fixture(clock: Any) -> Iterator[Callable[[str], Any]]:
    """A factory of Memory objects with the rules extractor on a store by name; on Neo4j the
    test is skipped without a server."""
    used: list[str] = []

    def open_memory(store: str) -> Any:
        if store == "sqlite":
            return make_memory(clock)
        if not os.environ.get("NEO4J_URI"):
            pytest.skip("NEO4J_URI not set: the Neo4j leg needs a running Neo4j 5.26")
        _reset_neo4j()
        used.append(store)
        config = {"provider": "neo4j", "uri": os.environ["NEO4J_URI"]}
        return make_memory(clock, store=config, embedder={"dims": DIMS})

    yield open_memory
    if used:
        _reset_neo4j()
