"""The search loop: sample an arc -> evaluate it -> tell the controller the reward.

:func:`search` is generic (any controller with ``get_action``/``update``, any
``evaluate(arc)``); :func:`cnn_evaluator` is the course's evaluate for the CTCF task:
build the child, train it briefly with early stopping, reward = validation AUROC.

Nothing is lost: with ``history_path`` the history is written (atomically: a temporary
file renamed over the old one) after every trial, so an interrupted search keeps the
trials it finished, and ``search(..., resume=True)`` continues from them.
"""
from __future__ import annotations

import json
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np

from .. import _checks
from .._atomic import atomic_write
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
    def best_per_child(self) -> np.ndarray:
        """Best reward so far after each *trained* child (redraws read from the cache skipped),
        ``(n_children,)``: the curve to compare searches on with ``search(budget="children")``."""
        trained = [r["reward"] for r in self.records if not r.get("cached", False)]
        return np.maximum.accumulate(np.array(trained, dtype=float)) if trained else np.zeros(0)

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
        """Write the table as CSV (``arc`` as JSON, e.g. ``[0, 2, 6, 0]``); returns the path.

        The file is written to a temporary file next to ``path`` and renamed over it, so an
        interruption mid-write leaves the previous file as it was.
        """
        if not isinstance(path, (str, Path)):
            raise _checks.fail("SearchHistory.to_csv", "path", "a file path (str or Path)", path, kind=TypeError)
        path = Path(path)
        if path.is_dir():
            raise IsADirectoryError(f"SearchHistory.to_csv: path must be a file, got {str(path)!r}, "
                                    "which is a directory")
        t = self.table
        t["arc"] = t["arc"].map(json.dumps)
        with atomic_write(path, "w", newline="") as fh:
            t.to_csv(fh, index=False)
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
        """Read a table written by :meth:`to_csv` (controller probabilities are not stored).

        Raises
        ------
        FileNotFoundError, IsADirectoryError
            When ``path`` is not a file.
        ValueError
            Naming the file, when it is not a readable search history (truncated, edited,
            another CSV) or holds arcs that ``model_space`` does not have.
        """
        import pandas as pd

        fn = "SearchHistory.read_csv"
        path = _checks.file_path(path, "path", fn)
        where = f"{fn}: {path} is not a readable search history"
        try:
            t = pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
            raise ValueError(f"{where} ({type(err).__name__}: {err}); delete it or pass another path") from None
        missing = [c for c in _BASE_COLUMNS if c not in t.columns]
        if missing:
            raise ValueError(f"{where}: missing columns {missing}")
        hist = cls(model_space)
        for i, rec in enumerate(t.to_dict("records")):
            try:
                arc = json.loads(rec["arc"])
                if not isinstance(arc, list) or not all(isinstance(a, int) for a in arc):
                    raise ValueError("not a list of integers")
                reward = float(rec["reward"])
                if not np.isfinite(reward):
                    raise ValueError(f"reward {rec['reward']!r} is not a finite number")
                if model_space is not None:
                    model_space.check_arc(arc)
            except (TypeError, ValueError) as err:
                raise ValueError(f"{where}: row {i + 2}: arc {rec['arc']!r}, reward {rec['reward']!r}: {err}") from None
            rec["arc"] = arc
            rec["reward"] = reward
            rec["cached"] = _cached_cell(rec.get("cached", False), f"{where}: row {i + 2}")
            hist.records.append(rec)
        try:
            hist.seconds_total = float(pd.to_numeric(t["seconds"]).sum()) if len(t) else 0.0
        except (TypeError, ValueError) as err:
            raise ValueError(f"{where}: the column 'seconds' must hold numbers ({err})") from None
        return hist


