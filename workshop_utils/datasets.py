"""Data for the workshop: the CTCF binding simulator, h5 files, toy genes and PBMC expression.

Arrays follow the package layout: one-hot DNA ``(N, L, 4)`` float32 (A, C, G, T),
labels ``(N,)`` float32 in {0, 1}.  Files in the course's ``CTCF_200.h5`` layout store
``x`` as ``(N, 4, L)``; :func:`read_ctcf_h5` transposes once on reading and
:func:`write_ctcf_h5` once on writing.
"""
from __future__ import annotations

import json
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import config
from .motifs import DECOY_NAMES, counts_to_ppm, jaspar_counts, sample_instances
from .sequences import validate_one_hot

SPLITS = ("train", "valid", "test")
_BACKGROUND_FILE = Path(__file__).with_name("background_hg38.json")


# --------------------------------------------------------------------------- background
def load_background() -> dict:
    """The Markov background fitted on real human DNA (``scripts/fit_background.py``).

    Returns
    -------
    dict
        ``order`` (int), ``base_freq`` ``(4,)``, ``transitions`` ``(4**order, 4)``.
    """
    payload = json.loads(_BACKGROUND_FILE.read_text())
    payload["base_freq"] = np.asarray(payload["base_freq"], dtype=float)
    payload["transitions"] = np.asarray(payload["transitions"], dtype=float)
    return payload


def sample_background(n: int, length: int, rng: np.random.Generator | int = 0,
                      background: dict | None = None) -> np.ndarray:
    """Draw DNA from the fitted Markov chain, vectorised over sequences.

    Returns
    -------
    np.ndarray
        int8 base indices of shape ``(n, length)`` (0=A, 1=C, 2=G, 3=T).
    """
    if n < 0 or length < 1:
        raise ValueError(f"n must be >= 0 and length >= 1, got n={n}, length={length}")
    rng = np.random.default_rng(rng)
    bg = background or load_background()
    k, trans = bg["order"], np.cumsum(bg["transitions"], axis=1)
    out = np.empty((n, length), dtype=np.int8)
    first = min(k, length)
    out[:, :first] = (rng.random((n, first, 1)) > np.cumsum(bg["base_freq"])).sum(-1).clip(0, 3)
    ctx = np.zeros(n, dtype=np.int64)
    for j in range(first):
        ctx = ctx * 4 + out[:, j]
    mask = 4 ** k
    u = rng.random((n, length))
    for j in range(first, length):
        b = (u[:, j, None] > trans[ctx]).sum(1).clip(0, 3)
        out[:, j] = b
        ctx = (ctx * 4 + b) % mask
    return out


# --------------------------------------------------------------------------- simulator
@dataclass(frozen=True)
class SimulationPreset:
    """Knobs of the CTCF ChIP-seq-like simulator.

    Attributes
    ----------
    p_bound_without_site : float
        Fraction of bound sequences with no CTCF site (indirect binding, a weak
        site the peak caller missed).
    p_unbound_with_site : float
        Fraction of unbound sequences that nevertheless carry a CTCF instance near
        the centre (e.g. a methylated, inaccessible site).
    flank_site_rate : float
        Probability that a sequence of either class carries an extra CTCF instance
        in its flanks, at least ``flank_offset`` nt from the centre: sites away from
        the summit that do not explain the peak (not recorded in ``sites``).
    flank_offset : int
        Minimum distance (nt) between a flank site and the sequence centre.
    center_jitter : float
        Standard deviation (nt) of the site's position around the centre (peak summits).
    min_site_score : float
        Instances of bound sequences are resampled until their log-odds score
        reaches this value (bound sites are strong ones); unbound sites are not filtered.
    decoy_rate : float
        Mean number of decoy motifs (other factors) per sequence, in both classes.
    half_site_rate : float
        Mean number of CTCF half-sites (the 5' or 3' half of an instance) per
        sequence, in both classes: they share k-mers with real sites but do not bind.
    """

    p_bound_without_site: float = 0.19
    p_unbound_with_site: float = 0.08
    center_jitter: float = 25.0
    min_site_score: float = 6.0
    decoy_rate: float = 1.5
    flank_site_rate: float = 1.0
    flank_offset: int = 50
    half_site_rate: float = 1.0


