"""Rebuild the chains of facts that lead from the query's entities to each expanded fact.

The store returns the facts reachable within k hops (with their similarity to the query);
here a best-first walk from the seed entities assigns each fact the path with the highest
score, where a path scores the sum of its facts' similarities, decayed per hop. A chain whose
every step matches part of the question ("the manager of Ana's brother") thus outranks a
single loosely related fact.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from graphmem.models import Fact


@dataclass
class Reached:
    fact: Fact
    similarity: float
    path: list[Fact]
    score: float

    @property
    def hops(self) -> int:
        return len(self.path)


def best_paths(
    seeds: dict[str, float],
    facts: list[tuple[Fact, float]],
    *,
    hops: int,
    decay: float,
) -> dict[str, Reached]:
    """For every fact reachable from a seed entity within `hops`, its best-scoring path.

    `seeds` maps entity id -> link confidence (scales the paths starting there).
    """
    by_entity: dict[str, list[tuple[Fact, float]]] = defaultdict(list)
    for fact, sim in facts:
        by_entity[fact.source_id].append((fact, sim))
        if fact.target_id and fact.target_id != fact.source_id:
            by_entity[fact.target_id].append((fact, sim))

    reached: dict[str, Reached] = {}
    # Each entity keeps the best path of the first layer that reaches it (fewest hops first).
    entity_path: dict[str, tuple[list[Fact], float]] = {e: ([], conf) for e, conf in seeds.items()}
    frontier = sorted(seeds)
    for depth in range(1, hops + 1):
        weight = decay ** (depth - 1)
        layer: dict[str, tuple[list[Fact], float]] = {}
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
