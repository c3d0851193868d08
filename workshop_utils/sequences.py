"""One-hot encoding of DNA and the helpers around it.

Layout convention for the whole package: one-hot DNA is a float32 array of
shape ``(N, L, 4)`` with bases in ``A, C, G, T`` order.

Policy for unusual letters
--------------------------
* Lower case (soft-masked repeats in genome files) is read as upper case.
* ``N`` (unknown base) encodes as ``[0.25, 0.25, 0.25, 0.25]`` by default
  (``n_value=0.25``), or as all zeros with ``n_value=0``; it decodes back to ``N``.
* Any other character raises ``ValueError`` naming the sequence and position.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from . import _checks

ALPHABET = "ACGT"
_LOOKUP = np.full(256, -1, dtype=np.int8)
for _i, _b in enumerate(ALPHABET):
    _LOOKUP[ord(_b)] = _i
    _LOOKUP[ord(_b.lower())] = _i
_LOOKUP[ord("N")] = 4
_LOOKUP[ord("n")] = 4


def _as_list(seqs: str | Sequence[str]) -> list[str]:
    if isinstance(seqs, str):
        return [seqs]
    if isinstance(seqs, np.ndarray) and seqs.ndim == 1:
        seqs = seqs.tolist()
    if not isinstance(seqs, (list, tuple)) or not all(isinstance(s, str) for s in seqs):
        raise TypeError(f"seqs must be a string or a list of strings, got {type(seqs).__name__}")
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
    seq_list = _as_list(seqs)
    if len(seq_list) == 0:
        raise ValueError("seqs is empty: expected at least one sequence")
    lengths = {len(s) for s in seq_list}
    if len(lengths) != 1:
        raise ValueError(f"all sequences in one batch must have the same length, got lengths {sorted(lengths)[:5]}")
    length = lengths.pop()
    if length == 0:
        raise ValueError("sequences are empty strings")
    try:
        raw = np.frombuffer("".join(seq_list).encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError as err:
        raise ValueError(f"sequences contain non-ASCII characters: {err}") from None
    idx = _LOOKUP[raw].reshape(len(seq_list), length)
    bad = np.argwhere(idx < 0)
    if bad.size:
        i, j = bad[0]
        raise ValueError(
            f"sequence {i} has character {seq_list[i][j]!r} at position {j}; "
            f"expected only A, C, G, T or N (either case)")
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
    X = np.asarray(X)
    if X.ndim == 2:
        X = X[None]
    if X.ndim != 3 or X.shape[-1] != 4:
        raise ValueError(f"X must have shape (N, L, 4) or (L, 4), got {X.shape}")
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
            raise ValueError(f"sequence contains characters outside ACGTN: {sorted(bad)}")
        return X.translate(table)[::-1]
    X = np.asarray(X)
    if X.ndim != 3 or X.shape[-1] != 4:
        raise ValueError(f"X must have shape (N, L, 4), got {X.shape}")
    return np.ascontiguousarray(X[:, ::-1, ::-1])


def batches(n: int, batch_size: int) -> Iterator[slice]:
    """Yield slices that cover ``range(n)`` in chunks of ``batch_size``.

    >>> [s for s in batches(5, 2)]
    [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    for start in range(0, int(n), int(batch_size)):
        yield slice(start, min(start + int(batch_size), int(n)))


def random_sequences(n: int, length: int, seed: int = 0, probs: Sequence[float] = (0.25,) * 4) -> np.ndarray:
    """Draw ``n`` i.i.d. random one-hot sequences, shape ``(n, length, 4)``."""
    if n < 1 or length < 1:
        raise ValueError(f"n and length must be positive, got n={n}, length={length}")
    p = np.asarray(probs, dtype=float)
    if p.shape != (4,) or (p < 0).any() or not np.isclose(p.sum(), 1):
        raise ValueError(f"probs must be 4 non-negative numbers summing to 1, got {probs}")
    rng = np.random.default_rng(seed)
    idx = rng.choice(4, size=(n, length), p=p)
    return np.eye(4, dtype=np.float32)[idx]
