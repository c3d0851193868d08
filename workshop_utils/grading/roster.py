"""The class list (``workshop-grade --roster``): who is enrolled, and which submission is whose.

Two roster forms are read (:func:`read_roster`), UTF-8 (a byte-order mark is fine):

* **a Canvas gradebook export**: the leading columns ``Student, ID, SIS User ID, SIS Login ID,
  Section`` (``SIS User ID`` is absent from some exports; ``LastName, FirstName`` may replace
  ``Student``), then one ``Title (assignment id)`` column per assignment, and Canvas's
  ``Points Possible`` row (and a ``Manual Posting`` row) under the header.  Canvas's test
  student (``Student, Test``) is left out;
* **a plain CSV** with the columns ``id, name, email`` (any order, more columns allowed).

A roster with a duplicate id (or e-mail), a missing column or a row without an id is refused
with the file, the line and the column named; nothing is graded before it is right.

Every submission is matched to one enrolled student (:func:`match_submissions`), by the
first key that names exactly one student: the Canvas user id of a download name, the
submission's id against the roster's ``ID`` / ``id``, ``SIS User ID``, ``SIS Login ID``, the
e-mail and the e-mail's local part, and last the name (letters only, case and accents ignored,
either order: Canvas's ``lastfirst``).  A student with several submissions gets the latest
graded (the others are listed); a submission that matches nobody is graded and listed, never
dropped; an enrolled student without a submission gets a ``no submission`` row with 0 points.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
import unicodedata
from pathlib import Path

#: Columns the grades CSV gains with ``--roster`` (after ``student``).
ROSTER_COLUMNS = ["roster_id", "roster_name", "roster_match"]
#: Canvas's leading gradebook columns, in its order (``SIS User ID`` optional).
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
#: Columns of a plain roster.
PLAIN_COLUMNS = ["id", "name", "email"]
#: Largest roster file read.
MAX_ROSTER_BYTES = 20 * 2 ** 20
_ASSIGNMENT = re.compile(r"^(?P<title>.*\S)\s*\((?P<id>\d+)\)$")
_CANVAS_EXTRA = {"Integration ID", "Root Account"}


@dataclasses.dataclass(frozen=True)
class Student:
    """One enrolled student (empty strings for what the roster does not give)."""

    id: str
    name: str
    email: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    line: int = 0


@dataclasses.dataclass(frozen=True)
class Assignment:
    """A Canvas gradebook column: ``title``, Canvas's ``id`` and its points possible (empty when not given)."""

    title: str
    id: str
    points: str = ""

    @property
    def column(self) -> str:
        """The column header Canvas writes and reads back: ``Title (id)``."""
        return f"{self.title} ({self.id})"


@dataclasses.dataclass
class Roster:
    """A class list: ``kind`` (``'canvas'`` or ``'plain'``), its students and (Canvas) assignment columns."""

    kind: str
    students: list[Student]
    assignments: list[Assignment]
    path: Path

    def by_id(self) -> dict[str, Student]:
        """``{student id: Student}``."""
        return {s.id: s for s in self.students}


def _clean(cell: str | None) -> str:
    return unicodedata.normalize("NFC", (cell or "").strip())


