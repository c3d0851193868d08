"""The course's Day-1 CNN for CTCF binding, in Keras and in PyTorch.

Both builders make the same network with the same number of parameters::

    one-hot DNA (N, L, 4)
    -> Conv1D(filters, kernel_size, padding='same', relu)
    -> MaxPool1D(pool_size)          (floor(L / pool_size) positions)
    -> [Dropout(conv_dropout)]
    -> Flatten
    -> Dense(dense_units, relu)
    -> [Dropout(dense_dropout)]
    -> Dense(1)                      (the logit)
    -> sigmoid                       (Keras only; the torch model returns the logit)

The torch model flattens in Keras' order (position-major) and is initialised like
Keras (Glorot-uniform weights, zero biases), so :func:`copy_keras_weights` makes the two
compute the same function and training runs are comparable.  Frameworks are imported
inside the functions.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .backend import framework


def _check_arch(seq_len: int, filters: int, kernel_size: int, pool_size: int, dense_units: int,
                conv_dropout: float, dense_dropout: float) -> None:
    for name, v in (("seq_len", seq_len), ("filters", filters), ("kernel_size", kernel_size),
                    ("pool_size", pool_size), ("dense_units", dense_units)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if pool_size > seq_len:
        raise ValueError(f"pool_size must be <= seq_len ({seq_len}), got {pool_size}")
    for name, v in (("conv_dropout", conv_dropout), ("dense_dropout", dense_dropout)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) or not 0.0 <= v < 1.0:
            raise ValueError(f"{name} must be a float in [0, 1), got {v!r}")


def keras_ctcf_cnn(seq_len: int = 200, filters: int = 24, kernel_size: int = 19, pool_size: int = 25,
                   dense_units: int = 64, conv_dropout: float = 0.0, dense_dropout: float = 0.0,
                   seed: int = 0) -> Any:
    """The Day-1 CNN as an (uncompiled) ``keras.Sequential``.

    Parameters
    ----------
    seq_len : int
        Input length L; the model takes one-hot DNA ``(N, L, 4)``.
    filters, kernel_size : int
        Number and width of the convolution filters (19 = width of the CTCF motif).
    pool_size : int
        Max-pooling window and stride.
    dense_units : int
        Width of the hidden dense layer.
    conv_dropout, dense_dropout : float
        Dropout rates after the pooling and after the hidden dense layer (0 = no layer).
    seed : int
        Seeds the weight initialisers and dropout masks (no global state is touched).

    Returns
    -------
    keras.Sequential
        Outputs probabilities ``(N, 1)``; the layer before the final ``Activation('sigmoid')``
        is the linear logit (see :func:`workshop_utils.backend.keras_logit_model`).
    """
    _check_arch(seq_len, filters, kernel_size, pool_size, dense_units, conv_dropout, dense_dropout)
    import keras
    from keras import layers

    def init(i):
        return keras.initializers.GlorotUniform(seed=seed + i)

    stack = [keras.Input((seq_len, 4)),
             layers.Conv1D(filters, kernel_size, padding="same", activation="relu",
                           kernel_initializer=init(0), name="conv"),
             layers.MaxPool1D(pool_size, name="pool")]
    if conv_dropout:
        stack.append(layers.Dropout(conv_dropout, seed=seed + 10, name="conv_dropout"))
    stack += [layers.Flatten(name="flatten"),
              layers.Dense(dense_units, activation="relu", kernel_initializer=init(1), name="dense")]
    if dense_dropout:
        stack.append(layers.Dropout(dense_dropout, seed=seed + 11, name="dense_dropout"))
    stack += [layers.Dense(1, kernel_initializer=init(2), name="logit"),
              layers.Activation("sigmoid", name="sigmoid")]
    return keras.Sequential(stack, name="ctcf_cnn")


def _torch_class():
    import torch
    from torch import nn

    class TorchCTCFCNN(nn.Module):
        """The Day-1 CNN in PyTorch: takes one-hot DNA ``(N, L, 4)``, returns logits ``(N, 1)``.

        Same layers and parameter count as :func:`keras_ctcf_cnn`; train it with
        ``BCEWithLogitsLoss`` (e.g. :func:`workshop_utils.training.fit`).

        Parameters
        ----------
        seq_len, filters, kernel_size, pool_size, dense_units, conv_dropout, dense_dropout
            As in :func:`keras_ctcf_cnn`.
        seed : int
            Seeds the weight initialisation (Glorot-uniform weights, zero biases, like Keras)
            without changing torch's global random state.
        """

        def __init__(self, seq_len: int = 200, filters: int = 24, kernel_size: int = 19,
                     pool_size: int = 25, dense_units: int = 64, conv_dropout: float = 0.0,
                     dense_dropout: float = 0.0, seed: int = 0):
            _check_arch(seq_len, filters, kernel_size, pool_size, dense_units, conv_dropout, dense_dropout)
            super().__init__()
            self.seq_len = int(seq_len)
            with torch.random.fork_rng(devices=[]):  # torch's default init draws from the global RNG
                self.conv = nn.Conv1d(4, filters, kernel_size, padding="same")
                self.pool = nn.MaxPool1d(pool_size)
                self.conv_dropout = nn.Dropout(conv_dropout)
                self.dense = nn.Linear(filters * (seq_len // pool_size), dense_units)
                self.dense_dropout = nn.Dropout(dense_dropout)
                self.logit = nn.Linear(dense_units, 1)
            gen = torch.Generator().manual_seed(int(seed))
            for layer in (self.conv, self.dense, self.logit):
                nn.init.xavier_uniform_(layer.weight, generator=gen)
                nn.init.zeros_(layer.bias)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if x.ndim != 3 or x.shape[-1] != 4 or x.shape[1] != self.seq_len:
                raise ValueError(f"x must have shape (N, {self.seq_len}, 4), got {tuple(x.shape)}")
            h = torch.relu(self.conv(x.transpose(1, 2)))      # (N, filters, L)
            h = self.conv_dropout(self.pool(h))                # (N, filters, L // pool)
            h = h.transpose(1, 2).flatten(1)                   # position-major, like keras Flatten
            h = self.dense_dropout(torch.relu(self.dense(h)))
            return self.logit(h)                               # (N, 1) logits

    return TorchCTCFCNN


_CLASS = None


def __getattr__(name: str):
    # TorchCTCFCNN subclasses torch.nn.Module, so it is built on first access
    # (``from workshop_utils.models import TorchCTCFCNN``) and torch is imported only then.
    global _CLASS
    if name == "TorchCTCFCNN":
        if _CLASS is None:
            _CLASS = _torch_class()
            _CLASS.__module__ = __name__
            _CLASS.__qualname__ = "TorchCTCFCNN"  # so pickling finds it here
        return _CLASS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def count_parameters(model: Any) -> int:
    """Number of trainable parameters of a Keras or PyTorch model."""
    if framework(model) == "keras":
        return int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


def copy_keras_weights(keras_model: Any, torch_model: Any) -> Any:
    """Copy the weights of a :func:`keras_ctcf_cnn` into a matching ``TorchCTCFCNN``.

    Keras stores a conv kernel as ``(k, in, out)`` and a dense kernel as ``(in, out)``;
    torch as ``(out, in, k)`` and ``(out, in)``.  After copying, both models return the
    same logits for the same input (dropout off).

    Returns
    -------
    The torch model (modified in place).
    """
    import torch

    if framework(keras_model) != "keras" or framework(torch_model) != "torch":
        raise TypeError("copy_keras_weights(keras_model, torch_model) expects a Keras model then a torch model, "
                        f"got {type(keras_model).__name__} and {type(torch_model).__name__}")
    pairs = [(keras_model.get_layer(n), getattr(torch_model, n)) for n in ("conv", "dense", "logit")]
    with torch.no_grad():
        for k_layer, t_layer in pairs:
            kernel, bias = (np.asarray(w) for w in k_layer.get_weights())
            kernel = kernel.transpose(2, 1, 0) if kernel.ndim == 3 else kernel.T
            if tuple(kernel.shape) != tuple(t_layer.weight.shape):
                raise ValueError(f"layer {k_layer.name!r}: keras weight {kernel.shape} does not match "
                                 f"torch weight {tuple(t_layer.weight.shape)}; build both with the same arguments")
            t_layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel)))
            t_layer.bias.copy_(torch.from_numpy(bias))
    return torch_model
