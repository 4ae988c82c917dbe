"""Many writers on one store: 8 threads sharing one Memory, and 4 processes each with its own
Memory on the same SQLite file, over overlapping users and entities.

What must hold: every add returns without an error (no "database is locked" reaching the
caller), every fact is there (none lost, none doubled), one entity per key and partition, and
the store holds exactly what the same adds give when run one after another. The workload's
content does not depend on the order of its adds (tests/reliability/workload.py), so "what a
serial run gives" is well defined whatever interleaving the threads and processes produced.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from graphmem import Memory, MemoryConfig
from graphmem.models import EpisodeStatus, Scope
from tests.conftest import Clock, make_memory
from tests.reliability.workers import concurrent_worker, mp_context
from tests.reliability.workload import (
    content,
    duplicate_keys,
    integrity_errors,
    run_adds,
    script,
)

pytestmark = pytest.mark.reliability

USERS = [f"user{i}" for i in range(6)]
THREADS, ADDS_PER_THREAD = 8, 300
PROCESSES, ADDS_PER_PROCESS = 4, 150


def serial_content(adds, users):
    memory = make_memory(Clock())
    run_adds(memory, adds)
    expected = content(memory, users)
    memory.close()
    return expected


def check_store(memory, path, adds, users, expected) -> None:
    assert integrity_errors(path) == []
    assert duplicate_keys(memory, users) == []
    per_user = Counter(a.user for a in adds)
    for user in users:
        episodes = memory.store.list_episodes(Scope(user_id=user))
        assert len(episodes) == per_user[user]
        assert {e.status for e in episodes} <= {EpisodeStatus.PROCESSED}
    got = content(memory, users)
    lost = expected["facts"] - got["facts"]
    extra = got["facts"] - expected["facts"]
    assert not lost and not extra, f"lost {list(lost)[:5]}, unexpected {list(extra)[:5]}"
    assert got["keys"] == expected["keys"]


def test_eight_threads_share_one_memory(tmp_path):
    adds = script(THREADS * ADDS_PER_THREAD, USERS, seed=2024)
    path = str(tmp_path / "threads.db")
    memory = make_memory(Clock(), store={"path": path})
    barrier = threading.Barrier(THREADS)
    failures: list[BaseException] = []
    problems: list[str] = []

    def worker(t: int) -> None:
        try:
            barrier.wait(timeout=30)
            for a in adds[t::THREADS]:
                result = memory.add(a.text, user_id=a.user, timestamp=a.timestamp)
                problems.extend(result.errors)
                # Searches interleave with the writes and only ever see their own user.
                if a.index % 25 == 0:
                    found = memory.search("who likes chess?", user_id=a.user, limit=5)
                    assert all(h["user_id"] == a.user for h in found["results"])
        except BaseException as exc:  # noqa: BLE001 - reported below, with the thread's error
            failures.append(exc)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.monotonic() - started
    assert not failures, repr(failures[:3])
    assert not problems, problems[:3]
    print(f"\n{len(adds)} adds by {THREADS} threads in {elapsed:.1f} s")

    check_store(memory, path, adds, USERS, serial_content(adds, USERS))
    memory.close()


def test_four_processes_share_one_file(tmp_path):
    users = USERS[:4]  # fewer users than adds in flight: processes collide on the same user
    adds = script(PROCESSES * ADDS_PER_PROCESS, users, seed=4242)
    path = str(tmp_path / "processes.db")
    ctx = mp_context()
    barrier = ctx.Barrier(PROCESSES)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=concurrent_worker, args=(path, adds[p::PROCESSES], barrier, out))
        for p in range(PROCESSES)
    ]
    started = time.monotonic()
    for proc in procs:
        proc.start()
    summaries = [out.get(timeout=300) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    elapsed = time.monotonic() - started
    assert [s["errors"] for s in summaries] == [[]] * PROCESSES
    assert sum(s["done"] for s in summaries) == len(adds)
    assert sum(s["pending"] for s in summaries) == 0
    conflicts = sum(s["conflicts"] for s in summaries)
    print(
        f"\n{len(adds)} adds by {PROCESSES} processes in {elapsed:.1f} s; "
        f"{conflicts} writes re-planned after losing a race"
    )

    memory = make_memory(Clock(), store={"path": path})
    check_store(memory, path, adds, users, serial_content(adds, users))
    memory.close()


def test_a_stale_plan_is_replanned_not_applied(tmp_path):
    """Two Memory objects on one file stand for two processes. One plans a move while the
    other writes a newer move in between: the first write is refused (ConflictError), re-planned
    against the new graph, and the result is what the serial order gives."""
    path = str(tmp_path / "race.db")
    first = make_memory(Clock(), store={"path": path})
    second = make_memory(Clock(), store={"path": path})
    first.add("I live in Rome.", user_id="ana", timestamp="2024-01-01")

    real_plan = first._ingest.plan
    calls = []

    def plan_then_let_the_other_write(*args, **kwargs):
        plan = real_plan(*args, **kwargs)
        if not calls:
            second.add("I live in Oslo.", user_id="ana", timestamp="2024-03-01")
        calls.append(plan)
        return plan

    first._ingest.plan = plan_then_let_the_other_write
    result = first.add("I live in Paris.", user_id="ana", timestamp="2024-02-01")
    assert len(calls) == 2  # planned, refused, planned again
    assert not result.errors and not result.pending
    rows = first.get_all(user_id="ana", include_history=True)["results"]
    assert {(r["target"], r["current"]) for r in rows} == {
        ("Rome", False),
        ("Paris", False),  # older news than Oslo: history, not current
        ("Oslo", True),
    }
    assert duplicate_keys(first, ["ana"]) == []
    first.close()
    second.close()


def test_a_taken_entity_key_is_replanned_on_a_store_without_versions(tmp_path):
    """What a store that keeps no partition version (Neo4j) relies on: the unique entity key.
    Another writer creates Eva between this add's plan and apply; the apply is refused with
    ConflictError and the re-plan links to the Eva now stored instead of a second Eva."""
    from graphmem.store.sqlite import SQLiteStore

    class Unversioned(SQLiteStore):
        def partition_version(self, partition: str) -> None:
            return None

    path = str(tmp_path / "keys.db")
    config = {"embedder": {"provider": "hashing", "dims": 256}, "extractor": "rules"}
    first = Memory(MemoryConfig.from_dict(config), store=Unversioned(path), clock=Clock())
    second = make_memory(Clock(), store={"path": path})

    real_plan = first._ingest.plan
    calls = []

    def plan_then_let_the_other_write(*args, **kwargs):
        plan = real_plan(*args, **kwargs)
        if not calls:
            second.add("Eva likes chess.", user_id="ana")
        calls.append(plan)
        return plan

    first._ingest.plan = plan_then_let_the_other_write
    result = first.add("Eva likes tango.", user_id="ana")
    assert len(calls) == 2 and not result.errors
    assert duplicate_keys(first, ["ana"]) == []
    rows = first.get_all(user_id="ana")["results"]
    assert sorted((r["source"], r["target"]) for r in rows) == [("Eva", "chess"), ("Eva", "tango")]
    assert len({r["source_id"] for r in rows}) == 1
    first.close()
    second.close()
