"""The SQLite schema (tables, indexes, triggers, migrations) and row conversions.

See graphmem.store.sqlite.store for what each table holds and why."""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import numpy as np

from graphmem.normalize import to_utc
from graphmem.store.base import IMPORT_NAME, IMPORT_ROLE
from graphmem.store.sqlite.fts import REGISTRY

T = TypeVar("T")

# 2: partition-first full text (per-partition FTS5 tables); files of version 1 are migrated on
# open, and a version-1 reader refuses a version-2 file instead of searching an empty index.
SCHEMA_VERSION = 2
# An episode someone said: not the record of an add_facts import (store.base.said; the two
# values are constants, not input), which recall leaves out of its lists.
SAID = f"(role <> '{IMPORT_ROLE}' OR name IS NOT '{IMPORT_NAME}')"
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
    # Messages someone said, i.e. not add_facts records (store.base.said): whether a
    # partition holds any is one index seek (reads.holds_said_messages).
    f"CREATE INDEX IF NOT EXISTS episodes_said ON episodes (partition) WHERE {SAID}",
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
    # Full text: one pair of FTS5 tables per partition, named by this registry's ids (see fts).
    REGISTRY,
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
    "seq",
    "partition",
    "id",
    "user_id",
    "agent_id",
    "run_id",
    "role",
    "name",
    "content",
    "reference_time",
    "created_at",
    "status",
    "error",
    "infer",
    "metadata",
)
_ENTITY_FIELDS = (
    "seq",
    "partition",
    "id",
    "user_id",
    "name",
    "key",
    "type",
    "aliases",
    "created_at",
    "updated_at",
)
_FACT_FIELDS = (
    "seq",
    "partition",
    "id",
    "user_id",
    "agent_id",
    "run_id",
    "source_id",
    "source",
    "relation",
    "target_id",
    "target",
    "fact",
    "valid_at",
    "invalid_at",
    "created_at",
    "expired_at",
    "episodes",
    "confidence",
    "invalidated_by",
    "metadata",
    "memory_id",
)
_TIME_FIELDS = (
    "reference_time",
    "created_at",
    "updated_at",
    "valid_at",
    "invalid_at",
    "expired_at",
)
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


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


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
