"""Single-cell expression data: the PBMC file of the course and any AnnData ``.h5ad`` file.

Read with h5py only (no anndata/scanpy needed).  The matrices go on to
:mod:`workshop_utils.expression` (preprocessing, "does a representation keep the biology?").
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import _checks, config

__all__ = ["Expression", "PBMC_FILE", "UNKNOWN", "load_pbmc", "read_h5ad"]

PBMC_FILE = "pbmc68k_reduced.h5ad"

#: The label given to cells whose category code is -1 (AnnData's "no category").
UNKNOWN = "unknown"


@dataclass
class Expression:
    """A cells x genes expression matrix with cell-type labels.

    Attributes
    ----------
    X : np.ndarray
        float32 ``(n_cells, n_genes)``.
    genes : list of str
        ``n_genes`` gene symbols.
    labels : np.ndarray
        ``(n_cells,)`` array of cell-type names (str).
    """

    X: np.ndarray
    genes: list[str]
    labels: np.ndarray

    @property
    def cell_types(self) -> list[str]:
        """Sorted unique cell types."""
        return sorted(set(self.labels.tolist()))

    def label_codes(self) -> np.ndarray:
        """Labels as integers ``(n_cells,)`` indexing :attr:`cell_types`."""
        lookup = {c: i for i, c in enumerate(self.cell_types)}
        return np.array([lookup[c] for c in self.labels], dtype=np.int64)


def _dec(a) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in a]


def read_h5ad(path: str | Path, label_key: str = "bulk_labels", use_raw: bool = True) -> Expression:
    """Read an AnnData ``.h5ad`` file with h5py (no anndata/scanpy needed).

    Reads both the legacy layout (structured ``obs``/``var`` tables, as in the shipped
    PBMC file) and the current one (one group per column, categoricals as
    ``codes``/``categories``).  Sparse (CSR/CSC) or dense ``X`` are accepted.

    Cells whose category code is -1 (AnnData's missing value: an unannotated cell) are
    labelled ``"unknown"`` (:data:`UNKNOWN`), with a warning saying how many; a code
    outside the categories is an error (a damaged file).

    Parameters
    ----------
    path : str or Path
    label_key : str
        The ``obs`` column holding cell types.
    use_raw : bool
        Read ``raw/X`` (log-normalised expression) when present instead of ``X``.

    Raises
    ------
    FileNotFoundError, IsADirectoryError, ValueError
        Naming the file and what is missing or malformed in it.
    """
    fn = "read_h5ad"
    if not isinstance(label_key, str) or not label_key:
        raise _checks.fail(fn, "label_key", "the name of an obs column (a str)", _checks.describe(label_key),
                           kind=_checks.ArgumentTypeError)
    use_raw = _checks.flag(use_raw, "use_raw", fn)
    with _checks.h5_file(path, "path", fn, kind="HDF5/h5ad") as f:
        path = Path(f.filename)
        for group in ("obs", "var"):
            if group not in f:
                raise ValueError(f"{fn}: {path} must be an AnnData file with '{group}' (the "
                                 f"{'cells' if group == 'obs' else 'genes'} table); found keys {sorted(f.keys())}")
        raw = next((k for k in ("raw/X", "raw.X") if k in f), None) if use_raw else None
        xkey = raw or "X"
        if xkey not in f:
            raise ValueError(f"{fn}: {path} must hold an expression matrix 'X'; found keys {sorted(f.keys())}")
        X = _read_matrix(f[xkey], path, fn)
        var_key = {"raw/X": "raw/var", "raw.X": "raw.var"}.get(xkey, "var")
        var_grp = f[var_key] if var_key in f else f["var"]
        genes = _read_index(var_grp, path, fn)
        labels = _read_obs_column(f["obs"], label_key, f, path, fn)
    if X.shape != (len(labels), len(genes)):
        raise ValueError(f"{fn}: {path}: X has shape {X.shape} but obs has {len(labels)} rows and var "
                         f"{len(genes)}")
    bad = ~np.isfinite(X)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(f"{fn}: {path}: the expression matrix must be finite, got {int(bad.sum())} NaN/inf "
                         f"value(s), the first at cell {i}, gene {j}")
    return Expression(X=X, genes=genes, labels=np.asarray(labels))


def _read_matrix(node, path: Path, fn: str) -> np.ndarray:
    import h5py

    try:
        if isinstance(node, h5py.Dataset):
            X = node[()]
            if X.ndim != 2 or not (np.issubdtype(X.dtype, np.number) or X.dtype == np.bool_):
                raise ValueError(f"a numeric 2-D matrix was expected, found {X.ndim}-D of dtype {X.dtype}")
            return X.astype(np.float32)
        from scipy import sparse

        attrs = dict(node.attrs)
        fmt = attrs.get("encoding-type", attrs.get("h5sparse_format", "csr"))
        fmt = fmt.decode() if isinstance(fmt, bytes) else str(fmt)
        shape = tuple(int(v) for v in attrs.get("shape", attrs.get("h5sparse_shape")))
        cls = sparse.csc_matrix if "csc" in fmt else sparse.csr_matrix
        m = cls((node["data"][()], node["indices"][()], node["indptr"][()]), shape=shape)
        return np.asarray(m.toarray(), dtype=np.float32)
    except (KeyError, TypeError, ValueError, OSError) as err:
        raise ValueError(f"{fn}: {path}: cannot read the expression matrix {node.name!r} ({err})") from None


def _read_index(grp, path: Path, fn: str) -> list[str]:
    import h5py

    try:
        if isinstance(grp, h5py.Dataset):  # legacy structured table
            return _dec(grp["index"])
        key = grp.attrs.get("_index", "_index")
        key = key.decode() if isinstance(key, bytes) else key
        return _dec(grp[key][()])
    except (KeyError, ValueError, TypeError) as err:
        raise ValueError(f"{fn}: {path}: cannot read the index of {grp.name!r} ({err})") from None


def _categorical(codes, cats: list[str], key: str, path: Path, fn: str) -> list[str]:
    """Labels of category ``codes``: -1 becomes "unknown" (with a warning), other bad codes an error."""
    codes = np.asarray(codes)
    if not np.issubdtype(codes.dtype, np.integer):
        raise ValueError(f"{fn}: {path}: obs column {key!r} must hold integer category codes, got dtype "
                         f"{codes.dtype}")
    bad = (codes < -1) | (codes >= len(cats))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{fn}: {path}: obs column {key!r} must hold codes in [-1, {len(cats) - 1}] "
                         f"({len(cats)} categories), got code {int(codes[i])} at cell {i} "
                         f"({int(bad.sum())} cell(s) out of range): the file is damaged")
    missing = codes == -1
    if missing.any():
        warnings.warn(f"{path}: {int(missing.sum())} cell(s) have no {key!r} (code -1); they are labelled "
                      f"{UNKNOWN!r}", stacklevel=4)
    lookup = np.array([*cats, UNKNOWN], dtype=object)
    return lookup[np.where(missing, len(cats), codes)].tolist()


def _read_obs_column(obs, key: str, f, path: Path, fn: str) -> list[str]:
    import h5py

    if isinstance(obs, h5py.Dataset):  # legacy: codes in obs, categories in uns
        names = obs.dtype.names or ()
        if key not in names:
            raise ValueError(f"{fn}: label_key must be a column of obs in {path}, got {key!r}; columns are "
                             f"{list(names)}")
        codes = obs[key]
        cats_key = f"uns/{key}_categories"
        if cats_key in f:
            return _categorical(codes, _dec(f[cats_key][()]), key, path, fn)
        return _dec(codes)
    if key not in obs:
        raise ValueError(f"{fn}: label_key must be a column of obs in {path}, got {key!r}; columns are "
                         f"{sorted(obs.keys())}")
    col = obs[key]
    if isinstance(col, h5py.Group):  # categorical
        if "codes" not in col or "categories" not in col:
            raise ValueError(f"{fn}: {path}: obs column {key!r} is a group without codes/categories")
        return _categorical(col["codes"][()], _dec(col["categories"][()]), key, path, fn)
    if "categories" in col.attrs:  # anndata 0.7 style
        return _categorical(col[()], _dec(f[col.attrs["categories"]][()]), key, path, fn)
    return _dec(col[()])


def load_pbmc(use_raw: bool = True) -> Expression:
    """Real single-cell RNA-seq: PBMC 68k reduced (700 cells x 765 genes, 10 cell types).

    The file ships in ``data/`` (see ``data/README.md`` for provenance); with
    ``use_raw=True`` the log-normalised expression is returned, otherwise the scaled
    (z-scored) matrix stored in ``X``.
    """
    use_raw = _checks.flag(use_raw, "use_raw", "load_pbmc")
    candidates = [config.data_dir() / PBMC_FILE]
    if config.REPO_DIR is not None:
        candidates.append(config.REPO_DIR / "data" / PBMC_FILE)
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        raise FileNotFoundError(
            f"load_pbmc: {PBMC_FILE} must be in one of {[str(c.parent) for c in candidates]}, got no such file; "
            "it ships in the repository's data/ folder (in Colab, run the notebook's setup cell, which clones "
            "the repository)")
    return read_h5ad(path, use_raw=use_raw)
