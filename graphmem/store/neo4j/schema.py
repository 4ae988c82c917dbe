"""Schema bootstrap: constraints, range, full-text and vector indexes, created idempotently
(every statement is IF NOT EXISTS, and setup() creates only what is missing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from graphmem.errors import StoreError
from graphmem.store.neo4j import fulltext
from graphmem.store.neo4j.connection import Connection
from graphmem.store.neo4j.values import (
    MAX_DIMS,
)

#: schema object name -> the statement creating it (constraints and indexes, no vectors)
BASE_SCHEMA = {
    "graphmem_entity_id": "schema/constraint_entity_id",
    "graphmem_fact_ref_id": "schema/constraint_fact_ref_id",
    "graphmem_partition_version": "schema/constraint_partition_version",
    "graphmem_entity_partition_key": "schema/constraint_entity_partition_key",
    "graphmem_episode_id": "schema/constraint_episode_id",
    "graphmem_entity_partition": "schema/index_entity_partition",
    "graphmem_fact_ref_partition": "schema/index_fact_ref_partition",
    "graphmem_episode_partition": "schema/index_episode_partition",
    "graphmem_episode_status": "schema/index_episode_status",
    "graphmem_entity_name": "schema/fulltext_entity_name",
    "graphmem_entity_alias": "schema/fulltext_entity_alias",
    "graphmem_fact_ref_memory": "schema/index_fact_ref_memory",
    "graphmem_fact_text": "schema/fulltext_fact_text",
    "graphmem_episode_text": "schema/fulltext_episode_text",
}
#: Indexes of earlier versions that nothing reads any more: dropped at setup when found.
RETIRED = {"graphmem_episode_content": "schema/drop_fulltext_episode_content"}


class _TextKind(NamedTuple):
    """What the one-time full-text backfill of one kind of document runs."""

    pending: str  # statement: a batch of nodes without `text`, with their document's parts
    store: str  # statement: write their text, doc_len and part
    count: str  # statement: every partition's counters of this kind counted afresh
    document: Callable[[dict[str, Any]], list[str]]  # a pending row -> its tokens


#: index name -> the backfill that fills it on a database written before it existed
TEXT_KINDS = {
    "graphmem_fact_text": _TextKind(
        "schema/fact_text_pending",
        "schema/set_fact_text",
        "schema/count_fact_text",
        lambda row: fulltext.fact_document(
            row["fact"] or "", row["source"] or "", row["target"] or ""
        ),
    ),
    "graphmem_episode_text": _TextKind(
        "schema/episode_text_pending",
        "schema/set_episode_text",
        "schema/count_episode_text",
        lambda row: fulltext.episode_document(row["content"] or ""),
    ),
}
#: Vector indexes rebuilt when found unquantized: graphmem created the fact index unquantized
#: before its search re-scored hits exactly, and on Neo4j 5.26 that index answered 5-10x
#: slower than a quantized one (Neo4j's default) once written by many small transactions.
QUANTIZED = ("graphmem_fact_embedding",)
#: index name -> (create statement, drop statement)
VECTOR_INDEXES = {
    "graphmem_entity_embedding": (
        "schema/vector_index_entity_embedding",
        "schema/drop_vector_index_entity_embedding",
    ),
    "graphmem_episode_embedding": (
        "schema/vector_index_episode_embedding",
        "schema/drop_vector_index_episode_embedding",
    ),
    "graphmem_fact_embedding": (
        "schema/vector_index_fact_embedding",
        "schema/drop_vector_index_fact_embedding",
    ),
}


class SchemaMixin(Connection):
    """Creates and checks the schema (setup)."""

    def _schema(self, name: str, params: dict[str, Any] | None = None) -> None:
        """One schema statement in its own transaction (schema and data never share one)."""
        self._write(f"running {name}", [(name, params or {}, None)])

    def _indexes(self) -> dict[str, dict[str, Any]]:
        """Existing indexes by name (a uniqueness constraint's backing index has its name)."""
        rows = self._read("schema/show_indexes", {}, "listing indexes")
        return {row["name"]: row for row in rows}

    def _ensure_base_schema(self) -> None:
        """Constraints, range and full-text indexes: the missing ones are created (each
        statement is also IF NOT EXISTS, for concurrent start-ups); once per store object."""
        if self._base_ready:
            return
        with self._schema_lock:
            if self._base_ready:
                return
            existing = self._indexes()
            missing = [stmt for name, stmt in BASE_SCHEMA.items() if name not in existing]
            for statement in missing:
                self._schema(statement)
            if missing:
                self._schema("schema/await_indexes", {"timeout": self._index_timeout})
            if "graphmem_fact_ref_memory" not in existing:  # a store older than memory ids
                self._backfill_memory_ids()
            if "graphmem_entity_alias" not in existing:  # a store older than the alias index
                self._backfill_alias_terms()
            for index_name, kind in TEXT_KINDS.items():
                if index_name not in existing:  # a store older than this full-text index
                    self._backfill_text(kind)
            for index_name, drop in RETIRED.items():
                if index_name in existing:
                    self._schema(drop)
            self._base_ready = True

    # -- lifecycle ----------------------------------------------------------------------------
    def setup(self, dims: int) -> None:
        if isinstance(dims, bool) or not isinstance(dims, int) or not 1 <= dims <= MAX_DIMS:
            raise StoreError(
                f"embedding dimension must be an integer in 1..{MAX_DIMS}, got {dims!r}"
            )
        self._ensure_base_schema()
        stored = self._read("schema/stored_vector_dims", {}, "checking stored vector dimensions")
        row = stored[0] if stored else {}
        for kind in ("entity", "fact", "episode"):
            for found in row.get(f"{kind}_dims") or []:
                if found != dims:
                    raise StoreError(
                        f"the Neo4j store at {self._where} holds {kind} embeddings of dimension "
                        f"{found}, but the embedder has dimension {dims}: use the embedder the "
                        "data was written with, or delete the data first"
                    )
        existing: dict[str, Any] = {}
        unquantized: dict[str, bool] = {}
        for index_name, index in self._indexes().items():
            config = (index.get("options") or {}).get("indexConfig") or {}
            existing[index_name] = config.get("vector.dimensions")
            unquantized[index_name] = config.get("vector.quantization.enabled") is False
        changed = False
        for index_name, (create, drop) in VECTOR_INDEXES.items():
            stale = index_name in QUANTIZED and unquantized.get(index_name, False)
            if index_name in existing and existing[index_name] == dims and not stale:
                continue
            if index_name in existing:
                # Another dimension but no vectors stored (checked above), or an unquantized
                # fact index (an index holds no data of its own): rebuild it.
                self._schema(drop)
            self._schema(create, {"dims": dims})
            changed = True
        if "graphmem_fact_embedding" not in existing:
            # First set-up with fact search on the registry nodes: facts written by an earlier
            # version get their search fields (a no-op on a new database).
            self._schema("schema/backfill_fact_refs")
        if changed:
            self._schema("schema/await_indexes", {"timeout": self._index_timeout})
        self._dims = dims

    def _backfill_text(self, kind: _TextKind) -> None:
        """Facts (or messages) stored before their full-text index get their document,
        partition token and length (computed here, with the tokenizer new writes use), then
        every partition's BM25 counters of that kind are counted afresh. A no-op on a new
        database."""
        while True:
            rows = self._read(kind.pending, {"batch": 2000}, "finding documents without full text")
            if not rows:
                break
            updates = [
                {"id": row["id"], **fulltext.indexed(kind.document(row), row["partition"])}
                for row in rows
            ]
            self._write("indexing older full text", [(kind.store, {"rows": updates}, None)])
        self._write("counting full-text statistics", [(kind.count, {}, None)])

    def _backfill_memory_ids(self) -> None:
        """Facts stored before memory ids become their own memories (a no-op once done)."""
        while True:
            result = self._write(
                "giving older facts memory ids",
                [("write/backfill_memory_ids", {"batch": 5000}, None)],
            )
            if not result[0] or not result[0][0]["updated"]:
                return

    def _backfill_alias_terms(self) -> None:
        """Entities stored before the alias index get their alias terms (computed here, as
        upsert_entities writes them), a batch at a time. A no-op on a new database."""
        while True:
            rows = self._read(
                "schema/alias_terms_pending",
                {"batch": 5000},
                "finding entities without alias terms",
            )
            if not rows:
                return
            updates = [
                {
                    "id": row["id"],
                    "alias_terms": fulltext.alias_terms(row["partition"], row["alias_keys"] or []),
                }
                for row in rows
            ]
            self._write(
                "indexing older entity aliases",
                [("schema/set_alias_terms", {"rows": updates}, None)],
            )
