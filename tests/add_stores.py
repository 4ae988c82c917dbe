"""Memory on each store for the add-flow tests that must hold on both (SQLite in memory, and
Neo4j when NEO4J_URI is set: the store whose writes overlap planning)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.conftest import make_memory

DIMS = 32  # the Neo4j tests' dimension (tests/test_neo4j_integration.py), so setup agrees
STORES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("neo4j", id="neo4j", marks=pytest.mark.neo4j),
]


def memory_on(store: str, clock: Any) -> Any:
    """A Memory with the rules extractor on `store`; on Neo4j the database is reset first
    (tests only), and the test is skipped without a server."""
    if store == "sqlite":
        return make_memory(clock)
    if not os.environ.get("NEO4J_URI"):
        pytest.skip("NEO4J_URI not set: the Neo4j leg needs a running Neo4j 5.26")
    from graphmem.store.neo4j import Neo4jStore

    Neo4jStore().reset()
    config = {"provider": "neo4j", "uri": os.environ["NEO4J_URI"]}
    return make_memory(clock, store=config, embedder={"dims": DIMS})
