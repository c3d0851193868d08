"""``workshop-grade regrade``: run the current checks on a store's exports, without running any notebook.

    workshop-grade regrade --store DIR --out new.csv [--hidden hidden_checks.py] [--feedback DIR] [--report FILE]
        [--manual manual.csv]

The store (:mod:`workshop_utils.grading.store`) holds every submission's exported plain
data, how its run ended and the probe (labels and planted sites) it was scored on.  The
regrade reads each submission back (checksums verified), runs the package's checks and the
``--hidden`` files on it in a separate process (as the grader does), and writes one CSV row
per stored submission with the grader's own row builder
(:func:`workshop_utils.grading.results.build_row`): unchanged checks give byte-identical
rows; a changed threshold changes only the rows whose verdicts it flips.

A check that needs something the stored export does not hold (a requirement or a model
output added after the grading) cannot be judged from the store: its row says so, and the
regrade names the students to grade again (:attr:`Regrade.rerun`).

Hand scores of written answers (``--manual``, :mod:`workshop_utils.grading.manual`) are
kept in the store and replace the first pass of their checks in every later regrade.
"""
from __future__ import annotations

import dataclasses
import json
import multiprocessing
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .checks_process import check_export, load_all_hidden
from .hidden import load_hidden
from .practices import PRACTICES, reference
from .late import reapply_stored
from .results import build_row
from .roster import ROSTER_COLUMNS

#: A check that read a model output the export never computed directly (``v[m]["probe_ig"]``) raised this.
_MODEL_KEY_ERROR = re.compile(r"could not be checked \(KeyError: '(probe|anchor)_\w+'\)")


@dataclasses.dataclass
class Regrade:
    """What a regrade did.

    Attributes
    ----------
    rows : list of dict
        The CSV rows written.
    rerun : dict
        ``{student: [what the export lacks, ...]}``: students to grade again.
    seconds : float
        Wall time of the regrade.
    """

    rows: list
    rerun: dict
    seconds: float


def practice_points(day: int, hidden_paths: list) -> dict[int, float]:
    """``{practice number: points possible}`` with the public checks and the hidden files' checks."""
    points = {p.number: sum(c.points for c in p.checks) for p in PRACTICES[day]}
    for h in hidden_paths:
        for (d, n), checks in load_hidden(h).items():
            if d == day and n in points:
                points[n] += sum(c.points for c in checks)
    return points


def stale_requirements(day: int, export_dir: Path) -> list[str]:
    """Requirements the checks read that an existing export does not hold (it predates them)."""
    out = []
    for p in PRACTICES[day]:
        meta = Path(export_dir) / p.key / "values.json"
        if not meta.is_file() or meta.is_symlink():
            continue  # never exported: the student's run did not get there; not the store's fault
        try:
            entries = json.loads(meta.read_text())
        except (ValueError, OSError, UnicodeDecodeError):
            continue
        if isinstance(entries, dict):
            out += [f"p{p.number} {r.name}" for r in p.requirements if r.name not in entries]
    return out


def _batch_child(conn, day: int, hidden_paths: list[str], folders: list[str], ref: dict, memory_mb: int) -> None:
    """Run every check on every folder (one process for the whole batch; the grader's own code)."""
    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2 ** 20, memory_mb * 2 ** 20))
    except (ValueError, OSError):
        pass
    hidden = load_all_hidden(hidden_paths)
    for folder in folders:
        conn.send(check_export(day, hidden, folder, ref))
    conn.close()


def run_checks_batch(day: int, hidden_paths: list[Path], folders: list[Path], ref: dict, timeout: float = 300,
                     memory_mb: int = 4096) -> list[dict | str]:
    """The checks' results of each export folder (or why they did not run), from one fresh process.

    ``timeout`` is per folder. The process loads the hidden files itself, like the grader's.
    """
    ctx = multiprocessing.get_context("forkserver")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_batch_child, args=(child, day, [str(h) for h in hidden_paths],
                                                   [str(f) for f in folders], ref, memory_mb), daemon=True)
    proc.start()
    child.close()
    out: list[dict | str] = []
    try:
        for _ in folders:
            if not parent.poll(timeout):
                break
            out.append(parent.recv())
    except (EOFError, OSError):
        pass
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        parent.close()
    why = f"checks crashed or ran out of time ({timeout:g} s)"
    return out + [why] * (len(folders) - len(out))


