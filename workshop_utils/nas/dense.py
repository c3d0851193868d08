"""Search spaces over fully connected networks for tables (expression, mutations, CNV).

A table has no spatial order -- gene 17 is not "next to" gene 18 -- so convolutions
do not fit it.  AutoGenome (Liu et al. 2019) searched fully connected networks instead:
a plain MLP, ResNet-like blocks (dense layers with skip connections) and DenseNet-like
blocks (each layer sees the outputs of all earlier ones), *chosen together with their
hyperparameters as one search*.  This module gives that search space as a
:class:`~workshop_utils.nas.space.ModelSpace` of five decisions::

    layer 0  family      mlp | resnet | densenet      (model selection)
    layer 1  units       width of every hidden layer  (the growth rate for densenet)
    layer 2  depth       hidden layers / residual blocks / dense-block layers
    layer 3  activation  relu | elu | tanh
    layer 4  dropout     rate after every hidden activation

so an arc such as ``[1, 2, 1, 0, 1]`` reads "resnet, 128 units, 2 blocks, relu,
dropout 0.25".  The same controller and search loop as the CNN lesson
(:mod:`workshop_utils.nas.controller`, :mod:`workshop_utils.nas.search`) sample arcs
from it.

The networks (``n_features`` inputs, ``w`` units, activation ``act``, dropout ``p``,
``C`` classes; every hidden activation is followed by dropout)::

    mlp       x -> [Linear(w) -> act -> drop] * depth -> Linear(C)
    resnet    h = Linear(w)(x);  h = h + Linear(w)(drop(act(Linear(w)(act(h))))) * depth
              -> act -> drop -> Linear(C)
    densenet  f0 = drop(act(Linear(w)(x)));  f_j = drop(act(Linear(w)(concat(f0..f_{j-1}))))
              -> Linear(C)(concat(f0..f_depth))

Every linear layer has a *key* (``'resnet-128-b1a'``) that names its place and shape;
:func:`linear_shapes` lists them for an arc.  :class:`DenseClassifier` owns one
``torch.nn.Linear`` per key; the ENAS supernet (:mod:`workshop_utils.nas.enas`) owns
one per key over the whole space and runs any child through the same
:func:`dense_forward`, which is what "shared weights" means here.

A second space, :func:`layerwise_model_space`, lets **every layer decide for itself**, as
AutoGenome's controller does: layer ``i`` of ``n_layers`` picks its width, its activation and
which earlier outputs reach it through *skip connections* (the input ``x`` or hidden layers
before the previous one)::

    h_0 = x;  h_i = drop(act_i(L_i(h_{i-1}) + sum_{k in skips_i} S_{k,i}(h_k)));  logits = head(h_n)

A skip is a linear projection ``S_{k,i}`` from layer ``k``'s width to layer ``i``'s, summed
into layer ``i``.  Summing projections *is* concatenation followed by one linear layer
(``W [h_a; h_b] = W_a h_a + W_b h_b``), but with the weight split by source: the main path
``L_i`` of a child keeps the same shared weight whatever skips it takes, and each skip
``S_{k,i}`` is shared by every child that takes it.  (Concatenation with one weight keyed by
the *set* of inputs would give every skip pattern weights of its own, so children would share
far less.)  Keys name the position and the widths (``'L2-32-128'``, ``'S0to3-x-32'``,
``'head-32'``).

The op vocabulary (``family``, ``units``, ``depth``, ``activation``, ``dropout``)
lives here, in :class:`DenseChoice`, a subclass of
:class:`~workshop_utils.nas.space.Operation`: the general op registry in ``space.py``
describes layers of a sequential CNN, not decisions about a whole network, so
:class:`~workshop_utils.nas.space.ModelSpace` is used as the container only.
PyTorch and Keras are imported inside the functions.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _checks
from .space import ModelSpace, Operation
from .. import _moved

# Names that lived here in the last release (one more release with a DeprecationWarning).
__getattr__ = _moved.moved_names(__name__, {"n_activations": "workshop_utils.nas.dense:activation_names"})

FAMILIES = ("mlp", "resnet", "densenet")
DENSE_ACTIVATIONS = ("relu", "elu", "tanh", "gelu")
#: The five decisions of a dense arc, in order.
DECISIONS = ("family", "units", "depth", "activation", "dropout")
#: Activations of the per-layer space (``'linear'``: none, the layer stays linear).
LAYER_ACTIVATIONS = ("relu", "elu", "tanh", "gelu", "linear")
#: The decisions a layer of :func:`layerwise_model_space` takes, in order (``skip`` from layer 2 on).
LAYER_DECISIONS = ("units", "activation", "skip")


class DenseChoice(Operation):
    """One option of one decision of a dense search space.

    Parameters
    ----------
    name : str
        The decision: ``'family'``, ``'units'``, ``'depth'``, ``'activation'`` or ``'dropout'``.
    value : str, int or float
        ``family``: one of ``'mlp'``, ``'resnet'``, ``'densenet'``; ``units`` and ``depth``:
        a positive int; ``activation``: ``'relu'``, ``'elu'``, ``'tanh'`` or ``'gelu'``;
        ``dropout``: a float in [0, 1).

    Examples
    --------
    >>> DenseChoice("family", "resnet"), DenseChoice("units", 128)
    (DenseChoice('family', 'resnet'), DenseChoice('units', 128))
    """

    def __init__(self, name: str, value: Any) -> None:  # noqa: D107 - documented on the class
        if name not in DECISIONS:
            raise ValueError(f"name: expected one of {DECISIONS}, got {name!r}")
        if name == "family" and value not in FAMILIES:
            raise ValueError(f"value: family must be one of {FAMILIES}, got {value!r}")
        if name in ("units", "depth") and (isinstance(value, bool) or not isinstance(value, (int, np.integer))
                                          or value < 1):
            raise ValueError(f"value: {name} must be a positive integer, got {value!r}")
        if name == "activation" and value not in DENSE_ACTIVATIONS:
            raise ValueError(f"value: activation must be one of {DENSE_ACTIVATIONS}, got {value!r}")
        if name == "dropout" and (isinstance(value, bool) or not isinstance(value, (int, float, np.floating))
                                  or not 0.0 <= value < 1.0):
            raise ValueError(f"value: dropout must be a float in [0, 1), got {value!r}")
        self.name = name
        self.value = int(value) if name in ("units", "depth") else (float(value) if name == "dropout" else value)
        self.params = {"value": self.value}

    def __repr__(self) -> str:
        return f"DenseChoice({self.name!r}, {self.value!r})"

    def __str__(self) -> str:
        if self.name in ("family", "activation"):
            return str(self.value)
        if self.name == "dropout":
            return f"dropout {self.value:g}"
        return f"{self.name}={self.value}"


@dataclass(frozen=True)
class DenseSpec:
    """The network an arc describes (what :func:`arc_spec` returns)."""

    family: str
    units: int
    depth: int
    activation: str
    dropout: float

    def __str__(self) -> str:
        what = {"mlp": "hidden layers", "resnet": "residual blocks", "densenet": "dense-block layers"}
        return (f"{self.family}: {self.depth} {what[self.family]} of {self.units} units, "
                f"{self.activation}, dropout {self.dropout:g}")


def dense_model_space(families: Sequence[str] = FAMILIES, units: Sequence[int] = (64, 128, 256),
                      depth: Sequence[int] = (1, 2, 3), activation: Sequence[str] = ("relu", "elu", "tanh"),
                      dropout: Sequence[float] = (0.0, 0.25, 0.5)) -> ModelSpace:
    """The AutoGenome-style space: network family and its hyperparameters as one search.

    Parameters
    ----------
    families, units, depth, activation, dropout : sequences
        The options of each decision (see :class:`DenseChoice`).  The defaults give
        3 * 3 * 3 * 3 * 3 = 243 networks.  Pass ``families=('mlp',)`` for a plain MLP
        space (layers, units, activation, dropout).

    Returns
    -------
    ModelSpace
        Five layers, in the order of :data:`DECISIONS`.

    Examples
    --------
    >>> space = dense_model_space()
    >>> space.size, space.describe([1, 1, 1, 0, 1])
    (243, 'resnet -> units=128 -> depth=2 -> relu -> dropout 0.25')
    """
    options = {"families": families, "units": units, "depth": depth, "activation": activation,
               "dropout": dropout}
    layers = []
    for (arg, values), name in zip(options.items(), DECISIONS):
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise ValueError(f"{arg}: expected a non-empty list of options, got {values!r}")
        if len(set(values)) != len(values):
            raise ValueError(f"{arg}: options must be distinct, got {list(values)}")
        layers.append([DenseChoice(name, v) for v in values])
    return ModelSpace(layers)


class LayerChoice(Operation):
    """One option of one decision of one layer of a :func:`layerwise_model_space`.

    Parameters
    ----------
    name : {'units', 'activation', 'skip'}
    layer : int
        The hidden layer deciding, from 1.
    value : int, str or tuple of int
        ``units``: a positive int; ``activation``: one of :data:`LAYER_ACTIVATIONS`;
        ``skip``: the sorted tuple of the layers whose outputs are summed into this one
        besides the previous layer (``0`` is the input ``x``; ``k`` the hidden layer ``k``,
        ``k <= layer - 2``); ``()`` for none.

    Examples
    --------
    >>> LayerChoice("skip", 3, (0, 1))
    LayerChoice('skip', 3, (0, 1))
    >>> str(LayerChoice("skip", 3, (0, 1)))
    'L3 skip from x+h1'
    """

    def __init__(self, name: str, layer: int, value: Any) -> None:  # noqa: D107 - documented on the class
        fn = "LayerChoice"
        name = _checks.one_of(name, "name", fn, LAYER_DECISIONS)
        layer = _checks.positive_int(layer, "layer", fn)
        if name == "units":
            value = _checks.positive_int(value, "value", fn)
        elif name == "activation":
            value = _checks.one_of(value, "value", fn, LAYER_ACTIVATIONS)
        else:
            if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
                raise _checks.fail(fn, "value", "a tuple of earlier layers (0 = input) for a skip", value,
                                   kind=_checks.ArgumentTypeError)
            if layer < 2 and value:
                raise _checks.fail(fn, "value", "() for layer 1 (it has no earlier layer to skip from)", value)
            if (not all(_checks.is_int(k) and 0 <= k <= layer - 2 for k in value)
                    or len(set(value)) != len(value)):
                raise _checks.fail(fn, "value", f"distinct layers in 0..{layer - 2} (0 = input x) for layer {layer}",
                                   value)
            value = tuple(sorted(int(k) for k in value))
        self.name, self.layer, self.value = name, layer, value
        self.params = {"layer": layer, "value": value}

    def __repr__(self) -> str:
        return f"LayerChoice({self.name!r}, {self.layer}, {self.value!r})"

    def __str__(self) -> str:
        if self.name == "skip":
            src = "+".join("x" if k == 0 else f"h{k}" for k in self.value)
            return f"L{self.layer} skip from {src}" if self.value else f"L{self.layer} no skip"
        return f"L{self.layer} {self.value}" if self.name == "activation" else f"L{self.layer} units={self.value}"


@dataclass(frozen=True)
class LayerwiseSpec:
    """A network of :func:`layerwise_model_space` (what :func:`arc_spec` returns for it).

    Attributes
    ----------
    units, activations : tuple
        One per hidden layer.
    skips : tuple of tuple of int
        Per hidden layer, the earlier layers (0 = input) summed into it besides the previous one.
    dropout : float
        After every hidden activation (fixed by the space, not searched).
    """

    units: tuple[int, ...]
    activations: tuple[str, ...]
    skips: tuple[tuple[int, ...], ...]
    dropout: float = 0.0

    @property
    def depth(self) -> int:
        """Number of hidden layers."""
        return len(self.units)

    def __str__(self) -> str:
        parts = []
        for i, (w, a, sk) in enumerate(zip(self.units, self.activations, self.skips), start=1):
            src = "".join(f"+{'x' if k == 0 else f'h{k}'}" for k in sk)
            parts.append(f"{w} {a}{src}")
        return " | ".join(parts) + (f", dropout {self.dropout:g}" if self.dropout else "")


def _skip_sets(layer: int, max_skips: int | None) -> list[tuple[int, ...]]:
    """Every set of earlier layers (0 = input, hidden layers up to ``layer - 2``), smallest first."""
    import itertools

    sources = list(range(layer - 1))
    top = len(sources) if max_skips is None else min(max_skips, len(sources))
    return [c for r in range(top + 1) for c in itertools.combinations(sources, r)]


def layerwise_model_space(n_layers: int = 3, units: Sequence[int] = (8, 32, 128),
                          activation: Sequence[str] = ("relu", "tanh", "linear"), skips: bool = True,
                          max_skips: int | None = None, dropout: float = 0.0) -> ModelSpace:
    """A space in which every hidden layer decides its width, activation and skip connections.

    This is the shape of AutoGenome's controller (and of ENAS' macro search): one decision
    per layer and per kind, instead of one width for the whole network.  The arc lists,
    for layer 1, 2, ..., ``n_layers``: its ``units`` token, its ``activation`` token and,
    from layer 2 on (when ``skips``), its ``skip`` token -- an integer that picks one *set*
    of earlier layers (``0`` = the input ``x``, ``k`` = hidden layer ``k <= i - 2``) whose
    outputs are projected and summed into layer ``i`` besides the previous layer's output.
    Layer 2 chooses from ``()`` and ``(0,)``; layer 3 from ``()``, ``(0,)``, ``(1,)``,
    ``(0, 1)``; token ``t`` is the ``t``-th set of :func:`LayerChoice` values listed by
    ``space[j]``.  The network (see the module docstring)::

        h_0 = x;  h_i = drop(act_i(L_i(h_{i-1}) + sum_{k in skip_i} S_{k,i}(h_k)));  logits = head(h_n)

    Parameters
    ----------
    n_layers : int
        Hidden layers, >= 1.
    units : sequence of int
        Width options of every layer.
    activation : sequence of str
        Activation options of every layer, from :data:`LAYER_ACTIVATIONS` (``'linear'``
        keeps the layer linear: a network of linear layers only is a linear model).
    skips : bool
        Add the per-layer skip decisions (layers 2..n_layers).
    max_skips : int, optional
        At most this many skip sources per layer (``None``: any subset).
    dropout : float
        Fixed dropout rate after every hidden activation, in [0, 1).

    Returns
    -------
    ModelSpace
        ``3 * n_layers - 1`` decisions with ``skips`` (``2 * n_layers`` without), each a list
        of :class:`LayerChoice`.

    Examples
    --------
    >>> space = layerwise_model_space(n_layers=3)
    >>> len(space), space.choices
    (8, [3, 3, 3, 3, 2, 3, 3, 4])
    >>> space.describe([2, 0, 1, 0, 1, 1, 1, 3], sep=", ")
    'L1 units=128, L1 relu, L2 units=32, L2 relu, L2 skip from x, L3 units=32, L3 tanh, L3 skip from x+h1'
    """
    fn = "layerwise_model_space"
    n_layers = _checks.positive_int(n_layers, "n_layers", fn)
    skips = _checks.flag(skips, "skips", fn)
    if max_skips is not None:
        max_skips = _checks.positive_int(max_skips, "max_skips", fn)
    dropout = _checks.rate(dropout, "dropout", fn, high_open=True)
    for arg, values in (("units", units), ("activation", activation)):
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise _checks.fail(fn, arg, "a non-empty list of options", values, kind=_checks.ArgumentTypeError)
        if len(set(values)) != len(values):
            raise _checks.fail(fn, arg, "distinct options", list(values))
    layers: list[list[Operation]] = []
    for i in range(1, n_layers + 1):
        layers.append([LayerChoice("units", i, w) for w in units])
        layers.append([LayerChoice("activation", i, a) for a in activation])
        if skips and i >= 2:
            layers.append([LayerChoice("skip", i, s) for s in _skip_sets(i, max_skips)])
    space = ModelSpace(layers)
    space.layerwise_dropout = float(dropout)  # not a decision: the same for every child
    return space


def _is_layerwise(space: ModelSpace) -> bool:
    return all(isinstance(op, LayerChoice) for ops in space for op in ops)


def _check_space(space: Any) -> ModelSpace:
    if not isinstance(space, ModelSpace):
        raise TypeError(f"space must be a ModelSpace from dense_model_space(), got {type(space).__name__}")
    if _is_layerwise(space):
        return space
    names = tuple(ops[0].name for ops in space)
    if names != DECISIONS or not all(isinstance(op, DenseChoice) for ops in space for op in ops):
        raise ValueError(f"space: expected the five dense decisions {DECISIONS} (use dense_model_space()) "
                         f"or per-layer decisions (use layerwise_model_space()), "
                         f"got layers {names}")
    return space


def arc_spec(space: ModelSpace, arc: Sequence[int]) -> DenseSpec | LayerwiseSpec:
    """Decode an arc of a dense space: a :class:`DenseSpec` (five tokens of :func:`dense_model_space`)
    or a :class:`LayerwiseSpec` (one token per decision of :func:`layerwise_model_space`)."""
    ops = _check_space(space).operations(arc)
    if not _is_layerwise(space):
        return DenseSpec(*(op.value for op in ops))
    n = max(op.layer for op in ops)
    got = {(op.name, op.layer): op.value for op in ops}
    return LayerwiseSpec(units=tuple(got[("units", i)] for i in range(1, n + 1)),
                         activations=tuple(got[("activation", i)] for i in range(1, n + 1)),
                         skips=tuple(got.get(("skip", i), ()) for i in range(1, n + 1)),
                         dropout=float(getattr(space, "layerwise_dropout", 0.0)))


def linear_shapes(spec: DenseSpec | LayerwiseSpec, n_features: int, n_classes: int) -> dict[str, tuple[int, int]]:
    """Every linear layer the network needs: ``{key: (in_features, out_features)}``.

    :class:`DenseSpec`: keys start with ``'{family}-{units}-'`` so different families and
    widths never share a layer; the densenet head also names its depth (its input width
    depends on it).  :class:`LayerwiseSpec`: ``'L{i}-{in}-{out}'`` for the main path of layer
    ``i`` (``in`` is ``'x'`` for the input), ``'S{k}to{i}-{in}-{out}'`` for a skip from layer
    ``k`` (0 = input) into layer ``i``, ``'head-{w}'`` for the output layer: a weight is shared
    by every child that has that connection at those widths.
    """
    _check_dims(n_features, n_classes)
    if isinstance(spec, LayerwiseSpec):
        return _layerwise_shapes(spec, n_features, n_classes)
    f, w, d = spec.family, spec.units, spec.depth
    pre = f"{f}-{w}-"
    shapes: dict[str, tuple[int, int]] = {}
    if f == "mlp":
        for j in range(d):
            shapes[f"{pre}h{j}"] = (n_features if j == 0 else w, w)
        shapes[f"{pre}head"] = (w, n_classes)
    elif f == "resnet":
        shapes[f"{pre}stem"] = (n_features, w)
        for j in range(d):
            shapes[f"{pre}b{j}a"] = (w, w)
            shapes[f"{pre}b{j}b"] = (w, w)
        shapes[f"{pre}head"] = (w, n_classes)
    else:
        shapes[f"{pre}stem"] = (n_features, w)
        for j in range(d):
            shapes[f"{pre}l{j}"] = (w * (j + 1), w)
        shapes[f"{pre}head{d}"] = (w * (d + 1), n_classes)
    return shapes


def _layerwise_key(k: int, i: int, width_in: str, width_out: str) -> str:
    """The key of the linear layer from ``h_k`` (width ``width_in``, ``'x'`` for the input) into layer ``i``:
    the main path when ``k = i - 1``, a skip otherwise."""
    return f"L{i}-{width_in}-{width_out}" if k == i - 1 else f"S{k}to{i}-{width_in}-{width_out}"


def _layerwise_head_key(width: str) -> str:
    return f"head-{width}"


def _layerwise_inputs(spec: LayerwiseSpec) -> tuple[list[list[tuple[int, str]]], str]:
    """Per hidden layer (1..depth), its inputs ``[(k, key of the linear layer from h_k), ...]``, the
    main path first and then the skips in order; and the head's key."""
    name = ["x", *map(str, spec.units)]
    inputs = [[(k, _layerwise_key(k, i, name[k], name[i])) for k in (i - 1, *spec.skips[i - 1])]
              for i in range(1, spec.depth + 1)]
    return inputs, _layerwise_head_key(name[-1])