PRESETS: dict[str, SimulationPreset] = {
    "default": SimulationPreset(),
    "hard": SimulationPreset(p_bound_without_site=0.27, p_unbound_with_site=0.13,
                             center_jitter=35.0, min_site_score=3.0, decoy_rate=2.5),
}


@dataclass
class CTCFData:
    """Train/valid/test splits of one-hot DNA with binding labels.

    Attributes
    ----------
    x_train, x_valid, x_test : np.ndarray
        float32 ``(N, L, 4)``.
    y_train, y_valid, y_test : np.ndarray
        float32 ``(N,)`` in {0, 1}.
    sites : dict or None
        For simulated data, ``sites[split]`` is a dict of int arrays of shape ``(N,)``:
        ``start`` (first position of the planted CTCF instance, -1 when none) and
        ``strand`` (+1 forward, -1 reverse complement, 0 when none).  None for real files.
    source : str
        Where the data came from (a file path or the simulator's settings).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    sites: dict | None = None
    source: str = ""
    motif_width: int = field(default=19)

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(x, y)`` of split ``name`` ('train', 'valid' or 'test')."""
        if name not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {name!r}")
        return getattr(self, f"x_{name}"), getattr(self, f"y_{name}")

    def summary(self) -> str:
        """One line per split: size, sequence length and fraction bound."""
        lines = []
        for s in SPLITS:
            x, y = self.split(s)
            lines.append(f"{s:>5}: {len(y):6d} sequences of {x.shape[1]} nt, {y.mean():.1%} bound")
        return "\n".join(lines)


def simulate_ctcf(n: int, length: int = 200, preset: str | SimulationPreset = "default",
                  seed: int = 0, p_bound: float = 0.5) -> tuple[np.ndarray, np.ndarray, dict]:
    """Simulate CTCF ChIP-seq-like sequences.

    Background DNA comes from an order-4 Markov chain fitted on real human sequence
    (:func:`load_background`).  Bound sequences carry a CTCF instance sampled from
    JASPAR MA0139.1 on a random strand near the centre (Gaussian jitter), except a
    fraction with no site; a fraction of unbound sequences carry a site anywhere;
    decoy motifs of other factors are planted in both classes.

    Parameters
    ----------
    n : int
        Number of sequences.
    length : int
        Sequence length (>= 60).
    preset : str or SimulationPreset
        ``'default'`` (a small CNN reaches about 0.85 test AUROC) or ``'hard'``.
    seed : int
        Everything is deterministic given the seed.
    p_bound : float
        Fraction of bound sequences.

    Returns
    -------
    X : np.ndarray
        float32 ``(n, length, 4)``.
    y : np.ndarray
        float32 ``(n,)``.
    sites : dict
        ``start`` and ``strand`` int arrays of shape ``(n,)`` (-1 / 0 where no site).
    """
    if isinstance(preset, str):
        if preset not in PRESETS:
            raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
        preset = PRESETS[preset]
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if not isinstance(length, (int, np.integer)) or length < 60:
        raise ValueError(f"length must be an integer >= 60, got {length!r}")
    if not 0 < p_bound < 1:
        raise ValueError(f"p_bound must be in (0, 1), got {p_bound}")
    rng = np.random.default_rng(seed)
    seqs = sample_background(n, length, rng)
    y = (rng.random(n) < p_bound).astype(np.float32)

    # decoys first, so a CTCF site planted later is never overwritten
    decoys = [counts_to_ppm(jaspar_counts(name)) for name in DECOY_NAMES]
    n_decoys = rng.poisson(preset.decoy_rate, size=n)
    owner = np.repeat(np.arange(n), n_decoys)
    kind = rng.integers(len(decoys), size=len(owner))
    for k, ppm in enumerate(decoys):
        rows = owner[kind == k]
        if len(rows):
            inst = sample_instances(ppm, len(rows), rng)
            pos = rng.integers(0, length - ppm.shape[0] + 1, size=len(rows))
            _plant(seqs, rows, inst, pos, rng)

    ctcf = counts_to_ppm(jaspar_counts("CTCF"))
    W = ctcf.shape[0]
    n_half = rng.poisson(preset.half_site_rate, size=n)
    owner = np.repeat(np.arange(n), n_half)
    if len(owner):
        half = W // 2
        inst = sample_instances(ctcf, len(owner), rng)
        inst = np.where((rng.random(len(owner)) < 0.5)[:, None], inst[:, :half], inst[:, W - half:])
        pos = rng.integers(0, length - half + 1, size=len(owner))
        _plant(seqs, owner, inst, pos, rng)
    pwm = np.log2(ctcf / 0.25)
    centre = (length - W) / 2
    idx = np.nonzero(rng.random(n) < preset.flank_site_rate)[0]
    offset = int(min(preset.flank_offset, centre - 1))
    left = rng.integers(0, int(centre) - offset + 1, size=len(idx))
    pos = np.where(rng.random(len(idx)) < 0.5, left, (length - W) - left)
    _plant(seqs, idx, sample_instances(ctcf, len(idx), rng), pos, rng)

    start = np.full(n, -1, dtype=np.int64)
    strand = np.zeros(n, dtype=np.int64)
    bound_site = (y == 1) & (rng.random(n) >= preset.p_bound_without_site)
    unbound_site = (y == 0) & (rng.random(n) < preset.p_unbound_with_site)

    # bound: strong instances near the centre; resample weak ones (vectorised rejection)
    idx = np.nonzero(bound_site)[0]
    inst = sample_instances(ctcf, len(idx), rng)
    for _ in range(50):
        weak = pwm[np.arange(W), inst].sum(1) < preset.min_site_score
        if not weak.any():
            break
        inst[weak] = sample_instances(ctcf, int(weak.sum()), rng)
    pos = np.clip(np.rint(rng.normal(centre, preset.center_jitter, len(idx))), 0, length - W).astype(int)
    _plant(seqs, idx, inst, pos, rng, start, strand)

    idx = np.nonzero(unbound_site)[0]
    inst = sample_instances(ctcf, len(idx), rng)
    pos = np.clip(np.rint(rng.normal(centre, preset.center_jitter, len(idx))), 0, length - W).astype(int)
    _plant(seqs, idx, inst, pos, rng, start, strand)

    X = np.eye(4, dtype=np.float32)[seqs]
    return X, y, {"start": start, "strand": strand}


