"""Peak sets the project does not ship: FASTA files read, centred to the model's length, one-hot encoded.

``sequences.read_fasta`` and ``sequences.resize_centered`` do the reading and the cropping;
``datasets.load_real_peaks(path)`` puts them together for an instructor's own peaks.  Bad
input is in ``tests/test_bad_input_peaks.py``.
"""
from __future__ import annotations

import gzip

import numpy as np
import pytest

from workshop_utils import datasets, sequences


def _write(path, text, gz=False):
    data = text.encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


FASTA = ">peak1 chr1:10-30 extra words\nACGTACGTAC\nGTACGTACGT\n>peak2\nacgtNNRYac\n; a comment line\n"


@pytest.mark.parametrize("gz, name", [(False, "p.fa"), (True, "p.fa.gz"), (True, "gz_without_suffix.fa"),
                                      (False, "plain_with_gz_suffix.fa.gz")])
def test_read_fasta_plain_or_gzip_whatever_the_name(tmp_path, gz, name):
    names, seqs = sequences.read_fasta(_write(tmp_path / name, FASTA, gz))
    assert names == ["peak1", "peak2"]
    assert seqs == ["ACGTACGTACGTACGTACGT", "ACGTNNNNAC"]      # wrapped lines joined, upper case, IUPAC -> N


def test_resize_centered_keeps_the_middle_and_pads_with_n():
    assert sequences.resize_centered(["AACCGGTT", "ACG", "ACGT"], 4) == ["CCGG", "ACGN", "ACGT"]
    assert sequences.resize_centered(["AACCGGTTA"], 4) == ["CCGG"]        # odd excess: one more cut at the end
    assert sequences.resize_centered(["A"], 4) == ["NANN"]                # odd padding: one more N at the end
    out = sequences.resize_centered(["A" * 150, "C" * 300, "G" * 200], 200)
    assert [len(s) for s in out] == [200, 200, 200] and out[0] == "N" * 25 + "A" * 150 + "N" * 25


def test_load_real_peaks_reads_an_instructors_fasta(tmp_path):
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), n)) for n in (200, 500, 120)]
    path = _write(tmp_path / "my_peaks.fa.gz", "".join(f">p{i}\n{s}\n" for i, s in enumerate(seqs)), gz=True)
    X, names = datasets.load_real_peaks(path)
    assert X.shape == (3, 200, 4) and X.dtype == np.float32 and names == ["p0", "p1", "p2"]
    assert sequences.one_hot_decode(X[0])[0] == seqs[0]
    assert sequences.one_hot_decode(X[1])[0] == seqs[1][150:350]           # the centre of the 500-nt window
    assert sequences.one_hot_decode(X[2])[0] == "N" * 40 + seqs[2] + "N" * 40
    assert np.allclose(X[2, :40], 0.25)                                   # padding is "no information"
    X100, _ = datasets.load_real_peaks(str(path), length=100)             # a str path, another model length
    assert X100.shape == (3, 100, 4) and sequences.one_hot_decode(X100[0])[0] == seqs[0][50:150]


def test_a_copy_of_a_shipped_file_reads_the_same_as_the_shipped_set(tmp_path):
    from workshop_utils import config

    X, names = datasets.load_real_peaks("CTCF")
    shipped = config.REPO_DIR / "data" / datasets.REAL_PEAK_FILES["CTCF"]
    copy = tmp_path / "held_out.fa.gz"
    copy.write_bytes(shipped.read_bytes())
    X2, names2 = datasets.load_real_peaks(copy)
    assert names2 == names and np.array_equal(X2, X)
