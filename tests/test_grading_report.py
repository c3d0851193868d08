"""The class report (``grading/report.py``): every section, nothing executable, bad CSVs and stores refused."""
from __future__ import annotations

import pytest

from _html_kit import EXECUTABLE
from workshop_utils.grading.report import read_grades, write_report
from workshop_utils.grading.store import open_store


@pytest.fixture(scope="module")
def graded(graded_class):
    """The small graded class (``tests/_homework_kit.py``: one per session, read only here)."""
    return graded_class


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
