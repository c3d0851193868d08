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


def test_quiet_retracing_drops_only_that_warning_and_only_inside():
    """Searches train a new model per trial: TF's retracing warning is dropped there, nothing else is."""
    import logging

    from workshop_utils._keras_tuning import quiet_retracing

    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    log, keep = logging.getLogger("tensorflow"), Keep(level=logging.DEBUG)
    log.addHandler(keep)
    try:
        with quiet_retracing():
            log.warning("5 out of the last 5 calls to <function f> triggered tf.function retracing. Tracing is ...")
            log.error("a real error")
        log.warning("6 out of the last 6 calls to <function f> triggered tf.function retracing. Tracing is ...")
        with pytest.raises(ZeroDivisionError), quiet_retracing():
            1 / 0
        log.warning("7 out of the last 7 calls to <function f> triggered tf.function retracing.")
    finally:
        log.removeHandler(keep)
    assert seen == ["a real error",
                    "6 out of the last 6 calls to <function f> triggered tf.function retracing. Tracing is ...",
                    "7 out of the last 7 calls to <function f> triggered tf.function retracing."]
    assert not log.filters


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


def test_tybalt_hypermodel_declares_fit_choices_and_builds_a_vae():
    import keras_tuner as kt

    hm = tuning.tybalt_hypermodel(6, latent_dims=(3, 2), learning_rates=(1e-3, 2e-3), kappas=(0.5, 1.0),
                                  batch_sizes=(8, 16), epochs=(2, 3), hidden=(4,))
    assert isinstance(hm, kt.HyperModel)
    hp = kt.HyperParameters()
    hm.declare_hyperparameters(hp)
    assert {"kappa", "batch_size", "epochs"} <= set(hp.values)  # known to the oracle before trial 1
    model = hm.build(hp)
    assert hp.values["latent_dim"] == 3 and hp.values["learning_rate"] == 1e-3  # first value = default
    assert model.get_layer("z_mean").units == 3
    assert np.isclose(float(model.optimizer.learning_rate.numpy()), 1e-3)


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")  # get_best_models: no optimizer state
def test_tybalt_search_scores_at_beta_one_and_applies_kappa(tmp_path):
    import keras_tuner as kt

    from workshop_utils import autoencoders as ae

    X = np.random.default_rng(1).random((48, 6)).astype(np.float32)
    hm = tuning.tybalt_hypermodel(6, latent_dims=(2, 3), learning_rates=(1e-3,), kappas=(0.4, 1.0),
                                  batch_sizes=(16, 32), epochs=(1, 2), hidden=(4,))
    oracle = kt.oracles.GridSearchOracle(objective=kt.Objective("val_loss_beta1", "min"), max_trials=3)
    tuner = kt.Tuner(oracle=oracle, hypermodel=hm, directory=tmp_path, project_name="tybalt", overwrite=True)
    tuner.search(X[:36], validation_data=(X[36:], X[36:]), verbose=0)
    table = tuning.trials_table(tuner, metrics=True)
    assert len(table) == 3 and table["score"].notna().all()
    assert {"latent_dim", "learning_rate", "kappa", "batch_size", "epochs", "val_reconstruction", "val_kl",
            "final_beta"} <= set(table.columns)
    # the warm-up each trial chose was applied: beta of the last epoch = min(1, kappa * (epochs - 1))
    np.testing.assert_allclose(table["final_beta"], np.minimum(1.0, table["kappa"] * (table["epochs"] - 1)))
    np.testing.assert_allclose(table["val_reconstruction"] + table["val_kl"], table["score"], rtol=1e-6)
    assert (table["val_kl"] > 0).all()
    # the score is the loss at beta = 1 of the saved (final) weights
    best = tuner.get_best_models(1)[0]
    ae.set_beta(best, 1.0)
    assert np.isclose(best.evaluate(X[36:], X[36:], verbose=0), table.loc[0, "score"], rtol=1e-5)
    assert "val_kl" not in tuning.trials_table(tuner).columns  # metrics only when asked


def test_tybalt_hypermodel_fit_refuses_what_it_tunes():
    import keras_tuner as kt

    hm = tuning.tybalt_hypermodel(6, latent_dims=(2,), epochs=(1,), hidden=(4,))
    hp = kt.HyperParameters()
    model = hm.build(hp)
    X = np.random.default_rng(2).random((8, 6)).astype(np.float32)
    with pytest.raises(ValueError, match="epochs must not be passed"):
        hm.fit(hp, model, X, validation_data=(X, X), epochs=3)
    with pytest.raises(ValueError, match="validation_data"):
        hm.fit(hp, model, X)


def test_tybalt_hypermodel_input_validation(tmp_path):
    with pytest.raises(ValueError, match="tybalt_hypermodel: kappas"):
        tuning.tybalt_hypermodel(6, kappas=(0.1, 0.0))
    with pytest.raises(ValueError, match="latent_dims"):
        tuning.tybalt_hypermodel(6, latent_dims=())
    with pytest.raises(TypeError, match="batch_sizes"):
        tuning.tybalt_hypermodel(6, batch_sizes=(32.5,))
    with pytest.raises(ValueError, match="distinct"):
        tuning.tybalt_hypermodel(6, epochs=(10, 10))
    with pytest.raises(ValueError, match="n_features"):
        tuning.tybalt_hypermodel(0)
    with pytest.raises(TypeError, match="metrics"):
        tuning.trials_table(tuning.make_tuner("random", tuning.latent_size_hypermodel(3), tmp_path, "x"),
                            metrics="yes")


def test_make_tuner_seed_0_fixes_the_search_too(tmp_path):
    """KerasTuner reads seed=0 as "no seed" and draws one from python's random: make_tuner must not."""
    import random

    hm = tuning.autoencoder_hypermodel(3, latent_dim=1)
    seeds = []
    for i, state in enumerate((1, 2)):
        random.seed(state)  # whatever ran before in the kernel
        tuner = tuning.make_tuner("random", hm, tmp_path, f"s{i}", max_trials=1, seed=0)
        seeds.append(tuner.oracle.seed)
    assert seeds == [1, 1]
    assert tuning.make_tuner("random", hm, tmp_path, "s5", max_trials=1, seed=5).oracle.seed == 6
