"""Every notebook (lessons and homework) follows the workbook's conventions."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from workshop_utils.config import REPO_SLUG

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
    setup = nb.cells[1].source
    assert nb.cells[1].cell_type == "code" and "google.colab" in setup and "wu.setup(" in setup


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
