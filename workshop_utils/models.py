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
compute the same function and training runs are comparable.  Parameters are counted
with :func:`workshop_utils.backend.count_params` (14,265 for the defaults, in both).

The torch class ``TorchCTCFCNN`` is defined in :mod:`workshop_utils._torch_models`
(a module that imports torch); ``workshop_utils.models.TorchCTCFCNN`` and
:func:`torch_ctcf_cnn` reach it lazily, so importing this module imports no framework.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from . import _checks
from . import _moved
from .backend import framework as _framework
from .backend import require


def keras_ctcf_cnn(seq_len: int = 200, filters: int = 24, kernel_size: int = 19, pool_size: int = 25,
                   dense_units: int = 64, conv_dropout: float = 0.0, dense_dropout: float = 0.0,
                   seed: int = 0, learning_rate: float = 1e-3) -> Any:
    """The Day-1 CNN as a compiled ``keras.Sequential``, ready for ``model.fit``.

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
    learning_rate : float
        Of the Adam optimizer it is compiled with (loss: binary cross-entropy).  Compile
        it again to train it another way.

    Returns
    -------
    keras.Sequential
        Outputs probabilities ``(N, 1)``; the layer before the final ``Activation('sigmoid')``
        is the linear logit (see :func:`workshop_utils.backend.keras_logit_model`).
    """
    a = _checks.cnn_arch("keras_ctcf_cnn", seq_len, filters, kernel_size, pool_size, dense_units, conv_dropout,
                    dense_dropout, seed)
    learning_rate = _checks.number(learning_rate, "learning_rate", "keras_ctcf_cnn", low=0.0, low_open=True)
    import keras
    from keras import layers

    seed = a["seed"]

    def init(i):
        return keras.initializers.GlorotUniform(seed=seed + i)

    stack = [keras.Input((a["seq_len"], 4)),
             layers.Conv1D(a["filters"], a["kernel_size"], padding="same", activation="relu",
                           kernel_initializer=init(0), name="conv"),
             layers.MaxPool1D(a["pool_size"], name="pool")]
    if a["conv_dropout"]:
        stack.append(layers.Dropout(a["conv_dropout"], seed=seed + 10, name="conv_dropout"))
    stack += [layers.Flatten(name="flatten"),
              layers.Dense(a["dense_units"], activation="relu", kernel_initializer=init(1), name="dense")]
    if a["dense_dropout"]:
        stack.append(layers.Dropout(a["dense_dropout"], seed=seed + 11, name="dense_dropout"))
    stack += [layers.Dense(1, kernel_initializer=init(2), name="logit"),
              layers.Activation("sigmoid", name="sigmoid")]
    model = keras.Sequential(stack, name="ctcf_cnn")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy")
    return model


def torch_ctcf_cnn(seq_len: int = 200, filters: int = 24, kernel_size: int = 19, pool_size: int = 25,
                   dense_units: int = 64, conv_dropout: float = 0.0, dense_dropout: float = 0.0,
                   seed: int = 0) -> Any:
    """The Day-1 CNN in PyTorch: a :class:`~workshop_utils._torch_models.TorchCTCFCNN`.

    The same as ``TorchCTCFCNN(...)``; this builder imports torch only when called.
    A torch model needs no compiling: :func:`workshop_utils.training.fit` makes its
    optimizer from its ``lr`` argument.
    """
    from ._torch_models import TorchCTCFCNN

    return TorchCTCFCNN(seq_len, filters, kernel_size, pool_size, dense_units, conv_dropout, dense_dropout, seed)


def __getattr__(name: str) -> Any:
    # ``from workshop_utils.models import TorchCTCFCNN`` keeps working without importing torch
    # with this module: the class lives in workshop_utils/_torch_models.py (which imports torch).
    if name == "TorchCTCFCNN":
        from ._torch_models import TorchCTCFCNN

        return TorchCTCFCNN
    if name == "count_parameters":  # the last release's function, with its own meaning (trainable only)
        warnings.warn("workshop_utils.models.count_parameters has moved to workshop_utils.backend.count_params, "
                      "which counts every weight (batch-norm statistics too, the Keras way); the old name, which "
                      "counts trainable weights only, will be removed in workshop_utils " + _moved.REMOVED_IN,
                      DeprecationWarning, stacklevel=2)
        return _count_trainable
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _count_trainable(model: Any) -> int:
    """The last release's ``count_parameters``: trainable weights of a Keras or PyTorch model."""
    if _framework(model) == "keras":
        return int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


def __dir__() -> list[str]:
    return sorted([*globals(), "TorchCTCFCNN"])


def copy_keras_weights(keras_model: Any, torch_model: Any) -> Any:
    """Copy the weights of a :func:`keras_ctcf_cnn` into a matching ``TorchCTCFCNN``.

    Keras stores a conv kernel as ``(k, in, out)`` and a dense kernel as ``(in, out)``;
    torch as ``(out, in, k)`` and ``(out, in)``.  After copying, both models return the
    same logits for the same input (dropout off).

    Returns
    -------
    The torch model (modified in place).
    """
    hint = "copy_keras_weights(keras_model, torch_model) takes a Keras model then a torch model"
    require(keras_model, "keras", "copy_keras_weights", "keras_model", hint=hint)
    require(torch_model, "torch", "copy_keras_weights", "torch_model", hint=hint)
    import torch

    names = ("conv", "dense", "logit")
    try:
        pairs = [(keras_model.get_layer(n), getattr(torch_model, n)) for n in names]
    except (ValueError, AttributeError):
        raise _checks.fail("copy_keras_weights", "keras_model", f"a keras_ctcf_cnn() with layers {names}",
                           f"a model with layers {[layer.name for layer in keras_model.layers]}") from None
    new = []
    for k_layer, t_layer in pairs:
        kernel, bias = (np.asarray(w) for w in k_layer.get_weights())
        kernel = kernel.transpose(2, 1, 0) if kernel.ndim == 3 else kernel.T
        if tuple(kernel.shape) != tuple(t_layer.weight.shape):
            raise ValueError(f"copy_keras_weights: torch_model must match keras_model: layer {k_layer.name!r} has "
                             f"keras weight {kernel.shape}, torch weight {tuple(t_layer.weight.shape)}; build both "
                             "with the same arguments")
        new.append((t_layer, kernel, bias))
    with torch.no_grad():  # every shape checked first: a failed call leaves the torch model as it was
        for t_layer, kernel, bias in new:
            t_layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel)))
            t_layer.bias.copy_(torch.from_numpy(bias))
    return torch_model
