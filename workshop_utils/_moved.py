"""Public names that moved: the old place keeps working for one release (internal).

A module whose names moved defines ``__getattr__ = moved_names(__name__, {...})``; reading an
old name returns the object from its new place with a ``DeprecationWarning`` that names it.
The new module is imported by name when the old name is read (never at import time), so no
module imports one that imports it back.

This module imports only the standard library.
"""
from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from typing import Any

#: The release after which the old names are removed.
REMOVED_IN = "0.2.0"


def moved_names(module: str, moves: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``moves``: old name -> ``'new.module:new_name'`` (or ``'new.module'``)."""

    def __getattr__(name: str) -> Any:
        target = moves.get(name)
        if target is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        new_module, _, new_name = target.partition(":")
        new_name = new_name or name
        warnings.warn(f"{module}.{name} has moved to {new_module}.{new_name}; the old name will be removed in "
                      f"workshop_utils {REMOVED_IN}: use {new_module}.{new_name}", DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(new_module), new_name)

    __getattr__.moves = dict(moves)  # type: ignore[attr-defined]  # read by the public-API test
    return __getattr__
