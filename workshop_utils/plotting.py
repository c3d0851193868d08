"""Plots the course shows again and again: sequence logos, ROC/PR curves, training curves.

Every function draws on a matplotlib ``Axes`` (a new figure when ``ax`` is None) and
returns that ``Axes``, so plots compose into grids.  matplotlib and logomaker are
imported inside the functions.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from . import _checks
from .motifs import check_ppm, information_content


def _lx4(m, name: str, fn: str) -> np.ndarray:
    """A finite ``(L, 4)`` float64 matrix (positions x A, C, G, T)."""
    m = _checks.finite_array(m, name, fn, ndim=2, dtype=float)
    if m.shape[1] != 4:
        raise _checks.fail(fn, name, "an array of shape (L, 4) (positions x A, C, G, T)", f"shape {m.shape}",
                           hint="transpose it" if m.shape[0] == 4 else "")
    return m


def _ax(ax, figsize=(6, 3)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_logo(matrix: np.ndarray, ax: Any = None, title: str | None = None, start: int = 0,
              figsize: tuple[float, float] = (10, 2)) -> Any:
    """Draw a ``(L, 4)`` matrix (A, C, G, T) as a sequence logo with logomaker.

    Positive and negative values are both drawn (letters below the axis are
    negative), so attribution maps (saliency, ISM) can be shown directly.

    Parameters
    ----------
    matrix : array ``(L, 4)``
    start : int
        Position label of the first row (for windows cut out of a longer sequence).
    """
    import logomaker
    import pandas as pd

    matrix = _lx4(matrix, "matrix", "plot_logo")
    start = _checks.non_negative_int(start, "start", "plot_logo")
    ax = _ax(ax, figsize)
    df = pd.DataFrame(matrix, columns=list("ACGT"), index=np.arange(start, start + len(matrix)))
    logomaker.Logo(df, ax=ax, color_scheme="classic")
    ax.axhline(0, color="black", lw=0.5)
    ax.grid(False)
    if title:
        ax.set_title(title)
    return ax


def plot_motif_logo(ppm: np.ndarray, ax: Any = None, title: str | None = None,
                    reverse_complement: bool = False, figsize: tuple[float, float] = (6, 2)) -> Any:
    """Draw a probability matrix ``(W, 4)`` as an information-content logo (bits)."""
    ppm = check_ppm(ppm, "ppm", "plot_motif_logo")
    if _checks.flag(reverse_complement, "reverse_complement", "plot_motif_logo"):
        ppm = ppm[::-1, ::-1]
    ax = plot_logo(ppm * information_content(ppm)[:, None], ax=ax, title=title, figsize=figsize)
    ax.set_ylabel("bits")
    ax.set_ylim(0, 2)
    return ax


def plot_cwm(cwm: np.ndarray, ax: Any = None, title: str | None = None, reverse_complement: bool = False,
             figsize: tuple[float, float] = (6, 2)) -> Any:
    """Draw a contribution weight matrix ``(W, 4)`` (a TF-MoDISco pattern) as a logo.

    Letters are as tall as the pattern's mean contribution (above the axis when the base
    raises the output, below when it lowers it), as in modisco's and tangermeme's reports.

    Parameters
    ----------
    cwm : array ``(W, 4)``
        E.g. ``discover_motifs(...).cwms["pos_0"]`` (columns A, C, G, T).
    reverse_complement : bool
        Draw the reverse complement, e.g. to show a pattern in the orientation of its
        database match when that match's ``strand`` is -1.
    """
    cwm = _lx4(cwm, "cwm", "plot_cwm")
    if _checks.flag(reverse_complement, "reverse_complement", "plot_cwm"):
        cwm = cwm[::-1, ::-1]
    ax = plot_logo(cwm, ax=ax, title=title, figsize=figsize)
    ax.set_ylabel("contribution")
    return ax


def plot_roc_pr(y_true: np.ndarray, scores: Mapping[str, np.ndarray], axes: Any = None) -> Any:
    """ROC and precision-recall curves of one or more models on the same labels.

    Parameters
    ----------
    y_true : array ``(N,)`` of 0/1
    scores : dict
        Model name -> scores ``(N,)`` (probabilities or logits).

    Returns
    -------
    array of two Axes (ROC, PR).
    """
    import matplotlib.pyplot as plt
    from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

    fn = "plot_roc_pr"
    y_true = _checks.binary_labels(y_true, "y_true", fn)
    if not isinstance(scores, Mapping) or not scores:
        raise _checks.fail(fn, "scores", "a non-empty dict {model name: scores (N,)}", _checks.describe(scores),
                           kind=_checks.ArgumentTypeError)
    if len(np.unique(y_true)) < 2:
        raise _checks.fail(fn, "y_true", "labels of both classes (0 and 1)", f"only {y_true[0]:g}",
                           hint="ROC and PR curves need positives and negatives")
    checked = {}
    for name, s in scores.items():
        s = _checks.finite_array(s, f"scores[{name!r}]", fn, dtype=float)
        if s.ndim == 2 and s.shape[1] == 1:
            s = s[:, 0]
        if s.shape != y_true.shape:
            raise _checks.fail(fn, f"scores[{name!r}]", f"an array of shape {y_true.shape} like y_true",
                               f"shape {s.shape}")
        checked[name] = s
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 4))
    for name, s in checked.items():
        fpr, tpr, _ = roc_curve(y_true, s)
        prec, rec, _ = precision_recall_curve(y_true, s)
        axes[0].plot(fpr, tpr, label=f"{name} (AUROC {roc_auc_score(y_true, s):.3f})")
        axes[1].plot(rec, prec, label=f"{name} (AUPR {average_precision_score(y_true, s):.3f})")
    axes[0].plot([0, 1], [0, 1], "k--", lw=0.8)
    axes[0].set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    axes[1].axhline(y_true.mean(), color="k", ls="--", lw=0.8)
    axes[1].set(xlabel="recall", ylabel="precision", title="Precision-recall")
    for a in axes:
        a.legend(loc="lower right" if a is axes[0] else "lower left", fontsize=8)
    return axes


def plot_history(history: Any, metrics: tuple[str, ...] = ("loss",), ax: Any = None) -> Any:
    """Training and validation curves from a Keras ``History`` or a dict of lists.

    ``history`` maps names such as ``'loss'`` and ``'val_loss'`` to one value per epoch
    (a Keras ``History`` object's ``.history`` is such a dict).
    """
    fn = "plot_history"
    hist = getattr(history, "history", history)
    if not isinstance(hist, Mapping):
        raise _checks.fail(fn, "history", "a keras History or a dict of lists", _checks.describe(history),
                           kind=_checks.ArgumentTypeError)
    if isinstance(metrics, str):
        metrics = (metrics,)
    keys = [k for m in metrics for k in (m, f"val_{m}") if k in hist]
    if not keys:
        raise _checks.fail(fn, "metrics", f"names in history (keys: {sorted(hist)})", _checks.describe(metrics))
    ax = _ax(ax, (6, 3.5))
    for key in keys:
        ax.plot(np.arange(1, len(hist[key]) + 1), hist[key], "--" if key.startswith("val_") else "-",
                marker="o", ms=3, label=key)
    ax.set(xlabel="epoch", ylabel=", ".join(metrics))
    ax.legend()
    return ax


def plot_confusion(confusion: np.ndarray, ax: Any = None, labels: tuple[str, str] = ("unbound", "bound"),
                   title: str | None = None, normalize: bool = False) -> Any:
    """Draw a 2x2 confusion matrix ``[[TN, FP], [FN, TP]]`` (rows: true, columns: predicted).

    Parameters
    ----------
    confusion : int array ``(2, 2)``
        E.g. ``workshop_utils.metrics.binary_metrics(...)['confusion']``.
    labels : (str, str)
        Names of class 0 and class 1.
    normalize : bool
        Show each row as fractions of the true class (sensitivity/specificity on the diagonal).
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    fn = "plot_confusion"
    cm = _checks.finite_array(confusion, "confusion", fn, ndim=2, dtype=None)
    if cm.shape != (2, 2) or (cm < 0).any():
        raise _checks.fail(fn, "confusion", "a (2, 2) matrix of counts [[TN, FP], [FN, TP]]",
                           f"shape {cm.shape}" if cm.shape != (2, 2) else "negative counts")
    if isinstance(labels, str) or len(labels) != 2:
        raise _checks.fail(fn, "labels", "two class names", _checks.describe(labels))
    normalize = _checks.flag(normalize, "normalize", fn)
    ax = _ax(ax, (3.5, 3.2))
    shown = cm / cm.sum(1, keepdims=True).clip(min=1) if normalize else cm
    ConfusionMatrixDisplay(shown, display_labels=list(labels)).plot(
        ax=ax, colorbar=False, cmap="Blues", values_format=".2f" if normalize else "d")
    ax.grid(False)
    ax.set(xlabel="predicted", ylabel="true")
    if title:
        ax.set_title(title)
    return ax


# --- autoencoders and embeddings
def plot_embedding(Z: np.ndarray, labels: np.ndarray | None = None, ax: Any = None,
                   title: str | None = None, s: float = 8.0, legend: bool = True,
                   figsize: tuple[float, float] = (5.5, 4.5)) -> Any:
    """Scatter a 2-D embedding ``Z (N, 2)`` (t-SNE, PCA, a 2-D code), coloured by label.

    Parameters
    ----------
    Z : array ``(N, 2)``
    labels : array ``(N,)``, optional
        Categories (cell types): one colour each, legend outside the axes. Numbers with
        more than 20 distinct values are drawn as a continuous colour scale instead.
    s : float
        Marker size.
    """
    import matplotlib.pyplot as plt

    fn = "plot_embedding"
    Z = _checks.finite_array(Z, "Z", fn, ndim=2, dtype=float)
    if Z.shape[1] != 2:
        raise _checks.fail(fn, "Z", "an array of shape (N, 2)", f"shape {Z.shape}",
                           hint="reduce it to 2 dimensions first (PCA, t-SNE)")
    ax = _ax(ax, figsize)
    if labels is None:
        ax.scatter(Z[:, 0], Z[:, 1], s=s, alpha=0.8)
    else:
        labels = np.asarray(labels)
        if labels.shape != (len(Z),):
            raise _checks.fail(fn, "labels", f"an array of shape ({len(Z)},), one per row of Z",
                               f"shape {labels.shape}")
        cats = np.unique(labels)
        if np.issubdtype(labels.dtype, np.number) and len(cats) > 20:
            points = ax.scatter(Z[:, 0], Z[:, 1], c=labels, s=s, cmap="viridis")
            plt.colorbar(points, ax=ax)
        else:
            cmap = plt.get_cmap("tab10" if len(cats) <= 10 else "tab20")
            for i, cat in enumerate(cats):
                m = labels == cat
                ax.scatter(Z[m, 0], Z[m, 1], s=s, color=cmap(i % cmap.N), label=f"{cat} ({m.sum()})")
            if legend:
                ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7, markerscale=1.5,
                          frameon=False)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax


