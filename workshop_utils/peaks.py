"""Real ChIP-seq peak sequences shipped with the workbook (``data/``), one-hot encoded.

:func:`load_real_peaks` reads them (the data folder first, then the clone's ``data/``), or any FASTA file of
peak sequences an instructor brings;
:mod:`workshop_utils.datasets` re-exports it (``wu.datasets.load_real_peaks``).
"""
from __future__ import annotations

import os

import numpy as np

from . import _checks, config

__all__ = ["REAL_PEAK_FILES", "load_real_peaks"]

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
