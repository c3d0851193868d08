"""``--manual``: hand scores of written answers replace the first pass, in the totals, the row and the feedback,
are kept in the store across regrades and resumes, and a bad manual CSV stops everything with every problem named.

Most tests use the kit's hand-written Day-1 exports (no notebook runs); one grades two small
notebooks end to end in the sandbox (grading, then a resume).
"""
from __future__ import annotations

import csv
import inspect
import io
from pathlib import Path

import nbformat
import pytest

from _grading_kit import CLASS, hidden_file, make_class_store
from workshop_utils.grading.feedback import feedback_filename
from workshop_utils.grading.grader import grade_folder, main
from workshop_utils.grading.manual import (ManualBook, ManualError, ManualScore, apply_scores, open_manual,
                                           parse_points, read_manual)
from workshop_utils.grading.regrade import regrade
from workshop_utils.grading.review import write_review
from workshop_utils.grading.store import open_store

STUDENTS = ["ada", "bob", "Zoë Ñúñez, \"Jr\""]
HEAD = "student,check,points,comment\n"


def _csv(tmp_path: Path, text: str | bytes, name: str = "m.csv") -> Path:
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return p


# ------------------------------------------------------------------ reading: bad input, a clear error
@pytest.mark.parametrize("body, words", [
    (HEAD + "zed,answer_p1,1,\n", ["line 2", "unknown student 'zed'"]),
    (HEAD + "ada,answer_p3,1,\n", ["line 2", "unknown check 'answer_p3'", "answer_p1, answer_p2, answer_p4"]),
    (HEAD + "ada,answer_p1,-0.5,\n", ["line 2", "between 0 and 1", "'-0.5'"]),
    (HEAD + "ada,answer_p1,2,\n", ["line 2", "between 0 and 1", "'2'"]),
    (HEAD + "ada,answer_p1,NaN,\n", ["line 2", "a number like 1 or 0.5", "'NaN'"]),
    (HEAD + "ada,answer_p1,inf,\n", ["line 2", "'inf'"]),
    (HEAD + "ada,answer_p1,80%,\n", ["line 2", "not a percentage", "'80%'"]),
    (HEAD + "ada,answer_p1,half,\n", ["line 2", "'half'"]),
    (HEAD + "ada,answer_p1,1,good\nbob,answer_p1,1,\nada,answer_p1,0,bad\n",
     ["line 4", "a second row for 'ada' 'answer_p1'", "the first is line 2"]),
    ("student,check,comment\nada,answer_p1,x\n", ["no column points", "student, check, comment"]),
    (HEAD + "ada,answer_p1,,read again\n", ["line 2", "a comment for 'ada' 'answer_p1' without points"]),
    ("name,question,score\nada,answer_p1,1\n", ["no column student, check, points"]),
    ("student,check,points,points\nada,answer_p1,1,1\n", ["column(s) points twice"]),
])
def test_a_bad_manual_csv_is_refused_with_its_line(tmp_path, body, words):
    with pytest.raises(ManualError) as err:
        read_manual(_csv(tmp_path, body), 1, STUDENTS)
    for w in words:
        assert w in str(err.value), (w, str(err.value))


def test_every_problem_is_listed_at_once(tmp_path):
    body = HEAD + "zed,answer_p1,1,\nada,answer_zz,1,\nbob,answer_p1,5,\nbob,answer_p2,80%,\n"
    with pytest.raises(ManualError, match="4 problem") as err:
        read_manual(_csv(tmp_path, body), 1, STUDENTS)
    assert all(f"line {n}" in str(err.value) for n in (2, 3, 4, 5)) and "nothing was applied" in str(err.value)


