"""Rosters and course-website names (``workshop_utils.grading.roster``, Canvas names in ``submissions``)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from workshop_utils.grading.roster import Roster, Student, match_submissions, read_roster, squash
from workshop_utils.grading.submissions import CANVAS_FALLBACK, parse_canvas_name, scan_submissions

#: A Canvas gradebook export as Canvas writes it: the Manual Posting and Points Possible rows, the test student,
#: names with accents, commas and quotes.
CANVAS = ('Student,ID,SIS User ID,SIS Login ID,Section,Day 1 homework (555),Quiz (556),Current Score\r\n'
          ',,,,,Manual Posting,,\r\n'
          '    Points Possible,,,,,50,10,(read only)\r\n'
          '"Müller, Zoë",101,S101,zoe@uni.edu,A,,,\r\n'
          '"O\'Brien, Pat ""Paddy""",102,S102,pat@uni.edu,A,,,\r\n'
          '"Ng, Ann",103,S103,ann@uni.edu,"B, evening",,,\r\n'
          '"Student, Test",104,,,A,,,\r\n')


def _write(tmp_path: Path, text: str, name: str = "roster.csv") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8"))
    return p


def test_a_canvas_export_gives_students_assignments_and_points(tmp_path):
    r = read_roster(_write(tmp_path, "\ufeff" + CANVAS))
    assert r.kind == "canvas" and [s.id for s in r.students] == ["101", "102", "103"]  # no test student
    zoe, pat, ann = r.students
    assert zoe.name == "Müller, Zoë" and zoe.email == "zoe@uni.edu" and zoe.sis_user_id == "S101"
    assert pat.name == 'O\'Brien, Pat "Paddy"' and ann.section == "B, evening"
    assert [(a.title, a.id, a.points) for a in r.assignments] == [("Day 1 homework", "555", "50"), ("Quiz", "556", "10")]
    assert r.assignments[0].column == "Day 1 homework (555)"


def test_a_plain_roster_reads_id_name_email_in_any_order(tmp_path):
    r = read_roster(_write(tmp_path, 'Email,Name,ID,extra\nzoe@uni.edu,"Zoë Müller",s1,x\n\npat@uni.edu,"Pat, O\'Brien",s2,\n'))
    assert r.kind == "plain" and [(s.id, s.name, s.email) for s in r.students] == [
        ("s1", "Zoë Müller", "zoe@uni.edu"), ("s2", "Pat, O'Brien", "pat@uni.edu")]


@pytest.mark.parametrize("text,words", [
    ("id,name,email\n1,A,a@x\n2,B,b@x\n1,C,c@x\n", ["duplicate id", "'1' on lines 2, 4"]),
    ("id,name,email\n1,A,a@x\n2,B,A@X\n", ["duplicate email", "lines 2, 3"]),
    ("id,name\n1,A\n", ["no column email", "id, name, email"]),
    ("name,email\n", ["no column id"]),
    ("id,name,email\n1,A,a@x\n,B,b@x\n", ["no id on line(s) 3"]),
    ("Student,ID,SIS Login ID\nA,1,a\n", ["Canvas", "no column Section"]),
    ("Student,ID,SIS Login ID,Section\nA,1,a,S\nB,1,b,S\n", ["duplicate ID", "lines 2, 3"]),
    ("id,name,email\n", ["lists no student"]),
    ("", ["empty"]),
])
def test_a_bad_roster_is_refused_with_what_and_where(tmp_path, text, words):
    with pytest.raises(ValueError, match="--roster") as exc:
        read_roster(_write(tmp_path, text))
    for w in words:
        assert w in str(exc.value)


def test_a_roster_that_is_not_utf8_or_missing_is_named(tmp_path):
    p = tmp_path / "r.csv"
    p.write_bytes("id,name,email\n1,Zo\xeb,z@x\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8"):
        read_roster(p)
    with pytest.raises(FileNotFoundError, match="--roster"):
        read_roster(tmp_path / "none.csv")


