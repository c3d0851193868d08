"""A course website's download graded end to end with a roster, a deadline and gradebooks (``grading.course``).

One Canvas-style folder: late work, a re-submission, a student without a submission, names
with accents, a submission of someone not enrolled, one name the parser cannot read. Two
submissions run (small notebooks that earn the written-answer points); the others are not
notebooks and get their rows without a sandbox, so the class grades in well under a minute.
"""
from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path

import nbformat
import pytest

from workshop_utils.grading.course import plan_course
from workshop_utils.grading.grader import main
from workshop_utils.grading.sandbox import sandbox_available
from workshop_utils.grading.submissions import scan_submissions

DEADLINE = dt.datetime(2026, 12, 1, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=1)))
ROSTER = ('Student,ID,SIS User ID,SIS Login ID,Section,Day 1 homework (555)\r\n'
          '    Points Possible,,,,,\r\n'
          '"Müller, Zoë",101,S101,zoe@uni.edu,A,\r\n'
          '"O\'Brien, Pat ""Paddy""",102,S102,pat@uni.edu,A,\r\n'
          '"Ng, Ann",103,S103,ann@uni.edu,B,\r\n'
          '"Nguyễn, Thị",104,S104,thi@uni.edu,B,\r\n'
          '"Student, Test",105,,,A,\r\n')


def _notebook() -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from workshop_utils.grading import check\n"
                                          "answer_p1 = 'The auroc and the precision of my model are fine. ' * 6\n"),
                nbformat.v4.new_code_cell("check(day=1, practice=1)")]
    return nbformats(nb)


def nbformats(nb) -> str:
    return nbformat.writes(nb)


def _folder(tmp: Path) -> Path:
    subs = tmp / "submissions"
    subs.mkdir()
    files = {"muellerzoe_LATE_101_9001_day1_homework.ipynb": "{}",  # Zoë's first try, superseded
             "muellerzoe_LATE_101_9007_day1_homework-1.ipynb": _notebook(),  # her re-submission: graded, late
             "obrienpat_102_9003_day1_homework.ipynb": _notebook(),  # on time
             "nguyễnthị_LATE_104_9004_day1_homework.ipynb": "{}",  # accents; late
             "stranger_999_9005_day1_homework.ipynb": "{}",  # not enrolled
             "garbled_LATE_1x2_9006_day1.ipynb": "{}"}  # a name the parser cannot read
    t = (DEADLINE - dt.timedelta(hours=2)).timestamp()  # unzip kept early file times
    for name, text in files.items():
        (subs / name).write_text(text, encoding="utf-8")
        os.utime(subs / name, (t, t))
    return subs


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("course")
    subs = _folder(tmp)
    (tmp / "roster.csv").write_bytes(ROSTER.encode("utf-8"))
    (tmp / "times.csv").write_text("user_id,submitted_at\n101,2026-12-03T00:30:00+01:00\n")  # 1 d 31 min late
    out = tmp / "out" / "grades.csv"
    args = [subs, "--day", "1", "--out", out, "--roster", tmp / "roster.csv", "--deadline", DEADLINE.isoformat(),
            "--late-policy", "10%/day,cap=50%,grace=15m", "--times", tmp / "times.csv", "--format", "canvas",
            "--format", "moodle", "--timeout", "300", "--memory-mb", "3000", "--store", tmp / "store", "--quiet"]
    if not sandbox_available()[0]:  # the course side is tested here, not the sandbox
        args.append("--unsafe-no-sandbox")
    return {"tmp": tmp, "out": out, "args": [str(a) for a in args]}


