"""Expression preprocessing and the biology checks of a representation."""
from __future__ import annotations

import numpy as np
import pytest

from workshop_utils import expression as ex


@pytest.fixture
def clusters():
    """Three well separated cell types in 5-D (30 cells each) plus 5 noise dimensions."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.array(["a", "b", "c"]), 30)
    centers = {"a": 0.0, "b": 5.0, "c": -5.0}
    signal = np.stack([np.full(5, centers[c]) for c in labels]) + rng.normal(size=(90, 5))
    return np.hstack([signal, rng.normal(size=(90, 5))]).astype(np.float32), labels


def test_variable_genes_ranks_by_variance_and_mad():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4)) * np.array([1.0, 3.0, 0.1, 2.0])
    np.testing.assert_array_equal(ex.variable_genes(X, 4), [1, 3, 0, 2])
    np.testing.assert_array_equal(ex.variable_genes(X, 2, method="mad"), [1, 3])
    sparse = np.zeros((10, 3))
    sparse[0, 0], sparse[:2, 2] = 5.0, 1.0  # all MADs are 0: the variance breaks the tie
    assert ex.variable_genes(sparse, 1, method="mad")[0] == 0


def test_scale_01_and_preprocess():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 6)) * np.arange(1, 7)
    X01, keep = ex.preprocess(X, 3)
    assert X01.shape == (50, 3) and X01.dtype == np.float32
    np.testing.assert_array_equal(keep, [5, 4, 3])
    np.testing.assert_allclose(X01.min(0), 0.0, atol=1e-6)
    np.testing.assert_allclose(X01.max(0), 1.0, atol=1e-6)
    # fitted on a reference, applied elsewhere, clipped to [0, 1]
    out = ex.scale_01(X * 2, reference=X)
    assert out.min() >= 0 and out.max() <= 1


def test_knn_accuracy_separates_signal_from_noise(clusters):
    X, labels = clusters
    assert ex.knn_accuracy(X, labels) > 0.95
    shuffled = np.random.default_rng(0).permutation(labels)
    assert ex.knn_accuracy(X, shuffled) < 0.6
    assert 0 <= ex.knn_accuracy(X, labels, balanced=True) <= 1


def test_separating_dimensions_finds_the_marker(clusters):
    X, labels = clusters
    table = ex.separating_dimensions(X, labels, "b")
    assert list(table.columns) == ["dimension", "auroc", "separation", "mean_in", "mean_out"]
    assert len(table) == 10
    assert table.loc[0, "dimension"] < 5 and table.loc[0, "auroc"] > 0.95
    assert table["separation"].is_monotonic_decreasing
    assert table["separation"].iloc[-1] < 0.5  # a noise dimension


def test_input_validation(clusters):
    X, labels = clusters
    with pytest.raises(ValueError, match="n_genes"):
        ex.variable_genes(X, 0)
    with pytest.raises(ValueError, match="method"):
        ex.variable_genes(X, 2, method="cv")
    with pytest.raises(ValueError, match="2-D"):
        ex.preprocess(X[0])
    with pytest.raises(ValueError, match="NaN"):
        ex.scale_01(np.full((3, 2), np.nan))
    with pytest.raises(ValueError, match="reference"):
        ex.scale_01(X, reference=X[:, :3])
    with pytest.raises(ValueError, match="labels"):
        ex.knn_accuracy(X, labels[:-1])
    with pytest.raises(ValueError, match="folds"):
        ex.knn_accuracy(X, labels, folds=31)
    with pytest.raises(ValueError, match="cell_type"):
        ex.separating_dimensions(X, labels, "z")
    with pytest.raises(ValueError, match="genes"):
        ex.preprocess(X, genes=["g"])


def test_plot_embedding_and_dimension_by_label(clusters):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from workshop_utils.plotting import plot_dimension_by_label, plot_embedding

    X, labels = clusters
    ax = plot_embedding(X[:, :2], labels, title="t")
    assert len(ax.collections) == 3 and ax.get_title() == "t"  # one scatter per label
    assert len(plot_embedding(X[:, :2], X[:, 0]).collections) == 1  # continuous colours
    ax = plot_dimension_by_label(X[:, 0], labels, highlight="b")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="Z"):
        plot_embedding(X[:, :3], labels)
    with pytest.raises(ValueError, match="labels"):
        plot_embedding(X[:, :2], labels[:5])
    with pytest.raises(ValueError, match="highlight"):
        plot_dimension_by_label(X[:, 0], labels, highlight="z")
    plt.close("all")
