"""Hidden checks: instructor-side files, never shipped in the package.

A hidden-checks file is a Python file, kept by the instructor (the repository's example
set is ``tests/homework_hidden/hidden_checks.py``), that defines::

    from workshop_utils.grading.core import Check
    HIDDEN_CHECKS = {(1, 1): [Check("...", 2, fn), ...], ...}   # (day, practice) -> checks

and is passed to the grader with ``workshop-grade ... --hidden PATH``.  Why a submission
cannot read it:

* the grader reads and executes the file in its own process *before* running any
  submission, and the checks run in a child of the grader, never in a kernel;
* each kernel runs in its own mount namespace where the hidden file (and the CSV) are
  covered by an empty file, and the package is mounted read-only (see
  :mod:`workshop_utils.grading.sandbox`); only the values the kernel exported leave it.

Without ``--hidden`` only the public checks are run (and the CSV's ``max`` column says
how many points were possible).
"""
from __future__ import annotations

import dataclasses
import runpy
from pathlib import Path

from .core import Check
from .practices import PRACTICES


def load_hidden(path: str | Path) -> dict[tuple[int, int], list[Check]]:
    """Read a hidden-checks file; returns ``{(day, practice): [Check, ...]}`` marked hidden.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        When the file cannot be run (a syntax error...) or does not define ``HIDDEN_CHECKS`` as described
        above: keys must be ``(day, practice)`` pairs of integers naming a practice that exists
        (practices count from 1: a file that counts from 0 is refused, not shifted).
    """

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"hidden: no such file {path}")
    try:
        ns = runpy.run_path(str(path), run_name="workshop_hidden_checks")
    except Exception as err:  # noqa: BLE001 - a broken file must say which file and why
        raise ValueError(f"hidden: {path} could not be loaded ({type(err).__name__}: {err})") from err
    table = ns.get("HIDDEN_CHECKS")
    if not isinstance(table, dict):
        raise ValueError(f"hidden: {path} must define HIDDEN_CHECKS = {{(day, practice): [Check, ...]}}")
    out: dict[tuple[int, int], list[Check]] = {}
    for key, checks in table.items():
        if not (isinstance(key, tuple) and len(key) == 2
                and all(isinstance(k, int) and not isinstance(k, bool) for k in key)):
            raise ValueError(f"hidden: {path}: keys of HIDDEN_CHECKS must be (day, practice) pairs of integers, "
                             f"got {key!r}")
        day, number = key
        if day not in PRACTICES:
            raise ValueError(f"hidden: {path}: HIDDEN_CHECKS key {key!r}: day must be one of {sorted(PRACTICES)}, "
                             f"got {day!r}")
        numbers = [p.number for p in PRACTICES[day]]
        if number not in numbers:
            hint = (" (practices are numbered from 1: does the file count from 0?)" if number == 0
                    else "")
            raise ValueError(f"hidden: {path}: HIDDEN_CHECKS key {key!r}: day {day} has practices {numbers}, "
                             f"got practice {number!r}{hint}")
        if not isinstance(checks, (list, tuple)) or not all(isinstance(c, Check) for c in checks):
            raise ValueError(f"hidden: {path}: HIDDEN_CHECKS[{key}] must be a list of Check")
        out[(day, number)] = [dataclasses.replace(c, hidden=True) for c in checks]
    return out
