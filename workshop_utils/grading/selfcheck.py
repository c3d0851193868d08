"""The student's self-check: ``check(day=1, practice=3)`` at the end of a practice.

It reads the variables the practice asked for from the notebook's namespace, turns them
into the same plain data the grader exports, runs the *public* checks on them and prints
what passed and what did not, with hints.  Works anywhere the package is installed
(Colab included): the reference labels come from ``workshop_utils.load_ctcf()``.

Checks on private data (``Check(..., private=True)``: the student's models scored on the
grader's probe set, whose labels only the instructor's grader has) cannot run here: they
are listed as "checked by the instructor's grader on private data", neither passed nor
failed, and not counted in the points possible here.
"""
from __future__ import annotations

import inspect

from .core import CheckResult, Missing, run_checks
from .export import collect
from .practices import get_practice, reference


def _caller_namespace(depth: int = 2) -> dict:
    try:  # in a notebook the user's namespace is the IPython shell's
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            return shell.user_ns
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        pass
    frame = inspect.currentframe()
    for _ in range(depth):
        frame = frame.f_back
    return frame.f_globals


class CheckReport(dict):
    """The dict returned by :func:`check`, shown in one line when it is a cell's last value."""

    def __repr__(self) -> str:
        return f"<self-check: {self['points']:g}/{self['possible']:g} public points>"


def check(day: int, practice: int, namespace: dict | None = None, verbose: bool = True) -> CheckReport:
    """Run the public checks of a homework practice on the notebook's variables.

    Parameters
    ----------
    day : int
        1 or 2.
    practice : int
        1 to 5.
    namespace : dict, optional
        Where to find the variables; default: the notebook's (IPython user namespace,
        else the caller's globals).
    verbose : bool
        Print one line per check with hints for those that failed.

    Returns
    -------
    dict
        ``points`` earned by public checks, ``possible`` (public points that can be checked
        here), ``private`` (points of the checks on private data, left to the instructor's
        grader), ``results`` (list of :class:`~workshop_utils.grading.core.CheckResult`;
        private checks have ``skipped=True``) and ``missing`` (names still to define).
        It never raises for a wrong or missing answer.
    """
    prac = get_practice(day, practice)
    ns = namespace if namespace is not None else _caller_namespace()
    if not isinstance(ns, dict):
        raise TypeError(f"namespace must be a dict, got {type(ns).__name__}")
    values = collect(prac, ns, probe=False)
    ref = {k: v for k, v in reference().items() if k != "probe"}  # the self-check never has private data
    results: list[CheckResult] = run_checks(prac.checks, values, ref)
    earned = sum(r.earned for r in results if not r.skipped)
    possible = sum(r.points for r in results if not r.skipped)
    private = sum(r.points for r in results if r.skipped)
    missing = {n: v.reason for n, v in values.items() if isinstance(v, Missing)}
    if verbose:
        print(f"Day {day}, practice {practice}: {prac.title}")
        for r in results:
            if r.skipped:
                print(f"  [PRIVATE] {r.name} ({r.points:g} points): {r.message}")
                if r.hint:
                    print(f"         how to earn it: {r.hint}")
                continue
            mark = "PASS" if r.passed else "FAIL"
            print(f"  [{mark}] {r.name} ({r.earned:g}/{r.points:g}): {r.message}")
            if not r.passed and r.hint:
                print(f"         hint: {r.hint}")
        if missing:
            print("  still to define: " + ", ".join(
                f"{n} ({next(q.what for q in prac.requirements if q.name == n)})" for n in missing))
        hidden = 10 - possible - private
        more = ([f"checks of your models on private data worth {private:g}"] if private else []) + (
            [f"hidden checks worth {hidden:g}"] if hidden else [])
        print(f"  public checks: {earned:g}/{possible:g} points"
              + (f" (the instructor's grader adds {' and '.join(more)} more)" if more else ""))
    return CheckReport(points=earned, possible=possible, private=private, results=results, missing=missing)
