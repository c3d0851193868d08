"""The model space: one list of candidate operations per layer.

An architecture ("arc") is a list of integer tokens, one per layer: token ``k`` at
layer ``i`` picks ``space[i][k]``.  This module knows nothing about Keras or PyTorch;
:mod:`workshop_utils.nas.build` turns operations into layers.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

#: Canonical operation names and the spellings accepted for each (case-insensitive).
_ALIASES: dict[str, tuple[str, ...]] = {
    "input": ("input", "inputs", "input_layer", "inputlayer"),
    "conv1d": ("conv1d", "convolution1d", "conv"),
    "maxpool1d": ("maxpool1d", "maxpooling1d", "maxpool", "max_pool1d", "maxpool_1d"),
    "avgpool1d": ("avgpool1d", "averagepooling1d", "avgpooling1d", "avgpool", "avg_pool1d",
                  "averagepool1d"),
    "identity": ("identity", "none", "skip"),
    "flatten": ("flatten", "flatten1d"),
    "globalavgpool1d": ("globalavgpool1d", "globalaveragepooling1d", "globalavgpooling1d",
                        "global_avg_pool1d", "globalaveragepool1d"),
    "globalmaxpool1d": ("globalmaxpool1d", "globalmaxpooling1d", "global_max_pool1d"),
    "dense": ("dense", "linear", "fullyconnected"),
    "dropout": ("dropout",),
    "batchnorm": ("batchnorm", "batchnormalization", "batchnorm1d", "bn"),
}
_CANON = {alias.replace("_", ""): name for name, aliases in _ALIASES.items() for alias in aliases}

#: Default and allowed parameters per operation.
_PARAMS: dict[str, dict[str, Any]] = {
    "input": {"shape": None},
    "conv1d": {"filters": None, "kernel_size": None, "activation": "relu", "padding": "same"},
    "maxpool1d": {"pool_size": 2, "strides": None},
    "avgpool1d": {"pool_size": 2, "strides": None},
    "identity": {},
    "flatten": {},
    "globalavgpool1d": {},
    "globalmaxpool1d": {},
    "dense": {"units": None, "activation": "relu"},
    "dropout": {"rate": 0.5},
    "batchnorm": {},
}
ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "linear", "gelu", "softplus", None)


def canonical_name(name: str) -> str:
    """Return the canonical operation name for ``name`` (``'MaxPooling1D'`` -> ``'maxpool1d'``)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    key = name.strip().lower().replace("_", "").replace(" ", "")
    if key not in _CANON:
        raise ValueError(f"name: unknown operation {name!r}; expected one of {sorted(_ALIASES)} "
                         f"(Keras spellings such as 'Conv1D', 'MaxPooling1D' also work)")
    return _CANON[key]


