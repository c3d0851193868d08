"""``workshop-grade``: grade a folder of homework notebooks into a CSV.

    workshop-grade SUBMISSIONS --day 1 --out grades.csv --hidden hidden_checks.py \\
        [--timeout 1800] [--memory-mb 8192] [--jobs N] [--resume]

How one submission is graded
----------------------------
1. The notebook is read (every submission is read, at most :data:`MAX_NOTEBOOK_BYTES`, and
   turned into the notebook to run before the first one runs; a folder may hold ``*.ipynb``
   files in any case, or one sub-folder per student as a course website's download does:
   :mod:`workshop_utils.grading.submissions`). After every code cell that calls ``check(day=D, practice=P)`` the
   grader inserts a cell that *exports* practice P's variables, and at the end one that
   exports all five (:func:`workshop_utils.grading.export.export_practice`: plain JSON,
   ``.npy`` without pickle, PNG). A cell that raises does not stop the next ones.
2. The notebook runs in a bubblewrap sandbox (:mod:`workshop_utils.grading.sandbox`): an
   empty file system with only the system, the Python installation and the package mounted
   read-only, a size-limited private work folder, no network, new namespaces, a cleared
   environment; the notebook executor (:mod:`workshop_utils.grading.runner`) runs inside
   with its kernel. Memory, processes, file size and wall clock are limited from outside,
   and the whole sandbox is killed at ``--timeout`` plus a small margin.  Only plain data
   comes out (a tar stream on a pipe, kept in a size-capped file), with the private probe
   sequences' predictions and the executed notebook (outputs capped).
3. The checks (public ones from the package, hidden ones from ``--hidden`` files) run in a
   separate process of the grader on the exported values and the reference data (true
   labels, planted sites, the probe set's labels) that never entered a sandbox.
4. The row is appended to the CSV and flushed to disk (``fsync``) at once; ``--resume``
   skips the students already in the CSV. An error while grading one student is written in
   that student's row and the run goes on; a row that cannot be written is retried as an
   error row, and if that fails too the command ends with exit code 2 and names it.

CSV columns: ``student`` (the file or folder name, NFC-normalised and trimmed; names that
are not valid UTF-8 are written as ``~b64~`` + their bytes in URL-safe base64; two
submissions with one name get their exact paths), ``p1`` ... ``p5``, ``total``, ``max``
(points possible with the checks that were run), ``status`` (``ok``, or what stopped the
run: time limit in cell N, memory limit, kernel died, ...; or why a file was not graded),
``seconds`` (wall time of its sandbox), ``peak_mb`` (its peak memory, from the cgroup; empty
where none measures it), ``day`` and ``hidden`` (a hash of the hidden-checks files: what
``--resume`` compares), ``name_note`` (a normalised, clashing or look-alike name),
``reasons`` (every check that failed, then the errors raised by the notebook's cells).
With ``--roster``: ``roster_id``, ``roster_name``, ``roster_match`` after ``student`` (one row per
enrolled student, ``no submission`` rows included; empty for a submission that matches nobody);
with ``--deadline``: ``raw_total``, ``late_penalty``, ``late_by``, ``submitted_at``, ``time_source``
after ``total``, which is then the penalised score (:mod:`workshop_utils.grading.course`).
Cells that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``,
tab or CR) are prefixed with ``'``; lone surrogates and NUL characters are escaped.
"""
from __future__ import annotations

import dataclasses
import math
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from . import cli
from .cage import Limits, cage_kind
from .checks_process import run_checks_isolated
from .course import finish_course, plan_options
from .csvlog import B64, FORMULA_START, CsvLog, columns, csv_safe, hidden_digest, student_id, student_name
from .jobs import (CHECK_CALL, EXPORT_PLACEHOLDER, MAX_EXPORT_FILES, SandboxJob, build_run_notebook,
                   execute_job, extract_result, run_status, self_check_days)
from .manual import open_manual
from .practices import PRACTICES, reference
from .regrade import practice_points
from .results import build_row
from .sandbox import forbidden_inside, package_dir, sandbox_available
from .submissions import find_submissions, scan_submissions

