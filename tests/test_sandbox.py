"""The grader's sandbox against hostile submissions (bubblewrap, limits, bookkeeping).

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

import csv
import json
import os
import socket
import threading
import time
from pathlib import Path

import nbformat
import pytest

from workshop_utils.grading.grader import (CsvLog, csv_safe, find_submissions, grade_folder, main, student_id,
                                          student_name)
from workshop_utils.grading.sandbox import Limits, cage_kind, forbidden_inside, sandbox_available

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
HIDDEN = HERE / "homework_hidden" / "hidden_checks.py"
AVAILABLE, WHY = sandbox_available()
needs_sandbox = pytest.mark.skipif(not AVAILABLE and not os.environ.get("CI"),
                                   reason=f"bubblewrap sandbox unavailable here: {WHY}")
LEAK = "answer_p1 = 'auroc ' * 40  # the attack worked\n"
SECRET_ENV = "WORKSHOP_TEST_GRADER_SECRET"
HONEST = "answer_p1 = 'The auroc and the precision of my model are fine. ' * 6\n"


def _notebook(*cells: str) -> str:
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
    "peer_a_listen": _notebook(
        "import socket, time\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        f"s.bind(('127.0.0.1', {PEER_PORT}))\ns.listen(4)\ns.settimeout(1)\ngot = False\n"
        "end = time.time() + 15\nwhile time.time() < end and not got:\n    try:\n        s.accept()\n"
        "        got = True\n    except OSError:\n        pass\n"
        f"if got:\n    {LEAK}"),
    "peer_b_connect": _notebook(
        "import socket, time\nok = False\nend = time.time() + 12\nwhile time.time() < end and not ok:\n"
        f"    try:\n        socket.create_connection(('127.0.0.1', {PEER_PORT}), timeout=1).close()\n"
        "        ok = True\n    except OSError:\n        time.sleep(0.5)\n"
        f"if ok:\n    {LEAK}"),
}


# Two submissions graded at the same time: one takes an exclusive flock on every course data file it can
# see and spins three processes, the other reads the data again and again. Each job has its own copy.
NEIGHBOURS = {
    "lock_a_hold": _notebook(
        "import fcntl, os, subprocess, sys, time\nheld = []\n"
        "for d, _, files in os.walk('/grade/data'):\n    for f in files:\n"
        "        fh = open(os.path.join(d, f), 'rb')\n        fcntl.flock(fh, fcntl.LOCK_EX)\n        held.append(fh)\n"
        "spin = [subprocess.Popen([sys.executable, '-c', 'while True: pass']) for _ in range(3)]\n"
        "time.sleep(12)\nfor s in spin:\n    s.kill()\n"
        f"if held:  # it did lock the data (its own copy)\n    {HONEST}"),
    "lock_b_read": _notebook(
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


def _read(path: Path) -> dict[str, dict]:
    with open(path, newline="") as fh:
        return {r["student"]: r for r in csv.DictReader(fh)}


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
        "write_outside": _notebook(
            f"import os\nhits = 0\nfor p in {writes!r}:\n    try:\n        open(p, 'a').write('x')\n"
            "        hits += 1\n    except OSError:\n        pass\n"
            f"if hits:\n    {LEAK}"),
        "read_private": _notebook(
            f"hits = 0\nfor p in {reads!r}:\n    try:\n        open(p).read(10)\n        hits += 1\n"
            "    except OSError:\n        pass\n"
            "import os\nfor pid in [p for p in os.listdir('/proc') if p.isdigit()]:\n    try:\n"
            f"        hits += {SECRET_ENV!r}.encode() in open(f'/proc/{{pid}}/environ', 'rb').read()\n"
            "    except OSError:\n        pass\n"
            f"if hits or os.environ.get({SECRET_ENV!r}):\n    {LEAK}"),
        "proc_pid1": _notebook(PROC_ATTACK + f"if hits:\n    {LEAK}"),
        "escape_kernel": _notebook(ESCAPES + f"if hits:\n    {LEAK}"),
        # forges the runner's tar ("ok") on every descriptor it can reach, then runs out of time
        "forge_status": _notebook(
            "import io, json, os, sys, tarfile\nbuf = io.BytesIO()\n"
            "with tarfile.open(fileobj=buf, mode='w') as tar:\n"
            "    data = json.dumps({'status': 'ok', 'errors': []}).encode()\n"
            "    info = tarfile.TarInfo('runner.json'); info.size = len(data); tar.addfile(info, io.BytesIO(data))\n"
            "for p in ['/proc/1/fd/1', f'/proc/{os.getppid()}/fd/1', '/proc/self/fd/1']:\n    try:\n"
            "        with open(p, 'wb') as fh:\n            fh.write(buf.getvalue())\n    except OSError:\n        pass\n"
            "sys.stdout.write(buf.getvalue().decode('latin-1'))\n",
            HONEST, "check(day=1, practice=1)", "while True:\n    pass"),
        "network": _notebook(
            "import socket\nok = False\n"
            f"for host in ('127.0.0.1', socket.gethostname()):\n    try:\n"
            f"        socket.create_connection((host, {listener.port}), timeout=2).close()\n        ok = True\n"
            "    except OSError:\n        pass\n"
            f"if ok:\n    {LEAK}"),
        "ignore_sigint": _notebook(
            "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n",
            *["check(day=1, practice=1)\nimport time\nwhile True:\n    time.sleep(1)\n"] * 12),
        "daemon": _notebook(
            "import subprocess\n"
            f"subprocess.Popen(['env', '-i', 'setsid', 'sh', '-c', 'sleep 600; : {marker}'],"
            " start_new_session=True)\n"
            f"subprocess.Popen(['sh', '-c', '(sleep 600; : {marker}) &'])\n"),
        "memory_children": _notebook(
            "import subprocess, sys\ncode = 'x = bytearray(1500 * 2**20)\\nfor i in range(0, len(x), 4096): x[i] = 1\\n"
            "import time; time.sleep(20)'\n"
            "procs = [subprocess.Popen([sys.executable, '-c', code]) for _ in range(3)]\n"
            "codes = [p.wait() for p in procs]\n"
            f"if all(c == 0 for c in codes):\n    {LEAK}"),
        "big_file": _notebook(
            "ok = True\ntry:\n    with open('big.bin', 'wb') as fh:\n        for _ in range(1024):\n"
            "            fh.write(b'x' * 2**20)\nexcept OSError:\n    ok = False\n"
            f"if ok:\n    {LEAK}"),
        "fork_bomb": _notebook(
            "import subprocess\nprocs = []\ntry:\n    for _ in range(2000):\n"
            "        procs.append(subprocess.Popen(['sleep', '30']))\nexcept OSError:\n    pass\n"
            f"if len(procs) >= 2000:\n    {LEAK}"),
        "=HYPERLINK(\"http:__evil\",\"x\")": _notebook(),
        **PEERS,
        **NEIGHBOURS,
        "crash_exit": _notebook(HONEST, "check(day=1, practice=1)", "import os\nos._exit(1)"),
        "crash_raise": _notebook("raise RuntimeError('boom')", HONEST),
        "crash_sysexit": _notebook("import sys\nsys.exit(3)", HONEST),
        "crash_loop": _notebook(HONEST, "check(day=1, practice=1)", "while True:\n    pass"),
        "spam": _notebook("import sys\nfor _ in range(200):\n    sys.stdout.write('x' * 2**18)", HONEST),
        "zz_honest": _notebook(HONEST),
    }
    last = nbformat.v4.new_notebook()  # the last cell runs out of time (nbclient says so only in its reply)
    last.cells = [nbformat.v4.new_code_cell(c) for c in ("from workshop_utils.grading import check\n" + HONEST,
                                                         "check(day=1, practice=1)", "import time\ntime.sleep(10**6)")]
    books["timeout_last_cell"] = nbformats(last)
    for name, text in books.items():
        (subs / f"{name}.ipynb").write_text(text)
    (subs / os.fsdecode(b"caf\xe9.ipynb")).write_text(_notebook())
    student = subs / "lms_student_42"  # a course website's download: one folder per student
    student.mkdir()
    (student / "homework_day1.ipynb").write_text(_notebook())
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
    yield {"rc": rc, "rows": _read(out), "out": out, "writes": writes, "listener": listener, "before": before,
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


# ----------------------------------------------------------------------------- fast unit tests
def test_student_ids_are_reversible_and_csv_cells_are_not_formulas():
    for raw in (b"alice", b"caf\xe9", "Zoë".encode(), b"~b64~trick", b"tab\there"):
        assert student_name(student_id(raw)) == raw
    assert student_id(b"alice") == "alice" and student_id(b"caf\xe9").startswith("~b64~")
    assert [csv_safe(v) for v in ("=1+1", "+1", "-2", "@x", "\tx", "ok", "10")] == \
        ["'=1+1", "'+1", "'-2", "'@x", "'\tx", "ok", "10"]


def test_find_submissions_supports_one_folder_per_student(tmp_path):
    (tmp_path / "a.ipynb").write_text("{}")
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / "hw.ipynb").write_text("{}")
    (tmp_path / "carol").mkdir()
    for n in ("v1", "v2"):
        (tmp_path / "carol" / f"{n}.ipynb").write_text("{}")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "a-checkpoint.ipynb").write_text("{}")
    assert sorted(find_submissions(tmp_path)) == ["a", "bob", "carol/v1", "carol/v2"]


def test_the_command_line_fails_clearly_on_nothing_to_grade_and_bad_numbers(tmp_path, capsys):
    assert main([str(tmp_path), "--day", "1", "--out", str(tmp_path / "g.csv")]) == 2
    assert "no notebooks" in capsys.readouterr().err
    for bad in ("inf", "nan", "-1", "0", "soon"):
        with pytest.raises(SystemExit):
            main([str(tmp_path), "--day", "1", "--out", str(tmp_path / "g.csv"), "--timeout", bad])
        assert "--timeout" in capsys.readouterr().err
    with pytest.raises(ValueError, match="timeout"):
        grade_folder(tmp_path, 1, tmp_path / "g.csv", timeout=float("inf"))
    with pytest.raises(ValueError, match="jobs"):
        grade_folder(tmp_path, 1, tmp_path / "g.csv", jobs=0)


def test_limits_validate_their_numbers():
    with pytest.raises(ValueError, match="memory_mb"):
        Limits(memory_mb=10)
    with pytest.raises(ValueError, match="timeout"):
        Limits(timeout=float("inf"))


def test_private_files_inside_mounted_folders_are_refused():
    import workshop_utils

    inside = Path(workshop_utils.__file__).parent / "hidden_checks.py"
    assert forbidden_inside([inside]) and not forbidden_inside([HIDDEN])


def test_csv_log_neutralises_formulas_and_resumes_with_them(tmp_path):
    out = tmp_path / "g.csv"
    cols = ["student", "p1", "total", "max", "status", "reasons"]
    log = CsvLog(out, cols, resume=False)
    log.append({"student": "=cmd", "p1": "1", "total": "1", "max": "10", "status": "ok", "reasons": "-x"})
    assert "'=cmd" in out.read_text() and ",'-x" in out.read_text()
    assert CsvLog(out, cols, resume=True).is_done("=cmd")


def test_without_a_sandbox_the_grader_refuses_unless_told(tmp_path, monkeypatch):
    from workshop_utils.grading import grader

    (tmp_path / "a.ipynb").write_text(_notebook())
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
    (subs / "tamper.ipynb").write_text(_notebook(
        f"open({str(backend)!r}, 'a').write('\\n# tampered\\n')\nimport subprocess\n"
        f"subprocess.Popen(['env', '-i', 'setsid', 'sh', '-c', 'sleep 600; : {marker}'], start_new_session=True)\n"))
    (subs / "zz_next.ipynb").write_text(_notebook("answer_p1 = 'The auroc of the model is fine. ' * 8\n"))
    out = tmp_path / "g.csv"
    try:
        grade_folder(subs, 1, out, hidden=[HIDDEN], timeout=30, memory_mb=2500, unsafe_no_sandbox=True,
                     verbose=False)
    finally:
        if backend.read_bytes() != before:
            backend.write_bytes(before)
            pytest.fail("backend.py was left tampered")
    rows = _read(out)
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
    books = {**PEERS, "honest": _notebook("answer_p1 = 'The auroc of my model is fine. ' * 8\n"),
             "crash": _notebook("import os\nos._exit(3)\n")}
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


@needs_sandbox
def test_the_executed_notebook_comes_back_with_capped_outputs(tmp_path, monkeypatch):
    from workshop_utils.grading.jobs import SandboxJob, build_run_notebook, execute_job, extract_result
    from workshop_utils.grading.runner import CELL_TEXT_BYTES, EXECUTED_BYTES, EXPORT_PLACEHOLDER

    monkeypatch.setenv("WORKSHOP_DATA", str(tmp_path / "data"))
    nb = nbformat.reads(_notebook(
        "import sys\nfor _ in range(200):\n    sys.stdout.write('x' * 2**18)",
        "print('<script>alert(1)</script>')", "from IPython.display import HTML\nHTML('<b>bold</b>')",
        "raise ValueError('shown with its traceback')"), as_version=4)
    run_nb, roles = build_run_notebook(nb, 1, Path(EXPORT_PLACEHOLDER))
    job = SandboxJob(notebook=dict(run_nb), roles=roles, limits=Limits(timeout=60, memory_mb=2500), final_reserve=5,
                     threads=1, sandbox=True, probe_x=None, quick=True)
    ran = execute_job(job, None, None, tmp_path / "run.tar")
    assert ran["stdout"] == b"" and (tmp_path / "run.tar").stat().st_size > 0  # the stream went to the file
    result = extract_result(tmp_path / "run.tar", tmp_path / "export")
    assert result["status"] == "ok" and result["executed"] is not None, result
    ex = nbformat.reads(result["executed"], as_version=4)
    assert len(ex.cells) == len(nb.cells)  # the student's cells only, no export cell
    assert len(result["executed"]) < 2 * EXECUTED_BYTES
    spam = ex.cells[1].outputs
    assert sum(len(o.get("text", "")) for o in spam) <= CELL_TEXT_BYTES + 100
    assert "further output of this cell not kept" in spam[-1]["text"]
    assert "<script>alert(1)</script>" in ex.cells[2].outputs[0]["text"]  # kept as text: the renderer sanitises
    assert ex.cells[3].outputs[0]["data"]["text/html"] == "<b>bold</b>"
    err = ex.cells[4].outputs[0]
    assert err["ename"] == "ValueError" and "shown with its traceback" in "".join(err["traceback"])
    assert ran["peak_mb"] is None or ran["peak_mb"] > 50


def test_the_cpu_share_of_a_cage_is_enforced():
    """Three spinning processes in a cage of 0.05 cores get about 0.05 core-seconds per second, all together.

    (Without the cap they got 0.8 CPU-s in 4 s even on a 2-core machine at load 12.)"""
    import sys

    from workshop_utils.grading.sandbox import Cage, run_caged

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


@needs_sandbox
def test_pid_1_starts_without_the_graders_environment_or_descriptors(tmp_path, monkeypatch):
    """What PID 1 of a sandbox holds, read by PID 1 itself: the allow-list only, no grader descriptor."""
    import sys

    from workshop_utils.grading.sandbox import bwrap_argv, run_caged, sandbox_env, seccomp_file

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


def test_a_flood_on_stderr_keeps_only_its_tail():
    import sys

    from workshop_utils.grading.sandbox import STDERR_TAIL, run_caged

    code = "import sys\nfor i in range(800):\n    sys.stderr.write(str(i % 10) * 2**16)\nsys.stderr.write('THE END')\n"
    run = run_caged([sys.executable, "-c", code], Limits(timeout=60))
    assert run.returncode == 0 and len(run.stderr_tail) <= STDERR_TAIL and run.stderr_tail.endswith("THE END")
