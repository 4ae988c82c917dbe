"""Counting SQLite's work, for tests that a read does not scan a user's whole partition."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphmem.store.sqlite import SQLiteStore


def vm_steps(store: SQLiteStore, call: Callable[[], Any]) -> int:
    """SQLite virtual-machine instructions executed by `call` (counted every 100)."""
    steps = [0]

    def tick() -> int:
        steps[0] += 100
        return 0

    store._conn.set_progress_handler(tick, 100)
    try:
        call()
    finally:
        store._conn.set_progress_handler(None, 100)
    return steps[0]
