"""Raw 4:0:0 video in memory: the layout external tools read and write."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from ftm.codecs.video import hevc_syntax
from ftm.codecs.video.base import frame_dtype
from ftm.errors import CodecError


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


def from_raw(
    data: bytes,
    what: str,
    count: int,
    height: int,
    width: int,
    coded_bits: int,
    bits: int,
    command: Sequence[str] = (),
    crop: Optional[tuple] = None,
) -> np.ndarray:
    """Frames from raw samples a tool wrote, checked for size and range.

    Samples coded at more bits than their own can come back above
    2**bits - 1 after lossy coding; they are clipped to it, the largest value
    the source could hold. At their own depth they cannot exceed it, so one
    that does means a broken tool. ``crop`` = (height, width) keeps the
    top-left part of larger pictures.
    """
    dtype = raw_dtype(coded_bits)
    expected = count * height * width * dtype.itemsize
    if len(data) != expected:
        frames_seen = len(data) / (height * width * dtype.itemsize)
        raise CodecError(
            f"{what} wrote {len(data)} bytes, expected {expected} "
            f"({count} frames of {width} x {height} at {coded_bits} bits; got the size of {frames_seen:g} frames)",
            command,
        )
    frames = np.frombuffer(data, dtype=dtype).reshape(count, height, width)
    if crop is not None:
        frames = frames[:, : crop[0], : crop[1]]
    peak = (1 << bits) - 1
    if coded_bits > bits:
        frames = np.minimum(frames, peak)
    elif bits not in (8, 16) and int(frames.max()) > peak:
        raise CodecError(
            f"{what} produced the sample value {int(frames.max())}, more than {bits} bits hold", command
        )
    return np.array(frames, dtype=frame_dtype(bits), order="C")  # a writable copy, not a view of ``data``


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
        raise CodecError(f"{decoder}: the stream is not 4:0:0 (chroma_format_idc {info.chroma_format_idc})")
    if (info.height, info.width) != (height, width):
        raise CodecError(
            f"{decoder}: the stream codes {info.width} x {info.height} pictures, expected {width} x {height}"
        )
    if info.bit_depth < bits:
        raise CodecError(
            f"{decoder}: the stream is coded at {info.bit_depth} bits, fewer than the {bits} expected"
        )
    return info
