"""Practices, requirements and checks: the data model shared by the self-check and the grader.

A *practice* names what the student must leave behind (:class:`Requirement`: a variable
of a given kind) and the checks that award its 10 points (:class:`Check`).  Checks are
plain functions ``fn(values, ref) -> (passed, message)`` on *exported* values (numbers,
numpy arrays, JSON-like tables, figure descriptions), never on live objects, so the
instructor grader can run them in a clean process on what a submission exported.

``ref`` is the reference data (true labels of the CTCF splits, the planted sites),
loaded by the checking process itself, never taken from the submission.
"""
from __future__ import annotations

import contextvars
import functools
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

#: Kinds of things a practice can ask for, and how they are exported.
KINDS = ("scalar", "array", "text", "table", "dict", "json", "figure", "function", "callbacks", "model")
#: How the homework notebooks name each kind of value in their "Leave behind" lists (the master
#: notebooks use these words; :mod:`~workshop_utils.grading.assign` reads them back to kinds).
KIND_WORDS = {"scalar": "a number", "array": "an array", "text": "a string",
              "table": "a pandas DataFrame (or list of dicts)", "dict": "a dict", "json": "a list or number",
              "figure": "a matplotlib Figure", "function": "a function", "callbacks": "a list of Keras callbacks",
              "model": "a trained model"}
#: Attribution maps a ``model`` requirement can ask the export for.
ATTRIBUTIONS = ("ism", "ig")
#: Positives of a model's split whose attribution maps the export computes (``anchor_<method>``).
N_ANCHOR = 3


class Missing:
    """Stands for a required value that is absent or could not be exported."""

    def __init__(self, reason: str):
        self.reason = reason

    def __repr__(self) -> str:
        return f"Missing({self.reason!r})"

    def __bool__(self) -> bool:  # a Missing is never a usable value
        return False


@dataclass(frozen=True)
class Requirement:
    """One thing the student leaves behind in the notebook's namespace.

    Parameters
    ----------
    name : str
        The variable name.
    kind : str
        One of :data:`KINDS`. ``function`` values are called on ``probe`` (a list of
        argument tuples) when exported; ``model`` values are scored on the ``split`` of
        the CTCF data (probabilities ``(N,)``).
    what : str
        One line for the student, shown by the self-check when the value is missing.
    probe : tuple
        Argument tuples a ``function`` is called with.
    split : str
        Split a ``model`` is scored on (``'valid'`` or ``'test'``), for the checks that
        compare the model with the student's own numbers.  Wherever the grader provides
        its private probe set (:mod:`workshop_utils.grading.probe`) a ``model`` is also
        scored on the probe's sequences.
    attribution : tuple
        For a ``model``: attribution maps the export also computes, ``'ism'`` and/or
        ``'ig'`` (integrated gradients), on the probe's first
        :func:`~workshop_utils.grading.probe.probe_attr_size` sequences and on the first
        :data:`N_ANCHOR` positives of ``split`` (to tie the student's own maps to the model).
    large_probe : bool
        For a ``model``: score it on *every* sequence of the probe
        (:func:`~workshop_utils.grading.probe.probe_total`), not only on the first
        :func:`~workshop_utils.grading.probe.probe_size`; for models that must beat
        another by a small margin.
    """

    name: str
    kind: str
    what: str
    probe: tuple = ()
    split: str = "valid"
    attribution: tuple = ()
    large_probe: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.split not in ("valid", "test"):
            raise ValueError(f"split must be 'valid' or 'test', got {self.split!r}")
        bad = [a for a in self.attribution if a not in ATTRIBUTIONS]
        if bad or (self.attribution and self.kind != "model"):
            raise ValueError(f"attribution must list some of {ATTRIBUTIONS} for a 'model', got "
                             f"{self.attribution!r} for a {self.kind!r}")
        if self.large_probe and self.kind != "model":
            raise ValueError(f"large_probe is for a 'model', got a {self.kind!r}")


