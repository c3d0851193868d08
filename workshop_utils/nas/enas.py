"""ENAS-style search with shared weights over the dense networks of :mod:`~workshop_utils.nas.dense`.

Training every sampled child from scratch is what makes architecture search expensive.
ENAS (Pham et al. 2018) trains ONE network, the *supernet*, that holds one set of
weights per candidate operation; a child architecture is a path through it.  Here a
candidate operation is a linear layer at a given place of a given family and width
(its key, see :func:`~workshop_utils.nas.dense.linear_shapes`); activation and dropout
have no weights, so children that differ only in them share all their layers.

The search (:func:`enas_search`) alternates, with the same controller and search loop
as the CNN lesson (:class:`~workshop_utils.nas.controller.GeneralController`,
:func:`~workshop_utils.nas.search.search`):

1. warm-up: train the shared weights on children drawn uniformly at random;
2. each trial: the controller samples a child; the child's path is trained for a few
   minibatches (the shared weights keep learning while the controller samples); the child
   is *scored on the validation set with the shared weights* -- no training from
   scratch -- and the score is the controller's reward;
3. at the end every distinct child seen is re-scored with the final shared weights and
   the best one is returned, to be retrained from scratch
   (:func:`~workshop_utils.nas.dense.build_dense` + :func:`~workshop_utils.nas.dense.fit_dense`).

PyTorch is imported inside the functions.
"""
from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .dense import (_LinearView, _check_space, _check_xy, _module_key, arc_spec, class_weights, dense_forward,
                    linear_shapes, macro_f1)
from .space import ModelSpace

METRICS = ("macro_f1", "accuracy")


@functools.lru_cache(maxsize=None)  # one class, so isinstance() works across calls
def _supernet_class():
    import torch

    class DenseSupernet(torch.nn.Module):
        """All the linear layers of a dense space, shared by its children.

        ``supernet(x, arc)`` runs child ``arc`` on ``x`` ``(N, n_features)`` and returns
        logits ``(N, n_classes)``.  Make one with :func:`make_supernet`.
        """

        def __init__(self, space: ModelSpace, n_features: int, n_classes: int) -> None:
            super().__init__()
            self.space, self.n_features, self.n_classes = space, int(n_features), int(n_classes)
            shapes: dict[str, tuple[int, int]] = {}
            for f, w, d in itertools.product(*(range(n) for n in space.choices[:3])):
                spec = arc_spec(space, [f, w, d, 0, 0])  # activation and dropout have no weights
                shapes.update(linear_shapes(spec, n_features, n_classes))
            self.keys = sorted(shapes)
            self.linears = torch.nn.ModuleDict({_module_key(k): torch.nn.Linear(*shapes[k]) for k in self.keys})
            self.optimizer = None  # made by train_shared, kept across calls

        def forward(self, x, arc):
            return dense_forward(_LinearView(self.linears), arc_spec(self.space, arc), x, training=self.training)

        def child_keys(self, arc: Sequence[int]) -> list[str]:
            """The keys of the shared layers child ``arc`` uses."""
            return list(linear_shapes(arc_spec(self.space, arc), self.n_features, self.n_classes))

        def child_parameters(self, arc: Sequence[int]) -> int:
            """Number of weights child ``arc`` uses."""
            return sum(p.numel() for k in self.child_keys(arc) for p in self.linears[_module_key(k)].parameters())

        def extra_repr(self) -> str:
            return f"{len(self.keys)} shared linear layers for {self.space.size} children"

    return DenseSupernet


def make_supernet(space: ModelSpace, n_features: int, n_classes: int, seed: int = 0) -> Any:
    """The supernet of a dense space: one ``torch.nn.Linear`` per layer key over all children.

    Parameters
    ----------
    space : ModelSpace
        From :func:`~workshop_utils.nas.dense.dense_model_space`.
    n_features, n_classes : int
    seed : int
        Seeds the initial weights.

    Returns
    -------
    torch.nn.Module
        ``supernet(x, arc)`` -> logits ``(N, n_classes)``; ``supernet.keys`` lists the shared
        layers, ``supernet.child_keys(arc)`` those of one child.
    """
    import torch

    _check_space(space)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    torch.manual_seed(int(seed))
    return _supernet_class()(space, n_features, n_classes)


def _check_supernet(supernet: Any) -> Any:
    if not (hasattr(supernet, "linears") and hasattr(supernet, "child_keys") and hasattr(supernet, "space")):
        raise TypeError(f"supernet must come from make_supernet(), got {type(supernet).__name__}")
    return supernet