class Operation:
    """One candidate layer: a name and its parameters.

    Parameters
    ----------
    name : str
        Case-insensitive; ``conv1d``, ``maxpool1d``, ``avgpool1d``, ``identity``,
        ``flatten``, ``globalavgpool1d``, ``globalmaxpool1d``, ``dense``, ``dropout``,
        ``batchnorm`` (and ``input`` for the builder's input). Keras spellings
        (``Conv1D``, ``MaxPooling1D``, ``GlobalAveragePooling1D``, ``BatchNormalization`` ...)
        are accepted.
    **params
        ``conv1d``: filters, kernel_size, activation ('relu'), padding ('same' or 'valid');
        ``maxpool1d``/``avgpool1d``: pool_size (2), strides (= pool_size);
        ``dense``: units, activation ('relu'); ``dropout``: rate (0.5);
        ``input``: shape, e.g. ``(200, 4)``.

    Examples
    --------
    >>> Operation("Conv1D", filters=32, kernel_size=7, activation="relu")
    Operation('conv1d', filters=32, kernel_size=7, activation='relu', padding='same')
    """

    def __init__(self, name: str, **params: Any) -> None:
        self.name = canonical_name(name)
        allowed = _PARAMS[self.name]
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise ValueError(f"params: {self.name} does not take {unknown}; it takes {sorted(allowed)}")
        merged = {**allowed, **params}
        missing = sorted(k for k, v in merged.items() if v is None and k not in ("strides", "activation"))
        if missing:
            raise ValueError(f"params: {self.name} needs {missing}")
        self.params = merged
        self._validate()

    def _validate(self) -> None:
        from .. import _checks

        p = self.params
        fn = f"Operation({self.name!r})"

        def pos_int(key: str) -> None:
            p[key] = _checks.positive_int(p[key], key, fn)  # numpy integers too; stored as int

        if self.name == "conv1d":
            pos_int("filters")
            pos_int("kernel_size")
            _checks.one_of(p["padding"], "padding", fn, ("same", "valid"))
        if self.name in ("maxpool1d", "avgpool1d"):
            pos_int("pool_size")
            if p["strides"] is not None:
                pos_int("strides")
        if self.name == "dense":
            pos_int("units")
        if self.name in ("conv1d", "dense"):
            _checks.one_of(p["activation"], "activation", fn, ACTIVATIONS)
        if self.name == "dropout":
            p["rate"] = _checks.rate(p["rate"], "rate", fn, high_open=True)
        if self.name == "input":
            shape = p["shape"]
            if (not isinstance(shape, (tuple, list)) or not shape
                    or not all(hasattr(s, "__index__") and not isinstance(s, bool) and s > 0 for s in shape)):
                raise _checks.fail(fn, "shape", "a tuple of positive ints like (200, 4)", shape)
            p["shape"] = tuple(int(s) for s in shape)

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.params.items()
                       if not (k == "strides" and v is None))
        return f"Operation({self.name!r}{args})"

    def __str__(self) -> str:
        """Short words for tables: ``conv1d(32, 7, relu)``, ``maxpool1d(4)``, ``identity``."""
        p = self.params
        if self.name == "conv1d":
            extra = "" if p["padding"] == "same" else ", valid"
            return f"conv1d({p['filters']}, {p['kernel_size']}, {p['activation']}{extra})"
        if self.name in ("maxpool1d", "avgpool1d"):
            s = "" if p["strides"] in (None, p["pool_size"]) else f", stride {p['strides']}"
            return f"{self.name}({p['pool_size']}{s})"
        if self.name == "dense":
            return f"dense({p['units']}, {p['activation']})"
        if self.name == "dropout":
            return f"dropout({p['rate']})"
        if self.name == "input":
            return f"input{p['shape']}"
        return self.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Operation) and (self.name, self.params) == (other.name, other.params)

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted((k, str(v)) for k, v in self.params.items()))))


def _as_operation(op: Any, where: str) -> Operation:
    if isinstance(op, Operation):
        return op
    if isinstance(op, dict):
        d = dict(op)
        name = d.pop("name", d.pop("Layer_type", d.pop("layer_type", None)))
        if name is None:
            raise ValueError(f"{where}: an operation dict needs a 'name', got {op!r}")
        return Operation(name, **d)
    if isinstance(op, str):
        return Operation(op)
    raise TypeError(f"{where}: expected an Operation, a dict or a name, got {type(op).__name__}")


