"""Classification metrics: thin wrappers over scikit-learn that return plain dicts.

Everything takes labels ``y_true`` of shape ``(N,)`` in {0, 1} and scores ``(N,)``
(probabilities for thresholded metrics; any monotone score for AUROC/AUPR).
"""
from __future__ import annotations

import numpy as np


def _check_labels(y_true: np.ndarray, name: str = "y_true") -> np.ndarray:
    if not hasattr(y_true, "__len__"):
        raise TypeError(f"{name} must be an array of 0/1 labels of shape (N,), got {type(y_true).__name__}")
    y = np.asarray(y_true).reshape(-1) if np.ndim(y_true) == 2 and np.shape(y_true)[1] == 1 else np.asarray(y_true)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError(f"{name} must be a non-empty array of shape (N,), got shape {np.shape(y_true)}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"{name} must contain only 0 and 1, got values {np.unique(y)[:5]}")
    return y.astype(int)


def _check_scores(scores: np.ndarray, n: int, name: str) -> np.ndarray:
    if not hasattr(scores, "__len__"):
        raise TypeError(f"{name} must be an array of scores of shape ({n},), got {type(scores).__name__}")
    s = np.asarray(scores, dtype=float)
    if s.ndim == 2 and s.shape[1] == 1:
        s = s[:, 0]
    if s.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) like y_true, got {np.shape(scores)}")
    if not np.isfinite(s).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return s


def _check_threshold(threshold: float) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.floating)):
        raise TypeError(f"threshold must be a number, got {type(threshold).__name__}")
    return float(threshold)


def binary_metrics(y_true: np.ndarray, y_score: np.ndarray, threshold: float = 0.5) -> dict:
    """AUROC, AUPR and the metrics of the confusion matrix at ``threshold``.

    Parameters
    ----------
    y_true : array ``(N,)`` of 0/1
    y_score : array ``(N,)``
        Predicted probabilities of class 1 (``threshold`` applies to these).
    threshold : float
        A sequence is called bound when ``y_score >= threshold``.

    Returns
    -------
    dict
        ``auroc``, ``aupr`` (average precision), ``accuracy``, ``sensitivity``
        (recall of positives, TP / (TP + FN)), ``specificity`` (TN / (TN + FP)),
        ``precision``, ``confusion`` (2x2 int array ``[[TN, FP], [FN, TP]]``), ``threshold``.
        AUROC/AUPR are NaN when only one class is present.
    """
    from sklearn.metrics import average_precision_score, confusion_matrix, roc_auc_score

    y = _check_labels(y_true)
    s = _check_scores(y_score, len(y), "y_score")
    threshold = _check_threshold(threshold)
    pred = (s >= threshold).astype(int)
    cm = confusion_matrix(y, pred, labels=[0, 1])
    tn, fp, fn, tp = cm.ravel()
    both = len(np.unique(y)) == 2
    return {
        "auroc": float(roc_auc_score(y, s)) if both else float("nan"),
        "aupr": float(average_precision_score(y, s)) if both else float("nan"),
        "accuracy": float((tp + tn) / len(y)),
        "sensitivity": float(tp / (tp + fn)) if tp + fn else float("nan"),
        "specificity": float(tn / (tn + fp)) if tn + fp else float("nan"),
        "precision": float(tp / (tp + fp)) if tp + fp else float("nan"),
        "confusion": cm,
        "threshold": threshold,
    }


def mistake_overlap(y_true: np.ndarray, score_a: np.ndarray, score_b: np.ndarray,
                    threshold: float = 0.5) -> dict:
    """Do two models make their mistakes on the same sequences?

    Parameters
    ----------
    y_true : array ``(N,)`` of 0/1
    score_a, score_b : arrays ``(N,)``
        Probabilities of the two models (thresholded at ``threshold``).
    threshold : float

    Returns
    -------
    dict
        ``n`` (sequences), ``wrong_a``, ``wrong_b`` (mistakes of each), ``wrong_both``,
        ``wrong_only_a``, ``wrong_only_b``, ``jaccard`` (shared mistakes / mistakes of
        either; 1 means identical error sets), ``expected_both`` (shared mistakes expected
        if the two models erred independently), ``kappa`` (Cohen's kappa between the two
        models' predicted labels), ``agreement`` (fraction of equal predictions),
        ``table`` (2x2 int array: rows A right/wrong, columns B right/wrong, the
        McNemar table) and ``mcnemar_p`` (exact two-sided McNemar test on the
        off-diagonal: do the models have different error rates?).
    """
    from scipy.stats import binomtest
    from sklearn.metrics import cohen_kappa_score

    y = _check_labels(y_true)
    a = _check_scores(score_a, len(y), "score_a")
    b = _check_scores(score_b, len(y), "score_b")
    threshold = _check_threshold(threshold)
    pa, pb = (a >= threshold).astype(int), (b >= threshold).astype(int)
    wa, wb = pa != y, pb != y
    both, either = int((wa & wb).sum()), int((wa | wb).sum())
    only_a, only_b = int((wa & ~wb).sum()), int((~wa & wb).sum())
    table = np.array([[int((~wa & ~wb).sum()), only_b], [only_a, both]])
    discordant = only_a + only_b
    p = float(binomtest(only_a, discordant, 0.5).pvalue) if discordant else 1.0
    same = bool((pa == pb).all())
    return {
        "n": len(y),
        "wrong_a": int(wa.sum()), "wrong_b": int(wb.sum()),
        "wrong_both": both, "wrong_only_a": only_a, "wrong_only_b": only_b,
        "jaccard": both / either if either else 1.0,
        "expected_both": float(wa.mean() * wb.mean() * len(y)),
        "kappa": 1.0 if same else float(cohen_kappa_score(pa, pb)),
        "agreement": float((pa == pb).mean()),
        "table": table,
        "mcnemar_p": p,
    }


def top_confident(y_score: np.ndarray, k: int = 10, y_true: np.ndarray | None = None,
                  label: int = 1) -> np.ndarray:
    """Indices of the ``k`` highest-scoring sequences (optionally only true ``label``).

    Parameters
    ----------
    y_score : array ``(N,)``
    k : int
    y_true : array ``(N,)`` of 0/1, optional
        When given, only sequences whose label equals ``label`` are considered.

    Returns
    -------
    np.ndarray
        int ``(min(k, candidates),)``, most confident first.
    """
    s = np.asarray(y_score, dtype=float).reshape(-1)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    idx = np.arange(len(s))
    if y_true is not None:
        y = _check_labels(y_true)
        if len(y) != len(s):
            raise ValueError(f"y_true must have the length of y_score ({len(s)}), got {len(y)}")
        idx = idx[y == label]
    order = idx[np.argsort(-s[idx], kind="stable")]
    return order[:k]