def test_files_that_are_not_a_manual_csv(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_manual(tmp_path / "nope.csv", 1, STUDENTS)
    with pytest.raises(ManualError, match="is empty"):
        read_manual(_csv(tmp_path, "\n \n"), 1, STUDENTS)
    latin1 = (HEAD + "Zoë,answer_p1,1,très bien\n").encode("cp1252")  # Excel's "CSV (comma delimited)"
    with pytest.raises(ManualError, match="not UTF-8.*CSV UTF-8"):
        read_manual(_csv(tmp_path, latin1), 1, STUDENTS)


def test_a_spreadsheet_csv_reads(tmp_path):
    """A BOM, ';' separators with a decimal comma, capitalised headers, quotes, blank lines, extra columns."""
    text = ("\ufeffStudent;Check;First_pass;Points;Comment;Notes\r\n"
            "ada;answer_p1;1;0,5;\"Cites the AUROC; not what it means\";x\r\n\r\n"
            "\"Zoë Ñúñez, \"\"Jr\"\"\";answer_p2;0;1;;\r\n"
            "bob;answer_p4;1;;;\r\n")
    got = read_manual(_csv(tmp_path, text.encode("utf-8")), 1, STUDENTS)
    assert got == {("ada", "answer_p1"): ManualScore("ada", "answer_p1", 0.5, "Cites the AUROC; not what it means"),
                   (STUDENTS[2], "answer_p2"): ManualScore(STUDENTS[2], "answer_p2", 1.0)}
    tabs = "student\tcheck\tpoints\nbob\tanswer_p5 written\t0.25\n"  # the check's name works too
    assert read_manual(_csv(tmp_path, tabs, "t.csv"), 1, STUDENTS)[("bob", "answer_p5")].points == 0.25
    nfd = __import__("unicodedata").normalize("NFD", STUDENTS[2])  # accents typed apart (macOS)
    body = HEAD + '"' + nfd.replace('"', '""') + '",answer_p1,1,\n'
    assert list(read_manual(_csv(tmp_path, body, "nfd.csv"), 1, STUDENTS)) == [(STUDENTS[2], "answer_p1")]


def test_several_csvs_one_per_question_and_a_clash(tmp_path):
    """The review pages export one CSV per question: --manual takes several; one answer scored twice is refused."""
    a = _csv(tmp_path, HEAD + "ada,answer_p1,1,\n", "a.csv")
    b = _csv(tmp_path, HEAD + "ada,answer_p2,0.5,\nbob,answer_p1,,\n", "b.csv")
    book = open_manual([a, b], 1, STUDENTS)
    assert len(book) == 2 and book.by_student["ada"]["answer_p2"].points == 0.5
    c = _csv(tmp_path, HEAD + "ada,answer_p1,0,\n", "c.csv")
    with pytest.raises(ManualError, match="c.csv and .*a.csv both score 1 answer"):
        open_manual([a, b, c], 1, STUDENTS)
    assert open_manual(None, 1, STUDENTS) is None


def test_points_parse_as_points_only():
    assert parse_points(" 0.5 ") == 0.5 and parse_points("1") == 1.0 and parse_points("8,5", True) == 8.5
    for bad in ("8,5", "80%", "nan", "-inf", "1/2", "", "0x1", "1_0"):
        with pytest.raises(ValueError):
            parse_points(bad)


# ------------------------------------------------------------------ applying: totals, row, feedback, the store
@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("manual")
    hidden = hidden_file(tmp / "hidden.py", 0.75)
    return {**make_class_store(tmp, hidden), "tmp": tmp, "hidden": hidden}


def _filled(graded, name: str, scores: dict) -> Path:
    """The review's manual.csv with ``{(student, check): (points, comment)}`` filled in."""
    review = graded["tmp"] / f"review-{name}"
    write_review(graded["store"], review)
    rows = list(csv.DictReader(io.StringIO((review / "manual.csv").read_text("utf-8-sig"))))
    for r in rows:
        if (r["student"], r["check"]) in scores:
            r["points"], r["comment"] = scores[(r["student"], r["check"])]
    path = graded["tmp"] / f"{name}.csv"
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def _rows(path: Path) -> dict[str, dict]:
    with open(path, newline="") as fh:
        return {r["student"]: r for r in csv.DictReader(fh)}


def test_hand_scores_change_totals_row_and_feedback_and_are_kept(graded):
    first = {r["student"]: r for r in graded["rows"]}
    comment = "Cites the AUROC, not what it says about the false calls"
    m = _filled(graded, "m1", {("ada", "answer_p1"): ("0.25", comment), ("bob", "answer_p2"): ("1", "")})
    out, fb = graded["tmp"] / "r1.csv", graded["tmp"] / "fb"
    regrade(graded["store"], out, hidden=[graded["hidden"]], feedback=fb, manual=m, verbose=False)
    rows = _rows(out)
    assert float(rows["ada"]["total"]) == pytest.approx(float(first["ada"]["total"]) - 0.75)
    assert float(rows["ada"]["p1"]) == pytest.approx(float(first["ada"]["p1"]) - 0.75)
    assert rows["ada"]["manual"] == "p1 answer_p1: 0.25 by hand (first pass 1)"
    assert comment in rows["ada"]["reasons"]
    # bob's practice 2 was never exported: the first pass gave 0, the instructor 1
    assert float(rows["bob"]["total"]) == pytest.approx(float(first["bob"]["total"]) + 1)
    assert rows["bob"]["manual"] == "p2 answer_p2: 1 by hand (first pass 0)"
    assert rows["cy"]["manual"] == "" and rows["cy"]["total"] == first["cy"]["total"]
    page = (fb / f"{feedback_filename('ada')}.html").read_text()
    assert "read by your instructor" in page and comment in page and "Automatic first pass: 1 / 1" in page
    text = (fb / f"{feedback_filename('ada')}.txt").read_text()
    assert comment in text and text.startswith(f"Day 1 homework: {rows['ada']['total']} /")
    bob = (fb / f"{feedback_filename('bob')}.txt").read_text()  # a practice never exported, its answer scored
    assert "Practice 2 (1/" in bob and "answer_p2 written: scored by the instructor: 1 / 1" in bob
    assert "Every automatic check of it earns 0" in (fb / f"{feedback_filename('bob')}.html").read_text()
    # kept in the store: a regrade without the CSV gives the same rows, and a new review shows them
    st = open_store(graded["store"])
    assert st.verify() == [] and len(st.manual_scores()) == 2
    again = graded["tmp"] / "r2.csv"
    regrade(graded["store"], again, hidden=[graded["hidden"]], verbose=False)
    assert again.read_bytes() == out.read_bytes()
    write_review(graded["store"], graded["tmp"] / "review-again")
    kept = list(csv.DictReader(io.StringIO((graded["tmp"] / "review-again" / "manual.csv").read_text("utf-8-sig"))))
    ada = next(r for r in kept if (r["student"], r["check"]) == ("ada", "answer_p1"))
    assert (ada["points"], ada["comment"], ada["first_pass"]) == ("0.25", comment, "1")


def test_a_bad_manual_csv_stops_the_regrade_and_the_grading_first(graded, tmp_path, capsys):
    st = open_store(graded["store"])
    before = st.manifest.get("manual")
    bad = _csv(tmp_path, HEAD + "ada,answer_p1,80%,\nmallory,answer_p1,1,\n")
    out = tmp_path / "never.csv"
    rc = main(["regrade", "--store", str(graded["store"]), "--out", str(out), "--manual", str(bad), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "line 2" in err and "80%" in err and "unknown student 'mallory'" in err
    assert not out.exists() and open_store(graded["store"]).manifest.get("manual") == before
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ada.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook()))
    args = [str(subs), "--day", "1", "--out", str(tmp_path / "g" / "g.csv"), "--manual", str(bad), "--quiet"]
    rc = main(args + ["--unsafe-no-sandbox"] * (not _sandbox_ok()))
    assert rc == 2 and "unknown student 'mallory'" in capsys.readouterr().err
    assert not (tmp_path / "g" / "g.csv").exists()  # nothing ran


def test_a_hand_score_is_not_applied_to_an_answer_that_changed(graded):
    book = ManualBook(1, {("ada", "answer_p1"): ManualScore("ada", "answer_p1", 0.0, "too short", "0123456789ab")})
    res, note = book.apply("ada", graded["folders"]["ada"], graded["records"]["ada"]["results"])
    assert "answer changed since it was read" in note
    r = next(r for r in res[1]["results"] if r["name"] == "answer_p1 written")
    assert r["earned"] == 1 and not r.get("manual")
    res, note = apply_scores(1, "checks crashed", {"answer_p1": ManualScore("ada", "answer_p1", 1.0)}, {})
    assert res == "checks crashed" and "not applied: the checks did not run" in note
    orig = graded["records"]["ada"]["results"]
    res, _ = apply_scores(1, orig, {"answer_p1": ManualScore("ada", "answer_p1", 0.5)}, {})
    assert next(r for r in orig[1]["results"] if r["name"] == "answer_p1 written")["earned"] == 1  # not changed


# ------------------------------------------------------------------ the grader, end to end: grading and --resume
def _sandbox_ok() -> bool:
    from workshop_utils.grading.sandbox import sandbox_available

    return sandbox_available()[0]


def _notebook(answer: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from workshop_utils.grading import check"),
                nbformat.v4.new_code_cell(f"answer_p1 = {answer!r}\ncheck(day=1, practice=1)")]
    return nbformat.writes(nb)


def test_the_grader_applies_hand_scores_and_keeps_them_on_resume(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    good = "The auroc and the precision at each recall rank bound sequences above unbound ones well here. " * 3
    (subs / "alice.ipynb").write_text(_notebook(good))
    (subs / "bob.ipynb").write_text(_notebook("too short"))
    manual = _csv(tmp_path, HEAD + "alice,answer_p1,0.5,Say what the AUROC means\n")
    kw = {"unsafe_no_sandbox": not _sandbox_ok()} if "unsafe_no_sandbox" in inspect.signature(grade_folder).parameters \
        else {}
    out, store, fb = tmp_path / "private" / "g.csv", tmp_path / "private" / "store", tmp_path / "fb"
    grade_folder(subs, 1, out, timeout=300, memory_mb=4000, verbose=False, store=store, feedback=fb, manual=manual,
                 **kw)
    rows = _rows(out)
    assert rows["alice"]["manual"] == "p1 answer_p1: 0.5 by hand (first pass 1)", rows["alice"]
    assert rows["bob"]["manual"] == "" and "answer_p1 has 2 words" in rows["bob"]["reasons"]
    assert "Say what the AUROC means" in (fb / f"{feedback_filename('alice')}.html").read_text()
    # interrupted before alice's row: --resume (without --manual) grades her again, with the store's hand score
    text = out.read_text().splitlines(keepends=True)
    out.write_text("".join(line for line in text if not line.startswith("alice,")))
    grade_folder(subs, 1, out, timeout=300, memory_mb=4000, verbose=False, store=store, resume=True, **kw)
    again = _rows(out)
    assert again["alice"]["manual"] == rows["alice"]["manual"] and again["alice"]["total"] == rows["alice"]["total"]
    assert again["bob"] == rows["bob"] and len(again) == 2


def test_hand_scores_changed_behind_the_stores_back_are_refused(graded, tmp_path):
    import shutil

    from workshop_utils.grading.store import StoreError

    copy = tmp_path / "store"
    shutil.copytree(graded["store"], copy)
    st = open_store(copy)
    st.save_manual({("cy", "answer_p1"): ManualScore("cy", "answer_p1", 0.5)})
    assert open_store(copy).manual_scores()[("cy", "answer_p1")].points == 0.5 and not st.verify()
    (copy / "manual.json").write_text((copy / "manual.json").read_text().replace("0.5", "1.0"))
    with pytest.raises(StoreError, match="hand scores"):
        open_store(copy).manual_scores()
    with pytest.raises(StoreError, match="changed since grading"):
        regrade(copy, tmp_path / "x.csv", hidden=[graded["hidden"]], verbose=False)
    assert not (tmp_path / "x.csv").exists()
