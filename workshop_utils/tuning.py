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

from . import _checks
from . import autoencoders as _ae

__all__ = ["autoencoder_hypermodel", "latent_size_hypermodel", "make_tuner", "objective_direction", "run_search",
           "trials_table", "tybalt_hypermodel", "vae_hypermodel"]

TUNERS = ("random", "grid", "bayesian", "hyperband")


def _choices(values: Sequence[Any], name: str, fn: str, kind: str = "int") -> list:
    """A non-empty list of positive integers (``kind='int'``) or positive numbers (``'number'``)."""
    expected = f"a non-empty sequence of positive {'integers' if kind == 'int' else 'numbers'}"
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) == 0:
        raise _checks.fail(fn, name, expected, _checks.describe(values),
                           kind=ValueError if isinstance(values, Sequence) else _checks.ArgumentTypeError)
    if kind == "int":
        return [_checks.positive_int(v, f"{name}[{i}]", fn) for i, v in enumerate(values)]
    return [_checks.number(v, f"{name}[{i}]", fn, low=0, low_open=True) for i, v in enumerate(values)]


def _range(pair: Any, name: str, fn: str, minimum: int) -> tuple[int, int]:
    """An inclusive range ``(low, high)`` of integers with ``minimum <= low <= high``."""
    expected = f"a pair (low, high) of integers with {minimum} <= low <= high"
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise _checks.fail(fn, name, expected, _checks.describe(pair))
    low = _checks.positive_int(pair[0], f"{name}[0]", fn, minimum=minimum)
    high = _checks.positive_int(pair[1], f"{name}[1]", fn, minimum=minimum)
    if low > high:
        raise _checks.fail(fn, name, expected, _checks.describe(tuple(pair)))
    return low, high


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
    fn = "autoencoder_hypermodel"
    n_features = _checks.positive_int(n_features, "n_features", fn)
    low, high = _range(depth, "depth", fn, 0)
    widths = _choices(widths, "widths", fn)

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
    fn = "latent_size_hypermodel"
    n_features = _checks.positive_int(n_features, "n_features", fn)
    low, high = _range(latent, "latent", fn, 1)

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
    fn = "vae_hypermodel"
    n_features = _checks.positive_int(n_features, "n_features", fn)
    learning_rates = _choices(learning_rates, "learning_rates", fn, kind="number")

    def build(hp):
        return _ae.vae(n_features, latent_dim=latent_dim, hidden=hidden, beta=beta,
                       learning_rate=hp.Choice("learning_rate", learning_rates), seed=seed)

    return build


