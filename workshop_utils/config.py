"""Run-time configuration: quick/full mode, paths, seeding and notebook setup.

Quick mode is switched on by the environment variable ``WORKSHOP_QUICK=1``
(tests and CI set it).  Notebooks run the *same code* in both modes; only
sizes (number of sequences, epochs, trials) change, through :func:`pick`.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import random
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from . import _checks

T = TypeVar("T")

#: Values of ``WORKSHOP_QUICK`` that switch quick mode on / off (case-insensitive).
QUICK_ON = ("1", "true", "yes", "on")
QUICK_OFF = ("", "0", "false", "no", "off")

#: The frameworks :func:`setup` seeds when they are installed (import name, seeding call).
FRAMEWORKS = ("keras", "torch")

#: Where the workbook lives (used by the Colab badges and the notebooks' setup cell).
REPO_URL = "https://github.com/automl-genomics/workbook"
REPO_SLUG = "automl-genomics/workbook"

#: What Colab lacks of the course's stack (installed by every notebook's setup cell in Colab).
#: ``modisco-lite`` (day2_02's motif discovery) brings leidenalg/igraph; its numba kernels were
#: run on Python 3.13 with numpy 2.1.3, Colab's versions (scripts/check_colab_modisco.py).
COLAB_PACKAGES = "keras-tuner==1.4.8 six logomaker captum shap memelite modisco-lite"


def setup_cell_source(seed: int = 42) -> str:
    """The source of every notebook's setup cell (the single definition of it).

    In Colab it clones the workbook and installs :data:`COLAB_PACKAGES`; everywhere it
    then imports the package and calls :func:`setup`.  ``scripts/new_notebook.py`` writes
    it into new notebooks and ``tests/test_notebook_conventions.py`` compares every
    notebook's second cell with it.
    """
    seed = _checks.non_negative_int(seed, "seed", "setup_cell_source")
    return f"""# Setup. In Colab: fetch the workbook and the few packages Colab lacks (once per runtime).
# Locally, `make workshop` / `make test` already built .venv with everything pinned.
import sys
if "google.colab" in sys.modules:
    !test -d /content/workbook || git clone -q --depth 1 {REPO_URL} /content/workbook
    !pip install -q {COLAB_PACKAGES}
    sys.path.insert(0, "/content/workbook")

import workshop_utils as wu
info = wu.setup(seed={seed})  # environment, then keras/torch imported and seeded, plot style, quick/full mode"""


#: Root of the repository when the package is used from a clone (else None).
_PKG_DIR = Path(__file__).resolve().parent
REPO_DIR: Path | None = _PKG_DIR.parent if (_PKG_DIR.parent / "data").is_dir() else None


def is_quick() -> bool:
    """Return True when quick mode is on.

    ``WORKSHOP_QUICK`` set to 1/true/yes/on means quick, unset or 0/false/no/off means
    full; any other value (``maybe``) raises ``ValueError`` rather than silently
    running the long full mode.
    """
    value = os.environ.get("WORKSHOP_QUICK", "0")
    norm = value.strip().lower()
    if norm in QUICK_ON:
        return True
    if norm in QUICK_OFF:
        return False
    raise _checks.fail("is_quick", "the environment variable WORKSHOP_QUICK",
                       f"one of {', '.join(QUICK_ON)} (quick) or {', '.join(q for q in QUICK_OFF if q)} (full)",
                       repr(value))


def pick(*, full: T, quick: T) -> T:
    """Return ``quick`` in quick mode and ``full`` otherwise.

    Both are keyword-only, so the two sizes cannot be swapped by accident.

    Examples
    --------
    >>> epochs = pick(full=20, quick=2)
    """
    return quick if is_quick() else full


def in_colab() -> bool:
    """Return True when running inside Google Colab."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def data_dir() -> Path:
    """Folder where data files are read from and generated data is cached.

    ``WORKSHOP_DATA`` overrides it; otherwise the repository's ``data/`` when the
    package runs from a clone, else ``~/.workshop_utils/data`` (Colab, pip install).
    """
    env = os.environ.get("WORKSHOP_DATA")
    if env:
        path = Path(env).expanduser()
    elif REPO_DIR is not None:
        path = REPO_DIR / "data"
    else:
        path = Path.home() / ".workshop_utils" / "data"
    if path.exists() and not path.is_dir():
        raise _checks.fail("data_dir", "the environment variable WORKSHOP_DATA" if env else "the data folder",
                           "a folder", f"{str(path)!r}, which is a file")
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Folder for generated (rebuildable) data and results passed between notebooks.

    ``data_dir()/cache`` in full mode and ``data_dir()/cache/quick`` in quick mode, so a
    quick run (the tests) never overwrites what a full run produced for class (e.g. the
    architectures the search notebook hands to the interpretation notebook).
    """
    path = data_dir() / "cache"
    if is_quick():
        path = path / "quick"
    path.mkdir(parents=True, exist_ok=True)
    return path


