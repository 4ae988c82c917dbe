"""Code that runs in child processes (importable, so spawn and forkserver can find it)."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import traceback
from typing import Any

from tests.reliability.workload import Add


def mp_context() -> multiprocessing.context.BaseContext:
    """forkserver where available (children fork from a clean, pre-imported server: fast, and
    no fork of a threaded pytest process), else spawn."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["graphmem.memory", "tests.reliability.workers"])
        return ctx
    return multiprocessing.get_context("spawn")


def open_memory(path: str):
    from tests.conftest import Clock, make_memory

    return make_memory(Clock(), store={"path": path})


class _ConflictCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("write conflict"):
            self.count += 1


def concurrent_worker(path: str, adds: list[Add], barrier: Any, out: Any) -> None:
    """Open a Memory on the shared file, wait for the others, run the adds; report a summary
    (or the traceback) on `out`."""
    counter = _ConflictCounter()
    log = logging.getLogger("graphmem.memory")
    log.setLevel(logging.DEBUG)
    log.addHandler(counter)
    summary: dict[str, Any] = {"pid": os.getpid(), "done": 0, "errors": [], "pending": 0}
    try:
        memory = open_memory(path)
        barrier.wait(timeout=60)
        for a in adds:
            result = memory.add(a.text, user_id=a.user, timestamp=a.timestamp)
            summary["done"] += 1
            summary["errors"] += result.errors
            summary["pending"] += len(result.pending)
        memory.close()
    except BaseException:
        summary["errors"].append(traceback.format_exc())
    summary["conflicts"] = counter.count
    out.put(summary)


def crash_worker(path: str, adds: list[Add], report: str) -> None:
    """Ingest adds until killed. After each add returns, one JSON line describing it is written
    to `report` and fsync'ed, so the parent knows exactly which adds completed."""
    with open(report, "a", encoding="utf-8") as fp:

        def say(record: dict[str, Any]) -> None:
            fp.write(json.dumps(record) + "\n")
            fp.flush()
            os.fsync(fp.fileno())

        memory = open_memory(path)
        say({"ready": True})
        for a in adds:
            result = memory.add(
                [{"role": "user", "content": s} for s in a.text.split("|")],
                user_id=a.user,
                timestamp=a.timestamp,
            )
            say(
                {
                    "index": a.index,
                    "user": a.user,
                    "episodes": result.episodes,
                    "changes": [[c.event, c.id] for c in result.results],
                    "pending": result.pending,
                }
            )
        memory.close()