def tybalt_hypermodel(n_features: int, latent_dims: Sequence[int] = (5, 10, 20),
                      learning_rates: Sequence[float] = (5e-4, 1e-3, 2e-3),
                      kappas: Sequence[float] = (0.05, 0.1, 1.0), batch_sizes: Sequence[int] = (32, 64, 128),
                      epochs: Sequence[int] = (10, 25, 50), hidden: Sequence[int] = (100,), seed: int = 0):
    """Tybalt's search over more than the learning rate, as a ``keras_tuner.HyperModel``.

    Tybalt (Way & Greene 2018) chose the learning rate, the batch size, the epochs and the
    KL warm-up rate ``kappa`` by grid search and compared latent sizes.  The hypermodel's
    ``build(hp)`` chooses ``latent_dim`` and ``learning_rate`` (the model), its
    ``fit(hp, model, x, validation_data=...)`` chooses ``kappa`` (``beta = min(1, kappa * epoch)``),
    ``batch_size`` and ``epochs`` (the training).  The first value of every list is the
    default (what ``hp`` returns outside a search).

    The objective is ``"val_loss_beta1"`` (minimise): the validation loss with ``beta = 1``
    measured after training, so trials that warm up differently are scored on the same
    loss.  Pass it to the oracle: ``kt.Objective("val_loss_beta1", "min")``.  See
    :class:`~workshop_utils._keras_tuning.TybaltHyperModel`.

    Parameters
    ----------
    n_features : int
        Width of the data ``X (N, n_features)``, values in [0, 1].
    latent_dims : sequence of int
        Code sizes to choose from.
    learning_rates : sequence of float
        Adam learning rates (> 0).
    kappas : sequence of float
        Increase of ``beta`` per epoch (> 0; 1 = full KL from the second epoch on).
    batch_sizes, epochs : sequence of int
        Arguments of ``model.fit`` to choose from; do not pass ``epochs`` or ``batch_size``
        to ``tuner.search``.
    hidden : sequence of int
        Encoder widths of every VAE (fixed).
    seed : int
        Every trial starts from the same seed (a fair comparison).

    Returns
    -------
    TybaltHyperModel
        Use ``tuner.search(X, validation_data=(X_val, X_val))`` with ``X (N, n_features)``.
    """
    fn = "tybalt_hypermodel"
    n_features = _checks.positive_int(n_features, "n_features", fn)
    latent_dims = _choices(latent_dims, "latent_dims", fn)
    learning_rates = _choices(learning_rates, "learning_rates", fn, kind="number")
    kappas = _choices(kappas, "kappas", fn, kind="number")
    batch_sizes = _choices(batch_sizes, "batch_sizes", fn)
    epochs = _choices(epochs, "epochs", fn)
    for name, values in (("latent_dims", latent_dims), ("learning_rates", learning_rates), ("kappas", kappas),
                         ("batch_sizes", batch_sizes), ("epochs", epochs)):
        if len(set(values)) != len(values):
            raise _checks.fail(fn, name, "distinct values", _checks.describe(tuple(values)))
    hidden = _checks.positive_ints(hidden, "hidden", fn)
    seed = _checks.non_negative_int(seed, "seed", fn)
    from ._keras_tuning import TybaltHyperModel

    return TybaltHyperModel(n_features, latent_dims, learning_rates, kappas, batch_sizes, epochs,
                            hidden=hidden, seed=seed)


def objective_direction(objective: str, fn: str = "objective_direction") -> str:
    """``'min'`` or ``'max'`` for a metric name, by KerasTuner's own rule.

    KerasTuner infers the direction from the metric the name stands for (``val_`` is
    stripped first): accuracy, AUC, precision, recall ... are maximised, losses and
    errors minimised.  A name it cannot place that contains ``loss`` is minimised (e.g.
    ``val_loss_beta1``); any other name is refused: pass ``direction=``.

    Parameters
    ----------
    objective : str
        A logged metric, e.g. ``'val_loss'``, ``'val_accuracy'``, ``'val_auc'``.

    Returns
    -------
    str
        ``'min'`` or ``'max'``.
    """
    if not isinstance(objective, str) or not objective:
        raise _checks.fail(fn, "objective", "the name of a logged metric such as 'val_loss'",
                           _checks.describe(objective), kind=_checks.ArgumentTypeError)
    try:
        from keras_tuner.src.engine.metrics_tracking import infer_metric_direction
    except ImportError:  # pragma: no cover - older layouts of keras_tuner
        from keras_tuner.engine.metrics_tracking import infer_metric_direction
    try:
        direction = infer_metric_direction(objective)
    except Exception:  # noqa: BLE001 - an unknown name: decided below
        direction = None
    if direction is None and "loss" in objective.lower():
        direction = "min"
    if direction not in ("min", "max"):
        import difflib

        known = ["val_loss", "val_accuracy", "val_auc", "val_mse", "val_mae", "val_binary_accuracy", "loss",
                 "accuracy", "auc", "mse", "mae"]
        close = difflib.get_close_matches(objective, known, n=1, cutoff=0.8)
        hint = (f"did you mean {close[0]!r}? " if close else "") + \
            "for a metric of your own, say which way is better: direction='min' or direction='max'"
        raise _checks.fail(fn, "objective", "a metric whose direction KerasTuner knows (loss, accuracy, auc, ...)",
                           repr(objective), hint=hint)
    return direction