def plot_trials(table: Any, x: str, hue: str | None = None, score: str = "score", ax: Any = None,
                logy: bool = True, title: str | None = None) -> Any:
    """Scores of KerasTuner trials against one hyperparameter (optionally coloured by another).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per trial, e.g. ``workshop_utils.tuning.trials_table(tuner)``.
    x : str
        Hyperparameter column for the x axis.
    hue : str, optional
        Hyperparameter column for the colour (one series per value).
    score : str
        Column of the objective.
    logy : bool
        Log-scale the score (losses spanning decades).
    """
    if not hasattr(table, "columns") or not hasattr(table, "dropna"):
        raise _checks.fail("plot_trials", "table", "a pandas DataFrame (e.g. tuning.trials_table(tuner))",
                           _checks.describe(table), kind=_checks.ArgumentTypeError)
    for arg, col in (("x", x), ("score", score)) + ((("hue", hue),) if hue else ()):
        if col not in table.columns:
            raise _checks.fail("plot_trials", arg, f"a column of table ({list(table.columns)})",
                               _checks.describe(col))
    ax = _ax(ax, (5, 3.5))
    done = table.dropna(subset=[score])
    groups = [(None, done)] if hue is None else list(done.groupby(hue))
    for value, part in groups:
        part = part.sort_values(x)
        ax.plot(part[x], part[score], "o", ms=6, alpha=0.8, label=None if hue is None else f"{hue}={value}")
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel=x, ylabel=score)
    if hue is not None:
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def plot_dimension_by_label(values: np.ndarray, labels: np.ndarray, highlight: Any = None,
                            ax: Any = None, title: str | None = None) -> Any:
    """One latent dimension's values per cell type (box plots), one type highlighted.

    Parameters
    ----------
    values : array ``(N,)``
        E.g. ``Z[:, j]``.
    labels : array ``(N,)``
    highlight : optional
        A label whose box is drawn in colour (the type the dimension separates).
    """
    fn = "plot_dimension_by_label"
    values = _checks.finite_array(values, "values", fn, ndim=1, dtype=float)
    labels = np.asarray(labels)
    if labels.shape != values.shape:
        raise _checks.fail(fn, "labels", f"an array of shape {values.shape} like values", f"shape {labels.shape}")
    cats = list(np.unique(labels))
    if highlight is not None and highlight not in cats:
        raise _checks.fail(fn, "highlight", f"one of the labels {cats}", _checks.describe(highlight))
    ax = _ax(ax, (7, 3.2))
    box = ax.boxplot([values[labels == c] for c in cats], vert=False, patch_artist=True, showfliers=False)
    for c, patch in zip(cats, box["boxes"]):
        patch.set_facecolor("tab:red" if c == highlight else "lightgrey")
    ax.set_yticks(np.arange(1, len(cats) + 1))
    ax.set_yticklabels(cats, fontsize=8)
    if title:
        ax.set_title(title)
    return ax


