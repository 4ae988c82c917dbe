"""Where one search and one add spend their time, per stage, on each store.

    python -m benchmarks.perf.stages --sizes 1000,10000 --stores sqlite,neo4j

Grows perf's user (GraphBuilder facts, through `add_facts` or the crowd's bulk loader), then
times `--queries` searches and `--adds` single-message adds with every store method, every
embedder call and (on Neo4j) every driver transaction and statement recorded: counts, wall
time, and the server's own time for each statement (`result_available_after` +
`result_consumed_after` from the result summary). What is left of a search or an add is
graphmem's Python (planning, ranking, models). `--dbhits` also runs each read statement seen
once more under PROFILE and sums the plan's database hits.

Counts, not wall times, are what to compare on a shared machine; shares of one run next.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from benchmarks.common.engine import build_embedder, build_memory
from benchmarks.perf.crowd import CrowdLoader
from benchmarks.perf.run import USER, GraphBuilder
from graphmem.recall import flow
from graphmem.store.base import GraphStore

#: The operations measured; a store method called inside another (e.g. by a helper) counts
#: only at the outermost level.
_STORE_METHODS = sorted(
    name
    for name in dir(GraphStore)
    if not name.startswith("_") and callable(getattr(GraphStore, name))
)


class Recorder:
    """Counts and times per label for the current operation (one search or one add)."""

    def __init__(self) -> None:
        self.ops: list[dict[str, list[float]]] = []
        self.current: dict[str, list[float]] | None = None
        self._local = threading.local()  # nesting depth per thread: a search reads on several
        self.samples: dict[str, tuple[str, dict[str, Any]]] = {}

    @property
    def depth(self) -> int:
        return getattr(self._local, "depth", 0)

    @depth.setter
    def depth(self, value: int) -> None:
        self._local.depth = value

    @contextmanager
    def op(self) -> Iterator[None]:
        self.current = defaultdict(list)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.current["total"].append(time.perf_counter() - start)
            self.ops.append(self.current)
            self.current = None

    def add(self, label: str, seconds: float) -> None:
        if self.current is not None:
            self.current[label].append(seconds)

    def wrap(self, obj: Any, name: str, label: str, *, nests: bool = True) -> None:
        """Time obj.name under `label`; with `nests`, calls made inside it are not counted
        again (a store method a store method calls)."""
        fn = getattr(obj, name)

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            outer = self.depth == 0 or not nests
            self.depth += int(nests)
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.depth -= int(nests)
                if outer:
                    self.add(label, time.perf_counter() - start)

        setattr(obj, name, timed)

    def table(self) -> list[tuple[str, float, float, float]]:
        """(label, calls per op, ms per op median, share of total)."""
        labels = sorted({k for op in self.ops for k in op}, key=lambda k: (k != "total", k))
        total = statistics.median(sum(op["total"]) for op in self.ops) or 1e-9
        rows = []
        for label in labels:
            calls = statistics.mean(len(op.get(label, [])) for op in self.ops)
            ms = statistics.median(sum(op.get(label, [])) for op in self.ops)
            rows.append((label, calls, ms * 1000, ms / total))
        return rows


def _statement_names() -> dict[str, str]:
    from graphmem.store import cypher_loader

    names = {}
    root = cypher_loader.cypher_dir()
    for path in root.rglob("*.cypher"):
        name = str(path.relative_to(root).with_suffix(""))
        try:
            names[cypher_loader.statement(name)] = name
        except Exception:  # templates (create_facts) need render()
            continue
    return names


def instrument_neo4j(active: Callable[[], Recorder]) -> None:
    """Class-level hooks on the driver (once per process): transactions, statements and the
    server's time per statement, reported to the recorder `active()` returns."""
    from neo4j import Result, Session
    from neo4j._sync.work.transaction import TransactionBase

    names = _statement_names()

    def name_of(query: str) -> str:
        if query in names:
            return names[query]
        return "write/create_facts" if "__RELATION__" in query or "FactRef" in query else "?"

    for kind in ("execute_read", "execute_write"):
        original = getattr(Session, kind)

        def counted(self: Any, *a: Any, _orig: Callable = original, _k: str = kind, **kw: Any):
            start = time.perf_counter()
            try:
                return _orig(self, *a, **kw)
            finally:
                active().add(f"  tx {_k}", time.perf_counter() - start)

        setattr(Session, kind, counted)

    run = TransactionBase.run

    def run_counted(self: Any, query: Any, parameters: Any = None, **kw: Any) -> Any:
        result = run(self, query, parameters, **kw)
        result._graphmem_name = name_of(str(query))
        sample = (str(query), dict(parameters or {}))
        active().samples.setdefault(result._graphmem_name, sample)
        return result

    TransactionBase.run = run_counted
    iterate = Result.__iter__

    def iterate_timed(self: Any) -> Any:
        start = time.perf_counter()
        yield from iterate(self)
        wall = time.perf_counter() - start
        summary = self.consume()
        server = (summary.result_available_after or 0) + (summary.result_consumed_after or 0)
        name = getattr(self, "_graphmem_name", "?")
        active().add(f"    stmt {name}", wall)
        active().add(f"    server {name}", server / 1000)

    Result.__iter__ = iterate_timed


