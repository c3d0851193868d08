"""The sandbox's seccomp filter: system calls a notebook never needs fail with ``EPERM``.

Built with libseccomp (through ``pyseccomp``) for the native architecture; ``bwrap --seccomp FD``
loads it (:func:`seccomp_file` gives the FD).  System calls of another architecture (32-bit
``int 0x80``) kill the process.
"""
from __future__ import annotations

import tempfile
from functools import lru_cache


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
