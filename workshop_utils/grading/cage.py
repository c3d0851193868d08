"""The grader's cage: hard limits on a whole process tree, enforced from outside, and running in it.

A submission's sandbox (:mod:`.sandbox`, the file system and namespaces) runs inside a
:class:`Cage`; :func:`run_caged` starts it there and watches it.

* wall clock: the whole tree is killed at ``timeout + grace``;
* memory, process count and CPU share of the submission *as a whole*: a cgroup (v2 or
  v1: ``memory.max``/``memory.limit_in_bytes``, ``pids.max``, ``cpu.max``/
  ``cpu.cfs_quota_us``) made by the grader when it may write the cgroup file system (root,
  or a delegated subtree), else ``systemd-run --user --scope -p MemoryMax= -p TasksMax=
  -p CPUQuota=`` where a user systemd runs; only where neither exists, per-process
  address-space and process-count limits (weaker, no CPU share; the CSV's status says so);
* file size (``RLIMIT_FSIZE``; the sandbox sizes its work folder from the same ``file_mb``);
* what comes back: the process's standard output goes to a size-capped file (or buffer) and
  its standard error to a pipe of which the grader keeps the last :data:`STDERR_TAIL`
  bytes, so nothing a sandbox writes grows the grader's memory or disk without bound;
* nothing of the grader: the process starts from :data:`BWRAP_ENV` (``PATH`` only) with no
  open file but its standard ones and those passed on purpose.
"""
from __future__ import annotations

import dataclasses
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from functools import lru_cache
from pathlib import Path


#: The environment ``bwrap`` itself (and so nothing inside) starts from.
BWRAP_ENV = {"PATH": "/usr/bin:/bin"}
#: Bytes of a sandbox's standard error the grader keeps (the last ones).
STDERR_TAIL = 8192


