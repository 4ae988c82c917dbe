"""Step 3 of recall: the walk, the one expansion policy, above the stores.

From the anchors, the store walks `hops` hops (bounded per entity by `fanout`, per hop by
`beam`, both choosing by similarity to the query, so a hub cannot blow the walk up) and returns
the facts it reached. Which of them are read in full is decided here, once, for every store:
the `graph_k` facts with the best similarity paths, and every step of those paths.

The store returns the facts reachable within k hops (with their similarity to the query);
here a best-first walk from the seed entities assigns each fact the path with the highest
score, where a path scores the sum of its facts' similarities, decayed per hop. A chain whose
every step matches part of the question ("the manager of Ana's brother") thus outranks a
single loosely related fact.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from graphmem.config import RetrievalConfig
from graphmem.models import Edge, Fact, Scope
from graphmem.store.base import GraphStore


@dataclass
class Reached:
    fact: Any  # a Fact, or an Edge while a store decides what to read in full
    similarity: float
    path: list[Any]
    score: float

    @property
    def hops(self) -> int:
        return len(self.path)


def best_paths(
    seeds: dict[str, float],
    facts: Iterable[tuple[Fact | Edge, float]],
    *,
    hops: int,
    decay: float,
) -> dict[str, Reached]:
    """For every fact reachable from a seed entity within `hops`, its best-scoring path.

    `seeds` maps entity id -> link confidence (scales the paths starting there).
    """
    by_entity: dict[str, list[tuple[Any, float]]] = defaultdict(list)
    # By id, so ties go the same way whatever order a store returned the facts in.
    for fact, sim in sorted(facts, key=lambda pair: pair[0].id):
        by_entity[fact.source_id].append((fact, sim))
        if fact.target_id and fact.target_id != fact.source_id:
            by_entity[fact.target_id].append((fact, sim))

    reached: dict[str, Reached] = {}
    # Each entity keeps the best path of the first layer that reaches it (fewest hops first).
    entity_path: dict[str, tuple[list[Any], float]] = {e: ([], conf) for e, conf in seeds.items()}
    frontier = sorted(seeds)
    for depth in range(1, hops + 1):
        weight = decay ** (depth - 1)
        layer: dict[str, tuple[list[Any], float]] = {}
        for entity_id in frontier:
            path, path_score = entity_path[entity_id]
            used = {f.id for f in path}
            for fact, sim in by_entity.get(entity_id, ()):
                if fact.id in used:
                    continue
                new_path = [*path, fact]
                score = path_score + max(sim, 0.0) * weight
                prior = reached.get(fact.id)
                if prior is None or score > prior.score:
                    reached[fact.id] = Reached(fact, sim, new_path, score)
                other = fact.target_id if fact.source_id == entity_id else fact.source_id
                if not other or other in entity_path:
                    continue
                best = layer.get(other)
                if best is None or score > best[1]:
                    layer[other] = (new_path, score)
        entity_path.update(layer)
        frontier = sorted(layer)
        if not frontier:
            break
    return reached


def ranked(reached: dict[str, Reached]) -> list[Reached]:
    """Best path score first; fewer hops, then id, break ties."""
    return sorted(reached.values(), key=lambda r: (-r.score, r.hops, r.fact.id))


def strongest(reached: dict[str, Reached], k: int) -> set[str]:
    """Ids of the k best-scoring facts and of every fact on their paths.

    The graph list keeps only these. Deep in the list a fact's fused rank (1/(60 + rank))
    no longer lifts it into a context unless chain promotion does, and on the relational
    benchmark (200 people, gold facts, 1K budget) k = 200 kept every answer the whole list
    found, while k = 100 lost 3 of 30 three-hop answers. Path steps are kept so every kept fact
    still explains itself, and so the same selection over the kept facts alone gives the same
    paths and scores (a step's own best path is made of kept facts too).
    """
    keep: set[str] = set()
    for r in ranked(reached)[:k]:
        keep.add(r.fact.id)
        keep.update(f.id for f in r.path)
    return keep


def walk(
    store: GraphStore,
    cfg: RetrievalConfig,
    scope: Scope,
    anchors: dict[str, float],
    *,
    hops: int,
    vector: Sequence[float],
    include_invalid: bool,
    held: dict[str, Fact],
) -> dict[str, tuple[Fact, float]]:
    """The kept facts the walk reached from the anchors, by id, with their similarity.

    Paths are selected over everything the walk reached, once: in `select` when the store
    reads only what it keeps (SQLite), or here over the full facts when it returned them all
    (Neo4j). Either way the same facts come out. `held` are facts the first-stage lists
    already hold in full: they are not read again.
    """
    if not anchors or hops <= 0:
        return {}
    chosen: list[tuple[dict[str, Reached], set[str]]] = []

    def choose(edges: list[tuple[Any, float]]) -> tuple[dict[str, Reached], set[str]]:
        found = best_paths(anchors, edges, hops=hops, decay=cfg.hop_decay)
        return found, strongest(found, cfg.graph_k)

    def select(edges: list[tuple[Edge, float]]) -> set[str]:
        chosen.append(choose(edges))
        return chosen[-1][1] - held.keys()

    expanded = store.expand(
        scope,
        list(anchors),
        hops=hops,
        fanout=cfg.fanout,
        vector=vector,
        include_invalid=include_invalid,
        beam=cfg.beam,
        select=select,
    )
    found, keep = chosen[-1] if chosen else choose(expanded)
    by_id = {**held, **{f.id: f for f, _ in expanded}}
    return {fid: (by_id[fid], found[fid].similarity) for fid in sorted(keep) if fid in by_id}
