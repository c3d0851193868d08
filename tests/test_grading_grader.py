"""The grader (``grading/grader.py``): refusing to run without a sandbox, the unsafe mode, Dask, its own memory."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from _sandbox_kit import HIDDEN, PEERS, REPO, needs_sandbox, notebook, read_rows
from workshop_utils.grading.cage import cage_kind
from workshop_utils.grading.grader import grade_folder, main


def test_without_a_sandbox_the_grader_refuses_unless_told(tmp_path, monkeypatch):
    from workshop_utils.grading import grader

    (tmp_path / "a.ipynb").write_text(notebook())
    monkeypatch.setattr(grader, "sandbox_available", lambda: (False, "no bwrap here"))
    with pytest.raises(RuntimeError, match="unsafe-no-sandbox"):
        grade_folder(tmp_path, 1, tmp_path / "out" / "g.csv")
    assert main([str(tmp_path), "--day", "1", "--out", str(tmp_path / "out" / "g.csv"), "--quiet"]) == 2


def test_unsafe_mode_repairs_the_package_and_kills_detached_processes(tmp_path, monkeypatch):
    """--unsafe-no-sandbox: an edit to backend.py is undone, an env -i daemon is killed (by the cgroup)."""
    monkeypatch.setenv("WORKSHOP_DATA", str(tmp_path / "data"))
    backend = REPO / "workshop_utils" / "backend.py"
    before = backend.read_bytes()
    marker = f"wg-unsafe-{os.getpid()}"
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "tamper.ipynb").write_text(notebook(
        f"open({str(backend)!r}, 'a').write('\\n# tampered\\n')\nimport subprocess\n"
        f"subprocess.Popen(['env', '-i', 'setsid', 'sh', '-c', 'sleep 600; : {marker}'], start_new_session=True)\n"))
    (subs / "zz_next.ipynb").write_text(notebook("answer_p1 = 'The auroc of the model is fine. ' * 8\n"))
    out = tmp_path / "g.csv"
    try:
        grade_folder(subs, 1, out, hidden=[HIDDEN], timeout=30, memory_mb=2500, unsafe_no_sandbox=True,
                     verbose=False)
    finally:
        if backend.read_bytes() != before:
            backend.write_bytes(before)
            pytest.fail("backend.py was left tampered")
    rows = read_rows(out)
    assert "repaired files it changed: backend.py" in rows["tamper"]["status"]
    assert rows["zz_next"]["p1"] == "1"
    time.sleep(0.5)
    alive = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if marker.encode() in (p / "cmdline").read_bytes():
                    alive.append(p.name)
            except OSError:
                pass
    if cage_kind() != "rlimit":
        assert alive == []
    else:  # pragma: no cover - without cgroups a detached env -i process can escape; say so
        for pid in alive:
            os.kill(int(pid), 9)
        pytest.xfail("no cgroup here: an env -i daemon escapes --unsafe-no-sandbox (documented)")


@needs_sandbox
def test_a_dask_cluster_gives_the_rows_of_a_serial_run(tmp_path, monkeypatch):
    """The sandboxes run on two Dask worker processes; the checks and labels stay in the grader."""
    from distributed import Client, LocalCluster

    monkeypatch.setenv("WORKSHOP_DATA", str(tmp_path / "data"))
    subs = tmp_path / "subs"
    subs.mkdir()
    books = {**PEERS, "honest": notebook("answer_p1 = 'The auroc of my model is fine. ' * 8\n"),
             "crash": notebook("import os\nos._exit(3)\n")}
    for name, text in books.items():
        (subs / f"{name}.ipynb").write_text(text)
    kw = dict(hidden=[HIDDEN], timeout=40, memory_mb=2500, export_timeout=5, verbose=False)
    serial = _rows(grade_folder(subs, 1, tmp_path / "serial.csv", jobs=1, **kw))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        dask_rows = _rows(grade_folder(subs, 1, tmp_path / "dask.csv", dask=client, **kw))
    assert dask_rows == serial
    assert serial["honest"]["p1"] == "1" and serial["peer_a_listen"]["p1"] == serial["peer_b_connect"]["p1"] == "0"
    assert "kernel died" in serial["crash"]["status"]


def _rows(rows: list[dict]) -> dict[str, dict]:
    """Rows by student, without what a run measures (its time and memory differ from run to run)."""
    return {r["student"]: {k: v for k, v in r.items() if k not in ("seconds", "peak_mb")} for r in rows}


# ----------------------------------------------------------------------------- the grader's own limits
def _benchmark(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


#: The grader's documented peak memory (homework/README.md): what an honest class costs, plus at most this
#: much for hostile input at --jobs 2 (a 300-MiB export stream, 200 MB printed, 50 large images, a notebook
#: just under the 20-MiB cap and one over it), and never more than GRADER_MAX_MB in all.
GRADER_EXTRA_MB = 150
GRADER_MAX_MB = 400


@needs_sandbox
def test_the_graders_memory_stays_bounded_under_hostile_input(tmp_path, monkeypatch):
    bench = _benchmark("grader_memory")
    monkeypatch.setenv("WORKSHOP_DATA", str(tmp_path / "data"))
    got = {}
    for kind in ("honest", "hostile"):
        bench.write_class(tmp_path / kind, kind == "hostile", export_mb=300)
        got[kind] = bench.grader_peak_mb(tmp_path / kind, tmp_path / f"{kind}.csv", jobs=2, timeout=60)
    hostile = got["hostile"]
    print({k: round(v["maxrss_mb"]) for k, v in got.items()})
    assert sorted(hostile["rows"]) == ["big_export", "big_outputs", "just_under_cap", "over_cap"]
    assert hostile["rows"]["big_export"]["status"] == "ok" and hostile["rows"]["big_outputs"]["status"] == "ok"
    assert "more than 20 MiB" in hostile["rows"]["over_cap"]["status"]
    assert hostile["maxrss_mb"] < got["honest"]["maxrss_mb"] + GRADER_EXTRA_MB, got
    assert hostile["maxrss_mb"] < GRADER_MAX_MB, got
