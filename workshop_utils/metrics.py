"""Classification metrics: thin wrappers over scikit-learn that return plain dicts.

Everything takes labels ``y_true`` of shape ``(N,)`` in {0, 1} and scores ``(N,)``
(probabilities for thresholded metrics; any monotone score for AUROC/AUPR).
"""
from __future__ import annotations

import numpy as np

from . import _checks


def _scores(scores: np.ndarray, n: int, name: str, fn: str, probabilities: bool = False) -> np.ndarray:
    """Finite scores of shape ``(n,)`` (``(n, 1)`` accepted) as float64.

    ``probabilities=True`` (scores a threshold applies to) also refuses values outside
    ``[0, 1]``: logits, or percentages, thresholded at 0.5 would give plausible wrong counts.
    """
    s = _checks.finite_array(scores, name, fn, ndim=(1, 2), dtype=float)
    if s.ndim == 2 and s.shape[1] == 1:
        s = s[:, 0]
    if s.shape != (n,):
        raise _checks.fail(fn, name, f"an array of shape ({n},) like y_true", f"shape {np.shape(scores)}",
                           hint="one score per sequence; a model with several outputs needs one column chosen")
    if probabilities and len(s) and (s.min() < 0.0 or s.max() > 1.0):
        hint = ("these look like percentages: divide by 100" if s.min() >= 0.0 and s.max() <= 100.0 else
                "these look like logits: pass backend.sigmoid(scores), or backend.predict_proba(model, X)")
        raise _checks.fail(fn, name, "probabilities in [0, 1]", f"values from {s.min():.4g} to {s.max():.4g}",
                           hint=hint)
    return s


def _threshold(threshold, fn: str) -> float:
    """A probability threshold in [0, 1]; a percentage such as 50 is refused with the fraction to write."""
    return _checks.rate(threshold, "threshold", fn)  # 50 is refused with "write 0.5 for 50%"


def binary_metrics(y_true: np.ndarray, y_score: np.ndarray, threshold: float = 0.5) -> dict:
    """AUROC, AUPR and the metrics of the confusion matrix at ``threshold``.

    Parameters
    ----------
    y_true : array ``(N,)`` of 0/1
    y_score : array ``(N,)``
        Predicted probabilities of class 1, in [0, 1] (``threshold`` applies to these;
        logits are refused: pass ``backend.sigmoid(logits)``).
    threshold : float
        A sequence is called bound when ``y_score >= threshold``; a fraction in [0, 1]
        (50 is refused: write 0.5).

    Returns
    -------
    dict
        ``auroc``, ``aupr`` (average precision), ``accuracy``, ``sensitivity``
        (recall of positives, TP / (TP + FN)), ``specificity`` (TN / (TN + FP)),
        ``precision``, ``confusion`` (2x2 int array ``[[TN, FP], [FN, TP]]``), ``threshold``.
        AUROC/AUPR are NaN when only one class is present.
    """
    from sklearn.metrics import average_precision_score, confusion_matrix, roc_auc_score

    fn = "binary_metrics"
    y = _checks.binary_labels(y_true, "y_true", fn).astype(int)
    s = _scores(y_score, len(y), "y_score", fn, probabilities=True)
    threshold = _threshold(threshold, fn)
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

    fn = "mistake_overlap"
    y = _checks.binary_labels(y_true, "y_true", fn).astype(int)
    a = _scores(score_a, len(y), "score_a", fn, probabilities=True)
    b = _scores(score_b, len(y), "score_b", fn, probabilities=True)
    threshold = _threshold(threshold, fn)
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
    fn = "top_confident"
    s = _checks.finite_array(y_score, "y_score", fn, ndim=(1, 2), dtype=float)
    if s.ndim == 2 and s.shape[1] != 1:
        raise _checks.fail(fn, "y_score", "an array of shape (N,)", f"shape {s.shape}")
    s = s.reshape(-1)
    k = _checks.positive_int(k, "k", fn)
    idx = np.arange(len(s))
    if y_true is not None:
        y = _checks.binary_labels(y_true, "y_true", fn, n=len(s))
        label = _checks.one_of(label, "label", fn, (0, 1))
        idx = idx[y == label]
    order = idx[np.argsort(-s[idx], kind="stable")]
    return order[:k]


def bootstrap_interval(y_true: np.ndarray, y_pred: np.ndarray, metric, n_boot: int = 1000,
                       level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of ``metric(y_true, y_pred)`` over the test samples.

    The samples are drawn with replacement ``n_boot`` times and the metric recomputed on
    each draw; the interval holds the middle ``level`` of those values.  It says how much
    the score would move on another test set of the same size from the same cells (not
    how much it would move with another training run).

    Parameters
    ----------
    y_true : array ``(N,)``
        Labels (any codes the metric takes).
    y_pred : array ``(N,)`` or ``(N, C)``
        Predictions or scores, resampled along the first axis together with ``y_true``.
    metric : callable
        ``metric(y_true, y_pred) -> float``, e.g. ``nas.dense.macro_f1``.
    n_boot : int
        Bootstrap draws (>= 10).
    level : float
        Coverage, in (0, 1).
    seed : int
        Seeds the draws.

    Returns
    -------
    tuple of float
        ``(low, high)``.
    """
    fn = "bootstrap_interval"
    y = _checks.finite_array(y_true, "y_true", fn, ndim=1, dtype=None)
    p = _checks.finite_array(y_pred, "y_pred", fn, ndim=(1, 2), dtype=None)
    if len(p) != len(y):
        raise _checks.fail(fn, "y_pred", f"one row per sample like y_true ({len(y)})", f"{len(p)} rows")
    if not callable(metric):
        raise _checks.fail(fn, "metric", "a function metric(y_true, y_pred) -> float", metric, kind=TypeError)
    n_boot = _checks.positive_int(n_boot, "n_boot", fn, minimum=10)
    level = _checks.number(level, "level", fn, low=0.0, high=1.0, low_open=True, high_open=True)
    rng = _checks.rng(seed, "seed", fn)
    draws = rng.integers(0, len(y), size=(n_boot, len(y)))
    values = np.array([float(metric(y[i], p[i])) for i in draws])
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)
