"""The only module that knows Keras from PyTorch.

Everything model-agnostic in the package (evaluation, saliency, ISM, NAS rewards)
is written once on top of the functions defined here per framework:

* :func:`logits` -- batched forward pass returning pre-sigmoid scores;
* :func:`predict_proba` -- the sigmoid of those;
* :func:`input_gradient` -- d logit / d input;
* :func:`mutant_scorer` -- logits of single-base mutants (for ISM); for PyTorch CNNs it
  patches the first convolution's output instead of recomputing it.

Model conventions (see DESIGN.md):

* Keras models end in a linear ``Dense`` followed by ``Activation('sigmoid')`` so
  the logit layer can be reached; a model whose last layer is linear is taken to
  output logits already.
* PyTorch models return logits of shape ``(N, 1)`` or ``(N,)`` and take one-hot
  DNA in the package layout ``(N, L, 4)``.

Frameworks are imported lazily, inside the functions.
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import numpy as np

Framework = Literal["keras", "torch"]


def framework(model: Any) -> Framework:
    """Return ``'keras'`` or ``'torch'`` for a model, without importing either framework."""
    if "torch" in sys.modules:
        import torch

        if isinstance(model, torch.nn.Module):
            return "torch"
    if "keras" in sys.modules:
        import keras

        if isinstance(model, keras.Model):
            return "keras"
    raise TypeError(f"model must be a keras.Model or a torch.nn.Module, got {type(model).__name__}")


def _check_x(X: np.ndarray) -> np.ndarray:
    if not hasattr(X, "shape"):
        raise TypeError(f"X must be a numpy array of shape (N, L, C), got {type(X).__name__}")
    X = np.asarray(X, dtype=np.float32)
    if X.ndim < 2:
        raise ValueError(f"X must have a batch axis, got shape {X.shape}")
    return X


def _check_batch(batch_size: int) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return int(batch_size)


@contextmanager
def torch_eval(model: Any) -> Iterator[Any]:
    """Put a torch model in ``eval()`` mode for the block and yield its device.

    The model's training mode is restored afterwards, even if the block raises.
    """
    import torch

    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    was_training = model.training
    model.eval()
    try:
        yield device
    finally:
        model.train(was_training)


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
            f"cannot reach the logits of this Keras model: its last layer {last.name!r} applies "
            f"{act_name!r}. End the model with Dense(1) followed by Activation('sigmoid').")
    model._workshop_logit_model = logit_model
    return logit_model


def logits(model: Any, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Pre-sigmoid outputs of a Keras or PyTorch model.

    Parameters
    ----------
    model : keras.Model or torch.nn.Module
    X : array ``(N, L, 4)`` (any ``(N, ...)`` the model accepts)
    batch_size : int
        Rows per forward pass.

    Returns
    -------
    np.ndarray
        float32 ``(N,)`` for single-output models, else ``(N, T)``.
    """
    X = _check_x(X)
    batch_size = _check_batch(batch_size)
    kind = framework(model)
    if kind == "keras":
        lm = keras_logit_model(model)
        if len(X) == 0:
            out = np.zeros((0, 1), np.float32)
        else:
            out = np.concatenate([np.asarray(lm(X[i:i + batch_size], training=False))
                                  for i in range(0, len(X), batch_size)])
    else:
        import torch

        with torch_eval(model) as device, torch.no_grad():
            chunks = [model(torch.from_numpy(X[i:i + batch_size]).to(device)).float().cpu().numpy()
                      for i in range(0, len(X), batch_size)]
        out = np.concatenate(chunks) if chunks else np.zeros((0, 1), np.float32)
    out = out.reshape(len(X), -1).astype(np.float32)
    return out[:, 0] if out.shape[1] == 1 else out


