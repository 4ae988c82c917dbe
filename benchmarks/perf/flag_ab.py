"""A/B of one store flag on one graph, interleaved per query, so machine drift hits both sides.

    python -m benchmarks.perf.flag_ab --size 10000 --store neo4j --flag overlaps_reads

Grows perf's user with the crowd's bulk loader (real MiniLM vectors), adds `--said` one-message
adds (so the user has said messages, as in perf's later sizes), then times every query with the
flag on and off, alternating which goes first. `overlaps_reads` is a search flag (searches are
timed); `concurrent_writes` is an add flag (one-message adds are timed instead).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence

from benchmarks.common.engine import build_embedder, build_memory
from benchmarks.perf.crowd import CrowdLoader
from benchmarks.perf.run import USER, GraphBuilder

SEARCH_FLAGS = ("overlaps_reads",)
ADD_FLAGS = ("concurrent_writes",)


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--store", choices=["sqlite", "neo4j"], default="neo4j")
    parser.add_argument("--flag", choices=[*SEARCH_FLAGS, *ADD_FLAGS], default="overlaps_reads")
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--said", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--embedder", choices=["sentence-transformers", "hashing"], default="sentence-transformers"
    )
    args = parser.parse_args(argv)

    embedder = build_embedder(args.embedder, threads=1)
    path = f"{tempfile.mkdtemp(prefix='graphmem-ab-')}/ab.db"
    memory = build_memory(
        embedder=embedder,
        embedder_kind=args.embedder,
        store=args.store,
        path=path,
        extractor="rules",
    )
    try:
        memory.delete_all(user_id=USER)
        builder = GraphBuilder(args.seed)
        loader = CrowdLoader(memory.store, embedder.dims, args.seed, embedder=embedder)
        done = 0
        while done < args.size:
            rows = builder.facts(min(100, args.size - done))
            loader.add_user(USER, rows, 100)
            done += len(rows)
        rng = random.Random(args.seed + 1)
        ops = _ops(memory, builder, rng, args)
        for op in ops[:5]:
            op()  # warm-up: index load, caches
        times: dict[bool, list[float]] = {True: [], False: []}
        for rnd in range(args.rounds):
            for i, op in enumerate(ops):
                for flag in (True, False) if (i + rnd) % 2 else (False, True):
                    setattr(memory.store, args.flag, flag)
                    start = time.perf_counter()
                    op()
                    times[flag].append(time.perf_counter() - start)
        out = {}
        for flag in (False, True):
            p50 = statistics.median(times[flag]) * 1000
            mean = statistics.mean(times[flag]) * 1000
            out[f"{args.flag}={flag}"] = round(p50, 1)
            print(
                f"{args.store} {args.size:,} facts, {args.flag}={flag}: p50 {p50:.1f} ms, "
                f"mean {mean:.1f} ms ({len(times[flag])} ops)"
            )
        return out
    finally:
        memory.delete_all(user_id=USER)
        memory.close()


def _ops(memory, builder: GraphBuilder, rng: random.Random, args) -> list[Callable[[], object]]:
    """The timed operations: searches for a search flag, one-message adds for an add flag."""
    said = builder.messages(args.said, rng)
    for speaker, text in said:
        memory.add([{"role": "user", "name": speaker, "content": text}], user_id=USER)
    if args.flag in SEARCH_FLAGS:
        return [
            lambda q=q: memory.search(q, user_id=USER) for q in builder.queries(args.queries, rng)
        ]
    return [
        lambda s=s, t=t: memory.add([{"role": "user", "name": s, "content": t}], user_id=USER)
        for s, t in builder.messages(args.queries, rng)
    ]


if __name__ == "__main__":
    main()
