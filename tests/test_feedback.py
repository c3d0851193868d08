"""Feedback pages and text, the sanitiser, the similarity and the class report (no browser: see test_pages_browser)."""
from __future__ import annotations

import base64
import os
import re
from html.parser import HTMLParser

import pytest

from _grading_kit import CLASS, INJECTION, hidden_file, make_class_store
from workshop_utils.grading.feedback import (MAX_TEXT_CHARS, check_writable, feedback_filename, feedback_html,
                                             feedback_text, load_values, write_feedback)
from workshop_utils.grading.pages import CSP, esc
from workshop_utils.grading.report import read_grades, write_report
from workshop_utils.grading.similarity import fingerprints, similar_pairs, tokens
from workshop_utils.grading.store import open_store

FORBIDDEN_TAGS = {"script", "svg", "iframe", "object", "embed", "style", "link", "math", "form", "frame",
                  "base", "template", "noscript"}


class _Tags(HTMLParser):
    """Collects what a browser would parse as executable: tags, event attributes, script URLs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.bad: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in FORBIDDEN_TAGS and not (tag == "style" and self.getpos()[0] <= 2):  # the page's own <style>
            self.bad.append(f"<{tag}>")
        if tag == "meta" and not any(k in ("charset", "name") or v == "Content-Security-Policy" for k, v in attrs):
            self.bad.append("<meta>")
        for k, v in attrs:
            if k.startswith("on"):
                self.bad.append(f"{tag} {k}=")
            if k in ("href", "src", "action", "formaction", "xlink:href", "style") and v and (
                    "javascript:" in v.lower().replace(" ", "") or (k == "src" and not v.startswith("data:image/"))):
                self.bad.append(f"{tag} {k}={v[:40]}")


def executable_bits(html: str) -> list[str]:
    """What in ``html`` a browser could run or load (empty: nothing)."""
    p = _Tags()
    p.feed(html)
    return p.bad


class _Exec:
    @staticmethod
    def search(html):
        return executable_bits(html)


EXECUTABLE = _Exec()


def hostile_notebook() -> dict:
    """An executed notebook whose outputs try everything a feedback page must not run."""
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(64)).decode()
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>window.pwned=1</script></svg>'
    outs = [
        {"output_type": "stream", "name": "stdout", "text": INJECTION},
        {"output_type": "display_data", "data": {"text/html": INJECTION + "<b>bold stays</b><table><tr><td>1</td>"
                                                 "</tr></table>", "text/plain": "x"}, "metadata": {}},
        {"output_type": "display_data", "data": {"image/svg+xml": svg}, "metadata": {}},
        {"output_type": "display_data", "data": {"image/png": png}, "metadata": {}},
        {"output_type": "display_data", "data": {"image/png": "PHNjcmlwdD4="}, "metadata": {}},  # not a PNG
        {"output_type": "execute_result", "data": {"text/html": '<iframe src="javascript:alert(1)"></iframe>'
                                                   '<math><mi xlink:href="javascript:alert(1)">x</mi></math>'
                                                   '<form action="javascript:alert(1)"><button>go</button></form>'
                                                   '<div style="background:url(javascript:alert(1))">s</div>'},
         "metadata": {}, "execution_count": 1},
        {"output_type": "error", "ename": "ValueError", "evalue": INJECTION,
         "traceback": ["\x1b[31mValueError\x1b[0m: " + INJECTION]},
    ]
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": INJECTION},
        {"cell_type": "code", "metadata": {}, "source": "from IPython.display import HTML\nHTML('" + INJECTION + "')",
         "outputs": outs, "execution_count": 1},
        {"cell_type": "code", "metadata": {}, "source": "import workshop_utils.grading.export as _wu_grading_export\n",
         "outputs": [], "execution_count": 2}]}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("class")
    hidden = hidden_file(tmp / "hidden.py", 0.75)
    return {**make_class_store(tmp, hidden), "hidden": hidden, "tmp": tmp}


def _record(graded, sid):
    return {**graded["records"][sid], "student": sid}


def test_feedback_page_explains_every_check_and_measures_without_labels(graded):
    rec = _record(graded, "bob")
    values = load_values(1, graded["folders"]["bob"])
    html = feedback_html(rec, values, graded["ref"]["probe"], hostile_notebook())
    assert html.index(f'content="{CSP}"') < html.index("<title>")
    assert "<script" not in html.lower() and not EXECUTABLE.search(html)
    from workshop_utils.grading.practices import get_practice

    for c in get_practice(1, 1).checks:
        assert esc(c.name) in html  # every public check is listed
    assert "AUROC on 1,500 sequences you never saw" in html and "allow a difference of up to" in html
    assert html.count("data:image/png;base64,") >= 1  # the ROC figure
    assert "hidden check" in html and "probe_auroc" not in html  # the hidden check: points and a neutral line
    for p in range(2, 6):
        assert f"Practice {p}:" in html and "Nothing of this practice reached the grader" in html
    y = graded["ref"]["probe"]["y"]
    assert "".join(map(str, y[:40])) not in html  # no labels


def test_feedback_of_an_injected_student_and_status(graded):
    sid = '<script>alert("id")</script>'
    html = feedback_html(_record(graded, sid), None, None, None)
    assert not EXECUTABLE.search(html) and "&lt;script&gt;" in html
    dee = feedback_html(_record(graded, "dee"), None, None, None)
    assert "ran out of time" in dee and "cell 7" in dee


def test_feedback_text_is_short_and_names_every_lost_point(graded):
    for sid in CLASS:
        text = feedback_text(_record(graded, sid))
        assert len(text) <= MAX_TEXT_CHARS
        rec = graded["records"][sid]
        for pr in rec["results"].values():
            for r in pr["results"]:
                if r["earned"] < r["points"] and not pr["unexported"]:
                    assert (r["name"] in text) or (r["hidden"] and "hidden check" in text)
    assert "Practice 2 (0/9): nothing reached the grader" in feedback_text(_record(graded, "ada"))
    with pytest.raises(ValueError, match="max_chars"):
        feedback_text(_record(graded, "ada"), max_chars=10)


def test_write_feedback_names_files_safely_and_refuses_an_unwritable_folder(graded, tmp_path):
    sid = '<script>alert("id")</script>'
    html, txt = write_feedback(tmp_path / "fb", _record(graded, sid))
    assert html.parent == tmp_path / "fb" and re.fullmatch(r"[A-Za-z0-9._-]+\.html", html.name)
    assert feedback_filename("a/b") != feedback_filename("a_b")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):  # root ignores modes: use a path under a file instead
            ro = tmp_path / "afile"
            ro.write_text("x")
            ro = ro / "sub"
        with pytest.raises(OSError, match="--feedback: cannot write"):
            check_writable(ro)
    finally:
        (tmp_path / "ro").chmod(0o700)


def test_tokens_and_similarity_ignore_names_comments_and_the_template():
    a = "import numpy as np\n# mine\nx = np.arange(10)\nfor i in range(3):\n    print(x[i] * 2, 'a')\n" * 3
    b = "import numpy as np\nvalues = np.arange(99)  # other\nfor k in range(7):\n    print(values[k] * 5, 'b')\n" * 3
    assert [t for t, _ in tokens(a)] == [t for t, _ in tokens(b.replace("values", "x"))]
    assert tokens("%matplotlib inline\nx = 1") == [("V", 2), ("=", 2), ("N", 2)]
    other = "def f(q):\n    return sorted(q, key=len)[::-1]\n" * 4
    pairs = similar_pairs({"a": [a], "b": [b], "c": [other]}, min_shared=2)
    assert [(p.a, p.b) for p in pairs] == [("a", "b")] and pairs[0].lines_a
    assert similar_pairs({"a": [a], "b": [b]}, template=[a], min_shared=2) == []
    assert fingerprints(["x = 1"]) == {}
    with pytest.raises(ValueError):
        similar_pairs({"a": [a]}, threshold=0)


def test_class_report_has_every_section(graded, tmp_path):
    out = write_report(tmp_path / "class.html", graded["csv"], store=graded["store"])
    html = out.read_text()
    assert not EXECUTABLE.search(html)
    for words in ("Score distribution", "Pass rate of every check", "Statuses", "Slowest", "Largest",
                  "Similar submissions", "torch_model learned (private data)", "time limit"):
        assert words in html, words
    assert "<h3>ada &amp; cy: 100%" in html and html.count(" shared fingerprints)</h3>") == 1  # the copied pair only
    assert "best, best_cut = acc, cut" in html  # with the shared lines


def test_report_of_an_empty_or_foreign_csv_or_another_class_store(graded, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty"):
        read_grades(empty)
    foreign = tmp_path / "foreign.csv"
    foreign.write_text("name,score\nann,3\n")
    with pytest.raises(ValueError, match="not a workshop-grade CSV"):
        read_grades(foreign)
    header = tmp_path / "header.csv"
    header.write_text(graded["csv"].read_text().splitlines()[0] + "\n")
    with pytest.raises(ValueError, match="no rows"):
        read_grades(header)
    with pytest.raises(FileNotFoundError):
        read_grades(tmp_path / "nope.csv")
    other = tmp_path / "other.csv"
    other.write_text(header.read_text() + "zed,0,0,0,0,0,0,10,ok,\n")
    with pytest.raises(ValueError, match="another class"):
        write_report(tmp_path / "r.html", other, store=graded["store"])
    with pytest.raises(ValueError, match="--day"):
        write_report(tmp_path / "r.html", graded["csv"])
    assert write_report(tmp_path / "r.html", graded["csv"], day=1).is_file()  # without a store: CSV only
    st = open_store(graded["store"])
    assert st.day == 1


def test_day2_attribution_figure_marks_the_planted_site():
    import numpy as np

    from workshop_utils.grading.feedback import probe_figures

    rng = np.random.default_rng(0)
    y = np.array([0, 1, 1, 0, 1] * 20)
    start = np.where(y == 1, 50, -1)
    attr = rng.normal(size=(100, 200, 4)) * 0.1
    attr[y == 1, 50:69] += 2.0
    rec = {"day": 2, "student": "s", "results": {"1": {"unexported": None, "results": [
        {"name": "ISM finds the planted sites on private data", "points": 3, "earned": 3, "passed": True,
         "message": "ok", "hidden": False, "private": True, "skipped": False,
         "measured": [{"kind": "recovery", "value": 0.9, "model": "model", "method": "ism", "n": 60},
                      {"kind": "limit", "value": 0.55, "name": "ism_sites"}]}]}}}
    figs = probe_figures(rec, {1: {"model": {"probe_ism": attr, "scores": np.zeros(3)}}},
                         {"y": y, "site_start": start})
    (cap, png), = figs.values()
    assert "ISM of model" in cap and png.startswith(b"\x89PNG") and len(png) > 5000
    html = feedback_html(rec, {1: {"model": {"probe_ism": attr}}}, {"y": y, "site_start": start})
    assert "top window on the planted site for 90% of 60 positives you never saw" in html
    assert "at least 0.55 earns the points" in html and not EXECUTABLE.search(html)


def test_measure_records_only_inside_a_check_and_not_in_export_is_flagged():
    from workshop_utils.grading.core import Check, NotInExport, measure, run_checks

    measure("auroc", 0.5, model="m")  # outside run_checks: nothing happens, nothing raises

    def needs_more(v, ref):
        measure("auroc", 0.71, model="m", n=10)
        raise NotInExport("m has no IG on the grader's probe")

    (r,) = run_checks([Check("c", 1, needs_more)], {}, {})
    assert r.not_in_export and not r.passed and r.message.startswith("not in the export")
    assert r.measured == [{"kind": "auroc", "value": 0.71, "model": "m", "n": 10}]
    (r2,) = run_checks([Check("d", 1, lambda v, ref: (True, "ok"))], {}, {})
    assert r2.measured == [] and not r2.not_in_export
