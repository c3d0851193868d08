"""The checks of one submission, run in a fresh process of the grader (never in a sandbox).

The process loads the hidden-checks files itself, so no check object crosses a process
boundary; it reads only the plain data a sandbox exported and the reference data.
"""
from __future__ import annotations

import dataclasses
import multiprocessing
import resource
from pathlib import Path

from .core import Missing, run_checks
from .export import load_practice
from .hidden import load_hidden
from .practices import PRACTICES


def _checks_child(conn, day: int, hidden_paths: list[str], export_dir: str, ref: dict, memory_mb: int) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2 ** 20, memory_mb * 2 ** 20))
    except (ValueError, OSError):
        pass
    conn.send(check_export(day, load_all_hidden(hidden_paths), export_dir, ref))
    conn.close()


def load_all_hidden(hidden_paths: list[str]) -> dict:
    """``{(day, practice): [Check, ...]}`` of every hidden-checks file (loaded in the checks process)."""
    hidden: dict = {}
    for h in hidden_paths:
        for key, checks in load_hidden(h).items():
            hidden.setdefault(key, []).extend(checks)
    return hidden


def check_export(day: int, hidden: dict, export_dir: str | Path, ref: dict) -> dict[int, dict]:
    """Every check of ``day`` on one export folder: ``{practice: {"results": [...], "unexported": ...}}``.

    The one place both the grader and ``workshop-grade regrade`` run the checks of a submission.
    """
    out = {}
    for p in PRACTICES[day]:
        values = load_practice(p, export_dir)
        res = run_checks(p.checks + hidden.get((day, p.number), []), values, ref)
        reasons = {v.reason for v in values.values() if isinstance(v, Missing)}
        unexported = len(reasons) == 1 and all(isinstance(v, Missing) for v in values.values())
        out[p.number] = {"results": [dataclasses.asdict(r) for r in res],
                         "unexported": reasons.pop() if unexported else None}
    return out


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
