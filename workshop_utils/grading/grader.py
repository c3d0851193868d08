"""``workshop-grade``: grade a folder of homework notebooks into a CSV.

    workshop-grade SUBMISSIONS --day 1 --out grades.csv --hidden hidden_checks.py \\
        [--timeout 1800] [--memory-mb 8192] [--jobs N] [--resume]

How one submission is graded
----------------------------
1. The notebook is read (all submissions are read into memory before the first runs; a
   folder may hold ``*.ipynb`` files, or one sub-folder per student as a course website's
   download does). After every code cell that calls ``check(day=D, practice=P)`` the
   grader inserts a cell that *exports* practice P's variables, and at the end one that
   exports all five (:func:`workshop_utils.grading.export.export_practice`: plain JSON,
   ``.npy`` without pickle, PNG). A cell that raises does not stop the next ones.
2. The notebook runs in a bubblewrap sandbox (:mod:`workshop_utils.grading.sandbox`): an
   empty file system with only the system, the Python installation and the package mounted
   read-only, a size-limited private work folder, no network, new namespaces, a cleared
   environment; the notebook executor (:mod:`workshop_utils.grading.runner`) runs inside
   with its kernel. Memory, processes, file size and wall clock are limited from outside,
   and the whole sandbox is killed at ``--timeout`` plus a small margin.  Only plain data
   comes out (a tar stream on a pipe), with the private probe sequences' predictions.
3. The checks (public ones from the package, hidden ones from ``--hidden`` files) run in a
   separate process of the grader on the exported values and the reference data (true
   labels, planted sites, the probe set's labels) that never entered a sandbox.
4. The row is appended to the CSV and flushed to disk (``fsync``) at once; ``--resume``
   skips the students already in the CSV. An error while grading one student is written in
   that student's row and the run goes on.

CSV columns: ``student`` (the file or folder name; names that are not valid UTF-8 are
written as ``~b64~`` + their bytes in URL-safe base64), ``p1`` ... ``p5``, ``total``,
``max`` (points possible with the checks that were run), ``status`` (``ok``, or what
stopped the run: time limit, memory limit, kernel died, ...), ``reasons`` (every check
that failed, then the errors raised by the notebook's cells).  Cells that a spreadsheet
would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or CR) are prefixed
with ``'``.
"""
from __future__ import annotations

import argparse
import base64
import csv
import dataclasses
import io
import json
import math
import multiprocessing
import os
import re
import resource
import secrets
import shutil
import sys
import tarfile
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from .core import Missing, run_checks
from .export import MAX_NPY_BYTES, load_practice
from .hidden import load_hidden
from .practices import PRACTICES, reference
from .sandbox import (JOB, WORK, Limits, bwrap_argv, cage_kind, forbidden_inside, package_dir, run_caged,
                      sandbox_available, sandbox_env)

