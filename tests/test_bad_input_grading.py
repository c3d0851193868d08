"""The grader's command line and API with the mistakes an instructor makes: clear messages, exit code 2.

Each case asserts the exit code (or the exception type) and that the message names the
argument at fault. None of them grades a notebook: every one fails before a sandbox starts.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from workshop_utils.grading import check
from workshop_utils.grading.grader import grade_folder, main
from workshop_utils.grading.hidden import load_hidden

HIDDEN = Path(__file__).resolve().parent / "homework_hidden" / "hidden_checks.py"


@pytest.fixture
def folder(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "alice.ipynb").write_text("{}")
    return subs


# (extra command-line arguments, text the message must contain); argparse refuses these (exit 2)
ARGPARSE_CASES = [
    (["--timeout", "inf"], "--timeout"), (["--timeout", "nan"], "--timeout"), (["--timeout", "-5"], "--timeout"),
    (["--timeout", "0"], "--timeout"), (["--timeout", "soon"], "--timeout"), (["--memory-mb", "0"], "--memory-mb"),
    (["--memory-mb", "lots"], "--memory-mb"), (["--jobs", "0"], "--jobs"), (["--jobs", "two"], "--jobs"),
    (["--export-timeout", "inf"], "--export-timeout"), (["--check-timeout", "-1"], "--check-timeout"),
    (["--day", "3"], "--day"),
]


@pytest.mark.parametrize("extra,word", ARGPARSE_CASES)
def test_bad_numbers_are_refused_by_the_command_line(folder, tmp_path, capsys, extra, word):
    args = [str(folder), "--day", "1", "--out", str(tmp_path / "g.csv"), *extra]
    if "--day" in extra:
        args = [str(folder), "--out", str(tmp_path / "g.csv"), *extra]
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    assert word in capsys.readouterr().err


def _run(args, capsys) -> tuple[int, str]:
    rc = main([str(a) for a in args])
    return rc, capsys.readouterr().err


def test_a_missing_folder_is_named(tmp_path, capsys):
    rc, err = _run([tmp_path / "nope", "--day", "1", "--out", tmp_path / "g.csv"], capsys)
    assert rc == 2 and "submissions" in err and "nope" in err


def test_an_empty_folder_is_an_error_not_an_empty_csv(tmp_path, capsys):
    rc, err = _run([tmp_path, "--day", "1", "--out", tmp_path / "g.csv"], capsys)
    assert rc == 2 and "no notebooks" in err and not (tmp_path / "g.csv").exists()


def test_a_missing_hidden_file_is_named(folder, tmp_path, capsys):
    rc, err = _run([folder, "--day", "1", "--out", tmp_path / "g.csv", "--hidden", tmp_path / "nope.py"], capsys)
    assert rc == 2 and "hidden" in err and "nope.py" in err


@pytest.mark.parametrize("text", ["HIDDEN_CHECKS = [1]\n", "def broken(:\n", "import not_a_module_at_all\n",
                                  "HIDDEN_CHECKS = {'p1': []}\n", "HIDDEN_CHECKS = {(1, 1): ['x']}\n",
                                  "HIDDEN_CHECKS = {(1, 1): 5}\n"])
def test_a_broken_hidden_file_is_named(folder, tmp_path, capsys, text):
    bad = tmp_path / "hidden_bad.py"
    bad.write_text(text)
    rc, err = _run([folder, "--day", "1", "--out", tmp_path / "g.csv", "--hidden", bad], capsys)
    assert rc == 2 and "hidden" in err and "hidden_bad.py" in err
    with pytest.raises(ValueError, match="hidden"):
        load_hidden(bad)


def test_an_existing_csv_needs_resume(folder, tmp_path, capsys):
    out = tmp_path / "g.csv"
    out.write_text("student,p1\nbob,1\n")
    rc, err = _run([folder, "--day", "1", "--out", out, "--hidden", HIDDEN], capsys)
    assert rc == 2 and "--out" in err and "--resume" in err
    rc, err = _run([folder, "--day", "1", "--out", out, "--hidden", HIDDEN, "--resume"], capsys)
    assert rc == 2 and "--out" in err and "other columns" in err
    assert out.read_text() == "student,p1\nbob,1\n"  # the instructor's file is untouched


def test_two_notebooks_with_one_student_id_are_refused(folder, tmp_path, capsys):
    (folder / "alice").mkdir()
    (folder / "alice" / "hw.ipynb").write_text("{}")
    rc, err = _run([folder, "--day", "1", "--out", tmp_path / "g.csv"], capsys)
    assert rc == 2 and "student id" in err and "alice" in err


@pytest.mark.parametrize("kw,word", [
    ({"day": 3}, "day"), ({"timeout": float("inf")}, "timeout"), ({"timeout": 0}, "timeout"),
    ({"timeout": True}, "timeout"), ({"export_timeout": -1}, "export_timeout"),
    ({"check_timeout": float("nan")}, "check_timeout"), ({"jobs": 0}, "jobs"), ({"jobs": 1.5}, "jobs"),
    ({"memory_mb": 10}, "memory_mb"), ({"file_mb": 0}, "file_mb"), ({"tasks": 2}, "tasks"),
])
def test_grade_folder_names_the_bad_argument(folder, tmp_path, kw, word):
    args = {"day": 1, **kw}
    with pytest.raises(ValueError, match=word):
        grade_folder(folder, out=tmp_path / "g.csv", verbose=False, **args)


@pytest.mark.parametrize("kw,exc,word", [
    ({"day": 0, "practice": 1}, ValueError, "day"), ({"day": 1, "practice": 9}, ValueError, "practice"),
    ({"day": 1, "practice": 1, "namespace": [1]}, TypeError, "namespace"),
])
def test_the_self_check_names_the_bad_argument(kw, exc, word):
    with pytest.raises(exc, match=word):
        check(**kw)
