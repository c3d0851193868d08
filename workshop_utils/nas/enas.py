"""ENAS-style search with shared weights over the dense networks of :mod:`~workshop_utils.nas.dense`.

Training every sampled child from scratch is what makes architecture search expensive.
ENAS (Pham et al. 2018) trains ONE network, the *supernet*, that holds one set of
weights per candidate operation; a child architecture is a path through it.  Here a
candidate operation is a linear layer at a given place and width (its key, see
:func:`~workshop_utils.nas.dense.linear_shapes`): in
:func:`~workshop_utils.nas.dense.dense_model_space` one per family, width and position;
in :func:`~workshop_utils.nas.dense.layerwise_model_space` one per layer position and
(input, output) width, plus one per skip connection, so children that agree on the widths
of a layer share its weights whatever they decide elsewhere.  Activation and dropout have
no weights, so children that differ only in them share all their layers.

Whether shared-weight scores *rank* children like training them from scratch depends on
the data: ``benchmarks/enas_shared_weights.py`` measures it (on 700 PBMC cells the
children are within noise of each other; on the simulated gene-program cells of
:func:`~workshop_utils.expression_data.simulate_gene_programs` they differ, and the
per-layer space's shared weights rank them).

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

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _checks
from .dense import check_features, check_optimizer_settings, class_weights, macro_f1
from .dense_space import arc_spec, check_space, module_key
from .space import ModelSpace
from .. import _moved

# Names that lived here in the last release (one more release with a DeprecationWarning).
__getattr__ = _moved.moved_names(__name__, {"dense_forward": "workshop_utils.nas._torch_layers",
                                            "linear_shapes": "workshop_utils.nas.dense_space"})

METRICS = ("macro_f1", "accuracy")


def make_supernet(space: ModelSpace, n_features: int, n_classes: int, seed: int = 0) -> Any:
    """The supernet of a dense space: one ``torch.nn.Linear`` per layer key over all children.

    Parameters
    ----------
    space : ModelSpace
        From :func:`~workshop_utils.nas.dense.dense_model_space` or
        :func:`~workshop_utils.nas.dense.layerwise_model_space`.
    n_features, n_classes : int
    seed : int
        Seeds the initial weights.

    Returns
    -------
    DenseSupernet
        A ``torch.nn.Module`` (:class:`workshop_utils.nas._torch_layers.DenseSupernet`):
        ``supernet(x, arc)`` -> logits ``(N, n_classes)``; ``supernet.keys`` lists the shared
        layers, ``supernet.child_keys(arc)`` those of one child.
    """
    from ..backend import torch_seeded
    from ._torch_layers import DenseSupernet

    fn = "make_supernet"
    check_space(space)
    n_features = _checks.positive_int(n_features, "n_features", fn)
    n_classes = _checks.positive_int(n_classes, "n_classes", fn, minimum=2)
    seed = _checks.non_negative_int(seed, "seed", fn)
    with torch_seeded(seed):
        return DenseSupernet(space, n_features, n_classes)


def _check_supernet(supernet: Any, fn: str) -> Any:
    if not (hasattr(supernet, "linears") and hasattr(supernet, "child_keys") and hasattr(supernet, "space")):
        raise _checks.fail(fn, "supernet", "a supernet from make_supernet()", type(supernet).__name__, kind=TypeError)
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

    from ._torch_layers import DenseClassifier

    _check_supernet(supernet, "child_from_supernet")
    spec = arc_spec(supernet.space, arc)
    with torch.random.fork_rng(devices=[]):  # the copied weights replace the default init: leave the RNG alone
        child = DenseClassifier(spec, supernet.n_features, supernet.n_classes)
    with torch.no_grad():
        for key in supernet.child_keys(arc):
            k = module_key(key)
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
        Draws the minibatches.  Dropout masks come from torch's random state:
        :func:`enas_search` runs the whole search inside
        :func:`workshop_utils.backend.torch_seeded`; wrap a call of your own the same way
        to make it repeatable.

    Returns
    -------
    float
        Mean training loss over the steps.
    """
    import torch

    from ..training import train_batches

    fn = "train_shared"
    _check_supernet(supernet, fn)
    X, y = _checks.check_xy(X, y, fn, x_kind="table", labels="codes", n_classes=supernet.n_classes)
    steps = _checks.positive_int(steps, "steps", fn)
    batch_size = _checks.positive_int(batch_size, "batch_size", fn)
    lr = _checks.number(lr, "lr", fn, low=0.0, low_open=True)
    weight_decay = _checks.number(weight_decay, "weight_decay", fn, low=0.0)
    balanced = _checks.flag(balanced, "balanced", fn)
    if not callable(arcs):
        fixed = supernet.space.check_arc(arcs)
        arcs = lambda: fixed  # noqa: E731
    if not isinstance(rng, np.random.Generator):
        rng = _checks.non_negative_int(rng, "rng", fn)
    rng = np.random.default_rng(rng)
    if supernet.optimizer is None:
        supernet.optimizer = torch.optim.AdamW(supernet.parameters(), lr=lr, weight_decay=weight_decay)
    weight = torch.from_numpy(class_weights(y, supernet.n_classes)) if balanced else None
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def batches():
        for _ in range(steps):
            idx = torch.from_numpy(rng.choice(len(X), size=min(batch_size, len(X)), replace=False))
            yield Xt[idx], yt[idx]

    # one child per minibatch, drawn after the minibatch (the order of the draws from rng)
    loss = train_batches(supernet, batches(), loss_fn, supernet.optimizer, fn, forward=lambda xb: supernet.path(arcs()))
    supernet.eval()
    return loss


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

    from ..backend import torch_forward

    fn = "score_shared"
    _check_supernet(supernet, fn)
    X, y = _checks.check_xy(X, y, fn, x_kind="table", labels="codes", n_classes=supernet.n_classes)
    metric = _checks.one_of(metric, "metric", fn, METRICS)
    arc = supernet.space.check_arc(arc)
    supernet.eval()
    with torch.no_grad():
        logits = torch_forward(supernet.path(arc), torch.from_numpy(X), fn).numpy()
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
        k = _checks.positive_int(k, "k", "ENASResult.top")
        return [(list(a), s) for a, s in list(self.scores.items())[:k]]


