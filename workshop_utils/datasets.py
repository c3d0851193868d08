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

import hashlib
import json
import logging
import os
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import _checks, config
from ._atomic import atomic_path
from . import _moved

# Names that lived here in the last release (one more release with a DeprecationWarning).
__getattr__ = _moved.moved_names(__name__, {
    "read_h5ad": "workshop_utils.expression_data", "load_pbmc": "workshop_utils.expression_data",
    "Expression": "workshop_utils.expression_data", "PBMC_FILE": "workshop_utils.expression_data",
    "toy_genes": "workshop_utils.toy_data"})
from .motifs import DECOY_NAMES, counts_to_ppm, jaspar_counts, sample_instances

SPLITS = ("train", "valid", "test")

#: The course's own CTCF ChIP-seq data (51,156 sequences of 200 nt, the ``CTCF_200.h5`` layout).
COURSE_CTCF_URL = "https://www.dropbox.com/s/0ks4dk6md2l9mqx/CTCF_200.h5?dl=1"
#: sha256 of the course file: unknown until someone downloads it (``fetch_course_ctcf`` logs
#: the hash it sees; record it here and in ``data/README.md``).  None skips the check.
COURSE_CTCF_SHA256: str | None = None
#: Where ``load_ctcf`` gets its data when ``source`` is not given (values: :data:`SOURCES`).
SOURCE_ENV = "WORKSHOP_CTCF_SOURCE"
SOURCES = ("simulated", "course")
_log = logging.getLogger(__name__)
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
        the centre, placed like a bound one but not score-filtered (e.g. a methylated,
        inaccessible site).
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

    def __post_init__(self) -> None:
        """Refuse impossible settings when the preset is made, naming the field."""
        fn = "SimulationPreset"
        for name in ("p_bound_without_site", "p_unbound_with_site", "flank_site_rate"):
            object.__setattr__(self, name, _fraction(getattr(self, name), name, fn))
        for name in ("decoy_rate", "half_site_rate", "center_jitter"):
            hint = "a mean count per sequence" if name.endswith("_rate") else "a standard deviation in nt"
            value = getattr(self, name)
            if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) \
                    and value < 0:
                raise _checks.fail(fn, name, "a number >= 0", _checks.describe(value), hint=hint)
            object.__setattr__(self, name, _checks.number(value, name, fn, low=0.0))
        object.__setattr__(self, "min_site_score", _checks.number(self.min_site_score, "min_site_score", fn))
        object.__setattr__(self, "flank_offset", _checks.non_negative_int(self.flank_offset, "flank_offset", fn))
        object.__setattr__(self, "spacing_margin", _checks.non_negative_int(self.spacing_margin, "spacing_margin", fn))
        if self.pair_spacing is not None:
            object.__setattr__(self, "pair_spacing", _spacing(self.pair_spacing, "pair_spacing", fn))
        object.__setattr__(self, "other_spacing", _spacing(self.other_spacing, "other_spacing", fn))


def _fraction(value, name: str, fn: str) -> float:
    """A fraction in [0, 1]; a percentage such as 19 is refused with the fraction to write (``_checks.rate``)."""
    return _checks.rate(value, name, fn)


