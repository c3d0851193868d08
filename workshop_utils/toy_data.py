"""Toy expression data of the autoencoder lesson: independent genes and their AND products."""
from __future__ import annotations

import numpy as np

from . import _checks

__all__ = ["toy_genes"]


def toy_genes(n_samples: int = 1000, n_genes: int = 2, products: bool = True,
              seed: int | np.random.Generator = 0) -> tuple[np.ndarray, list[str]]:
    """Toy expression data of the autoencoder lesson.

    Each sample expresses each independent gene with its own probability
    ``p ~ Uniform(0, 1)`` (the value stored is that probability, in [0, 1]).
    With ``products=True`` every pair of independent genes adds a gene expressed
    only when both are (AND): its value is the product of the pair.

    Parameters
    ----------
    n_samples, n_genes : int
        Rows, and independent genes (columns before the products).
    products : bool
        Add the pairwise AND genes.
    seed : int or numpy.random.Generator

    Returns
    -------
    X : np.ndarray
        float32 ``(n_samples, n_genes + n_genes * (n_genes - 1) / 2)`` (without
        products: ``(n_samples, n_genes)``).
    names : list of str
        ``['g1', 'g2', 'g1*g2', ...]``.
    """
    fn = "toy_genes"
    n_samples = _checks.positive_int(n_samples, "n_samples", fn)
    n_genes = _checks.positive_int(n_genes, "n_genes", fn)
    products = _checks.flag(products, "products", fn)
    rng = _checks.rng(seed, "seed", fn)
    base = rng.random((n_samples, n_genes)).astype(np.float32)
    names = [f"g{i + 1}" for i in range(n_genes)]
    cols = [base]
    if products:
        for i in range(n_genes):
            for j in range(i + 1, n_genes):
                cols.append(base[:, i:i + 1] * base[:, j:j + 1])
                names.append(f"g{i + 1}*g{j + 1}")
    return np.concatenate(cols, axis=1), names
