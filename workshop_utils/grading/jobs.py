"""One submission's sandbox job: the run notebook, the job folder, the sandbox, and what came out.

* :func:`build_run_notebook`: the submission's code cells plus the grader's export cells;
* :class:`SandboxJob` and :func:`execute_job`: plain data that runs where the sandbox runs
  (this machine or a Dask worker); returns the runner's tar stream and how the run ended;
* :func:`extract` and :func:`run_status`: the tar stream unpacked (bounded) and the status.
"""
from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile
import threading
from pathlib import Path
from typing import Any

from .cage import Limits, run_caged
from .export import MAX_NPY_BYTES
from .practices import PRACTICES
from .runner import EXPORT_PLACEHOLDER, EXECUTED_BYTES
from .sandbox import JOB, WORK, bwrap_argv, package_dir, sandbox_env
from .seccomp import seccomp_file

#: Largest ``runner.json`` read back from a sandbox.
MAX_RUNNER_JSON = 1_000_000

CHECK_CALL = re.compile(r"check\(\s*day\s*=\s*(\d+)\s*,\s*practice\s*=\s*(\d+)\s*\)")
MAX_EXPORT_FILES = 2000


def self_check_days(nb: Any) -> set[int]:
    """The days named by the notebook's ``check(day=D, practice=P)`` calls (to catch a wrong ``--day``)."""
    days = set()
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            src = cell.get("source", "")
            days |= {int(d) for d, _ in CHECK_CALL.findall("".join(src) if isinstance(src, list) else str(src))}
    return days


def _export_source(day: int, numbers: list[int], folder: Path) -> str:
    return (
        "import workshop_utils.grading.export as _wu_grading_export\n"
        f"for _wu_p in {tuple(numbers)!r}:\n"
        "    try:\n"
        f"        _wu_grading_export.export_practice({day}, _wu_p, globals(), {str(folder)!r})\n"
        "    except BaseException as _wu_err:\n"
        "        print('export of practice', _wu_p, 'failed:', repr(_wu_err)[:300])\n")


def build_run_notebook(nb: Any, day: int, export_dir: Path) -> tuple[Any, list[str]]:
    """The notebook the kernel runs: the submission's code cells plus export cells.

    ``export_dir`` is the export folder as the kernel sees it. Returns the notebook and,
    per cell, its role: ``'student'`` or ``'export'``.
    """
    import nbformat

    cells, roles = [], []
    numbers = [p.number for p in PRACTICES[day]]
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        cells.append(nbformat.v4.new_code_cell(src))
        roles.append("student")
        hits = sorted({int(p) for d, p in CHECK_CALL.findall(src) if int(d) == day and int(p) in numbers})
        if hits:
            cells.append(nbformat.v4.new_code_cell(_export_source(day, hits, export_dir)))
            roles.append("export")
    cells.append(nbformat.v4.new_code_cell(_export_source(day, numbers, export_dir)))
    roles.append("export")
    run_nb = nbformat.v4.new_notebook()
    run_nb.cells = cells
    return run_nb, roles