def _plant(seqs, idx, inst, pos, rng, start=None, strand=None) -> None:
    """Write instances ``(k, W)`` into ``seqs[idx]`` at ``pos``, half of them reverse-complemented."""
    W = inst.shape[1]
    rev = rng.random(len(idx)) < 0.5
    inst = np.where(rev[:, None], 3 - inst[:, ::-1], inst)
    seqs[idx[:, None], pos[:, None] + np.arange(W)] = inst
    if start is not None:
        start[idx] = pos
        strand[idx] = np.where(rev, -1, 1)


def default_sizes() -> dict[str, int]:
    """Split sizes: the course's ~50k training sequences in full mode, small in quick mode."""
    return config.pick(full={"train": 50_000, "valid": 5_000, "test": 5_000},
                       quick={"train": 4_000, "valid": 1_000, "test": 1_000})


def make_ctcf_data(sizes: dict[str, int] | None = None, length: int = 200,
                   preset: str | SimulationPreset = "default", seed: int = 0) -> CTCFData:
    """Simulate the three splits (each from its own seed, so they never share sequences)."""
    sizes = sizes or default_sizes()
    missing = set(SPLITS) - set(sizes)
    if missing:
        raise ValueError(f"sizes must give a size for each of {SPLITS}; missing {sorted(missing)}")
    out, sites = {}, {}
    for k, s in enumerate(SPLITS):
        X, y, st = simulate_ctcf(int(sizes[s]), length, preset, seed=seed * 10 + k)
        out[f"x_{s}"], out[f"y_{s}"], sites[s] = X, y, st
    name = preset if isinstance(preset, str) else "custom"
    return CTCFData(**out, sites=sites, source=f"simulated (preset={name}, seed={seed}, sizes={dict(sizes)})")


# --------------------------------------------------------------------------- h5 files
def _open_h5(path: Path, kind: str):
    """Open ``path`` read-only, with clear errors for a missing or unreadable file."""
    import h5py

    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise ValueError(f"{path}: not a readable {kind} file ({err})") from None


