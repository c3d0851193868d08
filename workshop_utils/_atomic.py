"""Writing files so that nothing is lost (internal).

Every file the package writes over an existing one goes through :func:`atomic_write`:
the new content is written to a temporary file in the same folder, flushed and
``fsync``-ed, then renamed over the target with :func:`os.replace` (atomic on POSIX and
Windows).  If anything goes wrong before the rename (an exception, a
``KeyboardInterrupt``, a full disk, a file-size limit) the temporary file is removed and
the previous file is left exactly as it was.

This module imports only the standard library.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_path", "atomic_write", "atomic_write_bytes", "atomic_write_text"]


def _temp_in(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:  # mkstemp makes the file private (0600): give it the mode the file has or would get
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
    except OSError:
        pass
    return tmp


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable (best effort: not every OS lets a folder be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove(tmp: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(tmp)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path``.

    For writers that insist on opening the file themselves (``h5py.File``,
    ``np.savez``, ``DataFrame.to_csv(path)``): write to the yielded path, and the
    package fsyncs and renames it when the ``with`` block ends without an error.

    Examples
    --------
    >>> with atomic_path("data.h5") as tmp:          # doctest: +SKIP
    ...     with h5py.File(tmp, "w") as f:
    ...         f["x"] = x
    """
    path = Path(path)
    tmp = _temp_in(path)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise
    _fsync_dir(path.parent)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", **open_kw: Any) -> Iterator[IO]:
    """Open a temporary file for writing; on success it replaces ``path``.

    Parameters
    ----------
    path : str or Path
        The file to (over)write; its folder is created when missing.
    mode : {'w', 'wb'}
        Text or binary.
    **open_kw
        Passed to :func:`open` (``encoding``, ``newline``...); text mode defaults to UTF-8.

    Examples
    --------
    >>> with atomic_write("history.csv") as fh:   # doctest: +SKIP
    ...     fh.write("trial,auc\\n")
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode must be one of 'w', 'wb', got {mode!r}")
    if mode == "w":
        open_kw.setdefault("encoding", "utf-8")
    with atomic_path(path) as tmp:
        with open(tmp, mode, **open_kw) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; return the path."""
    with atomic_write(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically; return the path."""
    with atomic_write(path, "w", encoding=encoding) as fh:
        fh.write(text)
    return Path(path)
