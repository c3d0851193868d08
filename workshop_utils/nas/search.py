"""The search loop: sample an arc -> evaluate it -> tell the controller the reward.

:func:`search` is generic (any controller with ``get_action``/``update``, any
``evaluate(arc)``) and :class:`SearchHistory` records it.  The course's evaluate for the
CTCF task (:func:`~workshop_utils.nas.evaluate.cnn_evaluator`) and the process pools are in
:mod:`workshop_utils.nas.evaluate`; the reward table and random search's expected best in
:mod:`workshop_utils.nas.rewards`.

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

from .. import _checks, _moved
from .._atomic import atomic_write
from .space import ModelSpace

# Names that lived here in the last release (one more release with a DeprecationWarning).
__getattr__ = _moved.moved_names(__name__, {
    "cnn_evaluator": "workshop_utils.nas.evaluate", "CNNEvaluator": "workshop_utils.nas.evaluate",
    "train_child": "workshop_utils.nas.evaluate", "process_pool": "workshop_utils.nas.evaluate",
    "expected_best_of_random": "workshop_utils.nas.rewards", "load_reward_table": "workshop_utils.nas.rewards",
    "REWARD_TABLE_FILE": "workshop_utils.nas.rewards"})

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

    The loop's steps: the budget (:class:`_Budget`) says how many arcs to draw; the batch
    is drawn and evaluated (at the same time with an ``executor``); each trial is recorded
    and the controller learns from the rewards in drawing order (one REINFORCE step per
    batch, as AMBER and ENAS do).  With the same seed and ``batch`` the history is the same
    with or without an executor, whatever its workers (rewards to float rounding when
    workers train with fewer threads than this process: about 1e-6 of AUROC).

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
        CSV written atomically after every trial: an interrupted search keeps every trial it
        finished, and a half-written file never replaces a good one.  Without ``resume``, an
        existing file is replaced after the first trial.
    model_space : ModelSpace, optional
        For the operations in words; defaults to ``controller.model_space``.
    cache : bool
        An arc drawn again reuses its first result instead of being trained again
        (the trial is recorded with ``cached=True`` and counts toward ``n_trials``).
    resume : bool
        Continue the search saved in ``history_path`` (a missing file starts afresh).  The
        controller, fresh with the settings and seed that started the search (else a
        ``ValueError`` says where it differs), redraws each saved arc and learns its saved
        reward, then the remaining ``n_trials - len(saved)`` trials run: the arcs the
        uninterrupted search would have drawn (exactly for the package's controllers, whose
        updates are deterministic on a CPU).  Saved results also fill the ``cache``.
    executor : concurrent.futures.Executor, optional
        Evaluates the children of a batch in parallel, one process each:
        :func:`~workshop_utils.nas.evaluate.process_pool`, or a Dask client's
        ``get_executor()`` (one thread per worker).  ``evaluate`` must be picklable
        (:func:`~workshop_utils.nas.evaluate.cnn_evaluator` is; a lambda is refused before
        anything runs).  A thread pool is refused: children seed their framework's global
        generator, which threads would share.  None evaluates here, one child at a time.
    batch : int, optional
        Arcs drawn per controller update; default ``controller.batch_size`` (the updates of
        a serial search).  Use the number of workers (or a multiple) to keep them busy.
    budget : {"trials", "children"}
        What ``n_trials`` counts: every draw, a cached one too; or only the children
        actually trained (two searches compared at ``n_trials`` trained as many networks; a
        redrawn arc reuses its reward for free and the controller still learns from it).
        Then the search also stops after ``max_draws`` draws, with a ``RuntimeWarning``
        saying how many children it trained; ``cache=True`` is needed, and ``n_trials``
        above the number of arcs of the space is refused.
    max_draws : int, optional
        With ``budget="children"``: the most draws in all (default ``10 * n_trials``; at
        least ``n_trials``).

    Returns
    -------
    SearchHistory
    """
    fn = "search"
    space, history_path, budget = _check_search(controller, evaluate, n_trials, time_budget, progress, history_path,
                                                model_space, cache, resume, executor, batch, budget, max_draws)
    hist = SearchHistory(space)
    seen: dict[tuple[int, ...], dict] = {}
    if resume and history_path.exists():
        _replay(controller, SearchHistory.read_csv(history_path, space), hist, seen, history_path)
    budget.begin(hist)
    bar = budget.progress_bar(hist, f"search ({type(controller).__name__})", progress)
    try:
        while n_draw := budget.next_batch(hist):
            for arc, probs, result, cached, seconds in _run_batch(controller, n_draw, evaluate, executor,
                                                                  seen if cache else None):
                reward = _record(hist, controller, arc, probs, result, cached, seconds)
                hist.seconds_total = budget.seconds_before + time.perf_counter() - budget.start
                if budget.count(cached):
                    bar.update(1)
                    bar.set_postfix(best=f"{hist.best_reward:.4f}", last=f"{reward:.4f}")
            if history_path is not None:
                hist.to_csv(history_path)
        budget.warn_if_short(hist, fn)
    except KeyboardInterrupt:
        if history_path is not None:
            print(f"search interrupted after {len(hist)} trial(s); they are saved in {history_path}: "
                  "run the same call with resume=True to continue", file=sys.stderr)
        raise
    finally:
        bar.close()
    return hist


