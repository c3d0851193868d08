"""Autoencoders in Keras 3: linear, deep, denoising (ADAGE), variational (Tybalt), residual VAE.

Every builder returns a *compiled* functional ``keras.Model`` mapping ``(N, n_features)`` to a
reconstruction ``(N, n_features)``; the latent code is the output of the layer named
``"code"`` (deterministic autoencoders) or ``"z_mean"`` (variational ones) and
:func:`encode` reads it.  The decoder of every model is a sub-model named ``"decoder"``
(:func:`decode` maps latent codes back to expression).

The layers the course needs beyond Keras' own (input corruption, the reparameterisation
trick, the KL term with its ``beta``) are written with ``keras.ops`` and ``keras.random``
only, so they run on any Keras 3 backend.  Keras is imported inside functions:
``import workshop_utils.autoencoders`` stays light.

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

__all__ = [
    "decode", "deep_autoencoder", "denoising_autoencoder", "encode", "get_beta", "kl_warmup",
    "latent_layer_name", "reconstruction_loss", "residual_vae", "set_beta", "shallow_autoencoder",
    "vae",
]

_CLASSES: dict[str, Any] = {}

#: Training steps run per call into the compiled graph (Keras' ``steps_per_execution``):
#: the same updates, less python overhead per batch for these small models.
STEPS_PER_EXECUTION = 16


def _classes() -> dict[str, Any]:
    """Define (once) the custom layers and the warm-up callback; keras is imported here."""
    if _CLASSES:
        return _CLASSES
    import keras
    from keras import ops

    register = keras.saving.register_keras_serializable(package="workshop_utils")

    @register
    class MaskingNoise(keras.layers.Layer):
        """ADAGE's corruption: while training, set each input value to 0 with probability ``rate``.

        Unlike ``Dropout`` the surviving values are *not* rescaled; at inference the layer
        is the identity.
        """

        def __init__(self, rate: float = 0.1, seed: int | None = None, **kwargs):
            super().__init__(**kwargs)
            self.rate = float(rate)
            self.seed = seed
            self.seed_generator = keras.random.SeedGenerator(seed)

        def call(self, inputs, training=None):
            if not training or self.rate == 0:
                return inputs
            keep = keras.random.uniform(ops.shape(inputs), seed=self.seed_generator) >= self.rate
            return ops.where(keep, inputs, ops.zeros_like(inputs))

        def get_config(self):
            return {**super().get_config(), "rate": self.rate, "seed": self.seed}

    @register
    class Sampling(keras.layers.Layer):
        """The reparameterisation trick: ``z = mean + exp(log_var / 2) * eps``, ``eps ~ N(0, I)``.

        Sampling happens while training; at inference the layer returns ``mean`` so that
        predictions (and reconstructions) are deterministic.
        """

        def __init__(self, seed: int | None = None, **kwargs):
            super().__init__(**kwargs)
            self.seed = seed
            self.seed_generator = keras.random.SeedGenerator(seed)

        def call(self, inputs, training=None):
            mean, log_var = inputs
            if not training:
                return mean
            eps = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
            return mean + ops.exp(0.5 * log_var) * eps

        def get_config(self):
            return {**super().get_config(), "seed": self.seed}

    @register
    class KLDivergence(keras.layers.Layer):
        """Adds ``beta * scale * KL(q(z|x) || N(0, I))`` (mean over the batch) to the model's loss.

        ``beta`` is a non-trainable variable (not a python float frozen into the compiled
        training step), so a callback that assigns it changes the loss of the next batch.
        The layer passes ``mean`` through unchanged.
        """

        def __init__(self, beta: float = 1.0, scale: float = 1.0, **kwargs):
            super().__init__(**kwargs)
            self.beta_init = float(beta)
            self.scale = float(scale)

        def build(self, input_shape):
            self.beta = self.add_weight(shape=(), name="beta", trainable=False,
                                        initializer=keras.initializers.Constant(self.beta_init))

        def call(self, inputs):
            mean, log_var = inputs
            kl = -0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)
            self.add_loss(self.beta * self.scale * ops.mean(kl))
            return mean

        def compute_output_shape(self, input_shape):
            return input_shape[0]

        def get_config(self):
            return {**super().get_config(), "beta": self.beta_init, "scale": self.scale}

    class KLWarmUp(keras.callbacks.Callback):
        """Raise ``beta`` linearly from ``start`` to ``beta_max`` over ``warmup_epochs`` epochs.

        Tybalt's warm-up (kappa per epoch): epoch ``e`` (0-based) trains with
        ``beta = start + (beta_max - start) * min(1, e / warmup_epochs)``.  The value used
        is written to ``logs['beta']`` (so it appears in ``history.history``).
        """

        def __init__(self, warmup_epochs: int, beta_max: float = 1.0, start: float = 0.0):
            super().__init__()
            self.warmup_epochs = int(warmup_epochs)
            self.beta_max = float(beta_max)
            self.start = float(start)
            self.current = self.start

        def beta_at(self, epoch: int) -> float:
            frac = 1.0 if self.warmup_epochs == 0 else min(1.0, epoch / self.warmup_epochs)
            return self.start + (self.beta_max - self.start) * frac

        def on_epoch_begin(self, epoch, logs=None):
            self.current = self.beta_at(epoch)
            set_beta(self.model, self.current)

        def on_epoch_end(self, epoch, logs=None):
            if logs is not None:
                logs["beta"] = self.current

    class DenseTranspose(keras.layers.Layer):
        """A decoder layer tied to an encoder ``Dense``: ``activation(x @ dense.kernel.T + bias)``.

        Only the bias is its own; the kernel is the encoder's (ADAGE's tied weights).
        It holds a reference to another layer, so save such models with
        ``save_weights`` rather than as a ``.keras`` file.
        """

        def __init__(self, dense, activation: str = "sigmoid", **kwargs):
            super().__init__(**kwargs)
            self.dense = dense
            self.activation = keras.activations.get(activation)

        def build(self, input_shape):
            self.bias = self.add_weight(shape=(self.dense.kernel.shape[0],), name="bias",
                                        initializer="zeros")

        def call(self, inputs):
            return self.activation(ops.matmul(inputs, ops.transpose(self.dense.kernel)) + self.bias)

        def compute_output_shape(self, input_shape):
            return (*input_shape[:-1], self.dense.kernel.shape[0])

    _CLASSES.update(DenseTranspose=DenseTranspose, MaskingNoise=MaskingNoise, Sampling=Sampling, KLDivergence=KLDivergence,
                    KLWarmUp=KLWarmUp)
    return _CLASSES


# --------------------------------------------------------------------------- validation
def _check_int(value: Any, name: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _check_rate(value: Any, name: str, low: float = 0.0, high: float = 1.0,
                high_inclusive: bool = False) -> float:
    ok = isinstance(value, (int, float, np.floating)) and not isinstance(value, bool)
    if ok:
        ok = low <= value <= high if high_inclusive else low <= value < high
    if not ok:
        bracket = "]" if high_inclusive else ")"
        raise ValueError(f"{name} must be a number in [{low}, {high}{bracket}, got {value!r}")
    return float(value)


def _check_widths(hidden: Sequence[int] | int, name: str) -> tuple[int, ...]:
    if isinstance(hidden, (int, np.integer)) and not isinstance(hidden, bool):
        hidden = (hidden,)
    if not isinstance(hidden, Sequence) or isinstance(hidden, str):
        raise TypeError(f"{name} must be a sequence of positive integers, got {type(hidden).__name__}")
    return tuple(_check_int(h, f"{name}[{i}]") for i, h in enumerate(hidden))


def _start(seed: int | None):
    import keras

    if seed is not None:
        _check_int(seed, "seed", low=0)
        keras.utils.set_random_seed(int(seed))
    return keras


def _compile(model, learning_rate: float, loss: str):
    import keras

    if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        learning_rate = _check_rate(learning_rate, "learning_rate", 0.0, 10.0)
    if loss not in ("mse", "binary_crossentropy"):
        raise ValueError(f"loss must be 'mse' or 'binary_crossentropy', got {loss!r}")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss,
                  steps_per_execution=STEPS_PER_EXECUTION)
    return model


def _decoder(keras, latent_dim: int, n_features: int, hidden: Sequence[int], activation: str,
             output_activation: str, batch_norm: bool = False):
    z = keras.Input((latent_dim,), name="z")
    h = z
    for i, width in enumerate(hidden):
        h = keras.layers.Dense(width, name=f"dec_dense_{i}")(h)
        if batch_norm:
            h = keras.layers.BatchNormalization(name=f"dec_bn_{i}")(h)
        h = keras.layers.Activation(activation, name=f"dec_act_{i}")(h)
    out = keras.layers.Dense(n_features, activation=output_activation, name="reconstruction")(h)
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
        Seeds keras (initial weights) when given.

    Returns
    -------
    keras.Model, compiled, ``(N, n_features) -> (N, n_features)``.
    """
    n_features = _check_int(n_features, "n_features")
    latent_dim = _check_int(latent_dim, "latent_dim")
    keras = _start(seed)
    x = keras.Input((n_features,), name="expression")
    code = keras.layers.Dense(latent_dim, name="code")(x)
    decoder = _decoder(keras, latent_dim, n_features, (), "linear", "linear")
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
    n_features = _check_int(n_features, "n_features")
    latent_dim = _check_int(latent_dim, "latent_dim")
    depth = _check_int(depth, "depth", low=0)
    width = _check_int(width, "width")
    keras = _start(seed)
    x = keras.Input((n_features,), name="expression")
    h = x
    for i in range(depth):
        h = keras.layers.Dense(width, activation=activation, name=f"enc_dense_{i}")(h)
    code = keras.layers.Dense(latent_dim, name="code")(h)
    decoder = _decoder(keras, latent_dim, n_features, [width] * depth, activation, output_activation)
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
    n_features = _check_int(n_features, "n_features")
    latent_dim = _check_int(latent_dim, "latent_dim")
    noise = _check_rate(noise, "noise")
    if not isinstance(tied, bool):
        raise TypeError(f"tied must be a bool, got {type(tied).__name__}")
    keras = _start(seed)
    layers = _classes()
    x = keras.Input((n_features,), name="expression")
    corrupted = layers["MaskingNoise"](noise, seed=seed, name="masking_noise")(x)
    encoder_dense = keras.layers.Dense(latent_dim, activation="sigmoid", name="code")
    code = encoder_dense(corrupted)
    if tied:
        z = keras.Input((latent_dim,), name="z")
        out = layers["DenseTranspose"](encoder_dense, "sigmoid", name="reconstruction")(z)
        decoder = keras.Model(z, out, name="decoder")
    else:
        decoder = _decoder(keras, latent_dim, n_features, (), "linear", "sigmoid")
    model = keras.Model(x, decoder(code), name="denoising_autoencoder")
    return _compile(model, learning_rate, "binary_crossentropy")


