"""SHAP explanations of tabular classifiers: which genes drive each cell-type call.

SHAP (Lundberg & Lee 2017) splits a prediction ``f(x) - E[f(background)]`` into one
contribution per input feature.  For a network over genes that answers "which genes
pushed this cell towards this cell type", which we can hold against known markers
(AutoGenome did exactly this).  The ``shap`` library does the work
(:func:`shap_values`); this module ranks genes per class (:func:`class_gene_ranking`),
plots the rankings (:func:`plot_class_genes`) and checks them against marker genes
(:func:`marker_ranks`, :func:`check_markers`).

``shap`` and PyTorch are imported inside the functions.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import _checks
from .backend import eval_mode, require, torch_seeded

#: Textbook PBMC markers (e.g. the Seurat/Scanpy PBMC tutorials), keyed by the cell types of
#: :func:`workshop_utils.load_pbmc`.  Genes that are not among the data's 765 genes are simply
#: skipped by :func:`marker_ranks` (CD14, CD34, PPBP, FOXP3, IL2RA are absent there).
#: FCGR3A (CD16) is *not* a classical (CD14+) monocyte marker: it marks the non-classical
#: CD14dim CD16+ monocytes, which these labels have no type for, and CD56dim NK cells, so it is
#: listed under NK.
PBMC_MARKERS: dict[str, list[str]] = {
    "CD19+ B": ["MS4A1", "CD79A", "CD79B"],
    "CD56+ NK": ["NKG7", "GNLY", "GZMB", "PRF1", "FCGR3A"],
    "CD14+ Monocyte": ["CD14", "LYZ", "S100A8", "S100A9"],
    "Dendritic": ["FCER1A", "CST3", "HLA-DQA1"],
    "CD8+ Cytotoxic T": ["CD8A", "CD8B", "GZMK", "CCL5"],
    "CD34+": ["CD34", "SPINK2"],
}

METHODS = ("deep", "gradient")


def _as_2d(X: Any, name: str, fn: str = "shap_values") -> np.ndarray:
    return _checks.finite_array(X, name, fn, ndim=2)


def shap_values(model: Any, X: np.ndarray, background: np.ndarray, method: str = "deep",
                seed: int = 0) -> np.ndarray:
    """SHAP values of a PyTorch classifier's logits for every class.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(N, n_features)`` to logits ``(N, n_classes)`` (e.g. from
        :func:`workshop_utils.nas.dense.build_dense`); it is evaluated in eval mode
        and left in the mode it was in.
    X : np.ndarray
        ``(N, n_features)`` cells to explain.
    background : np.ndarray
        ``(B, n_features)`` reference cells (a few dozen training cells); the SHAP values
        of a cell add up to its logit minus the mean background logit.
    method : {'deep', 'gradient'}
        ``'deep'``: ``shap.DeepExplainer`` (DeepLIFT-style, exact additivity; needs each
        nonlinearity to be its own ``torch.nn`` module, as in ``DenseClassifier``).
        ``'gradient'``: ``shap.GradientExplainer`` (expected gradients; any differentiable model).
    seed : int
        Seeds the sampling of the gradient explainer (the caller's random state is left as it was).

    Returns
    -------
    np.ndarray
        ``(N, n_features, n_classes)``: ``values[i, g, c]`` is gene ``g``'s contribution
        to cell ``i``'s class-``c`` logit.
    """
    import shap
    import torch

    fn = "shap_values"
    require(model, "torch", fn)
    X = _as_2d(X, "X")
    background = _as_2d(background, "background")
    if background.shape[1] != X.shape[1]:
        raise _checks.fail(fn, "background", f"{X.shape[1]} features like X", f"{background.shape[1]} features")
    method = _checks.one_of(method, "method", fn, METHODS)
    seed = _checks.non_negative_int(seed, "seed", fn)
    bg = torch.from_numpy(background)
    xt = torch.from_numpy(X)
    with eval_mode(model):  # the model's train/eval state is given back afterwards
        if method == "deep":
            vals = _deep_shap(shap, model, bg, xt, fn)
        else:
            # the gradient explainer samples with numpy's and torch's global RNGs: seed them
            # for the call and put the caller's random state back afterwards
            state = np.random.get_state()
            try:
                with torch_seeded(seed):
                    np.random.seed(seed)
                    vals = shap.GradientExplainer(model, bg).shap_values(xt, nsamples=200, rseed=seed)
            finally:
                np.random.set_state(state)
    if isinstance(vals, list):  # older shap: one (N, F) array per output
        vals = np.stack([np.asarray(v) for v in vals], axis=-1)
    vals = np.asarray(vals, dtype=np.float64)
    if vals.ndim == 2:  # a single output
        vals = vals[:, :, None]
    return vals


def _deep_shap(shap: Any, model: Any, bg: Any, xt: Any, fn: str) -> Any:
    """``shap.DeepExplainer(model, bg).shap_values(xt)`` with shap's errors in the package's words."""
    import warnings

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            return shap.DeepExplainer(model, bg).shap_values(xt, check_additivity=True)
    except AssertionError as err:  # shap's additivity check
        unknown = sorted({str(w.message).split(":")[-1].strip() for w in caught
                          if "unrecognized nn.Module" in str(w.message)})
        raise _checks.fail(fn, "model", "a model whose every nonlinearity is its own torch.nn module "
                           "(nn.ReLU(), nn.Softmax() ...) for method='deep'",
                           "SHAP values that do not add up to the model's logits"
                           + (f" (shap does not know {', '.join(unknown)})" if unknown else ""),
                           hint="write activations as modules in __init__ instead of torch.relu(...) in forward(), "
                                "or use method='gradient'") from err
    except (RuntimeError, TypeError, ValueError, AttributeError, IndexError) as err:
        raise _checks.fail(fn, "model", "a torch model that shap.DeepExplainer can explain (one tensor of logits "
                           "(N, n_classes) out)", f"an error from shap: {type(err).__name__}: {err}",
                           hint="method='gradient' works for any differentiable model") from err


def class_gene_ranking(values: np.ndarray, y: np.ndarray, genes: Sequence[str],
                       class_names: Sequence[str]) -> dict[str, Any]:
    """Rank genes per class by their mean SHAP value towards that class, in cells of that class.

    Parameters
    ----------
    values : np.ndarray
        ``(N, n_genes, n_classes)`` from :func:`shap_values`.
    y : np.ndarray
        ``(N,)`` integer class codes of the explained cells.
    genes : sequence of str
        ``n_genes`` names.
    class_names : sequence of str
        ``n_classes`` names.

    Returns
    -------
    dict
        ``class name -> pandas.DataFrame`` with columns ``gene``, ``mean_shap`` (signed:
        positive pushes towards the class) and ``rank`` (1 = most important), sorted.
        Classes without cells among the explained ones are left out.
    """
    import pandas as pd

    fn = "class_gene_ranking"
    values = _checks.finite_array(values, "values", fn, ndim=3, dtype=np.float64)
    n, g, c = values.shape
    y = _checks.finite_array(y, "y", fn, ndim=1, dtype=None)
    if len(y) != n or not np.issubdtype(y.dtype, np.integer):
        raise _checks.fail(fn, "y", f"{n} integer class codes (one per row of values)",
                           f"shape {y.shape} and dtype {y.dtype}")
    if len(y) and (y.min() < 0 or y.max() >= c):
        raise _checks.fail(fn, "y", f"class codes in 0..{c - 1} (values has {c} classes)",
                           f"codes from {int(y.min())} to {int(y.max())}")
    if isinstance(genes, (str, bytes)) or not hasattr(genes, "__len__") or len(genes) != g:
        raise _checks.fail(fn, "genes", f"{g} names (values has {g} genes)",
                           f"{len(genes)} names" if hasattr(genes, "__len__") else genes)
    if isinstance(class_names, (str, bytes)) or not hasattr(class_names, "__len__") or len(class_names) != c:
        raise _checks.fail(fn, "class_names", f"{c} names (values has {c} classes)",
                           f"{len(class_names)} names" if hasattr(class_names, "__len__") else class_names)
    out = {}
    for k, name in enumerate(class_names):
        rows = y == k
        if not rows.any():
            continue
        mean = values[rows, :, k].mean(0)
        order = np.argsort(-mean, kind="stable")
        out[name] = pd.DataFrame({"gene": np.asarray(genes, dtype=object)[order], "mean_shap": mean[order],
                                  "rank": np.arange(1, g + 1)})
    return out


def marker_ranks(rankings: Mapping[str, Any], markers: Mapping[str, Sequence[str]] = PBMC_MARKERS) -> Any:
    """The rank of each known marker in its cell type's SHAP ranking.

    Parameters
    ----------
    rankings : dict
        From :func:`class_gene_ranking`.
    markers : dict
        ``cell type -> marker genes``; cell types missing from ``rankings`` and genes
        missing from the data are skipped.

    Returns
    -------
    pandas.DataFrame
        Columns ``cell_type``, ``gene``, ``rank`` (1 = top), ``mean_shap``, ``n_genes``.
    """
    import pandas as pd

    if not isinstance(rankings, Mapping):
        raise _checks.fail("marker_ranks", "rankings", "the dict from class_gene_ranking()", rankings, kind=TypeError)
    if not isinstance(markers, Mapping):
        raise _checks.fail("marker_ranks", "markers", "a dict cell type -> genes", markers, kind=TypeError)
    rows = []
    for cell_type, genes in markers.items():
        if cell_type not in rankings:
            continue
        table = rankings[cell_type].set_index("gene")
        for gene in genes:
            if gene in table.index:
                rows.append({"cell_type": cell_type, "gene": gene, "rank": int(table.loc[gene, "rank"]),
                             "mean_shap": float(table.loc[gene, "mean_shap"]), "n_genes": len(table)})
    return pd.DataFrame(rows, columns=["cell_type", "gene", "rank", "mean_shap", "n_genes"])


def check_markers(rankings: Mapping[str, Any], markers: Mapping[str, Sequence[str]] = PBMC_MARKERS,
                  top_k: int = 20) -> dict[str, bool]:
    """For each cell type with a marker in the data: does its best marker rank in the top ``top_k``?

    Parameters
    ----------
    rankings : dict
        From :func:`class_gene_ranking`.
    markers : dict
        ``cell type -> marker genes``.
    top_k : int
        Out of ``n_genes`` (765 for PBMC, so 20 is the top 2.6 %).

    Returns
    -------
    dict
        ``cell type -> bool``, for the cell types that have at least one marker in the data.
    """
    top_k = _checks.positive_int(top_k, "top_k", "check_markers")
    table = marker_ranks(rankings, markers)
    if table.empty:
        return {}
    return {ct: bool(grp["rank"].min() <= top_k) for ct, grp in table.groupby("cell_type", sort=False)}


def plot_class_genes(rankings: Mapping[str, Any], top: int = 8, cell_types: Sequence[str] | None = None,
                     markers: Mapping[str, Sequence[str]] | None = PBMC_MARKERS, ncols: int = 3) -> Any:
    """Bar charts of the top genes (mean SHAP) per cell type; known markers in a second colour.

    Parameters
    ----------
    rankings : dict
        From :func:`class_gene_ranking`.
    top : int
        Genes per panel.
    cell_types : sequence of str, optional
        Which panels (default: all classes in ``rankings``).
    markers : dict or None
        Highlight these genes.
    ncols : int

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fn = "plot_class_genes"
    if not isinstance(rankings, Mapping) or not rankings:
        raise _checks.fail(fn, "rankings", "a non-empty dict from class_gene_ranking()", rankings)
    if isinstance(cell_types, str):
        cell_types = [cell_types]
    cell_types = list(rankings) if cell_types is None else list(cell_types)
    unknown = [c for c in cell_types if c not in rankings]
    if unknown:
        raise _checks.fail(fn, "cell_types", f"cell types in rankings ({list(rankings)})", f"{unknown}")
    top = _checks.positive_int(top, "top", fn)
    ncols = _checks.positive_int(ncols, "ncols", fn)
    nrows = -(-len(cell_types) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 0.28 * top * nrows + 1.2 * nrows), squeeze=False)
    for ax, ct in zip(axes.flat, cell_types):
        t = rankings[ct].head(top)[::-1]
        known = set((markers or {}).get(ct, []))
        colors = ["tab:orange" if g in known else "tab:blue" for g in t["gene"]]
        ax.barh(t["gene"], t["mean_shap"], color=colors)
        ax.set_title(ct, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("mean SHAP (logit)", fontsize=7)
    for ax in axes.flat[len(cell_types):]:
        ax.axis("off")
    fig.suptitle("Genes pushing cells towards their own type (orange: known marker)", fontsize=10)
    fig.tight_layout()
    return fig
