"""The CTCF binding data of the workshop: the simulator and the ``CTCF_200.h5`` files.

Arrays follow the package layout: one-hot DNA ``(N, L, 4)`` float32 (A, C, G, T),
labels ``(N,)`` float32 in {0, 1}.  Files in the course's ``CTCF_200.h5`` layout store
``x`` as ``(N, 4, L)``; :func:`read_ctcf_h5` transposes once on reading and
:func:`write_ctcf_h5` once on writing.

The other data of the course live next to the code that uses them:
:mod:`workshop_utils.expression_data` (PBMC single-cell expression, ``.h5ad`` files)
and :mod:`workshop_utils.toy_data` (the autoencoder lesson's toy genes).
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import _checks, config
from ._atomic import atomic_path
from .motifs import DECOY_NAMES, counts_to_ppm, jaspar_counts, sample_instances

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
    fn = "sample_background"
    n = _checks.non_negative_int(n, "n", fn)
    length = _checks.positive_int(length, "length", fn)
    rng = _checks.rng(rng, "rng", fn)
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
    pair_spacing : tuple of two ints or None
        None (the classic simulator) or the motif-grammar simulator: every sequence of
        both classes carries a *pair* of strong CTCF instances anywhere along it, and
        only a convergent pair (forward site, then a reverse-complement site) whose
        starts lie ``pair_spacing[0]..pair_spacing[1]`` nt apart binds.  Unbound
        sequences carry the same sites in a wrong grammar: convergent at a spacing
        drawn from ``other_spacing``, or the preferred spacing in a wrong orientation
        (tandem or divergent), or both wrong.  Bound and unbound sequences then have
        the same motif content, so only the arrangement tells them apart.  In this
        mode ``p_bound_without_site`` is the fraction of bound sequences whose pair
        is in a wrong grammar and ``p_unbound_with_site`` the fraction of unbound ones
        whose pair is in the binding grammar (label noise); ``center_jitter`` is unused.
    other_spacing : tuple of two ints
        Range of start-to-start distances (nt) of the wrong-spacing pairs; those within
        ``spacing_margin`` nt of ``pair_spacing`` are left out.
    spacing_margin : int
        Smallest difference (nt) between a wrong spacing and the preferred range.
    """

    p_bound_without_site: float = 0.19
    p_unbound_with_site: float = 0.08
    center_jitter: float = 25.0
    min_site_score: float = 6.0
    decoy_rate: float = 1.5
    flank_site_rate: float = 1.0
    flank_offset: int = 50
    half_site_rate: float = 1.0
    pair_spacing: tuple[int, int] | None = None
    other_spacing: tuple[int, int] = (36, 70)
    spacing_margin: int = 3


