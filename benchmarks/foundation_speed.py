"""Foundation budgets, measured side by side in one run (ratios < 1 meet the budget).

* Generating 50,000 simulated CTCF sequences of 200 nt with labels: budget 5 s.
* ``import workshop_utils`` in a fresh interpreter: budget 0.5 s, no framework imported.

    python benchmarks/foundation_speed.py [--repeats 3]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from workshop_utils.datasets import simulate_ctcf

IMPORT_CODE = ("import sys, time; t = time.perf_counter(); import workshop_utils; "
               "dt = time.perf_counter() - t; "
               "heavy = [m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules]; "
               "print(dt, ','.join(heavy))")


def time_import() -> tuple[float, str]:
    out = subprocess.run([sys.executable, "-c", IMPORT_CODE], capture_output=True, text=True, check=True)
    dt, _, heavy = out.stdout.strip().partition(" ")
    return float(dt), heavy


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    sim, imp, heavy = [], [], set()
    for r in range(args.repeats):
        t = time.perf_counter()
        X, y, _ = simulate_ctcf(50_000, 200, seed=r)
        sim.append(time.perf_counter() - t)
        dt, h = time_import()
        imp.append(dt)
        heavy.update(filter(None, h.split(",")))
    assert X.shape == (50_000, 200, 4) and y.shape == (50_000,)
    rows = [("simulate 50,000 x 200 nt", statistics.median(sim), 5.0),
            ("import workshop_utils", statistics.median(imp), 0.5)]
    print(f"{'what':28s} {'median s':>9s} {'budget s':>9s} {'ratio':>7s}")
    for name, t, budget in rows:
        print(f"{name:28s} {t:9.3f} {budget:9.1f} {t / budget:7.2f}")
    print(f"frameworks imported by `import workshop_utils`: {sorted(heavy) or 'none'}")


if __name__ == "__main__":
    main()
