"""The grader's sandbox: an allow-list file system (bubblewrap) around one submission.

A submission runs in a sandbox built by `bubblewrap <https://github.com/containers/bubblewrap>`_
(``bwrap``, the tool Flatpak uses; Debian/Ubuntu package ``bubblewrap``).  Nothing is masked
file by file: the sandbox starts from an empty root and only what is listed here is mounted.
The sandbox has three rooms: this module (the ``bwrap`` command line, its mounts and
environment, and the check that it works here), :mod:`.cage` (hard limits from outside:
cgroups, rlimits, the wall clock, and running the process tree) and :mod:`.seccomp` (the
system-call filter).

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
    * nothing of the grader: ``bwrap`` itself is started with a minimal environment
      (:data:`.cage.BWRAP_ENV`, ``PATH`` only) and no open file but its three standard ones,
      and runs the runner as PID 1 (``--as-pid-1``, no bubblewrap init inside).  The runner
      makes itself non-dumpable, so a kernel (same user) cannot read its ``/proc/1/environ``,
      ``/proc/1/mem`` or open ``/proc/1/fd/*``; only the runner holds the pipe to the grader;
    * nested user namespaces refused (``--disable-userns``) and a seccomp filter
      (:func:`.seccomp.seccomp_bpf`) that makes ``ptrace``, ``mount``, ``keyctl``, ``bpf``,
      ``unshare``, ``setns``, ``perf_event_open`` and the other calls of
      :data:`.seccomp.BLOCKED_SYSCALLS` fail with ``EPERM``; system calls of another
      architecture (32-bit ``int 0x80``) kill the process.

Limits, enforced from outside (:class:`.cage.Cage`, :func:`.cage.run_caged`)
    wall clock, memory, process count and CPU share of the submission as a whole, file size;
    the size of the work folder is the tmpfs ``--size`` set here from the same ``file_mb``.

Where bubblewrap cannot build this sandbox (macOS, a kernel without unprivileged user
namespaces), :func:`sandbox_available` says why and the grader refuses to run submissions
unless the instructor passes ``--unsafe-no-sandbox``.
"""
from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

from .. import _moved
from . import cage, seccomp

#: Names that moved to the rooms of the limits (:mod:`.cage`) and of the system-call filter
#: (:mod:`.seccomp`); the old place keeps working one release, with a DeprecationWarning.
__getattr__ = _moved.moved_names(__name__, {
    **{name: "workshop_utils.grading.cage" for name in ("BWRAP_ENV", "STDERR_TAIL", "Cage", "CagedRun", "Limits",
                                                          "cage_kind", "run_caged")},
    **{name: "workshop_utils.grading.seccomp" for name in ("BLOCKED_SYSCALLS", "seccomp_bpf", "seccomp_file")},
})

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


INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`; Fedora: `sudo dnf install "
                "bubblewrap`; Arch: `sudo pacman -S bubblewrap`) on a Linux machine whose kernel allows user "
                "namespaces, or grade on such a machine (a cluster node, a Linux VM)")


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


def bwrap_argv(job_dir: Path, limits: cage.Limits, env: dict[str, str], command: list[str],
               ro_extra: dict[str, Path] | None = None, seccomp_fd: int | None = None) -> list[str]:
    """The ``bwrap`` command line that runs ``command`` in the sandbox described above.

    Parameters
    ----------
    job_dir : Path
        Host folder mounted read-only at ``/grade/job``.
    limits : cage.Limits
        ``file_mb`` sizes the work folder.
    env : dict
        The whole environment inside (see :func:`sandbox_env`).
    command : list of str
        What to run inside (paths as seen inside).
    ro_extra : dict, optional
        ``{path inside: host path}`` of more read-only files (e.g. the job's private copy of
        the course data file).
    seccomp_fd : int, optional
        An open file holding the seccomp BPF program (:func:`.seccomp.seccomp_file`); it must be
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
        seccomp.seccomp_bpf()
    except RuntimeError as err:
        return False, str(err)
    with tempfile.TemporaryDirectory() as job, seccomp.seccomp_file() as flt:
        try:
            argv = bwrap_argv(Path(job), cage.Limits(timeout=60, memory_mb=1024, file_mb=16), sandbox_env(),
                              [sys.executable, "-I", "-c", probe], seccomp_fd=flt.fileno())
            res = subprocess.run(argv, capture_output=True, timeout=60, stdin=subprocess.DEVNULL, env=cage.BWRAP_ENV,
                                 pass_fds=(flt.fileno(),))
        except (OSError, subprocess.TimeoutExpired) as err:
            return False, f"bwrap could not start ({err}); {INSTALL_HINT}"
    if res.returncode != 0 or b"sandbox-ok" not in res.stdout:
        msg = res.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit code {res.returncode}"]
        return False, f"bwrap could not build the sandbox ({msg[0][:200]}); {INSTALL_HINT}"
    ver = subprocess.run([bwrap_path(), "--version"], capture_output=True, text=True).stdout.strip()
    return True, ver or "bubblewrap"