#: Stands for the export folder in the export cells; the runner puts its real path there.
EXPORT_PLACEHOLDER = "@@WORKSHOP_EXPORT_DIR@@"
CHECK_CALL = re.compile(r"check\(\s*day\s*=\s*(\d+)\s*,\s*practice\s*=\s*(\d+)\s*\)")
MAX_EXPORT_FILES = 2000
B64 = "~b64~"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# ----------------------------------------------------------------------------- names and CSV
def student_id(name: str | bytes) -> str:
    """The CSV's id for a file or folder name: the name itself, or ``~b64~`` + base64 of its bytes.

    Deterministic and reversible (:func:`student_name`): names that are valid UTF-8 without
    control characters stay as they are; any other name (or one starting with ``~b64~``)
    is encoded.
    """
    raw = name if isinstance(name, bytes) else os.fsencode(name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and text.isprintable() and not text.startswith(B64):
        return text
    return B64 + base64.urlsafe_b64encode(raw).decode("ascii")


def student_name(sid: str) -> bytes:
    """The file-name bytes of a student id made by :func:`student_id`."""
    if sid.startswith(B64):
        return base64.urlsafe_b64decode(sid[len(B64):].encode("ascii"))
    return sid.encode("utf-8")


def csv_safe(value: Any) -> str:
    """A CSV cell a spreadsheet will not execute: a leading ``= + - @`` (tab, CR) gets a ``'``."""
    s = str(value)
    return "'" + s if s.startswith(FORMULA_START) else s


def _columns(day: int) -> list[str]:
    return ["student"] + [f"p{p.number}" for p in PRACTICES[day]] + ["total", "max", "status", "reasons"]


class CsvLog:
    """The grades CSV: appended row by row, fsync'ed, checked and repaired before each write."""

    def __init__(self, path: Path, columns: list[str], resume: bool):
        self.path, self.columns = path, columns
        self.done: set[str] = set()
        self.lock = threading.Lock()
        if path.exists() and path.stat().st_size > 0:
            if not resume:
                raise FileExistsError(f"--out: {path} exists; pass --resume to continue it, or choose another file")
            text = path.read_bytes().decode("utf-8", "replace")
            if not text.endswith("\n"):  # an interrupted write: drop the partial row
                text = text[: text.rfind("\n") + 1]
            if text and next(csv.reader(io.StringIO(text.splitlines()[0]))) != columns:
                raise ValueError(f"--out: {path} has other columns than {columns}: is it the CSV of the other day?")
            self.done = {r["student"] for r in csv.DictReader(io.StringIO(text))}
            self.expected = text.encode()
        else:
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerow(columns)
            self.expected = buf.getvalue().encode()
        self._rewrite()

    def _rewrite(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(self.expected)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def repair(self) -> bool:
        """Rewrite the CSV from memory if something changed it; True when it had to."""
        try:
            same = self.path.read_bytes() == self.expected
        except OSError:
            same = False
        if not same:
            self._rewrite()
        return not same

    def is_done(self, sid: str) -> bool:
        """True when ``sid`` already has a row."""
        return csv_safe(sid) in self.done

    def append(self, row: dict) -> None:
        """Append one row (formula-safe) and fsync; thread-safe."""
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([csv_safe(row.get(c, "")) for c in self.columns])
        data = buf.getvalue().encode()
        with self.lock:
            self.repair()
            with open(self.path, "ab") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            self.expected += data
            self.done.add(csv_safe(row["student"]))


# ----------------------------------------------------------------------------- submissions
def find_submissions(src: Path) -> dict[str, Path]:
    """``{student id: notebook}`` of a submissions folder (or one notebook).

    A folder may hold ``*.ipynb`` files (id: the file name without ``.ipynb``) and/or one
    sub-folder per student, the shape of a course website's download (id: the folder name;
    a folder with several notebooks gives ``folder/file`` ids). Hidden files and
    ``.ipynb_checkpoints`` are ignored; links are not followed.
    """
    if src.is_file():
        return {student_id(os.fsencode(src.name)[:-6] if src.name.endswith(".ipynb") else os.fsencode(src.name)): src}
    if not src.is_dir():
        raise FileNotFoundError(f"submissions: no such folder or file {src}")
    found: dict[str, Path] = {}

    def add(sid: str, path: Path) -> None:
        if sid in found:
            raise ValueError(f"submissions: two notebooks give the student id {sid!r}: {found[sid]} and {path}")
        found[sid] = path

    for entry in sorted(os.scandir(os.fsencode(src)), key=lambda e: e.name):
        name = entry.name
        if name.startswith(b"."):
            continue
        if entry.is_file(follow_symlinks=False) and name.endswith(b".ipynb"):
            add(student_id(name[:-6]), Path(os.fsdecode(entry.path)))
        elif entry.is_dir(follow_symlinks=False) and name != b".ipynb_checkpoints":
            nbs = sorted((e for e in os.scandir(entry.path) if e.is_file(follow_symlinks=False)
                          and e.name.endswith(b".ipynb") and not e.name.startswith(b".")), key=lambda e: e.name)
            for e in nbs:
                sid = student_id(name) if len(nbs) == 1 else f"{student_id(name)}/{student_id(e.name[:-6])}"
                add(sid, Path(os.fsdecode(e.path)))
    return found


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


# ----------------------------------------------------------------------------- checks
def _checks_child(conn, day: int, hidden_paths: list[str], export_dir: str, ref: dict, memory_mb: int) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2 ** 20, memory_mb * 2 ** 20))
    except (ValueError, OSError):
        pass
    hidden: dict = {}
    for h in hidden_paths:
        for key, checks in load_hidden(h).items():
            hidden.setdefault(key, []).extend(checks)
    out = {}
    for p in PRACTICES[day]:
        values = load_practice(p, export_dir)
        res = run_checks(p.checks + hidden.get((day, p.number), []), values, ref)
        reasons = {v.reason for v in values.values() if isinstance(v, Missing)}
        unexported = len(reasons) == 1 and all(isinstance(v, Missing) for v in values.values())
        out[p.number] = {"results": [dataclasses.asdict(r) for r in res],
                         "unexported": reasons.pop() if unexported else None}
    conn.send(out)
    conn.close()


