"""Kernel isolation for the grader: limits, a private mount namespace, process clean-up.

Each submission's kernel is started by a small shell prefix (:func:`kernel_argv`):

* ``ulimit -v`` caps its address space (``RLIMIT_AS``), inherited by every process it starts;
* when ``unshare`` works (Linux with user namespaces; checked once by
  :func:`sandbox_available`), the kernel runs in new user, mount and PID namespaces:

  - the package, the Python installation, the repository, the submissions folder, the
    folder of the CSV and the grader's work folder are mounted **read-only**, and only
    the submission's own work folder is writable;
  - the hidden-checks files and the CSV are covered by an empty file, so they cannot be
    read or written;
  - the kernel is PID 1 of its own PID namespace with a fresh ``/proc``: it cannot see the
    grader, and every process it starts (even after ``setsid`` or a double fork) dies
    with it (``--kill-child``; the kernel tears the namespace down when PID 1 exits).

Without ``unshare`` the grader still applies the limits, kills the kernel's process group
and every process carrying the run's token in its environment (:func:`kill_tagged`), and
repairs the CSV and the grading package after each submission; it warns that the hidden
checks are readable in that mode.
"""
from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

UNSHARE = ("unshare", "--user", "--map-root-user", "--mount", "--pid", "--fork", "--mount-proc", "--kill-child")
TOKEN_VAR = "WORKSHOP_GRADER_TOKEN"


def _script(memory_mb: int, read_only: list[Path], hide: list[Path], writable: list[Path], isolate: bool) -> str:
    lines = ["set -e"]
    if isolate:
        for p in read_only:
            q = shlex.quote(str(p))
            lines.append(f"mount --bind {q} {q}")
            lines.append(f"mount -o remount,bind,ro {q}")
        for p in hide:
            q = shlex.quote(str(p))
            if p.is_dir():
                lines.append(f"mount -t tmpfs -o size=16k,mode=000 none {q}")
            else:
                lines.append(f"mount --bind /dev/null {q}")
        for p in writable:
            q = shlex.quote(str(p))
            lines.append(f"mount --bind {q} {q}")
            lines.append(f"mount -o remount,bind,rw {q}")
    lines.append(f"ulimit -v {int(memory_mb) * 1024}")
    lines.append('exec "$@"')
    return "\n".join(lines)


def kernel_argv(memory_mb: int, read_only: list[Path] = (), hide: list[Path] = (), writable: list[Path] = (),
                isolate: bool = True, python: str | None = None) -> list[str]:
    """The kernelspec ``argv`` that starts an ipykernel under the limits described above.

    Parameters
    ----------
    memory_mb : int
        Address-space limit of the kernel (and of each process it starts), in MiB.
    read_only, hide, writable : list of Path
        Folders to remount read-only, files/folders to cover, folders to keep writable
        (applied in that order; only when ``isolate``).
    isolate : bool
        Use the namespaces (requires :func:`sandbox_available`).
    python : str, optional
        Interpreter of the kernel (default: this one).
    """
    if isinstance(memory_mb, bool) or not isinstance(memory_mb, int) or memory_mb < 64:
        raise ValueError(f"memory_mb must be an integer >= 64, got {memory_mb!r}")
    script = _script(memory_mb, [Path(p) for p in read_only], [Path(p) for p in hide],
                     [Path(p) for p in writable], isolate)
    prefix = [*UNSHARE, "--"] if isolate else []
    return [*prefix, "/bin/sh", "-c", script, "sh", python or sys.executable, "-m", "ipykernel_launcher",
            "-f", "{connection_file}"]


@lru_cache(maxsize=1)
def sandbox_available() -> bool:
    """True when ``unshare`` can create the namespaces and mounts the grader uses."""
    if shutil.which("unshare") is None or not sys.platform.startswith("linux"):
        return False
    with tempfile.TemporaryDirectory() as tmp:
        ro, secret = Path(tmp, "ro"), Path(tmp, "secret")
        ro.mkdir()
        secret.write_text("x")
        script = _script(64, [ro], [secret], [], True).replace('exec "$@"', "")
        script += f"\ntest ! -s {shlex.quote(str(secret))}\n! touch {shlex.quote(str(ro / 'w'))} 2>/dev/null\n"
        try:
            res = subprocess.run([*UNSHARE, "--", "/bin/sh", "-c", script], capture_output=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            return False
        return res.returncode == 0 and not (ro / "w").exists()


def kill_group(pgid: int | None) -> None:
    """SIGKILL a process group (the kernel's), ignoring one that is already gone."""
    if pgid and pgid > 1 and pgid != os.getpgid(0):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def kill_tagged(token: str) -> int:
    """SIGKILL every process whose environment carries ``TOKEN_VAR=token``; returns how many."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dev dependency
        return 0
    killed, me = 0, os.getpid()
    for proc in psutil.process_iter(["pid"]):
        if proc.pid == me:
            continue
        try:
            if proc.environ().get(TOKEN_VAR) == token:
                proc.kill()
                killed += 1
        except (psutil.Error, OSError):
            continue
    return killed