@dataclasses.dataclass(frozen=True)
class Limits:
    """Hard limits of one submission.

    Parameters
    ----------
    timeout : float
        Wall-clock seconds of the whole notebook, exports included.
    memory_mb : int
        Memory of the whole submission (every process it starts), in MiB.
    tasks : int
        Most processes and threads at once.
    file_mb : int
        Largest file it may write, and size of its work folder, in MiB.
    grace : float
        Seconds after ``timeout`` before the sandbox is killed from outside (kernel start-up
        and shutdown; the notebook's own cells never get them).
    cpus : float or None
        CPU share of the whole submission, in cores (a cgroup's ``cpu.max``); None: no cap.
    """

    timeout: float = 1800.0
    memory_mb: int = 8192
    tasks: int = 512
    file_mb: int = 1024
    grace: float = 20.0
    cpus: float | None = None

    def __post_init__(self):
        c = self.cpus
        if c is not None and (isinstance(c, bool) or not isinstance(c, (int, float)) or not (0.05 <= c < 4096)):
            raise ValueError(f"Limits: cpus must be a number of cores >= 0.05 or None, got {c!r}")
        for name in ("timeout", "grace"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0 < v < float("inf")):
                raise ValueError(f"Limits: {name} must be a finite positive number of seconds, got {v!r}")
        for name, low in (("memory_mb", 256), ("tasks", 16), ("file_mb", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ValueError(f"Limits: {name} must be an integer >= {low}, got {v!r}")


# ----------------------------------------------------------------------------- limits
class Cage:
    """Memory and process limits for a whole process tree, and a way to kill all of it.

    ``kind`` is ``'cgroup2'``, ``'cgroup1'`` (a cgroup the grader made), ``'systemd'``
    (``systemd-run --user --scope``) or ``'rlimit'`` (per-process limits only).
    ``cpu_capped`` says whether ``limits.cpus`` is enforced (a cgroup with the cpu controller,
    or systemd's ``CPUQuota``); :meth:`peak_mb` reads the peak memory of the whole tree.
    Use :meth:`prefix` and :meth:`preexec` when starting the process, then :meth:`kill_all`
    and :meth:`close`.
    """

    ROOT_V2 = Path("/sys/fs/cgroup")
    ROOT_V1 = Path("/sys/fs/cgroup")

    def __init__(self, limits: Limits, kind: str | None = None):
        self.limits = limits
        self.kind = kind or cage_kind()
        self.dirs: list[Path] = []
        self.cpu_capped = False
        name = f"workshop-grade-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        mem = limits.memory_mb * 2 ** 20
        period = 100_000
        quota = None if limits.cpus is None else max(1000, int(limits.cpus * period))
        if self.kind == "cgroup2":
            parent = _v2_parent()
            d = parent / name
            d.mkdir()
            self.dirs = [d]
            (d / "memory.max").write_text(str(mem))
            _try_write(d / "memory.swap.max", "0")
            (d / "pids.max").write_text(str(limits.tasks))
            if quota is not None:
                self.cpu_capped = _try_write(d / "cpu.max", f"{quota} {period}")
        elif self.kind == "cgroup1":
            m, p = self.ROOT_V1 / "memory" / name, self.ROOT_V1 / "pids" / name
            m.mkdir()
            self.dirs.append(m)
            (m / "memory.limit_in_bytes").write_text(str(mem))
            _try_write(m / "memory.memsw.limit_in_bytes", str(mem))
            p.mkdir()
            self.dirs.append(p)
            (p / "pids.max").write_text(str(limits.tasks))
            c = self.ROOT_V1 / "cpu" / name
            if quota is not None and (self.ROOT_V1 / "cpu" / "cpu.cfs_quota_us").is_file():
                try:
                    c.mkdir()
                    self.dirs.append(c)
                    self.cpu_capped = (_try_write(c / "cpu.cfs_period_us", str(period))
                                       and _try_write(c / "cpu.cfs_quota_us", str(quota)))
                except OSError:
                    pass
        elif self.kind == "systemd":
            self.cpu_capped = quota is not None

    def prefix(self) -> list[str]:
        """Command prefix (``systemd-run ...`` for the systemd kind, else nothing)."""
        if self.kind != "systemd":
            return []
        cpu = [] if self.limits.cpus is None else ["-p", f"CPUQuota={max(1, round(100 * self.limits.cpus))}%"]
        return ["systemd-run", "--user", "--scope", "--quiet", "--collect",
                "-p", f"MemoryMax={self.limits.memory_mb}M", "-p", "MemorySwapMax=0",
                "-p", f"TasksMax={self.limits.tasks}", *cpu, "--"]

    def preexec(self) -> None:
        """Run in the child between fork and exec: join the cgroup, set the rlimits."""
        fsize = self.limits.file_mb * 2 ** 20
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        for d in self.dirs:
            (d / "cgroup.procs").write_text(str(os.getpid()))
        if self.kind == "rlimit":
            mem = self.limits.memory_mb * 2 ** 20
            resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
            if os.getuid() != 0:  # root is exempt from RLIMIT_NPROC
                n = self.limits.tasks + _count_user_processes()
                resource.setrlimit(resource.RLIMIT_NPROC, (n, n))

    def pids(self) -> list[int]:
        """Processes in the cage (cgroup kinds only)."""
        out: set[int] = set()
        for d in self.dirs:
            try:
                out |= {int(x) for x in (d / "cgroup.procs").read_text().split()}
            except (OSError, ValueError):
                pass
        return sorted(out)

    def kill_all(self) -> None:
        """SIGKILL every process of the cage (even those that left the process group)."""
        if self.kind == "cgroup2" and self.dirs and _try_write(self.dirs[0] / "cgroup.kill", "1"):
            pass
        for _ in range(50):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.05)

    def peak_mb(self) -> float | None:
        """Peak memory of the whole tree in MiB (``memory.peak`` / ``memory.max_usage_in_bytes``), else None."""
        for d in self.dirs:
            for f in ("memory.peak", "memory.max_usage_in_bytes"):
                try:
                    return int((d / f).read_text().split()[0]) / 2 ** 20
                except (OSError, ValueError, IndexError):
                    continue
        return None

    def hit_memory_limit(self) -> bool:
        """True when the kernel OOM-killed something in the cage (cgroup kinds)."""
        for d in self.dirs:
            for f, key in (("memory.events", "oom_kill"), ("memory.oom_control", "oom_kill")):
                try:
                    for line in (d / f).read_text().splitlines():
                        k, _, v = line.partition(" ")
                        if k == key and int(v) > 0:
                            return True
                except (OSError, ValueError):
                    continue
        return False

    def close(self) -> None:
        """Kill what is left and remove the cgroups."""
        self.kill_all()
        for d in self.dirs:
            for _ in range(40):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)


def _try_write(path: Path, text: str) -> bool:
    try:
        path.write_text(text)
        return True
    except OSError:
        return False


def _count_user_processes() -> int:
    uid, n = os.getuid(), 0
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                n += d.stat().st_uid == uid
            except OSError:
                pass
    return n


def _v2_parent() -> Path:
    own = Path("/proc/self/cgroup").read_text().splitlines()
    rel = next((line.split("::", 1)[1] for line in own if line.startswith("0::")), "/")
    here = Cage.ROOT_V2 / rel.lstrip("/")
    # a cgroup that has processes cannot have children with controllers: use its parent's
    # sibling folder made for the grader when we are root, else our own (delegated) cgroup
    parent = Cage.ROOT_V2 / "workshop-grade" if os.getuid() == 0 else here
    parent.mkdir(exist_ok=True)
    for controller in ("+memory", "+pids", "+cpu"):  # one by one: a missing one must not cost the others
        _try_write(parent / "cgroup.subtree_control", controller)
    return parent


