"""The students' self-check (``grading/selfcheck.py``): consistent values pass, private checks are announced."""
from __future__ import annotations

import pytest

from _homework_kit import p1_namespace
from workshop_utils.grading import check, get_practice
from workshop_utils.grading.probe import PROBE_ENV


def test_self_check_passes_consistent_values_and_explains_missing_ones(kit, capsys):
    from workshop_utils import backend

    data, model = kit["data"], kit["PWMScanner"]()
    ns = p1_namespace(data, model, backend.predict_proba(model, data.x_test))
    report = check(day=1, practice=1, namespace=ns)
    assert report["points"] == report["possible"] == 5 and report["private"] == 3
    assert "5/5" in repr(report)
    ns["auroc"] = 0.99
    del ns["answer_p1"]
    report = check(day=1, practice=1, namespace=ns)
    assert report["points"] == 3 and "answer_p1" in report["missing"]
    out = capsys.readouterr().out
    assert "FAIL" in out and "hint:" in out and "answer_p1" in out


def test_self_check_lists_private_checks_without_failing_or_counting_them(kit, capsys, monkeypatch):
    """In Colab there is no probe: private checks are announced as the instructor's, not failed."""
    from workshop_utils import backend

    monkeypatch.setenv(PROBE_ENV, str(kit["folder"]))  # even where a probe is readable, the self-check skips it
    data, model = kit["data"], kit["PWMScanner"]()
    ns = p1_namespace(data, model, backend.predict_proba(model, data.x_test))
    ns.update(my_model=model, baseline_model=kit["Constant"](), my_val_auroc=0.0, baseline_val_auroc=0.5,
              answer_p5="I changed the filters of the convolution layer and the pooling so the model sees motifs. " * 2)
    report = check(day=1, practice=5, namespace=ns)
    out = capsys.readouterr().out
    private = [r for r in report["results"] if r.private]
    assert private and all(r.skipped and r.earned == 0 for r in private)
    assert report["possible"] == sum(c.points for c in get_practice(1, 5).checks if not c.private)
    assert report["private"] == sum(c.points for c in get_practice(1, 5).checks if c.private)
    assert out.count("[PRIVATE]") == len(private) and "checked by the instructor's grader on private data" in out
    assert "[FAIL] my_model beats" not in out and "private data worth" in out


def test_self_check_validates_arguments():
    with pytest.raises(ValueError, match="day"):
        check(day=3, practice=1, namespace={})
    with pytest.raises(ValueError, match="practice"):
        check(day=1, practice=6, namespace={})
    with pytest.raises(TypeError, match="namespace"):
        check(day=1, practice=1, namespace=[1])
