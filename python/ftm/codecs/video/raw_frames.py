"""Raw video in memory: the layouts external tools read and write.

4:0:0 frames are planes of samples one after the other. A 4:2:0 carrier
(for tools or codecs without 4:0:0) follows each frame's plane with two
chroma planes of half the width and height, flat at mid-grey 2^(B - 1):
a flat plane costs the fewest bits and carries nothing; decoders keep the
luma plane.
"""

from __future__ import annotations

import os
from typing import Optional, Sequence, Type, Union

import numpy as np

from ftm.codecs.video import avs2_syntax, hevc_syntax, vvc_syntax
from ftm.codecs.video.base import AVS2, CODECS, HEVC, VVC, frame_dtype
from ftm.errors import CodecError, PayloadError

# chroma_format_idc (H.265/H.266 Table 6-1; AVS2's chroma_format numbers 4:2:0 the same) of each chroma format
_CHROMA_IDC = {400: 0, 420: 1}


def raw_dtype(coded_bits: int) -> np.dtype:
    """Samples in raw files and pipes: one byte at 8 bits, two little-endian bytes above."""
    return frame_dtype(coded_bits)


def to_raw(frames: np.ndarray, coded_bits: int) -> np.ndarray:
    """Frames as the raw samples of a ``coded_bits`` stream: same values, widened if needed."""
    return np.ascontiguousarray(frames, dtype=raw_dtype(coded_bits))


def with_flat_chroma(raw: np.ndarray, coded_bits: int) -> np.ndarray:
    """4:0:0 frames (F x H x W, even sides) as the samples of 4:2:0 frames with flat chroma planes."""
    count, height, width = raw.shape
    chroma = np.full((count, height * width // 2), 1 << (coded_bits - 1), dtype=raw.dtype)
    return np.concatenate([raw.reshape(count, -1), chroma], axis=1)


def pad_to(frames: np.ndarray, min_side: int) -> np.ndarray:
    """Repeat the last row/column until both sides are at least ``min_side``."""
    _, height, width = frames.shape
    pad_h, pad_w = max(0, min_side - height), max(0, min_side - width)
    if pad_h == 0 and pad_w == 0:
        return frames
    return np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w)), mode="edge")


def raw_size(count: int, height: int, width: int, coded_bits: int, chroma_format: int = 400) -> int:
    """Bytes of ``count`` raw pictures (4:0:0, or 4:2:0 of even sides): what a decoder may write for them, and no more."""
    plane = height * width
    return count * (plane * 3 // 2 if chroma_format == 420 else plane) * raw_dtype(coded_bits).itemsize


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
    chroma_format: int = 400,
) -> np.ndarray:
    """Frames from raw samples a tool wrote, checked for size and range.

    Samples coded at more bits than their own can come back above
    2**bits - 1 after lossy coding; they are clipped to it, the largest value
    the source could hold. At their own depth they cannot exceed it, so one
    that does means a broken tool. ``crop`` = (height, width) keeps the
    top-left part of larger pictures. With ``chroma_format`` 420 the data
    are 4:2:0 pictures and the frames their luma planes. A ``bytearray``
    becomes the frames' memory when no conversion is needed (no second copy
    of a large decode); ``error`` is raised for a wrong size or value
    (PayloadError for a decoder's output).
    """
    dtype = raw_dtype(coded_bits)
    plane = height * width
    picture = plane * 3 // 2 if chroma_format == 420 else plane
    expected = count * picture * dtype.itemsize
    if len(data) != expected:
        frames_seen = len(data) / (picture * dtype.itemsize)
        raise error(
            f"{what} wrote {len(data)} bytes, expected {expected} "
            f"({count} frames of {width} x {height} at {coded_bits} bits; got the size of {frames_seen:g} frames)",
            command,
        )
    frames = np.frombuffer(data, dtype=dtype).reshape(count, picture)[:, :plane].reshape(count, height, width)
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


