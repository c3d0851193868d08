"""Neural architecture search, AMBER-style, for Keras and PyTorch.

A :class:`ModelSpace` lists candidate :class:`Operation` s per layer; an arc (one
integer token per layer) picks one per layer; :class:`SequentialModelBuilder` turns the
arc into a Keras or PyTorch model; a controller (:class:`GeneralController`, an LSTM
policy trained by REINFORCE, or :class:`RandomController`) proposes arcs; :func:`search`
runs sample -> evaluate -> update and keeps a :class:`SearchHistory`.

Importing this package imports neither Keras nor PyTorch.

Modules, one job each: ``space`` (Operation, ModelSpace, course_model_space), ``build``
(SequentialModelBuilder; ``count_params`` is :func:`workshop_utils.backend.count_params`), ``controller`` (GeneralController,
RandomController), ``search`` (the loop: search, SearchHistory), ``evaluate`` (children:
cnn_evaluator, train_child, process_pool), ``rewards`` (load_reward_table,
expected_best_of_random), ``io`` (save_top_arcs, load_top_arcs), ``plots``
(plot_layer_probs, plot_search_rewards, plot_search_comparison); for tables rather than
sequences (the AutoGenome lesson), ``dense_space`` (dense_model_space, layerwise_model_space:
MLP, ResNet-like and DenseNet-like networks as one space, or per-layer width, activation and
skip connections; arc decoding and layer shapes), ``dense`` (build_dense, fit_dense) and
``enas`` (enas_search: shared-weight search with the same controller and loop).  The PyTorch
classes (``SequentialNet``, ``DenseClassifier``, ``DenseSupernet``, the controller's
``Policy``) are defined in ``_torch_layers``, imported when a torch model is built.
"""
from __future__ import annotations

from .build import SequentialModelBuilder, count_params, infer_shapes
from .controller import GeneralController, RandomController
from .plots import plot_layer_probs, plot_search_comparison, plot_search_rewards
from .evaluate import CNNEvaluator, cnn_evaluator, process_pool, train_child
from .io import TOP_ARCS_FILE, load_top_arcs, save_top_arcs
from .rewards import expected_best_of_random, load_reward_table
from .search import SearchHistory, search
from .space import ModelSpace, Operation, course_model_space

__all__ = [
    "CNNEvaluator", "GeneralController", "ModelSpace", "Operation", "RandomController", "SearchHistory",
    "SequentialModelBuilder", "TOP_ARCS_FILE", "cnn_evaluator", "count_params", "course_model_space",
    "expected_best_of_random", "infer_shapes", "load_reward_table", "load_top_arcs", "plot_layer_probs",
    "plot_search_comparison", "plot_search_rewards", "process_pool", "save_top_arcs", "search", "train_child",
]
