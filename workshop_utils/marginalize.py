"""Marginalisation: what a model does with motifs planted into background sequences.

The idea of tangermeme's ``marginalize`` and ``space`` (Schreiber 2024; DeepSTARR and
BPNet used it to read motif grammar from trained models): take background sequences
that carry nothing in particular, plant one or more motifs at chosen positions, and
compare the model's logits with and without them.  Averaged over many backgrounds, the
difference is the model's response to *that arrangement* of motifs, whatever else the
sequences hold.  Varying the spacing or the orientation of two motifs shows which
arrangements the model has learned to prefer.

Everything works on the logit (see :mod:`workshop_utils.backend`), for Keras and PyTorch
models alike.  This module imports only numpy.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _checks
from .backend import logits, require_model

__all__ = ["insert_motifs", "marginalize"]


def _motifs_and_starts(X: np.ndarray, motifs: Any, starts: Any, fn: str) -> tuple[list[np.ndarray], list[int]]:
    """Check ``motifs`` (one-hot ``(W, 4)`` arrays) and ``starts`` (ints) against ``X`` ``(N, L, 4)``."""
    if isinstance(motifs, np.ndarray) and motifs.ndim == 2:
        motifs = [motifs]
    if not isinstance(motifs, (list, tuple)) or not motifs:
        raise _checks.fail(fn, "motifs", "a non-empty list of one-hot arrays of shape (W, 4)",
                           _checks.describe(motifs), kind=_checks.ArgumentTypeError,
                           hint="encode a string with one_hot_encode(s)[0]")
    if isinstance(starts, (int, np.integer)) and not isinstance(starts, (bool, np.bool_)):
        starts = [starts]
    if not isinstance(starts, (list, tuple, np.ndarray)) or len(starts) != len(motifs):
        raise _checks.fail(fn, "starts", f"one int per motif ({len(motifs)})", _checks.describe(starts),
                           kind=_checks.ArgumentTypeError if not isinstance(starts, (list, tuple, np.ndarray))
                           else ValueError)
    L = X.shape[1]
    out_m, out_s = [], []
    for k, (m, s) in enumerate(zip(motifs, starts)):
        m = _checks.one_hot(np.asarray(m)[None] if hasattr(m, "shape") else m, f"motifs[{k}]", fn)[0]
        s = _checks.non_negative_int(s, f"starts[{k}]", fn)
        if s + len(m) > L:
            raise _checks.fail(fn, f"starts[{k}]", f"an int in [0, {L - len(m)}] (motif of {len(m)} nt "
                               f"in {L}-nt sequences)", s)
        out_m.append(m)
        out_s.append(s)
    return out_m, out_s


def insert_motifs(X: np.ndarray, motifs: Sequence[np.ndarray] | np.ndarray, starts: Sequence[int] | int) -> np.ndarray:
    """Copies of ``X`` with each motif written over the sequence from its start.

    Parameters
    ----------
    X : array ``(N, L, 4)``
        One-hot background sequences (not changed).
    motifs : list of arrays ``(W_k, 4)``, or one array ``(W, 4)``
        One-hot motifs (e.g. ``one_hot_encode("CCGCGNGGNGGCAG")[0]``; a reverse-complement
        site is ``reverse_complement(m[None])[0]``).  Later motifs overwrite earlier ones where they
        overlap.
    starts : list of ints, or one int
        Start position of each motif, ``0 <= start <= L - W_k``.

    Returns
    -------
    np.ndarray
        float32 ``(N, L, 4)``.
    """
    fn = "insert_motifs"
    X = _checks.one_hot(X, "X", fn)
    motifs, starts = _motifs_and_starts(X, motifs, starts, fn)
    out = X.copy()
    for m, s in zip(motifs, starts):
        out[:, s:s + len(m)] = m
    return out


def marginalize(model: Any, X: np.ndarray, motifs: Sequence[np.ndarray] | np.ndarray, starts: Sequence[int] | int,
                batch_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """The model's logits on background sequences, before and after planting motifs.

    ``after - before`` is the effect of the planted arrangement on each background;
    its mean over backgrounds is the model's response to the arrangement (tangermeme's
    ``marginalize``).  Call it once per spacing or orientation to map a grammar.

    Parameters
    ----------
    model : keras.Model or torch.nn.Module
        A single-output model that follows the course conventions.
    X : array ``(N, L, 4)``
        One-hot background sequences (e.g. dinucleotide shuffles, or sequences drawn from
        the simulator's background, :func:`workshop_utils.datasets.sample_background`).
    motifs, starts
        As in :func:`insert_motifs`.
    batch_size : int
        Sequences per forward pass.

    Returns
    -------
    before, after : np.ndarray
        float32 ``(N,)`` logits of ``X`` and of ``X`` with the motifs planted.

    Examples
    --------
    >>> m = one_hot_encode("CCACCAGGGGGCGC")[0]
    >>> before, after = marginalize(model, background, [m, reverse_complement(m[None])[0]], [40, 66])
    >>> (after - before).mean()          # the response to a convergent pair 26 nt apart
    """
    fn = "marginalize"
    require_model(model, fn)
    X = _checks.one_hot(X, "X", fn)
    batch_size = _checks.positive_int(batch_size, "batch_size", fn)
    planted = insert_motifs(X, motifs, starts)
    both = logits(model, np.concatenate([X, planted]), batch_size, fn=fn)
    if both.ndim != 1:
        raise _checks.fail(fn, "model", "a single-output model (logits of shape (N,))", f"logits of shape {both.shape}")
    return both[:len(X)], both[len(X):]
