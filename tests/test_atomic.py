"""Atomic output (ftm._atomic): nothing half-written is ever visible, and nothing a killed
writer left behind stays (an unnamed O_TMPFILE file where the system links one, else pid-named
temporaries that the next writer of the target removes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from ftm import _atomic


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def temporaries(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_dead_writers_temporary_is_removed_and_a_live_ones_kept(tmp_path):
    target = tmp_path / "out.ftm"
    stale = tmp_path / f".out.ftm.{dead_pid()}.abc123.tmp"
    live = tmp_path / f".out.ftm.{os.getppid()}.def456.tmp"
    other = tmp_path / f".other.ftm.{dead_pid()}.abc123.tmp"
    for p in (stale, live, other):
        p.write_bytes(b"partial")
    _atomic.write_bytes_atomic(target, b"data")
    assert target.read_bytes() == b"data"
    assert temporaries(tmp_path) == sorted([live.name, other.name])  # only this target's, only the dead


@pytest.mark.parametrize("unnamed", [True, False])
def test_either_way_leaves_only_the_target(tmp_path, monkeypatch, unnamed):
    if not unnamed:
        monkeypatch.setattr(_atomic, "_unnamed", lambda target: -1)
    target = tmp_path / "x.bin"
    _atomic.write_bytes_atomic(target, b"1" * 100_000)
    _atomic.write_bytes_atomic(target, b"2")
    assert target.read_bytes() == b"2" and temporaries(tmp_path) == []
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_killed_writer_leaves_nothing_the_next_write_keeps(tmp_path):
    target = tmp_path / "big.ftm"
    code = (
        "import os, signal, sys; from ftm import _atomic\n"
        "real = _atomic._write_all\n"
        "def write(fd, data):\n"
        "    real(fd, data[:1000]); os.kill(os.getpid(), signal.SIGKILL)\n"
        "_atomic._write_all = write\n"
        f"_atomic.write_bytes_atomic({str(target)!r}, b'x' * 10_000_000)\n"
    )
    done = subprocess.run([sys.executable, "-c", code])
    assert done.returncode == -signal.SIGKILL
    assert not target.exists()
    _atomic.write_bytes_atomic(target, b"ok")
    assert temporaries(tmp_path) == [] and target.read_bytes() == b"ok"