PRESETS: dict[str, SimulationPreset] = {
    "default": SimulationPreset(),
    "hard": SimulationPreset(p_bound_without_site=0.27, p_unbound_with_site=0.13,
                             center_jitter=35.0, min_site_score=3.0, decoy_rate=2.5),
    # motif grammar: a convergent pair whose starts are 25-27 nt apart binds; the same
    # sites 19-21 or 31-36 nt apart, or in another orientation, do not.  A one-layer CNN
    # with 25-nt pooling sees the sites and (mostly) their order, not their exact spacing
    # (benchmarks/architecture_matters.py).
    "grammar": SimulationPreset(p_bound_without_site=0.02, p_unbound_with_site=0.02, flank_site_rate=0.5,
                                pair_spacing=(25, 27), other_spacing=(19, 36), spacing_margin=3),
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
        _checks.one_of(name, "name", "CTCFData.split", SPLITS)
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
        ``'default'`` (a small CNN reaches about 0.85 test AUROC), ``'hard'``, or
        ``'grammar'`` (binding depends on the spacing and orientation of a pair of
        sites; see :class:`SimulationPreset` ``pair_spacing``).
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
        ``start`` and ``strand`` int arrays of shape ``(n,)`` (-1 / 0 where no site);
        for a grammar preset, those of the pair's first site, plus ``spacing`` (the
        start-to-start distance of the pair) and ``strand2`` (its second site's strand).
    """
    fn = "simulate_ctcf"
    preset = _preset(preset, fn)
    n = _checks.positive_int(n, "n", fn)
    length = _checks.positive_int(length, "length", fn, minimum=60)
    p_bound = _checks.number(p_bound, "p_bound", fn, low=0, high=1, low_open=True, high_open=True)
    rng = _checks.rng(seed, "seed", fn)
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

    if preset.pair_spacing is not None:
        return _plant_pairs(seqs, y, preset, ctcf, pwm, rng)

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


def _strong_instances(ppm, pwm, k, min_score, rng) -> np.ndarray:
    """``k`` instances of ``ppm`` resampled until their log-odds score reaches ``min_score``."""
    inst = sample_instances(ppm, k, rng)
    W = ppm.shape[0]
    for _ in range(50):
        weak = pwm[np.arange(W), inst].sum(1) < min_score
        if not weak.any():
            break
        inst[weak] = sample_instances(ppm, int(weak.sum()), rng)
    return inst


def _plant_pairs(seqs, y, preset, ppm, pwm, rng) -> tuple[np.ndarray, np.ndarray, dict]:
    """The grammar simulator: one pair of strong CTCF sites per sequence (see ``pair_spacing``)."""
    n, length = seqs.shape
    W = ppm.shape[0]
    lo, hi = preset.pair_spacing
    olo, ohi = preset.other_spacing
    if not W <= lo <= hi or not W <= olo <= ohi or hi + W > length or ohi + W > length:
        raise ValueError(f"simulate_ctcf: pair spacings must be >= the motif width {W} and fit in "
                         f"{length} nt, got pair_spacing={preset.pair_spacing}, other_spacing={preset.other_spacing}")
    good = np.where(y == 1, rng.random(n) >= preset.p_bound_without_site, rng.random(n) < preset.p_unbound_with_site)
    # wrong grammar: 0 = convergent at a wrong spacing, 1 = wrong orientation, 2 = both wrong
    kind = rng.integers(3, size=n)
    right_spacing = good | (kind == 1)
    right_strands = good | (kind == 0)
    others = np.array([d for d in range(olo, ohi + 1)
                       if not lo - preset.spacing_margin <= d <= hi + preset.spacing_margin])
    if not len(others):
        raise ValueError(f"simulate_ctcf: other_spacing={preset.other_spacing} leaves no spacing "
                         f"{preset.spacing_margin} nt away from pair_spacing={preset.pair_spacing}")
    spacing = np.where(right_spacing, rng.integers(lo, hi + 1, size=n), others[rng.integers(len(others), size=n)])
    # strands of (first, second) site: convergent = (+1, -1); wrong: tandem (+,+), (-,-) or divergent (-,+)
    wrong = np.array([[1, 1], [-1, -1], [-1, 1]])[rng.integers(3, size=n)]
    strands = np.where(right_strands[:, None], np.array([1, -1]), wrong)
    first = (rng.random(n) * (length - spacing - W + 1)).astype(np.int64)
    rows = np.arange(n)
    for j, pos in enumerate((first, first + spacing)):
        inst = _strong_instances(ppm, pwm, n, preset.min_site_score, rng)
        inst = np.where(strands[:, j, None] < 0, 3 - inst[:, ::-1], inst)
        seqs[rows[:, None], pos[:, None] + np.arange(W)] = inst
    X = np.eye(4, dtype=np.float32)[seqs]
    return X, y, {"start": first, "strand": strands[:, 0].astype(np.int64),
                  "spacing": spacing.astype(np.int64), "strand2": strands[:, 1].astype(np.int64)}


def _preset(preset, fn: str) -> SimulationPreset:
    if isinstance(preset, SimulationPreset):
        return preset
    return PRESETS[_checks.one_of(preset, "preset", fn, sorted(PRESETS))]


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


def _sizes(sizes, fn: str) -> dict[str, int]:
    """``{'train': n, 'valid': n, 'test': n}`` of positive integers (the defaults when None)."""
    if sizes is None:
        return default_sizes()
    expected = f"a dict with a positive integer for each of {SPLITS}"
    if not isinstance(sizes, dict):
        raise _checks.fail(fn, "sizes", expected, _checks.describe(sizes), kind=_checks.ArgumentTypeError)
    missing, extra = set(SPLITS) - set(sizes), set(sizes) - set(SPLITS)
    if missing or extra:
        got = ", ".join(p for p in (f"missing {sorted(missing)}" if missing else "",
                                    f"unknown {sorted(map(str, extra))}" if extra else "") if p)
        raise _checks.fail(fn, "sizes", expected, got)
    return {s: _checks.positive_int(sizes[s], f"sizes[{s!r}]", fn) for s in SPLITS}


def make_ctcf_data(sizes: dict[str, int] | None = None, length: int = 200,
                   preset: str | SimulationPreset = "default", seed: int = 0) -> CTCFData:
    """Simulate the three splits (each from its own seed, so they never share sequences)."""
    fn = "make_ctcf_data"
    sizes = _sizes(sizes, fn)
    _preset(preset, fn)
    seed = _checks.non_negative_int(seed, "seed", fn)
    out, sites = {}, {}
    for k, s in enumerate(SPLITS):
        X, y, st = simulate_ctcf(sizes[s], length, preset, seed=seed * 10 + k)
        out[f"x_{s}"], out[f"y_{s}"], sites[s] = X, y, st
    name = preset if isinstance(preset, str) else "custom"
    return CTCFData(**out, sites=sites, source=f"simulated (preset={name}, seed={seed}, sizes={dict(sizes)})")


# --------------------------------------------------------------------------- h5 files
def _check_xy(x: np.ndarray, y: np.ndarray, split: str, where: str, fn: str) -> tuple[np.ndarray, np.ndarray]:
    """One split's ``x`` ``(N, 4, L)`` or ``(N, L, 4)`` and labels ``y``; named ``f"{where}: x_{split}"``."""
    xname, yname = f"{where}: x_{split}", f"{where}: y_{split}"
    x = _checks.finite_array(x, xname, fn, ndim=3, dtype=np.float32)
    if 4 not in (x.shape[1], x.shape[2]):
        raise _checks.fail(fn, xname, "one-hot DNA of shape (N, 4, L) or (N, L, 4)", f"shape {x.shape}")
    if x.shape[1] == 4 and x.shape[2] != 4:
        x = x.transpose(0, 2, 1)
    x = _checks.one_hot(x, xname, fn)
    if not (x == 1).any():
        raise _checks.fail(fn, xname, "one-hot DNA with at least one known base",
                           "only N (every position all 0 or all 0.25)",
                           hint="an empty or wrongly written file: check how x was saved")
    y = _checks.binary_labels(y, yname, fn, n=len(x))
    return np.ascontiguousarray(x), y


def _read_sites(f, s: str, n: int, where: str, fn: str) -> dict | None:
    if f"start_{s}" not in f or f"strand_{s}" not in f:
        return None
    sites = {"start": np.asarray(f[f"start_{s}"][()]).astype(np.int64),
             "strand": np.asarray(f[f"strand_{s}"][()]).astype(np.int64)}
    for key, arr in sites.items():
        if arr.shape != (n,):
            raise _checks.fail(fn, f"{where}: {key}_{s}", f"an array of shape ({n},), one per sequence",
                               f"shape {arr.shape}")
    return sites


def read_ctcf_h5(path: str | Path) -> CTCFData:
    """Read a file in the course's ``CTCF_200.h5`` layout.

    Expected keys: ``x_train, y_train, x_valid, y_valid, x_test, y_test`` with ``x`` of
    shape ``(N, 4, L)`` (``(N, L, 4)`` is accepted too) and ``y`` of shape ``(N,)`` or
    ``(N, 1)`` in {0, 1}.  Optional ``start_<split>`` / ``strand_<split>`` hold planted
    sites.  A split whose ``x`` has no known base at all (all zeros: an empty or
    wrongly written file) is refused rather than read as all-``N`` data.

    Raises
    ------
    FileNotFoundError, IsADirectoryError, ValueError
        Naming the file and the key that is missing or malformed.
    """
    fn = "read_ctcf_h5"
    with _checks.h5_file(path, "path", fn) as f:
        path = Path(f.filename)
        missing = [f"{p}_{s}" for s in SPLITS for p in ("x", "y") if f"{p}_{s}" not in f]
        if missing:
            raise ValueError(f"{fn}: {path} must hold the keys x_/y_ train, valid, test; missing keys {missing}; "
                             f"found {sorted(f.keys())}")
        arrays, sites = {}, {}
        for s in SPLITS:
            try:
                x, y = f[f"x_{s}"][()], f[f"y_{s}"][()]
            except (OSError, TypeError, ValueError, KeyError) as err:
                raise ValueError(f"{fn}: {path}: cannot read x_{s}/y_{s} (truncated file?): {err}") from None
            arrays[f"x_{s}"], arrays[f"y_{s}"] = _check_xy(x, y, s, str(path), fn)
            found = _read_sites(f, s, len(arrays[f"y_{s}"]), str(path), fn)
            if found is not None:
                sites[s] = found
        source = f.attrs.get("source", str(path))
    lengths = {arrays[f"x_{s}"].shape[1] for s in SPLITS}
    if len(lengths) != 1:
        raise ValueError(f"{fn}: {path}: the splits must have one sequence length, got lengths {sorted(lengths)}")
    return CTCFData(**arrays, sites=sites if len(sites) == 3 else None,
                    source=source if isinstance(source, str) else str(path))


def write_ctcf_h5(data: CTCFData, path: str | Path) -> Path:
    """Write ``data`` in the ``CTCF_200.h5`` layout (x as ``(N, 4, L)``).

    ``x`` is stored as uint8 when it is strictly one-hot, as float32 when it holds
    ``N`` rows of 0.25 (so they read back as 0.25, not 0).  The file is written under a
    temporary name in the same folder and renamed over ``path`` at the end, so an
    interrupted write never leaves a partial file and never destroys the previous one.
    """
    import h5py

    fn = "write_ctcf_h5"
    if not isinstance(data, CTCFData):
        raise _checks.fail(fn, "data", "a CTCFData", _checks.describe(data), kind=_checks.ArgumentTypeError)
    if not isinstance(path, (str, Path)):
        raise _checks.fail(fn, "path", "a file path (str or Path)", _checks.describe(path),
                           kind=_checks.ArgumentTypeError)
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{fn}: path must be a file name, got {str(path)!r}, which is a directory, "
                                "not a file")
    checked = {s: _check_xy(getattr(data, f"x_{s}"), getattr(data, f"y_{s}"), s, "data", fn) for s in SPLITS}
    if data.sites is not None:
        for s, (x, _) in checked.items():
            for key in ("start", "strand"):
                arr = np.asarray(data.sites.get(s, {}).get(key, ()))
                if arr.shape != (len(x),):
                    raise _checks.fail(fn, f"data.sites[{s!r}][{key!r}]", f"an array of shape ({len(x)},)",
                                       f"shape {arr.shape}")
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        for s, (x, y) in checked.items():
            stored = x.transpose(0, 2, 1)
            stored = stored.astype(np.uint8) if np.isin(stored, (0, 1)).all() else stored.astype(np.float32)
            f.create_dataset(f"x_{s}", data=stored, compression="gzip", compression_opts=1, chunks=True)
            f.create_dataset(f"y_{s}", data=y.astype(np.uint8))
            if data.sites is not None:
                f.create_dataset(f"start_{s}", data=np.asarray(data.sites[s]["start"]).astype(np.int16))
                f.create_dataset(f"strand_{s}", data=np.asarray(data.sites[s]["strand"]).astype(np.int8))
        f.attrs["source"] = data.source
    return path


