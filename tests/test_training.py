"""workshop_utils.training: the torch fit loop learns, stops early, restores the best weights."""
from __future__ import annotations

import numpy as np
import pytest

from workshop_utils import training
from workshop_utils.sequences import random_sequences


def _toy(n, seed):
    """Label 1 iff the sequence contains 'GGG...'-rich first half: a learnable toy task."""
    X = random_sequences(n, 20, seed=seed)
    y = (X[:, :10, 2].sum(1) > 2.5).astype(np.float32)
    return X, y


def _model(seed=0):
    import torch

    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(80, 1))


def test_dataset_and_loader():
    X, y = _toy(10, 0)
    ds = training.OneHotDataset(X, y)
    x0, y0 = ds[0]
    assert len(ds) == 10 and tuple(x0.shape) == (20, 4) and float(y0) == y[0]
    batches = list(training.make_loader(X, y, batch_size=4, shuffle=False))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(batches[0][0].numpy(), X[:4])
    a = [b[1].numpy() for b in training.make_loader(X, y, 4, shuffle=True, seed=3)]
    b = [b[1].numpy() for b in training.make_loader(X, y, 4, shuffle=True, seed=3)]
    assert all((p == q).all() for p, q in zip(a, b))
    with pytest.raises(ValueError, match=r"\(N, L, 4\)"):
        training.OneHotDataset(X[:, :, :3], y)
    with pytest.raises(ValueError, match="y must be an array of 10 0/1 labels, got 5"):
        training.make_loader(X, y[:5])
    with pytest.raises(ValueError, match="batch_size"):
        training.make_loader(X, y, batch_size=0)


def test_fit_learns_and_history_keys():
    from workshop_utils.plotting import plot_history

    tr, va = _toy(400, 0), _toy(200, 1)
    m = _model()
    before = training.evaluate(m, *va)
    h = training.fit(m, tr, va, epochs=15, lr=0.05, patience=None, progress=False)
    after = training.evaluate(m, *va)
    assert len(h["loss"]) == len(h["val_loss"]) == len(h["val_auroc"]) == 15
    assert after["auroc"] > 0.9 > before["auroc"] and after["loss"] < before["loss"]
    assert h["loss"][-1] < h["loss"][0]
    assert 0 <= h["best_epoch"] < 15 and h["stopped_early"] is False
    assert h["val_loss"][h["best_epoch"]] == min(h["val_loss"])  # 0-based, like fit_dense
    plot_history(h, metrics=("loss",))  # same keys as a Keras History


def test_early_stopping_restores_best_weights():
    tr, va = _toy(200, 0), _toy(100, 1)
    va = (va[0], 1 - va[1])  # validation labels flipped: val_loss gets worse as training learns
    m = _model()
    h = training.fit(m, tr, va, epochs=30, lr=0.05, patience=2, restore_best=True, progress=False)
    assert h["stopped_early"] and len(h["loss"]) == h["best_epoch"] + 3  # best, then `patience` worse epochs
    best = min(h["val_loss"])
    assert h["val_loss"][h["best_epoch"]] == best
    assert training.evaluate(m, *va)["loss"] == pytest.approx(best, rel=1e-5)


def test_fit_is_reproducible_and_validates():
    tr, va = _toy(100, 0), _toy(50, 1)
    h1 = training.fit(_model(), tr, va, epochs=2, progress=False, seed=5)
    h2 = training.fit(_model(), tr, va, epochs=2, progress=False, seed=5)
    assert h1["loss"] == h2["loss"]
    with pytest.raises(TypeError, match="train must be a tuple"):
        training.fit(_model(), tr[0], va, progress=False)
    with pytest.raises(ValueError, match="optimizer"):
        training.fit(_model(), tr, va, optimizer="rmsprop", progress=False)
    with pytest.raises(ValueError, match="epochs"):
        training.fit(_model(), tr, va, epochs=0, progress=False)


def test_evaluate_keras_and_torch_agree(keras_cnn, onehot):
    import torch

    y = np.array([0, 1] * 4, dtype=np.float32)
    ek = training.evaluate(keras_cnn, onehot, y)
    assert set(ek) >= {"loss", "auroc", "aupr", "accuracy", "sensitivity", "specificity", "confusion"}
    # the loss equals keras' own binary cross-entropy on the probabilities
    import keras

    p = np.asarray(keras_cnn(onehot)).ravel()
    ref = float(keras.losses.binary_crossentropy(y, p))
    assert ek["loss"] == pytest.approx(ref, rel=1e-3)
    m = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(120, 1))
    z = m(torch.from_numpy(onehot)).detach().reshape(-1)
    ref_t = float(torch.nn.functional.binary_cross_entropy_with_logits(z, torch.from_numpy(y)))
    assert training.evaluate(m, onehot, y)["loss"] == pytest.approx(ref_t, rel=1e-5)


def test_keras_callbacks(tmp_path):
    cbs = training.keras_callbacks(patience=2, checkpoint_path=str(tmp_path / "best.keras"))
    assert cbs[0].patience == 2 and cbs[0].restore_best_weights and len(cbs) == 2
    with pytest.raises(ValueError, match="checkpoint_path"):
        training.keras_callbacks(checkpoint_path="best.h5")


def test_day1_modules_import_no_framework():
    import subprocess
    import sys

    code = ("import sys; import workshop_utils.training, workshop_utils.models, workshop_utils.metrics, "
            "workshop_utils.plotting; bad=[m for m in ('torch','tensorflow','keras') if m in sys.modules]; "
            "assert not bad, bad")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_fit_binary_trains_torch_and_keras_and_the_old_place_warns():
    import keras

    tr, va = _toy(200, 0), _toy(100, 1)
    m = _model()
    before = training.evaluate(m, *va)["loss"]
    n = training.fit_binary(m, tr, va, epochs=4, batch_size=32, patience=2, seed=0, lr=0.05)
    assert 1 <= n <= 4 and training.evaluate(m, *va)["loss"] < before
    keras.utils.set_random_seed(0)
    km = keras.Sequential([keras.Input((20, 4)), keras.layers.Flatten(), keras.layers.Dense(1),
                           keras.layers.Activation("sigmoid")])
    with pytest.raises(ValueError, match="a compiled Keras model"):
        training.fit_binary(km, tr, va, epochs=2, batch_size=32, patience=1, seed=0)
    km.compile(optimizer="adam", loss="binary_crossentropy")
    assert 1 <= training.fit_binary(km, tr, va, epochs=2, batch_size=32, patience=1, seed=0, lr=0.01) <= 2
    from workshop_utils import backend

    with pytest.warns(DeprecationWarning, match=r"backend\.fit_binary has moved to workshop_utils\.training"):
        assert backend.fit_binary is training.fit_binary
