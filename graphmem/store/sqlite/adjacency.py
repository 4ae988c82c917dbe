"""Which fact rows touch which entity: the in-memory adjacency of a partition's cached facts.

Why. A walk hop picks, for each frontier entity, the `fanout` facts most similar to the query
among ALL the entity's facts (store contract, `expand`). Read from SQLite, a hub entity (a
city, an employer, a hobby) costs a row per fact, each turned into a Python tuple and sorted:
~6 us a row, 2,400 rows (max 7,900) per search at 100k facts, 15 ms CPU, growing with the
partition. Held here as integer arrays beside the fact vectors (same rows, same order, patched
by the same writes), a hop is a few numpy gathers over the frontier's rows, and similarities
are a lookup in the query's score vector, which the first-stage vector list computed anyway.
The facts chosen are exactly those of the SQL walk: the same candidates, the same order, the
same tie-breaks. Nothing is dropped, so the result cannot depend on this cache.

Layout: `src[i]`, `tgt[i]` are entity codes of index row i. A CSR (rows of each entity,
grouped by code) covers the rows up to `_built`; rows appended since (the tail) are scanned
directly, and the CSR is rebuilt when the tail outgrows TAIL_ROWS (17 ms at 100k facts,
i.e. a few microseconds per added fact). A self-loop fact is listed once for its entity.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

TAIL_ROWS = 2048  # appended rows scanned directly before the CSR is rebuilt


class Adjacency:
    """Entity codes of each fact row of one cached index, and each entity's rows."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.entity_ids: list[str] = []  # code -> entity id
        self.src = np.empty(0, dtype=np.int32)
        self.tgt = np.empty(0, dtype=np.int32)
        self._built = 0  # rows covered by the CSR
        self._starts = np.zeros(1, dtype=np.int64)
        self._rows = np.empty(0, dtype=np.int64)

    @property
    def nbytes(self) -> int:
        """Memory held, roughly (arrays, CSR, and ~100 bytes per entity id in the maps)."""
        arrays = self.src.nbytes + self.tgt.nbytes + self._starts.nbytes + self._rows.nbytes
        return int(arrays) + 100 * len(self.entity_ids)

    def _code(self, entity_id: str) -> int:
        code = self.codes.get(entity_id)
        if code is None:
            code = self.codes[entity_id] = len(self.entity_ids)
            self.entity_ids.append(entity_id)
        return code

    def extend(self, sources: Sequence[str], targets: Sequence[str]) -> None:
        """Append rows (in index order): each row's source and target entity ids."""
        n = len(sources)
        src = np.fromiter((self._code(s) for s in sources), dtype=np.int32, count=n)
        tgt = np.fromiter((self._code(t) for t in targets), dtype=np.int32, count=n)
        self.src = np.concatenate([self.src, src])
        self.tgt = np.concatenate([self.tgt, tgt])

    def keep(self, rows: np.ndarray) -> None:
        """Keep only the rows where `rows` (a boolean mask) is True; positions move, so the
        CSR is rebuilt on next use (deletes are rare)."""
        self.src = self.src[rows]
        self.tgt = self.tgt[rows]
        self._built = 0
        self._starts = np.zeros(1, dtype=np.int64)
        self._rows = np.empty(0, dtype=np.int64)

    def _build(self) -> None:
        n = len(self.src)
        loops = self.src == self.tgt
        ends = np.concatenate([self.src, self.tgt[~loops]])
        rows = np.concatenate([np.arange(n), np.flatnonzero(~loops)])
        order = np.argsort(ends, kind="stable")
        self._rows = rows[order]
        self._starts = np.searchsorted(ends[order], np.arange(len(self.entity_ids) + 1))
        self._built = n

    def rows_of(self, entity_ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(row positions, entity code each was reached through) of every fact row touching
        any of the entities; a fact joining two of them comes once for each."""
        if len(self.src) - self._built > TAIL_ROWS:
            self._build()
        codes = [c for c in (self.codes.get(e) for e in entity_ids) if c is not None]
        if not codes:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int32)
        rows: list[np.ndarray] = []
        vias: list[np.ndarray] = []
        for code in codes:
            if code + 1 < len(self._starts):
                found = self._rows[self._starts[code] : self._starts[code + 1]]
                rows.append(found)
                vias.append(np.full(len(found), code, dtype=np.int32))
        if self._built < len(self.src):  # the tail, scanned
            src, tgt = self.src[self._built :], self.tgt[self._built :]
            wanted = np.asarray(codes, dtype=np.int32)
            for ends, skip_loops in ((src, False), (tgt, True)):
                hit = np.isin(ends, wanted)
                if skip_loops:
                    hit &= src != tgt
                at = np.flatnonzero(hit)
                rows.append(at + self._built)
                vias.append(ends[at])
        return np.concatenate(rows), np.concatenate(vias)
