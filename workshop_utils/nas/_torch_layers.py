"""The PyTorch classes of the ``nas`` package (this module imports torch).

* layers that mirror the Keras ones in the channel-last layout ``(N, L, C)`` and
  :class:`SequentialNet`, for :class:`~workshop_utils.nas.build.SequentialModelBuilder`;
* :class:`DenseClassifier`, the tabular networks of :mod:`workshop_utils.nas.dense`, and their
  forward pass :func:`dense_forward` (shared with the supernet);
* :class:`DenseSupernet`, the shared weights of :mod:`workshop_utils.nas.enas`;
* :class:`Policy`, the LSTM of :class:`~workshop_utils.nas.controller.GeneralController`.

Imported lazily by the builders (``build``, ``dense.build_dense``, ``enas.make_supernet``,
``GeneralController``), so ``import workshop_utils.nas`` loads no framework; import it
directly to subclass a class or to use it in ``isinstance``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .dense_space import (DenseSpec, LayerwiseSpec, activation_names, arc_spec, layerwise_inputs, linear_shapes,
                          module_key, supernet_shapes)
from .space import ModelSpace, Operation

#: The one name-to-activation table of the package's torch layers (``None`` and ``'linear'``: none).
_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "elu": nn.ELU,
                "gelu": nn.GELU, "softplus": nn.Softplus, "linear": nn.Identity, None: nn.Identity}


def activation_module(name: str | None) -> nn.Module:
    """A fresh torch activation module for ``name`` (``'relu'``, ``'tanh'``, ``'linear'`` ...)."""
    if name not in _ACTIVATIONS:
        raise ValueError(f"activation_module: name must be one of {sorted(k for k in _ACTIVATIONS if k)}, got {name!r}")
    return _ACTIVATIONS[name]()


def _keras_init(module: nn.Module) -> None:
    """Glorot-uniform weights and zero biases, as Keras initialises Conv1D and Dense."""
    nn.init.xavier_uniform_(module.weight)
    if module.bias is not None:
        nn.init.zeros_(module.bias)


class ChannelLast(nn.Module):
    """Apply a channel-first torch op (Conv1d, pooling, BatchNorm1d) to ``(N, L, C)``."""

    def __init__(self, op: nn.Module, act: nn.Module | None = None) -> None:
        super().__init__()
        self.op = op
        self.act = act if act is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.op(x.transpose(1, 2)).transpose(1, 2))


class Reduce(nn.Module):
    """Flatten (Keras order) or global average / max pooling over positions."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "flatten":
            return x.flatten(1)
        if self.kind == "globalavgpool1d":
            return x.mean(1)
        return x.amax(1)

    def extra_repr(self) -> str:
        return self.kind


class DenseLast(nn.Module):
    """``Linear`` on the last axis plus an activation (Keras ``Dense``)."""

    def __init__(self, in_features: int, units: int, activation: str | None) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, units)
        _keras_init(self.linear)
        self.act = _ACTIVATIONS[activation]()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.linear(x))


def torch_layer(op: Operation, shape: tuple[int, ...]) -> nn.Module | None:
    """The torch module for ``op`` given the input shape (without batch axis)."""
    p = op.params
    if op.name == "identity":
        return None
    if op.name == "conv1d":
        conv = nn.Conv1d(shape[-1], p["filters"], p["kernel_size"], padding=p["padding"])
        _keras_init(conv)
        return ChannelLast(conv, _ACTIVATIONS[p["activation"]]())
    if op.name in ("maxpool1d", "avgpool1d"):
        cls = nn.MaxPool1d if op.name == "maxpool1d" else nn.AvgPool1d
        return ChannelLast(cls(p["pool_size"], stride=p["strides"] or p["pool_size"]))
    if op.name in ("flatten", "globalavgpool1d", "globalmaxpool1d"):
        return Reduce(op.name) if not (op.name == "flatten" and len(shape) == 1) else None
    if op.name == "dense":
        return DenseLast(shape[-1], p["units"], p["activation"])
    if op.name == "dropout":
        return nn.Dropout(p["rate"])
    if op.name == "batchnorm":
        bn = nn.BatchNorm1d(shape[-1], eps=1e-3, momentum=0.01)  # Keras defaults
        return ChannelLast(bn) if len(shape) == 2 else bn
    raise ValueError(f"op: {op.name!r} cannot be a layer")  # pragma: no cover


