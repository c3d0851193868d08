"""The package's one progress bar (internal).

Every loop of the package that shows progress (``training.fit``, ISM, the NAS search,
``fit_dense``, ENAS) builds its bar with :func:`progress`, never with ``tqdm.auto``.

Why not ``tqdm.auto``: in a notebook it draws an ipywidgets bar, and an executed notebook
does not store widget state, so the bar is saved as the text it showed when it was
*created*, ``0%| | 0/N``: on GitHub and in the nbconvert HTML it looks stuck.  A plain
text bar is no better there: every redraw is a separate stream output, and the saved
notebook and its HTML show all of them, one line per redraw.

So inside a Jupyter kernel the bar is **one display output that is updated in place**
(``display(..., display_id=True)`` and ``update``): a live notebook redraws it, and
``nbclient``/``nbconvert --execute`` apply every update to the saved output, so the
saved notebook and its HTML show one line, the bar's final state (``100%| 12/12 ...``).
It is plain text (``text/plain``), not stderr, which a notebook paints red.  Outside a
kernel (a terminal, a script, a benchmark) it is an ordinary ``tqdm`` text bar on stdout.

This module imports nothing of the package.
"""
from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

#: The width of a bar in characters: fixed, so a bar looks the same in a notebook, a
#: terminal and a log (tqdm cannot measure a notebook's width).
NCOLS = 100


def in_kernel() -> bool:
    """True inside a Jupyter (ipykernel) kernel, where outputs can be updated in place."""
    if "ipykernel" not in sys.modules or "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class DisplayLine:
    """A write-only text file that shows its current line as one notebook output, updated in place.

    ``tqdm`` redraws a bar by writing ``"\\r" + line``; this keeps the last line written
    and puts it into a ``text/plain`` display output (created at the first write), so
    the notebook holds one output whose final text is the bar's final state.  A bar that
    clears itself on close (``leave=False``) leaves an empty output.
    """

    encoding = "utf-8"  # tqdm draws unicode blocks only on files that say they can show them

    def __init__(self) -> None:
        self._handle = None
        self._line = None

    def write(self, text: str) -> int:
        visible = [piece.rstrip() for piece in text.replace("\n", "\r").split("\r") if piece.strip()]
        if visible:                 # a redraw: "\r" + the bar
            line = visible[-1]
        elif " " in text:           # tqdm(leave=False) blanks its line on close
            line = ""
        else:                       # a bare "\n" or "\r": the line stays
            return len(text)
        if line != self._line:
            self._line = line
            self._show(line)
        return len(text)

    def _show(self, line: str) -> None:
        from IPython.display import display

        bundle = {"text/plain": line}
        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)

    def flush(self) -> None:
        """Nothing to flush: every write is shown at once."""

    def isatty(self) -> bool:
        return False


def progress(iterable: Iterable | None = None, **kwargs: Any):
    """A ``tqdm`` bar whose saved notebook output is its final state; takes ``tqdm``'s arguments.

    Parameters
    ----------
    iterable : iterable, optional
        What to iterate over (as ``tqdm(iterable)``); None for a manual bar
        (``total=``, ``.update()``).
    **kwargs
        Passed on to ``tqdm.std.tqdm`` (``total``, ``desc``, ``unit``, ``disable``,
        ``leave``, ``initial`` ...).  ``file`` defaults to a :class:`DisplayLine` inside
        a Jupyter kernel and to the current ``sys.stdout`` elsewhere; ``ncols`` to
        :data:`NCOLS`.

    Returns
    -------
    tqdm.std.tqdm
    """
    from tqdm.std import tqdm

    if "file" not in kwargs:
        kwargs["file"] = DisplayLine() if in_kernel() else sys.stdout
    kwargs.setdefault("ncols", NCOLS)
    kwargs.setdefault("dynamic_ncols", False)
    return tqdm(iterable, **kwargs)