_FORMAT_READERS = {HEVC: hevc_syntax.sequence_info, VVC: vvc_syntax.sequence_info, AVS2: avs2_syntax.sequence_info}


def stream_format(bitstream: bytes, codec: str = HEVC) -> hevc_syntax.SequenceInfo:
    """The picture format a ``codec`` stream announces (its SPS or sequence header)."""
    if codec not in CODECS:
        raise ValueError(f"codec must be one of {', '.join(CODECS)}, got {codec!r}")
    return _FORMAT_READERS[codec](bytes(bitstream))


def check_stream(
    bitstream: bytes, num_frames: int, height: int, width: int, bits: int, decoder: str,
    codec: str = HEVC, chroma_format: int = 400,
) -> hevc_syntax.SequenceInfo:  # fmt: skip
    """Check decoder arguments, and that the stream's SPS (or sequence header) announces what the caller expects."""
    if not isinstance(bitstream, (bytes, bytearray, memoryview)):
        raise TypeError(f"bitstream must be bytes, got {type(bitstream).__name__}")
    for name, value in (("num_frames", num_frames), ("height", height), ("width", width), ("bits", bits)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not 8 <= bits <= 16:
        raise ValueError(f"bits must be in [8, 16], got {bits}")
    if chroma_format not in _CHROMA_IDC:
        raise ValueError(f"chroma_format must be 400 or 420, got {chroma_format!r}")
    info = stream_format(bitstream, codec)
    if info.chroma_format_idc != _CHROMA_IDC[chroma_format]:
        raise PayloadError(
            f"{decoder}: the {CODECS[codec]} stream has chroma_format_idc {info.chroma_format_idc}, "
            f"not {_CHROMA_IDC[chroma_format]} ({chroma_format // 100}:{chroma_format // 10 % 10}:{chroma_format % 10})"
        )
    # AVS2 has no cropping window: its pictures may be larger, the frames being their top-left part
    larger = codec == AVS2 and info.height >= height and info.width >= width
    if (info.height, info.width) != (height, width) and not larger:
        raise PayloadError(
            f"{decoder}: the stream codes {info.width} x {info.height} pictures, expected {width} x {height}"
        )
    if info.bit_depth < bits:
        raise PayloadError(
            f"{decoder}: the stream is coded at {info.bit_depth} bits, fewer than the {bits} expected"
        )
    return info


def yuv420_raw(luma: np.ndarray, chroma: np.ndarray) -> np.ndarray:
    """8-bit 4:2:0 pictures (luma F x H x W, chroma F x 2 x H/2 x W/2) as raw yuv420p samples, a row a picture."""
    count = luma.shape[0]
    return np.concatenate([np.asarray(luma, np.uint8).reshape(count, -1), np.asarray(chroma, np.uint8).reshape(count, -1)], axis=1)


def check_colour_stream(bitstream: bytes, count: int, height: int, width: int, decoder: str) -> None:
    """:func:`check_stream` for an image record's colour payload: 4:2:0 HEVC at exactly 8 bits (SPEC.md 3.16)."""
    info = check_stream(bitstream, count, height, width, 8, decoder, HEVC, 420)
    if info.bit_depth != 8:
        raise PayloadError(f"{decoder}: an image's stream is coded at 8 bits, this one at {info.bit_depth}")


def colour_pictures(data: Union[bytes, bytearray], what: str, count: int, height: int, width: int, command: Sequence[str] = ()):
    """(luma F x H x W, chroma F x 2 x H/2 x W/2) of the raw 8-bit 4:2:0 pictures a decoder wrote; PayloadError for a wrong size."""
    size = raw_size(count, height, width, 8, 420)
    if len(data) != size:
        raise PayloadError(f"{what} wrote {len(data)} bytes, expected {size} ({count} 4:2:0 pictures of {width} x {height})", command)
    pictures = np.frombuffer(bytes(data), dtype=np.uint8).reshape(count, -1)
    plane = height * width
    return pictures[:, :plane].reshape(count, height, width), pictures[:, plane:].reshape(count, 2, height // 2, width // 2)
