"""workshop_utils.nas.dense_space: the dense search spaces, arc decoding and layer shapes (no framework)."""
from __future__ import annotations

import pytest

from workshop_utils.nas.dense_space import (DECISIONS, DenseChoice, LayerChoice, LayerwiseSpec, activation_names,
                                            arc_spec, check_space, dense_model_space, layerwise_model_space,
                                            linear_shapes, module_key, supernet_shapes)
from workshop_utils.nas.space import ModelSpace, Operation

ARCS = {"mlp": [0, 0, 1, 0, 1], "resnet": [1, 1, 2, 1, 0], "densenet": [2, 0, 2, 2, 2]}


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


def test_layerwise_space_decides_per_layer_width_activation_and_skips():
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


def test_supernet_shapes_is_the_union_over_all_children():
    import itertools

    for space in (layerwise_model_space(n_layers=3, units=(4, 8), activation=("relu", "linear")), small_space()):
        union = {}
        for arc in itertools.product(*(range(n) for n in space.choices)):
            union.update(linear_shapes(arc_spec(space, list(arc)), 12, 3))
        assert supernet_shapes(space, 12, 3) == union
    assert activation_names(arc_spec(small_space(), ARCS["resnet"])) == ["elu"] * 7   # 2 per residual block (3) + 1
    with pytest.raises(ValueError, match="n_features"):
        supernet_shapes(small_space(), 0, 3)


def test_check_space_and_module_key():
    space = small_space()
    assert check_space(space) is space
    with pytest.raises(TypeError, match="ModelSpace"):
        check_space([[DenseChoice("family", "mlp")]])
    with pytest.raises(ValueError, match="dense decisions"):
        check_space(ModelSpace([[Operation("dense", units=4)]]))
    assert module_key("resnet-16-b0a") == "resnet_16_b0a"


def test_the_space_names_still_import_from_dense():
    """The lessons import the spaces from nas.dense: the same objects, no warning."""
    import warnings

    from workshop_utils.nas import dense

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert dense.dense_model_space is dense_model_space and dense.arc_spec is arc_spec
        assert dense.layerwise_model_space is layerwise_model_space and dense.LayerChoice is LayerChoice
