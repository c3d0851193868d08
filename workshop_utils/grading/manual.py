"""Written answers scored by a person: the manual CSV, its checks, and how its points replace the first pass.

The written-answer checks (:func:`~workshop_utils.grading.core.answer_check`: a word count
and a keyword) are a first pass.  ``workshop-grade review`` (:mod:`workshop_utils.grading.review`)
shows the instructor every student's answer and writes a pre-filled ``manual.csv``; the
instructor fills in its ``points`` (and ``comment``) and passes it back with ``--manual``:

=============  ============================================================================
column         meaning
=============  ============================================================================
``student``    the student id, as in the grades CSV (required)
``check``      the written question: its answer's name, e.g. ``answer_p1``, or its check's (required)
``points``     the points given by hand, ``0`` to ``max_points``; empty: keep the first pass (required)
``comment``    shown to the student on the feedback page (optional; needs ``points``)
``answer_id``  a digest of the answer that was read (optional; pre-filled by ``review``):
               a hand score is not applied to an answer that changed since
``first_pass``, ``max_points``  for the reader only; ignored
=============  ============================================================================

A hand score replaces the first pass of that check (in the totals, the feedback and the
``reasons``); the row's ``manual`` column says which checks were scored by hand and keeps
their first-pass points.  With a store (``--store``), the scores are kept in it
(:meth:`~workshop_utils.grading.store.Store.save_manual`), so a later ``regrade`` or a
``--resume`` applies them again without the CSV.

The CSV is read as an instructor's spreadsheet writes it: UTF-8 with or without a BOM,
``,``, ``;`` or tab separated (``8,5`` is a number when ``;`` separates), header names in
any case.  Anything wrong (an unknown student or check, points out of range, ``NaN``,
``80%``, a duplicate row, a missing column) stops the command before anything is written,
with every problem and its line (:class:`ManualError`).
"""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import math
import os
import re
import unicodedata
from pathlib import Path
from typing import Any, Iterable

from .csvlog import csv_raw
from .practices import PRACTICES

#: Columns a manual CSV must have, and those it may have.
REQUIRED = ("student", "check", "points")
OPTIONAL = ("comment", "answer_id", "first_pass", "max_points")
#: Largest manual CSV read (bytes), and longest comment kept (characters).
MAX_BYTES = 20_000_000
MAX_COMMENT = 2000
#: Problems listed in one error at most.
MAX_PROBLEMS = 25


class ManualError(ValueError):
    """A manual CSV that cannot be used as it is; the message lists every problem with its line."""


@dataclasses.dataclass(frozen=True)
class WrittenQuestion:
    """One written question of a day: the text requirement and its first-pass check.

    Attributes
    ----------
    day, practice : int
        Where it is.
    answer : str
        The answer's variable name; the question's id in a manual CSV (``answer_p1``).
    check : str
        The name of its first-pass check (``answer_p1 written``).
    points : float
        Points of that check: the largest hand score.
    prompt : str
        What the student was asked.
    title : str
        The practice's title.
    """

    day: int
    practice: int
    answer: str
    check: str
    points: float
    prompt: str
    title: str


def written_questions(day: int) -> list[WrittenQuestion]:
    """The written questions of ``day``: every check that reads one ``text`` requirement, in practice order."""
    if day not in PRACTICES:
        raise ValueError(f"written_questions: day must be one of {sorted(PRACTICES)}, got {day!r}")
    out = []
    for p in PRACTICES[day]:
        texts = {r.name: r for r in p.requirements if r.kind == "text"}
        for c in p.checks:
            if len(c.needs) == 1 and c.needs[0] in texts and not c.hidden:
                req = texts[c.needs[0]]
                out.append(WrittenQuestion(day, p.number, req.name, c.name, float(c.points), req.what, p.title))
    return out


def answer_digest(text: Any) -> str:
    """A short digest (12 hex digits) of a written answer; ``''`` when there is none (not a str)."""
    if not isinstance(text, str):
        return ""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


@dataclasses.dataclass(frozen=True)
class ManualScore:
    """One hand score: ``points`` for ``student``'s answer ``check`` (a :attr:`WrittenQuestion.answer`)."""

    student: str
    check: str
    points: float
    comment: str = ""
    answer_id: str = ""

    def to_json(self) -> dict:
        """A JSON-compatible dict (what the store keeps)."""
        return dataclasses.asdict(self)


# ------------------------------------------------------------------ reading the CSV
def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError as err:
        raise ManualError(f"--manual: {where} is not UTF-8 text (byte {err.start}); in a spreadsheet, save it as "
                          "'CSV UTF-8 (comma delimited)'") from None


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def parse_points(text: str, decimal_comma: bool = False) -> float:
    """A hand score as written in a CSV cell: a finite number (``8,5`` too when ``decimal_comma``).

    Raises
    ------
    ValueError
        For ``80%``, ``NaN``, ``inf``, ``1/2``, words: says what was expected.
    """
    s = str(text).strip()
    if decimal_comma and re.fullmatch(r"[+-]?\d+,\d+", s):
        s = s.replace(",", ".")
    if s.endswith("%"):
        raise ValueError(f"points must be points, not a percentage, got {text!r} (write e.g. 0.8 of 1)")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", s):
        raise ValueError(f"points must be a number like 1 or 0.5, got {text!r}")
    v = float(s)
    if not math.isfinite(v):
        raise ValueError(f"points must be finite, got {text!r}")
    return v


