"""Plots of a search: the controller's choice probabilities, rewards per trial, controller vs random.

Kept next to the search code (not in :mod:`workshop_utils.plotting`) so the NAS lesson
is one package.  Each function draws on matplotlib ``Axes`` (new ones when ``ax`` is
None) and returns them; matplotlib is imported inside.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .search import SearchHistory


def _check_hist(history: Any, name: str = "history") -> SearchHistory:
    if not isinstance(history, SearchHistory):
        raise TypeError(f"{name}: expected a SearchHistory, got {type(history).__name__}")
    if len(history) == 0:
        raise ValueError(f"{name}: the search has no trials to plot")
    return history


def plot_layer_probs(history: SearchHistory, layers: Sequence[int] | None = None, axes: Any = None,
                     figsize_per_layer: tuple[float, float] = (4.0, 2.8)) -> Any:
    """Each layer's choice probabilities over controller steps (one panel per layer).

    Parameters
    ----------
    history : SearchHistory
        From :func:`workshop_utils.nas.search`; ``history.probs[t][i]`` has shape ``(n_choices_i,)``.
    layers : list of int, optional
        Which layers to draw (default all).
    axes : array of Axes, optional
        One per layer.

    Returns
    -------
    array of Axes
    """
    import matplotlib.pyplot as plt

    history = _check_hist(history)
    n_layers = len(history.probs[0])
    layers = list(range(n_layers)) if layers is None else list(layers)
    for i in layers:
        if not isinstance(i, (int, np.integer)) or not 0 <= i < n_layers:
            raise ValueError(f"layers: expected integers in 0..{n_layers - 1}, got {i!r}")
    if axes is None:
        _, axes = plt.subplots(1, len(layers), figsize=(figsize_per_layer[0] * len(layers), figsize_per_layer[1]),
                               squeeze=False)
        axes = axes[0]
    axes = np.atleast_1d(axes)
    if len(axes) != len(layers):
        raise ValueError(f"axes: expected {len(layers)} axes (one per layer), got {len(axes)}")
    space = history.model_space
    steps = np.arange(len(history.probs))
    for ax, i in zip(axes, layers):
        P = history.layer_probs(i)
        for k in range(P.shape[1]):
            label = str(space[i][k]) if space is not None else f"choice {k}"
            ax.plot(steps, P[:, k], lw=1.5, label=label)
        ax.set_ylim(0, 1)
        ax.set_xlabel("controller step (trial)")
        ax.set_title(f"layer {i}")
        ax.legend(fontsize=6, loc="upper left")
    axes[0].set_ylabel("choice probability")
    return axes


def plot_search_rewards(history: SearchHistory, ax: Any = None, label: str | None = None,
                        color: str | None = None) -> Any:
    """Reward per trial (dots) and the running best (line)."""
    import matplotlib.pyplot as plt

    history = _check_hist(history)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    trials = np.arange(1, len(history) + 1)
    line, = ax.plot(trials, history.running_best, lw=2, color=color,
                    label=f"{label or 'search'}: running best")
    ax.scatter(trials, history.rewards, s=14, alpha=0.6, color=line.get_color(), label=f"{label or 'search'}: trial")
    ax.set_xlabel("trial")
    ax.set_ylabel("reward")
    ax.legend(fontsize=7)
    return ax


def plot_search_comparison(runs: Mapping[str, SearchHistory | Sequence[SearchHistory]], ax: Any = None) -> Any:
    """Running best reward of several searches (e.g. controller vs random).

    Parameters
    ----------
    runs : dict
        ``{name: history}`` or ``{name: [history per seed, ...]}``; with several seeds the
        mean running best is drawn with a band from the lowest to the highest seed.
    """
    import matplotlib.pyplot as plt

    if not isinstance(runs, Mapping) or not runs:
        raise TypeError("runs: expected a non-empty dict {name: SearchHistory or list of them}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    for name, hists in runs.items():
        hists = [hists] if isinstance(hists, SearchHistory) else list(hists)
        curves = [_check_hist(h, f"runs[{name!r}]").running_best for h in hists]
        n = min(len(c) for c in curves)
        C = np.stack([c[:n] for c in curves])
        x = np.arange(1, n + 1)
        line, = ax.plot(x, C.mean(0), lw=2, label=f"{name} (n={len(C)})" if len(C) > 1 else name)
        if len(C) > 1:
            ax.fill_between(x, C.min(0), C.max(0), color=line.get_color(), alpha=0.2)
    ax.set_xlabel("trial")
    ax.set_ylabel("best reward so far")
    ax.legend(fontsize=8)
    return ax
