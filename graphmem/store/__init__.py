"""Stores: the embedded SQLite default and Neo4j, behind one contract (store/base.py)."""

from __future__ import annotations

import os

from graphmem.config import StoreConfig
from graphmem.store.base import GraphStore

__all__ = ["GraphStore", "build_store"]


def build_store(config: StoreConfig) -> GraphStore:
    if config.provider == "neo4j":
        from graphmem.errors import ConfigError
        from graphmem.extras import require

        require("neo4j", "the neo4j store")
        from graphmem.store.neo4j import Neo4jStore

        uri = config.uri or os.environ.get("NEO4J_URI")
        if not uri:
            raise ConfigError("the neo4j store needs store.uri or NEO4J_URI")
        return Neo4jStore(
            uri=uri,
            user=config.user or os.environ.get("NEO4J_USER", "neo4j"),
            password=config.password or os.environ.get("NEO4J_PASSWORD", ""),
            database=config.database or os.environ.get("NEO4J_DATABASE"),
        )
    from pathlib import Path

    from graphmem.store.sqlite import SQLiteStore

    path = config.sqlite_path()
    if path != ":memory:":
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        path = str(Path(path).expanduser())
    return SQLiteStore(path)
