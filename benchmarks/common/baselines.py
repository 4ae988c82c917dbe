"""The baselines every benchmark compares graphmem against, over the same messages.

- VectorRAG: every message embedded (same embedder as graphmem, MiniLM by default); a query is
  embedded once and messages are ranked by cosine similarity (top-k), then packed best-first
  into the token budget.
- BM25: SQLite FTS5 in an in-memory database, ranked by FTS5's built-in bm25() (k1=1.2,
  b=0.75), porter-stemmed unicode61 tokens, the query's words OR-ed; packed the same way.
- Full context: every message in the conversation, counted in tokens (no retrieval).

A message is rendered as one context line exactly as graphmem renders a raw-message hit
("- <speaker> said (<date>): <text>"), and packing skips a line that does not fit and tries the
next, as graphmem's context builder does, so both sides spend the same budget the same way.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from benchmarks.common.tokens import count_tokens

HEADER = "Messages (most relevant first):"
CANDIDATES = 400  # ranked messages considered for packing (more than any budget here holds)


@dataclass(frozen=True)
class Message:
    id: str
    user: str
    speaker: str
    text: str
    time: datetime

    def line(self) -> str:
        return f"- {self.speaker} said ({self.time.date().isoformat()}): {self.text}"

    def index_text(self) -> str:
        """What the baselines index: the speaker's name and what they said."""
        return f"{self.speaker}: {self.text}"


@dataclass
class Retrieval:
    """A packed context and the items in it, best first."""

    context: str
    ids: list[str]  # items that fit in the context, in rank order
    lines: list[str]
    tokens: int
    seconds: float
    ranked: list[str] = field(default_factory=list)  # full ranking before packing


def pack(
    items: Sequence[tuple[str, str]], budget: int, header: str = HEADER
) -> tuple[str, list[str], list[str], int]:
    """Greedy best-first packing of (id, line) into `budget` tokens: a line that does not fit
    is skipped and a later, shorter one may still fit. Returns (context, ids, lines, tokens)."""
    used = count_tokens(header) + 1
    lines: list[str] = []
    ids: list[str] = []
    for item_id, line in items:
        cost = count_tokens(line) + 1
        if used + cost > budget:
            continue
        lines.append(line)
        ids.append(item_id)
        used += cost
    if not lines:
        return "", [], [], 0
    context = "\n".join([header, *lines])
    return context, ids, lines, count_tokens(context)


class _Corpus:
    def __init__(self) -> None:
        self.messages: dict[str, Message] = {}
        self.by_user: dict[str, list[str]] = defaultdict(list)

    def _add(self, messages: Sequence[Message]) -> None:
        for m in messages:
            self.messages[m.id] = m
            self.by_user[m.user].append(m.id)

    def full_context_tokens(self, user: str) -> int:
        lines = [self.messages[i].line() for i in self.by_user.get(user, [])]
        return count_tokens("\n".join([HEADER, *lines])) if lines else 0

    def _packed(self, ranked: list[str], budget: int, start: float) -> Retrieval:
        context, ids, lines, tokens = pack([(i, self.messages[i].line()) for i in ranked], budget)
        return Retrieval(context, ids, lines, tokens, time.perf_counter() - start, ranked)


class VectorRAG(_Corpus):
    """Top-k messages by cosine similarity to the query, packed into the budget."""

    name = "vector-rag"

    def __init__(self, embedder) -> None:
        super().__init__()
        self.embedder = embedder
        self._ids: dict[str, list[str]] = defaultdict(list)
        self._chunks: dict[str, list[np.ndarray]] = defaultdict(list)
        self._matrix: dict[str, np.ndarray] = {}

    def add(self, messages: Sequence[Message], batch_size: int = 256) -> None:
        self._add(messages)
        for start in range(0, len(messages), batch_size):
            chunk = list(messages[start : start + batch_size])
            vectors = np.asarray(self.embedder.embed([m.index_text() for m in chunk]))
            for m, v in zip(chunk, vectors, strict=True):
                self._ids[m.user].append(m.id)
                self._chunks[m.user].append(v)
                self._matrix.pop(m.user, None)

    def rank(self, query: str, user: str, k: int = CANDIDATES) -> list[str]:
        return [i for i, _ in self.scored(query, user, k)]

    def scored(self, query: str, user: str, k: int = CANDIDATES) -> list[tuple[str, float]]:
        """The top k (message id, cosine similarity), best first."""
        ids = self._ids.get(user)
        if not ids:
            return []
        matrix = self._matrix.get(user)
        if matrix is None:
            matrix = np.vstack(self._chunks[user]).astype(np.float32)
            self._matrix[user] = matrix
        q = np.asarray(self.embedder.embed_one(query), dtype=np.float32)
        scores = matrix @ q
        k = min(k, len(ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]
        return [(ids[i], float(scores[i])) for i in top]

    def search(self, query: str, user: str, budget: int) -> Retrieval:
        start = time.perf_counter()
        return self._packed(self.rank(query, user), budget, start)


_WORD = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str) -> str:
    """The words of a question, each quoted (so FTS5 syntax in it is inert), OR-ed."""
    words = list(dict.fromkeys(w.casefold() for w in _WORD.findall(text)))
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in words)


class BM25(_Corpus):
    """SQLite FTS5 with its built-in bm25() ranking, in an in-memory database."""

    name = "bm25"

    def __init__(self) -> None:
        super().__init__()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(
            "CREATE VIRTUAL TABLE msgs USING fts5("
            "body, user UNINDEXED, mid UNINDEXED, tokenize='porter unicode61')"
        )

    def add(self, messages: Sequence[Message]) -> None:
        self._add(messages)
        self._db.executemany(
            "INSERT INTO msgs(body, user, mid) VALUES (?, ?, ?)",
            [(m.index_text(), m.user, m.id) for m in messages],
        )
        self._db.commit()

    def rank(self, query: str, user: str, k: int = CANDIDATES) -> list[str]:
        return [i for i, _ in self.scored(query, user, k)]

    def scored(self, query: str, user: str, k: int = CANDIDATES) -> list[tuple[str, float]]:
        """The top k (message id, -bm25) matches, best first (FTS5's bm25() is lower-better)."""
        match = fts_query(query)
        if not match:
            return []
        rows = self._db.execute(
            "SELECT mid, bm25(msgs) AS s FROM msgs WHERE msgs MATCH ? AND user = ? "
            "ORDER BY s, mid LIMIT ?",
            (match, user, k),
        ).fetchall()
        return [(r[0], -float(r[1])) for r in rows]

    def search(self, query: str, user: str, budget: int) -> Retrieval:
        start = time.perf_counter()
        return self._packed(self.rank(query, user), budget, start)

    def close(self) -> None:
        self._db.close()
