"""The only module that knows Keras from PyTorch.

Everything model-agnostic in the package (evaluation, saliency, ISM, NAS rewards,
parameter counts, grading exports) is written once on top of the functions defined
here per framework:

* :func:`framework` -- ``'keras'`` or ``'torch'``; :func:`require` refuses the other one;
* :func:`logits` -- batched forward pass returning pre-sigmoid scores;
* :func:`sigmoid`, :func:`predict_proba` -- the one sigmoid of the package, and
  probabilities on top of :func:`logits`;
* :func:`input_gradient` -- d logit / d input;
* :func:`count_params` -- every weight, trainable or not, counted the Keras way;
* :func:`eval_mode` -- a model in inference mode for a block, put back as it was after;
* :func:`torch_seeded` -- seeded torch randomness that leaves the caller's RNG alone;

Model conventions (see ``ARCHITECTURE.md``):

* Keras models end in a linear ``Dense`` followed by ``Activation('sigmoid')`` so
  the logit layer can be reached; a model whose last layer is linear is taken to
  output logits already.
* PyTorch models return logits of shape ``(N, 1)`` or ``(N,)`` (``(N, T)`` for several
  outputs), have float32 weights and take one-hot DNA in the package layout ``(N, L, 4)``.
  A model ending in an ``nn.Sigmoid()`` module is read through that module: its input is
  the logit (see :func:`torch_forward`), so no probability is squashed twice.

Frameworks are imported lazily, inside the functions.
"""
from __future__ import annotations

import sys
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import numpy as np

from . import _checks
from . import _moved

# Names that lived here in the last release (one more release with a DeprecationWarning).
__getattr__ = _moved.moved_names(__name__, {
    "mutant_scorer": "workshop_utils.mutagenesis", "MutantScorer": "workshop_utils.mutagenesis",
    "torch_eval": "workshop_utils.backend:eval_mode", "fit_binary": "workshop_utils.training",
    "input_conv": "workshop_utils.mutagenesis"})

Framework = Literal["keras", "torch"]


def framework(model: Any) -> Framework:
    """Return ``'keras'`` or ``'torch'`` for a model, without importing either framework.

    Raises
    ------
    TypeError
        For anything that is neither a ``keras.Model`` nor a ``torch.nn.Module``.
    """
    if "torch" in sys.modules:
        import torch

        if isinstance(model, torch.nn.Module):
            return "torch"
    if "keras" in sys.modules:
        import keras

        if isinstance(model, keras.Model):
            return "keras"
    raise TypeError(f"model must be a keras.Model or a torch.nn.Module, got {type(model).__name__}")


def require(model: Any, kind: Framework, fn: str, name: str = "model", hint: str = "") -> Any:
    """Return ``model`` if it is a ``kind`` model, else raise a ``TypeError`` naming ``fn`` and ``name``."""
    try:
        found = framework(model)
    except TypeError:
        found = None
    if found != kind:
        expected = "a torch.nn.Module" if kind == "torch" else "a keras.Model"
        raise _checks.fail(fn, name, expected, f"{type(model).__name__}" + (f" (a {found} model)" if found else ""),
                           kind=TypeError, hint=hint)
    return model


def _check_x(X: Any, fn: str) -> np.ndarray:
    X = _checks.finite_array(X, "X", fn, allow_empty=True)
    if X.ndim < 2:
        raise _checks.fail(fn, "X", "an array with a batch axis, (N, L, 4)", f"shape {X.shape}")
    return X


def require_model(model: Any, fn: str) -> Framework:
    """The framework of ``model``; a ``TypeError`` naming ``fn`` for anything that is not a model."""
    try:
        return framework(model)
    except TypeError:
        raise _checks.fail(fn, "model", "a keras.Model or a torch.nn.Module", type(model).__name__,
                           kind=TypeError) from None


# ----------------------------------------------------------------------------- modes and seeds


