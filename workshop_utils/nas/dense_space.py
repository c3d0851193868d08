"""The search spaces over fully connected networks for tables, and their shape arithmetic.

This module holds the spaces (:func:`dense_model_space`, :func:`layerwise_model_space`), the
decoded networks (:class:`DenseSpec`, :class:`LayerwiseSpec`) and the layer keys and shapes
(:func:`linear_shapes`, :func:`supernet_shapes`); the builders and the training loop are in
:mod:`workshop_utils.nas.dense`, the torch forward pass next to its class in
:mod:`workshop_utils.nas._torch_layers`.  It imports no framework.

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
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _checks
from .space import ModelSpace, Operation

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


def check_space(space: Any) -> ModelSpace:
    """``space``, refused unless it is a dense space (:func:`dense_model_space` or :func:`layerwise_model_space`)."""
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
    ops = check_space(space).operations(arc)
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
    check_dims(n_features, n_classes)
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


def layerwise_inputs(spec: LayerwiseSpec) -> tuple[list[list[tuple[int, str]]], str]:
    """Per hidden layer (1..depth), its inputs ``[(k, key of the linear layer from h_k), ...]``, the
    main path first and then the skips in order; and the head's key."""
    name = ["x", *map(str, spec.units)]
    inputs = [[(k, _layerwise_key(k, i, name[k], name[i])) for k in (i - 1, *spec.skips[i - 1])]
              for i in range(1, spec.depth + 1)]
    return inputs, _layerwise_head_key(name[-1])


def _layerwise_shapes(spec: LayerwiseSpec, n_features: int, n_classes: int) -> dict[str, tuple[int, int]]:
    widths = (n_features, *spec.units)
    inputs, head = layerwise_inputs(spec)
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

    check_space(space)
    check_dims(n_features, n_classes)
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


def check_dims(n_features: int, n_classes: int) -> None:
    """Refuse ``n_features`` or ``n_classes`` that are not integers >= 1."""
    # n_classes = 1: one output, a regression (build_dense); classifiers check >= 2 themselves
    for name, v, lo in (("n_features", n_features, 1), ("n_classes", n_classes, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")



def module_key(key: str) -> str:
    """The ``torch.nn.ModuleDict`` (and Keras layer) name of layer key ``key``: ``-`` becomes ``_``."""
    return key.replace("-", "_")  # ModuleDict keys: no '.', keep them identifier-like

