"""What the homework checks share (``grading/checks_common.py``): the small helpers Day 1 and Day 2 call."""
from __future__ import annotations

import numpy as np
import pytest

from workshop_utils.grading.checks_common import (auroc, bce, bool_vector, misclassified, probabilities,
                                                  same_scores)


def test_auroc_bce_and_misclassified_on_known_values():
    y, s = np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.4, 0.9])
    assert auroc(y, s) == 0.75 and auroc(y, y) == 1.0
    assert bce(np.array([1, 0]), np.array([0.5, 0.5])) == pytest.approx(np.log(2))
    assert np.isfinite(bce(np.array([1, 0]), np.array([0.0, 1.0])))  # clipped, never infinite
    assert misclassified(y, s).tolist() == [False, True, True, False]


def test_probabilities_and_bool_vector_refuse_what_a_student_may_export():
    v = {"s": [0.2, 0.7, 1.0], "bad": [0.2, 1.5, 0.1], "mask": [1, 0, 1], "worse": [2, 0, 1]}
    assert probabilities(v, "s", 3).tolist() == pytest.approx([0.2, 0.7, 1.0])
    with pytest.raises(ValueError, match=r"bad must be probabilities in \[0, 1\]"):
        probabilities(v, "bad", 3)
    assert bool_vector(v, "mask", 3).tolist() == [True, False, True]
    with pytest.raises(ValueError, match=r"mask must have shape \(4,\)"):
        bool_vector(v, "mask", 4)
    with pytest.raises(ValueError, match="worse must be True/False"):
        bool_vector(v, "worse", 3)


def test_same_scores_compares_with_the_exported_models_own_scores():
    v = {"test_scores": np.array([0.1, 0.5, 0.9]), "m": {"scores": np.array([0.1, 0.5, 0.9005])},
         "typed": np.array([0.1, 0.5, 0.7])}
    ok, msg = same_scores(v, "test_scores", "m", 3)
    assert ok and "largest difference" in msg
    ok, msg = same_scores({**v, "test_scores": v["typed"]}, "test_scores", "m", 3)
    assert not ok and "0.2" in msg
