"""Gold-mode ingestion check for the relational world: gold facts lost and wrong merges.

    python -m scripts.gold_ingest_check --seeds 1,2,3,4,5 [--people 200]

Feeds each session's gold triples through Memory.add_facts (as the relational benchmark's gold
mode does, with the real MiniLM embedder on in-memory SQLite) and counts:
- lost: gold facts with no stored fact (any version) of the same relation between entities
  named exactly as the gold endpoints (either direction for symmetric relations);
- wrong merges: gold names (people, cities, organisations) that have no entity of their own
  (resolved into another entity);
- self-loops: stored facts whose source and target are one entity.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.common.engine import build_memory
from benchmarks.relational.dialogue import render_dialogue
from benchmarks.relational.run import USER, _gold_rows
from benchmarks.relational.world import generate_world
from graphmem.normalize import normalize_key


def check(seed: int, people: int, embedder) -> dict[str, int | float]:
    world = generate_world(people, seed)
    sessions = render_dialogue(world)
    memory = build_memory(embedder=embedder, extractor="rules")
    start = time.perf_counter()
    for s in sessions:
        rows = [row for m in s.messages for row in _gold_rows(world, m)]
        if rows:
            memory.add_facts(rows, user_id=USER, timestamp=s.time)
    seconds = time.perf_counter() - start
    stored = memory.get_all(user_id=USER, limit=10**7, include_history=True)["results"]
    triples = {
        (normalize_key(f["source"]), f["relation"], normalize_key(f["target"])) for f in stored
    }
    lost = []
    for g in world.facts.values():
        s, t = normalize_key(g.source), normalize_key(g.target)
        if (s, g.relation, t) not in triples and (t, g.relation, s) not in triples:
            lost.append(g)
    names = {normalize_key(n) for g in world.facts.values() for n in (g.source, g.target)}
    entities = {e.key for e in memory.store.list_entities(_partition())}
    merged = sorted(names - entities)
    loops = sum(1 for f in stored if f["source_id"] == f["target_id"])
    memory.close()
    return {
        "seed": seed,
        "gold_facts": len(world.facts),
        "lost": len(lost),
        "wrong_merges": len(merged),
        "self_loops": loops,
        "seconds": round(seconds, 1),
        "examples_lost": [f"{g.source} {g.relation} {g.target}" for g in lost[:5]],
        "examples_merged": merged[:5],
    }


def _partition() -> str:
    from graphmem.models import Scope

    return Scope.of(USER, None, None).partition


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,2,3,4,5")
    parser.add_argument("--people", type=int, default=200)
    args = parser.parse_args()
    from graphmem.embed.sentence import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    for seed in (int(s) for s in args.seeds.split(",")):
        print(check(seed, args.people, embedder), flush=True)


if __name__ == "__main__":
    main()
