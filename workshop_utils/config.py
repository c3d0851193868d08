"""Run-time configuration: quick/full mode, paths, seeding and notebook setup.

Quick mode is switched on by the environment variable ``WORKSHOP_QUICK=1``
(tests and CI set it).  Notebooks run the *same code* in both modes; only
sizes (number of sequences, epochs, trials) change, through :func:`pick`.
"""
from __future__ import annotations

import os
import random
import sys
from pathlib import Path
from typing import TypeVar

import numpy as np

T = TypeVar("T")

#: Where the workbook lives (used by the Colab badges and the notebooks' setup cell).
REPO_URL = "https://github.com/automl-genomics/workbook"
REPO_SLUG = "automl-genomics/workbook"

#: Root of the repository when the package is used from a clone (else None).
_PKG_DIR = Path(__file__).resolve().parent
REPO_DIR: Path | None = _PKG_DIR.parent if (_PKG_DIR.parent / "data").is_dir() else None


def is_quick() -> bool:
    """Return True when quick mode is on (``WORKSHOP_QUICK`` is 1/true/yes)."""
    return os.environ.get("WORKSHOP_QUICK", "0").strip().lower() in {"1", "true", "yes", "on"}


def pick(full: T, quick: T) -> T:
    """Return ``quick`` in quick mode and ``full`` otherwise.

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
    """Seed python, numpy, and (when they are already imported) keras/TensorFlow and torch.

    Frameworks that are not yet imported are not imported here (that would make
    ``import workshop_utils`` slow); seed again after importing them, or call
    :func:`setup`, which is meant to run after the notebook's imports.

    Parameters
    ----------
    seed : int
        A non-negative integer.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
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


def setup(seed: int = 42, quiet: bool = False) -> dict:
    """One call for a notebook's first cell: seeds, plot style, mode report.

    Returns a dict with ``quick``, ``colab``, ``seed`` and ``data_dir`` so the
    notebook can show (and test) where it runs.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # OpenMP threads that sleep instead of spinning: on a 2-core laptop or a shared CI box,
    # torch with spinning threads ran 4-8x slower next to other processes (measured).
    # Takes effect only when torch is imported after setup(), as in the notebooks.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    set_seed(seed)
    try:
        import matplotlib

        matplotlib.rcParams.update({"figure.dpi": 90, "axes.grid": True, "grid.alpha": 0.3,
                                    "axes.spines.top": False, "axes.spines.right": False})
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        pass
    info = {"quick": is_quick(), "colab": in_colab(), "seed": seed, "data_dir": str(data_dir())}
    if not quiet:
        mode = "QUICK (small data, few epochs)" if info["quick"] else "FULL"
        where = "Google Colab" if info["colab"] else "local"
        print(f"workshop_utils: mode={mode}, running {where}, seed={seed}, data={info['data_dir']}")
    return info
