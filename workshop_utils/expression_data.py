"""Single-cell expression data: the PBMC file of the course, any AnnData ``.h5ad`` file, and a simulation.

Read with h5py only (no anndata/scanpy needed).  :func:`simulate_gene_programs` makes a
larger labelled data set whose cell types follow *nonlinear* rules of gene-program
activities (the data on which architecture search has something to find; PBMC stays the
real data of the SHAP lesson).  The matrices go on to
:mod:`workshop_utils.expression` (preprocessing, "does a representation keep the biology?").
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import _checks, config

__all__ = ["Expression", "PBMC_FILE", "ProgramExpression", "UNKNOWN", "load_pbmc", "read_h5ad",
           "simulate_gene_programs"]

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
        data, indices, indptr = node["data"][()], node["indices"][()], node["indptr"][()]
        _check_sparse(data, indices, indptr, shape, "csc" in fmt)
        m = cls((data, indices, indptr), shape=shape)
        return np.asarray(m.toarray(), dtype=np.float32)
    except (KeyError, TypeError, ValueError, OSError) as err:
        raise ValueError(f"{fn}: {path}: cannot read the expression matrix {node.name!r} ({err})") from None


def _check_sparse(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple, csc: bool) -> None:
    """The index arrays of a CSR/CSC matrix must describe ``shape``; scipy does not check every one.

    An index beyond the gene count (or negative), or an ``indptr`` that is not a
    non-decreasing run from 0 to ``len(indices)``, would be read as another matrix
    (or fail later, far from the file).
    """
    if len(shape) != 2 or min(shape) < 0:
        raise ValueError(f"shape must be two non-negative numbers, got {shape}")
    major, minor = (shape[1], shape[0]) if csc else shape
    what = "cell" if csc else "gene"
    for name, a in (("indices", indices), ("indptr", indptr)):
        if a.ndim != 1 or not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"{name} must be a 1-D integer array, got {a.ndim}-D of dtype {a.dtype}")
    if data.ndim != 1 or len(data) != len(indices):
        raise ValueError(f"data must be 1-D with one value per index ({len(indices)}), got shape {data.shape}")
    if len(indptr) != major + 1:
        raise ValueError(f"indptr must have {major + 1} entries (one per {'gene' if csc else 'cell'} + 1), "
                         f"got {len(indptr)}")
    if len(indptr) and (indptr[0] != 0 or indptr[-1] != len(indices) or (np.diff(indptr) < 0).any()):
        raise ValueError(f"indptr must rise from 0 to {len(indices)} without decreasing, got "
                         f"{indptr[0]}..{indptr[-1]}" + (" (decreasing)" if (np.diff(indptr) < 0).any() else ""))
    if len(indices) and (indices.min() < 0 or indices.max() >= minor):
        raise ValueError(f"indices must be {what} numbers in 0..{minor - 1}, got values from {indices.min()} to "
                         f"{indices.max()} (the file's shape {tuple(shape)} says {minor} {what}s)")


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


@dataclass
class ProgramExpression(Expression):
    """A simulated :class:`Expression` that also knows what was planted.

    Attributes
    ----------
    X, genes, labels
        As in :class:`Expression`: ``(n_cells, n_genes)`` float32 log expression, gene
        names, ``(n_cells,)`` cell-type names.
    activities : np.ndarray
        float32 ``(n_cells, n_programs)``: each cell's activity of each gene program
        (standard normal; a program is "on" where its activity is > 0).
    gene_program : np.ndarray
        int64 ``(n_genes,)``: the program a gene belongs to, ``-1`` for nuisance genes.
    """

    activities: np.ndarray = None  # type: ignore[assignment]
    gene_program: np.ndarray = None  # type: ignore[assignment]


def simulate_gene_programs(n_cells: int = 6000, n_genes: int = 200, n_programs: int = 6,
                           genes_per_program: int = 15, loading: float = 0.6, library_sd: float = 0.3,
                           seed: int = 0) -> ProgramExpression:
    """Simulated single-cell expression whose cell types are XOR rules of gene programs.

    What is planted, cell by cell:

    1. ``n_programs`` (even) program activities ``a_p ~ N(0, 1)``, independent; program
       ``p`` is *on* when ``a_p > 0``.
    2. The cell type is the parity (XOR) of programs taken in pairs: with ``k = n_programs // 2``
       bits ``b_j = on(2j) XOR on(2j + 1)``, the type is ``sum_j b_j 2^j`` -- ``2^k`` balanced
       types named ``'type0'``, ``'type1'``, ...  No single gene, and no linear function of
       the genes, tells the types apart (each program alone is independent of the type):
       a classifier has to combine programs nonlinearly, so activation functions and hidden
       widths matter.
    3. Counts are Poisson with log-rate ``mu_g + l_g * a_p(g) + s_c``: a baseline ``mu_g ~ U(0, 2)``
       per gene, a loading ``l_g = +-loading * U(0.5, 1.5)`` (random sign) for the
       ``genes_per_program`` genes of each program, ``l_g = 0`` for the remaining *nuisance*
       genes, and a cell-wide library-size factor ``s_c ~ N(0, library_sd)`` shared by all
       genes.  The returned expression is ``log1p(counts)``, like log-normalised data
       (zeros included); the Poisson noise makes the types imperfectly separable.

    Parameters
    ----------
    n_cells : int
        Cells (rows), >= 2.
    n_genes : int
        Genes (columns), >= ``n_programs * genes_per_program``; the genes beyond the
        programs are nuisance genes.  Columns are shuffled (programs are not contiguous).
    n_programs : int
        An even number >= 2 (``2^(n_programs/2)`` cell types).
    genes_per_program : int
        >= 1.
    loading : float
        > 0: the typical effect of a program's activity on the log-rate of its genes
        (larger: cleaner programs).
    library_sd : float
        >= 0: the spread of the cell-wide library-size factor (a nuisance shared by all genes).
    seed : int

    Returns
    -------
    ProgramExpression
        ``X`` float32 ``(n_cells, n_genes)``, ``genes`` (``'P0_g00'`` for gene 0 of program 0,
        ``'N000'`` for nuisance genes), ``labels`` ``(n_cells,)`` str, plus ``activities``
        ``(n_cells, n_programs)`` and ``gene_program`` ``(n_genes,)``.  ``label_codes()``
        gives the integer types (code ``k`` is ``'type{k}'`` for up to 10 types).

    Examples
    --------
    >>> data = simulate_gene_programs(n_cells=500, seed=0)
    >>> data.X.shape, len(data.cell_types)
    ((500, 200), 8)
    """
    fn = "simulate_gene_programs"
    n_cells = _checks.positive_int(n_cells, "n_cells", fn, minimum=2)
    n_programs = _checks.positive_int(n_programs, "n_programs", fn, minimum=2)
    if n_programs % 2:
        raise _checks.fail(fn, "n_programs", "an even number (programs are combined in XOR pairs)", n_programs)
    genes_per_program = _checks.positive_int(genes_per_program, "genes_per_program", fn)
    n_genes = _checks.positive_int(n_genes, "n_genes", fn)
    if n_genes < n_programs * genes_per_program:
        raise _checks.fail(fn, "n_genes", f">= n_programs * genes_per_program = {n_programs * genes_per_program}",
                           n_genes)
    loading = _checks.number(loading, "loading", fn, low=0.0, low_open=True)
    library_sd = _checks.number(library_sd, "library_sd", fn, low=0.0)
    rng = _checks.rng(seed, "seed", fn)

    activities = rng.standard_normal((n_cells, n_programs))
    on = activities > 0
    bits = on[:, 0::2] ^ on[:, 1::2]                                   # (n_cells, n_programs // 2)
    codes = (bits * (2 ** np.arange(bits.shape[1]))).sum(1)
    program = np.full(n_genes, -1, dtype=np.int64)
    program[:n_programs * genes_per_program] = np.repeat(np.arange(n_programs), genes_per_program)
    mu = rng.uniform(0.0, 2.0, n_genes)
    load = np.where(program >= 0, loading * rng.uniform(0.5, 1.5, n_genes) * rng.choice([-1.0, 1.0], n_genes), 0.0)
    library = rng.normal(0.0, library_sd, (n_cells, 1)) if library_sd > 0 else np.zeros((n_cells, 1))
    signal = activities[:, np.maximum(program, 0)] * load              # 0 for nuisance genes
    with np.errstate(over="ignore"):
        rates = np.exp(mu + signal + library)
    if not np.all(rates < 1e12):  # numpy would say "lam value too large" (or count for ever)
        raise _checks.fail(fn, "loading", "small enough for finite counts (log-rates below ~27)",
                           f"{loading:g} with library_sd={library_sd:g}, giving expected counts up to "
                           f"{np.nanmax(rates):.3g}", hint="typical values: loading 0.5-3, library_sd 0-0.5")
    counts = rng.poisson(rates)
    names = [f"P{p}_g{j:02d}" for p in range(n_programs) for j in range(genes_per_program)]
    names += [f"N{j:03d}" for j in range(n_genes - len(names))]
    order = rng.permutation(n_genes)
    width = len(str(2 ** bits.shape[1] - 1))
    labels = np.array([f"type{c:0{width}d}" for c in codes])
    return ProgramExpression(X=np.log1p(counts[:, order]).astype(np.float32), genes=[names[i] for i in order],
                             labels=labels, activities=activities.astype(np.float32),
                             gene_program=program[order])
