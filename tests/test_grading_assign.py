"""workshop-assign: template, reference and requirement text from one master notebook per day.

The committed files must be exactly what the masters give (byte for byte), the checks must read
their requirement text from the master (through the generated file shipped in the package), and
a bad master or a bad output path is refused with a clear error and nothing written.
"""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import nbformat
import pytest

from workshop_utils.grading import assign as A
from workshop_utils.grading import core
from workshop_utils.grading.core import Check, KIND_WORDS, homework_text, practice_from_text, text_problems
from workshop_utils.grading.practices import PRACTICES, leave_behind

REPO = Path(__file__).resolve().parents[1]
MASTERS = sorted((REPO / "homework" / "source").glob("day*.ipynb"))


# ------------------------------------------------------------------ the committed homework
def test_there_is_one_master_per_day():
    assert [m.name for m in MASTERS] == [f"day{d}.ipynb" for d in sorted(PRACTICES)]


@pytest.mark.parametrize("master", MASTERS, ids=[m.name for m in MASTERS])
def test_committed_files_are_what_the_master_generates(master):
    """Regenerate template, reference and requirement text; any byte of difference fails."""
    built = A.build(master)
    day = built.day
    assert built.paths["student"].resolve() == REPO / "homework" / f"day{day}_homework.ipynb"
    assert built.paths["solution"].resolve() == REPO / "tests" / "homework_solutions" / f"day{day}_reference.ipynb"
    assert built.paths["text"].resolve() == REPO / "workshop_utils" / "grading" / f"homework_day{day}.json"
    for key in A.OUTPUTS:
        committed = built.paths[key].read_bytes()
        assert committed == built.content[key], (
            f"{built.paths[key]} is not what {master.name} gives: edit the master and run `make assign`")
    assert A.build(master).content == built.content  # deterministic


def test_the_check_command_agrees(capsys):
    assert A.main(["--check", *map(str, MASTERS)]) == 0
    assert "all in step" in capsys.readouterr().out


@pytest.mark.parametrize("master", MASTERS, ids=[m.name for m in MASTERS])
def test_generated_notebooks_are_clean_and_keep_the_master_ids(master):
    src = nbformat.read(master, as_version=4)
    instructor = {c.id for c in src.cells if "instructor" in c.metadata.get("tags", [])}
    assert not [c for c in src.cells if c.cell_type == "code" and (c.outputs or c.execution_count)], \
        "store the master without outputs"
    assert instructor, "each master shows the instructor-only cell type"
    built = A.build(master)
    for key in ("student", "solution"):
        nb = nbformat.reads(built.content[key].decode(), as_version=4)
        nbformat.validate(nb)
        assert "assign" not in nb.metadata
        ids = [c.id for c in nb.cells]
        assert set(ids) <= {c.id for c in src.cells} and not set(ids) & instructor
        for c in nb.cells:
            assert "tags" not in c.metadata and "### BEGIN" not in c.source and "### END" not in c.source
            if c.cell_type == "code":
                assert c.outputs == [] and c.execution_count is None


def test_template_and_reference_differ_only_in_the_solution_cells():
    for master in MASTERS:
        built = A.build(master)
        student, ref = (nbformat.reads(built.content[k].decode(), as_version=4) for k in ("student", "solution"))
        assert [c.id for c in student.cells] == [c.id for c in ref.cells]
        differ = [c.id for c, r in zip(student.cells, ref.cells) if c.source != r.source]
        assert len(differ) == 5  # one code cell per practice
        assert all(c.cell_type == "code" for c in student.cells if c.id in differ)


def test_checks_read_their_requirement_text_from_the_master():
    """Title, names, kinds and words of every practice are the generated text's, and every check's needs are listed."""
    for day, practices in PRACTICES.items():
        text = {p["number"]: p for p in homework_text(day)["practices"]}
        assert sorted(text) == [p.number for p in practices]
        for p in practices:
            t = text[p.number]
            assert p.title == t["title"]
            assert [(r.name, r.kind, r.what) for r in p.requirements] == \
                [(i["name"], i["kind"], i["what"]) for i in t["leave_behind"]]
            assert text_problems(day, p.number, p.checks, {}) == []


def test_the_points_in_the_master_are_what_the_checks_give():
    from workshop_utils.grading.hidden import load_hidden

    hidden = load_hidden(REPO / "tests" / "homework_hidden" / "hidden_checks.py")
    for day, practices in PRACTICES.items():
        points = {p["number"]: p["points"] for p in homework_text(day)["practices"]}
        for p in practices:
            assert points[p.number] == sum(c.points for c in p.checks + hidden[(day, p.number)]), (day, p.number)