def _check_xy(x: np.ndarray, y: np.ndarray, split: str, where: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 3 or 4 not in (x.shape[1], x.shape[2]):
        raise ValueError(f"{where}: x_{split} must have shape (N, 4, L) or (N, L, 4), got {x.shape}")
    if x.shape[1] == 4 and x.shape[2] != 4:
        x = x.transpose(0, 2, 1)
    y = y.reshape(len(y), -1) if y.ndim > 1 else y
    if y.ndim == 2:
        if y.shape[1] != 1:
            raise ValueError(f"{where}: y_{split} must have shape (N,) or (N, 1), got {y.shape}")
        y = y[:, 0]
    if len(x) != len(y):
        raise ValueError(f"{where}: x_{split} has {len(x)} rows but y_{split} has {len(y)}")
    if not np.isfinite(y.astype(float)).all():
        raise ValueError(f"{where}: y_{split} contains NaN or inf values")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"{where}: y_{split} must hold 0/1 labels, found {np.unique(y)[:5]}")
    x = validate_one_hot(x, name=f"{where}: x_{split}")
    return np.ascontiguousarray(x, dtype=np.float32), y.astype(np.float32)


def read_ctcf_h5(path: str | Path) -> CTCFData:
    """Read a file in the course's ``CTCF_200.h5`` layout.

    Expected keys: ``x_train, y_train, x_valid, y_valid, x_test, y_test`` with ``x`` of
    shape ``(N, 4, L)`` (``(N, L, 4)`` is accepted too) and ``y`` of shape ``(N,)`` or
    ``(N, 1)``.  Optional ``start_<split>`` / ``strand_<split>`` hold planted sites.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file and the key that is missing or malformed.
    """
    path = Path(path)
    with _open_h5(path, "HDF5") as f:
        missing = [f"{p}_{s}" for s in SPLITS for p in ("x", "y") if f"{p}_{s}" not in f]
        if missing:
            raise ValueError(f"{path}: missing keys {missing}; found {sorted(f.keys())}")
        arrays, sites = {}, {}
        for s in SPLITS:
            try:
                x, y = f[f"x_{s}"][()], f[f"y_{s}"][()]
            except OSError as err:
                raise ValueError(f"{path}: cannot read x_{s}/y_{s} (truncated file?): {err}") from None
            arrays[f"x_{s}"], arrays[f"y_{s}"] = _check_xy(x, y, s, str(path))
            if f"start_{s}" in f and f"strand_{s}" in f:
                sites[s] = {"start": f[f"start_{s}"][()].astype(np.int64),
                            "strand": f[f"strand_{s}"][()].astype(np.int64)}
        source = f.attrs.get("source", str(path))
    lengths = {arrays[f"x_{s}"].shape[1] for s in SPLITS}
    if len(lengths) != 1:
        raise ValueError(f"{path}: splits have different sequence lengths {sorted(lengths)}")
    return CTCFData(**arrays, sites=sites if len(sites) == 3 else None,
                    source=source if isinstance(source, str) else str(path))


