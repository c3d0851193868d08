"""``workshop-grade review``: one page per written question, every answer escaped, and the manual CSV template.

The class is the kit's hand-written Day-1 exports (no notebook runs): one student answers
with script tags and event handlers, one with 600,000 characters, one exported nothing,
one's id is a script, one's id is a spreadsheet formula.
"""
from __future__ import annotations

import csv
import io
import shutil

import pytest

from _grading_kit import CLASS, INJECTION, hidden_file, make_class_store
from test_feedback import executable_bits
from test_pages_browser import _open_and_check, browser  # noqa: F401 - the fixture
from workshop_utils.grading.grader import main
from workshop_utils.grading.manual import read_manual, written_questions
from workshop_utils.grading.review import TEMPLATE_COLUMNS, write_review

HOSTILE = ("My answer: the auroc is high. " + INJECTION + ' <b onmouseover="window.pwned=1">bold</b> '
           "<iframe src=\"javascript:alert(1)\"></iframe> <style>body{display:none}</style> " + "word " * 30)
HUGE = "auroc " * 100_000  # 600,000 characters
FORMULA = "=HYPERLINK(\"http://x\",\"y\")"
SCRIPT_ID = '<script>alert("id")</script>'


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("review")
    class_ = {**CLASS, FORMULA: (2.0, 0.0)}
    graded = make_class_store(tmp, hidden_file(tmp / "hidden.py", 0.75), class_=class_,
                              answers={"ada": HOSTILE, "bob": HUGE})
    paths = write_review(graded["store"], tmp / "review")
    return {**graded, "tmp": tmp, "paths": paths, "review": tmp / "review", "class": class_}


def test_one_page_per_written_question_with_every_answer_escaped(reviewed):
    names = sorted(p.name for p in reviewed["paths"])
    assert names == sorted([f"{q.answer}.html" for q in written_questions(1)] + ["index.html", "manual.csv"])
    for p in reviewed["review"].glob("*.html"):
        html = p.read_text()
        assert not executable_bits(html), (p.name, executable_bits(html))
        assert "Content-Security-Policy" in html and "script-src" not in html  # default-src 'none' forbids scripts
    page = (reviewed["review"] / "answer_p1.html").read_text()
    for sid in reviewed["class"]:  # every student, side by side, ids escaped too
        assert f"<td>{__import__('html').escape(sid)}</td>" in page
    assert "&lt;script&gt;document.title" in page and "onmouseover=&quot;window.pwned" in page
    assert "<script" not in page and "<iframe" not in page and "<b " not in page
    assert "580,000 more characters not shown" in page and len(page) < 200_000  # the huge answer is cut
    assert page.count("no answer") == 1  # dee exported nothing
    assert "answer_p1 written" in page and "what the numbers say about the model" in page


def test_the_first_pass_is_beside_each_answer(reviewed):
    page = (reviewed["review"] / "answer_p1.html").read_text()
    rec = reviewed["records"]["bob"]["results"][1]["results"]
    first = next(r for r in rec if r["name"] == "answer_p1 written")
    assert first["passed"] and f"1 / 1<br><span class=\"muted\">{first['message']}" in page


def test_the_template_is_a_spreadsheet_csv_that_reads_back(reviewed):
    raw = (reviewed["review"] / "manual.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM: a spreadsheet reads the accents as UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(rows[0]) == TEMPLATE_COLUMNS
    assert len(rows) == len(written_questions(1)) * len(reviewed["class"])
    formula = [r for r in rows if r["student"].lstrip("'") == FORMULA]
    assert formula and all(r["student"] == "'" + FORMULA for r in formula)  # not run by a spreadsheet
    ada = next(r for r in rows if r["student"] == "ada" and r["check"] == "answer_p1")
    assert ada["max_points"] == "1" and ada["points"] == "" and len(ada["answer_id"]) == 12
    assert next(r for r in rows if r["student"] == "dee" and r["check"] == "answer_p1")["answer_id"] == ""
    # untouched, it holds no score; filled in, it reads back (the formula id included)
    assert read_manual(reviewed["review"] / "manual.csv", 1, reviewed["class"]) == {}
    for r in rows:
        r["points"] = "1"
    filled = reviewed["tmp"] / "filled.csv"
    with open(filled, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.DictWriter(fh, fieldnames=TEMPLATE_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    got = read_manual(filled, 1, reviewed["class"])
    assert len(got) == len(rows) and (FORMULA, "answer_p1") in got and (SCRIPT_ID, "answer_p5") in got


def test_review_never_overwrites_a_manual_csv_and_the_command(reviewed, capsys):
    before = (reviewed["review"] / "manual.csv").read_bytes()
    rc = main(["review", "--store", str(reviewed["store"]), "--out", str(reviewed["review"])])
    assert rc == 2 and "manual.csv exists" in capsys.readouterr().err
    assert (reviewed["review"] / "manual.csv").read_bytes() == before
    rc = main(["review", "--store", str(reviewed["tmp"] / "nostore"), "--out", str(reviewed["tmp"] / "r2")])
    assert rc == 2 and "not a grading store" in capsys.readouterr().err
    rc = main(["review", "--store", str(reviewed["store"]), "--out", str(reviewed["tmp"] / "r3")])
    assert rc == 0 and (reviewed["tmp"] / "r3" / "answer_p5.html").is_file()


def test_a_changed_store_is_refused(reviewed, tmp_path):
    copy = tmp_path / "store"
    shutil.copytree(reviewed["store"], copy)
    sub = next((copy / "subs").glob("*.tar"))
    sub.write_bytes(sub.read_bytes()[:-10] + b"x" * 10)
    with pytest.raises(ValueError, match="changed since grading"):
        write_review(copy, tmp_path / "r")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(not (CHROMIUM and shutil.which("chromedriver")), reason="needs Chromium and chromedriver")
def test_no_script_runs_in_a_review_page(reviewed, browser, tmp_path):
    _open_and_check(browser, reviewed["review"] / "answer_p1.html", tmp_path, "review")
    body = browser.find_element("tag name", "body").text
    assert "<script>document.title" in body and SCRIPT_ID in body  # shown as text, not run
