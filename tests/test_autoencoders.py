"""Autoencoder builders and their callbacks: shapes, the KL warm-up reaching the loss, input checks
(reading a trained model: tests/test_autoencoder_eval.py)."""
from __future__ import annotations

import numpy as np
import pytest

from workshop_utils import autoencoders as ae


@pytest.fixture
def X():
    """40 samples x 6 features in [0, 1]."""
    return np.random.default_rng(0).random((40, 6)).astype(np.float32)


@pytest.mark.parametrize("build, latent_name", [
    (lambda: ae.shallow_autoencoder(6, 2), "code"),
    (lambda: ae.deep_autoencoder(6, 2, depth=2, width=5), "code"),
    (lambda: ae.deep_autoencoder(6, 3, depth=0, width=5), "code"),
    (lambda: ae.denoising_autoencoder(6, 3), "code"),
    (lambda: ae.denoising_autoencoder(6, 3, tied=False), "code"),
    (lambda: ae.vae(6, 2, hidden=(4,)), "z_mean"),
    (lambda: ae.vae(6, 2, hidden=()), "z_mean"),
    (lambda: ae.residual_vae(6, 2, width=4, blocks=2), "z_mean"),
])
def test_builders_shapes_encode_decode(build, latent_name, X):
    model = build()
    assert ae.latent_layer_name(model) == latent_name
    assert model.predict(X, verbose=0).shape == X.shape
    Z = ae.encode(model, X)
    latent = model.get_layer(latent_name).output.shape[-1]
    assert Z.shape == (40, latent) and Z.dtype == np.float32
    assert ae.decode(model, Z).shape == X.shape
    h = model.fit(X, X, epochs=1, batch_size=20, verbose=0)
    assert np.isfinite(h.history["loss"][0])
    assert np.isfinite(ae.reconstruction_loss(model, X, "binary_crossentropy"))


def test_masking_noise_zeroes_inputs_only_in_training():
    import keras

    from workshop_utils._keras_autoencoders import MaskingNoise

    layer = MaskingNoise(0.5, seed=1)
    x = np.ones((200, 10), np.float32)
    out = keras.ops.convert_to_numpy(layer(x, training=True))
    assert set(np.unique(out)) == {0.0, 1.0}  # zeroed, not rescaled like Dropout
    assert 0.4 < (out == 0).mean() < 0.6
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=False)), x)


def test_tied_decoder_shares_the_encoder_kernel():
    model = ae.denoising_autoencoder(6, 3, tied=True)
    names = sorted(v.path for v in model.trainable_variables)
    assert names == ["code/bias", "code/kernel", "reconstruction/bias"]


def test_shallow_autoencoder_matches_pca_error():
    """A linear AE can at best reach PCA's error (same subspace); trained, it gets close."""
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(0)
    X = (rng.normal(size=(300, 2)) @ rng.normal(size=(2, 4)) + 0.1 * rng.normal(size=(300, 4))).astype(np.float32)
    pca = PCA(1).fit(X)
    pca_mse = float(np.mean((X - pca.inverse_transform(pca.transform(X))) ** 2))
    model = ae.shallow_autoencoder(4, 1, learning_rate=0.05)
    model.fit(X, X, epochs=30, batch_size=30, verbose=0)
    mse = ae.reconstruction_loss(model, X)
    assert pca_mse * 0.99 <= mse <= pca_mse * 1.3


def test_kl_warmup_changes_the_training_loss(X):
    """With a zero learning rate only beta changes between epochs; the warm-up's beta must
    show up in the loss fit() reports (not just in a python attribute)."""
    import keras

    model = ae.vae(6, 2, hidden=(), beta=0.0, seed=3)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="binary_crossentropy")
    hist = model.fit(X, X, epochs=4, batch_size=40, verbose=0,
                     callbacks=[ae.kl_warmup(2, beta_max=500.0)]).history
    assert hist["beta"] == [0.0, 250.0, 500.0, 500.0]
    loss = np.array(hist["loss"])
    assert loss[1] > loss[0] + 1e-3 and loss[2] > loss[1] + 1e-3
    # the KL part grows linearly with beta (sampling noise moves only the reconstruction part a little)
    np.testing.assert_allclose(loss[2] - loss[0], 2 * (loss[1] - loss[0]), rtol=0.05)
    assert ae.get_beta(model) == 500.0


def test_loss_terms_add_up_to_the_validation_loss(X):
    """reconstruction + beta * kl is what Keras reports as val_loss, epoch after epoch."""
    model = ae.vae(6, 2, hidden=(4,), seed=1)
    hist = model.fit(X, X, validation_data=(X, X), epochs=4, batch_size=20, verbose=0,
                     callbacks=[ae.kl_warmup(2), ae.track_loss_terms(X)]).history
    total = np.array(hist["val_reconstruction"]) + np.array(hist["beta"]) * np.array(hist["val_kl"])
    np.testing.assert_allclose(total, hist["val_loss"], rtol=1e-4)
    terms = ae.loss_terms(model, X)
    assert terms["reconstruction"] == pytest.approx(ae.reconstruction_loss(model, X, "binary_crossentropy"))
    assert terms["kl"] == pytest.approx(hist["val_kl"][-1], rel=1e-5) and terms["kl"] >= 0
    with pytest.raises(ValueError, match="no KL layer"):
        ae.loss_terms(ae.shallow_autoencoder(6, 2), X)
    with pytest.raises(ValueError, match="X_val"):
        ae.track_loss_terms(np.full((3, 6), np.nan))


