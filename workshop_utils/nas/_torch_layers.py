"""PyTorch layers that mirror the Keras ones in the channel-last layout ``(N, L, C)``.

Imported only by :mod:`workshop_utils.nas.build` when a torch model is built.
"""
from __future__ import annotations

import torch
from torch import nn

from .space import Operation

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "elu": nn.ELU,
                "gelu": nn.GELU, "softplus": nn.Softplus, "linear": nn.Identity, None: nn.Identity}


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
