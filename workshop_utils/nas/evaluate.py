"""Evaluating a child: train it briefly, score it; and the process pools that evaluate children in parallel.

:func:`cnn_evaluator` is the course's ``evaluate(arc)`` for the CTCF task (build the child,
train it with early stopping through :func:`train_child`, reward = validation AUROC);
:class:`CNNEvaluator` is what it returns (a class, so process pools can pickle it);
:func:`process_pool` makes the pool :func:`workshop_utils.nas.search.search` hands the
children of a batch to.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np

from .. import _checks


def process_pool(workers: int = 2, threads: int | None = None) -> Executor:
    """A ``ProcessPoolExecutor`` for :func:`~workshop_utils.nas.search.search`: fresh (spawned) workers,
    threads shared out.

    Each worker limits OpenMP/BLAS, PyTorch and TensorFlow to ``threads`` threads (default
    ``cores // workers``, so the workers do not oversubscribe the machine; a worker with as
    many threads as this process reproduces its rewards bit for bit). Use it as a context
    manager::

        with nas.process_pool(2) as pool:
            hist = nas.search(controller, evaluate, n_trials=16, executor=pool, batch=4)
    """
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    workers = _checks.positive_int(workers, "workers", "process_pool")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    threads = max(1, cores // workers) if threads is None else _checks.positive_int(threads, "threads", "process_pool")
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_limit_threads, initargs=(threads,))


def _limit_threads(n: int) -> None:
    import os

    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        os.environ[var] = str(n)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    try:
        import torch

        torch.set_num_threads(n)
        torch.set_num_interop_threads(1)
    except (ImportError, RuntimeError):
        pass


def _split_data(data: Any, fn: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(X_train, y_train, X_valid, y_valid)`` from a CTCFData or a 4-tuple, checked (finite X, 0/1 labels)."""
    if hasattr(data, "x_train") and hasattr(data, "x_valid"):
        parts = (data.x_train, data.y_train, data.x_valid, data.y_valid)
    elif isinstance(data, (tuple, list)) and len(data) == 4:
        parts = tuple(data)
    else:
        raise _checks.fail(fn, "data", "a CTCFData or a tuple (X_train, y_train, X_valid, y_valid)",
                           type(data).__name__, kind=TypeError)
    xtr, ytr = _checks.check_xy(parts[0], parts[1], fn, x_name="data train X", y_name="data train y")
    xva, yva = _checks.check_xy(parts[2], parts[3], fn, x_name="data valid X", y_name="data valid y")
    if xva.shape[1:] != xtr.shape[1:]:
        raise _checks.fail(fn, "data", f"validation sequences of the training shape {xtr.shape[1:]}",
                           f"shape {xva.shape[1:]}")
    if len(np.unique(yva)) < 2:
        raise _checks.fail(fn, "data", "a split whose validation labels hold both classes (for an AUROC)",
                           f"validation labels of class {int(yva[0])} only")
    return xtr, ytr, xva, yva


def _child_settings(fn: str, epochs: Any, patience: Any, batch_size: Any, seed: Any,
                    progress: Any) -> tuple[int, int, int, int, bool]:
    """The child-training arguments shared by :func:`train_child` and :func:`cnn_evaluator`, checked."""
    return (_checks.positive_int(epochs, "epochs", fn), _checks.positive_int(patience, "patience", fn),
            _checks.positive_int(batch_size, "batch_size", fn), _checks.non_negative_int(seed, "seed", fn),
            _checks.flag(progress, "progress", fn))


def train_child(model: Any, data: Any, epochs: int = 3, patience: int = 1, batch_size: int = 128,
                seed: int = 0, progress: bool = False, lr: float | None = None) -> int:
    """Train a built child with early stopping on validation loss; returns the epochs run.

    :func:`workshop_utils.training.fit_binary`: Keras ``model.fit`` with
    ``EarlyStopping(restore_best_weights=True)`` (the model must be compiled, as the
    builders return it); PyTorch :func:`workshop_utils.training.fit`.

    Parameters
    ----------
    model : keras.Model (compiled) or torch.nn.Module
    data : CTCFData or (X_train ``(N, L, 4)``, y_train ``(N,)``, X_valid, y_valid)
        Finite inputs, labels 0/1: checked before the model is touched.
    epochs, patience, batch_size : int
    seed : int
        Torch: seeds dropout and shuffling locally.  Keras: training draws from Keras's
        global seed, which is set with ``keras.utils.set_random_seed`` (the Keras exception
        of the seeding rule).
    progress : bool
    lr : float or None
        Learning rate.  Torch: default 1e-3 (a builder's is ``builder.learning_rate``).
        Keras: None keeps the compiled optimizer's; a number replaces it.
    """
    from ..backend import require_model
    from ..training import fit_binary

    fn = "train_child"
    require_model(model, fn)
    xtr, ytr, xva, yva = _split_data(data, fn)
    epochs, patience, batch_size, seed, progress = _child_settings(fn, epochs, patience, batch_size, seed, progress)
    if lr is not None:
        lr = _checks.number(lr, "lr", fn, low=0.0, low_open=True)
    return fit_binary(model, (xtr, ytr), (xva, yva), epochs=epochs, batch_size=batch_size, patience=patience,
                      seed=seed, lr=lr, progress=progress)


