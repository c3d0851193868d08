"""Student ids and the grades CSV of ``workshop-grade``.

An id is the submission's file or folder name (:func:`student_id`, reversible with
:func:`student_name`); the CSV (:class:`CsvLog`) is appended row by row, fsync'ed, and
repaired from memory when something else changed it.  Cells a spreadsheet would read as
a formula get a leading ``'`` (:func:`csv_safe`).
"""
from __future__ import annotations

import base64
import csv
import io
import os
import threading
from pathlib import Path
from typing import Any

from .practices import PRACTICES

B64 = "~b64~"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def student_id(name: str | bytes) -> str:
    """The CSV's id for a file or folder name: the name itself, or ``~b64~`` + base64 of its bytes.

    Deterministic and reversible (:func:`student_name`): names that are valid UTF-8 without
    control characters stay as they are; any other name (or one starting with ``~b64~``)
    is encoded.
    """
    raw = name if isinstance(name, bytes) else os.fsencode(name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and text.isprintable() and not text.startswith(B64):
        return text
    return B64 + base64.urlsafe_b64encode(raw).decode("ascii")


def student_name(sid: str) -> bytes:
    """The file-name bytes of a student id made by :func:`student_id`."""
    if sid.startswith(B64):
        return base64.urlsafe_b64decode(sid[len(B64):].encode("ascii"))
    return sid.encode("utf-8")


def csv_safe(value: Any) -> str:
    """A CSV cell a spreadsheet will not execute: a leading ``= + - @`` (tab, CR) gets a ``'``."""
    s = str(value)
    return "'" + s if s.startswith(FORMULA_START) else s


def columns(day: int) -> list[str]:
    """The CSV columns of day ``day``: student, one per practice, total, max, status, reasons."""
    return ["student"] + [f"p{p.number}" for p in PRACTICES[day]] + ["total", "max", "status", "reasons"]


class CsvLog:
    """The grades CSV: appended row by row, fsync'ed, checked and repaired before each write."""

    def __init__(self, path: Path, columns: list[str], resume: bool):
        self.path, self.columns = path, columns
        self.done: set[str] = set()
        self.lock = threading.Lock()
        if path.exists() and path.stat().st_size > 0:
            if not resume:
                raise FileExistsError(f"--out: {path} exists; pass --resume to continue it, or choose another file")
            text = path.read_bytes().decode("utf-8", "replace")
            if not text.endswith("\n"):  # an interrupted write: drop the partial row
                text = text[: text.rfind("\n") + 1]
            if text and next(csv.reader(io.StringIO(text.splitlines()[0]))) != columns:
                raise ValueError(f"--out: {path} has other columns than {columns}: is it the CSV of the other day?")
            self.done = {r["student"] for r in csv.DictReader(io.StringIO(text))}
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
        """True when ``sid`` already has a row."""
        return csv_safe(sid) in self.done

    def append(self, row: dict) -> None:
        """Append one row (formula-safe) and fsync; thread-safe."""
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([csv_safe(row.get(c, "")) for c in self.columns])
        data = buf.getvalue().encode()
        with self.lock:
            self.repair()
            with open(self.path, "ab") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            self.expected += data
            self.done.add(csv_safe(row["student"]))

