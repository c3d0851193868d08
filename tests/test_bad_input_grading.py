"""The grader's command line and API with the mistakes an instructor makes: clear messages, exit code 2.

Each case asserts the exit code (or the exception type) and that the message names the
argument at fault. None of them runs a notebook: every one fails before a sandbox starts, or
grades files that are not notebooks (a row that says so, no sandbox).
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from workshop_utils.grading import check
from workshop_utils.grading.csvlog import CsvLog, columns, hidden_digest
from workshop_utils.grading.grader import grade_folder, main
from workshop_utils.grading.submissions import scan_submissions
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


def _rows(path) -> dict[str, dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return {r["student"]: r for r in csv.DictReader(fh)}


def test_a_file_and_a_folder_with_one_name_get_two_ids_and_the_class_goes_on(folder, tmp_path, capsys):
    (folder / "alice").mkdir()
    (folder / "alice" / "hw.ipynb").write_text("{}")
    (folder / "bob.ipynb").write_text("{}")
    out = tmp_path / "g.csv"
    rc, err = _run([folder, "--day", "1", "--out", out, "--quiet"], capsys)
    rows = _rows(out)
    assert rc == 0 and sorted(rows) == ["alice.ipynb", "alice/hw.ipynb", "bob"], (rc, err)
    assert "exact path" in rows["alice.ipynb"]["name_note"] and rows["bob"]["name_note"] == ""


def test_every_submission_like_file_gets_a_row_or_a_logged_reason(tmp_path, capsys):
    subs, outside = tmp_path / "subs", tmp_path / "outside"
    (subs / "nested" / "deeper").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.ipynb").write_text("{}")
    (subs / "SHOUT.IPYNB").write_text("{}")
    (subs / "nested" / "deeper" / "hw.Ipynb").write_text("{}")
    (subs / "notes.txt").write_text("x")
    (subs / "empty").mkdir()
    (subs / "inside_link.ipynb").symlink_to(subs / "SHOUT.IPYNB")
    (subs / "out_link.ipynb").symlink_to(outside / "secret.ipynb")
    (subs / "out_dir").symlink_to(outside)
    (subs / "dangling.ipynb").symlink_to(subs / "gone.ipynb")
    out = tmp_path / "g.csv"
    rc, err = _run([subs, "--day", "1", "--out", out, "--quiet"], capsys)
    rows = _rows(out)
    assert rc == 0 and sorted(rows) == ["SHOUT", "dangling", "inside_link", "nested", "out_link"], err
    assert rows["out_link"]["status"] == "not graded: a link to something outside the submissions folder"
    assert rows["dangling"]["status"] == "not graded: a broken link"
    assert "not a readable notebook" in rows["inside_link"]["status"]  # followed: it stays inside
    for name, why in (("notes.txt", "not a notebook"), ("empty", "without a notebook"), ("out_dir", "outside")):
        assert any(name in line and why in line for line in err.splitlines() if "skipped" in line), (name, err)
    assert "secret" not in out.read_text()


def test_look_alike_names_are_normalised_or_flagged(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("alice", "alice ", "\u0430lice", "Zoe\u0308", "carol"):  # trailing space, Cyrillic a, NFD
        (subs / f"{name}.ipynb").write_text("{}")
    scan = scan_submissions(subs)
    ids = sorted([*scan.found])
    assert len(ids) == 5 and len(set(ids)) == 5 and "Zo\u00eb" in ids and "carol" in ids
    assert "normalised" in scan.notes["Zo\u00eb"]
    assert "mixes Cyrillic and Latin" in scan.notes["\u0430lice"] and "looks like" in scan.notes["\u0430lice"]
    assert "carol" not in scan.notes
    assert all(i.strip() == i or "exact path" in scan.notes[i] for i in ids)


def test_a_notebook_over_the_size_cap_is_never_parsed(folder, tmp_path, monkeypatch):
    from workshop_utils.grading import grader

    big = folder / "huge.ipynb"
    with open(big, "wb") as fh:
        fh.truncate(grader.MAX_NOTEBOOK_BYTES + 1)
    parsed = []
    import nbformat

    real = nbformat.reads
    monkeypatch.setattr(nbformat, "reads", lambda s, *a, **k: parsed.append(len(s)) or real(s, *a, **k))
    grade_folder(folder, 1, tmp_path / "g.csv", verbose=False)
    rows = _rows(tmp_path / "g.csv")
    assert "more than 20 MiB" in rows["huge"]["status"] and rows["huge"]["total"] == "0"
    assert all(n < 1000 for n in parsed)  # only alice's '{}' was parsed


@pytest.mark.parametrize("key,word", [((1, 0), "numbered from 1"), ((1, 6), "practices [1, 2, 3, 4, 5]"),
                                      ((3, 1), "day must be one of"), (("1", 1), "pairs of integers"),
                                      ((1, True), "pairs of integers"), ((0, 5), "day must be one of")])
def test_hidden_check_keys_must_name_a_practice(folder, tmp_path, capsys, key, word):
    bad = tmp_path / "hidden_keys.py"
    bad.write_text("from workshop_utils.grading.core import Check\n"
                   f"HIDDEN_CHECKS = {{{key!r}: [Check('x', 1, lambda v, r: (True, 'ok'))]}}\n")
    with pytest.raises(ValueError, match=re.escape(word)):
        load_hidden(bad)
    rc, err = _run([folder, "--day", "1", "--out", tmp_path / "g.csv", "--hidden", bad], capsys)
    assert rc == 2 and "hidden_keys.py" in err and word in err and not (tmp_path / "g.csv").exists()


def _csv_of(tmp_path, day: int, hidden: str, students=("bob",)) -> Path:
    out = tmp_path / "old.csv"
    with open(out, "w", newline="") as fh:
        w = csv.DictWriter(fh, columns(day))
        w.writeheader()
        for s in students:
            w.writerow({"student": s, "day": str(day), "hidden": hidden, "total": "3"})
    return out


def test_resume_refuses_the_other_days_csv_and_other_hidden_checks(folder, tmp_path, capsys):
    out = _csv_of(tmp_path, 2, hidden_digest([HIDDEN]))
    before = out.read_bytes()
    rc, err = _run([folder, "--day", "1", "--out", out, "--hidden", HIDDEN, "--resume"], capsys)
    assert rc == 2 and "--out" in err and "day 2" in err and out.read_bytes() == before
    out = _csv_of(tmp_path, 1, "0123456789abcdef")
    before = out.read_bytes()
    rc, err = _run([folder, "--day", "1", "--out", out, "--hidden", HIDDEN, "--resume"], capsys)
    assert rc == 2 and "--out" in err and "hidden" in err and out.read_bytes() == before
    rc, err = _run([folder, "--day", "1", "--out", out, "--resume"], capsys)  # no hidden file this time
    assert rc == 2 and "hidden" in err and out.read_bytes() == before


def test_resume_compares_raw_ids_not_neutralised_cells(tmp_path, capsys):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("=name", "'=name", "plain"):
        (subs / f"{name}.ipynb").write_text("{}")
    out = tmp_path / "g.csv"
    assert main([str(subs), "--day", "1", "--out", str(out), "--quiet"]) == 0
    first = _rows(out)
    assert len(first) == 3 and "'=name" in first  # the neutralised cell of =name
    assert main([str(subs), "--day", "1", "--out", str(out), "--quiet", "--resume"]) == 0
    assert len(_rows(out)) == 3  # nobody graded twice, nobody skipped
    (subs / "=other.ipynb").write_text("{}")
    assert main([str(subs), "--day", "1", "--out", str(out), "--quiet", "--resume"]) == 0
    assert len(_rows(out)) == 4 and "'=other" in _rows(out)


def test_a_lone_surrogate_or_nul_never_costs_a_row(tmp_path):
    out = tmp_path / "g.csv"
    log = CsvLog(out, columns(1), resume=False, meta={"day": "1", "hidden": "none"})
    log.append({"student": "eve", "status": "ok", "reasons": "cell 2: ValueError: bad \udc80 and \x00 here"})
    log.append({"student": "next", "status": "ok", "reasons": ""})
    rows = _rows(out)
    assert sorted(rows) == ["eve", "next"] and "\\udc80" in rows["eve"]["reasons"]
    assert "\\x00" in rows["eve"]["reasons"] and rows["eve"]["day"] == "1"
    assert CsvLog(out, columns(1), resume=True, meta={"day": "1", "hidden": "none"}).is_done("eve")


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


# ----------------------------------------------------------------------------- course website (#26)
@pytest.mark.parametrize("extra,words", [
    (["--roster", "{dup}"], ["--roster", "duplicate id", "lines 2, 3"]),
    (["--roster", "{nocol}"], ["--roster", "no column email"]),
    (["--roster", "{tmp}/missing.csv"], ["--roster", "missing.csv"]),
    (["--deadline", "2026-12-01"], ["--deadline", "no time zone"]),
    (["--deadline", "next friday"], ["--deadline", "not an ISO 8601"]),
    (["--deadline", "2026-12-01T23:59Z", "--late-policy", "10/day"], ["--late-policy", "%"]),
    (["--late-policy", "10%/day"], ["--late-policy", "needs --deadline"]),
    (["--format", "canvas"], ["--format", "--roster"]),
    (["--gradebook-column", "Day 1 (5)"], ["--gradebook-column", "--format"]),
    (["--roster", "{ok}", "--format", "canvas", "--gradebook", "{tmp}/g_out.csv"], ["--gradebook", "--out"]),
    (["--roster", "{ok}", "--format", "canvas", "--format", "moodle", "--gradebook", "{tmp}/g.csv"],
     ["--gradebook", "one --format"]),
])
def test_bad_course_options_fail_before_anything_runs(folder, tmp_path, capsys, extra, words):
    (tmp_path / "dup.csv").write_text("id,name,email\n1,A,a@x\n1,B,b@x\n")
    (tmp_path / "nocol.csv").write_text("id,name\n1,A\n")
    (tmp_path / "ok.csv").write_text("id,name,email\n1,A,a@x\n")
    subst = {"{dup}": str(tmp_path / "dup.csv"), "{nocol}": str(tmp_path / "nocol.csv"), "{ok}": str(tmp_path / "ok.csv")}
    extra = [subst.get(a, a.replace("{tmp}", str(tmp_path))) for a in extra]
    rc, err = _run([folder, "--day", "1", "--out", tmp_path / "g_out.csv", *extra], capsys)
    assert rc == 2 and all(w in err for w in words), err
    assert not (tmp_path / "g_out.csv").exists()  # nothing graded, nothing written


def test_a_bad_format_is_refused_by_the_command_line(folder, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(folder), "--day", "1", "--out", str(tmp_path / "g.csv"), "--format", "blackboard"])
    assert exc.value.code == 2 and "--format" in capsys.readouterr().err
