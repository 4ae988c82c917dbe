"""Full-text search on FTS5, partition-first: one pair of FTS5 tables per partition.

Why per partition. FTS5 scores with its table's statistics (row count, average length, the
number of rows holding each term) and walks a term's whole posting list. With one table for all
users, another user's rows changed a user's BM25 ranking and made their common words slower to
search. Here each partition has its own `facts_fts_<id>` and `episodes_fts_<id>` (rowid = the
owning row's `seq`, one column: the token string of graphmem.text), so every statistic and every
posting list is the partition's own: one user's data never changes another user's results,
scores or latency. `<id>` is an integer from the registry table fts_partitions(id, partition);
table names are never built from raw text.

Cost: each partition adds two virtual tables (and FTS5's shadow tables) to the schema, which
SQLite parses when a connection opens; a store with tens of thousands of users pays for that at
open time. Creating a partition's tables changes the schema, once per partition.

BM25, the one definition both stores rank by (FTS5's bm25(), spelled out in `bm25` below):

    score(d, q) = sum over distinct query terms t found in d of
                  idf(t) * tf(t, d) * (K1 + 1) / (tf(t, d) + K1 * (1 - B + B * |d| / avgdl))
    idf(t)      = max(IDF_FLOOR, ln((N - n(t) + 0.5) / (n(t) + 0.5)))

with K1 = 1.2, B = 0.75, N the partition's rows of that kind (facts or messages; ended fact
versions included, since they stay searchable with include_invalid), n(t) the rows holding t,
|d| the row's token count and avgdl the mean token count over the partition's rows. Terms are
graphmem.text's tokens: NFKC, casefold, letters and digits; CJK runs as characters and bigrams.
FTS5's unicode61 tokenizer (remove_diacritics 2) then folds diacritics, so "café" and "cafe"
are one term. A fact's document is "<fact sentence> <source name> <target name>"; a message's is
its content. Agent/run narrowing and the current-only filter pick which rows are returned; they
do not change the statistics.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Mapping, Sequence

from graphmem.text import PRUNE_COMMON_TOKENS_FROM, RARE_SHARE, fts_query_terms, fts_terms

K1 = 1.2
B = 0.75
IDF_FLOOR = 1e-6  # FTS5's: a term in half the rows or more still counts, barely
TOKENIZE = "unicode61 remove_diacritics 2"
KINDS = ("facts", "episodes")  # the row tables that have full text
# From this many rows, tokens no row holds are left out of a query (below, they cost less than
# looking them up).
CHECK_PRESENCE_FROM = 256


REGISTRY = """CREATE TABLE IF NOT EXISTS fts_partitions (
    id INTEGER PRIMARY KEY, partition TEXT NOT NULL UNIQUE)"""


# -- the BM25 definition (reference; FTS5 computes the same) -----------------------------------
def idf(rows: int, holding: int) -> float:
    """Inverse document frequency of a term held by `holding` of a partition's `rows`."""
    return max(IDF_FLOOR, math.log((rows - holding + 0.5) / (holding + 0.5)))


def bm25(
    doc: Sequence[str],
    query: Iterable[str],
    *,
    rows: int,
    avgdl: float,
    holding: Mapping[str, int],
) -> float:
    """BM25 of one document (its tokens) for the query tokens, with the partition's statistics
    (`holding`: rows per term). The definition the module docstring states."""
    score = 0.0
    for term in dict.fromkeys(query):
        tf = doc.count(term)
        if tf:
            norm = K1 * (1 - B + B * len(doc) / avgdl)
            score += idf(rows, holding[term]) * tf * (K1 + 1) / (tf + norm)
    return score


# -- tokens -------------------------------------------------------------------------------------
def doc_tokens(text: str) -> str:
    """FTS5 document text: the index tokens of graphmem.text.fts_terms, space-separated."""
    return " ".join(fts_terms(text))


query_tokens = fts_query_terms


def fact_document(fact: str, source: str, target: str) -> str:
    """The text a fact is found by: its sentence and the names at both ends."""
    return doc_tokens(f"{fact} {source} {target}")


def match_expression(tokens: Sequence[str]) -> str:
    """A safe FTS5 MATCH expression: any of the tokens, each quoted.

    Tokens contain only letters and digits, so quoting cannot be escaped; the doubling of '"'
    is there for defence in depth.
    """
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in tokens)


# -- per-partition tables -------------------------------------------------------------------------
def table(kind: str, pid: int) -> str:
    """The FTS5 table of a partition id: built from a registry integer, never from text."""
    if kind not in KINDS:
        raise ValueError(f"no full text for {kind!r}")
    return f"{kind}_fts_{int(pid)}"


def partition_id(conn: sqlite3.Connection, partition: str) -> int | None:
    row = conn.execute("SELECT id FROM fts_partitions WHERE partition = ?", (partition,)).fetchone()
    return int(row[0]) if row else None


def ensure_tables(conn: sqlite3.Connection, partition: str) -> int:
    """The partition's registry id, creating its FTS5 tables on its first write."""
    pid = partition_id(conn, partition)
    if pid is None:
        pid = conn.execute(
            "INSERT INTO fts_partitions (partition) VALUES (?) RETURNING id", (partition,)
        ).fetchone()[0]
        for kind in KINDS:
            conn.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {table(kind, pid)} "
                f"USING fts5(text, tokenize = '{TOKENIZE}')"
            )
    return pid


