"""The CTCF binding data as arrays (:class:`CTCFData`) and its ``CTCF_200.h5`` file format.

Arrays follow the package layout: one-hot DNA ``(N, L, 4)`` float32 (A, C, G, T),
labels ``(N,)`` float32 in {0, 1}.  Files in the course's ``CTCF_200.h5`` layout store
``x`` as ``(N, 4, L)``; :func:`read_ctcf_h5` transposes once on reading and
:func:`write_ctcf_h5` once on writing.  :func:`site_detector_auroc` is the ceiling of the
simulated task.  :mod:`workshop_utils.datasets` re-exports every name (``wu.datasets.CTCFData``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import _checks
from ._atomic import atomic_path

__all__ = ["CTCFData", "SPLITS", "read_ctcf_h5", "site_detector_auroc", "write_ctcf_h5"]

SPLITS = ("train", "valid", "test")


@dataclass
class CTCFData:
    """Train/valid/test splits of one-hot DNA with binding labels.

    Attributes
    ----------
    x_train, x_valid, x_test : np.ndarray
        float32 ``(N, L, 4)``.
    y_train, y_valid, y_test : np.ndarray
        float32 ``(N,)`` in {0, 1}.
    sites : dict or None
        For simulated data, ``sites[split]`` is a dict of int arrays of shape ``(N,)``:
        ``start`` (first position of the planted CTCF instance, -1 when none) and
        ``strand`` (+1 forward, -1 reverse complement, 0 when none).  None for real files.
    source : str
        Where the data came from (a file path or the simulator's settings).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    sites: dict | None = None
    source: str = ""
    motif_width: int = field(default=19)

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(x, y)`` of split ``name`` ('train', 'valid' or 'test')."""
        _checks.one_of(name, "name", "CTCFData.split", SPLITS)
        return getattr(self, f"x_{name}"), getattr(self, f"y_{name}")

    def summary(self) -> str:
        """One line per split: size, sequence length and fraction bound."""
        lines = []
        for s in SPLITS:
            x, y = self.split(s)
            lines.append(f"{s:>5}: {len(y):6d} sequences of {x.shape[1]} nt, {y.mean():.1%} bound")
        return "\n".join(lines)


def site_detector_auroc(data: CTCFData, split: str = "test") -> float:
    """AUROC of a perfect site detector on one split: the ceiling of a site-reading model.

    The simulator plants a CTCF site in most bound and a few unbound sequences
    (``data.sites[split]["start"] >= 0``).  A detector that answers "planted site: yes/no"
    without error ranks every sequence with a site above every one without and ties the
    rest, so its AUROC is exactly ``0.5 * (1 + a - b)`` with ``a`` the fraction of bound
    and ``b`` the fraction of unbound sequences that carry a site.  A model that only
    reads the site cannot beat it; the rest of the labels is noise by construction.
    For the ``default`` and ``hard`` presets; in the ``grammar`` preset every sequence
    carries sites (the grammar decides), so the number is 0.5 and says nothing.

    Parameters
    ----------
    data : CTCFData
        Simulated data with ``sites`` (real files have none).
    split : {'train', 'valid', 'test'}

    Returns
    -------
    float
        The AUROC in [0, 1], the same number as ``sklearn.metrics.roc_auc_score(y, has_site)``.
    """
    fn = "site_detector_auroc"
    if not isinstance(data, CTCFData):
        raise _checks.fail(fn, "data", "a CTCFData", _checks.describe(data), kind=_checks.ArgumentTypeError,
                           hint="load it with wu.load_ctcf()")
    split = _checks.one_of(split, "split", fn, SPLITS)
    if data.sites is None or split not in data.sites:
        raise _checks.fail(fn, "data.sites", "the planted sites of simulated data", "None",
                           hint="real data have no planted sites, so the ceiling is unknown")
    y = _checks.binary_labels(data.split(split)[1], f"data.y_{split}", fn)
    has_site = np.asarray(data.sites[split]["start"]) >= 0
    if has_site.shape != y.shape:
        raise _checks.fail(fn, f"data.sites[{split!r}]['start']", f"an array of shape {y.shape}",
                           f"shape {has_site.shape}")
    if y.min() == y.max():
        raise _checks.fail(fn, f"data.y_{split}", "labels of both classes", f"only {y[0]:g}")
    a, b = has_site[y == 1].mean(), has_site[y == 0].mean()
    return float(0.5 * (1.0 + a - b))


# --------------------------------------------------------------------------- h5 files
def _check_split(x: np.ndarray, y: np.ndarray, split: str, where: str, fn: str) -> tuple[np.ndarray, np.ndarray]:
    """One split's ``x`` ``(N, 4, L)`` or ``(N, L, 4)`` and labels ``y``; named ``f"{where}: x_{split}"``."""
    return _checks.check_xy(x, y, fn, x_name=f"{where}: x_{split}", y_name=f"{where}: y_{split}", x_kind="one_hot")


def _read_sites(f, s: str, n: int, where: str, fn: str) -> dict | None:
    if f"start_{s}" not in f or f"strand_{s}" not in f:
        return None
    sites = {"start": np.asarray(f[f"start_{s}"][()]).astype(np.int64),
             "strand": np.asarray(f[f"strand_{s}"][()]).astype(np.int64)}
    for key, arr in sites.items():
        if arr.shape != (n,):
            raise _checks.fail(fn, f"{where}: {key}_{s}", f"an array of shape ({n},), one per sequence",
                               f"shape {arr.shape}")
    return sites


def read_ctcf_h5(path: str | Path) -> CTCFData:
    """Read a file in the course's ``CTCF_200.h5`` layout.

    Expected keys: ``x_train, y_train, x_valid, y_valid, x_test, y_test`` with ``x`` of
    shape ``(N, 4, L)`` (``(N, L, 4)`` is accepted too) and ``y`` of shape ``(N,)`` or
    ``(N, 1)`` in {0, 1}.  Optional ``start_<split>`` / ``strand_<split>`` hold planted
    sites.  A split whose ``x`` has no known base at all (all zeros: an empty or
    wrongly written file) is refused rather than read as all-``N`` data.

    Raises
    ------
    FileNotFoundError, IsADirectoryError, ValueError
        Naming the file and the key that is missing or malformed.
    """
    fn = "read_ctcf_h5"
    with _checks.h5_file(path, "path", fn) as f:
        path = Path(f.filename)
        missing = [f"{p}_{s}" for s in SPLITS for p in ("x", "y") if f"{p}_{s}" not in f]
        if missing:
            raise ValueError(f"{fn}: {path} must hold the keys x_/y_ train, valid, test; missing keys {missing}; "
                             f"found {sorted(f.keys())}")
        arrays, sites = {}, {}
        for s in SPLITS:
            try:
                x, y = f[f"x_{s}"][()], f[f"y_{s}"][()]
            except (OSError, TypeError, ValueError, KeyError) as err:
                raise ValueError(f"{fn}: {path}: cannot read x_{s}/y_{s} (truncated file?): {err}") from None
            arrays[f"x_{s}"], arrays[f"y_{s}"] = _check_split(x, y, s, str(path), fn)
            found = _read_sites(f, s, len(arrays[f"y_{s}"]), str(path), fn)
            if found is not None:
                sites[s] = found
        source = f.attrs.get("source", str(path))
    lengths = {arrays[f"x_{s}"].shape[1] for s in SPLITS}
    if len(lengths) != 1:
        raise ValueError(f"{fn}: {path}: the splits must have one sequence length, got lengths {sorted(lengths)}")
    return CTCFData(**arrays, sites=sites if len(sites) == 3 else None,
                    source=source if isinstance(source, str) else str(path))


def write_ctcf_h5(data: CTCFData, path: str | Path) -> Path:
    """Write ``data`` in the ``CTCF_200.h5`` layout (x as ``(N, 4, L)``).

    ``x`` is stored as uint8 when it is strictly one-hot, as float32 when it holds
    ``N`` rows of 0.25 (so they read back as 0.25, not 0).  The file is written under a
    temporary name in the same folder and renamed over ``path`` at the end, so an
    interrupted write never leaves a partial file and never destroys the previous one.
    """
    import h5py

    fn = "write_ctcf_h5"
    if not isinstance(data, CTCFData):
        raise _checks.fail(fn, "data", "a CTCFData", _checks.describe(data), kind=_checks.ArgumentTypeError)
    if not isinstance(path, (str, Path)):
        raise _checks.fail(fn, "path", "a file path (str or Path)", _checks.describe(path),
                           kind=_checks.ArgumentTypeError)
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{fn}: path must be a file name, got {str(path)!r}, which is a directory, "
                                "not a file")
    checked = {s: _check_split(getattr(data, f"x_{s}"), getattr(data, f"y_{s}"), s, "data", fn) for s in SPLITS}
    if data.sites is not None:
        for s, (x, _) in checked.items():
            for key in ("start", "strand"):
                arr = np.asarray(data.sites.get(s, {}).get(key, ()))
                if arr.shape != (len(x),):
                    raise _checks.fail(fn, f"data.sites[{s!r}][{key!r}]", f"an array of shape ({len(x)},)",
                                       f"shape {arr.shape}")
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        for s, (x, y) in checked.items():
            stored = x.transpose(0, 2, 1)
            stored = stored.astype(np.uint8) if np.isin(stored, (0, 1)).all() else stored.astype(np.float32)
            f.create_dataset(f"x_{s}", data=stored, compression="gzip", compression_opts=1, chunks=True)
            f.create_dataset(f"y_{s}", data=y.astype(np.uint8))
            if data.sites is not None:
                f.create_dataset(f"start_{s}", data=np.asarray(data.sites[s]["start"]).astype(np.int16))
                f.create_dataset(f"strand_{s}", data=np.asarray(data.sites[s]["strand"]).astype(np.int8))
        f.attrs["source"] = data.source
    return path
