"""Runs one submission's notebook *inside* the sandbox; only plain data comes out.

``python -m workshop_utils.grading.runner JOB_DIR`` reads ``JOB_DIR/job.json`` (the notebook
to run, one role per cell, the time budget), starts a fresh kernel with nbclient (the kernel
and this executor talk over the sandbox's private loopback), runs the cells in order under
one deadline, and writes to standard output a tar stream with

* ``runner.json``: ``{"status": ..., "errors": [...], "cells_run": n}``;
* ``export/...``: what the export cells wrote (values.json, .npy, .png per practice).

Nothing here is trusted by the grader: the kernel runs as the same user and could forge all
of it.  The points come from checks run outside the sandbox on this plain data (and on
private probe labels the sandbox never sees); the status is for the instructor's eyes.

Timing: student cells and the grader's per-practice export cells share one deadline,
``timeout - final_reserve`` seconds after the start; the final export gets what is left of
``timeout``.  The grader kills the whole sandbox shortly after ``timeout`` whatever happens
here (a kernel that ignores interrupts, a hung export).
"""
from __future__ import annotations

import io
import json
import sys
import tarfile
import time
from pathlib import Path

MAX_ERRORS = 5
KERNEL_NAME = "workshop-grader"


def _nondumpable() -> None:
    """Make this process non-dumpable: the kernel (same user) cannot ptrace it or open its fds."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception:  # noqa: BLE001 - defence in depth only
        pass


def _client(nb, km, timeout: float, path: str):
    import nbformat
    from nbclient import NotebookClient

    class QuietClient(NotebookClient):
        """Keeps only the errors of a cell (a submission may print gigabytes)."""

        def output(self, outs, msg, display_id, cell_index):
            if msg.get("msg_type") == "error" and len(outs) < 3:
                c = msg.get("content", {})
                outs.append(nbformat.v4.new_output("error", ename=str(c.get("ename", ""))[:100],
                                                   evalue=str(c.get("evalue", ""))[:300], traceback=[]))
            return None

    return QuietClient(nb, km=km, kernel_name=KERNEL_NAME, timeout=int(max(1, timeout)), allow_errors=True,
                       interrupt_on_timeout=True, startup_timeout=120, iopub_timeout=5,
                       error_on_timeout={"ename": "TimeLimit", "evalue": "the cell ran out of time"},
                       shutdown_kernel="immediate", record_timing=False, resources={"metadata": {"path": path}})


def run_job(job: dict, work: Path) -> dict:
    """Execute the job's notebook in a fresh kernel; returns ``{"status", "errors", "cells_run"}``."""
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    t0 = time.monotonic()
    timeout, reserve = float(job["timeout"]), float(job["final_reserve"])
    student_deadline, deadline = t0 + timeout - reserve, t0 + timeout
    run_dir = work / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    spec_dir = work / "home" / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(json.dumps(
        {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
         "display_name": "grader", "language": "python", "metadata": {"debugger": False}}))
    nb = nbformat.from_dict(job["notebook"])
    roles = job["roles"]
    for cell, role in zip(nb.cells, roles):  # the export cells write to this run's export folder
        if role == "export":
            cell.source = cell.source.replace(job.get("export_placeholder", "@@WORKSHOP_EXPORT_DIR@@"),
                                              str(work / "export"))
    ksm = KernelSpecManager(kernel_dirs=[str(spec_dir.parent)])
    km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=ksm)
    client = _client(nb, km, timeout, str(run_dir))
    status, errors, student_no, cells_run = "ok", [], 0, 0
    import subprocess

    try:
        with client.setup_kernel(cwd=str(run_dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            for i, (cell, role) in enumerate(zip(nb.cells, roles)):
                final = i == len(roles) - 1
                end = deadline if final else student_deadline
                if role == "student":
                    student_no += 1
                left = end - time.monotonic()
                if left < 1:
                    if status == "ok":
                        status = f"time limit ({timeout:g} s) reached before cell {student_no}"
                    if not final:
                        continue
                    break
                if status != "ok" and not final:
                    continue  # after a time limit only the final export runs
                client.timeout = int(max(1, left))
                try:
                    client.execute_cell(cell, i)
                    cells_run += 1
                except DeadKernelError:
                    status = f"kernel died in cell {student_no}" if role == "student" else "kernel died while exporting"
                    break
                except CellTimeoutError:
                    if status == "ok":
                        status = f"time limit ({timeout:g} s) reached in cell {student_no}"
                    if final:
                        break
                    continue
                for out in cell.get("outputs", []):
                    if out.get("output_type") != "error":
                        continue
                    if out.get("ename") == "TimeLimit":
                        if status == "ok":
                            status = (f"time limit ({timeout:g} s) reached in cell {student_no}" if role == "student"
                                      else f"time limit ({timeout:g} s) reached while exporting")
                    elif role == "student" and len(errors) < MAX_ERRORS:
                        errors.append(f"cell {student_no}: {out.get('ename')}: {out.get('evalue')}"[:300])
    except DeadKernelError:
        status = "kernel died"
    except RuntimeError as err:  # the kernel did not start
        status = f"kernel failed: {str(err)[:200]}"
    except Exception as err:  # noqa: BLE001 - report, the grader decides
        status = f"runner error: {type(err).__name__}: {str(err)[:200]}"
    return {"status": status, "errors": errors, "cells_run": cells_run}


def _write_result(result: dict, export: Path, out) -> None:
    with tarfile.open(fileobj=out, mode="w|") as tar:
        data = json.dumps(result).encode()
        info = tarfile.TarInfo("runner.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        if export.is_dir():
            for p in sorted(export.rglob("*")):
                if p.is_file() and not p.is_symlink():
                    try:
                        tar.add(str(p), arcname=f"export/{p.relative_to(export)}", recursive=False)
                    except OSError:
                        continue


def main(argv: list[str] | None = None) -> int:
    """Entry point inside the sandbox: ``python -m workshop_utils.grading.runner JOB_DIR WORK_DIR``."""
    _nondumpable()
    argv = sys.argv[1:] if argv is None else argv
    job_dir, work = Path(argv[0]), Path(argv[1])
    job = json.loads((job_dir / "job.json").read_text())
    (work / "export").mkdir(parents=True, exist_ok=True)
    result = run_job(job, work)
    out = sys.stdout.buffer
    _write_result(result, work / "export", out)
    out.flush()
    return 0


if __name__ == "__main__":  # pragma: no cover - runs inside the sandbox
    sys.exit(main())
