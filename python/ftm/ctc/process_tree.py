"""Stopping a worker together with the encoders it started.

A worker killed alone leaves its external encoder (ffmpeg, HM, VTM)
running as an orphan: a file-based encoder such as HM computes on for as
long as its picture takes. Linux lists each thread's children in
``/proc/PID/task/TID/children``; elsewhere only the worker itself is
stopped, and a piped encoder ends when its pipes close.
"""

from __future__ import annotations

import os
import signal
from typing import Iterable, List

__all__ = ["descendants", "kill_processes", "freeze"]


def _children(pid: int) -> List[int]:
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: List[int] = []
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found.extend(int(p) for p in f.read().split())
        except (OSError, ValueError):
            continue  # the thread has ended
    return found


def descendants(pid: int) -> List[int]:
    """Every process below ``pid`` (children first); [] where /proc cannot say."""
    found: List[int] = []
    queue = _children(pid)
    while queue:
        child = queue.pop(0)
        if child in found:
            continue
        found.append(child)
        queue.extend(_children(child))
    return found


def freeze(pids: Iterable[int]) -> None:
    """SIGSTOP each process, so that none starts another while its tree is listed."""
    _signal_all(pids, getattr(signal, "SIGSTOP", None))


def kill_processes(pids: Iterable[int]) -> None:
    """SIGKILL each process (SIGTERM where the platform has no SIGKILL); gone ones are skipped."""
    _signal_all(pids, getattr(signal, "SIGKILL", signal.SIGTERM))


def _signal_all(pids: Iterable[int], sig) -> None:
    if sig is None:
        return
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass  # already gone (or its pid reused by a process not ours)
