"""Search under a metadata filter, with the filter applied before any limit.

The store evaluates the filter over the whole scope first (GraphStore.metadata_matches: SQL
json_extract on SQLite, one Cypher statement on Neo4j), giving the ids of the facts and
messages that pass. The search then runs over a view of the store in which only those exist:
each first-stage list asks the store for k plus the number of items the filter excludes, then
keeps the passing ones, so its k best passing items are exactly those an index holding only
them would return. Graph expansion returns only passing facts: the walk may step over an
excluded fact's entities, but the fact itself is never returned, ranked or shown. So a filter
never loses a match to a limit.

Cost: the first stage reads up to k plus every excluded item, so a selective filter over a
large partition reads most of it (measured: 220 ms against 16 ms unfiltered for a filter
matching 1 of 3,000 facts on SQLite). Pushing the filter into each store's first-stage
queries (a vector mask, a WHERE on the full-text query) is the follow-up that removes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphmem.models import Scope
from graphmem.store.base import GraphStore, SeedHits


class FilteredStore:
    """A read-only view of a store holding only the given fact and episode ids."""

    def __init__(self, store: GraphStore, facts: set[str], episodes: set[str], partition: str):
        self._store = store
        self._facts = facts
        self._episodes = episodes
        counts = store.counts(partition)
        self._fact_extra = max(0, counts["facts"] - len(facts))
        self._episode_extra = max(0, counts["episodes"] - len(episodes))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def said_seed_search(self, *args: Any, **kwargs: Any) -> SeedHits:
        """The default over this view's seed_search (the inner store's own would read
        unfiltered lists)."""
        return GraphStore.said_seed_search(self, *args, **kwargs)  # type: ignore[arg-type]

    def _keep(self, hits: list[tuple[Any, float]], allowed: set[str], k: int) -> list:
        return [h for h in hits if h[0].id in allowed][:k]

    def seed_search(
        self,
        scope: Scope,
        query: str,
        vector: Sequence[float],
        *,
        vector_k: int,
        text_k: int,
        **kwargs: Any,
    ) -> SeedHits:
        extra = max(self._fact_extra, self._episode_extra)
        hits = self._store.seed_search(
            scope,
            query,
            vector,
            vector_k=vector_k + extra if vector_k > 0 else 0,  # 0 skips the part: keep it so
            text_k=text_k + extra if text_k > 0 else 0,
            **kwargs,
        )
        return SeedHits(
            facts_vector=self._keep(hits.facts_vector, self._facts, vector_k),
            facts_text=self._keep(hits.facts_text, self._facts, text_k),
            episodes_vector=self._keep(hits.episodes_vector, self._episodes, vector_k),
            episodes_text=self._keep(hits.episodes_text, self._episodes, text_k),
        )

    def expand(self, scope: Scope, entity_ids: Sequence[str], **kwargs: Any) -> list:
        select = kwargs.pop("select", None)
        allowed = self._facts

        def only_passing(reached: list) -> set[str]:
            passing = [(e, s) for e, s in reached if e.id in allowed]
            return select(passing) if select is not None else {e.id for e, _ in passing}

        found = self._store.expand(scope, entity_ids, select=only_passing, **kwargs)
        return [(f, s) for f, s in found if f.id in allowed]
