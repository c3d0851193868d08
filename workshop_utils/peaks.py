"""Real ChIP-seq peak sequences shipped with the workbook (``data/``), one-hot encoded.

:func:`load_real_peaks` reads them (the data folder first, then the clone's ``data/``);
:mod:`workshop_utils.datasets` re-exports it (``wu.datasets.load_real_peaks``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import _checks, config

__all__ = ["REAL_PEAK_FILES", "load_real_peaks"]

#: Real ChIP-seq peak sequences shipped in ``data/`` (200 nt around each summit, hg19;
#: provenance and license in ``data/README.md``).
REAL_PEAK_FILES = {"CTCF": "peaks_GM12878_CTCF_top500_w200.fa.gz", "TAp73alpha": "peaks_TAp73alpha_w200.fa.gz"}


def _read_fasta_gz(path: Path, fn: str) -> tuple[list[str], list[str]]:
    import gzip

    names, seqs = [], []
    try:
        with gzip.open(path, "rt", encoding="ascii") as f:
            for line in f:
                line = line.strip()
                if line.startswith(">"):
                    names.append(line[1:].split()[0])
                    seqs.append([])
                elif line:
                    if not seqs:
                        raise ValueError("sequence before the first '>' header")
                    seqs[-1].append(line)
    except (OSError, EOFError, UnicodeDecodeError, ValueError) as err:
        raise ValueError(f"{fn}: {path} is not a readable gzipped FASTA file ({err})") from None
    return names, ["".join(parts) for parts in seqs]


def load_real_peaks(factor: str = "CTCF") -> tuple[np.ndarray, list[str]]:
    """Real ChIP-seq peak sequences that ship with the workbook, one-hot encoded.

    ``'CTCF'``: the 500 strongest CTCF peaks of GM12878 cells (ENCODE); ``'TAp73alpha'``:
    1,000 peaks of the transcription factor TAp73alpha, a real control set of *another*
    factor.  Both are 200-nt windows centred on the peak summits (hg19), as shipped in
    the gimmemotifs package's examples (see ``data/README.md``).

    Parameters
    ----------
    factor : {'CTCF', 'TAp73alpha'}

    Returns
    -------
    X : np.ndarray
        float32 ``(N, 200, 4)`` (A, C, G, T; soft-masked lowercase bases count as bases,
        an ``N`` is 0.25 in each channel).
    names : list of str
        ``'chrom:start-end'`` of each window, in file order.
    """
    fn = "load_real_peaks"
    factor = _checks.one_of(factor, "factor", fn, sorted(REAL_PEAK_FILES))
    name = REAL_PEAK_FILES[factor]
    candidates = [config.data_dir() / name]
    if config.REPO_DIR is not None:
        candidates.append(config.REPO_DIR / "data" / name)
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        raise FileNotFoundError(f"{fn}: {name} must be in one of {[str(c.parent) for c in candidates]}, got no such "
                                "file; it ships in the repository's data/ folder")
    names, seqs = _read_fasta_gz(path, fn)
    from .sequences import one_hot_encode

    return one_hot_encode(seqs), names
