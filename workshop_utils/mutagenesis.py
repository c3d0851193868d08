"""In-silico mutagenesis (ISM), all in one room: the loop, the mutant scorers and their shortcuts.

:func:`ism` changes every position of every sequence to each base it does not have and
records the change of the logit.  The mutants of all sequences are scored in batches by
a *scorer* (:func:`mutant_scorer`), which picks the fastest exact way this model allows:

* ``"pooled-window update"`` (:class:`PoolWindowScorer`): a PyTorch model whose first
  layer is a ``Conv1d`` on the input, followed by pointwise layers (activation, dropout,
  batch norm in eval) and a ``MaxPool1d``/``AvgPool1d`` with non-overlapping windows, as
  the Day-1 CNN.  A point mutation changes the convolution's output at ``kernel_size``
  positions only, so only the one or two pooling windows over them change: those are
  recomputed from the parent's stored convolution output plus a rank-one update, and
  the rest of the network runs on the pooled activations with those windows patched in;
* ``"first-convolution update"`` (:class:`ConvUpdateScorer`): the first ``Conv1d`` is
  patched per mutant (no conv run on mutants) and the rest of the network runs on the
  patched activations (fastISM, Nair et al. 2022, applied to the first layer);
* ``"full forward pass"`` (:class:`MutantScorer`): the mutants themselves go through
  the whole model in batches (every Keras model, and any torch model the shortcuts do
  not cover); Keras runs them through its compiled predict function.

Every shortcut is checked against full forward passes on a few real mutants when it is
built, and falls back (with a warning at call time) when the model does something it
does not cover.  :func:`input_conv` finds the first convolution.

This module imports numpy only; torch and keras are imported inside the functions that
need them (the shortcut scorers are only built for a torch model).
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from . import _checks
from .backend import eval_mode, framework, keras_logit_model, logits, require_model, torch_forward


# ----------------------------------------------------------------------------- the loop


def _window(start: int | None, end: int | None, length: int) -> tuple[int, int]:
    """Resolve ``start``/``end`` (Python slice semantics, negatives allowed) to ``0 <= s < e <= L``."""
    for name, v in (("start", start), ("end", end)):
        if v is not None and (isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer))):
            raise _checks.fail("ism", name, "an int or None", v, kind=_checks.ArgumentTypeError)
    s, e, _ = slice(start, end).indices(length)
    if e <= s:
        raise ValueError(f"ism: start/end must select at least one position of a length-{length} sequence, "
                         f"got start={start!r}, end={end!r}")
    return s, e


def ism(model: Any, X: np.ndarray, start: int | None = None, end: int | None = None,
        hypothetical: bool = True, batch_size: int = 512, progress: bool | None = None,
        fast: bool = True) -> np.ndarray:
    """Saturated in-silico mutagenesis (ISM) on the logit, batched over many mutants at once.

    Every position ``i`` in ``[start, end)`` of every sequence is changed, in turn, to
    each base it does not already have, and the change of the logit (mutant minus
    original) is recorded.  The mutants of all sequences are scored in chunks of
    ``batch_size`` (one batched computation per chunk, not one forward pass per mutant)
    by :func:`mutant_scorer`, so the same code serves Keras and PyTorch models.  The four
    scores of each position (the observed base scores 0 before centring) are then
    mean-centred, as in tangermeme and DeepLIFT-style "hypothetical" scores: a positive
    value means "this base raises the logit more than the average base would".

    Parameters
    ----------
    model : keras.Model or torch.nn.Module
        Follows the course conventions (see :mod:`workshop_utils.backend`).
    X : array ``(N, L, 4)``
        One-hot sequences (rows that are all 0 or all 0.25, an ``N``, are mutated to all
        four bases).
    start, end : int or None
        Window of positions to mutate, with Python slice semantics (``end`` exclusive,
        negatives count from the end).  Default: the whole sequence.
    hypothetical : bool
        True: the centred score of all four bases.  False: only the score at the
        observed base (``hypothetical * X``), zeros elsewhere.
    batch_size : int
        Mutants per batch.  Hundreds to a thousand mutants per batch are what makes ISM
        fast; on a CPU, much larger chunks fall out of the cache and get slower again.
    progress : bool or None
        Show a progress bar; None shows it when there are more than 20 chunks.
    fast : bool
        Use the exact shortcuts of :func:`mutant_scorer` where the model allows them
        (PyTorch CNNs that start with a ``Conv1d`` on the input).  The numbers are the same
        to float rounding; False runs every mutant through the whole model.

    Returns
    -------
    np.ndarray
        float32 ``(N, L, 4)``.  Positions outside ``[start, end)`` are 0, so indices
        stay those of ``X`` (planted-site starts, :func:`workshop_utils.attribution.top_window`).

    Examples
    --------
    >>> scores = ism(model, data.x_test[:10])                  # (10, 200, 4)
    >>> pos = attribution.position_importance(scores)           # (10, 200)
    """
    from ._progress import progress as tqdm  # text bar on stdout: saved notebooks show its final state

    require_model(model, "ism")
    X = _checks.one_hot(X, "X", "ism")
    batch_size = _checks.positive_int(batch_size, "batch_size", "ism")
    hypothetical = _checks.flag(hypothetical, "hypothetical", "ism")
    fast = _checks.flag(fast, "fast", "ism")
    if progress is not None:
        progress = _checks.flag(progress, "progress", "ism")
    n, L, _ = X.shape
    s, e = _window(start, end, L)
    ref = logits(model, X, min(batch_size, 1024), fn="ism")
    if ref.ndim != 1:
        raise _checks.fail("ism", "model", "a single-output model (logits of shape (N,))",
                           f"logits of shape {ref.shape}")
    # every (sequence, position, base) that differs from the input is one mutant
    seq_i, pos_i, base_i = np.nonzero(X[:, s:e] != 1)
    pos_i = pos_i + s
    delta = np.zeros((n, L, 4), np.float32)
    score = _scorer(model, X, fast)  # model and X are checked above, once
    n_chunks = -(-len(seq_i) // batch_size)
    show = n_chunks > 20 if progress is None else progress
    for c in tqdm(range(n_chunks), desc="ISM", unit="chunk", disable=not show, leave=False):
        sl = slice(c * batch_size, (c + 1) * batch_size)
        si, pi, bi = seq_i[sl], pos_i[sl], base_i[sl]
        delta[si, pi, bi] = score(si, pi, bi) - ref[si]
    scores = delta.copy()
    scores[:, s:e] -= delta[:, s:e].mean(-1, keepdims=True)
    return scores if hypothetical else scores * X


# ----------------------------------------------------------------------------- scorers


def mutant_scorer(model: Any, X: np.ndarray, fast: bool = True) -> "MutantScorer":
    """A callable that returns the logits of single-base mutants of ``X``.

    Parameters
    ----------
    model : keras.Model or torch.nn.Module
    X : array ``(N, L, 4)``
        The parent sequences (one-hot; an ``N`` row of 0.25 or 0 is allowed).
    fast : bool
        For a PyTorch model whose first layer is a ``Conv1d`` applied to the input, update
        that layer's output (and, when pooling follows, only the pooling windows it
        reaches) for each mutant instead of recomputing it (same numbers, to float
        rounding).  False, or any other model: full forward passes on batches of mutants.

    Returns
    -------
    MutantScorer
        ``scorer(seq, pos, base)`` with integer arrays ``(B,)`` returns float32 logits
        ``(B,)``; ``scorer.method`` says which way they are computed.
    """
    require_model(model, "mutant_scorer")
    X = _checks.one_hot(X, "X", "mutant_scorer")
    fast = _checks.flag(fast, "fast", "mutant_scorer")
    return _scorer(model, X, fast)


def _scorer(model: Any, X: np.ndarray, fast: bool) -> "MutantScorer":
    """:func:`mutant_scorer` on a checked model and float32 one-hot ``X``: the fastest exact scorer."""
    found = input_conv(model, X[:1]) if fast else None
    if found is None:
        return MutantScorer(model, X)
    pool = _pool_after(model, X[:1], found[0])
    shortcuts = [PoolWindowScorer(model, X, *found, *pool)] if pool else []
    for scorer in shortcuts + [ConvUpdateScorer(model, X, *found)]:
        if scorer.agrees():
            return scorer
    return MutantScorer(model, X)


def _module_calls(model: Any, x: np.ndarray, modules: list) -> list[tuple[Any, tuple, Any]]:
    """``(module, inputs, output)`` of every call of ``modules`` during one forward pass of ``x`` ``(n, L, 4)``."""
    import torch

    calls: list[tuple[Any, tuple, Any]] = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: calls.append((mod, inp, out))) for m in modules]
    try:
        with eval_mode(model) as device, torch.no_grad():
            torch_forward(model, torch.from_numpy(np.ascontiguousarray(x)).to(device), "mutant_scorer")
    finally:
        for hook in hooks:
            hook.remove()
    return calls


def input_conv(model: Any, x: np.ndarray) -> tuple[Any, int, int] | None:
    """The ``Conv1d`` that a torch model applies first, directly to its (transposed) input.

    Runs one forward pass on ``x`` ``(n, L, 4)`` with hooks on every ``Conv1d`` and returns
    ``(conv, left padding, output length)`` when the first convolution called sees exactly
    the channels-first input, is called once, and is a plain stride-1 convolution; else None
    (always None for a Keras model).  Used by :func:`mutant_scorer`.
    """
    if framework(model) != "torch":
        return None
    import torch

    calls = _module_calls(model, x, [m for m in model.modules() if isinstance(m, torch.nn.Conv1d)])
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


#: torch modules that act on each (channel, position) alone in eval mode: they may sit between
#: the first convolution and the pooling layer of :class:`PoolWindowScorer`.
_POINTWISE = ("ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Tanh", "Sigmoid",
              "Softplus", "Hardtanh", "Hardswish", "Hardsigmoid", "PReLU", "Dropout", "Identity", "BatchNorm1d",
              "Sequential")


def _pool_after(model: Any, x: np.ndarray, conv: Any) -> tuple[Any, int] | None:
    """The pooling module that follows ``conv`` through pointwise modules only, and its window; else None.

    The pool must take the convolution's output shape and have non-overlapping windows
    (``MaxPool1d``/``AvgPool1d``, stride = kernel, no padding, dilation or ceil mode).
    Pointwise *functions* (``torch.relu``) leave no trace here; what they do is checked by
    :meth:`MutantScorer.agrees`.
    """
    import torch

    calls = [(mod, inp[0] if inp else None, out)
             for mod, inp, out in _module_calls(model, x, [m for m in model.modules() if m is not model])]
    first = next((i for i, c in enumerate(calls) if c[0] is conv), None)
    if first is None:
        return None
    conv_shape = calls[first][2].shape
    for mod, inp, _ in calls[first + 1:]:
        if isinstance(mod, (torch.nn.MaxPool1d, torch.nn.AvgPool1d)):
            k, stride, pad = (v if isinstance(v, int) else v[0] for v in (mod.kernel_size, mod.stride, mod.padding))
            plain = getattr(mod, "dilation", 1) in (1, (1,)) and not getattr(mod, "return_indices", False)
            fits = isinstance(inp, torch.Tensor) and inp.shape == conv_shape and conv_shape[-1] >= k
            return (mod, int(k)) if k == stride and pad == 0 and plain and not mod.ceil_mode and fits else None
        if type(mod).__name__ not in _POINTWISE:
            return None
    return None


class _InputMismatch(Exception):
    """A patched layer was not handed what the shortcut expects (see :class:`ConvUpdateScorer`)."""


class MutantScorer:
    """Logits of single-base mutants of a fixed set of parent sequences, by full forward passes.

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
        self.keras = framework(model) == "keras"

    def mutants(self, seq: np.ndarray, pos: np.ndarray, base: np.ndarray) -> np.ndarray:
        """The mutant sequences themselves, float32 ``(B, L, 4)`` (a view of channels-first memory)."""
        m = self.XT[seq]
        rows = np.arange(len(seq))
        m[rows, :, pos] = 0.0
        m[rows, base, pos] = 1.0
        return m.transpose(0, 2, 1)

    def full(self, seq: np.ndarray, pos: np.ndarray, base: np.ndarray) -> np.ndarray:
        """Logits ``(B,)`` of the mutants by full forward passes of the whole model."""
        m = self.mutants(seq, pos, base)
        if self.keras and len(m):
            # Keras's compiled predict function (a tf.function built once), not an eager call per batch
            out = keras_logit_model(self.model).predict_on_batch(np.ascontiguousarray(m))
            return np.asarray(out, np.float32).reshape(len(m), -1)[:, 0]
        return logits(self.model, m, batch_size=max(len(m), 1))

    def __call__(self, seq: np.ndarray, pos: np.ndarray, base: np.ndarray) -> np.ndarray:
        return self.full(seq, pos, base)

    def agrees(self) -> bool:
        """True when :meth:`__call__` gives the logits of full forward passes on a few real mutants.

        Always True here; a shortcut scorer checks itself before :func:`mutant_scorer` uses it.
        """
        return True