def test_the_text_ships_inside_the_package():
    """Colab students and the grader's sandbox have the package only: the text must be package data."""
    toml = (REPO / "pyproject.toml").read_text()
    assert '"grading/*.json"' in toml and 'workshop-assign = "workshop_utils.grading.assign:main"' in toml
    for day in PRACTICES:
        assert (REPO / "workshop_utils" / "grading" / f"homework_day{day}.json").is_file()


def test_the_template_prints_the_lists_the_checks_read():
    for day, practices in PRACTICES.items():
        cells = json.loads((REPO / "homework" / f"day{day}_homework.ipynb").read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        for p in practices:
            assert leave_behind(p) in text
            assert f"### Practice {p.number}: {p.title} (10 points)" in text


def test_out_of_step_text_warns_and_keeps_the_package_importable(monkeypatch):
    fake = {"day": 1, "practices": [{"number": 1, "title": "T", "points": 10,
                                     "leave_behind": [{"name": "a", "kind": "scalar", "what": "a number"}]}]}
    monkeypatch.setattr(core, "homework_text", lambda day: fake)
    chk = Check("needs b", 1, lambda v, r: (True, ""), needs=("a", "b"))
    with pytest.warns(RuntimeWarning, match="'b' is not in the Leave-behind list"):
        p = practice_from_text(1, 1, [chk])
    assert p.names() == ["a"] and p.title == "T"
    with pytest.warns(RuntimeWarning, match="'model_x' is not in the Leave-behind list"):
        practice_from_text(1, 1, [], model_x={"split": "test"})
    with pytest.warns(RuntimeWarning, match="attribution"):  # the master made `a` a number, the code wants a model
        practice_from_text(1, 1, [], a={"attribution": ("ism",)})
    with pytest.warns(RuntimeWarning, match="no practice 2"):
        assert practice_from_text(1, 2, []).requirements == ()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert practice_from_text(1, 1, [Check("a", 1, lambda v, r: (True, ""), needs=("a",))]).names() == ["a"]


# ------------------------------------------------------------------------- the format
def _cell(kind: str, source: str, cid: str, tags=None) -> dict:
    make = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
            "raw": nbformat.v4.new_raw_cell}[kind]
    c = make(source)
    c.id = cid
    if tags:
        c.metadata["tags"] = list(tags)
    return c


PRACTICE_MD = ("### Practice 1: Do a thing (10 points)\n\nDo it.\n\n**Leave behind** (exactly these names):\n\n"
               "- `x` (a number): the thing\n- `fig` (a matplotlib Figure): its picture")


def _master(tmp: Path, cells: list[dict], day: int = 1, name: str = "master.ipynb", **assign) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["assign"] = {"day": day, "student": "out/hw.ipynb", "solution": "out/ref.ipynb",
                             "text": "out/text.json", **assign}
    nb.cells = cells
    (tmp / "out").mkdir(exist_ok=True)
    path = tmp / name
    nbformat.write(nb, path)
    return path


def _basic(code: str, extra=()) -> list[dict]:
    return [_cell("markdown", "# Title", "c0"), _cell("markdown", PRACTICE_MD, "c1"), _cell("code", code, "c2"),
            _cell("code", "check(day=1, practice=1)", "c3"), *extra]


def _sources(path: Path) -> dict[str, str]:
    return {c.id: c.source for c in nbformat.read(path, as_version=4).cells}


