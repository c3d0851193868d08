"""The Day-2 checks (``grading/day2.py``): a memorising model's ISM finds nothing; the grader end to end.

The end-to-end tests run the real grader (fresh sandboxed kernels, quick mode) once, in a
module-scoped fixture, on the Day-2 reference, partial solution and untouched template.
"""
from __future__ import annotations

import numpy as np
import pytest

from _homework_kit import REPO, SOLUTIONS, grade, grade_in_process


@pytest.fixture(scope="module")
def day2_rows(data_env, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("day2")
    return grade(tmp, {"reference": SOLUTIONS / "day2_reference.ipynb", "partial": SOLUTIONS / "day2_partial.ipynb",
                       "template": REPO / "homework" / "day2_homework.ipynb"}, 2, timeout=600, memory_mb=6000)


def test_ism_of_a_memorising_model_finds_no_planted_site(kit, monkeypatch):
    """Day 2: the explained model's ISM is computed on the probe; a lookup table has nothing to show."""
    from workshop_utils import attribution
    from workshop_utils.grading.practices import selected

    data, ref = kit["data"], kit["ref"]
    for model, expect in ((kit["PWMScanner"](), True), (kit["memoriser"], False)):
        ism_pos = attribution.ism(model, data.x_test[selected(ref, 1)], progress=False)
        importance = np.abs(ism_pos).max(-1)
        from workshop_utils.grading.practices import recovery

        ns = {"model": model, "ism_pos": ism_pos, "importance_pos": importance,
              "site_recovery": recovery(importance, ref["site_start_test"][selected(ref, 1)])}
        got = grade_in_process(kit, 2, 1, ns, monkeypatch)
        (sites,) = [r for r in got["results"] if r.name == "ISM finds the planted sites on private data"]
        assert sites.passed == expect, sites.message


# --------------------------------------------------------------------- end to end: solutions
def test_day2_reference_scores_100_percent_and_template_0(day2_rows):
    ref, tpl = day2_rows["reference"], day2_rows["template"]
    assert ref["status"] == "ok" and ref["total"] == ref["max"] == "50", ref["reasons"]
    assert tpl["status"] == "ok" and tpl["total"] == "0" and "cell " not in tpl["reasons"], tpl["reasons"]


def test_day2_partial_solution_gets_partial_credit(day2_rows):
    row = day2_rows["partial"]
    assert row["p1"] == row["p3"] == "10" and row["p2"] == row["p4"] == "0", row["reasons"]
    assert 0 < float(row["p5"]) < 10 and "rank_corr_p5" in row["reasons"]
