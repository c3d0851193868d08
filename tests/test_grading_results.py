"""From check results to a CSV row (``grading/results.py``): the one builder of the grader and the regrade."""
from __future__ import annotations

import json

import pytest

from workshop_utils.grading.practices import PRACTICES
from workshop_utils.grading.results import build_row, normalise_results

POINTS = {p.number: 10.0 for p in PRACTICES[1]}


def _res(name: str, earned: float, points: float, message: str = "ok") -> dict:
    return {"name": name, "earned": earned, "points": points, "passed": earned == points, "message": message}


def test_totals_reasons_and_the_maximum():
    results = {1: {"results": [_res("a", 2, 2), _res("b", 0, 3, "b is missing")], "unexported": None},
               2: {"results": [], "unexported": "the kernel died"}}
    row = build_row("s1", 1, results, "ok", ["cell 4: ValueError: x"], POINTS, extra={"seconds": "3.5"})
    assert row["p1"] == "2" and row["p2"] == "0" and row["p5"] == "0"
    assert row["total"] == "2" and row["max"] == f"{10.0 * len(PRACTICES[1]):g}"
    assert row["reasons"].split(" | ")[:3] == ["p1 b: b is missing", "p2: the kernel died", "p3: checks did not run"]
    assert row["reasons"].endswith("cell 4: ValueError: x") and row["seconds"] == "3.5"


def test_a_json_round_trip_gives_the_same_row():
    results = {1: {"results": [_res("a", 1.5, 2)], "unexported": None}}
    again = json.loads(json.dumps(results))  # practice numbers become str
    assert build_row("s", 1, again, "ok", [], POINTS) == build_row("s", 1, results, "ok", [], POINTS)


def test_checks_that_did_not_run_say_why_in_the_status():
    row = build_row("s", 1, "checks crashed", "time limit", [], POINTS)
    assert row["status"] == "time limit; checks crashed" and row["total"] == "0"
    assert build_row("s", 1, "checks crashed", "ok", [], POINTS)["status"] == "checks crashed"


def test_reasons_are_capped():
    results = {1: {"results": [_res(f"c{i}", 0, 1, "x" * 500) for i in range(100)], "unexported": None}}
    assert len(build_row("s", 1, results, "ok", [], POINTS)["reasons"]) == 20000


def test_normalise_results_refuses_what_is_not_a_dict():
    assert normalise_results({"3": {}}) == {3: {}}
    with pytest.raises(TypeError, match="normalise_results: results must be a dict, got list"):
        normalise_results([1, 2])
