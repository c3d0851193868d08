"""The CTCF binding data of the workshop, from one call: :func:`load_ctcf`.

It reads your own ``CTCF_200.h5`` file, the course's real data (downloaded once by
:func:`fetch_course_ctcf`), or the simulated data, cached on disk under a name built in one
place (:func:`simulated_cache_path`, keyed by :func:`preset_key`).

The pieces live in one module each, and every public name of them is re-exported here, so
``wu.datasets.simulate_ctcf`` and ``from workshop_utils.datasets import CTCFData`` keep working:
:mod:`workshop_utils.ctcf_data` (the :class:`CTCFData` arrays and the ``.h5`` layout),
:mod:`workshop_utils.simulator` (the simulator and its presets) and :mod:`workshop_utils.peaks`
(real peak sequences shipped in ``data/``).

The other data of the course live next to the code that uses them:
:mod:`workshop_utils.expression_data` (PBMC single-cell expression, ``.h5ad`` files)
and :mod:`workshop_utils.toy_data` (the autoencoder lesson's toy genes).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from dataclasses import asdict
from pathlib import Path

import numpy as np

from . import _checks, _moved, config, simulator

# Names that lived here in the last release (one more release with a DeprecationWarning).
__getattr__ = _moved.moved_names(__name__, {
    "read_h5ad": "workshop_utils.expression_data", "load_pbmc": "workshop_utils.expression_data",
    "Expression": "workshop_utils.expression_data", "PBMC_FILE": "workshop_utils.expression_data",
    "toy_genes": "workshop_utils.toy_data"})
from .ctcf_data import SPLITS, CTCFData, read_ctcf_h5, site_detector_auroc, write_ctcf_h5  # noqa: F401
from .peaks import REAL_PEAK_FILES, load_real_peaks  # noqa: F401
from .simulator import (PRESETS, SIMULATOR_VERSION, SimulationPreset, check_sizes, default_sizes,  # noqa: F401
                        load_background, make_ctcf_data, resolve_preset, sample_background, simulate_ctcf)

#: The course's own CTCF ChIP-seq data (51,156 sequences of 200 nt, the ``CTCF_200.h5`` layout).
COURSE_CTCF_URL = "https://www.dropbox.com/s/0ks4dk6md2l9mqx/CTCF_200.h5?dl=1"
#: sha256 of the course file: unknown until someone downloads it (``fetch_course_ctcf`` logs
#: the hash it sees; record it here and in ``data/README.md``).  None skips the check.
COURSE_CTCF_SHA256: str | None = None
#: Where ``load_ctcf`` gets its data when ``source`` is not given (values: :data:`SOURCES`).
SOURCE_ENV = "WORKSHOP_CTCF_SOURCE"
SOURCES = ("simulated", "course")
_log = logging.getLogger(__name__)



# --------------------------------------------------------------------------- the cache
def simulated_cache_path(preset: str = "default", seed: int = 0, sizes: dict[str, int] | None = None) -> Path:
    """The cache file that :func:`load_ctcf` reads and writes for these simulator settings.

    The single definition of the cache's name (the grader copies the course data with it).
    The name holds the preset's name, the seed, the sizes and :func:`preset_key` (a hash
    of the preset's values and :data:`SIMULATOR_VERSION`), so editing ``PRESETS[name]``
    or the simulator gives another file.  The file may not exist yet.
    """
    return _cache_path(preset, seed, sizes, "simulated_cache_path")


def _cache_path(preset, seed, sizes, fn: str) -> Path:
    preset = _checks.one_of(preset, "preset", fn, sorted(PRESETS))
    seed = _checks.non_negative_int(seed, "seed", fn)
    sizes = check_sizes(sizes, fn)
    tag = "_".join(str(sizes[s]) for s in SPLITS)
    return config.cache_dir() / f"ctcf_sim_{preset}_s{seed}_{tag}_{preset_key(PRESETS[preset])}.h5"


def preset_key(preset: SimulationPreset) -> str:
    """12 hex digits naming what a simulated data set is made from: the preset's values and
    :data:`SIMULATOR_VERSION` (so the cache of an edited preset, or of a changed simulator,
    has another name and is rebuilt instead of read back)."""
    if not isinstance(preset, SimulationPreset):
        raise _checks.fail("preset_key", "preset", "a SimulationPreset", _checks.describe(preset),
                           kind=_checks.ArgumentTypeError)
    text = json.dumps({"simulator": simulator.SIMULATOR_VERSION, "length": 200, **asdict(preset)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def course_data_files() -> list[Path]:
    """The files ``load_ctcf()`` (default arguments) reads now: those that exist.

    ``data_dir()/CTCF_200.h5`` when the real file is there, else the simulated cache
    (:func:`simulated_cache_path`) once it has been built; an empty list before that.
    """
    real = config.data_dir() / "CTCF_200.h5"
    if real.is_file():
        return [real]
    return [p for p in [simulated_cache_path()] if p.is_file()]


def course_download_dir() -> Path:
    """The folder :func:`fetch_course_ctcf` downloads into: ``data_dir()/downloads`` (git-ignored).

    Kept apart from ``data_dir()/CTCF_200.h5`` on purpose: a download never changes what
    ``load_ctcf()`` reads by default.
    """
    path = config.data_dir() / "downloads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sha256_arg(value, name: str, fn: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _checks.fail(fn, name, "None or a sha256 hex digest (str)", _checks.describe(value),
                           kind=_checks.ArgumentTypeError)
    digest = value.lower().removeprefix("sha256:")
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise _checks.fail(fn, name, "None or a sha256 hex digest (64 hex digits)", _checks.describe(value))
    return digest


def _url_arg(value, name: str, fn: str) -> str:
    if not isinstance(value, str):
        raise _checks.fail(fn, name, "an http(s) URL (str)", _checks.describe(value), kind=_checks.ArgumentTypeError)
    if not value.startswith(("http://", "https://")):
        raise _checks.fail(fn, name, "an http(s) URL", _checks.describe(value))
    return value


_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _not_hdf5(path: Path) -> str:
    """'' for a file with the HDF5 signature (at offset 0, 512, 1024, ...), else what it looks like."""
    with open(path, "rb") as f:
        head = f.read(4096)
        for offset in (0, 512, 1024, 2048):
            f.seek(offset)
            if f.read(8) == _HDF5_SIGNATURE:
                return ""
    text = head.lstrip()[:200].lower()
    if text.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")) or b"<html" in text:
        return f"an HTML page of {path.stat().st_size} bytes"
    if not head:
        return "an empty file"
    return f"{path.stat().st_size} bytes without the HDF5 signature"


def fetch_course_ctcf(url: str = COURSE_CTCF_URL, known_hash: str | None = COURSE_CTCF_SHA256,
                      folder: str | Path | None = None, retries: int = 2, timeout: float = 60.0,
                      progressbar: bool = True) -> Path:
    """Download the course's ``CTCF_200.h5`` once and return its local path.

    Built on ``pooch``: the file is cached in ``folder`` (a second call downloads
    nothing), a progress bar shows the download, a failed attempt is retried
    ``retries`` times (waiting 1 s, 2 s, ...), and a download is written under a
    temporary name and kept only when complete (and matching ``known_hash`` when one is
    given).  The sha256 of the file is logged (a warning while ``known_hash`` is None,
    so someone records it).  The file holds ``x_<split>`` ``(N, 4, 200)`` one-hot and
    ``y_<split>`` labels; read it with :func:`read_ctcf_h5` or ``load_ctcf(source="course")``.

    Parameters
    ----------
    url : str
        Where the file is (override it to use a mirror, or a local server in tests).
    known_hash : str or None
        Expected sha256 hex digest; None accepts any file (the hash is then logged).
    folder : str or Path, optional
        Download folder; :func:`course_download_dir` when omitted.
    retries : int
        Further attempts after a failed one.
    timeout : float
        Seconds to wait for the server before an attempt fails.
    progressbar : bool
        Show a tqdm progress bar.

    Returns
    -------
    Path
        The local file ``folder/CTCF_200.h5``.

    Raises
    ------
    ConnectionError
        The file could not be downloaded (offline, the link is gone: HTTP 404, ...).
    ValueError
        The downloaded file's sha256 differs from ``known_hash``, or it is not an HDF5
        file (an HTML page served with 200 OK): nothing is kept.  A cached file that is not
        HDF5 (from an older version) is deleted and downloaded again.
    """
    fn = "fetch_course_ctcf"
    url = _url_arg(url, "url", fn)
    known_hash = _sha256_arg(known_hash, "known_hash", fn)
    if folder is not None and not isinstance(folder, (str, os.PathLike)):
        raise _checks.fail(fn, "folder", "None or a folder path (str or Path)", _checks.describe(folder),
                           kind=_checks.ArgumentTypeError)
    retries = _checks.non_negative_int(retries, "retries", fn)
    timeout = _checks.number(timeout, "timeout", fn, low=0, low_open=True)
    progressbar = _checks.flag(progressbar, "progressbar", fn)
    folder = course_download_dir() if folder is None else Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise _checks.fail(fn, "folder", "a folder", f"{str(folder)!r}, which is a file")
    try:
        import pooch
        import requests
    except ImportError:  # pragma: no cover - pooch is a dependency
        raise ImportError(f"{fn} needs the package pooch: pip install pooch") from None

    name = "CTCF_200.h5"
    cached = folder / name
    if cached.is_file() and _not_hdf5(cached):  # an HTML page cached by an older version: never return it
        _log.warning("%s: %s is not an HDF5 file (%s); downloading it again", fn, cached, _not_hdf5(cached))
        cached.unlink()
    store = pooch.create(path=folder, base_url="", registry={name: known_hash and f"sha256:{known_hash}"},
                         urls={name: url}, retry_if_failed=retries)
    downloader = pooch.HTTPDownloader(progressbar=progressbar, timeout=timeout)
    try:
        path = Path(store.fetch(name, downloader=downloader))
    except requests.exceptions.RequestException as err:
        raise ConnectionError(f"{fn}: could not download {url} after {retries + 1} attempt(s): "
                              f"{type(err).__name__}: {err} (offline, or the link is gone)") from None
    except ValueError as err:
        raise ValueError(f"{fn}: the file downloaded from {url} is not the expected one, nothing was kept "
                         f"({err})") from None
    bad = _not_hdf5(path)
    if bad:  # e.g. a login or error page served with 200 OK: never keep it as the data
        path.unlink(missing_ok=True)
        raise ValueError(f"{fn}: the file downloaded from {url} must be an HDF5 file, got {bad}; nothing was kept "
                         "(the link may point to a web page: use the file's direct download link)")
    seen = pooch.file_hash(str(path), alg="sha256")
    if known_hash is None:
        _log.warning("%s: %s has sha256 %s (no known hash to check it against: record it in "
                     "workshop_utils.datasets.COURSE_CTCF_SHA256 and data/README.md)", fn, path, seen)
    else:
        _log.info("%s: %s has the expected sha256 %s", fn, path, seen)
    return path


def ctcf_source(source: str | None = None) -> str:
    """Where :func:`load_ctcf` takes its data: ``'simulated'`` (the default) or ``'course'``.

    ``source`` when given, else the environment variable ``WORKSHOP_CTCF_SOURCE``
    (set it before starting Jupyter, or ``os.environ[...]`` in the first cell, to switch a
    whole notebook to the course's real data), else ``'simulated'``.
    """
    fn = "ctcf_source"
    if source is not None:
        return _checks.one_of(source, "source", fn, SOURCES)
    value = os.environ.get(SOURCE_ENV, "")
    norm = value.strip().lower()
    if not norm:
        return "simulated"
    if norm not in SOURCES:
        raise _checks.fail(fn, f"the environment variable {SOURCE_ENV}", f"one of {', '.join(SOURCES)} or unset",
                           repr(value))
    return norm


def _subsample(data: CTCFData, sizes: dict[str, int], seed: int) -> CTCFData:
    """At most ``sizes[split]`` sequences of each split, drawn without replacement (seeded)."""
    rng = np.random.default_rng(seed)
    out = {}
    for s in SPLITS:
        x, y = data.split(s)
        keep = np.sort(rng.choice(len(y), sizes[s], replace=False)) if len(y) > sizes[s] else np.arange(len(y))
        out[f"x_{s}"], out[f"y_{s}"] = x[keep], y[keep]
    return CTCFData(**out, sites=None, source=f"{data.source} (subsampled to {dict(sizes)}, seed={seed})")


def _load_course(url: str, sizes, seed: int, fn: str) -> CTCFData | None:
    """The course's data (subsampled in quick mode or to explicit ``sizes``), or None with a warning."""
    try:
        path = fetch_course_ctcf(url, known_hash=COURSE_CTCF_SHA256)
    except (ConnectionError, ValueError, OSError, ImportError) as err:
        warnings.warn(f"{fn}: could not get the course's CTCF data ({err}); using the simulated data instead",
                      stacklevel=3)
        return None
    try:
        data = read_ctcf_h5(path)
    except (ValueError, OSError) as err:
        path.unlink(missing_ok=True)  # a damaged download: the next call downloads it again
        warnings.warn(f"{fn}: the downloaded course file is damaged and was removed ({err}); using the simulated "
                      "data instead", stacklevel=3)
        return None
    data.source = f"course data {url} ({path})"
    if sizes is not None or config.is_quick():
        data = _subsample(data, check_sizes(sizes, fn), seed)
    return data


def load_ctcf(preset: str = "default", seed: int = 0, sizes: dict[str, int] | None = None,
              path: str | Path | None = None, cache: bool = True, source: str | None = None,
              url: str | None = None) -> CTCFData:
    """Load the CTCF binding data: your own file, the course's real data, or the simulated set.

    Order of precedence:

    1. ``path`` when given (a ``CTCF_200.h5``-layout file).
    2. ``source='course'`` (or the environment variable ``WORKSHOP_CTCF_SOURCE=course``):
       the course's real ChIP-seq data, downloaded once by :func:`fetch_course_ctcf`.
       In quick mode, or when ``sizes`` is given, each split is subsampled (``seed``) to
       ``sizes``.  Real data have no planted sites (``sites`` is None).  Offline, the
       link gone or a damaged download: a warning, and the simulated data below.
    3. ``data_dir()/CTCF_200.h5`` when it exists (put your own file there).
    4. The simulator, cached in :func:`simulated_cache_path` (a cache that cannot be read,
       whatever the damage, is rebuilt with a warning).  This is the default: its planted
       sites are what the interpretation lessons check attributions against.

    Parameters
    ----------
    preset : str
        Simulator preset (``'default'`` or ``'hard'``).
    seed : int
        Simulator seed (and the subsampling seed of the course data).
    sizes : dict, optional
        ``{'train': n, 'valid': n, 'test': n}``; :func:`default_sizes` when omitted.
    path : str or Path, optional
        Explicit file to read.
    cache : bool
        Keep the simulated data on disk for the next call.
    source : {'simulated', 'course'}, optional
        Where the data come from; :func:`ctcf_source` (the environment variable, else
        ``'simulated'``) when omitted.
    url : str, optional
        Where the course file is downloaded from; :data:`COURSE_CTCF_URL` when omitted.

    Returns
    -------
    CTCFData
        Arrays ``(N, L, 4)`` float32 and labels ``(N,)`` float32.
    """
    fn = "load_ctcf"
    if path is not None:
        _checks.file_path(path, "path", fn)
        return read_ctcf_h5(path)
    cache = _checks.flag(cache, "cache", fn)
    cached = _cache_path(preset, seed, sizes, fn)  # checks preset, seed and sizes
    source = _checks.one_of(source, "source", fn, SOURCES) if source is not None else ctcf_source()
    url = COURSE_CTCF_URL if url is None else _url_arg(url, "url", fn)
    if source == "course":
        data = _load_course(url, sizes, seed, fn)
        if data is not None:
            return data
    real = config.data_dir() / "CTCF_200.h5"
    if real.is_file():
        return read_ctcf_h5(real)
    sizes = check_sizes(sizes, fn)
    if not cache:
        return make_ctcf_data(sizes, preset=preset, seed=seed)
    if cached.exists():
        try:
            return read_ctcf_h5(cached)
        except Exception as err:  # noqa: BLE001 - our own cache: whatever is wrong, rebuild it
            warnings.warn(f"cached data {cached} is unreadable ({type(err).__name__}: {err}); rebuilding it",
                          stacklevel=2)
    data = make_ctcf_data(sizes, preset=preset, seed=seed)
    try:
        write_ctcf_h5(data, cached)  # atomic: replaces a damaged cache in one step
    except OSError as err:  # a full disk or a read-only folder: the data are still good
        warnings.warn(f"could not cache the simulated data in {cached} ({err}); it will be simulated again "
                      "next time", stacklevel=2)
    return data


def main() -> None:
    """Build (or check) the cached simulated data: ``python -m workshop_utils.datasets``."""
    import time

    for preset in PRESETS:
        t = time.perf_counter()
        data = load_ctcf(preset=preset)
        print(f"CTCF data, preset={preset!r}: {data.source} ({time.perf_counter() - t:.1f} s)")
        print(data.summary())
    from .expression_data import load_pbmc

    pbmc = load_pbmc()
    print(f"PBMC: {pbmc.X.shape[0]} cells x {pbmc.X.shape[1]} genes, {len(pbmc.cell_types)} cell types")


if __name__ == "__main__":
    main()
