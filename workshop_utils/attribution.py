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