def run_checks_isolated(day: int, hidden_paths: list[Path], export_dir: Path, ref: dict, timeout: float = 300,
                        memory_mb: int = 4096) -> dict[int, dict] | str:
    """Run every check on ``export_dir`` in a fresh process; the results, or why it failed.

    The process is started by a fork server (safe while other grading threads run); it
    loads the hidden checks itself, so no check object crosses a process boundary.
    """
    ctx = multiprocessing.get_context("forkserver")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_checks_child, args=(child, day, [str(h) for h in hidden_paths], str(export_dir), ref,
                                                   memory_mb), daemon=True)
    proc.start()
    child.close()
    try:
        if parent.poll(timeout):
            return parent.recv()
        return f"checks ran out of time ({timeout:g} s)"
    except (EOFError, OSError):
        return f"checks crashed (exit code {proc.exitcode})"
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        parent.close()


# ----------------------------------------------------------------------------- one submission
@dataclasses.dataclass
class GradeSettings:
    """Everything :func:`grade_one` needs besides the notebook (shared by every submission).

    Parameters
    ----------
    day : int
        Which homework (1 or 2).
    hidden : list of Path
        Hidden-checks files (loaded in the checks process).
    points : dict
        ``{practice number: points possible}`` with the hidden checks.
    ref : dict
        Reference data of the checks (labels, planted sites, probe labels); never enters a sandbox.
    limits : Limits
        Hard limits of one submission.
    final_reserve : float
        Seconds of ``limits.timeout`` kept for the final export.
    check_timeout : float
        Seconds for the checks of one submission.
    sandbox : bool
        Run in bubblewrap (False only with ``--unsafe-no-sandbox``).
    probe_x : bytes or None
        The probe's ``x.npy`` (sequences, no labels), mounted read-only in each sandbox.
    threads : int
        Threads per kernel (OpenMP, BLAS, torch, TensorFlow).
    tmp_root : Path
        Host folder for job and export folders.
    """

    day: int
    hidden: list
    points: dict
    ref: dict
    limits: Limits
    final_reserve: float
    check_timeout: float
    sandbox: bool
    probe_x: bytes | None
    threads: int
    tmp_root: Path


