"""The search loop: sample an arc -> evaluate it -> tell the controller the reward.

:func:`search` is generic (any controller with ``get_action``/``update``, any
``evaluate(arc)``); :func:`cnn_evaluator` is the course's evaluate for the CTCF task:
build the child, train it briefly with early stopping, reward = validation AUROC.
"""
from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .space import ModelSpace

_BASE_COLUMNS = ["trial", "arc", "ops", "reward", "params", "seconds"]


class SearchHistory:
    """What a search tried: one record per trial, plus the controller's probabilities.

    Attributes
    ----------
    records : list of dict
        ``trial, arc, ops, reward, params, seconds`` and whatever else ``evaluate``
        returned (``val_auroc``, ``epochs`` ...).
    probs : list of list of np.ndarray
        ``probs[t][i]``: layer ``i``'s choice probabilities when trial ``t`` was drawn.
    """

    def __init__(self, model_space: ModelSpace | None = None) -> None:
        self.model_space = model_space
        self.records: list[dict[str, Any]] = []
        self.probs: list[list[np.ndarray]] = []
        self.seconds_total = 0.0

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        if not self.records:
            return "<SearchHistory: 0 trials>"
        return (f"<SearchHistory: {len(self)} trials, best reward {self.best_reward:.4f} "
                f"for arc {self.best_arc}, {self.seconds_total:.0f} s>")

    @property
    def table(self):
        """A pandas DataFrame, one row per trial (``arc`` holds lists of ints)."""
        import pandas as pd

        cols = list(_BASE_COLUMNS)
        for rec in self.records:
            cols += [k for k in rec if k not in cols]
        return pd.DataFrame(self.records, columns=cols)

    @property
    def rewards(self) -> np.ndarray:
        """Reward per trial, ``(n_trials,)``."""
        return np.array([r["reward"] for r in self.records], dtype=float)

    @property
    def running_best(self) -> np.ndarray:
        """Best reward so far after each trial, ``(n_trials,)``."""
        return np.maximum.accumulate(self.rewards) if self.records else np.zeros(0)

    @property
    def best_arc(self) -> list[int]:
        """The arc with the highest reward."""
        if not self.records:
            raise ValueError("history: no trials yet")
        return list(self.records[int(np.argmax(self.rewards))]["arc"])

    @property
    def best_reward(self) -> float:
        if not self.records:
            raise ValueError("history: no trials yet")
        return float(self.rewards.max())

    def top_k(self, k: int = 5):
        """The ``k`` best distinct arcs (best first), as a DataFrame (each arc's best trial)."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k: expected a positive integer, got {k!r}")
        t = self.table
        if t.empty:
            return t
        t = t.assign(_key=t["arc"].map(tuple)).sort_values(["reward", "trial"], ascending=[False, True])
        return t.drop_duplicates("_key").drop(columns="_key").head(int(k)).reset_index(drop=True)

    def layer_probs(self, layer: int) -> np.ndarray:
        """Choice probabilities of ``layer`` at each trial, ``(n_trials, n_choices)``."""
        if not self.probs:
            raise ValueError("history: no controller probabilities recorded")
        n = len(self.probs[0])
        if not isinstance(layer, (int, np.integer)) or not 0 <= layer < n:
            raise ValueError(f"layer: expected an integer in 0..{n - 1}, got {layer!r}")
        return np.stack([p[layer] for p in self.probs])

    def to_csv(self, path: str | Path) -> Path:
        """Write the table as CSV (``arc`` as JSON, e.g. ``[0, 2, 6, 0]``); returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        t = self.table
        t["arc"] = t["arc"].map(json.dumps)
        t.to_csv(path, index=False)
        return path

    @classmethod
    def concat(cls, histories: Sequence[SearchHistory]) -> SearchHistory:
        """One history holding the trials of several (e.g. random + controller), renumbered."""
        histories = list(histories)
        if not histories or not all(isinstance(h, SearchHistory) for h in histories):
            raise TypeError("histories: expected a non-empty list of SearchHistory")
        out = cls(histories[0].model_space)
        for h in histories:
            for rec in h.records:
                out.records.append({**rec, "trial": len(out.records)})
            out.probs += h.probs
            out.seconds_total += h.seconds_total
        return out

    @classmethod
    def read_csv(cls, path: str | Path, model_space: ModelSpace | None = None) -> SearchHistory:
        """Read a table written by :meth:`to_csv` (controller probabilities are not stored)."""
        import pandas as pd

        t = pd.read_csv(path)
        missing = [c for c in _BASE_COLUMNS if c not in t.columns]
        if missing:
            raise ValueError(f"path: {path} is not a search history; missing columns {missing}")
        hist = cls(model_space)
        for rec in t.to_dict("records"):
            rec["arc"] = json.loads(rec["arc"])
            hist.records.append(rec)
        hist.seconds_total = float(t["seconds"].sum())
        return hist


