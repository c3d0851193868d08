"""One-hot encoding of DNA and the helpers around it.

Layout convention for the whole package: one-hot DNA is a float32 array of
shape ``(N, L, 4)`` with bases in ``A, C, G, T`` order.

Policy for unusual letters
--------------------------
* Lower case (soft-masked repeats in genome files) is read as upper case.
* ``N`` (unknown base) encodes as ``[0.25, 0.25, 0.25, 0.25]`` by default
  (``n_value=0.25``), or as all zeros with ``n_value=0``; it decodes back to ``N``.
* Any other character raises ``ValueError`` naming the sequence and position.

FASTA files (:func:`read_fasta`, plain or gzipped) read IUPAC ambiguity codes as ``N``;
:func:`resize_centered` brings peak windows of any length to a model's input length.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from . import _checks

ALPHABET = "ACGT"
_LOOKUP = np.full(256, -1, dtype=np.int8)
for _i, _b in enumerate(ALPHABET):
    _LOOKUP[ord(_b)] = _i
    _LOOKUP[ord(_b.lower())] = _i
_LOOKUP[ord("N")] = 4
_LOOKUP[ord("n")] = 4


def _as_list(seqs: str | Sequence[str], fn: str) -> list[str]:
    if isinstance(seqs, str):
        return [seqs]
    if isinstance(seqs, np.ndarray) and seqs.ndim == 1:
        seqs = seqs.tolist()
    if not isinstance(seqs, (list, tuple)):
        raise _checks.fail(fn, "seqs", "a string or a list of strings", _checks.describe(seqs),
                           kind=_checks.ArgumentTypeError)
    bad = next((i for i, s in enumerate(seqs) if not isinstance(s, str)), None)
    if bad is not None:
        raise _checks.fail(fn, "seqs", "a string or a list of strings",
                           f"{type(seqs[bad]).__name__} {_checks.describe(seqs[bad])} at index {bad}",
                           kind=_checks.ArgumentTypeError)
    return list(seqs)


def one_hot_encode(seqs: str | Sequence[str], n_value: float = 0.25) -> np.ndarray:
    """Encode DNA strings as one-hot arrays.

    Parameters
    ----------
    seqs : str or list of str
        One sequence or ``N`` sequences of equal length ``L`` over ``ACGTN``
        (either case).
    n_value : float
        Value put in all four channels for an ``N`` (0.25 or 0).

    Returns
    -------
    np.ndarray
        float32 of shape ``(N, L, 4)`` (``(1, L, 4)`` for a single string).
    """
    fn = "one_hot_encode"
    seq_list = _as_list(seqs, fn)
    n_value = _checks.number(n_value, "n_value", fn)
    if n_value not in (0.0, 0.25):
        raise _checks.fail(fn, "n_value", "0.25 or 0", _checks.describe(n_value))
    if len(seq_list) == 0:
        raise _checks.fail(fn, "seqs", "at least one sequence", "an empty list")
    lengths = {len(s) for s in seq_list}
    if len(lengths) != 1:
        raise _checks.fail(fn, "seqs", "sequences of one length (pad or trim them)",
                           f"lengths {sorted(lengths)[:5]}")
    length = lengths.pop()
    if length == 0:
        raise _checks.fail(fn, "seqs", "non-empty strings", "empty strings")
    bad_char = next(((i, j, c) for i, s in enumerate(seq_list) if not s.isascii()
                     for j, c in enumerate(s) if not c.isascii()), None)
    if bad_char is not None:
        i, j, c = bad_char
        raise _checks.fail(fn, "seqs", "DNA over A, C, G, T, N (either case)",
                           f"{c!r} in sequence {i} at position {j}")
    raw = np.frombuffer("".join(seq_list).encode("ascii"), dtype=np.uint8)
    idx = _LOOKUP[raw].reshape(len(seq_list), length)
    bad = np.argwhere(idx < 0)
    if bad.size:
        i, j = bad[0]
        raise _checks.fail(fn, "seqs", "DNA over A, C, G, T, N (either case)",
                           f"{seq_list[i][j]!r} in sequence {i} at position {j}")
    out = np.zeros((len(seq_list), length, 4), dtype=np.float32)
    rows, cols = np.nonzero(idx < 4)
    out[rows, cols, idx[rows, cols]] = 1.0
    if n_value:
        out[idx == 4] = n_value
    return out


def validate_one_hot(X: np.ndarray, name: str = "X", allow_n: bool = True,
                     fn: str = "validate_one_hot") -> np.ndarray:
    """Check that ``X`` is a one-hot DNA batch and return it as float32.

    Parameters
    ----------
    X : array of shape ``(N, L, 4)``
    name : str
        Name of the argument used in error messages.
    allow_n : bool
        Accept rows that are all 0.25 or all 0 (an ``N``).
    fn : str
        Name of the public function that checks ``X`` (starts the error message).

    Raises
    ------
    TypeError, ValueError
        ``"{fn}: {name} must be ..., got ..."`` naming what was expected and what was found.
    """
    return _checks.one_hot(X, name, fn, allow_n=allow_n)


def one_hot_decode(X: np.ndarray) -> list[str]:
    """Turn one-hot arrays back into strings.

    Parameters
    ----------
    X : array of shape ``(N, L, 4)`` or ``(L, 4)``
        Positions whose channels are all equal (an encoded ``N``) decode to ``N``.

    Returns
    -------
    list of str
        ``N`` strings of length ``L``.
    """
    X = _checks.finite_array(X, "X", "one_hot_decode", ndim=(2, 3), dtype=None)
    if X.ndim == 2:
        X = X[None]
    if X.shape[-1] != 4:
        raise _checks.fail("one_hot_decode", "X", "an array of shape (N, L, 4) or (L, 4)", f"shape {X.shape}")
    letters = np.array(list(ALPHABET + "N"))
    idx = X.argmax(-1)
    idx[np.isclose(X.max(-1), X.min(-1))] = 4
    return ["".join(row) for row in letters[idx]]


def reverse_complement(X: np.ndarray | str) -> np.ndarray | str:
    """Reverse complement a DNA string or a one-hot batch.

    With ``A, C, G, T`` order the complement is the reversed channel axis, so
    for arrays this is ``X[:, ::-1, ::-1]``.

    Parameters
    ----------
    X : str, or array of shape ``(N, L, 4)``
    """
    if isinstance(X, str):
        table = str.maketrans("ACGTNacgtn", "TGCANtgcan")
        bad = set(X) - set("ACGTNacgtn")
        if bad:
            raise _checks.fail("reverse_complement", "X", "DNA over A, C, G, T, N (either case)",
                               f"characters {sorted(bad)}")
        return X.translate(table)[::-1]
    X = _checks.finite_array(X, "X", "reverse_complement", ndim=3, dtype=None)
    if X.shape[-1] != 4:
        raise _checks.fail("reverse_complement", "X", "a string or an array of shape (N, L, 4)", f"shape {X.shape}")
    return np.ascontiguousarray(X[:, ::-1, ::-1])


def batches(n: int, batch_size: int) -> Iterator[slice]:
    """Yield slices that cover ``range(n)`` in chunks of ``batch_size``.

    >>> [s for s in batches(5, 2)]
    [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """
    n = _checks.non_negative_int(n, "n", "batches")
    batch_size = _checks.positive_int(batch_size, "batch_size", "batches")
    return (slice(start, min(start + batch_size, n)) for start in range(0, n, batch_size))


def random_sequences(n: int, length: int, seed: int | np.random.Generator = 0,
                     probs: Sequence[float] = (0.25,) * 4) -> np.ndarray:
    """Draw ``n`` i.i.d. random one-hot sequences, shape ``(n, length, 4)``.

    ``seed`` is a non-negative integer or a ``numpy.random.Generator`` (used, not reseeded).
    """
    fn = "random_sequences"
    n = _checks.positive_int(n, "n", fn)
    length = _checks.positive_int(length, "length", fn)
    p = _checks.finite_array(probs, "probs", fn, ndim=1, dtype=float)
    if p.shape != (4,) or (p < 0).any() or not np.isclose(p.sum(), 1):
        hint = "percentages? divide them by 100" if p.shape == (4,) and np.isclose(p.sum(), 100) else ""
        raise _checks.fail(fn, "probs", "4 non-negative numbers (A, C, G, T) summing to 1", _checks.describe(probs),
                           hint=hint)
    rng = _checks.rng(seed, "seed", fn)
    idx = rng.choice(4, size=(n, length), p=p)
    return np.eye(4, dtype=np.float32)[idx]


def dinucleotide_shuffle(X: np.ndarray, seed: int | np.random.Generator = 0) -> np.ndarray:
    """Shuffle each sequence while keeping its dinucleotide counts exactly (Altschul & Erickson 1985).

    The classic control for motif analyses: a shuffled sequence keeps the GC content, the
    CpG depletion and every other 2-mer count of the original (and its first and last
    base), but its motifs are broken up.  Each sequence is read as a walk over the
    4 bases; a random Eulerian walk over the same edges is drawn (the last edge out of
    every base is chosen first so that the walk can always finish).

    Parameters
    ----------
    X : array ``(N, L, 4)``
        Strictly one-hot sequences (no ``N``).
    seed : int or numpy.random.Generator

    Returns
    -------
    np.ndarray
        float32 ``(N, L, 4)``: the shuffled sequences, in the same order.
    """
    fn = "dinucleotide_shuffle"
    X = _checks.one_hot(X, "X", fn, allow_n=False)
    rng = _checks.rng(seed, "seed", fn)
    idx = X.argmax(-1)
    out = np.empty_like(idx)
    for n, seq in enumerate(idx):
        out[n] = _shuffle_walk(seq, rng)
    return np.eye(4, dtype=np.float32)[out]


def _shuffle_walk(seq: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if len(seq) < 3:
        return seq.copy()
    edges = [list(seq[1:][seq[:-1] == b]) for b in range(4)]      # successors of each base, in order
    last = int(seq[-1])
    while True:  # a random "last edge" per base, until they all lead to the final base (no cycle)
        last_edge = {b: int(rng.integers(len(e))) for b, e in enumerate(edges) if e and b != last}
        ok = True
        for b in last_edge:
            seen, v = set(), b
            while v != last and v not in seen:
                seen.add(v)
                v = int(edges[v][last_edge[v]])
            ok = ok and v == last
        if ok:
            break
    order = []
    for b, e in enumerate(edges):
        e = list(e)
        tail = [e.pop(last_edge[b])] if b in last_edge else []
        rng.shuffle(e)
        order.append(e + tail)
    walk, pos = [int(seq[0])], [0] * 4
    for _ in range(len(seq) - 1):
        v = walk[-1]
        walk.append(int(order[v][pos[v]]))
        pos[v] += 1
    return np.asarray(walk)


# --------------------------------------------------------------------------- FASTA files
#: IUPAC ambiguity codes (two or more possible bases): read as ``N`` by :func:`read_fasta`.
IUPAC_AMBIGUOUS = "RYSWKMBDHVU"


def read_fasta(path: Any, name: str = "path", fn: str = "read_fasta") -> tuple[list[str], list[str]]:
    """Names and sequences of a FASTA file, plain text or gzip-compressed.

    Compression is recognised from the file's first bytes, not its name.  Headers are the
    lines starting with ``>`` (the name is their first word); sequence lines may wrap and
    may be lower case (soft-masked repeats).  IUPAC ambiguity codes (``R, Y, S, W, K, M,
    B, D, H, V`` and ``U``) and ``N`` are returned as ``N`` (one-hot: 0.25 in each channel).

    Parameters
    ----------
    path : str or Path
        A ``.fa``/``.fasta`` file, gzipped or not.
    name, fn : str
        The argument and function named in error messages (a caller passes its own).

    Returns
    -------
    names : list of str
        One per record, in file order.
    seqs : list of str
        The records' sequences, upper case over ``A, C, G, T, N`` (lengths may differ).

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        No such file.
    ValueError
        Not a FASTA file (binary, no ``>`` header, text before the first header), a
        truncated or damaged gzip file, no sequence at all, a record without sequence, or a
        character that is not a base (e.g. ``-``, ``*``, a digit), named with its record and
        position.
    """
    import gzip
    import re

    p = _checks.file_path(path, name, fn)
    with open(p, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    kind = "gzipped FASTA file" if gzipped else "FASTA file"

    def refuse(why: str) -> ValueError:
        return _checks.fail(fn, name, "a FASTA file of DNA sequences (plain or gzipped)",
                            f"{str(p)!r}, which is not a readable {kind} ({why})")

    names, seqs = [], []
    try:
        opener = gzip.open(p, "rt", encoding="utf-8") if gzipped else open(p, encoding="utf-8")
        with opener as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if line.startswith(">"):
                    names.append(line[1:].split()[0] if line[1:].split() else f"record_{len(names) + 1}")
                    seqs.append([])
                elif line and not line.startswith(";"):
                    if not seqs:
                        raise refuse(f"line {n}, {line[:30]!r}, comes before the first '>' header")
                    seqs[-1].append(line)
    except UnicodeDecodeError:
        raise refuse("not text: a binary file?") from None
    except (EOFError, OSError, gzip.BadGzipFile) as err:
        raise refuse(f"truncated or damaged: {type(err).__name__}: {err}") from None
    if not names:
        raise refuse("no '>' header: the file is empty" if p.stat().st_size == 0 else "no '>' header")
    out = []
    ambiguous = re.compile(f"[{IUPAC_AMBIGUOUS}]")
    for i, parts in enumerate(seqs):
        seq = ambiguous.sub("N", "".join(parts).upper())
        if not seq:
            raise refuse(f"record {i} ({names[i]!r}) has no sequence")
        bad = re.search(r"[^ACGTN]", seq)
        if bad:
            raise refuse(f"{bad.group()!r} in record {i} ({names[i]!r}) at position {bad.start()}: "
                         "not a base (A, C, G, T, N or an IUPAC code)")
        out.append(seq)
    return names, out


def resize_centered(seqs: Sequence[str], length: int) -> list[str]:
    """Bring DNA strings to one ``length`` around their centres: crop the longer, pad the shorter with ``N``.

    A peak window centred on its summit stays centred: a longer sequence keeps its middle
    ``length`` bases (when the excess is odd, one base more is cut from the end), a shorter
    one gets ``N`` on both sides (one more at the end when odd).  One-hot, an ``N`` is 0.25
    in each channel, which a model reads as "no information".

    Parameters
    ----------
    seqs : list of str
    length : int
        The model's input length (200 nt for the course's models).

    Returns
    -------
    list of str
        ``len(seqs)`` strings of exactly ``length`` characters.
    """
    fn = "resize_centered"
    seqs = _as_list(seqs, fn)
    length = _checks.positive_int(length, "length", fn)
    out = []
    for s in seqs:
        extra = len(s) - length
        if extra >= 0:
            out.append(s[extra // 2: extra // 2 + length])
        else:
            left = -extra // 2
            out.append("N" * left + s + "N" * (-extra - left))
    return out
