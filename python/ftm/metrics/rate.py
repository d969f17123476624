"""Compression rate, seed 002 eq. 1.

``compression rate = data volume after compression / data volume before``.
The volume before is the tensor as float32 (4 bytes an element), whatever
dtype it is held in: the paper's features are float32 and the ratio must not
change when a user hands FTM float64 or float16 copies. The volume after is
the actual size of what was written (the whole bitstream, headers included),
never an estimate. Lower is better; its inverse is the compression ratio.
"""

from __future__ import annotations

from typing import Sequence, Union

import numpy as np

__all__ = ["bits_per_dimension", "bytes_per_vector", "compression_rate", "original_bytes"]

FLOAT32_BYTES = 4


def original_bytes(shape_or_array: Union[np.ndarray, Sequence[int]]) -> int:
    """Bytes of a tensor of this shape (or of this array) held as float32."""
    shape = shape_or_array.shape if isinstance(shape_or_array, np.ndarray) else tuple(shape_or_array)
    count = 1
    for extent in shape:
        extent = int(extent)
        if extent < 0:
            raise ValueError(f"shape extents must be non-negative, got {tuple(shape)}")
        count *= extent
    return count * FLOAT32_BYTES


def compression_rate(compressed_bytes: int, original: Union[np.ndarray, Sequence[int], int]) -> float:
    """Eq. 1: compressed bytes over the float32 bytes of the original tensor.

    ``original`` is the tensor itself, its shape, or its float32 byte count.
    """
    if isinstance(original, (int, np.integer)):
        before = int(original)
    else:
        before = original_bytes(original)
    after = int(compressed_bytes)
    if after < 0:
        raise ValueError(f"compressed_bytes must be >= 0, got {compressed_bytes}")
    if before <= 0:
        raise ValueError(f"the original tensor must hold at least one element (got {before} bytes)")
    return after / before


def bits_per_dimension(coded_bytes: int, vectors: int, dims: int) -> float:
    """Rate of coded vectors as seed 001's "BPP": 8 * coded bytes / (N * D), D being the vectors' own length.

    ``coded_bytes`` is what was written (a whole .ftm stream, say): headers,
    side information and model digests count, amortized over the N vectors.
    """
    if vectors < 1 or dims < 1:
        raise ValueError(f"need at least one vector of at least one dimension, got {vectors} x {dims}")
    if coded_bytes < 0:
        raise ValueError(f"coded_bytes must be >= 0, got {coded_bytes}")
    return 8.0 * coded_bytes / (vectors * dims)


def bytes_per_vector(coded_bytes: int, vectors: int) -> float:
    """Coded bytes over the number of vectors."""
    if vectors < 1:
        raise ValueError(f"need at least one vector, got {vectors}")
    return coded_bytes / vectors
