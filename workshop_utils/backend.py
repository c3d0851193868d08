"""The only module that knows Keras from PyTorch.

Everything model-agnostic in the package (evaluation, saliency, ISM, NAS rewards)
is written once on top of three functions defined here per framework:

* :func:`logits` -- batched forward pass returning pre-sigmoid scores;
* :func:`predict_proba` -- the sigmoid of those;
* :func:`input_gradient` -- d logit / d input.

Model conventions (see DESIGN.md):

* Keras models end in a linear ``Dense`` followed by ``Activation('sigmoid')`` so
  the logit layer can be reached; a model whose last layer is linear is taken to
  output logits already.
* PyTorch models return logits of shape ``(N, 1)`` or ``(N,)`` and take one-hot
  DNA in the package layout ``(N, L, 4)``.

Frameworks are imported lazily, inside the functions.
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import numpy as np

Framework = Literal["keras", "torch"]


def framework(model: Any) -> Framework:
    """Return ``'keras'`` or ``'torch'`` for a model, without importing either framework."""
    if "torch" in sys.modules:
        import torch

        if isinstance(model, torch.nn.Module):
            return "torch"
    if "keras" in sys.modules:
        import keras

        if isinstance(model, keras.Model):
            return "keras"
    raise TypeError(f"model must be a keras.Model or a torch.nn.Module, got {type(model).__name__}")


def _check_x(X: np.ndarray) -> np.ndarray:
    if not hasattr(X, "shape"):
        raise TypeError(f"X must be a numpy array of shape (N, L, C), got {type(X).__name__}")
    X = np.asarray(X, dtype=np.float32)
    if X.ndim < 2:
        raise ValueError(f"X must have a batch axis, got shape {X.shape}")
    return X


def _check_batch(batch_size: int) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return int(batch_size)


@contextmanager
def torch_eval(model: Any) -> Iterator[Any]:
    """Put a torch model in ``eval()`` mode for the block and yield its device.

    The model's training mode is restored afterwards, even if the block raises.
    """
    import torch

    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    was_training = model.training
    model.eval()
    try:
        yield device
    finally:
        model.train(was_training)


def keras_logit_model(model: Any) -> Any:
    """A Keras model sharing ``model``'s weights whose output is the pre-sigmoid logit.

    The result is cached on the model, so repeated calls are free.
    """
    import keras

    cached = getattr(model, "_workshop_logit_model", None)
    if cached is not None:
        return cached
    last = model.layers[-1]
    act = getattr(last, "activation", None)
    act_name = getattr(act, "__name__", str(act))
    if isinstance(last, keras.layers.Activation) and "sigmoid" in act_name:
        inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
        logit_model = keras.Model(inputs, model.layers[-2].output)
    elif act is None or act_name == "linear":
        logit_model = model
    else:
        raise ValueError(
            f"cannot reach the logits of this Keras model: its last layer {last.name!r} applies "
            f"{act_name!r}. End the model with Dense(1) followed by Activation('sigmoid').")
    model._workshop_logit_model = logit_model
    return logit_model


def logits(model: Any, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Pre-sigmoid outputs of a Keras or PyTorch model.

    Parameters
    ----------
    model : keras.Model or torch.nn.Module
    X : array ``(N, L, 4)`` (any ``(N, ...)`` the model accepts)
    batch_size : int
        Rows per forward pass.

    Returns
    -------
    np.ndarray
        float32 ``(N,)`` for single-output models, else ``(N, T)``.
    """
    X = _check_x(X)
    batch_size = _check_batch(batch_size)
    kind = framework(model)
    if kind == "keras":
        lm = keras_logit_model(model)
        if len(X) == 0:
            out = np.zeros((0, 1), np.float32)
        else:
            out = np.concatenate([np.asarray(lm(X[i:i + batch_size], training=False))
                                  for i in range(0, len(X), batch_size)])
    else:
        import torch

        with torch_eval(model) as device, torch.no_grad():
            chunks = [model(torch.from_numpy(X[i:i + batch_size]).to(device)).float().cpu().numpy()
                      for i in range(0, len(X), batch_size)]
        out = np.concatenate(chunks) if chunks else np.zeros((0, 1), np.float32)
    out = out.reshape(len(X), -1).astype(np.float32)
    return out[:, 0] if out.shape[1] == 1 else out


def predict_proba(model: Any, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Sigmoid of :func:`logits`: probabilities ``(N,)`` (or ``(N, T)``)."""
    z = logits(model, X, batch_size)
    return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)


def input_gradient(model: Any, X: np.ndarray, target: int = 0, batch_size: int = 256) -> np.ndarray:
    """Gradient of the logit of output ``target`` with respect to the input.

    Parameters
    ----------
    model : keras.Model or torch.nn.Module
    X : array ``(N, L, 4)``
    target : int
        Output column for multi-output models.
    batch_size : int

    Returns
    -------
    np.ndarray
        float32 of the same shape as ``X``.
    """
    X = _check_x(X)
    batch_size = _check_batch(batch_size)
    kind = framework(model)
    grads = []
    if kind == "keras":
        import keras

        lm = keras_logit_model(model)
        if keras.backend.backend() == "torch":
            return _torch_grad(lambda x: lm(x, training=False), X, target, batch_size)
        import tensorflow as tf

        for i in range(0, len(X), batch_size):
            x = tf.convert_to_tensor(X[i:i + batch_size])
            with tf.GradientTape() as tape:
                tape.watch(x)
                out = tf.reduce_sum(tf.reshape(lm(x, training=False), (x.shape[0], -1))[:, target])
            grads.append(tape.gradient(out, x).numpy())
        return np.concatenate(grads).astype(np.float32) if grads else np.zeros_like(X)
    with torch_eval(model):
        return _torch_grad(model, X, target, batch_size)


def _torch_grad(fn, X: np.ndarray, target: int, batch_size: int) -> np.ndarray:
    import torch

    grads = []
    for i in range(0, len(X), batch_size):
        x = torch.from_numpy(X[i:i + batch_size]).requires_grad_(True)
        out = fn(x).reshape(x.shape[0], -1)[:, target]
        (g,) = torch.autograd.grad(out.sum(), x)
        grads.append(g.detach().cpu().numpy())
    return np.concatenate(grads).astype(np.float32) if grads else np.zeros_like(X)
