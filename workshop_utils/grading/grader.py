"""``workshop-grade``: grade a folder of homework notebooks into a CSV.

    workshop-grade SUBMISSIONS_DIR --day 1 --out grades.csv --hidden hidden_checks.py \\
        [--timeout 1800] [--memory-mb 8192] [--resume]

How one submission is graded
----------------------------
1. The notebook is read (all submissions are read into memory before the first runs).
   After every code cell that calls ``check(day=D, practice=P)`` the grader inserts a cell
   that *exports* practice P's variables, and at the end one that exports all five
   (:func:`workshop_utils.grading.export.export_practice`: plain JSON, ``.npy`` without
   pickle, PNG).  Cells run in order; a cell that raises does not stop the next ones.
2. The notebook runs in a fresh kernel, a process of its own started in its own empty
   work folder, with its own copy of the course data, an address-space limit
   (``--memory-mb``) and a wall-clock limit (``--timeout``; a cell still running then is
   interrupted and the rest skipped, the final export gets ``--export-timeout`` more).
   Where Linux allows it the kernel also runs in private namespaces (see
   :mod:`workshop_utils.grading.sandbox`): it cannot read the hidden checks or the CSV,
   cannot write anywhere but its work folder, and every process it starts dies with it.
3. The checks (public ones from the package, hidden ones from ``--hidden`` files) run in a
   forked child of the grader, which imported them before any submission ran, on the
   exported values only.  A practice's points are those of the checks that passed.
4. The row is appended to the CSV and flushed to disk (``fsync``) at once; ``--resume``
   skips the students already in the CSV.

CSV columns: ``student`` (the file name without ``.ipynb``), ``p1`` ... ``p5``, ``total``,
``max`` (points possible with the checks that were run), ``status`` (``ok``, or what
stopped the run: time limit, kernel died, ...), ``reasons`` (every check that failed,
then the errors raised by the notebook's cells).
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import multiprocessing
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from .core import Missing, run_checks
from .export import load_practice
from .hidden import load_hidden
from .practices import PRACTICES, reference
from .sandbox import TOKEN_VAR, kernel_argv, kill_group, kill_tagged, sandbox_available

CHECK_CALL = re.compile(r"check\(\s*day\s*=\s*(\d+)\s*,\s*practice\s*=\s*(\d+)\s*\)")
KERNEL_NAME = "workshop-grader"
MAX_ERRORS = 5


def _columns(day: int) -> list[str]:
    return ["student"] + [f"p{p.number}" for p in PRACTICES[day]] + ["total", "max", "status", "reasons"]


def _export_source(day: int, numbers: list[int], folder: Path) -> str:
    return (
        "import workshop_utils.grading.export as _wu_grading_export\n"
        f"for _wu_p in {tuple(numbers)!r}:\n"
        "    try:\n"
        f"        _wu_grading_export.export_practice({day}, _wu_p, globals(), {str(folder)!r})\n"
        "    except BaseException as _wu_err:\n"
        "        print('export of practice', _wu_p, 'failed:', repr(_wu_err)[:300])\n")


def self_check_days(nb: Any) -> set[int]:
    """The days named by the notebook's ``check(day=D, practice=P)`` calls (to catch a wrong ``--day``)."""
    days = set()
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            src = cell.get("source", "")
            days |= {int(d) for d, _ in CHECK_CALL.findall("".join(src) if isinstance(src, list) else str(src))}
    return days


