"""From check results to a CSV row: the one place the grader and the regrade build a row.

``results`` is what the grader's checks process returns: ``{practice number: {"results":
[CheckResult as a dict, ...], "unexported": reason or None}}`` (practice numbers may be
``str`` after a JSON round trip: :func:`normalise_results` makes them ``int``).  The same
results, status and errors give the same row, byte for byte: this is what makes a regrade
with unchanged checks reproduce the grader's CSV.
"""
from __future__ import annotations

from typing import Any

from .practices import PRACTICES


def normalise_results(results: dict) -> dict[int, dict]:
    """``results`` with ``int`` practice numbers (JSON turns them into ``str``)."""
    if not isinstance(results, dict):
        raise TypeError(f"normalise_results: results must be a dict, got {type(results).__name__}")
    return {int(k): v for k, v in results.items()}


def build_row(student: str, day: int, results: dict | str, status: str, errors: list[str],
              points: dict[int, float], extra: dict | None = None) -> dict[str, Any]:
    """The CSV row of one submission.

    Parameters
    ----------
    student : str
        The student id.
    day : int
        The homework day.
    results : dict or str
        The checks' results per practice, or a str saying why the checks did not run.
    status : str
        How the run ended (``'ok'``, a limit, a crash...), before the checks.
    errors : list of str
        Errors raised by the notebook's cells (``"cell 5: ValueError: ..."``).
    points : dict
        ``{practice number: points possible}`` with the hidden checks.
    extra : dict, optional
        More columns (``seconds``, ``peak_mb``), copied as they are.

    Returns
    -------
    dict
        ``student``, ``p1`` ... ``p5``, ``total``, ``max``, ``status``, ``reasons`` and the ``extra`` columns.
    """
    row: dict[str, Any] = {"student": student}
    reasons: list[str] = []
    if isinstance(results, str):
        status = f"{status}; {results}" if status != "ok" else results
        results = {}
    results = normalise_results(results)
    total = 0.0
    for p in PRACTICES[day]:
        res = results.get(p.number, {"results": [], "unexported": "checks did not run"})
        earned = sum(r["earned"] for r in res["results"])
        total += earned
        row[f"p{p.number}"] = f"{earned:g}"
        if res["unexported"]:
            reasons.append(f"p{p.number}: {res['unexported']}")
        else:
            reasons += [f"p{p.number} {r['name']}: {r['message']}" for r in res["results"] if not r["passed"]]
    row.update(total=f"{total:g}", max=f"{sum(points.values()):g}", status=status)
    reasons += list(errors)
    row["reasons"] = " | ".join(reasons)[:20000]
    if extra:
        row.update(extra)
    return row
