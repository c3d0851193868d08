"""Dense search spaces for tables: the space, the builder (torch and Keras), the training loop."""
from __future__ import annotations

import numpy as np
import pytest

from workshop_utils.nas.dense import (DECISIONS, DenseChoice, arc_spec, build_dense, class_weights,
                                      dense_model_space, fit_dense, linear_shapes, macro_f1, predict_logits)
from workshop_utils.nas.space import ModelSpace, Operation

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


def test_space_is_a_model_space_of_five_decisions():
    space = dense_model_space()
    assert isinstance(space, ModelSpace) and len(space) == 5 and space.size == 243
    assert all(isinstance(op, Operation) for layer in space for op in layer)
    assert tuple(layer[0].name for layer in space) == DECISIONS
    assert space.describe([1, 1, 1, 0, 1]) == "resnet -> units=128 -> depth=2 -> relu -> dropout 0.25"
    spec = arc_spec(space, [2, 0, 2, 1, 2])
    assert (spec.family, spec.units, spec.depth, spec.activation, spec.dropout) == ("densenet", 64, 3, "elu", 0.5)
    assert dense_model_space(families=("mlp",)).size == 81


def test_space_and_choice_validation():
    with pytest.raises(ValueError, match="family"):
        DenseChoice("family", "cnn")
    with pytest.raises(ValueError, match="units"):
        DenseChoice("units", 0)
    with pytest.raises(ValueError, match="dropout"):
        DenseChoice("dropout", 1.0)
    with pytest.raises(ValueError, match="name"):
        DenseChoice("kernel", 3)
    with pytest.raises(ValueError, match="units"):
        dense_model_space(units=())
    with pytest.raises(ValueError, match="distinct"):
        dense_model_space(depth=(1, 1))
    with pytest.raises(ValueError, match="arc"):
        arc_spec(dense_model_space(), [0, 0, 0])
    with pytest.raises(ValueError, match="dense decisions"):
        arc_spec(ModelSpace([[Operation("dense", units=4)]]), [0])


def test_the_lesson_controller_samples_dense_arcs():
    from workshop_utils.nas.controller import GeneralController

    space = dense_model_space()
    ctrl = GeneralController(space, seed=0)
    arc, probs = ctrl.get_action()
    assert space.check_arc(arc) == arc and [len(p) for p in probs] == space.choices
    assert ctrl.update(arc, 0.5) is not None


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
def test_layerwise_space_decides_per_layer_width_activation_and_skips():
    from workshop_utils.nas.dense import LayerChoice, LayerwiseSpec, layerwise_model_space

    space = layerwise_model_space(n_layers=3, units=(8, 32, 128), activation=("relu", "tanh", "linear"))
    assert isinstance(space, ModelSpace) and len(space) == 8
    assert space.choices == [3, 3, 3, 3, 2, 3, 3, 4] and space.size == 3 ** 6 * 2 * 4
    assert all(isinstance(op, LayerChoice) for layer in space for op in layer)
    # layer 2 may take the input; layer 3 the input and/or hidden layer 1
    assert [op.value for op in space[4]] == [(), (0,)]
    assert [op.value for op in space[7]] == [(), (0,), (1,), (0, 1)]
    spec = arc_spec(space, [2, 0, 1, 0, 1, 1, 1, 3])
    assert spec == LayerwiseSpec(units=(128, 32, 32), activations=("relu", "relu", "tanh"),
                                 skips=((), (0,), (0, 1)))
    assert spec.depth == 3 and str(spec) == "128 relu | 32 relu+x | 32 tanh+x+h1"
    assert space.describe([2, 0, 1, 0, 1, 1, 1, 3], sep=", ") == (
        "L1 units=128, L1 relu, L2 units=32, L2 relu, L2 skip from x, L3 units=32, L3 tanh, L3 skip from x+h1")
    # without skips: width and activation per layer; max_skips limits the subsets
    assert layerwise_model_space(n_layers=2, skips=False).choices == [3, 3, 3, 3]
    assert layerwise_model_space(n_layers=4, max_skips=1).choices[-1] == 4   # (), (0,), (1,), (2,)
    assert arc_spec(layerwise_model_space(n_layers=1, dropout=0.25), [0, 0]).dropout == 0.25


def test_layerwise_space_and_choice_validation():
    from workshop_utils.nas.dense import LayerChoice, layerwise_model_space

    with pytest.raises(ValueError, match="layerwise_model_space: n_layers must be a positive integer, got 0"):
        layerwise_model_space(n_layers=0)
    with pytest.raises(ValueError, match="layerwise_model_space: units must be distinct options"):
        layerwise_model_space(units=(8, 8))
    with pytest.raises(TypeError, match="layerwise_model_space: activation must be a non-empty list"):
        layerwise_model_space(activation="relu")
    with pytest.raises(ValueError, match="layerwise_model_space: dropout must be a finite number in \\[0.0, 1.0\\)"):
        layerwise_model_space(dropout=1.0)
    with pytest.raises(ValueError, match="LayerChoice: value must be one of"):
        LayerChoice("activation", 1, "swish")
    with pytest.raises(ValueError, match="LayerChoice: value must be distinct layers in 0..1 .* for layer 3"):
        LayerChoice("skip", 3, (2,))
    with pytest.raises(ValueError, match="LayerChoice: value must be \\(\\) for layer 1"):
        LayerChoice("skip", 1, (0,))
    with pytest.raises(ValueError, match="LayerChoice: name must be one of"):
        LayerChoice("depth", 1, 2)
    with pytest.raises(ValueError, match="arc"):
        arc_spec(layerwise_model_space(), [0, 0, 0])


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


def test_supernet_shapes_is_the_union_over_all_children():
    import itertools

    from workshop_utils.nas.dense import activation_names, layerwise_model_space, supernet_shapes

    for space in (layerwise_model_space(n_layers=3, units=(4, 8), activation=("relu", "linear")), small_space()):
        union = {}
        for arc in itertools.product(*(range(n) for n in space.choices)):
            union.update(linear_shapes(arc_spec(space, list(arc)), 12, 3))
        assert supernet_shapes(space, 12, 3) == union
    assert activation_names(arc_spec(small_space(), ARCS["resnet"])) == ["elu"] * 7   # 2 per residual block (3) + 1
    with pytest.raises(ValueError, match="n_features"):
        supernet_shapes(small_space(), 0, 3)
