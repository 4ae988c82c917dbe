"""Full-text search on FTS5: document and query tokens, MATCH expressions, common-word pruning."""

from __future__ import annotations

import hashlib
import math
import sqlite3
from collections.abc import Sequence

from graphmem.text import fts_query_terms, fts_terms

# Below this many indexed rows every query token is matched; above it, tokens too common to
# score are left out (see _informative).
PRUNE_COMMON_TOKENS_FROM = 10_000
RARE_SHARE = 0.05  # of an index's rows: see _informative


def _partition_token(partition: str) -> str:
    """One FTS token standing for a partition: letters and digits only, whatever the ids."""
    return "p" + hashlib.blake2b(partition.encode("utf-8"), digest_size=12).hexdigest()


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
            f"SELECT count(*) FROM (SELECT 1 FROM {kind}_fts WHERE {kind}_fts MATCH ? LIMIT ?)",
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
