"""KerasTuner helpers: hypermodels, a tuner confined to its folder, trials as a table."""
from __future__ import annotations

import os

import numpy as np
import pytest

from workshop_utils import tuning


@pytest.fixture
def X():
    return np.random.default_rng(0).random((50, 3)).astype(np.float32)


def test_hypermodels_build_what_hp_asks():
    import keras_tuner as kt

    hp = kt.HyperParameters()
    hp.Fixed("depth", 3)
    hp.Fixed("width", 9)
    model = tuning.autoencoder_hypermodel(3)(hp)
    assert sum(layer.name.startswith("enc_dense") for layer in model.layers) == 3
    assert model.get_layer("enc_dense_0").units == 9
    hp = kt.HyperParameters()
    hp.Fixed("latent_dim", 4)
    assert tuning.latent_size_hypermodel(3)(hp).get_layer("code").units == 4
    hp = kt.HyperParameters()
    hp.Fixed("learning_rate", 3e-4)
    model = tuning.vae_hypermodel(3, latent_dim=2, hidden=(4,))(hp)
    assert np.isclose(float(model.optimizer.learning_rate.numpy()), 3e-4)


@pytest.mark.parametrize("kind", ["random", "hyperband"])
def test_search_writes_only_into_its_folder(kind, X, tmp_path, monkeypatch):
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    hm = tuning.autoencoder_hypermodel(3, depth=(0, 2), widths=(4, 6))
    tuner = tuning.make_tuner(kind, hm, tmp_path / "runs", "toy", max_trials=2, max_epochs=2)
    table = tuning.run_search(tuner, X[:40], X[40:], epochs=1, batch_size=20)
    assert os.listdir(work) == []
    assert (tmp_path / "runs" / "toy").is_dir()
    assert len(table) >= 2 and {"trial_id", "depth", "width", "score", "status"} <= set(table.columns)
    assert table["score"].notna().all()
    assert table["score"].is_monotonic_increasing  # best (lowest val_loss) first
    best = tuner.oracle.get_best_trials(1)[0]
    assert table.loc[0, "trial_id"] == best.trial_id


def test_overwrite_starts_a_fresh_project(X, tmp_path):
    hm = tuning.latent_size_hypermodel(3, latent=(1, 2), depth=1, width=4)
    for _ in range(2):
        tuner = tuning.make_tuner("random", hm, tmp_path, "lat", max_trials=2, overwrite=True)
        table = tuning.run_search(tuner, X[:40], X[40:], epochs=1, batch_size=20)
        assert len(table) == 2  # not 4: the second run did not reload the first


def test_grid_search_tries_every_value(X, tmp_path):
    hm = tuning.latent_size_hypermodel(3, latent=(1, 3), depth=1, width=4)
    tuner = tuning.make_tuner("grid", hm, tmp_path, "grid", max_trials=10)
    table = tuning.run_search(tuner, X[:40], X[40:], epochs=1, batch_size=20)
    assert sorted(table["latent_dim"]) == [1, 2, 3]


def test_bayesian_tuner_is_built(tmp_path):
    tuner = tuning.make_tuner("bayesian", tuning.latent_size_hypermodel(3), tmp_path, "b", max_trials=3)
    assert type(tuner).__name__ == "BayesianOptimization"
    assert tuning.trials_table(tuner).empty


def test_input_validation(tmp_path, X):
    hm = tuning.autoencoder_hypermodel(3)
    with pytest.raises(ValueError, match="kind"):
        tuning.make_tuner("bayes", hm, tmp_path, "p")
    with pytest.raises(ValueError, match="project_name"):
        tuning.make_tuner("random", hm, tmp_path, "../p")
    with pytest.raises(TypeError, match="hypermodel"):
        tuning.make_tuner("random", None, tmp_path, "p")
    with pytest.raises(ValueError, match="factor"):
        tuning.make_tuner("hyperband", hm, tmp_path, "p", factor=1)
    with pytest.raises(ValueError, match="max_trials"):
        tuning.make_tuner("random", hm, tmp_path, "p", max_trials=0)
    with pytest.raises(ValueError, match="depth"):
        tuning.autoencoder_hypermodel(3, depth=(3, 1))
    with pytest.raises(TypeError, match="widths"):
        tuning.autoencoder_hypermodel(3, widths=(4.5,))
    with pytest.raises(TypeError, match="tuner"):
        tuning.trials_table(object())
    tuner = tuning.make_tuner("random", hm, tmp_path, "p", max_trials=1)
    with pytest.raises(ValueError, match="X_val"):
        tuning.run_search(tuner, X, X[:, :2])


def test_plot_trials():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from workshop_utils.plotting import plot_trials

    table = pd.DataFrame({"depth": [0, 1, 2, 1], "width": [6, 6, 9, 9], "score": [0.1, 0.01, 0.001, np.nan]})
    ax = plot_trials(table, x="depth", hue="width")
    assert len(ax.lines) == 2 and ax.get_yscale() == "log"
    assert sum(len(line.get_xdata()) for line in ax.lines) == 3  # the NaN trial is left out
    with pytest.raises(ValueError, match="depth2"):
        plot_trials(table, x="depth2")
    plt.close("all")