@lru_cache(maxsize=1)
def cage_kind() -> str:
    """The strongest limit mechanism available here (see :class:`Cage`)."""
    if not sys.platform.startswith("linux"):
        return "rlimit"
    v2 = Cage.ROOT_V2 / "cgroup.controllers"
    if v2.is_file():
        try:
            c = Cage(Limits(), "cgroup2")
            ok = all((d / "memory.max").is_file() and (d / "pids.max").is_file() for d in c.dirs)
            c.close()
            if ok:
                return "cgroup2"
        except OSError:
            pass
    elif (Cage.ROOT_V1 / "memory" / "memory.limit_in_bytes").is_file() and (Cage.ROOT_V1 / "pids").is_dir():
        try:
            Cage(Limits(), "cgroup1").close()
            return "cgroup1"
        except OSError:
            pass
    if shutil.which("systemd-run"):
        try:
            res = subprocess.run(["systemd-run", "--user", "--scope", "--quiet", "-p", "MemoryMax=64M",
                                  "-p", "TasksMax=16", "--", "true"], capture_output=True, timeout=20)
            if res.returncode == 0:
                return "systemd"
        except (OSError, subprocess.TimeoutExpired):
            pass
    return "rlimit"


# ----------------------------------------------------------------------------- running
@dataclasses.dataclass
class CagedRun:
    """What :func:`run_caged` saw: exit code, output, which limit stopped it, time and peak memory.

    ``stdout`` holds the output when no ``out_file`` was given (else it is empty and the
    output is in that file); ``peak_mb`` is None where no cgroup measures it.
    """

    returncode: int | None
    stdout: bytes
    timed_out: bool
    out_of_memory: bool
    output_too_large: bool
    seconds: float
    stderr_tail: str = ""
    peak_mb: float | None = None
    cpu_capped: bool = False


def run_caged(argv: list[str], limits: Limits, max_output: int = 512 * 2 ** 20,
              stop: threading.Event | None = None, out_file: str | Path | None = None,
              pass_fds: tuple[int, ...] = ()) -> CagedRun:
    """Run ``argv`` in a :class:`Cage`; kill the whole tree at ``limits.timeout + limits.grace``.

    The process starts from :data:`BWRAP_ENV` (nothing of the grader's environment) with no
    open file but its standard ones and ``pass_fds``.  Its standard output is kept up to
    ``max_output`` bytes (beyond that the run is killed): in ``out_file`` when given (the
    grader's memory does not grow with it), else in memory.  Of its standard error only the
    last :data:`STDERR_TAIL` bytes are kept.  ``stop`` (set by Ctrl-C handling or a parallel
    pool) kills the run early.
    """
    cage = Cage(limits)
    t0 = time.monotonic()
    chunks: list[bytes] = []
    size, too_large = 0, False
    tail = bytearray()
    proc = None
    sink = open(out_file, "wb") if out_file is not None else None
    env = dict(BWRAP_ENV)
    prefix = cage.prefix()
    if prefix:  # systemd-run needs the user's bus; env -i leaves none of it to what runs in the scope
        env.update({k: os.environ[k] for k in ("XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS") if k in os.environ})
        prefix = [*prefix, "env", "-i", *[f"{k}={v}" for k, v in BWRAP_ENV.items()]]
    try:
        proc = subprocess.Popen([*prefix, *argv], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, preexec_fn=cage.preexec, start_new_session=True, env=env,
                                close_fds=True, pass_fds=pass_fds)

        def reader():
            nonlocal size, too_large
            while True:
                b = proc.stdout.read(1 << 16)
                if not b:
                    return
                size += len(b)
                if size > max_output:
                    too_large = True
                    return
                if sink is not None:
                    sink.write(b)
                else:
                    chunks.append(b)

        def err_reader():
            while True:
                b = proc.stderr.read(1 << 14)
                if not b:
                    return
                tail.extend(b)
                del tail[:-STDERR_TAIL]

        threads = [threading.Thread(target=f, daemon=True) for f in (reader, err_reader)]
        for th in threads:
            th.start()
        deadline = t0 + limits.timeout + limits.grace
        timed_out = False
        while proc.poll() is None:
            if time.monotonic() > deadline:
                timed_out = True
                break
            if too_large or (stop is not None and stop.is_set()):
                break
            time.sleep(0.1)
        if proc.poll() is None:
            _kill_tree(proc)
            cage.kill_all()
        proc.wait()
        for th in threads:
            th.join(10)
        if sink is not None:
            sink.flush()
        return CagedRun(proc.returncode, b"".join(chunks), timed_out, cage.hit_memory_limit(), too_large,
                        time.monotonic() - t0, bytes(tail).decode("utf-8", "replace"), cage.peak_mb(),
                        cage.cpu_capped)
    finally:
        if proc is not None and proc.poll() is None:
            _kill_tree(proc)
        cage.close()
        if sink is not None:
            sink.close()
        if proc is not None:
            for f in (proc.stdout, proc.stderr):
                if f is not None:
                    f.close()


def _kill_tree(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass
