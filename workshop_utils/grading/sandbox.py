"""The grader's sandbox: an allow-list file system (bubblewrap), hard limits from outside.

A submission runs in a sandbox built by `bubblewrap <https://github.com/containers/bubblewrap>`_
(``bwrap``, the tool Flatpak uses; Debian/Ubuntu package ``bubblewrap``).  Nothing is masked
file by file: the sandbox starts from an empty root and only what is listed here is mounted.

Inside the sandbox (:func:`bwrap_argv`)
    * read-only: the system folders (``/usr``, ``/bin``, ``/lib*``, ``/sbin``), a short list
      of files of ``/etc`` (dynamic linker cache, fonts, ``passwd``), the Python installation
      (``sys.base_prefix``, ``sys.prefix``, the site-packages folders), the package itself at
      ``/grade-lib/workshop_utils``, and the job folder at ``/grade/job`` (the notebook to run,
      the probe sequences, nothing else);
    * writable: ``/grade`` (the work folder, a size-limited tmpfs: the kernel's working
      folder, home, exports), a private ``/tmp`` and ``/dev/shm``;
    * not there at all: the home directory, the hidden checks, the CSV and its folder, the
      other submissions, the instructor's data folders, the repository;
    * new user, PID, IPC, UTS, cgroup and network namespaces (only a private loopback: the
      notebook executor and its kernel talk over it, nobody else is reachable),
      ``--die-with-parent``, ``--new-session``, all capabilities dropped, and an environment
      cleared to an allow-list (:func:`sandbox_env`);
    * nothing of the grader: ``bwrap`` itself is started with a minimal environment (``PATH``
      only) and no open file but its three standard ones, and runs the runner as PID 1
      (``--as-pid-1``, no bubblewrap init inside).  The runner makes itself non-dumpable, so a
      kernel (same user) cannot read its ``/proc/1/environ``, ``/proc/1/mem`` or open
      ``/proc/1/fd/*``; only the runner holds the pipe to the grader;
    * nested user namespaces refused (``--disable-userns``) and a seccomp filter
      (:func:`seccomp_bpf`, built with libseccomp through ``pyseccomp``) that makes ``ptrace``,
      ``mount``, ``keyctl``, ``bpf``, ``unshare``, ``setns``, ``perf_event_open`` and the other
      calls of :data:`BLOCKED_SYSCALLS` fail with ``EPERM``; system calls of another
      architecture (32-bit ``int 0x80``) kill the process.

Limits, enforced from outside (:class:`Cage`, :func:`run_caged`)
    * wall clock: the whole sandbox is killed at ``timeout + grace``;
    * memory, process count and CPU share of the submission *as a whole*: a cgroup (v2 or
      v1: ``memory.max``/``memory.limit_in_bytes``, ``pids.max``, ``cpu.max``/
      ``cpu.cfs_quota_us``) made by the grader when it may write the cgroup file system (root,
      or a delegated subtree), else ``systemd-run --user --scope -p MemoryMax= -p TasksMax=
      -p CPUQuota=`` where a user systemd runs; only where neither exists, per-process
      address-space and process-count limits (weaker, no CPU share; the CSV's status says so);
    * file size (``RLIMIT_FSIZE``) and the size of the work folder (the tmpfs ``--size``);
    * what comes back: the runner's tar stream goes to a size-capped file (or buffer) and
      its standard error to a pipe of which the grader keeps the last
      :data:`STDERR_TAIL` bytes, so nothing a sandbox writes grows the grader's memory or
      disk without bound.

Where bubblewrap cannot build this sandbox (macOS, a kernel without unprivileged user
namespaces), :func:`sandbox_available` says why and the grader refuses to run submissions
unless the instructor passes ``--unsafe-no-sandbox``.
"""
from __future__ import annotations

import dataclasses
import os
import resource
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from functools import lru_cache
from pathlib import Path

#: Where things live inside the sandbox.
WORK = Path("/grade")
JOB = WORK / "job"
LIB = Path("/grade-lib")

