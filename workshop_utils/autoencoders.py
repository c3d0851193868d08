"""Autoencoders in Keras 3: linear, deep, denoising (ADAGE), variational (Tybalt), residual VAE.

Every builder returns a *compiled* functional ``keras.Model`` mapping ``(N, n_features)`` to a
reconstruction ``(N, n_features)``; the latent code is the output of the layer named
``"code"`` (deterministic autoencoders) or ``"z_mean"`` (variational ones) and
:func:`encode` reads it.  The decoder of every model is a sub-model named ``"decoder"``
(:func:`decode` maps latent codes back to expression).  Reading a trained model (``encode``,
``decode``, the losses, ``set_beta``) lives in :mod:`workshop_utils.autoencoder_eval`; every name of
it is re-exported here.

The layers the course needs beyond Keras' own (input corruption, the reparameterisation
trick, the KL term with its ``beta``, tied weights) and the KL warm-up callback are
top-level classes of :mod:`workshop_utils._keras_autoencoders`, which the builders import
when they run: ``import workshop_utils.autoencoders`` stays light.

A ``seed`` sets Keras' global seed before the model is built (the documented Keras
exception to local seeding, see ``ARCHITECTURE.md``): Keras' ``fit`` shuffles from that
seed too, so the weights and the training that follows are reproducible.

Models
------
shallow_autoencoder   linear encoder + linear decoder (finds the PCA subspace)
deep_autoencoder      tanh hidden layers, sigmoid output (a nonlinear PCA)
denoising_autoencoder ADAGE: masking noise on the input, one sigmoid hidden layer
vae                   Tybalt: Dense -> BatchNorm -> ReLU encoder, mean and log-variance heads,
                      reparameterisation, sigmoid decoder, loss = reconstruction + beta * KL
residual_vae          AutoGenome's Res-VAE: the VAE with residual fully connected blocks
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _checks
from .autoencoder_eval import (LOSSES, decode, encode, get_beta, latent_layer_name, loss_terms,  # noqa: F401
                               reconstruction_loss, set_beta)

__all__ = [
    "decode", "deep_autoencoder", "denoising_autoencoder", "encode", "get_beta", "kl_warmup",
    "latent_layer_name", "loss_terms", "reconstruction_loss", "residual_vae", "set_beta", "shallow_autoencoder",
    "track_loss_terms", "vae",
]

#: Training steps run per call into the compiled graph (Keras' ``steps_per_execution``):
#: the same updates, less python overhead per batch for these small models.
STEPS_PER_EXECUTION = 16


# --------------------------------------------------------------------------- building blocks
def _layers():
    """The custom layers and callback (a module that imports keras, so imported only here)."""
    from . import _keras_autoencoders

    return _keras_autoencoders


class _Init:
    """The Keras layers of one model, seeded the way the course's Keras code is seeded.

    With a ``seed`` this sets Keras' global seed (``keras.utils.set_random_seed``): the
    documented Keras exception to local seeding (``ARCHITECTURE.md``), because the
    model is trained with Keras' ``fit``, whose shuffling draws from that global seed too,
    so ``seed`` makes the initial weights *and* the training that follows reproducible
    (each tuner trial starts from the same state: a fair comparison).  ``seed=None``
    leaves the global state alone.
    """

    def __init__(self, seed: int | None, fn: str):
        import keras

        self.keras = keras
        if seed is not None:
            keras.utils.set_random_seed(_checks.non_negative_int(seed, "seed", fn))

    def dense(self, units: int, name: str, activation=None):
        return self.keras.layers.Dense(units, activation=activation, name=name)


def _start(fn: str, n_features, latent_dim, learning_rate, seed) -> tuple[int, int, Any, _Init]:
    """The arguments every builder shares, checked: sizes, learning rate, the seeded initializers."""
    n_features = _checks.positive_int(n_features, "n_features", fn)
    latent_dim = _checks.positive_int(latent_dim, "latent_dim", fn)
    return n_features, latent_dim, _learning_rate(learning_rate, fn), _Init(seed, fn)


def _learning_rate(learning_rate, fn: str):
    import keras

    if isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        return learning_rate
    return _checks.number(learning_rate, "learning_rate", fn, low=0.0, high=10.0, low_open=True)


def _compile(model, learning_rate, loss: str):
    import keras

    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss,
                  steps_per_execution=STEPS_PER_EXECUTION)
    return model


def _decoder(init: _Init, latent_dim: int, n_features: int, hidden: Sequence[int], activation: str,
             output_activation: str, batch_norm: bool = False):
    keras = init.keras
    z = keras.Input((latent_dim,), name="z")
    h = z
    for i, width in enumerate(hidden):
        h = init.dense(width, f"dec_dense_{i}")(h)
        if batch_norm:
            h = keras.layers.BatchNormalization(name=f"dec_bn_{i}")(h)
        h = keras.layers.Activation(activation, name=f"dec_act_{i}")(h)
    out = init.dense(n_features, "reconstruction", activation=output_activation)(h)
    return keras.Model(z, out, name="decoder")


# --------------------------------------------------------------------------- deterministic AEs
def shallow_autoencoder(n_features: int, latent_dim: int = 2, learning_rate: float = 0.01,
                        loss: str = "mse", seed: int | None = 0):
    """A linear autoencoder: ``Dense(latent_dim)`` then ``Dense(n_features)``, no activations.

    Trained with the mean squared error it finds the same subspace as PCA with
    ``latent_dim`` components (not the same axes), so it can never beat PCA's error.

    Parameters
    ----------
    n_features : int
        Width of the input ``X (N, n_features)``.
    latent_dim : int
        Size of the code (output of the layer ``"code"``).
    learning_rate : float or keras.optimizers.schedules.LearningRateSchedule
        Adam's learning rate (every builder accepts a schedule too).
    loss : {'mse', 'binary_crossentropy'}
    seed : int or None
        Sets Keras' global seed first (initial weights, then ``fit``'s shuffling); None
        leaves the global random state alone.

    Returns
    -------
    keras.Model, compiled, ``(N, n_features) -> (N, n_features)``.
    """
    fn = "shallow_autoencoder"
    n_features, latent_dim, learning_rate, init = _start(fn, n_features, latent_dim, learning_rate, seed)
    loss = _checks.one_of(loss, "loss", fn, LOSSES)
    keras = init.keras
    x = keras.Input((n_features,), name="expression")
    code = init.dense(latent_dim, "code")(x)
    decoder = _decoder(init, latent_dim, n_features, (), "linear", "linear")
    model = keras.Model(x, decoder(code), name="shallow_autoencoder")
    return _compile(model, learning_rate, loss)


def deep_autoencoder(n_features: int, latent_dim: int = 2, depth: int = 2, width: int = 16,
                     activation: str = "tanh", output_activation: str = "sigmoid",
                     learning_rate: float = 0.01, loss: str = "mse", seed: int | None = 0):
    """A deep autoencoder: ``depth`` hidden layers of ``width`` units on each side of the code.

    Encoder ``Dense(width, tanh) x depth -> Dense(latent_dim)`` (the linear layer
    ``"code"``), decoder mirrored ``Dense(width, tanh) x depth -> Dense(n_features, sigmoid)``.
    With ``depth=0`` only the sigmoid output remains nonlinear.

    Parameters
    ----------
    n_features : int
        Width of the input ``X (N, n_features)``; values in [0, 1] for a sigmoid output.
    latent_dim, depth, width : int
        Code size, hidden layers per side (>= 0), units per hidden layer.
    activation, output_activation : str
        Keras activation names (hidden layers, reconstruction).
    learning_rate : float
    loss : {'mse', 'binary_crossentropy'}
    seed : int or None

    Returns
    -------
    keras.Model, compiled, ``(N, n_features) -> (N, n_features)``.
    """
    fn = "deep_autoencoder"
    n_features, latent_dim, learning_rate, init = _start(fn, n_features, latent_dim, learning_rate, seed)
    depth = _checks.non_negative_int(depth, "depth", fn)
    width = _checks.positive_int(width, "width", fn)
    loss = _checks.one_of(loss, "loss", fn, LOSSES)
    keras = init.keras
    for name, value in (("activation", activation), ("output_activation", output_activation)):
        try:
            keras.activations.get(value)
        except (ValueError, TypeError):
            raise _checks.fail(fn, name, "a Keras activation name ('tanh', 'relu', 'sigmoid', 'linear', ...)",
                               _checks.describe(value)) from None
    x = keras.Input((n_features,), name="expression")
    h = x
    for i in range(depth):
        h = init.dense(width, f"enc_dense_{i}", activation=activation)(h)
    code = init.dense(latent_dim, "code")(h)
    decoder = _decoder(init, latent_dim, n_features, [width] * depth, activation, output_activation)
    model = keras.Model(x, decoder(code), name=f"deep_autoencoder_d{depth}_w{width}_z{latent_dim}")
    return _compile(model, learning_rate, loss)


def denoising_autoencoder(n_features: int, latent_dim: int = 10, noise: float = 0.1,
                          tied: bool = True, learning_rate: float = 0.01, seed: int | None = 0):
    """ADAGE's denoising autoencoder (Tan et al. 2016).

    ``MaskingNoise(noise)`` (while training, each input set to 0 with probability
    ``noise``) -> ``Dense(latent_dim, sigmoid)`` (``"code"``) -> ``Dense(n_features, sigmoid)``,
    trained with binary cross-entropy to rebuild the *clean* input.  With ``tied=True``
    (ADAGE) the decoder's kernel is the transpose of the encoder's.  Tying matters on
    sparse [0, 1] data: with free decoder weights the sigmoid codes drift to 1 for every
    cell within a few epochs (all inputs are >= 0, so the encoder weights move together)
    and the model only learns the mean expression.

    Parameters
    ----------
    n_features : int
        Width of ``X (N, n_features)``, values scaled to [0, 1].
    latent_dim : int
        Number of hidden "nodes" (ADAGE used 50 for 5,549 genes).
    noise : float
        Corruption probability in [0, 1).
    tied : bool
        Decoder kernel = encoder kernel transposed.
    learning_rate : float
    seed : int or None
        Seeds the weights and the corruption.

    Returns
    -------
    keras.Model, compiled, ``(N, n_features) -> (N, n_features)``.
    """
    fn = "denoising_autoencoder"
    n_features, latent_dim, learning_rate, init = _start(fn, n_features, latent_dim, learning_rate, seed)
    noise = _checks.rate(noise, "noise", fn, high_open=True)
    tied = _checks.flag(tied, "tied", fn)
    keras, layers = init.keras, _layers()
    x = keras.Input((n_features,), name="expression")
    corrupted = layers.MaskingNoise(noise, seed=seed, name="masking_noise")(x)
    encoder_dense = init.dense(latent_dim, "code", activation="sigmoid")
    code = encoder_dense(corrupted)
    if tied:
        z = keras.Input((latent_dim,), name="z")
        out = layers.DenseTranspose(encoder_dense, "sigmoid", name="reconstruction")(z)
        decoder = keras.Model(z, out, name="decoder")
    else:
        decoder = _decoder(init, latent_dim, n_features, (), "linear", "sigmoid")
    model = keras.Model(x, decoder(code), name="denoising_autoencoder")
    return _compile(model, learning_rate, "binary_crossentropy")


# --------------------------------------------------------------------------- variational AEs
def _vae_head(init: _Init, h, latent_dim: int, n_features: int, beta: float, seed):
    layers = _layers()
    z_mean = init.dense(latent_dim, "z_mean")(h)
    z_log_var = init.dense(latent_dim, "z_log_var")(h)
    # Tybalt's loss is n_features * BCE + beta * KL; Keras' BCE is the mean over genes,
    # so the KL is scaled by 1 / n_features: the same objective divided by n_features.
    z_mean = layers.KLDivergence(beta, scale=1.0 / n_features, name="kl")([z_mean, z_log_var])
    return layers.Sampling(seed=seed, name="sampling")([z_mean, z_log_var])


def vae(n_features: int, latent_dim: int = 10, hidden: Sequence[int] | int = (100,),
        beta: float = 1.0, learning_rate: float = 1e-3, seed: int | None = 0):
    """Tybalt's variational autoencoder (Way & Greene 2018), with a hidden encoder layer.

    Encoder: ``[Dense(w) -> BatchNorm -> ReLU]`` for each ``w`` in ``hidden``, then two
    linear heads ``"z_mean"`` and ``"z_log_var"`` (``latent_dim`` each); a
    :class:`~workshop_utils._keras_autoencoders.Sampling` layer draws ``z = mean + exp(log_var / 2) * eps``; the decoder
    mirrors the encoder (Dense -> BatchNorm -> ReLU) and ends in ``Dense(n_features, sigmoid)``.

    Loss per sample: ``BCE(x, x_hat)`` (mean over genes) ``+ beta * KL / n_features``,
    i.e. Tybalt's ``n_features * BCE + beta * KL`` divided by ``n_features``.  ``beta``
    lives in a non-trainable variable of the layer ``"kl"``: :func:`set_beta` and the
    :func:`kl_warmup` callback change it between epochs.

    Parameters
    ----------
    n_features : int
        Width of ``X (N, n_features)``, values scaled to [0, 1].
    latent_dim : int
        Size of the latent space (Tybalt: 100 for 5,000 genes).
    hidden : sequence of int
        Encoder widths (decoder in reverse); ``()`` gives Tybalt's original one-layer
        heads on the input.
    beta : float
        Initial weight of the KL term (>= 0).
    learning_rate : float
    seed : int or None
        Seeds the weights and the sampling noise.

    Returns
    -------
    keras.Model, compiled, ``(N, n_features) -> (N, n_features)``.
    """
    fn = "vae"
    n_features, latent_dim, learning_rate, init = _start(fn, n_features, latent_dim, learning_rate, seed)
    hidden = _checks.positive_ints(hidden, "hidden", fn)
    beta = _checks.number(beta, "beta", fn, low=0.0)
    keras = init.keras
    x = keras.Input((n_features,), name="expression")
    h = x
    for i, width in enumerate(hidden):
        h = init.dense(width, f"enc_dense_{i}")(h)
        h = keras.layers.BatchNormalization(name=f"enc_bn_{i}")(h)
        h = keras.layers.Activation("relu", name=f"enc_relu_{i}")(h)
    z = _vae_head(init, h, latent_dim, n_features, beta, seed)
    decoder = _decoder(init, latent_dim, n_features, hidden[::-1], "relu", "sigmoid", batch_norm=True)
    model = keras.Model(x, decoder(z), name="vae")
    return _compile(model, learning_rate, "binary_crossentropy")


def _res_block(init: _Init, h, width: int, name: str):
    """Fully connected residual block: ``relu(h + BN(Dense(relu(BN(Dense(h))))))``."""
    keras = init.keras
    r = init.dense(width, f"{name}_dense_a")(h)
    r = keras.layers.BatchNormalization(name=f"{name}_bn_a")(r)
    r = keras.layers.Activation("relu", name=f"{name}_relu_a")(r)
    r = init.dense(width, f"{name}_dense_b")(r)
    r = keras.layers.BatchNormalization(name=f"{name}_bn_b")(r)
    h = keras.layers.Add(name=f"{name}_add")([h, r])
    return keras.layers.Activation("relu", name=f"{name}_out")(h)


def residual_vae(n_features: int, latent_dim: int = 10, width: int = 128, blocks: int = 2,
                 beta: float = 1.0, learning_rate: float = 1e-3, seed: int | None = 0):
    """AutoGenome's Res-VAE: a VAE whose encoder and decoder are residual fully connected nets.

    Encoder ``Dense(width) -> BN -> ReLU -> blocks x residual block -> z_mean / z_log_var``,
    decoder ``Dense(width) -> BN -> ReLU -> blocks x residual block -> Dense(n_features, sigmoid)``.
    A residual block adds ``BN(Dense(ReLU(BN(Dense(h)))))`` to its input ``h``, so a deep
    stack starts close to the identity and trains as easily as a shallow one.  Loss and
    ``beta`` as in :func:`vae`.

    Parameters
    ----------
    n_features, latent_dim : int
    width : int
        Units of every residual layer.
    blocks : int
        Residual blocks on each side (>= 0).
    beta, learning_rate : float
    seed : int or None

    Returns
    -------
    keras.Model, compiled, ``(N, n_features) -> (N, n_features)``.
    """
    fn = "residual_vae"
    n_features, latent_dim, learning_rate, init = _start(fn, n_features, latent_dim, learning_rate, seed)
    width = _checks.positive_int(width, "width", fn)
    blocks = _checks.non_negative_int(blocks, "blocks", fn)
    beta = _checks.number(beta, "beta", fn, low=0.0)
    keras = init.keras

    def stem(inp, side):
        h = init.dense(width, f"{side}_stem_dense")(inp)
        h = keras.layers.BatchNormalization(name=f"{side}_stem_bn")(h)
        h = keras.layers.Activation("relu", name=f"{side}_stem_relu")(h)
        for b in range(blocks):
            h = _res_block(init, h, width, f"{side}_res{b}")
        return h

    x = keras.Input((n_features,), name="expression")
    z = _vae_head(init, stem(x, "enc"), latent_dim, n_features, beta, seed)
    z_in = keras.Input((latent_dim,), name="z")
    out = init.dense(n_features, "reconstruction", activation="sigmoid")(stem(z_in, "dec"))
    decoder = keras.Model(z_in, out, name="decoder")
    model = keras.Model(x, decoder(z), name="residual_vae")
    return _compile(model, learning_rate, "binary_crossentropy")


# --------------------------------------------------------------------------- callbacks
def kl_warmup(warmup_epochs: int | None = None, beta_max: float = 1.0, start: float = 0.0, *,
              kappa: float | None = None):
    """A Keras callback that raises a VAE's ``beta`` linearly over the first epochs.

    Give exactly one of ``warmup_epochs`` and ``kappa``:

    * ``warmup_epochs``: epoch ``e`` (0-based) trains with
      ``beta = start + (beta_max - start) * min(1, e / warmup_epochs)``;
    * ``kappa`` (Tybalt's parameter): ``beta`` grows by ``kappa`` per epoch,
      ``beta = min(beta_max, start + kappa * e)``; with the defaults ``min(1, kappa * e)``.
      ``kappa = 1 / warmup_epochs`` gives the same schedule as ``warmup_epochs``.

    The value is assigned to the model's ``beta`` variable, which the loss reads, and
    logged as ``history.history['beta']``.

    Parameters
    ----------
    warmup_epochs : int, optional
        Epochs to reach ``beta_max`` (0: ``beta_max`` from the first epoch).
    beta_max, start : float
        Final and initial ``beta`` (>= 0; with ``kappa``, ``start <= beta_max``).
    kappa : float, optional
        Increase of ``beta`` per epoch (> 0), instead of ``warmup_epochs``.

    Returns
    -------
    keras.callbacks.Callback
        A :class:`~workshop_utils._keras_autoencoders.KLWarmUp`; ``beta_at(e)`` gives the
        ``beta`` of epoch ``e``.
    """
    fn = "kl_warmup"
    if (warmup_epochs is None) == (kappa is None):
        raise _checks.fail(fn, "warmup_epochs / kappa", "exactly one of them",
                           f"warmup_epochs={_checks.describe(warmup_epochs)}, kappa={_checks.describe(kappa)}")
    if warmup_epochs is not None:
        warmup_epochs = _checks.non_negative_int(warmup_epochs, "warmup_epochs", fn)
    beta_max = _checks.number(beta_max, "beta_max", fn, low=0.0)
    start = _checks.number(start, "start", fn, low=0.0)
    if kappa is not None:
        kappa = _checks.number(kappa, "kappa", fn, low=0.0, low_open=True)
        if start > beta_max:
            raise _checks.fail(fn, "start", f"at most beta_max ({beta_max}) when kappa is given",
                               _checks.describe(start))
    return _layers().KLWarmUp(warmup_epochs, beta_max=beta_max, start=start, kappa=kappa)


def track_loss_terms(X_val: np.ndarray):
    """A Keras callback that logs a VAE's two loss terms on ``X_val`` after every epoch.

    ``history.history`` then holds ``"val_reconstruction"`` and ``"val_kl"`` (as in
    :func:`loss_terms`; with :func:`kl_warmup` also ``"beta"``), so a plot can show what the
    total loss hides: the reconstruction improving while the KL term is switched on.

    Parameters
    ----------
    X_val : array ``(N, n_features)``
        Validation data, values in [0, 1].

    Returns
    -------
    keras.callbacks.Callback
        A :class:`~workshop_utils._keras_autoencoders.LossTerms`.
    """
    X_val = _checks.finite_array(X_val, "X_val", "track_loss_terms", ndim=2)
    return _layers().LossTerms(X_val, loss_terms)