def make_tuner(kind: str, hypermodel: Callable, directory: str | Path, project_name: str,
               max_trials: int = 10, max_epochs: int = 20, objective: str | None = None,
               executions_per_trial: int = 1, factor: int = 3, seed: int = 0, overwrite: bool = True,
               direction: str | None = None):
    """A KerasTuner tuner writing only into ``directory / project_name``.

    Parameters
    ----------
    kind : {'random', 'grid', 'bayesian', 'hyperband'}
        ``RandomSearch`` (values drawn at random), ``GridSearch`` (every combination in
        order, until ``max_trials``), ``BayesianOptimization`` (a Gaussian process proposes the next
        trial from the previous scores) or ``Hyperband`` (many short trainings, the best
        continued longer; its budget is ``max_epochs``, not ``max_trials``).
    hypermodel : callable ``build(hp) -> keras.Model`` or keras_tuner.HyperModel
        E.g. one of this module's hypermodels (:func:`tybalt_hypermodel` included).
    directory : str or Path
        Parent folder of the project (created if missing).
    project_name : str
        A plain folder name (no path separators).
    max_trials : int
        Trials of random, grid and Bayesian search.
    max_epochs : int
        Hyperband: most epochs one model trains (one Hyperband iteration).
    objective : str, optional
        A logged metric; default ``'val_loss'`` (a hypermodel that reports its own
        objective, like :func:`tybalt_hypermodel`'s ``'val_loss_beta1'``, gives it).
    direction : {'min', 'max'}, optional
        Whether a lower or a higher ``objective`` is better.  Default: KerasTuner's own rule
        (:func:`objective_direction`: ``val_accuracy``/``val_auc`` are maximised, losses minimised).
    executions_per_trial : int
        Models trained per trial (the score is their mean; > 1 averages out seeds).
    factor : int
        Hyperband: keep the best ``1 / factor`` of the models at each round (>= 2); a
        larger factor means fewer brackets and fewer, longer trials.
    seed : int
        Fixes the oracle's draws.  KerasTuner reads ``seed=0`` as "no seed" and draws one from
        Python's global ``random`` (so the search would depend on whatever ran before); the
        oracle therefore gets ``seed + 1``, and every seed, 0 included, fixes the search.
    overwrite : bool
        Delete an existing project of that name first.

    Returns
    -------
    keras_tuner.Tuner
        A ``RandomSearch``, ``GridSearch``, ``BayesianOptimization`` or ``Hyperband``.
    """
    import keras_tuner as kt

    fn = "make_tuner"
    kind = _checks.one_of(kind, "kind", fn, TUNERS)
    if not (callable(hypermodel) or isinstance(hypermodel, kt.HyperModel)):
        raise _checks.fail(fn, "hypermodel", "a callable build(hp) -> keras.Model or a keras_tuner.HyperModel",
                           _checks.describe(hypermodel), kind=_checks.ArgumentTypeError)
    own = getattr(hypermodel, "reported_metrics", None)
    if objective is None:
        objective = own[0] if own else "val_loss"
    if not isinstance(directory, (str, Path)):
        raise _checks.fail(fn, "directory", "a folder path (str or Path)", _checks.describe(directory),
                           kind=_checks.ArgumentTypeError)
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise _checks.fail(fn, "directory", "a folder", f"{str(directory)!r}, which is a file")
    if not isinstance(project_name, str) or not project_name or "/" in project_name or "\\" in project_name \
            or project_name in (".", ".."):
        raise _checks.fail(fn, "project_name", "a plain folder name (no path separators)",
                           _checks.describe(project_name))
    if not isinstance(objective, str) or not objective:
        raise _checks.fail(fn, "objective", "the name of a logged metric such as 'val_loss'",
                           _checks.describe(objective), kind=_checks.ArgumentTypeError)
    max_trials = _checks.positive_int(max_trials, "max_trials", fn)
    max_epochs = _checks.positive_int(max_epochs, "max_epochs", fn)
    executions_per_trial = _checks.positive_int(executions_per_trial, "executions_per_trial", fn)
    factor = _checks.positive_int(factor, "factor", fn, minimum=2)
    seed = _checks.non_negative_int(seed, "seed", fn)
    overwrite = _checks.flag(overwrite, "overwrite", fn)
    if direction is None:
        direction = (getattr(hypermodel, "objective_direction", None) if own and objective == own[0] else None) \
            or objective_direction(objective, fn)
    else:
        direction = _checks.one_of(direction, "direction", fn, ("min", "max"))
        try:
            inferred = objective_direction(objective, fn)
        except ValueError:  # a metric of the student's own: their direction is the only one
            inferred = direction
        if inferred != direction:
            raise _checks.fail(fn, "direction", f"{inferred!r} for objective {objective!r} (KerasTuner's rule)",
                               repr(direction), hint="with the other direction the search would keep the worst "
                               "model; leave direction out to use KerasTuner's rule")
    directory.mkdir(parents=True, exist_ok=True)
    common = dict(objective=kt.Objective(objective, direction), directory=str(directory),
                  project_name=project_name, overwrite=overwrite, seed=seed + 1,  # 0 would mean "no seed"
                  executions_per_trial=executions_per_trial)
    if kind == "random":
        return kt.RandomSearch(hypermodel, max_trials=max_trials, **common)
    if kind == "grid":
        return kt.GridSearch(hypermodel, max_trials=max_trials, **common)
    if kind == "bayesian":
        return kt.BayesianOptimization(hypermodel, max_trials=max_trials,
                                       num_initial_points=min(3, max_trials), **common)
    return kt.Hyperband(hypermodel, max_epochs=max_epochs, factor=factor, hyperband_iterations=1, **common)