#: Files of /etc that a Python kernel needs (nothing else of /etc is mounted).
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "fonts", "passwd", "group",
             "nsswitch.conf", "hosts", "mime.types", "alternatives", "matplotlibrc")

#: Environment variables passed into the sandbox (everything else is cleared).
PASSED_ENV = ("WORKSHOP_QUICK", "KERAS_BACKEND", "PYTHONHASHSEED", "LANG", "LC_ALL", "TZ",
              "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE",
              "OPENBLAS_L2_SIZE", "OMP_WAIT_POLICY", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
              "WORKSHOP_TORCH_THREADS")

#: System calls a notebook never needs; the seccomp filter makes them fail with EPERM.  ``clone3``
#: fails with ENOSYS instead (glibc then falls back to ``clone``, whose namespace flags
#: ``--disable-userns`` and the missing capabilities refuse), as Docker's default profile does.
BLOCKED_SYSCALLS = ("ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root", "chroot",
                    "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
                    "keyctl", "add_key", "request_key", "bpf", "unshare", "setns", "kexec_load", "kexec_file_load",
                    "perf_event_open", "init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff",
                    "acct", "quotactl", "syslog", "userfaultfd", "open_by_handle_at", "name_to_handle_at",
                    "lookup_dcookie", "fanotify_init", "iopl", "ioperm", "settimeofday", "clock_settime",
                    "clock_adjtime", "adjtimex", "vhangup", "io_uring_setup", "io_uring_enter",
                    "io_uring_register")
#: The environment ``bwrap`` itself (and so nothing inside) starts from.
BWRAP_ENV = {"PATH": "/usr/bin:/bin"}
#: Bytes of a sandbox's standard error the grader keeps (the last ones).
STDERR_TAIL = 8192

INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`; Fedora: `sudo dnf install "
                "bubblewrap`; Arch: `sudo pacman -S bubblewrap`) on a Linux machine whose kernel allows user "
                "namespaces, or grade on such a machine (a cluster node, a Linux VM)")


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


# ----------------------------------------------------------------------------- bubblewrap
def bwrap_path() -> str | None:
    """The ``bwrap`` executable, or None."""
    return shutil.which("bwrap")


def package_dir() -> Path:
    """The folder of the ``workshop_utils`` package the grader runs (mounted at ``/grade-lib``)."""
    return Path(__file__).resolve().parents[1]


def python_mounts() -> list[Path]:
    """Host folders a kernel of this interpreter needs, read-only: the installation and site-packages.

    Only installation folders are listed, never ``sys.path`` entries such as the current
    folder or a test folder (those could hold hidden checks).
    """
    paths = [Path(sys.base_prefix), Path(sys.prefix), *map(Path, site.getsitepackages())]
    real = Path(sys.executable).resolve()
    paths.append(real.parent.parent)  # the interpreter's own installation (a venv's python is a link)
    out: list[Path] = []
    for p in paths:
        p = p.resolve()
        if p.is_dir() and p != Path("/") and not any(p == q or q in p.parents for q in out):
            out = [q for q in out if p not in q.parents] + [p]
    return out


