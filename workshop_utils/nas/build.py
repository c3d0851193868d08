"""Turn an arc (a list of integer tokens) into a ready-to-train Keras or PyTorch model.

The two frameworks build the same architecture layer for layer (same shapes, same
parameter count; weights are initialised the Keras way in both: Glorot-uniform
kernels, zero biases).  Shapes are worked out in plain python first
(:func:`infer_shapes`), so an arc that cannot work fails with a message naming the
layer before any framework is touched.

PyTorch models take ``(N, L, 4)`` and compute in that channel-last layout (convolutions
and poolings transpose around the torch op), so ``flatten`` orders features exactly as
Keras does.  They return logits ``(N, units)``; the output activation is left to the
loss (``BCEWithLogitsLoss``), as everywhere in the workbook.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import _checks, _moved
from ..backend import count_params  # noqa: F401  (re-exported: nas.count_params is backend.count_params)
from .space import ModelSpace, Operation

Shape = tuple[int, ...]


def _out_shape(op: Operation, shape: Shape, layer: int | str) -> Shape:
    """Shape after ``op`` (without the batch axis); raises ValueError naming the layer."""
    where = f"layer {layer} ({op})"
    p = op.params
    seq = len(shape) == 2
    if op.name in ("identity", "dropout", "batchnorm"):
        return shape
    if op.name == "dense":
        return shape[:-1] + (p["units"],)
    if op.name == "flatten":
        return (shape[0] * shape[1],) if seq else shape
    if not seq:
        raise ValueError(f"{where}: needs a sequence input (length, channels) but the tensor is already "
                         f"a vector of shape {shape} (a flatten or global pooling came before it)")
    length, channels = shape
    if op.name == "conv1d":
        out = length if p["padding"] == "same" else length - p["kernel_size"] + 1
        if out < 1:
            raise ValueError(f"{where}: a 'valid' convolution of width {p['kernel_size']} does not fit a "
                             f"sequence of length {length}")
        return (out, p["filters"])
    if op.name in ("maxpool1d", "avgpool1d"):
        stride = p["strides"] or p["pool_size"]
        if length < p["pool_size"]:
            raise ValueError(f"{where}: pooling by {p['pool_size']} collapses the sequence: only {length} "
                             f"position(s) are left at this layer (pooling past length 1)")
        return ((length - p["pool_size"]) // stride + 1, channels)
    if op.name in ("globalavgpool1d", "globalmaxpool1d"):
        return (channels,)
    raise ValueError(f"{where}: the operation {op.name!r} cannot be used inside a model")


def infer_shapes(input_shape: Sequence[int], ops: Sequence[Operation]) -> list[Shape]:
    """Shapes (without the batch axis) after each operation.

    Parameters
    ----------
    input_shape : tuple
        ``(L, C)`` for sequences (e.g. ``(200, 4)``) or ``(F,)`` for vectors.
    ops : list of Operation

    Returns
    -------
    list of tuple
        ``len(ops)`` shapes.

    Raises
    ------
    ValueError
        Naming the first layer whose operation cannot work (pooling past length 1,
        a convolution after flatten ...).
    """
    shape = tuple(int(s) for s in input_shape)
    if len(shape) not in (1, 2):
        raise ValueError(f"input_shape: expected (L, C) or (F,), got {tuple(input_shape)}")
    out = []
    for i, op in enumerate(ops):
        shape = _out_shape(op, shape, i)
        out.append(shape)
    return out


class SequentialModelBuilder:
    """Build a model from an arc over a :class:`ModelSpace`, in Keras or PyTorch.

    Parameters
    ----------
    inputs_op : Operation
        ``Operation("input", shape=(200, 4))``.
    output_op : Operation
        A dense operation, e.g. ``Operation("dense", units=1, activation="sigmoid")``.
        Keras gets ``Dense(units)`` followed by ``Activation(activation)`` (so logits stay
        reachable); torch returns the ``Dense`` output as logits.
    model_space : ModelSpace
    model_compile_dict : dict
        Keras: passed to ``model.compile`` (``loss``, ``optimizer``, ``metrics``); an extra
        ``learning_rate`` key sets the optimizer's learning rate.  Torch models are not
        compiled: only ``learning_rate`` is used, kept on the builder as
        :attr:`learning_rate` and handed to the trainer as an explicit argument
        (:func:`~workshop_utils.nas.search.cnn_evaluator` passes it to
        :func:`~workshop_utils.nas.search.train_child`).
    framework : {"keras", "torch"}
        Which framework builds the model (the package's one keyword for it, as in
        :func:`~workshop_utils.nas.dense.build_dense`).
    backend : {"keras", "torch"}, optional
        Deprecated spelling of ``framework`` (a ``DeprecationWarning``; removed in 0.2.0).

    Attributes
    ----------
    learning_rate : float or None
        ``model_compile_dict['learning_rate']`` (or ``'lr'``); without one, 1e-3 for torch
        and None for Keras (the compiled optimizer's own learning rate).

    Notes
    -----
    The builder follows the package rule for builders: a Keras model comes compiled, ready
    for ``fit``; a torch model needs no compiling (its optimizer is made by the training
    function from an explicit ``lr``).

    Examples
    --------
    >>> builder = SequentialModelBuilder(Operation("input", shape=(200, 4)),
    ...                                  Operation("dense", units=1, activation="sigmoid"),
    ...                                  course_model_space(),
    ...                                  {"loss": "binary_crossentropy", "optimizer": "adam"})
    >>> model = builder([0, 0, 6, 0])   # conv(32,7,relu) -> maxpool(4) -> identity -> flatten
    """

    def __init__(self, inputs_op: Operation, output_op: Operation, model_space: ModelSpace,
                 model_compile_dict: Mapping[str, Any] | None = None, framework: str = "keras", *,
                 backend: str | None = None) -> None:
        if not isinstance(inputs_op, Operation) or inputs_op.name != "input":
            raise TypeError(f"inputs_op: expected Operation('input', shape=...), got {inputs_op!r}")
        if not isinstance(output_op, Operation) or output_op.name != "dense":
            raise TypeError(f"output_op: expected Operation('dense', units=..., activation=...), "
                            f"got {output_op!r}")
        if not isinstance(model_space, ModelSpace):
            raise TypeError(f"model_space: expected a ModelSpace, got {type(model_space).__name__}")
        if model_compile_dict is None:
            model_compile_dict = {"loss": "binary_crossentropy", "optimizer": "adam"}
        if not isinstance(model_compile_dict, Mapping):
            raise TypeError(f"model_compile_dict: expected a dict, got {type(model_compile_dict).__name__}")
        if backend is not None:
            if framework != "keras":
                raise _checks.fail("SequentialModelBuilder", "backend", "left out when framework= is given",
                                   backend, hint="backend= is the old spelling of framework=: pass framework only")
            warnings.warn("SequentialModelBuilder(backend=...) is deprecated and will be removed in workshop_utils "
                          f"{_moved.REMOVED_IN}: write framework={backend!r}", DeprecationWarning, stacklevel=2)
            framework = backend
        framework = _checks.one_of(framework, "backend" if backend is not None else "framework",
                                   "SequentialModelBuilder", ("keras", "torch"))
        lr = model_compile_dict.get("learning_rate", model_compile_dict.get("lr"))
        if lr is not None and (framework == "torch" or isinstance(lr, (int, float, np.integer, np.floating))):
            lr = _checks.number(lr, "model_compile_dict['learning_rate']", "SequentialModelBuilder", low=0.0,
                                low_open=True)
        elif lr is None and framework == "torch":
            lr = 1e-3
        self.learning_rate: float | None = lr
        self.inputs_op = inputs_op
        self.output_op = output_op
        self.model_space = model_space
        self.model_compile_dict = dict(model_compile_dict)
        self.framework: str = framework

    @property
    def backend(self) -> str:
        """Deprecated name of :attr:`framework`."""
        warnings.warn("SequentialModelBuilder.backend is deprecated and will be removed in workshop_utils "
                      f"{_moved.REMOVED_IN}: read .framework", DeprecationWarning, stacklevel=2)
        return self.framework

    def shapes(self, arc: Sequence[int]) -> list[Shape]:
        """Shapes after each layer of ``arc`` (checks the arc; raises ValueError naming the layer)."""
        ops = self.model_space.operations(arc)
        shapes = infer_shapes(self.inputs_op.params["shape"], ops)
        if len(shapes[-1]) != 1:
            raise ValueError(f"arc {list(arc)}: the last layer ({ops[-1]}) leaves a sequence of shape "
                             f"{shapes[-1]}; end the space with flatten or a global pooling")
        return shapes

    def __call__(self, arc: Sequence[int], seed: int | None = None) -> Any:
        """The model for ``arc``: a compiled ``keras.Model`` or a ``torch.nn.Module``.

        Parameters
        ----------
        arc : sequence of int
        seed : int or None
            Seeds the initial weights.  Torch: inside
            :func:`workshop_utils.backend.torch_seeded` (the caller's random state is left
            alone).  Keras: the layers draw from Keras's global seed, so it is set with
            ``keras.utils.set_random_seed`` (the Keras exception of the seeding rule, see
            ``ARCHITECTURE.md``).  None: draw from the current global random state.
        """
        arc = self.model_space.check_arc(arc)
        if seed is not None:
            seed = _checks.non_negative_int(seed, "seed", "SequentialModelBuilder")
        self.shapes(arc)
        ops = self.model_space.operations(arc)
        if self.framework == "keras":
            if seed is not None:
                import keras

                keras.utils.set_random_seed(seed)  # unseeded Keras layers draw from the global seed
            return self._keras(arc, ops)
        if seed is None:
            return self._torch(arc, ops)
        from ..backend import torch_seeded

        with torch_seeded(seed):
            return self._torch(arc, ops)

    def __repr__(self) -> str:
        return (f"SequentialModelBuilder(framework={self.framework!r}, input={self.inputs_op}, "
                f"output={self.output_op}, space={self.model_space!r})")

    # ------------------------------------------------------------------ keras
    def _keras(self, arc: list[int], ops: list[Operation]) -> Any:
        import keras

        x = inputs = keras.Input(self.inputs_op.params["shape"], name="input")
        for i, op in enumerate(ops):
            layer = _keras_layer(op, f"L{i}_{op.name}")
            if layer is not None:
                x = layer(x)
        out = self.output_op.params
        x = keras.layers.Dense(out["units"], name="logits")(x)
        x = keras.layers.Activation(out["activation"] or "linear", name="output")(x)
        model = keras.Model(inputs, x, name="arc_" + "_".join(map(str, arc)))
        cfg = dict(self.model_compile_dict)
        lr = cfg.pop("learning_rate", cfg.pop("lr", None))
        opt = cfg.pop("optimizer", "adam")
        if isinstance(opt, str):
            opt = keras.optimizers.get({"class_name": opt, "config": {} if lr is None else
                                        {"learning_rate": lr}})
        elif lr is not None:
            raise ValueError("model_compile_dict: give 'learning_rate' with an optimizer name, not with an "
                             "optimizer object")
        model.compile(optimizer=opt, **cfg)
        model.arc = arc
        return model

    # ------------------------------------------------------------------ torch
    def _torch(self, arc: list[int], ops: list[Operation]) -> Any:
        import torch

        from ._torch_layers import SequentialNet, torch_layer

        shape = tuple(self.inputs_op.params["shape"])
        layers = []
        for i, op in enumerate(ops):
            layer = torch_layer(op, shape)
            shape = _out_shape(op, shape, i)
            if layer is not None:
                layers.append(layer)
        head = torch.nn.Linear(shape[-1], self.output_op.params["units"])
        model = SequentialNet(layers, head, self.inputs_op.params["shape"])
        model.arc = arc
        return model


def _keras_layer(op: Operation, name: str) -> Any:
    import keras

    p = op.params
    L = keras.layers
    if op.name == "identity":
        return None
    if op.name == "conv1d":
        return L.Conv1D(p["filters"], p["kernel_size"], activation=p["activation"], padding=p["padding"],
                        name=name)
    if op.name == "maxpool1d":
        return L.MaxPooling1D(p["pool_size"], strides=p["strides"], name=name)
    if op.name == "avgpool1d":
        return L.AveragePooling1D(p["pool_size"], strides=p["strides"], name=name)
    if op.name == "flatten":
        return L.Flatten(name=name)
    if op.name == "globalavgpool1d":
        return L.GlobalAveragePooling1D(name=name)
    if op.name == "globalmaxpool1d":
        return L.GlobalMaxPooling1D(name=name)
    if op.name == "dense":
        return L.Dense(p["units"], activation=p["activation"], name=name)
    if op.name == "dropout":
        return L.Dropout(p["rate"], name=name)
    if op.name == "batchnorm":
        return L.BatchNormalization(name=name)
    raise ValueError(f"op: {op.name!r} cannot be a layer")  # pragma: no cover - checked by infer_shapes