def write_ctcf_h5(data: CTCFData, path: str | Path) -> Path:
    """Write ``data`` in the ``CTCF_200.h5`` layout (x as ``(N, 4, L)`` uint8).

    The file is written under a temporary name and renamed at the end, so an
    interrupted write never leaves a partial file under ``path``.
    """
    import h5py

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    checked = {}
    for s in SPLITS:
        checked[s] = _check_xy(getattr(data, f"x_{s}"), getattr(data, f"y_{s}"), s, "data")
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            for s, (x, y) in checked.items():
                f.create_dataset(f"x_{s}", data=x.transpose(0, 2, 1).astype(np.uint8), compression="gzip",
                                 compression_opts=1, chunks=True)
                f.create_dataset(f"y_{s}", data=y.astype(np.uint8))
                if data.sites is not None:
                    f.create_dataset(f"start_{s}", data=data.sites[s]["start"].astype(np.int16))
                    f.create_dataset(f"strand_{s}", data=data.sites[s]["strand"].astype(np.int8))
            f.attrs["source"] = data.source
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def load_ctcf(preset: str = "default", seed: int = 0, sizes: dict[str, int] | None = None,
              path: str | Path | None = None, cache: bool = True) -> CTCFData:
    """Load the CTCF binding data: your own file if there is one, else the simulated set.

    Order of precedence:

    1. ``path`` when given (a ``CTCF_200.h5``-layout file).
    2. ``data_dir()/CTCF_200.h5`` when it exists (put the course's real file there).
    3. The simulator, cached in ``data_dir()/cache`` (a corrupt cache is rebuilt).

    Parameters
    ----------
    preset : str
        Simulator preset (``'default'`` or ``'hard'``).
    seed : int
        Simulator seed.
    sizes : dict, optional
        ``{'train': n, 'valid': n, 'test': n}``; :func:`default_sizes` when omitted.
    path : str or Path, optional
        Explicit file to read.
    cache : bool
        Keep the simulated data on disk for the next call.

    Returns
    -------
    CTCFData
        Arrays ``(N, L, 4)`` float32 and labels ``(N,)`` float32.
    """
    if path is not None:
        return read_ctcf_h5(path)
    real = config.data_dir() / "CTCF_200.h5"
    if real.is_file():
        return read_ctcf_h5(real)
    sizes = sizes or default_sizes()
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    if not cache:
        return make_ctcf_data(sizes, preset=preset, seed=seed)
    tag = "_".join(str(sizes[s]) for s in SPLITS)
    cached = config.cache_dir() / f"ctcf_sim_{preset}_s{seed}_{tag}.h5"
    if cached.is_file():
        try:
            return read_ctcf_h5(cached)
        except (ValueError, OSError, KeyError) as err:
            warnings.warn(f"cached data {cached} is unreadable ({err}); rebuilding it", stacklevel=2)
            cached.unlink(missing_ok=True)
    data = make_ctcf_data(sizes, preset=preset, seed=seed)
    write_ctcf_h5(data, cached)
    return data


