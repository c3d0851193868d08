"""The checks of one submission in a process of their own (``grading/checks_process.py``).

A hidden-checks file is the instructor's code, but a check may still hang or kill its process
on a strange export: the grader must get a reason back, never hang or die with it.
"""
from __future__ import annotations

from workshop_utils.grading.checks_process import check_export, load_all_hidden, run_checks_isolated

HIDDEN = """
import os, time
from workshop_utils.grading.core import Check

def ok(v, ref):
    return True, "fine"

def {name}(v, ref):
    {body}

HIDDEN_CHECKS = {{(1, 1): [Check("fine", 1, ok), Check("{name}", 1, {name})]}}
"""


def _hidden(tmp_path, name: str, body: str):
    path = tmp_path / f"hidden_{name}.py"
    path.write_text(HIDDEN.format(name=name, body=body))
    return path


def test_every_practice_gets_results_and_an_unexported_one_says_so(tmp_path):
    hidden = _hidden(tmp_path, "also_fine", "return False, 'nope'")
    direct = check_export(1, load_all_hidden([hidden]), tmp_path / "no_export", {})
    isolated = run_checks_isolated(1, [hidden], tmp_path / "no_export", {}, timeout=300)
    assert isolated == direct and sorted(direct) == [1, 2, 3, 4, 5]
    p1 = {r["name"]: r for r in direct[1]["results"]}
    assert p1["fine"]["earned"] == 1 and not p1["also_fine"]["passed"]
    assert all(pr["unexported"] for pr in direct.values())  # nothing was exported: every practice says why


def test_a_hanging_or_dying_check_gives_a_reason_not_a_hang(tmp_path):
    hang = _hidden(tmp_path, "hangs", "time.sleep(600)")
    assert run_checks_isolated(1, [hang], tmp_path, {}, timeout=20) == "checks ran out of time (20 s)"
    dies = _hidden(tmp_path, "dies", "os._exit(3)")
    # the exit code is read as the pipe closes; the fork server may not have reported it yet
    assert run_checks_isolated(1, [dies], tmp_path, {}, timeout=300) in ("checks crashed (exit code 3)",
                                                                          "checks crashed (exit code None)")