def simulated_cache_path(preset: str = "default", seed: int = 0, sizes: dict[str, int] | None = None) -> Path:
    """The cache file that :func:`load_ctcf` reads and writes for these simulator settings.

    The single definition of the cache's name (the grader copies the course data with it).
    The file may not exist yet.
    """
    return _cache_path(preset, seed, sizes, "simulated_cache_path")


def _cache_path(preset, seed, sizes, fn: str) -> Path:
    preset = _checks.one_of(preset, "preset", fn, sorted(PRESETS))
    seed = _checks.non_negative_int(seed, "seed", fn)
    sizes = _sizes(sizes, fn)
    tag = "_".join(str(sizes[s]) for s in SPLITS)
    return config.cache_dir() / f"ctcf_sim_{preset}_s{seed}_{tag}.h5"


def course_data_files() -> list[Path]:
    """The files ``load_ctcf()`` (default arguments) reads now: those that exist.

    ``data_dir()/CTCF_200.h5`` when the real file is there, else the simulated cache
    (:func:`simulated_cache_path`) once it has been built; an empty list before that.
    """
    real = config.data_dir() / "CTCF_200.h5"
    if real.is_file():
        return [real]
    return [p for p in [simulated_cache_path()] if p.is_file()]


def load_ctcf(preset: str = "default", seed: int = 0, sizes: dict[str, int] | None = None,
              path: str | Path | None = None, cache: bool = True) -> CTCFData:
    """Load the CTCF binding data: your own file if there is one, else the simulated set.

    Order of precedence:

    1. ``path`` when given (a ``CTCF_200.h5``-layout file).
    2. ``data_dir()/CTCF_200.h5`` when it exists (put the course's real file there).
    3. The simulator, cached in :func:`simulated_cache_path` (a cache that cannot be read,
       whatever the damage, is rebuilt with a warning).

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
    fn = "load_ctcf"
    if path is not None:
        _checks.file_path(path, "path", fn)
        return read_ctcf_h5(path)
    cache = _checks.flag(cache, "cache", fn)
    cached = _cache_path(preset, seed, sizes, fn)  # checks preset, seed and sizes
    real = config.data_dir() / "CTCF_200.h5"
    if real.is_file():
        return read_ctcf_h5(real)
    sizes = _sizes(sizes, fn)
    if not cache:
        return make_ctcf_data(sizes, preset=preset, seed=seed)
    if cached.exists():
        try:
            return read_ctcf_h5(cached)
        except Exception as err:  # noqa: BLE001 - our own cache: whatever is wrong, rebuild it
            warnings.warn(f"cached data {cached} is unreadable ({type(err).__name__}: {err}); rebuilding it",
                          stacklevel=2)
    data = make_ctcf_data(sizes, preset=preset, seed=seed)
    try:
        write_ctcf_h5(data, cached)  # atomic: replaces a damaged cache in one step
    except OSError as err:  # a full disk or a read-only folder: the data are still good
        warnings.warn(f"could not cache the simulated data in {cached} ({err}); it will be simulated again "
                      "next time", stacklevel=2)
    return data


def main() -> None:
    """Build (or check) the cached simulated data: ``python -m workshop_utils.datasets``."""
    import time

    for preset in PRESETS:
        t = time.perf_counter()
        data = load_ctcf(preset=preset)
        print(f"CTCF data, preset={preset!r}: {data.source} ({time.perf_counter() - t:.1f} s)")
        print(data.summary())
    from .expression_data import load_pbmc

    pbmc = load_pbmc()
    print(f"PBMC: {pbmc.X.shape[0]} cells x {pbmc.X.shape[1]} genes, {len(pbmc.cell_types)} cell types")


if __name__ == "__main__":
    main()
