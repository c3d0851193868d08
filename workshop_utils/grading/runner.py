"""Runs one submission's notebook *inside* the sandbox; only plain data comes out.

``python -m workshop_utils.grading.runner JOB_DIR WORK_DIR`` runs as PID 1 of the sandbox
(bubblewrap's ``--as-pid-1``).  It reads ``JOB_DIR/job.json`` (the notebook to run, one role
per cell, the time budget) and writes to its standard output (the grader's pipe) a tar stream
with

* ``runner.json``: ``{"status": ..., "errors": [...], "cells_run": n}``;
* ``executed.ipynb``: the student's code cells with their outputs, capped
  (:data:`CELL_TEXT_BYTES` of text per cell, :data:`IMAGE_BYTES` per image,
  :data:`EXECUTED_BYTES` in all); untrusted HTML for whoever renders it;
* ``export/...``: what the export cells wrote (values.json, .npy, .png per practice).

Who holds what
    PID 1 (this module's :func:`main`) makes itself non-dumpable first, so nothing of the
    same user can ptrace it, read its memory or environment, or open its ``/proc/1/fd``; it
    keeps the grader's pipe on a private descriptor, points its standard output at
    ``/dev/null``, and forks a *worker* that runs the notebook with nbclient (the worker
    inherits non-dumpability; its kernel, started by exec, holds none of these descriptors).
    The worker sends its result to PID 1 over a pipe of their own; PID 1 reaps every orphan
    meanwhile and writes the tar.  So the tar channel is written by PID 1 only, and the
    parts of the status the runner measures itself (a time limit and in which cell, a dead
    kernel, a dead worker) cannot be forged by the kernel; the error messages of cells are
    the kernel's own words.  Exports are untrusted in any case: points come from checks run
    outside the sandbox on this plain data (and on private probe labels the sandbox never sees).

Timing: student cells and the grader's per-practice export cells share one deadline,
``timeout - final_reserve`` seconds after the start; the final export gets what is left of
``timeout``.  A cell that runs out of time is reported as a time limit in that cell, the last
one included (nbclient says so only in its reply, which
:class:`~workshop_utils.grading.notebook_client.QuietClient` records).  The
grader kills the whole sandbox shortly after ``timeout`` whatever happens here.
"""
from __future__ import annotations

import io
import json
import os
import signal
import sys
import tarfile
import threading
import time
from pathlib import Path

MAX_ERRORS = 5
KERNEL_NAME = "workshop-grader"
#: Stands for the export folder in the grader's export cells; :func:`run_job` puts the real path there.
EXPORT_PLACEHOLDER = "@@WORKSHOP_EXPORT_DIR@@"
#: Caps of the executed notebook that comes back: text per cell, each image, the whole notebook.
CELL_TEXT_BYTES = 20_000
IMAGE_BYTES = 300_000
EXECUTED_BYTES = 4_000_000
#: Most bytes PID 1 accepts from the worker (the result with the executed notebook).
WORKER_RESULT_BYTES = 2 * EXECUTED_BYTES + 1_000_000
KEPT_MIMES = ("text/plain", "text/html", "text/markdown", "text/latex", "image/png", "image/jpeg", "image/svg+xml")


def _nondumpable() -> None:
    """Make this process non-dumpable: the kernel (same user) cannot ptrace it or open its /proc files."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception:  # noqa: BLE001 - the seccomp filter refuses ptrace anyway
        pass


def _client(nb, km, timeout: float, path: str):
    """The worker's notebook client, with this module's output caps (nbclient is imported here, not above)."""
    from .notebook_client import QuietClient

    return QuietClient(nb, cell_text_bytes=CELL_TEXT_BYTES, image_bytes=IMAGE_BYTES, executed_bytes=EXECUTED_BYTES,
                       kept_mimes=KEPT_MIMES, km=km, kernel_name=KERNEL_NAME, timeout=int(max(1, timeout)),
                       allow_errors=True, interrupt_on_timeout=True, startup_timeout=120, iopub_timeout=5,
                       error_on_timeout={"ename": "TimeLimit", "evalue": "the cell ran out of time"},
                       shutdown_kernel="immediate", record_timing=False, resources={"metadata": {"path": path}})


def _executed(nb, roles) -> dict | None:
    """The student's cells with their (capped) outputs, or without outputs when still too large."""
    import nbformat

    cells = [cell for cell, role in zip(nb.cells, roles) if role == "student"]
    out = nbformat.v4.new_notebook()
    out.cells = cells
    if len(json.dumps(out)) <= EXECUTED_BYTES * 2:
        return out
    out.cells = [nbformat.v4.new_code_cell(c.source) for c in cells]
    return out if len(json.dumps(out)) <= EXECUTED_BYTES * 2 else None


