"""What the grader keeps of each scored submission: the store, the feedback page, the report's records.

:func:`workshop_utils.grading.grader.grade_folder` makes one :class:`Keeper` when any of
``--store``, ``--feedback`` or ``--report`` is given, and calls :meth:`Keeper.keep` for
every submission right after its checks ran, while its export folder still exists.  A
failure here (a full disk...) never loses the CSV row: the row's status says what was not
written.
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

#: Largest notebook file read back for its code cells (the grader's own cap).
MAX_NOTEBOOK_BYTES = 20 * 2 ** 20


def code_cells(nb: Any) -> list[str]:
    """The code cells' sources of a notebook (dict, or ``.ipynb`` bytes/str); [] when unreadable."""
    try:
        if isinstance(nb, (bytes, bytearray)):
            nb = bytes(nb).decode("utf-8", "replace")
        if isinstance(nb, str):
            nb = json.loads(nb)
        out = []
        for c in nb.get("cells", []):
            if isinstance(c, dict) and c.get("cell_type") == "code":
                src = c.get("source", "")
                out.append("".join(src) if isinstance(src, list) else str(src))
        return out
    except (ValueError, AttributeError, TypeError):
        return []


class Keeper:
    """Keeps every scored submission in the store, writes its feedback, and remembers it for the report.

    Parameters
    ----------
    day : int
        The homework day.
    ref : dict
        The checks' reference data with ``ref["probe"]`` (its labels draw the feedback's figures).
    store : Store, optional
        The open store (:func:`~workshop_utils.grading.store.open_store`).
    feedback : Path, optional
        The feedback folder (already checked writable).
    files : dict
        ``{student id: notebook path}`` (the code cells of a submission whose executed
        notebook did not come back are read from there).
    """

    def __init__(self, day: int, ref: dict, store: Any = None, feedback: Path | None = None,
                 files: dict | None = None):
        self.day, self.ref, self.store, self.feedback = day, ref, store, feedback
        self.files = dict(files or {})
        self.records: dict[str, dict] = {}
        self.lock = threading.Lock()

    def _code(self, student: str, executed: Any) -> list[str]:
        code = code_cells(executed) if executed else []
        if code:
            return code
        path = self.files.get(student)
        try:
            if path is not None and os.path.getsize(path) <= MAX_NOTEBOOK_BYTES:
                return code_cells(Path(path).read_bytes())
        except OSError:
            pass
        return []

    def keep(self, student: str, folder: Path, record: dict, row: dict) -> None:
        """Store, write feedback for, and remember one scored submission; notes failures in ``row["status"]``.

        ``record``: ``status`` (before the checks), ``errors``, ``results``; ``row`` is its CSV
        row (with ``executed``, the executed notebook, not a CSV column).
        """
        from .feedback import load_values, write_feedback

        executed = row.get("executed")
        clean_row = {k: v for k, v in row.items() if k != "executed"}
        rec = {"day": self.day, **record, "row": clean_row}
        code = self._code(student, executed)
        problems = []
        if self.store is not None:
            try:
                self.store.put(student, folder, rec, code=code,
                               executed=executed.encode("utf-8") if isinstance(executed, str) else executed)
            except Exception as err:  # noqa: BLE001 - the CSV row must still be written
                problems.append(f"not stored ({type(err).__name__}: {str(err)[:120]})")
        if self.feedback is not None:
            try:
                write_feedback(self.feedback, {**rec, "student": student}, load_values(self.day, folder),
                               self.ref.get("probe"), executed)
            except Exception as err:  # noqa: BLE001
                problems.append(f"no feedback page ({type(err).__name__}: {str(err)[:120]})")
        with self.lock:
            self.records[student] = {**rec, "code": code}
        if problems:
            row["status"] = f"{row.get('status', '')}; " + "; ".join(problems)

    def report(self, path: str | os.PathLike, csv_path: str | os.PathLike) -> Path:
        """Write the class report of ``csv_path`` with the records kept in this run (and the store's)."""
        from .report import class_report, read_grades, template_code
        from .._atomic import atomic_write_text

        records = {}
        if self.store is not None:  # a resumed run: students graded before are in the store
            for sid in self.store.students():
                if sid not in self.records:
                    try:
                        rec = self.store.get(sid)
                        rec.pop("executed", None)
                        records[sid] = rec
                    except Exception:  # noqa: BLE001 - a broken entry: the CSV row still shows
                        continue
        records.update(self.records)
        html = class_report(read_grades(csv_path), self.day, records, template_code(self.day))
        return atomic_write_text(Path(path), html)
