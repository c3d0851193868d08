"""Reading a trained autoencoder (workshop_utils.autoencoder_eval): codes, reconstructions, losses, beta."""
from __future__ import annotations

import numpy as np
import pytest

from workshop_utils import autoencoder_eval as ev
from workshop_utils import autoencoders as ae


@pytest.fixture
def X():
    """40 samples x 6 features in [0, 1]."""
    return np.random.default_rng(0).random((40, 6)).astype(np.float32)


def test_autoencoders_reexports_every_name():
    for name in ev.__all__:
        assert getattr(ae, name) is getattr(ev, name)


def test_encode_is_deterministic_for_noisy_models(X):
    """Masking noise and VAE sampling are off at inference: encode twice, same codes."""
    for model in (ae.denoising_autoencoder(6, 3, noise=0.5), ae.vae(6, 2, hidden=(4,))):
        np.testing.assert_array_equal(ev.encode(model, X), ev.encode(model, X))


def test_beta_reaches_the_loss(X):
    """Loss(beta) = reconstruction + beta * KL/n: evaluate at two betas, same weights."""
    model = ae.vae(6, 2, hidden=(4,), beta=0.0)
    loss0 = model.evaluate(X, X, verbose=0)
    ev.set_beta(model, 1000.0)
    assert ev.get_beta(model) == 1000.0
    loss1000 = model.evaluate(X, X, verbose=0)
    ev.set_beta(model, 2000.0)
    loss2000 = model.evaluate(X, X, verbose=0)
    assert loss1000 > loss0 + 1e-3
    np.testing.assert_allclose(loss2000 - loss0, 2 * (loss1000 - loss0), rtol=1e-3)


def test_encoding_many_models_does_not_retrace(X, caplog):
    """encode/decode/reconstruction_loss call the model directly: no tf.function retracing warning."""
    import logging

    models = [ae.deep_autoencoder(6, 2, depth=1, width=4, seed=s) for s in range(7)]
    with caplog.at_level(logging.WARNING):
        for m in models:
            ev.decode(m, ev.encode(m, X))
            ev.reconstruction_loss(m, X)
    assert not [r for r in caplog.records if "retracing" in r.getMessage()]


def test_reconstruction_loss_is_the_mean_over_samples_and_features(X):
    model = ae.shallow_autoencoder(6, 2, seed=0)
    X_hat = model.predict(X, verbose=0).astype(np.float64)
    assert ev.reconstruction_loss(model, X, "mse") == pytest.approx(float(np.mean((X - X_hat) ** 2)), rel=1e-5)


def test_input_validation(X):
    model = ae.shallow_autoencoder(6, 2)
    with pytest.raises(ValueError, match="6 columns"):
        ev.encode(model, X[:, :5])
    with pytest.raises(ValueError, match="2-D"):
        ev.encode(model, X[0])
    with pytest.raises(TypeError, match="keras.Model"):
        ev.encode("model", X)
    with pytest.raises(ValueError, match=r"^decode: Z must be a matrix with 2 columns"):
        ev.decode(model, X)
    with pytest.raises(ValueError, match="no KL layer"):
        ev.set_beta(model, 1.0)
    with pytest.raises(ValueError, match="no KL layer"):
        ev.get_beta(model)
    with pytest.raises(ValueError, match="beta"):
        ev.set_beta(ae.vae(6, 2, hidden=()), -1.0)
    with pytest.raises(ValueError, match="loss"):
        ev.reconstruction_loss(model, X, loss="mae")
    with pytest.raises(ValueError, match="'z_mean' or 'code'"):
        import keras

        ev.latent_layer_name(keras.Sequential([keras.Input((6,)), keras.layers.Dense(6)]))
