"""Fully connected networks for tables: build an arc of a dense space, train it, score it.

The spaces themselves (:func:`dense_model_space`, :func:`layerwise_model_space`, the arc
decoding and the layer shapes) live in :mod:`workshop_utils.nas.dense_space` and are
importable from here too, as the lessons do.  This module turns an arc into a torch or Keras
classifier (:func:`build_dense`; the torch class and its forward pass are in
:mod:`workshop_utils.nas._torch_layers`) and trains a torch one with
:func:`fit_dense`, the package's one epoch loop (:func:`workshop_utils.training.epoch_loop`)
with cross-entropy and AdamW.  PyTorch and Keras are imported inside the functions.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _checks, _moved
from .dense_space import (DECISIONS, DENSE_ACTIVATIONS, FAMILIES, LAYER_ACTIVATIONS, LAYER_DECISIONS, DenseChoice,
                          DenseSpec, LayerChoice, LayerwiseSpec, activation_names, arc_spec, check_dims,
                          dense_model_space, layerwise_inputs, layerwise_model_space, linear_shapes, module_key,
                          supernet_shapes)
from .space import ModelSpace, Operation

# Names that lived here in the last release (one more release with a DeprecationWarning).
__getattr__ = _moved.moved_names(__name__, {
    "n_activations": "workshop_utils.nas.dense:activation_names",
    "dense_forward": "workshop_utils.nas._torch_layers", "LinearView": "workshop_utils.nas._torch_layers",
    "activation_module": "workshop_utils.nas._torch_layers"})

__all__ = ["DECISIONS", "DENSE_ACTIVATIONS", "FAMILIES", "LAYER_ACTIVATIONS", "LAYER_DECISIONS", "DenseChoice",
           "DenseSpec", "LayerChoice", "LayerwiseSpec", "ModelSpace", "Operation", "activation_names", "arc_spec",
           "build_dense", "check_features", "check_optimizer_settings", "class_weights",
           "dense_model_space", "fit_dense", "layerwise_model_space", "linear_shapes", "macro_f1", "module_key",
           "predict_logits", "supernet_shapes"]


def build_dense(space: ModelSpace, arc: Sequence[int], n_features: int, n_classes: int,
                framework: str = "torch", seed: int = 0, learning_rate: float = 1e-3) -> Any:
    """Turn an arc of a dense space into an untrained classifier, ready to train.

    Parameters
    ----------
    space : ModelSpace
        From :func:`dense_model_space` or :func:`layerwise_model_space`.
    arc : sequence of int
        One token per decision (five for :func:`dense_model_space`).
    n_features, n_classes : int
        Input width (genes) and number of classes (>= 2), or ``n_classes=1`` for a
        **regression**: one linear output ``(N, 1)`` (Keras: a linear activation, compiled
        with the mean squared error).  :func:`fit_dense` trains classifiers only; train a
        regression network with an MSE loop of your own.
    framework : {'torch', 'keras'}
        ``'torch'``: a :class:`~workshop_utils.nas._torch_layers.DenseClassifier`
        (``torch.nn.Module``) returning logits ``(N, n_classes)``; train it with
        :func:`fit_dense`.  ``'keras'``: a functional ``keras.Model`` of the same network
        ending in ``Dense(n_classes)`` followed by ``Activation('softmax')``, compiled
        (Adam at ``learning_rate``, sparse categorical cross-entropy) like every Keras
        builder of the package.
    seed : int
        Seeds the weight initialisation (and Keras' dropout masks); the caller's random
        state is left as it was.
    learning_rate : float
        Keras only: the compiled optimizer's learning rate (torch models take ``lr`` in
        :func:`fit_dense`).

    Examples
    --------
    >>> space = dense_model_space()
    >>> model = build_dense(space, [2, 0, 1, 1, 0], n_features=765, n_classes=10)
    >>> model(torch.zeros(3, 765)).shape
    torch.Size([3, 10])
    """
    fn = "build_dense"
    spec = arc_spec(space, arc)
    check_dims(n_features, n_classes)
    seed = _checks.non_negative_int(seed, "seed", fn)
    framework = _checks.one_of(framework, "framework", fn, ("torch", "keras"))
    learning_rate = _checks.number(learning_rate, "learning_rate", fn, low=0.0, low_open=True)
    if framework == "torch":
        from ..backend import torch_seeded
        from ._torch_layers import DenseClassifier

        with torch_seeded(seed):
            return DenseClassifier(spec, int(n_features), int(n_classes))
    return _keras_dense(spec, int(n_features), int(n_classes), seed, learning_rate)


def _keras_dense(spec: DenseSpec | LayerwiseSpec, n_features: int, n_classes: int, seed: int,
                 learning_rate: float) -> Any:
    import keras

    L = keras.layers
    shapes = linear_shapes(spec, n_features, n_classes)
    dense = {k: L.Dense(o, name=module_key(k), kernel_initializer=keras.initializers.GlorotUniform(seed=seed + i))
             for i, (k, (_, o)) in enumerate(shapes.items())}
    pre = "" if isinstance(spec, LayerwiseSpec) else f"{spec.family}-{spec.units}-"
    n_drop = [0]

    def act_drop(h):
        h = L.Activation(spec.activation)(h)
        if spec.dropout > 0:
            n_drop[0] += 1
            h = L.Dropout(spec.dropout, seed=seed + 1000 + n_drop[0])(h)
        return h

    x = keras.Input((n_features,))
    if isinstance(spec, LayerwiseSpec):
        hs = [x]
        inputs, head = layerwise_inputs(spec)
        for i, layer in enumerate(inputs, start=1):
            parts = [dense[key](hs[k]) for k, key in layer]
            z = parts[0] if len(parts) == 1 else L.Add()(parts)
            h = L.Activation(spec.activations[i - 1])(z)
            if spec.dropout > 0:
                h = L.Dropout(spec.dropout, seed=seed + 1000 + i)(h)
            hs.append(h)
        out = dense[head](hs[-1])
    elif spec.family == "mlp":
        h = x
        for j in range(spec.depth):
            h = act_drop(dense[f"{pre}h{j}"](h))
        out = dense[f"{pre}head"](h)
    elif spec.family == "resnet":
        h = dense[f"{pre}stem"](x)
        for j in range(spec.depth):
            r = act_drop(dense[f"{pre}b{j}a"](L.Activation(spec.activation)(h)))
            h = L.Add()([h, dense[f"{pre}b{j}b"](r)])
        out = dense[f"{pre}head"](act_drop(h))
    else:
        feats = [act_drop(dense[f"{pre}stem"](x))]
        for j in range(spec.depth):
            inp = feats[0] if len(feats) == 1 else L.Concatenate()(feats)
            feats.append(act_drop(dense[f"{pre}l{j}"](inp)))
        out = dense[f"{pre}head{spec.depth}"](L.Concatenate()(feats))
    regression = n_classes == 1
    name = "dense_layerwise" if isinstance(spec, LayerwiseSpec) else f"dense_{spec.family}"
    model = keras.Model(x, L.Activation("linear" if regression else "softmax")(out), name=name)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="mse" if regression else "sparse_categorical_crossentropy")
    return model


# --------------------------------------------------------------------------- training
def check_features(X_train: np.ndarray, X_valid: np.ndarray, fn: str) -> np.ndarray:
    """``X_valid``, refused unless it has the features of ``X_train``."""
    if X_valid.shape[1] != X_train.shape[1]:
        raise _checks.fail(fn, "X_valid", f"{X_train.shape[1]} features like X_train", f"{X_valid.shape[1]}")
    return X_valid


def check_optimizer_settings(fn: str, batch_size: Any, lr: Any, weight_decay: Any, seed: Any,
                        progress: Any) -> tuple[int, float, float, int, bool]:
    """The AdamW training arguments shared by :func:`fit_dense` and ENAS, checked."""
    return (_checks.positive_int(batch_size, "batch_size", fn), _checks.number(lr, "lr", fn, low=0.0, low_open=True),
            _checks.number(weight_decay, "weight_decay", fn, low=0.0), _checks.non_negative_int(seed, "seed", fn),
            _checks.flag(progress, "progress", fn))


def class_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """'Balanced' class weights ``n / (n_classes * count)`` (as scikit-learn's), ``(n_classes,)``.

    Classes absent from ``y`` get weight 1.
    """
    n_classes = _checks.positive_int(n_classes, "n_classes", "class_weights")
    y = _checks.class_codes(y, "y", "class_weights", n_classes=n_classes, allow_empty=True)
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    w = np.ones(n_classes)
    seen = counts > 0
    w[seen] = len(y) / (seen.sum() * counts[seen])
    return w.astype(np.float32)


def predict_logits(model: Any, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Logits ``(N, n_classes)`` of a classifier over a table ``X (N, n_features)``.

    :func:`workshop_utils.backend.logits` (evaluation mode, no gradients, the model's
    mode given back), kept two-dimensional.
    """
    from ..backend import logits

    X = _checks.finite_array(X, "X", "predict_logits", ndim=2)
    z = logits(model, X, batch_size, fn="predict_logits")
    return z.reshape(len(X), -1)


def macro_f1(y_true: np.ndarray, logits_or_pred: np.ndarray) -> float:
    """Macro-averaged F1 from labels ``(N,)`` and logits ``(N, C)`` or predictions ``(N,)``.

    The same number as scikit-learn's ``f1_score(average="macro", zero_division=0)``: the
    mean over the classes present in ``y_true`` or the predictions of
    ``2 TP / (2 TP + FP + FN)``.  Counted with numpy (scikit-learn's checks cost
    milliseconds per call, which a bootstrap repeats a thousand times).
    """
    fn = "macro_f1"
    pred = _checks.finite_array(logits_or_pred, "logits_or_pred", fn, ndim=(1, 2), dtype=None)
    y_true = _checks.class_codes(y_true, "y_true", fn, n=len(pred))
    pred = pred.argmax(1) if pred.ndim == 2 else pred
    labels, codes = np.unique(np.concatenate([np.asarray(y_true), np.asarray(pred)]), return_inverse=True)
    t, p = codes[:len(y_true)], codes[len(y_true):]
    k = len(labels)
    tp = np.bincount(t[t == p], minlength=k)
    f1 = 2 * tp / (np.bincount(t, minlength=k) + np.bincount(p, minlength=k))   # 2TP + FP + FN = |true| + |pred|
    return float(f1.mean())


def fit_dense(model: Any, X_train: np.ndarray, y_train: np.ndarray, X_valid: np.ndarray, y_valid: np.ndarray,
              epochs: int = 200, batch_size: int = 64, lr: float = 1e-3, weight_decay: float = 1e-4,
              patience: int = 20, balanced: bool = True, monitor: str = "val_loss", seed: int = 0,
              progress: bool = False, min_delta: float = 0.0) -> dict:
    """Train a torch classifier from its current weights, with early stopping.

    Cross-entropy (class-weighted when ``balanced``, which helps macro F1 on rare cell
    types), AdamW with ``weight_decay``; after every epoch the validation loss and macro
    F1 are measured, and the weights of the best epoch (by ``monitor``) are restored at the
    end.  An epoch improves when it beats the best by more than ``min_delta``: the loop is
    :func:`workshop_utils.training.epoch_loop`, the one :func:`workshop_utils.training.fit` runs.

    Every argument is checked before the model is touched: a call that fails on bad input
    (NaN in a table, a class code the model has no output for) leaves the weights as they were.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(N, n_features)`` to logits ``(N, n_classes)``.
    X_train, X_valid : np.ndarray
        ``(N, n_features)`` float32, finite.
    y_train, y_valid : np.ndarray
        ``(N,)`` integer class codes in ``0..n_classes-1``.
    epochs, batch_size, patience : int
    lr, weight_decay : float
    balanced : bool
    monitor : {'val_loss', 'val_f1'}
        Early stopping and the restored epoch follow the lowest validation loss or the
        highest validation macro F1 (ties: the earlier epoch).
    seed : int
        Seeds the minibatch order (a local numpy generator) and dropout (inside
        :func:`workshop_utils.backend.torch_seeded`: the caller's random state is left alone).
    progress : bool
        Show a tqdm bar over epochs.
    min_delta : float
        Smallest improvement of the monitored value that counts.

    Returns
    -------
    dict
        The history of :func:`workshop_utils.training.epoch_loop`, as
        :func:`workshop_utils.training.fit` returns it: ``loss``, ``val_loss``, ``val_f1``
        (lists, one per epoch), ``best_epoch`` (the **0-based** index of the best epoch in
        those lists), ``stopped_early``, ``seconds``.
    """
    import torch

    from ..backend import require, torch_forward
    from ..training import epoch_loop, train_batches

    fn = "fit_dense"
    require(model, "torch", fn)
    X_train = _checks.finite_array(X_train, "X_train", fn, ndim=2)
    X_valid = check_features(X_train, _checks.finite_array(X_valid, "X_valid", fn, ndim=2), fn)
    n_out = predict_logits(model, X_train[:2]).shape[1]  # runs the model in eval mode: no state changes
    n_classes = int(getattr(model, "n_classes", n_out))
    y_train = _checks.class_codes(y_train, "y_train", fn, len(X_train), n_classes)
    y_valid = _checks.class_codes(y_valid, "y_valid", fn, len(X_valid), n_classes)
    epochs = _checks.positive_int(epochs, "epochs", fn)
    patience = _checks.positive_int(patience, "patience", fn)
    batch_size, lr, weight_decay, seed, progress = check_optimizer_settings(fn, batch_size, lr, weight_decay, seed,
                                                                            progress)
    balanced = _checks.flag(balanced, "balanced", fn)
    monitor = _checks.one_of(monitor, "monitor", fn, ("val_loss", "val_f1"))
    min_delta = _checks.number(min_delta, "min_delta", fn, low=0.0)
    rng = np.random.default_rng(seed)
    weight = torch.from_numpy(class_weights(y_train, n_classes)) if balanced else None
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    Xt, yt = torch.from_numpy(X_train), torch.from_numpy(y_train)
    Xv, yv = torch.from_numpy(X_valid), torch.from_numpy(y_valid)

    def batches():
        order = rng.permutation(len(Xt))  # drawn when the epoch starts, as the loop asks for the first batch
        for i in range(0, len(order), batch_size):
            idx = torch.from_numpy(order[i:i + batch_size])
            yield Xt[idx], yt[idx]

    def validate(epoch: int) -> dict:
        model.eval()
        with torch.no_grad():
            out = torch_forward(model, Xv, fn)
            val_loss = float(loss_fn(out, yv))
        finite = bool(torch.isfinite(out).all())  # a diverged epoch scores NaN, never "improves"
        return {"val_loss": val_loss, "val_f1": macro_f1(y_valid, out.numpy()) if finite else float("nan")}

    return epoch_loop(model, lambda epoch: train_batches(model, batches(), loss_fn, opt, fn), validate, epochs,
                      patience, monitor=monitor, mode="min" if monitor == "val_loss" else "max", min_delta=min_delta,
                      seed=seed, progress=progress, leave=False)