def build_run_notebook(nb: Any, day: int, export_dir: Path) -> tuple[Any, list[str]]:
    """The notebook the kernel runs: the submission's code cells plus export cells.

    Returns the notebook and, per cell, its role: ``'student'`` or ``'export'``.
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
    run_nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "grader", "language": "python"}
    return run_nb, roles


def _client_class():
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

    return QuietClient


def run_submission(run_nb: Any, roles: list[str], work: Path, env: dict, argv: list[str], timeout: float,
                   export_timeout: float, token: str) -> tuple[str, list[str]]:
    """Execute ``run_nb`` in a fresh kernel started by ``argv`` in ``work/run``.

    Returns ``(status, errors)``: ``status`` is ``'ok'`` or what stopped the run, ``errors``
    the errors of the submission's cells (``'cell 3: ValueError: ...'``).
    """
    import json

    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    spec_dir = work / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps(
        {"argv": argv, "display_name": "grader", "language": "python", "metadata": {"debugger": False}}))
    ksm = KernelSpecManager(kernel_dirs=[str(work / "kernels")])
    km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=ksm)
    client = _client_class()(run_nb, km=km, kernel_name=KERNEL_NAME, timeout=int(max(1, timeout)),
                             allow_errors=True, interrupt_on_timeout=True, startup_timeout=120,
                             error_on_timeout={"ename": "TimeLimit", "evalue": "the cell ran out of time"},
                             iopub_timeout=5, shutdown_kernel="immediate", record_timing=False,
                             resources={"metadata": {"path": str(work / "run")}})
    status, errors, pgid = "ok", [], None
    deadline = time.monotonic() + timeout
    student_no = 0
    try:
        with client.setup_kernel(env=env, cwd=str(work / "run"), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL):
            pgid = getattr(km.provisioner, "pgid", None)
            for i, (cell, role) in enumerate(zip(run_nb.cells, roles)):
                if role == "student":
                    student_no += 1
                    left = deadline - time.monotonic()
                    if left < 1:
                        if status == "ok":
                            status = f"time limit ({timeout:g} s) reached before cell {student_no}"
                        continue
                    client.timeout = int(max(1, left))
                else:
                    client.timeout = int(export_timeout)
                try:
                    client.execute_cell(cell, i)
                except DeadKernelError:
                    status = f"kernel died in cell {student_no}" if role == "student" else "kernel died while exporting"
                    break
                except CellTimeoutError:
                    status = f"time limit reached in cell {student_no}"
                    break
                for out in cell.get("outputs", []):
                    if out.get("output_type") != "error":
                        continue
                    if out.get("ename") == "TimeLimit" and role == "student" and status == "ok":
                        status = f"time limit ({timeout:g} s) reached in cell {student_no}"
                    elif role == "student" and len(errors) < MAX_ERRORS:
                        errors.append(f"cell {student_no}: {out.get('ename')}: {out.get('evalue')}"[:300])
    except DeadKernelError:
        status = "kernel died"
    except RuntimeError as err:  # the kernel did not start
        status = f"kernel failed: {str(err)[:200]}"
    except Exception as err:  # noqa: BLE001 - one submission must never stop the grading
        status = f"grader error while running: {type(err).__name__}: {str(err)[:200]}"
    finally:
        try:
            if km.has_kernel:
                from jupyter_core.utils import run_sync

                run_sync(km.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001
            pass
        kill_group(pgid)
        kill_tagged(token)
    return status, errors


def _checks_child(conn, day: int, hidden: dict, export_dir: str, ref: dict, memory_mb: int) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2 ** 20, memory_mb * 2 ** 20))
    except (ValueError, OSError):
        pass
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


def run_checks_isolated(day: int, hidden: dict, export_dir: Path, ref: dict, timeout: float = 300,
                        memory_mb: int = 4096) -> dict[int, list[dict]] | str:
    """Run every check on ``export_dir`` in a forked child; the results, or why it failed."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_checks_child, args=(child, day, hidden, str(export_dir), ref, memory_mb),
                       daemon=True)
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


def _data_files() -> list[Path]:
    """The files of the course data the kernels read (copied into each work folder)."""
    from .. import config
    from ..datasets import SPLITS, default_sizes

    real = config.data_dir() / "CTCF_200.h5"
    if real.is_file():
        return [real]
    sizes = default_sizes()
    tag = "_".join(str(sizes[s]) for s in SPLITS)
    return [p for p in [config.cache_dir() / f"ctcf_sim_default_s0_{tag}.h5"] if p.is_file()]