def test_prompt_replaces_the_solution_and_both_outputs_are_written(tmp_path):
    code = ("import numpy as np\n### BEGIN PROMPT\nx = None  # your number\n### END PROMPT\n"
            "### BEGIN SOLUTION\nx = 42\n### END SOLUTION\nfig = None")
    master = _master(tmp_path, _basic(code))
    assert A.main([str(master)]) == 0
    out = tmp_path / "out"
    assert _sources(out / "hw.ipynb")["c2"] == "import numpy as np\nx = None  # your number\nfig = None"
    assert _sources(out / "ref.ipynb")["c2"] == "import numpy as np\nx = 42\nfig = None"
    text = json.loads((out / "text.json").read_text())
    assert text["day"] == 1 and text["note"] == A.TEXT_NOTE
    assert text["practices"] == [{"number": 1, "title": "Do a thing", "points": 10, "leave_behind": [
        {"name": "x", "kind": "scalar", "what": "the thing"}, {"name": "fig", "kind": "figure", "what": "its picture"}]}]
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert A.main([str(master)]) == 0  # nothing changed: nothing rewritten
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_a_master_run_in_jupyter_gives_the_same_files(tmp_path):
    """Outputs, execution counts, timings and the Python version Jupyter records never reach the outputs."""
    (tmp_path / "clean").mkdir()
    (tmp_path / "ran").mkdir()
    clean = A.build(_master(tmp_path / "clean", _basic("x = 1")))
    cells = _basic("x = 1")
    cells[2].execution_count = 7
    cells[2].outputs = [nbformat.v4.new_output("stream", text="hello\n")]
    cells[2].metadata["execution"] = {"iopub.execute_input": "2026-12-05T21:00:00.000Z"}
    cells[3].metadata["ExecuteTime"] = {"end_time": "2026-12-05T21:00:01"}
    ran = _master(tmp_path / "ran", cells)
    nb = json.loads(ran.read_text())
    nb["metadata"]["language_info"] = {"name": "python", "version": "3.11.9"}
    ran.write_text(json.dumps(nb))
    assert A.build(ran).content == clean.content


def test_a_solution_without_prompt_gets_nbgraders_placeholder_at_its_indentation(tmp_path):
    code = "def f(a):\n    ### BEGIN SOLUTION\n    return a + 1\n    ### END SOLUTION\n\nx = f(1)"
    master = _master(tmp_path, _basic(code))
    built = A.build(master)
    student = nbformat.reads(built.content["student"].decode(), as_version=4)
    assert student.cells[2].source == "def f(a):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\nx = f(1)"
    compile(student.cells[2].source, "cell", "exec")


def test_whole_cell_tags(tmp_path):
    cells = _basic("x = 1", [_cell("code", "print('reference only')", "s1", ["solution"]),
                             _cell("markdown", "Only students read this.", "p1", ["student"]),
                             _cell("markdown", "Grading notes.", "i1", ["instructor", "keep-me"]),
                             _cell("code", "y = 2", "t1", ["keep-me", "solution"]),
                             _cell("code", "### BEGIN PROMPT\nz = None\n### END PROMPT", "o1")])
    built = A.build(_master(tmp_path, cells))
    student, ref = (nbformat.reads(built.content[k].decode(), as_version=4) for k in ("student", "solution"))
    assert [c.id for c in student.cells] == ["c0", "c1", "c2", "c3", "p1", "o1"]
    assert [c.id for c in ref.cells] == ["c0", "c1", "c2", "c3", "s1", "t1"]  # the prompt-only cell is dropped
    assert ref.cells[5].metadata == {"tags": ["keep-me"]}  # other tags stay, ours go


@pytest.mark.parametrize("code, match", [
    ("### BEGIN SOLUTION\nx = 1", "never closed"),
    ("x = 1\n### END SOLUTION", "without a '### BEGIN SOLUTION'"),
    ("### BEGIN SOLUTION\n### BEGIN PROMPT\nx = 1\n### END PROMPT\n### END SOLUTION", "do not nest"),
    ("### BEGIN SOLUTION\nx = 1\n### END PROMPT", "without a '### BEGIN PROMPT'"),
    ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION", "looks like a marker"),
    ("### begin solution\nx = 1\n### end solution", "looks like a marker"),
    ("### BEGIN SOLUTIONS\nx = 1\n### END SOLUTIONS", "looks like a marker"),
])
def test_bad_markers_are_refused_and_nothing_is_written(tmp_path, code, match):
    master = _master(tmp_path, _basic(code))
    with pytest.raises(A.AssignError, match=match) as err:
        A.build(master)
    assert "cell 2 (id c2), line" in str(err.value)
    assert A.main([str(master)]) == 2
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("cell, match", [
    (_cell("markdown", "Answer:\n### BEGIN SOLUTION\nforty-two\n### END SOLUTION", "m1"), "markers in a markdown cell"),
    (_cell("raw", "### BEGIN PROMPT\nx\n### END PROMPT", "r1"), "markers in a raw cell"),
    (_cell("code", "### BEGIN SOLUTION\nx\n### END SOLUTION", "t1", ["solution"]), "cell tagged 'solution'"),
    (_cell("code", "x", "t2", ["solution", "instructor"]), "conflict"),
    (_cell("code", "x = 42", "t3", ["Solution"]), "tag 'Solution' is not one of"),
    (_cell("markdown", "notes", "t4", ["instructors"]), "tag 'instructors' is not one of"),
])
def test_markers_outside_untagged_code_cells_and_conflicting_tags(tmp_path, cell, match):
    with pytest.raises(A.AssignError, match=match):
        A.build(_master(tmp_path, _basic("x = 1", [cell])))