# --------------------------------------------------------------------------- variational AEs
def _vae_head(keras, h, latent_dim: int, n_features: int, beta: float, seed):
    layers = _classes()
    z_mean = keras.layers.Dense(latent_dim, name="z_mean")(h)
    z_log_var = keras.layers.Dense(latent_dim, name="z_log_var")(h)
    # Tybalt's loss is n_features * BCE + beta * KL; Keras' BCE is the mean over genes,
    # so the KL is scaled by 1 / n_features: the same objective divided by n_features.
    z_mean = layers["KLDivergence"](beta, scale=1.0 / n_features, name="kl")([z_mean, z_log_var])
    return layers["Sampling"](seed=seed, name="sampling")([z_mean, z_log_var])


def vae(n_features: int, latent_dim: int = 10, hidden: Sequence[int] | int = (100,),
        beta: float = 1.0, learning_rate: float = 1e-3, seed: int | None = 0):
    """Tybalt's variational autoencoder (Way & Greene 2018), with a hidden encoder layer.

    Encoder: ``[Dense(w) -> BatchNorm -> ReLU]`` for each ``w`` in ``hidden``, then two
    linear heads ``"z_mean"`` and ``"z_log_var"`` (``latent_dim`` each); a
    :class:`Sampling` layer draws ``z = mean + exp(log_var / 2) * eps``; the decoder
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
    n_features = _check_int(n_features, "n_features")
    latent_dim = _check_int(latent_dim, "latent_dim")
    hidden = _check_widths(hidden, "hidden")
    beta = _check_rate(beta, "beta", 0.0, 1e6)
    keras = _start(seed)
    x = keras.Input((n_features,), name="expression")
    h = x
    for i, width in enumerate(hidden):
        h = keras.layers.Dense(width, name=f"enc_dense_{i}")(h)
        h = keras.layers.BatchNormalization(name=f"enc_bn_{i}")(h)
        h = keras.layers.Activation("relu", name=f"enc_relu_{i}")(h)
    z = _vae_head(keras, h, latent_dim, n_features, beta, seed)
    decoder = _decoder(keras, latent_dim, n_features, hidden[::-1], "relu", "sigmoid", batch_norm=True)
    model = keras.Model(x, decoder(z), name="vae")
    return _compile(model, learning_rate, "binary_crossentropy")


def _res_block(keras, h, width: int, name: str):
    """Fully connected residual block: ``relu(h + BN(Dense(relu(BN(Dense(h))))))``."""
    r = keras.layers.Dense(width, name=f"{name}_dense_a")(h)
    r = keras.layers.BatchNormalization(name=f"{name}_bn_a")(r)
    r = keras.layers.Activation("relu", name=f"{name}_relu_a")(r)
    r = keras.layers.Dense(width, name=f"{name}_dense_b")(r)
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
    n_features = _check_int(n_features, "n_features")
    latent_dim = _check_int(latent_dim, "latent_dim")
    width = _check_int(width, "width")
    blocks = _check_int(blocks, "blocks", low=0)
    beta = _check_rate(beta, "beta", 0.0, 1e6)
    keras = _start(seed)

    def stem(inp, side):
        h = keras.layers.Dense(width, name=f"{side}_stem_dense")(inp)
        h = keras.layers.BatchNormalization(name=f"{side}_stem_bn")(h)
        h = keras.layers.Activation("relu", name=f"{side}_stem_relu")(h)
        for b in range(blocks):
            h = _res_block(keras, h, width, f"{side}_res{b}")
        return h

    x = keras.Input((n_features,), name="expression")
    z = _vae_head(keras, stem(x, "enc"), latent_dim, n_features, beta, seed)
    z_in = keras.Input((latent_dim,), name="z")
    out = keras.layers.Dense(n_features, activation="sigmoid", name="reconstruction")(stem(z_in, "dec"))
    decoder = keras.Model(z_in, out, name="decoder")
    model = keras.Model(x, decoder(z), name="residual_vae")
    return _compile(model, learning_rate, "binary_crossentropy")


# --------------------------------------------------------------------------- KL weight
def _kl_layers(model) -> list:
    kl_cls = _classes()["KLDivergence"]
    found = []
    for layer in getattr(model, "layers", []):
        if isinstance(layer, kl_cls):
            found.append(layer)
        elif hasattr(layer, "layers"):
            found.extend(_kl_layers(layer))
    return found


def _check_model(model, name: str = "model"):
    try:
        import keras
    except ImportError as err:  # pragma: no cover - keras is a dependency
        raise TypeError(f"{name} must be a keras.Model ({err})") from None
    if not isinstance(model, keras.Model):
        raise TypeError(f"{name} must be a keras.Model, got {type(model).__name__}")
    return model


def set_beta(model, beta: float) -> None:
    """Set the KL weight ``beta`` of a VAE built by :func:`vae` or :func:`residual_vae`.

    Raises ValueError when ``model`` has no KL layer (not a VAE).
    """
    _check_model(model)
    beta = _check_rate(beta, "beta", 0.0, 1e6)
    layers = _kl_layers(model)
    if not layers:
        raise ValueError(f"model {model.name!r} has no KL layer: set_beta needs a VAE from "
                         "workshop_utils.autoencoders.vae or residual_vae")
    for layer in layers:
        layer.beta.assign(beta)


def get_beta(model) -> float:
    """The current KL weight ``beta`` of a VAE (ValueError when the model is not one)."""
    _check_model(model)
    layers = _kl_layers(model)
    if not layers:
        raise ValueError(f"model {model.name!r} has no KL layer (not a VAE)")
    return float(np.asarray(layers[0].beta.numpy() if hasattr(layers[0].beta, "numpy")
                            else layers[0].beta))


def kl_warmup(warmup_epochs: int, beta_max: float = 1.0, start: float = 0.0):
    """A Keras callback that raises a VAE's ``beta`` linearly over the first epochs.

    Epoch ``e`` (0-based) trains with ``beta = start + (beta_max - start) * min(1, e / warmup_epochs)``
    (Tybalt: ``beta`` starts at 0 and grows by ``kappa = 1 / warmup_epochs`` per epoch).
    The value is assigned to the model's ``beta`` variable, which the loss reads, and
    logged as ``history.history['beta']``.

    Parameters
    ----------
    warmup_epochs : int
        Epochs to reach ``beta_max`` (0: ``beta_max`` from the first epoch).
    beta_max, start : float
        Final and initial ``beta`` (>= 0).
    """
    warmup_epochs = _check_int(warmup_epochs, "warmup_epochs", low=0)
    beta_max = _check_rate(beta_max, "beta_max", 0.0, 1e6)
    start = _check_rate(start, "start", 0.0, 1e6)
    return _classes()["KLWarmUp"](warmup_epochs, beta_max=beta_max, start=start)


# --------------------------------------------------------------------------- using a trained model
def latent_layer_name(model) -> str:
    """Name of the layer whose output is the latent code: ``"z_mean"`` (VAEs) or ``"code"``."""
    _check_model(model)
    names = {layer.name for layer in model.layers}
    for name in ("z_mean", "code"):
        if name in names:
            return name
    raise ValueError(f"model {model.name!r} has no layer named 'z_mean' or 'code'; build it with "
                     "workshop_utils.autoencoders")


def _check_X(X: Any, model, name: str = "X") -> np.ndarray:
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (N, n_features), got shape {X.shape}")
    expected = model.input_shape[-1]
    if expected is not None and X.shape[1] != expected:
        raise ValueError(f"{name} must have {expected} columns (the model's input), got {X.shape[1]}")
    if not np.isfinite(X).all():
        raise ValueError(f"{name} contains NaN or inf values")
    return X


def encode(model, X: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Latent codes of ``X``: the output of the layer ``"code"`` or ``"z_mean"`` (inference mode).

    For a VAE this is the mean of ``q(z|x)`` (no sampling).

    Parameters
    ----------
    model : keras.Model
        Built by this module.
    X : array ``(N, n_features)``
    batch_size : int

    Returns
    -------
    np.ndarray float32 ``(N, latent_dim)``.
    """
    import keras

    _check_model(model)
    X = _check_X(X, model)
    batch_size = _check_int(batch_size, "batch_size")
    encoder = keras.Model(model.inputs, model.get_layer(latent_layer_name(model)).output)
    return np.asarray(encoder.predict(X, batch_size=batch_size, verbose=0), dtype=np.float32)


def decode(model, Z: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Reconstructions from latent codes ``Z (N, latent_dim)`` with the model's ``"decoder"``.

    Returns
    -------
    np.ndarray float32 ``(N, n_features)``.
    """
    _check_model(model)
    try:
        decoder = model.get_layer("decoder")
    except ValueError:
        raise ValueError(f"model {model.name!r} has no sub-model named 'decoder'") from None
    Z = _check_X(Z, decoder, "Z")
    batch_size = _check_int(batch_size, "batch_size")
    return np.asarray(decoder.predict(Z, batch_size=batch_size, verbose=0), dtype=np.float32)


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
    _check_model(model)
    X = _check_X(X, model)
    if loss not in ("mse", "binary_crossentropy"):
        raise ValueError(f"loss must be 'mse' or 'binary_crossentropy', got {loss!r}")
    X_hat = np.asarray(model.predict(X, batch_size=_check_int(batch_size, "batch_size"), verbose=0),
                       dtype=np.float64)
    if loss == "mse":
        return float(np.mean((X - X_hat) ** 2))
    eps = 1e-7
    X_hat = np.clip(X_hat, eps, 1 - eps)
    return float(-np.mean(X * np.log(X_hat) + (1 - X) * np.log(1 - X_hat)))
