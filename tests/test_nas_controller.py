"""workshop_utils.nas.controller: LSTM policy (REINFORCE) and random search."""
import numpy as np
import pytest

from workshop_utils.nas import GeneralController, RandomController, course_model_space


def test_controllers_are_deterministic_under_a_seed_and_return_probabilities():
    space = course_model_space()
    for cls in (GeneralController, RandomController):
        a, b, c = cls(space, seed=3), cls(space, seed=3), cls(space, seed=4)
        arcs_a = [a.get_action()[0] for _ in range(6)]
        arcs_b = [b.get_action()[0] for _ in range(6)]
        arcs_c = [c.get_action()[0] for _ in range(6)]
        assert arcs_a == arcs_b and arcs_a != arcs_c
        arc, probs = a.get_action()
        assert len(arc) == 4 and [len(p) for p in probs] == [6, 3, 7, 3]
        assert all(abs(p.sum() - 1) < 1e-5 for p in probs)
        space.check_arc(arc)


def test_controller_learns_a_synthetic_reward_with_one_best_arc():
    space = course_model_space()
    target = [3, 2, 6, 0]
    # tanh_constant=None: with the default cap of 1.5 no arc of this space can exceed p = 0.51
    ctl = GeneralController(space, seed=0, tanh_constant=None, lr=0.01)
    p0 = ctl.arc_probability(target)
    reached = None
    for step in range(200):
        arc, _ = ctl.get_action()
        ctl.update(arc, float(np.mean([a == t for a, t in zip(arc, target)])))
        if ctl.arc_probability(target) > 0.8:
            reached = step
            break
    assert p0 < 0.01
    assert reached is not None, f"p(target) only reached {ctl.arc_probability(target):.3f}"


def test_tanh_constant_caps_the_policy_and_random_controller_learns_nothing():
    space = course_model_space()
    ctl = GeneralController(space, seed=0, tanh_constant=1.5)
    with np.errstate(all="ignore"):
        assert max(p.max() for p in ctl.layer_probs([0, 0, 0, 0])) <= np.exp(1.5) / (np.exp(1.5) + 2 * np.exp(-1.5))
    rnd = RandomController(space, seed=0)
    assert rnd.update([0, 0, 0, 0], 0.9) == 0.0
    assert np.allclose(rnd.get_action()[1][0], 1 / 6)


def test_update_validates_inputs():
    space = course_model_space()
    ctl = GeneralController(space, seed=0)
    with pytest.raises(ValueError, match="layer 0 token 9"):
        ctl.update([9, 0, 0, 0], 0.5)
    with pytest.raises(ValueError, match="finite"):
        ctl.update([0, 0, 0, 0], float("nan"))
    with pytest.raises(TypeError, match="model_space"):
        GeneralController([[1, 2]])
    with pytest.raises(ValueError, match="temperature"):
        GeneralController(space, temperature=0)