class SequentialNet(nn.Module):
    """A stack of layers plus a linear head; input ``(N, L, C)``, output logits ``(N, units)``."""

    def __init__(self, layers: list[nn.Module], head: nn.Linear, input_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.layers = nn.Sequential(*layers)
        self.head = head
        _keras_init(self.head)
        self.input_shape = tuple(input_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1:] != self.input_shape:
            raise ValueError(f"x: expected shape (N, {', '.join(map(str, self.input_shape))}), "
                             f"got {tuple(x.shape)}")
        return self.head(self.layers(x))


# --------------------------------------------------------------------------- dense networks (nas.dense, nas.enas)
def dense_forward(linears: Any, spec: DenseSpec, x: Any, acts: Sequence[Any] | None = None,
                  training: bool = False) -> Any:
    """The forward pass of the network ``spec`` with the linear layers ``linears[key]``.

    Written once and used by :class:`DenseClassifier` (its own layers) and by the ENAS
    supernet (the shared layers of every child).

    Parameters
    ----------
    linears : mapping of str to torch.nn.Linear
        Must hold every key of :func:`linear_shapes` for ``spec``.
    spec : DenseSpec or LayerwiseSpec
    x : torch.Tensor
        ``(N, n_features)`` float32.
    acts : sequence of torch.nn.Module, optional
        One activation module per use (:class:`DenseClassifier` passes its own, so that
        SHAP's DeepExplainer sees each nonlinearity once); by default fresh modules.
    training : bool
        Apply dropout.

    Returns
    -------
    torch.Tensor
        Logits ``(N, n_classes)``.
    """
    import torch.nn.functional as F

    names = activation_names(spec)
    acts = list(acts) if acts is not None else [activation_module(a) for a in names]
    if len(acts) < len(names):
        raise ValueError(f"acts: {spec} needs {len(names)} activation modules, got {len(acts)}")
    p = spec.dropout

    def drop(h):
        return F.dropout(h, p, training) if p > 0 else h

    if isinstance(spec, LayerwiseSpec):
        hs = [x]
        inputs, head = layerwise_inputs(spec)
        for i, ((k0, key0), *skips) in enumerate(inputs):
            z = linears[key0](hs[k0])
            for k, key in skips:
                z = z + linears[key](hs[k])
            hs.append(drop(acts[i](z)))
        return linears[head](hs[-1])
    f, w, d = spec.family, spec.units, spec.depth
    pre = f"{f}-{w}-"

    if f == "mlp":
        h = x
        for j in range(d):
            h = drop(acts[j](linears[f"{pre}h{j}"](h)))
        return linears[f"{pre}head"](h)
    if f == "resnet":
        h = linears[f"{pre}stem"](x)
        for j in range(d):
            r = drop(acts[2 * j + 1](linears[f"{pre}b{j}a"](acts[2 * j](h))))
            h = h + linears[f"{pre}b{j}b"](r)
        return linears[f"{pre}head"](drop(acts[2 * d](h)))
    feats = [drop(acts[0](linears[f"{pre}stem"](x)))]
    for j in range(d):
        feats.append(drop(acts[j + 1](linears[f"{pre}l{j}"](torch.cat(feats, dim=1)))))
    return linears[f"{pre}head{d}"](torch.cat(feats, dim=1))



class LinearView:
    """Map layer keys to the modules of a ``ModuleDict`` (whose keys use '_')."""

    def __init__(self, modules: Any) -> None:
        self.modules = modules

    def __getitem__(self, key: str) -> Any:
        return self.modules[module_key(key)]



class DenseClassifier(nn.Module):
    """A fully connected classifier for tables: ``(N, n_features)`` -> logits ``(N, n_classes)``.

    Build it with :func:`workshop_utils.nas.dense.build_dense`; ``model.spec`` says what it is.
    """

    def __init__(self, spec: DenseSpec | LayerwiseSpec, n_features: int, n_classes: int) -> None:
        super().__init__()
        self.spec, self.n_features, self.n_classes = spec, int(n_features), int(n_classes)
        self.linears = nn.ModuleDict({
            module_key(k): nn.Linear(i, o) for k, (i, o) in linear_shapes(spec, n_features, n_classes).items()})
        self.acts = nn.ModuleList([activation_module(a) for a in activation_names(spec)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dense_forward(LinearView(self.linears), self.spec, x, self.acts, self.training)

    def extra_repr(self) -> str:
        return str(self.spec)


class DenseSupernet(nn.Module):
    """All the linear layers of a dense space, shared by its children.

    ``supernet(x, arc)`` runs child ``arc`` on ``x`` ``(N, n_features)`` and returns
    logits ``(N, n_classes)``.  Make one with :func:`workshop_utils.nas.enas.make_supernet`.
    """

    def __init__(self, space: ModelSpace, n_features: int, n_classes: int) -> None:
        super().__init__()
        self.space, self.n_features, self.n_classes = space, int(n_features), int(n_classes)
        shapes = supernet_shapes(space, n_features, n_classes)
        self.keys = sorted(shapes)
        self.linears = nn.ModuleDict({module_key(k): nn.Linear(*shapes[k]) for k in self.keys})
        self.optimizer = None  # made by train_shared, kept across calls

    def forward(self, x: torch.Tensor, arc: Sequence[int]) -> torch.Tensor:
        return dense_forward(LinearView(self.linears), arc_spec(self.space, arc), x, training=self.training)

    def path(self, arc: Sequence[int]) -> SupernetPath:
        """Child ``arc`` as a module of one input (``path(x) == supernet(x, arc)``), on the shared weights."""
        return SupernetPath(self, arc)

    def child_keys(self, arc: Sequence[int]) -> list[str]:
        """The keys of the shared layers child ``arc`` uses."""
        return list(linear_shapes(arc_spec(self.space, arc), self.n_features, self.n_classes))

    def child_parameters(self, arc: Sequence[int]) -> int:
        """Number of weights child ``arc`` uses."""
        return sum(p.numel() for k in self.child_keys(arc) for p in self.linears[module_key(k)].parameters())

    def extra_repr(self) -> str:
        return f"{len(self.keys)} shared linear layers for {self.space.size} children"


class SupernetPath(nn.Module):
    """Child ``arc`` of a :class:`DenseSupernet` as a module: ``(N, n_features)`` -> logits ``(N, n_classes)``.

    A view, not a copy: it runs the supernet's own layers (in the supernet's train/eval mode),
    so training it trains the shared weights.  It lets the package's one forward check
    (:func:`workshop_utils.backend.torch_forward`) run a child like any other model.
    """

    def __init__(self, supernet: DenseSupernet, arc: Sequence[int]) -> None:
        super().__init__()
        object.__setattr__(self, "supernet", supernet)  # not a submodule: the weights stay the supernet's
        self.spec = arc_spec(supernet.space, arc)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        net = self.supernet
        return dense_forward(LinearView(net.linears), self.spec, x, training=net.training)


# --------------------------------------------------------------------------- controller (nas.controller)
class Policy(nn.Module):
    """LSTM over layers: input = embedding of the previous token, output = logits per choice.

    ``choices[i]`` is the number of options of layer ``i``; ``forward`` samples an arc (or
    scores a given one) and returns ``(tokens, log p(arc), entropy, probs per layer)``.
    """

    def __init__(self, choices: Sequence[int], lstm_size: int) -> None:
        super().__init__()
        self.lstm_size = int(lstm_size)
        self.g_emb = nn.Parameter(torch.empty(1, lstm_size).uniform_(-0.1, 0.1))
        self.lstm = nn.LSTMCell(lstm_size, lstm_size)
        self.heads = nn.ModuleList(nn.Linear(lstm_size, n) for n in choices)
        self.embs = nn.ModuleList(nn.Embedding(n, lstm_size) for n in choices)
        for p in self.parameters():
            if p is not self.g_emb:
                nn.init.uniform_(p, -0.1, 0.1)

    def forward(self, arc: Sequence[int] | None, gen: torch.Generator, temperature: float,
                tanh_constant: float | None) -> tuple[list[int], Any, Any, list[Any]]:
        h = c = torch.zeros(1, self.lstm_size)
        inp = self.g_emb
        tokens, probs = [], []
        logp = torch.zeros(())
        entropy = torch.zeros(())
        for i, head in enumerate(self.heads):
            h, c = self.lstm(inp, (h, c))
            logits = head(h)[0] / temperature
            if tanh_constant is not None:
                logits = tanh_constant * torch.tanh(logits)
            logp_all = torch.log_softmax(logits, -1)
            p = logp_all.exp()
            tok = int(torch.multinomial(p.detach(), 1, generator=gen)) if arc is None else int(arc[i])
            logp = logp + logp_all[tok]
            entropy = entropy - (p * logp_all).sum()
            tokens.append(tok)
            probs.append(p.detach())
            inp = self.embs[i](torch.tensor([tok]))
        return tokens, logp, entropy, probs
