"""Similar submissions: token winnowing (the method of MOSS), with the template's own code ignored.

Method (Schleimer, Wilkerson and Aiken, "Winnowing: local algorithms for document
fingerprinting", SIGMOD 2003):

1. Each submission's code cells are tokenised with Python's own :mod:`tokenize`; comments,
   blank lines and layout are dropped, and identifiers, strings and numbers are replaced by
   ``V``, ``S`` and ``N`` (keywords, operators and the names of builtins and attributes
   after a dot stay), so renaming variables or rewording comments does not hide a copy.
2. Every run of ``k`` consecutive tokens (a *k-gram*) is hashed (blake2b); in every window
   of ``w`` consecutive hashes the smallest is kept (the rightmost on ties).  Any shared
   run of at least ``k + w - 1`` tokens is then guaranteed to share a fingerprint.
3. Fingerprints that occur in the template (``homework/dayN_homework.ipynb``'s code cells)
   are removed: code every student was given is not evidence.
4. Two submissions' similarity is ``|shared| / min(|A|, |B|)`` over their remaining
   fingerprints; pairs at or above ``threshold`` with at least ``min_shared`` shared
   fingerprints are reported, with the lines of each submission that the shared
   fingerprints cover.
"""
from __future__ import annotations

import builtins
import hashlib
import io
import keyword
import tokenize
from dataclasses import dataclass, field

_BUILTINS = set(dir(builtins))


def tokens(code: str) -> list[tuple[str, int]]:
    """Normalised tokens of Python ``code``: ``[(token, line), ...]`` (lines from 1).

    Identifiers become ``V`` (except keywords, builtins and names after a dot), strings ``S``,
    numbers ``N``; comments and layout are dropped.  IPython magics (lines starting with
    ``%`` or ``!``) are skipped; code that does not tokenise keeps the tokens read so far.
    """
    if not isinstance(code, str):
        raise TypeError(f"tokens: code must be a str, got {type(code).__name__}")
    lines = [("" if ln.lstrip().startswith(("%", "!")) else ln) for ln in code.splitlines()]
    out: list[tuple[str, int]] = []
    prev = ""
    try:
        for tok in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
            t, s, line = tok.type, tok.string, tok.start[0]
            if t in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                     tokenize.ENCODING, tokenize.ENDMARKER):
                continue
            if t == tokenize.NAME:
                s = s if (keyword.iskeyword(s) or s in _BUILTINS or prev == ".") else "V"
            elif t == tokenize.STRING or t == getattr(tokenize, "FSTRING_START", -1):
                s = "S"
            elif t == tokenize.NUMBER:
                s = "N"
            out.append((s, line))
            prev = tok.string
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return out


def _hash(gram: tuple[str, ...]) -> int:
    return int.from_bytes(hashlib.blake2b("\x1f".join(gram).encode(), digest_size=8).digest(), "big")


def fingerprints(cells: list[str], k: int = 25, w: int = 4) -> dict[int, set[tuple[int, int]]]:
    """Winnowed fingerprints of code ``cells``: ``{hash: {(cell index, line), ...}}``.

    Parameters
    ----------
    cells : list of str
        Code cells.
    k : int
        Tokens per k-gram (noise threshold: shorter shared runs are ignored).
    w : int
        Winnowing window (a shared run of ``k + w - 1`` tokens is always found).
    """
    if not isinstance(k, int) or not isinstance(w, int) or k < 2 or w < 1:
        raise ValueError(f"fingerprints: k must be an int >= 2 and w an int >= 1, got k={k!r}, w={w!r}")
    toks: list[tuple[str, tuple[int, int]]] = []
    for ci, code in enumerate(cells):
        toks += [(t, (ci, ln)) for t, ln in tokens(code)]
    if len(toks) < k:
        return {}
    grams = [(_hash(tuple(t for t, _ in toks[i:i + k])), toks[i][1], toks[i + k - 1][1])
             for i in range(len(toks) - k + 1)]
    out: dict[int, set] = {}
    last = -1
    for i in range(max(1, len(grams) - w + 1)):
        win = grams[i:i + w]
        j = min(range(len(win)), key=lambda q: (win[q][0], -q))
        if i + j != last:
            last = i + j
            h, (c0, l0), (c1, l1) = grams[i + j]
            lines = {(c0, ln) for ln in range(l0, l1 + 1)} if c0 == c1 else {(c0, l0), (c1, l1)}
            out.setdefault(h, set()).update(lines)
    return out


@dataclass
class Pair:
    """Two similar submissions."""

    a: str
    b: str
    similarity: float
    shared: int
    lines_a: list = field(default_factory=list)
    lines_b: list = field(default_factory=list)


def similar_pairs(submissions: dict[str, list[str]], template: list[str] | None = None, threshold: float = 0.5,
                  min_shared: int = 8, k: int = 25, w: int = 4, max_lines: int = 40) -> list[Pair]:
    """Pairs of submissions whose code (less the template's) is alike, most similar first.

    Parameters
    ----------
    submissions : dict
        ``{student id: [code cell, ...]}``.
    template : list of str, optional
        The template's code cells; their fingerprints are ignored.
    threshold : float
        Smallest similarity reported (0-1).
    min_shared : int
        Fewest shared fingerprints reported (short answers alike by chance are not).
    max_lines : int
        Shared lines listed per submission at most.

    Returns
    -------
    list of Pair
        ``lines_a`` / ``lines_b``: the text of the lines the shared fingerprints cover.
    """
    if not isinstance(submissions, dict):
        raise TypeError(f"similar_pairs: submissions must be a dict, got {type(submissions).__name__}")
    if not 0 < threshold <= 1:
        raise ValueError(f"similar_pairs: threshold must be in (0, 1], got {threshold!r}")
    skip = set(fingerprints(template or [], k, w))
    fps = {s: {h: v for h, v in fingerprints(list(c), k, w).items() if h not in skip} for s, c in submissions.items()}
    ids = sorted(fps)
    pairs = []
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            fa, fb = fps[a], fps[b]
            if not fa or not fb:
                continue
            shared = fa.keys() & fb.keys()
            sim = len(shared) / min(len(fa), len(fb))
            if len(shared) >= min_shared and sim >= threshold:
                pairs.append(Pair(a, b, sim, len(shared), _lines(submissions[a], fa, shared, max_lines),
                                  _lines(submissions[b], fb, shared, max_lines)))
    pairs.sort(key=lambda p: (-p.similarity, -p.shared, p.a, p.b))
    return pairs


def _lines(cells: list[str], fp: dict, shared: set, max_lines: int) -> list[str]:
    where = sorted({loc for h in shared for loc in fp[h]})
    split = [c.splitlines() for c in cells]
    out = []
    for ci, ln in where:
        if 0 <= ci < len(split) and 1 <= ln <= len(split[ci]) and split[ci][ln - 1].strip():
            out.append(f"cell {ci + 1}, line {ln}: {split[ci][ln - 1].rstrip()[:160]}")
        if len(out) >= max_lines:
            break
    return out
