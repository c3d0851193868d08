"""Tests of the homework grading: practices and checks, the private probe set, export, self-check,
forged submissions, and the grader end to end on the reference, partial and template notebooks.

The end-to-end tests run the real grader (fresh sandboxed kernels, quick mode) twice, once per
module-scoped fixture: the Day-1 reference, partial solution and untouched template, and the
same for Day 2.  Forged submissions (a memorising model, pasted labels, a patched
``predict_proba`` or export) are tested in process with tiny PyTorch models and a real probe:
the export runs as it does in a kernel, the checks as they do in the grader.  The sandbox and
hostile submissions are tested in ``tests/test_sandbox.py``.
"""
from __future__ import annotations

import csv
import inspect
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from workshop_utils.grading import check, get_practice, reference
from workshop_utils.grading.core import Check, Missing, Requirement, run_checks
from workshop_utils.grading.export import collect, export_practice, load_practice
from workshop_utils.grading.hidden import load_hidden
from workshop_utils.grading.practices import PRACTICES, SCHEDULE_EPOCHS, leave_behind, limit
from workshop_utils.grading.probe import (INPUTS_FILE, PROBE_ENV, Probe, add_to_reference, load_inputs, make_probe,
                                          probe_attr_size, probe_size, probe_total, save_inputs)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SOLUTIONS = HERE / "homework_solutions"
HIDDEN = HERE / "homework_hidden" / "hidden_checks.py"
NOTEBOOKS = {1: ["homework/day1_homework.ipynb", "tests/homework_solutions/day1_reference.ipynb",
                 "tests/homework_solutions/day1_partial.ipynb"],
             2: ["homework/day2_homework.ipynb", "tests/homework_solutions/day2_reference.ipynb",
                 "tests/homework_solutions/day2_partial.ipynb"]}


