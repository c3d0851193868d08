"""What the grader's tests share: hostile notebooks are written here, graded through the real grader.

A notebook reports a successful attack the only way anything leaves the sandbox: through its
exported values. It sets ``answer_p1`` to 40 words mentioning AUROC when the attack worked
(:data:`LEAK`), which earns practice 1 exactly one point ("answer_p1 written"); so ``p1 == "1"``
in the CSV means "the attack worked". An honest notebook (:data:`HONEST`) keeps its point.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path

import nbformat
import pytest

from workshop_utils.grading.sandbox import sandbox_available

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
HIDDEN = HERE / "homework_hidden" / "hidden_checks.py"
AVAILABLE, WHY = sandbox_available()
needs_sandbox = pytest.mark.skipif(not AVAILABLE and not os.environ.get("CI"),
                                   reason=f"bubblewrap sandbox unavailable here: {WHY}")
LEAK = "answer_p1 = 'auroc ' * 40  # the attack worked\n"
SECRET_ENV = "WORKSHOP_TEST_GRADER_SECRET"
HONEST = "answer_p1 = 'The auroc and the precision of my model are fine. ' * 6\n"


def notebook(*cells: str) -> str:
    """A Day-1 submission: ``cells`` between the import of ``check`` and ``check(day=1, practice=1)``."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from workshop_utils.grading import check\nanswer_p1 = ''\n"),
                *(nbformat.v4.new_code_cell(c) for c in cells),
                nbformat.v4.new_code_cell("check(day=1, practice=1)")]
    return nbformats(nb)


def nbformats(nb) -> str:
    return nbformat.writes(nb)


# Two submissions graded at the same time (consecutive names, two jobs): one listens on the sandbox's
# loopback, the other tries to connect to it. Each sandbox has its own network namespace.
PEER_PORT = 47123
PEERS = {
    "peer_a_listen": notebook(
        "import socket, time\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        f"s.bind(('127.0.0.1', {PEER_PORT}))\ns.listen(4)\ns.settimeout(1)\ngot = False\n"
        "end = time.time() + 15\nwhile time.time() < end and not got:\n    try:\n        s.accept()\n"
        "        got = True\n    except OSError:\n        pass\n"
        f"if got:\n    {LEAK}"),
    "peer_b_connect": notebook(
        "import socket, time\nok = False\nend = time.time() + 12\nwhile time.time() < end and not ok:\n"
        f"    try:\n        socket.create_connection(('127.0.0.1', {PEER_PORT}), timeout=1).close()\n"
        "        ok = True\n    except OSError:\n        time.sleep(0.5)\n"
        f"if ok:\n    {LEAK}"),
}


def read_rows(path: Path) -> dict[str, dict]:
    """The grader's CSV as ``{student: row}``."""
    with open(path, newline="") as fh:
        return {r["student"]: r for r in csv.DictReader(fh)}
