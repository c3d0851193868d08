"""The one way the package validates arguments (internal).

Every check raises with one message style::

    f"{fn}: {name} must be {expected}, got {got}"

where ``fn`` is the public function the student called and ``name`` the argument
as the student wrote it.  A value of the wrong *type* raises :class:`ArgumentTypeError`,
which is both a ``TypeError`` and a ``ValueError`` (like numpy's ``AxisError`` is both a
``ValueError`` and an ``IndexError``), so code that catches either keeps working; a value
of the right type but outside what is allowed raises ``ValueError``.  Paths raise
``FileNotFoundError`` / ``IsADirectoryError`` (both ``OSError``), with the same message style.

Every check returns the value converted to the type the caller works with (a Python
``int``, a ``float``, a float32 array, a :class:`~pathlib.Path`), so a caller writes
``n = positive_int(n, "n", "simulate_ctcf")`` and uses ``n`` afterwards.

This module imports only numpy and the standard library.
"""
from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "ArgumentTypeError", "binary_labels", "check_xy", "class_codes", "describe", "fail", "file_path", "finite_array",
    "flag", "h5_file", "is_int", "non_negative_int", "number", "one_hot", "one_of", "positive_int", "rate", "rng",
]


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type (catchable as ``TypeError`` or ``ValueError``)."""


def describe(value: Any, limit: int = 60) -> str:
    """A short description of ``value`` for the ``got ...`` part of a message."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, np.generic):
        return f"a {type(value).__name__} of shape {tuple(value.shape)} and dtype {value.dtype}"
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, np.generic, Path)):
        text = repr(value.item() if isinstance(value, np.generic) else value)
        if isinstance(value, np.generic) and not isinstance(value, np.bool_):
            text += f" ({type(value).__name__})"
        return text if len(text) <= limit else text[:limit - 3] + "..."
    text = " ".join(repr(value).split())
    if len(text) > limit:
        text = text[:limit - 3] + "..."
    return f"{type(value).__name__} {text}" if not text.startswith(type(value).__name__) else text


def fail(fn: str, name: str, expected: str, got: Any, kind: type[Exception] = ValueError,
         hint: str = "") -> Exception:
    """Build (not raise) the exception for a custom check: ``raise fail(...)``.

    ``got`` is used as written when it is a ``str``; pass ``describe(value)`` to describe a value.
    """
    got_text = got if isinstance(got, str) else describe(got)
    message = f"{fn}: {name} must be {expected}, got {got_text}"
    if hint:
        message += f" ({hint})"
    return kind(message)


# --------------------------------------------------------------------------- scalars
def is_int(value: Any) -> bool:
    """True for a Python or numpy integer (not a bool)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def positive_int(value: Any, name: str, fn: str, minimum: int = 1) -> int:
    """An integer ``>= minimum`` (Python or numpy integer; not bool, not float) as ``int``."""
    expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    if not is_int(value):
        hint = ""
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            hint = f"write {int(value)} without the decimal point"
        raise fail(fn, name, expected, describe(value), kind=ArgumentTypeError, hint=hint)
    if value < minimum:
        raise fail(fn, name, expected, describe(value))
    return int(value)


def non_negative_int(value: Any, name: str, fn: str) -> int:
    """An integer ``>= 0`` (Python or numpy integer; not bool, not float) as ``int``."""
    if not is_int(value):
        raise fail(fn, name, "a non-negative integer", describe(value), kind=ArgumentTypeError)
    if value < 0:
        raise fail(fn, name, "a non-negative integer", describe(value))
    return int(value)


def rng(seed: Any, name: str, fn: str) -> np.random.Generator:
    """A numpy ``Generator`` from a non-negative integer seed, or the ``Generator`` given (used as is).

    The package never reseeds numpy's global state to draw numbers: functions that draw
    take ``seed``/``rng`` and draw from the generator this returns.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if not is_int(seed):
        raise fail(fn, name, "a non-negative integer or a numpy.random.Generator", describe(seed),
                   kind=ArgumentTypeError)
    if seed < 0:
        raise fail(fn, name, "a non-negative integer or a numpy.random.Generator", describe(seed))
    return np.random.default_rng(int(seed))


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high}"
    return ""


