"""Per-stage CPU time of memory.search (the recall steps, SQLite): which grow with the partition.

cProfile's per-call overhead inflates a search two- to threefold and most of it lands on the
many small Python calls of ranking, so its shares mislead. Here a few named functions are
wrapped instead (a timer around each call, nothing else), and each search's time is split
into the stages below; the `of which` rows are inside the stage above them. Times are CPU
time (time.process_time), the least distorted measure on a shared machine.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from functools import partial
from typing import Any

# (stage, owner path, attribute, parent stage or None). Owners are modules or the Memory's
# store/embedder objects, resolved in `_owners`; a stage with a parent is an "of which" row.
# An attribute ending in "()" makes readers: the readers it returns are timed.
STAGES: tuple[tuple[str, str, str, str | None], ...] = (
    ("analyze", "flow", "analyze", None),
    ("query embedding", "embedder", "embed_one", None),
    ("entity linking", "store", "link_candidates", None),
    ("first-stage lists", "store", "seed_search", None),
    ("vector top-k (3 scans)", "vectors._VectorIndex", "top_k", "first-stage lists"),
    ("full-text terms", "fts", "informative", "first-stage lists"),
    ("full-text lists (2)", "store", "_text_reader()", "first-stage lists"),
    ("walk", "flow", "walk", None),
    ("hops over the cached adjacency", "expand", "_walk_held", "walk"),
    ("hops over SQL reads", "expand", "_walk_sql", "walk"),
    ("path selection (best_paths)", "walk", "best_paths", "walk"),
    ("aligned paths", "flow", "aligned_paths", None),
    ("fuse + diversify", "flow", "fuse", None),
    ("context", "flow", "build_context", None),
    ("hydration (_by_seq)", "store", "_by_seq", "*"),
)

# (label, owner, attribute, rows an argument holds): rows handled per search.
COUNTS: tuple[tuple[str, str, str, Callable[..., int]], ...] = (
    # rows a hop chooses among (SQL rows, or cached-adjacency rows; counted again when a tie
    # at the fan-out cut makes the cached walk re-sort by id)
    ("walk fan-out candidates (all hops)", "expand", "_follow", lambda vias, *_, **__: len(vias)),
    ("rows hydrated", "store", "_by_seq", lambda _conn, _kind, seqs, *a, **k: len(seqs)),
)


class StageTimer:
    """Wraps the STAGES' functions while active; `per_search()` gives CPU ms per search."""

    def __init__(self, memory: Any) -> None:
        from graphmem.recall import flow, walk
        from graphmem.store.sqlite import expand, fts, vectors

        self._owners: dict[str, Any] = {
            "flow": flow,
            "walk": walk,
            "fts": fts,
            "expand": expand,
            "vectors._VectorIndex": vectors._VectorIndex,
            "store": memory.store,
            "embedder": memory.embedder,
        }
        self.totals: dict[str, list[float]] = defaultdict(list)
        self._current: dict[str, float] = defaultdict(float)
        self._counted: dict[str, int] = defaultdict(int)
        self.counts: dict[str, list[int]] = defaultdict(list)

    def _wrap(self, name: str, fn: Callable[..., Any], factory: bool = False) -> Callable[..., Any]:
        current = self._current
        if factory:  # time what the callable it returns does, not the making of it
            return lambda *a, **k: self._wrap(name, fn(*a, **k))

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                current[name] += time.process_time() - start

        return timed

    def _counter(self, name: str, fn: Callable[..., Any], rows: Callable[..., int]) -> Any:
        counted = self._counted

        def counting(*args: Any, **kwargs: Any) -> Any:
            counted[name] += rows(*args, **kwargs)
            return fn(*args, **kwargs)

        return counting

    @contextmanager
    def active(self) -> Iterator[StageTimer]:
        wrappers = [
            (name, owner, attr.removesuffix("()"), partial(self._wrap, factory=attr.endswith("()")))
            for name, owner, attr, _ in STAGES
        ]
        wrappers += [
            (name, owner, attr, lambda n, f, r=rows: self._counter(n, f, r))
            for name, owner, attr, rows in COUNTS
        ]
        with ExitStack() as stack:
            for name, owner, attr, wrap in wrappers:
                target = self._owners[owner]
                if not hasattr(target, attr):
                    continue
                if isinstance(target, type) or not hasattr(type(target), attr):
                    stack.callback(setattr, target, attr, getattr(target, attr))
                elif attr not in vars(target):  # shadow the class's method, remove it after
                    stack.callback(delattr, target, attr)
                setattr(target, attr, wrap(name, getattr(target, attr)))
            yield self

    def run(self, search: Callable[[str], Any], queries: Sequence[str]) -> None:
        with self.active():
            for q in queries:
                self._current.clear()
                self._counted.clear()
                start = time.process_time()
                search(q)
                self.totals["whole search"].append((time.process_time() - start) * 1000)
                for name, _, _, _ in STAGES:
                    self.totals[name].append(self._current.get(name, 0.0) * 1000)
                for name, *_ in COUNTS:
                    self.counts[name].append(self._counted.get(name, 0))

    def table(self) -> list[tuple[str, float, float]]:
        """(stage, mean ms, share of the whole search) rows, `of which` rows indented; the
        whole search's median is returned beside them by `median`."""
        whole = statistics.mean(self.totals["whole search"])
        rows = [("whole search (mean)", whole, 1.0)]
        top = 0.0
        for name, _, _, parent in STAGES:
            ms = statistics.mean(self.totals[name])
            label = name if parent is None else f"  of which {name}"
            if parent is None:
                top += ms
            rows.append((label, ms, ms / whole if whole else 0.0))
        rows.append(("rest (flow glue, scoring, gc)", whole - top, (whole - top) / whole))
        return rows

    @property
    def median(self) -> float:
        return statistics.median(self.totals["whole search"])


def print_table(
    size: int, rows: list[tuple[str, float, float]], counts: dict[str, list[int]]
) -> None:
    print(f"\nstages at {size:,} facts (CPU ms, mean per search)")
    print(f"| {'stage':<44} | {'ms':>7} | {'share':>6} |")
    print(f"|{'-' * 46}|{'-' * 9}|{'-' * 8}|")
    for label, ms, share in rows:
        print(f"| {label:<44} | {ms:7.2f} | {share:6.1%} |")
    for name, values in counts.items():
        print(f"{name}: mean {statistics.mean(values):,.0f}, max {max(values):,} per search")
