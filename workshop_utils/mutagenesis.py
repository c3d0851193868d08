"""Scoring single-base mutants, the engine of in-silico mutagenesis (:func:`workshop_utils.attribution.ism`).

:func:`mutant_scorer` returns a callable that gives the logits of point mutants of a
fixed set of parent sequences.  The plain scorer (:class:`MutantScorer`) builds the
mutants and runs them through :func:`workshop_utils.backend.logits`, so it serves Keras
and PyTorch alike.  For a PyTorch CNN whose first layer is a ``Conv1d`` on the input
(found by :func:`workshop_utils.backend.input_conv`), :class:`ConvUpdateScorer` patches
that layer's output per mutant instead of recomputing it (the idea of fastISM, Nair et
al. 2022, applied to the first layer).

This module imports only numpy; torch is imported inside the torch-only scorer, which is
only ever built for a convolution that :mod:`workshop_utils.backend` found in a torch model.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from . import _checks
from .backend import eval_mode, input_conv, logits, require_model, torch_forward


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
    """The patched convolution was not handed the model's input (see ConvUpdateScorer)."""


class ConvUpdateScorer(MutantScorer):
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
                out = torch_forward(self.model, m, "ism")  # logits, also for a model ending in nn.Sigmoid
            finally:
                del self.conv.forward
        return out.float().reshape(B, -1)[:, 0].cpu().numpy()

    def __call__(self, seq: np.ndarray, pos: np.ndarray, base: np.ndarray) -> np.ndarray:
        if self.method == ConvUpdateScorer.method:
            try:
                with eval_mode(self.model):
                    return self._patched(seq, pos, base)
            except _InputMismatch:
                warnings.warn("this model does not hand its first Conv1d the input itself, so its output "
                              "cannot be patched; scoring mutants with full forward passes instead",
                              RuntimeWarning, stacklevel=2)
                self.method, self.buffer = MutantScorer.method, None
        return super().__call__(seq, pos, base)


def mutant_scorer(model: Any, X: np.ndarray, fast: bool = True) -> MutantScorer:
    """A callable that returns the logits of single-base mutants of ``X``.

    Parameters
    ----------
    model : keras.Model or torch.nn.Module
    X : array ``(N, L, 4)``
        The parent sequences (one-hot; an ``N`` row of 0.25 or 0 is allowed).
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
    require_model(model, "mutant_scorer")
    X = _checks.one_hot(X, "X", "mutant_scorer")
    fast = _checks.flag(fast, "fast", "mutant_scorer")
    found = input_conv(model, X[:1]) if fast else None
    if found is not None:
        return ConvUpdateScorer(model, X, *found)
    return MutantScorer(model, X)
