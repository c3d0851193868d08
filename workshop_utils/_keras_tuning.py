"""The KerasTuner ``HyperModel`` class of the autoencoder lesson (imported lazily by :mod:`.tuning`).

It subclasses ``keras_tuner.HyperModel``, so this module imports keras_tuner (and keras)
at the top; :func:`workshop_utils.tuning.tybalt_hypermodel` checks the arguments and
imports it when it runs, so ``import workshop_utils`` stays light.

Classes
-------
TybaltHyperModel   Tybalt's search: ``build`` chooses the code size and the learning rate,
                   ``fit`` the KL warm-up rate kappa, the batch size and the epochs
ScoreAtBeta1       callback scoring the trained VAE on validation data with ``beta = 1``

quiet_retracing    context manager: TensorFlow's "triggered tf.function retracing" warning
                   is dropped while a search trains one new model per trial
"""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence

import keras
import keras_tuner as kt
import numpy as np

from . import autoencoders as _ae
from .autoencoder_eval import set_beta

__all__ = ["OBJECTIVE", "ScoreAtBeta1", "TybaltHyperModel", "quiet_retracing"]

#: The text of the TensorFlow warning :func:`quiet_retracing` drops.
RETRACING = "triggered tf.function retracing"


class _DropRetracing(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return RETRACING not in record.getMessage()


@contextlib.contextmanager
def quiet_retracing() -> Iterator[None]:
    """Inside the block, drop TensorFlow's "triggered tf.function retracing" warning, and only it.

    A search builds a new model for every trial, and Keras traces new training and
    evaluation functions for each; after five of them TensorFlow warns that functions
    are being retraced "repeatedly in a loop".  In a search that is the expected cost of
    training new models, not the mistake the warning is about, and students read it as an
    error.  The filter sits on the ``"tensorflow"`` logger only for the duration of the
    block: every other TensorFlow message, and every error, still shows.
    """
    logger = logging.getLogger("tensorflow")
    drop = _DropRetracing()
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)

#: The objective :class:`TybaltHyperModel` reports: the validation loss with ``beta = 1``.
OBJECTIVE = "val_loss_beta1"


