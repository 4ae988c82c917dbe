"""The vector indexes' path on a real Neo4j server gives the exact top k.

The fact, entity and episode vector indexes are int8-quantized (Neo4j's default): their scores
are approximate, so each search re-scores only the index's best 2 x k hits with the exact
cosine. These tests write a partition large enough for the index path (more hits than k), in
many small transactions as adds do (many index segments), with clustered vectors whose
neighbours are close in score, and check ids, order and scores against numpy's exact cosine,
which is what the embedded store computes.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from graphmem.models import Entity, Episode, Fact, Scope, WriteBatch
from graphmem.normalize import normalize_key
from graphmem.store.neo4j import Neo4jStore

pytestmark = [
    pytest.mark.neo4j,
    pytest.mark.skipif(not os.environ.get("NEO4J_URI"), reason="NEO4J_URI not set"),
]

DIMS = 64
T0 = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
SCOPE = Scope(user_id="vectors")
OWNER = {"partition": SCOPE.partition, "user_id": SCOPE.user_id}


@pytest.fixture(scope="module")
def world():
    """300 facts, 120 entities and 150 messages of one user, written 20 facts at a time."""
    rng = np.random.default_rng(7)
    topics = rng.standard_normal((10, DIMS))

    def vectors(n: int) -> np.ndarray:
        rows = topics[rng.integers(0, len(topics), n)] + 0.8 * rng.standard_normal((n, DIMS))
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    store = Neo4jStore(uri=os.environ["NEO4J_URI"], password=os.environ.get("NEO4J_PASSWORD"))
    store.reset()
    store.setup(DIMS)
    entity_vecs, fact_vecs, episode_vecs = vectors(120), vectors(300), vectors(150)
    entities = [
        Entity(
            **OWNER,
            name=f"Person {i}",
            key=normalize_key(f"Person {i}"),
            type="Person",
            embedding=entity_vecs[i].tolist(),
            created_at=T0,
            updated_at=T0,
        )
        for i in range(120)
    ]
    for start in range(0, 120, 20):
        store.apply(WriteBatch(partition=SCOPE.partition, entities=entities[start : start + 20]))
    facts = [
        Fact(
            **OWNER,
            source_id=entities[i % 120].id,
            source=entities[i % 120].name,
            relation=("KNOWS", "LIKES", "WORKS_WITH")[i % 3],
            target_id=entities[(i * 7 + 1) % 120].id,
            target=entities[(i * 7 + 1) % 120].name,
            fact=f"fact {i}",
            embedding=fact_vecs[i].tolist(),
            created_at=T0 + timedelta(seconds=i),
        )
        for i in range(300)
    ]
    for start in range(0, 300, 20):
        store.apply(WriteBatch(partition=SCOPE.partition, facts=facts[start : start + 20]))
    episodes = [
        Episode(
            **OWNER,
            role="user",
            content=f"message {i}",
            reference_time=T0,
            created_at=T0 + timedelta(seconds=i),
        )
        for i in range(150)
    ]
    for start in range(0, 150, 10):
        chunk = slice(start, start + 10)
        store.add_episodes(episodes[chunk], episode_vecs[chunk].tolist())
    yield (
        store,
        rng,
        {
            "entities": ([e.id for e in entities], entity_vecs),
            "facts": ([f.id for f in facts], fact_vecs),
            "episodes": ([e.id for e in episodes], episode_vecs),
        },
    )
    store.reset()
    store.close()


def _exact(ids: list[str], matrix: np.ndarray, query: np.ndarray, k: int):
    scores = matrix @ (query / np.linalg.norm(query))
    order = sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i]))[:k]
    return [ids[i] for i in order], [float(scores[i]) for i in order]


@pytest.mark.parametrize("k", [5, 20, 51])
def test_index_paths_return_the_exact_top_k(world, k):
    store, rng, data = world
    for _ in range(8):
        query = data["facts"][1][rng.integers(0, 300)] + 0.5 * rng.standard_normal(DIMS)
        found = {
            "facts": [(f.id, s) for f, s in store.search_facts_vector(SCOPE, query.tolist(), k)],
            "entities": [
                (e.id, s) for e, s in store.search_entities_vector(SCOPE.partition, query, k)
            ],
            "episodes": [(e.id, s) for e, s in store.search_episodes_vector(SCOPE, query, k)],
        }
        for kind, hits in found.items():
            ids, scores = _exact(*data[kind], query, k)
            assert [i for i, _ in hits] == ids, kind
            assert [s for _, s in hits] == pytest.approx(scores, abs=1e-5), kind
