"""``workshop-grade review``: one page per written question, every answer escaped, and the manual CSV template.

The class is the kit's hand-written Day-1 exports (no notebook runs): one student answers
with script tags and event handlers, one with 600,000 characters, one exported nothing,
one's id is a script, one's id is a spreadsheet formula.
"""
from __future__ import annotations

import csv
import io
import shutil
import time

import pytest

from _grading_kit import CLASS, INJECTION, hidden_file, make_class_store
from _html_kit import executable_bits
from test_grading_pages import browser  # noqa: F401 - the fixture
from workshop_utils.grading.grader import main
from workshop_utils.grading.manual import read_manual, written_questions
from workshop_utils.grading.pages import page, script_csp
from workshop_utils.grading.review import EXPORT_SCRIPT, TEMPLATE_COLUMNS, write_review

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
    ours = f"<script>{EXPORT_SCRIPT}</script>"
    for p in reviewed["review"].glob("*.html"):
        html = p.read_text()
        assert html.count("<script") == (p.name != "index.html")  # the page's own export script, nothing else
        assert not executable_bits(html.replace(ours, "")), (p.name, executable_bits(html.replace(ours, "")))
        csp = "script-src 'sha256-" in html
        assert "Content-Security-Policy" in html and csp == (p.name != "index.html")
    page = (reviewed["review"] / "answer_p1.html").read_text()
    for sid in reviewed["class"]:  # every student, side by side, ids escaped too
        assert f"<td>{__import__('html').escape(sid)}</td>" in page
    assert "&lt;script&gt;document.title" in page and "onmouseover=&quot;window.pwned" in page
    assert "<script>document" not in page and "<iframe" not in page and "<b " not in page
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


def _type(browser, sid: str, points: str, comment: str) -> None:
    row = next(r for r in browser.find_elements("css selector", "tr.ans") if r.get_attribute("data-student") == sid)
    row.find_element("css selector", "input.pts").send_keys(points)
    row.find_element("css selector", "input.cmt").send_keys(comment)


needs_chromium = pytest.mark.skipif(not (CHROMIUM and shutil.which("chromedriver")),
                                    reason="needs Chromium and chromedriver")


@needs_chromium
def test_no_student_script_runs_and_the_page_exports_a_manual_csv(reviewed, browser, tmp_path):
    """The hostile answers and ids run nothing; the page's own script turns the typed points into a CSV that
    ``--manual`` reads (a formula-like id and a comment with quotes, commas and a leading '=' included)."""
    _open_and_check_with_our_script(browser, reviewed["review"] / "answer_p1.html")
    body = browser.find_element("tag name", "body").text
    assert "<script>document.title" in body and SCRIPT_ID in body  # shown as text, not run
    assert browser.execute_script("return document.scripts.length") == 1  # the page's own, nothing of theirs
    assert browser.execute_script("return document.querySelectorAll('[onerror],[onload],[onmouseover]').length") == 0
    _type(browser, "ada", "0.5", '=cmd, "quoted" comment')
    _type(browser, FORMULA, "1", "")
    _type(browser, SCRIPT_ID, "0", "no")
    browser.find_element("id", "export").click()
    text = browser.find_element("id", "csv").get_attribute("value")
    assert browser.find_element("id", "download").is_displayed()
    assert browser.execute_script("return typeof window.pwned") == "undefined" and "pwned" not in browser.title
    (tmp_path / "exported.csv").write_text(text, encoding="utf-8")
    got = read_manual(tmp_path / "exported.csv", 1, reviewed["class"])
    assert {k: (v.points, v.comment) for k, v in got.items()} == {
        ("ada", "answer_p1"): (0.5, '=cmd, "quoted" comment'), (FORMULA, "answer_p1"): (1.0, ""),
        (SCRIPT_ID, "answer_p1"): (0.0, "no")}
    assert all(v.answer_id for k, v in got.items())  # the answers' digests came along


@needs_chromium
def test_the_csp_alone_stops_a_script_that_escaped_the_escaping(browser, tmp_path):
    """A page whose body holds raw injected HTML (as if escaping failed): the hash-only CSP still runs nothing
    but the page's own script."""
    bad = tmp_path / "raw.html"
    bad.write_text(page("Day 1 review: raw", INJECTION + '<button type="button" id="export">x</button>'
                        '<a id="download" hidden>d</a><textarea id="csv"></textarea>', script=EXPORT_SCRIPT))
    _open_and_check_with_our_script(browser, bad)
    browser.find_element("id", "export").click()
    assert browser.find_element("id", "csv").get_attribute("value").startswith("student,check,")  # ours ran
    assert browser.execute_script("return typeof window.pwned") == "undefined" and "pwned" not in browser.title
    assert script_csp(EXPORT_SCRIPT) in bad.read_text()


def _open_and_check_with_our_script(browser, path) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    browser.get(path.resolve().as_uri())
    time.sleep(1.5)  # give an onerror / onload handler time to fire
    try:
        text = browser.switch_to.alert.text
        browser.switch_to.alert.dismiss()
        pytest.fail(f"an alert opened: {text!r}")
    except NoAlertPresentException:
        pass
    assert "pwned" not in browser.title and "review" in browser.title
    assert browser.execute_script("return typeof window.pwned") == "undefined"
    scripts = browser.execute_script("return Array.from(document.scripts).map(s => s.textContent)")
    assert scripts[-1] == EXPORT_SCRIPT  # the page's own (an injected one may be in the DOM: it must not run)