def _open_checked(store: str | Path, accept_version: bool) -> tuple[Any, dict]:
    """The store, its checksums verified, and the reference data with its probe."""
    from .probe import add_to_reference
    from .store import StoreError, open_store, reference_digest

    ref = reference(source="simulated")
    st = open_store(store, quick=bool(ref.get("quick")), ref_digest=reference_digest(ref),
                    accept_version=accept_version)
    bad = [b for b in st.verify() if "checksum" in b]
    if bad:  # changed after grading: nothing of it is trusted
        raise StoreError(f"store {store}: changed since grading: " + "; ".join(bad[:5]))
    return st, add_to_reference(ref, st.probe())


def _unpack(st: Any, tmp: Path) -> tuple[list[str], list[Path], list[dict], dict[str, str]]:
    """Each stored submission unpacked under ``tmp``: students, folders, records, and ``{student: why}`` of
    those whose file is gone (the others are regraded, these are named)."""
    from .store import StoreError

    students, folders, records, missing = [], [], [], {}
    for i, sid in enumerate(st.students()):
        folder = tmp / f"s{i}"
        folder.mkdir()
        try:
            records.append(st.get(sid, folder))
            folders.append(folder)
            students.append(sid)
        except StoreError as err:
            missing[sid] = str(err)
    return students, folders, records, missing


def _one_row(sid: str, day: int, folder: Path, rec: dict, res: dict | str, points: dict, columns: list[str],
             book: Any) -> tuple[dict, dict | str, list[str]]:
    """The row of one stored submission, its results (hand scores applied) and what its export lacks."""
    lacks = stale_requirements(day, folder)
    if isinstance(res, dict):
        lacks += [f"p{n} {r['name']}" for n, pr in res.items() for r in pr["results"]
                  if r.get("not_in_export") or _MODEL_KEY_ERROR.search(str(r.get("message", "")))]
    note = ""
    if book is not None:
        res, note = book.apply(sid, folder, res)
    stored = rec.get("row") or {}
    kept = ("seconds", "peak_mb", "name_note", *ROSTER_COLUMNS)  # what the checks do not decide
    extra = {c: stored.get(c, "") for c in kept if c in columns}
    row = build_row(sid, day, res, str(rec.get("status", "ok")), list(rec.get("errors") or []), points,
                    extra=extra or None)
    if "raw_total" in columns:  # graded with --deadline: the same penalty on the new raw total
        reapply_stored(row, stored)
    if "manual" in columns:
        row["manual"] = note
    lacks = sorted(set(lacks))
    if lacks:
        row["status"] += ("; regrade: the stored export lacks what the current checks need ("
                          + ", ".join(lacks)[:300] + "): grade this submission again")
    return row, res, lacks