@dataclass(frozen=True)
class Check:
    """A check worth ``points``; ``fn(values, ref)`` returns ``(passed, message)``.

    ``hint`` is shown to the student when the check fails; ``hidden`` checks live
    outside the package (see :mod:`workshop_utils.grading.hidden`) and are only run
    by the instructor's grader.  ``private`` checks score the student's models on the
    grader's private probe set (``ref["probe"]``, see :mod:`workshop_utils.grading.probe`):
    they run only where ``ref`` carries a probe (the instructor's grader), and the
    self-check lists them as checked by the instructor.
    """

    name: str
    points: float
    fn: Callable[[dict, dict], tuple[bool, str]]
    hint: str = ""
    needs: tuple = ()
    hidden: bool = False
    private: bool = False


@dataclass
class Practice:
    """A practice: its requirements and its public checks (worth 10 points with the hidden ones)."""

    day: int
    number: int
    title: str
    requirements: tuple
    checks: list = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"day{self.day}_p{self.number}"

    def names(self) -> list[str]:
        return [r.name for r in self.requirements]


@functools.lru_cache(maxsize=None)
def homework_text(day: int) -> dict:
    """The requirement text of ``day``'s homework: each practice's title, points and Leave-behind list.

    It is ``grading/homework_day{day}.json`` of the package, generated from the master notebook
    ``homework/source/day{day}.ipynb`` by ``workshop-assign`` (``make assign``): the student reads
    the same words in the template, and the checks read them here (the self-check in Colab and
    the grader's sandbox have the package, not the repository).

    Parameters
    ----------
    day : int
        The day (1 or 2: a day with a generated file).

    Returns
    -------
    dict
        ``{"day": day, "practices": [{"number", "title", "points", "leave_behind": [{"name", "kind",
        "what"}, ...]}, ...], ...}``; ``{"day": day, "practices": []}`` when the file is missing.
    """
    path = Path(__file__).with_name(f"homework_day{int(day)}.json")
    if not path.is_file():
        return {"day": day, "practices": []}
    return json.loads(path.read_text(encoding="utf-8"))


def text_problems(day: int, number: int, checks: list, options: dict) -> list[str]:
    """What keeps a practice's checks and its text (the master notebook) from being in step; [] when they are.

    Parameters
    ----------
    day, number : int
        The practice.
    checks : list of Check
        Its public checks (every name a check ``needs`` must be listed).
    options : dict
        Requirement options per name (every name must be listed).

    Returns
    -------
    list of str
        One sentence per problem: the practice is missing from the text, or a name is not listed.
    """
    text = [p for p in homework_text(day)["practices"] if p["number"] == number]
    if not text:
        return [f"day {day} has no practice {number} in homework_day{day}.json"]
    listed = {item["name"] for item in text[0]["leave_behind"]}
    stray = sorted(set(options) - listed) + sorted({n for c in checks for n in c.needs} - listed)
    return [f"day {day} practice {number}: {n!r} is not in the Leave-behind list" for n in dict.fromkeys(stray)]


def practice_from_text(day: int, number: int, checks: list, **options: dict) -> Practice:
    """A :class:`Practice` whose title and requirements come from the master notebook's text.

    Parameters
    ----------
    day, number : int
        The practice (its heading ``### Practice N: ...`` in ``homework/source/day{day}.ipynb``).
    checks : list of Check
        Its public checks; every name a check ``needs`` must be in the Leave-behind list.
    **options : dict
        Per requirement name, the :class:`Requirement` options the text does not say
        (``split``, ``probe``, ``attribution``, ``large_probe``).

    Returns
    -------
    Practice
        Requirements in the order of the Leave-behind list, with its kinds and words.

    Notes
    -----
    When the text and the checks are out of step (:func:`text_problems`) this warns
    (``RuntimeWarning``) and builds what the text gives, rather than raise: the package must
    stay importable so that ``workshop-assign`` can regenerate the text from the master.
    The tests fail on any problem.
    """
    problems = text_problems(day, number, checks, options)
    if problems:
        warnings.warn("out of step with the master notebook (edit homework/source/day"
                      f"{day}.ipynb, then run workshop-assign): " + "; ".join(problems), RuntimeWarning, stacklevel=2)
    text = [p for p in homework_text(day)["practices"] if p["number"] == number]
    items = text[0]["leave_behind"] if text else []
    return Practice(day, number, text[0]["title"] if text else f"practice {number}",
                    tuple(_requirement(i, options.get(i["name"], {}), day, number) for i in items), list(checks))


