"""The Keras layers and the callback of the autoencoder lesson (imported lazily by the builders).

:mod:`workshop_utils.autoencoders` builds the models; this module holds the pieces Keras
lacks, as plain top-level classes (so they show in ``dir()``, tab completion and
tracebacks under their own names).  It imports keras at the top, so
``import workshop_utils`` does not import it; the builders import it when they run.

Classes
-------
MaskingNoise    ADAGE's input corruption (zeroes, no rescaling; identity at inference)
Sampling        the VAE's reparameterisation trick (the mean at inference)
KLDivergence    adds ``beta * scale * KL`` to the loss; ``beta`` is a variable callbacks can change
kl_layers       the KLDivergence layers of a model (sub-models searched too)
KLWarmUp        callback raising ``beta`` linearly over the first epochs (Tybalt's warm-up)
LossTerms       callback logging a VAE's reconstruction and KL terms on validation data
DenseTranspose  a decoder layer tied to an encoder ``Dense`` (ADAGE's tied weights)

Everything is written with ``keras.ops`` and ``keras.random`` only, so it runs on any
Keras 3 backend; the layers are registered for ``.keras`` saving under the package name
``workshop_utils``.
"""
from __future__ import annotations

import keras
from keras import ops

from . import _checks

__all__ = ["DenseTranspose", "KLDivergence", "KLWarmUp", "LossTerms", "MaskingNoise", "Sampling", "kl_layers"]

_register = keras.saving.register_keras_serializable(package="workshop_utils")


@_register
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


@_register
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


@_register
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


def kl_layers(model) -> list:
    """Every :class:`KLDivergence` layer of ``model``, sub-models included (empty for a model that is no VAE)."""
    found = []
    for layer in getattr(model, "layers", []):
        if isinstance(layer, KLDivergence):
            found.append(layer)
        elif hasattr(layer, "layers"):
            found.extend(kl_layers(layer))
    return found


class KLWarmUp(keras.callbacks.Callback):
    """Raise ``beta`` linearly from ``start`` to ``beta_max`` over the first epochs (Tybalt's warm-up).

    With ``warmup_epochs``: epoch ``e`` (0-based) trains with
    ``beta = start + (beta_max - start) * min(1, e / warmup_epochs)``.  With ``kappa``
    (Tybalt's form, ``warmup_epochs=None``): ``beta`` grows by ``kappa`` per epoch,
    ``beta = min(beta_max, start + kappa * e)``.  The value used is written to
    ``logs['beta']`` (so it appears in ``history.history``).
    """

    def __init__(self, warmup_epochs: int | None, beta_max: float = 1.0, start: float = 0.0,
                 kappa: float | None = None):
        super().__init__()
        self.warmup_epochs = None if warmup_epochs is None else int(warmup_epochs)
        self.kappa = None if kappa is None else float(kappa)
        self.beta_max = float(beta_max)
        self.start = float(start)
        self.current = self.start

    def beta_at(self, epoch: int) -> float:
        if self.kappa is not None:
            return min(self.beta_max, self.start + self.kappa * epoch)
        frac = 1.0 if self.warmup_epochs == 0 else min(1.0, epoch / self.warmup_epochs)
        return self.start + (self.beta_max - self.start) * frac

    def on_epoch_begin(self, epoch, logs=None):
        self.current = self.beta_at(epoch)
        layers = kl_layers(self.model)
        if not layers:
            raise _checks.fail("kl_warmup", "model", "a VAE from workshop_utils.autoencoders.vae or residual_vae",
                               f"{self.model.name!r}, which has no KL layer")
        for layer in layers:
            layer.beta.assign(self.current)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["beta"] = self.current


class LossTerms(keras.callbacks.Callback):
    """After every epoch, log the VAE's validation reconstruction and KL terms apart.

    Writes ``val_reconstruction`` and ``val_kl`` (``terms(model, x_val)``:
    :func:`workshop_utils.autoencoder_eval.loss_terms`, which
    :func:`workshop_utils.autoencoders.track_loss_terms` passes) into the epoch's logs, so they
    appear in ``history.history`` next to the total ``val_loss``.
    """

    def __init__(self, x_val, terms):
        super().__init__()
        self.x_val = x_val
        self.terms = terms

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            terms = self.terms(self.model, self.x_val)
            logs["val_reconstruction"] = terms["reconstruction"]
            logs["val_kl"] = terms["kl"]


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