class ModelSpace:
    """Candidate operations per layer.

    Parameters
    ----------
    layers : sequence of sequences of Operation
        ``layers[i]`` is the list of choices for layer ``i`` (at least one each).

    Examples
    --------
    >>> space = ModelSpace.from_dict([[Operation("conv1d", filters=8, kernel_size=3)],
    ...                               [Operation("maxpool1d", pool_size=2), Operation("identity")]])
    >>> len(space), space.size
    (2, 2)
    """

    def __init__(self, layers: Sequence[Sequence[Operation]]) -> None:
        if isinstance(layers, (str, bytes)) or not isinstance(layers, Iterable):
            raise TypeError(f"layers: expected a list of lists of Operation, got {type(layers).__name__}")
        parsed: list[list[Operation]] = []
        for i, choices in enumerate(layers):
            if isinstance(choices, (Operation, str, dict)) or not isinstance(choices, Iterable):
                raise TypeError(f"layers[{i}]: expected a list of operations, got {type(choices).__name__}")
            ops = [_as_operation(op, f"layers[{i}][{k}]") for k, op in enumerate(choices)]
            if not ops:
                raise ValueError(f"layers[{i}]: needs at least one operation, got an empty list")
            parsed.append(ops)
        if not parsed:
            raise ValueError("layers: a model space needs at least one layer, got none")
        self._layers = parsed

    @classmethod
    def from_dict(cls, layers: Sequence[Sequence[Operation | dict]]) -> ModelSpace:
        """Build a space from a list (one entry per layer) of lists of operations.

        Entries may be :class:`Operation` objects or dicts ``{"name": ..., **params}``
        (AMBER's ``{"Layer_type": ...}`` also works).
        """
        return cls(layers)

    def __len__(self) -> int:
        return len(self._layers)

    def __getitem__(self, i: int) -> list[Operation]:
        return self._layers[i]

    def __iter__(self):
        return iter(self._layers)

    @property
    def choices(self) -> list[int]:
        """Number of choices per layer."""
        return [len(ops) for ops in self._layers]

    @property
    def size(self) -> int:
        """Number of architectures (the product of the choices per layer)."""
        return math.prod(self.choices)

    def check_arc(self, arc: Sequence[int]) -> list[int]:
        """Validate an arc and return it as a list of python ints.

        Raises
        ------
        ValueError
            When the arc has the wrong length or a token is out of range (the message
            names the layer and its choices).
        """
        if isinstance(arc, (str, bytes)) or not isinstance(arc, Iterable):
            raise TypeError(f"arc: expected a list of {len(self)} integer tokens, got {type(arc).__name__}")
        arc = list(arc)
        if len(arc) != len(self):
            raise ValueError(f"arc: expected {len(self)} tokens (one per layer), got {len(arc)}: {arc}")
        out = []
        for i, tok in enumerate(arc):
            if isinstance(tok, bool) or not hasattr(tok, "__index__"):
                raise TypeError(f"arc: layer {i} token must be an integer, got {tok!r}")
            tok = int(tok)
            if not 0 <= tok < len(self._layers[i]):
                raise ValueError(f"arc: layer {i} token {tok} is out of range; layer {i} has "
                                 f"{len(self._layers[i])} choices (0..{len(self._layers[i]) - 1}): "
                                 f"{[str(o) for o in self._layers[i]]}")
            out.append(tok)
        return out

    def random_arcs(self, n: int, seed: Any = 0, distinct: bool = True) -> list[list[int]]:
        """``n`` arcs drawn uniformly, token by token (e.g. random children to score two ways).

        Parameters
        ----------
        n : int
            How many arcs, >= 1 (at most :attr:`size` when ``distinct``).
        seed : int or numpy.random.Generator
            The draws are those of ``np.random.default_rng(seed)``, one ``integers(choices[i])``
            per layer, as :class:`~workshop_utils.nas.controller.RandomController` draws.
        distinct : bool
            Skip a draw of an arc already drawn, so that the ``n`` arcs differ.

        Returns
        -------
        list of list of int
            ``n`` arcs of ``len(self)`` tokens, in the order drawn.

        Examples
        --------
        >>> course_model_space().random_arcs(2, seed=0)
        [[5, 1, 3, 0], [1, 0, 0, 0]]
        """
        from .. import _checks

        fn = "ModelSpace.random_arcs"
        n = _checks.positive_int(n, "n", fn)
        distinct = _checks.flag(distinct, "distinct", fn)
        if distinct and n > self.size:
            raise _checks.fail(fn, "n", f"at most the {self.size} arcs of the space when distinct=True", n)
        rng = _checks.rng(seed, "seed", fn)
        arcs: list[list[int]] = []
        while len(arcs) < n:
            arc = [int(rng.integers(c)) for c in self.choices]
            if not (distinct and arc in arcs):
                arcs.append(arc)
        return arcs

    def operations(self, arc: Sequence[int]) -> list[Operation]:
        """The operation each token of ``arc`` picks."""
        return [self._layers[i][t] for i, t in enumerate(self.check_arc(arc))]

    def describe(self, arc: Sequence[int], sep: str = " -> ") -> str:
        """The arc in words, e.g. ``'conv1d(32, 7, relu) -> maxpool1d(4) -> ...'``."""
        return sep.join(str(op) for op in self.operations(arc))

    def __str__(self) -> str:
        lines = [f"ModelSpace: {len(self)} layers, {self.size} combinations"]
        for i, ops in enumerate(self._layers):
            lines.append(f"  layer {i} ({len(ops)} choices): " +
                         ", ".join(f"{k}={op}" for k, op in enumerate(ops)))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<ModelSpace: {len(self)} layers, {self.size} combinations>"


def course_model_space() -> ModelSpace:
    """The course's CNN space for 200-nt CTCF sequences: 4 layers, 378 combinations.

    ====  =====================================================================
    0     Conv1D(32, k, act) for k in {7, 13, 3} x act in {relu, tanh}        (6)
    1     MaxPool1D(4), AvgPool1D(4), Identity                                 (3)
    2     Conv1D(64, k, act), same six, or Identity                            (7)
    3     Flatten, GlobalAveragePooling1D, GlobalMaxPooling1D                  (3)
    ====  =====================================================================
    """
    convs = [(k, a) for k in (7, 13, 3) for a in ("relu", "tanh")]
    return ModelSpace.from_dict([
        [Operation("conv1d", filters=32, kernel_size=k, activation=a) for k, a in convs],
        [Operation("maxpool1d", pool_size=4), Operation("avgpool1d", pool_size=4), Operation("identity")],
        [Operation("conv1d", filters=64, kernel_size=k, activation=a) for k, a in convs]
        + [Operation("identity")],
        [Operation("flatten"), Operation("globalavgpool1d"), Operation("globalmaxpool1d")],
    ])