@pytest.mark.parametrize("md, match", [
    ("### Practice 1 - Do a thing (10 points)\n\n**Leave behind**:\n\n- `x` (a number): it", "must read"),
    ("## practice 1: Do a thing\n\n**Leave behind**:\n\n- `x` (a number): it", "must read"),
    ("### Practice 1: Do a thing (10 points)\n\nno list here", "exactly one line starting with"),
    ("### Practice 1: Do a thing (10 points)\n\n**Leave behind**:\n\n- `x` (a numbr): it", "unknown kind 'a numbr'"),
    ("### Practice 1: Do a thing (10 points)\n\n**Leave behind**:\n\n- x (a number): it", "expected '- `name`"),
    ("### Practice 1: Do a thing (10 points)\n\n**Leave behind**:\n\n- `x` (a number): a\n- `x` (an array): b",
     "listed twice"),
    ("### Practice 1: Do a thing (10 points)\n\n**Leave behind**:\n\n", "list is empty"),
    ("### Practice 2: Do a thing (10 points)\n\n**Leave behind**:\n\n- `x` (a number): it", "numbered 1, 2"),
])
def test_malformed_practices_are_refused(tmp_path, md, match):
    cells = _basic("x = 1")
    cells[1] = _cell("markdown", md, "c1")
    with pytest.raises(A.AssignError, match=match):
        A.build(_master(tmp_path, cells))


def test_self_check_cells_must_match_the_practices(tmp_path):
    cells = _basic("x = 1")
    cells[3] = _cell("code", "print('no check')", "c3")
    with pytest.raises(A.AssignError, match=r"practices \[1\] have no self-check cell"):
        A.build(_master(tmp_path, cells))
    cells[3] = _cell("code", "check(day=2, practice=1)", "c3")
    with pytest.raises(A.AssignError, match=r"check\(day=2, practice=1\) names no practice of this day-1 master"):
        A.build(_master(tmp_path, cells))
    cells[1] = _cell("markdown", PRACTICE_MD, "c1", ["solution"])  # students must see the practice
    with pytest.raises(A.AssignError):
        A.build(_master(tmp_path, cells))


def test_bad_masters_are_refused(tmp_path):
    def refused(path, match):
        with pytest.raises(A.AssignError, match=match):
            A.build(path)

    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    refused(bad, "not a notebook")
    bad.write_text(json.dumps({"cells": "no", "nbformat": 4}))
    refused(bad, "not a version-4 notebook")
    refused(tmp_path / "missing.ipynb", "cannot read the master")
    master = _master(tmp_path, _basic("x = 1"))
    nb = json.loads(master.read_text())
    old = dict(nb, nbformat_minor=4, cells=[{k: v for k, v in c.items() if k != "id"} for c in nb["cells"]])
    bad.write_text(json.dumps(old))
    refused(bad, "every cell needs an id")
    bad.write_text(json.dumps(dict(nb, cells=nb["cells"] + [dict(nb["cells"][0])])))
    refused(bad, r"cell ids repeat: \[.c0.\]")
    bad.write_text(json.dumps(dict(nb, metadata={})))
    refused(bad, "needs an 'assign' entry")
    bad.write_text(json.dumps(dict(nb, metadata={"assign": dict(nb["metadata"]["assign"], day="1")})))
    refused(bad, "assign.day must be a positive integer")
    bad.write_text(json.dumps(dict(nb, metadata={"assign": {"day": 1, "student": "a.ipynb"}})))
    refused(bad, "assign.solution must be a path")
    bad.write_text(json.dumps(dict(nb, cells=nb["cells"][:1])))
    refused(bad, "no practice cell")


