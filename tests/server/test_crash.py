"""A `graphmem serve` process stopped in the middle of writes: killed (SIGKILL), it loses no
write it acknowledged; stopped (SIGTERM), it also finishes the writes in flight and leaves no
episode half-processed."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import httpx
import pytest

from graphmem import Memory, MemoryConfig
from tests.server.conftest import start_serve

pytestmark = pytest.mark.reliability
WRITERS = 4


def write_until_stopped(db: Path, sig: int) -> list[dict]:
    """Four clients add as fast as they can; after 40 acknowledged adds the server gets `sig`.
    Returns every acknowledged add's response."""
    proc, url = start_serve(db)
    acked: list[dict] = []
    stop = threading.Event()

    def writer(n: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            i = 0
            while not stop.is_set():
                i += 1
                body = {"messages": f"Person{n}x{i} lives in Town{i}.", "user_id": f"u{n}"}
                try:
                    r = http.post("/v1/memories", json=body)
                except httpx.TransportError:
                    return  # the server went away under this request: not acknowledged
                assert r.status_code == 200, r.text
                acked.append(r.json())

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    try:
        for t in threads:
            t.start()
        while len(acked) < 40:
            threading.Event().wait(0.01)
        os.kill(proc.pid, sig)  # writes are in flight on four connections
        proc.wait(timeout=60)
    finally:
        stop.set()
        for t in threads:
            t.join()
        if proc.poll() is None:
            proc.kill()
    return acked


def reopen(db: Path) -> Memory:
    config = {"store": {"path": str(db)}, "embedder": {"provider": "hashing"}}
    return Memory(MemoryConfig.from_dict({**config, "extractor": "rules"}))


def assert_all_stored(memory: Memory, acked: list[dict]) -> None:
    for result in acked:
        assert result["results"], result
        for change in result["results"]:
            assert memory.get(change["id"])["memory"] == change["memory"]
    stored = {e.id for n in range(WRITERS) for e in memory.episodes(user_id=f"u{n}")}
    assert {ep for r in acked for ep in r["episodes"]} <= stored


def test_kill_during_writes_loses_no_acknowledged_write(tmp_path):
    db = tmp_path / "killed.db"
    acked = write_until_stopped(db, signal.SIGKILL)
    with reopen(db) as memory:
        assert_all_stored(memory, acked)


def test_sigterm_finishes_the_writes_in_flight(tmp_path):
    db = tmp_path / "stopped.db"
    acked = write_until_stopped(db, signal.SIGTERM)
    with reopen(db) as memory:
        assert_all_stored(memory, acked)
        assert memory.store.pending_episodes() == []  # nothing left half-processed
