"""SHAP for tabular classifiers: values, per-class gene rankings, marker checks, plot."""
from __future__ import annotations

import numpy as np
import pytest

from workshop_utils.explain import check_markers, class_gene_ranking, marker_ranks, plot_class_genes, shap_values
from workshop_utils.nas.dense import build_dense, dense_model_space, fit_dense, predict_logits

GENES = [f"g{i}" for i in range(10)]
CLASSES = ["A", "B", "C"]


@pytest.fixture(scope="module")
def trained():
    """A small resnet trained on blobs where class k is marked by gene k."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    X = rng.normal(size=(300, 10)).astype(np.float32)
    X[np.arange(300), y] += 3.0
    space = dense_model_space(units=(16,), depth=(1,), activation=("relu",), dropout=(0.0,))
    model = build_dense(space, [1, 0, 0, 0, 0], 10, 3, seed=0)
    fit_dense(model, X[:200], y[:200], X[200:], y[200:], epochs=40, patience=5, seed=0)
    return model, X, y


def test_deep_shap_is_additive_and_finds_the_marker_genes(trained):
    model, X, y = trained
    bg, xe, ye = X[:40], X[200:260], y[200:260]
    vals = shap_values(model, xe, bg, method="deep")
    assert vals.shape == (60, 10, 3)
    expected = predict_logits(model, xe) - predict_logits(model, bg).mean(0)
    assert np.allclose(vals.sum(1), expected, atol=1e-3)
    ranking = class_gene_ranking(vals, ye, GENES, CLASSES)
    assert [ranking[c].gene.iloc[0] for c in CLASSES] == ["g0", "g1", "g2"]
    assert list(ranking["A"].columns) == ["gene", "mean_shap", "rank"] and ranking["A"]["rank"].iloc[0] == 1


def test_gradient_explainer_agrees_on_the_top_gene(trained):
    model, X, y = trained
    vals = shap_values(model, X[200:230], X[:20], method="gradient", seed=0)
    ranking = class_gene_ranking(vals, y[200:230], GENES, CLASSES)
    assert [ranking[c].gene.iloc[0] for c in CLASSES if c in ranking] == ["g0", "g1", "g2"][:len(ranking)]


def test_marker_ranks_and_check(trained):
    model, X, y = trained
    vals = shap_values(model, X[200:260], X[:40])
    ranking = class_gene_ranking(vals, y[200:260], GENES, CLASSES)
    markers = {"A": ["g0", "NOT_IN_DATA"], "B": ["g0"], "Z": ["g1"]}
    table = marker_ranks(ranking, markers)
    assert list(table.gene) == ["g0", "g0"] and table["rank"].iloc[0] == 1 and table["rank"].iloc[1] > 1
    assert check_markers(ranking, markers, top_k=1) == {"A": True, "B": False}
    assert check_markers(ranking, {"A": ["absent"]}) == {}
    with pytest.raises(ValueError, match="top_k"):
        check_markers(ranking, markers, top_k=0)


def test_plot_class_genes(trained):
    import matplotlib

    matplotlib.use("Agg")
    model, X, y = trained
    ranking = class_gene_ranking(shap_values(model, X[200:230], X[:20]), y[200:230], GENES, CLASSES)
    fig = plot_class_genes(ranking, top=4, markers={"A": ["g0"]}, ncols=2)
    assert len(fig.axes) == 4 and len(fig.axes[0].patches) == 4
    with pytest.raises(ValueError, match="cell_types"):
        plot_class_genes(ranking, cell_types=["nope"])


def test_validation(trained):
    model, X, y = trained
    with pytest.raises(ValueError, match="background"):
        shap_values(model, X[:5], X[:5, :3])
    with pytest.raises(ValueError, match="method"):
        shap_values(model, X[:5], X[:5], method="kernel")
    with pytest.raises(TypeError, match="model"):
        shap_values(object(), X[:5], X[:5])
    with pytest.raises(ValueError, match="genes"):
        class_gene_ranking(np.zeros((4, 10, 3)), np.zeros(4, int), GENES[:3], CLASSES)
    with pytest.raises(ValueError, match="values"):
        class_gene_ranking(np.zeros((4, 10)), np.zeros(4, int), GENES, CLASSES)


def test_pbmc_markers_name_the_data_types_and_put_cd16_with_nk():
    import workshop_utils as wu
    from workshop_utils.explain import PBMC_MARKERS

    assert set(PBMC_MARKERS) <= set(wu.load_pbmc().cell_types)
    # FCGR3A (CD16) marks non-classical CD16+ monocytes and NK cells, not classical CD14+ monocytes
    assert "FCGR3A" not in PBMC_MARKERS["CD14+ Monocyte"]
    assert "FCGR3A" in PBMC_MARKERS["CD56+ NK"]
    assert "LYZ" in PBMC_MARKERS["CD14+ Monocyte"] and "CD14" in PBMC_MARKERS["CD14+ Monocyte"]
