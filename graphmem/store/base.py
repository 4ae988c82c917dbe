"""The store contract: small and dumb on purpose.

A store persists entities, facts and episodes and answers a handful of indexed questions about
them. All policy (entity resolution, conflicts, fusion, time filtering) lives above the stores,
once, so the embedded store and Neo4j behave identically; tests/contract runs one suite against
every store to prove it.

Rules every implementation follows:
- Every read and write is confined to one partition (a Scope's hard partition key); reads that
  take a Scope also honour its agent_id/run_id narrowing for facts and episodes. Entities are
  shared within a partition and are not narrowed.
- Facts returned by reads carry no embedding unless `with_embeddings=True` is asked for.
- "current" facts are those with invalid_at IS NULL and expired_at IS NULL; reads return only
  current facts unless `include_invalid=True`.
- `apply` writes a whole WriteBatch in one transaction: all of it or none of it.
- Scores are similarities where higher is better; vector scores are cosine similarities.
- Lists come back best first, ties broken by id so results are deterministic.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphmem.errors import StoreError
from graphmem.models import Edge, Entity, Episode, EpisodeStatus, Fact, Scope, WriteBatch
from graphmem.store.metadata_filter import Clauses


@dataclass
class SeedHits:
    """The four first-stage lists of a search, fetched together (one round trip on Neo4j)."""

    facts_vector: list[tuple[Fact, float]] = field(default_factory=list)
    facts_text: list[tuple[Fact, float]] = field(default_factory=list)
    episodes_vector: list[tuple[Episode, float]] = field(default_factory=list)
    episodes_text: list[tuple[Episode, float]] = field(default_factory=list)
    # From said_seed_search: the lowest score of each full message list (add_facts records
    # included) when it held all k asked for, else None; see said_seed_search.
    episodes_vector_cut: float | None = None
    episodes_text_cut: float | None = None


#: The role and speaker name of the episode an add_facts import writes as its provenance (its
#: content is the triples as JSON; the facts themselves are in the graph). The one definition:
#: ingest writes it, recall and both stores' queries leave it out of the message lists.
IMPORT_ROLE = "system"
IMPORT_NAME = "add_facts"


def is_import_record(episode: Episode) -> bool:
    """Whether an episode is the record of an add_facts import, not something said."""
    return episode.role == IMPORT_ROLE and episode.name == IMPORT_NAME


def said(episode: Episode) -> bool:
    """Whether an episode is something said. Recall's message lists hold only said episodes."""
    return not is_import_record(episode)


def list_cut(scores: Sequence[float], k: int) -> float | None:
    """A full first-stage list's cut (said_seed_search): its lowest score when it held all k
    asked for, else None."""
    return min(scores) if k > 0 and len(scores) >= k else None


def _said_list(
    items: list[tuple[Episode, float]], k: int
) -> tuple[list[tuple[Episode, float]], float | None]:
    return [(e, s) for e, s in items if said(e)], list_cut([s for _, s in items], k)


def detection_filter(
    pairs: Sequence[tuple[str, str]], ends: Sequence[tuple[str, str, str]]
) -> Callable[[Fact], bool]:
    """The rule of GraphStore.facts_for_detection, as a test on one fact."""
    wanted_pairs = {frozenset(p) for p in pairs}
    wanted_ends = set(ends)

    def wanted(f: Fact) -> bool:
        return (
            frozenset((f.source_id, f.target_id)) in wanted_pairs
            or ("source", f.source_id, f.relation) in wanted_ends
            or ("target", f.target_id, f.relation) in wanted_ends
        )

    return wanted


