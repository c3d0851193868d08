"""ISM and integrated gradients (workshop_utils.attribution) against plain reference loops."""
import numpy as np
import pytest

from workshop_utils import backend
from workshop_utils.attribution import _ig_gauss_legendre, integrated_gradients, ism


def naive_ism(model, X):
    """The loop the course starts from: one forward pass per mutant, then centre per position."""
    n, L, _ = X.shape
    ref = backend.logits(model, X)
    out = np.zeros((n, L, 4))
    for k in range(n):
        for i in range(L):
            for b in range(4):
                if X[k, i, b] == 1:
                    continue
                m = X[k:k + 1].copy()
                m[0, i] = 0
                m[0, i, b] = 1
                out[k, i, b] = backend.logits(model, m)[0] - ref[k]
    return out - out.mean(-1, keepdims=True)


@pytest.mark.parametrize("which", ["torch_cnn", "keras_cnn"])
def test_ism_matches_the_plain_loop(which, request, onehot):
    model = request.getfixturevalue(which)
    X = onehot[:3] if which == "torch_cnn" else onehot[:2]
    expected = naive_ism(model, X)
    got = ism(model, X, batch_size=7)  # chunks that cut across sequences
    assert got.shape == X.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert np.abs(got).max() > 1e-4  # the toy model is not constant
    observed = ism(model, X, hypothetical=False, batch_size=1000)
    np.testing.assert_allclose(observed, expected * X, atol=1e-5)
    assert (observed[X == 0] == 0).all()


def test_ism_window_and_centring(torch_cnn, onehot):
    full = ism(torch_cnn, onehot)
    np.testing.assert_allclose(full.sum(-1), 0, atol=1e-5)
    part = ism(torch_cnn, onehot, start=5, end=-5, batch_size=50)
    assert part.shape == onehot.shape
    np.testing.assert_allclose(part[:, 5:-5], full[:, 5:-5], atol=1e-6)
    assert (part[:, :5] == 0).all() and (part[:, -5:] == 0).all()


def test_ism_on_an_unknown_base_mutates_all_four(torch_cnn, onehot):
    X = onehot[:1].copy()
    X[0, 4] = 0  # an N
    got = ism(torch_cnn, X, start=4, end=5)
    ref = backend.logits(torch_cnn, X)[0]
    deltas = []
    for b in range(4):
        m = X.copy()
        m[0, 4, b] = 1
        deltas.append(backend.logits(torch_cnn, m)[0] - ref)
    np.testing.assert_allclose(got[0, 4], np.array(deltas) - np.mean(deltas), atol=1e-5)


def test_ism_rejects_bad_arguments(torch_cnn, onehot):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        ism(torch_cnn, onehot, batch_size=0)
    with pytest.raises(ValueError, match="start/end must select"):
        ism(torch_cnn, onehot, start=10, end=10)
    with pytest.raises(TypeError, match="start must be an int"):
        ism(torch_cnn, onehot, start=1.5)
    with pytest.raises(ValueError, match=r"shape \(N, L, 4\)"):
        ism(torch_cnn, onehot.transpose(0, 2, 1))
    with pytest.raises(TypeError, match="keras.Model or a torch.nn.Module"):
        ism(object(), onehot)
    with pytest.raises(TypeError, match="hypothetical must be True or False"):
        ism(torch_cnn, onehot, hypothetical="yes")


def test_integrated_gradients_torch_is_captum_and_matches_our_quadrature(torch_cnn, onehot):
    ig = integrated_gradients(torch_cnn, onehot, n_steps=16, batch_size=3)
    assert ig.shape == onehot.shape and ig.dtype == np.float32
    ours = _ig_gauss_legendre(torch_cnn, onehot, np.full_like(onehot, 0.25), 16, 256)
    np.testing.assert_allclose(ig, ours, atol=1e-5)
    # completeness: attributions add up to logit(x) - logit(baseline)
    gap = backend.logits(torch_cnn, onehot) - backend.logits(torch_cnn, np.full_like(onehot, 0.25))
    np.testing.assert_allclose(ig.sum((1, 2)), gap, atol=1e-4)


def test_integrated_gradients_keras_completeness_and_baselines(keras_cnn, onehot):
    X = onehot[:3]
    zero = integrated_gradients(keras_cnn, X, baseline=0.0, n_steps=16)
    gap = backend.logits(keras_cnn, X) - backend.logits(keras_cnn, np.zeros_like(X))
    np.testing.assert_allclose(zero.sum((1, 2)), gap, atol=1e-4)
    assert (zero[X == 0] == 0).all()  # (x - 0) is zero off the observed base
    per_seq = integrated_gradients(keras_cnn, X, baseline=np.zeros(X.shape[1:]), n_steps=16)
    np.testing.assert_allclose(per_seq, zero, atol=1e-6)
    with pytest.raises(ValueError, match="baseline must be"):
        integrated_gradients(keras_cnn, X, baseline=np.zeros((5, 4)))
    with pytest.raises(ValueError, match="n_steps must be a positive integer"):
        integrated_gradients(keras_cnn, X, n_steps=0)


def test_plot_ism_heatmap_and_window_vs_motif():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from workshop_utils.motifs import ctcf_pfm
    from workshop_utils.plotting import plot_ism_heatmap, plot_window_vs_motif
    from workshop_utils.sequences import random_sequences

    x = random_sequences(1, 60, seed=0)[0]
    scores = np.random.default_rng(0).normal(size=(60, 4)) * 0.01
    # plant the CTCF logo (reverse strand) at 30..48: the window plot must find it there
    ppm = ctcf_pfm()
    scores[30:49] = (ppm - 0.25)[::-1, ::-1] * 5
    ax = plot_ism_heatmap(scores, x=x, title="t")
    assert ax.get_title() == "t" and len(ax.images) == 1
    assert ax.images[0].get_array().shape == (4, 60)
    axes = plot_window_vs_motif(scores, half_width=10)
    assert len(axes) == 2
    title = axes[1].get_title()
    assert "- strand" in title and float(title.split("r = ")[1]) > 0.8
    lo, hi = axes[0].get_xlim()
    assert 18 <= lo and hi <= 62  # the window is around the planted block
    with pytest.raises(ValueError, match=r"scores must have shape \(L, 4\)"):
        plot_ism_heatmap(scores.T)
    with pytest.raises(ValueError, match="x must have the shape of scores"):
        plot_ism_heatmap(scores, x=x[:10])
    with pytest.raises(ValueError, match="center must be an integer"):
        plot_window_vs_motif(scores, center=60)
    plt.close("all")
