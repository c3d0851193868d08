"""Gradebook files (``workshop_utils.grading.gradebook``) against the documented Canvas and Moodle columns.

Canvas: the header ``Student, ID, SIS User ID, SIS Login ID, Section`` then ``Title (id)``
columns, the second row ``"    Points Possible"`` (instructure/canvas-lms lib/gradebook_exporter.rb),
UTF-8 with RFC 4180 quoting (Canvas "SIS CSV Format").  Moodle: a header row, a user column
mapped on "Email address" or "ID number", one column per grade item (docs.moodle.org "Grade import").
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from workshop_utils.grading.csvlog import columns
from workshop_utils.grading.gradebook import (MOODLE_COLUMNS, POINTS_POSSIBLE, day_assignment, gradebook_text,
                                              read_scores, write_gradebook)
from workshop_utils.grading.roster import Assignment, read_roster

CANVAS_LEAD = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
ROSTER = ('Student,ID,SIS User ID,SIS Login ID,Section,Day 1 homework (555),Day 2 homework (556)\r\n'
          '    Points Possible,,,,,39.5,40\r\n'
          '"Müller, Zoë",101,S101,zoe@uni.edu,A,,\r\n'
          '"O\'Brien, Pat ""Paddy""",102,S102,pat@uni.edu,"A, late",,\r\n'
          '"=cmd|calc, Eve",103,S103,eve@uni.edu,B,,\r\n')


@pytest.fixture
def roster(tmp_path):
    p = tmp_path / "roster.csv"
    p.write_bytes(ROSTER.encode("utf-8"))
    return read_roster(p)


def _grades(tmp_path: Path, day: int, totals: dict[str, str], max_: str = "39.5") -> Path:
    out = tmp_path / f"grades_day{day}.csv"
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, columns(day, roster=True, late=True))
        w.writeheader()
        for rid, total in totals.items():
            w.writerow({"student": f"s{rid}", "roster_id": rid, "total": total, "max": max_, "day": str(day)})
        w.writerow({"student": "stranger", "roster_id": "", "total": "9", "max": max_, "day": str(day)})
    return out


