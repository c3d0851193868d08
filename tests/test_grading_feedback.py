"""Feedback pages and text (``grading/feedback.py``); the sanitiser is tested with ``pages``, in a browser too."""
from __future__ import annotations

import os
import re

import pytest

from _grading_kit import CLASS
from _html_kit import EXECUTABLE, hostile_notebook
from workshop_utils.grading.feedback import (MAX_TEXT_CHARS, check_writable, feedback_filename, feedback_html,
                                             feedback_text, load_values, write_feedback)
from workshop_utils.grading.pages import CSP, esc


@pytest.fixture(scope="module")
def graded(graded_class):
    """The small graded class (``tests/_homework_kit.py``: one per session, read only here)."""
    return graded_class


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


