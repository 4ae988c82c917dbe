"""CPU-time profile of memory.search on one user's perf graph: what grows with the partition.

    python -m benchmarks.perf.search_profile --size 100000 --db /tmp/p100k.db   # builds once
    python -m benchmarks.perf.search_profile --size 1000 --db /tmp/p1k.db
    python -m benchmarks.perf.search_profile --size 1000 --db /tmp/p1k.db --cprofile 40
    python -m benchmarks.perf.search_profile --size 100000 --db /tmp/m100k.db --messages 40

The user's graph is GraphBuilder(seed)'s first SIZE facts written by the crowd's bulk loader
(benchmarks.perf.crowd: store write API, random vectors, one JSON episode per --batch facts, as
`perf --grow bulk`), built only when the file holds no facts for the user. Times are CPU time
(time.process_time), which a busy shared machine distorts less than wall time: the search p50,
the query-embedding p50 (the floor), the per-stage CPU time of the same queries
(benchmarks.perf.recall_stages), and with --cprofile N cProfile's cumulative view (N lines).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import statistics
import time
from collections.abc import Sequence

from benchmarks.common.engine import build_embedder, build_memory
from benchmarks.perf.crowd import CrowdLoader
from benchmarks.perf.recall_stages import StageTimer, print_table
from benchmarks.perf.run import USER, GraphBuilder
from graphmem.models import Scope


def _cpu_ms(fn, items) -> list[float]:
    out = []
    for item in items:
        start = time.process_time()
        fn(item)
        out.append((time.process_time() - start) * 1000)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--size", type=int, default=100_000, help="facts of the user")
    p.add_argument("--db", required=True, help="SQLite file (built when empty)")
    p.add_argument("--queries", type=int, default=60)
    p.add_argument("--batch", type=int, default=100, help="facts per write when building")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--vectors",
        choices=["random", "real"],
        default="random",
        help="when building: random unit vectors (fast, as --grow bulk) or the embedder's own "
        "(entity names, fact sentences, episodes: the walk then follows real similarities)",
    )
    p.add_argument(
        "--messages",
        type=int,
        default=0,
        help="single messages added (memory.add) before timing, when the file holds none: "
        "perf's --add-sample leaves such messages in the graph at every size after the first, "
        "so recall then reads the message lists (a graph of imported facts alone skips them)",
    )
    p.add_argument("--cprofile", type=int, default=0, help="cProfile lines shown (0: none)")
    args = p.parse_args(argv)

    embedder = build_embedder("sentence-transformers", threads=1)
    memory = build_memory(embedder=embedder, path=args.db)
    builder = GraphBuilder(args.seed)
    rows = builder.facts(args.size)
    if memory.store.counts(f"u:{USER}")["facts"] == 0:
        start = time.perf_counter()
        real = embedder if args.vectors == "real" else None
        CrowdLoader(memory.store, embedder.dims, args.seed, real).add_user(USER, rows, args.batch)
        print(f"built {args.size:,} facts in {time.perf_counter() - start:.0f} s")
    if args.messages and not memory.store.holds_said_messages(Scope(user_id=USER)):
        for speaker, text in builder.messages(args.messages, random.Random(args.seed + 2)):
            memory.add(
                [{"role": "user", "name": speaker, "content": text}],
                user_id=USER,
                timestamp="2024-06-01T12:00:00Z",
            )
    queries = builder.queries(args.queries, random.Random(args.seed + 1))

    def search(q: str) -> None:
        memory.search(q, user_id=USER)

    _cpu_ms(search, queries[:5])  # warm-up: index load, caches
    cpu = statistics.median(_cpu_ms(search, queries))
    floor = statistics.median(_cpu_ms(embedder.embed_one, queries))
    print(
        f"{args.size:,} facts: search CPU p50 {cpu:.1f} ms, query embedding CPU p50 "
        f"{floor:.1f} ms ({cpu / floor:.2f}x)"
    )
    stages = StageTimer(memory)
    stages.run(search, queries)
    print_table(args.size, stages.table(), stages.counts)
    if args.cprofile:
        profile = cProfile.Profile(time.process_time)
        profile.runcall(lambda: [search(q) for q in queries])
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.cprofile)
        print(out.getvalue())
    memory.close()


if __name__ == "__main__":
    main()