def _layerwise_shapes(spec: LayerwiseSpec, n_features: int, n_classes: int) -> dict[str, tuple[int, int]]:
    widths = (n_features, *spec.units)
    inputs, head = _layerwise_inputs(spec)
    shapes = {key: (widths[k], widths[i]) for i, layer in enumerate(inputs, start=1) for k, key in layer}
    shapes[head] = (widths[-1], n_classes)
    return shapes


def supernet_shapes(space: ModelSpace, n_features: int, n_classes: int) -> dict[str, tuple[int, int]]:
    """Every linear layer of every child of a dense space: ``{key: (in, out)}``, the supernet's layers.

    Parameters
    ----------
    space : ModelSpace
        From :func:`dense_model_space` or :func:`layerwise_model_space`.
    n_features, n_classes : int

    Returns
    -------
    dict
        The union of :func:`linear_shapes` over all children (found decision by decision,
        without enumerating the children).
    """
    import itertools

    _check_space(space)
    _check_dims(n_features, n_classes)
    shapes: dict[str, tuple[int, int]] = {}
    if not _is_layerwise(space):
        for f, w, d in itertools.product(*(range(n) for n in space.choices[:3])):
            spec = arc_spec(space, [f, w, d, 0, 0])  # activation and dropout have no weights
            shapes.update(linear_shapes(spec, n_features, n_classes))
        return shapes
    units: dict[int, list[int]] = {}
    skip_sources: dict[int, set[int]] = {}
    for ops in space:
        for op in ops:
            if op.name == "units":
                units.setdefault(op.layer, []).append(op.value)
            elif op.name == "skip":
                skip_sources.setdefault(op.layer, set()).update(op.value)
    n = max(units)
    widths = {0: [("x", n_features)], **{i: [(str(w), w) for w in units[i]] for i in units}}
    for i in range(1, n + 1):
        for k in [i - 1, *sorted(skip_sources.get(i, ()))]:
            for (a, wa), (b, wb) in itertools.product(widths[k], widths[i]):
                shapes[_layerwise_key(k, i, a, b)] = (wa, wb)
    for b, wb in widths[n]:
        shapes[_layerwise_head_key(b)] = (wb, n_classes)
    return shapes