def cnn_evaluator(builder: Any, data: Any, epochs: int = 3, patience: int = 1, batch_size: int = 128,
                  reward: Callable[[np.ndarray, np.ndarray], float] | None = None, seed: int = 0,
                  progress: bool = False, nonfinite_reward: float | None = None) -> Callable[[list[int]], dict]:
    """The course's ``evaluate(arc)``: build the child, train briefly, score it on validation data.

    Parameters
    ----------
    builder : SequentialModelBuilder
    data : CTCFData or tuple
        ``(X_train (N, L, 4), y_train (N,), X_valid (M, L, 4), y_valid (M,))``; pass a
        subset of the training data to keep each trial short.  Checked once, here: finite
        inputs, labels 0/1, both classes in the validation labels.
    epochs, patience, batch_size : int
        Child training: at most ``epochs``, early stopping on validation loss.
    reward : callable, optional
        ``reward(y_true, y_score) -> float`` with ``y_score`` the predicted probabilities
        ``(M,)``; default: validation AUROC (``sklearn.metrics.roc_auc_score``).
    seed : int
        Every child starts from the same seed (``builder(arc, seed=seed)`` and
        :func:`train_child`), so arcs are compared fairly.
    progress : bool
    nonfinite_reward : float or None
        A child whose training diverged scores NaN/inf on the validation data.  None (the
        default) raises a ``ValueError`` naming the arc (a search that went on would learn
        nothing from it); a number is used as that child's reward and ``val_auroc``, with
        a warning (0.5 scores it as guessing).

    Returns
    -------
    callable
        ``evaluate(arc) -> {"reward", "val_auroc", "params", "epochs"}``.
    """
    from .build import SequentialModelBuilder

    fn = "cnn_evaluator"
    if not isinstance(builder, SequentialModelBuilder):
        raise _checks.fail(fn, "builder", "a SequentialModelBuilder", type(builder).__name__, kind=TypeError)
    xtr, ytr, xva, yva = _split_data(data, fn)
    epochs, patience, batch_size, seed, progress = _child_settings(fn, epochs, patience, batch_size, seed, progress)
    if reward is not None and not callable(reward):
        raise _checks.fail(fn, "reward", "a callable reward(y_true, y_score) -> float", type(reward).__name__,
                           kind=TypeError)
    if nonfinite_reward is not None:
        nonfinite_reward = _checks.number(nonfinite_reward, "nonfinite_reward", fn)

    return CNNEvaluator(builder, xtr, ytr, xva, yva, epochs, patience, batch_size, reward, seed, progress,
                        nonfinite_reward)


class CNNEvaluator:
    """``evaluate(arc)`` of :func:`cnn_evaluator` (a class, so process pools and Dask can pickle it).

    Build it with :func:`cnn_evaluator`, which checks the arguments.
    """

    def __init__(self, builder: Any, xtr: np.ndarray, ytr: np.ndarray, xva: np.ndarray, yva: np.ndarray,
                 epochs: int, patience: int, batch_size: int, reward: Callable | None, seed: int, progress: bool,
                 nonfinite_reward: float | None) -> None:
        self.builder, self.data = builder, (xtr, ytr, xva, yva)
        self.epochs, self.patience, self.batch_size = epochs, patience, batch_size
        self.reward, self.seed, self.progress, self.nonfinite_reward = reward, seed, progress, nonfinite_reward

    def __repr__(self) -> str:
        return (f"<cnn_evaluator: {len(self.data[0])} training / {len(self.data[2])} validation sequences, "
                f"{self.epochs} epochs, seed {self.seed}>")

    def __call__(self, arc: Sequence[int]) -> dict:
        """``{"reward", "val_auroc", "params", "epochs"}`` of the child ``arc``, trained from ``seed``."""
        from sklearn.metrics import roc_auc_score

        from ..backend import count_params, logits, sigmoid

        builder, seed, nonfinite_reward = self.builder, self.seed, self.nonfinite_reward
        xtr, ytr, xva, yva = self.data
        model = builder(arc, seed=seed)
        n_epochs = train_child(model, (xtr, ytr, xva, yva), epochs=self.epochs, patience=self.patience,
                               batch_size=self.batch_size, seed=seed, progress=self.progress,
                               lr=builder.learning_rate)
        z = logits(model, xva)
        params = count_params(model)
        if not np.isfinite(z).all():
            bad = int((~np.isfinite(z)).sum())
            if nonfinite_reward is None:
                raise ValueError(f"cnn_evaluator: arc {list(arc)} gave {bad} non-finite validation logit(s) "
                                 f"(NaN/inf): its training diverged. Lower the learning rate "
                                 f"(model_compile_dict['learning_rate']), or pass nonfinite_reward=0.5 to score "
                                 "such children as guessing")
            warnings.warn(f"cnn_evaluator: arc {list(arc)} diverged ({bad} non-finite validation logits); "
                          f"its reward is nonfinite_reward={nonfinite_reward}", RuntimeWarning, stacklevel=2)
            return {"reward": nonfinite_reward, "val_auroc": nonfinite_reward, "params": params,
                    "epochs": n_epochs}
        score = sigmoid(z)
        auroc = float(roc_auc_score(yva, score))
        value = auroc if self.reward is None else float(self.reward(yva, score))
        return {"reward": value, "val_auroc": auroc, "params": params, "epochs": n_epochs}
