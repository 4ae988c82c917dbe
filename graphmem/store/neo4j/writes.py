"""Writes: episodes, and apply() as one managed write transaction (version check, then one
UNWIND statement per kind, facts one statement per relation type); deletes and forgetting."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from graphmem.errors import ConflictError, StoreError
from graphmem.models import (
    Entity,
    Episode,
    EpisodeStatus,
    Fact,
    Scope,
    WriteBatch,
)
from graphmem.normalize import normalize_key
from graphmem.store.metadata_filter import neo4j_properties
from graphmem.store.neo4j import fulltext
from graphmem.store.neo4j.reads import ReadsMixin, _key_params
from graphmem.store.neo4j.values import (
    RESERVED_LABELS,
    Step,
    _check_relation,
    _check_type,
    _entity,
    _json_dumps,
    _narrowed,
    _normalized_keys,
    _param_dt,
    _unique,
    text_terms,
)


class WritesMixin(ReadsMixin):
    """Every write is one managed write transaction."""

    # -- episodes -----------------------------------------------------------------------------
    def add_episodes(
        self, episodes: Sequence[Episode], embeddings: Sequence[Sequence[float]] | None = None
    ) -> None:
        episodes = list(episodes)
        if not episodes:
            return
        if embeddings is not None and len(embeddings) != len(episodes):
            raise StoreError(f"{len(episodes)} episodes but {len(embeddings)} embeddings")
        rows = []
        for i, ep in enumerate(episodes):
            vector = embeddings[i] if embeddings is not None else None
            rows.append(
                {
                    "id": ep.id,
                    "partition": ep.partition,
                    "user_id": ep.user_id,
                    "agent_id": ep.agent_id,
                    "run_id": ep.run_id,
                    "role": ep.role,
                    "name": ep.name,
                    "content": ep.content,
                    "reference_time": _param_dt(ep.reference_time, field="reference_time"),
                    "created_at": _param_dt(ep.created_at, field="created_at"),
                    "status": EpisodeStatus(ep.status).value,
                    "error": ep.error,
                    "infer": bool(ep.infer),
                    "metadata_json": _json_dumps(ep.metadata),
                    "embedding": (
                        None if vector is None else self._vector(vector, "episode embedding")
                    ),
                    **fulltext.indexed(fulltext.episode_document(ep.content), ep.partition),
                }
            )

        def check(result: list[dict[str, Any]]) -> None:
            written = result[0]["written"] if result else 0
            if written != len(rows):
                raise StoreError("an episode id is already used in another partition")

        self._ensure_base_schema()
        steps: list[tuple[str, dict[str, Any], Callable[[list[dict[str, Any]]], None] | None]]
        steps = [("write/add_episodes", {"rows": rows}, check)]
        steps += _episode_metadata_steps(episodes)
        self._write("storing episodes", steps)

    def set_episode_status(
        self, partition: str, episode_id: str, status: EpisodeStatus, error: str | None = None
    ) -> None:
        params = {
            "partition": partition,
            "id": episode_id,
            "status": EpisodeStatus(status).value,
            "error": error,
        }
        self._write("recording an episode's status", [("write/set_episode_status", params, None)])

    # -- writes ---------------------------------------------------------------------------------
    def _entity_row(self, entity: Entity, partition: str) -> dict[str, Any]:
        if entity.partition != partition:
            raise StoreError(
                f"entity {entity.id!r} is in partition {entity.partition!r}, not {partition!r}"
            )
        entity_type = _check_type(entity.type)
        labels = ["Entity"] if entity_type in RESERVED_LABELS else ["Entity", entity_type]
        aliases = [a for a in entity.aliases if isinstance(a, str)]
        # normalize_key of the key and of every alias: what find_entities_by_key matches.
        alias_keys = _unique([k for k in (normalize_key(a) for a in [entity.key, *aliases]) if k])
        return {
            "id": entity.id,
            "user_id": entity.user_id,
            "name": entity.name,
            "key": entity.key,
            "type": entity_type,
            "labels": labels,
            "aliases": aliases,
            "alias_keys": alias_keys,
            "alias_terms": fulltext.alias_terms(partition, alias_keys),
            "terms": text_terms(entity.name),
            "embedding": None
            if entity.embedding is None
            else self._vector(entity.embedding, f"embedding of entity {entity.id!r}"),
            "created_at": _param_dt(entity.created_at, field="created_at"),
            "updated_at": _param_dt(entity.updated_at, field="updated_at"),
        }

    def _fact_row(self, fact: Fact, partition: str) -> dict[str, Any]:
        if fact.partition != partition:
            raise StoreError(
                f"fact {fact.id!r} is in partition {fact.partition!r}, not {partition!r}"
            )
        document = fulltext.fact_document(fact.fact, fact.source, fact.target)
        return {
            "source_id": fact.source_id,
            "target_id": fact.target_id,
            "relation": _check_relation(fact.relation),
            **fulltext.indexed(document, partition),
            "props": {
                "id": fact.id,
                "partition": fact.partition,
                "user_id": fact.user_id,
                "agent_id": fact.agent_id,
                "run_id": fact.run_id,
                "fact": fact.fact,
                "embedding": None
                if fact.embedding is None
                else self._vector(fact.embedding, f"embedding of fact {fact.id!r}"),
                "valid_at": _param_dt(fact.valid_at, field="valid_at"),
                "invalid_at": _param_dt(fact.invalid_at, field="invalid_at"),
                "created_at": _param_dt(fact.created_at, field="created_at"),
                "expired_at": _param_dt(fact.expired_at, field="expired_at"),
                "episodes": _unique(fact.episodes),
                "confidence": float(fact.confidence),
                "invalidated_by": fact.invalidated_by,
                "metadata_json": _json_dumps(fact.metadata),
                "terms": text_terms(fact.fact),
                "memory_id": fact.memory_id,
                **neo4j_properties(fact.metadata),  # "m.<key>": for metadata filters
            },
        }

    def apply(self, batch: WriteBatch) -> None:
        partition = batch.partition
        # Validate and convert everything before anything is sent: a hostile identifier
        # or a foreign partition fails here, with nothing written.
        entity_rows = [self._entity_row(e, partition) for e in batch.entities]
        fact_rows = [self._fact_row(f, partition) for f in batch.facts]
        invalidations = {
            inv.fact_id: {
                "invalid_at": _param_dt(inv.invalid_at, field="invalid_at"),
                "expired_at": _param_dt(inv.expired_at, field="expired_at"),
                "invalidated_by": inv.invalidated_by,
            }
            for inv in batch.invalidations
        }
        merges: dict[str, list[str]] = {}
        for merge in batch.merges:
            merges[merge.fact_id] = _unique([*merges.get(merge.fact_id, []), *merge.episodes])
        mentions = [
            {"episode_id": episode_id, "entity_id": entity_id}
            for episode_id, entity_id in dict.fromkeys(batch.mentions)
        ]
        episode_ids = _unique(batch.episode_ids)

        steps: list[Step] = []
        bump = bool(batch.entities or batch.facts or batch.invalidations)
        if bump or batch.expected_version is not None:
            steps.append(_claim_version(partition, bump, batch.expected_version))
        if entity_rows:
            steps.append(
                (
                    "write/upsert_entities",
                    {
                        "partition": partition,
                        "reserved": list(RESERVED_LABELS),
                        "rows": entity_rows,
                    },
                    _expect(
                        "upserted", len(entity_rows), "an entity id is used in another partition"
                    ),
                )
            )
        # One statement per relationship type, the type written literally (see
        # cypher/write/create_facts.cypher: 5.26.0 reuses a dynamic type for every row).
        by_relation: dict[str, list[dict[str, Any]]] = {}
        for row in fact_rows:
            by_relation.setdefault(row.pop("relation"), []).append(row)
        for relation, rows in by_relation.items():
            steps.append(
                (
                    ("write/create_facts", {"RELATION": relation}),
                    {
                        "partition": partition,
                        "part": fulltext.partition_token(partition),
                        "rows": rows,
                    },
                    _expect(
                        "created",
                        len(rows),
                        "a fact's source or target entity does not exist in the partition",
                    ),
                )
            )
        if invalidations or merges:
            steps.append(
                (
                    "write/update_facts",
                    {
                        "partition": partition,
                        "ids": _unique([*invalidations, *merges]),
                        "invalidations": invalidations,
                        "merges": merges,
                    },
                    None,
                )
            )
        if mentions or episode_ids:  # links, then processed episodes: one statement
            steps.append(
                (
                    "write/finish_episodes",
                    {
                        "partition": partition,
                        "mentions": mentions,
                        "status": EpisodeStatus.PROCESSED.value,
                        "episodes": [
                            {
                                "id": episode_id,
                                "embedding": self._episode_vector(batch, episode_id),
                            }
                            for episode_id in episode_ids
                        ],
                    },
                    None,
                )
            )
        if not steps or (len(steps) == 1 and not bump):
            if steps:  # only a version check: nothing to write, but a stale plan still fails
                self._write("checking the partition version", steps)
            return
        self._ensure_base_schema()
        self._write("applying a write batch", steps)

    def partition_version(self, partition: str) -> int:
        """The partition's write counter (cypher/write/claim_partition_version.cypher moves
        it inside every graph-changing write transaction, under the counter's write lock)."""
        rows = self._read("read/partition_version", {"partition": partition}, "reading a version")
        return int(rows[0]["version"]) if rows else 0

    def version_and_entities(self, partition: str, keys: Sequence[str]) -> tuple[int, list[Entity]]:
        """partition_version and find_entities_by_key in ONE statement and round trip
        (cypher/read/version_and_entities.cypher), the version read first."""
        keys = _normalized_keys(keys)
        params = _key_params(partition, keys)
        rows = self._read("read/version_and_entities", params, "reading a version and entities")
        row = rows[0] if rows else {}
        entities = [_entity({"entity": item}) for item in row.get("entities") or []]
        return int(row.get("version") or 0), entities

    def delete_fact(self, partition: str, fact_id: str) -> bool:
        self._ensure_base_schema()
        result = self._write(
            "deleting a fact",
            [
                _claim_version(partition, True, None),
                ("write/delete_fact", {"partition": partition, "id": fact_id}, None),
            ],
        )
        return bool(result[1] and result[1][0]["deleted"])

    #: Rows removed per transaction by delete_scope: one transaction for a whole 100k-fact
    #: user needed more than the 1 GiB server's transaction memory (MemoryPoolOutOfMemoryError).
    DELETE_BATCH = 5000

    def delete_scope(self, scope: Scope) -> int:
        """A scope that names only its partition removes the whole partition (facts,
        episodes, entities); a narrowed one removes the facts and episodes stored with its
        agent/run ids, and the shared entities stay. Done in batches, each its own
        transaction that moves the partition version: interrupted, it leaves part of the
        scope, and calling it again finishes the job (facts go first, so no episode or entity
        is removed while a fact still rests on it)."""
        whole = not _narrowed(scope)
        params = {
            "partition": scope.partition,
            "agent_id": None if whole else scope.agent_id,
            "run_id": None if whole else scope.run_id,
            "batch": self.DELETE_BATCH,
        }
        self._ensure_base_schema()
        facts = self._delete_in_batches(scope.partition, "write/delete_scope_facts", params)
        self._delete_in_batches(scope.partition, "write/delete_scope_episodes", params)
        if whole:
            entities = {"partition": scope.partition, "batch": self.DELETE_BATCH}
            self._delete_in_batches(scope.partition, "write/delete_partition_entities", entities)
        return facts

    def _delete_in_batches(self, partition: str, statement: str, params: dict[str, Any]) -> int:
        """Run a delete statement (it removes up to $batch rows and returns how many) in
        transactions of its own, each moving the partition version, until a batch falls short;
        returns the rows removed."""
        total = 0
        while True:
            result = self._write(
                "deleting a scope",
                [_claim_version(partition, True, None), (statement, params, None)],
            )
            deleted = int(result[1][0]["deleted"]) if result[1] else 0
            total += deleted
            if deleted < self.DELETE_BATCH:
                return total

    def reset(self) -> None:
        while True:
            result = self._write(
                "resetting the store", [("write/reset_batch", {"batch": 5000}, None)]
            )
            if not result[0] or not result[0][0]["deleted"]:
                return

    def purge(
        self, partition: str, fact_ids: Sequence[str], episode_ids: Sequence[str]
    ) -> dict[str, int]:
        params = {
            "partition": partition,
            "fact_ids": _unique(fact_ids),
            "episode_ids": _unique(episode_ids),
        }
        result = self._write("forgetting", [("write/purge", params, None)])
        row = result[0][0] if result and result[0] else {}
        return {k: int(row.get(k) or 0) for k in ("facts", "episodes", "entities")}


