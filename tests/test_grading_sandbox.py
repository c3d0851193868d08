"""The grader's sandbox (``grading/sandbox.py``) against hostile submissions, and its own pieces.

Each hostile notebook is written here, with the paths it attacks filled in (an attacker
knows where the instructor keeps things).  A notebook reports a successful attack the only
way anything leaves the sandbox: through its exported values. It sets ``answer_p1`` to 40
words mentioning AUROC when the attack worked, which earns practice 1 exactly one point
("answer_p1 written"); so ``p1 == "1"`` in the CSV means "the attack worked" and every
test below asserts ``p1 == "0"`` for the attacks. An honest notebook graded in the same
run must keep its points.

Everything here is bounded: 30-s notebooks, 2.5 GB per submission, 64-MB files, and the
listener and the scans stop by themselves.
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

import nbformat
import pytest

from _sandbox_kit import (AVAILABLE, HIDDEN, HONEST, LEAK, PEERS, REPO, SECRET_ENV, WHY, nbformats,
                          needs_sandbox, notebook, read_rows)
from workshop_utils.grading.cage import Limits, cage_kind
from workshop_utils.grading.csvlog import student_id, student_name
from workshop_utils.grading.grader import main
from workshop_utils.grading.sandbox import forbidden_inside


# Two submissions graded at the same time: one takes an exclusive flock on every course data file it can
# see and spins three processes, the other reads the data again and again. Each job has its own copy.
NEIGHBOURS = {
    "lock_a_hold": notebook(
        "import fcntl, os, subprocess, sys, time\nheld = []\n"
        "for d, _, files in os.walk('/grade/data'):\n    for f in files:\n"
        "        fh = open(os.path.join(d, f), 'rb')\n        fcntl.flock(fh, fcntl.LOCK_EX)\n        held.append(fh)\n"
        "spin = [subprocess.Popen([sys.executable, '-c', 'while True: pass']) for _ in range(3)]\n"
        "time.sleep(12)\nfor s in spin:\n    s.kill()\n"
        f"if held:  # it did lock the data (its own copy)\n    {HONEST}"),
    "lock_b_read": notebook(
        "import time\nfrom workshop_utils.datasets import load_ctcf\nok = 0\ntime.sleep(3)\n"
        "for _ in range(10):\n    try:\n        load_ctcf(); ok += 1\n    except Exception as err:\n"
        "        print('blocked:', err)\n    time.sleep(1)\n"
        f"if ok == 10:\n    {HONEST}"),
}
# What a kernel tries against PID 1 (the runner) and its parent; any success sets LEAK.
PROC_ATTACK = (
    "import ctypes, os\nhits = []\n"
    "for p in ['/proc/1/environ', '/proc/1/mem', '/proc/1/fd/1', '/proc/1/fd/2', f'/proc/{os.getppid()}/environ']:\n"
    "    try:\n        data = open(p, 'rb').read(4096)\n        hits.append(p)\n    except OSError:\n        pass\n"
    "for p in ['/proc/1/fd/1', '/proc/1/fd/2', f'/proc/{os.getppid()}/fd/1', f'/proc/{os.getppid()}/fd/2']:\n"
    "    try:\n        with open(p, 'wb') as fh:\n            fh.write(b'x' * 2**20)\n        hits.append('write ' + p)\n"
    "    except OSError:\n        pass\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "for pid in (1, os.getppid()):\n    if libc.ptrace(16, pid, 0, 0) == 0:\n        hits.append(f'ptrace {pid}')\n"
    "print(hits)\n")
# Kernel-level escapes: a user namespace, a tmpfs mount, keyrings, bpf, perf; any success sets LEAK.
ESCAPES = (
    "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nhits = []\n"
    "if libc.unshare(0x10000000) == 0:\n    hits.append('userns')\n"
    "if libc.mount(b'none', b'/tmp', b'tmpfs', 0, None) == 0:\n    hits.append('mount')\n"
    "if libc.syscall(250, 0, 0, 0, 0, 0) >= 0:\n    hits.append('keyctl')\n"  # keyctl(KEYCTL_GET_KEYRING_ID)
    "if libc.syscall(321, 0, 0, 0) >= 0:\n    hits.append('bpf')\n"
    "attr = ctypes.create_string_buffer(128)\nctypes.memmove(attr, (ctypes.c_uint32 * 2)(1, 128), 8)\n"
    "if libc.syscall(298, attr, 0, -1, -1, 0) >= 0:\n    hits.append('perf_event_open')\n"
    "print(hits)\n")


class Listener:
    """A TCP server on 127.0.0.1 that counts connections (stops by itself after ``seconds``)."""

    def __init__(self, seconds: float = 240):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.until = time.monotonic() + seconds
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while time.monotonic() < self.until:
            try:
                conn, _ = self.sock.accept()
                self.accepted += 1
                conn.close()
            except OSError:
                continue
        self.sock.close()


@pytest.fixture(scope="module")
def attack(tmp_path_factory):
    """Grade a class of hostile notebooks (and one honest one) with --jobs 2; returns what a test needs."""
    if not AVAILABLE:
        pytest.fail(f"CI must test the sandbox, but it is unavailable: {WHY}")
    tmp = tmp_path_factory.mktemp("attack")
    instructor, subs, outdir, data = tmp / "instructor", tmp / "subs", tmp / "out", tmp / "data"
    for d in (instructor, subs, outdir, data):
        d.mkdir()
    hidden = instructor / "hidden_checks.py"
    hidden.write_bytes(HIDDEN.read_bytes())
    (instructor / "hidden_checks.py~").write_text("SECRET BACKUP OF THE HIDDEN CHECKS\n")
    (outdir / "grader.log").write_text("alice 50/50\n")
    old_env = {k: os.environ.get(k) for k in ("WORKSHOP_DATA", SECRET_ENV)}
    os.environ["WORKSHOP_DATA"] = str(data)
    os.environ[SECRET_ENV] = "s3cret"
    listener = Listener()
    marker = f"wg-daemon-{os.getpid()}-{int(time.time())}"
    home = Path.home()
    writes = [str(instructor / "planted.py"), str(data / "planted.h5"), str(outdir / "planted.csv"),
              str(REPO / "workshop_utils" / "planted.py"), str(home / ".wg_planted_rc"), "/wg_planted",
              "/usr/wg_planted", str(subs / "zz_honest.ipynb")]
    reads = [str(instructor / "hidden_checks.py~"), str(hidden), str(outdir / "grader.log"),
             str(subs / "zz_honest.ipynb"), str(REPO / ".git" / "HEAD"), str(home / ".bash_history")]
    books = {
        "write_outside": notebook(
            f"import os\nhits = 0\nfor p in {writes!r}:\n    try:\n        open(p, 'a').write('x')\n"
            "        hits += 1\n    except OSError:\n        pass\n"
            f"if hits:\n    {LEAK}"),
        "read_private": notebook(
            f"hits = 0\nfor p in {reads!r}:\n    try:\n        open(p).read(10)\n        hits += 1\n"
            "    except OSError:\n        pass\n"
            "import os\nfor pid in [p for p in os.listdir('/proc') if p.isdigit()]:\n    try:\n"
            f"        hits += {SECRET_ENV!r}.encode() in open(f'/proc/{{pid}}/environ', 'rb').read()\n"
            "    except OSError:\n        pass\n"
            f"if hits or os.environ.get({SECRET_ENV!r}):\n    {LEAK}"),
        "proc_pid1": notebook(PROC_ATTACK + f"if hits:\n    {LEAK}"),
        "escape_kernel": notebook(ESCAPES + f"if hits:\n    {LEAK}"),
        # forges the runner's tar ("ok") on every descriptor it can reach, then runs out of time
        "forge_status": notebook(
            "import io, json, os, sys, tarfile\nbuf = io.BytesIO()\n"
            "with tarfile.open(fileobj=buf, mode='w') as tar:\n"
            "    data = json.dumps({'status': 'ok', 'errors': []}).encode()\n"
            "    info = tarfile.TarInfo('runner.json'); info.size = len(data); tar.addfile(info, io.BytesIO(data))\n"
            "for p in ['/proc/1/fd/1', f'/proc/{os.getppid()}/fd/1', '/proc/self/fd/1']:\n    try:\n"
            "        with open(p, 'wb') as fh:\n            fh.write(buf.getvalue())\n    except OSError:\n        pass\n"
            "sys.stdout.write(buf.getvalue().decode('latin-1'))\n",
            HONEST, "check(day=1, practice=1)", "while True:\n    pass"),
        "network": notebook(
            "import socket\nok = False\n"
            f"for host in ('127.0.0.1', socket.gethostname()):\n    try:\n"
            f"        socket.create_connection((host, {listener.port}), timeout=2).close()\n        ok = True\n"
            "    except OSError:\n        pass\n"
            f"if ok:\n    {LEAK}"),
        "ignore_sigint": notebook(
            "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n",
            *["check(day=1, practice=1)\nimport time\nwhile True:\n    time.sleep(1)\n"] * 12),
        "daemon": notebook(
            "import subprocess\n"
            f"subprocess.Popen(['env', '-i', 'setsid', 'sh', '-c', 'sleep 600; : {marker}'],"
            " start_new_session=True)\n"
            f"subprocess.Popen(['sh', '-c', '(sleep 600; : {marker}) &'])\n"),
        "memory_children": notebook(
            "import subprocess, sys\ncode = 'x = bytearray(1500 * 2**20)\\nfor i in range(0, len(x), 4096): x[i] = 1\\n"
            "import time; time.sleep(20)'\n"
            "procs = [subprocess.Popen([sys.executable, '-c', code]) for _ in range(3)]\n"
            "codes = [p.wait() for p in procs]\n"
            f"if all(c == 0 for c in codes):\n    {LEAK}"),
        "big_file": notebook(
            "ok = True\ntry:\n    with open('big.bin', 'wb') as fh:\n        for _ in range(1024):\n"
            "            fh.write(b'x' * 2**20)\nexcept OSError:\n    ok = False\n"
            f"if ok:\n    {LEAK}"),
        "fork_bomb": notebook(
            "import subprocess\nprocs = []\ntry:\n    for _ in range(2000):\n"
            "        procs.append(subprocess.Popen(['sleep', '30']))\nexcept OSError:\n    pass\n"
            f"if len(procs) >= 2000:\n    {LEAK}"),
        "=HYPERLINK(\"http:__evil\",\"x\")": notebook(),
        **PEERS,
        **NEIGHBOURS,
        "crash_exit": notebook(HONEST, "check(day=1, practice=1)", "import os\nos._exit(1)"),
        "crash_raise": notebook("raise RuntimeError('boom')", HONEST),
        "crash_sysexit": notebook("import sys\nsys.exit(3)", HONEST),
        "crash_loop": notebook(HONEST, "check(day=1, practice=1)", "while True:\n    pass"),
        "spam": notebook("import sys\nfor _ in range(200):\n    sys.stdout.write('x' * 2**18)", HONEST),
        "zz_honest": notebook(HONEST),
    }
    last = nbformat.v4.new_notebook()  # the last cell runs out of time (nbclient says so only in its reply)
    last.cells = [nbformat.v4.new_code_cell(c) for c in ("from workshop_utils.grading import check\n" + HONEST,
                                                         "check(day=1, practice=1)", "import time\ntime.sleep(10**6)")]
    books["timeout_last_cell"] = nbformats(last)
    for name, text in books.items():
        (subs / f"{name}.ipynb").write_text(text)
    (subs / os.fsdecode(b"caf\xe9.ipynb")).write_text(notebook())
    student = subs / "lms_student_42"  # a course website's download: one folder per student
    student.mkdir()
    (student / "homework_day1.ipynb").write_text(notebook())
    out = outdir / "grades.csv"
    before = {p: p.read_bytes() for p in (hidden, instructor / "hidden_checks.py~", outdir / "grader.log",
                                          subs / "zz_honest.ipynb")}
    t0 = time.monotonic()
    try:
        rc = main([str(subs), "--day", "1", "--out", str(out), "--hidden", str(hidden), "--timeout", "30",
                   "--memory-mb", "2500", "--export-timeout", "5", "--jobs", "2", "--quiet"])
    finally:
        for k, v in old_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    seconds = time.monotonic() - t0
    time.sleep(0.5)
    procs = [p for p in Path("/proc").iterdir() if p.name.isdigit()]
    survivors = []
    for p in procs:
        try:
            if marker.encode() in (p / "cmdline").read_bytes():
                survivors.append(int(p.name))
        except OSError:
            pass
    yield {"rc": rc, "rows": read_rows(out), "out": out, "writes": writes, "listener": listener, "before": before,
           "seconds": seconds, "survivors": survivors, "subs": subs}
    for f in writes:  # only if a test already failed: leave nothing behind
        if f != str(subs / "zz_honest.ipynb") and os.path.exists(f):
            os.remove(f)


@needs_sandbox
def test_every_submission_has_a_row_and_the_honest_one_keeps_its_points(attack):
    rows = attack["rows"]
    assert attack["rc"] == 0
    assert len(rows) == 25
    assert rows["zz_honest"]["p1"] == "1" and rows["zz_honest"]["status"] == "ok", rows["zz_honest"]


@needs_sandbox
def test_a_crashing_or_endless_notebook_keeps_the_points_earned_before(attack):
    rows = attack["rows"]
    assert rows["crash_exit"]["p1"] == "1" and "kernel died" in rows["crash_exit"]["status"]
    assert rows["crash_loop"]["p1"] == "1" and "time limit" in rows["crash_loop"]["status"]
    for name, err in (("crash_raise", "cell 2: RuntimeError: boom"), ("crash_sysexit", "cell 2: SystemExit")):
        assert rows[name]["p1"] == "1" and err in rows[name]["reasons"], rows[name]
    assert rows["spam"]["p1"] == "1" and rows["spam"]["status"] == "ok" and len(rows["spam"]["reasons"]) < 20000


@needs_sandbox
def test_a_time_out_in_the_last_cell_is_a_time_out_in_that_cell(attack):
    row = attack["rows"]["timeout_last_cell"]
    assert row["status"] == "time limit (30 s) reached in cell 3" and row["p1"] == "1", row


@needs_sandbox
def test_pid_1_holds_nothing_of_the_grader_and_cannot_be_reached(attack):
    """No grader variable in any /proc/N/environ; PID 1 (the runner) and the worker cannot be read, traced or
    written through /proc; nothing the kernel writes reaches the grader's pipe or stderr."""
    rows = attack["rows"]
    assert rows["read_private"]["p1"] == "0"
    assert rows["proc_pid1"]["p1"] == "0", "PID 1 or its worker was readable, traceable or writable"
    assert rows["proc_pid1"]["status"] == "ok", rows["proc_pid1"]