class CsvLog:
    """The grades CSV: appended row by row, fsync'ed, checked and repaired before each write."""

    def __init__(self, path: Path, columns: list[str], resume: bool):
        self.path, self.columns = path, columns
        self.done: set[str] = set()
        if path.exists() and path.stat().st_size > 0:
            if not resume:
                raise SystemExit(f"--out: {path} exists; pass --resume to continue it or choose another file")
            text = path.read_bytes().decode("utf-8", "replace")
            if not text.endswith("\n"):  # an interrupted write: drop the partial row
                text = text[: text.rfind("\n") + 1]
            rows = list(csv.DictReader(io.StringIO(text)))
            if text and text.splitlines()[0].split(",") != columns:
                raise SystemExit(f"--out: {path} has other columns than {columns}")
            self.done = {r["student"] for r in rows}
            self.expected = text.encode()
            self._rewrite()
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

    def append(self, row: dict) -> None:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([row.get(c, "") for c in self.columns])
        data = buf.getvalue().encode()
        self.repair()
        with open(self.path, "ab") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        self.expected += data
        self.done.add(row["student"])


def _snapshot(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file() and p.suffix in (".py", ".json")}


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


def _fmt(x: float) -> str:
    return f"{x:g}"


def _kernel_env(work: Path, token: str) -> dict:
    import site

    home = work / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "JUPYTER_"))}
    env.update(HOME=str(home), PYTHONUSERBASE=site.getuserbase(), IPYTHONDIR=str(home / ".ipython"),
               MPLCONFIGDIR=str(home / "mpl"), KERAS_HOME=str(home / ".keras"), XDG_CACHE_HOME=str(home / ".cache"),
               TMPDIR=str(work / "tmp"), WORKSHOP_DATA=str(work / "data"), MPLBACKEND="Agg",
               PYTHONDONTWRITEBYTECODE="1", TF_CPP_MIN_LOG_LEVEL="3", **{TOKEN_VAR: token})
    env.setdefault("KERAS_BACKEND", "tensorflow")
    return env


