"""Raw 4:0:0 video in memory: the layout external tools read and write."""

from __future__ import annotations

import os
from typing import Optional, Sequence, Type, Union

import numpy as np

from ftm.codecs.video import hevc_syntax
from ftm.codecs.video.base import frame_dtype
from ftm.errors import CodecError, PayloadError


def raw_dtype(coded_bits: int) -> np.dtype:
    """Samples in raw files and pipes: one byte at 8 bits, two little-endian bytes above."""
    return frame_dtype(coded_bits)


def to_raw(frames: np.ndarray, coded_bits: int) -> np.ndarray:
    """Frames as the raw samples of a ``coded_bits`` stream: same values, widened if needed."""
    return np.ascontiguousarray(frames, dtype=raw_dtype(coded_bits))


def pad_to(frames: np.ndarray, min_side: int) -> np.ndarray:
    """Repeat the last row/column until both sides are at least ``min_side``."""
    _, height, width = frames.shape
    pad_h, pad_w = max(0, min_side - height), max(0, min_side - width)
    if pad_h == 0 and pad_w == 0:
        return frames
    return np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w)), mode="edge")


def raw_size(count: int, height: int, width: int, coded_bits: int) -> int:
    """Bytes of ``count`` raw frames: what a decoder may write for them, and no more."""
    return count * height * width * raw_dtype(coded_bits).itemsize


def read_at_most(path: str, size: int) -> bytearray:
    """A file a decoder wrote, read into one buffer of at most ``size`` + 1 bytes.

    The extra byte lets :func:`from_raw` say the tool wrote too much
    without reading all of it.
    """
    with open(path, "rb") as f:
        buffer = bytearray(min(size + 1, max(0, os.fstat(f.fileno()).st_size)))
        got = f.readinto(buffer)
    return buffer if got == len(buffer) else buffer[:got]


def from_raw(
    data: Union[bytes, bytearray],
    what: str,
    count: int,
    height: int,
    width: int,
    coded_bits: int,
    bits: int,
    command: Sequence[str] = (),
    crop: Optional[tuple] = None,
    error: Type[CodecError] = CodecError,
) -> np.ndarray:
    """Frames from raw samples a tool wrote, checked for size and range.

    Samples coded at more bits than their own can come back above
    2**bits - 1 after lossy coding; they are clipped to it, the largest value
    the source could hold. At their own depth they cannot exceed it, so one
    that does means a broken tool. ``crop`` = (height, width) keeps the
    top-left part of larger pictures. A ``bytearray`` becomes the frames'
    memory when no conversion is needed (no second copy of a large
    decode); ``error`` is raised for a wrong size or value (PayloadError for
    a decoder's output).
    """
    dtype = raw_dtype(coded_bits)
    expected = count * height * width * dtype.itemsize
    if len(data) != expected:
        frames_seen = len(data) / (height * width * dtype.itemsize)
        raise error(
            f"{what} wrote {len(data)} bytes, expected {expected} "
            f"({count} frames of {width} x {height} at {coded_bits} bits; got the size of {frames_seen:g} frames)",
            command,
        )
    frames = np.frombuffer(data, dtype=dtype).reshape(count, height, width)
    if crop is not None:
        frames = frames[:, : crop[0], : crop[1]]
    owned = isinstance(data, bytearray) and crop is None and frames.dtype == frame_dtype(bits)
    peak = (1 << bits) - 1
    if coded_bits > bits:
        frames = np.minimum(frames, peak, out=frames if owned else None)
    elif bits not in (8, 16) and frames.size and int(frames.max()) > peak:
        raise error(f"{what} produced the sample value {int(frames.max())}, more than {bits} bits hold", command)
    if not owned:  # a writable copy, not a view of ``data``
        frames = np.array(frames, dtype=frame_dtype(bits), order="C")
    return frames


def check_stream(
    bitstream: bytes, num_frames: int, height: int, width: int, bits: int, decoder: str
) -> hevc_syntax.SequenceInfo:
    """Check decoder arguments, and that the stream's SPS announces what the caller expects."""
    if not isinstance(bitstream, (bytes, bytearray, memoryview)):
        raise TypeError(f"bitstream must be bytes, got {type(bitstream).__name__}")
    for name, value in (("num_frames", num_frames), ("height", height), ("width", width), ("bits", bits)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not 8 <= bits <= 16:
        raise ValueError(f"bits must be in [8, 16], got {bits}")
    info = hevc_syntax.sequence_info(bytes(bitstream))
    if info.chroma_format_idc != 0:
        raise PayloadError(f"{decoder}: the stream is not 4:0:0 (chroma_format_idc {info.chroma_format_idc})")
    if (info.height, info.width) != (height, width):
        raise PayloadError(
            f"{decoder}: the stream codes {info.width} x {info.height} pictures, expected {width} x {height}"
        )
    if info.bit_depth < bits:
        raise PayloadError(
            f"{decoder}: the stream is coded at {info.bit_depth} bits, fewer than the {bits} expected"
        )
    return info
