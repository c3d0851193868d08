"""Tests of the homework grading: checks, export, self-check, and the grader end to end.

The end-to-end tests run the real grader (fresh sandboxed kernels, quick mode) three times,
once per module-scoped fixture: the Day-1 reference, partial solution and untouched template;
the Day-2 reference and template; and the hostile Day-1 submissions of
``tests/homework_solutions/hostile`` (each hostile behaviour has its own test below).
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from workshop_utils.grading import check, get_practice, reference
from workshop_utils.grading.core import Check, Missing, Requirement, run_checks
from workshop_utils.grading.export import collect, export_practice, load_practice
from workshop_utils.grading.grader import (CsvLog, _restore, _snapshot, build_run_notebook, grade_folder, main,
                                          self_check_days)
from workshop_utils.grading.hidden import load_hidden
from workshop_utils.grading.practices import PRACTICES, SCHEDULE_EPOCHS
from workshop_utils.grading.sandbox import kernel_argv, sandbox_available

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SOLUTIONS = HERE / "homework_solutions"
HIDDEN = HERE / "homework_hidden" / "hidden_checks.py"


def _read(path: Path) -> dict[str, dict]:
    with open(path, newline="") as fh:
        return {r["student"]: r for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def data_env(tmp_path_factory):
    """One data folder for the grader runs of this module (the kernels get copies)."""
    old = os.environ.get("WORKSHOP_DATA")
    os.environ["WORKSHOP_DATA"] = str(tmp_path_factory.mktemp("grading_data"))
    yield
    if old is None:
        os.environ.pop("WORKSHOP_DATA", None)
    else:
        os.environ["WORKSHOP_DATA"] = old


def _grade(tmp: Path, notebooks: dict[str, Path], day: int, **kw) -> dict[str, dict]:
    subs = tmp / "subs"
    subs.mkdir()
    for name, src in notebooks.items():
        shutil.copy(src, subs / f"{name}.ipynb")
    out = tmp / "out" / "grades.csv"
    grade_folder(subs, day, out, hidden=[HIDDEN], verbose=False, **kw)
    return _read(out)


@pytest.fixture(scope="module")
def day1_rows(data_env, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("day1")
    return _grade(tmp, {"reference": SOLUTIONS / "day1_reference.ipynb", "partial": SOLUTIONS / "day1_partial.ipynb",
                        "template": REPO / "homework" / "day1_homework.ipynb"}, 1, timeout=400, memory_mb=6000)


@pytest.fixture(scope="module")
def day2_rows(data_env, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("day2")
    return _grade(tmp, {"reference": SOLUTIONS / "day2_reference.ipynb", "partial": SOLUTIONS / "day2_partial.ipynb",
                        "template": REPO / "homework" / "day2_homework.ipynb"}, 2, timeout=400, memory_mb=6000)


GARBAGE = "hostile_garbage.ipynb"
GARBAGE_TEXT = "this is not a notebook {"


@pytest.fixture(scope="module")
def hostile(data_env, tmp_path_factory):
    """Grade the hostile submissions with the command-line entry point; returns rows and paths."""
    tmp = tmp_path_factory.mktemp("hostile")
    subs, out, instructor, hb = tmp / "subs", tmp / "out" / "grades.csv", tmp / "instructor", tmp / "hb"
    shutil.copytree(SOLUTIONS / "hostile", subs)
    # a submission that is not a notebook at all (made here: the repository keeps only valid notebooks)
    (subs / GARBAGE).write_text(GARBAGE_TEXT)
    instructor.mkdir()
    hb.mkdir()
    hidden = instructor / "hidden_checks.py"
    shutil.copy(HIDDEN, hidden)
    core_file = REPO / "workshop_utils" / "grading" / "core.py"
    before = {"core": core_file.read_bytes(), "hidden": hidden.read_bytes()}
    targets = {"csv": str(out), "hidden": str(hidden), "subs": str(subs), "heartbeat": str(hb / "heartbeat")}
    os.environ["GRADING_TEST_TARGETS"] = json.dumps(targets)
    try:
        t0 = time.monotonic()
        rc = main([str(subs), "--day", "1", "--out", str(out), "--hidden", str(hidden), "--timeout", "30",
                   "--memory-mb", "2500", "--export-timeout", "30", "--quiet"])
        seconds = time.monotonic() - t0
    finally:
        os.environ.pop("GRADING_TEST_TARGETS", None)
    return {"rc": rc, "rows": _read(out), "out": out, "subs": subs, "hidden": hidden, "before": before,
            "core_file": core_file, "heartbeat": hb / "heartbeat", "seconds": seconds}


# ------------------------------------------------------------------------------ the practices
def test_each_practice_is_worth_10_points_with_the_hidden_checks():
    hidden = load_hidden(HIDDEN)
    for day, practices in PRACTICES.items():
        assert [p.number for p in practices] == [1, 2, 3, 4, 5]
        for p in practices:
            total = sum(c.points for c in p.checks) + sum(c.points for c in hidden[(day, p.number)])
            assert total == 10, (day, p.number, total)
            assert all(c.hidden for c in hidden[(day, p.number)])
            assert not any(c.hidden for c in p.checks)


def test_the_schedule_check_follows_fits_longer_than_ten_epochs():
    """A full-mode fit with early stopping can run 11+ epochs; the schedule check must still compare them."""
    (check,) = [c for c in load_hidden(HIDDEN)[(1, 3)] if c.name == "the schedule drove the learning rate"]
    schedule = [1e-3 * 0.8 ** e for e in range(SCHEDULE_EPOCHS)]
    for epochs in (3, 11, 30):
        ok, msg = check.fn({"history_p3": {"learning_rate": schedule[:epochs]}, "lr_schedule": schedule}, {})
        assert ok, msg
    ok, _ = check.fn({"history_p3": {"learning_rate": [1e-3] * 11}, "lr_schedule": schedule}, {})
    assert not ok  # a constant learning rate did not follow the schedule


def test_hidden_checks_are_not_in_the_package():
    pkg = REPO / "workshop_utils"
    text = "".join(p.read_text() for p in pkg.rglob("*.py"))
    for name in ("d1p1_learned", "d1p5_beats", "d2p1_recovers", "d2p5_agree"):  # functions of the hidden file
        assert f"def {name}" in HIDDEN.read_text() and name not in text


def test_load_hidden_rejects_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="hidden"):
        load_hidden(tmp_path / "nope.py")
    bad = tmp_path / "bad.py"
    bad.write_text("HIDDEN_CHECKS = [1, 2]\n")
    with pytest.raises(ValueError, match="HIDDEN_CHECKS"):
        load_hidden(bad)


def test_run_checks_missing_values_and_crashing_checks_fail_without_raising():
    def boom(v, ref):
        raise ZeroDivisionError("x")

    checks = [Check("needs a", 2, lambda v, r: (True, "ok"), needs=("a",)), Check("boom", 1, boom),
              Check("fine", 3, lambda v, r: (v["b"] == 1, "b is 1"), needs=("b",))]
    res = run_checks(checks, {"a": Missing("no variable named a"), "b": 1}, {})
    assert [r.passed for r in res] == [False, False, True]
    assert "no variable named a" in res[0].message and "ZeroDivisionError" in res[1].message
    assert sum(r.earned for r in res) == 3


def test_requirement_validates_its_kind():
    with pytest.raises(ValueError, match="kind"):
        Requirement("x", "pickle", "anything")


# ------------------------------------------------------------------------------------ export
def _good_p1(ref):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import average_precision_score, confusion_matrix, roc_auc_score

    s = np.random.default_rng(0).random(len(ref["y_test"]))
    fig, axes = plt.subplots(1, 2)
    for ax, lab in zip(axes, ("false positive rate", "recall")):
        ax.plot([0, 1], [0, 1])
        ax.set_xlabel(lab)
    return {"test_scores": s, "auroc": roc_auc_score(ref["y_test"], s),
            "aupr": average_precision_score(ref["y_test"], s),
            "confusion": confusion_matrix(ref["y_test"], s >= 0.5), "fig_eval": fig,
            "answer_p1": "The auroc of random scores is about one half and the precision is the base rate. " * 2}


def test_self_check_passes_consistent_values_and_explains_missing_ones(capsys):
    ref = reference()
    ns = _good_p1(ref)
    report = check(day=1, practice=1, namespace=ns)
    assert report["points"] == report["possible"] == 8
    assert "8/8" in repr(report)
    ns["auroc"] = 0.99
    del ns["answer_p1"]
    report = check(day=1, practice=1, namespace=ns)
    assert report["points"] == 5 and "answer_p1" in report["missing"]
    out = capsys.readouterr().out
    assert "FAIL" in out and "hint:" in out and "answer_p1" in out


def test_self_check_validates_arguments():
    with pytest.raises(ValueError, match="day"):
        check(day=3, practice=1, namespace={})
    with pytest.raises(ValueError, match="practice"):
        check(day=1, practice=6, namespace={})
    with pytest.raises(TypeError, match="namespace"):
        check(day=1, practice=1, namespace=[1])


def test_export_round_trip_and_untrusted_exports(tmp_path):
    ref = reference()
    ns = _good_p1(ref)
    export_practice(1, 1, ns, tmp_path)
    p = get_practice(1, 1)
    values = load_practice(p, tmp_path)
    assert np.allclose(values["test_scores"], ns["test_scores"])
    assert values["fig_eval"]["png_bytes"] > 2000 and len(values["fig_eval"]["axes"]) == 2
    assert sum(r.earned for r in run_checks(p.checks, values, ref)) == 8
    # a pickled object array is refused (loading it could run code)
    np.save(tmp_path / p.key / "test_scores.npy", np.array([object()], dtype=object), allow_pickle=True)
    assert isinstance(load_practice(p, tmp_path)["test_scores"], Missing)
    (tmp_path / p.key / "test_scores.npy").unlink()
    os.symlink("/dev/zero", tmp_path / p.key / "test_scores.npy")  # a link to an endless file is refused
    assert isinstance(load_practice(p, tmp_path)["test_scores"], Missing)
    (tmp_path / p.key / "values.json").write_text("not json")
    assert all(isinstance(v, Missing) for v in load_practice(p, tmp_path).values())
    assert all(isinstance(v, Missing) for v in load_practice(p, tmp_path / "never").values())


def test_collect_kinds():
    p3 = get_practice(1, 3)
    vals = collect(p3, {"lr_schedule": lambda e: 0.1 / (1 + e), "history_p3": {"loss": np.array([1.0, 0.5])},
                        "best_epoch": np.int64(1), "callbacks_p3": "not callbacks", "restored_val_loss": "0.3"})
    assert np.allclose(vals["lr_schedule"], [0.1 / (1 + e) for e in range(100)])  # longer than any fit
    assert vals["history_p3"] == {"loss": [1.0, 0.5]} and vals["best_epoch"] == 1
    assert isinstance(vals["restored_val_loss"], Missing)  # a string is not a number
    assert vals["callbacks_p3"][0]["class"] == "str"


def test_build_run_notebook_inserts_exports_after_self_checks(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# hi"), nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_code_cell("check(day=1, practice=2)"), nbformat.v4.new_code_cell("check(day=2, practice=1)")]
    run_nb, roles = build_run_notebook(nb, 1, tmp_path)
    assert roles == ["student", "student", "export", "student", "export"]
    assert "export_practice(1, _wu_p" in run_nb.cells[2].source and "(2,)" in run_nb.cells[2].source
    assert "(1, 2, 3, 4, 5)" in run_nb.cells[-1].source
    assert self_check_days(nb) == {1, 2}


# ------------------------------------------------------------------------------- the CSV file
def test_csv_log_appends_repairs_and_resumes(tmp_path):
    out = tmp_path / "g.csv"
    cols = ["student", "p1", "total", "max", "status", "reasons"]
    log = CsvLog(out, cols, resume=False)
    log.append({"student": "a", "p1": "10", "total": "10", "max": "10", "status": "ok", "reasons": ""})
    out.write_text("garbage\n")  # a submission (or anything) corrupts the file
    assert log.repair() and _read(out)["a"]["total"] == "10"
    with pytest.raises(SystemExit, match="resume"):
        CsvLog(out, cols, resume=False)
    with open(out, "a") as fh:
        fh.write("b,1")  # an interrupted write leaves a partial row
    log2 = CsvLog(out, cols, resume=True)
    assert log2.done == {"a"} and set(_read(out)) == {"a"}


def test_snapshot_restores_changed_package_files(tmp_path):
    f = tmp_path / "checks.py"
    f.write_text("ok = True\n")
    snap = _snapshot(tmp_path)
    f.write_text("ok = False\n")
    assert _restore(snap) == ["checks.py"] and f.read_text() == "ok = True\n"


def test_kernel_argv_and_grade_folder_validate_inputs(tmp_path):
    with pytest.raises(ValueError, match="memory_mb"):
        kernel_argv(10)
    argv = kernel_argv(1000, isolate=False)
    assert "ulimit -v 1024000" in argv[2] and argv[-1] == "{connection_file}"
    with pytest.raises(ValueError, match="day"):
        grade_folder(tmp_path, 3, tmp_path / "g.csv")
    with pytest.raises(ValueError, match="timeout"):
        grade_folder(tmp_path, 1, tmp_path / "g.csv", timeout=0)
    with pytest.raises(FileNotFoundError, match="submissions"):
        grade_folder(tmp_path / "none", 1, tmp_path / "g.csv")


# --------------------------------------------------------------------- end to end: solutions
def test_day1_reference_scores_100_percent(day1_rows):
    row = day1_rows["reference"]
    assert row["status"] == "ok", row["reasons"]
    assert [row[f"p{i}"] for i in range(1, 6)] == ["10"] * 5, row["reasons"]
    assert row["total"] == row["max"] == "50"


def test_day1_template_scores_0_without_errors(day1_rows):
    row = day1_rows["template"]
    assert row["status"] == "ok" and row["total"] == "0"
    assert "cell " not in row["reasons"]  # no cell raised
    assert "answer_p1" in row["reasons"]


def test_day1_partial_solution_gets_partial_credit(day1_rows):
    row = day1_rows["partial"]
    assert row["p1"] == row["p2"] == "10" and row["p4"] == row["p5"] == "0"
    assert 0 < float(row["p3"]) < 10 and "learning-rate schedule" in row["reasons"]
    assert 20 < float(row["total"]) < 50


def test_day2_reference_scores_100_percent_and_template_0(day2_rows):
    ref, tpl = day2_rows["reference"], day2_rows["template"]
    assert ref["status"] == "ok" and ref["total"] == ref["max"] == "50", ref["reasons"]
    assert tpl["status"] == "ok" and tpl["total"] == "0" and "cell " not in tpl["reasons"]


def test_day2_partial_solution_gets_partial_credit(day2_rows):
    row = day2_rows["partial"]
    assert row["p1"] == row["p3"] == "10" and row["p2"] == row["p4"] == "0", row["reasons"]
    assert 0 < float(row["p5"]) < 10 and "rank_corr_p5" in row["reasons"]


# ----------------------------------------------------------------------- end to end: hostile
def test_every_hostile_submission_gets_one_row(hostile):
    assert hostile["rc"] == 0
    names = {p.stem for p in (SOLUTIONS / "hostile").glob("*.ipynb")} | {Path(GARBAGE).stem}
    assert set(hostile["rows"]) == names


def test_a_file_that_is_not_a_notebook_scores_0(hostile):
    row = hostile["rows"]["hostile_garbage"]
    assert row["status"].startswith("not a readable notebook") and row["total"] == "0"


def test_infinite_loop_is_stopped_by_the_time_limit(hostile):
    row = hostile["rows"]["hostile_loop"]
    assert "time limit" in row["status"] and row["p1"] == "8" and row["p2"] == "0"


def test_os_exit_kills_the_kernel_but_keeps_earlier_points(hostile):
    row = hostile["rows"]["hostile_exit"]
    assert "kernel died" in row["status"] and row["p1"] == "8"
    assert "p2: not exported" in row["reasons"]


def test_sys_exit_and_raise_at_the_top_do_not_stop_the_notebook(hostile):
    for name, err in (("hostile_sysexit", "SystemExit"), ("hostile_raise", "RuntimeError: boom")):
        row = hostile["rows"][name]
        assert row["p1"] == "8" and f"cell 1: {err}" in row["reasons"], row


def test_memory_hog_hits_the_memory_limit(hostile):
    row = hostile["rows"]["hostile_memory"]
    assert row["p1"] == "8" and "MemoryError" in row["reasons"]


def test_megabytes_of_output_are_dropped(hostile):
    row = hostile["rows"]["hostile_spam"]
    assert row["p1"] == "8" and row["status"] == "ok" and len(row["reasons"]) < 20000


def test_tampering_changes_no_file_outside_the_submission(hostile):
    rows = hostile["rows"]
    assert hostile["core_file"].read_bytes() == hostile["before"]["core"]
    assert hostile["hidden"].read_bytes() == hostile["before"]["hidden"]
    assert len(list(hostile["subs"].glob("*.ipynb"))) == len(rows)
    assert "# tampered" not in hostile["out"].read_text()
    assert rows["hostile_tamper"]["p1"] == "8" and rows["zz_after_tamper"]["p1"] == "8"


@pytest.mark.skipif(not sandbox_available(), reason="needs user/mount/pid namespaces (unshare)")
def test_hidden_checks_cannot_be_read_by_a_submission(hostile):
    row = hostile["rows"]["hostile_peek"]
    assert row["p1"] == "7" and "answer_p1 has 0 words" in row["reasons"]


def test_started_processes_die_with_the_kernel(hostile):
    hb = hostile["heartbeat"]
    assert hb.exists(), "the hostile notebook's daemon never ran, so this test would prove nothing"
    size = hb.stat().st_size
    time.sleep(1.0)
    assert hb.stat().st_size == size


def test_resume_skips_graded_students(hostile):
    before = hostile["out"].read_bytes()
    assert main([str(hostile["subs"]), "--day", "1", "--out", str(hostile["out"]), "--resume", "--quiet"]) == 0
    assert hostile["out"].read_bytes() == before


def test_without_namespaces_the_grader_repairs_files_and_kills_detached_processes(data_env, tmp_path):
    """Fallback mode (--sandbox off): tampering is undone after the submission, daemons are killed by token."""
    subs, out, hb = tmp_path / "subs", tmp_path / "out" / "grades.csv", tmp_path / "hb"
    subs.mkdir()
    hb.mkdir()
    for name in ("hostile_procs", "hostile_tamper", "zz_after_tamper"):
        shutil.copy(SOLUTIONS / "hostile" / f"{name}.ipynb", subs)
    hidden = tmp_path / "hidden_checks.py"
    shutil.copy(HIDDEN, hidden)
    core_file = REPO / "workshop_utils" / "grading" / "core.py"
    before = core_file.read_bytes()
    os.environ["GRADING_TEST_TARGETS"] = json.dumps(
        {"csv": str(out), "hidden": str(hidden), "subs": str(subs), "heartbeat": str(hb / "heartbeat")})
    try:
        grade_folder(subs, 1, out, hidden=[hidden], timeout=30, memory_mb=2500, sandbox="off", verbose=False)
    finally:
        os.environ.pop("GRADING_TEST_TARGETS", None)
    rows = _read(out)
    assert core_file.read_bytes() == before
    assert "repaired files it changed" in rows["hostile_tamper"]["status"]
    assert "core.py" in rows["hostile_tamper"]["status"] and "grades.csv" in rows["hostile_tamper"]["status"]
    assert rows["zz_after_tamper"]["p1"] == "8" and "# tampered" not in out.read_text()
    beat = hb / "heartbeat"
    assert beat.exists()
    size = beat.stat().st_size
    time.sleep(1.0)
    assert beat.stat().st_size == size
