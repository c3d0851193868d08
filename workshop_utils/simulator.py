"""The CTCF ChIP-seq-like simulator: Markov background DNA, planted sites, decoys, presets.

:func:`simulate_ctcf` draws one set of sequences and labels (with the planted sites);
:func:`make_ctcf_data` the three splits of a :class:`~workshop_utils.ctcf_data.CTCFData`.
:data:`PRESETS` holds the course's settings (``default``, ``hard``, ``grammar``), and
:data:`SIMULATOR_VERSION` changes whenever the same preset and seed would draw differently
(the cache of :mod:`workshop_utils.datasets` is keyed by it).  :mod:`workshop_utils.datasets`
re-exports every name (``wu.datasets.simulate_ctcf``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import _checks, config
from .ctcf_data import SPLITS, CTCFData
from .motifs import DECOY_NAMES, counts_to_ppm, jaspar_counts, sample_instances

__all__ = ["PRESETS", "SIMULATOR_VERSION", "SimulationPreset", "check_sizes", "default_sizes", "load_background",
           "make_ctcf_data", "resolve_preset", "sample_background", "simulate_ctcf"]

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
    preset = resolve_preset(preset, fn)
    n = _checks.positive_int(n, "n", fn)
    length = _checks.positive_int(length, "length", fn, minimum=60)
    p_bound = _checks.number(p_bound, "p_bound", fn, low=0, high=1, low_open=True, high_open=True)
    rng = _checks.rng(seed, "seed", fn)
    ctcf = counts_to_ppm(jaspar_counts("CTCF"))
    pwm = np.log2(ctcf / 0.25)
    best = float(pwm.max(1).sum())
    if preset.min_site_score >= best:  # the resampling would give up and plant weaker sites, silently
        raise _checks.fail(fn, "preset.min_site_score", f"below {best:.1f}, the best log-odds score a CTCF site "
                           "can reach", preset.min_site_score, hint="bound sites are resampled until they reach it")
    seqs = sample_background(n, length, rng)
    y = (rng.random(n) < p_bound).astype(np.float32)
    _plant_decoys(seqs, preset.decoy_rate, rng)  # first, so a CTCF site planted later is never overwritten
    _plant_half_sites(seqs, ctcf, preset.half_site_rate, rng)
    _plant_flank_sites(seqs, ctcf, preset, rng)
    if preset.pair_spacing is not None:
        return _plant_pairs(seqs, y, preset, ctcf, pwm, rng)
    start, strand = _plant_centre_sites(seqs, y, ctcf, pwm, preset, rng)
    X = np.eye(4, dtype=np.float32)[seqs]
    return X, y, {"start": start, "strand": strand}


def _plant_decoys(seqs: np.ndarray, rate: float, rng: np.random.Generator) -> None:
    """Step 2: Poisson(``rate``) decoy motifs of other factors per sequence, anywhere, either strand."""
    n, length = seqs.shape
    decoys = [counts_to_ppm(jaspar_counts(name)) for name in DECOY_NAMES]
    n_decoys = rng.poisson(rate, size=n)
    owner = np.repeat(np.arange(n), n_decoys)
    kind = rng.integers(len(decoys), size=len(owner))
    for k, ppm in enumerate(decoys):
        rows = owner[kind == k]
        if len(rows):
            inst = sample_instances(ppm, len(rows), rng)
            pos = rng.integers(0, length - ppm.shape[0] + 1, size=len(rows))
            _plant(seqs, rows, inst, pos, rng)


def _plant_half_sites(seqs: np.ndarray, ctcf: np.ndarray, rate: float, rng: np.random.Generator) -> None:
    """Step 2: Poisson(``rate``) CTCF half-sites (the 5' or 3' half) per sequence, anywhere, either strand."""
    n, length = seqs.shape
    W = ctcf.shape[0]
    n_half = rng.poisson(rate, size=n)
    owner = np.repeat(np.arange(n), n_half)
    if len(owner):
        half = W // 2
        inst = sample_instances(ctcf, len(owner), rng)
        inst = np.where((rng.random(len(owner)) < 0.5)[:, None], inst[:, :half], inst[:, W - half:])
        pos = rng.integers(0, length - half + 1, size=len(owner))
        _plant(seqs, owner, inst, pos, rng)


def _plant_flank_sites(seqs: np.ndarray, ctcf: np.ndarray, preset: SimulationPreset,
                       rng: np.random.Generator) -> None:
    """Step 3: a full CTCF instance in a flank (``flank_offset`` nt or more from the centre), not recorded."""
    n, length = seqs.shape
    W = ctcf.shape[0]
    centre = (length - W) / 2
    idx = np.nonzero(rng.random(n) < preset.flank_site_rate)[0]
    offset = int(min(preset.flank_offset, centre - 1))
    left = rng.integers(0, int(centre) - offset + 1, size=len(idx))
    pos = np.where(rng.random(len(idx)) < 0.5, left, (length - W) - left)
    _plant(seqs, idx, sample_instances(ctcf, len(idx), rng), pos, rng)


def _plant_centre_sites(seqs: np.ndarray, y: np.ndarray, ctcf: np.ndarray, pwm: np.ndarray,
                        preset: SimulationPreset, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Steps 4 and 5: strong sites near the centre in bound sequences, unfiltered ones in a few unbound ones.

    Returns the recorded ``start`` and ``strand`` arrays ``(n,)`` (-1 / 0 where no site).
    """
    n, length = seqs.shape
    W = ctcf.shape[0]
    centre = (length - W) / 2
    start = np.full(n, -1, dtype=np.int64)
    strand = np.zeros(n, dtype=np.int64)
    bound_site = (y == 1) & (rng.random(n) >= preset.p_bound_without_site)
    unbound_site = (y == 0) & (rng.random(n) < preset.p_unbound_with_site)
    idx = np.nonzero(bound_site)[0]
    inst = _strong_instances(ctcf, pwm, len(idx), preset.min_site_score, rng)  # weak ones resampled
    pos = np.clip(np.rint(rng.normal(centre, preset.center_jitter, len(idx))), 0, length - W).astype(int)
    _plant(seqs, idx, inst, pos, rng, start, strand)
    idx = np.nonzero(unbound_site)[0]
    inst = sample_instances(ctcf, len(idx), rng)
    pos = np.clip(np.rint(rng.normal(centre, preset.center_jitter, len(idx))), 0, length - W).astype(int)
    _plant(seqs, idx, inst, pos, rng, start, strand)
    return start, strand


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


def resolve_preset(preset: str | SimulationPreset, fn: str = "resolve_preset") -> SimulationPreset:
    """The :class:`SimulationPreset` named ``preset`` (a key of :data:`PRESETS`), or ``preset`` itself.

    ``fn`` is the public function the caller called, named in the error for an unknown name.
    """
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


def check_sizes(sizes: dict[str, int] | None, fn: str = "check_sizes") -> dict[str, int]:
    """``{'train': n, 'valid': n, 'test': n}`` of positive integers, checked; :func:`default_sizes` when None.

    ``fn`` is the public function the caller called (named in the errors).
    """
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
    sizes = check_sizes(sizes, fn)
    resolve_preset(preset, fn)
    seed = _checks.non_negative_int(seed, "seed", fn)
    out, sites = {}, {}
    for k, s in enumerate(SPLITS):
        X, y, st = simulate_ctcf(sizes[s], length, preset, seed=seed * 10 + k)
        out[f"x_{s}"], out[f"y_{s}"], sites[s] = X, y, st
    name = preset if isinstance(preset, str) else "custom"
    return CTCFData(**out, sites=sites, source=f"simulated (preset={name}, seed={seed}, sizes={dict(sizes)})")
