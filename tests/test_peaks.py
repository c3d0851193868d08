"""workshop_utils.peaks: the shipped real peak sequences, read from the data folder before the clone's data/.

(The shipped files' contents are checked in tests/test_course_data.py.)"""
import gzip

import numpy as np
import pytest

from workshop_utils import config, peaks


def _write_fasta(text: str) -> None:
    path = config.data_dir() / peaks.REAL_PEAK_FILES["CTCF"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="ascii") as f:
        f.write(text)


def test_the_data_folder_wins_and_soft_masked_bases_and_n_are_read():
    _write_fasta(">chr1:0-6 first\nACgt\nNa\n\n>chr2:10-16\nttttcc\n")
    X, names = peaks.load_real_peaks("CTCF", length=6)
    assert names == ["chr1:0-6", "chr2:10-16"] and X.shape == (2, 6, 4) and X.dtype == np.float32
    padded, _ = peaks.load_real_peaks("CTCF")                 # the model's 200 nt: centred, padded with N
    assert padded.shape == (2, 200, 4) and np.allclose(padded[:, :97], 0.25)
    np.testing.assert_array_equal(padded[:, 97:103], X)
    np.testing.assert_array_equal(X[0].argmax(-1)[[0, 1, 2, 3, 5]], [0, 1, 2, 3, 0])  # lowercase counts as a base
    np.testing.assert_array_equal(X[0, 4], [0.25] * 4)  # N


def test_a_fasta_without_a_header_is_refused_naming_the_file():
    _write_fasta("ACGT\n>chr1:0-4\nACGT\n")
    with pytest.raises(ValueError, match=r"^load_real_peaks: .*peaks_GM12878_CTCF.* is not a readable gzipped FASTA "
                                         r"file \(line 1, 'ACGT', comes before the first '>' header\)"):
        peaks.load_real_peaks("CTCF")
    with pytest.raises(ValueError, match="factor must be one of 'CTCF', 'TAp73alpha'"):
        peaks.load_real_peaks("p53")
