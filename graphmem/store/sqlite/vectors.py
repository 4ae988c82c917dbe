"""The in-memory vector index of one (partition, kind): unit rows, scope codes, top-k."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from graphmem.models import Scope
from graphmem.store.sqlite.adjacency import Adjacency


def _matvec(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """matrix @ vector on the calling thread, one row at a time.

    numpy's `@` hands a matrix-vector product to OpenBLAS's thread pool (sgemv); on a busy
    2-core machine (the embedder's threads, other processes) a 10k x 384 scan then waited ~6 ms
    for a descheduled worker instead of taking 0.5 ms, and on one thread sgemv took 11.7 ms for
    100k x 384. `np.vecdot` takes one dot product per row (OpenBLAS's sdot: single-threaded
    below 10,000 elements, so no pool to wait for): 100k x 384 in 5.6 ms CPU against 6.8 ms for
    einsum, which was used before (benchmarks on this machine, docs/benchmarks.md). A row's
    value is the same bits whether computed alone, gathered, or in the whole matrix."""
    return np.vecdot(matrix, vector)


# Above this many candidate rows, top_k first cuts at the k-th best of every _STRIDE-th row.
_SAMPLED_FROM = 4096
_STRIDE = 16


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

    def __init__(
        self,
        version: int,
        dims: int,
        *,
        scoped: bool,
        tracks_current: bool,
        tracks_ends: bool = False,
    ) -> None:
        self.version = version
        self.dims = dims
        self.n = 0
        self.seqs = np.empty(0, dtype=np.int64)
        self.ids: list[str] = []
        self._buf = np.empty((0, dims), dtype=np.float32)
        self.agents = _Codes() if scoped else None
        self.runs = _Codes() if scoped else None
        self.current = np.empty(0, dtype=bool) if tracks_current else None
        # Facts: which entities each row joins, so a walk never reads a hub's rows from disk.
        self.adjacency = Adjacency() if tracks_ends else None
        self._scores: tuple[bytes, np.ndarray] | None = None  # the last query's cosines

    @property
    def matrix(self) -> np.ndarray:
        return self._buf[: self.n]

    @property
    def nbytes(self) -> int:
        held = int(self._buf.nbytes) + 80 * self.n
        return held + (self.adjacency.nbytes if self.adjacency is not None else 0)

    def append(
        self,
        seqs: Sequence[int],
        ids: Sequence[str],
        vectors: np.ndarray,
        agents: Sequence[str | None] = (),
        runs: Sequence[str | None] = (),
        current: Sequence[bool] = (),
        sources: Sequence[str] = (),
        targets: Sequence[str] = (),
    ) -> bool:
        """Add rows (seqs ascending, after every seq held); False when that order would break
        (or, for facts, when a row's entities are not given)."""
        k = len(seqs)
        if k == 0:
            return True
        if (self.n and seqs[0] <= self.seqs[-1]) or any(
            a >= b for a, b in zip(seqs, seqs[1:], strict=False)
        ):
            return False
        if self.adjacency is not None and not (len(sources) == len(targets) == k):
            return False
        self._scores = None
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
        if self.adjacency is not None:
            self.adjacency.extend(sources, targets)
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
        self._scores = None
        self._buf[pos[0]] = _unit_rows(np.asarray([vector], dtype=np.float32))[0]
        return True

    def remove(self, seqs: Sequence[int]) -> None:
        """Drop deleted rows (one copy of the matrix, no reload from the database)."""
        pos, found = self.rows_of(seqs)
        if not found.any():
            return
        keep = np.ones(self.n, dtype=bool)
        keep[pos[found]] = False
        self._scores = None
        self._buf = self._buf[: self.n][keep]
        self.n = int(keep.sum())
        self.seqs = self.seqs[keep]
        self.ids = [i for i, k in zip(self.ids, keep, strict=True) if k]
        if self.agents is not None and self.runs is not None:
            self.agents.keep(keep)
            self.runs.keep(keep)
        if self.current is not None:
            self.current = self.current[keep]
        if self.adjacency is not None:
            self.adjacency.keep(keep)

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
        if k <= 0:
            return []
        everything = bool(mask.all())
        candidates = np.arange(self.n) if everything else np.flatnonzero(mask)
        if candidates.size == 0:
            return []
        scores = self.scores(query)
        scores = scores if everything else scores[candidates]
        sample = scores[::_STRIDE]
        if candidates.size > _SAMPLED_FROM and sample.size >= k:
            # The k-th best of any subset is at most the k-th best of all: rows below a
            # sample's k-th best cannot be among the k best, so the exact cut below looks at
            # the few rows above it (~k * stride) instead of partitioning all of them.
            floor = np.partition(sample, -k)[-k]
            keep = np.flatnonzero(scores >= floor)
            candidates, scores = candidates[keep], scores[keep]
        if candidates.size > k:
            kth = np.partition(scores, candidates.size - k)[candidates.size - k]
            keep = np.flatnonzero(scores >= kth)
            candidates, scores = candidates[keep], scores[keep]
        order = sorted(
            range(candidates.size), key=lambda i: (-float(scores[i]), self.ids[candidates[i]])
        )[:k]
        return [(int(self.seqs[candidates[i]]), float(scores[i])) for i in order]

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Cosine of every row to the query, clipped to [-1, 1]; kept for the last query, so a
        search's vector list and its walk scan the matrix once. (A row's value is the same
        bits whether computed alone or in the whole matrix: see _matvec.)"""
        key = query.tobytes()
        memo = self._scores
        if memo is None or memo[0] != key:
            memo = (key, np.clip(_matvec(self.matrix, query), -1.0, 1.0))
            self._scores = memo
        return memo[1]

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
    # Facts: seq -> (source_id, target_id) of each appended row, for the adjacency.
    ends: dict[int, tuple[str, str]] = field(default_factory=dict)
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
            sources = [self.ends[seq][0] for seq in seqs if seq in self.ends]
            targets = [self.ends[seq][1] for seq in seqs if seq in self.ends]
            if not index.append(seqs, ids, matrix, agents, runs, current, sources, targets):
                return False
        index.end(self.ended)
        index.remove(self.removed)
        return True
