"""workshop_utils.metrics: sklearn wrappers checked against hand-counted toy cases."""
from __future__ import annotations

import numpy as np
import pytest

from workshop_utils.metrics import binary_metrics, mistake_overlap, top_confident

Y = np.array([0, 0, 0, 1, 1, 1, 1, 0])
S = np.array([0.1, 0.6, 0.2, 0.9, 0.4, 0.8, 0.7, 0.3])


def test_binary_metrics_hand_counted():
    m = binary_metrics(Y, S, threshold=0.5)
    # predictions: 0 1 0 1 0 1 1 0 -> TN=3, FP=1, FN=1, TP=3
    assert m["confusion"].tolist() == [[3, 1], [1, 3]]
    assert m["sensitivity"] == pytest.approx(0.75) and m["specificity"] == pytest.approx(0.75)
    assert m["accuracy"] == pytest.approx(0.75) and m["precision"] == pytest.approx(0.75)
    # 16 positive-negative pairs, one misordered (0.4 < 0.6)
    assert m["auroc"] == pytest.approx(15 / 16)
    assert 0.5 < m["aupr"] <= 1.0


def test_binary_metrics_threshold_and_perfect():
    assert binary_metrics(Y, Y.astype(float))["auroc"] == 1.0
    assert binary_metrics(Y, S, threshold=0.0)["sensitivity"] == 1.0
    assert binary_metrics(Y, S, threshold=0.0)["specificity"] == 0.0


def test_binary_metrics_validation():
    with pytest.raises(ValueError, match="y_score"):
        binary_metrics(Y, S[:3])
    with pytest.raises(ValueError, match="y_true"):
        binary_metrics(np.array([0, 2, 1]), np.array([0.1, 0.2, 0.3]))
    with pytest.raises(TypeError, match="threshold"):
        binary_metrics(Y, S, threshold="0.5")


def test_mistake_overlap_counts():
    a = np.array([0.1, 0.6, 0.2, 0.9, 0.4, 0.8, 0.7, 0.3])  # wrong on 1, 4
    b = np.array([0.1, 0.6, 0.7, 0.9, 0.8, 0.8, 0.2, 0.3])  # wrong on 1, 2, 6
    m = mistake_overlap(Y, a, b)
    assert (m["wrong_a"], m["wrong_b"], m["wrong_both"]) == (2, 3, 1)
    assert (m["wrong_only_a"], m["wrong_only_b"]) == (1, 2)
    assert m["jaccard"] == pytest.approx(1 / 4)
    assert m["table"].tolist() == [[4, 2], [1, 1]] and m["table"].sum() == len(Y)
    assert 0 <= m["mcnemar_p"] <= 1 and -1 <= m["kappa"] <= 1
    same = mistake_overlap(Y, a, a)
    assert same["jaccard"] == 1.0 and same["kappa"] == 1.0 and same["mcnemar_p"] == 1.0


def test_mistake_overlap_validation():
    with pytest.raises(ValueError, match="score_b"):
        mistake_overlap(Y, S, S[:-1])


def test_top_confident():
    assert top_confident(S, k=2).tolist() == [3, 5]
    assert top_confident(S, k=2, y_true=Y, label=0).tolist() == [1, 7]
    with pytest.raises(ValueError, match="k must"):
        top_confident(S, k=0)


def test_plot_confusion():
    import matplotlib

    matplotlib.use("Agg")
    from workshop_utils.plotting import plot_confusion

    ax = plot_confusion(binary_metrics(Y, S)["confusion"], normalize=True, title="t")
    assert ax.get_title() == "t"
    with pytest.raises(ValueError, match="confusion"):
        plot_confusion(np.zeros((3, 3)))


def test_bootstrap_interval_covers_the_score_and_narrows_with_more_samples():
    from workshop_utils.metrics import bootstrap_interval

    def accuracy(y, p):
        return float(np.mean(y == p))

    rng = np.random.default_rng(0)
    widths = []
    for n in (50, 2000):
        y = rng.integers(0, 2, n)
        p = np.where(rng.random(n) < 0.8, y, 1 - y)         # about 80 % right
        low, high = bootstrap_interval(y, p, accuracy, n_boot=300, seed=0)
        assert low <= accuracy(y, p) <= high
        widths.append(high - low)
    assert widths[1] < widths[0] / 3                          # ~ 1 / sqrt(n)
    assert bootstrap_interval(y, p, accuracy, n_boot=300, seed=0) == bootstrap_interval(y, p, accuracy, n_boot=300,
                                                                                         seed=0)
    y = np.array([0, 1, 1, 0])
    assert bootstrap_interval(y, y, accuracy, n_boot=20) == (1.0, 1.0)   # a perfect model stays perfect


def test_bootstrap_interval_validation():
    from workshop_utils.metrics import bootstrap_interval

    y = np.array([0, 1, 1, 0])
    with pytest.raises(ValueError, match="y_pred"):
        bootstrap_interval(y, y[:3], lambda a, b: 0.0)
    with pytest.raises(TypeError, match="metric"):
        bootstrap_interval(y, y, "macro_f1")
    with pytest.raises(ValueError, match="level"):
        bootstrap_interval(y, y, lambda a, b: 0.0, level=1.0)
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_interval(y, y, lambda a, b: 0.0, n_boot=5)