def _describe(model_space: ModelSpace | None, arc: list[int]) -> str:
    if model_space is None:
        return ""
    return model_space.describe(arc)


def search(controller: Any, evaluate: Callable[[list[int]], float | dict], n_trials: int = 20,
           time_budget: float | None = None, progress: bool = True, history_path: str | Path | None = None,
           model_space: ModelSpace | None = None, cache: bool = True) -> SearchHistory:
    """Run a search: ``n_trials`` times sample an arc, evaluate it, update the controller.

    Parameters
    ----------
    controller : GeneralController or RandomController
        Anything with ``get_action() -> (arc, probs)`` and ``update(arc, reward)``.
    evaluate : callable
        ``evaluate(arc) -> float`` (the reward) or a dict with at least ``"reward"``
        (optionally ``"params"``, ``"val_auroc"`` ... which become table columns).
    n_trials : int
        Maximum number of trials.
    time_budget : float, optional
        Wall-time budget in seconds: no trial starts once the elapsed time plus the mean
        trial time so far would pass it (the first trial always runs).
    progress : bool
        Show a tqdm bar with the best reward so far.
    history_path : str or Path, optional
        CSV written after every trial (nothing is lost if the search is interrupted).
    model_space : ModelSpace, optional
        For the operations in words; defaults to ``controller.model_space``.
    cache : bool
        An arc drawn again reuses its first result instead of being trained again
        (the trial is recorded with ``cached=True`` and counts toward ``n_trials``).

    Returns
    -------
    SearchHistory
    """
    if not (hasattr(controller, "get_action") and hasattr(controller, "update")):
        raise TypeError(f"controller: expected an object with get_action() and update(arc, reward), "
                        f"got {type(controller).__name__}")
    if not callable(evaluate):
        raise TypeError(f"evaluate: expected a callable evaluate(arc) -> reward, got {type(evaluate).__name__}")
    if isinstance(n_trials, bool) or not isinstance(n_trials, (int, np.integer)) or n_trials < 1:
        raise ValueError(f"n_trials: expected a positive integer, got {n_trials!r}")
    if time_budget is not None and (not isinstance(time_budget, (int, float)) or not time_budget > 0):
        raise ValueError(f"time_budget: expected a positive number of seconds or None, got {time_budget!r}")
    space = model_space if model_space is not None else getattr(controller, "model_space", None)
    if space is not None and not isinstance(space, ModelSpace):
        raise TypeError(f"model_space: expected a ModelSpace or None, got {type(space).__name__}")

    from tqdm.auto import tqdm

    hist = SearchHistory(space)
    seen: dict[tuple[int, ...], dict] = {}
    start = time.perf_counter()
    bar = tqdm(total=int(n_trials), desc=f"search ({type(controller).__name__})", disable=not progress)
    try:
        for trial in range(int(n_trials)):
            elapsed = time.perf_counter() - start
            if time_budget is not None and trial > 0 and elapsed + elapsed / trial > time_budget:
                break
            arc, probs = controller.get_action()
            arc = [int(a) for a in arc]
            t0 = time.perf_counter()
            key = tuple(arc)
            cached = cache and key in seen
            if cached:
                result = dict(seen[key])
            else:
                out = evaluate(arc)
                result = _as_result(out, arc)
                seen[key] = dict(result)
            reward = result.pop("reward")
            loss = controller.update(arc, reward)
            seconds = 0.0 if cached else time.perf_counter() - t0
            rec = {"trial": trial, "arc": arc, "ops": _describe(space, arc), "reward": reward,
                   "params": result.pop("params", None), "seconds": round(seconds, 3), **result,
                   "cached": bool(cached), "controller_loss": float(loss) if loss is not None else None}
            hist.records.append(rec)
            hist.probs.append([np.asarray(p, dtype=float) for p in probs])
            hist.seconds_total = time.perf_counter() - start
            if history_path is not None:
                hist.to_csv(history_path)
            bar.update(1)
            bar.set_postfix(best=f"{hist.best_reward:.4f}", last=f"{reward:.4f}")
    finally:
        bar.close()
    return hist


def _as_result(out: Any, arc: list[int]) -> dict:
    if isinstance(out, dict):
        if "reward" not in out:
            raise ValueError(f"evaluate: the dict returned for arc {arc} has no 'reward' key: {sorted(out)}")
        res = dict(out)
    else:
        res = {"reward": out}
    try:
        res["reward"] = float(res["reward"])
    except (TypeError, ValueError):
        raise TypeError(f"evaluate: reward for arc {arc} must be a number, got {res['reward']!r}") from None
    if not math.isfinite(res["reward"]):
        raise ValueError(f"evaluate: reward for arc {arc} is not finite: {res['reward']}")
    return res


