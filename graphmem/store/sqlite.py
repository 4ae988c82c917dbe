"""The embedded store: one SQLite file (or ":memory:"), no server.

Schema. Every row carries `partition` (the Scope's hard partition key) and every query filters
on it, so a guessed id never reaches another user's data. Fact ids are unique store-wide (so
locate_fact names the one partition holding a fact); other ids are unique per partition.

- meta(key, value): `schema_version`, and `dims`, the embedding dimension fixed by setup().
- versions(partition, kind, version): a counter per partition and kind (entities, facts,
  episodes), bumped in the same transaction as every write that changes what that kind's
  in-memory vector index holds. A cached index is used only while its version is current: one
  indexed lookup per read keeps several processes sharing the file correct. Kind `writes` is
  the partition_version of the store contract: bumped by every apply that upserts entities,
  adds facts or invalidates, and by deletes; apply refuses a batch planned against an older
  one (ConflictError), so two processes adding to one user at once cannot both plan against
  the same stale graph.
- episodes: raw messages, their status, and an optional float32 embedding blob.
- entities: one row per node, UNIQUE (partition, key); aliases as a JSON list.
- entity_keys(partition, key, entity_id): normalize_key() of each entity's key and aliases, so
  find_entities_by_key finds aliases through an index.
- facts: one row per edge; `current` is a generated column (invalid_at and expired_at NULL).
  Provenance is kept in order as a JSON list on the row (read with the fact) and, denormalised,
  in fact_episodes(partition, episode_id, fact_id) for facts_for_episodes.
- mentions(partition, episode_id, entity_id).
- facts_fts, episodes_fts: FTS5 tables (rowid = the owning row's `seq`) with two columns: a
  partition token, so a search only scores its own partition's matches, and a token string
  derived in Python (see graphmem.text). Words are NFKC-normalised and casefolded; runs of CJK
  characters (Han, kana, Hangul), which carry no spaces, are indexed as single characters plus
  overlapping bigrams and queried as bigrams (as Lucene's CJK analyzer does). So 王小明 in a
  stored fact is found by "王小明在哪里工作" (shared bigrams 王小, 小明); unicode61 alone makes
  a whole clause one token, and trigram cannot match 2-character names. Queries are never
  passed through raw: they become quoted tokens joined with OR.

Times are stored as fixed-width ISO-8601 UTC text ("2024-03-01T09:30:00.000000Z"), so text
order is time order and microseconds round-trip exactly. Embeddings are float32 blobs.

Concurrency. One connection (check_same_thread=False) guarded by an RLock, so a store can be
shared across threads. The file is in WAL mode (readers never block the writer). Every public
method is one transaction: writes start with BEGIN IMMEDIATE (take the write lock up front, so
no deadlock-prone read-to-write upgrade), reads with BEGIN (one consistent snapshot). SQLite's
busy_timeout waits for other processes' locks, and a bounded exponential backoff (about 10 s in
total) retries "database is locked"/SQLITE_BUSY, so lock contention never reaches the caller
unless it outlasts that; then, like every other sqlite3 error, it becomes a StoreError.

Vector search. Per partition and kind, an in-memory unit-normalised float32 matrix (plus scope
codes and current flags) is built on first use and cached (LRU, bounded in bytes). A search is
one matmul, a partial sort (np.partition) and a tie-aware sort of the top k; models are built
only for the k hits. This process's own writes patch the cached index in place (append rows,
flip `current`); another process's write moves the version past the cache's, and the next read
reloads. Measured on one user with 100k facts x 384 dims (CPU time, a shared 2-core machine):
search k=10 7 ms; an add followed by a search 9 ms (patched); a full reload 0.6 s.

Full-text search at scale: in a partition of 10k rows or more, query words found in half of
its rows or more are left out (counted within the partition: partition_rows, kept by triggers,
and capped per-partition term counts, so another user's data never changes which words one
user's search matches). FTS5's BM25 gives them an IDF of ~0 anyway, but scoring every row that
contains them cost 150-260 ms at 100k facts; without them it is 7-19 ms, same top scores.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import os
import sqlite3
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import numpy as np

from graphmem.errors import ConflictError, StoreError
from graphmem.models import Edge, Entity, Episode, EpisodeStatus, Fact, Scope, WriteBatch
from graphmem.normalize import normalize_key, to_utc
from graphmem.store.base import GraphStore, SeedHits, detection_probes
from graphmem.store.metadata_filter import Clauses, sqlite_lower, sqlite_where
from graphmem.text import fts_query_terms, fts_terms

T = TypeVar("T")

SCHEMA_VERSION = 1
# Below this many indexed rows every query token is matched; above it, tokens too common to
# score are left out (see SQLiteStore._informative).
PRUNE_COMMON_TOKENS_FROM = 10_000
RARE_SHARE = 0.05  # of an index's rows: see SQLiteStore._informative

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS versions (
        partition TEXT NOT NULL, kind TEXT NOT NULL, version INTEGER NOT NULL,
        PRIMARY KEY (partition, kind)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS episodes (
        seq INTEGER PRIMARY KEY,
        partition TEXT NOT NULL, id TEXT NOT NULL,
        user_id TEXT, agent_id TEXT, run_id TEXT,
        role TEXT NOT NULL, name TEXT, content TEXT NOT NULL,
        reference_time TEXT NOT NULL, created_at TEXT NOT NULL,
        status TEXT NOT NULL, error TEXT, infer INTEGER NOT NULL, metadata TEXT NOT NULL,
        embedding BLOB,
        UNIQUE (partition, id))""",
    """CREATE INDEX IF NOT EXISTS episodes_by_time
        ON episodes (partition, reference_time, created_at, id)""",
    """CREATE INDEX IF NOT EXISTS episodes_unprocessed
        ON episodes (partition, reference_time, created_at, id) WHERE status <> 'processed'""",
    """CREATE TABLE IF NOT EXISTS entities (
        seq INTEGER PRIMARY KEY,
        partition TEXT NOT NULL, id TEXT NOT NULL, user_id TEXT,
        name TEXT NOT NULL, key TEXT NOT NULL, type TEXT NOT NULL, aliases TEXT NOT NULL,
        embedding BLOB, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        UNIQUE (partition, id), UNIQUE (partition, key))""",
    """CREATE TABLE IF NOT EXISTS entity_keys (
        partition TEXT NOT NULL, key TEXT NOT NULL, entity_id TEXT NOT NULL,
        PRIMARY KEY (partition, key, entity_id)) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS entity_keys_by_entity ON entity_keys (partition, entity_id)",
    """CREATE TABLE IF NOT EXISTS facts (
        seq INTEGER PRIMARY KEY,
        partition TEXT NOT NULL, id TEXT NOT NULL,
        user_id TEXT, agent_id TEXT, run_id TEXT,
        source_id TEXT NOT NULL, source TEXT NOT NULL, relation TEXT NOT NULL,
        target_id TEXT NOT NULL, target TEXT NOT NULL, fact TEXT NOT NULL,
        embedding BLOB,
        valid_at TEXT, invalid_at TEXT, created_at TEXT NOT NULL, expired_at TEXT,
        episodes TEXT NOT NULL, confidence REAL NOT NULL, invalidated_by TEXT,
        metadata TEXT NOT NULL, memory_id TEXT,
        current INTEGER GENERATED ALWAYS AS (invalid_at IS NULL AND expired_at IS NULL) VIRTUAL,
        UNIQUE (id))""",
    # Covering indexes for expansion: a hop reads (source, target, id, created_at, current) of
    # every fact of its frontier entities from the index alone. A hub with thousands of facts
    # then costs no table look-ups (measured on 10k facts, a 25-hub frontier of 1,768 rows:
    # 17 ms with (partition, source_id) indexes, 4.7 ms with these). They replace the narrower
    # indexes of earlier files, which are dropped on open.
    "DROP INDEX IF EXISTS facts_by_source",
    "DROP INDEX IF EXISTS facts_by_target",
    """CREATE INDEX IF NOT EXISTS facts_from
        ON facts (partition, source_id, current, target_id, id, created_at)""",
    """CREATE INDEX IF NOT EXISTS facts_into
        ON facts (partition, target_id, current, source_id, id, created_at)""",
    "CREATE INDEX IF NOT EXISTS facts_by_created ON facts (partition, created_at, id)",
    """CREATE TABLE IF NOT EXISTS fact_episodes (
        partition TEXT NOT NULL, episode_id TEXT NOT NULL, fact_id TEXT NOT NULL,
        PRIMARY KEY (partition, episode_id, fact_id)) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS fact_episodes_by_fact ON fact_episodes (partition, fact_id)",
    """CREATE TABLE IF NOT EXISTS mentions (
        partition TEXT NOT NULL, episode_id TEXT NOT NULL, entity_id TEXT NOT NULL,
        PRIMARY KEY (partition, episode_id, entity_id)) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS mentions_by_entity ON mentions (partition, entity_id)",
    """CREATE VIRTUAL TABLE IF NOT EXISTS facts_fts
        USING fts5(part, text, tokenize = 'unicode61 remove_diacritics 2')""",
    """CREATE VIRTUAL TABLE IF NOT EXISTS episodes_fts
        USING fts5(part, text, tokenize = 'unicode61 remove_diacritics 2')""",
    # Rows per partition and kind, kept by triggers: which query words are too common to
    # score is decided within the searching user's partition (see _informative).
    """CREATE TABLE IF NOT EXISTS partition_rows (
        partition TEXT NOT NULL, kind TEXT NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (partition, kind)) WITHOUT ROWID""",
    *(
        f"""CREATE TRIGGER IF NOT EXISTS {kind}_counted AFTER INSERT ON {kind} BEGIN
            INSERT INTO partition_rows (partition, kind, n) VALUES (new.partition, '{kind}', 1)
            ON CONFLICT (partition, kind) DO UPDATE SET n = n + 1; END"""
        for kind in ("facts", "episodes")
    ),
    *(
        f"""CREATE TRIGGER IF NOT EXISTS {kind}_uncounted AFTER DELETE ON {kind} BEGIN
            UPDATE partition_rows SET n = n - 1
            WHERE partition = old.partition AND kind = '{kind}'; END"""
        for kind in ("facts", "episodes")
    ),
    "DROP TABLE IF EXISTS facts_vocab",
    "DROP TABLE IF EXISTS episodes_vocab",
)

# Column lists, in the order the row-to-model helpers read them.
_EPISODE_FIELDS = (
    "seq", "partition", "id", "user_id", "agent_id", "run_id", "role", "name", "content",
    "reference_time", "created_at", "status", "error", "infer", "metadata",
)
_ENTITY_FIELDS = (
    "seq", "partition", "id", "user_id", "name", "key", "type", "aliases", "created_at",
    "updated_at",
)
_FACT_FIELDS = (
    "seq", "partition", "id", "user_id", "agent_id", "run_id", "source_id", "source",
    "relation", "target_id", "target", "fact", "valid_at", "invalid_at", "created_at",
    "expired_at", "episodes", "confidence", "invalidated_by", "metadata", "memory_id",
)
_TIME_FIELDS = ("reference_time", "created_at", "updated_at", "valid_at", "invalid_at",
                "expired_at")
_JSON_FIELDS = ("aliases", "episodes", "metadata")

# An id list is bound as ONE JSON parameter, so lists of any length stay within SQLite's
# variable limit and the statement text never changes.
_IN_JSON = "IN (SELECT value FROM json_each(?))"

# Kinds of cached vector index; each has its own version counter per partition.
ENTITIES, FACTS, EPISODES = "entities", "facts", "episodes"
_KINDS = (ENTITIES, FACTS, EPISODES)
WRITES = "writes"  # the partition_version counter (optimistic concurrency), not a cache
_COUNT_KEYS = ("entities", "facts", "current_facts", "episodes")


# -- small conversions ------------------------------------------------------------------------
def _cols(fields: Sequence[str], alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + f for f in fields)


def _ts(value: datetime | None) -> str | None:
    """Fixed-width UTC text, so that text order is time order (naive times are taken as UTC)."""
    if value is None:
        return None
    return to_utc(value).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _ids(values: Iterable[Any]) -> str:
    return json.dumps(list(dict.fromkeys(values)))


def _blob(vector: Sequence[float] | None) -> bytes | None:
    if vector is None:
        return None
    return np.asarray(vector, dtype=np.float32).tobytes()


def _matvec(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """matrix @ vector on the calling thread. numpy's `@` hands a matrix-vector product to
    OpenBLAS's thread pool; on a busy 2-core machine (the embedder's threads, other processes)
    a 10k x 384 scan then waited ~6 ms for a descheduled worker instead of taking 0.5 ms.
    einsum without `optimize` never calls BLAS and has no pool to wait for."""
    return np.einsum("ij,j->i", matrix, vector)


def _values(fields: Sequence[str], row: Sequence[Any]) -> dict[str, Any]:
    """A row as model field values: times parsed, JSON decoded, `seq` and extras dropped.
    (A search reads ~400 rows, so this is kept lean: positions are worked out once per
    column list, and the usual empty JSON values skip the decoder.)"""
    names, times, jsons = _row_plan(tuple(fields))
    values = list(row)[1 : len(names) + 1]
    for i in times:
        text = values[i]
        if text is not None:
            values[i] = _fromiso(text)
    for i in jsons:
        text = values[i]
        values[i] = [] if text == "[]" else {} if text == "{}" else json.loads(text)
    return dict(zip(names, values, strict=True))


_fromiso = datetime.fromisoformat


@functools.cache
def _row_plan(fields: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[int, ...], tuple[int, ...]]:
    """Field names after `seq` (always the first column), and the positions among them of
    the time and JSON columns."""
    assert fields[0] == "seq", fields
    names = fields[1:]
    times = tuple(i for i, name in enumerate(names) if name in _TIME_FIELDS)
    jsons = tuple(i for i, name in enumerate(names) if name in _JSON_FIELDS)
    return names, times, jsons


def _partition_token(partition: str) -> str:
    """One FTS token standing for a partition: letters and digits only, whatever the ids."""
    return "p" + hashlib.blake2b(partition.encode("utf-8"), digest_size=12).hexdigest()


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


# -- full-text tokens (graphmem.text: the tokenizer shared with the Neo4j store) --------------
def _doc_tokens(text: str) -> str:
    """FTS5 document text: the index tokens of graphmem.text.fts_terms, space-separated."""
    return " ".join(fts_terms(text))


_query_tokens = fts_query_terms


def _match_expression(partition: str, tokens: Sequence[str]) -> str:
    """A safe FTS5 MATCH expression: the partition's token AND any of the tokens, each quoted.

    Tokens contain only letters and digits, so quoting cannot be escaped; the doubling of '"'
    is there for defence in depth.
    """
    words = " OR ".join('"' + t.replace('"', '""') + '"' for t in tokens)
    return f'part : "{_partition_token(partition)}" AND text : ({words})'


# -- vector index -----------------------------------------------------------------------------
def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero); embedders already normalise, so the
    usual case is a cheap check and no copy."""
    norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix))
    if np.allclose(norms, 1.0, atol=1e-4):
        return matrix
    norms[norms == 0] = 1.0
    return matrix / norms[:, None]


