"""Write transactions of the SQLite store: episodes, batches, deletes and purges."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Sequence
from typing import Any

from graphmem.errors import ConflictError, StoreError
from graphmem.models import Entity, Episode, EpisodeStatus, Fact, Scope, WriteBatch
from graphmem.normalize import normalize_key
from graphmem.store.sqlite import fts
from graphmem.store.sqlite.connection import (
    SQLiteBase,
)
from graphmem.store.sqlite.schema import (
    _IN_JSON,
    _KINDS,
    ENTITIES,
    EPISODES,
    FACTS,
    WRITES,
    _blob,
    _ids,
    _json,
    _ts,
)
from graphmem.store.sqlite.vectors import (
    _Patch,
)


class _Writes(SQLiteBase):
    """Writes: episodes, batches, deletes, purge, reset."""

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
            texts: dict[str, list[tuple[int, str]]] = {}
            for ep, vector in zip(episodes, vectors, strict=True):
                cursor = conn.execute(
                    """INSERT INTO episodes (partition, id, user_id, agent_id, run_id, role, name,
                           content, reference_time, created_at, status, error, infer, metadata,
                           embedding)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (partition, id) DO NOTHING""",
                    (
                        ep.partition,
                        ep.id,
                        ep.user_id,
                        ep.agent_id,
                        ep.run_id,
                        ep.role,
                        ep.name,
                        ep.content,
                        _ts(ep.reference_time),
                        _ts(ep.created_at),
                        EpisodeStatus(ep.status).value,
                        ep.error,
                        int(ep.infer),
                        _json(ep.metadata),
                        _blob(vector),
                    ),
                )
                rows = added.setdefault(ep.partition, [])
                if not cursor.rowcount:
                    continue
                texts.setdefault(ep.partition, []).append(
                    (cursor.lastrowid, fts.doc_tokens(ep.content))
                )
                if vector is not None:
                    rows.append((cursor.lastrowid, ep.id, vector, ep.agent_id, ep.run_id, True))
            for partition, indexed in texts.items():
                fts.index_rows(conn, EPISODES, partition, indexed)
            for partition, rows in added.items():
                version = self._bump(conn, partition, EPISODES)
                patches.append(_Patch(EPISODES, partition, version, appends=rows))

        self._write(write)

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
                    (
                        _ts(inv.invalid_at),
                        _ts(inv.expired_at),
                        inv.invalidated_by,
                        partition,
                        inv.fact_id,
                    ),
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
                    entity.partition,
                    entity.id,
                    entity.user_id,
                    entity.name,
                    entity.key,
                    entity.type,
                    _json(list(entity.aliases)),
                    _blob(entity.embedding),
                    _ts(entity.created_at),
                    _ts(entity.updated_at),
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
        texts: list[tuple[int, str]] = []
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
                    partition,
                    fact.id,
                    fact.user_id,
                    fact.agent_id,
                    fact.run_id,
                    fact.source_id,
                    fact.source,
                    fact.relation,
                    fact.target_id,
                    fact.target,
                    fact.fact,
                    _blob(fact.embedding),
                    _ts(fact.valid_at),
                    _ts(fact.invalid_at),
                    _ts(fact.created_at),
                    _ts(fact.expired_at),
                    _json(episodes),
                    float(fact.confidence),
                    fact.invalidated_by,
                    _json(fact.metadata),
                    fact.memory_id,
                ),
            ).fetchone()[0]
            texts.append((seq, fts.fact_document(fact.fact, fact.source, fact.target)))
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
                patch.ends[seq] = (fact.source_id, fact.target_id)
        fts.index_rows(conn, FACTS, partition, texts)

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
            "INSERT OR IGNORE INTO fact_episodes (partition, episode_id, fact_id) VALUES (?, ?, ?)",
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
            fts.unindex(conn, FACTS, partition, "seq = ?", [row["seq"]])
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
            if whole:  # the partition's full-text tables go whole
                fts.drop_partition(conn, partition)
            else:
                for kind in (FACTS, EPISODES):
                    fts.unindex(conn, kind, partition, where, params)
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
            fts.drop_all(conn)
            for table in (
                "fact_episodes",
                "mentions",
                "entity_keys",
                "facts",
                "entities",
                "episodes",
                "partition_rows",
            ):
                conn.execute(f"DELETE FROM {table}")
            # Versions move on, never back: a cache elsewhere must not match a later write.
            conn.execute("UPDATE versions SET version = version + 1")

        with self._lock:
            self._run(write, write=True)
            self._forget()

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
                    # json_each first: id look-ups (a plain `partition = ?` scanned a partition's
                    # facts through a (partition, ...) index)
                    f"""SELECT t.seq FROM json_each(?) j CROSS JOIN {table} t ON t.id = j.value
                        WHERE t.partition = ?""",
                    (ids, partition),
                )
            ]

        def write(conn: sqlite3.Connection, patches: list[_Patch]) -> dict[str, int]:
            facts, episodes = _ids(fact_ids), _ids(episode_ids)
            gone = {FACTS: seqs(conn, "facts", facts), EPISODES: seqs(conn, "episodes", episodes)}
            touched = {
                r[0]
                for r in conn.execute(
                    f"""SELECT source_id FROM facts WHERE +partition = ? AND id {_IN_JSON}
                        UNION SELECT target_id FROM facts WHERE +partition = ? AND id {_IN_JSON}
                        UNION SELECT entity_id FROM mentions
                          WHERE partition = ? AND episode_id {_IN_JSON}""",
                    (partition, facts, partition, facts, partition, episodes),
                )
            }
            fts.unindex(
                conn, FACTS, partition, f"+partition = ? AND id {_IN_JSON}", [partition, facts]
            )
            conn.execute(
                f"DELETE FROM fact_episodes WHERE partition = ? AND fact_id {_IN_JSON}",
                (partition, facts),
            )
            removed_facts = conn.execute(
                f"DELETE FROM facts WHERE +partition = ? AND id {_IN_JSON}", (partition, facts)
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
            fts.unindex(
                conn, EPISODES, partition, f"partition = ? AND id {_IN_JSON}", [partition, episodes]
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


def _is_whole_partition(scope: Scope) -> bool:
    """True when the scope narrows nothing beyond its partition key."""
    if scope.user_id is not None:
        return scope.agent_id is None and scope.run_id is None
    if scope.agent_id is not None:
        return scope.run_id is None
    return True