@needs_sandbox
def test_the_status_cannot_be_forged_by_the_kernel(attack):
    row = attack["rows"]["forge_status"]
    assert row["status"] == "time limit (30 s) reached in cell 5", row
    assert row["p1"] == "1"  # its honest answer still counts


@needs_sandbox
def test_nested_namespaces_mounts_and_kernel_interfaces_are_refused(attack):
    assert attack["rows"]["escape_kernel"]["p1"] == "0"


@needs_sandbox
def test_a_neighbour_cannot_lock_the_data_or_take_the_cpu(attack):
    """The reader, graded beside a submission that flocks every data file it sees, keeps its point."""
    rows = attack["rows"]
    assert rows["lock_b_read"]["p1"] == "1" and rows["lock_b_read"]["status"] == "ok", rows["lock_b_read"]
    hog = rows["lock_a_hold"]
    assert hog["p1"] == "1", hog  # it did hold its locks (and its spinners slowed only itself: its CPU is capped)


@needs_sandbox
def test_rows_record_time_memory_and_what_they_were_graded_with(attack):
    rows = attack["rows"]
    for r in rows.values():
        assert r["day"] == "1" and len(r["hidden"]) == 16 and float(r["seconds"]) > 0, r
        if cage_kind() in ("cgroup1", "cgroup2"):
            assert float(r["peak_mb"]) > 50, r  # at least a Python kernel
    if cage_kind() in ("cgroup1", "cgroup2"):
        assert float(rows["memory_children"]["peak_mb"]) >= 2000  # three children under a 2.5-GB cap


