"""Bad peak files given to ``datasets.load_real_peaks(path)`` / ``sequences.read_fasta``, as a user would.

Every case raises the right exception type with a message that starts with the public
function's name and names the argument, and says what is wrong with the file.
"""
from __future__ import annotations

import gzip
import re

import pytest

from workshop_utils import datasets, sequences

GOOD = ">p1\n" + "ACGT" * 60 + "\n>p2\n" + "GGCC" * 60 + "\n"


def _file(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode())
    return p


def _truncated_gzip(tmp_path):
    blob = gzip.compress((GOOD * 200).encode())
    return _file(tmp_path, "cut.fa.gz", blob[: len(blob) // 2])


CASES = [
    # not FASTA
    (ValueError, r"line 1, 'chr1\\t100.*before the first '>' header", lambda t: _file(t, "peaks.bed", "chr1\t100\t300\tpeak1\n")),
    (ValueError, "before the first '>' header", lambda t: _file(t, "x.fa", "ACGT\n>p1\nACGT\n")),
    (ValueError, "not text", lambda t: _file(t, "x.fa", bytes(range(128, 256)) * 4)),
    (ValueError, "not text", lambda t: _file(t, "x.fa.gz", gzip.compress(bytes(range(128, 256))))),
    # empty
    (ValueError, "the file is empty", lambda t: _file(t, "empty.fa", b"")),
    (ValueError, "no '>' header", lambda t: _file(t, "empty.fa.gz", gzip.compress(b""))),
    (ValueError, r"record 1 \('p2'\) has no sequence", lambda t: _file(t, "x.fa", ">p1\nACGT\n>p2\n\n")),
    # non-ACGT that is not a base (IUPAC codes and N are read as N: tests/test_real_peaks.py)
    (ValueError, r"'-' in record 0 \('p1'\) at position 4", lambda t: _file(t, "aln.fa", ">p1\nACGT-ACGT\n")),
    (ValueError, r"'1' in record 1", lambda t: _file(t, "x.fa", ">p1\nACGT\n>p2\n1 ACGT\n")),
    (ValueError, r"'L' in record 0", lambda t: _file(t, "protein.fa", ">p1\nMKVL*\n")),   # M, K, V: IUPAC
    # a truncated or damaged gzip file
    (ValueError, "gzipped FASTA file .*truncated or damaged", _truncated_gzip),
    (ValueError, "gzipped FASTA file .*truncated or damaged", lambda t: _file(t, "x.fa.gz", b"\x1f\x8b" + b"\0" * 30)),
]


@pytest.mark.parametrize("fn", ["load_real_peaks", "read_fasta"])
@pytest.mark.parametrize("kind, detail, make", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_bad_fasta_is_refused_with_a_clear_message(tmp_path, fn, kind, detail, make):
    path = make(tmp_path)
    call = datasets.load_real_peaks if fn == "load_real_peaks" else sequences.read_fasta
    with pytest.raises(kind) as info:
        call(path)
    msg = str(info.value)
    arg = "factor" if fn == "load_real_peaks" else "path"
    assert msg.startswith(f"{fn}: {arg} must be a FASTA file"), msg
    assert str(path) in msg and re.search(detail, msg), msg


@pytest.mark.parametrize("call, kind, detail", [
    (lambda t: datasets.load_real_peaks(t / "missing.fa.gz"), FileNotFoundError, "no such file"),
    (lambda t: datasets.load_real_peaks(t), IsADirectoryError, "directory"),
    (lambda t: datasets.load_real_peaks("ctcf"), ValueError, "factor must be one of"),
    (lambda t: datasets.load_real_peaks(42), ValueError, "factor must be one of"),
    (lambda t: datasets.load_real_peaks("CTCF", length=0), ValueError, "length must be"),
    (lambda t: sequences.read_fasta(None), TypeError, "path must be a path"),
    (lambda t: sequences.resize_centered(["ACGT"], -1), ValueError, "length must be"),
    (lambda t: sequences.resize_centered(b"ACGT", 4), TypeError, "seqs must be"),
])
def test_bad_arguments_name_the_argument(tmp_path, call, kind, detail):
    with pytest.raises(kind, match=detail):
        call(tmp_path)


def test_a_refused_file_is_left_as_it_was(tmp_path):
    path = _truncated_gzip(tmp_path)
    before = path.read_bytes()
    with pytest.raises(ValueError):
        datasets.load_real_peaks(path)
    assert path.read_bytes() == before
