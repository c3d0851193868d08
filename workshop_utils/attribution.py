"""Attribution maps: what in a sequence drives a model's prediction.

All functions take a Keras or PyTorch model (see :mod:`workshop_utils.backend`)
and one-hot DNA ``X`` of shape ``(N, L, 4)`` and return arrays of the same shape,
computed on the logit (pre-sigmoid), where saturation does not flatten gradients.
In-silico mutagenesis lives in :mod:`workshop_utils.mutagenesis`; :func:`ism` is
re-exported here, so ``attribution.ism`` keeps working.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import _checks
from .backend import check_target, input_gradient, require_model
from .mutagenesis import ism  # noqa: F401  (ISM lives in mutagenesis; re-exported here, where lessons look)
from .sequences import dinucleotide_shuffle


def _prepare(model: Any, X: Any, target: Any, batch_size: Any, fn: str) -> tuple[np.ndarray, int, int]:
    """The checks every gradient method shares: model, one-hot ``X``, output ``target``, ``batch_size``."""
    require_model(model, fn)
    X = _checks.one_hot(X, "X", fn)
    batch_size = _checks.positive_int(batch_size, "batch_size", fn)
    return X, check_target(model, X, target, fn), batch_size


def centre_bases(attr: np.ndarray) -> np.ndarray:
    """Subtract, at each position, the mean of the four bases' scores.

    A one-hot input can only move within the simplex (the four entries of a position sum
    to 1), so the part of a gradient shared by all four bases of a position is an offset
    no mutation can act on; removing it (Majdandzic et al. 2023) makes gradients
    comparable with mean-centred ISM scores.

    Parameters
    ----------
    attr : array ``(N, L, 4)``

    Returns
    -------
    np.ndarray
        float32 ``(N, L, 4)`` whose four values at each position sum to 0.
    """
    attr = _checks.finite_array(attr, "attr", "centre_bases", ndim=3)
    if attr.shape[-1] != 4:
        raise _checks.fail("centre_bases", "attr", "an attribution map of shape (N, L, 4)", f"shape {attr.shape}")
    return (attr - attr.mean(-1, keepdims=True)).astype(np.float32)


def saliency(model: Any, X: np.ndarray, batch_size: int = 256, target: int | None = None,
             centre: bool = False) -> np.ndarray:
    """Gradient of the logit with respect to each input base (Simonyan et al. 2014).

    Parameters
    ----------
    model : keras.Model or torch.nn.Module
    X : array ``(N, L, 4)``
        One-hot sequences.
    batch_size : int
    target : int or None
        The output to explain.  Required for a model with several outputs (logits
        ``(N, T)``); None (or 0) for a single-output model.
    centre : bool
        Subtract each position's mean over the four bases (:func:`centre_bases`).

    Returns
    -------
    np.ndarray
        float32 ``(N, L, 4)``: the gradient (raw, or centred), all four bases at each position.
    """
    centre = _checks.flag(centre, "centre", "saliency")
    X, target, batch_size = _prepare(model, X, target, batch_size, "saliency")
    g = input_gradient(model, X, target, batch_size, fn="saliency")
    return centre_bases(g) if centre else g


def gradient_x_input(model: Any, X: np.ndarray, batch_size: int = 256, target: int | None = None,
                     centre: bool = False) -> np.ndarray:
    """Gradient times input: the gradient at the observed base, zero elsewhere.

    Parameters are those of :func:`saliency` (``target`` is required for multi-output models).
    With ``centre=True`` the gradient is centred first (:func:`centre_bases`), so the
    observed base's score reads "this base versus the average base here", the first-order
    version of mean-centred ISM at the observed base.

    Returns
    -------
    np.ndarray
        float32 ``(N, L, 4)``; summing over the last axis gives one score per position.
    """
    centre = _checks.flag(centre, "centre", "gradient_x_input")
    X, target, batch_size = _prepare(model, X, target, batch_size, "gradient_x_input")
    g = input_gradient(model, X, target, batch_size, fn="gradient_x_input")
    return (centre_bases(g) if centre else g) * X


def position_importance(attr: np.ndarray, reduce: str = "max") -> np.ndarray:
    """Collapse an attribution map ``(N, L, 4)`` to one non-negative score per position ``(N, L)``.

    Parameters
    ----------
    attr : array ``(N, L, 4)``
    reduce : {'max', 'sum'}
        ``'max'``: the largest absolute value over the four bases (hypothetical maps such as
        centred ISM or saliency: "how much could a change here matter").  ``'sum'``: the
        absolute value of the sum over the four bases, for *contribution* maps (observed-base
        ISM, gradient x input, integrated gradients), whose sum over positions is the
        quantity they explain; use it to compare those methods like for like.

    Returns
    -------
    np.ndarray
        float32 ``(N, L)``.
    """
    attr = _checks.finite_array(attr, "attr", "position_importance", ndim=3)
    if attr.shape[-1] != 4:
        raise _checks.fail("position_importance", "attr", "an attribution map of shape (N, L, 4)",
                           f"shape {attr.shape}")
    reduce = _checks.one_of(reduce, "reduce", "position_importance", ("max", "sum"))
    if reduce == "sum":
        return np.abs(attr.sum(-1)).astype(np.float32)
    return np.abs(attr).max(-1)


def top_window(importance: np.ndarray, width: int = 19) -> np.ndarray:
    """Start of the ``width``-nt window with the largest summed importance, per sequence.

    Parameters
    ----------
    importance : array ``(N, L)``
        One non-negative score per position (see :func:`position_importance`).
    width : int
        Window width; 19 is the width of the CTCF motif MA0139.1.

    Returns
    -------
    np.ndarray
        int ``(N,)`` window starts in ``[0, L - width]``.
    """
    importance = _checks.finite_array(importance, "importance", "top_window", ndim=2, dtype=np.float64)
    width = _checks.positive_int(width, "width", "top_window")
    if width > importance.shape[1]:
        raise _checks.fail("top_window", "width", f"an integer in [1, {importance.shape[1]}] (the sequence length)",
                           width)
    csum = np.concatenate([np.zeros((len(importance), 1)), np.cumsum(importance, axis=1)], axis=1)
    return (csum[:, width:] - csum[:, :-width]).argmax(1)


def site_overlap(window_start: np.ndarray, site_start: np.ndarray, width: int = 19,
                 site_width: int = 19) -> np.ndarray:
    """Whether each window ``[s, s + width)`` overlaps the planted site ``[t, t + site_width)``.

    Sequences without a site (``site_start == -1``) never overlap.

    Returns
    -------
    np.ndarray
        bool ``(N,)``.
    """
    fn = "site_overlap"
    a = _checks.finite_array(window_start, "window_start", fn, ndim=1, dtype=None, allow_empty=True)
    b = _checks.finite_array(site_start, "site_start", fn, ndim=1, dtype=None, allow_empty=True)
    if a.shape != b.shape:
        raise _checks.fail(fn, "site_start", f"as long as window_start ({len(a)})", f"{len(b)} values")
    width = _checks.positive_int(width, "width", fn)
    site_width = _checks.positive_int(site_width, "site_width", fn)
    return (b >= 0) & (a < b + site_width) & (b < a + width)


# --- in-silico mutagenesis and integrated gradients ---------------------------------------


def _ig_gauss_legendre(model: Any, X: np.ndarray, baseline: np.ndarray, n_steps: int,
                       batch_size: int, target: int = 0) -> np.ndarray:
    """Integrated gradients by Gauss-Legendre quadrature on :func:`backend.input_gradient`.

    Uses the same nodes and weights as Captum's default ``method='gausslegendre'``,
    so for a PyTorch model it reproduces Captum to rounding.
    """
    nodes, weights = np.polynomial.legendre.leggauss(n_steps)
    alphas, weights = 0.5 * (nodes + 1.0), 0.5 * weights
    diff = X - baseline
    total = np.zeros_like(X, dtype=np.float64)
    for a, w in zip(alphas, weights):
        total += w * input_gradient(model, (baseline + a * diff).astype(np.float32), target, batch_size,
                                    fn="integrated_gradients")
    return (total * diff).astype(np.float32)


def integrated_gradients(model: Any, X: np.ndarray, baseline: np.ndarray | float | str | None = None,
                         n_steps: int = 32, batch_size: int = 256, target: int | None = None,
                         n_shuffles: int = 8, seed: int | np.random.Generator = 0) -> np.ndarray:
    """Integrated gradients of the logit (Sundararajan et al. 2017).

    ``IG(x) = (x - x') * integral_0^1 d logit(x' + a (x - x')) / dx  da``, with the
    integral taken by ``n_steps``-point Gauss-Legendre quadrature written once on
    :func:`workshop_utils.backend.input_gradient`, so Keras and PyTorch models go through
    the same code.  The nodes and weights are those of Captum's default
    (``method='gausslegendre'``), so for a PyTorch model the numbers are Captum's to
    rounding (the tests check it).  The attributions sum, per sequence, to about
    ``logit(x) - logit(x')`` ("completeness").

    Parameters
    ----------
    model : keras.Model or torch.nn.Module
    X : array ``(N, L, 4)``
        One-hot sequences.
    baseline : None, float, ``'shuffle'``, array ``(L, 4)`` or ``(N, L, 4)``
        The reference input ``x'``.  None means 0.25 everywhere (a uniform "average
        base"), a float fills every entry with that value.  With a uniform baseline
        every position differs from the reference, every base included (``x - 0.25``
        is -0.25 at the three unobserved bases), so the map carries a diffuse background
        at all positions; summing over the four bases gives each position's share of
        ``logit(x) - logit(0.25)``.  ``'shuffle'``: ``n_shuffles`` dinucleotide-shuffled
        copies of each sequence (:func:`workshop_utils.sequences.dinucleotide_shuffle`,
        real DNA with the same 2-mer content and no motif), and the attributions averaged
        over them (the references of DeepLIFT/DeepSHAP practice); they then sum to about
        ``logit(x) - mean logit(shuffles)``, and positions where a shuffle has the same
        base as ``x`` get nothing from that shuffle.
    n_steps : int
        Quadrature points along the straight path from ``x'`` to ``x``.
    batch_size : int
        Rows per gradient evaluation.
    target : int or None
        The output to explain; required for a model with several outputs.
    n_shuffles : int
        Number of shuffled references per sequence (``baseline='shuffle'`` only).
    seed : int or numpy.random.Generator
        Seed of the shuffles (``baseline='shuffle'`` only).

    Returns
    -------
    np.ndarray
        float32 ``(N, L, 4)``.
    """
    fn = "integrated_gradients"
    X, target, batch_size = _prepare(model, X, target, batch_size, fn)
    n_steps = _checks.positive_int(n_steps, "n_steps", fn)
    if baseline is None:
        baseline = 0.25
    if isinstance(baseline, str):
        _checks.one_of(baseline, "baseline", fn, ("shuffle",))
        n_shuffles = _checks.positive_int(n_shuffles, "n_shuffles", fn)
        rng = _checks.rng(seed, "seed", fn)
        X = _checks.one_hot(X, "X", fn, allow_n=False)
        total = np.zeros_like(X, dtype=np.float64)
        for _ in range(n_shuffles):
            total += _ig_gauss_legendre(model, X, dinucleotide_shuffle(X, rng), n_steps, batch_size, target)
        return (total / n_shuffles).astype(np.float32)
    if isinstance(baseline, (int, float, np.floating, np.integer)) and not isinstance(baseline, (bool, np.bool_)):
        base = np.full_like(X, _checks.number(baseline, "baseline", fn))
    else:
        b = _checks.finite_array(baseline, "baseline", fn)
        if b.shape == X.shape[1:]:
            base = np.broadcast_to(b, X.shape).copy()
        elif b.shape == X.shape:
            base = b.copy()
        else:
            raise _checks.fail(fn, "baseline", f"None, a float, or an array of shape {X.shape[1:]} or {X.shape}",
                               f"shape {b.shape}")
    return _ig_gauss_legendre(model, X, base, n_steps, batch_size, target)