@needs_sandbox
def test_no_write_outside_the_work_folder(attack):
    assert attack["rows"]["write_outside"]["p1"] == "0"
    assert [f for f in attack["writes"][:-1] if os.path.exists(f)] == []
    for path, data in attack["before"].items():
        assert path.read_bytes() == data


@needs_sandbox
def test_nothing_private_is_readable(attack):
    row = attack["rows"]["read_private"]
    assert row["p1"] == "0", "a file next to the hidden checks, a peer, the log, the repo or the env was readable"


@needs_sandbox
def test_no_network_not_even_loopback_of_the_host(attack):
    assert attack["rows"]["network"]["p1"] == "0"
    assert attack["listener"].accepted == 0


@needs_sandbox
def test_parallel_submissions_cannot_reach_each_other(attack):
    assert attack["rows"]["peer_a_listen"]["p1"] == "0" and attack["rows"]["peer_b_connect"]["p1"] == "0"


@needs_sandbox
def test_sigint_ignored_and_many_check_cells_stop_at_the_time_limit(attack):
    row = attack["rows"]["ignore_sigint"]
    assert "time limit" in row["status"], row
    # 12 notebooks, 2 at a time, 30-s limit each: the whole class is bounded
    assert attack["seconds"] < 6 * (30 + Limits().grace + 40)