def _read(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    assert data.decode("utf-8")  # UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_the_canvas_gradebook_has_the_documented_columns_and_round_trips(roster, tmp_path):
    g1 = _grades(tmp_path, 1, {"101": "30.25", "102": "0", "103": "12"})
    g2 = _grades(tmp_path, 2, {"101": "20", "103": "40"}, max_="40")
    out = tmp_path / "canvas.csv"
    got = write_gradebook(out, "canvas", roster, [g2, g1])
    rows = _read(out)
    assert rows[0] == [*CANVAS_LEAD, "Day 1 homework (555)", "Day 2 homework (556)"]  # ids from the roster
    assert rows[1] == [POINTS_POSSIBLE, "", "", "", "", "39.5", "40"] and POINTS_POSSIBLE == "    Points Possible"
    body = {r[1]: r for r in rows[2:]}
    assert len(rows) == 2 + 3 and "stranger" not in out.read_text(encoding="utf-8")  # enrolled students only
    assert body["101"] == ["Müller, Zoë", "101", "S101", "zoe@uni.edu", "A", "30.25", "20"]
    assert body["102"][0] == 'O\'Brien, Pat "Paddy"' and body["102"][4] == "A, late" and body["102"][6] == ""
    assert body["103"][0] == "'=cmd|calc, Eve"  # never a formula in a spreadsheet
    assert got["without_row"] == {1: [], 2: ["102"]} and not got["scaled"]
    assert b"\r\n" in out.read_bytes() and b'"O\'Brien, Pat ""Paddy"""' in out.read_bytes()  # RFC 4180 quoting


def test_canvas_scores_are_scaled_to_the_rosters_points_possible(roster, tmp_path):
    g1 = _grades(tmp_path, 1, {"101": "39.5", "102": "19.75", "103": "0"}, max_="79")
    got = write_gradebook(tmp_path / "c.csv", "canvas", roster, [g1])
    rows = _read(tmp_path / "c.csv")
    assert rows[1][5] == "39.5" and {r[1]: r[5] for r in rows[2:]} == {"101": "19.75", "102": "9.88", "103": "0"}
    assert "scaled from 79 to 39.5" in got["scaled"]["Day 1 homework (555)"]


def test_the_moodle_file_is_keyed_on_email_and_id_number(roster, tmp_path):
    g1 = _grades(tmp_path, 1, {"101": "30", "102": "0", "103": "12"})
    write_gradebook(tmp_path / "m.csv", "moodle", roster, [g1])
    rows = _read(tmp_path / "m.csv")
    assert rows[0] == ["First name", "Last name", "ID number", "Email address", "Day 1 homework (555)"]
    assert rows[0][:4] == MOODLE_COLUMNS and len(rows) == 4
    assert rows[1] == ["Zoë", "Müller", "S101", "zoe@uni.edu", "30"]
    assert rows[2][:2] == ['Pat "Paddy"', "O'Brien"]


def test_a_plain_roster_gives_new_day_columns_and_sis_ids(tmp_path):
    p = tmp_path / "plain.csv"
    p.write_text('id,name,email\nu1,"Zoë Müller",zoe@uni.edu\n', encoding="utf-8")
    r = read_roster(p)
    text = gradebook_text("canvas", r, [(day_assignment(r, 1), {"u1": "7"}, "39.5")])
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == [*CANVAS_LEAD, "Day 1 homework"]  # no id: Canvas creates the assignment
    assert rows[2] == ["Zoë Müller", "", "u1", "zoe@uni.edu", "", "7"]


def test_the_day_column_comes_from_the_roster_or_the_option(roster):
    assert day_assignment(roster, 2) == Assignment("Day 2 homework", "556", "40")
    assert day_assignment(roster, 3).column == "Day 3 homework ()" and day_assignment(roster, 3).id == ""
    assert day_assignment(roster, 1, "Homework one (777)") == Assignment("Homework one", "777")
    assert day_assignment(roster, 1, "Day 2 homework").id == "556"


def test_a_gradebook_needs_a_roster_graded_csv_and_a_known_format(roster, tmp_path):
    plain = tmp_path / "g.csv"
    plain.write_text(",".join(columns(1)) + "\nbob,1,1,1,1,1,5,39.5,ok,1,1,1,none,,\n")
    with pytest.raises(ValueError, match="--roster"):
        write_gradebook(tmp_path / "x.csv", "canvas", roster, [plain])
    g1 = _grades(tmp_path, 1, {"101": "1"})
    with pytest.raises(ValueError, match="format"):
        write_gradebook(tmp_path / "x.csv", "blackboard", roster, [g1])
    with pytest.raises(ValueError, match="two grades CSVs of day 1"):
        write_gradebook(tmp_path / "x.csv", "canvas", roster, [g1, g1])
    with pytest.raises(FileNotFoundError):
        read_scores(tmp_path / "none.csv")
    assert not (tmp_path / "x.csv").exists()


def test_the_gradebook_command_joins_days_and_names_bad_input(roster, tmp_path, capsys):
    from workshop_utils.grading.grader import main

    g1 = _grades(tmp_path, 1, {"101": "30", "102": "1", "103": "2"})
    g2 = _grades(tmp_path, 2, {"101": "20", "102": "3"}, max_="40")
    rc = main(["gradebook", "--roster", str(roster.path), "--format", "canvas", "--out", str(tmp_path / "b.csv"),
               str(g1), str(g2)])
    err = capsys.readouterr().err
    assert rc == 0 and "day 2: no row for 1 enrolled student(s)" in err and "103" in err
    assert _read(tmp_path / "b.csv")[0][-2:] == ["Day 1 homework (555)", "Day 2 homework (556)"]
    rc = main(["gradebook", "--roster", str(tmp_path / "none.csv"), "--format", "moodle", "--out",
               str(tmp_path / "m.csv"), str(g1)])
    assert rc == 2 and "--roster" in capsys.readouterr().err and not (tmp_path / "m.csv").exists()