def number(value: Any, name: str, fn: str, low: float | None = None, high: float | None = None,
           finite: bool = True, low_open: bool = False, high_open: bool = False) -> float:
    """A real number (int or float, numpy scalars too; not bool, not NaN) as ``float``.

    ``low``/``high`` bound it (inclusive unless ``low_open``/``high_open``); ``finite``
    refuses infinities.
    """
    where = _interval(low, high, low_open, high_open)
    expected = "a " + ("finite " if finite else "") + "number" + (f" {where}" if where else "")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise fail(fn, name, expected, describe(value), kind=ArgumentTypeError)
    x = float(value)
    if math.isnan(x) or (finite and math.isinf(x)):
        raise fail(fn, name, expected, describe(value))
    if low is not None and (x < low or (low_open and x == low)):
        raise fail(fn, name, expected, describe(value))
    if high is not None and (x > high or (high_open and x == high)):
        percent = high == 1.0 and low is not None and low == 0.0 and 1.0 < x <= 100.0
        raise fail(fn, name, expected, describe(value),
                   hint=f"a fraction, not a percentage: write {x / 100:g} for {x:g}%" if percent else "")
    return x


def rate(value: Any, name: str, fn: str, high_open: bool = False) -> float:
    """A number in ``[0, 1]`` (``[0, 1)`` with ``high_open=True``) as ``float``."""
    return number(value, name, fn, low=0.0, high=1.0, high_open=high_open)


def flag(value: Any, name: str, fn: str) -> bool:
    """``True`` or ``False`` (numpy bools too; not 0/1, not strings) as ``bool``."""
    if not isinstance(value, (bool, np.bool_)):
        raise fail(fn, name, "True or False", describe(value), kind=ArgumentTypeError)
    return bool(value)


def _same(value: Any, choice: Any) -> bool:
    if isinstance(choice, str) or isinstance(value, str):
        return isinstance(value, str) and isinstance(choice, str) and value == choice
    if isinstance(value, (bool, np.bool_)) != isinstance(choice, (bool, np.bool_)):
        return False
    try:
        return bool(value == choice)
    except Exception:  # noqa: BLE001 - an object whose == fails (an array) is not a choice
        return False


def one_of(value: Any, name: str, fn: str, choices: Iterable[Any]) -> Any:
    """``value`` when it is one of ``choices`` (compared with ``==``; strings exactly)."""
    choices = list(choices)
    ok = any(_same(value, c) for c in choices)
    if not ok:
        shown = ", ".join(repr(c) for c in choices)
        hint = ""
        if isinstance(value, str):
            close = [c for c in choices if isinstance(c, str) and c.lower() == value.strip().lower()]
            if close:
                hint = f"did you mean {close[0]!r}?"
        raise fail(fn, name, f"one of {shown}", describe(value), hint=hint)
    return value


# --------------------------------------------------------------------------- arrays
def _as_numeric(x: Any, name: str, fn: str, expected: str) -> np.ndarray:
    if isinstance(x, (str, bytes)) or x is None or isinstance(x, dict):
        raise fail(fn, name, expected, describe(x), kind=ArgumentTypeError)
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as err:  # ragged nested lists
        raise fail(fn, name, expected, f"{type(x).__name__} that is not a rectangular array ({err})",
                   kind=ArgumentTypeError) from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        got = f"{describe(x)}" if not isinstance(x, np.ndarray) else f"an array of dtype {arr.dtype} (not numbers)"
        raise fail(fn, name, expected, got, kind=ArgumentTypeError)
    return arr