@needs_sandbox
def test_detached_processes_die_with_the_sandbox(attack):
    assert attack["survivors"] == []


@needs_sandbox
def test_memory_is_limited_for_the_submission_as_a_whole(attack):
    row = attack["rows"]["memory_children"]
    assert row["p1"] == "0", "three children held 4.5 GB under a 2.5-GB limit"
    if cage_kind() in ("cgroup1", "cgroup2", "systemd"):
        assert "memory limit" in row["status"] or "kernel died" in row["status"], row["status"]


@needs_sandbox
def test_file_size_and_process_count_are_limited(attack):
    assert attack["rows"]["big_file"]["p1"] == "0"
    assert attack["rows"]["fork_bomb"]["p1"] == "0"


@needs_sandbox
def test_odd_names_and_formulas_are_written_safely(attack):
    rows = attack["rows"]
    formula = [k for k in rows if "HYPERLINK" in k]
    assert formula == ["'=HYPERLINK(\"http:__evil\",\"x\")"]
    sid = student_id(b"caf\xe9")
    assert sid in rows and student_name(sid) == b"caf\xe9"
    assert "lms_student_42" in rows
    # --resume after the run: every student is already there, nothing is graded again
    before = attack["out"].read_bytes()
    assert main([str(attack["subs"]), "--day", "1", "--out", str(attack["out"]), "--resume", "--quiet",
                 "--hidden", str(HIDDEN)]) == 0
    assert attack["out"].read_bytes() == before


