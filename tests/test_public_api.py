"""The public API is a decision, not an accident (issue #23).

``tests/public_api.txt`` lists every public name of every module of ``workshop_utils`` (one
``module: name`` a line).  A name that disappears, moves or appears fails this test until the
list is updated on purpose: regenerate it with ``python tests/test_public_api.py --update`` and
say in the commit why.  A name that moves keeps working at its old place for one release,
through ``workshop_utils._moved.moved_names``, with a ``DeprecationWarning`` that names the new
place; the moved names are listed too (``module: name -> new.module.name``).
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
import types
import warnings
from pathlib import Path

import pytest

import workshop_utils

LIST = Path(__file__).with_name("public_api.txt")


def _modules() -> list[types.ModuleType]:
    mods = [workshop_utils]
    for info in pkgutil.walk_packages(workshop_utils.__path__, "workshop_utils."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue  # private modules (_checks, _torch_models ...) are not API
        mods.append(importlib.import_module(info.name))
    return mods


def _public(mod: types.ModuleType) -> list[str]:
    """Names a user reads from ``mod``: its ``__all__`` when it has one, else every name not starting
    with ``_`` that is not an imported third-party object (``np``, ``Path``, ``Any`` ...)."""
    if hasattr(mod, "__all__"):
        return sorted(mod.__all__)
    out = []
    for name, obj in vars(mod).items():
        if name.startswith("_"):
            continue
        if isinstance(obj, types.ModuleType):
            if obj.__name__.startswith(mod.__name__ + "."):
                out.append(name)  # a subpackage's module
            continue
        origin = getattr(obj, "__module__", None)
        if isinstance(obj, (type, types.FunctionType)) or callable(obj):
            if origin and not origin.startswith("workshop_utils"):
                continue
        elif origin and not origin.startswith("workshop_utils") and origin not in ("builtins", None):
            continue  # e.g. typing objects, __future__ features
        out.append(name)
    return sorted(out)


def _moved(mod: types.ModuleType) -> dict[str, str]:
    getter = vars(mod).get("__getattr__")
    return dict(getattr(getter, "moves", {}))


def current_api() -> list[str]:
    lines = []
    for mod in sorted(_modules(), key=lambda m: m.__name__):
        lines += [f"{mod.__name__}: {name}" for name in _public(mod)]
        for old, new in sorted(_moved(mod).items()):
            new_module, _, new_name = new.partition(":")
            lines.append(f"{mod.__name__}: {old} -> {new_module}.{new_name or old} (deprecated)")
    return lines


def test_the_public_api_is_the_checked_in_list():
    listed = [line for line in LIST.read_text().splitlines() if line and not line.startswith("#")]
    now = current_api()
    gone, new = sorted(set(listed) - set(now)), sorted(set(now) - set(listed))
    assert not gone and not new, (
        f"the public API changed: removed or moved {gone}; added {new}. If that is meant, keep a moved name "
        "working one release (workshop_utils._moved.moved_names) and run: python tests/test_public_api.py --update")


def test_every_moved_name_still_works_and_names_its_new_place():
    n = 0
    for mod in _modules():
        for old, new in _moved(mod).items():
            new_module, _, new_name = new.partition(":")
            new_name = new_name or old
            with pytest.warns(DeprecationWarning, match=rf"{mod.__name__}\.{old} has moved to "
                                                        rf"{new_module}\.{new_name}"):
                obj = getattr(mod, old)
            assert obj is getattr(importlib.import_module(new_module), new_name)
            n += 1
    assert n >= 10


def test_the_last_releases_names_work_with_a_warning():
    from workshop_utils import backend, datasets, expression_data, models, mutagenesis, toy_data
    from workshop_utils.nas import dense

    with pytest.warns(DeprecationWarning, match=r"datasets\.read_h5ad has moved to workshop_utils\.expression_data"):
        from workshop_utils.datasets import read_h5ad
    assert read_h5ad is expression_data.read_h5ad
    with pytest.warns(DeprecationWarning, match="toy_data"):
        assert datasets.toy_genes is toy_data.toy_genes
    with pytest.warns(DeprecationWarning, match=r"mutagenesis\.mutant_scorer"):
        assert backend.mutant_scorer is mutagenesis.mutant_scorer
    with pytest.warns(DeprecationWarning, match=r"dense\.activation_names"):
        assert dense.n_activations is dense.activation_names
    with pytest.warns(DeprecationWarning, match=r"backend\.count_params.*trainable weights only"):
        count = models.count_parameters
    import torch

    m = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    assert count(m) == 3 * 2 + 2 + 2 + 2  # the old meaning: trainable only (not the running statistics)
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        datasets.nope  # noqa: B018
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert datasets.load_ctcf and backend.logits  # current names: no warning


if __name__ == "__main__" and sys.argv[1:] == ["--update"]:
    LIST.write_text("# The public API of workshop_utils (tests/test_public_api.py); regenerate with\n"
                    "# python tests/test_public_api.py --update, and say in the commit why it changed.\n"
                    + "\n".join(current_api()) + "\n")
    print(f"wrote {LIST}")