class ConvUpdateScorer(MutantScorer):
    """Score mutants of a torch model whose first layer is a ``Conv1d`` on the input.

    A point mutation at position ``p`` changes that convolution's output only at the
    ``kernel_size`` positions whose receptive field covers ``p``, and there by
    ``W[:, :, k] @ (new column - old column)``: a rank-one update.  So the layer's output
    for the parent is computed once, copied per mutant and patched, and the rest of the
    network runs as usual on the real mutants, with the patched output in place of the
    convolution's (the idea of fastISM, Nair et al. 2022, applied to the first layer).

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
        self.X_t = torch.from_numpy(np.ascontiguousarray(X))
        self.XT_t = torch.from_numpy(self.XT)
        self.ks = np.arange(conv.kernel_size[0])
        self._block: tuple[int, int, Any] = (0, 0, None)

    def _parents(self, lo: int, hi: int) -> tuple[int, Any]:
        """What :meth:`_block_of` gives for parents ``lo..hi-1`` (and a few more), as ``(start, data)``.

        Computed in blocks of :attr:`block` sequences and kept until a call needs others:
        mutants come sorted by parent, so one block serves many calls, and memory stays
        bounded however many sequences are scored.
        """
        start, stop, data = self._block
        if data is None or lo < start or hi > stop:
            stop = max(hi, min(lo + self.block, len(self.XT)))
            self._block = (lo, stop, self._block_of(lo, stop))
        return self._block[0], self._block[2]

    def _block_of(self, lo: int, stop: int) -> Any:
        """The convolution's output ``(n, C, L_out)`` for parents ``lo..stop-1``."""
        return self.conv(self.XT_t[lo:stop].to(self.device))

    def _update(self, seq: np.ndarray, pos: np.ndarray, base: np.ndarray) -> tuple[Any, np.ndarray, np.ndarray]:
        """The rank-one change of the convolution's output, ``(B, K, C)``, at output positions ``J`` ``(B, K)``.

        Also returns ``valid`` ``(B, K)``: which of the ``J`` exist (padding cuts the edges);
        the change is zero where they do not.
        """
        import torch

        B, (C, _, K) = len(seq), self.conv.weight.shape
        d = -self.XT[seq, :, pos]                                        # (B, 4): new column - old column
        d[np.arange(B), base] += 1.0
        J = pos[:, None] + self.pad_left - self.ks[None, :]              # (B, K) output positions hit
        valid = (J >= 0) & (J < self.out_len)
        W = self.conv.weight.permute(1, 2, 0).reshape(4, K * C)          # one matrix product for all mutants
        upd = torch.mm(torch.from_numpy(d).to(self.device, W.dtype), W).view(B, K, C)
        return upd.mul_(torch.from_numpy(valid[:, :, None]).to(self.device, W.dtype)), J, valid

    def _patched(self, seq: np.ndarray, pos: np.ndarray, base: np.ndarray) -> np.ndarray:
        import torch

        B, dev = len(seq), self.device
        upd, J, _ = self._update(seq, pos, base)
        lo, parents = self._parents(int(seq.min()), int(seq.max()) + 1)   # (n, C, L_out)
        h = parents.index_select(0, torch.from_numpy(seq - lo).to(dev))
        idx = torch.from_numpy(np.clip(J, 0, self.out_len - 1)).to(dev)
        h.scatter_add_(2, idx[:, None, :].expand(-1, h.shape[1], -1), upd.transpose(1, 2).to(h.dtype))
        m = torch.from_numpy(self.mutants(seq, pos, base)).to(dev)
        mt = m.transpose(1, 2)

        def forward(x):
            same = x.data_ptr() == mt.data_ptr() and x.stride() == mt.stride() and x.shape == mt.shape
            if not (same or (x.shape == mt.shape and torch.equal(x, mt.to(x.dtype)))):
                raise _InputMismatch
            return h

        return self._run(m, {self.conv: forward})

    def _run(self, x: Any, patches: dict) -> np.ndarray:
        """The model's logits on ``x`` with each module's forward replaced by its patch."""
        for mod, fn in patches.items():
            mod.forward = fn
        try:
            out = torch_forward(self.model, x, "ism")  # logits, also for a model ending in nn.Sigmoid
        finally:
            for mod in patches:
                del mod.forward
        return out.float().reshape(len(x), -1)[:, 0].cpu().numpy()

    def __call__(self, seq: np.ndarray, pos: np.ndarray, base: np.ndarray) -> np.ndarray:
        if self.method != MutantScorer.method and len(seq):
            import torch

            try:
                with eval_mode(self.model), torch.inference_mode():
                    return self._patched(seq, pos, base)
            except _InputMismatch:
                warnings.warn(f"the {self.method} shortcut does not fit this model (its first Conv1d or pooling "
                              "layer is not handed what the shortcut expects); scoring mutants with full forward "
                              "passes instead", RuntimeWarning, stacklevel=2)
                self.method, self._block = MutantScorer.method, (0, 0, None)
        return self.full(seq, pos, base)

    def agrees(self) -> bool:
        """True when the shortcut gives the logits of full forward passes on a few real mutants.

        Probes both ends and the middle of the first and last parent; a model the shortcut
        cannot follow (an error, or different numbers) gives False.
        """
        import torch

        n, L = len(self.XT), self.XT.shape[-1]
        rng = np.random.default_rng(0)
        pos = np.unique(np.r_[0, 1, L // 2, L - 2, L - 1, rng.integers(0, L, 3)].clip(0, L - 1))
        seq = np.repeat(np.unique([0, n - 1]), len(pos))
        pos = np.tile(pos, len(seq) // len(pos))
        base = (self.XT[seq, :, pos].argmax(1) + 1 + rng.integers(0, 3, len(seq))) % 4
        base = np.where(self.XT[seq, base, pos] == 1, (base + 1) % 4, base)
        try:
            with eval_mode(self.model), torch.inference_mode():
                got = self._patched(seq, pos, base)
        except (_InputMismatch, RuntimeError, ValueError, IndexError, TypeError):
            return False
        finally:
            self._block = (0, 0, None)
        want = self.full(seq, pos, base)
        return bool(np.allclose(got, want, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(want).max()))))


class PoolWindowScorer(ConvUpdateScorer):
    """Score mutants of a torch CNN that starts conv -> pointwise layers -> non-overlapping pooling.

    A point mutation changes the first convolution's output at ``kernel_size`` positions
    (:class:`ConvUpdateScorer`), and pointwise layers keep that locality, so only the
    pooling windows over those positions change (one or two for the Day-1 CNN: kernel 19,
    pool 25).  For each mutant, the parent's pre-activation output over just those
    windows is taken from memory, updated, passed through the model's own pointwise
    layers and pool, and written into a copy of the parent's *pooled* activations; the
    rest of the network then runs on that small tensor.  The work per mutant shrinks
    from the whole sequence to a couple of windows.

    The model's own ``forward`` runs, with the convolution returning the updated windows
    and the pool writing its few outputs into the parent's; an input that is not the one
    handed to the model, or a window of another shape, falls back to full forward passes.
    """

    method = "pooled-window update"

    def __init__(self, model: Any, X: np.ndarray, conv: Any, pad_left: int, out_len: int, pool: Any,
                 k: int) -> None:
        super().__init__(model, X, conv, pad_left, out_len)
        import torch

        self.pool, self.k = pool, k
        self.max = isinstance(pool, torch.nn.MaxPool1d)
        self.n_win = out_len // k
        K = conv.kernel_size[0]
        self.nw = min((K + k - 2) // k + 1, self.n_win)  # windows one mutation can reach
        self.span = self.nw * k

    def _block_of(self, lo: int, stop: int) -> Any:
        """``(spans, pooled)`` for parents ``lo..stop-1``: every span of :attr:`nw` windows of their
        convolution output, ``(n * n_starts, span, C)`` (contiguous, so one span is one row to
        copy), and their pooled output ``(n, C, n_win)``."""
        got: dict = {}
        hooks = [m.register_forward_hook(lambda mod, inp, out: got.setdefault(mod, out))
                 for m in (self.conv, self.pool)]
        try:
            torch_forward(self.model, self.X_t[lo:stop].to(self.device), "ism")
        finally:
            for hook in hooks:
                hook.remove()
        # channels last, (n, n_starts, span, C): the window maxima then run over contiguous channels
        spans = got[self.conv].transpose(1, 2).unfold(1, self.span, self.k).transpose(2, 3)
        return spans.reshape(-1, *spans.shape[2:]), got[self.pool].contiguous()

    def _patched(self, seq: np.ndarray, pos: np.ndarray, base: np.ndarray) -> np.ndarray:
        import torch

        B, k, dev = len(seq), self.k, self.device
        upd, J, valid = self._update(seq, pos, base)
        jlo = np.where(valid, J, self.out_len).min(1)                    # first output position hit
        ws = np.clip(np.minimum(jlo // k, self.n_win - self.nw), 0, None)  # first window recomputed
        off = J - (ws * k)[:, None]                                      # positions within the span
        upd *= torch.from_numpy(((off >= 0) & (off < self.span))[:, :, None]).to(dev, upd.dtype)
        lo, (spans, pooled) = self._parents(int(seq.min()), int(seq.max()) + 1)
        rel, wst = torch.from_numpy(seq - lo).to(dev), torch.from_numpy(ws).to(dev)
        h = spans.index_select(0, rel * (self.n_win - self.nw + 1) + wst)  # (B, span, C), a copy
        C = h.shape[2]
        rows = torch.from_numpy((off.clip(0, self.span - 1) + self.span * np.arange(B)[:, None]).ravel()).to(dev)
        h.view(-1, C).index_add_(0, rows, upd.view(-1, C).to(h.dtype))   # whole rows of C channels
        h = h.transpose(1, 2)                                            # (B, C, span), channels-last memory
        out = pooled.index_select(0, rel)                                # (B, C, n_win)
        widx = (wst[:, None] + torch.arange(self.nw, device=dev))[:, None, :].expand(-1, C, -1)
        x = self.X_t[int(seq[0])].to(dev).expand(B, -1, -1)             # a stand-in input of the right shape
        xt = x.transpose(1, 2)

        def conv_forward(a):
            if a.data_ptr() != xt.data_ptr() or a.shape != xt.shape or a.stride() != xt.stride():
                raise _InputMismatch
            return h

        def pool_forward(a):
            if a.shape != h.shape:
                raise _InputMismatch
            # the pool's own windows as (B, nw, k, C) blocks, reduced over contiguous channels
            # (torch's max_pool1d and amax over a short last axis are slow on a CPU)
            blocks = a.transpose(1, 2).unflatten(1, (self.nw, k))
            return out.scatter_(2, widx, (_window_max(blocks) if self.max else blocks.mean(2)).transpose(1, 2))

        return self._run(x, {self.conv: conv_forward, self.pool: pool_forward})


def _window_max(x: Any) -> Any:
    """``x.amax(2)`` for ``x`` ``(B, nw, k, C)``, as a tree of elementwise maxima (exact, and faster on a CPU)."""
    import torch

    extra = None
    while x.shape[2] > 1:
        n, half = x.shape[2], x.shape[2] // 2
        if n % 2:
            extra = x[:, :, -1] if extra is None else torch.maximum(extra, x[:, :, -1])
        x = torch.maximum(x[:, :, :half], x[:, :, half:2 * half])
    return x[:, :, 0] if extra is None else torch.maximum(x[:, :, 0], extra)
