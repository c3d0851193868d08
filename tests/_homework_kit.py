"""What the tests of ``grading/`` share: the course data and a probe, tiny models, a graded class, helpers.

The fixtures ``kit`` and ``graded_class`` are session-wide, ``data_env`` is per module
(``tests/conftest.py`` imports them): the tests of ``selfcheck``, ``export``, ``day1`` and
``day2`` use one probe and one set of tiny models; those of ``feedback``, ``report``, ``store``
and ``regrade`` one small graded class (``tests/_grading_kit.py``; a test that changes it works
on a copy).
Forged submissions (a memorising model, pasted labels, a patched ``predict_proba`` or export) are
tested in process with tiny PyTorch models and a real probe: the export runs as it does in a
kernel, the checks as they do in the grader.
"""
from __future__ import annotations

import contextlib
import csv
import inspect
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from workshop_utils.grading import get_practice, reference
from workshop_utils.grading.core import run_checks
from workshop_utils.grading.export import collect
from workshop_utils.grading.hidden import load_hidden
from workshop_utils.grading.probe import PROBE_ENV, add_to_reference, make_probe, save_inputs

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SOLUTIONS = HERE / "homework_solutions"
HIDDEN = HERE / "homework_hidden" / "hidden_checks.py"


def read_rows(path: Path) -> dict[str, dict]:
    """The grader's CSV as ``{student: row}``."""
    with open(path, newline="") as fh:
        return {r["student"]: r for r in csv.DictReader(fh)}


@contextlib.contextmanager
def data_folder(folder: Path):
    """``WORKSHOP_DATA`` set to ``folder`` while the block runs, then as it was."""
    old = os.environ.get("WORKSHOP_DATA")
    os.environ["WORKSHOP_DATA"] = str(folder)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("WORKSHOP_DATA", None)
        else:
            os.environ["WORKSHOP_DATA"] = old


@pytest.fixture(scope="module")
def data_env(tmp_path_factory):
    """One data folder for a test module (the grader's kernels get copies)."""
    with data_folder(tmp_path_factory.mktemp("grading_data")):
        yield


def grade(tmp: Path, notebooks: dict[str, Path], day: int, **kw) -> dict[str, dict]:
    from workshop_utils.grading.grader import grade_folder

    subs = tmp / "subs"
    subs.mkdir()
    for name, src in notebooks.items():
        shutil.copy(src, subs / f"{name}.ipynb")
    out = tmp / "out" / "grades.csv"
    if "unsafe_no_sandbox" in inspect.signature(grade_folder).parameters:  # grading is tested, not the sandbox
        from workshop_utils.grading.sandbox import sandbox_available

        kw["unsafe_no_sandbox"] = not sandbox_available()[0]
    grade_folder(subs, day, out, hidden=[HIDDEN], verbose=False, **kw)
    return read_rows(out)