@contextmanager
def eval_mode(model: Any) -> Iterator[Any]:
    """Inference mode for the block; the model is put back exactly as it was afterwards.

    PyTorch: every submodule's ``training`` flag is saved, the model is put in ``eval()``
    and the flags are restored in a ``finally`` (so an exception inside the block, or a
    model whose parts were in different modes, leaves it as it was).  Yields the device of
    the model's parameters.  Keras: nothing to switch (the package calls Keras models
    with ``training=False``); yields None.

    Examples
    --------
    >>> with eval_mode(model) as device:                      # doctest: +SKIP
    ...     out = model(torch.from_numpy(X).to(device))
    """
    if framework(model) == "keras":
        yield None
        return
    import torch

    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    saved = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield device
    finally:
        for m, mode in saved:
            m.training = mode


@contextmanager
def torch_seeded(seed: int) -> Iterator[None]:
    """Run the block with torch's global RNG seeded by ``seed``, then put the caller's RNG back.

    For torch operations that take no generator (dropout, ``nn.Linear``'s default
    initialisation, ``nn.init`` without ``generator=``): the block draws the same numbers
    as after ``torch.manual_seed(seed)``, and the random state outside the block is left
    as it was (``torch.random.fork_rng``).
    """
    import torch

    seed = _checks.non_negative_int(seed, "seed", "torch_seeded")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


# ----------------------------------------------------------------------------- forward passes


def keras_logit_model(model: Any) -> Any:
    """A Keras model sharing ``model``'s weights whose output is the pre-sigmoid logit.

    The result is cached on the model, so repeated calls are free.
    """
    import keras

    cached = getattr(model, "_workshop_logit_model", None)
    if cached is not None:
        return cached
    last = model.layers[-1]
    act = getattr(last, "activation", None)
    act_name = getattr(act, "__name__", str(act))
    if isinstance(last, keras.layers.Activation) and "sigmoid" in act_name:
        inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
        logit_model = keras.Model(inputs, model.layers[-2].output)
    elif act is None or act_name == "linear":
        logit_model = model
    else:
        raise ValueError(
            f"logits: model must expose its logits, got a Keras model whose last layer {last.name!r} applies "
            f"{act_name!r} inside it. End the model with Dense(1) followed by Activation('sigmoid').")
    model._workshop_logit_model = logit_model
    return logit_model


def _torch_dtype_check(model: Any, fn: str) -> None:
    import torch

    for p in model.parameters():
        if p.is_floating_point():
            if p.dtype != torch.float32:
                raise _checks.fail(fn, "model", "a torch model with float32 weights", f"{p.dtype} weights",
                                   kind=TypeError, hint="the package feeds float32 arrays; call model.float() "
                                   "first (a .double() or .half() model cannot take them)")
            return


#: torch models whose output was checked once with autograd on (see :func:`logits`).
_OUTPUT_CHECKED: "weakref.WeakKeyDictionary[Any, bool]" = weakref.WeakKeyDictionary()


def _sigmoid_modules(model: Any) -> list:
    """The ``nn.Sigmoid``, ``nn.Softmax`` and ``nn.LogSoftmax`` modules of a torch model."""
    import torch

    return [m for m in model.modules() if isinstance(m, (torch.nn.Sigmoid, torch.nn.Softmax, torch.nn.LogSoftmax))]


def _softmax_error(fn: str, got: str) -> Exception:
    return _checks.fail(fn, "model", "a torch model that returns logits (pre-sigmoid scores)", got,
                        hint="the package applies one sigmoid per output: return the scores before the softmax "
                             "(for two classes, one logit: logit1 - logit0, trained with BCEWithLogitsLoss)")


def _ends_in_sigmoid_function(out: Any) -> bool:
    """True when ``out`` was made by ``torch.sigmoid`` (through views only); needs autograd on."""
    return _ends_in(out, ("SigmoidBackward",))


