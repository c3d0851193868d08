"""Neural architecture search, AMBER-style, for Keras and PyTorch.

A :class:`ModelSpace` lists candidate :class:`Operation` s per layer; an arc (one
integer token per layer) picks one per layer; :class:`SequentialModelBuilder` turns the
arc into a Keras or PyTorch model; a controller (:class:`GeneralController`, an LSTM
policy trained by REINFORCE, or :class:`RandomController`) proposes arcs; :func:`search`
runs sample -> evaluate -> update and keeps a :class:`SearchHistory`.

Importing this package imports neither Keras nor PyTorch.

Modules: ``space`` (Operation, ModelSpace, course_model_space), ``build``
(SequentialModelBuilder, count_params), ``controller`` (GeneralController,
RandomController), ``search`` (search, SearchHistory, cnn_evaluator, train_child),
``plots`` (plot_layer_probs, plot_search_rewards, plot_search_comparison); for tables
rather than sequences (the AutoGenome lesson), ``dense`` (dense_model_space, build_dense,
fit_dense: MLP, ResNet-like and DenseNet-like networks as one space) and ``enas``
(enas_search: shared-weight search with the same controller and loop).
"""
from __future__ import annotations

import json
from pathlib import Path

from .build import SequentialModelBuilder, count_params, infer_shapes
from .controller import GeneralController, RandomController
from .plots import plot_layer_probs, plot_search_comparison, plot_search_rewards
from .search import SearchHistory, cnn_evaluator, search, train_child
from .space import ModelSpace, Operation, course_model_space

TOP_ARCS_FILE = "nas_top_arcs.json"


def load_top_arcs(path: str | Path | None = None) -> dict | None:
    """The top arcs saved by the architecture-search notebook, or None if it has not run.

    Parameters
    ----------
    path : str or Path, optional
        Default ``workshop_utils.cache_dir() / "nas_top_arcs.json"``.

    Returns
    -------
    dict or None
        ``{"space": "course", "arcs": [[...], ...], "val_auroc": [...], "ops": [[words], ...]}``,
        best first.
    """
    from ..config import cache_dir

    path = Path(path) if path is not None else cache_dir() / TOP_ARCS_FILE
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    for key in ("space", "arcs", "val_auroc", "ops"):
        if key not in data:
            raise ValueError(f"path: {path} is not a top-arcs file; missing key {key!r}")
    return data


def save_top_arcs(history: SearchHistory, k: int = 2, space_name: str = "course",
                  path: str | Path | None = None) -> Path:
    """Write the ``k`` best distinct arcs of ``history`` (best first) for later lessons.

    The file is what :func:`load_top_arcs` reads. ``val_auroc`` is the ``val_auroc``
    column when the evaluator reported one, else the reward.
    """
    from ..config import cache_dir

    if not isinstance(history, SearchHistory):
        raise TypeError(f"history: expected a SearchHistory, got {type(history).__name__}")
    if len(history) == 0:
        raise ValueError("history: no trials to save")
    top = history.top_k(k)
    col = "val_auroc" if "val_auroc" in top.columns and top["val_auroc"].notna().all() else "reward"
    space = history.model_space
    data = {"space": space_name,
            "arcs": [list(map(int, a)) for a in top["arc"]],
            "val_auroc": [float(v) for v in top[col]],
            "ops": [[str(op) for op in space.operations(a)] if space is not None else [] for a in top["arc"]]}
    path = Path(path) if path is not None else cache_dir() / TOP_ARCS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))
    return path


__all__ = [
    "GeneralController", "ModelSpace", "Operation", "RandomController", "SearchHistory",
    "SequentialModelBuilder", "TOP_ARCS_FILE", "cnn_evaluator", "count_params", "course_model_space",
    "infer_shapes", "load_top_arcs", "plot_layer_probs", "plot_search_comparison", "plot_search_rewards",
    "save_top_arcs", "search", "train_child",
]
