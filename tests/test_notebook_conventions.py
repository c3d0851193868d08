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


# --------------------------------------------------------------------------- typed figures
# The rule (ARCHITECTURE.md, "Notebooks"): a number a lesson computes is printed by the
# lesson, or bounded by an assert, never typed into its text as a measured figure.  A *typed
# figure* is a decimal with two or more digits after the point (0.85, 0.993, -0.03) or a
# percentage (94%, 80.6 %) in a markdown cell (outside `code`, $math$, fenced blocks and link
# targets) or in a code cell's `#` comment.  It is allowed only when
#   (a) the same value is written in the notebook's code: a setting or an assert's bound
#       (`lr=0.01` lets the text say "0.01", `< 0.8` lets it say "80%"), or
#   (b) its paragraph (markdown lines up to a blank line) or comment block (consecutive
#       comment lines) names the benchmark that measured it, `benchmarks/<name>.py`, whose
#       command reproduces it.
FIGURE = re.compile(r"(?<![\w.])(?:(\d+(?:\.\d+)?)\s?%|(\d+\.\d{2,}))(?![\w.%])")
BENCHMARK = re.compile(r"benchmarks/\w+\.py")

def _markdown_paragraphs(source: str):
    """(line number, text to scan, paragraph text) of a markdown cell's prose lines."""
    lines, fenced, para, out = source.splitlines(), False, [], []
    for n, line in enumerate(lines, 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        text = re.sub(r"`[^`]*`", "", line)
        text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", "", text)
        text = re.sub(r"\]\([^)]*\)", "]", text)
        if not line.strip():
            out.extend((m, t, "\n".join(p[1] for p in para)) for m, t in ((q[0], q[2]) for q in para))
            para = []
        else:
            para.append((n, line, text))
    out.extend((m, t, "\n".join(p[1] for p in para)) for m, t in ((q[0], q[2]) for q in para))
    return out


def _comment_blocks(source: str):
    """(line number, comment text, comment block text) of a code cell's comments."""
    import io
    import tokenize

    lines = source.splitlines()
    clean = "\n".join("" if line.lstrip().startswith(("!", "%")) else line for line in lines)
    comments = {t.start[0]: t.string for t in tokenize.generate_tokens(io.StringIO(clean).readline)
                if t.type == tokenize.COMMENT}
    out = []
    for n, text in comments.items():
        lo = n
        while lo - 1 in comments:
            lo -= 1
        hi = n
        while hi + 1 in comments:
            hi += 1
        out.append((n, text, "\n".join(comments[k] for k in range(lo, hi + 1))))
    return out


def _code_values(nb) -> set[float]:
    """Every numeric literal of the notebook's code (settings, assert bounds)."""
    values = set()
    for source in _code(nb):
        for node in ast.walk(_python(source)):
            if isinstance(node, ast.Constant) and type(node.value) in (int, float):
                values.add(round(float(node.value), 9))
    return values


def typed_figures(path: Path) -> list[str]:
    """The typed figures of one notebook that break the rule, one readable line each."""
    nb = nbformat.read(path, as_version=4)
    code_values = _code_values(nb)
    bad = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            found, where = _markdown_paragraphs(cell.source), "markdown"
        elif cell.cell_type == "code":
            found, where = _comment_blocks(cell.source), "a code comment"
        else:
            continue
        for line_no, text, block in found:
            if BENCHMARK.search(block):
                continue
            for m in FIGURE.finditer(text):
                percent, decimal = m.groups()
                value = float(percent) / 100 if percent is not None else float(decimal)
                if {round(value, 9), round(abs(value), 9)} & code_values or (
                        percent is not None and round(float(percent), 9) in code_values):
                    continue
                bad.append(f"{path.name} cell {i}, line {line_no} ({where}): {m.group(0).strip()!r} in "
                           f"{text.strip()[:100]!r}")
    return bad


LESSONS = [p for p in NOTEBOOKS if p.parent.name == "notebooks"]


@pytest.mark.parametrize("path", LESSONS, ids=[str(p.relative_to(ROOT)) for p in LESSONS])
def test_no_typed_measured_figures(path):
    bad = typed_figures(path)
    assert not bad, (
        "typed figures (a number the notebook measures, typed into its text): print it from the notebook, "
        "bound it in an assert, or cite the benchmark that measured it (benchmarks/<name>.py, with its command) "
        "in the same paragraph or comment block. Cells count from 0, lines from 1:\n  " + "\n  ".join(bad))


def test_typed_figure_rule_catches_what_it_should(tmp_path):
    """The rule itself: a stale measured figure fails; settings, bounds, math and benchmarks pass."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("The model reaches 0.85 AUROC, 94% of the time."),       # two figures
        nbformat.v4.new_markdown_cell("At a learning rate of 0.01, `0.123` and $0.456$ are fine."),
        nbformat.v4.new_markdown_cell("Measured by `benchmarks/ism_speed.py`:\nISM is 12.50 times faster."),
        nbformat.v4.new_code_cell("lr = 0.01\nassert auc > 0.8   # at least 80%\nx = 1  # measured: 0.993"),
        nbformat.v4.new_code_cell("# python benchmarks/ism_speed.py measured\n# 0.777 and 3.25x"),
    ]
    path = tmp_path / "day9_01_x.ipynb"
    nbformat.write(nb, path)
    found = typed_figures(path)
    assert [re.search(r"\): '([^']*)' in", f).group(1) for f in found] == ["0.85", "94%", "0.993"], found
    assert found[0].startswith("day9_01_x.ipynb cell 0, line 1 (markdown)") and "cell 3, line 3 (a code comment)" in found[2]
