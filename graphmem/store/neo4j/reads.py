"""Reads: episodes, entities and facts by id, key, scope, vector and text; the batched search
statements (link_candidates, seed_search) and the graph walk (expand)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from graphmem.models import (
    Edge,
    Entity,
    Episode,
    EpisodeStatus,
    Fact,
    Scope,
)
from graphmem.store import cypher_loader
from graphmem.store.base import IMPORT_NAME, IMPORT_ROLE, SeedHits, detection_probes
from graphmem.store.metadata_filter import Clauses, neo4j_param
from graphmem.store.neo4j import fulltext
from graphmem.store.neo4j.connection import MAX_FETCH
from graphmem.store.neo4j.schema import SchemaMixin
from graphmem.store.neo4j.values import (
    HOPS_PER_QUERY,
    NO_LIMIT,
    _entity,
    _episode,
    _fact,
    _in_order,
    _normalized_keys,
    _unique,
    rows_of,
)


class ReadsMixin(SchemaMixin):
    """Every read is one statement in one managed read transaction."""

    def get_episodes(self, partition: str, ids: Sequence[str]) -> list[Episode]:
        ids = _unique(ids)
        if not ids:
            return []
        rows = self._read(
            "read/get_episodes", {"partition": partition, "ids": ids}, "reading episodes"
        )
        return _in_order([_episode(r) for r in rows], ids)

    def list_episodes(
        self,
        scope: Scope,
        *,
        status: EpisodeStatus | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[Episode]:
        name = "read/list_episodes_newest_first" if newest_first else "read/list_episodes"
        params = {
            "partition": scope.partition,
            "agent_id": scope.agent_id,
            "run_id": scope.run_id,
            "status": None if status is None else EpisodeStatus(status).value,
            "limit": NO_LIMIT if limit is None else max(0, int(limit)),
        }
        return [_episode(r) for r in self._read(name, params, "listing episodes")]

    def pending_episodes(self, partition: str | None = None) -> list[Episode]:
        params = {
            "partition": partition,
            "statuses": [st.value for st in EpisodeStatus if st is not EpisodeStatus.PROCESSED],
        }
        rows = self._read("read/pending_episodes", params, "listing pending episodes")
        return [_episode(r) for r in rows]

    def search_episodes_text(self, scope: Scope, query: str, k: int) -> list[tuple[Episode, float]]:
        text = fulltext.search_params(scope.partition, query or "")
        if not text["terms"] or k <= 0:
            return []
        self._ensure_base_schema()  # the message full-text index
        params = {
            **text,
            "partition": scope.partition,
            "agent_id": scope.agent_id,
            "run_id": scope.run_id,
            "k": int(k),
        }
        rows = self._read("read/search_episodes_text", params, "searching episode text")
        return [(_episode(r), float(r["score"])) for r in rows]

    def search_episodes_vector(
        self, scope: Scope, vector: Sequence[float], k: int
    ) -> list[tuple[Episode, float]]:
        if k <= 0:
            return []
        query_vector = self._vector(vector, "episode search")
        params = {"partition": scope.partition, "agent_id": scope.agent_id, "run_id": scope.run_id}
        rows = self._vector_search(
            "read/search_episodes_vector",
            "read/search_episodes_vector_scan",
            params,
            query_vector,
            k,
            "searching episode vectors",
        )
        return [(_episode(r), float(r["score"])) for r in rows]

    # -- entities -----------------------------------------------------------------------------
    def get_entities(
        self, partition: str, ids: Sequence[str], *, with_embeddings: bool = False
    ) -> list[Entity]:
        ids = _unique(ids)
        if not ids:
            return []
        params = {"partition": partition, "ids": ids, "with_embeddings": bool(with_embeddings)}
        rows = self._read("read/get_entities", params, "reading entities")
        return _in_order([_entity(r) for r in rows], ids)

    def find_entities_by_key(self, partition: str, keys: Sequence[str]) -> list[Entity]:
        """Keys are normalised with normalize_key on both sides, so 'Ana' finds key 'ana'."""
        keys = _normalized_keys(keys)
        if not keys:
            return []
        params = _key_params(partition, keys)
        rows = self._read("read/find_entities_by_key", params, "finding entities by key")
        return [_entity(r) for r in rows]

    def list_entities(self, partition: str) -> list[Entity]:
        rows = self._read("read/list_entities", {"partition": partition}, "listing entities")
        return [_entity(r) for r in rows]

    def search_entities_vector(
        self, partition: str, vector: Sequence[float], k: int
    ) -> list[tuple[Entity, float]]:
        if k <= 0:
            return []
        query_vector = self._vector(vector, "entity search")
        rows = self._vector_search(
            "read/search_entities_vector",
            "read/search_entities_vector_scan",
            {"partition": partition},
            query_vector,
            k,
            "searching entity vectors",
        )
        return [(_entity(r), float(r["score"])) for r in rows]

    # -- facts ----------------------------------------------------------------------------------
    def get_facts(
        self, partition: str, ids: Sequence[str], *, with_embeddings: bool = False
    ) -> list[Fact]:
        ids = _unique(ids)
        if not ids:
            return []
        params = {"partition": partition, "ids": ids, "with_embeddings": bool(with_embeddings)}
        rows = self._read("read/get_facts", params, "reading facts")
        return _in_order([_fact(r) for r in rows], ids)

    def locate_fact(self, fact_id: str) -> str | None:
        if not isinstance(fact_id, str) or not fact_id:
            return None
        rows = self._read("read/locate_fact", {"id": fact_id}, "locating a fact")
        return rows[0]["partition"] if rows else None

    def list_facts(
        self, scope: Scope, *, include_invalid: bool = False, limit: int | None = None
    ) -> list[Fact]:
        params = {
            "partition": scope.partition,
            "agent_id": scope.agent_id,
            "run_id": scope.run_id,
            "include_invalid": bool(include_invalid),
            "with_embeddings": False,
            "limit": limit,
        }
        return [_fact(r) for r in self._read("read/list_facts", params, "listing facts")]

    def facts_for_entities(
        self,
        partition: str,
        entity_ids: Sequence[str],
        *,
        include_invalid: bool = False,
        with_embeddings: bool = False,
    ) -> list[Fact]:
        entity_ids = _unique(entity_ids)
        if not entity_ids:
            return []
        params = {
            "partition": partition,
            "entity_ids": entity_ids,
            "include_invalid": bool(include_invalid),
            "with_embeddings": bool(with_embeddings),
        }
        rows = self._read("read/facts_for_entities", params, "reading facts of entities")
        return [_fact(r) for r in rows]

    def facts_for_detection(
        self,
        partition: str,
        *,
        pairs: Sequence[tuple[str, str]] = (),
        ends: Sequence[tuple[str, str, str]] = (),
    ) -> list[Fact]:
        by_source, by_target = detection_probes(pairs, ends)
        if not by_source and not by_target:
            return []
        params = {
            "partition": partition,
            "by_source": [{"entity_id": x, "relation": r, "target_id": t} for x, r, t in by_source],
            "by_target": [{"entity_id": x, "relation": r} for x, r in by_target],
            "with_embeddings": True,
        }
        rows = self._read("read/facts_for_detection", params, "reading facts for conflicts")
        return [_fact(r) for r in rows]

    def facts_for_episodes(self, scope: Scope, episode_ids: Sequence[str]) -> list[Fact]:
        episode_ids = _unique(episode_ids)
        if not episode_ids:
            return []
        params = {
            "partition": scope.partition,
            "agent_id": scope.agent_id,
            "run_id": scope.run_id,
            "episode_ids": episode_ids,
            "with_embeddings": False,
        }
        rows = self._read("read/facts_for_episodes", params, "reading facts of episodes")
        return [_fact(r) for r in rows]

    def search_facts_vector(
        self,
        scope: Scope,
        vector: Sequence[float],
        k: int,
        *,
        include_invalid: bool = False,
    ) -> list[tuple[Fact, float]]:
        if k <= 0:
            return []
        query_vector = self._vector(vector, "fact search")
        params = {
            "partition": scope.partition,
            "agent_id": scope.agent_id,
            "run_id": scope.run_id,
            "include_invalid": bool(include_invalid),
            "vector": query_vector,
            "k": int(k),
            "fetch": self._fetch(query_vector, k),
            "rescore": self._rescore(k),
            "max_fetch": MAX_FETCH,
            "with_embeddings": False,
        }
        rows = self._read("read/search_facts_vector", params, "searching fact vectors")
        return [(_fact(r), float(r["score"])) for r in rows]

    def search_facts_text(
        self, scope: Scope, query: str, k: int, *, include_invalid: bool = False
    ) -> list[tuple[Fact, float]]:
        text = fulltext.search_params(scope.partition, query or "")
        if not text["terms"] or k <= 0:
            return []
        self._ensure_base_schema()  # the fact full-text index
        params = {
            **text,
            "partition": scope.partition,
            "agent_id": scope.agent_id,
            "run_id": scope.run_id,
            "include_invalid": bool(include_invalid),
            "k": int(k),
            "with_embeddings": False,
        }
        rows = self._read("read/search_facts_text", params, "searching fact text")
        return [(_fact(r), float(r["score"])) for r in rows]

    def expand(
        self,
        scope: Scope,
        entity_ids: Sequence[str],
        *,
        hops: int,
        fanout: int,
        vector: Sequence[float] | None = None,
        include_invalid: bool = False,
        beam: int | None = None,
        select: Callable[[list[tuple[Edge, float]]], set[str]] | None = None,
    ) -> list[tuple[Fact, float]]:
        """One query for up to HOPS_PER_QUERY hops (the configured maximum); a longer walk
        continues from the returned frontier in the same read transaction, and stops as soon
        as the frontier is empty. `select` is not used: the walk returns full facts in the
        same round trip, and the caller applies the selection itself."""
        seeds = _unique(entity_ids)
        if hops <= 0 or fanout <= 0 or not seeds:
            return []
        base = {
            "partition": scope.partition,
            "agent_id": scope.agent_id,
            "run_id": scope.run_id,
            "fanout": int(fanout),
            "beam": None if beam is None else int(beam),
            "vector": None if vector is None else self._vector(vector, "expansion"),
            "include_invalid": bool(include_invalid),
        }
        query = cypher_loader.statement("read/expand")

        def work(tx: Any) -> list[dict[str, Any]]:
            found: dict[str, dict[str, Any]] = {}
            frontier, visited, remaining = seeds, seeds, int(hops)
            while remaining > 0 and frontier:
                step = min(remaining, HOPS_PER_QUERY)
                params = {
                    **base,
                    "hops": step,
                    "frontier_ids": frontier,
                    "visited_ids": visited,
                    "found_ids": list(found),
                }
                rows = rows_of(tx.run(query, params))
                if not rows:
                    break
                for item in rows[0]["facts"] or []:
                    found.setdefault(item["fact"]["id"], item)
                frontier = list(rows[0]["frontier_ids"] or [])
                visited = list(rows[0]["visited_ids"] or [])
                remaining -= step
            return list(found.values())

        with self._errors("expanding the graph"), self._session() as session:
            items = session.execute_read(work)
        hits = [(_fact(item), float(item["score"])) for item in items]
        return sorted(hits, key=lambda pair: (-pair[1], pair[0].id))

    # -- batched reads: the search path (3 round trips on the critical path, with expand) -----
    def link_candidates(
        self, partition: str, keys: Sequence[str], vector: Sequence[float], k: int
    ) -> tuple[list[Entity], list[tuple[Entity, float]]]:
        """find_entities_by_key + search_entities_vector in ONE statement and round trip
        (cypher/read/link_candidates.cypher), with the same index-or-scan choice; none when
        there are no keys and k <= 0."""
        keys = _normalized_keys(keys)
        k = max(int(k), 0)
        if not keys and not k:
            return [], []
        query_vector = self._vector(vector, "entity search") if k else None
        params = {
            **_key_params(partition, keys),
            "vector": query_vector,
            "k": k,
            "fetch": self._fetch(query_vector, k) if query_vector is not None else 0,
            "rescore": self._rescore(k),
        }
        rows = self._read("read/link_candidates", params, "linking entities")
        row = rows[0] if rows else {}
        by_key = [_entity(item) for item in row.get("by_key") or []]
        near = [(_entity(item), float(item["score"])) for item in row.get("near") or []]
        return by_key, near

    def seed_search(
        self,
        scope: Scope,
        query: str,
        vector: Sequence[float],
        *,
        vector_k: int,
        text_k: int,
        include_invalid: bool = False,
        episodes: bool = True,
        episode_query: str | None = None,
    ) -> SeedHits:
        """search_facts_vector, search_facts_text, search_episodes_vector and
        search_episodes_text in ONE statement and round trip (cypher/read/seed_search.cypher):
        the same parameters, index-or-scan choice and skipped parts as the single methods;
        none when every part is skipped."""
        vector_k, text_k = max(int(vector_k), 0), max(int(text_k), 0)
        fact_text = fulltext.search_params(scope.partition, (query or "") if text_k else "")
        text = (episode_query or query or "") if episodes and text_k else ""
        episode_text = fulltext.search_params(scope.partition, text)
        terms = fact_text["terms"] or episode_text["terms"]
        query_vector = self._vector(vector, "seed search") if vector_k else None
        fetch = None
        if episodes and query_vector is not None:
            fetch = self._fetch(query_vector, vector_k)
        if query_vector is None and not terms:
            return SeedHits()
        if terms:
            self._ensure_base_schema()  # the full-text indexes, as the single searches
        params = {
            "partition": scope.partition,
            "agent_id": scope.agent_id,
            "run_id": scope.run_id,
            "include_invalid": bool(include_invalid),
            "vector": query_vector,
            "k": vector_k,
            "limit": text_k,
            **fact_text,
            "episode_terms": episode_text["terms"],
            "episode_term_queries": episode_text["term_queries"],
            "fetch": fetch,
            "fact_fetch": self._fetch(query_vector, vector_k) if query_vector is not None else 0,
            "rescore": self._rescore(vector_k),
            "max_fetch": MAX_FETCH,
        }
        rows = self._read("read/seed_search", params, "searching (seeds)")
        row = rows[0] if rows else {}
        return SeedHits(
            facts_vector=[(_fact(i), float(i["score"])) for i in row.get("facts_vector") or []],
            facts_text=[(_fact(i), float(i["score"])) for i in row.get("facts_text") or []],
            episodes_vector=[
                (_episode(i), float(i["score"])) for i in row.get("episodes_vector") or []
            ],
            episodes_text=[
                (_episode(i), float(i["score"])) for i in row.get("episodes_text") or []
            ],
        )

    def holds_said_messages(self, scope: Scope) -> bool:
        """One EXISTS over the partition's episodes (cypher/read/holds_said_messages): a
        partition of imported facts only skips both message lists in recall."""
        params = {"partition": scope.partition, **_IMPORT_RECORD}
        rows = self._read("read/holds_said_messages", params, "looking for said messages")
        return bool(rows and rows[0]["said"])

    # -- memories (stable ids), metadata filters, forgetting -----------------------------------
    def locate_memory(self, memory_id: str) -> str | None:
        rows = self._read("read/locate_memory", {"memory_id": memory_id}, "locating a memory")
        return rows[0]["partition"] if rows else None

    def locate_episode(self, episode_id: str) -> str | None:
        rows = self._read("read/locate_episode", {"id": episode_id}, "locating a message")
        return rows[0]["partition"] if rows else None

    def memory_versions(self, partition: str, memory_id: str) -> list[Fact]:
        params = {"partition": partition, "memory_id": memory_id}
        return [_fact(r) for r in self._read("read/memory_versions", params, "reading a memory")]

    def _filtered_ids(
        self,
        scope: Scope,
        kind: str,
        clauses: Clauses | None,
        *,
        limit: int | None = None,
        include_invalid: bool = False,
    ) -> list[str]:
        params = {
            "partition": scope.partition,
            "agent_id": scope.agent_id,
            "run_id": scope.run_id,
            "facts": kind == "facts",
            "raw_only": kind == "raw",
            "include_invalid": bool(include_invalid),
            "limit": NO_LIMIT if limit is None else int(limit),
            "clauses": neo4j_param(clauses),
        }
        rows = self._read("read/filter_by_metadata", params, "filtering by metadata")
        return [r["id"] for r in rows]

    def list_memories(
        self,
        scope: Scope,
        *,
        limit: int,
        include_invalid: bool = False,
        metadata: Clauses | None = None,
    ) -> list[Fact]:
        ids = self._filtered_ids(
            scope, "facts", metadata, limit=limit, include_invalid=include_invalid
        )
        return self.get_facts(scope.partition, ids)

    def list_raw_episodes(
        self, scope: Scope, *, limit: int, metadata: Clauses | None = None
    ) -> list[Episode]:
        ids = self._filtered_ids(scope, "raw", metadata, limit=limit)
        return self.get_episodes(scope.partition, ids)

    def metadata_matches(self, scope: Scope, metadata: Clauses) -> tuple[set[str], set[str]]:
        return (
            set(self._filtered_ids(scope, "facts", metadata, include_invalid=True)),
            set(self._filtered_ids(scope, "episodes", metadata)),
        )

    def counts(self, partition: str) -> dict[str, int]:
        rows = self._read("read/counts", {"partition": partition}, "counting")
        row = rows[0] if rows else {}
        return {
            key: int(row.get(key) or 0)
            for key in ("entities", "facts", "current_facts", "episodes")
        }


#: The episode an add_facts import writes as its provenance (store.base.is_import_record):
#: not something anyone said.
_IMPORT_RECORD = {"record_role": IMPORT_ROLE, "record_name": IMPORT_NAME}


def _key_params(partition: str, keys: list[str]) -> dict[str, Any]:
    """A by-key look-up's parameters: the normalised keys (seek on (partition, key)) and the
    Lucene query of each one's alias term (fulltext.alias_queries)."""
    return {
        "partition": partition,
        "keys": keys,
        "alias_queries": fulltext.alias_queries(partition, keys),
    }
