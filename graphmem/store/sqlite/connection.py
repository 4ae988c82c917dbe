"""The SQLite store's plumbing: connection, transactions with busy retries, schema set-up,
version counters, the cached vector indexes and row-to-model mapping."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from graphmem.errors import StoreError
from graphmem.models import Entity, Episode, Fact, Scope
from graphmem.store.base import GraphStore
from graphmem.store.metadata_filter import sqlite_lower
from graphmem.store.sqlite.fts import migrate_shared_tables
from graphmem.store.sqlite.schema import (
    _ENTITY_FIELDS,
    _EPISODE_FIELDS,
    _FACT_FIELDS,
    _IN_JSON,
    _SCHEMA,
    ENTITIES,
    EPISODES,
    FACTS,
    SCHEMA_VERSION,
    WRITES,
    T,
    _cols,
    _ids,
    _is_busy,
    _migrate_memory_ids,
    _values,
)
from graphmem.store.sqlite.vectors import (
    _Patch,
    _VectorIndex,
)


class SQLiteBase(GraphStore):
    """GraphStore on one SQLite file; see the module docstring for schema and concurrency."""

    name = "sqlite"

    def __init__(
        self,
        path: str,
        *,
        busy_timeout_ms: int = 2_000,
        retry_seconds: float = 10.0,
        cache_bytes: int = 1 << 30,
        synchronous: str = "FULL",
    ) -> None:
        """Open (creating if needed) the database at `path`, or an in-memory one for ":memory:".

        synchronous=FULL makes a committed add survive power loss, not just a crash, which is
        what "episodes are durable before extraction" promises; NORMAL is faster.
        """
        self.path = str(path)
        self._lock = threading.RLock()
        self._retry_seconds = retry_seconds
        self._cache_bytes = cache_bytes
        self._indexes: OrderedDict[tuple[str, str], _VectorIndex] = OrderedDict()
        self._dims: int | None = None
        self._closed = False
        if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise StoreError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}")
        try:
            if self.path != ":memory:" and not self.path.startswith("file:"):
                os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            self._conn = sqlite3.connect(
                self.path,
                timeout=busy_timeout_ms / 1000,
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                check_same_thread=False,
                uri=self.path.startswith("file:"),
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open SQLite database {self.path!r}: {exc}") from exc
        self._conn.row_factory = sqlite3.Row
        self._conn.create_function("gm_lower", 1, sqlite_lower, deterministic=True)
        self._pragmas(busy_timeout_ms, synchronous.upper())
        self._run(self._create_schema, write=True)

    # -- plumbing ------------------------------------------------------------------------------
    def _pragmas(self, busy_timeout_ms: int, synchronous: str) -> None:
        def apply() -> None:
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            if self.path != ":memory:":
                # Switching to WAL needs a moment of exclusive access: retried like any write.
                self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute(f"PRAGMA synchronous = {synchronous}")

        self._retrying(apply)

    def _retrying(self, attempt: Callable[[], T]) -> T:
        """Run `attempt`, retrying SQLITE_BUSY with bounded exponential backoff; every other
        sqlite3 error (and busy after the deadline) becomes a StoreError."""
        deadline = time.monotonic() + self._retry_seconds
        delay = 0.005
        with self._lock:
            while True:
                if self._closed:
                    raise StoreError("the SQLite store is closed")
                try:
                    return attempt()
                except sqlite3.OperationalError as exc:
                    if not _is_busy(exc):
                        raise self._error(exc) from exc
                    if time.monotonic() + delay > deadline:
                        raise StoreError(
                            f"SQLite database {self.path!r} stayed locked for "
                            f"{self._retry_seconds:g} s (another process holds the write lock): "
                            f"{exc}"
                        ) from exc
                except sqlite3.Error as exc:
                    raise self._error(exc) from exc
                except UnicodeEncodeError as exc:  # a str SQLite cannot store (surrogates)
                    raise StoreError(
                        f"SQLite store {self.path!r}: text is not valid Unicode: {exc}"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def _error(self, exc: sqlite3.Error) -> StoreError:
        return StoreError(f"SQLite store {self.path!r} failed: {type(exc).__name__}: {exc}")

    def _run(self, body: Callable[[sqlite3.Connection], T], *, write: bool) -> T:
        """Run `body` as one transaction (BEGIN IMMEDIATE for writes), with busy retries.
        `body` may run more than once, so it must not change in-memory state."""

        def attempt() -> T:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                result = body(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    # The original error is the one worth reporting.
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise
            return result

        return self._retrying(attempt)

    def _write(self, body: Callable[[sqlite3.Connection, list[_Patch]], T]) -> T:
        """A write transaction whose body lists how it changes the cached vector indexes; the
        patches are applied after COMMIT, under the same lock hold, so no reader sees a cache
        that disagrees with its version."""
        patches: list[_Patch] = []

        def attempt(conn: sqlite3.Connection) -> T:
            patches.clear()  # a retried attempt starts over
            return body(conn, patches)

        with self._lock:
            result = self._run(attempt, write=True)
            for patch in patches:
                key = (patch.kind, patch.partition)
                index = self._indexes.get(key)
                if index is None:
                    continue
                if index.version == patch.version - 1 and patch.apply_to(index):
                    index.version = patch.version
                else:
                    del self._indexes[key]
            return result

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        """Create what is missing and migrate older files, in this transaction; a file of a
        newer schema is refused before anything is changed."""
        has_meta = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone()
        row = (
            conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if has_meta
            else None
        )
        if row is not None and int(row["value"]) > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path!r} was written by a newer graphmem (schema {row['value']}, "
                f"this version reads {SCHEMA_VERSION})"
            )
        counted = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'partition_rows'"
        ).fetchone()
        for statement in _SCHEMA:
            conn.execute(statement)
        _migrate_memory_ids(conn)
        migrate_shared_tables(conn)
        if counted is None:  # a file from before the counts: count once
            for kind in (FACTS, EPISODES):
                conn.execute(
                    f"""INSERT OR REPLACE INTO partition_rows (partition, kind, n)
                        SELECT partition, '{kind}', count(*) FROM {kind} GROUP BY partition"""
                )
        if row is None or int(row["value"]) < SCHEMA_VERSION:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(SCHEMA_VERSION),),
            )
        dims = conn.execute("SELECT value FROM meta WHERE key = 'dims'").fetchone()
        self._dims = int(dims["value"]) if dims else None

    @staticmethod
    def _bump(conn: sqlite3.Connection, partition: str, kind: str) -> int:
        """Move a (partition, kind) version on; returns the new version."""
        return conn.execute(
            """INSERT INTO versions (partition, kind, version) VALUES (?, ?, 1)
               ON CONFLICT (partition, kind) DO UPDATE SET version = version + 1
               RETURNING version""",
            (partition, kind),
        ).fetchone()[0]

    @staticmethod
    def _version(conn: sqlite3.Connection, partition: str, kind: str) -> int:
        row = conn.execute(
            "SELECT version FROM versions WHERE partition = ? AND kind = ?", (partition, kind)
        ).fetchone()
        return int(row[0]) if row else 0

    def partition_version(self, partition: str) -> int:
        return self._run(lambda conn: self._version(conn, partition, WRITES), write=False)

    def _forget(self, partition: str | None = None) -> None:
        """Drop cached indexes (of one partition, or all) after deletes."""
        with self._lock:
            for key in [k for k in self._indexes if partition is None or k[1] == partition]:
                del self._indexes[key]

    # -- lifecycle -----------------------------------------------------------------------------
    def setup(self, dims: int) -> None:
        if not isinstance(dims, int) or dims <= 0:
            raise StoreError(f"dims must be a positive integer, got {dims!r}")

        def write(conn: sqlite3.Connection) -> None:
            self._create_schema(conn)
            if self._dims == dims:
                return
            if self._dims is not None and self._holds_vectors(conn):
                raise StoreError(
                    f"{self.path!r} holds {self._dims}-dimensional embeddings but the embedder "
                    f"makes {dims}-dimensional ones; use the same embedder, or a new database"
                )
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('dims', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(dims),),
            )

        self._run(write, write=True)
        self._dims = dims

    @staticmethod
    def _holds_vectors(conn: sqlite3.Connection) -> bool:
        return any(
            conn.execute(f"SELECT 1 FROM {table} WHERE embedding IS NOT NULL LIMIT 1").fetchone()
            for table in ("entities", "facts", "episodes")
        )

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._indexes.clear()
                self._conn.close()

    # -- vectors -------------------------------------------------------------------------------
    def _check_dims(
        self, conn: sqlite3.Connection, vectors: Iterable[Sequence[float] | None]
    ) -> None:
        """Refuse vectors of the wrong length before they are written (a mixed-dimension file
        cannot be searched). Without setup(), the first vector written fixes the dimension."""
        for vector in vectors:
            if vector is None:
                continue
            if self._dims is None:
                row = conn.execute("SELECT value FROM meta WHERE key = 'dims'").fetchone()
                if row is None:
                    conn.execute(
                        "INSERT INTO meta (key, value) VALUES ('dims', ?)", (str(len(vector)),)
                    )
                    self._dims = len(vector)
                else:
                    self._dims = int(row["value"])
            if len(vector) != self._dims:
                raise StoreError(
                    f"embedding has {len(vector)} dimensions, the store holds {self._dims}"
                )

    def _query_vector(self, vector: Sequence[float]) -> np.ndarray:
        q = np.asarray(vector, dtype=np.float32).reshape(-1)
        if self._dims is not None and q.size != self._dims:
            raise StoreError(f"query vector has {q.size} dimensions, the store holds {self._dims}")
        norm = float(np.linalg.norm(q))
        return q / norm if norm > 0 else q

    def _index(self, conn: sqlite3.Connection, kind: str, partition: str) -> _VectorIndex:
        """The cached vector index of (kind, partition), rebuilt when its version moved."""
        row = conn.execute(
            "SELECT version FROM versions WHERE partition = ? AND kind = ?", (partition, kind)
        ).fetchone()
        version = row["version"] if row else 0
        key = (kind, partition)
        index = self._indexes.get(key)
        if index is None or index.version != version:
            index = self._load_index(conn, kind, partition, version)
            self._indexes[key] = index
        self._indexes.move_to_end(key)
        total = sum(ix.nbytes for ix in self._indexes.values())
        while total > self._cache_bytes and len(self._indexes) > 1:
            _, evicted = self._indexes.popitem(last=False)
            total -= evicted.nbytes
        return index

    def _load_index(
        self, conn: sqlite3.Connection, kind: str, partition: str, version: int
    ) -> _VectorIndex:
        extra = {
            ENTITIES: "",
            FACTS: ", agent_id, run_id, current, source_id, target_id",
            EPISODES: ", agent_id, run_id",
        }
        cursor = conn.cursor()
        cursor.row_factory = None  # plain tuples: this can be 100k rows
        # No ORDER BY: SQLite would sort the blobs too; sorting the tuples here is far cheaper.
        rows = cursor.execute(
            f"SELECT seq, id, embedding{extra[kind]} FROM {kind} "
            "WHERE partition = ? AND embedding IS NOT NULL",
            (partition,),
        ).fetchall()
        dims = self._dims or (len(rows[0][2]) // 4 if rows else 1)
        rows = sorted((r for r in rows if len(r[2]) == 4 * dims), key=lambda r: r[0])
        index = _VectorIndex(
            version,
            dims,
            scoped=kind != ENTITIES,
            tracks_current=kind == FACTS,
            tracks_ends=kind == FACTS,
        )
        if rows:
            cols = list(zip(*rows, strict=True))
            matrix = np.frombuffer(b"".join(cols[2]), dtype=np.float32).reshape(len(rows), dims)
            index.append(
                cols[0],
                cols[1],
                matrix,
                agents=cols[3] if kind != ENTITIES else (),
                runs=cols[4] if kind != ENTITIES else (),
                current=cols[5] if kind == FACTS else (),
                sources=cols[6] if kind == FACTS else (),
                targets=cols[7] if kind == FACTS else (),
            )
        return index

    # -- row mapping ---------------------------------------------------------------------------
    # Models are validated (pydantic's core is faster than model_construct plus Python-side
    # parsing, and a corrupt row fails loudly instead of producing a broken model).
    @staticmethod
    def _episode(row: Sequence[Any]) -> Episode:
        return Episode(**_values(_EPISODE_FIELDS, row))

    @staticmethod
    def _entity(row: Sequence[Any], embedding: bytes | None = None) -> Entity:
        values = _values(_ENTITY_FIELDS, row)
        if embedding is not None:
            values["embedding"] = np.frombuffer(embedding, dtype=np.float32).tolist()
        return Entity(**values)

    @staticmethod
    def _fact(row: Sequence[Any], embedding: bytes | None = None) -> Fact:
        values = _values(_FACT_FIELDS, row)
        if embedding is not None:
            values["embedding"] = np.frombuffer(embedding, dtype=np.float32).tolist()
        return Fact(**values)

    def _facts(self, rows: Iterable[sqlite3.Row], with_embeddings: bool) -> list[Fact]:
        return [self._fact(r, r["embedding"] if with_embeddings else None) for r in rows]

    @staticmethod
    def _narrowing(scope: Scope, table: str = "") -> tuple[str, list[Any]]:
        """SQL (and parameters) for the scope's partition plus its agent/run narrowing."""
        prefix = f"{table}." if table else ""
        sql = f"{prefix}partition = ?"
        params: list[Any] = [scope.partition]
        if scope.agent_id is not None:
            sql += f" AND {prefix}agent_id = ?"
            params.append(scope.agent_id)
        if scope.run_id is not None:
            sql += f" AND {prefix}run_id = ?"
            params.append(scope.run_id)
        return sql, params

    @staticmethod
    def _in_order(items: dict[str, T], ids: Sequence[str]) -> list[T]:
        return [items[i] for i in dict.fromkeys(ids) if i in items]

    def _by_seq(self, conn: sqlite3.Connection, kind: str, seqs: Sequence[int]) -> dict[int, Any]:
        """Models of the given rows by seq (vector hits come back as seqs)."""
        fields, build = {
            ENTITIES: (_ENTITY_FIELDS, self._entity),
            FACTS: (_FACT_FIELDS, self._fact),
            EPISODES: (_EPISODE_FIELDS, self._episode),
        }[kind]
        rows = conn.execute(
            f"SELECT {_cols(fields)} FROM {kind} WHERE seq {_IN_JSON}", (_ids(seqs),)
        ).fetchall()
        return {row["seq"]: build(row) for row in rows}
