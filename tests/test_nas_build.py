"""workshop_utils.nas.build: one arc, the same model in Keras and PyTorch."""
import numpy as np
import pytest

from workshop_utils import backend
from workshop_utils.nas import (ModelSpace, Operation, SequentialModelBuilder, count_params,
                                course_model_space, infer_shapes)

INP = Operation("input", shape=(40, 4))
OUT = Operation("dense", units=1, activation="sigmoid")
COMPILE = {"loss": "binary_crossentropy", "optimizer": "adam", "learning_rate": 1e-3}


def small_space():
    return ModelSpace.from_dict([
        [Operation("conv1d", filters=4, kernel_size=5, activation="relu"),
         Operation("conv1d", filters=3, kernel_size=3, activation="tanh", padding="valid")],
        [Operation("maxpool1d", pool_size=4), Operation("avgpool1d", pool_size=2), Operation("identity"),
         Operation("batchnorm")],
        [Operation("flatten"), Operation("globalavgpool1d"), Operation("globalmaxpool1d")],
        [Operation("dense", units=5), Operation("dropout", rate=0.3), Operation("identity")],
    ])


@pytest.mark.parametrize("arc", [[0, 0, 0, 0], [1, 1, 1, 1], [0, 2, 2, 2], [1, 3, 0, 0]])
def test_same_arc_same_parameter_count_and_logit_shape_in_both_frameworks(arc, onehot):
    X = np.concatenate([onehot, onehot[:, :10]], axis=1)  # (8, 40, 4)
    km = SequentialModelBuilder(INP, OUT, small_space(), COMPILE, framework="keras")(arc)
    tm = SequentialModelBuilder(INP, OUT, small_space(), COMPILE, framework="torch")(arc)
    assert backend.framework(km) == "keras" and backend.framework(tm) == "torch"
    assert count_params(km) == count_params(tm) > 0
    assert km.layers[-1].__class__.__name__ == "Activation" and km.layers[-2].name == "logits"
    assert km.optimizer is not None  # compiled
    assert backend.logits(km, X).shape == (8,) and backend.logits(tm, X).shape == (8,)
    import torch

    assert tm(torch.from_numpy(X)).shape == (8, 1)


def test_course_space_counts_match_on_a_sample_of_arcs():
    space = course_model_space()
    kb = SequentialModelBuilder(Operation("input", shape=(200, 4)), OUT, space, COMPILE, "keras")
    tb = SequentialModelBuilder(Operation("input", shape=(200, 4)), OUT, space, COMPILE, "torch")
    for arc in ([0, 0, 6, 0], [3, 2, 2, 0], [5, 1, 4, 2]):
        assert count_params(kb(arc)) == count_params(tb(arc))
    # conv(32,7) 4*7*32+32=928; flatten of 50 x 32 -> Dense(1): 1601
    assert count_params(tb([0, 0, 6, 0])) == 928 + 50 * 32 + 1


def test_clear_errors_name_the_layer():
    b = SequentialModelBuilder(INP, OUT, small_space(), COMPILE, framework="torch")
    with pytest.raises(ValueError, match="expected 4 tokens"):
        b([0, 0, 0])
    with pytest.raises(ValueError, match="layer 1 token 7 is out of range"):
        b([0, 7, 0, 0])
    deep = ModelSpace.from_dict([[Operation("maxpool1d", pool_size=8)], [Operation("maxpool1d", pool_size=8)],
                                 [Operation("flatten")]])
    with pytest.raises(ValueError, match=r"layer 1 \(maxpool1d\(8\)\).*collapses"):
        SequentialModelBuilder(INP, OUT, deep, COMPILE, framework="keras")([0, 0, 0])
    nohead = ModelSpace.from_dict([[Operation("conv1d", filters=2, kernel_size=3)]])
    with pytest.raises(ValueError, match="flatten or a global pooling"):
        SequentialModelBuilder(INP, OUT, nohead, COMPILE)([0])
    with pytest.raises(ValueError, match="framework must be one of 'keras', 'torch'"):
        SequentialModelBuilder(INP, OUT, nohead, COMPILE, framework="jax")
    with pytest.raises(TypeError, match="inputs_op"):
        SequentialModelBuilder(OUT, OUT, nohead, COMPILE)


def test_infer_shapes():
    ops = [Operation("conv1d", filters=8, kernel_size=5, padding="valid"), Operation("maxpool1d", pool_size=4),
           Operation("flatten"), Operation("dense", units=3)]
    assert infer_shapes((40, 4), ops) == [(36, 8), (9, 8), (72,), (3,)]
    with pytest.raises(ValueError, match="layer 1 .*sequence input"):
        infer_shapes((10,), [Operation("dense", units=2), Operation("globalmaxpool1d")])


def test_backend_keyword_is_a_deprecated_spelling_of_framework():
    with pytest.warns(DeprecationWarning, match=r"backend=.*framework='torch'"):
        b = SequentialModelBuilder(INP, OUT, small_space(), COMPILE, backend="torch")
    assert b.framework == "torch" and b.learning_rate == 1e-3
    with pytest.warns(DeprecationWarning, match=r"\.framework"):
        assert b.backend == "torch"
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="backend must be one of"):
        SequentialModelBuilder(INP, OUT, small_space(), COMPILE, backend="jax")
    with pytest.raises(ValueError, match="backend must be left out when framework= is given"):
        SequentialModelBuilder(INP, OUT, small_space(), COMPILE, framework="torch", backend="keras")
    assert "framework='keras'" in repr(SequentialModelBuilder(INP, OUT, small_space(), COMPILE))
