"""The grader's own peak memory under hostile submissions, beside an honest class of the same size.

    .venv/bin/python benchmarks/grader_memory.py [--export-mb 400] [--jobs 2]

Runs ``workshop-grade`` twice in a fresh process each (quick mode, real bubblewrap sandboxes),
side by side in one run, and prints the grader process's peak resident memory
(``VmHWM``, the high-water mark of that process alone: its sandboxes and its checks processes
are other processes, limited by ``--memory-mb`` and the checks' own cap):

1. *honest*: three small honest notebooks;
2. *hostile*: a notebook that writes ``--export-mb`` MiB into its export folder (the tar
   stream the grader reads back), one that prints 20,000 lines of 10 kB and shows 50 large
   images (the executed notebook that comes back), a notebook just under the size cap
   (:data:`~workshop_utils.grading.grader.MAX_NOTEBOOK_BYTES`, parsed) and one over it (never
   parsed).

The difference is what hostile input costs the grader; the documented bound (homework/README.md)
is checked by ``tests/test_grading_grader.py::test_the_graders_memory_stays_bounded_under_hostile_input``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HIDDEN = REPO / "tests" / "homework_hidden" / "hidden_checks.py"
HONEST = "answer_p1 = 'The auroc and the precision of my model are fine. ' * 6\n"
#: The peak is read from ``VmHWM`` in /proc/self/status: the high-water mark of this process's own memory
#: map.  ``ru_maxrss`` would not do: Linux carries it over ``execve`` from the process that started
#: the grader, so a grader started from a big process (pytest with TensorFlow loaded) reports that size.
RUN = ("import json, re, sys\nfrom workshop_utils.grading.grader import main\nrc = main(sys.argv[1:])\n"
       "hwm = int(re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1))\n"
       "print(json.dumps({'rc': rc, 'maxrss_mb': hwm / 1024}))\n")


def _notebook(*cells: str) -> dict:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from workshop_utils.grading import check\n" + HONEST),
                *(nbformat.v4.new_code_cell(c) for c in cells), nbformat.v4.new_code_cell("check(day=1, practice=1)")]
    return nb


def write_class(folder: Path, hostile: bool, export_mb: int = 400) -> None:
    """Three honest notebooks, or the hostile ones described above, in ``folder``."""
    import nbformat

    from workshop_utils.grading.grader import MAX_NOTEBOOK_BYTES

    folder.mkdir(parents=True, exist_ok=True)
    if not hostile:
        for i in range(3):
            nbformat.write(_notebook(), folder / f"honest_{i}.ipynb")
        return
    n = max(1, export_mb // 10)
    nbformat.write(_notebook(
        "import os\nos.makedirs('/grade/export/p9', exist_ok=True)\n"
        f"for i in range({n}):\n    with open(f'/grade/export/p9/junk{{i}}.npy', 'wb') as fh:\n"
        "        fh.write(os.urandom(10 * 2**20))\n"), folder / "big_export.ipynb")
    nbformat.write(_notebook(
        "import base64, os\nfrom IPython.display import Image, display\n"
        "for i in range(20000):\n    print('x' * 10000)\n"
        "png = base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==')\n"
        "for i in range(50):\n    display({'image/png': base64.b64encode(png + os.urandom(400000)).decode()}, raw=True)\n"),
        folder / "big_outputs.ipynb")
    for name, size in (("just_under_cap", MAX_NOTEBOOK_BYTES - 2 ** 20), ("over_cap", MAX_NOTEBOOK_BYTES + 2 ** 20)):
        nb = _notebook("x = 1")
        nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="y" * size)]
        (folder / f"{name}.ipynb").write_text(json.dumps(nb))


def grader_peak_mb(folder: Path, out: Path, jobs: int = 2, timeout: float = 120) -> dict:
    """Grade ``folder`` in a fresh process; ``{'rc', 'maxrss_mb', 'seconds', 'rows'}``."""
    env = {**os.environ, "WORKSHOP_QUICK": os.environ.get("WORKSHOP_QUICK", "1")}
    t0 = time.monotonic()
    res = subprocess.run([sys.executable, "-c", RUN, str(folder), "--day", "1", "--out", str(out), "--hidden",
                          str(HIDDEN), "--timeout", str(timeout), "--memory-mb", "2500", "--jobs", str(jobs),
                          "--quiet"], capture_output=True, text=True, env=env, timeout=20 * timeout)
    if res.returncode != 0:
        raise RuntimeError(f"grader failed: {res.stderr[-2000:]}")
    got = json.loads(res.stdout.strip().splitlines()[-1])
    import csv

    with open(out, newline="") as fh:
        got["rows"] = {r["student"]: r for r in csv.DictReader(fh)}
    got["seconds"] = time.monotonic() - t0
    return got


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--export-mb", type=int, default=400)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    os.environ.setdefault("WORKSHOP_QUICK", "1")
    tmp = Path(tempfile.mkdtemp(prefix="grader-memory-"))
    os.environ["WORKSHOP_DATA"] = str(tmp / "data")
    sys.path.insert(0, str(REPO))
    results = {}
    for kind in ("honest", "hostile"):
        write_class(tmp / kind, kind == "hostile", args.export_mb)
        results[kind] = grader_peak_mb(tmp / kind, tmp / f"{kind}.csv", args.jobs)
    load = os.getloadavg()[0]
    print(f"grader peak memory (VmHWM of the grader process), quick mode, --jobs {args.jobs}, "
          f"load average {load:.2f}:")
    for kind, r in results.items():
        print(f"  {kind:8s} {r['maxrss_mb']:7.0f} MiB  ({len(r['rows'])} rows, {r['seconds']:.0f} s)")
    print(f"  hostile - honest: {results['hostile']['maxrss_mb'] - results['honest']['maxrss_mb']:+.0f} MiB "
          f"(export stream {args.export_mb} MiB)")
    for sid, r in sorted(results["hostile"]["rows"].items()):
        print(f"    {sid}: {r['status'][:90]}  (peak {r['peak_mb'] or '?'} MiB in the sandbox)")


if __name__ == "__main__":
    main()
