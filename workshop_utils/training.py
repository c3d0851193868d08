"""Training plumbing: a PyTorch Dataset/DataLoader over one-hot DNA, a fit loop with early
stopping, a framework-agnostic :func:`evaluate`, and Keras callbacks to match.

The fit loop is the one ``notebooks/day1_01_pytorch_fundamentals.ipynb`` writes by hand
(zero_grad -> forward -> loss -> backward -> step, then a validation pass under
``no_grad``), plus early stopping on the validation loss, restoring the best weights and
a tqdm progress bar.  :func:`fit` returns a history dict with the same keys as a Keras
``History.history`` (``loss``, ``val_loss``, ``val_auroc``), so
:func:`workshop_utils.plotting.plot_history` draws both.

torch is imported inside the functions.
"""
from __future__ import annotations

import copy
from typing import Any

import numpy as np

from . import _checks
from .backend import framework as _framework
from .backend import logits, require, sigmoid, torch_forward, torch_seeded
from .metrics import binary_metrics


def _check_xy(X: Any, y: Any, fn: str, what: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Old private spelling still read by ``nas/search.py`` until it calls :func:`_checks.check_xy` (remove then)."""
    return _checks.check_xy(X, y, fn, x_name=f"{what}X", y_name=f"{what}y")


def _pair(data: Any, name: str, fn: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise _checks.fail(fn, name, "a tuple (X, y)", data, kind=_checks.ArgumentTypeError)
    return _checks.check_xy(data[0], data[1], fn, x_name=f"{name} X", y_name=f"{name} y")


class OneHotDataset:
    """A map-style PyTorch dataset over one-hot DNA and binary labels.

    ``dataset[i]`` returns ``(x, y)`` with ``x`` a float32 tensor ``(L, 4)`` and ``y`` a
    float32 tensor ``()``.  Indexing with a list of indices returns a whole batch
    ``((B, L, 4), (B,))`` in one step, which is what :func:`make_loader` uses (much
    faster than collating B single items).  ``DataLoader`` accepts any object with
    ``__len__`` and ``__getitem__``, so this class does not need to subclass
    ``torch.utils.data.Dataset`` (which keeps torch out of ``import workshop_utils``).

    Parameters
    ----------
    X : array ``(N, L, 4)``
    y : array ``(N,)`` of 0/1
    """

    def __init__(self, X: np.ndarray, y: np.ndarray):
        import torch

        X, y = _checks.check_xy(X, y, "OneHotDataset")
        self.X = torch.from_numpy(X)
        self.y = torch.from_numpy(y)

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, idx):
        return self.X[idx], self.y[idx]


def make_loader(X: np.ndarray, y: np.ndarray, batch_size: int = 128, shuffle: bool = True,
                seed: int = 0) -> Any:
    """A ``torch.utils.data.DataLoader`` yielding batches ``x (B, L, 4)``, ``y (B,)``.

    Parameters
    ----------
    X : array ``(N, L, 4)``
    y : array ``(N,)``
    batch_size : int
    shuffle : bool
        Reshuffle every epoch (training); keep the order for evaluation.
    seed : int
        Seeds the shuffling, so two loaders with the same seed give the same batches.

    Returns
    -------
    torch.utils.data.DataLoader
        Whole batches are drawn at once through a ``BatchSampler`` (``batch_size=None``
        on the loader), so ``len(loader) == ceil(N / batch_size)``.
    """
    import torch
    from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler

    batch_size = _checks.positive_int(batch_size, "batch_size", "make_loader")
    shuffle = _checks.flag(shuffle, "shuffle", "make_loader")
    seed = _checks.non_negative_int(seed, "seed", "make_loader")
    X, y = _checks.check_xy(X, y, "make_loader")
    ds = OneHotDataset(X, y)
    if shuffle:
        sampler = RandomSampler(ds, generator=torch.Generator().manual_seed(seed))
    else:
        sampler = SequentialSampler(ds)
    return DataLoader(ds, sampler=BatchSampler(sampler, batch_size, drop_last=False), batch_size=None)


def _bce_from_logits(y: np.ndarray, z: np.ndarray) -> float:
    """Mean binary cross-entropy computed stably from logits (like BCEWithLogitsLoss)."""
    z = z.astype(np.float64)
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))


def evaluate(model: Any, X: np.ndarray, y: np.ndarray, threshold: float = 0.5,
             batch_size: int = 1024) -> dict:
    """Loss and classification metrics of a Keras or PyTorch model on ``(X, y)``.

    Parameters
    ----------
    model : keras.Model or torch.nn.Module
        Anything :func:`workshop_utils.backend.logits` accepts.
    X : array ``(N, L, 4)``
    y : array ``(N,)`` of 0/1
    threshold : float
        Probability threshold for the confusion-matrix metrics.
    batch_size : int

    Returns
    -------
    dict
        ``loss`` (mean binary cross-entropy), plus everything
        :func:`workshop_utils.metrics.binary_metrics` returns (``auroc``, ``aupr``,
        ``accuracy``, ``sensitivity``, ``specificity``, ``precision``, ``confusion``),
        and ``proba`` ``(N,)``, the predicted probabilities.
    """
    X, y = _checks.check_xy(X, y, "evaluate")
    threshold = _checks.rate(threshold, "threshold", "evaluate")
    z = logits(model, X, batch_size, fn="evaluate")
    if z.ndim != 1:
        raise _checks.fail("evaluate", "model", "a model with one output (logits (N,) or (N, 1))",
                           f"logits of shape {z.shape}")
    return _metrics(y, z, threshold)


def _metrics(y: np.ndarray, z: np.ndarray, threshold: float = 0.5) -> dict:
    proba = sigmoid(z)
    out = {"loss": _bce_from_logits(y, z)}
    out.update(binary_metrics(y, proba, threshold=threshold))
    out["proba"] = proba.astype(np.float32)
    return out


def _validation(model: Any, X: np.ndarray, y: np.ndarray, batch_size: int, epoch: int) -> dict:
    """Validation loss and AUROC of one epoch; NaN for both (and a warning) when the model diverged."""
    z = logits(model, X, batch_size, fn="fit")
    if np.isfinite(z).all():
        return _metrics(y, z)
    import warnings

    warnings.warn(f"fit: the validation logits are NaN/inf after epoch {epoch} (0-based): training diverged; "
                  "this epoch counts as no improvement (lower lr?)", RuntimeWarning, stacklevel=3)
    return {"loss": float("nan"), "auroc": float("nan")}


def _make_optimizer(model, optimizer, lr: float):
    import torch

    if isinstance(optimizer, torch.optim.Optimizer):
        own = {id(p) for p in model.parameters()}
        given = [p for group in optimizer.param_groups for p in group["params"]]
        foreign = sum(id(p) not in own for p in given)
        if not given or foreign:
            got = (f"an optimizer over {len(given)} tensor(s), {foreign} of them not this model's" if given else
                   "an optimizer over no tensors")
            raise _checks.fail("fit", "optimizer", "an optimizer over this model's parameters", got,
                               hint="build it from the model you train: torch.optim.Adam(model.parameters(), lr=...) "
                                    "(a model rebuilt or copied after its optimizer has new parameters, so "
                                    "training would never change it)")
        return optimizer
    if not isinstance(optimizer, str) or optimizer.lower() not in ("adam", "sgd", "adamw"):
        raise _checks.fail("fit", "optimizer", "'adam', 'adamw', 'sgd' or a torch.optim.Optimizer", optimizer)
    cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}[optimizer.lower()]
    return cls(model.parameters(), lr=lr)


def improved(current: float, best: float, min_delta: float = 0.0) -> bool:
    """The early-stopping rule of the package: ``current`` beats ``best`` by more than ``min_delta``.

    Lower is better (pass ``-score`` for a score); the same rule as Keras'
    ``EarlyStopping(min_delta=...)``.  :func:`fit` and
    :func:`workshop_utils.nas.dense.fit_dense` both use it.
    """
    return current < best - min_delta


def fit(model: Any, train: tuple[np.ndarray, np.ndarray], valid: tuple[np.ndarray, np.ndarray],
        epochs: int = 10, batch_size: int = 128, lr: float = 1e-3, optimizer: Any = "adam",
        patience: int | None = 3, restore_best: bool = True, seed: int = 0,
        progress: bool = True, min_delta: float = 0.0) -> dict:
    """Train a PyTorch binary classifier (logits out) with early stopping on the validation loss.

    Each epoch: one pass over shuffled mini-batches of ``train`` (``model.train()``,
    ``BCEWithLogitsLoss``, ``zero_grad -> backward -> step``), then the validation loss
    and AUROC with ``model.eval()`` and no gradients.  Training stops after ``patience``
    epochs without improvement (a validation loss lower than the best by more than
    ``min_delta``: the Keras ``EarlyStopping`` rule, see :func:`improved`) and, with
    ``restore_best``, the weights of the best epoch are put back.

    Every argument is checked before the model is touched: a call that fails on bad
    input (NaN in ``X``, labels that are not 0/1, a model with two outputs) leaves the
    model's weights as they were.

    Parameters
    ----------
    model : torch.nn.Module
        Takes ``(B, L, 4)`` and returns logits ``(B, 1)`` or ``(B,)``.
    train, valid : tuple ``(X (N, L, 4), y (N,))``
        Finite inputs, labels 0/1.
    epochs : int
        Maximum number of epochs.
    batch_size : int
    lr : float
        Learning rate (ignored when ``optimizer`` is an optimizer instance).
    optimizer : {'adam', 'adamw', 'sgd'} or torch.optim.Optimizer
    patience : int or None
        Epochs without improvement before stopping; None trains all ``epochs``.
    restore_best : bool
        Load the weights of the epoch with the lowest validation loss at the end.
    seed : int
        Seeds dropout (inside :func:`workshop_utils.backend.torch_seeded`, so torch's global
        random state is left as it was) and the batch shuffling.
    progress : bool
        Show a tqdm bar over epochs with the loss and validation AUROC.
    min_delta : float
        Smallest decrease of the validation loss that counts as an improvement.

    Returns
    -------
    dict
        ``loss``, ``val_loss``, ``val_auroc``: lists with one float per epoch run (the
        training loss is the mean over the epoch's batches, as Keras reports it);
        ``best_epoch``: the **0-based** index of the best epoch in those lists
        (``hist["val_loss"][hist["best_epoch"]]`` is the best validation loss; the same
        convention as :func:`workshop_utils.nas.dense.fit_dense` and
        ``np.argmin(history.history["val_loss"])`` for Keras);
        ``stopped_early``: whether early stopping ended training.
        An epoch whose validation logits are NaN/inf (training diverged) records NaN
        loss and AUROC, warns, and never counts as an improvement.
    """
    import torch
    from ._progress import progress as tqdm  # text bar on stdout: saved notebooks show its final state

    fn = "fit"
    require(model, "torch", fn, hint="train a Keras model with model.fit(...) and keras_callbacks()")
    Xtr, ytr = _pair(train, "train", fn)
    Xva, yva = _pair(valid, "valid", fn)
    if Xva.shape[1:] != Xtr.shape[1:]:
        raise _checks.fail(fn, "valid X", f"sequences of the same shape as train X {Xtr.shape[1:]}",
                           f"shape {Xva.shape[1:]}")
    epochs = _checks.positive_int(epochs, "epochs", fn)
    batch_size = _checks.positive_int(batch_size, "batch_size", fn)
    if patience is not None:
        patience = _checks.positive_int(patience, "patience", fn)
    lr = _checks.number(lr, "lr", fn, low=0.0, low_open=True)
    restore_best = _checks.flag(restore_best, "restore_best", fn)
    progress = _checks.flag(progress, "progress", fn)
    seed = _checks.non_negative_int(seed, "seed", fn)
    min_delta = _checks.number(min_delta, "min_delta", fn, low=0.0)
    z = logits(model, Xtr[:2], 2, fn=fn)  # the model takes X and has one output: checked before any training
    if z.ndim != 1:
        raise _checks.fail(fn, "model", "a torch model with one output (logits (N,) or (N, 1))",
                           f"logits of shape {(len(Xtr),) + z.shape[1:]}")
    opt = _make_optimizer(model, optimizer, lr)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    device = next(model.parameters()).device
    hist: dict = {"loss": [], "val_loss": [], "val_auroc": []}
    best, best_state, wait, stopped = np.inf, None, 0, False
    bar = tqdm(range(epochs), desc="epochs", disable=not progress, leave=True)
    with torch_seeded(seed):
        for epoch in bar:
            model.train()
            total, seen = 0.0, 0
            for xb, yb in make_loader(Xtr, ytr, batch_size, shuffle=True, seed=seed + epoch):
                xb, yb = xb.to(device), yb.to(device)
                opt.zero_grad()
                loss = loss_fn(torch_forward(model, xb, fn).reshape(-1), yb)
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(yb)
                seen += len(yb)
            ev = _validation(model, Xva, yva, max(batch_size, 1024), epoch)
            hist["loss"].append(total / seen)
            hist["val_loss"].append(ev["loss"])
            hist["val_auroc"].append(ev["auroc"])
            bar.set_postfix(loss=f"{total / seen:.4f}", val_loss=f"{ev['loss']:.4f}", val_auroc=f"{ev['auroc']:.3f}")
            if improved(ev["loss"], best, min_delta):
                best, wait = ev["loss"], 0
                hist["best_epoch"] = epoch
                if restore_best:
                    best_state = copy.deepcopy(model.state_dict())
            else:
                wait += 1
                if patience is not None and wait >= patience:
                    stopped = True
                    break
    bar.close()
    if restore_best and best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    hist.setdefault("best_epoch", 0)
    hist["stopped_early"] = stopped
    return hist


def keras_callbacks(patience: int = 3, checkpoint_path: str | None = None) -> list:
    """Keras callbacks matching :func:`fit`: early stopping on ``val_loss`` with best-weights restore.

    Parameters
    ----------
    patience : int
    checkpoint_path : str, optional
        Also save the best model there (must end in ``.keras``).

    Returns
    -------
    list of keras.callbacks.Callback
    """
    import keras

    patience = _checks.positive_int(patience, "patience", "keras_callbacks")
    cbs = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)]
    if checkpoint_path is not None:
        if not str(checkpoint_path).endswith(".keras"):
            raise _checks.fail("keras_callbacks", "checkpoint_path", "a path ending in '.keras'", str(checkpoint_path))
        cbs.append(keras.callbacks.ModelCheckpoint(str(checkpoint_path), monitor="val_loss", save_best_only=True))
    return cbs


def fit_binary(model: Any, train: tuple[np.ndarray, np.ndarray], valid: tuple[np.ndarray, np.ndarray],
               epochs: int, batch_size: int, patience: int, seed: int, lr: float | None = None,
               progress: bool = False) -> int:
    """Train a Keras or PyTorch binary classifier with early stopping on the validation loss.

    Keras (compiled): ``model.fit`` with ``EarlyStopping(restore_best_weights=True)``;
    ``lr``, when given, is set on the compiled optimizer.  Keras training draws from
    Keras's global seed, so this sets it with ``keras.utils.set_random_seed(seed)`` (the
    one documented exception to local seeding, see ``ARCHITECTURE.md``).  PyTorch:
    :func:`fit` with ``lr`` (default 1e-3), seeded locally.  Inputs are validated by the
    callers (``nas.train_child``).

    Parameters
    ----------
    model : keras.Model (compiled) or torch.nn.Module
        Takes ``(B, L, 4)``, one output.
    train, valid : tuple ``(X (N, L, 4), y (N,))``
    epochs, batch_size, patience, seed : int
    lr : float, optional
    progress : bool

    Returns
    -------
    int
        The number of epochs run.
    """
    Xtr, ytr = train
    Xva, yva = valid
    if _framework(model) == "keras":
        import keras

        if not getattr(model, "compiled", False):
            raise _checks.fail("train_child", "model", "a compiled Keras model", "an uncompiled one",
                               hint="call model.compile(optimizer='adam', loss='binary_crossentropy') first")
        if lr is not None:
            model.optimizer.learning_rate = float(lr)
        keras.utils.set_random_seed(seed)  # Keras' fit shuffles and drops out from its global seed
        stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
        hist = model.fit(Xtr, ytr, validation_data=(Xva, yva), epochs=epochs, batch_size=batch_size,
                         callbacks=[stop], verbose=int(progress), shuffle=True)
        return len(hist.history["loss"])
    out = fit(model, train=(Xtr, ytr), valid=(Xva, yva), epochs=epochs, batch_size=batch_size,
              lr=1e-3 if lr is None else float(lr), patience=patience, seed=seed, progress=progress)
    return len(out["loss"])
