"""Student ids and the grades CSV of ``workshop-grade``.

An id is the submission's file or folder name (:func:`student_id`; :func:`student_name`
gives the bytes back); the CSV (:class:`CsvLog`) is appended row by row, fsync'ed, and
repaired from memory when something else changed it.

Every cell is text a spreadsheet will not execute and a CSV reader can read back: a leading
``= + - @`` (tab, CR) gets a ``'`` (:func:`csv_safe`, undone by :func:`csv_raw` when
``--resume`` compares ids), lone surrogates and NUL characters (a kernel may print anything)
are written as ``\\udcxx`` / ``\\x00`` escapes instead of losing the row.  Each row also
records the day and a hash of the hidden-checks files (:func:`hidden_digest`), so that
``--resume`` refuses a CSV of the other day or of other hidden checks.
"""
from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import threading
import unicodedata
from pathlib import Path
from typing import Any

from .practices import PRACTICES

B64 = "~b64~"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Columns after the practices (``seconds``: wall time of the sandbox; ``peak_mb``: its peak memory,
#: empty where no cgroup measures it; ``day`` and ``hidden``: what the row was graded with;
#: ``name_note``: why the id may be mistaken for another; ``manual``: the checks scored by hand, with their
#: first-pass points, :mod:`workshop_utils.grading.manual`).
TAIL_COLUMNS = ["total", "max", "status", "seconds", "peak_mb", "day", "hidden", "name_note", "manual", "reasons"]


def student_id(name: str | bytes) -> str:
    """The CSV's id for a file or folder name: the name (NFC, trimmed), or ``~b64~`` + base64 of its bytes.

    Deterministic: a name that is valid UTF-8 stays readable, normalised to Unicode NFC and
    with surrounding white space removed (:func:`name_changes` says whether that changed
    it); a name that is not UTF-8, holds control characters, is empty once trimmed, or starts
    with ``~b64~`` or ``'`` is encoded (so that :func:`csv_raw` can undo :func:`csv_safe`).
    """
    raw = name if isinstance(name, bytes) else os.fsencode(name)
    return _encode(raw, normalise=True)


def exact_id(name: bytes) -> str:
    """Like :func:`student_id` but without normalising: two different names never give one id."""
    return _encode(name, normalise=False)


def _encode(raw: bytes, normalise: bool) -> str:
    """``raw`` as readable text (NFC and trimmed when ``normalise``), else ``~b64~`` + its base64.

    Without ``normalise``, a name with surrounding white space is encoded, so the text is
    always the exact name.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and normalise:
        text = unicodedata.normalize("NFC", text).strip()
    if text and text.isprintable() and text == text.strip() and not text.startswith((B64, "'")):
        return text
    return B64 + base64.urlsafe_b64encode(raw).decode("ascii")


def name_changes(name: bytes) -> str:
    """What :func:`student_id` changed in ``name`` (``''``: nothing), in words for the CSV."""
    try:
        text = name.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    what = []
    if text != text.strip():
        what.append("white space around the name removed")
    if unicodedata.normalize("NFC", text) != text:
        what.append("Unicode normalised (NFC)")
    return "; ".join(what)


def student_name(sid: str) -> bytes:
    """The file-name bytes of a student id made by :func:`student_id` (of the normalised name)."""
    if sid.startswith(B64):
        return base64.urlsafe_b64decode(sid[len(B64):].encode("ascii"))
    return sid.encode("utf-8")


def _text(value: Any) -> str:
    """``str(value)`` that can be written as UTF-8 and read back by a CSV reader."""
    s = str(value)
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        s = s.encode("utf-8", "backslashreplace").decode("utf-8")
    return s.replace("\x00", "\\x00")


def csv_safe(value: Any) -> str:
    """A CSV cell a spreadsheet will not execute: a leading ``= + - @`` (tab, CR) gets a ``'``."""
    s = _text(value)
    return "'" + s if s.startswith(FORMULA_START) else s


def csv_raw(cell: str) -> str:
    """The value :func:`csv_safe` neutralised (``'=x`` -> ``=x``); ids never start with ``'`` themselves."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_START) else cell


def columns(day: int, roster: bool = False, late: bool = False) -> list[str]:
    """The CSV columns of day ``day``: student, one per practice, then :data:`TAIL_COLUMNS`.

    With ``roster`` (``--roster``) the roster's columns follow ``student``
    (:data:`~workshop_utils.grading.roster.ROSTER_COLUMNS`); with ``late`` (``--deadline``) the
    late columns follow ``total`` (:data:`~workshop_utils.grading.late.LATE_COLUMNS`).
    """
    from .late import LATE_COLUMNS
    from .roster import ROSTER_COLUMNS

    return (["student"] + (ROSTER_COLUMNS if roster else []) + [f"p{p.number}" for p in PRACTICES[day]]
            + TAIL_COLUMNS[:1] + (LATE_COLUMNS if late else []) + TAIL_COLUMNS[1:])


def hidden_digest(paths: list[str | Path]) -> str:
    """A short hash of the hidden-checks files' contents (order does not matter; ``'none'`` without any)."""
    if not paths:
        return "none"
    h = hashlib.sha256()
    for d in sorted(hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths):
        h.update(d.encode())
    return h.hexdigest()[:16]


class CsvLog:
    """The grades CSV: appended row by row, fsync'ed, checked and repaired before each write.

    ``meta`` (e.g. ``{"day": "1", "hidden": hidden_digest(...)}``) is written in every row;
    with ``resume``, a CSV whose rows hold other values is refused (the other day's CSV, or
    one graded with other hidden checks), and the ids already there are compared raw
    (:func:`csv_raw`), not as neutralised cells.
    """

    def __init__(self, path: Path, columns: list[str], resume: bool, meta: dict[str, str] | None = None):
        self.path, self.columns, self.meta = path, columns, dict(meta or {})
        self.done: set[str] = set()
        #: roster ids that already have a row (``--roster``: a "no submission" row is written once)
        self.roster_done: set[str] = set()
        self.lock = threading.Lock()
        if path.exists() and path.stat().st_size > 0:
            if not resume:
                raise FileExistsError(f"--out: {path} exists; pass --resume to continue it, or choose another file")
            text = path.read_bytes().decode("utf-8", "replace")
            if not text.endswith("\n"):  # an interrupted write: drop the partial row
                text = text[: text.rfind("\n") + 1]
            if text and next(csv.reader(io.StringIO(text.splitlines()[0]))) != columns:
                raise ValueError(f"--out: {path} has other columns than {columns}: is it the CSV of the other day, "
                                 "or of a grading with(out) --roster or --deadline?")
            rows = list(csv.DictReader(io.StringIO(text)))
            for key, want in self.meta.items():
                other = sorted({r.get(key, "") for r in rows} - {want})
                if other:
                    what = "graded as day" if key == "day" else f"graded with {key} ="
                    raise ValueError(f"--out: {path} holds rows {what} {', '.join(other)}, this run has {want!r}: "
                                     "resume only the same grading (another day or other hidden checks need "
                                     "another --out)")
            self.done = {csv_raw(r["student"]) for r in rows}
            self.roster_done = {csv_raw(r["roster_id"]) for r in rows if r.get("roster_id")}
            self.expected = text.encode()
        else:
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerow(columns)
            self.expected = buf.getvalue().encode()
        self._rewrite()

    def _rewrite(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(self.expected)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def repair(self) -> bool:
        """Rewrite the CSV from memory if something changed it; True when it had to."""
        try:
            same = self.path.read_bytes() == self.expected
        except OSError:
            same = False
        if not same:
            self._rewrite()
        return not same

    def is_done(self, sid: str) -> bool:
        """True when ``sid`` (a raw id) already has a row."""
        return sid in self.done

    def append(self, row: dict) -> None:
        """Append one row (formula-safe) and fsync; thread-safe."""
        buf = io.StringIO()
        row = {**row, **self.meta}
        csv.writer(buf, lineterminator="\n").writerow([csv_safe(row.get(c, "")) for c in self.columns])
        data = buf.getvalue().encode()
        with self.lock:
            self.repair()
            with open(self.path, "ab") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            self.expected += data
            self.done.add(row["student"])
            if row.get("roster_id"):
                self.roster_done.add(row["roster_id"])