def set_seed(seed: int = 42) -> None:
    """Seed python, numpy, and the frameworks (keras/TensorFlow, torch) that are already imported.

    Frameworks that are not yet imported are not imported here (that would make
    ``import workshop_utils`` slow); :func:`setup` imports and seeds them.

    Parameters
    ----------
    seed : int
        A non-negative integer.
    """
    seed = _checks.non_negative_int(seed, "seed", "set_seed")
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if "keras" in sys.modules:
        import keras

        keras.utils.set_random_seed(seed)  # also seeds TF, numpy and python
    elif "tensorflow" in sys.modules:
        import tensorflow as tf

        tf.random.set_seed(seed)
    if "torch" in sys.modules:
        import torch

        torch.manual_seed(seed)


#: Lines of a framework's native start-up log that are not errors: TensorFlow/absl INFO and
#: WARNING lines (``I0000 00:00:...``, ``2024-... W tensorflow/...``), absl's notice about
#: early messages, oneDNN's notice, and the CUDA plugin double-registration lines that
#: TensorFlow logs as errors on every GPU machine.  Everything else on fd 2 is kept.
STARTUP_NOISE = re.compile(
    r"^\s*$"
    r"|^[IW]\d{4} \d\d:\d\d:\d+\.\d+\s"                                   # absl: I0000 00:00:...
    r"|^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IW] "                       # TF: 2024-.. I tensorflow/...
    r"|All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|oneDNN custom operations are on"
    r"|To enable the following instructions: .* in other operations, rebuild TensorFlow"
    r"|Unable to register cu(DNN|FFT|BLAS) factory"
    r"|computation placer already registered")


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Hide the native (C/C++) start-up log written to file descriptor 2 inside the block.

    Environment variables (``TF_CPP_MIN_LOG_LEVEL``) do not silence what TensorFlow's
    C++ code logs while it is first imported, and a notebook shows it in red, like an
    error.  This points fd 2 at a temporary file while the block runs, restores it, and
    writes back to ``sys.stderr`` every line that is not start-up noise
    (:data:`STARTUP_NOISE`), so a real error still shows.  Python code that writes to
    ``sys.stderr`` inside a kernel is not affected (the kernel's stream is not fd 2).

    Examples
    --------
    >>> with quiet_native_stderr():
    ...     import tensorflow  # doctest: +SKIP
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 (a detached process): nothing to hide
        yield
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", errors="replace")
            kept = [line for line in text.splitlines() if not STARTUP_NOISE.search(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr)


def setup(seed: int = 42, quiet: bool = False, frameworks: Sequence[str] = FRAMEWORKS) -> dict:
    """One call for a notebook's first cell: environment, frameworks, seeds, plot style, mode.

    In this order: sets the environment the frameworks read when they are imported
    (Keras backend, quiet TensorFlow logs, OpenMP threads that sleep instead of spin),
    imports those of ``frameworks`` that are installed, then seeds python, numpy and
    them with :func:`set_seed`, so the notebook needs no second seeding after its imports.

    Parameters
    ----------
    seed : int
        Non-negative seed.
    quiet : bool
        Do not print the one-line report.
    frameworks : sequence of {'keras', 'torch'}
        Frameworks to import (when installed) and seed; ``()`` imports none.

    Returns
    -------
    dict
        ``quick``, ``colab``, ``seed``, ``data_dir`` and ``frameworks`` (those seeded),
        so the notebook can show (and test) where it runs.
    """
    seed = _checks.non_negative_int(seed, "seed", "setup")
    quiet = _checks.flag(quiet, "quiet", "setup")
    if isinstance(frameworks, str):
        frameworks = (frameworks,)
    frameworks = [_checks.one_of(f, "frameworks", "setup", FRAMEWORKS) for f in frameworks]
    quick = is_quick()  # a bad WORKSHOP_QUICK fails here, before anything is imported
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # OpenMP threads that sleep instead of spinning: on a 2-core laptop or a shared CI box,
    # torch with spinning threads ran 4-8x slower next to other processes (measured).
    # Takes effect only when torch is imported after this line, as setup() does.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    seeded = [name for name in frameworks
              if name in sys.modules or importlib.util.find_spec(name) is not None]
    with quiet_native_stderr():  # TensorFlow's C++ start-up log, which env variables cannot silence
        for name in seeded:
            __import__(name)
        set_seed(seed)
    try:
        import matplotlib

        matplotlib.rcParams.update({"figure.dpi": 90, "axes.grid": True, "grid.alpha": 0.3,
                                    "axes.spines.top": False, "axes.spines.right": False})
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        pass
    info = {"quick": quick, "colab": in_colab(), "seed": seed, "data_dir": str(data_dir()),
            "frameworks": seeded}
    if not quiet:
        mode = "QUICK (small data, few epochs)" if info["quick"] else "FULL"
        where = "Google Colab" if info["colab"] else "local"
        print(f"workshop_utils: mode={mode}, running {where}, seed={seed}, data={info['data_dir']}, "
              f"seeded {', '.join(['python', 'numpy', *seeded])}")
    return info