def bwrap_argv(job_dir: Path, limits: Limits, env: dict[str, str], command: list[str],
               ro_extra: dict[str, Path] | None = None, seccomp_fd: int | None = None) -> list[str]:
    """The ``bwrap`` command line that runs ``command`` in the sandbox described above.

    Parameters
    ----------
    job_dir : Path
        Host folder mounted read-only at ``/grade/job``.
    limits : Limits
        ``file_mb`` sizes the work folder.
    env : dict
        The whole environment inside (see :func:`sandbox_env`).
    command : list of str
        What to run inside (paths as seen inside).
    ro_extra : dict, optional
        ``{path inside: host path}`` of more read-only files (e.g. the job's private copy of
        the course data file).
    seccomp_fd : int, optional
        An open file holding the seccomp BPF program (:func:`seccomp_file`); it must be
        passed to the process (``pass_fds``).  ``command`` runs as PID 1 (``--as-pid-1``): it
        must reap its children and should make itself non-dumpable (the grader's runner does).
    """
    bw = bwrap_path()
    if bw is None:
        raise RuntimeError(f"the grader's sandbox needs bubblewrap: {INSTALL_HINT}")
    size = str(limits.file_mb * 2 ** 20)
    argv = [bw, "--unshare-all", "--unshare-user", "--disable-userns", "--as-pid-1", "--die-with-parent",
            "--new-session", "--cap-drop", "ALL",
            "--uid", "1000", "--gid", "1000", "--hostname", "sandbox", "--clearenv",
            # the private, empty folders first: a later bind (the Python installation, the package)
            # may lie below one of them (a clone in /tmp) and must stay visible
            "--proc", "/proc", "--dev", "/dev", "--size", size, "--tmpfs", "/tmp", "--size", size, "--tmpfs", "/dev/shm"]
    for d in ("/usr", "/bin", "/lib", "/lib32", "/lib64", "/sbin"):
        if os.path.lexists(d):
            argv += ["--ro-bind", d, d]
    for name in ETC_FILES:
        p = Path("/etc") / name
        if p.exists():
            argv += ["--ro-bind", str(p), str(p)]
    for p in python_mounts():
        argv += ["--ro-bind", str(p), str(p)]
    argv += ["--ro-bind", str(package_dir()), str(LIB / "workshop_utils"),
             "--size", size, "--tmpfs", str(WORK), "--ro-bind", str(job_dir), str(JOB)]
    for inside, host in (ro_extra or {}).items():
        argv += ["--ro-bind", str(host), str(inside)]
    for k, v in env.items():
        argv += ["--setenv", k, v]
    if seccomp_fd is not None:
        argv += ["--seccomp", str(seccomp_fd)]
    argv += ["--remount-ro", "/", "--chdir", str(WORK), "--", *command]
    return argv


def sandbox_env(extra: dict[str, str] | None = None, root: Path = WORK, lib: Path = LIB,
                tmp: str = "/tmp") -> dict[str, str]:
    """The environment of the runner and its kernel: an allow-list, nothing of the grader's secrets.

    ``root`` is the work folder (home, data and the caches live below it), ``lib`` the folder
    that holds the package and ``tmp`` the temporary folder: the sandbox's paths by default;
    ``--unsafe-no-sandbox`` passes host folders.  HDF5's file locking is off: the kernels
    read private copies of the data files, and a lock would only be a way to block.
    """
    home = root / "home"
    env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
    env.update(PATH=f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin", HOME=str(home),
               TMPDIR=tmp, PYTHONPATH=str(lib), PYTHONDONTWRITEBYTECODE="1", PYTHONNOUSERSITE="1",
               HDF5_USE_FILE_LOCKING="FALSE",
               MPLBACKEND="Agg", MPLCONFIGDIR=str(home / "mpl"), IPYTHONDIR=str(home / ".ipython"),
               KERAS_HOME=str(home / ".keras"), XDG_CACHE_HOME=str(home / ".cache"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), JUPYTER_DATA_DIR=str(home / "jupyter"),
               JUPYTER_CONFIG_DIR=str(home / "jupyter-config"), JUPYTER_PLATFORM_DIRS="1",
               TF_CPP_MIN_LOG_LEVEL="3", WORKSHOP_DATA=str(root / "data"))
    env.setdefault("KERAS_BACKEND", "tensorflow")
    env.setdefault("LANG", "C.UTF-8")
    env.update(extra or {})
    return env


@lru_cache(maxsize=1)
def seccomp_bpf() -> bytes:
    """The compiled seccomp filter of the sandbox (BPF, native architecture).

    Every call of :data:`BLOCKED_SYSCALLS` fails with ``EPERM`` (``clone3`` with ``ENOSYS``);
    everything else is allowed; a system call of another architecture kills the process.

    Raises
    ------
    RuntimeError
        When ``pyseccomp`` or the system's libseccomp is missing.
    """
    import errno

    try:
        import pyseccomp as sc
    except (ImportError, OSError) as err:  # OSError: the package is there, libseccomp.so.2 is not
        raise RuntimeError(f"the grader's sandbox needs libseccomp and `pip install pyseccomp` ({err})") from err
    flt = sc.SyscallFilter(defaction=sc.ALLOW)
    for name in BLOCKED_SYSCALLS:
        try:
            flt.add_rule(sc.ERRNO(errno.EPERM), name)
        except (RuntimeError, ValueError, OSError):  # a call this kernel or libseccomp does not know
            continue
    try:
        flt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    except (RuntimeError, ValueError, OSError):
        pass
    with tempfile.TemporaryFile() as fh:
        flt.export_bpf(fh)
        fh.seek(0)
        return fh.read()


