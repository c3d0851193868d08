"""Requirements and checks (``grading/core.py``): run_checks never raises, private checks need a probe."""
from __future__ import annotations

import numpy as np
import pytest

from workshop_utils.grading.core import Check, Missing, Requirement, run_checks
from workshop_utils.grading.probe import Probe, add_to_reference


def test_run_checks_missing_values_and_crashing_checks_fail_without_raising():
    def boom(v, ref):
        raise ZeroDivisionError("x")

    checks = [Check("needs a", 2, lambda v, r: (True, "ok"), needs=("a",)), Check("boom", 1, boom),
              Check("fine", 3, lambda v, r: (v["b"] == 1, "b is 1"), needs=("b",))]
    res = run_checks(checks, {"a": Missing("no variable named a"), "b": 1}, {})
    assert [r.passed for r in res] == [False, False, True]
    assert "no variable named a" in res[0].message and "ZeroDivisionError" in res[1].message
    assert sum(r.earned for r in res) == 3


def test_run_checks_runs_private_checks_only_with_a_probe():
    calls = []

    def fn(v, ref):
        calls.append(ref["probe"]["n"])
        return True, "ok"

    checks = [Check("public", 1, lambda v, r: (True, "ok")), Check("private", 4, fn, private=True)]
    res = run_checks(checks, {}, {"y_test": np.zeros(2)})
    assert [r.skipped for r in res] == [False, True] and not calls
    assert res[1].earned == 0 and not res[1].passed and "instructor's grader on private data" in res[1].message
    probe = Probe(np.eye(4, dtype=np.float32)[np.zeros((2, 5), int)], np.array([0, 1]), np.array([-1, 0]))
    res = run_checks(checks, {}, add_to_reference({}, probe))
    assert [r.earned for r in res] == [1, 4] and calls == [2] and res[1].private and not res[1].skipped


def test_requirement_validates_its_kind_split_and_attribution():
    with pytest.raises(ValueError, match="kind"):
        Requirement("x", "pickle", "anything")
    with pytest.raises(ValueError, match="split"):
        Requirement("m", "model", "a model", split="train")
    with pytest.raises(ValueError, match="attribution"):
        Requirement("m", "model", "a model", attribution=("shap",))
    with pytest.raises(ValueError, match="attribution"):
        Requirement("a", "array", "an array", attribution=("ism",))


def test_measure_records_only_inside_a_check_and_not_in_export_is_flagged():
    from workshop_utils.grading.core import Check, NotInExport, measure, run_checks

    measure("auroc", 0.5, model="m")  # outside run_checks: nothing happens, nothing raises

    def needs_more(v, ref):
        measure("auroc", 0.71, model="m", n=10)
        raise NotInExport("m has no IG on the grader's probe")

    (r,) = run_checks([Check("c", 1, needs_more)], {}, {})
    assert r.not_in_export and not r.passed and r.message.startswith("not in the export")
    assert r.measured == [{"kind": "auroc", "value": 0.71, "model": "m", "n": 10}]
    (r2,) = run_checks([Check("d", 1, lambda v, ref: (True, "ok"))], {}, {})
    assert r2.measured == [] and not r2.not_in_export
