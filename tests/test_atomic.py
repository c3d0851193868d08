"""Atomic writes (workshop_utils._atomic): an interrupted write keeps the old file, leaves no temp file."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from workshop_utils._atomic import atomic_path, atomic_write, atomic_write_bytes, atomic_write_text


def _leftovers(folder: Path, keep: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != keep)


def test_writes_and_replaces(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    atomic_write_text(target, "one")
    assert target.read_text() == "one"
    with atomic_write(target) as fh:
        fh.write("two")
    assert target.read_text() == "two"
    atomic_write_bytes(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert _leftovers(target.parent, "out.txt") == []


def test_new_file_gets_normal_permissions_and_keeps_existing_ones(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "one")
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    os.chmod(target, 0o640)
    atomic_write_text(target, "two")
    assert target.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("exc", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_exception_mid_write_keeps_old_file(tmp_path, exc):
    target = tmp_path / "history.csv"
    target.write_text("good old content\n")
    with pytest.raises(type(exc)):
        with atomic_write(target) as fh:
            fh.write("half of the new con")
            raise exc
    assert target.read_text() == "good old content\n"
    assert _leftovers(tmp_path, "history.csv") == []


def test_exception_in_atomic_path_keeps_old_file(tmp_path):
    target = tmp_path / "data.h5"
    target.write_bytes(b"old")
    with pytest.raises(OSError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"partial")
            raise OSError("no space left on device")
    assert target.read_bytes() == b"old"
    assert _leftovers(tmp_path, "data.h5") == []
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new" and _leftovers(tmp_path, "data.h5") == []


def test_bad_mode_is_refused(tmp_path):
    with pytest.raises(ValueError, match="atomic_write: mode must be one of 'w', 'wb', got 'a'"):
        with atomic_write(tmp_path / "x", "a"):
            pass


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_file_size_limit_keeps_old_file(tmp_path):
    """A writer that hits the file-size limit (as on a full quota) loses nothing."""
    target = tmp_path / "big.bin"
    target.write_bytes(b"previous" * 10)
    script = textwrap.dedent(f"""
        import resource, signal, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
        from workshop_utils._atomic import atomic_write_bytes
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
        try:
            atomic_write_bytes({str(target)!r}, b"x" * 100_000)
        except OSError as err:
            print("OSError", err.errno)
            sys.exit(3)
        sys.exit(0)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert target.read_bytes() == b"previous" * 10
    assert _leftovers(tmp_path, "big.bin") == []
