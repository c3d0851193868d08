"""The top arcs of the architecture-search lesson, saved for later lessons.

:func:`save_top_arcs` writes them (atomically), :func:`load_top_arcs` reads them back.
"""
from __future__ import annotations

import json
from pathlib import Path

from .search import SearchHistory

TOP_ARCS_FILE = "nas_top_arcs.json"


def load_top_arcs(path: str | Path | None = None) -> dict | None:
    """The top arcs saved by the architecture-search notebook, or None if it has not run.

    Parameters
    ----------
    path : str or Path, optional
        Default ``workshop_utils.cache_dir() / "nas_top_arcs.json"``.

    Returns
    -------
    dict or None
        ``{"space": "course", "arcs": [[...], ...], "val_auroc": [...], "ops": [[words], ...]}``,
        best first.

    Raises
    ------
    ValueError
        Naming the file, when it exists but is not a readable top-arcs file (truncated, edited).
    """
    from .. import _checks
    from ..config import cache_dir

    fn = "load_top_arcs"
    if path is not None and not isinstance(path, (str, Path)):
        raise _checks.fail(fn, "path", "a file path (str or Path) or None", path, kind=TypeError)
    path = Path(path) if path is not None else cache_dir() / TOP_ARCS_FILE
    if not path.exists():
        return None
    path = _checks.file_path(path, "path", fn)
    where = f"{fn}: {path} is not a readable top-arcs file"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{where} ({type(err).__name__}: {err}); rerun the search notebook or delete it") from None
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(data).__name__}")
    for key in ("space", "arcs", "val_auroc", "ops"):
        if key not in data:
            raise ValueError(f"{where}: missing key {key!r}")
    arcs, scores = data["arcs"], data["val_auroc"]
    if (not isinstance(arcs, list) or not isinstance(scores, list) or len(arcs) != len(scores)
            or not all(isinstance(a, list) and all(isinstance(t, int) for t in a) for a in arcs)
            or not all(isinstance(v, (int, float)) for v in scores)):
        raise ValueError(f"{where}: 'arcs' must be lists of integers with one 'val_auroc' number each")
    return data


def save_top_arcs(history: SearchHistory, k: int = 2, space_name: str = "course",
                  path: str | Path | None = None) -> Path:
    """Write the ``k`` best distinct arcs of ``history`` (best first) for later lessons.

    The file is what :func:`load_top_arcs` reads. ``val_auroc`` is the ``val_auroc``
    column when the evaluator reported one, else the reward.  It is written to a
    temporary file renamed over the old one, so a failure mid-write leaves the previous
    file intact.
    """
    from .. import _checks
    from .._atomic import atomic_write_text
    from ..config import cache_dir

    fn = "save_top_arcs"
    if not isinstance(history, SearchHistory):
        raise _checks.fail(fn, "history", "a SearchHistory", type(history).__name__, kind=TypeError)
    if len(history) == 0:
        raise _checks.fail(fn, "history", "a search with at least one trial", "an empty history")
    k = _checks.positive_int(k, "k", fn)
    if not isinstance(space_name, str):
        raise _checks.fail(fn, "space_name", "a string", space_name, kind=TypeError)
    if path is not None and not isinstance(path, (str, Path)):
        raise _checks.fail(fn, "path", "a file path (str or Path) or None", path, kind=TypeError)
    top = history.top_k(k)
    col = "val_auroc" if "val_auroc" in top.columns and top["val_auroc"].notna().all() else "reward"
    space = history.model_space
    data = {"space": space_name,
            "arcs": [list(map(int, a)) for a in top["arc"]],
            "val_auroc": [float(v) for v in top[col]],
            "ops": [[str(op) for op in space.operations(a)] if space is not None else [] for a in top["arc"]]}
    path = Path(path) if path is not None else cache_dir() / TOP_ARCS_FILE
    if path.is_dir():
        raise IsADirectoryError(f"{fn}: path must be a file, got {str(path)!r}, which is a directory")
    return atomic_write_text(path, json.dumps(data, indent=1))
