"""What the homework checks share: the reference data, the probe's thresholds and scores, small helpers.

The practices themselves are in :mod:`~workshop_utils.grading.day1` and
:mod:`~workshop_utils.grading.day2` (one block per practice); :mod:`~workshop_utils.grading.practices`
lists them.

Two sorts of checks:

* **consistency checks** compare the student's numbers with each other and with the
  *reference data* (:func:`reference`: the labels and planted sites of the course data,
  loaded by the checking process).  The student holds the same labels, so these prove that
  the numbers fit together, not that a model learned: a value typed in to fit can pass them.
* **private checks** (``Check(..., private=True)``) score the student's *models* on the
  grader's private probe set (:mod:`workshop_utils.grading.probe`): sequences the model's
  kernel scored without ever seeing their labels.  Every check that credits a trained
  model (it learned, it beats the baseline, its ISM finds the planted sites...) is one,
  and in each practice they are worth more than the consistency checks.  The self-check
  has no probe: it lists them as checked by the instructor's grader.

Thresholds of the private checks are in :data:`LIMITS` (how they were measured:
``homework/README.md``, "What can and cannot be forged").
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..config import is_quick, pick
from .core import NotInExport, as_vector, measure


# ----------------------------------------------------------------------------- reference data
@lru_cache(maxsize=4)
def _reference(quick: bool, source: str | None) -> dict:
    from ..datasets import load_ctcf

    data = load_ctcf(source=source)
    n = len(data.y_test)
    sites = (getattr(data, "sites", None) or {}).get("test") or {}  # a real data file has no planted sites
    return {"quick": quick, "y_valid": data.y_valid.astype(int), "y_test": data.y_test.astype(int),
            "x_test": data.x_test, "site_start_test": np.asarray(sites.get("start", np.full(n, -1))),
            "site_strand_test": np.asarray(sites.get("strand", np.zeros(n, int)))}


def reference(source: str | None = None) -> dict:
    """The reference data checks compare against: labels, test sequences and planted sites.

    ``source`` is that of :func:`workshop_utils.datasets.load_ctcf` (None: what the
    notebook's ``load_ctcf()`` reads). The grader passes ``'simulated'``: its kernels have
    no network and its probe and thresholds are the simulator's.

    Returns
    -------
    dict
        ``y_valid (N_valid,)``, ``y_test (N_test,)`` int 0/1, ``x_test (N_test, L, 4)``,
        ``site_start_test (N_test,)`` (-1: no planted site), ``site_strand_test``, ``quick``.
    """
    return _reference(is_quick(), source)


def auroc(y: np.ndarray, s: np.ndarray) -> float:
    """Area under the ROC curve of scores ``s`` (N,) against 0/1 labels ``y`` (N,) (scikit-learn's)."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, s))


def probabilities(v: dict, name: str, n: int) -> np.ndarray:
    """The student's value ``v[name]`` as probabilities, shape (n,).

    Raises
    ------
    ValueError
        When it is not a finite vector of length ``n`` in [0, 1].
    """
    s = as_vector(v[name], n, name)
    if s.min() < 0 or s.max() > 1:
        raise ValueError(f"{name} must be probabilities in [0, 1], got range [{s.min():.3g}, {s.max():.3g}]")
    return s


# ------------------------------------------------------------------- private data (the probe)
#: Thresholds of the private checks: ``name: (full mode, quick mode)``.  Measured on the
#: reference solutions against independent probe sets (4 x 10,000 sequences in full mode,
#: 10 x 2,000 in quick mode; homework/README.md, "What can and cannot be forged", has the
#: numbers).  In the comments: reference value (spread over probes); F = full, Q = quick.
LIMITS: dict[str, tuple[float, float]] = {
    # |student's test-set AUROC - the model's probe AUROC|. F: 0.853 vs 0.857 (sd 0.004), Q: 0.635 vs 0.632
    # (sd 0.013); the noise of the test set (5,000 / 1,000 sequences) dominates
    "auroc_tol": (0.03, 0.07),
    # |mistake_jaccard - the two models' Jaccard on the probe|. F: 0.873 vs 0.843 (sd 0.006), Q: 0.354 vs 0.345
    "jaccard_tol": (0.06, 0.1),
    # |best val_loss - model_p3's probe loss| (and restored_val_loss). F: 0.437 vs 0.443 (sd 0.004), Q: 0.638 vs 0.635
    "loss_tol": (0.03, 0.05),
    # |best val_auroc of p4_results - best_model_p4's probe AUROC|. F: 0.858 vs 0.856 (sd 0.003), Q: 0.586 vs 0.564:
    # the best of 7 short noisy runs on 1,000 validation sequences is biased upwards
    "table_tol": (0.03, 0.1),
    # a course model trained as in the lesson. F: 0.854-0.858; Q: 0.63 (1 epoch) to 0.77; untrained: 0.5
    "learned": (0.80, 0.58),
    # practice 4's best short run. F: 0.856, Q: 0.564
    "learned_p4": (0.75, 0.53),
    # my_model must reach max(baseline's probe AUROC, floor) + margin on all the probe's sequences.
    # F (100,000 sequences): my_model 0.860, baseline 0.857, sd of the difference 0.0006, of one AUROC 0.0013;
    # the floor is the lesson's recipe (0.857) less 0.002. Q: 0.771 vs 0.632
    "baseline_floor": (0.855, 0.60),
    "beat_margin": (0.001, 0.002),
    # Day 2: share of probe positives with a planted site whose top ISM window is on it.
    # F: 0.965 (sd 0.022 over 300-sequence sets), Q: 0.79 (sd 0.07 over 120); chance: about 0.2
    "ism_sites": (0.8, 0.55),
    # |site_recovery - the same on the probe|. F: 0.972 vs 0.965, Q: 0.824 vs 0.79
    "recovery_tol": (0.12, 0.25),
    # mean peak |ISM| of probe positives / of negatives. F: 1.58 (sd 0.07), Q: 1.19 (sd 0.05); untrained: 1.0
    "peak_ratio": (1.25, 1.03),
    # |peak_ratio - the probe's| / the probe's. F: 1.66 vs 1.58, Q: 1.27 vs 1.19
    "peak_ratio_rel_tol": (0.25, 0.3),
    # |best reward - the best child's probe AUROC|. F: 0.688 (1,000 validation sequences, best of 10) vs 0.663,
    # Q: 0.487 vs 0.510 (300 sequences, 1 epoch: quick children do not learn)
    "reward_tol": (0.08, 0.12),
    "child_learned": (0.6, 0.45),
    # IG: planted sites found (F: 0.971, sd 0.02; Q: 0.84, sd 0.06), median Spearman with ISM on probe
    # positives (F: 0.497, sd 0.01; Q: 0.58), students' median rank correlation vs the probe's (F: 0.495 vs 0.497)
    "ig_sites": (0.8, 0.55),
    "ig_ism_agree": (0.3, 0.3),
    "rank_corr_tol": (0.15, 0.25),
}


def limit(name: str) -> float:
    """The threshold ``name`` of :data:`LIMITS` in the current mode."""
    full, quick = LIMITS[name]
    value = pick(full=full, quick=quick)
    measure("limit", value, name=name)
    return value


def probe_scores(v: dict, name: str, ref: dict, rows: str = "head") -> np.ndarray:
    """The probabilities the exported model ``name`` gave the probe's sequences.

    ``rows='head'``: the first ``ref["probe"]["n"]`` sequences (every model is scored on
    them); ``rows='all'``: every sequence (models exported with ``large_probe``).  The
    matching labels are ``probe_labels(ref, len(scores))``.
    """
    m, pr = v[name], ref["probe"]
    if "probe_scores" not in m:
        if "probe_missing" in m:
            raise ValueError(m["probe_missing"])
        raise NotInExport(f"{name} was not scored on the grader's probe")
    s = np.asarray(m["probe_scores"], dtype=np.float64).reshape(-1)
    want = pr["n_total"] if rows == "all" else pr["n"]
    if len(s) not in (want, pr["n_total"]):
        raise ValueError(f"{name}'s probe scores must have length {want}, got {len(s)}")
    s = as_vector(s[:want], want, f"{name}'s probe scores")
    if s.min() < 0 or s.max() > 1:
        raise ValueError(f"{name}'s probe scores must be probabilities in [0, 1]")
    return s


def probe_labels(ref: dict, n: int) -> np.ndarray:
    """Labels of the probe's first ``n`` sequences (only the grader has them)."""
    return ref["probe"]["y"][:n]


def probe_auroc(v: dict, name: str, ref: dict, rows: str = "head") -> float:
    """AUROC of model ``name`` on the probe (``rows``: see :func:`probe_scores`), with the grader's labels."""
    s = probe_scores(v, name, ref, rows)
    value = auroc(probe_labels(ref, len(s)), s)
    measure("auroc", value, model=name, n=len(s), rows=rows)
    return value


def probe_attr(v: dict, name: str, method: str, ref: dict) -> np.ndarray:
    """The attribution map (``'ism'`` or ``'ig'``) of model ``name`` on the probe's first sequences."""
    m, n = v[name], ref["probe"]["n_attr"]
    key = f"probe_{method}"
    if key not in m:
        if "probe_missing" in m:
            raise ValueError(m["probe_missing"])
        raise NotInExport(f"{name} has no {method.upper()} on the grader's probe")
    a = np.asarray(m[key], dtype=np.float64)
    if a.ndim != 3 or a.shape[0] != n or a.shape[2] != 4 or not np.all(np.isfinite(a)):
        raise ValueError(f"{name}'s probe {method.upper()} must be finite with shape ({n}, L, 4), got {a.shape}")
    return a


def recovery(importance: np.ndarray, site_start: np.ndarray) -> float:
    """Share of sequences with a planted site whose top 19-nt window overlaps it."""
    from ..attribution import site_overlap, top_window

    start = np.asarray(site_start)
    has = start >= 0
    hit = site_overlap(top_window(np.asarray(importance, dtype=np.float64)), start)
    return float(hit[has].mean()) if has.any() else 0.0


def probe_recovery(v: dict, name: str, method: str, ref: dict) -> float:
    """:func:`recovery` of model ``name``'s ``method`` maps on the probe's attributed positives."""
    a = probe_attr(v, name, method, ref)
    n = len(a)
    y, start = ref["probe"]["y"][:n], ref["probe"]["site_start"][:n]
    value = recovery(np.abs(a[y == 1]).max(-1), start[y == 1])
    measure("recovery", value, model=name, method=method, n=int((y == 1).sum()))
    return value


def bce(y: np.ndarray, s: np.ndarray) -> float:
    """Mean binary cross-entropy of probabilities ``s`` (N,) (clipped to [1e-7, 1 - 1e-7]) for 0/1 labels ``y`` (N,)."""
    p = np.clip(np.asarray(s, dtype=np.float64), 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def same_scores(v: dict, name: str, model: str, n: int) -> tuple[bool, str]:
    """Whether the student's array ``v[name]`` (n,) is the exported ``model``'s scores on that split.

    Returns
    -------
    (bool, str)
        Passed (largest difference <= 1e-3) and the message a check shows.
    """
    got = probabilities(v, name, n)
    want = as_vector(v[model]["scores"], n, f"{model}'s scores")
    err = float(np.abs(got - want).max())
    return err <= 1e-3, f"{name} vs {model}'s own scores: largest difference {err:.2g}"


def misclassified(y: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Which sequences probabilities ``s`` (N,) call wrongly at 0.5 against 0/1 labels ``y`` (N,): bool (N,)."""
    return (np.asarray(s) >= 0.5).astype(int) != y


def bool_vector(v: dict, name: str, n: int) -> np.ndarray:
    """The student's value ``v[name]`` as a True/False vector, shape (n,).

    Raises
    ------
    ValueError
        When its shape is not (n,) or it holds anything but True/False (or 0/1).
    """
    a = np.asarray(v[name])
    if a.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {a.shape}")
    if a.dtype != bool and not np.isin(a, (0, 1)).all():
        raise ValueError(f"{name} must be True/False per sequence")
    return a.astype(bool)
