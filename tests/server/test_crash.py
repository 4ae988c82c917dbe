"""A `graphmem serve` process killed (SIGKILL) in the middle of writes loses no write it
acknowledged: every add that got its 200 is in the store when it is opened again."""

from __future__ import annotations

import os
import signal
import threading

import httpx
import pytest

from graphmem import Memory, MemoryConfig
from tests.server.conftest import start_serve

pytestmark = pytest.mark.reliability


def test_kill_during_writes_loses_no_acknowledged_write(tmp_path):
    db = tmp_path / "served.db"
    proc, url = start_serve(db)
    acked: list[dict] = []
    stop = threading.Event()

    def writer(n: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    r = http.post(
                        "/v1/memories",
                        json={"messages": f"Person{n}x{i} lives in Town{i}.", "user_id": f"u{n}"},
                    )
                except httpx.TransportError:
                    return  # the server died under this request: not acknowledged
                assert r.status_code == 200, r.text
                acked.append(r.json())

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    try:
        for t in threads:
            t.start()
        while len(acked) < 40:
            threading.Event().wait(0.01)
        os.kill(proc.pid, signal.SIGKILL)  # writes are in flight on four connections
        proc.wait(timeout=30)
    finally:
        stop.set()
        for t in threads:
            t.join()
        if proc.poll() is None:
            proc.kill()
    config = MemoryConfig.from_dict(
        {"store": {"path": str(db)}, "embedder": {"provider": "hashing"}, "extractor": "rules"}
    )
    with Memory(config) as memory:
        for result in acked:
            assert result["results"], result
            for change in result["results"]:
                assert memory.get(change["id"])["memory"] == change["memory"]
        stored = {e.id for n in range(4) for e in memory.episodes(user_id=f"u{n}")}
        assert {ep for r in acked for ep in r["episodes"]} <= stored