class _Budget:
    """When :func:`search` stops: ``n_trials`` (draws, or trained children), ``max_draws``, the time budget."""

    def __init__(self, n_trials: int, time_budget: float | None, batch: int, children: bool,
                 max_draws: int | None) -> None:
        self.n_trials, self.time_budget, self.batch = n_trials, time_budget, batch
        self.children, self.max_draws = children, max_draws
        self.start, self.seconds_before, self.done_before, self.trial = 0.0, 0.0, 0, 0

    def begin(self, hist: SearchHistory) -> None:
        """Start the clock; trials resumed from ``hist`` count toward the budget."""
        self.start = time.perf_counter()
        self.done_before = sum(not r["cached"] for r in hist.records) if self.children else len(hist)
        self.trial, self.seconds_before = self.done_before, hist.seconds_total

    def progress_bar(self, hist: SearchHistory, desc: str, progress: bool) -> Any:
        """A tqdm bar over the budget, showing the trials resumed and their best reward."""
        from .._progress import progress as tqdm  # text bar on stdout: saved notebooks show its final state

        bar = tqdm(total=self.n_trials, initial=min(self.trial, self.n_trials), desc=desc, disable=not progress)
        if hist.records:
            bar.set_postfix(best=f"{hist.best_reward:.4f}")
        return bar

    def next_batch(self, hist: SearchHistory) -> int:
        """How many arcs to draw now; 0 when the search is over."""
        if self.trial >= self.n_trials or (self.children and len(hist) >= self.max_draws):
            return 0
        n = min(self.batch, self.n_trials - self.trial)
        elapsed, run = time.perf_counter() - self.start, self.trial - self.done_before
        if self.time_budget is not None and run > 0 and elapsed + elapsed / run * n > self.time_budget:
            return 0  # the mean trial time so far says the next batch would not fit
        return min(n, self.max_draws - len(hist)) if self.children else n

    def count(self, cached: bool) -> bool:
        """Count one recorded trial against the budget (a cached draw is free with budget='children')."""
        if self.children and cached:
            return False
        self.trial += 1
        return True

    def warn_if_short(self, hist: SearchHistory, fn: str) -> None:
        if self.children and self.trial < self.n_trials and len(hist) >= self.max_draws:
            warnings.warn(f"{fn}: only {self.trial} of n_trials={self.n_trials} children were trained in max_draws="
                          f"{self.max_draws} draws (the controller kept redrawing trained arcs); raise max_draws to "
                          "train them all", RuntimeWarning, stacklevel=3)


def _run_batch(controller: Any, n_draw: int, evaluate: Callable, executor: Executor | None,
               seen: dict | None) -> list[tuple[list[int], Any, dict, bool, float]]:
    """Draw ``n_draw`` arcs and evaluate them: ``(arc, probs, result, cached, seconds)`` each, in drawing order.

    With an executor the children train at the same time, so each is given the batch's wall time.
    """
    drawn = [controller.get_action() for _ in range(n_draw)]
    drawn = [([int(a) for a in arc], probs) for arc, probs in drawn]
    t0 = time.perf_counter()
    results = _evaluate_batch([arc for arc, _ in drawn], evaluate, executor, seen)
    batch_seconds = time.perf_counter() - t0
    return [(arc, probs, result, cached, seconds if executor is None else batch_seconds)
            for (arc, probs), (result, cached, seconds) in zip(drawn, results)]


def _record(hist: SearchHistory, controller: Any, arc: list[int], probs: Any, result: dict, cached: bool,
            seconds: float) -> float:
    """Teach ``controller`` the reward of ``arc`` and append the trial to ``hist``; return the reward."""
    result = dict(result)
    reward = result.pop("reward")
    loss = controller.update(arc, reward)
    hist.records.append({"trial": len(hist), "arc": arc, "ops": _describe(hist.model_space, arc), "reward": reward,
                         "params": result.pop("params", None), "seconds": round(0.0 if cached else seconds, 3),
                         **result, "cached": bool(cached),
                         "controller_loss": float(loss) if loss is not None else None})
    hist.probs.append([np.asarray(p, dtype=float) for p in probs])
    return reward


def _check_search(controller: Any, evaluate: Any, n_trials: Any, time_budget: Any, progress: Any, history_path: Any,
                  model_space: Any, cache: Any, resume: Any, executor: Any, batch: Any, budget: Any,
                  max_draws: Any) -> tuple[ModelSpace | None, Path | None, _Budget]:
    """:func:`search`'s arguments, checked before anything runs: the space, the history file and the budget."""
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
    _checks.flag(progress, "progress", fn)
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
    return space, history_path, _Budget(n_trials, time_budget, batch, *_check_children(budget, cache, max_draws,
                                                                                        n_trials, space, fn))


def _check_children(budget: Any, cache: bool, max_draws: Any, n_trials: int, space: ModelSpace | None,
                    fn: str) -> tuple[bool, int | None]:
    """``(children, max_draws)``: whether ``n_trials`` counts trained children, and the draws allowed then."""
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
    return children, max_draws


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
