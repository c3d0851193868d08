"""The k-mer logistic-regression baseline's features, shared by the benchmarks (imported as a sibling script)."""
from __future__ import annotations

import numpy as np
from scipy import sparse


def kmer_counts(X: np.ndarray, k: int = 6, both_strands: bool = False) -> sparse.csr_matrix:
    """Bag of k-mers: ``(N, 4**k)`` counts, on the forward strand (and its reverse complement if ``both_strands``).

    ``X`` is one-hot ``(N, L, 4)`` in A, C, G, T order.
    """
    idx = X.argmax(-1).astype(np.int64)
    if both_strands:
        idx = np.concatenate([idx, 3 - idx[:, ::-1]], axis=1)  # the reverse complement, appended
    n, L = idx.shape
    code = np.zeros((n, L - k + 1), dtype=np.int64)
    for j in range(k):
        code = code * 4 + idx[:, j:L - k + 1 + j]
    rows = np.repeat(np.arange(n), L - k + 1)
    m = sparse.csr_matrix((np.ones(code.size, dtype=np.float32), (rows, code.ravel())), shape=(n, 4 ** k))
    m.sum_duplicates()
    return m
