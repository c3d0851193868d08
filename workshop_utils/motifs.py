"""Position frequency matrices, PWM log-odds, scanning and sampling motifs.

The CTCF motif is JASPAR MA0139.1 (counts from JASPAR 2024, open data, CC BY 4.0):

    Rauluseviciute I. et al. (2024) JASPAR 2024: 20th anniversary of the
    open-access database of transcription factor binding profiles.
    Nucleic Acids Res. 52(D1):D174-D182.  https://jaspar.elixir.no/matrix/MA0139.1/

The other matrices are motifs of unrelated factors, used by the simulator as
decoys (same source and license).

All matrices here are ``(W, 4)`` arrays with columns in ``A, C, G, T`` order.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from . import _checks

# Counts as rows A, C, G, T (the JASPAR file layout); transposed to (W, 4) below.
_JASPAR_COUNTS: dict[str, tuple[str, list[list[int]]]] = {
    "CTCF": ("MA0139.1", [
        [87, 167, 281, 56, 8, 744, 40, 107, 851, 5, 333, 54, 12, 56, 104, 372, 82, 117, 402],
        [291, 145, 49, 800, 903, 13, 528, 433, 11, 0, 3, 12, 0, 8, 733, 13, 482, 322, 181],
        [76, 414, 449, 21, 0, 65, 334, 48, 32, 903, 566, 504, 890, 775, 5, 507, 307, 73, 266],
        [459, 187, 134, 36, 2, 91, 11, 324, 18, 3, 9, 341, 8, 71, 67, 17, 37, 396, 59]]),
    "SP1": ("MA0079.5", [
        [1, 1, 1, 1, 266, 1, 1, 254, 161],
        [1, 1, 1, 1, 731, 1, 85, 51, 1],
        [950, 996, 996, 996, 1, 996, 912, 659, 836],
        [47, 1, 1, 1, 1, 1, 1, 34, 1]]),
    "GATA1": ("MA0035.4", [
        [22209, 17328, 3953, 1314, 49692, 67550, 2206, 2567, 7397, 26545, 22656],
        [12209, 14489, 62419, 595, 710, 1292, 1238, 65937, 3025, 11186, 15261],
        [13955, 11088, 2712, 652, 856, 988, 618, 1471, 765, 14358, 9325],
        [23455, 28923, 2744, 69267, 20570, 1998, 67766, 1853, 60641, 19739, 24586]]),
    "FOS::JUN": ("MA0099.3", [
        [592, 3, 7, 820, 78, 5, 30, 992, 24, 277],
        [111, 5, 1, 131, 180, 2, 963, 2, 313, 397],
        [257, 2, 824, 4, 688, 2, 3, 2, 95, 164],
        [40, 990, 168, 45, 54, 991, 4, 4, 568, 162]]),
    "YY1": ("MA0095.3", [
        [13887, 12797, 3123, 41529, 39666, 30769, 41506, 689, 561, 1597, 10390, 9820],
        [8349, 11561, 33122, 926, 1447, 2536, 746, 241, 165, 971, 21750, 7355],
        [8933, 8590, 3684, 287, 1320, 8658, 712, 708, 42263, 39612, 4857, 13870],
        [12179, 10400, 3419, 606, 915, 1385, 384, 41710, 359, 1168, 6351, 12303]]),
    "CEBPA": ("MA0102.4", [
        [24010, 17688, 54374, 869, 1002, 9252, 1148, 62409, 6095, 71916, 75177, 4506, 28052, 21658],
        [14823, 12801, 7284, 826, 282, 936, 75124, 3535, 61538, 5655, 1034, 16193, 17396, 17147],
        [15847, 20062, 12772, 722, 2365, 57887, 678, 6751, 1583, 340, 1381, 7312, 12932, 16045],
        [24323, 28452, 4573, 76586, 75354, 10928, 2053, 6308, 9787, 1092, 1411, 50992, 20623, 24153]]),
}

#: Names of the factors whose motifs the simulator plants as decoys.
DECOY_NAMES = ("SP1", "GATA1", "FOS::JUN", "YY1", "CEBPA")


def motif_names() -> list[str]:
    """Names of the shipped motifs (``CTCF`` first)."""
    return list(_JASPAR_COUNTS)


def jaspar_counts(name: str = "CTCF") -> np.ndarray:
    """Return the JASPAR count matrix of a shipped motif.

    Parameters
    ----------
    name : str
        One of :func:`motif_names` (case-insensitive).

    Returns
    -------
    np.ndarray
        float64 of shape ``(W, 4)``; ``W = 19`` for CTCF (MA0139.1).
    """
    key = {k.upper(): k for k in _JASPAR_COUNTS}.get(name.upper()) if isinstance(name, str) else None
    if key is None:
        raise _checks.fail("jaspar_counts", "name", f"one of the shipped motifs {motif_names()}",
                           _checks.describe(name), hint="unknown motif")
    return np.asarray(_JASPAR_COUNTS[key][1], dtype=float).T.copy()


def jaspar_id(name: str = "CTCF") -> str:
    """JASPAR matrix ID of a shipped motif, e.g. ``'MA0139.1'`` for CTCF."""
    jaspar_counts(name)  # validates the name
    key = {k.upper(): k for k in _JASPAR_COUNTS}[str(name).upper()]
    return _JASPAR_COUNTS[key][0]


def ctcf_pfm(pseudocount: float = 0.8) -> np.ndarray:
    """CTCF position probability matrix, shape ``(19, 4)``, rows sum to 1."""
    return counts_to_ppm(jaspar_counts("CTCF"), pseudocount)


def _matrix(m, name: str, fn: str) -> np.ndarray:
    """A finite ``(W, 4)`` float64 matrix (A, C, G, T columns)."""
    m = _checks.finite_array(m, name, fn, ndim=2, dtype=float)
    if m.shape[1] != 4:
        hint = "transpose it (JASPAR files store 4 rows A, C, G, T)" if m.shape[0] == 4 else ""
        raise _checks.fail(fn, name, "a (W, 4) matrix with columns A, C, G, T", f"shape {m.shape}", hint=hint)
    return m


def check_ppm(ppm, name: str = "ppm", fn: str = "check_ppm", positive: bool = False) -> np.ndarray:
    """Check that ``ppm`` is a position probability matrix ``(W, 4)`` and return it as float64.

    Every entry in [0, 1] (``> 0`` with ``positive``) and every row summing to 1
    (tolerance 1e-3).  Counts and log-odds matrices are refused with the conversion to use.
    """
    ppm = _matrix(ppm, name, fn)
    low_ok = (ppm > 0).all() if positive else (ppm >= 0).all()
    sums = ppm.sum(1)
    if low_ok and (ppm <= 1).all() and np.allclose(sums, 1, atol=1e-3):
        return ppm
    if (ppm < 0).any():
        hint = "a log-odds PWM? convert it with 0.25 * 2 ** pwm"
    elif sums.min() > 1.5:
        hint = "counts? convert them with counts_to_ppm(counts)"
    elif positive and low_ok is False and (ppm >= 0).all():
        hint = "a zero probability; add a pseudocount with counts_to_ppm"
    else:
        hint = "normalise each row: ppm / ppm.sum(1, keepdims=True)"
    expected = "a probability matrix (W, 4): entries in " + ("(0, 1]" if positive else "[0, 1]") + \
        ", each row summing to 1"
    i = int(np.argmax(np.abs(sums - 1))) if not np.allclose(sums, 1, atol=1e-3) else int(np.argwhere(
        (ppm <= 0 if positive else ppm < 0) | (ppm > 1))[0][0])
    raise _checks.fail(fn, name, expected, f"row {i} = {np.round(ppm[i], 3).tolist()} (sum {sums[i]:.3g})", hint=hint)


def counts_to_ppm(counts: np.ndarray, pseudocount: float = 0.8) -> np.ndarray:
    """Turn counts ``(W, 4)`` into probabilities ``(W, 4)`` with a pseudocount.

    The pseudocount is spread over the four bases (JASPAR's convention), so a
    count of zero never gives a probability of zero.
    """
    fn = "counts_to_ppm"
    counts = _matrix(counts, "counts", fn)
    if (counts < 0).any():
        raise _checks.fail(fn, "counts", "non-negative counts", f"{int((counts < 0).sum())} negative value(s)",
                           hint="a log-odds matrix is not counts")
    pseudocount = _checks.number(pseudocount, "pseudocount", fn, low=0)
    c = counts + pseudocount / 4.0
    if (c.sum(1) == 0).any():
        raise _checks.fail(fn, "counts", "a count in every row (or pseudocount > 0)",
                           f"row {int(np.argmin(c.sum(1)))} all zero")
    return c / c.sum(1, keepdims=True)


def pwm_log_odds(ppm: np.ndarray, background: np.ndarray | None = None) -> np.ndarray:
    """Log2-odds PWM ``(W, 4)`` of a probability matrix against a background.

    Parameters
    ----------
    ppm : array ``(W, 4)``, rows sum to 1
    background : array ``(4,)``, optional
        Base frequencies; uniform when omitted.
    """
    fn = "pwm_log_odds"
    ppm = check_ppm(ppm, "ppm", fn, positive=True)
    bg = np.full(4, 0.25) if background is None else _checks.finite_array(background, "background", fn,
                                                                           ndim=1, dtype=float)
    if bg.shape != (4,) or (bg <= 0).any():
        raise _checks.fail(fn, "background", "4 positive frequencies (A, C, G, T)", _checks.describe(background))
    return np.log2(ppm / (bg / bg.sum()))


def scan(X: np.ndarray, pwm: np.ndarray) -> np.ndarray:
    """Score every window of every sequence with a PWM on both strands.

    Parameters
    ----------
    X : array ``(N, L, 4)``
        One-hot sequences.
    pwm : array ``(W, 4)``
        Log-odds matrix (e.g. from :func:`pwm_log_odds`).

    Returns
    -------
    np.ndarray
        float32 of shape ``(N, 2, L - W + 1)``: axis 1 is the strand
        (0 = forward, 1 = reverse complement).  Index ``j`` of either strand is
        the window ``X[:, j:j + W]``.
    """
    X = _checks.one_hot(X, "X", "scan")
    pwm = _matrix(pwm, "pwm", "scan").astype(np.float32)
    W = pwm.shape[0]
    if W > X.shape[1]:
        raise _checks.fail("scan", "pwm", f"at most as wide as the sequences ({X.shape[1]} nt)", f"width {W}")
    windows = np.lib.stride_tricks.sliding_window_view(X, W, axis=1)  # (N, L-W+1, 4, W)
    fwd = np.einsum("nlbw,wb->nl", windows, pwm, optimize=True)
    rc = pwm[::-1, ::-1]
    rev = np.einsum("nlbw,wb->nl", windows, rc, optimize=True)
    return np.stack([fwd, rev], axis=1).astype(np.float32)


def best_hits(X: np.ndarray, pwm: np.ndarray) -> dict[str, np.ndarray]:
    """Best PWM hit per sequence: ``score``, ``start`` and ``strand`` arrays of shape ``(N,)``.

    ``strand`` is +1 (forward) or -1 (reverse complement).
    """
    scores = scan(X, pwm)
    n, _, n_pos = scores.shape
    flat = scores.reshape(n, -1).argmax(1)
    strand_idx, start = np.divmod(flat, n_pos)
    return {"score": scores.reshape(n, -1)[np.arange(n), flat],
            "start": start.astype(int), "strand": np.where(strand_idx == 0, 1, -1)}


def sample_instances(ppm: np.ndarray, n: int, rng: np.random.Generator | int = 0) -> np.ndarray:
    """Sample ``n`` motif instances from a probability matrix.

    Returns
    -------
    np.ndarray
        int8 base indices (0=A, 1=C, 2=G, 3=T) of shape ``(n, W)``.
    """
    fn = "sample_instances"
    ppm = check_ppm(ppm, "ppm", fn)
    n = _checks.non_negative_int(n, "n", fn)
    rng = _checks.rng(rng, "rng", fn)
    cdf = np.cumsum(ppm / ppm.sum(1, keepdims=True), axis=1)
    u = rng.random((n, ppm.shape[0], 1))
    return np.minimum((u > cdf[None]).sum(-1), 3).astype(np.int8)


def information_content(ppm: np.ndarray) -> np.ndarray:
    """Per-position information content in bits, shape ``(W,)``."""
    ppm = check_ppm(ppm, "ppm", "information_content")
    p = np.clip(ppm, 1e-12, 1)
    return 2 + (p * np.log2(p)).sum(1)


def compare_to_motif(attr: np.ndarray, motif: np.ndarray | None = None,
                     center: int | None = None) -> dict[str, float | int]:
    """Find the placement of a motif that best matches an attribution map.

    The attribution map is compared, window by window and on both strands, with
    the motif's information-weighted matrix (Pearson correlation of the
    flattened ``(W, 4)`` blocks).  Works for ISM scores, saliency or
    gradient x input.

    Parameters
    ----------
    attr : array ``(L, 4)``
        Attribution scores of one sequence (finite).
    motif : array ``(W, 4)``, optional
        Probability matrix (entries in [0, 1], rows summing to 1); the CTCF PPM when
        omitted.  Counts or a log-odds PWM are refused (convert them first).
    center : int, optional
        Only placements that cover this position (``start <= center < start + W``);
        every placement when None.  Use the strongest position of the map to ask
        "which motif placement explains this peak?" (what
        :func:`workshop_utils.plotting.plot_window_vs_motif` draws).

    Returns
    -------
    dict
        ``start`` (int, first position of the motif in ``attr``), ``strand`` (+1/-1),
        ``similarity`` (Pearson r in [-1, 1]).
    """
    fn = "compare_to_motif"
    attr = _matrix(attr, "attr", fn)
    ppm = ctcf_pfm() if motif is None else check_ppm(motif, "motif", fn)
    W, L = ppm.shape[0], attr.shape[0]
    if W > L:
        raise _checks.fail(fn, "motif", f"at most as wide as the attribution map ({L} positions)", f"width {W}")
    lo, hi = 0, L - W  # first and last start searched
    if center is not None:
        center = _checks.non_negative_int(center, "center", fn)
        if center >= L:
            raise _checks.fail(fn, "center", f"an integer in [0, {L})", _checks.describe(center))
        lo, hi = max(0, center - W + 1), min(center, L - W)
    logo = ppm * information_content(ppm)[:, None]
    best = {"start": lo, "strand": 1, "similarity": -np.inf}
    win = np.lib.stride_tricks.sliding_window_view(attr[lo:hi + W], W, axis=0).transpose(0, 2, 1)
    win = win.reshape(-1, W * 4)
    win = win - win.mean(1, keepdims=True)
    win_norm = np.linalg.norm(win, axis=1) + 1e-12
    for strand, ref in ((1, logo), (-1, logo[::-1, ::-1])):
        r = ref.reshape(-1) - ref.mean()
        corr = win @ r / (win_norm * np.linalg.norm(r))
        j = int(np.argmax(corr))
        if corr[j] > best["similarity"]:
            best = {"start": lo + j, "strand": strand, "similarity": float(corr[j])}
    return best


def match_motifs(queries: Sequence[np.ndarray], targets: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """TOMTOM: how significantly each query motif matches each target motif.

    A thin wrapper over memelite's TOMTOM (Gupta et al. 2007, the "complete score"
    version; ``pip install memelite``) in the package layout.  Each query is aligned
    with each target on both strands, at every offset with overhangs allowed; the
    p-value of the best alignment is computed against a null built from the columns of
    the targets, so it is reliable only with a database-sized target set (memelite
    warns below 25 targets).  The first call in a fresh environment compiles
    memelite's numba code (tens of seconds; cached on disk afterwards).

    Parameters
    ----------
    queries : sequence of arrays ``(W_i, 4)``
        Probability matrices (columns A, C, G, T, rows summing to 1), e.g. the PWMs of
        a CNN's first-layer filters.
    targets : sequence of arrays ``(V_j, 4)``
        Probability matrices to match them to (e.g. JASPAR motifs).

    Returns
    -------
    dict of arrays, each of shape ``(len(queries), len(targets))``
        ``p_value`` (float), ``score`` (float, the alignment's summed column similarity),
        ``offset`` (int: the position in the target where the query's first column
        falls; negative when the query starts before the target), ``overlap`` (int,
        aligned columns) and ``strand`` (+1: the target as given, -1: its reverse
        complement).

    Examples
    --------
    >>> m = match_motifs([filter_ppm], database)          # (1, n_targets) arrays
    >>> best = int(m["p_value"][0].argmin())
    """
    fn = "match_motifs"
    out = []
    for arg, name in ((queries, "queries"), (targets, "targets")):
        if isinstance(arg, (str, bytes)) or not isinstance(arg, (Sequence, np.ndarray)) or \
                isinstance(arg, np.ndarray) and arg.ndim != 3:
            raise _checks.fail(fn, name, "a list of (W, 4) probability matrices", _checks.describe(arg),
                               kind=_checks.ArgumentTypeError,
                               hint="wrap a single matrix in a list: [ppm]" if isinstance(arg, np.ndarray) else "")
        if len(arg) == 0:
            raise _checks.fail(fn, name, "a non-empty list of (W, 4) probability matrices", "an empty list")
        out.append([np.ascontiguousarray(check_ppm(m, f"{name}[{i}]", fn).T) for i, m in enumerate(arg)])
    try:
        from memelite import tomtom
    except ImportError:  # pragma: no cover - memelite is a dependency
        raise ImportError(f"{fn} needs the package memelite: pip install memelite") from None
    p, score, offset, overlap, strand = tomtom(out[0], out[1])
    return {"p_value": p, "score": score, "offset": offset.astype(np.int64),
            "overlap": overlap.astype(np.int64), "strand": np.where(strand > 0, -1, 1).astype(np.int64)}


# --------------------------------------------------------------------------- MEME files (JASPAR subset)
#: The JASPAR CORE subset shipped with the package (MEME minimal format; provenance in data/README.md).
JASPAR_SUBSET_FILE = "jaspar_core_subset.meme"


def _meme_error(fn: str, name: str, path, line_no: int | None, what: str) -> ValueError:
    where = f" (line {line_no})" if line_no is not None else ""
    return ValueError(f"{fn}: {name} must be a MEME motif file (MEME minimal format: a 'MEME version' line, "
                      f"then 'MOTIF id name' blocks with a 'letter-probability matrix'), got {str(path)!r}, "
                      f"which is not one: {what}{where}")


def read_meme(path, *, fn: str = "read_meme", name: str = "path") -> dict[str, np.ndarray]:
    """Read the motifs of a MEME minimal-format file (what JASPAR, MEME and TOMTOM write).

    Parameters
    ----------
    path : str or Path
        The file.  Checked as it is read: a ``MEME version`` header, the DNA alphabet
        ``ACGT``, at least one ``MOTIF`` block, and in each block a ``letter-probability
        matrix`` whose rows (as many as its ``w=``) hold 4 probabilities summing to 1.
    fn, name : str
        The function and argument named in error messages (keyword only).

    Returns
    -------
    dict
        ``{"ID NAME": ppm}`` in file order, e.g. ``"MA0139.1 CTCF"``, each ``ppm`` a float64
        ``(W, 4)`` probability matrix (columns A, C, G, T): the keys memelite's and
        tangermeme's ``read_meme`` give.

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        ``path`` is not an existing file.
    ValueError
        The file is not a MEME motif file; the message names the file and the line
        (and starts ``"{fn}: {name} must be"``: a caller such as
        :func:`workshop_utils.discovery.discover_motifs` passes its own names).
    """
    return _read_meme(path, fn, name)


def _read_meme(path, fn: str, name: str) -> dict[str, np.ndarray]:
    """:func:`read_meme` with the errors in the words of the public function ``fn`` and its argument ``name``."""
    p = _checks.file_path(path, name, fn)
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise _meme_error(fn, name, p, None, "its bytes are not UTF-8 text (a binary or compressed file?)") from None
    lines = text.splitlines()
    if not any(ln.startswith("MEME version") for ln in lines[:50]):
        raise _meme_error(fn, name, p, None, "no 'MEME version' line at the top")
    motifs: dict[str, np.ndarray] = {}
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("ALPHABET") and line.split("=", 1)[-1].strip().upper() not in ("ACGT", "DNA"):
            raise _meme_error(fn, name, p, i + 1, f"alphabet {line.split('=', 1)[-1].strip()!r} is not DNA (ACGT)")
        if not line.startswith("MOTIF"):
            i += 1
            continue
        parts = line.split()
        if len(parts) < 2:
            raise _meme_error(fn, name, p, i + 1, "a MOTIF line without an identifier")
        key, start = " ".join(parts[1:3]), i + 1
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(("letter-probability", "MOTIF")):
            j += 1
        if j == len(lines) or not lines[j].strip().startswith("letter-probability"):
            raise _meme_error(fn, name, p, start, f"motif {key!r} has no 'letter-probability matrix' line")
        w_field = re.search(r"\bw=\s*(\S+)", lines[j])
        width = None
        if w_field is not None:
            if not w_field.group(1).isdigit() or int(w_field.group(1)) == 0:
                raise _meme_error(fn, name, p, j + 1, f"motif {key!r}: w= {w_field.group(1)!r} is not a positive integer")
            width = int(w_field.group(1))
        rows, k = [], j + 1
        while k < len(lines) and lines[k].strip() and not lines[k].strip().startswith(("MOTIF", "URL")):
            try:
                row = [float(v) for v in lines[k].split()]
            except ValueError:
                if width is None:
                    break
                raise _meme_error(fn, name, p, k + 1, f"motif {key!r}: matrix row {lines[k].strip()[:40]!r} is not numbers") \
                    from None
            if len(row) != 4 or not np.isfinite(row).all() or min(row) < 0 or abs(sum(row) - 1) > 0.01:
                raise _meme_error(fn, name, p, k + 1, f"motif {key!r}: matrix row {lines[k].strip()[:40]!r} is not 4 "
                                            "probabilities summing to 1")
            rows.append(row)
            k += 1
            if width is not None and len(rows) == width:
                break
        if not rows or (width is not None and len(rows) != width):
            raise _meme_error(fn, name, p, j + 1, f"motif {key!r}: {len(rows)} matrix row(s), expected "
                                        f"{width if width is not None else 'at least 1'}")
        if key in motifs:
            raise _meme_error(fn, name, p, start, f"motif {key!r} appears twice")
        m = np.asarray(rows, dtype=float)
        motifs[key] = m / m.sum(1, keepdims=True)
        i = k
    if not motifs:
        raise _meme_error(fn, name, p, None, "no MOTIF block")
    return motifs


def jaspar_subset_path():
    """Path of the JASPAR CORE subset shipped with the package (a MEME file, see :func:`load_jaspar_subset`)."""
    from pathlib import Path

    return Path(__file__).with_name(JASPAR_SUBSET_FILE)


def load_jaspar_subset() -> dict[str, np.ndarray]:
    """The JASPAR 2024 CORE subset the package ships, as ``{"ID NAME": ppm (W, 4)}``.

    81 vertebrate matrices: CTCF MA0139.1 (the only CTCF matrix, the one the simulator
    plants), CTCFL, TP53/TP63/TP73, the simulator's decoys (SP1, GATA1, FOS::JUN, YY1,
    CEBPA, at the versions it plants) and factors of many other structural families, so
    that a TOMTOM match against it (:func:`match_motifs`) means something and works offline.
    JASPAR is CC BY 4.0 (Rauluseviciute et al. 2024, *Nucleic Acids Res.* 52:D174); how
    the file was made is in ``data/README.md`` and ``scripts/extract_jaspar_subset.py``.

    Returns
    -------
    dict
        See :func:`read_meme`; ``"MA0139.1 CTCF"`` is the first key.
    """
    return read_meme(jaspar_subset_path())