def _ends_in(out: Any, names: tuple[str, ...]) -> bool:
    """True when the last operation that made ``out`` (through views only) is one of ``names``."""
    node = getattr(out, "grad_fn", None)
    while node is not None:
        name = type(node).__name__
        if name.startswith(names):
            return True
        if not name.startswith(("View", "Squeeze", "Unsqueeze", "Reshape", "Alias", "Unsafe")):
            return False
        node = node.next_functions[0][0] if node.next_functions else None
    return False


def torch_forward(model: Any, x: Any, fn: str = "logits") -> Any:
    """The pre-sigmoid output of a torch model on ``x``, with errors in the package's words.

    ``x`` is a float32 tensor ``(B, L, 4)`` (or ``(B, ...)``).  A model that expects
    channels first ``(B, 4, L)`` fails inside torch; the error is re-raised as a
    ``ValueError`` that names ``fn``, the layout the package uses and the fix.

    A model whose output *is* the output of an ``nn.Sigmoid()`` module (the last module of
    an ``nn.Sequential``, or ``self.sigmoid(...)`` returned by ``forward``, reshaped or
    not) returns probabilities, not logits: the input of that sigmoid is returned instead
    (so :func:`predict_proba` never applies a second sigmoid, and training uses the
    logits).  A model that ends in the function ``torch.sigmoid`` is refused when it can
    be seen (autograd on), and a model returning a tuple is refused: both say what to change.
    """
    import torch

    sigmoids = _sigmoid_modules(model)
    calls: list[tuple[Any, Any, Any]] = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: calls.append((mod, inp[0] if inp else None, out)))
             for m in sigmoids]
    try:
        out = model(x)
    except RuntimeError as err:
        _torch_dtype_check(model, fn)
        shape = tuple(x.shape)
        hint = ("the package passes one-hot DNA as (N, L, 4); a model written for channels-first input "
                "(N, 4, L) must transpose inside forward(): x = x.transpose(1, 2)") if shape[-1:] == (4,) else ""
        raise _checks.fail(fn, "model", f"a torch model that takes X of shape (N, {', '.join(map(str, shape[1:]))})",
                           f"an error from torch: {err}", kind=ValueError, hint=hint) from err
    finally:
        for hook in hooks:
            hook.remove()
    if not isinstance(out, torch.Tensor):
        what = (f"a {type(out).__name__} of {len(out)}" if isinstance(out, (tuple, list)) else
                _checks.describe(out))
        raise _checks.fail(fn, "model", "a torch model whose forward() returns one tensor of logits", what,
                           kind=_checks.ArgumentTypeError,
                           hint="return only the logits from forward(), e.g. `return logits` instead of "
                                "`return logits, features`; or wrap the model so that it does")
    if calls:
        mod, inp, last = calls[-1]
        if (isinstance(inp, torch.Tensor) and isinstance(last, torch.Tensor) and last.numel() == out.numel()
                and last.data_ptr() == out.data_ptr() and inp.numel() == out.numel()):
            if not isinstance(mod, torch.nn.Sigmoid):
                raise _softmax_error(fn, f"a model that ends in nn.{type(mod).__name__}()")
            return inp.reshape(out.shape)  # the model ends in nn.Sigmoid(): its input is the logit
    if torch.is_grad_enabled() and _ends_in(out, ("SoftmaxBackward", "LogSoftmaxBackward")):
        raise _softmax_error(fn, "a model whose forward() ends in a softmax")
    if torch.is_grad_enabled() and _ends_in_sigmoid_function(out):
        raise _checks.fail(fn, "model", "a torch model that returns logits (pre-sigmoid scores)",
                           "a model whose forward() ends in torch.sigmoid(...)",
                           hint="return the value before the sigmoid (train with BCEWithLogitsLoss), or end "
                                "the model with an nn.Sigmoid() module, which the package recognises and skips")
    return out


