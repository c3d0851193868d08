"""Using a trained autoencoder: its latent codes, reconstructions, losses and KL weight (Keras 3).

The models come from :mod:`workshop_utils.autoencoders` (which re-exports every name here, so
``wu.autoencoders.encode`` keeps working): the latent code is the output of the layer named
``"code"`` (deterministic autoencoders) or ``"z_mean"`` (variational ones), the decoder is a
sub-model named ``"decoder"``, and a VAE's ``beta`` is a variable of its
:class:`~workshop_utils._keras_autoencoders.KLDivergence` layer.

Functions
---------
encode, decode          latent codes of ``X (N, n_features)``; reconstructions of codes ``Z (N, latent_dim)``
reconstruction_loss     mean MSE or binary cross-entropy of the reconstruction (inference mode)
loss_terms              a VAE's loss on ``X`` split into reconstruction and KL
set_beta, get_beta      a VAE's KL weight
latent_layer_name       ``"z_mean"`` or ``"code"``

keras is imported inside the functions.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import _checks

__all__ = ["decode", "encode", "get_beta", "latent_layer_name", "loss_terms", "reconstruction_loss", "set_beta"]

#: The reconstruction losses :func:`reconstruction_loss` (and the builders) accept.
LOSSES = ("mse", "binary_crossentropy")


def _kl_layers(model) -> list:
    from ._keras_autoencoders import kl_layers

    return kl_layers(model)


def _model(model, fn: str, name: str = "model"):
    import keras

    if not isinstance(model, keras.Model):
        raise _checks.fail(fn, name, "a keras.Model (built by workshop_utils.autoencoders)",
                           _checks.describe(model), kind=_checks.ArgumentTypeError)
    return model


def set_beta(model, beta: float) -> None:
    """Set the KL weight ``beta`` of a VAE built by :func:`~workshop_utils.autoencoders.vae` or
    :func:`~workshop_utils.autoencoders.residual_vae`.

    Raises ValueError when ``model`` has no KL layer (not a VAE).
    """
    fn = "set_beta"
    _model(model, fn)
    beta = _checks.number(beta, "beta", fn, low=0.0)
    layers = _kl_layers(model)
    if not layers:
        raise _checks.fail(fn, "model", "a VAE from workshop_utils.autoencoders.vae or residual_vae",
                           f"{model.name!r}, which has no KL layer")
    for layer in layers:
        layer.beta.assign(beta)


def get_beta(model) -> float:
    """The current KL weight ``beta`` of a VAE (ValueError when the model is not one)."""
    _model(model, "get_beta")
    layers = _kl_layers(model)
    if not layers:
        raise _checks.fail("get_beta", "model", "a VAE from workshop_utils.autoencoders.vae or residual_vae",
                           f"{model.name!r}, which has no KL layer")
    return float(np.asarray(layers[0].beta.numpy() if hasattr(layers[0].beta, "numpy")
                            else layers[0].beta))


def latent_layer_name(model) -> str:
    """Name of the layer whose output is the latent code: ``"z_mean"`` (VAEs) or ``"code"``."""
    _model(model, "latent_layer_name")
    names = {layer.name for layer in model.layers}
    for name in ("z_mean", "code"):
        if name in names:
            return name
    raise _checks.fail("latent_layer_name", "model", "an autoencoder built by workshop_utils.autoencoders "
                       "(a layer named 'z_mean' or 'code')", f"{model.name!r}, which has neither")


def _data(X: Any, model, fn: str, name: str = "X") -> np.ndarray:
    """A finite float32 matrix ``(N, d)`` with the columns ``model`` takes."""
    X = _checks.finite_array(X, name, fn, ndim=2)
    expected = model.input_shape[-1]
    if expected is not None and X.shape[1] != expected:
        raise _checks.fail(fn, name, f"a matrix with {expected} columns (the model's input)", f"shape {X.shape}")
    return X


def _input(model) -> Any:
    """The model's input tensor (not a one-element list, which a direct call would warn about)."""
    return model.inputs[0] if len(model.inputs) == 1 else model.inputs


def _infer(model, X: np.ndarray, batch_size: int) -> Any:
    """``model(X)`` in inference mode, batch by batch, as numpy (one array, or a list for several outputs).

    The model is called directly instead of through ``model.predict``: ``predict`` traces a
    new ``tf.function`` for every model it meets, and a lesson that encodes, decodes and
    scores many small models (a sub-model per :func:`encode`) then prints TensorFlow's
    "triggered tf.function retracing" warning, which students read as an error.  For these
    small dense models a direct call costs no more than a trace.
    """
    import keras

    parts = []
    for i in range(0, len(X), batch_size):
        out = model(X[i:i + batch_size], training=False)
        parts.append([keras.ops.convert_to_numpy(o) for o in out] if isinstance(out, (list, tuple))
                     else keras.ops.convert_to_numpy(out))
    if isinstance(parts[0], list):
        return [np.concatenate([p[j] for p in parts]) for j in range(len(parts[0]))]
    return np.concatenate(parts)