def test_every_enrolled_student_has_exactly_one_row_and_nothing_is_dropped(graded, capsys):
    assert main(graded["args"]) == 0
    err = capsys.readouterr().err
    rows = _rows(graded["out"])
    enrolled = [r for r in rows if r["roster_id"]]
    assert sorted(r["roster_id"] for r in enrolled) == ["101", "102", "103", "104"]  # once each, no test student
    by = {r["roster_id"]: r for r in enrolled}
    assert by["103"]["status"] == "no submission" and by["103"]["total"] == "0" and by["103"]["student"] == ""
    unmatched = {r["student"]: r for r in rows if not r["roster_id"]}
    assert sorted(unmatched) == ["garbled_LATE_1x2_9006_day1", "stranger_999"]  # graded and listed
    assert all(r["roster_match"] == "matches nobody on the roster" for r in unmatched.values())
    assert "match nobody on the roster" in err and "stranger_999" in err and "1 without" in err
    assert "not a Canvas download name" in unmatched["garbled_LATE_1x2_9006_day1"]["name_note"]
    # Zoë: the re-submission is graded, late by the website's time (1 day 31 min: two started days)
    zoe = by["101"]
    assert zoe["student"] == "muellerzoe_101" and "older, not graded" in zoe["name_note"]
    assert "older submission of Canvas user 101" in err
    assert float(zoe["raw_total"]) > 0 and zoe["late_penalty"] == "20%" and "times.csv" in zoe["time_source"]
    assert float(zoe["total"]) == pytest.approx(0.8 * float(zoe["raw_total"]))
    pat = by["102"]
    assert pat["late_penalty"] == "0%" and pat["total"] == pat["raw_total"] and float(pat["total"]) > 0
    # LATE tag, no website time and an early file time: one period charged, and said
    assert by["104"]["roster_name"] == "Nguyễn, Thị" and by["104"]["late_penalty"] == "10%"
    assert "one period charged" in by["104"]["time_source"]
    canvas = list(csv.reader(open(graded["out"].with_name("grades_canvas.csv"), newline="", encoding="utf-8")))
    assert canvas[0][-1] == "Day 1 homework (555)" and canvas[1][0] == "    Points Possible"
    assert {r[1]: r[5] for r in canvas[2:]} == {"101": zoe["total"], "102": pat["total"], "103": "0", "104": "0"}
    moodle = list(csv.reader(open(graded["out"].with_name("grades_moodle.csv"), newline="", encoding="utf-8")))
    assert moodle[0][:4] == ["First name", "Last name", "ID number", "Email address"] and len(moodle) == 5


def test_resuming_adds_no_second_row(graded, capsys):
    before = graded["out"].read_bytes()
    assert main([*graded["args"], "--resume"]) == 0
    assert graded["out"].read_bytes() == before


def test_a_regrade_keeps_the_roster_cells_and_the_late_penalty(graded):
    from workshop_utils.grading.regrade import regrade

    out = graded["tmp"] / "regraded.csv"
    regrade(graded["tmp"] / "store", out, verbose=False)
    before = {r["student"]: r for r in _rows(graded["out"]) if r["student"]}
    after = {r["student"]: r for r in _rows(out)}
    zoe = after["muellerzoe_101"]
    assert zoe["roster_id"] == "101" and zoe["roster_name"] == "Müller, Zoë"
    assert zoe["late_penalty"] == "20%" and zoe["time_source"] == before["muellerzoe_101"]["time_source"]
    assert zoe["raw_total"] == before["muellerzoe_101"]["raw_total"]  # the same checks: the same raw score
    assert float(zoe["total"]) == pytest.approx(0.8 * float(zoe["raw_total"]))
    assert after["obrienpat_102"]["late_penalty"] == "0%"


def test_reapplied_penalty_is_bounded_for_a_tampered_store():
    from workshop_utils.grading.late import reapply_stored

    row = reapply_stored({"total": "10"}, {"raw_total": "10", "late_penalty": "250%", "late_by": "1 h"})
    assert row["total"] == "0" and row["raw_total"] == "10" and row["late_by"] == "1 h"
    assert reapply_stored({"total": "7"}, {"seconds": "3"}) == {"total": "7"}  # graded without --deadline


def test_the_plan_checks_options_before_anything_runs(tmp_path):
    (tmp_path / "a.ipynb").write_text("{}")
    scan = scan_submissions(tmp_path)
    assert plan_course(scan) is None
    with pytest.raises(ValueError, match="--late-policy: needs --deadline"):
        plan_course(scan, late_policy="10%/day")
    with pytest.raises(ValueError, match="--times: needs --deadline"):
        plan_course(scan, times=tmp_path / "t.csv")
    with pytest.raises(ValueError, match="no time zone"):
        plan_course(scan, deadline="2026-12-01T23:59")
    plan = plan_course(scan, deadline="2999-01-01T00:00Z")
    assert any("in the future" in w for w in plan.warnings) and plan.late["a"].penalty == 0


def test_the_feedback_says_why_the_total_is_below_the_practices_sum():
    from workshop_utils.grading.feedback import feedback_text

    row = {"total": "6.8", "max": "50", "raw_total": "8.5", "late_penalty": "20%", "late_by": "24.52 h",
           "time_source": "times.csv (the course website)"}
    text = feedback_text({"day": 1, "student": "s", "row": row, "results": {}})
    assert "late by 24.52 h" in text and "20% off the checks' 8.5 points" in text
    on_time = feedback_text({"day": 1, "student": "s", "row": {**row, "late_penalty": "0%"}, "results": {}})
    assert "late" not in on_time.lower().replace("late policy", "")
