"""The grader's private probe set: sequences a submission scores without ever seeing their labels.

Every check that credits a *trained model* (it learned, it beats the baseline, its ISM
finds the planted sites, ...) would be forgeable if it compared the student's numbers with
labels the student also holds (``test_scores = y_test`` scores a perfect AUROC).  So the
grader simulates a fresh set of sequences with a **secret seed** (the same simulator and
preset as the course data, :func:`workshop_utils.datasets.simulate_ctcf`), writes **only
the sequences** (``x.npy``) into a folder the submission's kernel can read, and keeps the
labels and planted sites.  Inside the kernel the export
(:mod:`workshop_utils.grading.export`) scores the student's *models* on those sequences
(and attributes them, where a practice needs it); outside, the checks score the
predictions with the labels the grader kept (``ref["probe"]``).

The grader's side::

    probe = make_probe(secrets.randbits(62))       # labels stay in the grader's memory
    save_inputs(probe, folder)                      # x.npy only; mount the folder read-only
    env[PROBE_ENV] = str(folder)                    # as seen from inside the sandbox
    ref = add_to_reference(reference(), probe)      # what the checks receive

The kernel's side: :func:`load_inputs` (called by the export).

Sizes (:func:`probe_total`, :func:`probe_size`, :func:`probe_attr_size`) are chosen so that
the checks' verdicts do not depend on the seed: see ``homework/README.md`` ("What can and
cannot be forged") for the AUROC noise at these sizes and the margins of the thresholds.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import pick

#: Environment variable (set by the grader inside the sandbox): the folder holding ``x.npy``.
PROBE_ENV = "WORKSHOP_GRADER_PROBE"
#: The one file :func:`save_inputs` writes: the sequences as uint8 base codes ``(N, L)`` (A, C, G, T = 0-3).
INPUTS_FILE = "x.npy"
#: Largest probe the kernel accepts (sequences).
MAX_PROBE = 200_000


def probe_size() -> int:
    """Sequences every model is scored on (the probe's first ones): 10,000 (full mode), 4,000 (quick mode).

    At 10,000 sequences (about 5,000 per class) the AUROC of a course model (about 0.86)
    has a standard error of about 0.004: far below the distance between a trained and an
    untrained model, or between a student's honest number and a forged one.
    """
    return pick(full=10_000, quick=4_000)


def probe_total() -> int:
    """Sequences in a probe: 100,000 (full mode), 6,000 (quick mode).

    Models that must *beat* another one (Day 1, practice 5) are scored on all of them:
    the course's improvements over the baseline are about 0.003 of AUROC, and the standard
    error of the difference of two course models' AUROCs on the same sequences is about
    0.002 at 10,000 sequences, 0.0006 at 100,000 (measured: homework/README.md).
    """
    return pick(full=100_000, quick=6_000)


def probe_attr_size() -> int:
    """How many of the probe's first sequences the export attributes (ISM, IG): 300 / 200.

    About half are positives, 81% of which carry a planted site: the share of them whose
    top ISM window is on the site then has a standard error of about 0.03-0.04.
    """
    return pick(full=300, quick=200)


@dataclass(frozen=True)
class Probe:
    """A private probe set.

    Attributes
    ----------
    x : np.ndarray
        float32 ``(N, L, 4)`` one-hot sequences (the only part a submission sees).
    y : np.ndarray
        int ``(N,)`` 0/1 labels (kept by the grader).
    site_start : np.ndarray
        int ``(N,)`` start of the planted CTCF site, -1 where none (kept by the grader).
    """

    x: np.ndarray
    y: np.ndarray
    site_start: np.ndarray

    def __post_init__(self):
        x, y, s = np.asarray(self.x), np.asarray(self.y), np.asarray(self.site_start)
        if x.ndim != 3 or x.shape[-1] != 4 or x.shape[0] < 2:
            raise ValueError(f"Probe.x must have shape (N >= 2, L, 4), got {x.shape}")
        if y.shape != (x.shape[0],) or s.shape != (x.shape[0],):
            raise ValueError(f"Probe.y and Probe.site_start must have shape ({x.shape[0]},), got {y.shape} "
                             f"and {s.shape}")
        if not np.isin(y, (0, 1)).all() or len(np.unique(y)) != 2:
            raise ValueError("Probe.y must hold labels 0 and 1, both present")
        object.__setattr__(self, "x", x.astype(np.float32, copy=False))
        object.__setattr__(self, "y", y.astype(np.int64))
        object.__setattr__(self, "site_start", s.astype(np.int64))

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def __repr__(self) -> str:  # never print the labels by accident
        return f"Probe({len(self)} sequences of {self.x.shape[1]} nt)"


def make_probe(seed: int, n: int | None = None, preset: str = "default", length: int = 200) -> Probe:
    """Simulate a probe set with the course simulator (:func:`~workshop_utils.datasets.simulate_ctcf`).

    Parameters
    ----------
    seed : int
        Secret seed (the grader draws it, e.g. ``secrets.randbits(62)``); never 0-2, the
        seeds of the course splits.
    n : int, optional
        Sequences; :func:`probe_total` when omitted.
    preset : str
        Simulator preset of the course data (``'default'``).
    length : int
        Sequence length of the course data (200).

    Returns
    -------
    Probe
    """
    from ..datasets import simulate_ctcf

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if int(seed) in (0, 1, 2):
        raise ValueError(f"seed must not be one of the course data's split seeds (0, 1, 2), got {seed}")
    n = probe_total() if n is None else n
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 2 <= n <= MAX_PROBE:
        raise ValueError(f"n must be an integer in [2, {MAX_PROBE}], got {n!r}")
    x, y, sites = simulate_ctcf(int(n), length, preset, seed=int(seed))
    return Probe(x, y.astype(np.int64), sites["start"])


def save_inputs(probe: Probe, folder: str | os.PathLike) -> Path:
    """Write the probe's sequences, and nothing else, to ``folder/x.npy``; returns the path.

    The file holds uint8 base codes ``(N, L)`` (A, C, G, T = 0, 1, 2, 3; 2 MB per 10,000
    sequences of 200 nt), saved without pickle; :func:`load_inputs` turns them back into
    one-hot ``(N, L, 4)``.
    """
    if not isinstance(probe, Probe):
        raise TypeError(f"probe must be a Probe, got {type(probe).__name__}")
    if not ((probe.x == 0) | (probe.x == 1)).all() or not (probe.x.sum(-1) == 1).all():
        raise ValueError("probe.x must be one-hot DNA (one 1 per position) to be saved as base codes")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / INPUTS_FILE
    np.save(path, probe.x.argmax(-1).astype(np.uint8), allow_pickle=False)
    return path


_LOADED: dict = {}  # (path, size, mtime) -> one-hot array: the export reads the probe once per kernel


def load_inputs(folder: str | os.PathLike | None = None) -> np.ndarray | None:
    """The probe's sequences, read inside the submission's kernel; None when there is no probe.

    Parameters
    ----------
    folder : str or Path, optional
        Folder holding ``x.npy``; default: the environment variable :data:`PROBE_ENV`
        (unset or empty: no probe, e.g. the student's own self-check).

    Returns
    -------
    np.ndarray or None
        float32 ``(N, L, 4)`` one-hot sequences (the same array object on later calls).

    Raises
    ------
    ValueError
        When the folder is named but ``x.npy`` is missing, too large or not base codes.
    """
    if folder is None:
        folder = os.environ.get(PROBE_ENV, "").strip()
        if not folder:
            return None
    path = Path(folder) / INPUTS_FILE
    if path.is_symlink() or not path.is_file():
        raise ValueError(f"probe: {path} is not a regular file")
    st = path.stat()
    if st.st_size > MAX_PROBE * 1000 + 1024:
        raise ValueError(f"probe: {path} is too large ({st.st_size} bytes)")
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _LOADED:
        codes = np.load(path, allow_pickle=False)
        if codes.dtype != np.uint8 or codes.ndim != 2 or not 2 <= codes.shape[0] <= MAX_PROBE:
            raise ValueError(f"probe: {path} must hold uint8 base codes (N, L), got {codes.dtype} {codes.shape}")
        if codes.size and codes.max() > 3:
            raise ValueError(f"probe: {path} holds codes other than 0-3 (A, C, G, T)")
        _LOADED.clear()
        _LOADED[key] = np.eye(4, dtype=np.float32)[codes]
    return _LOADED[key]


def add_to_reference(ref: dict, probe: Probe) -> dict:
    """``ref`` plus ``ref["probe"]``: what the checks need of the probe (never given to a kernel).

    Returns
    -------
    dict
        A new dict: the items of ``ref`` and ``probe``: ``{"y": (N,), "site_start": (N,),
        "n_total": N, "n": how many leading sequences every model is scored on,
        "n_attr": how many leading sequences the export attributes}``.
    """
    if not isinstance(ref, dict):
        raise TypeError(f"ref must be a dict, got {type(ref).__name__}")
    if not isinstance(probe, Probe):
        raise TypeError(f"probe must be a Probe, got {type(probe).__name__}")
    out = dict(ref)
    n = min(probe_size(), len(probe))
    out["probe"] = {"y": probe.y.copy(), "site_start": probe.site_start.copy(), "n_total": len(probe), "n": n,
                    "n_attr": min(probe_attr_size(), n)}
    return out