def torch_models():
    import torch

    from workshop_utils.motifs import ctcf_pfm, pwm_log_odds

    class PWMScanner(torch.nn.Module):
        """Best CTCF log-odds score (both strands) near the centre: real modelling without training."""

        def __init__(self, scale: float = 0.5):
            super().__init__()
            pwm = pwm_log_odds(ctcf_pfm()).astype(np.float32)
            w = np.stack([pwm.T, pwm[::-1, ::-1].T])
            self.conv = torch.nn.Conv1d(4, 2, pwm.shape[0], bias=False)
            self.conv.weight.data = torch.from_numpy(np.ascontiguousarray(w))
            self.scale = scale

        def forward(self, x):
            s = self.conv(x.transpose(1, 2))[..., 45:137]
            return self.scale * (s.amax((1, 2)) - 12.0)

    class Lookup(torch.nn.Module):
        """A three-parameter "model" that looks up the labels of sequences it has seen."""

        def __init__(self, xs, ys):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(3))
            self.table = {}
            for x, y in zip(xs, ys):
                for row, label in zip(x.argmax(-1).astype(np.uint8), y):
                    self.table[row.tobytes()] = 8.0 if label else -8.0

        def forward(self, x):
            rows = x.detach().cpu().numpy().argmax(-1).astype(np.uint8)
            z = [self.table.get(r.tobytes(), 0.0) for r in rows]
            return torch.tensor(z, dtype=torch.float32) + 0 * self.w.sum()

    class Constant(torch.nn.Module):
        def __init__(self, logit: float = 0.0):
            super().__init__()
            self.b = torch.nn.Parameter(torch.tensor([logit]))

        def forward(self, x):
            return self.b.expand(x.shape[0])

    return PWMScanner, Lookup, Constant


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory):
    """A small graded Day-1 class with its store and CSV (no notebook runs; ``_grading_kit.make_class_store``)."""
    from _grading_kit import hidden_file, make_class_store

    tmp = tmp_path_factory.mktemp("class")
    hidden = hidden_file(tmp / "hidden.py", 0.75)
    return {**make_class_store(tmp, hidden), "hidden": hidden, "tmp": tmp}


@pytest.fixture(scope="session")
def kit(tmp_path_factory):
    """The course data, a probe saved where a kernel finds it, its reference, and tiny models."""
    from workshop_utils import load_ctcf

    with data_folder(tmp_path_factory.mktemp("kit_data")):
        data = load_ctcf()
        probe = make_probe(20260601)
        folder = tmp_path_factory.mktemp("probe")
        save_inputs(probe, folder)
        PWMScanner, Lookup, Constant = torch_models()
        return {"data": data, "probe": probe, "folder": folder, "ref": add_to_reference(reference(), probe),
                "PWMScanner": PWMScanner, "Constant": Constant,
                "memoriser": Lookup((data.x_train, data.x_valid, data.x_test),
                                    (data.y_train, data.y_valid, data.y_test))}


def grade_in_process(kit, day, number, ns, monkeypatch) -> dict[str, float]:
    """Export practice ``number`` as the grader's kernel would (with the probe) and check it as the grader does."""
    monkeypatch.setenv(PROBE_ENV, str(kit["folder"]))
    p = get_practice(day, number)
    values = collect(p, ns)
    res = run_checks(p.checks + load_hidden(HIDDEN)[(day, number)], values, kit["ref"])
    assert not any(r.skipped for r in res)
    return {"private": sum(r.earned for r in res if r.private), "public": sum(r.earned for r in res if not r.private),
            "total": sum(r.earned for r in res), "failed": [r.name for r in res if not r.passed],
            "results": res}


def p1_namespace(data, torch_model, test_scores):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import average_precision_score, confusion_matrix, roc_auc_score

    fig, axes = plt.subplots(1, 2)
    for ax, lab in zip(axes, ("false positive rate", "recall")):
        ax.plot([0, 1], [0, 1])
        ax.set_xlabel(lab)
    s = np.asarray(test_scores, dtype=np.float64)
    return {"torch_model": torch_model, "test_scores": s, "auroc": roc_auc_score(data.y_test, s),
            "aupr": average_precision_score(data.y_test, s), "confusion": confusion_matrix(data.y_test, s >= 0.5),
            "fig_eval": fig,
            "answer_p1": "The auroc and the precision at each recall say how well the scores rank bound "
                         "sequences above unbound ones, and the confusion matrix counts false calls. " * 2}


@pytest.fixture
def graded_copy(graded_class, tmp_path):
    """:func:`graded_class` with a store and CSV of this test's own, in ``tmp_path`` (tests change them)."""
    import shutil

    shutil.copytree(graded_class["store"], tmp_path / "store")
    shutil.copy(graded_class["csv"], tmp_path / "grades.csv")
    return {**graded_class, "store": tmp_path / "store", "csv": tmp_path / "grades.csv", "tmp": tmp_path}
