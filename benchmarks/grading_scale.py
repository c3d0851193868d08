"""Grading at class scale: --jobs 2 vs --jobs 1, a two-worker Dask LocalCluster vs --jobs 2.

    .venv/bin/python benchmarks/grading_scale.py [--n 12] [--notebook tests/homework_solutions/day1_partial.ipynb]

Grades the same ``--n`` copies of one homework notebook three ways, side by side in one run
(quick mode unless WORKSHOP_QUICK=0 is set), every submission in its bubblewrap sandbox:

1. serially (``--jobs 1``);
2. two at a time on this machine (``--jobs 2``; each kernel gets cores/2 threads);
3. through a ``dask.distributed.LocalCluster`` of two worker processes.

It prints the wall times, the ratios the issue asks for (jobs 2 vs 1 >= 1.4x, Dask vs jobs 2
>= 0.9x), checks that the three CSVs hold the same rows, says how busy the machine was (load
average before and after), and projects class sizes from the measured cost: a submission
costs ``wall(jobs 2) x 2 / n`` core-seconds here, so a class of S students on C cores takes
about ``S x that / C`` seconds (one job per core pair, the default of ``--jobs``).
"""
from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from _grading_class import HIDDEN, NOTEBOOK, make_class  # noqa: E402


def _rows(path: Path) -> dict[str, tuple]:
    with open(path, newline="") as fh:
        return {r["student"]: (r["p1"], r["p2"], r["p3"], r["p4"], r["p5"], r["total"]) for r in csv.DictReader(fh)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=12, help="submissions in the class (default 12)")
    ap.add_argument("--notebook", default=str(NOTEBOOK))
    ap.add_argument("--day", type=int, default=1)
    args = ap.parse_args()
    os.environ.setdefault("WORKSHOP_QUICK", "1")
    from distributed import Client, LocalCluster

    from workshop_utils.grading.grader import grade_folder

    tmp, subs = make_class(args.n, args.notebook, "grading-bench-")
    hidden = HIDDEN
    kw = dict(hidden=[hidden], timeout=600, memory_mb=4000, verbose=False)
    load0 = os.getloadavg()
    times = {}
    t = time.perf_counter()
    grade_folder(subs, args.day, tmp / "jobs1.csv", jobs=1, **kw)
    times["jobs1"] = time.perf_counter() - t
    t = time.perf_counter()
    grade_folder(subs, args.day, tmp / "jobs2.csv", jobs=2, **kw)
    times["jobs2"] = time.perf_counter() - t
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        client.run(lambda: __import__("workshop_utils.grading.grader"))  # warm the workers' imports
        t = time.perf_counter()
        grade_folder(subs, args.day, tmp / "dask.csv", dask=client, **kw)
        times["dask"] = time.perf_counter() - t
    load1 = os.getloadavg()
    same = _rows(tmp / "jobs1.csv") == _rows(tmp / "jobs2.csv") == _rows(tmp / "dask.csv")
    mode = "quick" if os.environ.get("WORKSHOP_QUICK") == "1" else "full"
    print(f"{args.n} submissions of {Path(args.notebook).name}, {mode} mode, {os.cpu_count()} cores; "
          f"load average before {load0[0]:.2f}, after {load1[0]:.2f}")
    for k, v in times.items():
        print(f"  {k:6s} {v:7.1f} s  ({v / args.n:5.1f} s per submission)")
    print(f"jobs 2 vs jobs 1 : {times['jobs1'] / times['jobs2']:.2f}x  (target >= 1.4x)")
    print(f"dask 2 vs jobs 2 : {times['jobs2'] / times['dask']:.2f}x  (target >= 0.9x)")
    print(f"same rows in the three CSVs: {same}")
    core_s = times["jobs2"] * 2 / args.n
    print(f"\nprojection from {core_s:.1f} core-seconds per submission ({mode} mode; full-mode notebooks cost more:"
          f" rerun with WORKSHOP_QUICK=0 to measure them)")
    print(f"{'students':>9s} " + " ".join(f"{c:>10d} cores" for c in (2, 16, 64)))
    for s in (30, 200, 1000):
        print(f"{s:9d} " + " ".join(f"{s * core_s / c / 60:>12.1f} min" for c in (2, 16, 64)))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
