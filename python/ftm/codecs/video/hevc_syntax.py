"""Just enough HEVC syntax (ITU-T H.265) to check and tidy what encoders emit.

* Annex B byte streams split into NAL units.
* The head of the sequence parameter set (7.3.2.2) up to the bit depths:
  chroma format, coded and cropped picture size, luma bit depth, profile.
  Decoders use it to learn the coded bit depth and to refuse a stream whose
  format is not what the caller expects before running anything.
* Two rewrites that leave every decoded sample unchanged:
  - :func:`crop_to`: signal a conformance window, so that a picture coded
    larger than the frames (x265 cannot code pictures smaller than its
    16 x 16 minimum CTU) decodes to the frames' size in any decoder;
  - :func:`drop_repeated_parameter_sets`: keep the first copy of each VPS,
    SPS and PPS and drop identical repeats (parameter sets stay available
    across coded video sequences once received, 7.4.2.4.2), which saves
    their bytes in front of every intra picture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

from ftm.errors import PayloadError

__all__ = [
    "NAL_VPS",
    "NAL_SPS",
    "NAL_PPS",
    "SequenceInfo",
    "nal_units",
    "nal_type",
    "read_sps",
    "sequence_info",
    "crop_to",
    "drop_repeated_parameter_sets",
    "tidy",
]

NAL_VPS, NAL_SPS, NAL_PPS = 32, 33, 34
NAL_PREFIX_SEI, NAL_SUFFIX_SEI = 39, 40
_PARAMETER_SETS = (NAL_VPS, NAL_SPS, NAL_PPS)
_START_CODE = re.compile(b"\x00\x00\x01")


class _StreamError(PayloadError):
    """An HEVC stream FTM cannot read: a malformed payload wherever it comes from."""


def nal_units(stream: bytes, codec: str = "HEVC") -> List[Tuple[int, int]]:
    """(start, end) byte offsets of every NAL unit in an Annex B byte stream.

    ``start`` is just past a start code; ``end`` excludes the zero bytes that
    precede the next start code (a NAL unit never ends in 0x00).
    """
    starts = [m.end() for m in _START_CODE.finditer(stream)]
    if not starts or any(stream[: starts[0] - 3]):
        raise _StreamError(f"not an {codec} Annex B byte stream: it does not begin with a start code")
    units = []
    for start, end in zip(starts, [s - 3 for s in starts[1:]] + [len(stream)]):
        while end > start and stream[end - 1] == 0:
            end -= 1
        if end - start < 2:
            raise _StreamError(f"empty or truncated NAL unit at byte {start}")
        units.append((start, end))
    return units


def nal_type(stream: bytes, start: int) -> int:
    return (stream[start] >> 1) & 0x3F


def unescape(payload: bytes) -> bytes:
    """NAL payload to RBSP: drop each emulation_prevention_three_byte."""
    if b"\x00\x00\x03" not in payload:
        return payload
    out = bytearray()
    zeros = 0
    for byte in payload:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def escape(rbsp: bytes) -> bytes:
    """RBSP to NAL payload: insert emulation_prevention_three_byte where 7.4.2 needs one."""
    out = bytearray()
    zeros = 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


class Bits:
    """MSB-first reader over an RBSP, as strings of '0'/'1' (parameter sets and slice headers are short)."""

    def __init__(self, rbsp: bytes) -> None:
        self.bits = "".join(f"{b:08b}" for b in rbsp)
        self.pos = 0

    def u(self, n: int) -> int:
        if self.pos + n > len(self.bits):
            raise _StreamError("a parameter set or slice header is truncated")
        value = int(self.bits[self.pos : self.pos + n], 2) if n else 0
        self.pos += n
        return value

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise _StreamError("a parameter set or slice header holds an Exp-Golomb code longer than 32 bits")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k % 2 else -(k // 2)


def _ue_bits(value: int) -> str:
    code = bin(value + 1)[2:]
    return "0" * (len(code) - 1) + code


@dataclass(frozen=True)
class SequenceInfo:
    """The head of one sequence parameter set."""

    profile_idc: int
    chroma_format_idc: int
    coded_width: int
    coded_height: int
    window: Tuple[int, int, int, int]  # conformance window offsets: left, right, top, bottom (luma samples)
    bit_depth: int  # luma
    bit_depth_chroma: int
    sps_id: int = 0
    separate_colour_plane: bool = False
    max_sub_layers: int = 1

    @property
    def width(self) -> int:
        return self.coded_width - self.window[0] - self.window[1]

    @property
    def height(self) -> int:
        return self.coded_height - self.window[2] - self.window[3]


def _parse_sps(rbsp: bytes) -> Tuple[SequenceInfo, int, int, "Bits"]:
    """Parse an SPS RBSP (after the 2-byte NAL header).

    Returns the info, the bit positions where conformance_window_flag
    starts and where the conformance window syntax ends, and the reader,
    just past bit_depth_chroma_minus8 (:mod:`.hevc_slices` reads on).
    """
    r = Bits(rbsp)
    r.u(4)  # sps_video_parameter_set_id
    max_sub_layers_minus1 = r.u(3)
    r.u(1)  # sps_temporal_id_nesting_flag
    # profile_tier_level(1, sps_max_sub_layers_minus1), 7.3.3
    r.u(2)  # general_profile_space
    r.u(1)  # general_tier_flag
    profile_idc = r.u(5)
    r.u(32 + 4 + 43 + 1)  # compatibility flags, source flags, constraint flags, inbld/reserved
    r.u(8)  # general_level_idc
    present = [(r.u(1), r.u(1)) for _ in range(max_sub_layers_minus1)]
    if max_sub_layers_minus1 > 0:
        r.u(2 * (8 - max_sub_layers_minus1))  # reserved_zero_2bits
    for profile_present, level_present in present:
        r.u(88 * profile_present + 8 * level_present)
    sps_id = r.ue()
    chroma_format_idc = r.ue()
    if chroma_format_idc > 3:
        raise _StreamError(f"sequence parameter set has chroma_format_idc {chroma_format_idc} (at most 3)")
    separate = chroma_format_idc == 3 and r.u(1) == 1
    width = r.ue()
    height = r.ue()
    window_at = r.pos
    # offsets are in chroma units: SubWidthC/SubHeightC of Table 6-1
    sub_w = 2 if chroma_format_idc in (1, 2) else 1
    sub_h = 2 if chroma_format_idc == 1 else 1
    window = (0, 0, 0, 0)
    if r.u(1):
        left, right, top, bottom = r.ue(), r.ue(), r.ue(), r.ue()
        window = (sub_w * left, sub_w * right, sub_h * top, sub_h * bottom)
    window_end = r.pos
    bit_depth = r.ue() + 8
    bit_depth_chroma = r.ue() + 8
    info = SequenceInfo(
        profile_idc, chroma_format_idc, width, height, window, bit_depth, bit_depth_chroma,
        sps_id, separate, max_sub_layers_minus1 + 1,
    )  # fmt: skip
    if width == 0 or height == 0 or info.width <= 0 or info.height <= 0:
        raise _StreamError(
            f"sequence parameter set describes an empty picture ({width} x {height}, window {window})"
        )
    if bit_depth > 16:
        raise _StreamError(f"sequence parameter set has a luma bit depth of {bit_depth} (at most 16)")
    return info, window_at, window_end, r


def read_sps(stream: bytes, start: int, end: int) -> SequenceInfo:
    """Parse the SPS NAL unit at stream[start:end]."""
    return _parse_sps(unescape(stream[start + 2 : end]))[0]


def sequence_info(stream: bytes) -> SequenceInfo:
    """The format of a stream: its SPS, which every SPS in it must repeat."""
    return _one_format(
        [read_sps(stream, s, e) for s, e in nal_units(stream) if nal_type(stream, s) == NAL_SPS]
    )


def _cropped_sps(nal: bytes, width: int, height: int) -> bytes:
    """An SPS NAL unit whose conformance window crops its pictures to width x height."""
    rbsp = unescape(nal[2:])
    info, window_at, window_end = _parse_sps(rbsp)[:3]
    if info.chroma_format_idc not in (0, 1):
        raise _StreamError("crop_to handles 4:0:0 and 4:2:0 streams only")
    sub = 2 if info.chroma_format_idc == 1 else 1  # the window's offsets count chroma samples (Table 6-1)
    left, _, top, _ = info.window
    right = info.coded_width - left - width
    bottom = info.coded_height - top - height
    if right < 0 or bottom < 0 or right % sub or bottom % sub:
        raise _StreamError(
            f"cannot crop {info.coded_width} x {info.coded_height} pictures (window origin {left}, {top}) "
            f"to {width} x {height}"
        )
    bits = "".join(f"{b:08b}" for b in rbsp)
    stop = bits.rfind("1")  # rbsp_stop_one_bit
    if stop < window_end:
        raise _StreamError("sequence parameter set has no rbsp_stop_one_bit")
    window = "1" + "".join(_ue_bits(v // sub) for v in (left, right, top, bottom))
    if (left, right, top, bottom) == (0, 0, 0, 0):
        window = "0"
    body = bits[:window_at] + window + bits[window_end:stop] + "1"
    body += "0" * (-len(body) % 8)
    new_rbsp = int(body, 2).to_bytes(len(body) // 8, "big")
    return nal[:2] + escape(new_rbsp)


def _rewrite(
    stream: bytes, drop_repeats: bool, crop: Optional[Tuple[int, int]], parse: bool = True
) -> Tuple[bytes, List[SequenceInfo]]:
    """One pass over the stream: drop repeated parameter sets, crop SPSs; return every SPS's info if ``parse``.

    The stream is cut into segments, each running from a unit's 3-byte start
    code to the next one's, so a dropped unit leaves its leading zero byte
    behind: B.2.2 wants a zero_byte before a parameter set and before the
    first unit of an access unit, and the unit after a dropped parameter set
    is one of those.
    """
    units = nal_units(stream)
    pieces = [stream[: units[0][0] - 3]]
    seen = set()
    infos = []
    bounds = [s - 3 for s, _ in units[1:]] + [len(stream)]
    for (start, end), segment_end in zip(units, bounds):
        kind = nal_type(stream, start)
        if kind in _PARAMETER_SETS and drop_repeats:
            nal = stream[start:end]
            if nal in seen:
                continue
            seen.add(nal)
        if kind == NAL_SPS:
            if crop is not None:
                nal = _cropped_sps(stream[start:end], *crop)
                pieces += [b"\x00\x00\x01", nal, stream[end:segment_end]]
                infos.append(_parse_sps(unescape(nal[2:]))[0])
                continue
            if parse:
                infos.append(read_sps(stream, start, end))
        pieces.append(stream[start - 3 : segment_end])
    return b"".join(pieces), infos


def _one_format(infos: List[SequenceInfo]) -> SequenceInfo:
    if not infos:
        raise _StreamError("the HEVC stream holds no sequence parameter set")
    distinct = set(infos)
    if len(distinct) > 1:
        raise _StreamError(
            f"the HEVC stream changes format between sequence parameter sets: {sorted(map(str, distinct))}"
        )
    return infos[0]


def crop_to(stream: bytes, width: int, height: int) -> bytes:
    """Rewrite every SPS so that decoders output width x height pictures.

    Only the conformance window changes (7.3.2.2: conf_win_*_offset), on
    the right and bottom: the coded samples stay as they are.
    """
    out, infos = _rewrite(stream, drop_repeats=False, crop=(width, height))
    _one_format(infos)
    return out


def drop_repeated_parameter_sets(stream: bytes) -> bytes:
    """Remove VPS/SPS/PPS NAL units identical to one already sent, start codes included."""
    return _rewrite(stream, drop_repeats=True, crop=None, parse=False)[0]


def tidy(stream: bytes, width: int, height: int) -> Tuple[bytes, SequenceInfo]:
    """Drop repeated parameter sets and, if the pictures are coded larger, crop them to width x height.

    Returns the new stream and its (single) format.
    """
    # an SPS whose window already fits is rewritten to the same bytes
    out, infos = _rewrite(stream, drop_repeats=True, crop=(width, height))
    return out, _one_format(infos)
