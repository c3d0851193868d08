"""KerasTuner for the autoencoder lesson: hypermodels, tuners in a named folder, trials as a table.

A *hypermodel* is a function ``build(hp) -> compiled keras.Model`` that asks ``hp`` for
its hyperparameters (``hp.Int``, ``hp.Choice``, ...).  A *tuner* (``RandomSearch``,
``BayesianOptimization``, ``Hyperband``) calls it once per *trial* with new values,
trains the model (``executions_per_trial`` times, averaging the score), and records the
*objective* (here ``val_loss``, lower is better).  Everything a tuner writes (trial
JSONs, checkpoints) goes to ``directory / project_name``; with ``overwrite=True`` an
old project of the same name is deleted first, so a rerun starts from scratch instead
of silently reloading old results.

keras_tuner is imported inside the functions (``import workshop_utils.tuning`` stays light).
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import autoencoders as _ae

__all__ = ["autoencoder_hypermodel", "latent_size_hypermodel", "make_tuner", "run_search",
           "trials_table", "vae_hypermodel"]

TUNERS = ("random", "grid", "bayesian", "hyperband")


def _check_choices(values: Sequence[Any], name: str, kind: type | tuple = (int, np.integer)) -> list:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) == 0:
        raise ValueError(f"{name} must be a non-empty sequence, got {values!r}")
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, kind)]
    if bad:
        raise TypeError(f"{name} must hold {kind}, got {bad!r}")
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def _check_range(pair: Any, name: str, minimum: int) -> tuple[int, int]:
    ok = isinstance(pair, (tuple, list)) and len(pair) == 2 and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= minimum for v in pair)
    if not ok or pair[0] > pair[1]:
        raise ValueError(f"{name} must be a pair (low, high) of integers with {minimum} <= low <= high, "
                         f"got {pair!r}")
    return int(pair[0]), int(pair[1])


def autoencoder_hypermodel(n_features: int, latent_dim: int = 2, depth: tuple[int, int] = (0, 6),
                           widths: Sequence[int] = (6, 9, 12, 16), learning_rate: float = 0.01,
                           seed: int = 0) -> Callable:
    """Hypermodel for the depth and width search of :func:`~workshop_utils.autoencoders.deep_autoencoder`.

    ``build(hp)`` asks ``hp.Int("depth", *depth)`` and ``hp.Choice("width", widths)``.

    Parameters
    ----------
    n_features : int
        Width of the data ``X (N, n_features)``.
    latent_dim : int
        Fixed code size.
    depth : (int, int)
        Inclusive range of hidden layers per side.
    widths : sequence of int
        Units per hidden layer to choose from.
    learning_rate : float
    seed : int
        Every trial starts from the same seed (a fair comparison).

    Returns
    -------
    callable ``build(hp) -> keras.Model``.
    """
    low, high = _check_range(depth, "depth", 0)
    widths = _check_choices(widths, "widths")

    def build(hp):
        return _ae.deep_autoencoder(n_features, latent_dim=latent_dim,
                                    depth=hp.Int("depth", low, high),
                                    width=hp.Choice("width", widths),
                                    learning_rate=learning_rate, seed=seed)

    return build


def latent_size_hypermodel(n_features: int, latent: tuple[int, int] = (1, 6), depth: int = 2,
                           width: int = 16, learning_rate: float = 0.01, seed: int = 0) -> Callable:
    """Hypermodel that searches only the code size: ``hp.Int("latent_dim", *latent)``.

    Depth and width are fixed (e.g. the best of :func:`autoencoder_hypermodel`'s search).

    Returns
    -------
    callable ``build(hp) -> keras.Model``.
    """
    low, high = _check_range(latent, "latent", 1)

    def build(hp):
        return _ae.deep_autoencoder(n_features, latent_dim=hp.Int("latent_dim", low, high),
                                    depth=depth, width=width, learning_rate=learning_rate, seed=seed)

    return build


def vae_hypermodel(n_features: int, learning_rates: Sequence[float] = (1e-4, 3e-4, 1e-3, 3e-3),
                   latent_dim: int = 10, hidden: Sequence[int] = (100,), beta: float = 1.0,
                   seed: int = 0) -> Callable:
    """Hypermodel for one VAE hyperparameter: ``hp.Choice("learning_rate", learning_rates)``.

    Tybalt tuned the learning rate (with batch size, epochs and the warm-up) by grid
    search.  ``beta`` is *not* a fair thing to tune on ``val_loss``: the KL term is part
    of that loss, so ``beta = 0`` would always win.

    Returns
    -------
    callable ``build(hp) -> keras.Model`` (a :func:`~workshop_utils.autoencoders.vae`).
    """
    learning_rates = _check_choices(learning_rates, "learning_rates", (float, int, np.floating))

    def build(hp):
        return _ae.vae(n_features, latent_dim=latent_dim, hidden=hidden, beta=beta,
                       learning_rate=hp.Choice("learning_rate", learning_rates), seed=seed)

    return build


def make_tuner(kind: str, hypermodel: Callable, directory: str | Path, project_name: str,
               max_trials: int = 10, max_epochs: int = 20, objective: str = "val_loss",
               executions_per_trial: int = 1, factor: int = 3, seed: int = 0, overwrite: bool = True):
    """A KerasTuner tuner writing only into ``directory / project_name``.

    Parameters
    ----------
    kind : {'random', 'grid', 'bayesian', 'hyperband'}
        ``RandomSearch`` (values drawn at random), ``GridSearch`` (every combination in
        order, until ``max_trials``), ``BayesianOptimization`` (a Gaussian process proposes the next
        trial from the previous scores) or ``Hyperband`` (many short trainings, the best
        continued longer; its budget is ``max_epochs``, not ``max_trials``).
    hypermodel : callable ``build(hp) -> keras.Model``
    directory : str or Path
        Parent folder of the project (created if missing).
    project_name : str
        A plain folder name (no path separators).
    max_trials : int
        Trials of random, grid and Bayesian search.
    max_epochs : int
        Hyperband: most epochs one model trains (one Hyperband iteration).
    objective : str
        A logged metric; names starting with ``val_`` and losses are minimised.
    executions_per_trial : int
        Models trained per trial (the score is their mean; > 1 averages out seeds).
    factor : int
        Hyperband: keep the best ``1 / factor`` of the models at each round (>= 2); a
        larger factor means fewer brackets and fewer, longer trials.
    seed : int
    overwrite : bool
        Delete an existing project of that name first.

    Returns
    -------
    keras_tuner.Tuner
        A ``RandomSearch``, ``GridSearch``, ``BayesianOptimization`` or ``Hyperband``.
    """
    import keras_tuner as kt

    if kind not in TUNERS:
        raise ValueError(f"kind must be one of {TUNERS}, got {kind!r}")
    if not callable(hypermodel):
        raise TypeError(f"hypermodel must be a callable build(hp) -> keras.Model, got {type(hypermodel).__name__}")
    if not isinstance(directory, (str, Path)):
        raise TypeError(f"directory must be a str or Path, got {type(directory).__name__}")
    if not isinstance(project_name, str) or not project_name or "/" in project_name or "\\" in project_name \
            or project_name in (".", ".."):
        raise ValueError(f"project_name must be a plain folder name, got {project_name!r}")
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor < 2:
        raise ValueError(f"factor must be an integer >= 2, got {factor!r}")
    for value, name in ((max_trials, "max_trials"), (max_epochs, "max_epochs"),
                        (executions_per_trial, "executions_per_trial")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    direction = "min" if (objective.startswith("val_") or "loss" in objective) else "max"
    common = dict(objective=kt.Objective(objective, direction), directory=str(directory),
                  project_name=project_name, overwrite=overwrite, seed=seed,
                  executions_per_trial=int(executions_per_trial))
    if kind == "random":
        return kt.RandomSearch(hypermodel, max_trials=int(max_trials), **common)
    if kind == "grid":
        return kt.GridSearch(hypermodel, max_trials=int(max_trials), **common)
    if kind == "bayesian":
        return kt.BayesianOptimization(hypermodel, max_trials=int(max_trials),
                                       num_initial_points=min(3, int(max_trials)), **common)
    return kt.Hyperband(hypermodel, max_epochs=int(max_epochs), factor=int(factor),
                        hyperband_iterations=1, **common)


def run_search(tuner, X: np.ndarray, X_val: np.ndarray, epochs: int = 20, batch_size: int = 32,
               callbacks: list | None = None, verbose: int = 0):
    """Run ``tuner.search`` for an autoencoder (targets = inputs) and return ``trials_table(tuner)``.

    Parameters
    ----------
    tuner : keras_tuner.Tuner
    X, X_val : arrays ``(N, n_features)`` and ``(M, n_features)``
        Training and validation data (the objective is measured on ``X_val``).
    epochs : int
        Epochs per trial (Hyperband chooses its own, up to its ``max_epochs``).
    batch_size : int
    callbacks : list of keras callbacks, optional
        Passed to every ``fit`` (e.g. :func:`~workshop_utils.autoencoders.kl_warmup`).
    verbose : int

    Returns
    -------
    pandas.DataFrame, see :func:`trials_table`.
    """
    X = np.asarray(X, dtype=np.float32)
    X_val = np.asarray(X_val, dtype=np.float32)
    if X.ndim != 2 or X_val.ndim != 2 or X.shape[1] != X_val.shape[1]:
        raise ValueError(f"X and X_val must be 2-D with the same number of columns, got {X.shape} and {X_val.shape}")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if not hasattr(tuner, "search") or not hasattr(tuner, "oracle"):
        raise TypeError(f"tuner must be a keras_tuner.Tuner, got {type(tuner).__name__}")
    with warnings.catch_warnings():
        # Hyperband reloads a model's weights to continue it with a fresh optimizer (harmless
        # "Skipping variable loading for optimizer"); the Bayesian tuner's Gaussian process
        # often hits a length-scale bound on tiny searches (sklearn ConvergenceWarning).
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        warnings.filterwarnings("ignore", message="The optimal value found for dimension")
        tuner.search(X, X, validation_data=(X_val, X_val), epochs=int(epochs), batch_size=batch_size,
                     callbacks=list(callbacks or []), verbose=verbose)
    return trials_table(tuner)


def trials_table(tuner):
    """The tuner's trials as a table, one row per trial, best first.

    Returns
    -------
    pandas.DataFrame with ``trial_id``, one column per hyperparameter (Hyperband's
    bookkeeping ``tuner/...`` values included as ``tuner/epochs`` etc.), ``score`` (the
    objective, NaN for a trial that failed) and ``status``.
    """
    import pandas as pd

    oracle = getattr(tuner, "oracle", None)
    if oracle is None or not hasattr(oracle, "trials"):
        raise TypeError(f"tuner must be a keras_tuner.Tuner, got {type(tuner).__name__}")
    rows = []
    for trial_id, trial in oracle.trials.items():
        row = {"trial_id": trial_id, **trial.hyperparameters.values}
        row["score"] = np.nan if trial.score is None else float(trial.score)
        row["status"] = str(trial.status)
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return pd.DataFrame(columns=["trial_id", "score", "status"])
    ascending = getattr(getattr(oracle, "objective", None), "direction", "min") == "min"
    return table.sort_values("score", ascending=ascending, na_position="last").reset_index(drop=True)
