"""Regrading a class from its store vs grading it again (issue #22: at least 50x faster).

    .venv/bin/python benchmarks/regrade_speed.py [--n 12] [--notebook tests/homework_solutions/day1_partial.ipynb]
                                                 [--jobs 2]

The class of ``benchmarks/grading_scale.py`` (``--n`` copies of one homework notebook,
quick mode unless WORKSHOP_QUICK=0 is set) is graded once with ``--store`` (every
submission in its sandbox), then, side by side in the same run:

1. graded again from the notebooks (``grade_folder``, ``--jobs`` as given);
2. regraded from the store (``workshop-grade regrade``: the checks only, no notebook runs).

It prints both wall times and their ratio, checks that the regrade's CSV is byte-identical
to the first grading's (same checks, same probe), and says how busy the machine was.
"""
from __future__ import annotations

import argparse
import inspect
import os
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from _grading_class import HIDDEN, NOTEBOOK, make_class  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=12, help="submissions in the class (default 12)")
    ap.add_argument("--notebook", default=str(NOTEBOOK))
    ap.add_argument("--day", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2, help="submissions graded at once when grading (default 2)")
    args = ap.parse_args()
    os.environ.setdefault("WORKSHOP_QUICK", "1")
    from workshop_utils.grading.grader import grade_folder
    from workshop_utils.grading.regrade import regrade
    from workshop_utils.grading.sandbox import sandbox_available

    tmp, subs = make_class(args.n, args.notebook, "regrade-bench-")
    hidden = HIDDEN
    kw = dict(hidden=[hidden], timeout=900, memory_mb=4000, verbose=False, jobs=args.jobs)
    if "unsafe_no_sandbox" in inspect.signature(grade_folder).parameters and not sandbox_available()[0]:
        kw["unsafe_no_sandbox"] = True
    load0 = os.getloadavg()
    private = tmp / "private"
    t = time.perf_counter()
    grade_folder(subs, args.day, private / "first.csv", store=private / "store", **kw)
    first = time.perf_counter() - t
    t = time.perf_counter()
    grade_folder(subs, args.day, private / "again.csv", **kw)
    again = time.perf_counter() - t
    t = time.perf_counter()
    res = regrade(private / "store", private / "regrade.csv", hidden=[hidden], verbose=False)
    re_s = time.perf_counter() - t
    load1 = os.getloadavg()
    same = (private / "regrade.csv").read_bytes() == (private / "first.csv").read_bytes()
    mode = "quick" if os.environ.get("WORKSHOP_QUICK") == "1" else "full"
    print(f"{args.n} submissions of {Path(args.notebook).name}, day {args.day}, {mode} mode, {os.cpu_count()} cores, "
          f"--jobs {args.jobs}, sandbox={'no' if kw.get('unsafe_no_sandbox') else 'bubblewrap'}; "
          f"load average before {load0[0]:.2f}, after {load1[0]:.2f}")
    print(f"  grade (with --store)     {first:8.1f} s")
    print(f"  grade again              {again:8.1f} s  ({again / args.n:6.2f} s per submission)")
    print(f"  regrade from the store   {re_s:8.1f} s  ({re_s / args.n:6.2f} s per submission)")
    print(f"regrade vs grade again: {again / re_s:.1f}x  (target >= 50x)")
    print(f"regrade CSV byte-identical to the graded one: {same}; students to run again: {len(res.rerun)}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