def index_rows(
    conn: sqlite3.Connection, kind: str, partition: str, rows: Sequence[tuple[int, str]]
) -> None:
    """Index (seq, token string) rows of one partition."""
    if rows:
        name = table(kind, ensure_tables(conn, partition))
        conn.executemany(f"INSERT INTO {name} (rowid, text) VALUES (?, ?)", rows)


def unindex(
    conn: sqlite3.Connection, kind: str, partition: str, where: str, params: Sequence[object]
) -> None:
    """Remove the full-text rows of the partition's `kind` rows matching `where` (SQL over
    the row table, a fixed fragment with its parameters). Run before the rows are deleted."""
    pid = partition_id(conn, partition)
    if pid is not None:
        conn.execute(
            f"DELETE FROM {table(kind, pid)} WHERE rowid IN (SELECT seq FROM {kind} WHERE {where})",
            list(params),
        )


def drop_partition(conn: sqlite3.Connection, partition: str) -> None:
    """Forget a partition's full text: its tables (index, content and statistics) and its
    registry row."""
    pid = partition_id(conn, partition)
    if pid is not None:
        for kind in KINDS:
            conn.execute(f"DROP TABLE IF EXISTS {table(kind, pid)}")
        conn.execute("DELETE FROM fts_partitions WHERE id = ?", (pid,))


def drop_all(conn: sqlite3.Connection) -> None:
    for (partition,) in conn.execute("SELECT partition FROM fts_partitions").fetchall():
        drop_partition(conn, partition)


def migrate_shared_tables(conn: sqlite3.Connection) -> None:
    """Files written before partition-first full text had one `facts_fts` and one
    `episodes_fts` for all users (a partition-token column beside the text): copy each
    partition's rows into its own tables, then drop the shared ones. Idempotent, in the schema
    transaction; the token strings are copied as they were indexed."""
    for kind in KINDS:
        legacy = f"{kind}_fts"
        if not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (legacy,)
        ).fetchone():
            continue
        partitions = [r[0] for r in conn.execute(f"SELECT DISTINCT partition FROM {kind}")]
        for partition in sorted(partitions):
            name = table(kind, ensure_tables(conn, partition))
            conn.execute(
                f"""INSERT INTO {name} (rowid, text)
                    SELECT f.rowid, f.text FROM {legacy} f JOIN {kind} t ON t.seq = f.rowid
                    WHERE t.partition = ?""",
                (partition,),
            )
        conn.execute(f"DROP TABLE {legacy}")


# -- search ---------------------------------------------------------------------------------------
def rows(conn: sqlite3.Connection, kind: str, partition: str) -> int:
    """The partition's rows of `kind` (kept by triggers on the row tables)."""
    row = conn.execute(
        "SELECT n FROM partition_rows WHERE partition = ? AND kind = ?", (partition, kind)
    ).fetchone()
    return int(row[0]) if row else 0


def _holds(conn: sqlite3.Connection, name: str, token: str) -> bool:
    """Whether any row of the FTS5 table `name` holds the token (one index seek)."""
    row = conn.execute(
        f"SELECT 1 FROM {name} WHERE {name} MATCH ? LIMIT 1", (match_expression([token]),)
    ).fetchone()
    return row is not None


def informative(conn: sqlite3.Connection, name: str, rows: int, tokens: list[str]) -> list[str]:
    """The tokens worth matching in the FTS5 table `name` of `rows` rows: in a large
    partition, those in under half of its rows, and only the rare ones (in under 1/20 of its
    rows) when the query has any.

    FTS5's BM25 gives a term found in half the rows or more an IDF of ~0, yet SQLite would
    score and join every row containing it (160 ms for a word in all of 100k facts).
    Leaving it out only drops rows that match nothing else. A term in 1/20 of the rows or
    more ("at", "works" in "who works at Reta Group?") still costs thousands of joined
    rows (54 ms at 48k facts, 3.4 ms with "reta" alone) while the rare term decides the
    top: with one in the query, the common ones are dropped. Small partitions keep every
    token some row holds (under CHECK_PRESENCE_FROM rows, every token). Counting stops at
    the cut (LIMIT), so a common word costs at most that many index steps. If every token
    is very common, the rarest one stays. The table is the partition's own, so only its rows
    decide.
    """
    if rows < PRUNE_COMMON_TOKENS_FROM:
        if rows < CHECK_PRESENCE_FROM:
            return tokens
        # A token no row holds matches nothing and adds exactly 0.0 to every row's bm25, yet
        # FTS5 still weighs it for each matching row: 27 query tokens (the message query's
        # stem variants), 25 of them absent, over 1,000 long messages cost 6.2 ms, the two
        # present ones 4.6 ms; finding the absent ones costs 0.6 ms. Same rows, same scores.
        return [t for t in tokens if _holds(conn, name, t)]

    def count(token: str, cap: int) -> int:
        return conn.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {name} WHERE {name} MATCH ? LIMIT ?)",
            (match_expression([token]), cap),
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