def _episode_metadata_steps(
    episodes: Sequence[Episode],
) -> list[tuple[str, dict[str, Any], None]]:
    """Steps setting the new episodes' scalar metadata as "m.<key>" properties, per partition."""
    by_partition: dict[str, list[dict[str, Any]]] = {}
    for ep in episodes:
        props = neo4j_properties(ep.metadata)
        if props:
            by_partition.setdefault(ep.partition, []).append({"id": ep.id, "props": props})
    return [
        ("write/set_episode_metadata", {"partition": p, "rows": rows}, None)
        for p, rows in sorted(by_partition.items())
    ]


def _claim_version(partition: str, bump: bool, expected: int | None) -> Step:
    """The first step of a write transaction on a partition: lock its version counter, refuse
    the batch (ConflictError, rollback) when the version moved past `expected`, and move it
    on when `bump` (graph changes)."""

    def check(rows: list[dict[str, Any]]) -> None:
        found = int(rows[0]["version"]) if rows else 0
        if expected is not None and found != expected:
            raise ConflictError(
                f"partition {partition!r} changed while the batch was planned (version "
                f"{found}, planned against {expected}); nothing was written"
            )

    params = {"partition": partition, "bump": 1 if bump else 0}
    return ("write/claim_partition_version", params, check)


def _expect(column: str, expected: int, reason: str) -> Callable[[list[dict[str, Any]]], None]:
    """A check that rolls the write transaction back unless `column` equals `expected`."""

    def check(rows: list[dict[str, Any]]) -> None:
        got = int(rows[0][column]) if rows else 0
        if got != expected:
            raise StoreError(f"write batch refused, nothing written: {reason} ({got}/{expected})")

    return check
