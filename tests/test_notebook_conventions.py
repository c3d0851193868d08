"""Every notebook (lessons and homework) follows the workbook's conventions."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from workshop_utils.config import REPO_SLUG, setup_cell_source

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "homework").glob("*.ipynb"))
IDS = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; strip them (jupyter nbconvert --clear-output)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_badge_and_setup_cell(path):
    nb = nbformat.read(path, as_version=4)
    rel = path.relative_to(ROOT).as_posix()
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert f"colab.research.google.com/github/{REPO_SLUG}/blob/main/{rel}" in nb.cells[0].source
    assert nb.cells[1].cell_type == "code"
    # one source for the setup cell (workshop_utils.config.setup_cell_source, also used by
    # scripts/new_notebook.py): regenerate it there instead of editing a copy
    assert nb.cells[1].source == setup_cell_source(), f"{path.name}: the setup cell differs from setup_cell_source()"


def _code(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def _python(source: str) -> ast.Module:
    """The cell as python (IPython's !shell lines dropped)."""
    return ast.parse("\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("!", "%"))))


def _is_import(node: ast.stmt) -> bool:
    return isinstance(node, (ast.Import, ast.ImportFrom))


def _is_print(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "id", None) == "print")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_one_import_block_after_the_setup_cell(path):
    """`import workshop_utils as wu` (in the setup cell) reaches every submodule, and setup() seeds
    the frameworks: no `import workshop_utils.x  # noqa` ritual, no second set_seed."""
    nb = nbformat.read(path, as_version=4)
    code = _code(nb)
    block = _python(code[1]).body
    assert block and _is_import(block[0]), f"{path.name}: the second code cell must start with the imports"
    everything = "\n".join(code)
    assert not re.search(r"^\s*import workshop_utils\.", everything, re.M), f"{path.name}: import workshop_utils.x"
    assert not any("set_seed(" in c for c in code[1:3]), f"{path.name}: setup() already seeded the frameworks"
    if path.parent.name == "notebooks":  # lessons: imports only there, and nowhere else
        assert all(_is_import(n) or _is_print(n) for n in block), f"{path.name}: code in the import cell"
        late = [i for i, c in enumerate(code[2:], 2) if any(_is_import(n) for n in ast.walk(_python(c)))]
        assert not late, f"{path.name}: imports outside the import block, in code cells {late}"


#: Maintainer plumbing that does not belong in a student-facing cell (tested in tests/ or benchmarks/).
PLUMBING = {
    r"pick\(full=([^,]+), quick=\1\)": "wu.pick with the same value twice",
    r"issue'?s claim": "a reference to an issue",
    r"os\.(listdir|getcwd)\(": "a working-directory check (tests/test_tuning.py checks it)",
    r"filterwarnings\(": "a global warnings filter",
    r"set_num_threads\(": "a global thread setting",
    r"assert [^\n]*\b(t_\w+|\w*seconds\w*)\b[^\n]*[<>]": "a wall-clock assert (benchmarks/ measure speed)",
}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_maintainer_plumbing_in_student_cells(path):
    nb = nbformat.read(path, as_version=4)
    found = [(i, why) for i, c in enumerate(nb.cells) if c.cell_type == "code"
             for pattern, why in PLUMBING.items() if re.search(pattern, c.source)]
    assert not found, f"{path.name}: {found}"


def test_new_notebook_script_writes_the_same_setup_cell(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "day9_01_x.ipynb"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "new_notebook.py"), str(out), "A title"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    nb = nbformat.read(out, as_version=4)
    assert nb.cells[1].source == setup_cell_source() and nb.cells[0].source.startswith("# A title")


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.parent.name == "notebooks"],
                         ids=[i for i in IDS if i.startswith("notebooks")])
def test_numbered_and_every_section_checks_its_claim(path):
    assert re.fullmatch(r"day[12]_\d\d_[a-z0-9_]+\.ipynb", path.name), path.name
    nb = nbformat.read(path, as_version=4)
    sections, current = [], None
    for cell in nb.cells[2:]:
        if cell.cell_type == "markdown" and re.match(r"^## ", cell.source):
            current = {"title": cell.source.splitlines()[0], "code": 0, "asserts": 0}
            sections.append(current)
        elif cell.cell_type == "code" and current is not None:
            current["code"] += 1
            current["asserts"] += bool(re.search(r"^\s*assert\b", cell.source, re.M))
    assert sections, f"{path.name} has no '## ' sections"
    missing = [s["title"] for s in sections if s["code"] and not s["asserts"]]
    assert not missing, f"{path.name}: sections without an assert cell: {missing}"