def _requirement(item: dict, options: dict, day: int, number: int) -> Requirement:
    try:
        return Requirement(item["name"], item["kind"], item["what"], **options)
    except (TypeError, ValueError) as err:  # a kind changed in the master that the options do not fit
        warnings.warn(f"out of step with the master notebook: day {day} practice {number}, {item['name']!r}: {err}",
                      RuntimeWarning, stacklevel=3)
        return Requirement(item["name"], item["kind"] if item["kind"] in KINDS else "text", item["what"])


@dataclass
class CheckResult:
    """Outcome of one check.

    ``measured`` lists what the grader measured while running it (see :func:`measure`:
    a model's AUROC on the probe, the threshold that earns the points...), for the
    student's feedback page; ``not_in_export`` is True when the check needed something
    the export does not hold (an export made before the check asked for it: run the
    notebook again).
    """

    name: str
    points: float
    earned: float
    passed: bool
    message: str
    hint: str = ""
    hidden: bool = False
    private: bool = False
    skipped: bool = False
    measured: list = field(default_factory=list)
    not_in_export: bool = False


class NotInExport(ValueError):
    """A check needs a value the export does not hold (it was made before the check asked for it)."""


_MEASURED: contextvars.ContextVar = contextvars.ContextVar("workshop_measured", default=None)


def measure(kind: str, value: float, **info: Any) -> None:
    """Record a number a running check measured, for the feedback page (no-op outside :func:`run_checks`).

    Parameters
    ----------
    kind : str
        What was measured: ``'auroc'`` (a model's AUROC on the probe; ``info``: ``model``,
        ``n``, ``rows``), ``'recovery'`` (share of probe positives whose top attribution
        window is on the planted site; ``model``, ``method``), ``'limit'`` (a threshold of
        :data:`~workshop_utils.grading.checks_common.LIMITS`; ``name``), or any other word.
    value : float
        The number.
    **info
        JSON-compatible details (strings, numbers).
    """
    got = _MEASURED.get()
    if got is not None and len(got) < 20:
        entry = {"kind": str(kind), "value": float(value)}
        entry.update({str(k): (v if isinstance(v, (int, float, str, bool)) or v is None else str(v))
                      for k, v in info.items()})
        got.append(entry)


def _has_probe(ref: Any) -> bool:
    return isinstance(ref, dict) and isinstance(ref.get("probe"), dict) and "y" in ref["probe"]


def run_checks(checks: list, values: dict, ref: dict) -> list[CheckResult]:
    """Run ``checks`` on exported ``values``; a check that raises simply fails.

    A check whose ``needs`` include a :class:`Missing` value fails with the reason the
    value is missing, without being called.  A ``private`` check is *skipped* (a result
    with ``skipped=True``, neither passed nor failed, worth nothing) when ``ref`` carries
    no probe, as in the student's self-check.
    """
    results = []
    probe = _has_probe(ref)
    for chk in checks:
        if chk.private and not probe:
            results.append(CheckResult(chk.name, chk.points, 0.0, False,
                                       "checked by the instructor's grader on private data", chk.hint, chk.hidden,
                                       True, True))
            continue
        missing = [n for n in chk.needs if isinstance(values.get(n, Missing("not exported")), Missing)]
        if missing:
            why = "; ".join(values.get(n, Missing(f"{n} not exported")).reason for n in missing)
            results.append(CheckResult(chk.name, chk.points, 0.0, False, f"missing: {why}", chk.hint, chk.hidden,
                                       chk.private))
            continue
        token, stale = _MEASURED.set([]), False
        try:
            ok, msg = chk.fn(values, ref)
            ok = bool(ok)
        except NotInExport as err:
            ok, msg, stale = False, f"not in the export: {str(err)[:200]}", True
        except Exception as err:  # noqa: BLE001 - a broken value must not stop the others
            ok, msg = False, f"could not be checked ({type(err).__name__}: {str(err)[:200]})"
        finally:
            measured = _MEASURED.get() or []
            _MEASURED.reset(token)
        results.append(CheckResult(chk.name, chk.points, chk.points if ok else 0.0, ok, str(msg)[:300],
                                   chk.hint, chk.hidden, chk.private, measured=measured, not_in_export=stale))
    return results