def regrade(store: str | Path, out: str | Path, hidden: list = (), feedback: str | Path | None = None,
            report: str | Path | None = None, check_timeout: float = 300, accept_version: bool = False,
            columns: list[str] | None = None, verbose: bool = True, manual: str | Path | list | None = None
            ) -> Regrade:
    """Regrade every submission of ``store`` with the current checks into the CSV ``out``.

    Parameters
    ----------
    store : str or Path
        The grading store (``workshop-grade ... --store DIR``).
    out : str or Path
        The new CSV (must not exist).
    hidden : list of paths
        Hidden-checks files (the current ones).
    feedback, report : str or Path, optional
        Write each student's feedback page there; write the class report there.
    check_timeout : float
        Seconds of checks per submission.
    accept_version : bool
        Accept a store written by another package version.
    columns : list of str, optional
        The CSV's columns (default: the grader's for the store's day).
    manual : str or Path or list of them, optional
        Manual CSVs (:mod:`workshop_utils.grading.manual`): their hand scores are kept in the
        store; those the store already keeps are applied with or without it.

    Returns
    -------
    Regrade

    Raises
    ------
    StoreError
        A store of another day, mode, version or course data, or a file changed since grading.
    FileExistsError
        ``out`` exists.
    ManualError
        A manual CSV with unknown students or checks, or points out of range (nothing is written).
    """
    from .csvlog import CsvLog, hidden_digest
    from .csvlog import columns as csv_columns
    from .feedback import check_writable, load_values, write_feedback
    from .manual import open_manual

    t0 = time.monotonic()
    st, ref = _open_checked(store, accept_version)
    day, hidden_paths = st.day, [Path(h).resolve() for h in hidden]
    points = practice_points(day, hidden_paths)
    if feedback is not None:
        check_writable(feedback)
    out = Path(out)
    if out.exists() and out.stat().st_size > 0:
        raise FileExistsError(f"regrade: --out {out} exists; choose a new file")
    book = open_manual(manual, day, st.students(), store=st)  # checked in full before anything is written
    out.parent.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    rerun: dict[str, list[str]] = {}
    tmp = Path(tempfile.mkdtemp(prefix="workshop-regrade-"))
    try:
        students, folders, records, missing = _unpack(st, tmp)
        stored = [rec.get("row") or {} for rec in records]  # graded with --roster / --deadline: keep those columns
        columns = columns or csv_columns(day, roster=any("roster_id" in r for r in stored),
                                         late=any("raw_total" in r for r in stored))
        log = CsvLog(out, columns, resume=False, meta={"day": str(day), "hidden": hidden_digest(hidden_paths)})
        results = run_checks_batch(day, hidden_paths, folders, ref, timeout=check_timeout)
        for sid, why in missing.items():
            rerun[sid] = ["its stored export is missing"]
            rows.append({"student": sid, "status": f"not regraded: {why}", "reasons": ""})
            log.append(rows[-1])
        for sid, folder, rec, res in zip(students, folders, records, results):
            row, res, lacks = _one_row(sid, day, folder, rec, res, points, columns, book)
            if lacks:
                rerun[sid] = lacks
            log.append(row)
            rows.append(row)
            if feedback is not None:
                new = {**rec, "results": res, "row": row}
                new.pop("executed", None)
                write_feedback(feedback, new, load_values(day, folder), ref["probe"], rec.get("executed"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if report is not None:
        from .report import write_report

        write_report(report, out, store=store, accept_version=accept_version)
    if verbose:
        print(f"workshop-grade regrade: {len(rows)} rows from {store} to {out} in {time.monotonic() - t0:.1f} s"
              + (f"; {len(book)} hand scores" if book is not None else ""), file=sys.stderr)
        if rerun:
            print("workshop-grade regrade: the stored exports lack what the current checks need; grade these "
                  "students again: " + ", ".join(sorted(rerun)), file=sys.stderr)
    return Regrade(rows, rerun, time.monotonic() - t0)


def main(argv: list[str] | None = None) -> int:
    """``workshop-grade regrade``; exit code 0 (1 when some students must be graded again, 2 on error)."""
    import argparse

    from .store import StoreError

    ap = argparse.ArgumentParser(prog="workshop-grade regrade", description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", required=True, help="the store of a grading run (workshop-grade ... --store DIR)")
    ap.add_argument("--out", required=True, help="the new CSV (must not exist)")
    ap.add_argument("--hidden", action="append", default=[], help="hidden-checks file (repeatable)")
    ap.add_argument("--feedback", default=None, help="write each student's feedback page (HTML and text) there")
    ap.add_argument("--report", default=None, help="write the class report (HTML) there")
    ap.add_argument("--check-timeout", type=float, default=300, help="seconds of checks per submission")
    ap.add_argument("--accept-version", action="store_true", help="regrade a store written by another version")
    ap.add_argument("--manual", metavar="CSV", action="append", default=None,
                    help="hand scores of written answers (repeatable; workshop-grade review writes the template); "
                         "kept in the store")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    try:
        res = regrade(args.store, args.out, hidden=args.hidden, feedback=args.feedback, report=args.report,
                      check_timeout=args.check_timeout, accept_version=args.accept_version, verbose=not args.quiet,
                      manual=args.manual)
    except (OSError, ValueError, StoreError) as err:
        print(f"workshop-grade regrade: error: {err}", file=sys.stderr)
        return 2
    return 1 if res.rerun else 0


def report_main(argv: list[str] | None = None) -> int:
    """``workshop-grade report``: the class report from an existing CSV (and store)."""
    import argparse

    from .report import write_report

    ap = argparse.ArgumentParser(prog="workshop-grade report",
                                 description="Write the class report (HTML) of a grades CSV and its store.")
    ap.add_argument("--csv", required=True, help="the grades CSV (workshop-grade ... --out)")
    ap.add_argument("--store", default=None, help="the store of the same grading (check results, code, time)")
    ap.add_argument("--day", type=int, choices=sorted(PRACTICES), default=None, help="needed without --store")
    ap.add_argument("--template", default=None, help="the homework template notebook (its code is ignored)")
    ap.add_argument("--threshold", type=float, default=0.5, help="smallest similarity reported (default 0.5)")
    ap.add_argument("--accept-version", action="store_true")
    ap.add_argument("--out", required=True, help="the HTML file to write")
    args = ap.parse_args(argv)
    try:
        path = write_report(args.out, args.csv, store=args.store, day=args.day, template=args.template,
                            accept_version=args.accept_version, threshold=args.threshold)
    except (OSError, ValueError) as err:
        print(f"workshop-grade report: error: {err}", file=sys.stderr)
        return 2
    print(f"workshop-grade report: wrote {path}", file=sys.stderr)
    return 0
