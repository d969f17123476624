"""Access units and intra slice headers (ITU-T H.265 7.3.6.1): what batched coding needs.

FTM codes the images of a job in one encoder process and cuts each image's
access units out as a standalone stream (:mod:`.batching`). Coded alone or
in a batch, x265 makes the same decisions for an all-intra picture at a
fixed QP, with one exception found by comparing the two streams syntax
element by syntax element: ``slice_loop_filter_across_slices_enabled_flag``
is 0 or 1 from picture to picture depending on where the picture falls in
the encoder's frame pipeline. The flag only says whether in-loop filters
cross the boundary between two slices of a picture; FTM's pictures are one
slice each, so it changes no decoded sample. :func:`canonical_intra_slices`
sets it to 1 (the value it takes when absent, given the PPS) in every
single-slice IDR picture, which makes FTM's streams byte-identical whether
an image was coded alone or in a batch.

The parsers read only what locates that flag, and say None when a stream
uses syntax they do not read (scaling lists, tiles, multi-slice or
non-IDR pictures, parameter-set extensions): the caller then keeps the
stream as it is and codes images one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from ftm.codecs.video.hevc_syntax import NAL_PPS, NAL_SPS, Bits, _parse_sps, escape, nal_type, nal_units, unescape
from ftm.errors import CodecError

__all__ = ["access_units", "canonical_intra_slices"]

_IDR_TYPES = (19, 20)  # IDR_W_RADL, IDR_N_LP: no picture order count in the slice header
_AU_PREFIX_TYPES = set(range(32, 39)) | {39} | set(range(41, 45)) | set(range(48, 56))  # 7.4.2.4.4


@dataclass(frozen=True)
class _SpsFlags:
    chroma_array_type: int
    separate_colour_plane: bool
    sao: bool


@dataclass(frozen=True)
class _PpsFlags:
    sps_id: int
    dependent_slices: bool
    output_flag: bool
    extra_bits: int
    chroma_offsets: bool
    deblocking_override: bool
    deblocking_disabled: bool
    across_slices: bool


def _sps_flags(rbsp: bytes) -> Optional[Tuple[int, _SpsFlags]]:
    info, _, _, r = _parse_sps(rbsp)  # r: just past the bit depths
    r.ue()  # log2_max_pic_order_cnt_lsb_minus4
    ordering = r.u(1)
    for _ in range(0 if ordering else info.max_sub_layers - 1, info.max_sub_layers):
        r.ue(), r.ue(), r.ue()
    for _ in range(6):  # coding and transform block sizes, transform hierarchy depths
        r.ue()
    if r.u(1) and r.u(1):  # scaling_list_enabled_flag, sps_scaling_list_data_present_flag
        return None
    r.u(1)  # amp_enabled_flag
    sao = bool(r.u(1))
    separate = info.separate_colour_plane
    return info.sps_id, _SpsFlags(0 if separate else info.chroma_format_idc, separate, sao)


def _pps_flags(rbsp: bytes) -> Optional[Tuple[int, _PpsFlags]]:
    r = Bits(rbsp)
    pps_id, sps_id = r.ue(), r.ue()
    dependent, output_flag, extra = bool(r.u(1)), bool(r.u(1)), r.u(3)
    r.u(2)  # sign_data_hiding_enabled_flag, cabac_init_present_flag
    r.ue(), r.ue(), r.se()  # default reference indices, init_qp_minus26
    r.u(2)  # constrained_intra_pred_flag, transform_skip_enabled_flag
    if r.u(1):
        r.ue()  # diff_cu_qp_delta_depth
    r.se(), r.se()
    chroma_offsets = bool(r.u(1))
    r.u(3)  # weighted prediction, transquant bypass
    tiles = r.u(1)
    r.u(1)  # entropy_coding_sync_enabled_flag
    if tiles:
        return None
    across = bool(r.u(1))
    override = disabled = False
    if r.u(1):  # deblocking_filter_control_present_flag
        override, disabled = bool(r.u(1)), bool(r.u(1))
        if not disabled:
            r.se(), r.se()
    if r.u(1):  # pps_scaling_list_data_present_flag
        return None
    r.u(1)
    r.ue()
    r.u(1)  # slice_segment_header_extension_present_flag comes after the flag FTM looks for
    if r.u(1):  # pps_extension_present_flag: range extensions can add slice header syntax before it
        return None
    return pps_id, _PpsFlags(sps_id, dependent, output_flag, extra, chroma_offsets, override, disabled, across)


def _flag_position(rbsp: bytes, idr: bool, sps: Dict[int, _SpsFlags], pps: Dict[int, _PpsFlags]) -> Optional[int]:
    """Bit position (in the RBSP after the NAL header) of slice_loop_filter_across_slices_enabled_flag.

    -1 when the picture does not carry it; None when the slice is one FTM
    does not read (not the first slice of its picture, not an I slice, ...).
    """
    r = Bits(rbsp)
    if not r.u(1):  # first_slice_segment_in_pic_flag: a picture of several slices
        return None
    r.u(1)  # no_output_of_prior_pics_flag (IRAP)
    p = pps.get(r.ue())
    s = sps.get(p.sps_id) if p is not None else None
    if p is None or s is None or not idr:
        return None
    r.u(p.extra_bits)
    if r.ue() != 2:  # slice_type: I
        return None
    if p.output_flag:
        r.u(1)
    if s.separate_colour_plane:
        r.u(2)
    sao = False
    if s.sao:
        sao = bool(r.u(1))
        if s.chroma_array_type:
            sao = bool(r.u(1)) or sao
    r.se()  # slice_qp_delta
    if p.chroma_offsets:
        r.se(), r.se()
    deblocking_off = p.deblocking_disabled
    if p.deblocking_override and r.u(1):
        deblocking_off = bool(r.u(1))
        if not deblocking_off:
            r.se(), r.se()
    if p.across_slices and (sao or not deblocking_off):
        return r.pos
    return -1


def _set_bit(nal: bytes, position: int) -> bytes:
    """``nal`` with RBSP bit ``position`` (after the 2-byte header) set to 1, emulation prevention kept right."""
    escaped_at, zeros = [], 0  # escaped index of each RBSP byte of the head
    for i, value in enumerate(nal[2 : 2 + position // 8 + 8], start=2):
        if zeros >= 2 and value == 3:
            zeros = 0
            continue
        escaped_at.append(i)
        zeros = zeros + 1 if value == 0 else 0
    at, mask = escaped_at[position // 8], 0x80 >> (position % 8)
    old = nal[at]
    if old & mask:
        return nal
    if old > 3:  # above 3 before and after: no emulation prevention byte can change
        return nal[:at] + bytes([old | mask]) + nal[at + 1 :]
    rbsp = bytearray(unescape(nal[2:]))  # rare: the byte may end or start a 00 00 0x run
    rbsp[position // 8] |= mask
    return nal[:2] + escape(bytes(rbsp))


def canonical_intra_slices(stream: bytes) -> Optional[bytes]:
    """``stream`` with slice_loop_filter_across_slices_enabled_flag = 1 in every (single-slice IDR) picture.

    None when the stream holds syntax this module does not read; the stream
    decodes to the same samples either way.
    """
    units = nal_units(stream)
    sps: Dict[int, _SpsFlags] = {}
    pps: Dict[int, _PpsFlags] = {}
    pieces, last = [], 0
    try:
        for start, end in units:
            kind = nal_type(stream, start)
            if kind == NAL_SPS or kind == NAL_PPS:
                parsed = (_sps_flags if kind == NAL_SPS else _pps_flags)(unescape(stream[start + 2 : end]))
                if parsed is None:
                    return None
                (sps if kind == NAL_SPS else pps)[parsed[0]] = parsed[1]
            elif kind < 32:
                # the slice header is short: unescape only its head to find the flag
                position = _flag_position(unescape(stream[start + 2 : min(end, start + 64)]), kind in _IDR_TYPES, sps, pps)
                if position is None:
                    return None
                if position >= 0:
                    pieces += [stream[last:start], _set_bit(stream[start:end], position)]
                    last = end
    except CodecError:
        return None  # a header that runs past the bytes read: syntax this module does not expect
    return b"".join(pieces) + stream[last:]


def access_units(stream: bytes) -> List[Tuple[int, int]]:
    """Byte ranges of the access units of an Annex B stream, in order, covering it whole.

    A unit begins where the previous one's last NAL unit ends (so its leading
    zero_byte and start code belong to it, as at the start of a stream) and
    holds the non-VCL NAL units that precede its first slice, the slices of
    its picture and the suffix units that follow them (7.4.2.4.4).
    """
    units = nal_units(stream)
    bounds: List[int] = [0]
    seen_slice = False
    previous_end = 0
    for start, end in units:
        kind = nal_type(stream, start)
        first_slice = kind < 32 and (stream[start + 2] & 0x80)
        if seen_slice and (kind in _AU_PREFIX_TYPES or first_slice):
            bounds.append(previous_end)
            seen_slice = False
        seen_slice = seen_slice or kind < 32
        previous_end = end
    bounds.append(len(stream))
    return list(zip(bounds[:-1], bounds[1:]))
