"""Gradebook files a course website imports (``--format canvas`` / ``--format moodle``).

Both are written from the grades CSV(s) of a run with ``--roster`` (one row per enrolled
student, ``roster_id`` filled) and the roster itself: one row per enrolled student, one
column per graded day, the score after any late penalty (``total``).  Submissions that match
nobody on the roster cannot be imported anywhere; they stay in the grades CSV (empty
``roster_id``) and the grader lists them.

Canvas (what Canvas's own export writes and its import reads back):
  the header ``Student, ID, SIS User ID, SIS Login ID, Section``, then one ``Title (assignment
  id)`` column per assignment; the second row starts with ``"    Points Possible"`` and gives
  each assignment's points.  Sources: Canvas's exporter, instructure/canvas-lms
  ``lib/gradebook_exporter.rb`` (header, ``title_with_id``, the ``"    Points Possible"`` row);
  its importer finds the header by ``Student``/``ID``/``SIS User ID``/``SIS Login ID``/``Section``
  and the points row by ``Points Possible``; a column without ``(id)`` creates a new assignment
  (Ohio State's CarmenCanvas guide "Import a CSV file to Carmen Grades": the student is found by
  name, ``ID`` or ``SIS User ID``, plus ``SIS Login ID``, ``Section`` and the assignment columns).
  Canvas's CSV rules (developerdocs.instructure.com "SIS CSV Format"): UTF-8, a field with a comma
  or a double quote is quoted, a double quote doubled (RFC 4180), which :mod:`csv` writes.
  The day's column is taken from the roster when it names the day (``Day 1 homework (123)``);
  otherwise (or with a plain roster) it is a new column ``Day N homework``.  When the roster's
  Points Possible for that column differs from the grader's points, the scores are scaled to
  Canvas's points (Canvas reads a score against its own points possible) and the grader says so.  With a plain roster
  the roster's ``id`` goes to ``SIS User ID`` and its e-mail to ``SIS Login ID``.

Moodle (docs.moodle.org "Grade import", CSV import): a header row and one row per user; at import
the instructor maps a user column ("Map from": *Email address* to ``useremail``, or *ID number* to
``useridnumber``) and each grade column to a grade item.  The columns are those of Moodle's own
plain-text export (``First name, Last name, ID number, Email address``, then one per grade item),
so "the import file format is the same as the corresponding export format"; UTF-8 is chosen on
the import page.  Moodle matches e-mails case-sensitively: they are written as the roster has them.
"""
from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

from .._atomic import atomic_write_bytes
from .csvlog import csv_safe
from .roster import Assignment, Roster

__all__ = ["FORMATS", "MAX_GRADES_BYTES", "MOODLE_COLUMNS", "POINTS_POSSIBLE", "day_assignment", "gradebook_text",
           "main", "read_scores", "write_gradebook"]

FORMATS = ("canvas", "moodle")
#: The first cell of Canvas's points-possible row (four spaces, as Canvas writes it).
POINTS_POSSIBLE = "    Points Possible"
#: The leading columns of Moodle's plain-text grade export, read back by its CSV import.
MOODLE_COLUMNS = ["First name", "Last name", "ID number", "Email address"]
#: Largest grades CSV read.
MAX_GRADES_BYTES = 50 * 2 ** 20


def day_assignment(roster: Roster, day: int, column: str | None = None) -> Assignment:
    """The gradebook column of day ``day``: ``column`` if given (``'Title (id)'`` or a title), the roster's one
    assignment whose title names the day, else a new ``Day N homework`` column."""
    if column:
        m = re.match(r"^(?P<title>.*\S)\s*\((?P<id>\d+)\)$", column.strip())
        if m:
            return Assignment(m.group("title"), m.group("id"))
        same = [a for a in roster.assignments if a.title == column.strip()]
        return same[0] if len(same) == 1 else Assignment(column.strip(), "")
    pat = re.compile(rf"\bday[\s_-]*0*{day}(?!\d)", re.IGNORECASE)
    hits = [a for a in roster.assignments if pat.search(a.title)]
    return hits[0] if len(hits) == 1 else Assignment(f"Day {day} homework", "")