class _Codes:
    """Categorical codes of a string column, so scope filtering is an integer comparison."""

    def __init__(self) -> None:
        self.table: dict[str | None, int] = {}
        self.codes = np.empty(0, dtype=np.int32)

    def extend(self, values: Sequence[str | None]) -> None:
        new = np.fromiter(
            (self.table.setdefault(v, len(self.table)) for v in values),
            dtype=np.int32,
            count=len(values),
        )
        self.codes = np.concatenate([self.codes, new])

    def keep(self, rows: np.ndarray) -> None:
        """Keep only the rows where `rows` (a boolean mask) is True."""
        self.codes = self.codes[rows]

    def equals(self, value: str) -> np.ndarray:
        code = self.table.get(value)
        if code is None:
            return np.zeros(len(self.codes), dtype=bool)
        return self.codes == code


class _VectorIndex:
    """Unit-normalised embeddings of one kind in one partition, with what filters need.

    Rows are in ascending `seq` order, so seqs are found with searchsorted. The matrix keeps
    spare capacity, so appending this process's own new rows costs O(new rows), not a copy.
    """

    def __init__(self, version: int, dims: int, *, scoped: bool, tracks_current: bool) -> None:
        self.version = version
        self.dims = dims
        self.n = 0
        self.seqs = np.empty(0, dtype=np.int64)
        self.ids: list[str] = []
        self._buf = np.empty((0, dims), dtype=np.float32)
        self.agents = _Codes() if scoped else None
        self.runs = _Codes() if scoped else None
        self.current = np.empty(0, dtype=bool) if tracks_current else None

    @property
    def matrix(self) -> np.ndarray:
        return self._buf[: self.n]

    @property
    def nbytes(self) -> int:
        return int(self._buf.nbytes) + 80 * self.n

    def append(
        self,
        seqs: Sequence[int],
        ids: Sequence[str],
        vectors: np.ndarray,
        agents: Sequence[str | None] = (),
        runs: Sequence[str | None] = (),
        current: Sequence[bool] = (),
    ) -> bool:
        """Add rows (seqs ascending, after every seq held); False when that order would break."""
        k = len(seqs)
        if k == 0:
            return True
        if (self.n and seqs[0] <= self.seqs[-1]) or any(
            a >= b for a, b in zip(seqs, seqs[1:], strict=False)
        ):
            return False
        if self.n + k > len(self._buf):
            grown = np.empty((max(self.n + k, 2 * len(self._buf), 64), self.dims), np.float32)
            grown[: self.n] = self._buf[: self.n]
            self._buf = grown
        self._buf[self.n : self.n + k] = _unit_rows(vectors)
        self.n += k
        self.seqs = np.concatenate([self.seqs, np.asarray(seqs, dtype=np.int64)])
        self.ids.extend(ids)
        if self.agents is not None and self.runs is not None:
            self.agents.extend(agents)
            self.runs.extend(runs)
        if self.current is not None:
            self.current = np.concatenate([self.current, np.asarray(current, dtype=bool)])
        return True

    def rows_of(self, seqs: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """(positions, found) of the given seqs; positions are only meaningful where found."""
        wanted = np.asarray(seqs, dtype=np.int64)
        pos = np.searchsorted(self.seqs, wanted)
        pos = np.minimum(pos, max(self.n - 1, 0))
        found = (self.seqs[pos] == wanted) if self.n else np.zeros(len(wanted), dtype=bool)
        return pos, found

    def replace(self, seq: int, vector: Sequence[float]) -> bool:
        pos, found = self.rows_of([seq])
        if not found[0]:
            return False
        self._buf[pos[0]] = _unit_rows(np.asarray([vector], dtype=np.float32))[0]
        return True

    def remove(self, seqs: Sequence[int]) -> None:
        """Drop deleted rows (one copy of the matrix, no reload from the database)."""
        pos, found = self.rows_of(seqs)
        if not found.any():
            return
        keep = np.ones(self.n, dtype=bool)
        keep[pos[found]] = False
        self._buf = self._buf[: self.n][keep]
        self.n = int(keep.sum())
        self.seqs = self.seqs[keep]
        self.ids = [i for i, k in zip(self.ids, keep, strict=True) if k]
        if self.agents is not None and self.runs is not None:
            self.agents.keep(keep)
            self.runs.keep(keep)
        if self.current is not None:
            self.current = self.current[keep]

    def end(self, seqs: Sequence[int]) -> None:
        """Mark facts no longer current (rows without an embedding are simply not held)."""
        pos, found = self.rows_of(seqs)
        if self.current is not None:
            self.current[pos[found]] = False

    def mask(self, scope: Scope | None, include_invalid: bool = True) -> np.ndarray:
        """Rows visible in the scope's narrowing (and current unless include_invalid)."""
        if self.current is not None and not include_invalid:
            mask = self.current.copy()
        else:
            mask = np.ones(self.n, dtype=bool)
        if scope is not None and self.agents is not None and self.runs is not None:
            if scope.agent_id is not None:
                mask &= self.agents.equals(scope.agent_id)
            if scope.run_id is not None:
                mask &= self.runs.equals(scope.run_id)
        return mask

    def top_k(self, query: np.ndarray, k: int, mask: np.ndarray) -> list[tuple[int, float]]:
        """(seq, cosine) of the k best rows under the mask, best first, ties by id.

        np.partition finds the k-th best score (linear time); every row scoring at least that
        much is kept, so rows tied at the boundary are decided by id, not by partition order.
        """
        candidates = np.flatnonzero(mask)
        if k <= 0 or candidates.size == 0:
            return []
        scores = np.clip(_matvec(self.matrix, query), -1.0, 1.0)[candidates]
        if candidates.size > k:
            kth = np.partition(scores, candidates.size - k)[candidates.size - k]
            keep = np.flatnonzero(scores >= kth)
            candidates, scores = candidates[keep], scores[keep]
        order = sorted(
            range(candidates.size), key=lambda i: (-float(scores[i]), self.ids[candidates[i]])
        )[:k]
        return [(int(self.seqs[candidates[i]]), float(scores[i])) for i in order]

    def similarities(self, seqs: Sequence[int], query: np.ndarray) -> np.ndarray:
        """Cosine of each given row to the query; 0.0 for rows without an embedding."""
        pos, found = self.rows_of(seqs)
        out = np.zeros(len(pos), dtype=np.float64)
        if found.any():
            out[found] = np.clip(_matvec(self._buf[pos[found]], query), -1.0, 1.0)
        return out


@dataclass
class _Patch:
    """How one committed write changes one cached index, applied after COMMIT (and only if the
    cache was exactly one version behind, i.e. nothing else wrote in between)."""

    kind: str
    partition: str
    version: int = 0  # the version this write bumped the counter to
    # New rows: (seq, id, vector, agent_id, run_id, current).
    appends: list[tuple[int, str, Sequence[float], str | None, str | None, bool]] = field(
        default_factory=list
    )
    # Rows whose vector is set, new or not (entity upserts): (seq, id, vector).
    upserts: list[tuple[int, str, Sequence[float]]] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)  # facts no longer current
    removed: list[int] = field(default_factory=list)  # rows deleted

    def apply_to(self, index: _VectorIndex) -> bool:
        """Patch the index; False when it cannot be (the caller then drops it)."""
        rows = list(self.appends)
        for seq, id_, vector in self.upserts:
            if not index.replace(seq, vector):
                rows.append((seq, id_, vector, None, None, True))
        if rows:
            seqs, ids, vectors, agents, runs, current = zip(*rows, strict=True)
            matrix = np.asarray(vectors, dtype=np.float32).reshape(len(rows), index.dims)
            if not index.append(seqs, ids, matrix, agents, runs, current):
                return False
        index.end(self.ended)
        index.remove(self.removed)
        return True