def read_manual(path: str | os.PathLike, day: int, students: Iterable[str]) -> dict[tuple[str, str], ManualScore]:
    """The hand scores of a manual CSV, checked against the day's written questions and the class.

    Parameters
    ----------
    path : str or Path
        The CSV (see the module's docstring for its columns).
    day : int
        The homework day (its :func:`written_questions` are the valid ``check`` values).
    students : iterable of str
        The student ids of the class (the grades CSV's / the store's).

    Returns
    -------
    dict
        ``{(student, check): ManualScore}`` for every row with points (rows with empty
        points are left out: their first pass stays).

    Raises
    ------
    FileNotFoundError
        No such file.
    ManualError
        Not UTF-8, empty, a missing column, or rows naming an unknown student or check,
        points out of range or not a number, duplicates: every problem with its line.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--manual: no such file {path}")
    if path.stat().st_size > MAX_BYTES:
        raise ManualError(f"--manual: {path} is larger than {MAX_BYTES:,} bytes: not a manual CSV")
    text = _decode(path.read_bytes(), str(path))
    if not text.strip():
        raise ManualError(f"--manual: {path} is empty (write one with workshop-grade review)")
    delim = _delimiter(text.splitlines()[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    header = [h.strip().lower() for h in next(reader)]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ManualError(f"--manual: {path} has no column {', '.join(missing)} (its header: "
                          f"{', '.join(header[:10]) or 'empty'}); the columns are {', '.join(REQUIRED + OPTIONAL)}")
    dup_cols = sorted({h for h in header if h and header.count(h) > 1})
    if dup_cols:
        raise ManualError(f"--manual: {path} has the column(s) {', '.join(dup_cols)} twice")
    return _rows(path, reader, header, day, {str(s) for s in students}, decimal_comma=delim == ";")


def _rows(path: Path, reader: Any, header: list[str], day: int, known: set[str],
          decimal_comma: bool) -> dict[tuple[str, str], ManualScore]:
    """Check every row of the CSV (see :func:`read_manual`); all problems are raised together."""
    questions = {q.answer: q for q in written_questions(day)}
    alias = {q.check: q.answer for q in questions.values()}  # the check's own name ("answer_p1 written") too
    out: dict[tuple[str, str], ManualScore] = {}
    seen: dict[tuple[str, str], int] = {}
    problems: list[str] = []
    for row in reader:
        line = reader.line_num
        if not any(c.strip() for c in row):
            continue
        cell = {h: (row[i] if i < len(row) else "") for i, h in enumerate(header)}
        student, check = csv_raw(cell["student"].strip()), cell["check"].strip()
        check = alias.get(check, check)
        if student not in known and unicodedata.normalize("NFC", student) in known:
            student = unicodedata.normalize("NFC", student)  # typed on a system that writes accents apart (NFD)
        where = f"line {line}"
        if student not in known:
            problems.append(f"{where}: unknown student {student[:80]!r} (not in the graded class)")
        if check not in questions:
            problems.append(f"{where}: unknown check {check[:80]!r} (the written questions of day {day}: "
                            f"{', '.join(questions) or 'none'})")
        key = (student, check)
        if key in seen:
            problems.append(f"{where}: a second row for {student[:80]!r} {check[:80]!r} (the first is line "
                            f"{seen[key]}); keep one")
            continue
        seen[key] = line
        raw = cell["points"].strip()
        if not raw and cell.get("comment", "").strip():
            problems.append(f"{where}: a comment for {student[:80]!r} {check[:80]!r} without points: give the points "
                            "too (the comment would be lost)")
            continue
        if not raw:
            continue  # not scored by hand: the first pass stays
        try:
            pts = parse_points(raw, decimal_comma)
        except ValueError as err:
            problems.append(f"{where}: {err}")
            continue
        q = questions.get(check)
        if q is not None and not 0 <= pts <= q.points:
            problems.append(f"{where}: points of {check} must be between 0 and {q.points:g}, got {raw!r}")
            continue
        out[key] = ManualScore(student, check, pts, csv_raw(cell.get("comment", "").strip())[:MAX_COMMENT],
                               cell.get("answer_id", "").strip().lower())
    if problems:
        more = f" (and {len(problems) - MAX_PROBLEMS} more)" if len(problems) > MAX_PROBLEMS else ""
        raise ManualError(f"--manual: {path}: {len(problems)} problem(s){more}, nothing was applied:\n  "
                          + "\n  ".join(problems[:MAX_PROBLEMS]))
    return out


# ------------------------------------------------------------------ applying the scores
def apply_scores(day: int, results: dict | str, scores: dict[str, ManualScore],
                 answers: dict[str, str]) -> tuple[dict | str, str]:
    """The check results of one submission with its hand scores in place of the first pass.

    Parameters
    ----------
    day : int
        The homework day.
    results : dict or str
        ``{practice: {"results": [...], "unexported": ...}}`` as the checks return them, or
        why they did not run.
    scores : dict
        ``{check: ManualScore}`` of this student.
    answers : dict
        ``{check: answer_digest(answer)}`` of the answers as they are now (a score whose
        ``answer_id`` differs is not applied: the answer changed since it was read).

    Returns
    -------
    (results, note)
        New results (the input is not changed): each scored check has ``earned`` = the hand
        points, ``manual`` = True, ``first_pass`` (the points it had) and
        ``first_pass_message``; ``note`` is the row's ``manual`` column.
    """
    if not scores:
        return results, ""
    questions = {q.answer: q for q in written_questions(day)}
    if not isinstance(results, dict):
        return results, f"hand scores of {', '.join(sorted(scores))} not applied: the checks did not run"
    new = {k: {**v, "results": [dict(r) for r in v.get("results") or []]} for k, v in results.items()}
    by_number = {int(k): v for k, v in new.items()}
    notes = []
    for check, s in sorted(scores.items()):
        q = questions.get(check)
        found = [r for r in (by_number.get(q.practice) or {}).get("results", []) if r.get("name") == q.check] if q \
            else []
        if not found:
            notes.append(f"{check}: hand score not applied (no such check in the results)")
            continue
        if s.answer_id and s.answer_id != answers.get(check, ""):
            notes.append(f"p{q.practice} {check}: hand score {s.points:g} not applied: the answer changed since it "
                         "was read (review it again)")
            continue
        r = found[0]
        r.update(first_pass=r["earned"], first_pass_message=r.get("message", ""), earned=s.points,
                 passed=s.points >= r["points"], manual=True, comment=s.comment,
                 message=f"scored by the instructor: {s.points:g} / {r['points']:g}"
                         + (f": {s.comment}" if s.comment else ""))
        notes.append(f"p{q.practice} {check}: {s.points:g} by hand (first pass {r['first_pass']:g})")
    return new, "; ".join(notes)


def export_answers(day: int, export_dir: str | os.PathLike, checks: Iterable[str] = ()) -> dict[str, Any]:
    """``{check: the answer text, or None}`` of the written questions read back from an export folder.

    ``checks`` limits the questions read (default: all of them).
    """
    from .export import load_practice

    want = set(checks)
    qs = [q for q in written_questions(day) if not want or q.answer in want]
    out: dict[str, Any] = {}
    for number in sorted({q.practice for q in qs}):
        p = next(p for p in PRACTICES[day] if p.number == number)
        values = load_practice(p, export_dir)
        for q in qs:
            if q.practice == number:
                v = values.get(q.answer)
                out[q.answer] = v if isinstance(v, str) else None
    return out


class ManualBook:
    """The hand scores of a class, applied to each submission as it is scored (grader and regrade).

    Parameters
    ----------
    day : int
        The homework day.
    scores : dict
        ``{(student, check): ManualScore}``.
    """

    def __init__(self, day: int, scores: dict[tuple[str, str], ManualScore]):
        self.day = day
        self.by_student: dict[str, dict[str, ManualScore]] = {}
        for (student, check), s in scores.items():
            self.by_student.setdefault(student, {})[check] = s

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_student.values())

    def apply(self, student: str, export_dir: str | os.PathLike, results: dict | str) -> tuple[dict | str, str]:
        """:func:`apply_scores` for ``student``, with the answers read from its export folder."""
        scores = self.by_student.get(student) or {}
        if not scores:
            return results, ""
        return apply_scores(self.day, results, scores, {k: answer_digest(v) for k, v in
                                                        export_answers(self.day, export_dir, scores).items()})


def open_manual(paths: Any, day: int, students: Iterable[str], store: Any = None) -> ManualBook | None:
    """The hand scores to apply: those kept in ``store``, updated by the CSV(s) ``paths``; None when there are none.

    ``paths`` is one CSV, a list of them (e.g. one per question, exported by the review
    pages) or None.  Every CSV is checked in full before anything changes
    (:func:`read_manual`; two files scoring the same answer are refused); with a store, the
    scores are then kept there (a row of a CSV replaces the stored score of the same
    student and check; the others stay).

    Raises
    ------
    ManualError, FileNotFoundError
        As :func:`read_manual`.
    """
    if paths is None:
        paths = []
    elif isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    known = set(students) | (set(store.students()) if store is not None else set())
    new: dict[tuple[str, str], ManualScore] = {}
    origin: dict[tuple[str, str], Any] = {}
    for path in paths:
        got = read_manual(path, day, known)
        both = sorted(set(got) & set(new))
        if both:
            raise ManualError(f"--manual: {path} and {origin[both[0]]} both score {len(both)} answer(s), e.g. "
                              f"{both[0][0]!r} {both[0][1]!r}: keep one score per answer")
        new.update(got)
        origin.update(dict.fromkeys(got, path))
    scores = dict(store.manual_scores()) if store is not None else {}
    scores.update(new)
    if store is not None and new:
        store.save_manual(scores)
    return ManualBook(day, scores) if scores else None