def _thread_env(threads: int) -> dict[str, str]:
    n = str(threads)
    return {"OMP_NUM_THREADS": n, "MKL_NUM_THREADS": n, "OPENBLAS_NUM_THREADS": n, "TF_NUM_INTRAOP_THREADS": n,
            "TF_NUM_INTEROP_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}


def _extract(stream: bytes, dest: Path) -> dict:
    """Unpack the runner's tar stream into ``dest`` (regular files under ``export/`` only)."""
    result = {"status": "no result from the sandbox", "errors": []}
    n = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(stream), mode="r|") as tar:
            for m in tar:
                if not m.isfile() or m.size > MAX_NPY_BYTES:
                    continue
                parts = Path(m.name).parts
                if m.name == "runner.json":
                    data = tar.extractfile(m).read(1_000_000)
                    got = json.loads(data)
                    if isinstance(got, dict):
                        result = {"status": str(got.get("status", ""))[:300],
                                  "errors": [str(e)[:300] for e in list(got.get("errors") or [])[:5]]}
                    continue
                if (len(parts) < 2 or parts[0] != "export" or any(p in ("..", "") for p in parts)
                        or Path(m.name).is_absolute() or n >= MAX_EXPORT_FILES):
                    continue
                target = dest.joinpath(*parts[1:])
                target.parent.mkdir(parents=True, exist_ok=True)
                with open(target, "wb") as fh:
                    shutil.copyfileobj(tar.extractfile(m), fh)
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


def execute_job(job: SandboxJob, stop: threading.Event | None = None, probe_x: bytes | None = None) -> dict:
    """Run one submission in a sandbox on this machine; returns the runner's tar stream and how it ended.

    ``probe_x`` replaces ``job.probe_x`` (a Dask cluster receives the probe once, scattered
    to every worker, instead of once per submission).

    Returns
    -------
    dict
        ``stdout`` (bytes: the runner's tar stream), ``timed_out``, ``out_of_memory``,
        ``output_too_large``, ``stopped``, ``returncode``, ``stderr_tail``, ``seconds``.
        Picklable, so a Dask worker can send it back.
    """
    from .probe import PROBE_ENV

    root = Path(tempfile.mkdtemp(prefix="workshop-job-"))
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
        probe_dir = None
        probe_x = job.probe_x if probe_x is None else probe_x
        if probe_x is not None:
            probe_dir = root / "probe"
            probe_dir.mkdir()
            (probe_dir / "x.npy").write_bytes(probe_x)
        if job.sandbox:
            if probe_dir is not None:
                extra[PROBE_ENV] = str(WORK / "probe")
            ro = {WORK / "data" / rel: host for rel, host in data_files.items()}
            if probe_dir is not None:
                ro[WORK / "probe"] = probe_dir
            argv = bwrap_argv(jobdir, job.limits, sandbox_env(extra),
                              [sys.executable, "-m", "workshop_utils.grading.runner", str(JOB), str(WORK)],
                              ro_extra=ro)
        else:  # --unsafe-no-sandbox: the same runner on the host, limits only
            work = root / "work"
            for rel, host in data_files.items():
                (work / "data" / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(host, work / "data" / rel)
            home = work / "home"
            env = sandbox_env(extra)
            env.update(HOME=str(home), TMPDIR=str(work), WORKSHOP_DATA=str(work / "data"),
                       MPLCONFIGDIR=str(home / "mpl"), IPYTHONDIR=str(home / ".ipython"),
                       KERAS_HOME=str(home / ".keras"), XDG_CACHE_HOME=str(home / ".cache"),
                       JUPYTER_RUNTIME_DIR=str(home / "runtime"), JUPYTER_DATA_DIR=str(home / "jupyter"),
                       JUPYTER_CONFIG_DIR=str(home / "jupyter-config"), PYTHONPATH=str(package_dir().parent))
            if probe_dir is not None:
                env[PROBE_ENV] = str(probe_dir)
            argv = ["env", "-i", *[f"{k}={v}" for k, v in env.items()], sys.executable, "-m",
                    "workshop_utils.grading.runner", str(jobdir), str(work)]
        run = run_caged(argv, job.limits, stop=stop)
        return {"stdout": run.stdout, "timed_out": run.timed_out, "out_of_memory": run.out_of_memory,
                "output_too_large": run.output_too_large, "stopped": bool(stop is not None and stop.is_set()),
                "returncode": run.returncode, "stderr_tail": run.stderr_tail, "seconds": run.seconds}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _status(ran: dict, result: dict, limits: Limits) -> str:
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


def prepare(student: str, nb_bytes: bytes, settings: GradeSettings) -> tuple[SandboxJob | None, str, set[int]]:
    """The sandbox job of one notebook, or None with the reason it cannot run; and its self-check days."""
    import nbformat

    try:
        nb = nbformat.reads(nb_bytes.decode("utf-8"), as_version=4)
    except Exception as err:  # noqa: BLE001 - not a notebook
        return None, f"not a readable notebook ({type(err).__name__})", set()
    run_nb, roles = build_run_notebook(nb, settings.day, Path(EXPORT_PLACEHOLDER))
    job = SandboxJob(notebook=dict(run_nb), roles=roles, limits=settings.limits,
                     final_reserve=settings.final_reserve, threads=settings.threads, sandbox=settings.sandbox,
                     probe_x=settings.probe_x, quick=bool(settings.ref.get("quick")))
    return job, "ok", self_check_days(nb)


def score(student: str, settings: GradeSettings, ran: dict | None, status: str, days: set[int]) -> dict:
    """Unpack a finished run, run the checks in a separate process, and return the CSV row."""
    day = settings.day
    row: dict[str, Any] = {"student": student}
    reasons: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="export_", dir=settings.tmp_root))
    try:
        errors: list[str] = []
        if ran is not None:
            result = _extract(ran["stdout"], folder)
            status, errors = _status(ran, result, settings.limits), result["errors"]
        if days and day not in days:
            status += f"; its self-checks are for day {', '.join(map(str, sorted(days)))}, graded as day {day}"
        results = run_checks_isolated(day, settings.hidden, folder, settings.ref, timeout=settings.check_timeout)
        if isinstance(results, str):
            status = f"{status}; {results}" if status != "ok" else results
            results = {}
        total = 0.0
        for p in PRACTICES[day]:
            res = results.get(p.number, {"results": [], "unexported": "checks did not run"})
            earned = sum(r["earned"] for r in res["results"])
            total += earned
            row[f"p{p.number}"] = f"{earned:g}"
            if res["unexported"]:
                reasons.append(f"p{p.number}: {res['unexported']}")
            else:
                reasons += [f"p{p.number} {r['name']}: {r['message']}" for r in res["results"] if not r["passed"]]
        row.update(total=f"{total:g}", max=f"{sum(settings.points.values()):g}", status=status)
        reasons += errors
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    row["reasons"] = " | ".join(reasons)[:20000]
    return row