# --------------------------------------------------------------------------- toy genes
def toy_genes(n_samples: int = 1000, n_genes: int = 2, products: bool = True,
              seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Toy expression data of the autoencoder lesson.

    Each sample expresses each independent gene with its own probability
    ``p ~ Uniform(0, 1)`` (the value stored is that probability, in [0, 1]).
    With ``products=True`` every pair of independent genes adds a gene expressed
    only when both are (AND): its value is the product of the pair.

    Returns
    -------
    X : np.ndarray
        float32 ``(n_samples, n_genes + n_genes * (n_genes - 1) / 2)`` (without
        products: ``(n_samples, n_genes)``).
    names : list of str
        ``['g1', 'g2', 'g1*g2', ...]``.
    """
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    if not isinstance(n_genes, (int, np.integer)) or n_genes < 1:
        raise ValueError(f"n_genes must be a positive integer, got {n_genes!r}")
    rng = np.random.default_rng(seed)
    base = rng.random((n_samples, n_genes)).astype(np.float32)
    names = [f"g{i + 1}" for i in range(n_genes)]
    cols = [base]
    if products:
        for i in range(n_genes):
            for j in range(i + 1, n_genes):
                cols.append(base[:, i:i + 1] * base[:, j:j + 1])
                names.append(f"g{i + 1}*g{j + 1}")
    return np.concatenate(cols, axis=1), names


# --------------------------------------------------------------------------- PBMC expression
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


PBMC_FILE = "pbmc68k_reduced.h5ad"


def _dec(a) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in a]


def read_h5ad(path: str | Path, label_key: str = "bulk_labels", use_raw: bool = True) -> Expression:
    """Read an AnnData ``.h5ad`` file with h5py (no anndata/scanpy needed).

    Reads both the legacy layout (structured ``obs``/``var`` tables, as in the shipped
    PBMC file) and the current one (one group per column, categoricals as
    ``codes``/``categories``).  Sparse (CSR/CSC) or dense ``X`` are accepted.

    Parameters
    ----------
    path : str or Path
    label_key : str
        The ``obs`` column holding cell types.
    use_raw : bool
        Read ``raw/X`` (log-normalised expression) when present instead of ``X``.
    """
    path = Path(path)
    with _open_h5(path, "HDF5/h5ad") as f:
        raw = next((k for k in ("raw/X", "raw.X") if k in f), None) if use_raw else None
        xkey = raw or "X"
        if xkey not in f:
            raise ValueError(f"{path}: no expression matrix 'X' found; keys are {sorted(f.keys())}")
        X = _read_matrix(f[xkey])
        var_key = {"raw/X": "raw/var", "raw.X": "raw.var"}.get(xkey, "var")
        var_grp = f[var_key] if var_key in f else f["var"]
        genes = _read_index(var_grp)
        labels = _read_obs_column(f["obs"], label_key, f, path)
    if X.shape != (len(labels), len(genes)):
        raise ValueError(f"{path}: X has shape {X.shape} but obs has {len(labels)} rows and var {len(genes)}")
    if not np.isfinite(X).all():
        raise ValueError(f"{path}: expression matrix contains NaN or inf values")
    return Expression(X=X, genes=genes, labels=np.asarray(labels))


def _read_matrix(node) -> np.ndarray:
    import h5py

    if isinstance(node, h5py.Dataset):
        return node[()].astype(np.float32)
    from scipy import sparse

    attrs = dict(node.attrs)
    fmt = attrs.get("encoding-type", attrs.get("h5sparse_format", "csr"))
    fmt = fmt.decode() if isinstance(fmt, bytes) else str(fmt)
    shape = tuple(int(v) for v in attrs.get("shape", attrs.get("h5sparse_shape")))
    cls = sparse.csc_matrix if "csc" in fmt else sparse.csr_matrix
    m = cls((node["data"][()], node["indices"][()], node["indptr"][()]), shape=shape)
    return np.asarray(m.toarray(), dtype=np.float32)


def _read_index(grp) -> list[str]:
    import h5py

    if isinstance(grp, h5py.Dataset):  # legacy structured table
        return _dec(grp["index"])
    key = grp.attrs.get("_index", "_index")
    key = key.decode() if isinstance(key, bytes) else key
    return _dec(grp[key][()])


def _read_obs_column(obs, key: str, f, path) -> list[str]:
    import h5py

    if isinstance(obs, h5py.Dataset):  # legacy: codes in obs, categories in uns
        if key not in (obs.dtype.names or ()):
            raise ValueError(f"{path}: obs has no column {key!r}; columns are {list(obs.dtype.names)}")
        codes = obs[key]
        cats_key = f"uns/{key}_categories"
        if cats_key in f:
            cats = _dec(f[cats_key][()])
            return [cats[c] for c in codes]
        return _dec(codes)
    if key not in obs:
        raise ValueError(f"{path}: obs has no column {key!r}; columns are {sorted(obs.keys())}")
    col = obs[key]
    if isinstance(col, h5py.Group):  # categorical
        cats = _dec(col["categories"][()])
        return [cats[c] for c in col["codes"][()]]
    if "categories" in col.attrs:  # anndata 0.7 style
        cats = _dec(f[col.attrs["categories"]][()])
        return [cats[c] for c in col[()]]
    return _dec(col[()])


def load_pbmc(use_raw: bool = True) -> Expression:
    """Real single-cell RNA-seq: PBMC 68k reduced (700 cells x 765 genes, 10 cell types).

    The file ships in ``data/`` (see ``data/README.md`` for provenance); with
    ``use_raw=True`` the log-normalised expression is returned, otherwise the scaled
    (z-scored) matrix stored in ``X``.
    """
    candidates = [config.data_dir() / PBMC_FILE]
    if config.REPO_DIR is not None:
        candidates.append(config.REPO_DIR / "data" / PBMC_FILE)
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        raise FileNotFoundError(
            f"{PBMC_FILE} not found in {[str(c.parent) for c in candidates]}; it ships in the repository's "
            "data/ folder (in Colab, run the notebook's setup cell, which clones the repository)")
    return read_h5ad(path, use_raw=use_raw)


def main() -> None:
    """Build (or check) the cached simulated data: ``python -m workshop_utils.datasets``."""
    import time

    for preset in PRESETS:
        t = time.perf_counter()
        data = load_ctcf(preset=preset)
        print(f"CTCF data, preset={preset!r}: {data.source} ({time.perf_counter() - t:.1f} s)")
        print(data.summary())
    pbmc = load_pbmc()
    print(f"PBMC: {pbmc.X.shape[0]} cells x {pbmc.X.shape[1]} genes, {len(pbmc.cell_types)} cell types")


if __name__ == "__main__":
    main()