def _spacing(value, name: str, fn: str) -> tuple[int, int]:
    """``(low, high)``: two positive integers, ``low <= high`` (nt)."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise _checks.fail(fn, name, "a pair (low, high) of distances in nt", _checks.describe(value),
                           kind=_checks.ArgumentTypeError)
    lo = _checks.positive_int(value[0], f"{name}[0]", fn)
    hi = _checks.positive_int(value[1], f"{name}[1]", fn)
    if lo > hi:
        raise _checks.fail(fn, name, "a pair (low, high) with low <= high", _checks.describe(tuple(value)))
    return (lo, hi)


#: Bump when :func:`simulate_ctcf` draws differently for the same preset and seed: every
#: cached simulated data set then gets a new name (:func:`simulated_cache_path`) and is rebuilt.
SIMULATOR_VERSION = 1

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


def site_detector_auroc(data: CTCFData, split: str = "test") -> float:
    """AUROC of a perfect site detector on one split: the ceiling of a site-reading model.

    The simulator plants a CTCF site in most bound and a few unbound sequences
    (``data.sites[split]["start"] >= 0``).  A detector that answers "planted site: yes/no"
    without error ranks every sequence with a site above every one without and ties the
    rest, so its AUROC is exactly ``0.5 * (1 + a - b)`` with ``a`` the fraction of bound
    and ``b`` the fraction of unbound sequences that carry a site.  A model that only
    reads the site cannot beat it; the rest of the labels is noise by construction.
    For the ``default`` and ``hard`` presets; in the ``grammar`` preset every sequence
    carries sites (the grammar decides), so the number is 0.5 and says nothing.

    Parameters
    ----------
    data : CTCFData
        Simulated data with ``sites`` (real files have none).
    split : {'train', 'valid', 'test'}

    Returns
    -------
    float
        The AUROC in [0, 1], the same number as ``sklearn.metrics.roc_auc_score(y, has_site)``.
    """
    fn = "site_detector_auroc"
    if not isinstance(data, CTCFData):
        raise _checks.fail(fn, "data", "a CTCFData", _checks.describe(data), kind=_checks.ArgumentTypeError,
                           hint="load it with wu.load_ctcf()")
    split = _checks.one_of(split, "split", fn, SPLITS)
    if data.sites is None or split not in data.sites:
        raise _checks.fail(fn, "data.sites", "the planted sites of simulated data", "None",
                           hint="real data have no planted sites, so the ceiling is unknown")
    y = _checks.binary_labels(data.split(split)[1], f"data.y_{split}", fn)
    has_site = np.asarray(data.sites[split]["start"]) >= 0
    if has_site.shape != y.shape:
        raise _checks.fail(fn, f"data.sites[{split!r}]['start']", f"an array of shape {y.shape}",
                           f"shape {has_site.shape}")
    if y.min() == y.max():
        raise _checks.fail(fn, f"data.y_{split}", "labels of both classes", f"only {y[0]:g}")
    a, b = has_site[y == 1].mean(), has_site[y == 0].mean()
    return float(0.5 * (1.0 + a - b))


def simulate_ctcf(n: int, length: int = 200, preset: str | SimulationPreset = "default",
                  seed: int = 0, p_bound: float = 0.5) -> tuple[np.ndarray, np.ndarray, dict]:
    """Simulate CTCF ChIP-seq-like sequences.

    In this order (a later step writes over an earlier one where they overlap):

    1. Background DNA from an order-4 Markov chain fitted on real human sequence
       (:func:`load_background`); labels ``y`` drawn with probability ``p_bound``.
    2. Both classes: Poisson(``decoy_rate``) decoy motifs of other factors and
       Poisson(``half_site_rate``) CTCF half-sites (the 5' or 3' 9 nt), anywhere, on a
       random strand.
    3. Both classes: with probability ``flank_site_rate`` (1.0 in both presets, so every
       sequence) a full CTCF instance in a flank, starting at least ``flank_offset`` nt
       before or after the centre start ``(length - 19) / 2``; not score-filtered and not
       recorded in ``sites``.
    4. Bound sequences, except a fraction ``p_bound_without_site``: a CTCF instance of
       JASPAR MA0139.1 with log-odds score >= ``min_site_score`` (resampled until it is),
       on a random strand, starting at the centre plus Gaussian jitter
       (sd ``center_jitter``), clipped to the sequence.
    5. Unbound sequences, a fraction ``p_unbound_with_site``: a CTCF instance placed the
       same way as in step 4 (near the centre, Gaussian jitter), but not score-filtered.

    The sites of steps 4 and 5 are the ones returned in ``sites``.  So a CTCF site alone
    does not tell the classes apart (every sequence has a flank site); a strong site near
    the centre does, most of the time.

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
    best = float(np.log2(counts_to_ppm(jaspar_counts("CTCF")) / 0.25).max(1).sum())
    if preset.min_site_score >= best:  # the resampling would give up and plant weaker sites, silently
        raise _checks.fail(fn, "preset.min_site_score", f"below {best:.1f}, the best log-odds score a CTCF site "
                           "can reach", preset.min_site_score, hint="bound sites are resampled until they reach it")
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
        raise ValueError(f"simulate_ctcf: preset.pair_spacing and preset.other_spacing must be >= the motif width "
                         f"{W} and fit in length={length} nt, got pair_spacing={preset.pair_spacing}, "
                         f"other_spacing={preset.other_spacing}")
    good = np.where(y == 1, rng.random(n) >= preset.p_bound_without_site, rng.random(n) < preset.p_unbound_with_site)
    # wrong grammar: 0 = convergent at a wrong spacing, 1 = wrong orientation, 2 = both wrong
    kind = rng.integers(3, size=n)
    right_spacing = good | (kind == 1)
    right_strands = good | (kind == 0)
    others = np.array([d for d in range(olo, ohi + 1)
                       if not lo - preset.spacing_margin <= d <= hi + preset.spacing_margin])
    if not len(others):
        raise ValueError(f"simulate_ctcf: preset.other_spacing must leave a spacing {preset.spacing_margin} nt "
                         f"away from pair_spacing={preset.pair_spacing}, got other_spacing={preset.other_spacing}")
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
    The name holds the preset's name, the seed, the sizes and :func:`preset_key` (a hash
    of the preset's values and :data:`SIMULATOR_VERSION`), so editing ``PRESETS[name]``
    or the simulator gives another file.  The file may not exist yet.
    """
    return _cache_path(preset, seed, sizes, "simulated_cache_path")


def _cache_path(preset, seed, sizes, fn: str) -> Path:
    preset = _checks.one_of(preset, "preset", fn, sorted(PRESETS))
    seed = _checks.non_negative_int(seed, "seed", fn)
    sizes = _sizes(sizes, fn)
    tag = "_".join(str(sizes[s]) for s in SPLITS)
    return config.cache_dir() / f"ctcf_sim_{preset}_s{seed}_{tag}_{preset_key(PRESETS[preset])}.h5"


def preset_key(preset: SimulationPreset) -> str:
    """12 hex digits naming what a simulated data set is made from: the preset's values and
    :data:`SIMULATOR_VERSION` (so the cache of an edited preset, or of a changed simulator,
    has another name and is rebuilt instead of read back)."""
    if not isinstance(preset, SimulationPreset):
        raise _checks.fail("preset_key", "preset", "a SimulationPreset", _checks.describe(preset),
                           kind=_checks.ArgumentTypeError)
    text = json.dumps({"simulator": SIMULATOR_VERSION, "length": 200, **asdict(preset)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def course_data_files() -> list[Path]:
    """The files ``load_ctcf()`` (default arguments) reads now: those that exist.

    ``data_dir()/CTCF_200.h5`` when the real file is there, else the simulated cache
    (:func:`simulated_cache_path`) once it has been built; an empty list before that.
    """
    real = config.data_dir() / "CTCF_200.h5"
    if real.is_file():
        return [real]
    return [p for p in [simulated_cache_path()] if p.is_file()]


def course_download_dir() -> Path:
    """The folder :func:`fetch_course_ctcf` downloads into: ``data_dir()/downloads`` (git-ignored).

    Kept apart from ``data_dir()/CTCF_200.h5`` on purpose: a download never changes what
    ``load_ctcf()`` reads by default.
    """
    path = config.data_dir() / "downloads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sha256_arg(value, name: str, fn: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _checks.fail(fn, name, "None or a sha256 hex digest (str)", _checks.describe(value),
                           kind=_checks.ArgumentTypeError)
    digest = value.lower().removeprefix("sha256:")
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise _checks.fail(fn, name, "None or a sha256 hex digest (64 hex digits)", _checks.describe(value))
    return digest


def _url_arg(value, name: str, fn: str) -> str:
    if not isinstance(value, str):
        raise _checks.fail(fn, name, "an http(s) URL (str)", _checks.describe(value), kind=_checks.ArgumentTypeError)
    if not value.startswith(("http://", "https://")):
        raise _checks.fail(fn, name, "an http(s) URL", _checks.describe(value))
    return value


_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _not_hdf5(path: Path) -> str:
    """'' for a file with the HDF5 signature (at offset 0, 512, 1024, ...), else what it looks like."""
    with open(path, "rb") as f:
        head = f.read(4096)
        for offset in (0, 512, 1024, 2048):
            f.seek(offset)
            if f.read(8) == _HDF5_SIGNATURE:
                return ""
    text = head.lstrip()[:200].lower()
    if text.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")) or b"<html" in text:
        return f"an HTML page of {path.stat().st_size} bytes"
    if not head:
        return "an empty file"
    return f"{path.stat().st_size} bytes without the HDF5 signature"


def fetch_course_ctcf(url: str = COURSE_CTCF_URL, known_hash: str | None = COURSE_CTCF_SHA256,
                      folder: str | Path | None = None, retries: int = 2, timeout: float = 60.0,
                      progressbar: bool = True) -> Path:
    """Download the course's ``CTCF_200.h5`` once and return its local path.

    Built on ``pooch``: the file is cached in ``folder`` (a second call downloads
    nothing), a progress bar shows the download, a failed attempt is retried
    ``retries`` times (waiting 1 s, 2 s, ...), and a download is written under a
    temporary name and kept only when complete (and matching ``known_hash`` when one is
    given).  The sha256 of the file is logged (a warning while ``known_hash`` is None,
    so someone records it).  The file holds ``x_<split>`` ``(N, 4, 200)`` one-hot and
    ``y_<split>`` labels; read it with :func:`read_ctcf_h5` or ``load_ctcf(source="course")``.

    Parameters
    ----------
    url : str
        Where the file is (override it to use a mirror, or a local server in tests).
    known_hash : str or None
        Expected sha256 hex digest; None accepts any file (the hash is then logged).
    folder : str or Path, optional
        Download folder; :func:`course_download_dir` when omitted.
    retries : int
        Further attempts after a failed one.
    timeout : float
        Seconds to wait for the server before an attempt fails.
    progressbar : bool
        Show a tqdm progress bar.

    Returns
    -------
    Path
        The local file ``folder/CTCF_200.h5``.

    Raises
    ------
    ConnectionError
        The file could not be downloaded (offline, the link is gone: HTTP 404, ...).
    ValueError
        The downloaded file's sha256 differs from ``known_hash``, or it is not an HDF5
        file (an HTML page served with 200 OK): nothing is kept.  A cached file that is not
        HDF5 (from an older version) is deleted and downloaded again.
    """
    fn = "fetch_course_ctcf"
    url = _url_arg(url, "url", fn)
    known_hash = _sha256_arg(known_hash, "known_hash", fn)
    if folder is not None and not isinstance(folder, (str, os.PathLike)):
        raise _checks.fail(fn, "folder", "None or a folder path (str or Path)", _checks.describe(folder),
                           kind=_checks.ArgumentTypeError)
    retries = _checks.non_negative_int(retries, "retries", fn)
    timeout = _checks.number(timeout, "timeout", fn, low=0, low_open=True)
    progressbar = _checks.flag(progressbar, "progressbar", fn)
    folder = course_download_dir() if folder is None else Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise _checks.fail(fn, "folder", "a folder", f"{str(folder)!r}, which is a file")
    try:
        import pooch
        import requests
    except ImportError:  # pragma: no cover - pooch is a dependency
        raise ImportError(f"{fn} needs the package pooch: pip install pooch") from None

    name = "CTCF_200.h5"
    cached = folder / name
    if cached.is_file() and _not_hdf5(cached):  # an HTML page cached by an older version: never return it
        _log.warning("%s: %s is not an HDF5 file (%s); downloading it again", fn, cached, _not_hdf5(cached))
        cached.unlink()
    store = pooch.create(path=folder, base_url="", registry={name: known_hash and f"sha256:{known_hash}"},
                         urls={name: url}, retry_if_failed=retries)
    downloader = pooch.HTTPDownloader(progressbar=progressbar, timeout=timeout)
    try:
        path = Path(store.fetch(name, downloader=downloader))
    except requests.exceptions.RequestException as err:
        raise ConnectionError(f"{fn}: could not download {url} after {retries + 1} attempt(s): "
                              f"{type(err).__name__}: {err} (offline, or the link is gone)") from None
    except ValueError as err:
        raise ValueError(f"{fn}: the file downloaded from {url} is not the expected one, nothing was kept "
                         f"({err})") from None
    bad = _not_hdf5(path)
    if bad:  # e.g. a login or error page served with 200 OK: never keep it as the data
        path.unlink(missing_ok=True)
        raise ValueError(f"{fn}: the file downloaded from {url} must be an HDF5 file, got {bad}; nothing was kept "
                         "(the link may point to a web page: use the file's direct download link)")
    seen = pooch.file_hash(str(path), alg="sha256")
    if known_hash is None:
        _log.warning("%s: %s has sha256 %s (no known hash to check it against: record it in "
                     "workshop_utils.datasets.COURSE_CTCF_SHA256 and data/README.md)", fn, path, seen)
    else:
        _log.info("%s: %s has the expected sha256 %s", fn, path, seen)
    return path


def ctcf_source(source: str | None = None) -> str:
    """Where :func:`load_ctcf` takes its data: ``'simulated'`` (the default) or ``'course'``.

    ``source`` when given, else the environment variable ``WORKSHOP_CTCF_SOURCE``
    (set it before starting Jupyter, or ``os.environ[...]`` in the first cell, to switch a
    whole notebook to the course's real data), else ``'simulated'``.
    """
    fn = "ctcf_source"
    if source is not None:
        return _checks.one_of(source, "source", fn, SOURCES)
    value = os.environ.get(SOURCE_ENV, "")
    norm = value.strip().lower()
    if not norm:
        return "simulated"
    if norm not in SOURCES:
        raise _checks.fail(fn, f"the environment variable {SOURCE_ENV}", f"one of {', '.join(SOURCES)} or unset",
                           repr(value))
    return norm


def _subsample(data: CTCFData, sizes: dict[str, int], seed: int) -> CTCFData:
    """At most ``sizes[split]`` sequences of each split, drawn without replacement (seeded)."""
    rng = np.random.default_rng(seed)
    out = {}
    for s in SPLITS:
        x, y = data.split(s)
        keep = np.sort(rng.choice(len(y), sizes[s], replace=False)) if len(y) > sizes[s] else np.arange(len(y))
        out[f"x_{s}"], out[f"y_{s}"] = x[keep], y[keep]
    return CTCFData(**out, sites=None, source=f"{data.source} (subsampled to {dict(sizes)}, seed={seed})")


def _load_course(url: str, sizes, seed: int, fn: str) -> CTCFData | None:
    """The course's data (subsampled in quick mode or to explicit ``sizes``), or None with a warning."""
    try:
        path = fetch_course_ctcf(url, known_hash=COURSE_CTCF_SHA256)
    except (ConnectionError, ValueError, OSError, ImportError) as err:
        warnings.warn(f"{fn}: could not get the course's CTCF data ({err}); using the simulated data instead",
                      stacklevel=3)
        return None
    try:
        data = read_ctcf_h5(path)
    except (ValueError, OSError) as err:
        path.unlink(missing_ok=True)  # a damaged download: the next call downloads it again
        warnings.warn(f"{fn}: the downloaded course file is damaged and was removed ({err}); using the simulated "
                      "data instead", stacklevel=3)
        return None
    data.source = f"course data {url} ({path})"
    if sizes is not None or config.is_quick():
        data = _subsample(data, _sizes(sizes, fn), seed)
    return data


def load_ctcf(preset: str = "default", seed: int = 0, sizes: dict[str, int] | None = None,
              path: str | Path | None = None, cache: bool = True, source: str | None = None,
              url: str | None = None) -> CTCFData:
    """Load the CTCF binding data: your own file, the course's real data, or the simulated set.

    Order of precedence:

    1. ``path`` when given (a ``CTCF_200.h5``-layout file).
    2. ``source='course'`` (or the environment variable ``WORKSHOP_CTCF_SOURCE=course``):
       the course's real ChIP-seq data, downloaded once by :func:`fetch_course_ctcf`.
       In quick mode, or when ``sizes`` is given, each split is subsampled (``seed``) to
       ``sizes``.  Real data have no planted sites (``sites`` is None).  Offline, the
       link gone or a damaged download: a warning, and the simulated data below.
    3. ``data_dir()/CTCF_200.h5`` when it exists (put your own file there).
    4. The simulator, cached in :func:`simulated_cache_path` (a cache that cannot be read,
       whatever the damage, is rebuilt with a warning).  This is the default: its planted
       sites are what the interpretation lessons check attributions against.

    Parameters
    ----------
    preset : str
        Simulator preset (``'default'`` or ``'hard'``).
    seed : int
        Simulator seed (and the subsampling seed of the course data).
    sizes : dict, optional
        ``{'train': n, 'valid': n, 'test': n}``; :func:`default_sizes` when omitted.
    path : str or Path, optional
        Explicit file to read.
    cache : bool
        Keep the simulated data on disk for the next call.
    source : {'simulated', 'course'}, optional
        Where the data come from; :func:`ctcf_source` (the environment variable, else
        ``'simulated'``) when omitted.
    url : str, optional
        Where the course file is downloaded from; :data:`COURSE_CTCF_URL` when omitted.

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
    source = _checks.one_of(source, "source", fn, SOURCES) if source is not None else ctcf_source()
    url = COURSE_CTCF_URL if url is None else _url_arg(url, "url", fn)
    if source == "course":
        data = _load_course(url, sizes, seed, fn)
        if data is not None:
            return data
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


# --------------------------------------------------------------------------- real peaks
#: Real ChIP-seq peak sequences shipped in ``data/`` (200 nt around each summit, hg19;
#: provenance and license in ``data/README.md``).
REAL_PEAK_FILES = {"CTCF": "peaks_GM12878_CTCF_top500_w200.fa.gz", "TAp73alpha": "peaks_TAp73alpha_w200.fa.gz"}


def load_real_peaks(factor: str | os.PathLike = "CTCF", length: int = 200) -> tuple[np.ndarray, list[str]]:
    """Real ChIP-seq peak sequences, one-hot encoded: the two shipped sets, or your own FASTA file.

    ``'CTCF'``: the 500 strongest CTCF peaks of GM12878 cells (ENCODE); ``'TAp73alpha'``:
    1,000 peaks of the transcription factor TAp73alpha, a real control set of *another*
    factor.  Both are 200-nt windows centred on the peak summits (hg19), as shipped in
    the gimmemotifs package's examples (see ``data/README.md``).

    Any other peak set: pass the path of a FASTA file (plain or gzipped, e.g. from
    ``bedtools getfasta -fi hg38.fa -bed peaks.bed -fo peaks.fa`` on windows centred on the
    summits).  Sequences of any length are brought to ``length`` around their centres
    (:func:`workshop_utils.sequences.resize_centered`: the longer cropped, the shorter
    padded with ``N``); IUPAC ambiguity codes read as ``N``
    (:func:`workshop_utils.sequences.read_fasta`).

    Parameters
    ----------
    factor : {'CTCF', 'TAp73alpha'} or path
        A shipped set, or a FASTA file of peak sequences.
    length : int
        Length of the returned windows (the model's input: 200 nt for the course's models).

    Returns
    -------
    X : np.ndarray
        float32 ``(N, length, 4)`` (A, C, G, T; soft-masked lowercase bases count as bases,
        an ``N`` is 0.25 in each channel).
    names : list of str
        The FASTA names (``'chrom:start-end'`` for the shipped sets), in file order.

    Examples
    --------
    Discovery on an instructor's own peaks, with a model trained on the simulated data::

        X, names = wu.datasets.load_real_peaks("my_peaks.fa.gz")          # (N, 200, 4)
        found = wu.discovery.discover_motifs(model, X, method="gradient_x_input")
        found.patterns[["pattern", "n_seqlets", "frac_sequences", "match_name", "q_value"]]
    """
    from .sequences import one_hot_encode, read_fasta, resize_centered

    fn = "load_real_peaks"
    length = _checks.positive_int(length, "length", fn)
    if isinstance(factor, str) and factor in REAL_PEAK_FILES:
        name = REAL_PEAK_FILES[factor]
        candidates = [config.data_dir() / name]
        if config.REPO_DIR is not None:
            candidates.append(config.REPO_DIR / "data" / name)
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            raise FileNotFoundError(f"{fn}: {name} must be in one of {[str(c.parent) for c in candidates]}, got no "
                                    "such file; it ships in the repository's data/ folder")
    elif isinstance(factor, os.PathLike) or (isinstance(factor, str) and ("/" in factor or "." in factor)):
        path = factor
    else:
        _checks.one_of(factor, "factor", fn, sorted(REAL_PEAK_FILES))   # a name that is not shipped: list them
        raise _checks.fail(fn, "factor", "a shipped peak set or the path of a FASTA file", _checks.describe(factor),
                           kind=_checks.ArgumentTypeError)
    names, seqs = read_fasta(path, "factor", fn)
    return one_hot_encode(resize_centered(seqs, length)), names


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