def _cached_cell(value: Any, where: str) -> bool:
    """The ``cached`` cell of a saved trial: a blank cell (histories concatenated with
    ``pd.concat``, a column added by hand) is a trained child, not a cached one."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return False
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and float(value) in (0.0, 1.0):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no", ""):
        return False
    raise ValueError(f"{where}: cached must be True, False or blank, got {value!r}")


def _describe(model_space: ModelSpace | None, arc: list[int]) -> str:
    if model_space is None:
        return ""
    return model_space.describe(arc)


_NOT_RESULT = ("trial", "arc", "ops", "seconds", "cached", "controller_loss")


def search(controller: Any, evaluate: Callable[[list[int]], float | dict], n_trials: int = 20,
           time_budget: float | None = None, progress: bool = True, history_path: str | Path | None = None,
           model_space: ModelSpace | None = None, cache: bool = True, resume: bool = False,
           executor: Executor | None = None, batch: int | None = None, budget: str = "trials",
           max_draws: int | None = None) -> SearchHistory:
    """Run a search: sample a batch of arcs, evaluate them, update the controller; until ``n_trials``.

    The controller draws ``batch`` arcs, the children are evaluated (at the same time when
    an ``executor`` is given), then the controller learns from their rewards in the order
    they were drawn (one REINFORCE step per batch, as AMBER and ENAS do). With the same
    seed and ``batch``, the history is the same with or without an executor and whatever
    its number of workers (rewards to float rounding when workers train with fewer
    threads than this process: about 1e-6 of AUROC).

    Parameters
    ----------
    controller : GeneralController or RandomController
        Anything with ``get_action() -> (arc, probs)`` and ``update(arc, reward)``.
    evaluate : callable
        ``evaluate(arc) -> float`` (the reward) or a dict with at least ``"reward"``
        (optionally ``"params"``, ``"val_auroc"`` ... which become table columns).
    n_trials : int
        Number of trials the search should have in the end (resumed ones included).
    time_budget : float, optional
        Wall-time budget in seconds for this call: no trial starts once the elapsed time
        plus the mean trial time so far would pass it (the first trial always runs).
    progress : bool
        Show a tqdm bar with the best reward so far.
    history_path : str or Path, optional
        CSV written after every trial, atomically (a temporary file renamed over the old
        one), so an interrupted search (``KeyboardInterrupt``, a crash) keeps every trial
        it finished and a half-written file never replaces a good one.  Without
        ``resume``, an existing file is replaced after the first trial.
    model_space : ModelSpace, optional
        For the operations in words; defaults to ``controller.model_space``.
    cache : bool
        An arc drawn again reuses its first result instead of being trained again
        (the trial is recorded with ``cached=True`` and counts toward ``n_trials``).
    resume : bool
        Continue the search saved in ``history_path`` (a missing file starts afresh).
        The controller is given the saved trials again, in order: it draws each saved arc
        (so it must be a fresh controller with the settings and seed that started the
        search, else a ``ValueError`` says where it differs) and learns from its saved
        reward, which puts it in the state it had when the search stopped; then the
        search goes on with the remaining ``n_trials - len(saved)`` trials.  With the same
        seed the remaining arcs are the ones the uninterrupted search would have drawn
        (exactly for :class:`~workshop_utils.nas.RandomController` and
        :class:`~workshop_utils.nas.GeneralController`, whose updates are deterministic on a CPU).
        Saved results also fill the ``cache``.
    executor : concurrent.futures.Executor, optional
        Evaluates the children of a batch in parallel, each in its own process: a
        ``ProcessPoolExecutor`` (see :func:`process_pool`) on one machine, or
        ``dask.distributed.Client(...).get_executor()`` on a cluster (workers with one thread
        each). ``evaluate`` is sent to the workers, so it must be picklable
        (:func:`cnn_evaluator` is; a lambda or a local function given with a
        ``ProcessPoolExecutor`` is refused before anything runs). Not a thread pool (refused):
        children seed their framework's global generator, which threads would share. None
        evaluates here, one child after the other.
    batch : int, optional
        Arcs drawn per controller update; default ``controller.batch_size`` (1 for the
        random controller), so that the controller's updates are those of a serial search.
        Use the number of workers (or a multiple) to keep them busy.
    budget : {"trials", "children"}
        What ``n_trials`` counts. ``"trials"``: every draw, a cached one too.
        ``"children"``: only the children actually trained, so that two searches compared
        at ``n_trials`` trained the same number of networks; a draw of an arc already
        trained reuses its reward for free (the controller still learns from it).  A
        controller sure of one arc would redraw it for ever, so the search also stops
        after ``max_draws`` draws (with a ``RuntimeWarning`` saying how many children it
        trained).  Needs ``cache=True``; ``n_trials`` above the number of arcs of the space
        is refused (there are not that many different children).
    max_draws : int, optional
        With ``budget="children"``: the most draws in all (default ``10 * n_trials``; at
        least ``n_trials``).

    Returns
    -------
    SearchHistory
    """
    fn = "search"
    if not (hasattr(controller, "get_action") and hasattr(controller, "update")):
        raise _checks.fail(fn, "controller", "an object with get_action() and update(arc, reward)",
                           type(controller).__name__, kind=TypeError)
    if not callable(evaluate):
        raise _checks.fail(fn, "evaluate", "a callable evaluate(arc) -> reward", type(evaluate).__name__,
                           kind=TypeError)
    n_trials = _checks.positive_int(n_trials, "n_trials", fn)
    if time_budget is not None:
        time_budget = _checks.number(time_budget, "time_budget", fn, low=0.0, low_open=True, finite=False)
    progress = _checks.flag(progress, "progress", fn)
    cache = _checks.flag(cache, "cache", fn)
    resume = _checks.flag(resume, "resume", fn)
    space = model_space if model_space is not None else getattr(controller, "model_space", None)
    if space is not None and not isinstance(space, ModelSpace):
        raise _checks.fail(fn, "model_space", "a ModelSpace or None", type(space).__name__, kind=TypeError)
    if history_path is not None:
        if not isinstance(history_path, (str, Path)):
            raise _checks.fail(fn, "history_path", "a file path (str or Path) or None", history_path, kind=TypeError)
        history_path = Path(history_path)
        if history_path.is_dir():
            raise IsADirectoryError(f"{fn}: history_path must be a file, got {str(history_path)!r}, "
                                    "which is a directory")
    if resume and history_path is None:
        raise _checks.fail(fn, "history_path", "the CSV of the search to resume (resume=True)", None)
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise _checks.fail(fn, "executor", "a concurrent.futures.Executor (with submit) or None",
                           type(executor).__name__, kind=TypeError)
    _check_executor(executor, evaluate, fn)
    batch = _checks.positive_int(getattr(controller, "batch_size", 1) if batch is None else batch, "batch", fn)
    if budget not in ("trials", "children"):
        raise _checks.fail(fn, "budget", "'trials' or 'children'", budget)
    if budget == "children" and not cache:
        raise _checks.fail(fn, "cache", "True with budget='children' (a redrawn arc is free only from the cache)",
                           cache)
    if max_draws is not None:
        if budget != "children":
            raise _checks.fail(fn, "max_draws", "None unless budget='children'", max_draws)
        max_draws = _checks.positive_int(max_draws, "max_draws", fn)
        if max_draws < n_trials:
            raise _checks.fail(fn, "max_draws", f"at least n_trials={n_trials} (each trained child is a draw)",
                               max_draws, hint="a budget that cannot be met would return fewer children")
    elif budget == "children":
        max_draws = 10 * n_trials
    children = budget == "children"
    if children and space is not None and n_trials > space.size:
        raise _checks.fail(fn, "n_trials", f"at most the {space.size} arcs of the space with budget='children' "
                           "(each child is a different arc)", n_trials)

    from .._progress import progress as tqdm  # text bar on stdout: saved notebooks show its final state

    hist = SearchHistory(space)
    seen: dict[tuple[int, ...], dict] = {}
    if resume and history_path.exists():
        _replay(controller, SearchHistory.read_csv(history_path, space), hist, seen, history_path)
    start = time.perf_counter()
    done_before = sum(not r["cached"] for r in hist.records) if children else len(hist)
    seconds_before = hist.seconds_total
    bar = tqdm(total=int(n_trials), initial=min(done_before, n_trials),
               desc=f"search ({type(controller).__name__})", disable=not progress)
    if hist.records:
        bar.set_postfix(best=f"{hist.best_reward:.4f}")
    try:
        trial = done_before
        while trial < n_trials and (not children or len(hist) < max_draws):
            elapsed = time.perf_counter() - start
            run = trial - done_before
            if time_budget is not None and run > 0 and elapsed + elapsed / run * min(batch, n_trials - trial) \
                    > time_budget:
                break
            drawn = []
            n_draw = min(batch, n_trials - trial)
            if children:
                n_draw = min(n_draw, max_draws - len(hist))
            for _ in range(n_draw):
                arc, probs = controller.get_action()
                drawn.append(([int(a) for a in arc], probs))
            t0 = time.perf_counter()
            results = _evaluate_batch([arc for arc, _ in drawn], evaluate, executor, seen if cache else None)
            batch_seconds = time.perf_counter() - t0
            for (arc, probs), (result, cached, seconds) in zip(drawn, results):
                result = dict(result)
                reward = result.pop("reward")
                loss = controller.update(arc, reward)
                rec = {"trial": len(hist), "arc": arc, "ops": _describe(space, arc), "reward": reward,
                       "params": result.pop("params", None),
                       "seconds": round(0.0 if cached else seconds if executor is None else batch_seconds, 3),
                       **result, "cached": bool(cached),
                       "controller_loss": float(loss) if loss is not None else None}
                hist.records.append(rec)
                hist.probs.append([np.asarray(p, dtype=float) for p in probs])
                hist.seconds_total = seconds_before + time.perf_counter() - start
                if children and cached:
                    continue
                trial += 1
                bar.update(1)
                bar.set_postfix(best=f"{hist.best_reward:.4f}", last=f"{reward:.4f}")
            if history_path is not None:
                hist.to_csv(history_path)
        if children and trial < n_trials and len(hist) >= max_draws:
            warnings.warn(f"{fn}: only {trial} of n_trials={n_trials} children were trained in max_draws="
                          f"{max_draws} draws (the controller kept redrawing trained arcs); raise max_draws to "
                          "train them all", RuntimeWarning, stacklevel=2)
    except KeyboardInterrupt:
        if history_path is not None:
            print(f"search interrupted after {len(hist)} trial(s); they are saved in {history_path}: "
                  "run the same call with resume=True to continue", file=sys.stderr)
        raise
    finally:
        bar.close()
    return hist


def _check_executor(executor: Any, evaluate: Callable, fn: str) -> None:
    """Refuse executors known to give wrong results, and evaluators a process pool cannot send."""
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    if isinstance(executor, ThreadPoolExecutor):
        raise _checks.fail(fn, "executor", "a process pool (process_pool()) or a Dask client's executor, or None",
                           "a ThreadPoolExecutor", hint="children seed their framework's global random "
                           "generator, which threads share, so rewards would depend on timing")
    if isinstance(executor, ProcessPoolExecutor):
        import pickle

        try:
            pickle.dumps(evaluate)
        except Exception as err:  # noqa: BLE001 - PicklingError, AttributeError, TypeError: same meaning
            raise _checks.fail(fn, "evaluate", "a picklable callable when executor is a process pool",
                               f"{_checks.describe(evaluate)} ({type(err).__name__}: {err})",
                               kind=_checks.ArgumentTypeError,
                               hint="worker processes receive evaluate by pickling: use cnn_evaluator(...) or a "
                                    "function defined at the top level of a module, not a lambda or a local "
                                    "function") from None


def _evaluate_batch(arcs: list[list[int]], evaluate: Callable, executor: Executor | None,
                    seen: dict | None) -> list[tuple[dict, bool, float]]:
    """``(result, cached, seconds)`` per arc, in order; new arcs go to ``executor`` together.

    An arc already evaluated (in ``seen``, or earlier in this batch) is not trained again.
    """
    todo: dict[tuple[int, ...], Any] = {}
    for arc in arcs:
        key = tuple(arc)
        if (seen is None or key not in seen) and key not in todo:
            todo[key] = executor.submit(_timed, evaluate, arc) if executor is not None else None
    fresh: dict[tuple[int, ...], tuple[dict, float]] = {}
    for key, fut in todo.items():
        out, seconds = fut.result() if fut is not None else _timed(evaluate, list(key))
        fresh[key] = (_as_result(out, list(key)), seconds)
    results, used = [], set()
    for arc in arcs:
        key = tuple(arc)
        if key in fresh and key not in used:
            used.add(key)
            result, seconds = fresh[key]
            if seen is not None:
                seen[key] = dict(result)
            results.append((result, False, seconds))
        elif seen is not None and key in seen:
            results.append((dict(seen[key]), True, 0.0))
        else:  # cache=False and the arc came twice in one batch: the same child, evaluated once
            results.append((dict(fresh[key][0]), False, fresh[key][1]))
    return results


def _timed(evaluate: Callable, arc: list[int]) -> tuple[Any, float]:
    """``(evaluate(arc), seconds)``; module-level so process pools can run it."""
    t0 = time.perf_counter()
    out = evaluate(arc)
    return out, time.perf_counter() - t0


def process_pool(workers: int = 2, threads: int | None = None) -> Executor:
    """A ``ProcessPoolExecutor`` for :func:`search`: fresh (spawned) workers, threads shared out.

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