def run_search(tuner, X: np.ndarray, X_val: np.ndarray, epochs: int = 20, batch_size: int = 32,
               callbacks: list | None = None, verbose: int = 0):
    """Run ``tuner.search`` for an autoencoder (targets = inputs) and return ``trials_table(tuner)``.

    Parameters
    ----------
    tuner : keras_tuner.Tuner
    X, X_val : arrays ``(N, n_features)`` and ``(M, n_features)``
        Training and validation data (the objective is measured on ``X_val``).
    epochs : int
        Epochs per trial (Hyperband chooses its own, up to its ``max_epochs``; a hypermodel
        that tunes ``epochs``/``batch_size`` itself, like :func:`tybalt_hypermodel`, is not
        given these two).
    batch_size : int
    callbacks : list of keras callbacks, optional
        Passed to every ``fit`` (e.g. :func:`~workshop_utils.autoencoders.kl_warmup`).
    verbose : int

    Returns
    -------
    pandas.DataFrame, see :func:`trials_table`.
    """
    fn = "run_search"
    if not hasattr(tuner, "search") or not hasattr(tuner, "oracle"):
        raise _checks.fail(fn, "tuner", "a keras_tuner.Tuner (from make_tuner)", _checks.describe(tuner),
                           kind=_checks.ArgumentTypeError)
    X = _checks.finite_array(X, "X", fn, ndim=2)
    X_val = _checks.finite_array(X_val, "X_val", fn, ndim=2)
    if X.shape[1] != X_val.shape[1]:
        raise _checks.fail(fn, "X_val", f"a matrix with {X.shape[1]} columns like X", f"shape {X_val.shape}")
    epochs = _checks.positive_int(epochs, "epochs", fn)
    batch_size = _checks.positive_int(batch_size, "batch_size", fn)
    _check_objective(tuner, X_val[:2], fn)
    n_before = len(tuner.oracle.trials)
    from ._keras_tuning import quiet_retracing   # a new model per trial: TF's retracing warning is expected

    with warnings.catch_warnings(), quiet_retracing():
        # Hyperband reloads a model's weights to continue it with a fresh optimizer (harmless
        # "Skipping variable loading for optimizer"); the Bayesian tuner's Gaussian process
        # often hits a length-scale bound on tiny searches (sklearn ConvergenceWarning).
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        warnings.filterwarnings("ignore", message="The optimal value found for dimension")
        tuned = getattr(tuner.hypermodel, "tuned_fit_arguments", ())
        fit_args = {k: v for k, v in (("epochs", epochs), ("batch_size", batch_size)) if k not in tuned}
        try:
            tuner.search(X, X, validation_data=(X_val, X_val), callbacks=list(callbacks or []), verbose=verbose,
                         **fit_args)
        except RuntimeError as err:  # KerasTuner gives up after consecutive failed trials
            failed = [t for t in tuner.oracle.trials.values() if str(t.status) == "FAILED"]
            reason = (failed[0].message or "").strip().splitlines()[-1:] if failed else []
            raise RuntimeError(f"{fn}: {len(failed)} trial(s) failed; the first with: "
                               f"{reason[0] if reason else err}") from err
    table = trials_table(tuner)
    max_trials = getattr(tuner.oracle, "max_trials", None)
    if max_trials and len(tuner.oracle.trials) < max_trials:
        warnings.warn(f"{fn}: {len(tuner.oracle.trials)} of max_trials={max_trials} trials ran: the search space has "
                      "fewer combinations than max_trials (KerasTuner stops once it has tried them all)",
                      RuntimeWarning, stacklevel=2)
    new = list(tuner.oracle.trials)[n_before:]
    bad = table[table["trial_id"].isin(new) & table["score"].isna()]
    if len(bad):
        warnings.warn(f"{fn}: {len(bad)} trial(s) have no score (NaN loss or failed): "
                      f"{bad['trial_id'].tolist()}; they are listed last", stacklevel=2)
    return table