# ----------------------------------------------------------------------------- its pieces
def test_private_files_inside_mounted_folders_are_refused():
    import workshop_utils

    inside = Path(workshop_utils.__file__).parent / "hidden_checks.py"
    assert forbidden_inside([inside]) and not forbidden_inside([HIDDEN])


@needs_sandbox
def test_pid_1_starts_without_the_graders_environment_or_descriptors(tmp_path, monkeypatch):
    """What PID 1 of a sandbox holds, read by PID 1 itself: the allow-list only, no grader descriptor."""
    import sys

    from workshop_utils.grading.cage import run_caged
    from workshop_utils.grading.sandbox import bwrap_argv, sandbox_env
    from workshop_utils.grading.seccomp import seccomp_file

    monkeypatch.setenv(SECRET_ENV, "s3cret")
    leak = os.open(tmp_path / "grader_private.txt", os.O_CREAT | os.O_WRONLY)  # an fd the grader holds
    code = ("import json, os\nenv = open('/proc/1/environ', 'rb').read().split(b'\\0')\n"
            "print(json.dumps([os.getpid(), sorted(os.listdir('/proc/self/fd')),"
            " [e.split(b'=')[0].decode() for e in env if e]]))\n")
    try:
        with seccomp_file() as flt:
            argv = bwrap_argv(tmp_path, Limits(timeout=60, memory_mb=1024, file_mb=16), sandbox_env(),
                              [sys.executable, "-I", "-c", code], seccomp_fd=flt.fileno())
            run = run_caged(argv, Limits(timeout=60, memory_mb=1024), pass_fds=(flt.fileno(),))
    finally:
        os.close(leak)
    pid, fds, names = json.loads(run.stdout.decode())
    assert pid == 1 and SECRET_ENV not in names and set(names) <= set(sandbox_env()) | {"PWD"}, names
    assert len(fds) <= 4, fds  # 0, 1, 2 and the listing's own
