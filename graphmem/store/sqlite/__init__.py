"""The embedded SQLite store (see graphmem.store.sqlite.store for the schema and design)."""

from __future__ import annotations

from graphmem.store.sqlite import fts
from graphmem.store.sqlite.store import SQLiteStore

__all__ = ["SQLiteStore", "fts"]