# --- interpretation (ISM heatmap, an attribution window next to the motif) -------------------


def plot_ism_heatmap(scores: np.ndarray, x: np.ndarray | None = None, ax: Any = None,
                     start: int = 0, title: str | None = None,
                     figsize: tuple[float, float] = (12, 1.8)) -> Any:
    """ISM scores of one sequence as a heatmap: bases (A, C, G, T) down, positions across.

    Red: the mutation to that base raises the logit more than the average base of that
    position would; blue: less (the scores are centred per position, as
    :func:`workshop_utils.attribution.ism` returns them, and the colour scale is
    symmetric around 0).  With ``x`` the observed base of each position is marked with a dot.

    Parameters
    ----------
    scores : array ``(L, 4)``
        E.g. one row of :func:`workshop_utils.attribution.ism` (``hypothetical=True``).
    x : array ``(L, 4)``, optional
        The one-hot sequence, to mark the observed bases.
    start : int
        Position label of the first column (for windows cut out of a longer sequence).

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    fn = "plot_ism_heatmap"
    scores = _lx4(scores, "scores", fn)
    if x is not None:
        if np.shape(x) != scores.shape:
            raise _checks.fail(fn, "x", f"the one-hot sequence scored, with the shape of scores {scores.shape}",
                               f"shape {np.shape(x)}")
        x = _checks.one_hot(np.asarray(x)[None], "x", fn)[0]
    ax = _ax(ax, figsize)
    L = len(scores)
    vmax = float(np.abs(scores).max()) or 1.0
    im = ax.imshow(scores.T, aspect="auto", cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest",
                   extent=(start - 0.5, start + L - 0.5, 3.5, -0.5))
    if x is not None:
        pos, base = np.nonzero(np.asarray(x) == 1)
        ax.scatter(pos + start, base, s=4 if L > 60 else 12, c="black", marker="o", linewidths=0)
    ax.set_yticks(range(4))
    ax.set_yticklabels(list("ACGT"))
    ax.set_xlabel("position")
    ax.grid(False)
    plt.colorbar(im, ax=ax, pad=0.01, fraction=0.03, label="Δ logit, centred per position")  # ism() centres
    if title:
        ax.set_title(title)
    return ax


def plot_window_vs_motif(attr: np.ndarray, center: int | None = None, half_width: int = 10,
                         motif: np.ndarray | None = None, axes: Any = None, title: str | None = None,
                         figsize: tuple[float, float] = (8, 3.6)) -> Any:
    """The window around the strongest position of an attribution map, above the motif logo.

    The window ``[center - half_width, center + half_width]`` (the strongest position
    by :func:`workshop_utils.attribution.position_importance` when ``center`` is None)
    is drawn as a logo; below it, the motif's information logo at the placement and on
    the strand that :func:`workshop_utils.motifs.compare_to_motif` finds best among all
    placements covering the centre (the window widens to show all of it), with the
    similarity in the title.

    Parameters
    ----------
    attr : array ``(L, 4)``
        Attribution scores of one sequence (ISM, saliency, gradient x input...).
    center : int, optional
        Centre of the window.
    half_width : int
        Half width; the default 10 gives a 21-nt window around the 19-nt CTCF motif.
    motif : array ``(W, 4)``, optional
        Probability matrix; CTCF (JASPAR MA0139.1) when omitted.
    axes : two matplotlib Axes, optional

    Returns
    -------
    array of two Axes (window, motif).
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from .motifs import compare_to_motif, ctcf_pfm

    fn = "plot_window_vs_motif"
    attr = _lx4(attr, "attr", fn)
    L = len(attr)
    half_width = _checks.non_negative_int(half_width, "half_width", fn)
    if center is None:
        center = int(np.abs(attr).max(1).argmax())
    if not _checks.is_int(center) or not 0 <= center < L:
        raise _checks.fail(fn, "center", f"an integer in [0, {L})", _checks.describe(center))
    ppm = ctcf_pfm() if motif is None else check_ppm(motif, "motif", fn)
    W = len(ppm)
    # every motif placement that covers the centre (not only those inside the window,
    # which would cut a motif that starts near the centre and match the wrong strand)
    match = compare_to_motif(attr, ppm, center=int(center))
    motif_start = match["start"]
    # show the window and the matched motif together
    lo = min(max(0, center - half_width), motif_start)
    hi = max(min(L, center + half_width + 1), motif_start + W)
    if axes is None:
        _, axes = plt.subplots(2, 1, figsize=figsize, gridspec_kw={"height_ratios": [1.3, 1]})
    plot_logo(attr[lo:hi], ax=axes[0], start=lo,
              title=title or f"positions {lo}-{hi - 1} around the strongest position {center}")
    strand = "+" if match["strand"] == 1 else "-"
    # the motif logo sits under the positions it matches (same x axis)
    oriented = ppm if match["strand"] == 1 else ppm[::-1, ::-1]
    plot_logo(oriented * information_content(oriented)[:, None], ax=axes[1], start=motif_start,
              title=f"motif ({strand} strand) at {motif_start}-{motif_start + W - 1}; "
                    f"similarity r = {match['similarity']:.2f}")
    axes[1].set_ylabel("bits")
    axes[1].set_ylim(0, 2)
    for a in axes[:2]:
        a.set_xlim(lo - 0.5, hi - 0.5)
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].figure.tight_layout()
    return axes
