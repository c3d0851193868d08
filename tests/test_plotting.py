"""workshop_utils.plotting: each function draws what it says (read back from the Axes), on the Axes it is given."""
from __future__ import annotations

import numpy as np
import pytest

from workshop_utils import plotting
from workshop_utils.motifs import ctcf_pfm


@pytest.fixture(autouse=True)
def _close_figures():
    import matplotlib

    matplotlib.use("Agg")
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _ax():
    import matplotlib.pyplot as plt

    return plt.subplots()[1]


def test_logos_draw_on_the_given_axes_with_their_scale():
    ax = _ax()
    assert plotting.plot_logo(np.eye(4)[[0, 1, 2, 3, 0]] * -1.0, ax=ax, start=10) is ax
    assert ax.get_xlim()[0] < 10 < ax.get_xlim()[1] and ax.get_ylim()[0] < 0  # negative letters below the axis
    ax = plotting.plot_motif_logo(ctcf_pfm())
    assert ax.get_ylabel() == "bits" and ax.get_ylim() == (0, 2)
    assert plotting.plot_cwm(np.eye(4)[[2, 2, 1]] * 0.5).get_ylabel() == "contribution"
    with pytest.raises(ValueError, match=r"^plot_logo: matrix must be an array of shape \(L, 4\).*transpose it"):
        plotting.plot_logo(np.ones((4, 7)))


def test_roc_pr_draws_one_curve_per_model_with_its_score():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(50), np.ones(50)]
    axes = plotting.plot_roc_pr(y, {"good": y + rng.normal(0, 0.3, 100), "chance": rng.random(100)})
    assert len(axes) == 2
    labels = [line.get_label() for line in axes[0].get_lines() if not line.get_label().startswith("_")]
    assert len(labels) == 2 and labels[0].startswith("good") and labels[1].startswith("chance")
    with pytest.raises(ValueError, match="^plot_roc_pr: y_true must be labels of both classes"):
        plotting.plot_roc_pr(np.ones(5), {"m": np.arange(5.0)})


def test_history_draws_train_and_validation_curves():
    ax = plotting.plot_history({"loss": [1.0, 0.5, 0.4], "val_loss": [1.1, 0.7, 0.8], "val_auroc": [0.5] * 3})
    assert [line.get_label() for line in ax.get_lines()] == ["loss", "val_loss"]
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), [1.1, 0.7, 0.8])
    with pytest.raises(ValueError, match=r"^plot_history: metrics must be names in history"):
        plotting.plot_history({"loss": [1.0]}, metrics=("auroc",))


def test_confusion_shows_counts_or_row_fractions():
    ax = plotting.plot_confusion(np.array([[8, 2], [1, 9]]), normalize=True)
    assert sorted(t.get_text() for t in ax.texts) == ["0.10", "0.20", "0.80", "0.90"]
    with pytest.raises(ValueError, match="negative counts"):
        plotting.plot_confusion(np.array([[1, -1], [0, 1]]))


def test_embedding_colours_each_label_and_counts_it():
    Z = np.random.default_rng(0).normal(size=(30, 2))
    ax = plotting.plot_embedding(Z, np.array(["B"] * 10 + ["T"] * 20))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["B (10)", "T (20)"]
    with pytest.raises(ValueError, match=r"^plot_embedding: Z must be an array of shape \(N, 2\).*PCA"):
        plotting.plot_embedding(np.ones((5, 3)))


def test_trials_and_dimension_by_label():
    import pandas as pd

    table = pd.DataFrame({"depth": [1, 2, 3, 1], "width": [8, 8, 16, 16], "score": [0.3, 0.2, np.nan, 0.25]})
    ax = plotting.plot_trials(table, "depth", hue="width")
    assert ax.get_yscale() == "log" and [len(line.get_xdata()) for line in ax.get_lines()] == [2, 1]
    with pytest.raises(ValueError, match="^plot_trials: x must be a column of table"):
        plotting.plot_trials(table, "lr")
    ax = plotting.plot_dimension_by_label(np.arange(6.0), np.array(list("aabbcc")), highlight="b")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="^plot_dimension_by_label: highlight must be one of the labels"):
        plotting.plot_dimension_by_label(np.arange(6.0), np.array(list("aabbcc")), highlight="z")


def test_ism_heatmap_is_symmetric_and_marks_the_sequence():
    scores = np.zeros((8, 4))
    scores[3, 1] = 2.0
    x = np.eye(4, dtype=np.float32)[[0, 1, 2, 3, 0, 1, 2, 3]]
    ax = plotting.plot_ism_heatmap(scores, x=x, start=5)
    assert ax.images[0].get_clim() == (-2.0, 2.0)
    np.testing.assert_array_equal(ax.collections[0].get_offsets()[:, 0], np.arange(5, 13))
    with pytest.raises(ValueError, match=r"^plot_ism_heatmap: x must be the one-hot sequence scored"):
        plotting.plot_ism_heatmap(scores, x=x[:5])


def test_window_vs_motif_finds_a_planted_ctcf_site():
    ppm = ctcf_pfm()
    attr = np.zeros((60, 4))
    attr[20:20 + len(ppm)] = ppm * (ppm == ppm.max(1, keepdims=True))  # the consensus, forward strand
    axes = plotting.plot_window_vs_motif(attr)
    assert "motif (+ strand) at 20-38" in axes[1].get_title()
    with pytest.raises(ValueError, match=r"^plot_window_vs_motif: center must be an integer in \[0, 60\)"):
        plotting.plot_window_vs_motif(attr, center=60)
