"""The sandbox job (``grading/jobs.py``): the notebook a kernel runs, and reading back what a sandbox wrote.

The tar stream comes from inside the sandbox, so it is built here the way a hostile runner or
kernel could build it: paths that climb out of the export folder, links, devices, a forged
``runner.json`` and more files than allowed.  ``tests/test_grading_runner.py`` runs a real one.
"""
from __future__ import annotations

import io
import json
import tarfile

import nbformat

from workshop_utils.grading.cage import Limits
from workshop_utils.grading.jobs import (MAX_EXPORT_FILES, build_run_notebook, extract_result, run_status,
                                         self_check_days)


def _tar(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return buf.getvalue()


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, b""


def test_build_run_notebook_adds_an_export_after_each_check_and_at_the_end(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# text is dropped"), nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_code_cell("check(day=1, practice=2)\ncheck(day = 1, practice = 9)"),
                nbformat.v4.new_code_cell("check(day=2, practice=1)")]
    run_nb, roles = build_run_notebook(nb, 1, tmp_path)
    assert roles == ["student", "student", "export", "student", "export"]
    assert "export_practice(1, _wu_p" in run_nb.cells[2].source and "(2,)" in run_nb.cells[2].source
    assert "(1, 2, 3, 4, 5)" in run_nb.cells[-1].source and str(tmp_path) in run_nb.cells[-1].source
    assert self_check_days(nb) == {1, 2}  # a notebook of the other day is caught before it runs


def test_extract_result_writes_only_regular_files_inside_the_export_folder(tmp_path):
    dest = tmp_path / "export"
    stream = _tar([
        _file("runner.json", json.dumps({"status": "ok" * 400, "errors": ["e" * 999] * 50}).encode()),
        _file("executed.ipynb", b'{"cells": []}'),
        _file("export/day1_p1/values.json", b"{}"),
        _file("export/../../escaped.txt", b"x"), _file("/abs/escaped.txt", b"x"), _file("elsewhere.txt", b"x"),
        _link("export/link.npy", "/etc/passwd"), _link("export/hard.npy", "/etc/passwd", tarfile.LNKTYPE),
        _link("export/dev", "", tarfile.CHRTYPE),
    ])
    got = extract_result(stream, dest)
    assert len(got["status"]) == 300 and len(got["errors"]) == 5 and all(len(e) == 300 for e in got["errors"])
    assert got["executed"] == '{"cells": []}' and "unreadable" not in got
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == \
        ["export/day1_p1/values.json"]


def test_extract_result_caps_the_number_of_files_and_survives_a_broken_stream(tmp_path):
    many = _tar([_file(f"export/f{i}.npy", b"1") for i in range(MAX_EXPORT_FILES + 5)])
    extract_result(many, tmp_path / "a")
    assert len(list((tmp_path / "a").iterdir())) == MAX_EXPORT_FILES
    path = tmp_path / "cut.tar"
    big = _tar([_file("export/big.npy", bytes(200_000))])
    path.write_bytes(big[:100_000])  # the sandbox was killed in the middle of a file: read from a file
    got = extract_result(path, tmp_path / "b")
    assert got["status"] == "no result from the sandbox" and got["unreadable"].startswith("unreadable output")


def test_run_status_names_the_limit_the_sandbox_hit_first():
    lim = Limits(timeout=30, memory_mb=2500)
    ran = {"out_of_memory": False, "timed_out": False, "output_too_large": False, "stopped": False,
           "returncode": 1, "stderr_tail": "boom\nlast words\n\n"}
    assert run_status(ran, {"status": "ok"}, lim) == "ok"
    assert run_status(ran, {"status": "no result from the sandbox"}, lim) == \
        "the sandbox ended without a result (exit code 1) last words"
    timed_out = run_status({**ran, "timed_out": True, "stopped": True}, {"status": "ok"}, lim)
    assert timed_out.startswith("time limit (30 s)")
    assert run_status({**ran, "out_of_memory": True, "timed_out": True}, {"status": "kernel died"}, lim) == \
        "memory limit (2500 MiB) reached; kernel died"