def db_hits(store: Any, samples: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, int]:
    """Each statement once more under PROFILE, rolled back: the plan's database hits."""

    def hits(plan: Any) -> int:
        own = int((plan.get("args") or {}).get("DbHits", 0) or plan.get("dbHits", 0) or 0)
        return own + sum(hits(c) for c in plan.get("children") or [])

    out = {}
    for name, (query, params) in sorted(samples.items()):
        if query.startswith("CYPHER 5"):
            text = query.replace("CYPHER 5", "CYPHER 5 PROFILE", 1)
        else:
            text = "PROFILE " + query
        with store._driver.session(database=store._database) as session:
            tx = session.begin_transaction()
            try:
                result = tx.run(text, params)
                result.data()
                profile = result.consume().profile
                out[name] = hits(profile) if profile else -1
            finally:
                tx.rollback()
    return out


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", default="1000,10000")
    p.add_argument("--stores", default="sqlite,neo4j")
    p.add_argument("--queries", type=int, default=30)
    p.add_argument("--adds", type=int, default=15)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--grow", choices=("add_facts", "bulk"), default="add_facts")
    p.add_argument("--dbhits", action="store_true")
    p.add_argument(
        "--reuse",
        action="store_true",
        help="Neo4j: measure the graph a perf run left (the user's facts are not rewritten)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--no-overlap",
        action="store_true",
        help="write each add's episodes before planning, on the calling thread, even on a "
        "store that allows concurrent writes (A/B of graphmem.ingest.durable)",
    )
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    embedder = build_embedder("sentence-transformers", threads=1)
    for store in args.stores.split(","):
        path = os.path.join(tempfile.mkdtemp(prefix="graphmem-stages-"), "s.db")
        memory = build_memory(embedder=embedder, store=store, path=path, extractor="rules")
        if args.no_overlap:
            memory.store.concurrent_writes = False
        if store == "neo4j" and not args.reuse:
            memory.delete_all(user_id=USER)
        builder, rng, current = GraphBuilder(args.seed), random.Random(args.seed), 0
        bulk = CrowdLoader(memory.store, embedder.dims, args.seed)
        for size in sizes:
            while current < size:
                rows = builder.facts(min(args.batch, size - current))
                if args.reuse and store == "neo4j":
                    pass
                elif args.grow == "bulk":
                    bulk.add_user(USER, rows, args.batch)
                else:
                    memory.add_facts(rows, user_id=USER)
                current += len(rows)
            queries = builder.queries(args.queries, rng)
            for q in queries[:5]:
                memory.search(q, user_id=USER)  # warm-up
            for kind in ("search", "add"):
                rec = Recorder()
                _hook(rec, memory, store)
                if kind == "search":
                    for q in queries:
                        with rec.op():
                            memory.search(q, user_id=USER)
                else:
                    for speaker, text in builder.messages(args.adds, rng):
                        with rec.op():
                            memory.add(
                                [{"role": "user", "name": speaker, "content": text}],
                                user_id=USER,
                                timestamp="2024-06-01T12:00:00Z",
                            )
                _unhook(memory)
                print(f"\n{store} {current:,} facts, {kind} ({len(rec.ops)} ops)")
                print(f"{'stage':58} {'calls':>6} {'ms p50':>8} {'share':>6}")
                for label, calls, ms, share in rec.table():
                    print(f"{label:58} {calls:6.2f} {ms:8.1f} {share:6.0%}")
                if args.dbhits and store == "neo4j":
                    reads = {k: v for k, v in rec.samples.items() if k.startswith("read/")}
                    for name, n in db_hits(memory.store, reads).items():
                        print(f"  db hits {name}: {n:,}")
        memory.close()


_FLOW_STEPS = {name: getattr(flow, name) for name in ("find_seeds", "walk")}
_ACTIVE: list[Recorder] = []  # the recorder of the operation being measured
_DRIVER_HOOKED: list[bool] = []


def _hook(rec: Recorder, memory: Any, store: str) -> None:
    """Time the store's and embedder's methods on these instances; route driver events."""
    _ACTIVE[:] = [rec]
    for name in _STORE_METHODS:
        if hasattr(memory.store, name):
            rec.wrap(memory.store, name, f"store.{name}")
    for name in ("embed", "embed_one"):
        rec.wrap(memory.embedder, name, f"embedder.{name}")
    # wall time of the recall steps that read: with overlapped reads (a server store) the
    # store calls inside them overlap, so their sum is more than the step took
    for name in _FLOW_STEPS:
        rec.wrap(flow, name, f"recall.{name} (wall)", nests=False)
    if store == "neo4j" and not _DRIVER_HOOKED:
        _DRIVER_HOOKED.append(True)
        instrument_neo4j(lambda: _ACTIVE[0])


def _unhook(memory: Any) -> None:
    for name, fn in _FLOW_STEPS.items():
        setattr(flow, name, fn)
    for obj in (memory.store, memory.embedder):
        for name in list(vars(obj)):
            if name in _STORE_METHODS or name in ("embed", "embed_one"):
                delattr(obj, name)


if __name__ == "__main__":
    main()
