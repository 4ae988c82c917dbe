"""The cached vector scan gives each row the same bits whether it is scored with the whole
matrix (the first-stage list) or gathered alone (the walk's similarities): a walk's fan-out
ties, and so its choice, must not depend on which path computed a score."""

from __future__ import annotations

import numpy as np

from graphmem.store.sqlite.vectors import _VectorIndex


def test_a_row_scores_the_same_alone_gathered_or_in_the_matrix():
    rng = np.random.default_rng(7)
    dims, n = 384, 1037  # odd sizes: no row starts on a convenient boundary
    index = _VectorIndex(1, dims, scoped=False, tracks_current=False)
    matrix = rng.standard_normal((n, dims)).astype(np.float32)
    index.append(list(range(1, n + 1)), [f"f{i}" for i in range(n)], matrix)
    query = rng.standard_normal(dims).astype(np.float32)
    query /= np.linalg.norm(query)
    whole = index.scores(query)
    picked = [5, 17, 400, 1036, 3]
    gathered = index.similarities([p + 1 for p in picked], query)
    assert np.array_equal(gathered, whole[picked].astype(np.float64))
    for p in picked:
        assert index.similarities([p + 1], query)[0] == float(whole[p])
    exact = (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float64) @ query
    assert np.allclose(whole, exact, atol=1e-6)


def _reference_top_k(index: _VectorIndex, query, k: int, mask) -> list[tuple[int, float]]:
    scores = index.scores(query)
    rows = sorted(np.flatnonzero(mask), key=lambda i: (-float(scores[i]), index.ids[i]))[:k]
    return [(int(index.seqs[i]), float(scores[i])) for i in rows]


def test_top_k_is_the_k_best_by_score_then_id_on_large_matrices_with_ties_and_masks():
    """Past a few thousand rows top_k cuts at a sample's k-th best before the exact cut: the
    rows, scores and order must still be those of sorting every row under the mask."""
    rng = np.random.default_rng(11)
    dims = 16
    for n in (4096, 4097, 9000, 20011):
        index = _VectorIndex(1, dims, scoped=False, tracks_current=False)
        matrix = rng.standard_normal((n, dims)).astype(np.float32)
        matrix[n // 2 :: 97] = matrix[3]  # groups of identical rows: ties at any cut
        ids = [f"r{int(x):06d}" for x in rng.permutation(n)]
        index.append(list(range(1, n + 1)), ids, matrix)
        for query in (matrix[3] / np.linalg.norm(matrix[3]), rng.standard_normal(dims)):
            query = (query / np.linalg.norm(query)).astype(np.float32)
            for mask in (np.ones(n, bool), rng.random(n) < 0.3, np.zeros(n, bool)):
                for k in (1, 7, 51, 300, n):
                    got = index.top_k(query, k, mask)
                    assert got == _reference_top_k(index, query, k, mask), (n, k)
