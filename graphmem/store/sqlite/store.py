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
- fts_partitions(id, partition) and, per partition, facts_fts_<id> and episodes_fts_<id>: FTS5
  tables (rowid = the owning row's `seq`) holding a token string derived in Python (see
  graphmem.text). Each partition's full text is its own (graphmem.store.sqlite.fts: why, the
  BM25 definition, the migration of files with one shared table). Words are NFKC-normalised and
  casefolded; runs of CJK characters (Han, kana, Hangul), which carry no spaces, are indexed as
  single characters plus overlapping bigrams and queried as bigrams (as Lucene's CJK analyzer
  does). So 王小明 in a stored fact is found by "王小明在哪里工作" (shared bigrams 王小, 小明);
  unicode61 alone makes a whole clause one token, and trigram cannot match 2-character names.
  Queries are never passed through raw: they become quoted tokens joined with OR.

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
its rows or more are left out (counted in the partition's own table, against partition_rows,
kept by triggers). FTS5's BM25 gives them an IDF of ~0 anyway, but scoring every row that
contains them cost 150-260 ms at 100k facts; without them it is 7-19 ms, same top scores.
"""

from __future__ import annotations

from graphmem.store.sqlite.expand import _Expand
from graphmem.store.sqlite.reads import _Reads
from graphmem.store.sqlite.writes import _Writes


class SQLiteStore(_Writes, _Reads, _Expand):
    """GraphStore on one SQLite file; see the module docstring for schema and concurrency."""

    name = "sqlite"
