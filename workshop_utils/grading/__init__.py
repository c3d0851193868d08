"""Homework checks (student side) and the instructor's grader.

Student side, at the end of each practice of ``homework/day{1,2}_homework.ipynb``::

    from workshop_utils.grading import check
    check(day=1, practice=3)

Instructor side (a console script of the package)::

    workshop-grade SUBMISSIONS_DIR --day 1 --out grades.csv --hidden hidden_checks.py

Modules: ``core`` (Requirement, Check, Practice, run_checks), ``practices`` (the two
days' practices and public checks, reference data), ``probe`` (the grader's private probe
set: sequences a submission scores without their labels), ``export`` (what leaves a kernel,
as plain data, including the models' predictions on the probe), ``selfcheck``
(:func:`check`), ``hidden`` (loading instructor-side hidden checks), ``sandbox``, ``cage`` and
``seccomp`` (kernel isolation, limits, the system-call filter), ``grader`` (the command).
"""
from .core import Check, CheckResult, Missing, Practice, Requirement, run_checks
from .practices import PRACTICES, get_practice, reference
from .selfcheck import check

__all__ = ["Check", "CheckResult", "Missing", "PRACTICES", "Practice", "Requirement", "check",
           "get_practice", "reference", "run_checks"]