def _check_objective(tuner, X_small: np.ndarray, fn: str) -> None:
    """Refuse an objective the models do not log, before any trial runs.

    One model is built with the search space's default values and evaluated on two rows
    (no training, no random draws): its logged names, and their ``val_`` versions, are
    what a trial can report.
    """
    objective = tuner.oracle.objective
    name = getattr(objective, "name", None)
    if name is None:  # a multi-objective tuner built by hand: let KerasTuner check it
        return
    hp = tuner.oracle.get_space()
    try:
        model = tuner.hypermodel.build(hp)
    except Exception as err:  # noqa: BLE001 - the student's hypermodel: say which call failed
        raise _checks.fail(fn, "tuner", "a tuner whose hypermodel builds a model", f"an error from "
                           f"build(hp) with the default values: {type(err).__name__}: {err}") from err
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
        raise _checks.fail(fn, "tuner", "a tuner whose hypermodel returns a compiled keras.Model",
                           "an uncompiled model (call model.compile(...) in build(hp))")
    logged = list(model.evaluate(X_small, X_small, verbose=0, return_dict=True))
    allowed = logged + [f"val_{k}" for k in logged] + list(getattr(tuner.hypermodel, "reported_metrics", ()))
    if name not in allowed:
        close = [a for a in allowed if a.replace("_", "") == name.replace("_", "") or name in a]
        hint = f"did you mean {close[0]!r}?" if close else ""
        raise _checks.fail(fn, "the tuner's objective", f"one of the names the models log {allowed}",
                           repr(name), hint=hint)


def trials_table(tuner, metrics: bool = False):
    """The tuner's trials as a table, one row per trial, best first.

    Parameters
    ----------
    tuner : keras_tuner.Tuner
    metrics : bool
        Add a column per metric the trials recorded besides the objective (their last
        value), e.g. the ``val_reconstruction`` and ``val_kl`` of :func:`tybalt_hypermodel`.

    Returns
    -------
    pandas.DataFrame with ``trial_id``, one column per hyperparameter (Hyperband's
    bookkeeping ``tuner/...`` values included as ``tuner/epochs`` etc.), the metrics when
    asked, ``score`` (the objective, NaN for a trial that failed) and ``status``.
    """
    import pandas as pd

    oracle = getattr(tuner, "oracle", None)
    if oracle is None or not hasattr(oracle, "trials"):
        raise _checks.fail("trials_table", "tuner", "a keras_tuner.Tuner (from make_tuner)",
                           _checks.describe(tuner), kind=_checks.ArgumentTypeError)
    metrics = _checks.flag(metrics, "metrics", "trials_table")
    objective_name = getattr(getattr(oracle, "objective", None), "name", None)
    rows = []
    for trial_id, trial in oracle.trials.items():
        row = {"trial_id": trial_id, **trial.hyperparameters.values}
        if metrics:
            for name in trial.metrics.metrics:
                if name != objective_name:
                    value = trial.metrics.get_last_value(name)
                    row[name] = np.nan if value is None else float(value)
        row["score"] = np.nan if trial.score is None else float(trial.score)
        row["status"] = str(trial.status)
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return pd.DataFrame(columns=["trial_id", "score", "status"])
    ascending = getattr(getattr(oracle, "objective", None), "direction", "min") == "min"
    return table.sort_values("score", ascending=ascending, na_position="last").reset_index(drop=True)