def _replay(controller: Any, saved: SearchHistory, hist: SearchHistory, seen: dict, path: Path) -> None:
    """Give ``controller`` the saved trials again (see ``search(resume=True)``), filling ``hist`` and ``seen``."""
    for rec in saved.records:
        arc, probs = controller.get_action()
        arc = [int(a) for a in arc]
        if arc != list(rec["arc"]):
            raise ValueError(
                f"search: resume=True: trial {len(hist)} of {path} has arc {list(rec['arc'])} but the controller "
                f"drew {arc}; resume with a fresh controller of the same kind, settings and seed as the one "
                "that started the search (or start afresh with resume=False)")
        controller.update(arc, rec["reward"])
        rec = dict(rec)
        for k, v in rec.items():  # values the CSV stored as empty come back as NaN: give back None
            if isinstance(v, float) and np.isnan(v):
                rec[k] = None
        rec["cached"] = bool(rec.get("cached", False))
        hist.records.append(rec)
        hist.probs.append([np.asarray(p, dtype=float) for p in probs])
        if not rec["cached"]:
            seen.setdefault(tuple(arc), {k: v for k, v in rec.items() if k not in _NOT_RESULT})
    hist.seconds_total = saved.seconds_total


def _as_result(out: Any, arc: list[int]) -> dict:
    if isinstance(out, dict):
        if "reward" not in out:
            raise ValueError(f"evaluate: the dict returned for arc {arc} has no 'reward' key: {sorted(out)}")
        res = dict(out)
    else:
        res = {"reward": out}
    if isinstance(res["reward"], (bool, np.bool_)):
        raise TypeError(f"evaluate: reward for arc {arc} must be a number, got {res['reward']!r}")
    try:
        res["reward"] = float(res["reward"])
    except (TypeError, ValueError):
        raise TypeError(f"evaluate: reward for arc {arc} must be a number, got {res['reward']!r}") from None
    if not np.isfinite(res["reward"]):
        raise ValueError(f"evaluate: reward for arc {arc} is not finite: {res['reward']} (a search cannot learn "
                         "from it; see the evaluator's message or check the data for NaN)")
    return res