def _first_bad(mask: np.ndarray) -> str:
    idx = tuple(int(i) for i in np.argwhere(mask)[0])
    return str(idx[0]) if len(idx) == 1 else str(idx)


def finite_array(x: Any, name: str, fn: str, ndim: int | tuple[int, ...] | None = None,
                 dtype: Any = np.float32, allow_empty: bool = False) -> np.ndarray:
    """A numeric array without NaN/inf, of ``ndim`` dimensions, converted to ``dtype``.

    Parameters
    ----------
    ndim : int or tuple of int, optional
        Allowed numbers of dimensions.
    dtype : numpy dtype or None
        Conversion target (``None`` keeps the array's dtype).
    allow_empty : bool
        Accept an array with no elements.
    """
    dims = (ndim,) if isinstance(ndim, int) else ndim
    shape_text = "" if dims is None else " or ".join(f"{d}-D" for d in dims) + " "
    expected = f"a {shape_text}numeric array"
    arr = _as_numeric(x, name, fn, expected)
    if dims is not None and arr.ndim not in dims:
        raise fail(fn, name, expected, f"{arr.ndim}-D with shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise fail(fn, name, "a non-empty " + expected[2:], f"shape {arr.shape}")
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    if np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.complexfloating):
        bad = ~np.isfinite(arr)
        if bad.any():
            n_nan = int(np.isnan(arr).sum())
            n_inf = int(bad.sum()) - n_nan
            what = " and ".join(p for p in (f"{n_nan} NaN" if n_nan else "", f"{n_inf} inf" if n_inf else "") if p)
            raise fail(fn, name, "finite (no NaN or inf)",
                       f"{what} value(s), the first at index {_first_bad(bad)}",
                       hint="check the normalisation that produced it")
    return arr


def one_hot(X: Any, name: str, fn: str, allow_n: bool = True) -> np.ndarray:
    """A one-hot DNA batch ``(N, L, 4)`` (A, C, G, T) returned as float32.

    Each position is a one-hot row; with ``allow_n`` a row of four 0.25 or four 0
    (an ``N``) is accepted too.  A ``(N, 4, L)`` array is refused with the transpose to use.
    """
    expected = "a one-hot DNA array of shape (N, L, 4)"
    if not hasattr(X, "shape"):
        raise fail(fn, name, expected + " (a numpy array)", describe(X), kind=ArgumentTypeError,
                   hint="encode strings with one_hot_encode" if isinstance(X, (str, list, tuple)) else "")
    arr = _as_numeric(X, name, fn, expected)
    if arr.ndim != 3 or arr.shape[-1] != 4:
        hint = ""
        if arr.ndim == 3 and arr.shape[1] == 4:
            hint = "did you pass (N, 4, L)? transpose it with X.transpose(0, 2, 1)"
        elif arr.ndim == 2 and arr.shape[-1] == 4:
            hint = "a single sequence needs a batch axis: X[None]"
        raise fail(fn, name, expected, f"shape {arr.shape}", hint=hint)
    if arr.size == 0:
        raise fail(fn, name, "a non-empty one-hot DNA array of shape (N, L, 4)", f"shape {arr.shape}")
    arr = arr.astype(np.float32, copy=False)
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j, _ = np.argwhere(bad)[0]
        raise fail(fn, name, "finite (no NaN or inf)",
                   f"{int(bad.any(-1).sum())} position(s) with NaN or inf, the first at sequence {i}, position {j}")
    ok = np.isclose(arr.sum(-1), 1.0) & ((arr == 0) | (arr == 1)).all(-1)
    if allow_n:
        ok |= np.isclose(arr, 0.25).all(-1) | (arr == 0).all(-1)
    if not ok.all():
        i, j = np.argwhere(~ok)[0]
        allowed = "one 1 and three 0" + (" (or four 0.25 / four 0 for N)" if allow_n else "")
        raise fail(fn, name, f"one-hot: each position {allowed}",
                   f"sequence {i}, position {j} = {np.round(arr[i, j], 4).tolist()}")
    return arr