def encode(model, X: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Latent codes of ``X``: the output of the layer ``"code"`` or ``"z_mean"`` (inference mode).

    For a VAE this is the mean of ``q(z|x)`` (no sampling).

    Parameters
    ----------
    model : keras.Model
        Built by :mod:`workshop_utils.autoencoders`.
    X : array ``(N, n_features)``
    batch_size : int

    Returns
    -------
    np.ndarray float32 ``(N, latent_dim)``.
    """
    import keras

    fn = "encode"
    _model(model, fn)
    X = _data(X, model, fn)
    batch_size = _checks.positive_int(batch_size, "batch_size", fn)
    encoder = keras.Model(_input(model), model.get_layer(latent_layer_name(model)).output)
    return np.asarray(_infer(encoder, X, batch_size), dtype=np.float32)


def decode(model, Z: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Reconstructions from latent codes ``Z (N, latent_dim)`` with the model's ``"decoder"``.

    Returns
    -------
    np.ndarray float32 ``(N, n_features)``.
    """
    fn = "decode"
    _model(model, fn)
    try:
        decoder = model.get_layer("decoder")
    except ValueError:
        raise _checks.fail(fn, "model", "an autoencoder with a sub-model named 'decoder'",
                           f"{model.name!r}, which has none") from None
    Z = _data(Z, decoder, fn, "Z")
    batch_size = _checks.positive_int(batch_size, "batch_size", fn)
    return np.asarray(_infer(decoder, Z, batch_size), dtype=np.float32)


def reconstruction_loss(model, X: np.ndarray, loss: str = "mse", batch_size: int = 256) -> float:
    """Mean reconstruction loss of ``X`` (inference mode: no noise, VAE codes at their mean).

    Parameters
    ----------
    model : keras.Model
    X : array ``(N, n_features)``
    loss : {'mse', 'binary_crossentropy'}
        Both averaged over samples and features (so models trained with different
        losses can be compared on the same scale).

    Returns
    -------
    float
    """
    fn = "reconstruction_loss"
    _model(model, fn)
    X = _data(X, model, fn)
    loss = _checks.one_of(loss, "loss", fn, LOSSES)
    batch_size = _checks.positive_int(batch_size, "batch_size", fn)
    X_hat = np.asarray(_infer(model, X, batch_size), dtype=np.float64)
    if loss == "mse":
        return float(np.mean((X - X_hat) ** 2))
    eps = 1e-7
    X_hat = np.clip(X_hat, eps, 1 - eps)
    return float(-np.mean(X * np.log(X_hat) + (1 - X) * np.log(1 - X_hat)))


def loss_terms(model, X: np.ndarray, batch_size: int = 256) -> dict[str, float]:
    """The two terms of a VAE's loss on ``X``, apart: reconstruction and KL.

    In inference mode (the code is the mean of ``q(z|x)``, as Keras' ``val_loss`` uses it):

    * ``"reconstruction"``: binary cross-entropy per gene, averaged over cells and genes;
    * ``"kl"``: ``KL(q(z|x) || N(0, I))`` averaged over cells, times the model's KL scale
      (``1 / n_features`` for ``autoencoders.vae`` and ``autoencoders.residual_vae``), i.e. the amount the
      loss adds at ``beta = 1``.

    So ``reconstruction + beta * kl`` is the model's validation loss at ``beta``.

    Parameters
    ----------
    model : keras.Model
        A VAE from :func:`~workshop_utils.autoencoders.vae` or :func:`~workshop_utils.autoencoders.residual_vae`.
    X : array ``(N, n_features)``
        Values in [0, 1].
    batch_size : int

    Returns
    -------
    dict with ``"reconstruction"`` and ``"kl"`` (floats).
    """
    import keras

    fn = "loss_terms"
    _model(model, fn)
    layers = _kl_layers(model)
    if not layers:
        raise _checks.fail(fn, "model", "a VAE from workshop_utils.autoencoders.vae or residual_vae",
                           f"{model.name!r}, which has no KL layer")
    X = _data(X, model, fn)
    batch_size = _checks.positive_int(batch_size, "batch_size", fn)
    heads = keras.Model(_input(model), [model.get_layer("z_mean").output, model.get_layer("z_log_var").output])
    mean, log_var = (np.asarray(a, dtype=np.float64) for a in _infer(heads, X, batch_size))
    kl = -0.5 * np.sum(1.0 + log_var - mean ** 2 - np.exp(log_var), axis=1)
    return {"reconstruction": reconstruction_loss(model, X, "binary_crossentropy", batch_size),
            "kl": float(np.mean(kl) * layers[0].scale)}
