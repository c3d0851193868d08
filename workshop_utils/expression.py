"""Expression matrices for autoencoders: Tybalt-style preprocessing and "does it keep the biology?".

Tybalt (Way & Greene 2018) kept the 5,000 genes with the largest median absolute
deviation (MAD) and scaled each gene to [0, 1] (so a sigmoid decoder can rebuild it).
Single-cell data are sparse: in the PBMC matrix two thirds of the values are 0 and
most genes have a median of 0, so their MAD is 0 and cannot rank them; the variance
(``method="variance"``, the default here) ranks every gene.

Every function takes plain arrays ``X (n_cells, n_genes)`` so other lessons can reuse it.
scikit-learn does the classifiers and the scaling.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import _checks

__all__ = ["knn_accuracy", "preprocess", "scale_01", "separating_dimensions", "variable_genes"]


def _matrix(X: Any, name: str, fn: str) -> np.ndarray:
    """A finite 2-D float32 matrix ``(n_cells, n_features)``."""
    X = _checks.finite_array(X, name, fn, ndim=2)
    if 0 in X.shape:
        raise _checks.fail(fn, name, "a non-empty matrix (n_cells, n_features)", f"shape {X.shape}")
    return X


def _labels(labels: Any, n: int, fn: str, name: str = "labels") -> np.ndarray:
    """One label per row (any hashable values; no None or NaN)."""
    if isinstance(labels, str) or not hasattr(labels, "__len__"):
        raise _checks.fail(fn, name, f"an array of {n} labels (one per row)", _checks.describe(labels),
                           kind=_checks.ArgumentTypeError)
    arr = np.asarray(labels)
    if arr.ndim != 1 or len(arr) != n:
        raise _checks.fail(fn, name, f"a 1-D array of {n} labels (one per row)", f"shape {arr.shape}")
    missing = np.array([v is None or (isinstance(v, (float, np.floating)) and np.isnan(v)) for v in arr.tolist()])
    if missing.any():
        raise _checks.fail(fn, name, "one label for every row (no None or NaN)", f"{int(missing.sum())} missing, the "
                           f"first at row {int(np.argmax(missing))}")
    return arr


def variable_genes(X: np.ndarray, n_genes: int, method: str = "variance") -> np.ndarray:
    """Indices of the ``n_genes`` most variable genes (columns), most variable first.

    Parameters
    ----------
    X : array ``(n_cells, n_genes_total)``
    n_genes : int
        How many to keep (1 ... ``n_genes_total``).
    method : {'variance', 'mad'}
        ``'mad'`` is Tybalt's median absolute deviation; ties (e.g. MAD 0 in sparse
        single-cell data) are broken by the variance.

    Returns
    -------
    np.ndarray int ``(n_genes,)``.
    """
    fn = "variable_genes"
    X = _matrix(X, "X", fn)
    n_genes = _checks.positive_int(n_genes, "n_genes", fn)
    if n_genes > X.shape[1]:
        raise _checks.fail(fn, "n_genes", f"an integer in [1, {X.shape[1]}] (the genes of X)", n_genes)
    _checks.one_of(method, "method", fn, ("variance", "mad"))
    var = X.var(axis=0)
    if method == "variance":
        return np.argsort(-var, kind="stable")[:n_genes]
    mad = np.median(np.abs(X - np.median(X, axis=0)), axis=0)
    return np.lexsort((-var, -mad))[:n_genes]


def scale_01(X: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """Scale every column to [0, 1] with scikit-learn's ``MinMaxScaler``.

    Parameters
    ----------
    X : array ``(n_cells, n_features)``
    reference : array ``(m, n_features)``, optional
        Fit the minimum and maximum on these rows (e.g. the training cells) and apply
        them to ``X`` (values outside the reference range are clipped to [0, 1]).

    Returns
    -------
    np.ndarray float32 ``(n_cells, n_features)`` in [0, 1]; constant columns become 0.
    """
    from sklearn.preprocessing import MinMaxScaler

    fn = "scale_01"
    X = _matrix(X, "X", fn)
    ref = X if reference is None else _matrix(reference, "reference", fn)
    if ref.shape[1] != X.shape[1]:
        raise _checks.fail(fn, "reference", f"a matrix with {X.shape[1]} columns like X", f"shape {ref.shape}")
    scaled = MinMaxScaler(clip=True).fit(ref).transform(X)
    return scaled.astype(np.float32)


def preprocess(X: np.ndarray, n_genes: int | None = None, method: str = "variance",
               genes: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Tybalt's preprocessing: keep the most variable genes, then scale each to [0, 1].

    Parameters
    ----------
    X : array ``(n_cells, n_genes_total)``
        Log-normalised expression.
    n_genes : int, optional
        Genes to keep (all when None), ranked by :func:`variable_genes`.
    method : {'variance', 'mad'}
    genes : list of str, optional
        Gene names, only checked for length (select them with the returned indices).

    Returns
    -------
    X01 : np.ndarray float32 ``(n_cells, n_genes)`` in [0, 1]
    keep : np.ndarray int ``(n_genes,)``, the kept columns of ``X``.
    """
    fn = "preprocess"
    X = _matrix(X, "X", fn)
    if genes is not None and (isinstance(genes, str) or len(genes) != X.shape[1]):
        raise _checks.fail(fn, "genes", f"one name per column of X ({X.shape[1]})",
                           f"{len(genes)} names" if not isinstance(genes, str) else _checks.describe(genes))
    keep = variable_genes(X, X.shape[1] if n_genes is None else n_genes, method=method)
    return scale_01(X[:, keep]), keep