def detection_probes(
    pairs: Sequence[tuple[str, str]], ends: Sequence[tuple[str, str, str]]
) -> tuple[list[tuple[str, str | None, str | None]], list[tuple[str, str]]]:
    """facts_for_detection's request as index probes, for a store that seeks them one by one:
    (source id, relation or None, target id or None) for facts out of an entity (a pair in
    both directions), and (target id, relation) for facts into one."""
    by_source: list[tuple[str, str | None, str | None]] = [
        (x, r, None) for e, x, r in ends if e == "source"
    ]
    by_source += [(a, None, b) for a, b in pairs] + [(b, None, a) for a, b in pairs]
    by_target = [(x, r) for e, x, r in ends if e == "target"]
    return by_source, by_target


class GraphStore(ABC):
    """Persistence and indexed lookups for one graphmem deployment."""

    name: str = "store"
    #: True when the store's reads mostly wait on another process (a database server): the
    #: search flow then runs a search's independent reads at the same time, and the ones that
    #: need no query vector while the query is embedded (graphmem.recall.seeds). An in-process
    #: store computes its reads on this process's CPU, where threads only contend for the GIL.
    overlaps_reads: bool = False
    #: Whether a write may run on another thread while the caller's thread keeps using the
    #: store (reads, CPU work). A server store (Neo4j) says yes: the add flow then overlaps
    #: the episodes' write with extraction and planning (graphmem.ingest.durable). An
    #: embedded store gains nothing from it and keeps writes on the calling thread.
    concurrent_writes: bool = False

    # -- lifecycle -------------------------------------------------------------------------
    @abstractmethod
    def setup(self, dims: int) -> None:
        """Create schema and indexes idempotently; `dims` is the embedder's dimension.

        Raises StoreError when the store already holds vectors of another dimension."""

    @abstractmethod
    def close(self) -> None:
        """Release connections; the store is unusable afterwards."""

    # -- episodes --------------------------------------------------------------------------
    @abstractmethod
    def add_episodes(
        self, episodes: Sequence[Episode], embeddings: Sequence[Sequence[float]] | None = None
    ) -> None:
        """Durably store raw messages (committed before any extraction starts). An episode id
        already stored in the partition is left as it is, so retrying an add is harmless."""

    @abstractmethod
    def get_episodes(self, partition: str, ids: Sequence[str]) -> list[Episode]:
        """Episodes by id within a partition; unknown ids are left out."""

    @abstractmethod
    def list_episodes(
        self,
        scope: Scope,
        *,
        status: EpisodeStatus | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[Episode]:
        """Episodes in scope ordered by (reference_time, created_at, id)."""

    @abstractmethod
    def pending_episodes(self, partition: str | None = None) -> list[Episode]:
        """Episodes with status pending or failed (all partitions when None), oldest first."""

    @abstractmethod
    def set_episode_status(
        self, partition: str, episode_id: str, status: EpisodeStatus, error: str | None = None
    ) -> None:
        """Record the outcome of extraction for one episode."""

    @abstractmethod
    def search_episodes_text(self, scope: Scope, query: str, k: int) -> list[tuple[Episode, float]]:
        """Full-text (BM25) search over episode content in scope."""

    @abstractmethod
    def search_episodes_vector(
        self, scope: Scope, vector: Sequence[float], k: int
    ) -> list[tuple[Episode, float]]:
        """Cosine similarity of the query vector against episode embeddings in scope."""

    # -- entities --------------------------------------------------------------------------
    @abstractmethod
    def get_entities(
        self, partition: str, ids: Sequence[str], *, with_embeddings: bool = False
    ) -> list[Entity]:
        """Entities by id within a partition; unknown ids are left out."""

    @abstractmethod
    def find_entities_by_key(self, partition: str, keys: Sequence[str]) -> list[Entity]:
        """Entities whose key, or one of whose aliases' keys, is in `keys`; keys compare
        after graphmem.normalize.normalize_key on both sides ("BOB" finds alias "Bob")."""

    @abstractmethod
    def list_entities(self, partition: str) -> list[Entity]:
        """Every entity of a partition, without embeddings (for fuzzy matching and export)."""

    @abstractmethod
    def search_entities_vector(
        self, partition: str, vector: Sequence[float], k: int
    ) -> list[tuple[Entity, float]]:
        """Nearest entities by cosine similarity of their name embeddings."""

    # -- facts -----------------------------------------------------------------------------
    @abstractmethod
    def get_facts(
        self, partition: str, ids: Sequence[str], *, with_embeddings: bool = False
    ) -> list[Fact]:
        """Facts by id within a partition, current or not; unknown ids are left out."""

    @abstractmethod
    def locate_fact(self, fact_id: str) -> str | None:
        """The partition holding a fact id, or None. Lets Mem0-style `history(id)` and
        `delete(id)` work without a scope; callers then read within that partition only.
        Fact ids are unique across partitions (apply refuses one already used anywhere)."""

    @abstractmethod
    def list_facts(
        self, scope: Scope, *, include_invalid: bool = False, limit: int | None = None
    ) -> list[Fact]:
        """Facts in scope, ordered by (created_at, id); with `limit`, only the newest `limit`
        of them (read by the store, so get_all never loads a whole large graph)."""

    @abstractmethod
    def facts_for_entities(
        self,
        partition: str,
        entity_ids: Sequence[str],
        *,
        include_invalid: bool = False,
        with_embeddings: bool = False,
    ) -> list[Fact]:
        """Facts whose source or target is one of the entities (not narrowed: conflict
        detection sees the whole user graph)."""

    def facts_for_detection(
        self,
        partition: str,
        *,
        pairs: Sequence[tuple[str, str]] = (),
        ends: Sequence[tuple[str, str, str]] = (),
    ) -> list[Fact]:
        """Current facts, with embeddings, that the conflict detector can flag new facts
        against: those joining the two entities of a pair (either direction, any relation),
        and those with relation r at end e ("source" or "target") of entity x, for each
        (e, x, r) in `ends`. Ordered by (created_at, id); not narrowed.

        This default reads every fact of the entities involved and filters; a store can do
        better, since a hub entity (a city many people live in) may have thousands of facts
        of which an add needs a handful.
        """
        wanted = detection_filter(pairs, ends)
        ids = {x for p in pairs for x in p} | {x for _, x, _ in ends}
        facts = self.facts_for_entities(partition, sorted(ids), with_embeddings=True)
        return [f for f in facts if wanted(f)]

    @abstractmethod
    def facts_for_episodes(self, scope: Scope, episode_ids: Sequence[str]) -> list[Fact]:
        """Facts (current or not) whose provenance includes one of the episodes."""

    @abstractmethod
    def search_facts_vector(
        self,
        scope: Scope,
        vector: Sequence[float],
        k: int,
        *,
        include_invalid: bool = False,
    ) -> list[tuple[Fact, float]]:
        """The k facts in scope most similar to the query vector."""

    @abstractmethod
    def search_facts_text(
        self, scope: Scope, query: str, k: int, *, include_invalid: bool = False
    ) -> list[tuple[Fact, float]]:
        """Full-text (BM25) search over fact sentences and their entity names."""

    @abstractmethod
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
        """Facts reachable within `hops` hops of the seed entities, either direction.

        At each hop at most `fanout` facts are followed per frontier entity, the ones most
        similar to `vector` when given (else the newest: latest created_at), ties by id; a
        fact reached at an earlier hop is not a candidate again. With `beam`, at most that
        many newly reached entities go on to the next hop: those reached by the most similar
        followed fact (ties by entity id), so hub entities cannot blow the walk up. Each
        fact comes with its cosine similarity to `vector` (0.0 when no vector, or when the fact
        has no embedding). The caller rebuilds paths from the facts.

        `select`, when given, is called once with every reached fact as a light Edge and its
        similarity, and returns the ids of the facts the caller needs read (it may hold
        others already); a store may then read and return only those (reading full facts is
        most of an expansion's cost). A store that reads full facts anyway may ignore it: the
        caller applies the same selection itself.
        """

    # -- batched reads (the search path: a server store overrides these to save round trips) --
    def link_candidates(
        self, partition: str, keys: Sequence[str], vector: Sequence[float], k: int
    ) -> tuple[list[Entity], list[tuple[Entity, float]]]:
        """Entities matching any key, and the k nearest entities by name vector. No keys skip
        the look-up and k = 0 the vector search, which then needs no vector (it may be empty):
        the search flow reads the halves at different times (GraphStore.overlaps_reads)."""
        by_key = self.find_entities_by_key(partition, keys) if keys else []
        near = self.search_entities_vector(partition, vector, k) if k > 0 else []
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
        """Fact and episode hits by vector and by full text, as the single methods return.
        `episode_query`, when given, is the full-text query for episodes (else `query`).
        `vector_k = 0` leaves the vector lists empty and needs no vector (it may be empty),
        `text_k = 0` the text lists: the search flow reads the halves at different times
        (GraphStore.overlaps_reads) and must get exactly the lists of one whole call."""
        hits = SeedHits(
            facts_vector=self.search_facts_vector(
                scope, vector, vector_k, include_invalid=include_invalid
            ),
            facts_text=self.search_facts_text(
                scope, query, text_k, include_invalid=include_invalid
            ),
        )
        if episodes:
            hits.episodes_vector = self.search_episodes_vector(scope, vector, vector_k)
            hits.episodes_text = self.search_episodes_text(scope, episode_query or query, text_k)
        return hits

    def said_seed_search(
        self, scope: Scope, query: str, vector: Sequence[float], **options: Any
    ) -> SeedHits:
        """seed_search with episodes, whose message lists keep only said episodes (`said`),
        each with its cut: the lowest score of the full list when it held all k asked for
        (else None). That is all a caller that drops the records after cutting the full list
        at its k-th place needs (recall.seeds.settle_said), so a store may skip reading the
        records. This default derives both from seed_search."""
        hits = self.seed_search(scope, query, vector, **options, episodes=True)
        vector_k, text_k = options["vector_k"], options["text_k"]
        hits.episodes_vector, hits.episodes_vector_cut = _said_list(hits.episodes_vector, vector_k)
        hits.episodes_text, hits.episodes_text_cut = _said_list(hits.episodes_text, text_k)
        return hits

    def holds_said_messages(self, scope: Scope) -> bool:
        """Whether the scope's partition may hold a message someone said, i.e. an episode that
        is not the record of an add_facts import (role "system", name "add_facts"). Recall
        drops those records from its message lists, so where none is said it skips the lists.
        True (this default) means "maybe": a store answers False only when it knows."""
        return True

    # -- writes ----------------------------------------------------------------------------
    def partition_version(self, partition: str) -> int | None:
        """A counter that moves on every committed write that can change what planning an add
        reads in the partition (new or updated entities, new facts, invalidations, deletes),
        for optimistic concurrency: Memory reads it before planning and sets the batch's
        `expected_version`. None (this default) means the store does not track versions;
        such a store ignores `expected_version` and only entity keys are checked on apply."""
        return None

    def version_and_entities(
        self, partition: str, keys: Sequence[str]
    ) -> tuple[int | None, list[Entity]]:
        """partition_version, then find_entities_by_key for `keys` (none read when empty):
        the first reads of planning an add, in this order, because the optimistic check
        needs the version read no later than what the plan reads. A server store answers
        both in one round trip."""
        version = self.partition_version(partition)
        return version, (self.find_entities_by_key(partition, keys) if keys else [])

    @abstractmethod
    def apply(self, batch: WriteBatch) -> None:
        """Write a whole batch in one transaction and mark its episodes processed.

        Raises StoreError and writes nothing when the batch holds an entity or fact of another
        partition, a fact id already used (in any partition, or twice in the batch), or a fact
        whose source or target entity exists neither in the batch nor in the partition.
        Raises ConflictError (a StoreError) and writes nothing when an entity's key is already
        another entity's in the partition (a concurrent writer created it first), or when
        `batch.expected_version` is set and the store's partition_version has moved past it.
        Invalidations and merges naming a fact that no longer exists are skipped (it was
        deleted meanwhile). An entity upserted with embedding None keeps its stored embedding;
        merges append episode ids that are not there yet, keeping order."""

    @abstractmethod
    def delete_fact(self, partition: str, fact_id: str) -> bool:
        """Remove one fact for good; True when it existed."""

    @abstractmethod
    def delete_scope(self, scope: Scope) -> int:
        """Remove the scope's facts and episodes; without agent/run narrowing the partition's
        entities go too. Returns the number of facts removed.

        A scope naming only its partition key is not narrowed: Scope(user_id=u), or without a
        user Scope(agent_id=a) or Scope(run_id=r). Scope(user_id=u, agent_id=a) is narrowed:
        it removes the facts and episodes stored with agent a; the shared entities stay."""

    # -- memories (stable ids), metadata filters, forgetting --------------------------------
    # Additive to the contract: a store that predates them gets working defaults where the
    # older primitives allow, and a StoreError naming the method where they do not.
    def locate_memory(self, memory_id: str) -> str | None:
        """The partition holding a memory id (the stable id shared by a memory's versions,
        Fact.memory_id), or None. Memory ids are unique store-wide, as fact ids are."""
        return self.locate_fact(memory_id)

    def locate_episode(self, episode_id: str) -> str | None:
        """The partition holding a message (episode) id, or None; the first found when the
        id is used in several partitions (episode ids are random uuids: they are not)."""
        return None

    def memory_versions(self, partition: str, memory_id: str) -> list[Fact]:
        """Every fact (version) of one memory, current or not, ordered by (created_at, id)."""
        found = self.get_facts(partition, [memory_id])
        return [f for f in found if f.memory_id == memory_id]

    def list_memories(
        self,
        scope: Scope,
        *,
        limit: int,
        include_invalid: bool = False,
        metadata: Clauses | None = None,
    ) -> list[Fact]:
        """The newest `limit` facts in scope (by created_at, then id, both descending),
        current only unless include_invalid, that satisfy the metadata filter (see
        graphmem.store.metadata_filter), evaluated before the limit."""
        raise StoreError(f"{type(self).__name__} does not implement list_memories")

    def list_raw_episodes(
        self, scope: Scope, *, limit: int, metadata: Clauses | None = None
    ) -> list[Episode]:
        """The newest `limit` episodes stored with infer=False (Mem0 keeps such raw text as
        a memory), newest first, satisfying the metadata filter."""
        raise StoreError(f"{type(self).__name__} does not implement list_raw_episodes")

    def metadata_matches(self, scope: Scope, metadata: Clauses) -> tuple[set[str], set[str]]:
        """Ids of the facts and of the episodes in scope whose metadata satisfies the filter."""
        raise StoreError(f"{type(self).__name__} does not implement metadata_matches")

    def purge(
        self, partition: str, fact_ids: Sequence[str], episode_ids: Sequence[str]
    ) -> dict[str, int]:
        """Forget for good, in one transaction: the facts and the episodes named, with their
        vectors, full-text entries, provenance and mentions; facts left resting on a removed
        episode lose it from their provenance; then every entity the removed facts or
        episodes touched that no fact and no mention holds any more. Returns
        {"facts", "episodes", "entities"} removed. (Which ids to name is policy: see
        graphmem.forget.)"""
        raise StoreError(f"{type(self).__name__} does not implement purge")

    @abstractmethod
    def reset(self) -> None:
        """Remove everything in every partition."""

    @abstractmethod
    def counts(self, partition: str) -> dict[str, int]:
        """{'entities', 'facts', 'current_facts', 'episodes'} for a partition."""