# -- the store --------------------------------------------------------------------------------
class SQLiteStore(GraphStore):
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
        counted = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'partition_rows'"
        ).fetchone()
        for statement in _SCHEMA:
            conn.execute(statement)
        _migrate_memory_ids(conn)
        if counted is None:  # a file from before the counts: count once
            for kind in (FACTS, EPISODES):
                conn.execute(
                    f"""INSERT OR REPLACE INTO partition_rows (partition, kind, n)
                        SELECT partition, '{kind}', count(*) FROM {kind} GROUP BY partition"""
                )
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        elif int(row["value"]) > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path!r} was written by a newer graphmem (schema {row['value']}, "
                f"this version reads {SCHEMA_VERSION})"
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
        extra = {ENTITIES: "", FACTS: ", agent_id, run_id, current", EPISODES: ", agent_id, run_id"}
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
            version, dims, scoped=kind != ENTITIES, tracks_current=kind == FACTS
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

    def _by_seq(
        self, conn: sqlite3.Connection, kind: str, seqs: Sequence[int]
    ) -> dict[int, Any]:
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

    def _vector_search(
        self,
        kind: str,
        partition: str,
        vector: Sequence[float],
        k: int,
        scope: Scope | None = None,
        include_invalid: bool = True,
    ) -> list[tuple[Any, float]]:
        return self._run(
            self._vector_reader(kind, partition, vector, k, scope, include_invalid), write=False
        )

    def _vector_reader(
        self,
        kind: str,
        partition: str,
        vector: Sequence[float],
        k: int,
        scope: Scope | None = None,
        include_invalid: bool = True,
    ) -> Callable[[sqlite3.Connection], list[tuple[Any, float]]]:
        """The body of a vector search, to run in a transaction of the caller's choosing."""
        if k <= 0:
            return lambda conn: []
        query = self._query_vector(vector)

        def read(conn: sqlite3.Connection) -> list[tuple[Any, float]]:
            index = self._index(conn, kind, partition)
            hits = index.top_k(query, k, index.mask(scope, include_invalid))
            models = self._by_seq(conn, kind, [seq for seq, _ in hits])
            return [(models[seq], score) for seq, score in hits if seq in models]

        return read

    @staticmethod
    def _informative(
        conn: sqlite3.Connection, kind: str, partition: str, tokens: list[str]
    ) -> list[str]:
        """The tokens worth matching: in a large partition, those in under half of its rows,
        and only the rare ones (in under 1/20 of its rows) when the query has any.

        Counted within the searching user's partition, so another user's data never changes
        which words one user's search matches (the counts of a shared fts5vocab table did).
        FTS5's BM25 gives a term found in half the rows or more an IDF of ~0, yet SQLite would
        score and join every row containing it (160 ms for a word in all of 100k facts).
        Leaving it out only drops rows that match nothing else. A term in 1/20 of the rows or
        more ("at", "works" in "who works at Reta Group?") still costs thousands of joined
        rows (54 ms at 48k facts, 3.4 ms with "reta" alone) while the rare term decides the
        top: with one in the query, the common ones are dropped. Small partitions keep every
        token. Counting stops at the cut (LIMIT), so a common word costs at most that many
        index steps. If every token is very common, the rarest one stays.
        """
        row = conn.execute(
            "SELECT n FROM partition_rows WHERE partition = ? AND kind = ?", (partition, kind)
        ).fetchone()
        rows = int(row[0]) if row else 0
        if rows < PRUNE_COMMON_TOKENS_FROM:
            return tokens
        part = _partition_token(partition)

        def count(token: str, cap: int) -> int:
            match = f'part : "{part}" AND text : "{token}"'
            return conn.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM {kind}_fts WHERE {kind}_fts MATCH ? "
                "LIMIT ?)",
                (match, cap),
            ).fetchone()[0]

        rare_cap = max(1, math.ceil(RARE_SHARE * rows))
        counts = {t: count(t, rare_cap) for t in tokens}
        rare = [t for t in tokens if 0 < counts[t] < rare_cap]
        if rare:
            return rare
        half = max(1, math.ceil(rows / 2))
        counts = {t: count(t, half) if c >= rare_cap else c for t, c in counts.items()}
        found = {t: c for t, c in counts.items() if c > 0}
        kept = [t for t in tokens if 0 < counts[t] < half]
        if kept or not found:
            return kept
        return [min(found, key=lambda t: (found[t], t))]

    def _text_search(
        self, kind: str, scope: Scope, query: str, k: int, current_only: bool
    ) -> list[tuple[Any, float]]:
        return self._run(self._text_reader(kind, scope, query, k, current_only), write=False)

    def _text_reader(
        self, kind: str, scope: Scope, query: str, k: int, current_only: bool
    ) -> Callable[[sqlite3.Connection], list[tuple[Any, float]]]:
        """The body of a full-text search, to run in a transaction of the caller's choosing."""
        tokens = _query_tokens(query)
        if not tokens or k <= 0:
            return lambda conn: []
        fields, build = (
            (_FACT_FIELDS, self._fact) if kind == FACTS else (_EPISODE_FIELDS, self._episode)
        )
        where, params = self._narrowing(scope, "t")
        if current_only:
            where += " AND t.current"

        def read(conn: sqlite3.Connection) -> list[tuple[Any, float]]:
            useful = self._informative(conn, kind, scope.partition, tokens)
            if not useful:
                return []
            match = _match_expression(scope.partition, useful)
            # bm25 weights: the partition column scores nothing, it only filters.
            rows = conn.execute(
                f"""SELECT {_cols(fields, 't')}, -bm25({kind}_fts, 0.0, 1.0) AS score
                    FROM {kind}_fts JOIN {kind} t ON t.seq = {kind}_fts.rowid
                    WHERE {kind}_fts MATCH ? AND {where}
                    ORDER BY score DESC, t.id LIMIT ?""",
                [match, *params, k],
            ).fetchall()
            return [(build(r), float(r["score"])) for r in rows]

        return read

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
        """The four first-stage lists in one read transaction (one snapshot, one BEGIN)."""
        readers = [
            self._vector_reader(FACTS, scope.partition, vector, vector_k, scope, include_invalid),
            self._text_reader(FACTS, scope, query, text_k, current_only=not include_invalid),
        ]
        if episodes:
            readers += [
                self._vector_reader(EPISODES, scope.partition, vector, vector_k, scope),
                self._text_reader(
                    EPISODES, scope, episode_query or query, text_k, current_only=False
                ),
            ]
        lists = self._run(lambda conn: [read(conn) for read in readers], write=False)
        hits = SeedHits(facts_vector=lists[0], facts_text=lists[1])
        if episodes:
            hits.episodes_vector, hits.episodes_text = lists[2], lists[3]
        return hits

    # -- episodes ------------------------------------------------------------------------------
    def add_episodes(
        self,
        episodes: Sequence[Episode],
        embeddings: Sequence[Sequence[float]] | None = None,
    ) -> None:
        """Insert episodes and commit at once. An id already stored in the partition is left
        as it is (so retrying an add after a timeout is harmless)."""
        if not episodes:
            return
        if embeddings is not None and len(embeddings) != len(episodes):
            raise StoreError(
                f"add_episodes got {len(episodes)} episodes but {len(embeddings)} embeddings"
            )
        vectors = list(embeddings) if embeddings is not None else [None] * len(episodes)

        def write(conn: sqlite3.Connection, patches: list[_Patch]) -> None:
            self._check_dims(conn, vectors)
            added: dict[str, list[tuple[Any, ...]]] = {}
            for ep, vector in zip(episodes, vectors, strict=True):
                cursor = conn.execute(
                    """INSERT INTO episodes (partition, id, user_id, agent_id, run_id, role, name,
                           content, reference_time, created_at, status, error, infer, metadata,
                           embedding)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (partition, id) DO NOTHING""",
                    (
                        ep.partition, ep.id, ep.user_id, ep.agent_id, ep.run_id, ep.role, ep.name,
                        ep.content, _ts(ep.reference_time), _ts(ep.created_at),
                        EpisodeStatus(ep.status).value, ep.error, int(ep.infer),
                        _json(ep.metadata), _blob(vector),
                    ),
                )
                rows = added.setdefault(ep.partition, [])
                if not cursor.rowcount:
                    continue
                conn.execute(
                    "INSERT INTO episodes_fts (rowid, part, text) VALUES (?, ?, ?)",
                    (cursor.lastrowid, _partition_token(ep.partition), _doc_tokens(ep.content)),
                )
                if vector is not None:
                    rows.append((cursor.lastrowid, ep.id, vector, ep.agent_id, ep.run_id, True))
            for partition, rows in added.items():
                version = self._bump(conn, partition, EPISODES)
                patches.append(_Patch(EPISODES, partition, version, appends=rows))

        self._write(write)

    def get_episodes(self, partition: str, ids: Sequence[str]) -> list[Episode]:
        if not ids:
            return []

        def read(conn: sqlite3.Connection) -> list[Episode]:
            rows = conn.execute(
                f"""SELECT {_cols(_EPISODE_FIELDS)} FROM episodes
                    WHERE partition = ? AND id {_IN_JSON}""",
                (partition, _ids(ids)),
            ).fetchall()
            return self._in_order({r["id"]: self._episode(r) for r in rows}, ids)

        return self._run(read, write=False)

    def list_episodes(
        self,
        scope: Scope,
        *,
        status: EpisodeStatus | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[Episode]:
        where, params = self._narrowing(scope)
        if status is not None:
            where += " AND status = ?"
            params.append(EpisodeStatus(status).value)
        direction = "DESC" if newest_first else "ASC"
        params.append(-1 if limit is None else max(0, limit))

        def read(conn: sqlite3.Connection) -> list[Episode]:
            rows = conn.execute(
                f"""SELECT {_cols(_EPISODE_FIELDS)} FROM episodes WHERE {where}
                    ORDER BY reference_time {direction}, created_at {direction}, id {direction}
                    LIMIT ?""",
                params,
            ).fetchall()
            return [self._episode(r) for r in rows]

        return self._run(read, write=False)

    def pending_episodes(self, partition: str | None = None) -> list[Episode]:
        where, params = "status <> 'processed'", []
        if partition is not None:
            where += " AND partition = ?"
            params.append(partition)

        def read(conn: sqlite3.Connection) -> list[Episode]:
            rows = conn.execute(
                f"""SELECT {_cols(_EPISODE_FIELDS)} FROM episodes WHERE {where}
                    ORDER BY reference_time, created_at, partition, id""",
                params,
            ).fetchall()
            return [self._episode(r) for r in rows]

        return self._run(read, write=False)

    def set_episode_status(
        self, partition: str, episode_id: str, status: EpisodeStatus, error: str | None = None
    ) -> None:
        """Unknown ids are ignored (the episode may have been deleted meanwhile)."""
        value = EpisodeStatus(status).value

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE episodes SET status = ?, error = ? WHERE partition = ? AND id = ?",
                (value, error, partition, episode_id),
            )

        self._run(write, write=True)

    def search_episodes_text(
        self, scope: Scope, query: str, k: int
    ) -> list[tuple[Episode, float]]:
        return self._text_search(EPISODES, scope, query, k, current_only=False)

    def search_episodes_vector(
        self, scope: Scope, vector: Sequence[float], k: int
    ) -> list[tuple[Episode, float]]:
        return self._vector_search(EPISODES, scope.partition, vector, k, scope)

    # -- entities ------------------------------------------------------------------------------
    def get_entities(
        self, partition: str, ids: Sequence[str], *, with_embeddings: bool = False
    ) -> list[Entity]:
        if not ids:
            return []

        def read(conn: sqlite3.Connection) -> list[Entity]:
            rows = conn.execute(
                f"""SELECT {_cols(_ENTITY_FIELDS)}, embedding FROM entities
                    WHERE partition = ? AND id {_IN_JSON}""",
                (partition, _ids(ids)),
            ).fetchall()
            found = {
                r["id"]: self._entity(r, r["embedding"] if with_embeddings else None)
                for r in rows
            }
            return self._in_order(found, ids)

        return self._run(read, write=False)

    def find_entities_by_key(self, partition: str, keys: Sequence[str]) -> list[Entity]:
        """Keys are normalised with normalize_key on both sides, so 'Ana' finds key 'ana'."""
        wanted = [k for k in dict.fromkeys(normalize_key(k) for k in keys) if k]
        if not wanted:
            return []

        def read(conn: sqlite3.Connection) -> list[Entity]:
            rows = conn.execute(
                f"""SELECT {_cols(_ENTITY_FIELDS)} FROM entities WHERE partition = ? AND id IN (
                        SELECT entity_id FROM entity_keys WHERE partition = ? AND key {_IN_JSON})
                    ORDER BY created_at, id""",
                (partition, partition, json.dumps(wanted)),
            ).fetchall()
            return [self._entity(r) for r in rows]

        return self._run(read, write=False)

    def list_entities(self, partition: str) -> list[Entity]:
        def read(conn: sqlite3.Connection) -> list[Entity]:
            rows = conn.execute(
                f"""SELECT {_cols(_ENTITY_FIELDS)} FROM entities WHERE partition = ?
                    ORDER BY created_at, id""",
                (partition,),
            ).fetchall()
            return [self._entity(r) for r in rows]

        return self._run(read, write=False)

    def search_entities_vector(
        self, partition: str, vector: Sequence[float], k: int
    ) -> list[tuple[Entity, float]]:
        return self._vector_search(ENTITIES, partition, vector, k)

    # -- facts ---------------------------------------------------------------------------------
    def get_facts(
        self, partition: str, ids: Sequence[str], *, with_embeddings: bool = False
    ) -> list[Fact]:
        if not ids:
            return []

        def read(conn: sqlite3.Connection) -> list[Fact]:
            rows = conn.execute(
                f"""SELECT {_cols(_FACT_FIELDS)}, embedding FROM facts
                    WHERE partition = ? AND id {_IN_JSON}""",
                (partition, _ids(ids)),
            ).fetchall()
            return self._in_order({f.id: f for f in self._facts(rows, with_embeddings)}, ids)

        return self._run(read, write=False)

    def locate_fact(self, fact_id: str) -> str | None:
        def read(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT partition FROM facts WHERE id = ?", (fact_id,)).fetchone()
            return row["partition"] if row else None

        return self._run(read, write=False)

    def list_facts(
        self, scope: Scope, *, include_invalid: bool = False, limit: int | None = None
    ) -> list[Fact]:
        where, params = self._narrowing(scope)
        if not include_invalid:
            where += " AND current"

        def read(conn: sqlite3.Connection) -> list[Fact]:
            if limit is None:
                sql = f"SELECT {_cols(_FACT_FIELDS)} FROM facts WHERE {where}"
                rows = conn.execute(sql + " ORDER BY created_at, id", params).fetchall()
            else:  # the newest `limit`, read newest first, returned oldest first
                sql = f"""SELECT {_cols(_FACT_FIELDS)} FROM facts WHERE {where}
                          ORDER BY created_at DESC, id DESC LIMIT ?"""
                rows = conn.execute(sql, [*params, limit]).fetchall()[::-1]
            return [self._fact(r) for r in rows]

        return self._run(read, write=False)

    def facts_for_entities(
        self,
        partition: str,
        entity_ids: Sequence[str],
        *,
        include_invalid: bool = False,
        with_embeddings: bool = False,
    ) -> list[Fact]:
        if not entity_ids:
            return []
        cols = _cols(_FACT_FIELDS) + ", embedding"
        current = "" if include_invalid else " AND current"
        ids = _ids(entity_ids)

        def read(conn: sqlite3.Connection) -> list[Fact]:
            # UNION of two index lookups (by source, by target); an OR would scan the partition.
            rows = conn.execute(
                f"""SELECT {cols} FROM facts
                      WHERE partition = ? AND source_id {_IN_JSON}{current}
                    UNION
                    SELECT {cols} FROM facts
                      WHERE partition = ? AND target_id {_IN_JSON}{current}""",
                (partition, ids, partition, ids),
            ).fetchall()
            return _by_creation(self._facts(rows, with_embeddings))

        return self._run(read, write=False)

    def facts_for_detection(
        self,
        partition: str,
        *,
        pairs: Sequence[tuple[str, str]] = (),
        ends: Sequence[tuple[str, str, str]] = (),
    ) -> list[Fact]:
        # Each probe is one index seek (json_each is the outer loop), so a hub's other facts
        # are never read.
        by_source, by_target = detection_probes(pairs, ends)
        if not by_source and not by_target:
            return []
        cols = _cols(_FACT_FIELDS, "f") + ", f.embedding"

        def read(conn: sqlite3.Connection) -> list[Fact]:
            rows = conn.execute(
                f"""SELECT {cols} FROM json_each(?) j CROSS JOIN facts f
                      WHERE f.partition = ? AND f.current
                        AND f.source_id = json_extract(j.value, '$[0]')
                        AND (json_extract(j.value, '$[1]') IS NULL
                             OR f.relation = json_extract(j.value, '$[1]'))
                        AND (json_extract(j.value, '$[2]') IS NULL
                             OR f.target_id = json_extract(j.value, '$[2]'))
                    UNION
                    SELECT {cols} FROM json_each(?) j CROSS JOIN facts f
                      WHERE f.partition = ? AND f.current
                        AND f.target_id = json_extract(j.value, '$[0]')
                        AND f.relation = json_extract(j.value, '$[1]')""",
                (json.dumps(by_source), partition, json.dumps(by_target), partition),
            ).fetchall()
            return _by_creation(self._facts(rows, with_embeddings=True))

        return self._run(read, write=False)

    def facts_for_episodes(self, scope: Scope, episode_ids: Sequence[str]) -> list[Fact]:
        if not episode_ids:
            return []
        where, params = self._narrowing(scope, "f")

        def read(conn: sqlite3.Connection) -> list[Fact]:
            # CROSS JOIN keeps provenance as the outer loop (SQLite's join-order hint), so the
            # facts are found by id rather than by scanning the partition. A fact named by two
            # of the episodes comes twice (DISTINCT would cost a scan): deduplicated below.
            rows = conn.execute(
                f"""SELECT {_cols(_FACT_FIELDS, 'f')}
                    FROM fact_episodes fe CROSS JOIN facts f ON f.id = fe.fact_id
                    WHERE fe.partition = ? AND fe.episode_id {_IN_JSON} AND {where}""",
                [scope.partition, _ids(episode_ids), *params],
            ).fetchall()
            unique = {r["id"]: r for r in rows}
            return _by_creation([self._fact(r) for r in unique.values()])

        return self._run(read, write=False)

    def search_facts_vector(
        self,
        scope: Scope,
        vector: Sequence[float],
        k: int,
        *,
        include_invalid: bool = False,
    ) -> list[tuple[Fact, float]]:
        return self._vector_search(FACTS, scope.partition, vector, k, scope, include_invalid)

    def search_facts_text(
        self, scope: Scope, query: str, k: int, *, include_invalid: bool = False
    ) -> list[tuple[Fact, float]]:
        return self._text_search(FACTS, scope, query, k, current_only=not include_invalid)

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
        """Breadth-first: one indexed query per hop fetches the frontier's facts as light
        tuples; the fan-out choice is a stable numpy sort, and similarities come from the
        cached fact matrix (no blobs are read). A fact reached at an earlier hop is not a
        candidate again, so each entity's `fanout` goes to new facts. Only the facts `select`
        keeps are read in full (~20 us each; a 3-hop walk at 10k facts reaches ~330).

        SQL or networkx? Measured on a synthetic partition of 10k facts over 2k entities
        (power-law degrees, so some hubs), 5 random seeds, hops=2, fanout=50 (~790 facts
        reached), CPU time per call, same fan-out code and the same final fetch for both:
        the walk alone took 5-10 ms in SQL and 3-5 ms over a cached networkx MultiGraph; whole
        calls took 23-28 ms vs 20-23 ms, most of it building the ~790 Fact models. But the
        networkx graph must be rebuilt after every write to the partition (45-50 ms at 10k
        facts, growing linearly) or kept in sync by a second patching layer, and it is a second
        in-memory copy of the graph. Since adds and searches interleave, SQL is kept.
        """
        seeds = list(dict.fromkeys(entity_ids))
        if hops <= 0 or fanout <= 0 or not seeds:
            return []
        query = self._query_vector(vector) if vector is not None else None
        where, params = self._narrowing(scope)
        if not include_invalid:
            where += " AND current"
        # `via` is the frontier entity a fact was reached through; a fact joining two frontier
        # entities comes once for each.
        # UNION ALL (no temp b-tree over thousands of hub rows: 17 -> 4 ms for a 4.5k-row
        # frontier at 48k facts); only a self-loop fact can come twice, deduplicated below.
        # created_at is read only when it orders the fan-out (no query vector).
        extra = ", created_at" if query is None else ""
        step_sql = f"""
            SELECT source_id AS via, seq, source_id, target_id, id{extra} FROM facts
              WHERE {where} AND source_id {_IN_JSON}
            UNION ALL
            SELECT target_id AS via, seq, source_id, target_id, id{extra} FROM facts
              WHERE {where} AND target_id {_IN_JSON}"""

        def read(conn: sqlite3.Connection) -> list[tuple[Fact, float]]:
            index = self._index(conn, FACTS, scope.partition) if query is not None else None
            cursor = conn.cursor()
            cursor.row_factory = None
            visited = set(seeds)
            frontier = seeds
            reached: dict[int, float] = {}  # seq -> similarity to the query vector
            edges: dict[int, Edge] = {}
            for _ in range(hops):
                if not frontier:
                    break
                ids = json.dumps(frontier)
                rows = [
                    r
                    for r in cursor.execute(step_sql, [*params, ids, *params, ids]).fetchall()
                    if r[1] not in reached
                ]
                if not rows:
                    break
                if any(r[2] == r[3] for r in rows):
                    rows = list(dict.fromkeys(rows))
                # Tie-break order for the stable fan-out sort: by id, newest first without a
                # vector. Sorted here: an ORDER BY makes SQLite walk the whole partition by
                # created_at instead of using the source/target indexes.
                rows.sort(key=lambda r: r[4])
                if query is None:
                    rows.sort(key=lambda r: r[5], reverse=True)
                similarity = (
                    index.similarities([r[1] for r in rows], query)
                    if index is not None and query is not None
                    else None
                )
                # New entities, each with the best similarity of a fact reaching it; the beam
                # keeps the best of them (ties by entity id, as in the Neo4j store).
                nxt: dict[str, float] = {}
                for i in _follow([r[0] for r in rows], fanout, similarity):
                    _, seq, source_id, target_id, fact_id = rows[i][:5]
                    score = float(similarity[i]) if similarity is not None else 0.0
                    reached[seq] = score
                    edges[seq] = Edge(fact_id, source_id, target_id)
                    for end in (source_id, target_id):
                        if end not in visited and score > nxt.get(end, float("-inf")):
                            nxt[end] = score
                frontier = list(nxt)
                if beam is not None and len(frontier) > beam:
                    frontier = sorted(frontier, key=lambda e: (-nxt[e], e))[:beam]
                visited.update(frontier)
            if select is not None:
                keep = select([(edges[seq], score) for seq, score in reached.items()])
                reached = {seq: v for seq, v in reached.items() if edges[seq].id in keep}
            facts = self._by_seq(conn, FACTS, list(reached))
            found = [(facts[seq], score) for seq, score in reached.items() if seq in facts]
            return sorted(found, key=lambda pair: (-pair[1], pair[0].id))

        return self._run(read, write=False)

    # -- writes --------------------------------------------------------------------------------
    def apply(self, batch: WriteBatch) -> None:
        """One transaction, in this order: upsert entities, insert facts, invalidations,
        provenance merges, mentions, mark episodes processed.

        Rejected with StoreError, writing nothing: a row of another partition, a fact id
        already stored (or repeated in the batch), a fact whose source or target entity exists
        neither in the batch nor in the partition, an entity key already used by another
        entity, a vector of the wrong dimension. Invalidations and merges naming a fact that
        no longer exists are skipped: it was deleted meanwhile, and the add should not fail.
        An entity upserted with embedding None keeps its stored embedding.
        """
        partition = batch.partition
        for item in (*batch.entities, *batch.facts):
            if item.partition != partition:
                raise StoreError(
                    f"{type(item).__name__} {item.id} belongs to partition {item.partition!r}, "
                    f"not to the batch's {partition!r}"
                )

        def write(conn: sqlite3.Connection, patches: list[_Patch]) -> None:
            if batch.expected_version is not None:
                version = self._version(conn, partition, WRITES)
                if version != batch.expected_version:
                    raise ConflictError(
                        f"partition {partition!r} changed while the batch was planned "
                        f"(version {version}, planned against {batch.expected_version}); "
                        "nothing was written"
                    )
            self._check_dims(conn, [e.embedding for e in batch.entities])
            self._check_dims(conn, [f.embedding for f in batch.facts])
            entity_patch = _Patch(ENTITIES, partition)
            for entity in batch.entities:
                self._upsert_entity(conn, entity, entity_patch)
            fact_patch = _Patch(FACTS, partition)
            self._insert_facts(conn, partition, batch.facts, fact_patch)
            for inv in batch.invalidations:
                row = conn.execute(
                    """UPDATE facts SET invalid_at = ?, expired_at = ?, invalidated_by = ?
                       WHERE partition = ? AND id = ? RETURNING seq""",
                    (_ts(inv.invalid_at), _ts(inv.expired_at), inv.invalidated_by, partition,
                     inv.fact_id),
                ).fetchone()
                if row is not None:
                    fact_patch.ended.append(row[0])
            for merge in batch.merges:
                self._merge_provenance(conn, partition, merge.fact_id, merge.episodes)
            conn.executemany(
                "INSERT OR IGNORE INTO mentions (partition, episode_id, entity_id) "
                "VALUES (?, ?, ?)",
                [(partition, ep, ent) for ep, ent in batch.mentions],
            )
            if batch.episode_ids:
                conn.execute(
                    f"""UPDATE episodes SET status = 'processed', error = NULL
                        WHERE partition = ? AND id {_IN_JSON}""",
                    (partition, _ids(batch.episode_ids)),
                )
            self._check_dims(conn, list(batch.episode_embeddings.values()))
            episode_patch = _Patch(EPISODES, partition)
            for episode_id, vector in batch.episode_embeddings.items():
                row = conn.execute(
                    """UPDATE episodes SET embedding = ?
                       WHERE partition = ? AND id = ? AND embedding IS NULL
                       RETURNING seq, agent_id, run_id""",
                    (_blob(vector), partition, episode_id),
                ).fetchone()
                if row is not None:
                    episode_patch.appends.append((row[0], episode_id, vector, row[1], row[2], True))
            if episode_patch.appends:
                episode_patch.appends.sort(key=lambda r: r[0])  # the index appends by seq
                episode_patch.version = self._bump(conn, partition, EPISODES)
                patches.append(episode_patch)
            # Merges, mentions and statuses change nothing a vector index holds.
            if batch.entities:
                entity_patch.version = self._bump(conn, partition, ENTITIES)
                patches.append(entity_patch)
            if batch.facts or batch.invalidations:
                fact_patch.version = self._bump(conn, partition, FACTS)
                patches.append(fact_patch)
            if batch.entities or batch.facts or batch.invalidations:
                self._bump(conn, partition, WRITES)

        self._write(write)

    @staticmethod
    def _upsert_entity(conn: sqlite3.Connection, entity: Entity, patch: _Patch) -> None:
        try:
            seq = conn.execute(
                """INSERT INTO entities (partition, id, user_id, name, key, type, aliases,
                       embedding, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (partition, id) DO UPDATE SET
                       user_id = excluded.user_id, name = excluded.name, key = excluded.key,
                       type = excluded.type, aliases = excluded.aliases,
                       embedding = COALESCE(excluded.embedding, entities.embedding),
                       updated_at = excluded.updated_at
                   RETURNING seq""",
                (
                    entity.partition, entity.id, entity.user_id, entity.name, entity.key,
                    entity.type, _json(list(entity.aliases)), _blob(entity.embedding),
                    _ts(entity.created_at), _ts(entity.updated_at),
                ),
            ).fetchone()[0]
        except sqlite3.IntegrityError as exc:
            raise ConflictError(
                f"entity {entity.id} ({entity.name!r}): key {entity.key!r} is already used by "
                f"another entity in partition {entity.partition!r}"
            ) from exc
        if entity.embedding is not None:
            patch.upserts.append((seq, entity.id, entity.embedding))
        conn.execute(
            "DELETE FROM entity_keys WHERE partition = ? AND entity_id = ?",
            (entity.partition, entity.id),
        )
        keys = {normalize_key(k) for k in (entity.key, *entity.aliases)} - {""}
        conn.executemany(
            "INSERT INTO entity_keys (partition, key, entity_id) VALUES (?, ?, ?)",
            [(entity.partition, key, entity.id) for key in sorted(keys)],
        )

    @staticmethod
    def _insert_facts(
        conn: sqlite3.Connection, partition: str, facts: list[Fact], patch: _Patch
    ) -> None:
        if not facts:
            return
        ids = [f.id for f in facts]
        repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
        # Fact ids are unique store-wide (locate_fact relies on it), so look in every partition.
        existing = conn.execute(f"SELECT id FROM facts WHERE id {_IN_JSON}", (_ids(ids),))
        dup = repeated or sorted(r["id"] for r in existing)
        if dup:
            raise StoreError(f"fact ids already exist: {dup}")
        ends = {e for f in facts for e in (f.source_id, f.target_id)}
        known = {
            r["id"]
            for r in conn.execute(
                f"SELECT id FROM entities WHERE partition = ? AND id {_IN_JSON}",
                (partition, _ids(ends)),
            )
        }
        part = _partition_token(partition)
        for fact in facts:
            missing = [e for e in (fact.source_id, fact.target_id) if e not in known]
            if missing:
                raise StoreError(
                    f"fact {fact.id} ({fact.fact!r}) references entities that do not exist in "
                    f"partition {partition!r}: {missing}"
                )
            episodes = list(dict.fromkeys(fact.episodes))
            seq = conn.execute(
                """INSERT INTO facts (partition, id, user_id, agent_id, run_id, source_id,
                       source, relation, target_id, target, fact, embedding, valid_at,
                       invalid_at, created_at, expired_at, episodes, confidence,
                       invalidated_by, metadata, memory_id)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   RETURNING seq""",
                (
                    partition, fact.id, fact.user_id, fact.agent_id, fact.run_id, fact.source_id,
                    fact.source, fact.relation, fact.target_id, fact.target, fact.fact,
                    _blob(fact.embedding), _ts(fact.valid_at), _ts(fact.invalid_at),
                    _ts(fact.created_at), _ts(fact.expired_at), _json(episodes),
                    float(fact.confidence), fact.invalidated_by, _json(fact.metadata),
                    fact.memory_id,
                ),
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO facts_fts (rowid, part, text) VALUES (?, ?, ?)",
                (seq, part, _doc_tokens(f"{fact.fact} {fact.source} {fact.target}")),
            )
            conn.executemany(
                "INSERT OR IGNORE INTO fact_episodes (partition, episode_id, fact_id) "
                "VALUES (?, ?, ?)",
                [(partition, ep, fact.id) for ep in episodes],
            )
            if fact.embedding is not None:
                current = fact.invalid_at is None and fact.expired_at is None
                patch.appends.append(
                    (seq, fact.id, fact.embedding, fact.agent_id, fact.run_id, current)
                )

    @staticmethod
    def _merge_provenance(
        conn: sqlite3.Connection, partition: str, fact_id: str, episode_ids: Sequence[str]
    ) -> None:
        row = conn.execute(
            "SELECT episodes FROM facts WHERE partition = ? AND id = ?", (partition, fact_id)
        ).fetchone()
        if row is None:
            return
        stored: list[str] = json.loads(row["episodes"])
        added = [e for e in dict.fromkeys(episode_ids) if e not in stored]
        if not added:
            return
        conn.execute(
            "UPDATE facts SET episodes = ? WHERE partition = ? AND id = ?",
            (_json(stored + added), partition, fact_id),
        )
        conn.executemany(
            "INSERT OR IGNORE INTO fact_episodes (partition, episode_id, fact_id) "
            "VALUES (?, ?, ?)",
            [(partition, ep, fact_id) for ep in added],
        )

    def delete_fact(self, partition: str, fact_id: str) -> bool:
        # The cached fact index loses the one row (a patch), not the whole partition: reloading
        # a large user's vectors after every delete took most of a second at 100k facts.
        def write(conn: sqlite3.Connection, patches: list[_Patch]) -> bool:
            row = conn.execute(
                "SELECT seq FROM facts WHERE partition = ? AND id = ?", (partition, fact_id)
            ).fetchone()
            if row is None:
                return False
            conn.execute("DELETE FROM facts_fts WHERE rowid = ?", (row["seq"],))
            conn.execute(
                "DELETE FROM fact_episodes WHERE partition = ? AND fact_id = ?",
                (partition, fact_id),
            )
            conn.execute("DELETE FROM facts WHERE seq = ?", (row["seq"],))
            version = self._bump(conn, partition, FACTS)
            patches.append(_Patch(FACTS, partition, version, removed=[row["seq"]]))
            self._bump(conn, partition, WRITES)
            return True

        return self._write(write)

    def delete_scope(self, scope: Scope) -> int:
        """A scope that only names its partition (user alone; or, without a user, the agent
        alone or the run alone) removes the whole partition, entities and mentions included.
        A narrowed scope removes only the facts and episodes stored with its agent/run ids
        (plus their provenance and mention rows); entities stay, being shared."""
        partition = scope.partition
        whole = _is_whole_partition(scope)
        where, params = ("partition = ?", [partition]) if whole else self._narrowing(scope)

        def write(conn: sqlite3.Connection) -> int:
            conn.execute(
                f"DELETE FROM facts_fts WHERE rowid IN (SELECT seq FROM facts WHERE {where})",
                params,
            )
            conn.execute(
                f"DELETE FROM episodes_fts WHERE rowid IN (SELECT seq FROM episodes WHERE {where})",
                params,
            )
            if whole:
                for table in ("fact_episodes", "mentions", "entity_keys", "entities"):
                    conn.execute(f"DELETE FROM {table} WHERE partition = ?", (partition,))
            else:
                conn.execute(
                    f"""DELETE FROM fact_episodes WHERE partition = ? AND fact_id IN
                        (SELECT id FROM facts WHERE {where})""",
                    [partition, *params],
                )
                conn.execute(
                    f"""DELETE FROM mentions WHERE partition = ? AND episode_id IN
                        (SELECT id FROM episodes WHERE {where})""",
                    [partition, *params],
                )
            removed = conn.execute(f"DELETE FROM facts WHERE {where}", params).rowcount
            conn.execute(f"DELETE FROM episodes WHERE {where}", params)
            for kind in (*_KINDS, WRITES):
                self._bump(conn, partition, kind)
            return removed

        with self._lock:
            removed = self._run(write, write=True)
            self._forget(partition)
        return removed

    def reset(self) -> None:
        def write(conn: sqlite3.Connection) -> None:
            for table in (
                "facts_fts", "episodes_fts", "fact_episodes", "mentions", "entity_keys",
                "facts", "entities", "episodes", "partition_rows",
            ):
                conn.execute(f"DELETE FROM {table}")
            # Versions move on, never back: a cache elsewhere must not match a later write.
            conn.execute("UPDATE versions SET version = version + 1")

        with self._lock:
            self._run(write, write=True)
            self._forget()

    # -- memories (stable ids), metadata filters, forgetting -------------------------------------
    def locate_memory(self, memory_id: str) -> str | None:
        def read(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(
                "SELECT partition FROM facts WHERE memory_id = ? LIMIT 1", (memory_id,)
            ).fetchone()
            return row["partition"] if row else None

        return self._run(read, write=False)

    def locate_episode(self, episode_id: str) -> str | None:
        def read(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(
                "SELECT partition FROM episodes WHERE id = ? ORDER BY partition LIMIT 1",
                (episode_id,),
            ).fetchone()
            return row["partition"] if row else None

        return self._run(read, write=False)

    def memory_versions(self, partition: str, memory_id: str) -> list[Fact]:
        def read(conn: sqlite3.Connection) -> list[Fact]:
            rows = conn.execute(
                f"""SELECT {_cols(_FACT_FIELDS)} FROM facts
                    WHERE partition = ? AND memory_id = ? ORDER BY created_at, id""",
                (partition, memory_id),
            ).fetchall()
            return [self._fact(r) for r in rows]

        return self._run(read, write=False)

    def list_memories(
        self,
        scope: Scope,
        *,
        limit: int,
        include_invalid: bool = False,
        metadata: Clauses | None = None,
    ) -> list[Fact]:
        current = "" if include_invalid else " AND current"
        return self._newest(FACTS, scope, current, metadata, limit)

    def list_raw_episodes(
        self, scope: Scope, *, limit: int, metadata: Clauses | None = None
    ) -> list[Episode]:
        return self._newest(EPISODES, scope, " AND infer = 0", metadata, limit)

    def _newest(
        self, kind: str, scope: Scope, extra: str, metadata: Clauses | None, limit: int
    ) -> list[Any]:
        """The newest `limit` rows of a kind in scope passing `extra` SQL (a fixed fragment)
        and the metadata filter, by (created_at, id) descending."""
        fields, build = (
            (_FACT_FIELDS, self._fact) if kind == FACTS else (_EPISODE_FIELDS, self._episode)
        )
        where, params = self._narrowing(scope)
        where += extra
        if metadata:
            sql, values = sqlite_where(metadata, "metadata")
            where += " AND " + sql
            params += values

        def read(conn: sqlite3.Connection) -> list[Any]:
            rows = conn.execute(
                f"""SELECT {_cols(fields)} FROM {kind} WHERE {where}
                    ORDER BY created_at DESC, id DESC LIMIT ?""",
                [*params, limit],
            ).fetchall()
            return [build(r) for r in rows]

        return self._run(read, write=False)

    def metadata_matches(self, scope: Scope, metadata: Clauses) -> tuple[set[str], set[str]]:
        where, params = self._narrowing(scope)
        sql, values = sqlite_where(metadata, "metadata")

        def read(conn: sqlite3.Connection) -> tuple[set[str], set[str]]:
            facts = conn.execute(
                f"SELECT id FROM facts WHERE {where} AND {sql}", [*params, *values]
            ).fetchall()
            episodes = conn.execute(
                f"SELECT id FROM episodes WHERE {where} AND {sql}", [*params, *values]
            ).fetchall()
            return {r[0] for r in facts}, {r[0] for r in episodes}

        return self._run(read, write=False)

    def purge(
        self, partition: str, fact_ids: Sequence[str], episode_ids: Sequence[str]
    ) -> dict[str, int]:
        """GraphStore.purge: facts and episodes with their full-text rows, provenance and
        mention rows, and vectors (the cached indexes lose those rows: patched, not dropped, so a
        large user's next search does not reload every vector); then the entities they touched
        that no fact and no mention holds any more."""

        def seqs(conn: sqlite3.Connection, table: str, ids: str) -> list[int]:
            return [
                r[0]
                for r in conn.execute(
                    f"SELECT seq FROM {table} WHERE partition = ? AND id {_IN_JSON}",
                    (partition, ids),
                )
            ]

        def write(conn: sqlite3.Connection, patches: list[_Patch]) -> dict[str, int]:
            facts, episodes = _ids(fact_ids), _ids(episode_ids)
            gone = {FACTS: seqs(conn, "facts", facts), EPISODES: seqs(conn, "episodes", episodes)}
            touched = {
                r[0]
                for r in conn.execute(
                    f"""SELECT source_id FROM facts WHERE partition = ? AND id {_IN_JSON}
                        UNION SELECT target_id FROM facts WHERE partition = ? AND id {_IN_JSON}
                        UNION SELECT entity_id FROM mentions
                          WHERE partition = ? AND episode_id {_IN_JSON}""",
                    (partition, facts, partition, facts, partition, episodes),
                )
            }
            conn.execute(
                f"""DELETE FROM facts_fts WHERE rowid IN
                    (SELECT seq FROM facts WHERE partition = ? AND id {_IN_JSON})""",
                (partition, facts),
            )
            conn.execute(
                f"DELETE FROM fact_episodes WHERE partition = ? AND fact_id {_IN_JSON}",
                (partition, facts),
            )
            removed_facts = conn.execute(
                f"DELETE FROM facts WHERE partition = ? AND id {_IN_JSON}", (partition, facts)
            ).rowcount
            # Facts that rested on a removed message as well as on others lose that link.
            for row in conn.execute(
                f"""SELECT DISTINCT fact_id FROM fact_episodes
                    WHERE partition = ? AND episode_id {_IN_JSON}""",
                (partition, episodes),
            ).fetchall():
                kept = conn.execute(
                    "SELECT episodes FROM facts WHERE partition = ? AND id = ?",
                    (partition, row[0]),
                ).fetchone()
                if kept is not None:
                    left = [e for e in json.loads(kept[0]) if e not in set(episode_ids)]
                    conn.execute(
                        "UPDATE facts SET episodes = ? WHERE partition = ? AND id = ?",
                        (_json(left), partition, row[0]),
                    )
            conn.execute(
                f"DELETE FROM fact_episodes WHERE partition = ? AND episode_id {_IN_JSON}",
                (partition, episodes),
            )
            conn.execute(
                f"DELETE FROM mentions WHERE partition = ? AND episode_id {_IN_JSON}",
                (partition, episodes),
            )
            conn.execute(
                f"""DELETE FROM episodes_fts WHERE rowid IN
                    (SELECT seq FROM episodes WHERE partition = ? AND id {_IN_JSON})""",
                (partition, episodes),
            )
            removed_episodes = conn.execute(
                f"DELETE FROM episodes WHERE partition = ? AND id {_IN_JSON}",
                (partition, episodes),
            ).rowcount
            orphans = [
                r[0]
                for r in conn.execute(
                    f"""SELECT id FROM entities e WHERE partition = ? AND id {_IN_JSON}
                        AND NOT EXISTS (SELECT 1 FROM facts f
                              WHERE f.partition = e.partition AND f.source_id = e.id)
                        AND NOT EXISTS (SELECT 1 FROM facts f
                              WHERE f.partition = e.partition AND f.target_id = e.id)
                        AND NOT EXISTS (SELECT 1 FROM mentions m
                              WHERE m.partition = e.partition AND m.entity_id = e.id)""",
                    (partition, _ids(sorted(touched))),
                )
            ]
            gone[ENTITIES] = seqs(conn, "entities", _ids(orphans))
            conn.execute(
                f"DELETE FROM entity_keys WHERE partition = ? AND entity_id {_IN_JSON}",
                (partition, _ids(orphans)),
            )
            conn.execute(
                f"DELETE FROM entities WHERE partition = ? AND id {_IN_JSON}",
                (partition, _ids(orphans)),
            )
            for kind in _KINDS:
                version = self._bump(conn, partition, kind)
                patches.append(_Patch(kind, partition, version, removed=gone.get(kind, [])))
            self._bump(conn, partition, WRITES)
            return {
                "facts": removed_facts,
                "episodes": removed_episodes,
                "entities": len(orphans),
            }

        return self._write(write)

    def counts(self, partition: str) -> dict[str, int]:
        def read(conn: sqlite3.Connection) -> dict[str, int]:
            row = conn.execute(
                """SELECT
                     (SELECT count(*) FROM entities WHERE partition = :p) AS entities,
                     (SELECT count(*) FROM facts WHERE partition = :p) AS facts,
                     (SELECT count(*) FROM facts WHERE partition = :p AND current)
                        AS current_facts,
                     (SELECT count(*) FROM episodes WHERE partition = :p) AS episodes""",
                {"p": partition},
            ).fetchone()
            return {key: int(row[key]) for key in _COUNT_KEYS}

        return self._run(read, write=False)


def _migrate_memory_ids(conn: sqlite3.Connection) -> None:
    """Files written before memory ids: add the column; every existing fact is its own memory
    (memory_id = id). Idempotent, in the schema transaction."""
    columns = {r[1] for r in conn.execute("PRAGMA table_info(facts)")}
    if "memory_id" not in columns:
        conn.execute("ALTER TABLE facts ADD COLUMN memory_id TEXT")
    conn.execute("UPDATE facts SET memory_id = id WHERE memory_id IS NULL")
    conn.execute(
        "CREATE INDEX IF NOT EXISTS facts_by_memory ON facts (partition, memory_id, created_at)"
    )
    conn.execute("CREATE INDEX IF NOT EXISTS facts_by_memory_id ON facts (memory_id)")
    conn.execute("CREATE INDEX IF NOT EXISTS episodes_by_id ON episodes (id)")
    # get_all's raw (infer=False) messages, newest first, without scanning every message.
    conn.execute(
        "CREATE INDEX IF NOT EXISTS episodes_raw ON episodes (partition, created_at, id) "
        "WHERE infer = 0"
    )


def _follow(vias: Sequence[str], fanout: int, similarity: np.ndarray | None) -> np.ndarray:
    """Indices of the candidate rows followed this hop: for each frontier entity (`via`), its
    `fanout` best rows, best = most similar when given, ties (and the no-vector case) in the
    order the rows came in. lexsort is stable, so that order survives the grouping."""
    codes: dict[str, int] = {}
    groups = np.fromiter(
        (codes.setdefault(v, len(codes)) for v in vias), dtype=np.int64, count=len(vias)
    )
    primary = -similarity if similarity is not None else np.zeros(len(vias))
    order = np.lexsort((primary, groups))
    grouped = groups[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    return np.sort(order[rank < fanout])


def _by_creation(facts: list[Fact]) -> list[Fact]:
    """Facts in (created_at, id) order. Sorted in Python on purpose: with ORDER BY created_at,
    SQLite prefers walking the partition's created_at index over the selective id lookups."""
    return sorted(facts, key=lambda f: (f.created_at, f.id))


def _is_whole_partition(scope: Scope) -> bool:
    """True when the scope narrows nothing beyond its partition key."""
    if scope.user_id is not None:
        return scope.agent_id is None and scope.run_id is None
    if scope.agent_id is not None:
        return scope.run_id is None
    return True