def grade_one(student: str, nb_bytes: bytes, settings: GradeSettings, stop: threading.Event | None = None) -> dict:
    """Grade one notebook (given as bytes) on this machine; returns its CSV row. Never raises for its sake."""
    try:
        job, status, days = prepare(student, nb_bytes, settings)
        ran = execute_job(job, stop) if job is not None else None
        return score(student, settings, ran, status, days)
    except Exception as err:  # noqa: BLE001 - one student's failure never stops the class
        return error_row(student, settings, err)


def error_row(student: str, settings: GradeSettings, err: BaseException) -> dict:
    """The row of a student whose grading failed in the grader itself (the run goes on)."""
    row = {"student": student, **{f"p{p.number}": "0" for p in PRACTICES[settings.day]}}
    row.update(total="0", max=f"{sum(settings.points.values()):g}", reasons="",
               status=f"grader error: {type(err).__name__}: {str(err)[:200]}")
    return row


# ----------------------------------------------------------------------------- the folder
def _data_files() -> dict[str, Path]:
    """``{path relative to the data folder: file}`` of the course data the kernels read (read-only)."""
    from .. import config
    from ..datasets import course_data_files

    root = config.data_dir()
    return {str(f.relative_to(root)): f for f in course_data_files()}


def _snapshot(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def _restore(snapshot: dict[Path, bytes]) -> list[str]:
    fixed = []
    for p, data in snapshot.items():
        try:
            if p.read_bytes() == data:
                continue
        except OSError:
            pass
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        fixed.append(p.name)
    return fixed


def default_jobs(memory_mb: int) -> int:
    """Submissions graded at once by default: one per 2 cores, as many as the memory allows."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        total_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2 ** 20
    except (ValueError, OSError, AttributeError):
        total_mb = memory_mb
    return max(1, min(cores // 2 or 1, int(0.8 * total_mb) // max(1, memory_mb)))


def _check_seconds(name: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0 < v < math.inf):
        raise ValueError(f"grade_folder: {name} must be a finite positive number of seconds, got {v!r}")
    return float(v)


def grade_folder(submissions: str | Path, day: int, out: str | Path, hidden: list[str | Path] = (),
                 timeout: float = 1800, memory_mb: int = 8192, resume: bool = False, unsafe_no_sandbox: bool = False,
                 export_timeout: float = 120, check_timeout: float = 300, jobs: int | None = 1,
                 dask: str | Any | None = None, tasks: int = 512, file_mb: int = 1024,
                 verbose: bool = True) -> list[dict]:
    """Grade every notebook of ``submissions`` (a folder, or one notebook) into the CSV ``out``.

    Parameters are those of the command line (``workshop-grade --help``). ``jobs=None``
    picks a number from the cores and ``memory_mb`` (:func:`default_jobs`). ``dask`` is a
    scheduler address (``'tcp://host:8786'``) or a ``distributed.Client``: each submission's
    sandbox then runs on a Dask worker (which needs this package and bubblewrap), and only
    its plain exported data comes back; the checks, hidden files and labels stay here.

    Returns
    -------
    list of dict
        The rows written by this run (students skipped by ``resume`` are not included).

    Raises
    ------
    RuntimeError
        When the sandbox is not available and ``unsafe_no_sandbox`` is False.
    """
    if day not in PRACTICES:
        raise ValueError(f"grade_folder: day must be one of {sorted(PRACTICES)}, got {day!r}")
    timeout = _check_seconds("timeout", timeout)
    export_timeout = _check_seconds("export_timeout", export_timeout)
    check_timeout = _check_seconds("check_timeout", check_timeout)
    if jobs is None:
        jobs = default_jobs(memory_mb)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"grade_folder: jobs must be a positive integer, got {jobs!r}")
    limits = Limits(timeout=timeout, memory_mb=memory_mb, tasks=tasks, file_mb=file_mb)
    files = find_submissions(Path(submissions))
    if not files:
        raise FileNotFoundError(f"submissions: no notebooks (*.ipynb) in {submissions} or its sub-folders")
    notebooks = {}
    for sid, p in files.items():  # read all before any runs
        try:
            notebooks[sid] = p.read_bytes()
        except OSError as err:
            notebooks[sid] = f"unreadable: {err}".encode()
    hidden_paths = [Path(h).resolve() for h in hidden]
    points = {p.number: sum(c.points for c in p.checks) for p in PRACTICES[day]}
    for h in hidden_paths:  # validate now, before any submission runs
        for (d, n), checks in load_hidden(h).items():
            if d == day and n in points:
                points[n] += sum(c.points for c in checks)
    out = Path(out)
    if dask is None:
        ok, why = sandbox_available()
    else:
        ok, why = True, "checked on each worker"
    if not ok and not unsafe_no_sandbox:
        raise RuntimeError(f"workshop-grade: refusing to run untrusted notebooks without a sandbox: {why}. "
                           "To run them anyway, on a machine you are ready to lose, pass --unsafe-no-sandbox.")
    sandboxed = ok and not unsafe_no_sandbox
    bad = forbidden_inside([*hidden_paths, out.resolve().parent, *{p.resolve().parent for p in files.values()}])
    if sandboxed and bad:
        raise RuntimeError("workshop-grade: these private paths lie inside folders every sandbox mounts; move them: "
                           + "; ".join(bad))
    if verbose and not sandboxed:
        print("workshop-grade: WARNING: --unsafe-no-sandbox: submissions run with your user's rights; they can read "
              "the hidden checks and your files and reach the network. Only limits, process clean-up and repairs "
              "of the package and the CSV apply.", file=sys.stderr)
    if not sandboxed:
        jobs, dask = 1, None  # without a sandbox, parallel kernels could reach each other
    ref = reference(source="simulated")  # the true labels, loaded before any submission runs
    from . import probe as probe_mod

    tmp_root = Path(tempfile.mkdtemp(prefix="workshop-grade-"))
    client = None
    try:
        probe = probe_mod.make_probe(secrets.randbits(62))
        probe_mod.save_inputs(probe, tmp_root)
        probe_x = (tmp_root / probe_mod.INPUTS_FILE).read_bytes()
        ref = probe_mod.add_to_reference(ref, probe)
        out.parent.mkdir(parents=True, exist_ok=True)
        log = CsvLog(out, _columns(day), resume)
        snapshot = {} if sandboxed else _snapshot(package_dir())
        if dask is not None:
            from distributed import Client

            client = dask if isinstance(dask, Client) else Client(dask)
            workers = max(1, len(client.scheduler_info().get("workers", {})))
            threads = max(1, min(int(w.get("nthreads", 1)) for w in client.scheduler_info()["workers"].values()))
            executor, where = client.get_executor(pure=False), f"dask ({workers} workers)"
            probe_arg = client.scatter(probe_x, broadcast=True)  # sent once to every worker
        else:
            cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
            threads = max(1, cores // jobs)
            executor, where = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grade"), f"{jobs} jobs"
            probe_arg = None
        settings = GradeSettings(day=day, hidden=hidden_paths, points=points, ref=ref, limits=limits,
                                 final_reserve=min(export_timeout, timeout / 4), check_timeout=check_timeout,
                                 sandbox=sandboxed, probe_x=probe_x if probe_arg is None else None, threads=threads,
                                 tmp_root=tmp_root)
        todo = [s for s in files if not log.is_done(s)]
        if verbose:
            print(f"workshop-grade: day {day}, {len(todo)} to grade ({len(files) - len(todo)} already in {out}), "
                  f"sandbox={'bubblewrap' if sandboxed else 'NONE'}, limits={cage_kind()}, {where}, "
                  f"timeout {timeout:g} s, memory {memory_mb} MiB", file=sys.stderr)
        return _grade_all(todo, notebooks, settings, log, executor, snapshot, out, verbose, probe_arg)
    finally:
        if client is not None and isinstance(dask, str):  # a client we opened; one passed in stays open
            client.close()
        shutil.rmtree(tmp_root, ignore_errors=True)


def _grade_all(todo: list[str], notebooks: dict, settings: GradeSettings, log: CsvLog, executor: Any,
               snapshot: dict, out: Path, verbose: bool, probe_arg: Any = None) -> list[dict]:
    """Run the sandboxes through ``executor`` (threads here, or Dask workers); score each as it finishes.

    The checks run here, one submission at a time, as runs complete; rows are appended as
    they come. Ctrl-C sets ``stop`` (local sandboxes are killed at once), cancels what has
    not started, and keeps every row already written.
    """
    rows: list[dict] = []
    stop = threading.Event()
    t_start = time.monotonic()
    local = probe_arg is None

    def finish(student: str, row: dict) -> None:
        if snapshot:
            fixed = _restore(snapshot)
            if log.repair():
                fixed.append(out.name)
            if fixed:
                row["status"] += f"; repaired files it changed: {', '.join(fixed)}"
        try:
            log.append(row)
        except Exception as err:  # noqa: BLE001 - e.g. a disk error: say so, keep grading the others
            print(f"workshop-grade: could not write the row of {student}: {err}", file=sys.stderr)
            return
        rows.append(row)
        if verbose:
            print(f"[{len(rows)}/{len(todo)}] {student}: {row['total']}/{row['max']} ({row['status']}) "
                  f"after {time.monotonic() - t_start:.0f} s", file=sys.stderr)

    pending: dict = {}
    waiting = list(todo)
    try:
        for student in waiting:
            try:
                job, status, days = prepare(student, notebooks[student], settings)
            except Exception as err:  # noqa: BLE001
                finish(student, error_row(student, settings, err))
                continue
            if job is None:
                finish(student, score(student, settings, None, status, days))
                continue
            if local:
                fut = executor.submit(execute_job, job, stop)
            else:  # a Dask worker: no stop event crosses machines; the probe was scattered once
                fut = executor.submit(execute_job, job, None, probe_arg)
            pending[fut] = (student, status, days)
        while pending:
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for fut in done:
                student, status, days = pending.pop(fut)
                try:
                    row = score(student, settings, fut.result(), status, days)
                except Exception as err:  # noqa: BLE001 - a worker or the checks failed for this one
                    row = error_row(student, settings, err)
                finish(student, row)
    except BaseException:  # Ctrl-C: stop every job, kill every local sandbox; written rows stay
        stop.set()
        for fut in pending:
            fut.cancel()
        raise
    finally:
        if local:
            executor.shutdown(wait=True, cancel_futures=True)
        if verbose:
            print(f"workshop-grade: {len(rows)} graded in {time.monotonic() - t_start:.0f} s", file=sys.stderr)
    return rows


def _number(kind: type, low: float, what: str):
    """An argparse type: ``kind`` (float or int), finite, > ``low``; says what it expected."""
    def parse(text: str):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not (low < v < math.inf):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return v
    return parse


_seconds = _number(float, 0, "a finite positive number of seconds")
_positive = _number(int, 0, "a positive integer")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point of ``workshop-grade``; exit code 0 when every submission has a row."""
    ap = argparse.ArgumentParser(prog="workshop-grade", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("submissions", help="folder of submitted .ipynb files, or of one sub-folder per student")
    ap.add_argument("--day", type=int, required=True, choices=sorted(PRACTICES), help="which homework")
    ap.add_argument("--out", required=True, help="CSV file to write (appended row by row)")
    ap.add_argument("--hidden", action="append", default=[], help="hidden-checks file (repeatable)")
    ap.add_argument("--timeout", type=_seconds, default=1800, help="wall-clock seconds per submission (default 1800)")
    ap.add_argument("--memory-mb", type=_positive, default=8192,
                    help="memory of one submission, all its processes together (default 8192)")
    ap.add_argument("--export-timeout", type=_seconds, default=120,
                    help="seconds of --timeout kept for the final export (at most a quarter of it)")
    ap.add_argument("--check-timeout", type=_seconds, default=300, help="seconds for the checks of one submission")
    ap.add_argument("--jobs", type=_positive, default=None,
                    help="submissions graded at once (default: from the cores and --memory-mb)")
    ap.add_argument("--dask", metavar="ADDRESS", default=None,
                    help="run the sandboxes on a Dask cluster (e.g. tcp://scheduler:8786); checks stay here")
    ap.add_argument("--resume", action="store_true", help="skip students already in --out")
    ap.add_argument("--unsafe-no-sandbox", action="store_true",
                    help="run submissions WITHOUT the bubblewrap sandbox (they can read your files)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    try:
        rows = grade_folder(args.submissions, args.day, args.out, hidden=args.hidden, timeout=args.timeout,
                            memory_mb=args.memory_mb, resume=args.resume, unsafe_no_sandbox=args.unsafe_no_sandbox,
                            export_timeout=args.export_timeout, check_timeout=args.check_timeout, jobs=args.jobs, dask=args.dask,
                            verbose=not args.quiet)
    except (OSError, ValueError, RuntimeError) as err:
        print(f"workshop-grade: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("workshop-grade: interrupted; the rows written so far are in the CSV (continue with --resume)",
              file=sys.stderr)
        return 130
    if not args.quiet:
        print(f"workshop-grade: wrote {len(rows)} rows to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
