"""The package's one progress bar (internal).

Every loop of the package that shows progress (``training.fit``, ISM, the NAS search,
``fit_dense``, ENAS, the course-data download) builds its bar with :func:`progress`,
never with ``tqdm.auto`` directly.

Why a text bar on stdout and not ``tqdm.auto``'s notebook widget: an executed notebook
does not store widget state, so a widget bar is saved as the text it showed when it was
*created*, ``0%| | 0/N``, and GitHub and the nbconvert HTML show a bar that looks stuck.
A text bar redraws itself with carriage returns: a live notebook or terminal shows it
in place, and nbconvert (``coalesce_streams``, which the HTML export runs) keeps only
the last line, the final state (``100%| 12/12 ...``).  It writes to ``sys.stdout``
(looked up at call time, so inside a kernel the kernel's stream), not to stderr, which a
notebook paints red like an error.

This module imports nothing of the package.
"""
from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

#: The width of a bar in characters: fixed, so a bar looks the same in a notebook, a
#: terminal and a log (tqdm cannot measure a notebook's width).
NCOLS = 100


def progress(iterable: Iterable | None = None, **kwargs: Any):
    """A ``tqdm`` text bar on ``sys.stdout``; takes ``tqdm``'s arguments.

    Parameters
    ----------
    iterable : iterable, optional
        What to iterate over (as ``tqdm(iterable)``); None for a manual bar
        (``total=``, ``.update()``).
    **kwargs
        Passed on to ``tqdm.std.tqdm`` (``total``, ``desc``, ``unit``, ``disable``,
        ``leave``, ``initial`` ...).  ``file`` defaults to the current ``sys.stdout``
        and ``ncols`` to :data:`NCOLS`.

    Returns
    -------
    tqdm.std.tqdm
    """
    from tqdm.std import tqdm

    kwargs.setdefault("file", sys.stdout)
    kwargs.setdefault("ncols", NCOLS)
    kwargs.setdefault("dynamic_ncols", False)
    return tqdm(iterable, **kwargs)