def keras_forward(fn_model: Any, x: Any, fn: str = "logits") -> Any:
    """``fn_model(x, training=False)`` for a Keras model, turning a shape mismatch into a clear error."""
    try:
        return fn_model(x, training=False)
    except ValueError as err:
        shape = tuple(x.shape)
        hint = ("the package passes one-hot DNA as (N, L, 4); build the model with keras.Input((L, 4))"
                if shape[-1:] == (4,) else "")
        raise _checks.fail(fn, "model", f"a Keras model that takes X of shape (N, {', '.join(map(str, shape[1:]))})",
                           f"an error from Keras: {err}", kind=ValueError, hint=hint) from err


def logits(model: Any, X: np.ndarray, batch_size: int = 1024, *, fn: str = "logits") -> np.ndarray:
    """Pre-sigmoid outputs of a Keras or PyTorch model.

    Parameters
    ----------
    model : keras.Model or torch.nn.Module
    X : array ``(N, L, 4)`` (any ``(N, ...)`` the model accepts), finite
    batch_size : int
        Rows per forward pass.
    fn : str
        The public function the student called, named in every error message
        (``evaluate``, ``saliency``, ...); ``'logits'`` when called directly.

    Returns
    -------
    np.ndarray
        float32 ``(N,)`` for single-output models, else ``(N, T)``.
    """
    kind = require_model(model, fn)
    X = _check_x(X, fn)
    batch_size = _checks.positive_int(batch_size, "batch_size", fn)
    if kind == "keras":
        lm = keras_logit_model(model)
        if len(X) == 0:
            out = np.zeros((0, 1), np.float32)
        else:
            out = np.concatenate([np.asarray(keras_forward(lm, X[i:i + batch_size], fn))
                                  for i in range(0, len(X), batch_size)])
    else:
        import torch

        _torch_dtype_check(model, fn)
        with eval_mode(model) as device:
            if len(X) and model not in _OUTPUT_CHECKED:
                # one row with autograd on, once per model: a model ending in torch.sigmoid(...) shows itself
                torch_forward(model, torch.from_numpy(X[:1]).to(device).requires_grad_(True), fn)
                _OUTPUT_CHECKED[model] = True
        with eval_mode(model) as device, torch.no_grad():
            chunks = [torch_forward(model, torch.from_numpy(X[i:i + batch_size]).to(device), fn)
                      .float().cpu().numpy() for i in range(0, len(X), batch_size)]
        out = np.concatenate(chunks) if chunks else np.zeros((0, 1), np.float32)
    out = out.reshape(len(X), -1).astype(np.float32)
    return out[:, 0] if out.shape[1] == 1 else out


def sigmoid(z: Any) -> np.ndarray:
    """The logistic function ``1 / (1 + exp(-z))`` in float64 (no overflow warning): logits -> probabilities."""
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


