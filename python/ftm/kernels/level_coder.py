"""Entropy coding of quantized feature vectors: FTM's CABAC-like level coder.

An (N, D) array of int32 levels becomes a self-describing payload (a 2-byte
header with the coding options, then the arithmetic-coded levels); decoding
needs the bytes, N and D. Each level is binarized into significance, sign,
greater-than-1 and greater-than-2 flags, coded with contexts chosen by its
dimension's running magnitude (and that dimension's level in the previous
vector), and a Golomb-Rice remainder whose parameter follows the dimension's
running remainder, with an Exp-Golomb escape, so every int32 round-trips.
docs/entropy-coding.md specifies the payload.

>>> import numpy as np, ftm
>>> levels = np.array([[0, 3, -1], [2, -700, 2**31 - 1]])
>>> data = ftm.encode_levels(levels)
>>> ftm.decode_levels(data, 2, 3).tolist()
[[0, 3, -1], [2, -700, 2147483647]]
>>> len(ftm.encode_levels(np.zeros((0, 128), np.int32)))  # the header alone
2
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from ftm._core import level_coder as native

__all__ = ["encode_levels", "decode_levels", "level_state_bytes", "MIN_ADAPTATION_SHIFT", "MAX_ADAPTATION_SHIFT"]

MIN_ADAPTATION_SHIFT: int = native.MIN_ADAPTATION_SHIFT
MAX_ADAPTATION_SHIFT: int = native.MAX_ADAPTATION_SHIFT

_INT32 = np.iinfo(np.int32)


def _levels(levels: np.ndarray) -> np.ndarray:
    a = np.asarray(levels)
    if a.dtype.kind not in "iu":
        raise TypeError(f"levels must be an integer array, got dtype {a.dtype}")
    if a.ndim != 2:
        raise ValueError(f"levels must be an (N, D) array, got shape {a.shape}")
    if a.dtype.itemsize > 4 or a.dtype == np.uint32:
        if a.size and (a.min() < _INT32.min or a.max() > _INT32.max):
            raise ValueError(f"levels must fit in int32, got range [{a.min()}, {a.max()}]")
    return np.ascontiguousarray(a, dtype=np.int32)


def _shift(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if not MIN_ADAPTATION_SHIFT <= value <= MAX_ADAPTATION_SHIFT:
        raise ValueError(f"{name} must be in [{MIN_ADAPTATION_SHIFT}, {MAX_ADAPTATION_SHIFT}], got {value}")
    return int(value)


def _count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return int(value)


def encode_levels(
    levels: np.ndarray,
    *,
    fast_shift: int = 5,
    slow_shift: int = 9,
    stats_shift: int = 6,
    neighbour_contexts: bool = True,
) -> bytes:
    """Code an (N, D) integer array whose values fit in int32.

    ``fast_shift``/``slow_shift`` set the windows (2^shift bins) of the two-rate
    context estimators, ``stats_shift`` the window (2^shift vectors) of each
    dimension's running means; ``neighbour_contexts`` also selects contexts by
    the same dimension's level in the previous vector (worth it when
    consecutive vectors are correlated). The decoder reads them all from the
    payload's header.
    """
    a = _levels(levels)
    return native.encode_levels(
        a,
        _shift(fast_shift, "fast_shift"),
        _shift(slow_shift, "slow_shift"),
        _shift(stats_shift, "stats_shift"),
        bool(neighbour_contexts),
    )


def level_state_bytes(n: int, d: int) -> int:
    """Bytes of adaptive state decoding n x d levels holds (none for one vector)."""
    return int(native.level_state_bytes(_count(n, "n"), _count(d, "d")))


# The core's own bound on what it allocates when a caller sets none.
_NO_LIMIT = (1 << 64) - 1


def decode_levels(
    data: bytes,
    n: int,
    d: int,
    *,
    max_levels: Optional[int] = native.DEFAULT_MAX_LEVELS,
    max_state_bytes: Optional[int] = native.DEFAULT_MAX_STATE_BYTES,
) -> np.ndarray:
    """Decode a payload of :func:`encode_levels` into an (n, d) int32 array.

    Raises :class:`ftm.BitstreamError` for a payload that is malformed, truncated, has
    bytes left over or cannot hold n x d levels, and
    :class:`ftm.errors.DecodeLimitError` when n x d exceeds ``max_levels`` or
    the decoder's state (:func:`level_state_bytes`) ``max_state_bytes``
    (by default 2^28 levels and 128 MiB; None: no limit), checked before
    anything is allocated.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    return native.decode_levels(
        bytes(data), _count(n, "n"), _count(d, "d"),
        _NO_LIMIT if max_levels is None else _count(max_levels, "max_levels"),
        _NO_LIMIT if max_state_bytes is None else _count(max_state_bytes, "max_state_bytes"),
    )  # fmt: skip