def _prepare_work(work: Path, data_files: list[Path]) -> None:
    for sub in ("run", "tmp", "export", "data/cache", "home/mpl"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    from .. import config

    for f in data_files:
        dest = work / "data" / ("CTCF_200.h5" if f.name == "CTCF_200.h5" else f"cache/{f.name}")
        shutil.copyfile(f, dest)
    try:  # reuse matplotlib's font cache (building it takes seconds)
        import matplotlib

        for f in Path(matplotlib.get_cachedir()).glob("fontlist*.json"):
            shutil.copyfile(f, work / "home" / "mpl" / f.name)
    except Exception:  # noqa: BLE001 - only a speed-up
        pass
    del config


def grade_one(student: str, nb_bytes: bytes, day: int, hidden: dict, ref: dict, tmp_root: Path,
              data_files: list[Path], protect: dict, timeout: float, memory_mb: int,
              export_timeout: float, check_timeout: float, isolate: bool) -> dict:
    """Grade one notebook (given as bytes); returns its CSV row as a dict."""
    import nbformat

    practices = PRACTICES[day]
    row: dict[str, Any] = {"student": student}
    work = Path(tempfile.mkdtemp(prefix=f"{re.sub(r'[^A-Za-z0-9_-]', '_', student)[:40]}_", dir=tmp_root))
    reasons: list[str] = []
    try:
        try:
            nb = nbformat.reads(nb_bytes.decode("utf-8"), as_version=4)
        except Exception as err:  # noqa: BLE001 - not a notebook
            nb, status, errors = None, f"not a readable notebook ({type(err).__name__})", []
        if nb is not None:
            _prepare_work(work, data_files)
            run_nb, roles = build_run_notebook(nb, day, work / "export")
            token = uuid.uuid4().hex
            argv = kernel_argv(memory_mb, read_only=protect["read_only"], hide=protect["hide"],
                               writable=[work], isolate=isolate)
            status, errors = run_submission(run_nb, roles, work, _kernel_env(work, token), argv, timeout,
                                            export_timeout, token)
            days = self_check_days(nb)
            if days and day not in days:
                status += f"; its self-checks are for day {', '.join(map(str, sorted(days)))}, graded as day {day}"
        results = run_checks_isolated(day, hidden, work / "export", ref, timeout=check_timeout)
        if isinstance(results, str):
            status = f"{status}; {results}" if status != "ok" else results
            results = {}
        total = possible = 0.0
        for p in practices:
            res = results.get(p.number, {"results": [], "unexported": "checks did not run"})
            earned = sum(r["earned"] for r in res["results"])
            possible += sum(c.points for c in p.checks + hidden.get((day, p.number), []))
            total += earned
            row[f"p{p.number}"] = _fmt(earned)
            if res["unexported"]:
                reasons.append(f"p{p.number}: {res['unexported']}")
            else:
                reasons += [f"p{p.number} {r['name']}: {r['message']}" for r in res["results"] if not r["passed"]]
        row.update(total=_fmt(total), max=_fmt(possible), status=status)
        reasons += errors
    finally:
        shutil.rmtree(work, ignore_errors=True)
    row["reasons"] = " | ".join(reasons)[:20000]
    return row


def _protected_paths(out: Path, submissions: list[Path], hidden_paths: list[Path], tmp_root: Path) -> dict:
    import site

    from .. import config

    pkg = Path(__file__).resolve().parents[1]
    ro = [pkg, Path(sys.prefix), Path(sys.base_prefix), *map(Path, site.getsitepackages()),
          out.resolve().parent, tmp_root, *{s.resolve().parent for s in submissions}]
    if config.REPO_DIR is not None:
        ro.append(config.REPO_DIR)
    user_site = Path(site.getusersitepackages())
    if user_site.is_dir():
        ro.append(user_site)
    seen, read_only = set(), []
    for p in ro:
        p = p.resolve()
        if p.is_dir() and p not in seen and p != Path("/"):
            seen.add(p)
            read_only.append(p)
    return {"read_only": read_only, "hide": [*(h.resolve() for h in hidden_paths), out.resolve()]}


def grade_folder(submissions: str | Path, day: int, out: str | Path, hidden: list[str | Path] = (),
                 timeout: float = 1800, memory_mb: int = 8192, resume: bool = False, sandbox: str = "auto",
                 export_timeout: float = 120, check_timeout: float = 300, verbose: bool = True) -> list[dict]:
    """Grade every ``*.ipynb`` of ``submissions`` (a folder, or one notebook) into the CSV ``out``.

    Parameters are those of the command line (``workshop-grade --help``); ``sandbox`` is
    ``'auto'`` (namespaces when available), ``'on'`` (required) or ``'off'``.

    Returns
    -------
    list of dict
        The rows written by this run (students skipped by ``resume`` are not included).
    """
    if day not in PRACTICES:
        raise ValueError(f"day must be one of {sorted(PRACTICES)}, got {day!r}")
    for name, v in (("timeout", timeout), ("export_timeout", export_timeout), ("check_timeout", check_timeout)):
        if not isinstance(v, (int, float)) or v <= 0:
            raise ValueError(f"{name} must be a positive number of seconds, got {v!r}")
    if sandbox not in ("auto", "on", "off"):
        raise ValueError(f"sandbox must be 'auto', 'on' or 'off', got {sandbox!r}")
    src = Path(submissions)
    if src.is_dir():
        files = sorted(p for p in src.glob("*.ipynb") if p.is_file())
    elif src.is_file():
        files = [src]
    else:
        raise FileNotFoundError(f"submissions: no such folder or file {src}")
    ids = [p.stem for p in files]
    if len(set(ids)) != len(ids):
        raise ValueError("submissions: two files give the same student id")
    notebooks = {p.stem: p.read_bytes() for p in files}  # read all before any runs
    hidden_paths = [Path(h) for h in hidden]
    hidden_checks: dict = {}
    for h in hidden_paths:
        for key, checks in load_hidden(h).items():
            hidden_checks.setdefault(key, []).extend(checks)
    isolate = sandbox != "off" and sandbox_available()
    if sandbox == "on" and not isolate:
        raise RuntimeError("sandbox='on' but unshare cannot create user/mount/pid namespaces here")
    if not isolate and verbose:
        print("workshop-grade: WARNING: no namespace sandbox (unshare unavailable or --no-sandbox); limits, "
              "process clean-up and CSV repair still apply, but a submission could read the hidden checks "
              "and files outside its folder.", file=sys.stderr)
    ref = reference()  # the true labels, loaded before any submission runs
    import scipy.stats  # noqa: F401 - imported now, so no check imports code after submissions ran
    import sklearn.metrics  # noqa: F401

    data_files = _data_files()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    log = CsvLog(out, _columns(day), resume)
    snapshot = _snapshot(Path(__file__).resolve().parent)
    tmp_root = Path(tempfile.mkdtemp(prefix="workshop-grade-"))
    protect = _protected_paths(out, files, hidden_paths, tmp_root)
    rows = []
    todo = [s for s in ids if s not in log.done]
    if verbose:
        print(f"workshop-grade: day {day}, {len(todo)} to grade ({len(ids) - len(todo)} already in {out}), "
              f"sandbox={'namespaces' if isolate else 'off'}, timeout {timeout:g} s, memory {memory_mb} MiB",
              file=sys.stderr)
    try:
        for k, student in enumerate(todo, 1):
            t0 = time.monotonic()
            row = grade_one(student, notebooks[student], day, hidden_checks, ref, tmp_root, data_files, protect,
                            timeout, memory_mb, export_timeout, check_timeout, isolate)
            fixed = _restore(snapshot)
            if log.repair():
                fixed.append(out.name)
            if fixed:
                row["status"] += f"; repaired files it changed: {', '.join(fixed)}"
            log.append(row)
            rows.append(row)
            if verbose:
                print(f"[{k}/{len(todo)}] {student}: {row['total']}/{row['max']} ({row['status']}) "
                      f"in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point of ``workshop-grade``."""
    ap = argparse.ArgumentParser(prog="workshop-grade", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("submissions", help="folder of submitted .ipynb files (student id = file name)")
    ap.add_argument("--day", type=int, required=True, choices=sorted(PRACTICES), help="which homework")
    ap.add_argument("--out", required=True, help="CSV file to write (appended row by row)")
    ap.add_argument("--hidden", action="append", default=[], help="hidden-checks file (repeatable)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per submission (default 1800)")
    ap.add_argument("--memory-mb", type=int, default=8192, help="address-space limit per kernel (default 8192)")
    ap.add_argument("--export-timeout", type=float, default=120, help="seconds for the final export cell")
    ap.add_argument("--check-timeout", type=float, default=300, help="seconds for the checks of one submission")
    ap.add_argument("--resume", action="store_true", help="skip students already in --out")
    ap.add_argument("--sandbox", choices=("auto", "on", "off"), default="auto",
                    help="kernel namespaces: auto (when available), on (required), off")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    rows = grade_folder(args.submissions, args.day, args.out, hidden=args.hidden, timeout=args.timeout,
                        memory_mb=args.memory_mb, resume=args.resume, sandbox=args.sandbox,
                        export_timeout=args.export_timeout, check_timeout=args.check_timeout,
                        verbose=not args.quiet)
    if not args.quiet:
        print(f"workshop-grade: wrote {len(rows)} rows to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
