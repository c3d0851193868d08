"""The Day-1 checks (``grading/day1.py``): forged submissions earn nothing for learning; the grader end to end.

The end-to-end tests run the real grader (fresh sandboxed kernels, quick mode) once, in a
module-scoped fixture, on the Day-1 reference, partial solution and untouched template, and once
more with the reference beside a hostile neighbour.  Forged submissions are tested in process
(``tests/_homework_kit.py``).
"""
from __future__ import annotations

import numpy as np
import pytest

from _homework_kit import REPO, SOLUTIONS, grade, grade_in_process, p1_namespace
from workshop_utils.grading.practices import limit


@pytest.fixture(scope="module")
def day1_rows(data_env, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("day1")
    return grade(tmp, {"reference": SOLUTIONS / "day1_reference.ipynb", "partial": SOLUTIONS / "day1_partial.ipynb",
                       "template": REPO / "homework" / "day1_homework.ipynb"}, 1, timeout=600, memory_mb=6000)


#: A neighbour graded beside the reference (--jobs 2): an exclusive flock on every course data file it can
#: see (h5py's read lock then fails: "unable to lock file"), and three processes spinning for 200 s.
HOG = ("import fcntl, os, subprocess, sys, time\nheld = []\n"
       "for d, _, files in os.walk(os.environ['WORKSHOP_DATA']):\n    for f in files:\n"
       "        fh = open(os.path.join(d, f), 'rb')\n        fcntl.flock(fh, fcntl.LOCK_EX)\n        held.append(fh)\n"
       "print('locked', len(held))\n"
       "spin = [subprocess.Popen([sys.executable, '-c', 'while True: pass']) for _ in range(3)]\n"
       "time.sleep(200)\n")
#: How much slower the reference may be beside the neighbour than alone with --jobs 1 (it then has all
#: the cores; beside a neighbour each job is capped to cores / 2, so about 2x is the fair cost).
NEIGHBOUR_FACTOR = 3.0


@pytest.fixture(scope="module")
def day1_neighbour_rows(day1_rows, tmp_path_factory):
    import nbformat

    tmp = tmp_path_factory.mktemp("day1_neighbour")
    hog = nbformat.v4.new_notebook()
    hog.cells = [nbformat.v4.new_code_cell(HOG)]
    nbformat.write(hog, tmp / "hog.ipynb")
    return grade(tmp, {"a_hog": tmp / "hog.ipynb", "reference": SOLUTIONS / "day1_reference.ipynb"}, 1,
                 timeout=600, memory_mb=6000, jobs=2)


# --------------------------------------------------------------------------- forged submissions
def test_an_honest_model_earns_the_private_points(kit, monkeypatch):
    """A PWM scanner is real modelling: scored on the probe, it earns what a trained CNN earns."""
    from workshop_utils import backend

    data, model = kit["data"], kit["PWMScanner"]()
    got = grade_in_process(kit, 1, 1, p1_namespace(data, model, backend.predict_proba(model, data.x_test)),
                            monkeypatch)
    assert got["total"] == 10, got["failed"]


def test_a_memorising_model_earns_nothing_for_learning(kit, monkeypatch):
    """A lookup of the train/valid/test labels is perfect on every split the student has, and blind on the probe."""
    from sklearn.metrics import roc_auc_score

    from workshop_utils import backend

    data, memo = kit["data"], kit["memoriser"]
    scores = backend.predict_proba(memo, data.x_test)
    assert roc_auc_score(data.y_test, scores) == 1.0
    got = grade_in_process(kit, 1, 1, p1_namespace(data, memo, scores), monkeypatch)
    assert got["private"] == 0 and got["total"] <= 5, got
    ns = {"my_model": memo, "baseline_model": kit["PWMScanner"](), "my_val_auroc": 1.0,
          "baseline_val_auroc": roc_auc_score(data.y_valid, backend.predict_proba(kit["PWMScanner"](), data.x_valid)),
          "answer_p5": "My model has more parameters and a dense layer that remembers every sequence it saw. " * 2}
    got = grade_in_process(kit, 1, 5, ns, monkeypatch)
    assert got["private"] == 0 and "my_model beats the baseline on private data" in got["failed"], got
    assert got["total"] <= 4


def test_pasted_labels_earn_nothing_for_learning(kit, monkeypatch):
    data = kit["data"]
    got = grade_in_process(kit, 1, 1, p1_namespace(data, kit["PWMScanner"](), data.y_test), monkeypatch)
    assert got["private"] == 0 and got["total"] <= 4, got


def test_a_patched_predict_proba_earns_nothing_for_learning(kit, monkeypatch):
    """The kernel is the student's: predict_proba can be made to return the labels of every split they hold."""
    import workshop_utils.backend as backend

    data, honest = kit["data"], kit["PWMScanner"]()
    memo, real = kit["memoriser"], backend.predict_proba

    def forged(model, X, batch_size=1024):
        s = real(memo, X)
        return np.where(s != 0.5, s, real(model, X))  # the labels where known, the model elsewhere

    monkeypatch.setattr(backend, "predict_proba", forged)
    got = grade_in_process(kit, 1, 1, p1_namespace(data, honest, data.y_test), monkeypatch)
    assert "test_scores are torch_model's test-set probabilities" not in got["failed"]  # the forgery fooled that
    assert got["private"] == 0, got
    ns = {"my_model": kit["PWMScanner"](scale=0.6), "baseline_model": honest, "my_val_auroc": 1.0,
          "baseline_val_auroc": 1.0,
          "answer_p5": "My model has a wider filter and more pooling so it sees the whole motif and its flanks. " * 2}
    got = grade_in_process(kit, 1, 5, ns, monkeypatch)
    assert "my_val_auroc matches my_model" not in got["failed"] and got["private"] == 0, got


def test_a_patched_export_earns_nothing_for_learning(kit, monkeypatch):
    """Even the export can be replaced: without the probe's labels, its scores are guesses."""
    import workshop_utils.grading.export as export

    data, honest = kit["data"], kit["PWMScanner"]()
    real = export._model

    def forged(model, split, data=None, attribution=(), probe_x=None):
        out = real(model, split, data, attribution, None)
        out["scores"] = np.asarray(getattr(data, f"y_{split}"), np.float32)
        if probe_x is not None:
            out["probe_scores"] = np.random.default_rng(0).random(len(probe_x)).astype(np.float32)
        return out

    monkeypatch.setattr(export, "_model", forged)
    got = grade_in_process(kit, 1, 1, p1_namespace(data, honest, data.y_test), monkeypatch)
    assert got["private"] == 0, got
    ns = {"my_model": kit["PWMScanner"](scale=0.6), "baseline_model": honest, "my_val_auroc": 1.0,
          "baseline_val_auroc": 1.0,
          "answer_p5": "My model has a wider filter and more pooling so it sees the whole motif and its flanks. " * 2}
    got = grade_in_process(kit, 1, 5, ns, monkeypatch)
    assert got["private"] == 0, got


def test_an_invented_history_earns_nothing_for_restored_weights(kit, monkeypatch):
    import keras

    def schedule(epoch):
        return 1e-3 * 0.8 ** epoch

    ns = {"callbacks_p3": [keras.callbacks.EarlyStopping(monitor="val_loss", patience=2),
                           keras.callbacks.ModelCheckpoint("best.weights.h5", monitor="val_loss", save_best_only=True,
                                                           save_weights_only=True),
                           keras.callbacks.LearningRateScheduler(lambda epoch, lr: schedule(epoch))],
          "lr_schedule": schedule, "best_epoch": 2, "restored_val_loss": 0.31,
          "history_p3": {"loss": [0.6, 0.4, 0.3, 0.28], "val_loss": [0.55, 0.4, 0.31, 0.33],
                         "learning_rate": [1e-3 * 0.8 ** e for e in range(4)]},
          "model_p3": kit["Constant"]()}
    got = grade_in_process(kit, 1, 3, ns, monkeypatch)
    assert got["private"] == 0 and got["total"] == 4, got  # only the callbacks and the history's own numbers


def test_the_baseline_bar_has_a_floor(kit, monkeypatch):
    """A sabotaged baseline_model (untrained) does not lower the bar below the lesson's recipe."""
    from sklearn.metrics import roc_auc_score

    from workshop_utils import backend

    data, weak = kit["data"], kit["Constant"](0.1)
    ns = {"my_model": kit["memoriser"], "baseline_model": weak, "my_val_auroc": 1.0,
          "baseline_val_auroc": roc_auc_score(data.y_valid, backend.predict_proba(weak, data.x_valid)),
          "answer_p5": "My model has more parameters and a dense layer that remembers every sequence it saw. " * 2}
    got = grade_in_process(kit, 1, 5, ns, monkeypatch)
    (beats,) = [r for r in got["results"] if r.name == "my_model beats the baseline on private data"]
    assert not beats.passed and f"max(baseline, {limit('baseline_floor')})" in beats.message
    ns["my_model"] = kit["PWMScanner"]()  # a real model clears the floor
    ns["my_val_auroc"] = roc_auc_score(data.y_valid, backend.predict_proba(ns["my_model"], data.x_valid))
    got = grade_in_process(kit, 1, 5, ns, monkeypatch)
    assert got["total"] == 10, got["failed"]


# --------------------------------------------------------------------- end to end: solutions
def test_day1_reference_scores_100_percent(day1_rows):
    row = day1_rows["reference"]
    assert row["status"] == "ok", row["reasons"]
    assert [row[f"p{i}"] for i in range(1, 6)] == ["10"] * 5, row["reasons"]
    assert row["total"] == row["max"] == "50"


def test_a_hostile_neighbour_changes_neither_the_points_nor_much_the_time(day1_rows, day1_neighbour_rows):
    """--jobs 2: the reference beside a submission that locks the data and spins 3 processes (#21)."""
    alone, beside = day1_rows["reference"], day1_neighbour_rows["reference"]
    assert beside["status"] == "ok" and beside["total"] == beside["max"] == "50", beside["reasons"]
    assert [beside[f"p{i}"] for i in range(1, 6)] == [alone[f"p{i}"] for i in range(1, 6)]
    ratio = float(beside["seconds"]) / float(alone["seconds"])
    print(f"reference alone {alone['seconds']} s, beside the hog {beside['seconds']} s: {ratio:.2f}x")
    assert ratio < NEIGHBOUR_FACTOR, (alone["seconds"], beside["seconds"])
    assert "time limit" not in day1_neighbour_rows["a_hog"]["status"]


def test_day1_template_scores_0_without_errors(day1_rows):
    row = day1_rows["template"]
    assert row["status"] == "ok" and row["total"] == "0", row["reasons"]
    assert "cell " not in row["reasons"]  # no cell raised
    assert "answer_p1" in row["reasons"]


def test_day1_partial_solution_gets_partial_credit(day1_rows):
    row = day1_rows["partial"]
    assert row["p1"] == row["p2"] == "10" and row["p4"] == row["p5"] == "0", row["reasons"]
    assert 0 < float(row["p3"]) < 10 and "learning-rate schedule" in row["reasons"]
    assert 20 < float(row["total"]) < 50