class TybaltHyperModel(kt.HyperModel):
    """Tybalt's hyperparameter search (Way & Greene 2018) as a KerasTuner hypermodel.

    * ``build(hp)`` chooses what the *model* is: ``hp.Choice("latent_dim", ...)`` and
      ``hp.Choice("learning_rate", ...)``, and returns a compiled
      :func:`~workshop_utils.autoencoders.vae`.
    * ``fit(hp, model, x, validation_data=...)`` chooses how it is *trained*:
      ``hp.Choice("kappa", ...)`` (the KL warm-up: ``beta = min(1, kappa * epoch)``),
      ``hp.Choice("batch_size", ...)`` and ``hp.Choice("epochs", ...)`` (KerasTuner's
      documented way to tune arguments of ``model.fit``).
    * ``declare_hyperparameters(hp)`` registers ``fit``'s three choices before the first
      trial, so the oracle samples them from trial 1 on (otherwise KerasTuner meets them
      only inside the first ``fit`` and that trial gets their defaults).

    The objective, ``"val_loss_beta1"``, is measured after training on the validation
    data with ``beta = 1``: reconstruction + KL, the same loss for every trial.  The
    ``val_loss`` that Keras logs while training would not do: during the warm-up it holds
    only ``beta * KL``, so a small ``kappa`` (or few epochs) would win by never paying the
    full KL term.  ``fit`` returns a dict with the objective and three diagnostics:
    ``val_reconstruction`` (binary cross-entropy per gene), ``val_kl`` (KL divided by the
    number of genes; the two add up to the objective) and ``final_beta`` (the ``beta`` of
    the last epoch).

    Build it with :func:`workshop_utils.tuning.tybalt_hypermodel`, which checks the
    arguments.  Data: ``x (N, n_features)`` in [0, 1]; the targets are the inputs.
    """

    #: What this hypermodel's ``fit`` reports (the objective first) and its direction:
    #: :func:`workshop_utils.tuning.make_tuner` and ``run_search`` read these.
    reported_metrics = (OBJECTIVE, "val_reconstruction", "val_kl", "final_beta")
    objective_direction = "min"
    #: Arguments of ``model.fit`` that are hyperparameters here (``run_search`` does not pass them).
    tuned_fit_arguments = ("epochs", "batch_size")

    def __init__(self, n_features: int, latent_dims: Sequence[int], learning_rates: Sequence[float],
                 kappas: Sequence[float], batch_sizes: Sequence[int], epochs: Sequence[int],
                 hidden: Sequence[int] = (100,), seed: int = 0):
        super().__init__(name="tybalt_vae")
        self.n_features = n_features
        self.latent_dims = list(latent_dims)
        self.learning_rates = list(learning_rates)
        self.kappas = list(kappas)
        self.batch_sizes = list(batch_sizes)
        self.epochs = list(epochs)
        self.hidden = tuple(hidden)
        self.seed = seed

    # ----------------------------------------------------------------- the search space
    def _fit_choices(self, hp) -> tuple[float, int, int]:
        return (hp.Choice("kappa", self.kappas), hp.Choice("batch_size", self.batch_sizes),
                hp.Choice("epochs", self.epochs))

    def declare_hyperparameters(self, hp) -> None:
        self._fit_choices(hp)

    def build(self, hp):
        """A compiled VAE ``(N, n_features) -> (N, n_features)`` with the trial's code size and learning rate."""
        return _ae.vae(self.n_features, latent_dim=hp.Choice("latent_dim", self.latent_dims),
                       hidden=self.hidden, learning_rate=hp.Choice("learning_rate", self.learning_rates),
                       seed=self.seed)

    def fit(self, hp, model, x, y=None, validation_data=None, callbacks=None, **kwargs) -> dict[str, float]:
        """Train ``model`` with the trial's kappa, batch size and epochs; score it at ``beta = 1``.

        Parameters
        ----------
        hp : keras_tuner.HyperParameters
        model : keras.Model
            What :meth:`build` returned.
        x : array ``(N, n_features)``
            Training data; ``y`` defaults to ``x`` (an autoencoder).
        validation_data : array ``(M, n_features)`` or tuple ``(X_val, X_val)``
            Required: the objective is measured on it, once, after the last epoch (not
            after every epoch: that would cost more than the training of these small models).
        callbacks : list
            The tuner's callbacks (its checkpoint); the KL warm-up and the scoring go first.
        **kwargs
            Passed to ``model.fit``; ``epochs`` and ``batch_size`` are refused (they are
            hyperparameters here).

        Returns
        -------
        dict with ``"val_loss_beta1"``, ``"val_reconstruction"``, ``"val_kl"``, ``"final_beta"``.
        """
        for name in ("epochs", "batch_size"):
            if name in kwargs:
                raise ValueError(f"TybaltHyperModel.fit: {name} must not be passed to search(): "
                                 f"it is a hyperparameter of this hypermodel, got {name}={kwargs[name]!r}")
        if validation_data is None:
            raise ValueError("TybaltHyperModel.fit: validation_data must be given to search() "
                             "(the objective is measured on it), got None")
        x_val = validation_data[0] if isinstance(validation_data, (tuple, list)) else validation_data
        kappa, batch_size, epochs = self._fit_choices(hp)
        warmup = _ae.kl_warmup(kappa=kappa)
        score = ScoreAtBeta1(np.asarray(x_val, dtype=np.float32), epochs)
        with quiet_retracing():        # one new model per trial: retracing is expected
            model.fit(x, x if y is None else y, epochs=epochs, batch_size=batch_size,
                      callbacks=[warmup, score, *(callbacks or [])], **kwargs)
        return {**score.result, "final_beta": float(warmup.current)}


class ScoreAtBeta1(keras.callbacks.Callback):
    """After the last epoch, the VAE's validation loss with ``beta = 1``, split in its two terms.

    At the end of epoch ``epochs - 1`` it evaluates ``x_val`` with ``beta = 0`` (the
    reconstruction: binary cross-entropy per gene) and with ``beta = 1`` (reconstruction +
    KL / n_features), leaves ``beta = 1`` and writes ``val_loss_beta1`` into that epoch's
    logs and into :attr:`result`.  Earlier epochs log ``val_loss_beta1 = inf`` (not scored
    yet): KerasTuner's checkpoint callback, which runs after this one, then saves only the
    final weights, the ones that were scored.
    """

    def __init__(self, x_val: np.ndarray, epochs: int):
        super().__init__()
        self.x_val = x_val
        self.epochs = int(epochs)
        self.result: dict[str, float] = {}

    def _loss(self, beta: float) -> float:
        set_beta(self.model, beta)
        return float(self.model.evaluate(self.x_val, self.x_val, verbose=0, return_dict=True)["loss"])

    def on_epoch_end(self, epoch, logs=None):
        if epoch < self.epochs - 1:
            if logs is not None:
                logs[OBJECTIVE] = float("inf")
            return
        reconstruction = self._loss(0.0)
        total = self._loss(1.0)
        self.result = {OBJECTIVE: total, "val_reconstruction": reconstruction, "val_kl": total - reconstruction}
        if logs is not None:
            logs[OBJECTIVE] = total