def test_canvas_download_names_are_read_and_others_are_not():
    cv = parse_canvas_name("muellerzoe_LATE_101_9001_day1_homework-2.ipynb")
    assert (cv.name, cv.user_id, cv.file_id, cv.late, cv.original, cv.resubmission) == (
        "muellerzoe", "101", "9001", True, "day1_homework-2.ipynb", 2)
    assert cv.id == "muellerzoe_101"
    assert parse_canvas_name("obrien_102_9003_hw.ipynb").late is False
    anon = parse_canvas_name("LATE_anon_xk2p9_9005_hw.ipynb")
    assert (anon.name, anon.user_id, anon.late) == ("anon", "xk2p9", True)
    for bad in ("alice.ipynb", "lastfirst_LATE_12x45_9_hw.ipynb", "a_1_2_.ipynb", "x_1_2_hw.txt",
                b"\xff\xfe_1_2_hw.ipynb"):
        assert parse_canvas_name(bad) is None, bad


def test_a_canvas_folder_keeps_the_latest_resubmission_and_says_what_it_could_not_read(tmp_path):
    for name, t in [("muellerzoe_LATE_101_9001_day1_homework.ipynb", 100), ("muellerzoe_LATE_101_9007_day1_homework-1.ipynb", 50),
                    ("obrienpat_102_9003_day1_homework.ipynb", 100), ("garbled_LATE_1x2_9005_day1.ipynb", 100)]:
        (tmp_path / name).write_text("{}")
        os.utime(tmp_path / name, (t, t))
    scan = scan_submissions(tmp_path)
    assert sorted(scan.found) == ["garbled_LATE_1x2_9005_day1", "muellerzoe_101", "obrienpat_102"]
    assert scan.found["muellerzoe_101"].name.endswith("-1.ipynb")  # the re-submission, whatever its file time
    assert scan.canvas["muellerzoe_101"].late and scan.canvas["muellerzoe_101"].file_id == "9007"
    assert [p.name for p in scan.older["muellerzoe_101"]] == ["muellerzoe_LATE_101_9001_day1_homework.ipynb"]
    assert "older, not graded" in scan.notes["muellerzoe_101"]
    assert any("older submission of Canvas user 101" in why for _, why in scan.skipped)
    assert CANVAS_FALLBACK in scan.notes["garbled_LATE_1x2_9005_day1"]
    assert "garbled_LATE_1x2_9005_day1" not in scan.canvas


def test_submissions_match_by_user_id_email_or_name_and_the_rest_is_listed(tmp_path):
    r = read_roster(_write(tmp_path, CANVAS))
    ids = ["muellerzoe_101", "pat@uni.edu", "ng ann", "stranger_999", "S101"]
    canvas = {"muellerzoe_101": ("101", "muellerzoe"), "stranger_999": ("999", "stranger")}
    m = match_submissions(r, ids, canvas, {"S101": 5.0, "muellerzoe_101": 9.0})
    assert {k: v[0].id for k, v in m.graded.items()} == {"muellerzoe_101": "101", "pat@uni.edu": "102", "ng ann": "103"}
    assert m.graded["muellerzoe_101"][1] == "Canvas user id 101" and "SIS Login ID" in m.graded["pat@uni.edu"][1]
    assert "name" in m.graded["ng ann"][1]
    assert m.extra == {"muellerzoe_101": ["S101"]}  # two submissions of Zoë: the latest is graded, the other listed
    assert m.unmatched == ["stranger_999"] and m.missing == []


def test_an_ambiguous_key_matches_nobody_and_a_student_without_submission_is_missing():
    r = Roster("plain", [Student("1", "Ann Lee", "a@x"), Student("2", "Ann Lee", "b@x"), Student("3", "Bo Chan", "")],
               [], Path("r.csv"))
    m = match_submissions(r, ["leeann"], {})
    assert m.unmatched == ["leeann"] and [s.id for s in m.missing] == ["1", "2", "3"]
    m = match_submissions(r, ["bochan/v1", "bochan/v2"], {}, {"bochan/v1": 2.0, "bochan/v2": 1.0})
    assert list(m.graded) == ["bochan/v1"] and m.extra == {"bochan/v1": ["bochan/v2"]}  # a folder: its name
    assert squash("Müller, Zoë") == "mullerzoe"
