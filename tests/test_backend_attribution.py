import numpy as np
import pytest

from workshop_utils import backend
from workshop_utils.attribution import gradient_x_input, saliency


def test_framework_detection(torch_cnn, keras_cnn):
    assert backend.framework(torch_cnn) == "torch"
    assert backend.framework(keras_cnn) == "keras"
    with pytest.raises(TypeError, match="keras.Model or a torch.nn.Module"):
        backend.framework(object())


def test_torch_logits_and_proba(torch_cnn, onehot):
    import torch

    z = backend.logits(torch_cnn, onehot, batch_size=3)
    assert z.shape == (8,) and z.dtype == np.float32
    with torch.no_grad():
        ref = torch_cnn(torch.from_numpy(onehot)).numpy().ravel()
    np.testing.assert_allclose(z, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(backend.predict_proba(torch_cnn, onehot), 1 / (1 + np.exp(-ref)), rtol=1e-5)


def test_keras_logits_skip_the_sigmoid(keras_cnn, onehot):
    z = backend.logits(keras_cnn, onehot, batch_size=3)
    p = keras_cnn.predict(onehot, verbose=0).ravel()
    np.testing.assert_allclose(1 / (1 + np.exp(-z)), p, rtol=1e-5, atol=1e-6)


def test_keras_model_with_sigmoid_inside_dense_is_rejected(onehot):
    import keras

    m = keras.Sequential([keras.Input((30, 4)), keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")])
    with pytest.raises(ValueError, match=r"Dense\(1\) followed by Activation\('sigmoid'\)"):
        backend.logits(m, onehot)


def _finite_difference(f, X, eps=1e-2):
    g = np.zeros_like(X)
    for idx in np.ndindex(X.shape[1:]):
        Xp, Xm = X.copy(), X.copy()
        Xp[(slice(None),) + idx] += eps
        Xm[(slice(None),) + idx] -= eps
        g[(slice(None),) + idx] = (f(Xp) - f(Xm)) / (2 * eps)
    return g


@pytest.mark.parametrize("which", ["torch_cnn", "keras_cnn"])
def test_input_gradient_matches_finite_differences(which, request, onehot):
    model = request.getfixturevalue(which)
    X = onehot[:2, :12] if which == "torch_cnn" else onehot[:2]
    g = backend.input_gradient(model, X)
    assert g.shape == X.shape
    fd = _finite_difference(lambda x: backend.logits(model, x).astype(np.float64), X.astype(np.float64))
    np.testing.assert_allclose(g, fd, atol=2e-3)


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


def test_eval_mode_restores_training_mode(torch_cnn, keras_cnn):
    torch_cnn.train()
    with backend.eval_mode(torch_cnn) as device:
        assert not torch_cnn.training and device.type == "cpu"
    assert torch_cnn.training
    with pytest.raises(RuntimeError, match="inside"):
        with backend.eval_mode(torch_cnn):
            raise RuntimeError("inside")
    assert torch_cnn.training
    # a model whose parts are in different modes gets each part's mode back
    torch_cnn.eval()
    torch_cnn.conv.train()
    with backend.eval_mode(torch_cnn):
        assert not torch_cnn.conv.training
    assert torch_cnn.conv.training and not torch_cnn.training and not torch_cnn.fc.training
    with backend.eval_mode(keras_cnn) as device:  # Keras: nothing to switch
        assert device is None
