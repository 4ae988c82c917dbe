"""The k best full-text rows of a partition's FTS5 table inside a scope, joining few rows.

A full-text list returns the scope's k best rows by (BM25 desc, id). The scope (agent/run
narrowing, current facts only) lives on the row table, so the plain query joins every match to
its row before sorting: at 100k facts a query word held by ~1,300 facts, or one held by all
1,000 messages, costs that many random row reads (2-2.5 ms per list), although only k rows are
kept. Here FTS5 first picks the best `pool` matches by score alone (its sorter keeps a bounded
heap), and only they are joined. That is exact whenever the pool decides the answer: every match
left out of the pool scores at most the pool's lowest score, so if k rows of the pool pass the
scope and the k-th of them scores strictly more than that, no row outside the pool can enter
the top k or tie with it (ties are ordered by id, which only the row table holds). Otherwise
(too many matches outside the scope, or a tie across the pool's edge) the plain query runs.
Same rows, same scores, same order; tests/test_sqlite_text_top_k.py checks it against the plain
query.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, NamedTuple

#: Matches joined to their rows before falling back to the plain query: k times this.
POOL_FACTOR = 2


class TextQuery(NamedTuple):
    """One full-text list: FTS5 table `name` of row table `kind`, the MATCH expression, and the
    scope as a WHERE fragment over `t` (the row table) with its parameters."""

    name: str
    kind: str
    match: str
    where: str
    params: Sequence[Any]


def text_top_k(conn: sqlite3.Connection, q: TextQuery, k: int) -> list[tuple[int, str, float]]:
    """(seq, id, score) of the query's k best rows in its scope, best first, ties by id."""
    name, kind, match, where, params = q
    pool = max(k * POOL_FACTOR, k + 1)
    ranked = conn.execute(
        f"""SELECT rowid, -bm25({name}) AS score FROM {name} WHERE {name} MATCH ?
            ORDER BY score DESC LIMIT ?""",
        (match, pool),
    ).fetchall()
    scores = dict(ranked)
    passing = conn.execute(
        # CROSS JOIN keeps the pool as the outer loop: given the choice, SQLite's planner
        # walked the partition's index instead (a scan of 100k facts for 102 look-ups).
        f"""SELECT t.seq, t.id FROM json_each(?) AS pool CROSS JOIN {kind} t
            ON t.seq = pool.value WHERE {where}""",
        [f"[{','.join(str(seq) for seq in scores)}]", *params],
    ).fetchall()
    hits = sorted(((seq, id_, scores[seq]) for seq, id_ in passing), key=lambda h: (-h[2], h[1]))
    if len(ranked) < pool or (len(hits) >= k and hits[k - 1][2] > ranked[-1][1]):
        return hits[:k]
    return plain_top_k(conn, q, k)


def plain_top_k(conn: sqlite3.Connection, q: TextQuery, k: int) -> list[tuple[int, str, float]]:
    """The same list by joining every match to its row (the reference, and the fallback)."""
    name, kind, match, where, params = q
    rows = conn.execute(
        f"""SELECT t.seq, t.id, -bm25({name}) AS score
            FROM {name} JOIN {kind} t ON t.seq = {name}.rowid
            WHERE {name} MATCH ? AND {where}
            ORDER BY score DESC, t.id LIMIT ?""",
        [match, *params, k],
    ).fetchall()
    return [(int(seq), str(id_), float(score)) for seq, id_, score in rows]
