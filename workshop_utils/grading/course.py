"""The course website's side of a grading run: roster, late work and gradebooks, planned before anything runs.

:func:`plan_course` reads and checks ``--roster``, ``--deadline``, ``--late-policy`` and
``--times`` (a bad value fails here, before any submission runs), matches the scanned
submissions to the roster (:mod:`~workshop_utils.grading.roster`) and times each one
(:mod:`~workshop_utils.grading.late`).  The grader then calls :meth:`CoursePlan.apply` on every
row, writes :meth:`CoursePlan.missing_rows` (enrolled students without a submission: 0 points,
status ``no submission``) after the graded ones, and the gradebooks
(:mod:`~workshop_utils.grading.gradebook`).  Every enrolled student gets exactly one row; a
submission that matches nobody keeps its row with an empty ``roster_id`` and is listed.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

from .gradebook import FORMATS, write_gradebook
from .late import LatePolicy, Lateness, all_late_warning, apply_lateness, assess, parse_late_policy, parse_time, read_times
from .roster import Roster, Student, match_submissions, read_roster

__all__ = ["COURSE_OPTIONS", "CoursePlan", "finish_course", "plan_course", "plan_options"]


@dataclasses.dataclass
class CoursePlan:
    """What the roster and the deadline say about each submission (see :func:`plan_course`).

    Attributes
    ----------
    roster : Roster or None
        The class list.
    deadline : datetime or None
        The aware deadline.
    cells : dict
        ``{submission id: {roster_id, roster_name, roster_match}}``.
    late : dict
        ``{submission id: Lateness}``.
    drop : dict
        ``{submission id: why it is not graded}`` (an older submission of a student whose latest is graded).
    missing : list
        Enrolled students without a submission.
    unmatched : list
        Submission ids that match nobody on the roster (graded; empty ``roster_id``).
    warnings : list
        Loud warnings for the instructor (every submission late...).
    gradebook_column : str or None
        The gradebook column of the graded day (``--gradebook-column``; None: from the roster).
    """

    roster: Roster | None = None
    deadline: dt.datetime | None = None
    cells: dict = dataclasses.field(default_factory=dict)
    late: dict = dataclasses.field(default_factory=dict)
    drop: dict = dataclasses.field(default_factory=dict)
    missing: list = dataclasses.field(default_factory=list)
    unmatched: list = dataclasses.field(default_factory=list)
    warnings: list = dataclasses.field(default_factory=list)
    gradebook_column: str | None = None

    def apply(self, sid: str, row: dict) -> dict:
        """Add the roster cells and apply the late penalty (``raw_total`` kept) to the row of ``sid``."""
        if self.roster is not None:
            row.update(self.cells.get(sid, {"roster_id": "", "roster_name": "",
                                            "roster_match": "matches nobody on the roster"}))
        if self.deadline is not None:
            late = self.late.get(sid) or Lateness(None, "no time known: not penalised", None, 0.0)
            apply_lateness(row, late)
        return row

    def missing_rows(self, practices: list[int], max_points: str, done: set[str]) -> list[dict]:
        """One ``no submission`` row (0 points) per enrolled student without a submission and not in ``done``."""
        rows = []
        for s in self.missing:
            if s.id in done:
                continue
            row = {"student": "", "roster_id": s.id, "roster_name": s.name, "roster_match": "no submission",
                   **{f"p{n}": "0" for n in practices}, "total": "0", "max": max_points, "status": "no submission",
                   "reasons": "", "seconds": "", "peak_mb": "", "name_note": ""}
            if self.deadline is not None:
                row.update(raw_total="0", late_penalty="", late_by="", submitted_at="", time_source="no submission")
            rows.append(row)
        return rows

    def summary(self) -> list[str]:
        """Lines for the instructor: missing students, unmatched and older submissions, warnings."""
        out = list(self.warnings)
        if self.roster is not None:
            out.append(f"roster {self.roster.path.name}: {len(self.roster.students)} enrolled, "
                       f"{len(self.roster.students) - len(self.missing)} with a submission, "
                       f"{len(self.missing)} without (a 'no submission' row each)")
        if self.unmatched:
            out.append(f"{len(self.unmatched)} submission(s) match nobody on the roster (graded, roster_id empty): "
                       + ", ".join(self.unmatched[:30]))
        for sid, why in self.drop.items():
            out.append(f"not graded: {sid}: {why}")
        return out


def _check_options(roster: Any, deadline: Any, late_policy: Any, times: Any) -> None:
    if late_policy is not None and deadline is None:
        raise ValueError("--late-policy: needs --deadline (late after what?)")
    if times is not None and deadline is None:
        raise ValueError("--times: needs --deadline (the times say when work came in; late after what?)")


def plan_course(scan: Any, roster: str | os.PathLike | Roster | None = None, deadline: str | dt.datetime | None = None,
                late_policy: str | LatePolicy | None = None, times: str | os.PathLike | None = None) -> CoursePlan | None:
    """Check the course options and plan the roster and late work of a scanned folder (None without any).

    Parameters
    ----------
    scan : Scan
        :func:`~workshop_utils.grading.submissions.scan_submissions` of the submissions.
    roster : path or Roster, optional
        ``--roster``.
    deadline : str or datetime, optional
        ``--deadline``: ISO 8601 with a time zone.
    late_policy : str or LatePolicy, optional
        ``--late-policy`` (without it late work is marked, not penalised).
    times : path, optional
        ``--times``: the course website's submission times.

    Raises
    ------
    FileNotFoundError, ValueError
        A bad roster, deadline, policy or times file (named), or an option that needs another.
    """
    _check_options(roster, deadline, late_policy, times)
    if roster is None and deadline is None:
        return None
    plan = CoursePlan()
    ids = [*scan.found, *scan.refused]
    paths = {**scan.found, **{s: p for s, (p, _) in scan.refused.items()}}
    canvas = {sid: (cv.user_id, cv.name) for sid, cv in scan.canvas.items()}
    if roster is not None:
        plan.roster = roster if isinstance(roster, Roster) else read_roster(roster)
        mtimes = {}
        for sid, p in paths.items():
            try:
                mtimes[sid] = os.stat(p).st_mtime
            except OSError:
                mtimes[sid] = 0.0
        m = match_submissions(plan.roster, ids, canvas, mtimes)
        for sid, (st, how) in m.graded.items():
            also = m.extra.get(sid, [])
            note = f"; also submitted (not graded, the latest counts): {', '.join(also)}" if also else ""
            plan.cells[sid] = {"roster_id": st.id, "roster_name": st.name, "roster_match": how + note}
            for other in also:
                plan.drop[other] = f"another submission of {st.name} ({st.id}): the latest, {sid}, is graded"
        plan.missing, plan.unmatched = m.missing, m.unmatched
    if deadline is not None:
        plan.deadline = deadline if isinstance(deadline, dt.datetime) else parse_time(deadline, "--deadline")
        if plan.deadline.tzinfo is None:
            raise ValueError("--deadline: has no time zone, so it is ambiguous")
        policy = (late_policy if isinstance(late_policy, LatePolicy)
                  else parse_late_policy(late_policy) if late_policy is not None else LatePolicy())
        table = read_times(times) if times is not None else {}
        name = f"--times {Path(times).name}" if times is not None else "--times"
        for sid in ids:
            cv = scan.canvas.get(sid)
            keys = [cv.user_id if cv else "", plan.cells.get(sid, {}).get("roster_id", ""), sid]
            st: Student | None = plan.roster.by_id().get(keys[1]) if plan.roster is not None else None
            keys += [st.email, st.sis_user_id] if st is not None else []
            plan.late[sid] = assess(plan.deadline, policy, paths.get(sid), cv.late if cv else None, keys, table, name)
        warn = all_late_warning({s: x for s, x in plan.late.items() if s not in plan.drop}, plan.deadline)
        if warn:
            plan.warnings.append(warn)
        if plan.deadline > dt.datetime.now(dt.timezone.utc):
            plan.warnings.append(f"note: --deadline {plan.deadline.isoformat()} is in the future: nothing submitted "
                                 "so far is late")
    return plan


#: The course website's keyword arguments of :func:`grade_folder` (``--roster`` ... ``--gradebook-column``).
COURSE_OPTIONS = ("roster", "deadline", "late_policy", "times", "formats", "gradebook", "gradebook_column")


def plan_options(scan: Any, out: Path, course: dict) -> tuple[CoursePlan, dict[str, Path]]:
    """The checked :class:`CoursePlan` of ``grade_folder``'s course keywords (:data:`COURSE_OPTIONS`; an
    empty plan without any) and ``{format: gradebook path}`` (default: ``OUT_canvas.csv`` beside ``out``).

    Raises
    ------
    TypeError, ValueError, FileNotFoundError
        An unknown keyword, an unknown format, a gradebook without roster, or what :func:`plan_course` refuses.
    """
    unknown = sorted(set(course) - set(COURSE_OPTIONS))
    if unknown:
        raise TypeError(f"grade_folder: unexpected keyword argument(s) {', '.join(unknown)}")
    formats = list(dict.fromkeys(course.get("formats") or ()))
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ValueError(f"--format: must be one of {', '.join(FORMATS)}, got {', '.join(map(repr, bad))}")
    if formats and course.get("roster") is None:
        raise ValueError("--format: a gradebook lists the enrolled students: give the class list with --roster")
    if course.get("gradebook_column") is not None and not formats:
        raise ValueError("--gradebook-column: names a column of the --format gradebook; give --format too")
    if course.get("gradebook") is not None and len(formats) != 1:
        raise ValueError("--gradebook: names the file of one --format (give exactly one --format with it)")
    if course.get("gradebook") is not None and Path(course["gradebook"]).resolve() == out.resolve():
        raise ValueError(f"--gradebook: {out} is the grades CSV (--out); choose another file")
    plan = plan_course(scan, course.get("roster"), course.get("deadline"), course.get("late_policy"),
                       course.get("times")) or CoursePlan()
    plan.gradebook_column = course.get("gradebook_column")
    return plan, {f: Path(course["gradebook"]) if course.get("gradebook") is not None
                  else out.with_name(f"{out.stem}_{f}.csv") for f in formats}


def finish_course(plan: CoursePlan, books: dict[str, Path], day: int, points: dict[int, float], log: Any, out: Path,
                  verbose: bool) -> list[dict]:
    """After the graded rows: a ``no submission`` row per enrolled student without one (appended to ``log``, the
    grades CSV), the summary on stderr, and the gradebooks of ``books``; returns the rows appended."""
    rows = []
    if plan.roster is not None:
        for row in plan.missing_rows(sorted(points), f"{sum(points.values()):g}", log.roster_done):
            log.append(row)
            rows.append(row)
    for line in plan.summary():  # said whatever --quiet says, as skipped files are
        print(f"workshop-grade: {line}", file=sys.stderr)
    column = plan.gradebook_column
    for fmt, path in books.items():
        got = write_gradebook(path, fmt, plan.roster, [out], {day: column} if column else None)
        for col, how in got["scaled"].items():
            print(f"workshop-grade: {fmt} gradebook: {col}: {how}", file=sys.stderr)
        if verbose:
            print(f"workshop-grade: {fmt} gradebook in {path} (column {got['columns'][0]!r})", file=sys.stderr)
    return rows