def _thread_env(threads: int) -> dict[str, str]:
    n = str(threads)
    return {"OMP_NUM_THREADS": n, "MKL_NUM_THREADS": n, "OPENBLAS_NUM_THREADS": n, "TF_NUM_INTRAOP_THREADS": n,
            "TF_NUM_INTEROP_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}


def extract_result(stream: bytes | str | Path, dest: Path) -> dict:
    """Unpack the runner's tar stream (bytes, or a file holding it) into ``dest``, streaming and bounded.

    Only regular files under ``export/`` are written (at most :data:`MAX_EXPORT_FILES`, each at
    most ``MAX_NPY_BYTES``, copied in 64-KiB pieces: the grader's memory does not depend on
    the export's size); ``runner.json`` and ``executed.ipynb`` are read with their own caps.

    Returns
    -------
    dict
        ``status`` and ``errors`` (as the runner said), ``executed`` (the executed notebook as
        JSON text, or None), and ``unreadable`` when the stream was broken.
    """
    result: dict = {"status": "no result from the sandbox", "errors": [], "executed": None}
    n = 0
    fh = io.BytesIO(stream) if isinstance(stream, (bytes, bytearray)) else open(stream, "rb")
    try:
        with fh, tarfile.open(fileobj=fh, mode="r|") as tar:
            for m in tar:
                if not m.isfile() or m.size > MAX_NPY_BYTES:
                    continue
                parts = Path(m.name).parts
                if m.name == "runner.json" and m.size <= MAX_RUNNER_JSON:
                    got = json.loads(tar.extractfile(m).read(MAX_RUNNER_JSON))
                    if isinstance(got, dict):
                        result.update(status=str(got.get("status", ""))[:300],
                                      errors=[str(e)[:300] for e in list(got.get("errors") or [])[:5]])
                    continue
                if m.name == "executed.ipynb" and m.size <= 2 * EXECUTED_BYTES:
                    result["executed"] = tar.extractfile(m).read(2 * EXECUTED_BYTES).decode("utf-8", "replace")
                    continue
                if (len(parts) < 2 or parts[0] != "export" or any(p in ("..", "") for p in parts)
                        or Path(m.name).is_absolute() or n >= MAX_EXPORT_FILES):
                    continue
                target = dest.joinpath(*parts[1:])
                target.parent.mkdir(parents=True, exist_ok=True)
                with open(target, "wb") as out:
                    shutil.copyfileobj(tar.extractfile(m), out, 1 << 16)
                n += 1
    except (tarfile.TarError, ValueError, OSError, EOFError) as err:
        result["unreadable"] = f"unreadable output ({type(err).__name__})"
    return result


@dataclasses.dataclass(frozen=True)
class SandboxJob:
    """What runs where the submission runs (this machine, or a Dask worker): plain data only.

    The checks, the hidden files and the labels are not in it: they stay with the grader.
    """

    notebook: dict
    roles: list
    limits: Limits
    final_reserve: float
    threads: int
    sandbox: bool
    probe_x: bytes | None  # the probe's x.npy (sequences only)
    quick: bool  # the grader's mode: the kernel runs in the same one


def execute_job(job: SandboxJob, stop: threading.Event | None = None, probe_x: bytes | None = None,
                out_file: str | Path | None = None) -> dict:
    """Run one submission in a sandbox on this machine; returns the runner's tar stream and how it ended.

    ``probe_x`` replaces ``job.probe_x`` (a Dask cluster receives the probe once, scattered
    to every worker, instead of once per submission).  With ``out_file`` the tar stream is
    written there (the grader's memory does not grow with it), else it is returned in
    ``stdout`` (a Dask worker sends it back).  Each job gets private copies of the course
    data files, so no job can lock a file another one reads.

    Returns
    -------
    dict
        ``stdout`` (bytes: the runner's tar stream, empty with ``out_file``), ``timed_out``,
        ``out_of_memory``, ``output_too_large``, ``stopped``, ``returncode``, ``stderr_tail``,
        ``seconds``, ``peak_mb`` (None where no cgroup measures it), ``cpu_capped``.
        Picklable, so a Dask worker can send it back.
    """
    from .probe import PROBE_ENV

    root = Path(tempfile.mkdtemp(prefix="workshop-job-"))
    flt = None
    try:
        jobdir = root / "job"
        jobdir.mkdir()
        (jobdir / "job.json").write_text(json.dumps({"notebook": job.notebook, "roles": job.roles,
                                                     "timeout": job.limits.timeout,
                                                     "final_reserve": job.final_reserve}))
        from .. import config

        if config.is_quick() != job.quick:  # a Dask worker started in another mode
            os.environ["WORKSHOP_QUICK"] = "1" if job.quick else "0"
        extra = {**_thread_env(job.threads), "WORKSHOP_QUICK": "1" if job.quick else "0"}
        data_files = _data_files()
        if not data_files:  # a fresh worker: build the (deterministic) course data once, then mount it
            from ..datasets import load_ctcf

            load_ctcf(source="simulated")
            data_files = _data_files()
        data = root / "data"  # this job's own copies: a lock taken on one blocks nobody else
        for rel, host in data_files.items():
            (data / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(host, data / rel)
        probe_dir = None
        probe_x = job.probe_x if probe_x is None else probe_x
        if probe_x is not None:
            probe_dir = root / "probe"
            probe_dir.mkdir()
            (probe_dir / "x.npy").write_bytes(probe_x)
        if job.sandbox:
            if probe_dir is not None:
                extra[PROBE_ENV] = str(WORK / "probe")
            ro = {WORK / "data" / rel: data / rel for rel in data_files}
            if probe_dir is not None:
                ro[WORK / "probe"] = probe_dir
            flt = seccomp_file()
            argv = bwrap_argv(jobdir, job.limits, sandbox_env(extra),
                              [sys.executable, "-m", "workshop_utils.grading.runner", str(JOB), str(WORK)],
                              ro_extra=ro, seccomp_fd=flt.fileno())
            fds: tuple[int, ...] = (flt.fileno(),)
        else:  # --unsafe-no-sandbox: the same runner on the host, limits only
            work = root / "work"
            work.mkdir()
            shutil.move(str(data), str(work / "data"))
            env = sandbox_env(extra, root=work, lib=package_dir().parent, tmp=str(work))
            if probe_dir is not None:
                env[PROBE_ENV] = str(probe_dir)
            argv = ["env", "-i", *[f"{k}={v}" for k, v in env.items()], sys.executable, "-m",
                    "workshop_utils.grading.runner", str(jobdir), str(work)]
            fds = ()
        run = run_caged(argv, job.limits, stop=stop, out_file=out_file, pass_fds=fds)
        return {"stdout": run.stdout, "timed_out": run.timed_out, "out_of_memory": run.out_of_memory,
                "output_too_large": run.output_too_large, "stopped": bool(stop is not None and stop.is_set()),
                "returncode": run.returncode, "stderr_tail": run.stderr_tail, "seconds": run.seconds,
                "peak_mb": run.peak_mb, "cpu_capped": run.cpu_capped}
    finally:
        if flt is not None:
            flt.close()
        shutil.rmtree(root, ignore_errors=True)


def run_status(ran: dict, result: dict, limits: Limits) -> str:
    """The CSV status of a finished run: a limit the sandbox hit, else what the runner reported."""
    status = result["status"]
    if ran["out_of_memory"]:
        return f"memory limit ({limits.memory_mb} MiB) reached; {status}"
    if ran["timed_out"]:
        return f"time limit ({limits.timeout:g} s) reached; the sandbox was killed"
    if ran["output_too_large"]:
        return "its exports were too large; the sandbox was killed"
    if ran["stopped"]:
        return "grading was interrupted"
    if status == "no result from the sandbox" or "unreadable" in result:
        last = [ln for ln in ran["stderr_tail"].splitlines() if ln.strip()][-1:] or [""]
        return f"the sandbox ended without a result (exit code {ran['returncode']}) {last[0][:200]}".rstrip()
    return status



def _data_files() -> dict[str, Path]:
    """``{path relative to the data folder: file}`` of the course data the kernels read (read-only)."""
    from .. import config
    from ..datasets import course_data_files

    root = config.data_dir()
    return {str(f.relative_to(root)): f for f in course_data_files()}

