"""workshop_utils.attribution (gradients; ISM is tested with mutagenesis): saliency, gradient x input, IG, collapses."""
import numpy as np
import pytest

from workshop_utils import backend
from workshop_utils.attribution import _ig_gauss_legendre, gradient_x_input, integrated_gradients, saliency


def test_saliency_and_gradient_x_input(torch_cnn, onehot):
    s = saliency(torch_cnn, onehot)
    gxi = gradient_x_input(torch_cnn, onehot)
    assert s.shape == gxi.shape == onehot.shape
    np.testing.assert_allclose(gxi, s * onehot)
    assert (gxi[onehot == 0] == 0).all()
    with pytest.raises(ValueError, match=r"shape \(N, L, 4\)"):
        saliency(torch_cnn, onehot[0])


def test_top_window_and_site_overlap():
    from workshop_utils.attribution import position_importance, site_overlap, top_window

    imp = np.zeros((2, 50))
    imp[0, 10:15] = 1
    imp[1, 40:50] = 2
    starts = top_window(imp, width=5)
    assert starts.tolist() == [10, 40]  # the first of equally good windows
    assert site_overlap(starts, np.array([12, -1]), width=5, site_width=5).tolist() == [True, False]
    assert site_overlap(np.array([0]), np.array([5]), width=5, site_width=5).tolist() == [False]
    attr = np.zeros((1, 50, 4))
    attr[0, 3, 2] = -4
    assert position_importance(attr)[0, 3] == 4
    with pytest.raises(ValueError, match="width must be"):
        top_window(imp, width=0)


def test_centred_gradients_and_position_importance(torch_cnn, onehot):
    from workshop_utils.attribution import centre_bases, position_importance

    s = saliency(torch_cnn, onehot)
    sc = saliency(torch_cnn, onehot, centre=True)
    np.testing.assert_allclose(sc, s - s.mean(-1, keepdims=True), atol=1e-7)
    np.testing.assert_allclose(sc.sum(-1), 0, atol=1e-6)
    np.testing.assert_allclose(centre_bases(s), sc, atol=1e-7)
    # centred gradient x input is the centred saliency read at the observed base
    gc = gradient_x_input(torch_cnn, onehot, centre=True)
    np.testing.assert_allclose(gc, sc * onehot, atol=1e-7)
    np.testing.assert_allclose(position_importance(gc, reduce="sum"), np.abs((sc * onehot).sum(-1)), atol=1e-7)
    np.testing.assert_allclose(position_importance(s), np.abs(s).max(-1))
    a = np.zeros((1, 3, 4), np.float32)
    a[0, 0] = [1, -3, 0, 0]
    np.testing.assert_allclose(position_importance(a, reduce="sum")[0], [2, 0, 0])
    np.testing.assert_allclose(position_importance(a)[0], [3, 0, 0])
    with pytest.raises(ValueError, match="position_importance: reduce must be one of 'max', 'sum'"):
        position_importance(a, reduce="mean")
    with pytest.raises(ValueError, match=r"centre_bases: attr must be an attribution map of shape \(N, L, 4\)"):
        centre_bases(np.zeros((1, 3, 5)))
    with pytest.raises(TypeError, match="saliency: centre"):
        saliency(torch_cnn, onehot, centre="yes")


@pytest.mark.parametrize("which", ["torch_cnn", "keras_cnn"])
def test_integrated_gradients_with_shuffled_references(which, request, onehot):
    from workshop_utils.attribution import integrated_gradients
    from workshop_utils.sequences import dinucleotide_shuffle

    model = request.getfixturevalue(which)
    X = onehot[:3]
    ig = integrated_gradients(model, X, baseline="shuffle", n_shuffles=3, n_steps=24, seed=5)
    assert ig.shape == X.shape and ig.dtype == np.float32
    # the average of IG over the same three shuffles, drawn from the same generator
    rng = np.random.default_rng(5)
    refs = [dinucleotide_shuffle(X, rng) for _ in range(3)]
    manual = np.mean([integrated_gradients(model, X, baseline=r, n_steps=24) for r in refs], axis=0)
    np.testing.assert_allclose(ig, manual, atol=1e-5)
    # completeness against the mean logit of the references
    gap = backend.logits(model, X) - np.mean([backend.logits(model, r) for r in refs], axis=0)
    np.testing.assert_allclose(ig.sum((1, 2)), gap, atol=2e-3)
    # a position where every reference has the observed base gets nothing
    same = np.all([(r == X).all(-1) for r in refs], axis=0)
    assert np.abs(ig[same]).max(initial=0) < 1e-6
    with pytest.raises(ValueError, match="integrated_gradients: baseline must be one of 'shuffle'"):
        integrated_gradients(model, X, baseline="uniform")
    with pytest.raises(ValueError, match="integrated_gradients: n_shuffles"):
        integrated_gradients(model, X, baseline="shuffle", n_shuffles=0)


def test_integrated_gradients_torch_is_captum(torch_cnn, onehot):
    import torch
    from captum.attr import IntegratedGradients

    ig = integrated_gradients(torch_cnn, onehot, n_steps=16, batch_size=3)
    assert ig.shape == onehot.shape and ig.dtype == np.float32
    ours = _ig_gauss_legendre(torch_cnn, onehot, np.full_like(onehot, 0.25), 16, 256)
    np.testing.assert_allclose(ig, ours, atol=1e-6)
    captum = IntegratedGradients(lambda x: torch_cnn(x)[:, 0]).attribute(
        torch.from_numpy(onehot), baselines=torch.full_like(torch.from_numpy(onehot), 0.25), n_steps=16,
        method="gausslegendre").detach().numpy()
    np.testing.assert_allclose(ig, captum, atol=1e-5)
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
