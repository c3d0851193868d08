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

Sizes (:func:`probe_size`, :func:`probe_attr_size`) are chosen so that the checks' verdicts
do not depend on the seed: see ``homework/README.md`` ("What can and cannot be forged") for
the AUROC noise at these sizes and the margins of the thresholds.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import pick

#: Environment variable (set by the grader inside the sandbox): the folder holding ``x.npy``.
PROBE_ENV = "WORKSHOP_GRADER_PROBE"
#: The one file :func:`save_inputs` writes.
INPUTS_FILE = "x.npy"
#: Largest probe the kernel accepts (sequences); 50,000 x 200 x 4 float32 is 160 MB.
MAX_PROBE = 50_000


def probe_size() -> int:
    """Sequences in a probe: 10,000 (full mode), 2,000 (quick mode).

    At 10,000 sequences (about 5,000 per class) the AUROC of a course model (about 0.86)
    has a standard error of about 0.004, and the difference between two models scored on
    the same sequences about 0.001 (they err on the same hard sequences).
    """
    return pick(full=10_000, quick=2_000)


def probe_attr_size() -> int:
    """How many of the probe's first sequences the export attributes (ISM, IG): 300 / 120."""
    return pick(full=300, quick=120)


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
        Sequences; :func:`probe_size` when omitted.
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
    n = probe_size() if n is None else n
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 2 <= n <= MAX_PROBE:
        raise ValueError(f"n must be an integer in [2, {MAX_PROBE}], got {n!r}")
    x, y, sites = simulate_ctcf(int(n), length, preset, seed=int(seed))
    return Probe(x, y.astype(np.int64), sites["start"])


def save_inputs(probe: Probe, folder: str | os.PathLike) -> Path:
    """Write the probe's sequences, and nothing else, to ``folder/x.npy`` (no pickle); returns the path."""
    if not isinstance(probe, Probe):
        raise TypeError(f"probe must be a Probe, got {type(probe).__name__}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / INPUTS_FILE
    np.save(path, np.ascontiguousarray(probe.x, dtype=np.float32), allow_pickle=False)
    return path


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
        float32 ``(N, L, 4)`` one-hot sequences.

    Raises
    ------
    ValueError
        When the folder is named but ``x.npy`` is missing, too large or not one-hot DNA.
    """
    if folder is None:
        folder = os.environ.get(PROBE_ENV, "").strip()
        if not folder:
            return None
    path = Path(folder) / INPUTS_FILE
    if path.is_symlink() or not path.is_file():
        raise ValueError(f"probe: {path} is not a regular file")
    if path.stat().st_size > MAX_PROBE * 200 * 4 * 4 + 1024:
        raise ValueError(f"probe: {path} is too large ({path.stat().st_size} bytes)")
    x = np.load(path, allow_pickle=False)
    if x.dtype != np.float32 or x.ndim != 3 or x.shape[-1] != 4 or not 2 <= x.shape[0] <= MAX_PROBE:
        raise ValueError(f"probe: {path} must hold float32 (N, L, 4), got {x.dtype} {x.shape}")
    if not (np.isin(x, (0.0, 1.0)).all() and (x.sum(-1) == 1).all()):
        raise ValueError(f"probe: {path} is not one-hot DNA")
    return x


def add_to_reference(ref: dict, probe: Probe) -> dict:
    """``ref`` plus ``ref["probe"]``: what the checks need of the probe (never given to a kernel).

    Returns
    -------
    dict
        A new dict: the items of ``ref`` and ``probe``: ``{"y": (N,), "site_start": (N,),
        "n": N, "n_attr": how many leading sequences the export attributes}``.
    """
    if not isinstance(ref, dict):
        raise TypeError(f"ref must be a dict, got {type(ref).__name__}")
    if not isinstance(probe, Probe):
        raise TypeError(f"probe must be a Probe, got {type(probe).__name__}")
    out = dict(ref)
    out["probe"] = {"y": probe.y.copy(), "site_start": probe.site_start.copy(), "n": len(probe),
                    "n_attr": min(probe_attr_size(), len(probe))}
    return out


def has_probe(ref: dict) -> bool:
    """True when ``ref`` carries a probe (the instructor's grader), False in the student's self-check."""
    return isinstance(ref, dict) and isinstance(ref.get("probe"), dict) and "y" in ref["probe"]