def run_job(job: dict, work: Path) -> dict:
    """Execute the job's notebook in a fresh kernel; returns ``{"status", "errors", "cells_run", "executed"}``."""
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
            cell.source = cell.source.replace(EXPORT_PLACEHOLDER, str(work / "export"))
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
                client.timed_out = False
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
                timed_out = client.timed_out
                for out in cell.get("outputs", []):
                    if out.get("output_type") != "error":
                        continue
                    if out.get("ename") == "TimeLimit":
                        timed_out = True
                    elif timed_out and out.get("ename") == "KeyboardInterrupt":
                        continue  # the interrupt that stopped the cell at its time limit
                    elif role == "student" and len(errors) < MAX_ERRORS:
                        errors.append(f"cell {student_no}: {out.get('ename')}: {out.get('evalue')}"[:300])
                if timed_out and status == "ok":
                    status = (f"time limit ({timeout:g} s) reached in cell {student_no}" if role == "student"
                              else f"time limit ({timeout:g} s) reached while exporting")
    except DeadKernelError:
        status = "kernel died"
    except RuntimeError as err:  # the kernel did not start
        status = f"kernel failed: {str(err)[:200]}"
    except Exception as err:  # noqa: BLE001 - report, the grader decides
        status = f"runner error: {type(err).__name__}: {str(err)[:200]}"
    return {"status": status, "errors": errors, "cells_run": cells_run, "executed": _executed(nb, roles)}


def _write_result(result: dict, executed: bytes | None, export: Path, fd: int) -> None:
    with os.fdopen(fd, "wb", closefd=False) as out, tarfile.open(fileobj=out, mode="w|") as tar:
        for name, data in (("runner.json", json.dumps(result).encode()), ("executed.ipynb", executed)):
            if data is None:
                continue
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if export.is_dir():
            for p in sorted(export.rglob("*")):
                if p.is_file() and not p.is_symlink():
                    try:
                        tar.add(str(p), arcname=f"export/{p.relative_to(export)}", recursive=False)
                    except OSError:
                        continue


def _worker(job: dict, work: Path, fd: int) -> None:
    """The forked worker: run the notebook, send the result to PID 1, exit without cleanup handlers."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        result = run_job(job, work)
    except BaseException as err:  # noqa: BLE001 - PID 1 reports it
        result, code = {"status": f"runner error: {type(err).__name__}: {str(err)[:200]}", "errors": []}, 1
    try:
        data = json.dumps(result, ensure_ascii=True).encode()
        if len(data) > WORKER_RESULT_BYTES:
            result["executed"] = None
            data = json.dumps(result, ensure_ascii=True).encode()
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os._exit(code)


def main(argv: list[str] | None = None) -> int:
    """PID 1 of the sandbox: ``python -m workshop_utils.grading.runner JOB_DIR WORK_DIR``."""
    _nondumpable()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # PID 1 gets only the signals it handles: none
    argv = sys.argv[1:] if argv is None else argv
    job_dir, work = Path(argv[0]), Path(argv[1])
    job = json.loads((job_dir / "job.json").read_text())
    (work / "export").mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    tar_fd = os.dup(1)  # the grader's pipe, on a descriptor no child inherits
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(null, fd)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.close(tar_fd)
        os.dup2(null, 2)  # nothing below PID 1 holds the grader's stderr either
        _worker(job, work, w)
    os.close(w)
    chunks: list[bytes] = []

    def read() -> None:
        got = 0
        while True:
            b = os.read(r, 1 << 16)
            if not b:
                return
            got += len(b)
            if got <= WORKER_RESULT_BYTES:
                chunks.append(b)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    worker_status = None
    while worker_status is None:  # reap every orphan until the worker ends
        try:
            got, st = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if got == pid:
            worker_status = st
    reader.join(30)
    executed = None
    try:
        result = json.loads(b"".join(chunks))
        executed = result.pop("executed", None)
    except ValueError:
        how = (f"signal {os.WTERMSIG(worker_status)}" if worker_status is not None and os.WIFSIGNALED(worker_status)
               else f"exit code {os.waitstatus_to_exitcode(worker_status)}" if worker_status is not None else "?")
        result = {"status": f"the notebook runner died ({how}) without a result", "errors": [], "cells_run": 0}
    data = json.dumps(executed).encode() if executed is not None else None
    _write_result(result, data, work / "export", tar_fd)
    os.close(tar_fd)
    return 0


if __name__ == "__main__":  # pragma: no cover - runs inside the sandbox
    sys.exit(main())
