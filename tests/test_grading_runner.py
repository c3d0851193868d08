"""The runner (``grading/runner.py``, PID 1 of a sandbox): what comes back of an executed notebook."""
from __future__ import annotations

from pathlib import Path

import nbformat

from _sandbox_kit import needs_sandbox, notebook
from workshop_utils.grading.cage import Limits


@needs_sandbox
def test_the_executed_notebook_comes_back_with_capped_outputs(tmp_path, monkeypatch):
    from workshop_utils.grading.jobs import SandboxJob, build_run_notebook, execute_job, extract_result
    from workshop_utils.grading.runner import CELL_TEXT_BYTES, EXECUTED_BYTES, EXPORT_PLACEHOLDER

    monkeypatch.setenv("WORKSHOP_DATA", str(tmp_path / "data"))
    nb = nbformat.reads(notebook(
        "import sys\nfor _ in range(200):\n    sys.stdout.write('x' * 2**18)",
        "print('<script>alert(1)</script>')", "from IPython.display import HTML\nHTML('<b>bold</b>')",
        "raise ValueError('shown with its traceback')"), as_version=4)
    run_nb, roles = build_run_notebook(nb, 1, Path(EXPORT_PLACEHOLDER))
    job = SandboxJob(notebook=dict(run_nb), roles=roles, limits=Limits(timeout=60, memory_mb=2500), final_reserve=5,
                     threads=1, sandbox=True, probe_x=None, quick=True)
    ran = execute_job(job, None, None, tmp_path / "run.tar")
    assert ran["stdout"] == b"" and (tmp_path / "run.tar").stat().st_size > 0  # the stream went to the file
    result = extract_result(tmp_path / "run.tar", tmp_path / "export")
    assert result["status"] == "ok" and result["executed"] is not None, result
    ex = nbformat.reads(result["executed"], as_version=4)
    assert len(ex.cells) == len(nb.cells)  # the student's cells only, no export cell
    assert len(result["executed"]) < 2 * EXECUTED_BYTES
    spam = ex.cells[1].outputs
    assert sum(len(o.get("text", "")) for o in spam) <= CELL_TEXT_BYTES + 100
    assert "further output of this cell not kept" in spam[-1]["text"]
    assert "<script>alert(1)</script>" in ex.cells[2].outputs[0]["text"]  # kept as text: the renderer sanitises
    assert ex.cells[3].outputs[0]["data"]["text/html"] == "<b>bold</b>"
    err = ex.cells[4].outputs[0]
    assert err["ename"] == "ValueError" and "shown with its traceback" in "".join(err["traceback"])
    assert ran["peak_mb"] is None or ran["peak_mb"] > 50
