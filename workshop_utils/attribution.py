"""Attribution maps: what in a sequence drives a model's prediction.

All functions take a Keras or PyTorch model (see :mod:`workshop_utils.backend`)
and one-hot DNA ``X`` of shape ``(N, L, 4)`` and return arrays of the same shape,
computed on the logit (pre-sigmoid), where saturation does not flatten gradients.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .backend import input_gradient
from .sequences import validate_one_hot


def saliency(model: Any, X: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Gradient of the logit with respect to each input base (Simonyan et al. 2014).

    Returns
    -------
    np.ndarray
        float32 ``(N, L, 4)``: the raw gradient, all four bases at each position.
    """
    X = validate_one_hot(X)
    return input_gradient(model, X, batch_size=batch_size)


def gradient_x_input(model: Any, X: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Gradient times input: the gradient at the observed base, zero elsewhere.

    Returns
    -------
    np.ndarray
        float32 ``(N, L, 4)``; summing over the last axis gives one score per position.
    """
    X = validate_one_hot(X)
    return input_gradient(model, X, batch_size=batch_size) * X


def position_importance(attr: np.ndarray) -> np.ndarray:
    """Collapse an attribution map ``(N, L, 4)`` to one score per position ``(N, L)``.

    The score is the largest absolute value over the four bases, which works for
    gradient x input (one non-zero base), raw saliency and ISM maps alike.
    """
    attr = np.asarray(attr, dtype=np.float32)
    if attr.ndim != 3 or attr.shape[-1] != 4:
        raise ValueError(f"attr must have shape (N, L, 4), got {attr.shape}")
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
    importance = np.asarray(importance, dtype=np.float64)
    if importance.ndim != 2:
        raise ValueError(f"importance must have shape (N, L), got {importance.shape}")
    if not isinstance(width, (int, np.integer)) or not 1 <= width <= importance.shape[1]:
        raise ValueError(f"width must be an integer in [1, {importance.shape[1]}], got {width!r}")
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
    a = np.asarray(window_start)
    b = np.asarray(site_start)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"window_start and site_start must be 1-D of equal length, got {a.shape} and {b.shape}")
    return (b >= 0) & (a < b + site_width) & (b < a + width)
