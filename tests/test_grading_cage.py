"""The grader's cage (``grading/cage.py``): limits of a whole process tree, enforced from outside."""
from __future__ import annotations

import pytest

from workshop_utils.grading.cage import Limits, cage_kind


def test_limits_validate_their_numbers():
    with pytest.raises(ValueError, match="memory_mb"):
        Limits(memory_mb=10)
    with pytest.raises(ValueError, match="timeout"):
        Limits(timeout=float("inf"))


def test_the_cpu_share_of_a_cage_is_enforced():
    """Three spinning processes in a cage of 0.05 cores get about 0.05 core-seconds per second, all together.

    (Without the cap they got 0.8 CPU-s in 4 s even on a 2-core machine at load 12.)"""
    import sys

    from workshop_utils.grading.cage import Cage, run_caged

    if cage_kind() == "rlimit":  # pragma: no cover - no cgroup, no CPU share; the docs say so
        pytest.skip("no cgroup here: the CPU share cannot be enforced")
    code = ("import os, sys, time\nkids = []\nfor _ in range(3):\n    r, w = os.pipe()\n    pid = os.fork()\n"
            "    if pid == 0:\n        end = time.monotonic() + 4\n        while time.monotonic() < end:\n            pass\n"
            "        os.write(w, str(time.process_time()).encode())\n        os._exit(0)\n    kids.append(r)\n"
            "print(sum(float(os.read(r, 64)) for r in kids))\n")
    cage = Cage(Limits(cpus=0.05))
    try:
        assert cage.cpu_capped
    finally:
        cage.close()
    run = run_caged([sys.executable, "-c", code], Limits(timeout=60, cpus=0.05))
    used = float(run.stdout.decode())
    assert run.cpu_capped and run.returncode == 0
    assert used < 0.05 * 4 * 1.5 + 0.15, f"3 spinners used {used:.2f} CPU-s in 4 s under a 0.05-core cap"


def test_a_flood_on_stderr_keeps_only_its_tail():
    import sys

    from workshop_utils.grading.cage import STDERR_TAIL, run_caged

    code = "import sys\nfor i in range(800):\n    sys.stderr.write(str(i % 10) * 2**16)\nsys.stderr.write('THE END')\n"
    run = run_caged([sys.executable, "-c", code], Limits(timeout=60))
    assert run.returncode == 0 and len(run.stderr_tail) <= STDERR_TAIL and run.stderr_tail.endswith("THE END")