def activation_names(spec: DenseSpec | LayerwiseSpec) -> list[str]:
    """The activation of every nonlinearity of ``spec``'s forward pass, in order of use."""
    if isinstance(spec, LayerwiseSpec):
        return list(spec.activations)
    n_act = 2 * spec.depth + 1 if spec.family == "resnet" else spec.depth + (spec.family == "densenet")
    return [spec.activation] * n_act


def _check_dims(n_features: int, n_classes: int) -> None:
    # n_classes = 1: one output, a regression (build_dense); classifiers check >= 2 themselves
    for name, v, lo in (("n_features", n_features, 1), ("n_classes", n_classes, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")


def activation_module(name: str) -> Any:
    import torch

    return {"relu": torch.nn.ReLU, "elu": torch.nn.ELU, "tanh": torch.nn.Tanh, "gelu": torch.nn.GELU,
            "linear": torch.nn.Identity}[name]()


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
    import torch
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
        inputs, head = _layerwise_inputs(spec)
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


def module_key(key: str) -> str:
    return key.replace("-", "_")  # ModuleDict keys: no '.', keep them identifier-like


class LinearView:
    """Map layer keys to the modules of a ``ModuleDict`` (whose keys use '_')."""

    def __init__(self, modules: Any) -> None:
        self.modules = modules

    def __getitem__(self, key: str) -> Any:
        return self.modules[module_key(key)]


def build_dense(space: ModelSpace, arc: Sequence[int], n_features: int, n_classes: int,
                framework: str = "torch", seed: int = 0, learning_rate: float = 1e-3) -> Any:
    """Turn an arc of a dense space into an untrained classifier, ready to train.

    Parameters
    ----------
    space : ModelSpace
        From :func:`dense_model_space` or :func:`layerwise_model_space`.
    arc : sequence of int
        One token per decision (five for :func:`dense_model_space`).
    n_features, n_classes : int
        Input width (genes) and number of classes (>= 2), or ``n_classes=1`` for a
        **regression**: one linear output ``(N, 1)`` (Keras: a linear activation, compiled
        with the mean squared error).  :func:`fit_dense` trains classifiers only; train a
        regression network with an MSE loop of your own.
    framework : {'torch', 'keras'}
        ``'torch'``: a :class:`~workshop_utils.nas._torch_layers.DenseClassifier`
        (``torch.nn.Module``) returning logits ``(N, n_classes)``; train it with
        :func:`fit_dense`.  ``'keras'``: a functional ``keras.Model`` of the same network
        ending in ``Dense(n_classes)`` followed by ``Activation('softmax')``, compiled
        (Adam at ``learning_rate``, sparse categorical cross-entropy) like every Keras
        builder of the package.
    seed : int
        Seeds the weight initialisation (and Keras' dropout masks); the caller's random
        state is left as it was.
    learning_rate : float
        Keras only: the compiled optimizer's learning rate (torch models take ``lr`` in
        :func:`fit_dense`).

    Examples
    --------
    >>> space = dense_model_space()
    >>> model = build_dense(space, [2, 0, 1, 1, 0], n_features=765, n_classes=10)
    >>> model(torch.zeros(3, 765)).shape
    torch.Size([3, 10])
    """
    fn = "build_dense"
    spec = arc_spec(space, arc)
    _check_dims(n_features, n_classes)
    seed = _checks.non_negative_int(seed, "seed", fn)
    framework = _checks.one_of(framework, "framework", fn, ("torch", "keras"))
    learning_rate = _checks.number(learning_rate, "learning_rate", fn, low=0.0, low_open=True)
    if framework == "torch":
        from ..backend import torch_seeded
        from ._torch_layers import DenseClassifier

        with torch_seeded(seed):
            return DenseClassifier(spec, int(n_features), int(n_classes))
    return _keras_dense(spec, int(n_features), int(n_classes), seed, learning_rate)


def _keras_dense(spec: DenseSpec | LayerwiseSpec, n_features: int, n_classes: int, seed: int,
                 learning_rate: float) -> Any:
    import keras

    L = keras.layers
    shapes = linear_shapes(spec, n_features, n_classes)
    dense = {k: L.Dense(o, name=module_key(k), kernel_initializer=keras.initializers.GlorotUniform(seed=seed + i))
             for i, (k, (_, o)) in enumerate(shapes.items())}
    pre = "" if isinstance(spec, LayerwiseSpec) else f"{spec.family}-{spec.units}-"
    n_drop = [0]

    def act_drop(h):
        h = L.Activation(spec.activation)(h)
        if spec.dropout > 0:
            n_drop[0] += 1
            h = L.Dropout(spec.dropout, seed=seed + 1000 + n_drop[0])(h)
        return h

    x = keras.Input((n_features,))
    if isinstance(spec, LayerwiseSpec):
        hs = [x]
        inputs, head = _layerwise_inputs(spec)
        for i, layer in enumerate(inputs, start=1):
            parts = [dense[key](hs[k]) for k, key in layer]
            z = parts[0] if len(parts) == 1 else L.Add()(parts)
            h = L.Activation(spec.activations[i - 1])(z)
            if spec.dropout > 0:
                h = L.Dropout(spec.dropout, seed=seed + 1000 + i)(h)
            hs.append(h)
        out = dense[head](hs[-1])
    elif spec.family == "mlp":
        h = x
        for j in range(spec.depth):
            h = act_drop(dense[f"{pre}h{j}"](h))
        out = dense[f"{pre}head"](h)
    elif spec.family == "resnet":
        h = dense[f"{pre}stem"](x)
        for j in range(spec.depth):
            r = act_drop(dense[f"{pre}b{j}a"](L.Activation(spec.activation)(h)))
            h = L.Add()([h, dense[f"{pre}b{j}b"](r)])
        out = dense[f"{pre}head"](act_drop(h))
    else:
        feats = [act_drop(dense[f"{pre}stem"](x))]
        for j in range(spec.depth):
            inp = feats[0] if len(feats) == 1 else L.Concatenate()(feats)
            feats.append(act_drop(dense[f"{pre}l{j}"](inp)))
        out = dense[f"{pre}head{spec.depth}"](L.Concatenate()(feats))
    regression = n_classes == 1
    name = "dense_layerwise" if isinstance(spec, LayerwiseSpec) else f"dense_{spec.family}"
    model = keras.Model(x, L.Activation("linear" if regression else "softmax")(out), name=name)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="mse" if regression else "sparse_categorical_crossentropy")
    return model


# --------------------------------------------------------------------------- training
def _check_codes(y: Any, name: str, fn: str, n: int | None = None, n_classes: int | None = None,
                 allow_empty: bool = False) -> np.ndarray:
    """Integer class codes ``(n,)`` in ``0..n_classes-1`` as int64 (floats like 2.0 are refused with a hint)."""
    y = _checks.finite_array(y, name, fn, ndim=1, dtype=None, allow_empty=allow_empty)
    if n is not None and len(y) != n:
        raise _checks.fail(fn, name, f"{n} labels (one per row)", f"{len(y)} labels")
    if not np.issubdtype(y.dtype, np.integer):
        if np.issubdtype(y.dtype, np.floating) and np.all(y == np.round(y)):
            hint = f"convert them with {name}.astype(int)"
        else:
            hint = "encode the classes as integer codes, e.g. with pandas.factorize"
        raise _checks.fail(fn, name, "integer class codes", f"dtype {y.dtype}", kind=_checks.ArgumentTypeError,
                           hint=hint)
    if len(y) and (y.min() < 0 or (n_classes is not None and y.max() >= n_classes)):
        expected = "class codes >= 0" if n_classes is None else f"class codes in 0..{n_classes - 1}"
        raise _checks.fail(fn, name, expected, f"codes from {int(y.min())} to {int(y.max())}",
                           hint="" if n_classes is None else f"there are {n_classes} classes")
    return y.astype(np.int64)


def _check_xy(X: Any, y: Any, xname: str, yname: str, fn: str,
              n_classes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A finite table ``X (N, F)`` float32 and class codes ``y (N,)`` int64 in ``0..n_classes-1``."""
    X = _checks.finite_array(X, xname, fn, ndim=2)
    return X, _check_codes(y, yname, fn, len(X), n_classes)


def _check_features(X_train: np.ndarray, X_valid: np.ndarray, fn: str) -> np.ndarray:
    """``X_valid``, refused unless it has the features of ``X_train``."""
    if X_valid.shape[1] != X_train.shape[1]:
        raise _checks.fail(fn, "X_valid", f"{X_train.shape[1]} features like X_train", f"{X_valid.shape[1]}")
    return X_valid


def _optimizer_settings(fn: str, batch_size: Any, lr: Any, weight_decay: Any, seed: Any,
                        progress: Any) -> tuple[int, float, float, int, bool]:
    """The AdamW training arguments shared by :func:`fit_dense` and ENAS, checked."""
    return (_checks.positive_int(batch_size, "batch_size", fn), _checks.number(lr, "lr", fn, low=0.0, low_open=True),
            _checks.number(weight_decay, "weight_decay", fn, low=0.0), _checks.non_negative_int(seed, "seed", fn),
            _checks.flag(progress, "progress", fn))


def class_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """'Balanced' class weights ``n / (n_classes * count)`` (as scikit-learn's), ``(n_classes,)``.

    Classes absent from ``y`` get weight 1.
    """
    n_classes = _checks.positive_int(n_classes, "n_classes", "class_weights")
    y = _check_codes(y, "y", "class_weights", n_classes=n_classes, allow_empty=True)
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    w = np.ones(n_classes)
    seen = counts > 0
    w[seen] = len(y) / (seen.sum() * counts[seen])
    return w.astype(np.float32)


def predict_logits(model: Any, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Logits ``(N, n_classes)`` of a classifier over a table ``X (N, n_features)``.

    :func:`workshop_utils.backend.logits` (evaluation mode, no gradients, the model's
    mode given back), kept two-dimensional.
    """
    from ..backend import _logits

    X = _checks.finite_array(X, "X", "predict_logits", ndim=2)
    z = _logits(model, X, batch_size, "predict_logits")
    return z.reshape(len(X), -1)


def macro_f1(y_true: np.ndarray, logits_or_pred: np.ndarray) -> float:
    """Macro-averaged F1 from labels ``(N,)`` and logits ``(N, C)`` or predictions ``(N,)``.

    The same number as scikit-learn's ``f1_score(average="macro", zero_division=0)``: the
    mean over the classes present in ``y_true`` or the predictions of
    ``2 TP / (2 TP + FP + FN)``.  Counted with numpy (scikit-learn's checks cost
    milliseconds per call, which a bootstrap repeats a thousand times).
    """
    fn = "macro_f1"
    pred = _checks.finite_array(logits_or_pred, "logits_or_pred", fn, ndim=(1, 2), dtype=None)
    y_true = _check_codes(y_true, "y_true", fn, n=len(pred))
    pred = pred.argmax(1) if pred.ndim == 2 else pred
    labels, codes = np.unique(np.concatenate([np.asarray(y_true), np.asarray(pred)]), return_inverse=True)
    t, p = codes[:len(y_true)], codes[len(y_true):]
    k = len(labels)
    tp = np.bincount(t[t == p], minlength=k)
    f1 = 2 * tp / (np.bincount(t, minlength=k) + np.bincount(p, minlength=k))   # 2TP + FP + FN = |true| + |pred|
    return float(f1.mean())


def fit_dense(model: Any, X_train: np.ndarray, y_train: np.ndarray, X_valid: np.ndarray, y_valid: np.ndarray,
              epochs: int = 200, batch_size: int = 64, lr: float = 1e-3, weight_decay: float = 1e-4,
              patience: int = 20, balanced: bool = True, monitor: str = "val_loss", seed: int = 0,
              progress: bool = False, min_delta: float = 0.0) -> dict:
    """Train a torch classifier from its current weights, with early stopping.

    Cross-entropy (class-weighted when ``balanced``, which helps macro F1 on rare cell
    types), AdamW with ``weight_decay``; after every epoch the validation loss and macro
    F1 are measured, and the weights of the best epoch (by ``monitor``) are restored at the
    end.  An epoch improves when it beats the best by more than ``min_delta``, the rule
    of :func:`workshop_utils.training.fit` (:func:`workshop_utils.training.improved`).

    Every argument is checked before the model is touched: a call that fails on bad input
    (NaN in a table, a class code the model has no output for) leaves the weights as they were.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(N, n_features)`` to logits ``(N, n_classes)``.
    X_train, X_valid : np.ndarray
        ``(N, n_features)`` float32, finite.
    y_train, y_valid : np.ndarray
        ``(N,)`` integer class codes in ``0..n_classes-1``.
    epochs, batch_size, patience : int
    lr, weight_decay : float
    balanced : bool
    monitor : {'val_loss', 'val_f1'}
        Early stopping and the restored epoch follow the lowest validation loss or the
        highest validation macro F1 (ties: the earlier epoch).
    seed : int
        Seeds the minibatch order (a local numpy generator) and dropout (inside
        :func:`workshop_utils.backend.torch_seeded`: the caller's random state is left alone).
    progress : bool
        Show a tqdm bar over epochs.
    min_delta : float
        Smallest improvement of the monitored value that counts.

    Returns
    -------
    dict
        ``loss``, ``val_loss``, ``val_f1`` (lists, one per epoch), ``best_epoch`` (the
        **0-based** index of the best epoch in those lists, as in
        :func:`workshop_utils.training.fit`), ``seconds``.
    """
    import time

    import torch
    from .._progress import progress as tqdm  # text bar on stdout: saved notebooks show its final state

    from ..backend import require, torch_seeded
    from ..training import improved

    fn = "fit_dense"
    require(model, "torch", fn)
    X_train = _checks.finite_array(X_train, "X_train", fn, ndim=2)
    X_valid = _check_features(X_train, _checks.finite_array(X_valid, "X_valid", fn, ndim=2), fn)
    n_out = predict_logits(model, X_train[:2]).shape[1]  # runs the model in eval mode: no state changes
    n_classes = int(getattr(model, "n_classes", n_out))
    y_train = _check_codes(y_train, "y_train", fn, len(X_train), n_classes)
    y_valid = _check_codes(y_valid, "y_valid", fn, len(X_valid), n_classes)
    epochs = _checks.positive_int(epochs, "epochs", fn)
    patience = _checks.positive_int(patience, "patience", fn)
    batch_size, lr, weight_decay, seed, progress = _optimizer_settings(fn, batch_size, lr, weight_decay, seed,
                                                                       progress)
    balanced = _checks.flag(balanced, "balanced", fn)
    monitor = _checks.one_of(monitor, "monitor", fn, ("val_loss", "val_f1"))
    min_delta = _checks.number(min_delta, "min_delta", fn, low=0.0)
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    weight = torch.from_numpy(class_weights(y_train, n_classes)) if balanced else None
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    Xt, yt = torch.from_numpy(X_train), torch.from_numpy(y_train)
    Xv, yv = torch.from_numpy(X_valid), torch.from_numpy(y_valid)
    hist: dict = {"loss": [], "val_loss": [], "val_f1": []}
    best, best_state, best_epoch, waited = np.inf, None, 0, 0
    with torch_seeded(seed):
        for epoch in tqdm(range(epochs), desc="epochs", disable=not progress, leave=False):
            model.train()
            order = rng.permutation(len(Xt))
            total = 0.0
            for i in range(0, len(order), batch_size):
                idx = torch.from_numpy(order[i:i + batch_size])
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(Xt[idx]), yt[idx])
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
            model.eval()
            with torch.no_grad():
                out = model(Xv)
                val_loss = float(loss_fn(out, yv))
            hist["loss"].append(total / len(Xt))
            hist["val_loss"].append(val_loss)
            finite = bool(torch.isfinite(out).all())  # a diverged epoch scores NaN, never "improves"
            hist["val_f1"].append(macro_f1(y_valid, out.numpy()) if finite else float("nan"))
            current = val_loss if monitor == "val_loss" else -hist["val_f1"][-1]
            if improved(current, best, min_delta):
                best, best_epoch, waited = current, epoch, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                waited += 1
                if waited >= patience:
                    break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    hist["best_epoch"] = best_epoch
    hist["seconds"] = time.perf_counter() - t0
    return hist
