"""Read transactions of the SQLite store: search, episodes, entities, facts, memories."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from graphmem.models import Entity, Episode, EpisodeStatus, Fact, Scope
from graphmem.normalize import normalize_key
from graphmem.store.base import SeedHits, detection_probes, list_cut
from graphmem.store.metadata_filter import Clauses, sqlite_where
from graphmem.store.sqlite import fts
from graphmem.store.sqlite.connection import (
    SQLiteBase,
)
from graphmem.store.sqlite.schema import (
    _COUNT_KEYS,
    _ENTITY_FIELDS,
    _EPISODE_FIELDS,
    _FACT_FIELDS,
    _IN_JSON,
    ENTITIES,
    EPISODES,
    FACTS,
    SAID,
    _cols,
    _ids,
)
from graphmem.store.sqlite.text_top_k import TextQuery
from graphmem.store.sqlite.text_top_k import text_top_k as _text_top_k


class _SaidCut:
    """One message list of said_seed_search: its cut (the lowest score of the full list when
    it held all k, else None; GraphStore.said_seed_search) and which of its rows are said."""

    cut: float | None = None

    def keep(self, conn: sqlite3.Connection, k: int, hits: list[tuple[int, float]]) -> list[int]:
        """The seqs of the said rows among the full list's (seq, score) hits, in order."""
        self.cut = list_cut([score for _, score in hits], k)
        if not hits:
            return []
        rows = conn.execute(
            f"SELECT seq FROM {EPISODES} WHERE seq {_IN_JSON} AND {SAID}",
            (_ids(seq for seq, _ in hits),),
        ).fetchall()
        said = {row[0] for row in rows}
        return [seq for seq, _ in hits if seq in said]


class _Reads(SQLiteBase):
    """Reads: vector and full-text search, episodes, entities, facts, memories."""

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
        said: _SaidCut | None = None,
    ) -> Callable[[sqlite3.Connection], list[tuple[Any, float]]]:
        """The body of a vector search, to run in a transaction of the caller's choosing."""
        if k <= 0:
            return lambda conn: []
        query = self._query_vector(vector)

        def read(conn: sqlite3.Connection) -> list[tuple[Any, float]]:
            index = self._index(conn, kind, partition)
            hits = index.top_k(query, k, index.mask(scope, include_invalid))
            seqs = [seq for seq, _ in hits]
            if said is not None:
                seqs = said.keep(conn, k, hits)
            models = self._by_seq(conn, kind, seqs)
            return [(models[seq], score) for seq, score in hits if seq in models]

        return read

    def _text_search(
        self, kind: str, scope: Scope, query: str, k: int, current_only: bool
    ) -> list[tuple[Any, float]]:
        return self._run(self._text_reader(kind, scope, query, k, current_only), write=False)

    def _text_reader(
        self,
        kind: str,
        scope: Scope,
        query: str,
        k: int,
        current_only: bool,
        said: _SaidCut | None = None,
    ) -> Callable[[sqlite3.Connection], list[tuple[Any, float]]]:
        """The body of a full-text search, to run in a transaction of the caller's choosing."""
        tokens = fts.query_tokens(query)
        if not tokens or k <= 0:
            return lambda conn: []
        where, params = self._narrowing(scope, "t")
        if current_only:
            where += " AND t.current"

        def read(conn: sqlite3.Connection) -> list[tuple[Any, float]]:
            pid = fts.partition_id(conn, scope.partition)
            if pid is None:  # nothing of this partition was ever indexed
                return []
            name = fts.table(kind, pid)
            useful = fts.informative(conn, name, fts.rows(conn, kind, scope.partition), tokens)
            if not useful:
                return []
            # The table holds this partition's rows only, so bm25() ranks by its statistics.
            match = fts.match_expression(useful)
            hits = _text_top_k(conn, TextQuery(name, kind, match, where, params), k)
            seqs = [seq for seq, _, _ in hits]
            if said is not None:
                seqs = said.keep(conn, k, [(seq, score) for seq, _, score in hits])
            models = self._by_seq(conn, kind, seqs)
            return [(models[seq], score) for seq, _, score in hits if seq in models]

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
        _said: bool = False,
    ) -> SeedHits:
        """The four first-stage lists in one read transaction (one snapshot, one BEGIN);
        `_said`: said_seed_search's message lists."""
        cuts = (_SaidCut(), _SaidCut()) if _said else (None, None)
        readers = [
            self._vector_reader(FACTS, scope.partition, vector, vector_k, scope, include_invalid),
            self._text_reader(FACTS, scope, query, text_k, current_only=not include_invalid),
        ]
        if episodes:
            readers += [
                self._vector_reader(
                    EPISODES, scope.partition, vector, vector_k, scope, said=cuts[0]
                ),
                self._text_reader(EPISODES, scope, episode_query or query, text_k, False, cuts[1]),
            ]
        lists = self._run(lambda conn: [read(conn) for read in readers], write=False)
        hits = SeedHits(facts_vector=lists[0], facts_text=lists[1])
        if episodes:
            hits.episodes_vector, hits.episodes_text = lists[2], lists[3]
        if cuts[0] is not None and cuts[1] is not None:
            hits.episodes_vector_cut, hits.episodes_text_cut = cuts[0].cut, cuts[1].cut
        return hits

    def said_seed_search(
        self, scope: Scope, query: str, vector: Sequence[float], **options: Any
    ) -> SeedHits:
        """GraphStore.said_seed_search in one read transaction, reading no add_facts record:
        each message list is cut among all messages as seed_search cuts it, then only its
        said rows are read in full (records are ~17k-character JSON dumps in a bulk import)."""
        return self.seed_search(scope, query, vector, **options, episodes=True, _said=True)

    def holds_said_messages(self, scope: Scope) -> bool:
        """One seek in the partial index episodes_said: a partition of imported facts only
        (every episode an add_facts record) skips both message lists in recall."""
        row = self._run(
            lambda conn: conn.execute(
                f"SELECT 1 FROM episodes INDEXED BY episodes_said "
                f"WHERE partition = ? AND {SAID} LIMIT 1",
                (scope.partition,),
            ).fetchone(),
            write=False,
        )
        return row is not None

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

    def search_episodes_text(self, scope: Scope, query: str, k: int) -> list[tuple[Episode, float]]:
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
                r["id"]: self._entity(r, r["embedding"] if with_embeddings else None) for r in rows
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
            # `+partition`: look the ids up in the unique id index. With a plain `partition = ?`
            # SQLite chose a (partition, ...) index and scanned the whole partition: every add
            # reads its facts back by id (Memory._memory_ids), 0.6 s at 100k facts.
            rows = conn.execute(
                f"""SELECT {_cols(_FACT_FIELDS)}, embedding FROM facts
                    WHERE +partition = ? AND id {_IN_JSON}""",
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
                f"""SELECT {_cols(_FACT_FIELDS, "f")}
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


def _by_creation(facts: list[Fact]) -> list[Fact]:
    """Facts in (created_at, id) order. Sorted in Python on purpose: with ORDER BY created_at,
    SQLite prefers walking the partition's created_at index over the selective id lookups."""
    return sorted(facts, key=lambda f: (f.created_at, f.id))
