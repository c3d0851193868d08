"""Turn what a practice asked for into plain data, write it to a folder, read it back.

The same :func:`collect` runs in the student's notebook (the self-check) and, inside the
submission's kernel, in the cell the grader appends (:func:`export_practice`).  What leaves
the kernel is data only: ``values.json`` (numbers, text, tables, figure descriptions) and
``.npy`` arrays saved without pickle, plus a PNG per figure.  :func:`load_practice` reads it
back in the grader's clean checking process with size limits and ``allow_pickle=False``,
so nothing a submission writes can run code there.

A ``model`` requirement is exported as its probabilities on the student's split and, where
the grader provides its private probe (:mod:`workshop_utils.grading.probe`), on the probe's
sequences (and its ISM / integrated gradients there, where the practice asks): the checks
score those with labels the kernel never had.  Nothing here is trusted: a patched export
can write anything, but without the probe's labels it cannot write scores that pass.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .core import Missing, Practice, Requirement

MAX_TEXT = 20_000            # characters kept of a written answer
MAX_JSON_BYTES = 5_000_000   # largest values.json read back
MAX_NPY_BYTES = 256_000_000  # largest array read back
MAX_TABLE_ROWS = 10_000


def _to_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch tensor
        x = x.detach().cpu().numpy()
    elif hasattr(x, "numpy") and not isinstance(x, np.ndarray) and callable(x.numpy):  # tf tensor
        x = x.numpy()
    a = np.asarray(x)
    if a.dtype == object or a.dtype.kind not in "biuf":
        raise TypeError(f"expected numbers, got an array of dtype {a.dtype}")
    return a


def jsonable(x: Any, depth: int = 0) -> Any:
    """``x`` as JSON-compatible data (numpy and torch scalars/arrays become numbers/lists)."""
    if depth > 6:
        raise TypeError("nested too deeply")
    if x is None or isinstance(x, (bool, str)):
        return x[:MAX_TEXT] if isinstance(x, str) else x
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        v = float(x)
        return v if np.isfinite(v) else None
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, dict):
        return {str(k): jsonable(v, depth + 1) for k, v in list(x.items())[:MAX_TABLE_ROWS]}
    if isinstance(x, (list, tuple)):
        return [jsonable(v, depth + 1) for v in list(x)[:MAX_TABLE_ROWS]]
    if hasattr(x, "tolist") or hasattr(x, "detach"):
        a = _to_numpy(x)
        if a.size > 100_000:
            raise TypeError(f"array of {a.size} numbers is too large for a table")
        return jsonable(a.tolist(), depth + 1)
    raise TypeError(f"cannot store a {type(x).__name__}")


def _table(x: Any) -> list[dict]:
    if hasattr(x, "to_dict") and hasattr(x, "columns"):  # pandas DataFrame
        x = x.to_dict(orient="records")
    elif isinstance(x, dict) and x and all(isinstance(v, (list, tuple, np.ndarray)) for v in x.values()):
        n = {len(v) for v in x.values()}
        if len(n) != 1:
            raise ValueError("a dict of columns must have columns of equal length")
        keys = list(x)
        x = [{k: x[k][i] for k in keys} for i in range(n.pop())]
    if not isinstance(x, (list, tuple)) or not all(isinstance(r, dict) for r in x):
        raise TypeError(f"expected a pandas DataFrame or a list of dicts, got {type(x).__name__}")
    return jsonable(list(x))


def _figure(fig: Any) -> tuple[dict, bytes]:
    if not (hasattr(fig, "savefig") and hasattr(fig, "get_axes")):
        raise TypeError(f"expected a matplotlib Figure, got {type(fig).__name__}")
    axes = []
    for ax in fig.get_axes():
        n = (len(ax.lines) + len(ax.collections) + len(ax.patches) + len(ax.images)
             + len(ax.texts) + len(getattr(ax, "tables", [])))
        axes.append({"title": ax.get_title(), "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(),
                     "n_lines": len(ax.lines), "n_artists": n})
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    png = buf.getvalue()
    return {"axes": axes, "png_bytes": len(png)}, png


def _callbacks(cbs: Any) -> list[dict]:
    if not isinstance(cbs, (list, tuple)):
        cbs = [cbs]
    out = []
    for cb in cbs:
        entry = {"class": type(cb).__name__}
        for attr in ("monitor", "patience", "save_best_only", "restore_best_weights", "mode",
                     "factor", "min_delta", "filepath", "save_weights_only"):
            if hasattr(cb, attr):
                try:
                    entry[attr] = jsonable(getattr(cb, attr))
                except TypeError:
                    entry[attr] = str(getattr(cb, attr))[:200]
        entry["has_schedule"] = callable(getattr(cb, "schedule", None))
        out.append(entry)
    return out


def _fingerprint(model: Any) -> str:
    """A digest of the model's weights (so a cached attribution is never reused for changed weights)."""
    import hashlib

    h = hashlib.blake2b(digest_size=16)
    from .. import backend

    for w in backend.weight_arrays(model):
        a = np.ascontiguousarray(np.asarray(w))
        h.update(str((a.dtype, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()


# The grader exports each practice after its self-check cell and all of them again at the end: what a
# model gave on the probe is kept, keyed by the model, a digest of its weights and the input rows.
_CACHE: dict = {}


def _cached(key: tuple, compute) -> np.ndarray:
    if key not in _CACHE:
        if len(_CACHE) > 32:
            _CACHE.clear()
        _CACHE[key] = np.asarray(compute(), dtype=np.float32)
    return _CACHE[key]


def _attribute(model: Any, fw: str, method: str, x: np.ndarray) -> np.ndarray:
    import hashlib

    from .. import attribution

    key = (id(model), _fingerprint(model), method, hashlib.blake2b(x.tobytes(), digest_size=16).hexdigest())
    if method == "ism":
        return _cached(key, lambda: attribution.ism(model, x, progress=False))
    return _cached(key, lambda: attribution.integrated_gradients(model, x, n_steps=IG_STEPS))


#: Quadrature points of the integrated gradients the export computes (the lesson's default).
IG_STEPS = 32


def _model(model: Any, split: str, data: Any = None, attribution: tuple = (), probe_x: Any = None,
           large_probe: bool = False) -> dict:
    """Score (and attribute) a model: on the student's ``split``, and on the probe when there is one.

    ``probe_x`` is the probe's sequences, a ``str`` (why there is no probe) or None (none asked);
    the model is scored on its first :func:`~.probe.probe_size` sequences, or on all of them
    with ``large_probe``.
    """
    from .. import backend
    from ..datasets import load_ctcf
    from .core import N_ANCHOR
    from .probe import probe_attr_size, probe_size

    fw = backend.framework(model)
    data = data if data is not None else load_ctcf()
    x, y = getattr(data, f"x_{split}"), np.asarray(getattr(data, f"y_{split}"))
    out: dict[str, Any] = {"scores": np.asarray(backend.predict_proba(model, x), dtype=np.float32).reshape(-1),
                           "n_params": backend.count_params(model), "framework": fw}
    anchor = np.where(y == 1)[0][:N_ANCHOR]
    for method in attribution:
        out[f"anchor_{method}"] = _attribute(model, fw, method, np.ascontiguousarray(x[anchor]))
    if isinstance(probe_x, str):
        out["probe_missing"] = probe_x
    elif probe_x is not None:
        rows = probe_x if large_probe else probe_x[:probe_size()]
        key = (id(model), _fingerprint(model), "scores", id(probe_x), len(rows))
        out["probe_scores"] = _cached(key, lambda: backend.predict_proba(model, rows)).reshape(-1)
        head = np.ascontiguousarray(probe_x[:min(probe_attr_size(), probe_size())])
        for method in attribution:
            out[f"probe_{method}"] = _attribute(model, fw, method, head)
    return out


#: Arrays of a model's export, each saved as ``{name}.{key}.npy`` (``scores`` as ``{name}.npy``).
MODEL_ARRAYS = ("scores", "probe_scores", "anchor_ism", "anchor_ig", "probe_ism", "probe_ig")


def _probe_inputs() -> Any:
    """The probe's sequences, None when there is none, or a str saying why it could not be read."""
    from .probe import load_inputs

    try:
        return load_inputs()
    except Exception as err:  # noqa: BLE001 - a broken probe must not stop the export
        return f"the grader's probe could not be read ({type(err).__name__}: {str(err)[:160]})"


def collect_one(req: Requirement, namespace: dict, data: Any = None,
                probe_x: Any = None) -> tuple[Any, bytes | None]:
    """The plain-data form of ``namespace[req.name]`` (and a PNG for figures), or ``Missing``.

    ``probe_x``: the grader's probe sequences for ``model`` requirements (see :func:`_model`).
    """
    if req.name not in namespace:
        return Missing(f"no variable named {req.name}"), None
    x = namespace[req.name]
    if x is None:
        return Missing(f"{req.name} is still None"), None
    try:
        if req.kind == "scalar":
            if isinstance(x, str):
                raise TypeError("expected a number, got a string")
            a = _to_numpy(x)
            if a.size != 1:
                raise TypeError(f"expected one number, got shape {a.shape}")
            return a.reshape(()).item(), None
        if req.kind == "array":
            return _to_numpy(x), None
        if req.kind == "text":
            if not isinstance(x, str):
                raise TypeError(f"expected a string, got {type(x).__name__}")
            return x[:MAX_TEXT], None
        if req.kind == "table":
            return _table(x), None
        if req.kind == "dict":
            if not isinstance(x, dict):
                raise TypeError(f"expected a dict, got {type(x).__name__}")
            return jsonable(x), None
        if req.kind == "json":
            return jsonable(x), None
        if req.kind == "figure":
            return _figure(x)
        if req.kind == "function":
            if not callable(x):
                raise TypeError(f"expected a function, got {type(x).__name__}")
            return [jsonable(x(*args)) for args in req.probe], None
        if req.kind == "callbacks":
            return _callbacks(x), None
        if req.kind == "model":
            return _model(x, req.split, data, req.attribution, probe_x, req.large_probe), None
    except Exception as err:  # noqa: BLE001 - report, do not crash the notebook
        return Missing(f"{req.name} could not be read ({type(err).__name__}: {str(err)[:160]})"), None
    raise ValueError(f"unknown kind {req.kind!r}")  # pragma: no cover - Requirement validates kinds


def collect(practice: Practice, namespace: dict, probe: bool = True) -> dict:
    """``{name: plain value or Missing}`` for every requirement of ``practice``.

    ``probe``: score models on the grader's probe when :data:`~.probe.PROBE_ENV` names one.
    """
    values, data, probe_x = {}, None, None
    if any(r.kind == "model" for r in practice.requirements):
        from ..datasets import load_ctcf

        data = load_ctcf()
        probe_x = _probe_inputs() if probe else None
    for req in practice.requirements:
        values[req.name], _ = collect_one(req, namespace, data, probe_x)
    return values


def export_practice(day: int, number: int, namespace: dict, folder: str | os.PathLike) -> Path:
    """Write practice ``number`` of ``day``'s values from ``namespace`` to ``folder/day{d}_p{n}``.

    Called by the cell the grader appends to a submission (inside its kernel).  The folder
    is written next to the final one and renamed into place, so a half-written export
    never replaces a complete one.
    """
    from .practices import get_practice

    practice = get_practice(day, number)
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{practice.key}_", dir=root))
    entries, data, probe_x = {}, None, None
    if any(r.kind == "model" for r in practice.requirements):
        from ..datasets import load_ctcf

        data = load_ctcf()
        probe_x = _probe_inputs()
    for req in practice.requirements:
        value, png = collect_one(req, namespace, data, probe_x)
        entry: dict[str, Any] = {"kind": req.kind}
        if isinstance(value, Missing):
            entry["missing"] = value.reason
        elif req.kind == "array":
            np.save(tmp / f"{req.name}.npy", value, allow_pickle=False)
            entry["file"] = f"{req.name}.npy"
        elif req.kind == "model":
            files = {}
            for key in MODEL_ARRAYS:
                if key in value:
                    files[key] = f"{req.name}.npy" if key == "scores" else f"{req.name}.{key}.npy"
                    np.save(tmp / files[key], value[key], allow_pickle=False)
            entry.update(file=files["scores"], files=files, n_params=value["n_params"],
                         framework=value["framework"])
            if "probe_missing" in value:
                entry["probe_missing"] = value["probe_missing"]
        else:
            entry["value"] = value
            if png is not None:
                (tmp / f"{req.name}.png").write_bytes(png)
                entry["png"] = f"{req.name}.png"
        entries[req.name] = entry
    (tmp / "values.json").write_text(json.dumps(entries))
    final = root / practice.key
    if final.exists():
        shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    return final


def _load_npy(where: Path, name: Any) -> np.ndarray:
    f = where / Path(str(name)).name
    if f.is_symlink() or not f.is_file():
        raise ValueError("not a regular file")
    if f.stat().st_size > MAX_NPY_BYTES:
        raise ValueError("array too large")
    return np.load(f, allow_pickle=False)


def load_practice(practice: Practice, folder: str | os.PathLike) -> dict:
    """Read back what :func:`export_practice` wrote, as ``{name: value or Missing}``.

    Untrusted input: sizes are capped, arrays are loaded without pickle, and anything
    malformed becomes a ``Missing`` with the reason.
    """
    where = Path(folder) / practice.key
    meta_file = where / "values.json"
    if where.is_symlink() or meta_file.is_symlink():
        return {n: Missing("export is a symbolic link (refused)") for n in practice.names()}
    if not meta_file.is_file():
        return {n: Missing("not exported (the kernel never reached this practice's check cell)")
                for n in practice.names()}
    if meta_file.stat().st_size > MAX_JSON_BYTES:
        return {n: Missing("export too large") for n in practice.names()}
    try:
        entries = json.loads(meta_file.read_text())
        if not isinstance(entries, dict):
            raise ValueError("not a dict")
    except (ValueError, OSError, UnicodeDecodeError) as err:
        return {n: Missing(f"export unreadable ({err})") for n in practice.names()}
    values: dict[str, Any] = {}
    for req in practice.requirements:
        entry = entries.get(req.name)
        if not isinstance(entry, dict):
            values[req.name] = Missing("not exported")
            continue
        if "missing" in entry:
            values[req.name] = Missing(str(entry["missing"])[:300])
            continue
        try:
            if req.kind == "array":
                values[req.name] = _load_npy(where, entry["file"])
            elif req.kind == "model":
                files = entry.get("files") or {"scores": entry["file"]}
                if not isinstance(files, dict):
                    raise ValueError("files is not a dict")
                value = {"n_params": int(entry["n_params"]), "framework": str(entry["framework"])[:20]}
                for key in MODEL_ARRAYS:
                    if key in files:
                        value[key] = _load_npy(where, files[key])
                if "scores" not in value:
                    raise ValueError("no scores")
                if "probe_missing" in entry:
                    value["probe_missing"] = str(entry["probe_missing"])[:300]
                values[req.name] = value
            elif req.kind == "figure":
                value = dict(entry["value"])
                png = where / f"{req.name}.png"
                value["png_bytes"] = png.stat().st_size if png.is_file() and not png.is_symlink() else 0
                values[req.name] = value
            else:
                values[req.name] = entry["value"]
        except Exception as err:  # noqa: BLE001 - malformed export
            values[req.name] = Missing(f"export unreadable ({type(err).__name__}: {str(err)[:120]})")
    return values