def knn_accuracy(Z: np.ndarray, labels: np.ndarray, k: int = 5, folds: int = 5, seed: int = 0,
                 balanced: bool = False) -> float:
    """Cross-validated k-nearest-neighbour accuracy of the labels in a representation ``Z``.

    A representation that keeps the biology puts cells of the same type next to each
    other, so their neighbours predict their type.  Stratified ``folds``-fold
    cross-validation with scikit-learn's ``KNeighborsClassifier`` (Euclidean distance).

    Parameters
    ----------
    Z : array ``(n_cells, d)``
        Raw expression or latent codes.
    labels : array ``(n_cells,)``
        Cell types (any hashable values).
    k : int
        Neighbours.
    folds : int
        At least 2 and at most the size of the smallest class.
    seed : int
        Shuffles the folds.
    balanced : bool
        Report the balanced accuracy (mean recall per class) instead of the accuracy.

    Returns
    -------
    float in [0, 1], the mean over folds.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    fn = "knn_accuracy"
    Z = _matrix(Z, "Z", fn)
    labels = _labels(labels, len(Z), fn)
    k = _checks.positive_int(k, "k", fn)
    seed = _checks.non_negative_int(seed, "seed", fn)
    balanced = _checks.flag(balanced, "balanced", fn)
    kinds, counts = np.unique(labels, return_counts=True)
    if len(kinds) < 2:
        raise _checks.fail(fn, "labels", "at least two cell types", f"only {kinds[0].tolist()!r}",
                           hint="with one type every neighbour is right: the accuracy would be 1.0 and mean nothing")
    folds = _checks.positive_int(folds, "folds", fn, minimum=2)
    if folds > counts.min():
        raise _checks.fail(fn, "folds", f"an integer in [2, {counts.min()}] (the size of the smallest class, "
                           f"{kinds[np.argmin(counts)]!r})", folds)
    n_fit = len(Z) - -(-len(Z) // folds)  # the training cells of the smallest fold's complement
    if k > n_fit:
        raise _checks.fail(fn, "k", f"at most the training cells of a fold ({n_fit})", k)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scoring = "balanced_accuracy" if balanced else "accuracy"
    scores = cross_val_score(KNeighborsClassifier(n_neighbors=k), Z, labels, cv=cv, scoring=scoring)
    return float(np.mean(scores))


def separating_dimensions(Z: np.ndarray, labels: np.ndarray, cell_type: Any):
    """How well each latent dimension alone separates one cell type from all other cells.

    Tybalt found single encodings that separate sex or melanoma from the other tumours;
    this is the same question for a cell type.  For every dimension ``j`` the AUROC of
    ``Z[:, j]`` as a score for ``labels == cell_type`` (0.5: no separation; 0 or 1:
    perfect, the sign only says which end).

    Parameters
    ----------
    Z : array ``(n_cells, d)``
    labels : array ``(n_cells,)``
    cell_type
        A value present in ``labels`` (and not the only one).

    Returns
    -------
    pandas.DataFrame with one row per dimension, sorted best first: ``dimension``,
    ``auroc``, ``separation`` (``|auroc - 0.5| * 2``, in [0, 1]), ``mean_in`` and
    ``mean_out`` (the dimension's mean in the cell type and in the rest).
    """
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    fn = "separating_dimensions"
    Z = _matrix(Z, "Z", fn)
    labels = _labels(labels, len(Z), fn)
    target = labels == cell_type
    if not target.any():
        raise _checks.fail(fn, "cell_type", f"one of the labels {sorted(set(labels.tolist()))}",
                           _checks.describe(cell_type))
    if target.all():
        raise _checks.fail(fn, "labels", f"at least one cell that is not {cell_type!r}", "only that type",
                           hint="nothing to separate it from")
    rows = []
    for j in range(Z.shape[1]):
        auc = float(roc_auc_score(target, Z[:, j]))
        rows.append({"dimension": j, "auroc": auc, "separation": abs(auc - 0.5) * 2,
                     "mean_in": float(Z[target, j].mean()), "mean_out": float(Z[~target, j].mean())})
    table = pd.DataFrame(rows).sort_values("separation", ascending=False, kind="stable")
    return table.reset_index(drop=True)
