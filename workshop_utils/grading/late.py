"""Late work for ``workshop-grade``: ``--deadline``, ``--late-policy``, ``--times``, and the penalty of each row.

The deadline is ISO 8601 **with** a time zone (``2026-12-05T23:59+01:00``, ``...Z``); a value
without one is refused (which clock would it be?), as is anything unparseable.  A deadline in
the past is what grading normally sees; when *every* timed submission is later than it, the
grader warns loudly (a wrong year or time zone, or file times changed by a copy) and keeps the
raw scores beside the penalised ones, so nothing is lost.

The late policy (``--late-policy``) is a comma-separated list, in any order::

    10%/day              P percent of the raw score per *started* period late
                         (periods: min, h/hour, d/day, w/week)
    cap=50%              the penalty never exceeds this (default 100%)
    grace=15m            lateness up to this is forgiven (s, m/min, h, d); beyond it the
                         periods count from the deadline itself

Percentages are written with ``%`` (``10%``): a bare ``10`` or ``0.1`` is refused, so that a
fraction is never read as a percentage or the reverse.  Without ``--late-policy`` late work is
marked but not penalised (``0%/day``).

Where a submission's time comes from, in this order (:func:`assess`):

1. **the LATE tag** of a Canvas download name says *whether* it is late (Canvas applies each
   student's own due date); Canvas gives no time, so *how late* comes from 2. or 3.;
   a Canvas name without the tag is on time;
2. **the course website's timestamp** (``--times FILE``: a CSV with an id column and
   ``submitted_at``, or the JSON list of Canvas's submissions API, whose objects carry
   ``user_id`` and ``submitted_at``);
3. **the file's modification time** (a copy or an unzip may have changed it: the CSV says so).

A LATE-tagged file whose only time (its modification time) is not after the deadline is
charged one period (the least any late work costs); with a website timestamp the measured
lateness decides.  The CSV's ``time_source`` column names the source, ``late_penalty`` the
penalty, and ``raw_total`` keeps the score before it.
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import math
import os
import re
from pathlib import Path

from . import roster as _roster


#: Columns the grades CSV gains with ``--deadline`` (after ``total``, which is then the penalised score).
LATE_COLUMNS = ["raw_total", "late_penalty", "late_by", "submitted_at", "time_source"]
#: Largest ``--times`` file read.
MAX_TIMES_BYTES = 20 * 2 ** 20

_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400,
          "w": 604800, "week": 604800}
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)%$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([a-z]+)$")


@dataclasses.dataclass(frozen=True)
class LatePolicy:
    """A late policy: ``rate`` (fraction of the raw score) per started ``period``, at most ``cap``, after ``grace``.

    Parameters
    ----------
    rate : float
        Fraction of the raw score taken per started period late, in [0, 1].
    period : datetime.timedelta
        The period (a day, an hour...).
    cap : float
        Largest total penalty, a fraction in [0, 1].
    grace : datetime.timedelta
        Lateness up to this is not penalised.
    text : str
        The policy as written (for messages).
    """

    rate: float = 0.0
    period: dt.timedelta = dt.timedelta(days=1)
    cap: float = 1.0
    grace: dt.timedelta = dt.timedelta(0)
    text: str = "0%/day"

    def penalty(self, late_by: dt.timedelta) -> float:
        """The fraction of the raw score taken for being ``late_by`` late (0 when on time or within the grace)."""
        if late_by <= dt.timedelta(0) or late_by <= self.grace:
            return 0.0
        periods = math.ceil(late_by / self.period)
        return round(min(self.cap, self.rate * periods), 10)


def _percent(text: str, what: str) -> float:
    m = _PERCENT.match(text.strip())
    if not m:
        raise ValueError(f"--late-policy: {what} must be a percentage written with % (e.g. 10%), got {text!r}")
    v = float(m.group(1)) / 100
    if v > 1:
        raise ValueError(f"--late-policy: {what} must be at most 100%, got {text!r}")
    return v


def _duration(text: str, what: str) -> dt.timedelta:
    t = text.strip().lower()
    if t == "0":
        return dt.timedelta(0)
    m = _DURATION.match(t)
    if not m or m.group(2) not in _UNITS:
        raise ValueError(f"--late-policy: {what} must be a duration such as 15m, 2h or 1d "
                         f"(units: {', '.join(sorted(_UNITS))}), got {text!r}")
    return dt.timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


def parse_late_policy(text: str) -> LatePolicy:
    """The :class:`LatePolicy` of a ``--late-policy`` text such as ``'10%/day,cap=50%,grace=15m'``.

    Raises
    ------
    ValueError
        An unknown item, a percentage without ``%`` or above 100%, an unknown unit, an item given twice,
        or no rate; the message names the item and shows the grammar.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"--late-policy: expected e.g. '10%/day,cap=50%,grace=15m', got {text!r}")
    fields: dict[str, object] = {}
    for item in (i.strip() for i in text.split(",")):
        key, sep, value = item.partition("=")
        if sep and key.strip().lower() in ("cap", "grace"):
            key = key.strip().lower()
            val = _percent(value, "cap") if key == "cap" else _duration(value, "grace")
        elif "/" in item and not sep:
            key = "rate"
            pct, _, unit = item.partition("/")
            unit = unit.strip().lower()
            if unit not in _UNITS or _UNITS[unit] < 60:
                raise ValueError(f"--late-policy: the period of {item!r} must be min, h/hour, d/day or w/week")
            val = (_percent(pct, f"the rate of {item!r}"), dt.timedelta(seconds=_UNITS[unit]))
        else:
            raise ValueError(f"--late-policy: cannot read {item!r}; write e.g. '10%/day,cap=50%,grace=15m' "
                             "(P%/PERIOD, cap=P%, grace=DURATION)")
        if key in fields:
            raise ValueError(f"--late-policy: {key} is given twice in {text!r}")
        fields[key] = val
    if "rate" not in fields:
        raise ValueError(f"--late-policy: no rate in {text!r}; write e.g. '10%/day'")
    rate, period = fields.pop("rate")  # type: ignore[misc]
    return LatePolicy(rate=rate, period=period, cap=fields.get("cap", 1.0),  # type: ignore[arg-type]
                      grace=fields.get("grace", dt.timedelta(0)), text=text.strip())  # type: ignore[arg-type]


