"""What leaves a kernel (``grading/export.py``): plain data, the probe's scores, untrusted files refused."""
from __future__ import annotations

import os

import numpy as np

from _homework_kit import HIDDEN, p1_namespace
from workshop_utils.grading import get_practice
from workshop_utils.grading.core import Missing, run_checks
from workshop_utils.grading.export import collect, export_practice, load_practice
from workshop_utils.grading.hidden import load_hidden
from workshop_utils.grading.probe import INPUTS_FILE, PROBE_ENV, probe_attr_size, probe_size


def test_export_round_trip_with_the_probe_and_untrusted_exports(kit, tmp_path, monkeypatch):
    from workshop_utils import backend

    data, model = kit["data"], kit["PWMScanner"]()
    ns = p1_namespace(data, model, backend.predict_proba(model, data.x_test))
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
    ns = p1_namespace(data, model, backend.predict_proba(model, data.x_test))
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
