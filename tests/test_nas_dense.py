"""workshop_utils.nas.dense: the builder (torch and Keras), fit_dense on the one epoch loop, the metrics."""
from __future__ import annotations

import numpy as np
import pytest

from workshop_utils.nas.dense import (arc_spec, build_dense, class_weights, dense_model_space, fit_dense, linear_shapes,
                                      macro_f1, predict_logits)

ARCS = {"mlp": [0, 0, 1, 0, 1], "resnet": [1, 1, 2, 1, 0], "densenet": [2, 0, 2, 2, 2]}


def blobs(n=240, n_features=12, n_classes=3, seed=0):
    """Gaussian blobs: class k has mean +2 on feature k (so the problem is easy)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    X = rng.normal(size=(n, n_features)).astype(np.float32)
    X[np.arange(n), y] += 2.5
    return X, y


def small_space():
    return dense_model_space(units=(8, 16), depth=(1, 2, 3), activation=("relu", "elu", "tanh"),
                             dropout=(0.0, 0.25, 0.5))


@pytest.mark.parametrize("family", sorted(ARCS))
def test_torch_builder_shapes_and_params(family):
    import torch

    space = small_space()
    arc = ARCS[family]
    model = build_dense(space, arc, n_features=12, n_classes=4, seed=0)
    out = model(torch.zeros(5, 12))
    assert out.shape == (5, 4)
    shapes = linear_shapes(arc_spec(space, arc), 12, 4)
    expected = sum(i * o + o for i, o in shapes.values())
    assert sum(p.numel() for p in model.parameters()) == expected
    assert model.spec.family == family
    # the same seed builds the same weights; another seed, other weights
    again = build_dense(space, arc, 12, 4, seed=0)
    other = build_dense(space, arc, 12, 4, seed=1)
    x = torch.randn(3, 12)
    model.eval(), again.eval(), other.eval()
    assert torch.allclose(model(x), again(x)) and not torch.allclose(model(x), other(x))


def test_densenet_layers_see_all_earlier_outputs():
    shapes = linear_shapes(arc_spec(small_space(), [2, 1, 2, 0, 0]), 12, 4)  # densenet, 16 units, depth 3
    assert shapes == {"densenet-16-stem": (12, 16), "densenet-16-l0": (16, 16), "densenet-16-l1": (32, 16),
                      "densenet-16-l2": (48, 16), "densenet-16-head3": (64, 4)}


def test_builder_validation():
    space = small_space()
    with pytest.raises(ValueError, match="n_classes"):
        build_dense(space, ARCS["mlp"], 12, 0)
    with pytest.raises(ValueError, match="n_features"):
        build_dense(space, ARCS["mlp"], 0, 3)
    with pytest.raises(ValueError, match="framework"):
        build_dense(space, ARCS["mlp"], 12, 3, framework="jax")
    with pytest.raises(TypeError, match="space"):
        build_dense([[1]], ARCS["mlp"], 12, 3)


def assert_keras_matches_torch(space, arcs):
    """The Keras and torch builds of each arc: same parameter count, softmax outputs (2, 4)."""
    import keras

    for arc in arcs:
        km = build_dense(space, arc, 12, 4, framework="keras", seed=0)
        tm = build_dense(space, arc, 12, 4, seed=0)
        assert isinstance(km, keras.Model)
        assert km.count_params() == sum(p.numel() for p in tm.parameters())
        p = np.asarray(km(np.zeros((2, 12), np.float32)))
        assert p.shape == (2, 4) and np.allclose(p.sum(1), 1, atol=1e-5)


def test_keras_builder_matches_torch_parameter_count():
    assert_keras_matches_torch(small_space(), ARCS.values())


def test_fit_dense_learns_blobs_and_restores_best_epoch():
    X, y = blobs()
    space = small_space()
    model = build_dense(space, ARCS["resnet"], 12, 3, seed=0)
    before = macro_f1(y[180:], predict_logits(model, X[180:]))
    hist = fit_dense(model, X[:180], y[:180], X[180:], y[180:], epochs=30, patience=5, seed=0)
    after = macro_f1(y[180:], predict_logits(model, X[180:]))
    assert after > 0.85 and after > before
    assert len(hist["val_loss"]) <= 30 and 0 <= hist["best_epoch"] < len(hist["val_loss"])
    assert not model.training
    # the restored weights are those of the best epoch
    import torch

    loss = torch.nn.CrossEntropyLoss(weight=torch.from_numpy(class_weights(y[:180], 3)))
    with torch.no_grad():
        v = float(loss(model(torch.from_numpy(X[180:])), torch.from_numpy(y[180:])))
    assert v == pytest.approx(min(hist["val_loss"]), rel=1e-4)


def test_fit_dense_validation():
    X, y = blobs(40)
    model = build_dense(small_space(), ARCS["mlp"], 12, 3)
    with pytest.raises(ValueError, match="y_train"):
        fit_dense(model, X, y[:-1], X, y)
    with pytest.raises(ValueError, match="X_valid"):
        fit_dense(model, X, y, X[:, :, None], y)
    with pytest.raises(ValueError, match="epochs"):
        fit_dense(model, X, y, X, y, epochs=0)


def test_macro_f1_equals_scikit_learn_on_random_labels():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    for n, k in [(5, 2), (40, 3), (175, 10), (30, 12)]:       # some classes missing from one side or both
        y = rng.integers(0, k, n)
        pred = np.where(rng.random(n) < 0.6, y, rng.integers(0, k + 2, n))
        assert macro_f1(y, pred) == pytest.approx(f1_score(y, pred, average="macro", zero_division=0), abs=1e-12)
    assert macro_f1(np.array([0, 0]), np.array([1, 1])) == 0.0


def test_class_weights_and_macro_f1():
    from sklearn.metrics import f1_score

    y = np.array([0, 0, 0, 1, 2, 2])
    w = class_weights(y, 4)
    assert np.allclose(w, [6 / 9, 6 / 3, 6 / 6, 1.0])
    pred = np.array([0, 1, 0, 1, 2, 0])
    assert macro_f1(y, pred) == pytest.approx(f1_score(y, pred, average="macro"))
    logits = np.eye(3)[pred]
    assert macro_f1(y, logits) == macro_f1(y, pred)
    with pytest.raises(ValueError, match="y"):
        class_weights(np.array([0.5, 1.0]), 2)


def test_fit_dense_can_monitor_validation_f1():
    X, y = blobs(200)
    model = build_dense(small_space(), ARCS["mlp"], 12, 3, seed=0)
    hist = fit_dense(model, X[:150], y[:150], X[150:], y[150:], epochs=15, patience=4, monitor="val_f1", seed=0)
    assert macro_f1(y[150:], predict_logits(model, X[150:])) == pytest.approx(max(hist["val_f1"]))
    assert hist["val_f1"].index(max(hist["val_f1"])) == hist["best_epoch"]
    with pytest.raises(ValueError, match="monitor"):
        fit_dense(model, X, y, X, y, monitor="auroc")


def test_build_dense_regression_has_one_linear_output():
    """n_classes=1 is a regression network: torch gives (N, 1) outputs; Keras a linear output and MSE."""
    import torch

    space = small_space()
    x = np.random.default_rng(0).normal(size=(5, 12)).astype(np.float32)
    for arc in ARCS.values():
        model = build_dense(space, arc, 12, 1)
        with torch.no_grad():
            assert model(torch.from_numpy(x)).shape == (5, 1)
        km = build_dense(space, arc, 12, 1, framework="keras")
        assert km.output_shape == (None, 1) and km.layers[-1].get_config()["activation"] == "linear"
        assert km.loss == "mse"
        assert not np.allclose(km.predict(x, verbose=0), 1.0)      # not a softmax over one output


# --------------------------------------------------------------------------- the per-layer space (skip connections)
def test_layerwise_linear_shapes_sum_skips_through_projections():
    import torch

    from workshop_utils.nas.dense import layerwise_model_space

    space = layerwise_model_space(n_layers=3, units=(4, 8), activation=("relu", "linear"))
    arc = [1, 0, 0, 0, 1, 1, 1, 3]          # 8 relu | 4 relu +x | 8 linear +x+h1
    shapes = linear_shapes(arc_spec(space, arc), 12, 3)
    assert shapes == {"L1-x-8": (12, 8), "L2-8-4": (8, 4), "S0to2-x-4": (12, 4), "L3-4-8": (4, 8),
                      "S0to3-x-8": (12, 8), "S1to3-8-8": (8, 8), "head-8": (8, 3)}
    model = build_dense(space, arc, 12, 3, seed=0)
    assert model(torch.zeros(5, 12)).shape == (5, 3)
    assert sum(p.numel() for p in model.parameters()) == sum(i * o + o for i, o in shapes.values())
    # the forward pass by hand: layer 3 sums its main path and both skips before its (linear) activation
    L = {k.replace("_", "-"): m for k, m in model.linears.items()}
    x = torch.randn(5, 12)
    with torch.no_grad():
        h1 = torch.relu(L["L1-x-8"](x))
        h2 = torch.relu(L["L2-8-4"](h1) + L["S0to2-x-4"](x))
        h3 = L["L3-4-8"](h2) + L["S0to3-x-8"](x) + L["S1to3-8-8"](h1)
        assert torch.allclose(model(x), L["head-8"](h3), atol=1e-6)


def test_layerwise_keras_builder_matches_torch_parameter_count():
    from workshop_utils.nas.dense import layerwise_model_space

    space = layerwise_model_space(n_layers=3, units=(4, 8), activation=("relu", "tanh"))
    assert_keras_matches_torch(space, ([1, 0, 0, 0, 1, 1, 1, 3], [0, 1, 0, 1, 0, 0, 0, 0]))