def parse_time(text: str, what: str = "--deadline") -> dt.datetime:
    """An ISO 8601 time with a time zone (``2026-12-05T23:59+01:00`` or ``...Z``), as an aware datetime.

    Raises
    ------
    ValueError
        Unparseable, or without a time zone (the message says how to write one).
    """
    s = str(text).strip()
    try:
        t = dt.datetime.fromisoformat(s.replace("z", "Z"))
    except ValueError:
        raise ValueError(f"{what}: {text!r} is not an ISO 8601 time; write e.g. 2026-12-05T23:59:00+01:00 "
                         "(or ...Z for UTC)") from None
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{what}: {text!r} has no time zone, so it is ambiguous; add one, e.g. "
                         f"{t.isoformat(timespec='minutes')}+01:00 or {t.isoformat(timespec='minutes')}Z")
    return t


def read_times(path: str | os.PathLike) -> dict[str, dt.datetime]:
    """``{id: submission time}`` from a course website's timestamps (``--times``).

    A CSV with ``submitted_at`` and an id column (``id``, ``user_id``, ``student``, ``ID`` or
    ``email``), or the JSON list that Canvas's "List assignment submissions" API returns
    (objects with ``user_id`` and ``submitted_at``; unsubmitted ones have ``null``).  Several
    times for one id keep the latest (the submission that is graded).

    Raises
    ------
    FileNotFoundError, ValueError
        No such file; not UTF-8, no id or ``submitted_at`` column, or a time that is not ISO 8601
        with a time zone (the line is named).
    """
    p = Path(path)
    text = _roster.read_text_file(p, "--times", MAX_TIMES_BYTES)
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except ValueError as err:
            raise ValueError(f"--times: {p} is not valid JSON ({err})") from None
        pairs = [(str(o.get("user_id", "")), o.get("submitted_at"), f"item {i + 1}")
                 for i, o in enumerate(items) if isinstance(o, dict)]
    else:
        reader = csv.DictReader(io.StringIO(text))
        cols = {c.strip().lower(): c for c in reader.fieldnames or []}
        key = next((cols[c] for c in ("id", "user_id", "student", "email") if c in cols), None)
        if key is None or "submitted_at" not in cols:
            raise ValueError(f"--times: {p} needs an id column (id, user_id, student or email) and submitted_at; "
                             f"it has {', '.join(reader.fieldnames or []) or 'no header'}")
        pairs = [(str(r.get(key) or ""), r.get(cols["submitted_at"]), f"line {i + 2}") for i, r in enumerate(reader)]
    out: dict[str, dt.datetime] = {}
    for sid, when, where in pairs:
        if not sid.strip() or not when:
            continue  # not submitted
        t = parse_time(when, f"--times {p.name} {where}")
        sid = sid.strip()
        out[sid] = max(t, out.get(sid, t))
    return out