def predict_proba(model: Any, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Sigmoid of :func:`logits`: float32 probabilities ``(N,)`` (or ``(N, T)``)."""
    return sigmoid(logits(model, X, batch_size, fn="predict_proba")).astype(np.float32)


def n_outputs(model: Any, X: np.ndarray, fn: str = "n_outputs") -> int:
    """Number of outputs ``T`` of a model (1 for logits ``(N,)`` or ``(N, 1)``), from one row of ``X``."""
    z = logits(model, np.asarray(X)[:1], 1, fn=fn)
    return 1 if z.ndim == 1 else int(z.shape[1])


def check_target(model: Any, X: np.ndarray, target: Any, fn: str) -> int:
    """The output column to explain: ``target`` checked against the model's outputs.

    A single-output model takes ``target=None`` (or 0); a model with several outputs
    needs an explicit ``target`` (explaining output 0 silently would explain the wrong thing).
    """
    T = n_outputs(model, X, fn) if len(X) else 1
    if target is None:
        if T > 1:
            raise _checks.fail(fn, "target", f"given for a model with {T} outputs (an integer in 0..{T - 1})",
                               None, hint=f"e.g. {fn}(model, X, target=0) explains output 0")
        return 0
    if isinstance(target, (bool, np.bool_)) or not isinstance(target, (int, np.integer)):
        raise _checks.fail(fn, "target", f"an integer in 0..{T - 1} or None", target, kind=_checks.ArgumentTypeError)
    if not 0 <= int(target) < T:
        raise _checks.fail(fn, "target", f"an integer in 0..{T - 1} (the model has {T} output(s))", target)
    return int(target)


def input_gradient(model: Any, X: np.ndarray, target: int = 0, batch_size: int = 256, *,
                   fn: str = "input_gradient") -> np.ndarray:
    """Gradient of the logit of output ``target`` with respect to the input.

    Parameters
    ----------
    model : keras.Model or torch.nn.Module
    X : array ``(N, L, 4)``, finite
    target : int
        Output column for multi-output models.
    batch_size : int
    fn : str
        The public function the student called, named in every error message.

    Returns
    -------
    np.ndarray
        float32 of the same shape as ``X``.
    """
    kind = require_model(model, fn)
    X = _check_x(X, fn)
    batch_size = _checks.positive_int(batch_size, "batch_size", fn)
    target = _checks.non_negative_int(target, "target", fn)
    grads = []
    if kind == "keras":
        import keras

        lm = keras_logit_model(model)
        if keras.backend.backend() == "torch":
            return _torch_grad(lambda x: keras_forward(lm, x, fn), X, target, batch_size)
        import tensorflow as tf

        for i in range(0, len(X), batch_size):
            x = tf.convert_to_tensor(X[i:i + batch_size])
            with tf.GradientTape() as tape:
                tape.watch(x)
                out = tf.reduce_sum(tf.reshape(keras_forward(lm, x, fn), (x.shape[0], -1))[:, target])
            grads.append(tape.gradient(out, x).numpy())
        return np.concatenate(grads).astype(np.float32) if grads else np.zeros_like(X)
    _torch_dtype_check(model, fn)
    with eval_mode(model) as device:
        return _torch_grad(lambda x: torch_forward(model, x, fn), X, target, batch_size, device)


def _torch_grad(fn, X: np.ndarray, target: int, batch_size: int, device: Any = None) -> np.ndarray:
    import torch

    grads = []
    for i in range(0, len(X), batch_size):
        x = torch.from_numpy(X[i:i + batch_size])
        x = (x.to(device) if device is not None else x).requires_grad_(True)
        out = fn(x).reshape(x.shape[0], -1)[:, target]
        (g,) = torch.autograd.grad(out.sum(), x)
        grads.append(g.detach().cpu().numpy())
    return np.concatenate(grads).astype(np.float32) if grads else np.zeros_like(X)


# ----------------------------------------------------------------------------- model facts


def count_params(model: Any) -> int:
    """Number of weights of a Keras or PyTorch model, trainable or not, counted the Keras way.

    Keras: ``model.count_params()`` (trainable and non-trainable weights, e.g. batch
    normalisation's moving mean and variance).  PyTorch: every parameter (frozen ones
    too) plus the ``running_mean``/``running_var`` buffers of batch normalisation, which
    Keras counts as weights; so the same architecture gives the same number in both (the
    Day-1 CNN: 14,265).
    """
    if require_model(model, "count_params") == "keras":
        return int(model.count_params())
    n = sum(p.numel() for p in model.parameters())
    n += sum(b.numel() for name, b in model.named_buffers() if name.endswith(("running_mean", "running_var")))
    return int(n)


def weight_arrays(model: Any) -> list[np.ndarray]:
    """Every weight array of a Keras or PyTorch model (buffers too), as numpy, in a fixed order.

    Used to fingerprint a model's state (e.g. so a cached result is never reused after training).
    """
    if require_model(model, "weight_arrays") == "keras":
        return [np.asarray(w) for w in model.get_weights()]
    return [t.detach().cpu().numpy() for t in model.state_dict().values()]
