"""workshop_utils.nas.space: operations, model spaces, the course space."""
import numpy as np
import pytest

from workshop_utils.nas import ModelSpace, Operation, course_model_space


def test_operation_names_are_case_insensitive_and_accept_keras_spellings():
    assert Operation("Conv1D", filters=8, kernel_size=3) == Operation("conv1d", filters=8, kernel_size=3)
    assert Operation("MaxPooling1D", pool_size=4).name == "maxpool1d"
    assert Operation("GlobalAveragePooling1D").name == "globalavgpool1d"
    assert Operation("BatchNormalization").name == "batchnorm"
    assert Operation("AveragePooling1D", pool_size=2).name == "avgpool1d"
    assert str(Operation("conv1d", filters=32, kernel_size=7, activation="tanh")) == "conv1d(32, 7, tanh)"


@pytest.mark.parametrize("name,params,match", [
    ("convolution3d", {}, "unknown operation"),
    ("conv1d", {"filters": 8}, "kernel_size"),
    ("conv1d", {"filters": 0, "kernel_size": 3}, "filters"),
    ("conv1d", {"filters": 8, "kernel_size": 3, "padding": "causal"}, "padding"),
    ("dense", {"units": 4, "activation": "swishy"}, "activation"),
    ("dropout", {"rate": 1.5}, "rate"),
    ("maxpool1d", {"size": 2}, "does not take"),
])
def test_operation_rejects_bad_input(name, params, match):
    with pytest.raises(ValueError, match=match):
        Operation(name, **params)


def test_course_space_has_378_combinations_and_a_readable_summary():
    space = course_model_space()
    assert len(space) == 4
    assert space.choices == [6, 3, 7, 3]
    assert space.size == 378
    assert "4 layers, 378 combinations" in str(space)
    assert space.describe([0, 0, 6, 0]) == "conv1d(32, 7, relu) -> maxpool1d(4) -> identity -> flatten"


def test_from_dict_accepts_dicts_and_checks_arcs():
    space = ModelSpace.from_dict([[{"name": "Dense", "units": 8}, {"Layer_type": "identity"}],
                                  [Operation("dropout", rate=0.2)]])
    assert space.size == 2 and space[0][1].name == "identity"
    assert space.check_arc([1, 0]) == [1, 0]
    with pytest.raises(ValueError, match="expected 2 tokens"):
        space.check_arc([0])
    with pytest.raises(ValueError, match="layer 0 token 2 is out of range"):
        space.check_arc([2, 0])
    with pytest.raises(ValueError, match="at least one operation"):
        ModelSpace.from_dict([[]])
    with pytest.raises(TypeError, match="layers"):
        ModelSpace.from_dict("conv")


def test_random_arcs_are_the_random_controllers_draws_and_distinct_when_asked():
    from workshop_utils.nas import RandomController

    space = course_model_space()
    ctl = RandomController(space, seed=3)
    assert space.random_arcs(5, seed=3, distinct=False) == [list(ctl.get_action()[0]) for _ in range(5)]
    small = ModelSpace.from_dict([[Operation("identity"), Operation("dropout", rate=0.1)]])
    assert sorted(map(tuple, small.random_arcs(2, seed=0))) == [(0,), (1,)]   # both arcs, each once
    assert len(small.random_arcs(6, seed=0, distinct=False)) == 6
    assert space.random_arcs(4, seed=np.random.default_rng(7)) == space.random_arcs(4, seed=7)
    with pytest.raises(ValueError, match="at most the 2 arcs"):
        small.random_arcs(3, seed=0)
    with pytest.raises(ValueError, match="n"):
        space.random_arcs(0)
    with pytest.raises(TypeError):
        space.random_arcs(2, seed="a")
