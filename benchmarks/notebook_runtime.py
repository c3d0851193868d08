"""How long does each teaching notebook take, against its budget?

Executes notebooks top to bottom with nbclient in a fresh kernel, in full mode
(``WORKSHOP_QUICK=0``, what students and ``make workshop`` run) and/or quick mode
(``WORKSHOP_QUICK=1``, what ``make test`` runs), and prints each one's wall time
(kernel start included) next to its budget, with the ratio time / budget and the
slowest cells.  Executed copies are written only where ``--save-dir`` says (never
into the repository by default).

    python benchmarks/notebook_runtime.py                       # every notebook, both modes
    python benchmarks/notebook_runtime.py notebooks/day1_02_cnn_ctcf_binding.ipynb --mode full

Exit status 1 when a notebook fails (an assert cell, an error), or with ``--strict``
when one is over budget.  Timings depend on the machine's load: say how busy it was
when you report them.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Full-mode budgets in seconds, by notebook name prefix (the lesson's issue states them).
FULL_BUDGET_S = {
    "day1_01": 300,
    "day1_02": 300,
    "day1_03": 300,
    "day2_01": 300,
    "day2_02": 300,
    "day2_03": 360,
    "day2_04": 360,
}
#: Quick mode: every notebook should stay near this, so ``make test`` fits in CI's limit.
QUICK_BUDGET_S = 90
DEFAULT_FULL_BUDGET_S = 300


def budget(path: Path, mode: str) -> float:
    """Budget in seconds of notebook ``path`` in ``mode`` ('full' or 'quick')."""
    if mode == "quick":
        return QUICK_BUDGET_S
    for prefix, seconds in FULL_BUDGET_S.items():
        if path.name.startswith(prefix):
            return seconds
    return DEFAULT_FULL_BUDGET_S


def run_notebook(path: Path, mode: str, cell_timeout: int = 1200, save_dir: Path | None = None) -> dict:
    """Execute one notebook in a fresh kernel; return wall time, error and the slowest cells."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    env_before = os.environ.get("WORKSHOP_QUICK")
    os.environ["WORKSHOP_QUICK"] = "1" if mode == "quick" else "0"
    client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    cell_times: list[tuple[float, int]] = []
    started: dict[int, float] = {}
    client.on_cell_execute = lambda cell, cell_index: started.__setitem__(cell_index, time.perf_counter())
    client.on_cell_executed = lambda cell, cell_index, execute_reply: cell_times.append(
        (time.perf_counter() - started.get(cell_index, time.perf_counter()), cell_index))
    error = None
    t0 = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as err:
        error = str(err).strip().splitlines()[-1][:200]
    except Exception as err:  # kernel died, timeout: report and go on with the next notebook
        error = f"{type(err).__name__}: {err}"[:200]
    finally:
        wall = time.perf_counter() - t0
        if env_before is None:
            os.environ.pop("WORKSHOP_QUICK", None)
        else:
            os.environ["WORKSHOP_QUICK"] = env_before
    if save_dir is not None:
        save_dir.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, save_dir / f"{path.stem}_{mode}.ipynb")
    return {"wall": wall, "error": error, "slowest": sorted(cell_times, reverse=True)[:3]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/*.ipynb")
    ap.add_argument("--mode", choices=("full", "quick", "both"), default="both")
    ap.add_argument("--cell-timeout", type=int, default=1200, help="seconds per cell")
    ap.add_argument("--save-dir", type=Path, default=None, help="write executed copies here (not the repo)")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a notebook is over budget")
    args = ap.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not paths:
        print("no notebooks found", file=sys.stderr)
        return 1
    missing = [p for p in paths if not p.is_file()]
    if missing:
        print(f"not found: {', '.join(map(str, missing))}", file=sys.stderr)
        return 1
    modes = ("quick", "full") if args.mode == "both" else (args.mode,)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPUs, load average {load:.1f} at start")
    print(f"{'notebook':42s} {'mode':5s} {'time s':>7s} {'budget s':>8s} {'ratio':>6s}  status")
    failed = over = False
    for path in paths:
        for mode in modes:
            res = run_notebook(path.resolve(), mode, args.cell_timeout, args.save_dir)
            b = budget(path, mode)
            ratio = res["wall"] / b
            status = "FAILED: " + res["error"] if res["error"] else ("ok" if ratio <= 1 else "OVER BUDGET")
            failed |= bool(res["error"])
            over |= ratio > 1
            print(f"{path.name:42s} {mode:5s} {res['wall']:7.1f} {b:8.0f} {ratio:6.2f}  {status}")
            slow = ", ".join(f"cell {i}: {t:.1f} s" for t, i in res["slowest"])
            print(f"{'':42s} slowest cells: {slow}", flush=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average {load:.1f} at the end")
    return 1 if failed or (args.strict and over) else 0


if __name__ == "__main__":
    sys.exit(main())