def binary_labels(y: Any, name: str, fn: str, n: int | None = None) -> np.ndarray:
    """Labels in {0, 1} of shape ``(N,)`` (``(N, 1)`` and bools accepted) as float32.

    ``n`` is the number of rows they must match (e.g. ``len(X)``).
    """
    expected = "an array of 0/1 labels of shape (N,)" if n is None else f"an array of {n} 0/1 labels"
    arr = _as_numeric(y, name, fn, expected)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise fail(fn, name, expected, f"shape {arr.shape}")
    if arr.size == 0:
        raise fail(fn, name, "a non-empty " + expected[3:], "an empty array")
    if n is not None and len(arr) != n:
        raise fail(fn, name, expected, f"{len(arr)} labels", hint="one label per row of X")
    values = arr.astype(np.float64)
    nan = np.isnan(values)
    if nan.any():
        raise fail(fn, name, expected, f"{int(nan.sum())} NaN label(s), the first at index {_first_bad(nan)}")
    bad = ~np.isin(values, (0.0, 1.0))
    if bad.any():
        found = np.unique(values)
        shown = ", ".join(f"{v:g}" for v in found[:6]) + (", ..." if len(found) > 6 else "")
        hint = ""
        if set(found.tolist()) <= {-1.0, 1.0}:
            hint = "labels of -1/+1: use (y > 0).astype('float32')"
        elif ((found >= 0) & (found <= 1)).all():
            hint = "probabilities are not labels: threshold them, e.g. (y >= 0.5)"
        raise fail(fn, name, expected, f"values {{{shown}}}", hint=hint)
    return values.astype(np.float32)


def class_codes(y: Any, name: str, fn: str, n: int | None = None, n_classes: int | None = None,
                allow_empty: bool = False) -> np.ndarray:
    """Integer class codes ``(n,)`` in ``0..n_classes-1`` as int64 (floats like 2.0 are refused with a hint).

    ``n`` is the number of rows they must match (e.g. ``len(X)``); ``n_classes``, when given,
    bounds the codes.
    """
    y = finite_array(y, name, fn, ndim=1, dtype=None, allow_empty=allow_empty)
    if n is not None and len(y) != n:
        raise fail(fn, name, f"{n} labels (one per row)", f"{len(y)} labels")
    if not np.issubdtype(y.dtype, np.integer):
        if np.issubdtype(y.dtype, np.floating) and np.all(y == np.round(y)):
            hint = f"convert them with {name}.astype(int)"
        else:
            hint = "encode the classes as integer codes, e.g. with pandas.factorize"
        raise fail(fn, name, "integer class codes", f"dtype {y.dtype}", kind=ArgumentTypeError, hint=hint)
    if len(y) and (y.min() < 0 or (n_classes is not None and y.max() >= n_classes)):
        expected = "class codes >= 0" if n_classes is None else f"class codes in 0..{n_classes - 1}"
        raise fail(fn, name, expected, f"codes from {int(y.min())} to {int(y.max())}",
                   hint="" if n_classes is None else f"there are {n_classes} classes")
    return y.astype(np.int64)


def _dna_x(X: Any, name: str, fn: str) -> np.ndarray:
    """``(N, L, 4)`` finite float32 (values need not be one-hot: soft or masked inputs train too)."""
    X = finite_array(X, name, fn, ndim=3)
    if X.shape[-1] != 4:
        hint = "did you pass (N, 4, L)? transpose it with X.transpose(0, 2, 1)" if X.shape[1] == 4 else ""
        raise fail(fn, name, "one-hot DNA of shape (N, L, 4)", f"shape {X.shape}", hint=hint)
    return X