def test_kl_warmup_schedule_values():
    cb = ae.kl_warmup(4, beta_max=1.0)
    assert [cb.beta_at(e) for e in range(6)] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    assert ae.kl_warmup(0, beta_max=2.0).beta_at(0) == 2.0


def test_kl_warmup_with_kappa_is_tybalts_schedule():
    """Tybalt's form: beta grows by kappa per epoch, beta(e) = min(1, kappa * e)."""
    for kappa in (0.05, 0.3, 1.0, 2.5):
        cb = ae.kl_warmup(kappa=kappa)
        assert [cb.beta_at(e) for e in range(25)] == [min(1.0, kappa * e) for e in range(25)]
    cb = ae.kl_warmup(kappa=0.5, start=0.2, beta_max=1.5)
    assert [cb.beta_at(e) for e in range(5)] == [0.2, 0.7, 1.2, 1.5, 1.5]
    # kappa = 1 / warmup_epochs is the same schedule as warmup_epochs
    np.testing.assert_allclose([ae.kl_warmup(kappa=0.25).beta_at(e) for e in range(8)],
                               [ae.kl_warmup(4).beta_at(e) for e in range(8)])


def test_kl_warmup_with_kappa_reaches_the_loss(X):
    import keras

    model = ae.vae(6, 2, hidden=(), beta=0.0, seed=3)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="binary_crossentropy")
    hist = model.fit(X, X, epochs=4, batch_size=40, verbose=0, callbacks=[ae.kl_warmup(kappa=0.4)]).history
    np.testing.assert_allclose(hist["beta"], [0.0, 0.4, 0.8, 1.0])
    assert ae.get_beta(model) == 1.0


def test_deep_autoencoder_learns_and_gene():
    """Tiny version of the lesson's claim: deep beats linear on g1, g2, g1*g2."""
    from workshop_utils.toy_data import toy_genes

    X, _ = toy_genes(400, 2, seed=0)
    shallow = ae.shallow_autoencoder(3, 2, learning_rate=0.02)
    deep = ae.deep_autoencoder(3, 2, depth=2, width=16, learning_rate=0.01)
    for m in (shallow, deep):
        m.fit(X, X, epochs=25, batch_size=16, verbose=0)
    assert ae.reconstruction_loss(deep, X) < ae.reconstruction_loss(shallow, X)


def test_framework_classes_are_importable_by_name():
    from workshop_utils import _keras_autoencoders as layers

    for name in ("DenseTranspose", "KLDivergence", "KLWarmUp", "MaskingNoise", "Sampling"):
        cls = getattr(layers, name)
        assert cls.__qualname__ == name and cls.__module__ == "workshop_utils._keras_autoencoders"
    assert type(ae.kl_warmup(2)) is layers.KLWarmUp


def test_seed_gives_the_same_weights_and_none_leaves_the_global_state(X):
    import keras

    a = ae.vae(6, 2, hidden=(4,), seed=7)
    b = ae.vae(6, 2, hidden=(4,), seed=7)
    for va, vb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(va, vb)
    assert not np.array_equal(a.get_weights()[0], ae.vae(6, 2, hidden=(4,), seed=8).get_weights()[0])
    keras.utils.set_random_seed(123)
    c = ae.vae(6, 2, hidden=(4,), seed=None)  # unseeded: draws from the global state ...
    d = ae.vae(6, 2, hidden=(4,), seed=None)  # ... and does not reset it
    keras.utils.set_random_seed(123)
    c_again = ae.vae(6, 2, hidden=(4,), seed=None)
    assert not np.array_equal(c.get_weights()[0], d.get_weights()[0])
    np.testing.assert_array_equal(c.get_weights()[0], c_again.get_weights()[0])


def test_input_validation(X):
    with pytest.raises(ValueError, match="n_features"):
        ae.deep_autoencoder(0)
    with pytest.raises(ValueError, match="depth"):
        ae.deep_autoencoder(4, depth=-1)
    with pytest.raises(ValueError, match="noise"):
        ae.denoising_autoencoder(4, noise=1.0)
    with pytest.raises(TypeError, match="tied"):
        ae.denoising_autoencoder(4, tied="yes")
    with pytest.raises(TypeError, match="hidden"):
        ae.vae(4, hidden="100")
    with pytest.raises(ValueError, match="loss"):
        ae.shallow_autoencoder(4, loss="mae")
    with pytest.raises(ValueError, match="learning_rate"):
        ae.shallow_autoencoder(4, learning_rate=-1.0)
    with pytest.raises(ValueError, match="warmup_epochs"):
        ae.kl_warmup(-1)
    with pytest.raises(ValueError, match="exactly one"):
        ae.kl_warmup()
    with pytest.raises(ValueError, match="exactly one"):
        ae.kl_warmup(2, kappa=0.5)
    with pytest.raises(ValueError, match="kappa"):
        ae.kl_warmup(kappa=0.0)
    with pytest.raises(TypeError, match="kappa"):
        ae.kl_warmup(kappa="0.1")
    with pytest.raises(ValueError, match="start"):
        ae.kl_warmup(kappa=0.1, start=2.0)


def test_kl_warmup_refuses_a_model_without_a_kl_layer(X):
    model = ae.shallow_autoencoder(6, 2)
    with pytest.raises(ValueError, match=r"^kl_warmup: model must be a VAE .*which has no KL layer"):
        model.fit(X, X, epochs=1, verbose=0, callbacks=[ae.kl_warmup(1)])