# the names of the module before it was split (kept for code that imports them from here)
__all__ = ["B64", "CHECK_CALL", "EXPORT_PLACEHOLDER", "FORMULA_START", "MAX_EXPORT_FILES", "CsvLog", "GradeSettings",
           "SandboxJob", "build_run_notebook", "csv_safe", "default_jobs", "error_row", "execute_job",
           "find_submissions", "grade_folder", "grade_one", "main", "prepare", "run_checks_isolated", "score",
           "self_check_days", "student_id", "student_name"]
_columns, _extract, _status = columns, extract_result, run_status
#: Largest notebook file the grader reads (bigger ones get a row that says so, and are never parsed).
MAX_NOTEBOOK_BYTES = 20 * 2 ** 20


class RowsNotWritten(RuntimeError):
    """Some rows could not be written to the CSV (a disk error...): the command must not end with 0."""


def read_notebook(path: Path, limit: int = MAX_NOTEBOOK_BYTES) -> bytes | str:
    """The bytes of a submitted notebook, or why it is not read (too large, unreadable), before any parsing."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > limit:
                return f"not graded: the notebook is {size / 2 ** 20:.1f} MiB, more than {limit / 2 ** 20:g} MiB"
            data = fh.read(limit + 1)
    except OSError as err:
        return f"not graded: unreadable ({err.strerror or type(err).__name__})"
    if len(data) > limit:
        return f"not graded: the notebook is more than {limit / 2 ** 20:g} MiB"
    return data


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
    notes : dict
        ``{student id: name note}`` for the CSV's ``name_note``.
    keeper : Keeper, optional
        Keeps each scored submission (``--store``, ``--feedback``, ``--report``:
        :mod:`workshop_utils.grading.keeper`).
    manual : ManualBook, optional
        Hand scores of written answers (``--manual``; :mod:`workshop_utils.grading.manual`).
    course : CoursePlan, optional
        Roster cells and late penalties added to each row (:mod:`workshop_utils.grading.course`).
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
    notes: dict = dataclasses.field(default_factory=dict)
    keeper: Any = None
    manual: Any = None
    course: Any = None


def prepare(student: str, nb_bytes: bytes | str, settings: GradeSettings) -> tuple[SandboxJob | None, str, set[int]]:
    """The sandbox job of one notebook, or None with the reason it cannot run; and its self-check days.

    ``nb_bytes`` is the notebook file's content, or (a str) why it was not read (:func:`read_notebook`).
    """
    import nbformat

    if isinstance(nb_bytes, str):
        return None, nb_bytes, set()
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
    """Unpack a finished run, run the checks in a separate process, and return the CSV row.

    The row also holds ``executed`` (not a CSV column): the executed notebook as JSON text
    (outputs capped by the runner; untrusted), or None.
    """
    day = settings.day
    row: dict[str, Any] = {"student": student, "seconds": "", "peak_mb": "", "executed": None,
                           "name_note": settings.notes.get(student, "")}
    folder = Path(tempfile.mkdtemp(prefix="export_", dir=settings.tmp_root))
    try:
        errors: list[str] = []
        if ran is not None:
            result = extract_result(ran.get("stdout_file") or ran["stdout"], folder)
            status, errors = run_status(ran, result, settings.limits), result["errors"]
            row.update(seconds=f"{ran['seconds']:.1f}", executed=result["executed"],
                       peak_mb="" if ran.get("peak_mb") is None else f"{ran['peak_mb']:.0f}")
        if days and day not in days:
            status += f"; its self-checks are for day {', '.join(map(str, sorted(days)))}, graded as day {day}"
        results = run_checks_isolated(day, settings.hidden, folder, settings.ref, timeout=settings.check_timeout)
        if settings.manual is not None:  # hand scores replace the first pass (grading.manual)
            results, row["manual"] = settings.manual.apply(student, folder, results)
        row.update(build_row(student, day, results, status, errors, settings.points))  # the regrade's builder too
        if settings.course is not None:  # --roster / --deadline: roster cells, late penalty (raw_total kept)
            settings.course.apply(student, row)
        if settings.keeper is not None:  # --store / --feedback / --report, while the export is here
            settings.keeper.keep(student, folder, {"status": status, "errors": errors, "results": results}, row)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
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
    row.update(total="0", max=f"{sum(settings.points.values()):g}", reasons="", seconds="", peak_mb="",
               name_note=settings.notes.get(student, ""),
               status=f"grader error: {type(err).__name__}: {str(err)[:200]}")
    return settings.course.apply(student, row) if settings.course is not None else row



# ----------------------------------------------------------------------------- the folder
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


def _check_arguments(day: Any, timeout: Any, export_timeout: Any, check_timeout: Any, jobs: Any,
                     memory_mb: int) -> tuple[float, float, float, int]:
    """The validated day, seconds and jobs of :func:`grade_folder` (``jobs=None``: :func:`default_jobs`)."""
    if day not in PRACTICES:
        raise ValueError(f"grade_folder: day must be one of {sorted(PRACTICES)}, got {day!r}")
    seconds = [_check_seconds(n, v) for n, v in (("timeout", timeout), ("export_timeout", export_timeout),
                                                  ("check_timeout", check_timeout))]
    if jobs is None:
        jobs = default_jobs(memory_mb)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"grade_folder: jobs must be a positive integer, got {jobs!r}")
    return seconds[0], seconds[1], seconds[2], jobs


def _sandbox_mode(dask: Any, unsafe_no_sandbox: bool, private: list[Path], verbose: bool) -> bool:
    """True when submissions run in bubblewrap; refuses to go on without it (unless told) or with private paths
    inside what every sandbox mounts."""
    ok, why = sandbox_available() if dask is None else (True, "checked on each worker")
    if not ok and not unsafe_no_sandbox:
        raise RuntimeError(f"workshop-grade: refusing to run untrusted notebooks without a sandbox: {why}. "
                           "To run them anyway, on a machine you are ready to lose, pass --unsafe-no-sandbox.")
    sandboxed = ok and not unsafe_no_sandbox
    bad = forbidden_inside(private)
    if sandboxed and bad:
        raise RuntimeError("workshop-grade: these private paths lie inside folders every sandbox mounts; move them: "
                           + "; ".join(bad))
    if verbose and not sandboxed:
        print("workshop-grade: WARNING: --unsafe-no-sandbox: submissions run with your user's rights; they can read "
              "the hidden checks and your files and reach the network. Only limits, process clean-up and repairs "
              "of the package and the CSV apply.", file=sys.stderr)
    return sandboxed


def _load_probe(kept: Any, tmp_root: Path, ref: dict) -> tuple[dict, bytes]:
    """A fresh private probe (or the store's, on ``--resume``): the reference with its labels, and its inputs file."""
    from . import probe as probe_mod

    if kept is not None and kept.manifest.get("probe"):  # --resume with a store: the same probe
        probe = kept.probe()
    else:
        probe = probe_mod.make_probe(secrets.randbits(62))
        if kept is not None:
            kept.save_probe(probe)
    probe_mod.save_inputs(probe, tmp_root)
    return probe_mod.add_to_reference(ref, probe), (tmp_root / probe_mod.INPUTS_FILE).read_bytes()


def _executor(dask: Any, jobs: int, probe_x: bytes) -> tuple[Any, Any, str, int, Any]:
    """``(client or None, executor, where, threads per kernel, probe argument)``: Dask workers or local threads."""
    if dask is not None:
        from distributed import Client

        client = dask if isinstance(dask, Client) else Client(dask)
        info = client.scheduler_info().get("workers", {})
        threads = max(1, min((int(w.get("nthreads", 1)) for w in info.values()), default=1))
        probe_arg = client.scatter(probe_x, broadcast=True)  # sent once to every worker
        return client, client.get_executor(pure=False), f"dask ({max(1, len(info))} workers)", threads, probe_arg
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    executor = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grade")
    return None, executor, f"{jobs} jobs", max(1, cores // jobs), None


def grade_folder(submissions: str | Path, day: int, out: str | Path, hidden: list[str | Path] = (),
                 timeout: float = 1800, memory_mb: int = 8192, resume: bool = False, unsafe_no_sandbox: bool = False,
                 export_timeout: float = 120, check_timeout: float = 300, jobs: int | None = 1,
                 dask: str | Any | None = None, tasks: int = 512, file_mb: int = 1024,
                 verbose: bool = True, store: str | Path | None = None, feedback: str | Path | None = None,
                 report: str | Path | None = None, manual: str | Path | list | None = None,
                 **course: Any) -> list[dict]:
    """Grade every notebook of ``submissions`` (a folder, or one notebook) into the CSV ``out``.

    Parameters are those of the command line (``workshop-grade --help``). ``jobs=None``
    picks a number from the cores and ``memory_mb`` (:func:`default_jobs`). ``dask`` is a
    scheduler address (``'tcp://host:8786'``) or a ``distributed.Client``: each submission's
    sandbox then runs on a Dask worker (which needs this package and bubblewrap), and only
    its plain exported data comes back; the checks, hidden files and labels stay here.

    ``store`` (a private folder, never mounted in a sandbox) keeps every submission's export
    and the probe for ``workshop-grade regrade`` (with ``resume``, its probe is reused);
    ``feedback`` is a folder for one HTML page and one text file per student; ``report`` the
    class report's HTML file (:mod:`workshop_utils.grading.keeper`). ``manual`` is a CSV (or a list) of hand
    scores (:mod:`workshop_utils.grading.manual`, kept in ``store``; a store's are applied without it).

    ``course`` takes the course website's options (:data:`~workshop_utils.grading.course.COURSE_OPTIONS`): ``roster``,
    ``deadline``, ``late_policy``, ``times`` (:func:`~workshop_utils.grading.course.plan_course`),
    ``formats`` (``['canvas', 'moodle']``), ``gradebook`` (its file) and ``gradebook_column``
    (:mod:`workshop_utils.grading.gradebook`).

    Returns
    -------
    list of dict
        The rows written by this run (students skipped by ``resume`` are not included).

    Raises
    ------
    RuntimeError
        When the sandbox is not available and ``unsafe_no_sandbox`` is False.
    """
    timeout, export_timeout, check_timeout, jobs = _check_arguments(day, timeout, export_timeout, check_timeout,
                                                                     jobs, memory_mb)
    limits = Limits(timeout=timeout, memory_mb=memory_mb, tasks=tasks, file_mb=file_mb)
    scan = scan_submissions(Path(submissions))
    files = {**scan.found, **{sid: path for sid, (path, _) in scan.refused.items()}}
    if not files:
        raise FileNotFoundError(f"submissions: no notebooks (*.ipynb) in {submissions} or its sub-folders")
    plan, books = plan_options(scan, Path(out), course)  # bad course options fail before anything runs
    for path, why in scan.skipped:  # every file left out is named, whatever --quiet says
        print(f"workshop-grade: skipped {path}: {why}", file=sys.stderr)
    notebooks: dict[str, Path | str] = {sid: path for sid, path in scan.found.items() if sid not in plan.drop}
    notebooks.update({sid: why for sid, (_, why) in scan.refused.items() if sid not in plan.drop})
    hidden_paths = [Path(h).resolve() for h in hidden]
    points = practice_points(day, hidden_paths)  # loads (validates) the hidden files before any submission runs
    out = Path(out)
    private = [Path(store).resolve()] if store is not None else []  # the store holds the probe's labels
    sandboxed = _sandbox_mode(dask, unsafe_no_sandbox, [*hidden_paths, out.resolve().parent, *private,
                                                        *{p.resolve().parent for p in files.values()}], verbose)
    if not sandboxed:
        jobs, dask = 1, None  # without a sandbox, parallel kernels could reach each other
    ref = reference(source="simulated")  # the true labels, loaded before any submission runs
    kept = _open_keeping(store, feedback, report, day, ref, resume)  # bad folders fail before anything runs
    book = open_manual(manual, day, files, kept)  # a bad CSV fails before anything runs
    tmp_root = Path(tempfile.mkdtemp(prefix="workshop-grade-"))
    client = None
    try:
        ref, probe_x = _load_probe(kept, tmp_root, ref)
        out.parent.mkdir(parents=True, exist_ok=True)
        log = CsvLog(out, columns(day, roster=plan.roster is not None, late=plan.deadline is not None), resume,
                     meta={"day": str(day), "hidden": hidden_digest(hidden_paths)})
        snapshot = {} if sandboxed else _snapshot(package_dir())
        client, executor, where, threads, probe_arg = _executor(dask, jobs, probe_x)
        limits = dataclasses.replace(limits, cpus=float(threads))  # the CPU share each kernel is told and gets
        settings = GradeSettings(day=day, hidden=hidden_paths, points=points, ref=ref, limits=limits,
                                 final_reserve=min(export_timeout, timeout / 4), check_timeout=check_timeout,
                                 sandbox=sandboxed, probe_x=probe_x if probe_arg is None else None, threads=threads,
                                 tmp_root=tmp_root, notes=scan.notes, manual=book, course=plan)
        if store is not None or feedback is not None or report is not None:
            from .keeper import Keeper

            settings.keeper = Keeper(day, ref, kept, Path(feedback) if feedback is not None else None, scan.found)
        todo = [s for s in notebooks if not log.is_done(s)]
        if verbose:
            print(f"workshop-grade: day {day}, {len(todo)} to grade ({len(notebooks) - len(todo)} already in {out}), "
                  f"sandbox={'bubblewrap' if sandboxed else 'NONE'}, limits={cage_kind()}, {where}, "
                  f"timeout {timeout:g} s, memory {memory_mb} MiB, {threads} CPU each", file=sys.stderr)
        rows = _grade_all(todo, notebooks, settings, log, executor, snapshot, out, verbose, probe_arg)
        rows += finish_course(plan, books, day, points, log, out, verbose)
        if report is not None:
            settings.keeper.report(report, out)
            if verbose:
                print(f"workshop-grade: class report in {report}", file=sys.stderr)
        return rows
    finally:
        if client is not None and isinstance(dask, str):  # a client we opened; one passed in stays open
            client.close()
        shutil.rmtree(tmp_root, ignore_errors=True)


def _open_keeping(store: str | Path | None, feedback: str | Path | None, report: str | Path | None, day: int,
                  ref: dict, resume: bool) -> Any:
    """Check the ``--store``, ``--feedback`` and ``--report`` paths before anything runs; the open store or None."""
    from .feedback import check_writable
    from .store import open_store, reference_digest

    if feedback is not None:
        check_writable(feedback, "--feedback")
    if report is not None:
        check_writable(Path(report).resolve().parent, "--report")
    if store is None:
        return None
    st = open_store(store, day=day, quick=bool(ref.get("quick")), ref_digest=reference_digest(ref), create=True)
    if st.manifest.get("probe") and not resume:
        raise ValueError(f"--store: {store} already holds a grading; pass --resume to continue it, or choose a new "
                         "folder")
    return st


def _run_local(job: SandboxJob, stop: threading.Event, out_file: Path) -> dict:
    """:func:`execute_job` with its tar stream in ``out_file`` (the grader's memory stays flat)."""
    ran = execute_job(job, stop, None, out_file)
    ran["stdout_file"] = str(out_file)
    return ran


def _grade_all(todo: list[str], notebooks: dict, settings: GradeSettings, log: CsvLog, executor: Any,
               snapshot: dict, out: Path, verbose: bool, probe_arg: Any = None) -> list[dict]:
    """Run the sandboxes through ``executor`` (threads here, or Dask workers); score each as it finishes.

    ``notebooks`` maps each id to its file (or to why it is not graded).  Every notebook is
    read and turned into its sandbox job before the first one runs (one file at a time, so
    the grader holds only the small code-only jobs).  The checks run here, one submission at
    a time, as runs complete; rows are appended as they come.  Ctrl-C sets ``stop`` (local
    sandboxes are killed at once), cancels what has not started, and keeps every row
    already written.

    Raises
    ------
    RowsNotWritten
        After grading everyone, when some rows could not be written.
    """
    rows: list[dict] = []
    lost: list[str] = []
    stop = threading.Event()
    t_start = time.monotonic()
    local = probe_arg is None

    def finish(student: str, row: dict) -> None:
        row.pop("executed", None)
        if snapshot:
            fixed = _restore(snapshot)
            if log.repair():
                fixed.append(out.name)
            if fixed:
                row["status"] += f"; repaired files it changed: {', '.join(fixed)}"
        try:
            log.append(row)
        except Exception as err:  # noqa: BLE001 - e.g. a disk error: try a plain row, then say so
            try:
                row = error_row(student, settings, RuntimeError(f"its row could not be written ({err})"))
                log.append(row)
            except Exception as err2:  # noqa: BLE001
                print(f"workshop-grade: could not write the row of {student}: {err2}", file=sys.stderr)
                lost.append(student)
                return
        rows.append(row)
        if verbose:
            print(f"[{len(rows)}/{len(todo)}] {student}: {row['total']}/{row['max']} ({row['status']}) "
                  f"after {time.monotonic() - t_start:.0f} s", file=sys.stderr)

    prepared = []
    for student in todo:  # read everything before anything runs
        src = notebooks[student]
        try:
            prepared.append((student, prepare(student, src if isinstance(src, str) else read_notebook(src), settings)))
        except Exception as err:  # noqa: BLE001
            prepared.append((student, err))
    pending: dict = {}
    try:
        for k, (student, got) in enumerate(prepared):
            if isinstance(got, Exception):
                finish(student, error_row(student, settings, got))
                continue
            job, status, days = got
            if job is None:
                finish(student, score(student, settings, None, status, days))
                continue
            if local:
                fut = executor.submit(_run_local, job, stop, settings.tmp_root / f"run-{k}.tar")
            else:  # a Dask worker: no stop event crosses machines; the probe was scattered once
                fut = executor.submit(execute_job, job, None, probe_arg)
            pending[fut] = (student, status, days)
        prepared.clear()
        while pending:
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for fut in done:
                student, status, days = pending.pop(fut)
                ran = None
                try:
                    ran = fut.result()
                    row = score(student, settings, ran, status, days)
                except Exception as err:  # noqa: BLE001 - a worker or the checks failed for this one
                    row = error_row(student, settings, err)
                finally:
                    if ran and ran.get("stdout_file"):
                        Path(ran["stdout_file"]).unlink(missing_ok=True)
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
    if lost:
        raise RowsNotWritten(f"--out: the rows of {len(lost)} submission(s) could not be written to {out}: "
                             + ", ".join(lost[:20]))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point of ``workshop-grade`` (:mod:`workshop_utils.grading.cli`); exit code 0 when every
    submission has a row.  ``workshop-grade report ...`` and ``workshop-grade regrade ...`` are the subcommands
    of :mod:`workshop_utils.grading.regrade`, ``workshop-grade review ...`` that of
    :mod:`workshop_utils.grading.review` (a submissions folder named so is given as ``./report``);
    ``workshop-grade gradebook ...`` is :func:`workshop_utils.grading.gradebook.main`."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "review":
        from .review import main as review_main

        return review_main(argv[1:])
    if argv and argv[0] == "gradebook":  # one gradebook file of several days' CSVs
        from . import gradebook

        return gradebook.main(argv[1:])
    if argv and argv[0] in ("report", "regrade"):
        from . import regrade

        return (regrade.report_main if argv[0] == "report" else regrade.main)(argv[1:])
    return cli.run(cli.parse_args(argv), grade_folder)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
