"""The grader's private store: what each submission exported, and the probe it was scored on.

``workshop-grade SUBMISSIONS ... --store DIR`` keeps, per submission, the plain data its
kernel exported (the ``export/`` folder the checks read), the student's code cells (for the
class report's similarity), the executed notebook (for the feedback page), how the run ended,
and the check results; and, once per store, the private probe set (sequences, labels,
planted sites).  ``workshop-grade regrade --store DIR --out new.csv`` then runs the
*current* checks (package and hidden files) on the stored data without running a notebook
(:func:`workshop_utils.grading.regrade.regrade`).

Layout::

    DIR/manifest.json            format, package version, day, mode, checksums (sha256) of every file
    DIR/probe.npz                the probe: base codes (N, L) uint8, labels, planted sites
    DIR/subs/<sha256(id)>.tar    one submission: meta.json, code.json, executed.ipynb, export/...
    DIR/manual.json              hand scores of written answers (``--manual``; :mod:`workshop_utils.grading.manual`)

Every file is written atomically (:mod:`workshop_utils._atomic`); a submission's tar is
written before the manifest names it, so an interrupted grader leaves a store whose
manifest names only complete submissions.  Reading checks the manifest's format, day,
mode and package version and every file's checksum, and refuses with a :class:`StoreError`
that says which.

The store is on the trusted side: it holds the probe's labels.  The grader refuses a store
inside a folder every sandbox mounts (like the hidden checks and the CSV), and never mounts it.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_path, atomic_write_bytes, atomic_write_text

#: Version of the layout above.
STORE_FORMAT = 1
MANIFEST = "manifest.json"
PROBE_FILE = "probe.npz"
MANUAL_FILE = "manual.json"
#: Largest file of a submission's tar that is read back (the export's own cap).
MAX_MEMBER_BYTES = 256_000_000
#: Largest number of files of a submission's tar that is read back.
MAX_MEMBERS = 4000


class StoreError(ValueError):
    """A store that cannot be used: another day, mode or version, a changed file, a missing submission."""


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _package_version() -> str:
    from .. import __version__

    return str(__version__)


def reference_digest(ref: dict) -> str:
    """sha256 of the reference labels and planted sites (so a store made on other course data is refused)."""
    h = hashlib.sha256()
    for key in ("y_valid", "y_test", "site_start_test"):
        a = np.ascontiguousarray(np.asarray(ref[key], dtype=np.int64))
        h.update(key.encode() + str(a.shape).encode() + a.tobytes())
    return h.hexdigest()


def _sub_file(student: str) -> str:
    return f"subs/{sha256_bytes(student.encode('utf-8'))[:40]}.tar"


def _tar_add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, 0  # mtime 0: the same content gives the same bytes
    tar.addfile(info, io.BytesIO(data))


class Store:
    """A grading store (see the module's docstring); open one with :func:`open_store`.

    Parameters
    ----------
    folder : Path
        The store's folder.
    manifest : dict
        Its manifest (as read or as created).
    """

    def __init__(self, folder: Path, manifest: dict):
        self.folder, self.manifest = Path(folder), manifest
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- what it is
    @property
    def day(self) -> int:
        """The homework day the store was made for."""
        return int(self.manifest["day"])

    @property
    def quick(self) -> bool:
        """Whether it was graded in quick mode."""
        return bool(self.manifest["quick"])

    def students(self) -> list[str]:
        """The student ids with a stored submission, in the order they were stored."""
        return list(self.manifest["submissions"])

    def has(self, student: str) -> bool:
        """True when ``student`` has a stored submission."""
        return student in self.manifest["submissions"]

    # ---------------------------------------------------------------- writing
    def _write_manifest(self) -> None:
        atomic_write_text(self.folder / MANIFEST, json.dumps(self.manifest, indent=1) + "\n")

    def save_probe(self, probe: Any) -> None:
        """Keep the probe (sequences as base codes, labels, planted sites) unless the store has one."""
        from .probe import Probe

        if not isinstance(probe, Probe):
            raise TypeError(f"Store.save_probe: probe must be a Probe, got {type(probe).__name__}")
        with self._lock:
            if self.manifest.get("probe"):
                raise StoreError(f"store {self.folder}: it already holds a probe; grade into a new store, or "
                                 "continue this one with --resume (which reuses its probe)")
            buf = io.BytesIO()
            np.savez(buf, codes=probe.x.argmax(-1).astype(np.uint8), y=probe.y, site_start=probe.site_start)
            data = buf.getvalue()
            atomic_write_bytes(self.folder / PROBE_FILE, data)
            self.manifest["probe"] = {"file": PROBE_FILE, "sha256": sha256_bytes(data), "n": len(probe)}
            self._write_manifest()

    def put(self, student: str, export_dir: str | os.PathLike | None, record: dict, code: list[str] | None = None,
            executed: bytes | None = None) -> None:
        """Store one submission (replacing an earlier one of the same student).

        Parameters
        ----------
        student : str
            The CSV's student id.
        export_dir : Path or None
            The folder the checks read (``day{d}_p{n}/values.json`` and arrays); None: nothing exported.
        record : dict
            JSON-compatible: ``status`` (how the run ended, before the checks), ``errors``,
            ``days`` (days of its self-check calls), ``seconds``, ``peak_mb``, ``results``
            (the checks' results, per practice) and ``row`` (its CSV row).
        code : list of str, optional
            The submission's code cells (the class report compares them).
        executed : bytes, optional
            The executed notebook (``.ipynb``) that came back from the sandbox.
        """
        if not isinstance(student, str) or not student:
            raise ValueError(f"Store.put: student must be a non-empty str, got {student!r}")
        if not isinstance(record, dict):
            raise TypeError(f"Store.put: record must be a dict, got {type(record).__name__}")
        rel = _sub_file(student)
        with self._lock:
            with atomic_path(self.folder / rel) as tmp:  # streamed to disk: the grader's memory stays flat
                with tarfile.open(tmp, mode="w", format=tarfile.PAX_FORMAT) as tar:
                    _tar_add(tar, "meta.json", json.dumps({"student": student, **record}, sort_keys=True).encode())
                    _tar_add(tar, "code.json", json.dumps(list(code or [])).encode())
                    if executed is not None:
                        _tar_add(tar, "executed.ipynb", bytes(executed))
                    if export_dir is not None and Path(export_dir).is_dir():
                        root = Path(export_dir)
                        for path in sorted(root.rglob("*")):
                            if path.is_file() and not path.is_symlink():
                                info = tarfile.TarInfo("export/" + path.relative_to(root).as_posix())
                                info.size, info.mode, info.mtime = path.stat().st_size, 0o600, 0
                                with open(path, "rb") as fh:
                                    tar.addfile(info, fh)
                digest = _sha256_file(tmp)
            self.manifest["submissions"][student] = {"file": rel, "sha256": digest}
            self._write_manifest()

    def save_manual(self, scores: dict) -> None:
        """Keep the hand scores ``{(student, check): ManualScore}`` (replacing those kept before)."""
        entries = sorted((s.to_json() for s in scores.values()), key=lambda e: (e["student"], e["check"]))
        data = (json.dumps(entries, indent=1, sort_keys=True) + "\n").encode("utf-8")
        with self._lock:
            atomic_write_bytes(self.folder / MANUAL_FILE, data)
            self.manifest["manual"] = {"file": MANUAL_FILE, "sha256": sha256_bytes(data), "n": len(entries)}
            self._write_manifest()

    # ---------------------------------------------------------------- reading
    def manual_scores(self) -> dict:
        """The hand scores kept by :meth:`save_manual` (checksum verified): ``{(student, check): ManualScore}``."""
        from .manual import ManualScore

        entry = self.manifest.get("manual")
        if not entry:
            return {}
        data = self._read_checked(entry["file"], entry["sha256"], "the hand scores")
        try:
            scores = [ManualScore(**e) for e in json.loads(data)]
        except (ValueError, TypeError) as err:
            raise StoreError(f"store {self.folder}: {MANUAL_FILE} is unreadable ({err})") from None
        return {(s.student, s.check): s for s in scores}

    def probe(self) -> Any:
        """The stored :class:`~workshop_utils.grading.probe.Probe` (checksum verified)."""
        from .probe import Probe

        entry = self.manifest.get("probe")
        if not entry:
            raise StoreError(f"store {self.folder}: it holds no probe (the grading was interrupted before it began)")
        data = self._read_checked(entry["file"], entry["sha256"], "the probe")
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            codes, y, start = z["codes"], z["y"], z["site_start"]
        return Probe(np.eye(4, dtype=np.float32)[codes], y, start)

    def _read_checked(self, rel: str, digest: str, what: str) -> bytes:
        path = self.folder / rel
        if path.is_symlink() or not path.is_file():
            raise StoreError(f"store {self.folder}: {what} is missing ({rel}); grade it again")
        data = path.read_bytes()
        if sha256_bytes(data) != digest:
            raise StoreError(f"store {self.folder}: {what} ({rel}) does not match its checksum in {MANIFEST}: "
                             "the store was changed after grading; grade it again")
        return data

    def get(self, student: str, dest: str | os.PathLike | None = None) -> dict:
        """The stored record of ``student`` (checksum verified); its export is unpacked into ``dest``.

        Returns
        -------
        dict
            The record given to :meth:`put`, plus ``student``, ``code`` (list of str) and
            ``executed`` (bytes or None).

        Raises
        ------
        StoreError
            When ``student`` has no stored submission, or its file is missing or changed.
        """
        entry = self.manifest["submissions"].get(student)
        if entry is None:
            raise StoreError(f"store {self.folder}: no stored submission of {student!r}; grade it again")
        data = self._read_checked(entry["file"], entry["sha256"], f"the submission of {student!r}")
        record: dict[str, Any] = {"executed": None, "code": []}
        dest = Path(dest) if dest is not None else None
        n = 0
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for m in tar:
                if not m.isfile() or m.size > MAX_MEMBER_BYTES or n >= MAX_MEMBERS:
                    continue
                n += 1
                parts = Path(m.name).parts
                if m.name == "meta.json":
                    record.update(json.loads(tar.extractfile(m).read()))
                elif m.name == "code.json":
                    record["code"] = [str(c) for c in json.loads(tar.extractfile(m).read())]
                elif m.name == "executed.ipynb":
                    record["executed"] = tar.extractfile(m).read()
                elif (dest is not None and len(parts) >= 2 and parts[0] == "export"
                      and not Path(m.name).is_absolute() and not any(p in ("..", "", ".") for p in parts)):
                    target = dest.joinpath(*parts[1:])
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with open(target, "wb") as fh:
                        shutil.copyfileobj(tar.extractfile(m), fh)
        return record

    def verify(self) -> list[str]:
        """Check every file against the manifest; returns the problems found (empty: all good)."""
        bad = []
        entries = [("the probe", self.manifest["probe"])] if self.manifest.get("probe") else []
        entries += [("the hand scores", self.manifest["manual"])] if self.manifest.get("manual") else []
        entries += [(repr(s), e) for s, e in self.manifest["submissions"].items()]
        for what, e in entries:
            path = self.folder / e["file"]
            if not path.is_file():
                bad.append(f"{what}: {e['file']} is missing")
            elif _sha256_file(path) != e["sha256"]:
                bad.append(f"{what}: {e['file']} does not match its checksum")
        return bad


def open_store(folder: str | os.PathLike, day: int | None = None, quick: bool | None = None,
               ref_digest: str | None = None, create: bool = False, accept_version: bool = False) -> Store:
    """Open (or, with ``create``, start) the store in ``folder``, checking that it fits.

    Parameters
    ----------
    folder : str or Path
        The store's folder.
    day : int, optional
        The day being graded; a store of another day is refused. Required with ``create``.
    quick : bool, optional
        The grader's mode; a store made in the other mode is refused (its probe sizes and
        thresholds differ). Required with ``create``.
    ref_digest : str, optional
        :func:`reference_digest` of the reference data; a store of other course data is refused.
    create : bool
        Make a new store when ``folder`` holds none (an empty or missing folder).
    accept_version : bool
        Accept a store written by another version of the package.

    Returns
    -------
    Store

    Raises
    ------
    StoreError
        A store of another day, mode, format, version or course data; no store and not ``create``;
        a folder that holds other files; a manifest that is not one.
    """
    folder = Path(folder)
    mpath = folder / MANIFEST
    if folder.exists() and not folder.is_dir():
        raise StoreError(f"store {folder}: not a folder")
    if not mpath.exists():
        if not create:
            raise StoreError(f"store {folder}: no {MANIFEST}: not a grading store (grade with --store {folder} first)")
        if day is None or quick is None:
            raise ValueError("open_store: day and quick are needed to create a store")
        if folder.is_dir() and any(p for p in folder.iterdir() if not p.name.startswith(".")):
            raise StoreError(f"store {folder}: the folder holds other files and no {MANIFEST}; choose an empty one")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "subs").mkdir(exist_ok=True)
        try:
            folder.chmod(0o700)  # it holds the probe's labels
        except OSError:
            pass
        store = Store(folder, {"format": STORE_FORMAT, "package": "workshop_utils",
                               "package_version": _package_version(), "day": int(day), "quick": bool(quick),
                               "reference_sha256": ref_digest, "probe": None, "submissions": {}})
        store._write_manifest()
        return store
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or not isinstance(manifest.get("submissions"), dict):
            raise ValueError("not a manifest")
    except (ValueError, OSError, UnicodeDecodeError) as err:
        raise StoreError(f"store {folder}: {MANIFEST} is unreadable ({err})") from None
    if manifest.get("format") != STORE_FORMAT:
        raise StoreError(f"store {folder}: format {manifest.get('format')!r}, this grader reads format {STORE_FORMAT}")
    if day is not None and manifest.get("day") != day:
        raise StoreError(f"store {folder}: it holds day {manifest.get('day')}, not day {day}")
    if quick is not None and bool(manifest.get("quick")) != bool(quick):
        mode = "quick" if manifest.get("quick") else "full"
        raise StoreError(f"store {folder}: graded in {mode} mode, this grader runs in "
                         f"{'quick' if quick else 'full'} mode (set WORKSHOP_QUICK={'1' if mode == 'quick' else '0'})")
    if manifest.get("package_version") != _package_version() and not accept_version:
        raise StoreError(f"store {folder}: written by workshop_utils {manifest.get('package_version')}, this is "
                         f"{_package_version()}; its exports may not fit the current checks: grade again, or "
                         "pass --accept-version to regrade anyway")
    if ref_digest is not None and manifest.get("reference_sha256") not in (None, ref_digest):
        raise StoreError(f"store {folder}: made on other course data (reference labels differ); grade again")
    return Store(folder, manifest)