def _split_data(data: Any, fn: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(X_train, y_train, X_valid, y_valid)`` from a CTCFData or a 4-tuple, checked (finite X, 0/1 labels)."""
    from ..training import _check_xy

    if hasattr(data, "x_train") and hasattr(data, "x_valid"):
        parts = (data.x_train, data.y_train, data.x_valid, data.y_valid)
    elif isinstance(data, (tuple, list)) and len(data) == 4:
        parts = tuple(data)
    else:
        raise _checks.fail(fn, "data", "a CTCFData or a tuple (X_train, y_train, X_valid, y_valid)",
                           type(data).__name__, kind=TypeError)
    xtr, ytr = _check_xy(parts[0], parts[1], fn, "data train ")
    xva, yva = _check_xy(parts[2], parts[3], fn, "data valid ")
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

    :func:`workshop_utils.backend.fit_binary`: Keras ``model.fit`` with
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
    from ..backend import fit_binary, require_model

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


def expected_best_of_random(rewards: Sequence[float] | np.ndarray, n_trials: int | Sequence[int],
                            replace: bool = True) -> np.ndarray:
    """Random search's expected best reward after ``n_trials`` uniform draws.

    With the rewards of every arc of a space (or of a uniform sample of its arcs),
    random search draws ``n`` of them with replacement; the best of those has
    expectation ``sum_k r_(k) [(k/M)^n - ((k-1)/M)^n]`` over the sorted rewards
    ``r_(1) <= ... <= r_(M)``.  This is the curve a learned search must beat at equal
    budget.  With ``replace=False`` the ``n`` arcs are distinct (a budget of ``n``
    trained children, ``search(budget="children")``, over the rewards of *every* arc of
    the space): ``sum_k r_(k) [C(k, n) - C(k-1, n)] / C(M, n)``.

    Parameters
    ----------
    rewards : array-like ``(M,)``
        Finite rewards, one per arc (larger is better).
    n_trials : int or sequence of int
        Budget(s), each >= 1 (and <= M without replacement).
    replace : bool
        Draws with replacement (default) or distinct arcs.

    Returns
    -------
    np.ndarray
        float64 ``(len(n_trials),)`` (shape ``()`` for an int): expected best reward per budget.

    Examples
    --------
    >>> float(expected_best_of_random([0.5, 1.0], 1)), float(expected_best_of_random([0.5, 1.0], 2))
    (0.75, 0.875)
    """
    fn = "expected_best_of_random"
    r = np.sort(_checks.finite_array(rewards, "rewards", fn, ndim=1, dtype=np.float64))
    scalar = _checks.is_int(n_trials)
    if scalar:
        ns = [_checks.positive_int(n_trials, "n_trials", fn)]
    elif isinstance(n_trials, (str, bytes)) or not isinstance(n_trials, (Sequence, np.ndarray)) or not len(n_trials):
        raise _checks.fail(fn, "n_trials", "a positive int or a non-empty sequence of them", n_trials,
                           kind=TypeError)
    else:
        ns = [_checks.positive_int(n, f"n_trials[{i}]", fn) for i, n in enumerate(n_trials)]
    replace = _checks.flag(replace, "replace", fn)
    m = len(r)
    k = np.arange(1, m + 1)
    if replace:
        out = np.array([float(np.sum(r * ((k / m) ** n - ((k - 1) / m) ** n))) for n in ns])
    else:
        from scipy.special import gammaln

        def log_comb(a, b):  # log C(a, b) for a >= b
            return gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1)

        out = []
        for n in ns:
            if n > m:
                raise _checks.fail(fn, "n_trials", f"at most {m} (the number of rewards) when replace=False", n)
            # P(the best of n distinct draws is r_(k)) = C(k-1, n-1) / C(m, n)
            kk = k[k >= n]
            out.append(float(np.sum(r[kk - 1] * np.exp(log_comb(kk - 1, n - 1) - log_comb(m, n)))))
        out = np.array(out)
    return out[0] if scalar else out


#: The rewards of every arc of the course space on the grammar preset, shipped with the package.
REWARD_TABLE_FILE = Path(__file__).with_name("rewards_grammar.json")


def load_reward_table(path: str | Path | None = None) -> dict[tuple[int, ...], float]:
    """The validation AUROC of every arc of the course space, each child trained once.

    ``benchmarks/nas_controller_vs_random.py`` trains all 378 arcs of
    :func:`~workshop_utils.nas.space.course_model_space` on the ``'grammar'`` preset
    (4,000 training sequences, <= 4 epochs, every child from seed 0) and ships the rewards
    as ``workshop_utils/nas/rewards_grammar.json`` (provenance in ``data/README.md``).  Because every child starts from the same seed, a
    search over this space can look a reward up instead of training the child, which makes
    it cheap to repeat searches over many seeds.

    Parameters
    ----------
    path : str or Path, optional
        Default: the shipped table; or any file the benchmark wrote with ``--table``.

    Returns
    -------
    dict
        ``{arc (tuple of 4 ints): reward (float in [0, 1])}``, one entry per arc of the space.

    Raises
    ------
    ValueError
        Naming the file, when it is not a complete, readable reward table (truncated, edited,
        an arc missing or outside the space, a reward that is not a number in [0, 1]).
    """
    import json

    from .space import course_model_space

    fn = "load_reward_table"
    if path is not None and not isinstance(path, (str, Path)):
        raise _checks.fail(fn, "path", "a file path (str or Path) or None", path, kind=TypeError)
    path = _checks.file_path(Path(path) if path is not None else REWARD_TABLE_FILE, "path", fn)
    where = f"{fn}: {path} is not a complete reward table"
    try:
        raw = json.loads(path.read_text())["rewards"]
        table = {tuple(int(t) for t in json.loads(k)): float(v) for k, v in raw.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise ValueError(f"{where} ({type(err).__name__}: {err})") from None
    space = course_model_space()
    for arc, reward in table.items():
        try:
            space.check_arc(list(arc))
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
        if not 0.0 <= reward <= 1.0:  # also refuses NaN
            raise ValueError(f"{where}: the reward of arc {list(arc)} is {reward}, expected a number in [0, 1]")
    if len(table) != space.size:
        raise ValueError(f"{where}: it has {len(table)} arcs, the course space {space.size}")
    return table