def child_from_supernet(supernet: Any, arc: Sequence[int]) -> Any:
    """A standalone ``DenseClassifier`` for ``arc`` holding a *copy* of the shared weights.

    It computes exactly what ``supernet(x, arc)`` computes (in eval mode): a child is
    nothing but a path through the supernet.  (To retrain a child from scratch use
    :func:`~workshop_utils.nas.dense.build_dense` instead.)

    Returns
    -------
    torch.nn.Module
        ``(N, n_features)`` -> logits ``(N, n_classes)``.
    """
    import torch

    from .dense import _torch_classifier_class

    _check_supernet(supernet)
    spec = arc_spec(supernet.space, arc)
    child = _torch_classifier_class()(spec, supernet.n_features, supernet.n_classes)
    with torch.no_grad():
        for key in supernet.child_keys(arc):
            k = _module_key(key)
            child.linears[k].load_state_dict(supernet.linears[k].state_dict())
    return child.eval()


def train_shared(supernet: Any, X: np.ndarray, y: np.ndarray, arcs: Sequence[int] | Callable[[], Sequence[int]],
                 steps: int, batch_size: int = 64, lr: float = 1e-3, weight_decay: float = 1e-4,
                 balanced: bool = True, rng: np.random.Generator | int = 0) -> float:
    """Train the shared weights for ``steps`` minibatches.

    Each minibatch runs one child through the supernet and updates only that child's
    layers (untouched layers have no gradient, so AdamW leaves them alone).

    Parameters
    ----------
    supernet : from :func:`make_supernet`
    X : np.ndarray
        ``(N, n_features)`` float32 training inputs.
    y : np.ndarray
        ``(N,)`` integer class codes.
    arcs : arc or callable
        One arc (every step trains it) or a function returning an arc per step
        (e.g. a uniform sampler for the warm-up).
    steps, batch_size : int
    lr, weight_decay : float
        AdamW settings (the optimizer is made on the first call and kept on the supernet).
    balanced : bool
        Class-weighted cross-entropy.
    rng : numpy Generator or int
        Draws the minibatches.

    Returns
    -------
    float
        Mean training loss over the steps.
    """
    import torch

    _check_supernet(supernet)
    X, y = _check_xy(X, y, "X", "y")
    for name, v in (("steps", steps), ("batch_size", batch_size)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if not callable(arcs):
        fixed = supernet.space.check_arc(arcs)
        arcs = lambda: fixed  # noqa: E731
    rng = np.random.default_rng(rng)
    if supernet.optimizer is None:
        supernet.optimizer = torch.optim.AdamW(supernet.parameters(), lr=lr, weight_decay=weight_decay)
    weight = torch.from_numpy(class_weights(y, supernet.n_classes)) if balanced else None
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    supernet.train()
    total = 0.0
    for _ in range(int(steps)):
        idx = torch.from_numpy(rng.choice(len(X), size=min(batch_size, len(X)), replace=False))
        supernet.optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(supernet(Xt[idx], arcs()), yt[idx])
        loss.backward()
        supernet.optimizer.step()
        total += loss.item()
    supernet.eval()
    return total / steps


def score_shared(supernet: Any, arc: Sequence[int], X: np.ndarray, y: np.ndarray, metric: str = "macro_f1") -> float:
    """Score child ``arc`` with the shared weights, without training it: one forward pass.

    Parameters
    ----------
    supernet : from :func:`make_supernet`
    arc : sequence of int
    X : np.ndarray
        ``(N, n_features)`` validation inputs.
    y : np.ndarray
        ``(N,)`` integer class codes.
    metric : {'macro_f1', 'accuracy'}

    Returns
    -------
    float
    """
    import torch

    _check_supernet(supernet)
    X, y = _check_xy(X, y, "X", "y")
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    arc = supernet.space.check_arc(arc)
    supernet.eval()
    with torch.no_grad():
        logits = supernet(torch.from_numpy(X), arc).numpy()
    if metric == "accuracy":
        return float((logits.argmax(1) == y).mean())
    return macro_f1(y, logits)


@dataclass
class ENASResult:
    """What :func:`enas_search` returns.

    Attributes
    ----------
    best_arc : list of int
        The child with the best final shared-weight score.
    best_score : float
        That score (validation ``metric`` with shared weights).
    scores : dict
        ``tuple(arc) -> final shared-weight score`` for every distinct child the controller drew,
        best first.
    history : SearchHistory
        The controller's trials (reward = shared-weight score at the time it was drawn).
    supernet, controller
        The trained supernet and controller.
    seconds : dict
        ``warmup``, ``search``, ``rescore`` wall-clock seconds.
    search_rewards : dict
        ``tuple(arc) -> mean reward`` it earned during the search (breaks ties in ``scores``).
    """

    best_arc: list[int]
    best_score: float
    scores: dict
    history: Any
    supernet: Any
    controller: Any
    seconds: dict = field(default_factory=dict)
    search_rewards: dict = field(default_factory=dict)

    def top(self, k: int = 5) -> list[tuple[list[int], float]]:
        """The ``k`` best children by final shared-weight score (ties: search reward), best first."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        return [(list(a), s) for a, s in list(self.scores.items())[:k]]


def enas_search(space: ModelSpace, X_train: np.ndarray, y_train: np.ndarray, X_valid: np.ndarray,
                y_valid: np.ndarray, controller: Any = None, n_trials: int = 100, warmup_steps: int = 300,
                steps_per_trial: int = 10, batch_size: int = 64, lr: float = 1e-3, weight_decay: float = 1e-4,
                metric: str = "macro_f1", seed: int = 0, progress: bool = True) -> ENASResult:
    """ENAS over a dense space: shared weights, controller rewards from shared-weight scores.

    Parameters
    ----------
    space : ModelSpace
        From :func:`~workshop_utils.nas.dense.dense_model_space`.
    X_train, X_valid : np.ndarray
        ``(N, n_features)`` float32 (scale them first, e.g. ``StandardScaler``).
    y_train, y_valid : np.ndarray
        ``(N,)`` integer class codes.
    controller : optional
        Anything with ``get_action()`` / ``update(arc, reward)``; by default a
        :class:`~workshop_utils.nas.controller.GeneralController` seeded with ``seed``.
    n_trials : int
        Children the controller samples (each trained ``steps_per_trial`` minibatches,
        then scored).
    warmup_steps : int
        Minibatches of uniform-random children before the controller starts (0 for none).
    steps_per_trial, batch_size : int
    lr, weight_decay : float
        Shared-weight optimizer (AdamW).
    metric : {'macro_f1', 'accuracy'}
        The validation score (the reward).
    seed : int
    progress : bool
        tqdm bars.

    Returns
    -------
    ENASResult
    """
    from tqdm.auto import tqdm

    from .controller import GeneralController
    from .search import search

    _check_space(space)
    X_train, y_train = _check_xy(X_train, y_train, "X_train", "y_train")
    X_valid, y_valid = _check_xy(X_valid, y_valid, "X_valid", "y_valid")
    if X_valid.shape[1] != X_train.shape[1]:
        raise ValueError(f"X_valid must have {X_train.shape[1]} features like X_train, got {X_valid.shape[1]}")
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    for name, v, lo in (("n_trials", n_trials, 1), ("warmup_steps", warmup_steps, 0),
                        ("steps_per_trial", steps_per_trial, 0)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    if controller is None:
        controller = GeneralController(space, seed=seed)
    elif not (hasattr(controller, "get_action") and hasattr(controller, "update")):
        raise TypeError(f"controller needs get_action() and update(arc, reward), got {type(controller).__name__}")
    n_classes = int(max(y_train.max(), y_valid.max())) + 1
    supernet = make_supernet(space, X_train.shape[1], n_classes, seed=seed)
    rng = np.random.default_rng(seed)
    secs = {}

    t0 = time.perf_counter()
    if warmup_steps:
        def uniform() -> list[int]:
            return [int(rng.integers(n)) for n in space.choices]

        chunk = max(1, warmup_steps // 20)
        done = 0
        with tqdm(total=warmup_steps, desc="warm-up (random children)", disable=not progress, leave=False) as bar:
            while done < warmup_steps:
                n = min(chunk, warmup_steps - done)
                train_shared(supernet, X_train, y_train, uniform, n, batch_size, lr, weight_decay, rng=rng)
                done += n
                bar.update(n)
    secs["warmup"] = time.perf_counter() - t0

    def evaluate(arc: Sequence[int]) -> dict:
        if steps_per_trial:
            train_shared(supernet, X_train, y_train, arc, steps_per_trial, batch_size, lr, weight_decay, rng=rng)
        return {"reward": score_shared(supernet, arc, X_valid, y_valid, metric)}

    t0 = time.perf_counter()
    # cache=False: a child drawn again is trained and scored again (the shared weights moved on)
    history = search(controller, evaluate, n_trials=n_trials, progress=progress, model_space=space, cache=False)
    secs["search"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    rewards: dict[tuple[int, ...], list[float]] = {}
    for rec in history.records:
        rewards.setdefault(tuple(int(t) for t in rec["arc"]), []).append(float(rec["reward"]))
    scores = {a: score_shared(supernet, list(a), X_valid, y_valid, metric) for a in sorted(rewards)}
    secs["rescore"] = time.perf_counter() - t0
    # children that differ only in dropout share all weights and score the same in eval mode:
    # ties are broken by the mean reward the child earned during the search (trained with its own dropout)
    mean_reward = {a: float(np.mean(r)) for a, r in rewards.items()}
    ranked = sorted(scores, key=lambda a: (-scores[a], -mean_reward[a], a))
    scores = {a: scores[a] for a in ranked}
    best = ranked[0]
    return ENASResult(best_arc=list(best), best_score=scores[best], scores=scores, history=history,
                      supernet=supernet, controller=controller, seconds=secs, search_rewards=mean_reward)
