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

from .backend import logits as _logits
from .metrics import binary_metrics


def _check_xy(X: np.ndarray, y: np.ndarray, name: str = "train") -> tuple[np.ndarray, np.ndarray]:
    if not hasattr(X, "shape") or not hasattr(y, "__len__"):
        raise TypeError(f"{name} must be a pair (X, y) of numpy arrays, got ({type(X).__name__}, {type(y).__name__})")
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32).reshape(-1)
    if X.ndim != 3 or X.shape[-1] != 4:
        raise ValueError(f"{name} X must be one-hot DNA of shape (N, L, 4), got {X.shape}")
    if len(X) != len(y):
        raise ValueError(f"{name} X and y must have the same length, got {len(X)} and {len(y)}")
    if len(X) == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(f"{name} y must contain only 0 and 1, got values {np.unique(y)[:5]}")
    return X, y


def _pair(data: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{name} must be a tuple (X, y), got {type(data).__name__}")
    return _check_xy(data[0], data[1], name)


def _positive_int(v: Any, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"{name} must be a positive integer, got {v!r}")
    return int(v)


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

        X, y = _check_xy(X, y, "OneHotDataset")
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

    batch_size = _positive_int(batch_size, "batch_size")
    if not isinstance(shuffle, bool):
        raise TypeError(f"shuffle must be True or False, got {shuffle!r}")
    ds = OneHotDataset(X, y)
    if shuffle:
        sampler = RandomSampler(ds, generator=torch.Generator().manual_seed(int(seed)))
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
    X, y = _check_xy(X, y, "evaluate")
    z = _logits(model, X, batch_size=batch_size)
    if z.ndim != 1:
        raise ValueError(f"model must have one output (logits (N,) or (N, 1)), got logits of shape {z.shape}")
    proba = 1.0 / (1.0 + np.exp(-z.astype(np.float64)))
    out = {"loss": _bce_from_logits(y, z)}
    out.update(binary_metrics(y, proba, threshold=threshold))
    out["proba"] = proba.astype(np.float32)
    return out


def _make_optimizer(model, optimizer, lr: float):
    import torch

    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    if not isinstance(optimizer, str) or optimizer.lower() not in ("adam", "sgd", "adamw"):
        raise ValueError(f"optimizer must be 'adam', 'adamw', 'sgd' or a torch.optim.Optimizer, got {optimizer!r}")
    cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}[optimizer.lower()]
    return cls(model.parameters(), lr=lr)


def fit(model: Any, train: tuple[np.ndarray, np.ndarray], valid: tuple[np.ndarray, np.ndarray],
        epochs: int = 10, batch_size: int = 128, lr: float = 1e-3, optimizer: Any = "adam",
        patience: int | None = 3, restore_best: bool = True, seed: int = 0,
        progress: bool = True) -> dict:
    """Train a PyTorch binary classifier (logits out) with early stopping on the validation loss.

    Each epoch: one pass over shuffled mini-batches of ``train`` (``model.train()``,
    ``BCEWithLogitsLoss``, ``zero_grad -> backward -> step``), then the validation loss
    and AUROC with ``model.eval()`` and no gradients.  Training stops after ``patience``
    epochs without a lower validation loss (the Keras ``EarlyStopping`` rule) and, with
    ``restore_best``, the weights of the best epoch are put back.

    Parameters
    ----------
    model : torch.nn.Module
        Takes ``(B, L, 4)`` and returns logits ``(B, 1)`` or ``(B,)``.
    train, valid : tuple ``(X (N, L, 4), y (N,))``
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
        Seeds torch (dropout) and the batch shuffling.
    progress : bool
        Show a tqdm bar over epochs with the loss and validation AUROC.

    Returns
    -------
    dict
        ``loss``, ``val_loss``, ``val_auroc``: lists with one float per epoch run (the
        training loss is the mean over the epoch's batches, as Keras reports it);
        ``best_epoch``: the 1-based epoch with the lowest validation loss;
        ``stopped_early``: whether early stopping ended training.
    """
    import torch
    from tqdm.auto import tqdm

    from .backend import framework

    if framework(model) != "torch":
        raise TypeError(f"model must be a torch.nn.Module (use model.fit for Keras), got {type(model).__name__}")
    Xtr, ytr = _pair(train, "train")
    Xva, yva = _pair(valid, "valid")
    epochs = _positive_int(epochs, "epochs")
    batch_size = _positive_int(batch_size, "batch_size")
    if patience is not None:
        patience = _positive_int(patience, "patience")
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or lr <= 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    torch.manual_seed(int(seed))
    opt = _make_optimizer(model, optimizer, float(lr))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    device = next(model.parameters()).device
    hist: dict = {"loss": [], "val_loss": [], "val_auroc": []}
    best, best_state, wait, stopped = np.inf, None, 0, False
    bar = tqdm(range(epochs), desc="epochs", disable=not progress, leave=True)
    for epoch in bar:
        model.train()
        total, seen = 0.0, 0
        for xb, yb in make_loader(Xtr, ytr, batch_size, shuffle=True, seed=int(seed) + epoch):
            xb, yb = xb.to(device), yb.to(device)
            opt.zero_grad()
            loss = loss_fn(model(xb).reshape(-1), yb)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(yb)
            seen += len(yb)
        ev = evaluate(model, Xva, yva, batch_size=max(batch_size, 1024))
        hist["loss"].append(total / seen)
        hist["val_loss"].append(ev["loss"])
        hist["val_auroc"].append(ev["auroc"])
        bar.set_postfix(loss=f"{total / seen:.4f}", val_loss=f"{ev['loss']:.4f}", val_auroc=f"{ev['auroc']:.3f}")
        if ev["loss"] < best:
            best, wait = ev["loss"], 0
            hist["best_epoch"] = epoch + 1
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

    patience = _positive_int(patience, "patience")
    cbs = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)]
    if checkpoint_path is not None:
        if not str(checkpoint_path).endswith(".keras"):
            raise ValueError(f"checkpoint_path must end in '.keras', got {checkpoint_path!r}")
        cbs.append(keras.callbacks.ModelCheckpoint(str(checkpoint_path), monitor="val_loss", save_best_only=True))
    return cbs