def read_text_file(path: str | Path, option: str, max_bytes: int) -> str:
    """The text of an instructor's file given as ``option`` (``'--roster'``, ``'--times'``), read once.

    At most ``max_bytes`` are read (a larger file is refused, whatever it grows to while read);
    UTF-8 with or without Excel's byte-order mark.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Larger than ``max_bytes``, or not UTF-8 (the message says how to save it).
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{option}: no such file {p}")
    with open(p, "rb") as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"{option}: {p} is larger than {max_bytes:,} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{option}: {p} is not UTF-8 text; save it as 'CSV UTF-8' and try again") from None


def _read_rows(path: Path) -> list[list[str]]:
    text = read_text_file(path, "--roster", MAX_ROSTER_BYTES)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as err:
        raise ValueError(f"--roster: {path} is not a readable CSV ({err})") from None
    if not rows or not any(c.strip() for c in rows[0]):
        raise ValueError(f"--roster: {path} is empty or has no header row")
    return rows


def _canvas_students(path: Path, header: list[str], rows: list[list[str]]) -> tuple[list[Student], list]:
    col = {h: i for i, h in enumerate(header)}
    named = "Student" in col or {"LastName", "FirstName"} <= set(col)
    missing = [c for c in ("ID", "SIS Login ID", "Section") if c not in col] + ([] if named else ["Student"])
    if missing:
        raise ValueError(f"--roster: {path} looks like a Canvas gradebook export but has no column "
                         f"{', '.join(missing)} (its header: {', '.join(header[:8])}); export the gradebook again")
    lead = max(col[c] for c in col if c in CANVAS_COLUMNS or c in _CANVAS_EXTRA or c in ("LastName", "FirstName"))
    points = {}
    students = []
    for n, r in enumerate(rows, start=2):
        r = r + [""] * (len(header) - len(r))
        first = _clean(r[0])
        if first == "Points Possible":
            points = {i: _clean(r[i]) for i in range(lead + 1, len(header))}
            continue
        if not any(c.strip() for c in r) or (not _clean(r[col["ID"]]) and not first):  # blank or Manual Posting
            continue
        name = first if "Student" in col else f"{_clean(r[col['LastName']])}, {_clean(r[col['FirstName']])}"
        if name == "Student, Test":  # Canvas's test student
            continue
        login = _clean(r[col["SIS Login ID"]])
        students.append(Student(id=_clean(r[col["ID"]]), name=name, email=login if "@" in login else "",
                                sis_user_id=_clean(r[col["SIS User ID"]]) if "SIS User ID" in col else "",
                                sis_login_id=login, section=_clean(r[col["Section"]]), line=n))
    assignments = []
    for i in range(lead + 1, len(header)):
        m = _ASSIGNMENT.match(_clean(header[i]))
        if m:
            assignments.append(Assignment(m.group("title"), m.group("id"), points.get(i, "")))
    return students, assignments


def _plain_students(path: Path, header: list[str], rows: list[list[str]]) -> list[Student]:
    col = {h.strip().lower(): i for i, h in enumerate(header)}
    missing = [c for c in PLAIN_COLUMNS if c not in col]
    if missing:
        raise ValueError(f"--roster: {path} has no column {', '.join(missing)}: a roster is a Canvas gradebook "
                         f"export or a CSV with the columns id, name, email (its header: {', '.join(header[:8])})")
    out = []
    for n, r in enumerate(rows, start=2):
        if not any(c.strip() for c in r):
            continue
        r = r + [""] * (len(header) - len(r))
        out.append(Student(id=_clean(r[col["id"]]), name=_clean(r[col["name"]]), email=_clean(r[col["email"]]),
                           line=n))
    return out


def read_roster(path: str | os.PathLike) -> Roster:
    """The :class:`Roster` of a Canvas gradebook export or an ``id,name,email`` CSV.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Not UTF-8, not a CSV, a missing column, a row without an id, a duplicate id or e-mail,
        or no student at all (the file, column and lines are named).
    """
    path = Path(path)
    rows = _read_rows(path)
    header = [_clean(h) for h in rows[0]]
    if header[:2] in (["Student", "ID"], ["LastName", "FirstName"]) or ("ID" in header and "Section" in header):
        kind = "canvas"
        students, assignments = _canvas_students(path, header, rows[1:])
    else:
        kind, assignments = "plain", []
        students = _plain_students(path, header, rows[1:])
    idcol = "ID" if kind == "canvas" else "id"
    empty = [s.line for s in students if not s.id]
    if empty:
        raise ValueError(f"--roster: {path}: no {idcol} on line(s) {', '.join(map(str, empty[:10]))}: every "
                         "enrolled student needs one")
    for what, get in ((idcol, lambda s: s.id), ("email", lambda s: s.email.casefold())):
        seen: dict[str, list[int]] = {}
        for s in students:
            if get(s):
                seen.setdefault(get(s), []).append(s.line)
        dup = {k: v for k, v in seen.items() if len(v) > 1}
        if dup:
            raise ValueError(f"--roster: {path}: duplicate {what} "
                             + "; ".join(f"{k!r} on lines {', '.join(map(str, v))}" for k, v in list(dup.items())[:5])
                             + ": each student must appear once")
    if not students:
        raise ValueError(f"--roster: {path} lists no student")
    return Roster(kind, students, assignments, path)


def squash(name: str) -> str:
    """A name as letters and digits only, case and accents ignored (``'Müller, Zoë'`` -> ``'mullerzoe'``)."""
    s = unicodedata.normalize("NFKD", name).casefold()
    return "".join(ch for ch in s if ch.isalnum() and not unicodedata.combining(ch))


def _name_keys(s: Student) -> set[str]:
    last, sep, first = s.name.partition(",")
    if not sep:  # "First Middle Last"
        parts = s.name.split()
        first, last = " ".join(parts[:-1]), parts[-1] if parts else ""
    return {k for k in (squash(last + first), squash(first + last)) if k}


@dataclasses.dataclass
class Matching:
    """Which submission is whose.

    Attributes
    ----------
    graded : dict
        ``{submission id: (Student, how it matched)}`` for the submissions to grade as enrolled students'.
    unmatched : list
        Submission ids that match nobody (graded, and listed).
    extra : dict
        ``{submission id kept: [other submission ids of the same student]}`` (not graded: the latest counts).
    missing : list
        Enrolled students without a submission.
    """

    graded: dict
    unmatched: list
    extra: dict
    missing: list


def _keys(roster: Roster) -> list[tuple[str, dict[str, list[Student]]]]:
    tables: list[tuple[str, dict[str, list[Student]]]] = []
    getters = [("roster id", lambda s: {s.id}), ("SIS User ID", lambda s: {s.sis_user_id}),
               ("SIS Login ID", lambda s: {s.sis_login_id.casefold()}), ("e-mail", lambda s: {s.email.casefold()}),
               ("e-mail's user name", lambda s: {s.email.split("@")[0].casefold()}), ("name", _name_keys)]
    for how, get in getters:
        table: dict[str, list[Student]] = {}
        for s in roster.students:
            for k in get(s) - {""}:
                table.setdefault(k, []).append(s)
        tables.append((how, table))
    return tables


def match_submissions(roster: Roster, ids: list[str], canvas_users: dict[str, tuple[str, str]],
                      times: dict[str, float] | None = None) -> Matching:
    """Match each submission id to one enrolled student (see the module's rules).

    Parameters
    ----------
    roster : Roster
        The class list.
    ids : list of str
        Submission ids (:func:`~workshop_utils.grading.submissions.scan_submissions`).
    canvas_users : dict
        ``{submission id: (Canvas user id, name part)}`` for Canvas download names (the user id is
        tried first, against ``ID``; the name part instead of the id for the other keys).
    times : dict, optional
        ``{submission id: modification time}``: of several submissions of one student the latest
        is graded (ties: the last id).
    """
    tables = _keys(roster)
    found: dict[str, tuple[Student, str]] = {}
    unmatched = []
    for sid in ids:
        hit = None
        user, stem = canvas_users.get(sid, (None, sid.split("/", 1)[0]))  # a student's folder: its name
        if user is not None and len(tables[0][1].get(user, [])) == 1:
            hit = (tables[0][1][user][0], f"Canvas user id {user}")
        for how, table in tables if hit is None else ():
            for key in (stem, stem.casefold(), squash(stem)):
                if len(table.get(key, [])) == 1:
                    hit = (table[key][0], f"{how} {key!r}")
                    break
            if hit:
                break
        if hit:
            found[sid] = hit
        else:
            unmatched.append(sid)
    per: dict[str, list[str]] = {}
    for sid, (st, _) in found.items():
        per.setdefault(st.id, []).append(sid)
    extra, graded = {}, {}
    for sids in per.values():
        sids.sort(key=lambda s: ((times or {}).get(s, 0.0), s))
        graded[sids[-1]] = found[sids[-1]]
        if len(sids) > 1:
            extra[sids[-1]] = sids[:-1]
    missing = [s for s in roster.students if s.id not in per]
    return Matching(graded, unmatched, extra, missing)