def read_scores(path: str | os.PathLike) -> tuple[int, dict[str, str], str]:
    """The day, ``{roster id: total}`` and the points possible of a grades CSV graded with ``--roster``.

    Raises
    ------
    FileNotFoundError, ValueError
        No such file; no ``roster_id`` column (graded without ``--roster``), no ``day``, or two days.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"gradebook: no such grades CSV {p}")
    if p.stat().st_size > MAX_GRADES_BYTES:
        raise ValueError(f"gradebook: {p} is larger than {MAX_GRADES_BYTES:,} bytes")
    reader = csv.DictReader(io.StringIO(p.read_bytes().decode("utf-8", "replace")))
    if "roster_id" not in (reader.fieldnames or []) or "day" not in (reader.fieldnames or []):
        raise ValueError(f"gradebook: {p} has no roster_id column: grade with --roster to write a gradebook")
    rows = list(reader)
    days = {r["day"] for r in rows if r.get("day")}
    if len(days) != 1:
        raise ValueError(f"gradebook: {p} holds rows of {len(days)} days ({', '.join(sorted(days))}); expected one")
    scores, maxes = {}, []
    for r in rows:
        rid = r.get("roster_id", "")
        if rid:
            scores[rid] = r.get("total", "")
        if r.get("max"):
            maxes.append(r["max"])
    most = max(set(maxes), key=maxes.count) if maxes else ""
    return int(days.pop()), scores, most


def _number(text: str) -> str:
    try:
        return f"{round(float(text), 2):g}"
    except (TypeError, ValueError):
        return ""


def _first_last(name: str) -> tuple[str, str]:
    last, sep, first = name.partition(",")
    if sep:
        return first.strip(), last.strip()
    parts = name.split()
    return " ".join(parts[:-1]), (parts[-1] if parts else "")


def gradebook_text(fmt: str, roster: Roster, days: list[tuple[Assignment, dict[str, str], str]]) -> str:
    """The gradebook CSV text of ``fmt`` (``'canvas'`` or ``'moodle'``) for ``days`` = ``[(column, scores, points)]``."""
    buf = io.StringIO()
    w = csv.writer(buf)  # RFC 4180: CRLF rows, quotes where needed, "" inside quotes
    titles = [a.column if a.id else a.title for a, _, _ in days]
    if fmt == "canvas":
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *titles])
        w.writerow([POINTS_POSSIBLE, "", "", "", "", *(_number(pts) for _, _, pts in days)])
        for s in roster.students:
            ident = ([s.id, s.sis_user_id, s.sis_login_id] if roster.kind == "canvas" else ["", s.id, s.email])
            w.writerow([csv_safe(s.name), *map(csv_safe, ident), csv_safe(s.section),
                        *(_number(sc.get(s.id, "")) for _, sc, _ in days)])
    elif fmt == "moodle":
        w.writerow([*MOODLE_COLUMNS, *titles])
        for s in roster.students:
            first, last = _first_last(s.name)
            idnum = s.sis_user_id or s.id
            w.writerow([*map(csv_safe, (first, last, idnum, s.email)), *(_number(sc.get(s.id, "")) for _, sc, _ in days)])
    else:
        raise ValueError(f"gradebook: format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return buf.getvalue()


def write_gradebook(path: str | os.PathLike, fmt: str, roster: Roster, grades: list[str | os.PathLike],
                    columns: dict[int, str] | None = None) -> dict:
    """Write the ``fmt`` gradebook of ``grades`` (grades CSVs, one per day) for ``roster`` to ``path`` (atomically).

    Parameters
    ----------
    path : path
        The gradebook file to write.
    fmt : str
        ``'canvas'`` or ``'moodle'``.
    roster : Roster
        The class list the grades were graded with.
    grades : list of path
        Grades CSVs of ``workshop-grade --roster`` (one per day).
    columns : dict, optional
        ``{day: column}`` to name a day's column (see :func:`day_assignment`).

    Returns
    -------
    dict
        ``columns`` (the header of each day), ``without_row`` (enrolled students without a row in a day's CSV),
        ``scaled`` (Canvas columns whose scores were scaled: the roster's Points Possible differs from the
        grader's points, and Canvas reads a score against its own).
    """
    if fmt not in FORMATS:
        raise ValueError(f"gradebook: format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    days, seen, without, scaled = [], set(), {}, {}
    for g in grades:
        day, scores, points = read_scores(g)
        if day in seen:
            raise ValueError(f"gradebook: two grades CSVs of day {day}; give one per day")
        seen.add(day)
        a = day_assignment(roster, day, (columns or {}).get(day))
        factor = _scale(a.points, points) if fmt == "canvas" else None
        if factor is not None:  # Canvas's assignment is worth other points: scores scaled to them
            scaled[a.column] = f"scaled from {points} to {a.points} points (the roster's Points Possible)"
            scores = {k: (_number(str(float(v) * factor)) if _number(v) else v) for k, v in scores.items()}
            points = a.points
        days.append((a, scores, points or a.points))
        without[day] = [s.id for s in roster.students if s.id not in scores]
    days.sort(key=lambda d: d[0].title)
    atomic_write_bytes(Path(path), gradebook_text(fmt, roster, days).encode("utf-8"))
    return {"columns": [a.column if a.id else a.title for a, _, _ in days], "without_row": without, "scaled": scaled}


def _scale(canvas_points: str, points: str) -> float | None:
    """The factor from the grader's points to a Canvas assignment's points possible (None: the same, or unknown)."""
    try:
        ours, theirs = float(points), float(canvas_points)
    except (TypeError, ValueError):
        return None
    return theirs / ours if ours > 0 and theirs > 0 and abs(theirs - ours) > 1e-9 else None


def main(argv: list[str] | None = None) -> int:
    """``workshop-grade gradebook --roster R --format canvas --out FILE GRADES.csv ...``: one gradebook of several days.

    Returns the exit code: 0, or 2 with the error on stderr.
    """
    import argparse
    import sys

    from .roster import read_roster

    ap = argparse.ArgumentParser(prog="workshop-grade gradebook",
                                 description="write one gradebook file (a column per day) from grades CSVs graded "
                                             "with --roster")
    ap.add_argument("grades", nargs="+", help="grades CSVs of workshop-grade --roster, one per day")
    ap.add_argument("--roster", required=True, help="the class list the grades were graded with")
    ap.add_argument("--format", required=True, choices=FORMATS)
    ap.add_argument("--out", required=True, help="the gradebook file to write")
    args = ap.parse_args(argv)
    try:
        got = write_gradebook(args.out, args.format, read_roster(args.roster), args.grades)
    except (OSError, ValueError) as err:
        print(f"workshop-grade gradebook: error: {err}", file=sys.stderr)
        return 2
    for col, how in got["scaled"].items():
        print(f"workshop-grade gradebook: {col}: {how}", file=sys.stderr)
    for day, ids in got["without_row"].items():
        if ids:
            print(f"workshop-grade gradebook: day {day}: no row for {len(ids)} enrolled student(s) (left empty): "
                  + ", ".join(ids[:20]), file=sys.stderr)
    print(f"workshop-grade gradebook: wrote {args.out} ({', '.join(got['columns'])})", file=sys.stderr)
    return 0