def test_bad_output_paths_are_refused_and_nothing_is_written(tmp_path, capsys):
    master = _master(tmp_path, _basic("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"))
    out = tmp_path / "out"
    (out / "ref.ipynb").write_text("student,points\nalice,50\n")  # a CSV where the reference would go
    assert A.main([str(master)]) == 2
    err = capsys.readouterr().err
    assert "refusing to replace" in err and "is not a notebook" in err and "nothing written" in err
    assert sorted(p.name for p in out.iterdir()) == ["ref.ipynb"]  # the template was not written either
    assert (out / "ref.ipynb").read_text() == "student,points\nalice,50\n"
    (out / "ref.ipynb").unlink()
    (out / "ref.ipynb").mkdir()
    with pytest.raises(A.AssignError, match="not a regular file"):
        A.write([A.build(master)])
    (out / "ref.ipynb").rmdir()
    (out / "text.json").write_text('{"day": 1}')  # JSON, but not one this command wrote
    with pytest.raises(A.AssignError, match="not a requirement-text file written by workshop-assign"):
        A.write([A.build(master)])
    (out / "text.json").unlink()
    with pytest.raises(A.AssignError, match="does not exist"):
        A.write([A.build(master, text=tmp_path / "nowhere" / "t.json")])
    with pytest.raises(A.AssignError, match="is the master itself"):
        A.write([A.build(master, student=master)])
    with pytest.raises(A.AssignError, match="given twice"):
        A.write([A.build(master, student=out / "same.ipynb", solution=out / "same.ipynb")])
    assert list(out.iterdir()) == []
    assert A.main([str(master), str(master), "--text", "t.json"]) == 2  # overrides need a single master


def test_check_mode_reports_a_stale_file_and_writes_nothing(tmp_path, capsys):
    master = _master(tmp_path, _basic("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"))
    assert A.main([str(master)]) == 0
    ref = tmp_path / "out" / "ref.ipynb"
    ref.write_text(ref.read_text().replace("x = 1", "x = 2"))
    capsys.readouterr()
    assert A.main(["--check", str(master)]) == 1
    assert "ref.ipynb (differs)" in capsys.readouterr().err
    assert "x = 2" in ref.read_text()
    (tmp_path / "out" / "text.json").unlink()
    assert A.main(["--check", str(master)]) == 1
    assert "text.json (missing)" in capsys.readouterr().err


def test_writing_keeps_an_existing_files_mode(tmp_path):
    master = _master(tmp_path, _basic("x = 1"))
    hw = tmp_path / "out" / "hw.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), hw)
    os.chmod(hw, 0o640)
    changed = A.write([A.build(master)])
    assert hw.resolve() in changed and (hw.stat().st_mode & 0o777) == 0o640
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no temporary file left


def test_kind_words_are_one_to_one():
    assert len(set(KIND_WORDS.values())) == len(KIND_WORDS) == len(core.KINDS)


def test_an_edited_practice_reaches_template_reference_and_text_together(tmp_path):
    """The instructor's workflow: change one word of a practice in (a copy of) the real master, regenerate."""
    nb = json.loads(MASTERS[0].read_text())
    nb["metadata"]["assign"] = {"day": 1, "student": "hw.ipynb", "solution": "ref.ipynb", "text": "text.json"}
    old = "AUROC of test_scores on the test set"
    cells = [c for c in nb["cells"] if c["cell_type"] == "markdown" and old in "".join(c["source"])]
    assert len(cells) == 1
    cells[0]["source"] = "".join(cells[0]["source"]).replace(old, "area under the ROC curve of test_scores")
    master = tmp_path / "day1.ipynb"
    master.write_text(json.dumps(nb))
    assert A.main([str(master)]) == 0
    text = json.loads((tmp_path / "text.json").read_text())
    (auroc,) = [i for i in text["practices"][0]["leave_behind"] if i["name"] == "auroc"]
    assert auroc["what"] == "area under the ROC curve of test_scores"
    for name in ("hw.ipynb", "ref.ipynb"):
        assert "- `auroc` (a number): area under the ROC curve of test_scores" in (tmp_path / name).read_text()


def test_the_module_runs_as_a_command():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "workshop_utils.grading.assign", "--check", *map(str, MASTERS)],
                         capture_output=True, text=True, cwd=REPO, timeout=300)
    assert out.returncode == 0 and "all in step" in out.stdout, out.stderr
    out = subprocess.run([sys.executable, "-m", "workshop_utils.grading.assign", str(REPO / "README.md")],
                         capture_output=True, text=True, cwd=REPO, timeout=300)
    assert out.returncode == 2 and "is not a notebook" in out.stderr and "nothing written" in out.stderr


def test_split_regions_keeps_line_ends_and_ignores_other_headings(tmp_path):
    regions = A.split_regions("a = 1\r\n### BEGIN SOLUTION\r\nb = 2\r\n### END SOLUTION\r\n", "here")
    assert regions == [("both", ["a = 1\r\n"], ""), ("solution", ["b = 2\r\n"], "")]
    cells = _basic("x = 1", [_cell("markdown", "## Practice makes perfect\n\nA closing word.", "e1")])
    assert [p["number"] for p in json.loads(A.build(_master(tmp_path, cells)).content["text"])["practices"]] == [1]