def _one_hot_x(X: Any, name: str, fn: str) -> np.ndarray:
    """Strict one-hot ``(N, L, 4)``, read from ``(N, 4, L)`` (a file's layout) too, with one known base at least."""
    X = finite_array(X, name, fn, ndim=3)
    if 4 not in (X.shape[1], X.shape[2]):
        raise fail(fn, name, "one-hot DNA of shape (N, 4, L) or (N, L, 4)", f"shape {X.shape}")
    if X.shape[1] == 4 and X.shape[2] != 4:
        X = X.transpose(0, 2, 1)
    X = one_hot(X, name, fn)
    if not (X == 1).any():
        raise fail(fn, name, "one-hot DNA with at least one known base", "only N (every position all 0 or all 0.25)",
                   hint="an empty or wrongly written file or array: check how it was saved or encoded")
    return X


_X_KINDS = {"dna": _dna_x, "one_hot": _one_hot_x, "table": lambda X, name, fn: finite_array(X, name, fn, ndim=2)}


def check_xy(X: Any, y: Any, fn: str, *, x_name: str = "X", y_name: str = "y", x_kind: str = "dna",
             labels: str = "binary", n_classes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``X`` and their labels ``y``, one label per row, checked together.

    The one check of an ``(X, y)`` pair in the package (training, the ``.h5`` files, NAS).

    Parameters
    ----------
    X : array
        ``x_kind='dna'``: ``(N, L, 4)``, finite (a ``(N, 4, L)`` array is refused with the
        transpose to use); ``x_kind='one_hot'``: strict one-hot DNA ``(N, L, 4)``, also read
        from ``(N, 4, L)`` (the course file's layout) and transposed, refused when it holds no
        known base at all; ``x_kind='table'``: a finite table ``(N, F)``.
    y : array ``(N,)``
        ``labels='binary'``: 0/1 labels (``(N, 1)`` and bools accepted);
        ``labels='codes'``: integer class codes in ``0..n_classes-1``.
    fn : str
        The public function the caller called (named in every message).
    x_name, y_name : str
        The arguments as the caller wrote them (``'train X'``, ``'CTCF_200.h5: x_test'``).
    n_classes : int, optional
        Bounds class codes (``labels='codes'`` only).

    Returns
    -------
    X : np.ndarray
        float32, C-contiguous, ``(N, L, 4)`` or ``(N, F)``.
    y : np.ndarray
        ``(N,)``: float32 0/1 labels, or int64 class codes.
    """
    one_of(x_kind, "x_kind", "check_xy", _X_KINDS)
    one_of(labels, "labels", "check_xy", ("binary", "codes"))
    X = _X_KINDS[x_kind](X, x_name, fn)
    if labels == "binary":
        y = binary_labels(y, y_name, fn, n=len(X))
    else:
        y = class_codes(y, y_name, fn, n=len(X), n_classes=n_classes)
    return np.ascontiguousarray(X), y


# --------------------------------------------------------------------------- paths
def file_path(path: Any, name: str, fn: str) -> Path:
    """An existing regular file, as a :class:`~pathlib.Path`."""
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, (str, os.PathLike)):
        raise fail(fn, name, "a path to a file (str or Path)", describe(path), kind=ArgumentTypeError)
    p = Path(path).expanduser()
    if p.is_dir():
        raise IsADirectoryError(f"{fn}: {name} must be a file, got {str(p)!r}, which is a directory, not a file")
    if not p.is_file():
        where = " (the folder does not exist either)" if not p.parent.is_dir() else ""
        raise FileNotFoundError(f"{fn}: {name} must be an existing file, got {str(p)!r}: no such file{where}")
    return p


def h5_file(path: Any, name: str, fn: str, kind: str = "HDF5"):
    """Open an existing HDF5 file read-only (an ``h5py.File``); clear errors for anything else."""
    import h5py

    p = file_path(path, name, fn)
    try:
        return h5py.File(p, "r")
    except OSError as err:
        raise ValueError(f"{fn}: {name} must be a readable {kind} file, got {str(p)!r}, which is not one "
                         f"(truncated, or another format: {err})") from None
