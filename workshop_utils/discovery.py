"""Motif discovery: from attributions to named motifs (TF-MoDISco, then TOMTOM against JASPAR).

The pipeline of the field's own tools, in one call (:func:`discover_motifs`):

1. attributions of a model on one-hot sequences (ISM or gradient x input from
   :mod:`workshop_utils.attribution`), or attributions computed elsewhere;
2. ``modisco-lite`` (TF-MoDISco 3, Shrikumar et al. 2018) gathers the high-attribution
   stretches (*seqlets*) and clusters them into patterns, each summarised by its
   contribution weight matrix (CWM) and its base frequencies (PPM);
3. every pattern, trimmed to the columns that carry at least ``trim_threshold`` of its
   strongest column's contribution (modisco's report does the same), is matched against a
   motif database (the package's JASPAR CORE subset by default) with TOMTOM
   (:func:`workshop_utils.motifs.match_motifs`, memelite); the p-values of a pattern are
   corrected over the database's motifs (Benjamini-Hochberg q-values);
4. every seqlet of a pattern is an *instance*: its sequence, position and orientation
   relative to the matched motif, so spacings and orientations of motif pairs can be counted.

Arrays follow the package layout: one-hot ``X`` and attributions are ``(N, L, 4)``
(A, C, G, T).  modisco-lite and memelite are imported inside the functions.

DeepLIFT/SHAP is not a built-in method: tangermeme's ``deep_lift_shap`` explains torch
models only (the lessons' searched models are Keras ones), would be a dependency for one
method, and costs a forward and backward pass per shuffled reference (20 by default) where
ISM and the centred gradient already name CTCF with q < 0.01 (tests/test_discovery.py,
day2_02).  Hypothetical contributions computed with it, or with Captum's ``DeepLiftShap``
(Captum is a dependency), go in through ``attributions=``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _checks
from .attribution import ism, saliency
from .backend import check_target, n_outputs, require_model
from .motifs import check_ppm, load_jaspar_subset, match_motifs, read_meme

METHODS = ("ism", "gradient_x_input")


@dataclass
class MotifDiscovery:
    """What :func:`discover_motifs` found.

    Attributes
    ----------
    patterns : pandas.DataFrame
        One row per pattern, positive patterns first, each sign in modisco's order (most
        seqlets first): ``pattern`` (``'pos_0'``, ``'neg_0'``, ...), ``sign`` (+1: the
        pattern raises the output, -1: lowers it), ``n_seqlets``, ``frac_sequences`` (the
        fraction of the sequences with at least one instance: a model that knows only one
        motif finds weak look-alikes of it in any sequence, so compare this, not only the
        name of the match, between sequence sets), ``width`` (trimmed
        columns matched), ``match_id`` and ``match_name`` (the best TOMTOM match, e.g.
        ``'MA0139.1'``, ``'CTCF'``), ``p_value``, ``q_value`` (Benjamini-Hochberg over the
        database's motifs), ``strand`` (+1: the CWM as drawn reads like the match, -1: like
        its reverse complement), ``second_name`` and ``second_q_value`` (the runner-up).
    instances : pandas.DataFrame
        One row per seqlet of every pattern: ``pattern``, ``sequence`` (row of ``X``),
        ``start``, ``end`` (the trimmed pattern's span in the sequence, ``end`` exclusive),
        ``strand`` (+1 when the matched motif reads forward on the sequence's given strand,
        -1 when on its reverse complement), ``motif_start`` (where the matched motif's first
        column would fall on the forward strand, for its given orientation: comparable with
        the simulator's planted ``sites['start']``; may lie outside the sequence for a
        partial match).
    cwms, ppms : dict of str to array ``(W, 4)``
        Per pattern: the trimmed CWM (mean contribution, oriented as modisco found it) and
        the trimmed base frequencies matched against the database.
    attributions : np.ndarray
        float32 ``(N, L, 4)``, the hypothetical contributions given to modisco.
    matches : dict of str to dict
        Per pattern, :func:`~workshop_utils.motifs.match_motifs`'s arrays for that pattern
        (shape ``(n_targets,)`` each) and ``names`` (the database keys).
    """

    patterns: Any
    instances: Any
    cwms: dict[str, np.ndarray] = field(default_factory=dict)
    ppms: dict[str, np.ndarray] = field(default_factory=dict)
    attributions: np.ndarray | None = None
    matches: dict[str, dict] = field(default_factory=dict)

    def top(self, sign: int = 1, min_fraction: float = 0.0) -> Any:
        """The row of the pattern with the most seqlets among those of ``sign`` (+1 or -1), or None.

        ``min_fraction`` (0 to 1) asks for a pattern the sequences are *about*: only patterns with
        an instance in at least that fraction of the sequences count (``frac_sequences``). A model
        that knows one motif finds look-alikes of it in any peak set; ``min_fraction=0.5`` names it
        only where most peaks carry it, and gives None where no pattern does.
        """
        if isinstance(sign, bool) or sign not in (1, -1):
            raise _checks.fail("MotifDiscovery.top", "sign", "+1 or -1", _checks.describe(sign))
        min_fraction = _checks.number(min_fraction, "min_fraction", "MotifDiscovery.top", low=0.0, high=1.0)
        rows = self.patterns[self.patterns["sign"] == sign]
        if min_fraction > 0:
            rows = rows[rows["frac_sequences"] >= min_fraction]
        return None if rows.empty else rows.iloc[0]


def bh_qvalues(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values of p-values ``(..., n)`` along the last axis (same shape)."""
    p = _checks.finite_array(p, "p", "bh_qvalues", dtype=np.float64)
    n = p.shape[-1]
    order = np.argsort(p, axis=-1)
    ranked = np.take_along_axis(p, order, -1) * n / np.arange(1, n + 1)
    ranked = np.minimum.accumulate(ranked[..., ::-1], axis=-1)[..., ::-1]
    q = np.empty_like(ranked)
    np.put_along_axis(q, order, np.minimum(ranked, 1.0), -1)
    return q


def _database(database: Any, fn: str) -> dict[str, np.ndarray]:
    """``{name: ppm (W, 4)}`` from None (the shipped JASPAR subset), a MEME path or a dict."""
    if database is None:
        return load_jaspar_subset()
    if isinstance(database, dict):
        if len(database) < 1:
            raise _checks.fail(fn, "database", "a non-empty dict of name -> (W, 4) probability matrix", "an empty dict")
        return {str(k): check_ppm(v, f"database[{k!r}]", fn) for k, v in database.items()}
    if isinstance(database, (str, bytes)) or hasattr(database, "__fspath__"):
        return read_meme(database, fn=fn, name="database")
    raise _checks.fail(fn, "database", "None, a path to a MEME motif file or a dict of (W, 4) matrices",
                       _checks.describe(database), kind=_checks.ArgumentTypeError)


def _check_attributions(attr: Any, X: np.ndarray, fn: str) -> np.ndarray:
    attr = _checks.finite_array(attr, "attributions", fn, ndim=3)
    if attr.shape != X.shape:
        hint = "did you pass (N, 4, L)? transpose it with .transpose(0, 2, 1)" if attr.shape == (
            X.shape[0], 4, X.shape[1]) else "one (L, 4) map per sequence of X"
        raise _checks.fail(fn, "attributions", f"an array of the shape of X {X.shape}", f"shape {attr.shape}",
                           hint=hint)
    if not np.any(attr * X):
        what = "all zero" if not np.any(attr) else "zero at every observed base"
        raise _checks.fail(fn, "attributions", "non-zero at the observed bases (the contributions modisco clusters)",
                           what, hint="a model that ignores its input, or attributions of the wrong output?")
    return np.ascontiguousarray(attr, dtype=np.float32)


def _attribute(model: Any, X: np.ndarray, method: str, target: Any, batch_size: int, fn: str) -> np.ndarray:
    """Hypothetical contributions ``(N, L, 4)`` of every base (modisco's input)."""
    require_model(model, fn)
    target = check_target(model, X, target, fn)
    if method == "ism":
        if n_outputs(model, X, fn) > 1:
            raise _checks.fail(fn, "method", "'gradient_x_input' for a model with several outputs",
                               "'ism'", hint="attribution.ism explains single-output models")
        return ism(model, X, hypothetical=True, batch_size=batch_size)
    grad = saliency(model, X, batch_size=min(batch_size, 256), target=target)
    return grad - grad.mean(-1, keepdims=True)  # centred gradient: what each base would contribute


def _cache_modisco_kernels() -> None:
    """Let numba keep modisco-lite's compiled kernels on disk, so only the first run ever compiles them.

    modisco-lite caches its kernels only when it can fork compiler processes, which it
    refuses in a process with a second thread (a Jupyter kernel, a tqdm monitor): it then
    compiles them on every run's first call (about 12 s on a 2-core machine).  Turning on
    numba's cache for the same kernels, as modisco does before forking, makes that a one-off.
    Best effort: any failure leaves modisco's own behaviour.
    """
    try:
        from modiscolite import precompile
        from numba.core.dispatcher import Dispatcher

        groups = precompile._kernels()
    except Exception:  # noqa: BLE001 - another modisco-lite version: nothing to do
        return
    for group in groups:
        for dispatcher, _ in group:
            if isinstance(dispatcher, Dispatcher) and not dispatcher.overloads:
                try:
                    dispatcher.enable_caching()
                except Exception:  # noqa: BLE001 - no writable cache location: compile as modisco would
                    pass


def _trim(cwm: np.ndarray, threshold: float) -> tuple[int, int]:
    score = np.abs(cwm).sum(1)
    keep = np.nonzero(score >= threshold * score.max())[0]
    return int(keep[0]), int(keep[-1]) + 1


def discover_motifs(model: Any, X: np.ndarray, method: str = "ism", attributions: np.ndarray | None = None,
                    target: int | None = None, database: Any = None, min_seqlets: int = 50,
                    max_seqlets: int = 2000, window_size: int = 21, n_leiden_runs: int = 8,
                    trim_threshold: float = 0.3, batch_size: int = 512, verbose: bool = False) -> MotifDiscovery:
    """Discover the motifs a model uses and name them: attributions, TF-MoDISco, TOMTOM.

    Parameters
    ----------
    model : keras.Model, torch.nn.Module or None
        The model to explain (logits, see :mod:`workshop_utils.backend`); None when
        ``attributions`` are given.
    X : array ``(N, L, 4)``
        One-hot sequences (thousands give the most reliable patterns; a few hundred
        sequences with a strong motif are enough).
    method : {'ism', 'gradient_x_input'}
        How to attribute when ``attributions`` is None: saturated ISM on the logit
        (:func:`workshop_utils.attribution.ism`, single-output models), or the input
        gradient centred over the four bases (its product with ``X`` is gradient x input).
    attributions : array ``(N, L, 4)``, optional
        Precomputed hypothetical contributions of every base (e.g. ISM with
        ``hypothetical=True``, or DeepLIFT/SHAP from tangermeme); ``model`` is then not used.
    target : int or None
        The output to explain; required for a model with several outputs.
    database : None, path or dict
        Motifs to match against: None is the shipped JASPAR CORE subset
        (:func:`workshop_utils.motifs.load_jaspar_subset`), a path a MEME file, or a dict
        ``{name: ppm (W, 4)}`` (names ``'ID NAME'`` split into ``match_id``/``match_name``).
        TOMTOM's p-values need a database of at least ~25 motifs.
    min_seqlets : int
        Fewest seqlets of one sign for modisco to cluster them (modisco's
        ``min_metacluster_size``); also the fewest a pattern needs to be kept is
        ``min(20, min_seqlets)``.
    max_seqlets : int
        Most seqlets of one sign clustered (the strongest first); bounds the run time.
    window_size : int
        Width of the windows modisco scores to find seqlets (its ``sliding_window_size``).
    n_leiden_runs : int
        Leiden clusterings per round (modisco's default is 50; fewer is faster).
    trim_threshold : float in (0, 1)
        A pattern is trimmed to the columns whose summed absolute CWM is at least this
        fraction of its strongest column's before it is matched (modisco's report: 0.3).
    batch_size : int
        Mutants (ISM) or rows (gradients) per forward pass.
    verbose : bool
        Let modisco print its progress.

    Returns
    -------
    MotifDiscovery
        ``patterns`` and ``instances`` tables (pandas), the trimmed CWMs and PPMs, the
        attributions used and the TOMTOM arrays; see :class:`MotifDiscovery`.

    Raises
    ------
    ValueError
        ``X`` not one-hot; attributions of the wrong shape, NaN/inf or all zero; a model
        with several outputs and no ``target``; a database file that is not a MEME file;
        too few sequences (or too little signal) for modisco to find any pattern.

    Examples
    --------
    >>> found = discover_motifs(model, data.x_test[:2000], method="ism")
    >>> found.patterns[["pattern", "n_seqlets", "match_name", "q_value"]]
    >>> plotting.plot_cwm(found.cwms["pos_0"], title=found.patterns.iloc[0]["match_name"])
    """
    import pandas as pd

    fn = "discover_motifs"
    X, method, opts = _options(X, method, fn, min_seqlets=min_seqlets, max_seqlets=max_seqlets,
                               window_size=window_size, n_leiden_runs=n_leiden_runs, trim_threshold=trim_threshold,
                               batch_size=batch_size, verbose=verbose)
    db = _database(database, fn)
    if attributions is None:
        if model is None:
            raise _checks.fail(fn, "model", "a Keras or PyTorch model when attributions is None", None,
                               kind=_checks.ArgumentTypeError, hint="or pass attributions=")
        hyp = _check_attributions(_attribute(model, X, method, target, opts["batch_size"], fn), X, fn)
    else:
        hyp = _check_attributions(attributions, X, fn)
    found = _run_modisco(X, hyp, opts, fn)
    rows, inst, cwms, ppms, matches = _name_patterns(found, X, db, opts["trim_threshold"])
    patterns = pd.DataFrame(rows)
    instances = pd.DataFrame(inst, columns=["pattern", "sequence", "start", "end", "strand", "motif_start"])
    return MotifDiscovery(patterns=patterns, instances=instances, cwms=cwms, ppms=ppms, attributions=hyp,
                          matches=matches)


def _options(X: Any, method: Any, fn: str, **opts: Any) -> tuple[np.ndarray, str, dict]:
    """Step 1 of :func:`discover_motifs`: every argument checked before any work."""
    X = _checks.one_hot(X, "X", fn)
    method = _checks.one_of(method, "method", fn, METHODS)
    out = {"min_seqlets": _checks.positive_int(opts["min_seqlets"], "min_seqlets", fn)}
    out["max_seqlets"] = _checks.positive_int(opts["max_seqlets"], "max_seqlets", fn, minimum=out["min_seqlets"])
    out["window_size"] = _checks.positive_int(opts["window_size"], "window_size", fn, minimum=5)
    out["n_leiden_runs"] = _checks.positive_int(opts["n_leiden_runs"], "n_leiden_runs", fn)
    out["trim_threshold"] = _checks.number(opts["trim_threshold"], "trim_threshold", fn, low=0, high=1,
                                           low_open=True, high_open=True)
    out["batch_size"] = _checks.positive_int(opts["batch_size"], "batch_size", fn)
    out["verbose"] = _checks.flag(opts["verbose"], "verbose", fn)
    w = out["window_size"]
    if X.shape[1] < 2 * w + 2:
        raise _checks.fail(fn, "X", f"sequences of at least {2 * w + 2} nt for window_size={w}", f"length {X.shape[1]}")
    return X, method, out


def _run_modisco(X: np.ndarray, hyp: np.ndarray, opts: dict, fn: str) -> list[tuple[str, int, Any]]:
    """Step 2: TF-MoDISco on the attributions; ``[(prefix, sign, pattern), ...]``, positive patterns first."""
    try:
        from modiscolite.tfmodisco import TFMoDISco
    except ImportError:  # pragma: no cover - modisco-lite is a dependency
        raise ImportError(f"{fn} needs the package modisco-lite: pip install modisco-lite") from None
    _cache_modisco_kernels()
    w, min_seqlets = opts["window_size"], opts["min_seqlets"]
    flank = max(2, w // 2)
    try:
        pos, neg = TFMoDISco(one_hot=X, hypothetical_contribs=hyp, sliding_window_size=w, flank_size=flank,
                             min_metacluster_size=min_seqlets, max_seqlets_per_metacluster=opts["max_seqlets"],
                             n_leiden_runs=opts["n_leiden_runs"], final_min_cluster_size=min(20, min_seqlets),
                             trim_to_window_size=w + 9, initial_flank_to_add=flank, verbose=opts["verbose"])
    except (ValueError, IndexError, ZeroDivisionError) as err:
        raise _checks.fail(fn, "X", "enough sequences for TF-MoDISco to find seqlets",
                           f"{len(X)} sequence(s) of {X.shape[1]} nt",
                           hint=f"modisco failed on them: {type(err).__name__}: {err}") from None
    found = [("pos", 1, p) for p in (pos or [])] + [("neg", -1, p) for p in (neg or [])]
    if not found:
        raise _checks.fail(fn, "X", f"enough sequences for at least {min_seqlets} seqlets of one sign "
                                    "(min_seqlets) clustered into a pattern",
                           f"{len(X)} sequence(s) in which TF-MoDISco found no pattern",
                           hint="give more sequences, or lower min_seqlets")
    return found


def _name_patterns(found: list, X: np.ndarray, db: dict[str, np.ndarray], trim_threshold: float) -> tuple:
    """Step 3: trim every pattern, match it with TOMTOM, and list its instances.

    Returns the patterns table's rows, the instances' rows, the trimmed CWMs and PPMs and
    the TOMTOM arrays per pattern.
    """
    names = list(db)
    targets = [np.asarray(m, dtype=float) for m in db.values()]
    cwms, ppms, queries, spans, counts = {}, {}, [], [], {"pos": 0, "neg": 0}
    for prefix, sign, pat in found:
        name = f"{prefix}_{counts[prefix]}"
        counts[prefix] += 1
        cwm = np.asarray(pat.contrib_scores, dtype=float)
        a, b = _trim(cwm, trim_threshold)
        ppm = np.asarray(pat.sequence, dtype=float)[a:b] + 1e-3
        ppm /= ppm.sum(1, keepdims=True)
        cwms[name], ppms[name] = cwm[a:b].copy(), ppm
        queries.append(ppm)
        spans.append((name, sign, pat, a, b))
    m = match_motifs(queries, targets)
    q = bh_qvalues(m["p_value"])
    rows, inst, matches = [], [], {}
    for i, (name, sign, pat, a, b) in enumerate(spans):
        order = np.argsort(m["p_value"][i], kind="stable")
        j, j2 = int(order[0]), int(order[1]) if len(order) > 1 else None
        key = names[j].split(None, 1)
        strand = int(m["strand"][i, j])
        rows.append({"pattern": name, "sign": sign, "n_seqlets": len(pat.seqlets),
                     "frac_sequences": len({s.example_idx for s in pat.seqlets}) / len(X), "width": b - a,
                     "match_id": key[0], "match_name": key[1] if len(key) > 1 else key[0],
                     "p_value": float(m["p_value"][i, j]), "q_value": float(q[i, j]), "strand": strand,
                     "second_name": names[j2] if j2 is not None else None,
                     "second_q_value": float(q[i, j2]) if j2 is not None else np.nan})
        matches[name] = {k: v[i] for k, v in m.items()} | {"q_value": q[i], "names": names}
        inst += _instances(name, pat, a, b, strand, int(m["offset"][i, j]), targets[j].shape[0], X.shape[1])
    return rows, inst, cwms, ppms, matches


def _instances(name: str, pat: Any, a: int, b: int, strand: int, offset: int, w_target: int, L: int) -> list[dict]:
    """Step 4: one row per seqlet of a pattern trimmed to ``[a, b)``, oriented by its TOMTOM match.

    The aligned target (itself, or its reverse complement when ``strand`` is -1) starts at
    column ``-offset`` of the trimmed pattern (TOMTOM's offset, checked in the tests).
    """
    rows, t0 = [], -offset
    for s in pat.seqlets:
        if not s.is_revcomp:
            start, end = s.start + a, s.start + b
            m_strand, m_start = strand, s.start + a + t0
        else:
            start, end = s.end - b, s.end - a
            m_strand, m_start = -strand, end - t0 - w_target
        rows.append({"pattern": name, "sequence": int(s.example_idx), "start": int(max(start, 0)),
                     "end": int(min(end, L)), "strand": m_strand, "motif_start": int(m_start)})
    return rows


ORIENTATIONS = {(1, -1): "convergent", (-1, 1): "divergent", (1, 1): "tandem", (-1, -1): "tandem"}


def instance_pairs(found: MotifDiscovery, patterns: str | list[str] | None = None) -> Any:
    """Pairs of motif instances in the same sequence: their spacing and relative orientation.

    Parameters
    ----------
    found : MotifDiscovery
        From :func:`discover_motifs`.
    patterns : str, list of str or None
        The patterns whose instances are paired.  None: every pattern whose best match is
        that of the top positive pattern (modisco may split one motif into several patterns).

    Returns
    -------
    pandas.DataFrame
        One row per pair of distinct instances (same ``sequence``; instances of different
        patterns at the same ``motif_start`` and ``strand`` counted once), upstream first:
        ``sequence``, ``start1``, ``start2`` (``motif_start`` of each), ``strand1``,
        ``strand2``, ``spacing`` (``start2 - start1``, start to start, >= 0) and
        ``orientation``: ``'convergent'`` (+ then -, the motifs face each other),
        ``'divergent'`` (- then +) or ``'tandem'`` (same strand).  Compare ``spacing`` with
        the simulator's ``sites['spacing']`` on the ``'grammar'`` preset.
    """
    import pandas as pd

    fn = "instance_pairs"
    if not isinstance(found, MotifDiscovery):
        raise _checks.fail(fn, "found", "the MotifDiscovery that discover_motifs returns", _checks.describe(found),
                           kind=_checks.ArgumentTypeError)
    known = found.patterns["pattern"].tolist()
    if patterns is None:
        top = found.top()
        if top is None:
            raise _checks.fail(fn, "found", "a discovery with a positive pattern (or give patterns=)",
                               "only negative patterns")
        patterns = found.patterns.loc[found.patterns["match_id"] == top["match_id"], "pattern"].tolist()
    elif isinstance(patterns, str):
        patterns = [patterns]
    if not isinstance(patterns, (list, tuple)) or not patterns:
        raise _checks.fail(fn, "patterns", "a pattern name, a non-empty list of them, or None", _checks.describe(patterns),
                           kind=_checks.ArgumentTypeError)
    for p in patterns:
        _checks.one_of(p, "patterns", fn, known)
    inst = found.instances[found.instances["pattern"].isin(patterns)]
    inst = inst.drop_duplicates(["sequence", "motif_start", "strand"]).sort_values(["sequence", "motif_start"])
    rows = []
    for seq, group in inst.groupby("sequence", sort=True):
        starts, strands = group["motif_start"].to_numpy(), group["strand"].to_numpy()
        for i in range(len(starts)):
            for j in range(i + 1, len(starts)):
                rows.append({"sequence": int(seq), "start1": int(starts[i]), "start2": int(starts[j]),
                             "strand1": int(strands[i]), "strand2": int(strands[j]),
                             "spacing": int(starts[j] - starts[i]),
                             "orientation": ORIENTATIONS[(int(strands[i]), int(strands[j]))]})
    return pd.DataFrame(rows, columns=["sequence", "start1", "start2", "strand1", "strand2", "spacing", "orientation"])
