"""What the grader keeps (``grading/keeper.py``), end to end: a small class graded with --store, --feedback and
--report, then regraded.

The class: a hostile submission (its cells print ``<script>``, display raw HTML, an SVG with
script, a ``javascript:`` link, and crash), a copy of it under another name (a similar pair),
and a notebook that is not one.  Every submission runs in the real sandbox (or, where
bubblewrap cannot run, without it, as ``tests/_homework_kit.grade`` does).
"""
from __future__ import annotations

import csv
import inspect
import json
from pathlib import Path

import nbformat
import pytest

from _grading_kit import INJECTION
from _html_kit import executable_bits
from workshop_utils.grading.grader import grade_folder, main
from workshop_utils.grading.regrade import regrade
from workshop_utils.grading.store import open_store

HIDDEN = Path(__file__).resolve().parent / "homework_hidden" / "hidden_checks.py"


def _hostile() -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("from workshop_utils.grading import check\nimport numpy as np"),
        nbformat.v4.new_code_cell(f"print({INJECTION!r})\nfrom IPython.display import HTML, SVG, display\n"
                                  f"display(HTML({INJECTION!r}))\n"
                                  "display(SVG('<svg xmlns=\"http://www.w3.org/2000/svg\"><script>window.pwned=1"
                                  "</script><circle r=\"4\"/></svg>'))"),
        nbformat.v4.new_code_cell("test_scores = np.full(10, 0.5)\nauroc = 0.5\n"
                                  "answer_p1 = '<img src=x onerror=alert(1)> ' * 40\ncheck(day=1, practice=1)"),
        nbformat.v4.new_code_cell(f"raise ValueError({INJECTION!r})"),
    ]
    return nbformat.writes(nb)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    subs = tmp / "subs"
    subs.mkdir()
    (subs / "mallory.ipynb").write_text(_hostile())
    (subs / "mallory_copy.ipynb").write_text(_hostile())
    (subs / "broken.ipynb").write_text("{not a notebook")
    kw = {}
    if "unsafe_no_sandbox" in inspect.signature(grade_folder).parameters:
        from workshop_utils.grading.sandbox import sandbox_available

        kw["unsafe_no_sandbox"] = not sandbox_available()[0]
    out = tmp / "private" / "grades.csv"
    grade_folder(subs, 1, out, hidden=[HIDDEN], timeout=300, memory_mb=4000, verbose=False,
                 store=tmp / "private" / "store", feedback=tmp / "feedback", report=tmp / "class.html", **kw)
    return {"tmp": tmp, "out": out, "store": tmp / "private" / "store", "feedback": tmp / "feedback",
            "report": tmp / "class.html", "subs": subs, "kw": kw}


def test_every_submission_has_a_feedback_page_without_anything_executable(graded):
    pages = sorted(graded["feedback"].glob("*.html"))
    texts = sorted(graded["feedback"].glob("*.txt"))
    assert len(pages) == len(texts) == 3
    for page in pages:
        html = page.read_text()
        assert not executable_bits(html), (page.name, executable_bits(html))
    mallory = next(p for p in pages if p.name.startswith("mallory-")).read_text()
    assert "&lt;script&gt;" in mallory and "cell 4" in mallory  # printed text shown escaped; the crashing cell named
    assert "Your notebook, as the grader ran it" in mallory and "auroc = 0.5" in mallory
    broken = next(p for p in pages if p.name.startswith("broken-")).read_text()
    assert "not a readable notebook" in broken


def test_the_report_and_the_store(graded):
    html = graded["report"].read_text()
    assert not executable_bits(html)
    assert "mallory &amp; mallory_copy" in html  # the copied pair, with its shared lines
    st = open_store(graded["store"])
    assert sorted(st.students()) == ["broken", "mallory", "mallory_copy"] and not st.verify()
    rec = st.get("mallory")
    assert rec["executed"] and json.loads(rec["executed"])["cells"]
    with open(graded["out"], newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert all(r["seconds"] for r in rows if r["student"] != "broken")


def test_regrade_gives_the_same_csv_and_report_command_works(graded, capsys):
    again = graded["tmp"] / "again.csv"
    res = regrade(graded["store"], again, hidden=[HIDDEN], feedback=graded["tmp"] / "fb2", verbose=False)
    assert again.read_bytes() == graded["out"].read_bytes() and not res.rerun
    assert len(list((graded["tmp"] / "fb2").glob("*.html"))) == 3
    rc = main(["report", "--csv", str(graded["out"]), "--store", str(graded["store"]), "--out",
               str(graded["tmp"] / "r2.html")])
    assert rc == 0 and (graded["tmp"] / "r2.html").is_file()


def test_a_used_store_needs_resume_and_bad_folders_fail_first(graded, capsys):
    base = [str(graded["subs"]), "--day", "1", "--hidden", str(HIDDEN)]
    if graded["kw"].get("unsafe_no_sandbox"):
        base.append("--unsafe-no-sandbox")
    rc = main(base + ["--out", str(graded["tmp"] / "x" / "g.csv"), "--store", str(graded["store"])])
    assert rc == 2 and "--store" in capsys.readouterr().err
    day2 = [b if b != "1" else "2" for b in base]
    rc = main(day2 + ["--out", str(graded["tmp"] / "y" / "g.csv"), "--store", str(graded["store"]), "--resume"])
    assert rc == 2 and "holds day 1, not day 2" in capsys.readouterr().err
    afile = graded["tmp"] / "afile"
    afile.write_text("x")
    rc = main(base + ["--out", str(graded["tmp"] / "z" / "g.csv"), "--feedback", str(afile / "fb")])
    assert rc == 2 and "--feedback: cannot write" in capsys.readouterr().err
    assert not (graded["tmp"] / "z" / "g.csv").exists()  # nothing ran
    with pytest.raises(SystemExit):  # argparse: regrade takes its day from the store
        main(["regrade", "--store", str(graded["store"]), "--out", str(graded["tmp"] / "w.csv"), "--day", "2"])
    rc = main(["report", "--csv", str(graded["tmp"] / "nope.csv"), "--out", str(graded["tmp"] / "r.html"), "--day",
               "1"])
    assert rc == 2 and "no such CSV" in capsys.readouterr().err


def test_resume_with_the_store_reuses_its_probe(graded):
    st = open_store(graded["store"])
    before = st.manifest["probe"]["sha256"]
    out = graded["out"]
    rows = list(csv.DictReader(open(out, newline="")))
    keep = [r for r in rows if r["student"] != "mallory_copy"]
    with open(graded["tmp"] / "partial.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(keep)
    grade_folder(graded["subs"], 1, graded["tmp"] / "partial.csv", hidden=[HIDDEN], timeout=300, memory_mb=4000,
                 verbose=False, resume=True, store=graded["store"], **graded["kw"])
    assert open_store(graded["store"]).manifest["probe"]["sha256"] == before
    assert (graded["tmp"] / "partial.csv").read_bytes().count(b"\nmallory_copy,") == 1


def test_the_store_may_not_lie_where_a_sandbox_can_see_it(graded):
    from workshop_utils.grading.sandbox import package_dir

    if graded["kw"].get("unsafe_no_sandbox"):
        pytest.skip("without bubblewrap nothing is mounted (and nothing is private)")
    with pytest.raises(RuntimeError, match="private paths"):
        grade_folder(graded["subs"], 1, graded["tmp"] / "q" / "g.csv", hidden=[HIDDEN], verbose=False,
                     store=package_dir() / "grading_store")
    assert not (package_dir() / "grading_store").exists()