def enas_search(space: ModelSpace, X_train: np.ndarray, y_train: np.ndarray, X_valid: np.ndarray,
                y_valid: np.ndarray, controller: Any = None, n_trials: int = 100, warmup_steps: int = 300,
                steps_per_trial: int = 10, batch_size: int = 64, lr: float = 1e-3, weight_decay: float = 1e-4,
                metric: str = "macro_f1", seed: int = 0, progress: bool = True) -> ENASResult:
    """ENAS over a dense space: shared weights, controller rewards from shared-weight scores.

    Parameters
    ----------
    space : ModelSpace
        From :func:`~workshop_utils.nas.dense.dense_model_space` or
        :func:`~workshop_utils.nas.dense.layerwise_model_space`.
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
    from ..backend import torch_seeded
    from ._torch_layers import DenseSupernet
    from .controller import GeneralController
    from .search import search

    fn = "enas_search"
    check_space(space)
    X_train, y_train = _checks.check_xy(X_train, y_train, fn, x_name="X_train", y_name="y_train", x_kind="table",
                                        labels="codes")
    X_valid, y_valid = _checks.check_xy(X_valid, y_valid, fn, x_name="X_valid", y_name="y_valid", x_kind="table",
                                        labels="codes")
    check_features(X_train, X_valid, fn)
    metric = _checks.one_of(metric, "metric", fn, METRICS)
    n_trials = _checks.positive_int(n_trials, "n_trials", fn)
    warmup_steps = _checks.non_negative_int(warmup_steps, "warmup_steps", fn)
    steps_per_trial = _checks.non_negative_int(steps_per_trial, "steps_per_trial", fn)
    batch_size, lr, weight_decay, seed, progress = check_optimizer_settings(fn, batch_size, lr, weight_decay, seed,
                                                                       progress)
    if controller is None:
        controller = GeneralController(space, seed=seed)
    elif not (hasattr(controller, "get_action") and hasattr(controller, "update")):
        raise _checks.fail(fn, "controller", "an object with get_action() and update(arc, reward)",
                           type(controller).__name__, kind=TypeError)
    n_classes = int(max(y_train.max(), y_valid.max())) + 1
    # one seeded torch stream for the initial weights and every dropout mask of the search;
    # the caller's random state is left as it was
    with torch_seeded(seed):
        supernet = DenseSupernet(space, X_train.shape[1], n_classes)
        rng = np.random.default_rng(seed)
        secs = {}

        t0 = time.perf_counter()
        _warm_up(supernet, X_train, y_train, warmup_steps, rng, progress, batch_size=batch_size, lr=lr,
                 weight_decay=weight_decay)
        secs["warmup"] = time.perf_counter() - t0

        def evaluate(arc: Sequence[int]) -> dict:
            if steps_per_trial:
                train_shared(supernet, X_train, y_train, arc, steps_per_trial, batch_size, lr, weight_decay,
                             rng=rng)
            return {"reward": score_shared(supernet, arc, X_valid, y_valid, metric)}

        t0 = time.perf_counter()
        # cache=False: a child drawn again is trained and scored again (the shared weights moved on)
        history = search(controller, evaluate, n_trials=n_trials, progress=progress, model_space=space, cache=False)
        secs["search"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        scores, mean_reward = _rescore(supernet, history, X_valid, y_valid, metric)
        secs["rescore"] = time.perf_counter() - t0
    best = next(iter(scores))
    return ENASResult(best_arc=list(best), best_score=scores[best], scores=scores, history=history,
                      supernet=supernet, controller=controller, seconds=secs, search_rewards=mean_reward)


def _warm_up(supernet: Any, X: np.ndarray, y: np.ndarray, steps: int, rng: np.random.Generator, progress: bool,
             **settings: Any) -> None:
    """Train the shared weights on ``steps`` minibatches of children drawn uniformly at random (a bar of 20 chunks)."""
    from .._progress import progress as tqdm  # text bar on stdout: saved notebooks show its final state

    if not steps:
        return
    space = supernet.space

    def uniform() -> list[int]:
        return [int(rng.integers(n)) for n in space.choices]

    chunk, done = max(1, steps // 20), 0
    with tqdm(total=steps, desc="warm-up (random children)", disable=not progress, leave=False) as bar:
        while done < steps:
            n = min(chunk, steps - done)
            train_shared(supernet, X, y, uniform, n, rng=rng, **settings)
            done += n
            bar.update(n)


def _rescore(supernet: Any, history: Any, X: np.ndarray, y: np.ndarray, metric: str) -> tuple[dict, dict]:
    """Every distinct child of ``history`` scored with the final shared weights, best first; and its mean reward.

    Children that differ only in dropout share all weights and score the same in eval mode: ties are
    broken by the mean reward the child earned during the search (trained with its own dropout).
    """
    rewards: dict[tuple[int, ...], list[float]] = {}
    for rec in history.records:
        rewards.setdefault(tuple(int(t) for t in rec["arc"]), []).append(float(rec["reward"]))
    scores = {a: score_shared(supernet, list(a), X, y, metric) for a in sorted(rewards)}
    mean_reward = {a: float(np.mean(r)) for a, r in rewards.items()}
    ranked = sorted(scores, key=lambda a: (-scores[a], -mean_reward[a], a))
    return {a: scores[a] for a in ranked}, mean_reward


# --------------------------------------------------------------------------- judging the ranking
def _paired_scores(shared: Any, scratch: Any, fn: str) -> tuple[np.ndarray, np.ndarray]:
    a = _checks.finite_array(shared, "shared", fn, ndim=1, dtype=float)
    b = _checks.finite_array(scratch, "scratch", fn, ndim=1, dtype=float)
    if len(a) != len(b):
        raise _checks.fail(fn, "scratch", f"one score per child like shared ({len(a)})", f"{len(b)} scores")
    if len(a) < 2:
        raise _checks.fail(fn, "shared", "scores of at least 2 children", f"{len(a)} score(s)")
    return a, b


def rank_agreement(shared: Sequence[float], scratch: Sequence[float],
                   thresholds: Sequence[float] = (0.4, 0.5)) -> Any:
    """Does the shared-weight order match the from-scratch order, over all children and among the good ones?

    A rank correlation over *all* children is easy to win when some children cannot
    learn at all (linear children on XOR data): any score puts them last.  What a search
    needs is the order among the children that learn.  So the Spearman correlation is
    computed over all children and again over the children whose from-scratch score
    exceeds each threshold.

    Parameters
    ----------
    shared : sequence of float
        ``(n_children,)`` shared-weight scores (:func:`score_shared`).
    scratch : sequence of float
        ``(n_children,)`` the same children's scores when trained from scratch.
    thresholds : sequence of float
        From-scratch score cut-offs (a child is kept when its score is strictly above).

    Returns
    -------
    pandas.DataFrame
        One row per subset (``"all"``, then ``"from scratch > t"``): ``children`` (how
        many), ``spearman`` and ``p`` (NaN below 3 children or when a side is constant),
        ``mean gap`` (mean of from-scratch minus shared-weight score) and the ranges of
        both scores.
    """
    import pandas as pd
    from scipy.stats import spearmanr

    fn = "rank_agreement"
    a, b = _paired_scores(shared, scratch, fn)
    if isinstance(thresholds, (str, bytes)) or not isinstance(thresholds, Sequence):
        raise _checks.fail(fn, "thresholds", "a sequence of numbers", thresholds, kind=TypeError)
    cuts = [_checks.number(t, "thresholds", fn) for t in thresholds]
    rows = []
    for name, keep in [("all", np.ones(len(a), bool))] + [(f"from scratch > {t:g}", b > t) for t in cuts]:
        sa, sb = a[keep], b[keep]
        rho = p = float("nan")
        if keep.sum() >= 3 and np.ptp(sa) > 0 and np.ptp(sb) > 0:
            rho, p = (float(v) for v in spearmanr(sa, sb))
        rows.append({"children": name, "n": int(keep.sum()), "spearman": rho, "p": p,
                     "mean gap": float(np.mean(sb - sa)) if keep.any() else float("nan"),
                     "shared range": (float(sa.min()), float(sa.max())) if keep.any() else None,
                     "scratch range": (float(sb.min()), float(sb.max())) if keep.any() else None})
    return pd.DataFrame(rows).set_index("children")


def regret(shared: Sequence[float], scratch: Sequence[float], top: int = 1) -> float:
    """How far the search's pick falls short of the best child, when all are trained from scratch.

    The pick is the best from-scratch score among the ``top`` children that the shared
    weights rank first (``top=1``: trust the single best shared-weight score; ``top=3``:
    retrain a short list, as the lesson does).  Ties in the shared-weight score are
    broken pessimistically (the lower from-scratch score is taken first).

    Parameters
    ----------
    shared, scratch : sequence of float
        ``(n_children,)`` paired scores, as in :func:`rank_agreement`.
    top : int
        How many children, best by shared weights, are retrained (1 <= top <= n_children).

    Returns
    -------
    float
        ``max(scratch) - max(scratch of the top children)``, >= 0 (0: the pick is the best).
    """
    fn = "regret"
    a, b = _paired_scores(shared, scratch, fn)
    top = _checks.positive_int(top, "top", fn)
    if top > len(a):
        raise _checks.fail(fn, "top", f"at most the number of children ({len(a)})", top)
    order = np.lexsort((b, -a))          # best shared first; among ties, the worse from-scratch child first
    return float(b.max() - b[order[:top]].max())
