"""Other users for the perf benchmark's crowd: fill the store up to --crowd facts in total, then
time the first user's search again (a user's graph is a hard partition, so it should not move).

Growing 900k facts through `memory.add_facts` runs at ~160 facts/s here (embedding, resolution
and conflict detection per add): ~1.6 hours. Other users' rows reach the measured user's search
only through the store (shared files, pages, indexes), so they are written by a bulk loader that
goes through the store's write API (`add_episodes`, then `apply` of a WriteBatch: the same rows,
full text, provenance and counters that add_facts writes), skipping the engine's per-add work:
entities are resolved by exact name (GraphBuilder names are unique per user) and nothing
conflicts. Each batch of `--batch` facts gets one episode holding their JSON rows, as add_facts
stores. Fact and entity vectors are random unit vectors (a fixed pool, seeded): they are only
read by searches in the crowd's own partitions.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
from tqdm import tqdm

from graphmem.models import Entity, Episode, Fact, Scope, WriteBatch
from graphmem.normalize import normalize_key

PER_USER = 10_000
POOL = 4096  # distinct random vectors reused across the crowd


class CrowdLoader:
    """Writes GraphBuilder users straight into a store (see the module docstring)."""

    def __init__(self, store, dims: int, seed: int, embedder=None) -> None:
        self.store = store
        # With an embedder, rows get their real vectors (entity names, fact sentences, episode
        # text), so similarity-driven work (which facts a walk follows) is as on a real graph.
        self.embedder = embedder
        rng = np.random.default_rng(seed)
        pool = rng.standard_normal((POOL, dims)).astype(np.float32)
        pool /= np.linalg.norm(pool, axis=1, keepdims=True)
        self.pool = [row.tolist() for row in pool]
        self.now = datetime(2024, 6, 1, tzinfo=UTC)
        self.n = 0
        self.entities: dict[str, dict[str, Entity]] = {}  # per user, by name

    def _vector(self) -> list[float]:
        self.n += 1
        return self.pool[self.n % POOL]

    def _vectors(self, texts: list[str]) -> list[list[float]]:
        if self.embedder is None or not texts:
            return [self._vector() for _ in texts]
        return [list(map(float, v)) for v in self.embedder.embed(texts)]

    def add_user(self, user_id: str, rows: list[dict[str, Any]], batch: int) -> None:
        """Write `rows` (GraphBuilder facts) for the user, `batch` facts per transaction; may
        be called again for the same user with the builder's next rows."""
        scope = Scope(user_id=user_id)
        entities = self.entities.setdefault(user_id, {})
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            episode = Episode(
                partition=scope.partition,
                user_id=user_id,
                role="system",
                name="add_facts",
                content=json.dumps(chunk, ensure_ascii=False),
                reference_time=self.now,
                created_at=self.now,
            )
            self.store.add_episodes([episode], self._vectors([episode.content]))
            unseen = {r[end] for r in chunk for end in ("source", "target")} - set(entities)
            # names the engine stored meanwhile (perf's single-message adds) are reused
            by_key = {normalize_key(n): n for n in unseen}
            for found in self.store.find_entities_by_key(scope.partition, sorted(by_key)):
                if found.key in by_key:
                    entities[by_key[found.key]] = found
            new: list[Entity] = []
            for row in chunk:
                for name, kind in (
                    (row["source"], row["source_type"]),
                    (row["target"], row["target_type"]),
                ):
                    if name not in entities:
                        entities[name] = Entity(
                            partition=scope.partition,
                            user_id=user_id,
                            name=name,
                            key=normalize_key(name),
                            type=kind,
                            created_at=self.now,
                            updated_at=self.now,
                        )
                        new.append(entities[name])
            for e, v in zip(new, self._vectors([e.name for e in new]), strict=True):
                e.embedding = v
            fact_vectors = self._vectors([r["fact"] for r in chunk])
            facts = [
                Fact(
                    partition=scope.partition,
                    user_id=user_id,
                    source_id=entities[r["source"]].id,
                    source=r["source"],
                    relation=r["relation"],
                    target_id=entities[r["target"]].id,
                    target=r["target"],
                    fact=r["fact"],
                    embedding=v,
                    created_at=self.now,
                    episodes=[episode.id],
                )
                for r, v in zip(chunk, fact_vectors, strict=True)
            ]
            self.store.apply(
                WriteBatch(
                    partition=scope.partition,
                    entities=new,
                    facts=facts,
                    mentions=[(episode.id, e.id) for e in new],
                    episode_ids=[episode.id],
                )
            )


def grow(memory, args, builder_cls, own: int) -> dict[str, Any]:
    """Other users of PER_USER facts each, up to args.crowd facts in total."""
    loader = CrowdLoader(memory.store, memory.embedder.dims, args.seed)
    users, total = 0, own
    start = time.perf_counter()
    with tqdm(total=args.crowd - own, desc="other users", unit="fact", leave=False) as bar:
        while total < args.crowd:
            n = min(PER_USER, args.crowd - total)
            rows = builder_cls(args.seed + 1000 + users).facts(n)
            loader.add_user(f"crowd-{users}", rows, args.batch)
            bar.update(n)
            total += n
            users += 1
    seconds = time.perf_counter() - start
    return {
        "total_facts": total,
        "other_users": users,
        "user_facts": own,
        "load_seconds": round(seconds, 1),
        "load_facts_per_second": round((total - own) / seconds, 1) if seconds else None,
    }