def predict_proba(model: Any, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Sigmoid of :func:`logits`: probabilities ``(N,)`` (or ``(N, T)``)."""
    z = logits(model, X, batch_size)
    return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)


def input_gradient(model: Any, X: np.ndarray, target: int = 0, batch_size: int = 256) -> np.ndarray:
    """Gradient of the logit of output ``target`` with respect to the input.

    Parameters
    ----------
    model : keras.Model or torch.nn.Module
    X : array ``(N, L, 4)``
    target : int
        Output column for multi-output models.
    batch_size : int

    Returns
    -------
    np.ndarray
        float32 of the same shape as ``X``.
    """
    X = _check_x(X)
    batch_size = _check_batch(batch_size)
    kind = framework(model)
    grads = []
    if kind == "keras":
        import keras

        lm = keras_logit_model(model)
        if keras.backend.backend() == "torch":
            return _torch_grad(lambda x: lm(x, training=False), X, target, batch_size)
        import tensorflow as tf

        for i in range(0, len(X), batch_size):
            x = tf.convert_to_tensor(X[i:i + batch_size])
            with tf.GradientTape() as tape:
                tape.watch(x)
                out = tf.reduce_sum(tf.reshape(lm(x, training=False), (x.shape[0], -1))[:, target])
            grads.append(tape.gradient(out, x).numpy())
        return np.concatenate(grads).astype(np.float32) if grads else np.zeros_like(X)
    with torch_eval(model):
        return _torch_grad(model, X, target, batch_size)


def _torch_grad(fn, X: np.ndarray, target: int, batch_size: int) -> np.ndarray:
    import torch

    grads = []
    for i in range(0, len(X), batch_size):
        x = torch.from_numpy(X[i:i + batch_size]).requires_grad_(True)
        out = fn(x).reshape(x.shape[0], -1)[:, target]
        (g,) = torch.autograd.grad(out.sum(), x)
        grads.append(g.detach().cpu().numpy())
    return np.concatenate(grads).astype(np.float32) if grads else np.zeros_like(X)


# --- scoring point mutants (used by attribution.ism) -------------------------------------


class MutantScorer:
    """Logits of single-base mutants of a fixed set of parent sequences.

    Built by :func:`mutant_scorer`.  Call it with three equal-length integer arrays
    ``(seq, pos, base)``: mutant ``k`` is ``X[seq[k]]`` with position ``pos[k]`` set to
    base ``base[k]`` (one-hot).  ``method`` names how the logits are computed.
    """

    method = "full forward pass"

    def __init__(self, model: Any, X: np.ndarray) -> None:
        self.model = model
        # Parents are kept channels-first, (N, 4, L); mutants are built that way and handed
        # to the model as a (B, L, 4) view.  A convolutional torch model, which transposes
        # its input to channels-first, then reads contiguous memory (faster on a CPU).
        self.XT = np.ascontiguousarray(X.transpose(0, 2, 1))

    def mutants(self, seq: np.ndarray, pos: np.ndarray, base: np.ndarray) -> np.ndarray:
        """The mutant sequences themselves, float32 ``(B, L, 4)`` (a view of channels-first memory)."""
        m = self.XT[seq]
        rows = np.arange(len(seq))
        m[rows, :, pos] = 0.0
        m[rows, base, pos] = 1.0
        return m.transpose(0, 2, 1)

    def __call__(self, seq: np.ndarray, pos: np.ndarray, base: np.ndarray) -> np.ndarray:
        m = self.mutants(seq, pos, base)
        return logits(self.model, m, batch_size=max(len(m), 1))


class _InputMismatch(Exception):
    """The patched convolution was not handed the model's input (see _TorchConvUpdateScorer)."""


class _TorchConvUpdateScorer(MutantScorer):
    """Score mutants of a torch model whose first layer is a ``Conv1d`` on the input.

    A point mutation at position ``p`` changes that convolution's output only at the
    ``kernel_size`` positions whose receptive field covers ``p``, and there by
    ``W[:, :, k] @ (new column - old column)``: a rank-one update.  So the layer's output
    for the parent is computed once, copied per mutant and patched, and the rest of the
    network runs as usual on the real mutants, with the patched output in place of the
    convolution's (the idea of fastISM, Nair et al. 2022, applied to the first layer
    only; that layer is most of the cost of a shallow genomics CNN).

    The patch is exact: every call checks that the convolution is handed the mutants
    themselves (channels-first); if a model feeds it anything else, the scorer warns and
    falls back to full forward passes.
    """

    method = "first-convolution update"
    block = 64  # parents whose convolution output is kept at a time

    def __init__(self, model: Any, X: np.ndarray, conv: Any, pad_left: int, out_len: int) -> None:
        super().__init__(model, X)
        import torch

        self.conv, self.pad_left, self.out_len = conv, pad_left, out_len
        self.device = conv.weight.device
        self.XT_t = torch.from_numpy(self.XT)
        self.ks = np.arange(conv.kernel_size[0])
        self.buffer = None  # reused across calls: fresh large tensors cost page faults on a CPU
        self._block: tuple[int, Any] = (0, None)

    def _parents(self, lo: int, hi: int) -> tuple[int, Any]:
        """The convolution's output for parents ``lo..hi-1`` (and a few more), as ``(start, tensor)``.

        Computed in blocks of :attr:`block` sequences and kept until a call needs others:
        mutants come sorted by parent, so one block serves many calls, and memory stays
        bounded however many sequences are scored.
        """
        start, block = self._block
        if block is None or lo < start or hi > start + len(block):
            import torch

            stop = max(hi, min(lo + self.block, len(self.XT)))
            with torch.no_grad():
                block = self.conv(self.XT_t[lo:stop].to(self.device))
            self._block = (lo, block)
        return self._block

    def _patched(self, seq: np.ndarray, pos: np.ndarray, base: np.ndarray) -> np.ndarray:
        import torch

        B, dev = len(seq), self.device
        d = -self.XT[seq, :, pos]                                        # (B, 4): new column - old column
        d[np.arange(B), base] += 1.0
        J = pos[:, None] + self.pad_left - self.ks[None, :]              # (B, K) output positions hit
        valid = (J >= 0) & (J < self.out_len)
        with torch.no_grad():
            W = self.conv.weight                                         # (C, 4, K)
            lo, parents = self._parents(int(seq.min()), int(seq.max()) + 1)   # (n, C, L_out)
            if self.buffer is None or len(self.buffer) < B or self.buffer.dtype != parents.dtype:
                self.buffer = parents.new_empty((B, *parents.shape[1:]))
            h = self.buffer[:B]
            torch.index_select(parents, 0, torch.from_numpy(seq - lo).to(dev), out=h)
            delta = torch.einsum("cak,ba->bck", W, torch.from_numpy(d).to(dev, W.dtype))
            delta *= torch.from_numpy(valid[:, None, :]).to(dev, delta.dtype)
            idx = torch.from_numpy(np.clip(J, 0, self.out_len - 1)).to(dev)
            h.scatter_add_(2, idx[:, None, :].expand(-1, h.shape[1], -1), delta.to(h.dtype))
            m = torch.from_numpy(self.mutants(seq, pos, base)).to(dev)
            mt = m.transpose(1, 2)

            def forward(x):
                same = x.data_ptr() == mt.data_ptr() and x.stride() == mt.stride() and x.shape == mt.shape
                if not (same or (x.shape == mt.shape and torch.equal(x, mt.to(x.dtype)))):
                    raise _InputMismatch
                return h

            self.conv.forward = forward
            try:
                out = self.model(m)
            finally:
                del self.conv.forward
        return out.float().reshape(B, -1)[:, 0].cpu().numpy()

    def __call__(self, seq: np.ndarray, pos: np.ndarray, base: np.ndarray) -> np.ndarray:
        if self.method == _TorchConvUpdateScorer.method:
            try:
                with torch_eval(self.model):
                    return self._patched(seq, pos, base)
            except _InputMismatch:
                import warnings

                warnings.warn("this model does not hand its first Conv1d the input itself, so its output "
                              "cannot be patched; scoring mutants with full forward passes instead",
                              RuntimeWarning, stacklevel=2)
                self.method, self.buffer = MutantScorer.method, None
        return super().__call__(seq, pos, base)


def _torch_input_conv(model: Any, x: np.ndarray) -> tuple[Any, int, int] | None:
    """The ``Conv1d`` that a torch model applies first, directly to its (transposed) input.

    Runs one forward pass on ``x`` ``(n, L, 4)`` with hooks on every ``Conv1d`` and returns
    ``(conv, left padding, output length)`` when the first convolution called sees exactly
    the channels-first input, is called once, and is a plain stride-1 convolution; else None.
    """
    import torch

    calls: list[tuple[Any, Any, Any]] = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: calls.append((mod, inp, out)))
             for m in model.modules() if isinstance(m, torch.nn.Conv1d)]
    try:
        with torch_eval(model) as device, torch.no_grad():
            model(torch.from_numpy(np.ascontiguousarray(x)).to(device))
    finally:
        for hook in hooks:
            hook.remove()
    if not calls:
        return None
    conv, inp, out = calls[0]
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1)))
    if (sum(c[0] is conv for c in calls) != 1 or len(inp) != 1 or inp[0].shape != xt.shape
            or not torch.equal(inp[0].detach().cpu().float(), xt)):
        return None
    if (conv.stride != (1,) or conv.dilation != (1,) or conv.groups != 1 or conv.padding_mode != "zeros"
            or type(conv).forward is not torch.nn.Conv1d.forward):
        return None
    K = conv.kernel_size[0]
    if conv.padding == "same":
        pad_left = (K - 1) // 2
    elif conv.padding == "valid":
        pad_left = 0
    else:
        pad_left = int(conv.padding[0])
    return conv, pad_left, int(out.shape[-1])


def mutant_scorer(model: Any, X: np.ndarray, fast: bool = True) -> MutantScorer:
    """A callable that returns the logits of single-base mutants of ``X``.

    Parameters
    ----------
    model : keras.Model or torch.nn.Module
    X : array ``(N, L, 4)``
        The parent sequences.
    fast : bool
        For a PyTorch model whose first layer is a ``Conv1d`` applied to the input, update
        that layer's output for each mutant instead of recomputing it (same numbers, to
        float rounding).  False, or any other model: full forward passes on batches of
        mutants.

    Returns
    -------
    MutantScorer
        ``scorer(seq, pos, base)`` with integer arrays ``(B,)`` returns float32 logits
        ``(B,)``; ``scorer.method`` says which way they are computed.
    """
    X = _check_x(X)
    if X.ndim != 3:
        raise ValueError(f"X must have shape (N, L, 4), got {X.shape}")
    kind = framework(model)
    if fast and kind == "torch" and len(X):
        found = _torch_input_conv(model, X[:1])
        if found is not None:
            return _TorchConvUpdateScorer(model, X, *found)
    return MutantScorer(model, X)
