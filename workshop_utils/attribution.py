"""Attribution maps: what in a sequence drives a model's prediction.

All functions take a Keras or PyTorch model (see :mod:`workshop_utils.backend`)
and one-hot DNA ``X`` of shape ``(N, L, 4)`` and return arrays of the same shape,
computed on the logit (pre-sigmoid), where saturation does not flatten gradients.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import _checks
from .backend import _logits, check_target, input_gradient, require_model
from .mutagenesis import mutant_scorer
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


def _window(start: int | None, end: int | None, length: int) -> tuple[int, int]:
    """Resolve ``start``/``end`` (Python slice semantics, negatives allowed) to ``0 <= s < e <= L``."""
    for name, v in (("start", start), ("end", end)):
        if v is not None and (isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer))):
            raise _checks.fail("ism", name, "an int or None", v, kind=_checks.ArgumentTypeError)
    s, e, _ = slice(start, end).indices(length)
    if e <= s:
        raise ValueError(f"ism: start/end must select at least one position of a length-{length} sequence, "
                         f"got start={start!r}, end={end!r}")
    return s, e


def ism(model: Any, X: np.ndarray, start: int | None = None, end: int | None = None,
        hypothetical: bool = True, batch_size: int = 512, progress: bool | None = None,
        fast: bool = True) -> np.ndarray:
    """Saturated in-silico mutagenesis (ISM) on the logit, batched over many mutants at once.

    Every position ``i`` in ``[start, end)`` of every sequence is changed, in turn, to
    each base it does not already have, and the change of the logit (mutant minus
    original) is recorded.  The mutants of all sequences are built in chunks of
    ``batch_size`` and scored together (one forward pass per chunk, not one per
    mutant) by :func:`workshop_utils.mutagenesis.mutant_scorer`, so the same code serves
    Keras and PyTorch models.  The four scores of each position (the observed base scores
    0 before centring) are then mean-centred, as in tangermeme and DeepLIFT-style
    "hypothetical" scores: a positive value means "this base raises the logit more
    than the average base would".

    Parameters
    ----------
    model : keras.Model or torch.nn.Module
        Follows the course conventions (see :mod:`workshop_utils.backend`).
    X : array ``(N, L, 4)``
        One-hot sequences (rows that are all 0 or all 0.25, an ``N``, are mutated to all
        four bases).
    start, end : int or None
        Window of positions to mutate, with Python slice semantics (``end`` exclusive,
        negatives count from the end).  Default: the whole sequence.
    hypothetical : bool
        True: the centred score of all four bases.  False: only the score at the
        observed base (``hypothetical * X``), zeros elsewhere.
    batch_size : int
        Mutants per forward pass.  Chunks of hundreds to a thousand mutants are what
        makes ISM fast; on a CPU, much larger chunks fall out of the cache and get
        slower again (512 suits the course models; Keras likes ~1024 a little better).
    progress : bool or None
        Show a tqdm progress bar; None shows it when there are more than 20 chunks.
    fast : bool
        PyTorch models whose first layer is a ``Conv1d`` on the input: instead of running
        that layer on every mutant, patch its output for the parent where the mutation
        reaches (see :func:`workshop_utils.mutagenesis.mutant_scorer`).  The numbers are the
        same to float rounding; False runs every mutant through the whole model.

    Returns
    -------
    np.ndarray
        float32 ``(N, L, 4)``.  Positions outside ``[start, end)`` are 0, so indices
        stay those of ``X`` (planted-site starts, :func:`top_window`).

    Examples
    --------
    >>> scores = ism(model, data.x_test[:10])                  # (10, 200, 4)
    >>> pos = position_importance(scores)                       # (10, 200)
    """
    from ._progress import progress as tqdm  # text bar on stdout: saved notebooks show its final state

    require_model(model, "ism")
    X = _checks.one_hot(X, "X", "ism")
    batch_size = _checks.positive_int(batch_size, "batch_size", "ism")
    hypothetical = _checks.flag(hypothetical, "hypothetical", "ism")
    fast = _checks.flag(fast, "fast", "ism")
    if progress is not None:
        progress = _checks.flag(progress, "progress", "ism")
    n, L, _ = X.shape
    s, e = _window(start, end, L)
    ref = _logits(model, X, min(batch_size, 1024), "ism")
    if ref.ndim != 1:
        raise _checks.fail("ism", "model", "a single-output model (logits of shape (N,))",
                           f"logits of shape {ref.shape}")
    # every (sequence, position, base) that differs from the input is one mutant
    seq_i, pos_i, base_i = np.nonzero(X[:, s:e] != 1)
    pos_i = pos_i + s
    delta = np.zeros((n, L, 4), np.float32)
    score = mutant_scorer(model, X, fast=fast)
    n_chunks = -(-len(seq_i) // batch_size)
    show = n_chunks > 20 if progress is None else progress
    for c in tqdm(range(n_chunks), desc="ISM", unit="chunk", disable=not show, leave=False):
        sl = slice(c * batch_size, (c + 1) * batch_size)
        si, pi, bi = seq_i[sl], pos_i[sl], base_i[sl]
        delta[si, pi, bi] = score(si, pi, bi) - ref[si]
    scores = delta.copy()
    scores[:, s:e] -= delta[:, s:e].mean(-1, keepdims=True)
    return scores if hypothetical else scores * X


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