# ------------------------------------------------------------------ small helpers for checks
def as_vector(x: Any, n: int | None = None, name: str = "value") -> np.ndarray:
    """``x`` as a finite float vector (of length ``n`` when given), else ValueError."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 2 and 1 in a.shape:
        a = a.reshape(-1)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a vector, got shape {a.shape}")
    if n is not None and a.shape[0] != n:
        raise ValueError(f"{name} must have length {n}, got {a.shape[0]}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or inf")
    return a


def as_float(x: Any, name: str = "value") -> float:
    """``x`` as a finite float, else ValueError."""
    if isinstance(x, (bool, np.bool_)) or x is None:
        raise ValueError(f"{name} must be a number, got {x!r}")
    v = float(np.asarray(x, dtype=np.float64).reshape(()))
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    return v


def close(a: float, b: float, tol: float = 1e-3) -> bool:
    """True when two numbers agree to ``tol`` (absolute)."""
    return abs(float(a) - float(b)) <= tol


def words(text: Any) -> list[str]:
    """The words of a written answer ('' and non-strings have none)."""
    return re.findall(r"[A-Za-z0-9][A-Za-z0-9'-]*", text) if isinstance(text, str) else []


def answer_check(name: str, min_words: int, keywords: tuple[str, ...], points: float = 1.0) -> Check:
    """A check that the written answer ``name`` has ``min_words`` words and uses one of ``keywords``."""

    def fn(v, ref):
        w = words(v[name])
        if len(w) < min_words:
            return False, f"{name} has {len(w)} words, at least {min_words} expected"
        low = v[name].lower()
        if keywords and not any(k.lower() in low for k in keywords):
            return False, f"{name} does not mention any of {', '.join(keywords)}"
        return True, f"{name}: {len(w)} words"

    return Check(f"{name} written", points, fn,
                 hint=f"Answer in at least {min_words} words of your own, citing your numbers.", needs=(name,))


def figure_check(name: str, min_axes: int = 1, min_artists: int = 1, points: float = 1.0) -> Check:
    """A check that the figure ``name`` has ``min_axes`` axes, each drawing ``min_artists`` things."""

    def fn(v, ref):
        fig = v[name]
        axes = [a for a in fig.get("axes", []) if a.get("n_artists", 0) >= min_artists]
        if len(axes) < min_axes:
            return False, f"{name} has {len(axes)} axes with content, {min_axes} expected"
        if fig.get("png_bytes", 0) < 2000:
            return False, f"{name} renders to an (almost) empty image"
        unlabeled = [i for i, a in enumerate(axes) if not (a.get("xlabel") or a.get("title"))]
        if unlabeled:
            return False, f"axes {unlabeled} of {name} have neither an x label nor a title"
        return True, f"{name}: {len(axes)} axes"

    return Check(f"{name} drawn", points, fn,
                 hint=f"Leave a matplotlib Figure in {name} (fig = plt.figure() or fig, ax = plt.subplots()) "
                      f"with {min_axes} labelled panel(s).", needs=(name,))