def _read(path: Path) -> dict[str, dict]:
    with open(path, newline="") as fh:
        return {r["student"]: r for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def data_env(tmp_path_factory):
    """One data folder for this module (the grader's kernels get copies)."""
    old = os.environ.get("WORKSHOP_DATA")
    os.environ["WORKSHOP_DATA"] = str(tmp_path_factory.mktemp("grading_data"))
    yield
    if old is None:
        os.environ.pop("WORKSHOP_DATA", None)
    else:
        os.environ["WORKSHOP_DATA"] = old


def _grade(tmp: Path, notebooks: dict[str, Path], day: int, **kw) -> dict[str, dict]:
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
    return _read(out)


@pytest.fixture(scope="module")
def day1_rows(data_env, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("day1")
    return _grade(tmp, {"reference": SOLUTIONS / "day1_reference.ipynb", "partial": SOLUTIONS / "day1_partial.ipynb",
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
    return _grade(tmp, {"a_hog": tmp / "hog.ipynb", "reference": SOLUTIONS / "day1_reference.ipynb"}, 1,
                  timeout=600, memory_mb=6000, jobs=2)


@pytest.fixture(scope="module")
def day2_rows(data_env, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("day2")
    return _grade(tmp, {"reference": SOLUTIONS / "day2_reference.ipynb", "partial": SOLUTIONS / "day2_partial.ipynb",
                        "template": REPO / "homework" / "day2_homework.ipynb"}, 2, timeout=600, memory_mb=6000)


# ------------------------------------------------------------------------------ the practices
def _all_checks(hidden, day, p):
    return p.checks + hidden[(day, p.number)]


def test_each_practice_is_worth_10_points_with_the_hidden_checks():
    hidden = load_hidden(HIDDEN)
    for day, practices in PRACTICES.items():
        assert [p.number for p in practices] == [1, 2, 3, 4, 5]
        for p in practices:
            total = sum(c.points for c in _all_checks(hidden, day, p))
            assert total == 10, (day, p.number, total)
            assert all(c.hidden for c in hidden[(day, p.number)])
            assert not any(c.hidden for c in p.checks)


def test_private_checks_outweigh_the_consistency_checks():
    """Where a practice credits a trained model, the checks on private data are worth more than the rest.

    "The rest" is every check but the figure and the written answer (which no data can prove):
    the consistency checks between the student's numbers and the structural ones.
    """
    hidden = load_hidden(HIDDEN)
    for day, practices in PRACTICES.items():
        for p in practices:
            checks = _all_checks(hidden, day, p)
            private = sum(c.points for c in checks if c.private)
            if not any(r.kind == "model" for r in p.requirements):
                assert private == 0, (day, p.number)
                continue
            rest = sum(c.points for c in checks if not c.private
                       and not c.name.endswith((" drawn", " written")))
            assert private >= 5 and private > rest, (day, p.number, private, rest)
            for c in checks:  # a private check needs a model exported with its probe scores
                if c.private:
                    kinds = {r.name: r.kind for r in p.requirements}
                    assert any(kinds.get(n) == "model" for n in c.needs), (day, p.number, c.name)


def test_leave_behind_lists_match_the_requirements():
    """Every homework notebook (templates and solutions) lists what its practices' checks read."""
    for day, paths in NOTEBOOKS.items():
        for rel in paths:
            cells = json.loads((REPO / rel).read_text())["cells"]
            text = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
            for p in PRACTICES[day]:
                block = [t for t in text if t.startswith(f"### Practice {p.number}:")]
                assert len(block) == 1, (rel, p.number)
                got = block[0].split("read them):\n\n", 1)[1].strip()
                assert got == leave_behind(p), f"{rel}, practice {p.number}: expected\n{leave_behind(p)}"


def test_the_schedule_check_follows_fits_longer_than_ten_epochs():
    """A full-mode fit with early stopping can run 11+ epochs; the schedule check must still compare them."""
    (chk,) = [c for c in load_hidden(HIDDEN)[(1, 3)] if c.name == "the schedule drove the learning rate"]
    schedule = [1e-3 * 0.8 ** e for e in range(SCHEDULE_EPOCHS)]
    for epochs in (3, 11, 30):
        ok, msg = chk.fn({"history_p3": {"learning_rate": schedule[:epochs]}, "lr_schedule": schedule}, {})
        assert ok, msg
    ok, _ = chk.fn({"history_p3": {"learning_rate": [1e-3] * 11}, "lr_schedule": schedule}, {})
    assert not ok  # a constant learning rate did not follow the schedule


def test_hidden_checks_are_not_in_the_package():
    pkg = REPO / "workshop_utils"
    text = "".join(p.read_text() for p in pkg.rglob("*.py"))
    for name in ("d1p1_learned", "d1p5_claim", "d2p1_recovers", "d2p5_agree"):  # functions of the hidden file
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


# ------------------------------------------------------------------------------- the probe set
def test_make_probe_is_a_fresh_simulation_of_the_course_data():
    a, b, c = make_probe(12345, n=300), make_probe(12345, n=300), make_probe(54321, n=300)
    assert a.x.shape == (300, 200, 4) and a.x.dtype == np.float32 and a.y.dtype == np.int64
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y) and not np.array_equal(a.x, c.x)
    assert set(np.unique(a.y)) == {0, 1} and ((a.site_start >= -1) & (a.site_start <= 200 - 19)).all()
    assert (a.site_start[a.y == 1] >= 0).mean() > 0.6  # most positives carry a planted site
    assert "0 1" not in repr(a) and "300 sequences" in repr(a)  # repr never shows labels
    assert len(make_probe(7)) == probe_total() and probe_attr_size() < probe_size() < probe_total()
    for bad in (0, 2, -1, 1.5, True):
        with pytest.raises(ValueError, match="seed"):
            make_probe(bad, n=10)
    with pytest.raises(ValueError, match="n must"):
        make_probe(99, n=1)
    with pytest.raises(ValueError, match="Probe.y"):
        Probe(a.x[:3], np.array([1, 1, 1]), np.array([0, 0, 0]))


def test_the_probe_inputs_file_carries_no_labels(tmp_path):
    probe = make_probe(424242, n=500)
    path = save_inputs(probe, tmp_path / "probe")
    assert sorted(p.name for p in (tmp_path / "probe").iterdir()) == [INPUTS_FILE] == [path.name]
    codes = np.load(path, allow_pickle=False)
    assert codes.dtype == np.uint8 and codes.shape == (500, 200) and np.array_equal(codes, probe.x.argmax(-1))
    # nothing but the header and the sequences: one byte per base
    with open(path, "rb") as fh:
        major, _ = np.lib.format.read_magic(fh)
        read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
        assert read_header(fh) == ((500, 200), False, np.dtype(np.uint8))
        assert os.path.getsize(path) - fh.tell() == 500 * 200
    assert np.array_equal(load_inputs(tmp_path / "probe"), probe.x)
    # the labels cannot be read off the sequences' order (rows are in simulation order, not by class)
    assert 0.3 < probe.y[:250].mean() < 0.7


def test_load_inputs_reads_the_grader_folder_and_refuses_anything_else(tmp_path, monkeypatch):
    monkeypatch.delenv(PROBE_ENV, raising=False)
    assert load_inputs() is None
    probe = make_probe(777, n=50)
    save_inputs(probe, tmp_path)
    monkeypatch.setenv(PROBE_ENV, str(tmp_path))
    x = load_inputs()
    assert x.dtype == np.float32 and np.array_equal(x, probe.x) and load_inputs() is x  # read once per kernel
    codes = probe.x.argmax(-1).astype(np.uint8)
    np.save(tmp_path / INPUTS_FILE, codes + 4, allow_pickle=False)
    with pytest.raises(ValueError, match="0-3"):
        load_inputs()
    np.save(tmp_path / INPUTS_FILE, probe.x, allow_pickle=False)  # one-hot floats are not the file's format
    with pytest.raises(ValueError, match="uint8"):
        load_inputs()
    (tmp_path / INPUTS_FILE).unlink()
    os.symlink("/dev/zero", tmp_path / INPUTS_FILE)
    with pytest.raises(ValueError, match="regular file"):
        load_inputs()
    with pytest.raises(ValueError, match="regular file"):
        load_inputs(tmp_path / "none")


def test_add_to_reference_adds_the_labels_without_changing_ref():
    probe = make_probe(31337, n=400)
    ref = {"quick": True, "y_test": np.array([0, 1])}
    out = add_to_reference(ref, probe)
    assert "probe" not in ref and out["y_test"] is ref["y_test"]
    assert np.array_equal(out["probe"]["y"], probe.y) and np.array_equal(out["probe"]["site_start"], probe.site_start)
    assert out["probe"]["n_total"] == 400 and out["probe"]["n"] == min(probe_size(), 400)
    assert out["probe"]["n_attr"] == min(probe_attr_size(), out["probe"]["n"])
    assert "x" not in out["probe"]  # the checks never need the sequences
    with pytest.raises(TypeError, match="probe"):
        add_to_reference(ref, {"y": probe.y})


# ------------------------------------------------------------------------ tiny models for tests
def _torch_models():
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


@pytest.fixture(scope="module")
def kit(data_env, tmp_path_factory):
    """The course data, a probe saved where a kernel finds it, its reference, and tiny models."""
    from workshop_utils import load_ctcf

    data = load_ctcf()
    probe = make_probe(20260601)
    folder = tmp_path_factory.mktemp("probe")
    save_inputs(probe, folder)
    PWMScanner, Lookup, Constant = _torch_models()
    return {"data": data, "probe": probe, "folder": folder, "ref": add_to_reference(reference(), probe),
            "PWMScanner": PWMScanner, "Constant": Constant,
            "memoriser": Lookup((data.x_train, data.x_valid, data.x_test), (data.y_train, data.y_valid, data.y_test))}


def _grade_in_process(kit, day, number, ns, monkeypatch) -> dict[str, float]:
    """Export practice ``number`` as the grader's kernel would (with the probe) and check it as the grader does."""
    monkeypatch.setenv(PROBE_ENV, str(kit["folder"]))
    p = get_practice(day, number)
    values = collect(p, ns)
    res = run_checks(p.checks + load_hidden(HIDDEN)[(day, number)], values, kit["ref"])
    assert not any(r.skipped for r in res)
    return {"private": sum(r.earned for r in res if r.private), "public": sum(r.earned for r in res if not r.private),
            "total": sum(r.earned for r in res), "failed": [r.name for r in res if not r.passed],
            "results": res}


def _p1_namespace(data, torch_model, test_scores):
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


# ------------------------------------------------------------------------------------ export
def test_self_check_passes_consistent_values_and_explains_missing_ones(kit, capsys):
    from workshop_utils import backend

    data, model = kit["data"], kit["PWMScanner"]()
    ns = _p1_namespace(data, model, backend.predict_proba(model, data.x_test))
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
    ns = _p1_namespace(data, model, backend.predict_proba(model, data.x_test))
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


def test_export_round_trip_with_the_probe_and_untrusted_exports(kit, tmp_path, monkeypatch):
    from workshop_utils import backend

    data, model = kit["data"], kit["PWMScanner"]()
    ns = _p1_namespace(data, model, backend.predict_proba(model, data.x_test))
    monkeypatch.setenv(PROBE_ENV, str(kit["folder"]))
    export_practice(1, 1, ns, tmp_path)
    assert not any("y" in f.name.split(".")[0] for f in (tmp_path / "day1_p1").iterdir() if f.suffix == ".npy")
    p = get_practice(1, 1)
    values = load_practice(p, tmp_path)
    assert np.allclose(values["test_scores"], ns["test_scores"])
    n = probe_size()
    assert values["torch_model"]["probe_scores"].shape == (n,) < (len(kit["probe"]),)
    assert np.allclose(values["torch_model"]["probe_scores"], backend.predict_proba(model, kit["probe"].x[:n]),
                       atol=1e-6)
    assert values["fig_eval"]["png_bytes"] > 2000 and len(values["fig_eval"]["axes"]) == 2
    hidden = load_hidden(HIDDEN)[(1, 1)]
    assert sum(r.earned for r in run_checks(p.checks + hidden, values, kit["ref"])) == 10
    # a pickled object array is refused (loading it could run code)
    np.save(tmp_path / p.key / "test_scores.npy", np.array([object()], dtype=object), allow_pickle=True)
    assert isinstance(load_practice(p, tmp_path)["test_scores"], Missing)
    (tmp_path / p.key / "test_scores.npy").unlink()
    os.symlink("/dev/zero", tmp_path / p.key / "test_scores.npy")  # a link to an endless file is refused
    assert isinstance(load_practice(p, tmp_path)["test_scores"], Missing)
    (tmp_path / p.key / "torch_model.probe_scores.npy").unlink()  # a model without its probe scores
    assert isinstance(load_practice(p, tmp_path)["torch_model"], Missing)
    (tmp_path / p.key / "values.json").write_text("not json")
    assert all(isinstance(v, Missing) for v in load_practice(p, tmp_path).values())
    assert all(isinstance(v, Missing) for v in load_practice(p, tmp_path / "never").values())


def test_a_model_export_without_a_readable_probe_says_why(kit, tmp_path, monkeypatch):
    from workshop_utils import backend

    data, model = kit["data"], kit["PWMScanner"]()
    ns = _p1_namespace(data, model, backend.predict_proba(model, data.x_test))
    bad = tmp_path / "bad_probe"
    bad.mkdir()
    np.save(bad / INPUTS_FILE, np.zeros((3, 200, 4), np.float32), allow_pickle=False)
    monkeypatch.setenv(PROBE_ENV, str(bad))
    values = load_practice(get_practice(1, 1), export_practice(1, 1, ns, tmp_path).parent)
    assert "probe_scores" not in values["torch_model"] and "uint8" in values["torch_model"]["probe_missing"]
    res = run_checks(get_practice(1, 1).checks, values, kit["ref"])
    (priv,) = [r for r in res if r.private]
    assert not priv.passed and "probe could not be read" in priv.message


def test_model_attributions_on_the_probe_and_anchors(kit, monkeypatch):
    """Day-2 models are attributed (ISM, IG) on the probe's first sequences and on the first test positives."""
    from workshop_utils import attribution

    model = kit["PWMScanner"]()
    monkeypatch.setenv(PROBE_ENV, str(kit["folder"]))
    p5 = get_practice(2, 5)
    values = collect(p5, {"model": model})
    m, n = values["model"], probe_attr_size()
    assert m["probe_ism"].shape == m["probe_ig"].shape == (n, 200, 4)
    pos = np.where(kit["data"].y_test == 1)[0][:3]
    assert np.allclose(m["anchor_ism"], attribution.ism(model, kit["data"].x_test[pos], progress=False), atol=1e-5)
    assert np.allclose(m["probe_ism"][:2], attribution.ism(model, kit["probe"].x[:2], progress=False), atol=1e-5)


def test_collect_kinds():
    p3 = get_practice(1, 3)
    vals = collect(p3, {"lr_schedule": lambda e: 0.1 / (1 + e), "history_p3": {"loss": np.array([1.0, 0.5])},
                        "best_epoch": np.int64(1), "callbacks_p3": "not callbacks", "restored_val_loss": "0.3"})
    assert np.allclose(vals["lr_schedule"], [0.1 / (1 + e) for e in range(100)])  # longer than any fit
    assert vals["history_p3"] == {"loss": [1.0, 0.5]} and vals["best_epoch"] == 1
    assert isinstance(vals["restored_val_loss"], Missing)  # a string is not a number
    assert vals["callbacks_p3"][0]["class"] == "str"
    assert isinstance(vals["model_p3"], Missing)


# --------------------------------------------------------------------------- forged submissions
def test_an_honest_model_earns_the_private_points(kit, monkeypatch):
    """A PWM scanner is real modelling: scored on the probe, it earns what a trained CNN earns."""
    from workshop_utils import backend

    data, model = kit["data"], kit["PWMScanner"]()
    got = _grade_in_process(kit, 1, 1, _p1_namespace(data, model, backend.predict_proba(model, data.x_test)),
                            monkeypatch)
    assert got["total"] == 10, got["failed"]


def test_a_memorising_model_earns_nothing_for_learning(kit, monkeypatch):
    """A lookup of the train/valid/test labels is perfect on every split the student has, and blind on the probe."""
    from sklearn.metrics import roc_auc_score

    from workshop_utils import backend

    data, memo = kit["data"], kit["memoriser"]
    scores = backend.predict_proba(memo, data.x_test)
    assert roc_auc_score(data.y_test, scores) == 1.0
    got = _grade_in_process(kit, 1, 1, _p1_namespace(data, memo, scores), monkeypatch)
    assert got["private"] == 0 and got["total"] <= 5, got
    ns = {"my_model": memo, "baseline_model": kit["PWMScanner"](), "my_val_auroc": 1.0,
          "baseline_val_auroc": roc_auc_score(data.y_valid, backend.predict_proba(kit["PWMScanner"](), data.x_valid)),
          "answer_p5": "My model has more parameters and a dense layer that remembers every sequence it saw. " * 2}
    got = _grade_in_process(kit, 1, 5, ns, monkeypatch)
    assert got["private"] == 0 and "my_model beats the baseline on private data" in got["failed"], got
    assert got["total"] <= 4


def test_pasted_labels_earn_nothing_for_learning(kit, monkeypatch):
    data = kit["data"]
    got = _grade_in_process(kit, 1, 1, _p1_namespace(data, kit["PWMScanner"](), data.y_test), monkeypatch)
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
    got = _grade_in_process(kit, 1, 1, _p1_namespace(data, honest, data.y_test), monkeypatch)
    assert "test_scores are torch_model's test-set probabilities" not in got["failed"]  # the forgery fooled that
    assert got["private"] == 0, got
    ns = {"my_model": kit["PWMScanner"](scale=0.6), "baseline_model": honest, "my_val_auroc": 1.0,
          "baseline_val_auroc": 1.0,
          "answer_p5": "My model has a wider filter and more pooling so it sees the whole motif and its flanks. " * 2}
    got = _grade_in_process(kit, 1, 5, ns, monkeypatch)
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
    got = _grade_in_process(kit, 1, 1, _p1_namespace(data, honest, data.y_test), monkeypatch)
    assert got["private"] == 0, got
    ns = {"my_model": kit["PWMScanner"](scale=0.6), "baseline_model": honest, "my_val_auroc": 1.0,
          "baseline_val_auroc": 1.0,
          "answer_p5": "My model has a wider filter and more pooling so it sees the whole motif and its flanks. " * 2}
    got = _grade_in_process(kit, 1, 5, ns, monkeypatch)
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
    got = _grade_in_process(kit, 1, 3, ns, monkeypatch)
    assert got["private"] == 0 and got["total"] == 4, got  # only the callbacks and the history's own numbers


def test_the_baseline_bar_has_a_floor(kit, monkeypatch):
    """A sabotaged baseline_model (untrained) does not lower the bar below the lesson's recipe."""
    from sklearn.metrics import roc_auc_score

    from workshop_utils import backend

    data, weak = kit["data"], kit["Constant"](0.1)
    ns = {"my_model": kit["memoriser"], "baseline_model": weak, "my_val_auroc": 1.0,
          "baseline_val_auroc": roc_auc_score(data.y_valid, backend.predict_proba(weak, data.x_valid)),
          "answer_p5": "My model has more parameters and a dense layer that remembers every sequence it saw. " * 2}
    got = _grade_in_process(kit, 1, 5, ns, monkeypatch)
    (beats,) = [r for r in got["results"] if r.name == "my_model beats the baseline on private data"]
    assert not beats.passed and f"max(baseline, {limit('baseline_floor')})" in beats.message
    ns["my_model"] = kit["PWMScanner"]()  # a real model clears the floor
    ns["my_val_auroc"] = roc_auc_score(data.y_valid, backend.predict_proba(ns["my_model"], data.x_valid))
    got = _grade_in_process(kit, 1, 5, ns, monkeypatch)
    assert got["total"] == 10, got["failed"]


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
        got = _grade_in_process(kit, 2, 1, ns, monkeypatch)
        (sites,) = [r for r in got["results"] if r.name == "ISM finds the planted sites on private data"]
        assert sites.passed == expect, sites.message


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


def test_day2_reference_scores_100_percent_and_template_0(day2_rows):
    ref, tpl = day2_rows["reference"], day2_rows["template"]
    assert ref["status"] == "ok" and ref["total"] == ref["max"] == "50", ref["reasons"]
    assert tpl["status"] == "ok" and tpl["total"] == "0" and "cell " not in tpl["reasons"], tpl["reasons"]


def test_day2_partial_solution_gets_partial_credit(day2_rows):
    row = day2_rows["partial"]
    assert row["p1"] == row["p3"] == "10" and row["p2"] == row["p4"] == "0", row["reasons"]
    assert 0 < float(row["p5"]) < 10 and "rank_corr_p5" in row["reasons"]
