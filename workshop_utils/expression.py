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

__all__ = ["knn_accuracy", "preprocess", "scale_01", "separating_dimensions", "variable_genes"]


def _check_matrix(X: Any, name: str = "X") -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"{name} must be a non-empty 2-D array (n_cells, n_features), got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number):
        raise TypeError(f"{name} must be numeric, got dtype {X.dtype}")
    X = X.astype(np.float32, copy=False)
    if not np.isfinite(X).all():
        raise ValueError(f"{name} contains NaN or inf values")
    return X


def _check_labels(labels: Any, n: int, name: str = "labels") -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != n:
        raise ValueError(f"{name} must be a 1-D array with one label per row ({n}), got shape {labels.shape}")
    return labels


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
    X = _check_matrix(X)
    if isinstance(n_genes, bool) or not isinstance(n_genes, (int, np.integer)) or not 1 <= n_genes <= X.shape[1]:
        raise ValueError(f"n_genes must be an integer in [1, {X.shape[1]}], got {n_genes!r}")
    var = X.var(axis=0)
    if method == "variance":
        return np.argsort(-var, kind="stable")[:n_genes]
    if method == "mad":
        mad = np.median(np.abs(X - np.median(X, axis=0)), axis=0)
        return np.lexsort((-var, -mad))[:n_genes]
    raise ValueError(f"method must be 'variance' or 'mad', got {method!r}")


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

    X = _check_matrix(X)
    ref = X if reference is None else _check_matrix(reference, "reference")
    if ref.shape[1] != X.shape[1]:
        raise ValueError(f"reference must have {X.shape[1]} columns like X, got {ref.shape[1]}")
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
    X = _check_matrix(X)
    if genes is not None and len(genes) != X.shape[1]:
        raise ValueError(f"genes must have one name per column of X ({X.shape[1]}), got {len(genes)}")
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

    Z = _check_matrix(Z, "Z")
    labels = _check_labels(labels, len(Z))
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    _, counts = np.unique(labels, return_counts=True)
    if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or not 2 <= folds <= counts.min():
        raise ValueError(f"folds must be an integer in [2, {counts.min()}] (the smallest class), got {folds!r}")
    cv = StratifiedKFold(n_splits=int(folds), shuffle=True, random_state=seed)
    scoring = "balanced_accuracy" if balanced else "accuracy"
    scores = cross_val_score(KNeighborsClassifier(n_neighbors=int(k)), Z, labels, cv=cv, scoring=scoring)
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

    Z = _check_matrix(Z, "Z")
    labels = _check_labels(labels, len(Z))
    target = labels == cell_type
    if not target.any():
        raise ValueError(f"cell_type {cell_type!r} is not in labels (values: {sorted(set(labels.tolist()))})")
    if target.all():
        raise ValueError(f"cell_type {cell_type!r} is the only label; nothing to separate it from")
    rows = []
    for j in range(Z.shape[1]):
        auc = float(roc_auc_score(target, Z[:, j]))
        rows.append({"dimension": j, "auroc": auc, "separation": abs(auc - 0.5) * 2,
                     "mean_in": float(Z[target, j].mean()), "mean_out": float(Z[~target, j].mean())})
    table = pd.DataFrame(rows).sort_values("separation", ascending=False, kind="stable")
    return table.reset_index(drop=True)
