"""The runner's notebook client (``grading/notebook_client.py``): outputs kept under their caps, errors kept short.

The client is fed nbclient's output messages directly (no kernel): what a flooding cell, a large
image or a long traceback sends.  ``tests/test_grading_runner.py`` runs it in a real sandbox.
"""
from __future__ import annotations

import subprocess
import sys

import nbformat

from workshop_utils.grading.notebook_client import NOT_KEPT, QuietClient, output_size
from workshop_utils.grading.runner import KEPT_MIMES


def _client(cell: int = 100, image: int = 50, total: int = 400) -> QuietClient:
    return QuietClient(nbformat.v4.new_notebook(), cell_text_bytes=cell, image_bytes=image, executed_bytes=total,
                       kept_mimes=KEPT_MIMES, timeout=5)


def _msg(kind: str, **content) -> dict:
    return {"msg_type": kind, "header": {"msg_type": kind}, "content": content}


def test_a_flooding_cell_keeps_its_cap_and_one_notice():
    c, outs = _client(), []
    for _ in range(10):
        c.output(outs, _msg("stream", name="stdout", text="x" * 30), None, 0)
    kept = [o for o in outs if o.get("name") == "stdout"]
    assert sum(len(o["text"]) for o in kept) <= 100 and len(kept) == 3
    assert [o["text"] for o in outs if o.get("name") == "stderr"] == [NOT_KEPT]
    c.output(outs, _msg("stream", name="stdout", text="y"), None, 1)  # the next cell has its own cap
    assert outs[-1]["text"] == "y"


def test_images_and_mimes_beyond_the_caps_are_dropped():
    c, outs = _client(), []
    c.output(outs, _msg("display_data", data={"image/png": "A" * 40, "application/javascript": "alert(1)"},
                        metadata={}), None, 0)
    assert list(outs[0]["data"]) == ["image/png"] and output_size(outs[0]) == (0, 40)
    c.output(outs, _msg("display_data", data={"image/png": "A" * 60}, metadata={}), None, 0)  # over image_bytes
    assert len(outs) == 2 and outs[1]["text"] == NOT_KEPT
    big = _client(cell=10_000, image=10_000, total=100)
    outs = []
    big.output(outs, _msg("stream", name="stdout", text="z" * 150), None, 0)  # over executed_bytes
    assert [o["text"] for o in outs] == [NOT_KEPT]


def test_errors_are_kept_short_and_other_messages_ignored():
    c, outs = _client(), []
    c.output(outs, _msg("error", ename="E" * 500, evalue="v" * 1000, traceback=["t" * 9000]), None, 0)
    err = outs[0]
    assert len(err["ename"]) == 100 and len(err["evalue"]) == 300 and len(err["traceback"][0]) == 4000
    assert c.output(outs, _msg("status", execution_state="idle"), None, 0) is None and len(outs) == 1
    assert not c.timed_out


def test_the_runner_imports_no_notebook_client_until_it_runs_one():
    """PID 1 of a sandbox and the grader import the runner; only the worker that runs a notebook loads nbclient."""
    code = ("import sys, workshop_utils.grading.runner, workshop_utils.grading.jobs\n"
            "print(sorted(m for m in ('nbclient', 'workshop_utils.grading.notebook_client') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
