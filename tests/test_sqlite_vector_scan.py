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
