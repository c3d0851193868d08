"""workshop_utils.backend: framework detection, logits, input gradients, eval mode: Keras and PyTorch alike."""
import numpy as np
import pytest

from workshop_utils import backend


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


def test_logits_and_input_gradient_name_the_callers_function(torch_cnn, onehot):
    np.testing.assert_array_equal(backend.logits(torch_cnn, onehot, fn="evaluate"), backend.logits(torch_cnn, onehot))
    with pytest.raises(ValueError, match=r"^saliency: batch_size must be a positive integer"):
        backend.logits(torch_cnn, onehot, 0, fn="saliency")
    bad = onehot.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"^integrated_gradients: X must be finite"):
        backend.input_gradient(torch_cnn, bad, fn="integrated_gradients")
    with pytest.raises(ValueError, match=r"^input_gradient: X must be finite"):
        backend.input_gradient(torch_cnn, bad)
