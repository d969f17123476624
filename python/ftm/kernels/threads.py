"""Worker threads of the C++ core's multi-threaded kernels (bubble index batches, quantizers)."""

from __future__ import annotations

from ftm._core import threads as native

__all__ = ["num_threads", "set_num_threads"]


def set_num_threads(count: int) -> None:
    """Threads the core's kernels use; 0 restores the default ($FTM_NUM_THREADS, else every core)."""
    native.set_num_threads(count)


def num_threads() -> int:
    """Threads the core's kernels use now."""
    return native.num_threads()