def _split_data(data: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if hasattr(data, "x_train") and hasattr(data, "x_valid"):
        parts = (data.x_train, data.y_train, data.x_valid, data.y_valid)
    elif isinstance(data, (tuple, list)) and len(data) == 4:
        parts = tuple(data)
    else:
        raise TypeError(f"data: expected a CTCFData or a tuple (X_train, y_train, X_valid, y_valid), "
                        f"got {type(data).__name__}")
    xtr, ytr, xva, yva = (np.asarray(p, dtype=np.float32) for p in parts)
    if len(xtr) != len(ytr) or len(xva) != len(yva):
        raise ValueError(f"data: X and y lengths differ: train {len(xtr)} vs {len(ytr)}, "
                         f"valid {len(xva)} vs {len(yva)}")
    if len(np.unique(yva)) < 2:
        raise ValueError("data: the validation labels need both classes to compute an AUROC")
    return xtr, ytr.reshape(-1), xva, yva.reshape(-1)


def _auroc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(_safe_metric(roc_auc_score, y_true, y_score))


def _safe_metric(fn: Callable, y_true: np.ndarray, y_score: np.ndarray) -> float:
    """``fn(y_true, y_score)``, or 0.5 when the scores are not finite (a diverged child)."""
    if not np.all(np.isfinite(y_score)):
        return 0.5
    return fn(y_true, y_score)


def train_child(model: Any, data: Any, epochs: int = 3, patience: int = 1, batch_size: int = 128,
                seed: int = 0, progress: bool = False) -> int:
    """Train a built child with early stopping on validation loss; returns the epochs run.

    Keras: ``model.fit`` with ``EarlyStopping(restore_best_weights=True)``.  PyTorch:
    :func:`workshop_utils.training.fit` (lr from ``model.compile_dict['learning_rate']``,
    default 1e-3).

    Parameters
    ----------
    model : keras.Model (compiled) or torch.nn.Module
    data : CTCFData or (X_train ``(N, L, 4)``, y_train ``(N,)``, X_valid, y_valid)
    """
    from ..backend import framework

    xtr, ytr, xva, yva = _split_data(data)
    for name, v in (("epochs", epochs), ("patience", patience), ("batch_size", batch_size)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name}: expected a positive integer, got {v!r}")
    if framework(model) == "keras":
        import keras

        keras.utils.set_random_seed(seed)
        stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
        hist = model.fit(xtr, ytr, validation_data=(xva, yva), epochs=epochs, batch_size=batch_size,
                         callbacks=[stop], verbose=int(progress), shuffle=True)
        return len(hist.history["loss"])
    from .. import training

    lr = float(getattr(model, "compile_dict", {}).get("learning_rate", 1e-3))
    out = training.fit(model, train=(xtr, ytr), valid=(xva, yva), epochs=epochs, batch_size=batch_size,
                       lr=lr, patience=patience, seed=seed, progress=progress)
    return len(out["loss"])


def cnn_evaluator(builder: Any, data: Any, epochs: int = 3, patience: int = 1, batch_size: int = 128,
                  reward: Callable[[np.ndarray, np.ndarray], float] | None = None, seed: int = 0,
                  progress: bool = False) -> Callable[[list[int]], dict]:
    """The course's ``evaluate(arc)``: build the child, train briefly, score it on validation data.

    Parameters
    ----------
    builder : SequentialModelBuilder
    data : CTCFData or tuple
        ``(X_train (N, L, 4), y_train (N,), X_valid (M, L, 4), y_valid (M,))``; pass a
        subset of the training data to keep each trial short.
    epochs, patience, batch_size : int
        Child training: at most ``epochs``, early stopping on validation loss.
    reward : callable, optional
        ``reward(y_true, y_score) -> float`` with ``y_score`` the predicted probabilities
        ``(M,)``; default: validation AUROC (``sklearn.metrics.roc_auc_score``).
    seed : int
        Every child starts from the same seed, so arcs are compared fairly.

    Returns
    -------
    callable
        ``evaluate(arc) -> {"reward", "val_auroc", "params", "epochs"}``.
    """
    from .build import SequentialModelBuilder, count_params

    if not isinstance(builder, SequentialModelBuilder):
        raise TypeError(f"builder: expected a SequentialModelBuilder, got {type(builder).__name__}")
    xtr, ytr, xva, yva = _split_data(data)
    if reward is not None and not callable(reward):
        raise TypeError(f"reward: expected a callable reward(y_true, y_score) -> float, got {type(reward).__name__}")

    def evaluate(arc: Sequence[int]) -> dict:
        from ..backend import logits
        from ..config import set_seed

        set_seed(seed)
        model = builder(arc)
        n_epochs = train_child(model, (xtr, ytr, xva, yva), epochs=epochs, patience=patience,
                               batch_size=batch_size, seed=seed, progress=progress)
        z = logits(model, xva)
        score = (1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))).astype(np.float64)
        auroc = _auroc(yva, score)
        value = auroc if reward is None else float(_safe_metric(reward, yva, score))
        return {"reward": value, "val_auroc": auroc, "params": count_params(model), "epochs": n_epochs}

    return evaluate
