"""A class of identical submissions for the grading benchmarks (imported as a sibling script)."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HIDDEN = REPO / "tests" / "homework_hidden" / "hidden_checks.py"
NOTEBOOK = REPO / "tests" / "homework_solutions" / "day1_partial.ipynb"


def make_class(n: int, notebook: str | Path, prefix: str) -> tuple[Path, Path]:
    """``n`` copies of ``notebook`` as ``student_000.ipynb`` ... in a fresh temporary folder.

    Points ``WORKSHOP_DATA`` into that folder and builds the course data there once, so that
    no timing includes the simulation.  Returns ``(tmp, subs)``: the folder (remove it when
    done) and the submissions folder inside it.
    """
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["WORKSHOP_DATA"] = str(tmp / "data")
    subs = tmp / "subs"
    subs.mkdir()
    for i in range(n):
        shutil.copy(notebook, subs / f"student_{i:03d}.ipynb")
    from workshop_utils.datasets import load_ctcf

    load_ctcf()  # build the data once, outside the timings
    return tmp, subs
