"""Crash safety: a child process ingesting a long scripted conversation into a SQLite file is
killed with SIGKILL at seeded random points, 20 times. The child reports each add after it
returns (a JSON line, flushed and fsync'ed), so the parent knows exactly which adds completed.

After every kill: the file opens; SQLite's integrity check (and FTS5's) passes; every add that
returned is fully there (its episodes processed, its added facts present with their
provenance, its merges and invalidations visible); no half-written add is visible (facts and
mentions only for processed episodes; an add cut short leaves nothing but pending episodes);
and Memory.reprocess() completes the pending episodes. The next child then carries on with the
conversation where the last completed add left it, as a restarted service would.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from graphmem.models import EpisodeStatus, Scope
from tests.reliability.workers import crash_worker, mp_context, open_memory
from tests.reliability.workload import Add, duplicate_keys, integrity_errors, script

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX-only"),
]

KILLS = 20
SEED = 6
USERS = ["ana", "bruno", "chen"]


def conversation() -> list[Add]:
    """A long scripted conversation; every third add carries two messages."""
    adds = script(600, USERS, seed=SEED)
    out = []
    for a in adds:
        if a.index % 3 == 2:
            out.append(Add(a.index, a.user, a.text + "|" + f"{a.user} likes tea.", a.timestamp))
        else:
            out.append(a)
    return out


def completed(report: Path) -> list[dict]:
    """The records the child finished writing (a line cut by the kill is ignored)."""
    if not report.exists():
        return []
    text = report.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.split("\n")[:-1] if line]


def wait_for(report: Path, records: int, proc, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while len(completed(report)) < records:
        assert proc.is_alive(), f"the child exited early (exit code {proc.exitcode})"
        assert time.monotonic() < deadline, "the child made no progress"
        time.sleep(0.001)


def check_after_crash(path: str, done: list[dict]) -> dict[str, int]:
    """Every assertion of the module docstring; returns what was found pending."""
    assert integrity_errors(path) == []
    memory = open_memory(path)  # the store opens (WAL recovery happens here)
    store = memory.store
    try:
        # Every add that returned is fully present.
        for rec in done:
            partition = Scope(user_id=rec["user"]).partition
            assert rec["pending"] == []
            episodes = store.get_episodes(partition, rec["episodes"])
            assert [e.id for e in episodes] == rec["episodes"], rec
            assert {e.status for e in episodes} == {EpisodeStatus.PROCESSED}, rec
            for event, fact_id in rec["changes"]:
                if event == "SKIP":
                    continue
                [fact] = store.get_facts(partition, [fact_id])
                if event in ("ADD", "MERGE"):
                    assert set(rec["episodes"]) & set(fact.episodes), (rec, fact)
                if event == "INVALIDATE":
                    assert not fact.is_current, (rec, fact)

        # No half-written add is visible.
        pending_ids = set()
        for user in USERS:
            scope = Scope(user_id=user)
            status = {e.id: e.status for e in store.list_episodes(scope)}
            for fact in store.list_facts(scope, include_invalid=True):
                assert fact.episodes and all(
                    status.get(e) == EpisodeStatus.PROCESSED for e in fact.episodes
                ), fact
            pending = [e for e, s in status.items() if s != EpisodeStatus.PROCESSED]
            pending_ids.update(pending)
            assert store.facts_for_episodes(scope, pending) == []
        conn = sqlite3.connect(path)
        try:
            stray = conn.execute(
                """SELECT count(*) FROM mentions m JOIN episodes e
                   ON e.partition = m.partition AND e.id = m.episode_id
                   WHERE e.status <> 'processed'"""
            ).fetchone()[0]
        finally:
            conn.close()
        assert stray == 0

        # reprocess() completes what the kill interrupted.
        results = memory.reprocess()
        assert {ep for r in results for ep in r.episodes} == pending_ids
        assert all(not r.pending and not r.errors for r in results)
        assert store.pending_episodes() == []
        assert duplicate_keys(memory, USERS) == []
    finally:
        memory.close()
    assert integrity_errors(path) == []
    return {"pending": len(pending_ids)}


def test_sigkill_at_random_points_loses_nothing_and_half_writes_nothing(tmp_path):
    rng = random.Random(SEED)
    adds = conversation()
    path = str(tmp_path / "crash.db")
    ctx = mp_context()
    done: list[dict] = []
    start = 0
    interrupted = 0
    started = time.monotonic()
    for run in range(KILLS):
        report = tmp_path / f"run{run}.jsonl"
        proc = ctx.Process(target=crash_worker, args=(path, adds[start:], str(report)))
        proc.start()
        # Where to kill: while the store opens (-1), or after 0-5 completed adds, plus a
        # random slice of the next add (an add takes ~10-20 ms).
        after = rng.randint(-1, 5)
        delay = rng.uniform(0, 0.05 if after < 0 else 0.02)
        if after >= 0:
            wait_for(report, 1 + after, proc)
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(timeout=30)
        assert proc.exitcode == -signal.SIGKILL, "the child finished before it was killed"

        records = [r for r in completed(report) if "index" in r]
        done.extend(records)
        found = check_after_crash(path, done)
        interrupted += found["pending"] > 0
        if records:
            start = records[-1]["index"] + 1
        assert start < len(adds), "the conversation ran out: make it longer"
    elapsed = time.monotonic() - started
    print(
        f"\n{KILLS} SIGKILLs survived in {elapsed:.1f} s: {len(done)} completed adds all "
        f"present, {interrupted} kills caught an add half-way (finished by reprocess)"
    )
    assert len(done) > KILLS  # the kills landed at different points of a real ingest