@dataclasses.dataclass(frozen=True)
class Lateness:
    """When one submission came in, from which source, and its penalty (a fraction of the raw score)."""

    submitted_at: dt.datetime | None
    source: str
    late_by: dt.timedelta | None
    penalty: float

    def columns(self) -> dict[str, str]:
        """The CSV cells of :data:`LATE_COLUMNS` but ``raw_total``."""
        hours = "" if self.late_by is None else f"{self.late_by.total_seconds() / 3600:.2f} h"
        return {"late_penalty": f"{100 * self.penalty:g}%", "late_by": hours, "time_source": self.source,
                "submitted_at": "" if self.submitted_at is None else self.submitted_at.isoformat(timespec="seconds")}


def assess(deadline: dt.datetime, policy: LatePolicy, path: Path | None, late_tag: bool | None,
           keys: list[str], times: dict[str, dt.datetime], times_name: str = "--times") -> Lateness:
    """The lateness of one submission: the LATE tag, then the website's time, then the file's time.

    Parameters
    ----------
    deadline : datetime
        Aware deadline.
    policy : LatePolicy
        The penalty rule.
    path : Path or None
        The submitted file (its modification time is the last resort).
    late_tag : bool or None
        True/False for a Canvas download name with/without LATE; None for any other name.
    keys : list of str
        Ids to look up in ``times`` (Canvas user id, roster id, submission id), first found wins.
    times : dict
        ``{id: aware datetime}`` from :func:`read_times`.
    times_name : str
        How the CSV names the website's times (``'--times FILE'``).
    """
    when, source, exact = None, "no time known", False
    for k in keys:
        if k and k in times:
            when, source, exact = times[k], times_name, True
            break
    if when is None and path is not None:
        try:
            when = dt.datetime.fromtimestamp(os.stat(path).st_mtime, tz=dt.timezone.utc)
            source = "the file's modification time (a copy or unzip may change it)"
        except OSError:
            pass
    if late_tag is False:
        return Lateness(when, f"Canvas name without LATE: on time (time from {source})", None, 0.0)
    late_by = None if when is None else when - deadline
    if late_tag and (late_by is None or (late_by <= dt.timedelta(0) and not exact)):
        return Lateness(when, f"Canvas LATE tag; {source} is not after the deadline: one period charged",
                        late_by, min(policy.cap, policy.rate))
    if late_by is None:
        return Lateness(None, "no time known: not penalised", None, 0.0)
    prefix = "Canvas LATE tag; time from " if late_tag else ""
    return Lateness(when, prefix + source, max(late_by, dt.timedelta(0)), policy.penalty(late_by))


def apply_lateness(row: dict, late: Lateness) -> dict:
    """``row`` with ``raw_total`` (the checks' total), ``total`` after the penalty, and the late columns."""
    return _penalise(row, late.penalty, late.columns())


def _penalise(row: dict, penalty: float, cells: dict) -> dict:
    """``row`` with ``cells``, ``raw_total`` (its total as it was) and ``total`` less ``penalty`` (a fraction)."""
    raw = row.get("total", "0")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = 0.0
    row.update(cells, raw_total=raw, total=f"{round(value * (1 - penalty), 4):g}")
    return row


def reapply_stored(row: dict, stored: dict) -> dict:
    """``row`` (a re-graded row) with the late cells of ``stored`` (its row at grading) and their penalty.

    ``workshop-grade regrade`` does not know the deadline or the times: it keeps the penalty
    fraction the grading run applied (``late_penalty``, e.g. ``'10%'``) and applies it to the new
    raw total, so a re-grade never drops a late penalty nor charges a new one.
    """
    if "raw_total" not in stored:
        return row
    text = str(stored.get("late_penalty", "") or "0%").strip().rstrip("%")
    try:
        penalty = float(text) / 100
    except ValueError:
        penalty = 0.0
    penalty = min(max(penalty, 0.0), 1.0)  # a tampered store: never more than the whole score
    return _penalise(row, penalty, {c: stored.get(c, "") for c in LATE_COLUMNS if c != "raw_total"})


def all_late_warning(lates: dict[str, Lateness], deadline: dt.datetime) -> str | None:
    """A loud warning when every submission with a known time is late (a wrong deadline, zone or file times)."""
    timed = [x for x in lates.values() if x.submitted_at is not None and x.late_by is not None]
    if len(timed) < 2 or any(x.late_by <= dt.timedelta(0) for x in timed):
        return None
    least = min(x.late_by for x in timed)
    mtime = sum("modification time" in x.source for x in timed)
    why = (f" {mtime} of them are timed by their files' modification times, which copying or unzipping may have "
           "set to today: give the course website's times with --times" if mtime else "")
    return (f"WARNING: every one of the {len(timed)} timed submissions is after --deadline "
            f"{deadline.isoformat()} (the earliest by {least.total_seconds() / 3600:.1f} h): check its date and "
            f"time zone.{why} The raw scores stay in raw_total.")