def seccomp_file():
    """An open temporary file holding :func:`seccomp_bpf`, positioned at its start (for ``--seccomp FD``)."""
    fh = tempfile.TemporaryFile()
    fh.write(seccomp_bpf())
    fh.flush()
    fh.seek(0)
    return fh


def forbidden_inside(paths: list[Path]) -> list[str]:
    """Which of ``paths`` (private files: hidden checks, CSV, submissions) a sandbox would mount.

    The grader refuses to start when this is not empty (move the file out of the Python
    installation or the package).
    """
    mounted = [Path(d).resolve() for d in ("/usr", "/bin", "/lib", "/lib32", "/lib64", "/sbin")
               if os.path.lexists(d)] + python_mounts() + [package_dir()]
    bad = []
    for p in paths:
        p = Path(p).resolve()
        for m in mounted:
            if p == m or m in p.parents:
                bad.append(f"{p} (inside {m}, which the sandbox mounts)")
                break
    return bad


@lru_cache(maxsize=1)
def sandbox_available() -> tuple[bool, str]:
    """Whether bubblewrap can build the sandbox here: ``(True, 'bubblewrap X')`` or ``(False, why)``.

    The probe runs a real sandbox and checks from inside that the host's files are absent,
    the system is read-only and the network is unreachable.
    """
    if not sys.platform.startswith("linux"):
        return False, f"bubblewrap sandboxes need Linux (this is {sys.platform}); {INSTALL_HINT}"
    if bwrap_path() is None:
        return False, f"bwrap was not found; {INSTALL_HINT}"
    probe = ("import os, socket, ctypes\n"
             "assert os.getpid() == 1\n"
             "libc = ctypes.CDLL(None, use_errno=True)\n"
             "assert libc.ptrace(16, 1, 0, 0) == -1 and libc.unshare(0x10000000) == -1\n"
             "assert not os.path.exists(os.path.expanduser('~root/.bash_history'))\n"
             "try:\n    open('/usr/.wg_probe', 'w')\nexcept OSError:\n    pass\nelse:\n    raise SystemExit(3)\n"
             "s = socket.socket()\ns.settimeout(2)\n"
             "try:\n    s.connect(('192.0.2.1', 9))\nexcept OSError:\n    pass\nelse:\n    raise SystemExit(4)\n"
             "open('/grade/ok', 'w').write('x')\nprint('sandbox-ok')\n")
    try:
        seccomp_bpf()
    except RuntimeError as err:
        return False, str(err)
    with tempfile.TemporaryDirectory() as job, seccomp_file() as flt:
        try:
            argv = bwrap_argv(Path(job), Limits(timeout=60, memory_mb=1024, file_mb=16), sandbox_env(),
                              [sys.executable, "-I", "-c", probe], seccomp_fd=flt.fileno())
            res = subprocess.run(argv, capture_output=True, timeout=60, stdin=subprocess.DEVNULL, env=BWRAP_ENV,
                                 pass_fds=(flt.fileno(),))
        except (OSError, subprocess.TimeoutExpired) as err:
            return False, f"bwrap could not start ({err}); {INSTALL_HINT}"
    if res.returncode != 0 or b"sandbox-ok" not in res.stdout:
        msg = res.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit code {res.returncode}"]
        return False, f"bwrap could not build the sandbox ({msg[0][:200]}); {INSTALL_HINT}"
    ver = subprocess.run([bwrap_path(), "--version"], capture_output=True, text=True).stdout.strip()
    return True, ver or "bubblewrap"


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
