"""The store fixture: every contract test runs once per store implementation.

Tests in this package speak only the GraphStore contract (graphmem/store/base.py), so a new
store joins by adding a parameter here. Backends that need a server skip with a reason when it
is not configured.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from graphmem.store.base import GraphStore
from tests.contract.builders import DIMS

NEO4J_SKIP = (
    "NEO4J_URI not set: Neo4j contract tests need a running Neo4j 5.26 (see README 'Run on Neo4j')"
)


@dataclass
class Backend:
    """Opens stores on one backend; `persistent` when a second open sees the first's data."""

    name: str
    opener: Callable[[], GraphStore]
    persistent: bool
    opened: list[GraphStore] = field(default_factory=list)

    def open(self) -> GraphStore:
        store = self.opener()
        self.opened.append(store)
        return store


def _sqlite_memory(tmp_path: Path) -> Backend:
    from graphmem.store.sqlite import SQLiteStore

    return Backend("sqlite-memory", lambda: SQLiteStore(":memory:"), persistent=False)


def _sqlite_file(tmp_path: Path) -> Backend:
    from graphmem.store.sqlite import SQLiteStore

    path = str(tmp_path / "contract.db")
    return Backend("sqlite-file", lambda: SQLiteStore(path), persistent=True)


def _neo4j(tmp_path: Path) -> Backend:
    if not os.environ.get("NEO4J_URI"):
        pytest.skip(NEO4J_SKIP)
    from graphmem.store.neo4j import Neo4jStore

    def opener() -> GraphStore:
        return Neo4jStore(
            uri=os.environ["NEO4J_URI"],
            user=os.environ.get("NEO4J_USER", "neo4j"),
            password=os.environ.get("NEO4J_PASSWORD", ""),
            database=os.environ.get("NEO4J_DATABASE"),
        )

    return Backend("neo4j", opener, persistent=True)


_BACKENDS = {"sqlite-memory": _sqlite_memory, "sqlite-file": _sqlite_file, "neo4j": _neo4j}


@pytest.fixture(
    params=[
        "sqlite-memory",
        "sqlite-file",
        pytest.param("neo4j", marks=pytest.mark.neo4j),
    ]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    backend = _BACKENDS[request.param](tmp_path)
    yield backend
    for store in backend.opened:
        store.close()


@pytest.fixture
def store(backend: Backend) -> Iterator[GraphStore]:
    """An empty store set up for DIMS-dimensional vectors, emptied again afterwards."""
    store = backend.open()
    store.reset()
    store.setup(DIMS)
    yield store
    store.reset()


@pytest.fixture
def reopen(backend: Backend, store: GraphStore) -> Callable[[], GraphStore]:
    """Opens a second store on the same data (a new process would see the same)."""
    if not backend.persistent:
        pytest.skip(f"{backend.name} keeps nothing once closed")

    def open_again() -> GraphStore:
        other = backend.open()
        other.setup(DIMS)
        return other

    return open_again
