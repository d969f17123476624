"""Just enough VVC syntax (ITU-T H.266) to check what encoders emit and what decoders are given.

* Annex B byte streams split into NAL units (the same start codes and
  emulation prevention as HEVC, :mod:`.hevc_syntax`), with VVC's two-byte
  NAL unit header (7.3.1.2).
* The head of the sequence parameter set (7.3.2.4) up to the bit depth:
  chroma format, largest picture size, conformance window, luma bit depth.
* The number of coded pictures: one per picture header (a PH NAL unit, or a
  slice whose header carries it, 7.3.7.1).
"""

from __future__ import annotations

from ftm.codecs.video import hevc_syntax
from ftm.codecs.video.hevc_syntax import Bits, SequenceInfo, unescape
from ftm.errors import CodecError

__all__ = ["NAL_EOS", "NAL_SPS", "EOS_NAL_UNIT", "nal_type", "picture_count", "sequence_info"]

NAL_SPS, NAL_PH, NAL_AUD, NAL_EOS = 15, 19, 20, 21
_VCL = range(0, 12)  # TRAIL_NUT .. RSV_IRAP_11 (Table 5)
#: An end-of-sequence NAL unit with its start code: after it the next picture
#: starts a new coded video sequence (7.4.2.4.2), whatever came before.
EOS_NAL_UNIT = b"\x00\x00\x01" + bytes([0, (NAL_EOS << 3) | 1])


class _StreamError(CodecError):
    pass


def nal_type(stream: bytes, start: int) -> int:
    """nal_unit_type of the NAL unit at ``start`` (7.3.1.2: the second header byte's upper five bits)."""
    return stream[start + 1] >> 3


def _general_constraints_info(r: Bits) -> None:
    """Skip general_constraints_info() (7.3.3.2): 71 bits of flags and fields, then extra bits, then alignment."""
    if r.u(1):  # gci_present_flag
        r.u(71)
        r.u(r.u(8))  # gci_num_additional_bits and the bits themselves
    r.u(-r.pos % 8)


def _profile_tier_level(r: Bits, max_sublayers_minus1: int) -> None:
    """Skip profile_tier_level(1, sps_max_sublayers_minus1) (7.3.3.1)."""
    r.u(7 + 1 + 8 + 1 + 1)  # profile, tier, level, frame-only and multilayer flags
    _general_constraints_info(r)
    present = [r.u(1) for _ in range(max_sublayers_minus1)]
    r.u(-r.pos % 8)  # ptl_reserved_zero_bit
    r.u(8 * sum(present))  # sublayer_level_idc
    r.u(32 * r.u(8))  # ptl_num_sub_profiles, general_sub_profile_idc


def _parse_sps(rbsp: bytes) -> SequenceInfo:
    r = Bits(rbsp)
    sps_id = r.u(4)
    r.u(4)  # sps_video_parameter_set_id
    max_sublayers_minus1 = r.u(3)
    chroma_format_idc = r.u(2)
    r.u(2)  # sps_log2_ctu_size_minus5
    if r.u(1):  # sps_ptl_dpb_hrd_params_present_flag
        _profile_tier_level(r, max_sublayers_minus1)
    r.u(1)  # sps_gdr_enabled_flag
    if r.u(1):  # sps_ref_pic_resampling_enabled_flag
        r.u(1)  # sps_res_change_in_clvs_allowed_flag
    width, height = r.ue(), r.ue()
    sub_w = 2 if chroma_format_idc in (1, 2) else 1
    sub_h = 2 if chroma_format_idc == 1 else 1
    window = (0, 0, 0, 0)
    if r.u(1):  # sps_conformance_window_flag
        left, right, top, bottom = r.ue(), r.ue(), r.ue(), r.ue()
        window = (sub_w * left, sub_w * right, sub_h * top, sub_h * bottom)
    if r.u(1):  # sps_subpic_info_present_flag: FTM's encoders never write subpictures
        raise _StreamError("the VVC stream has subpictures, which FTM does not read")
    bit_depth = r.ue() + 8
    info = SequenceInfo(0, chroma_format_idc, width, height, window, bit_depth, bit_depth, sps_id, False,
                        max_sublayers_minus1 + 1)  # fmt: skip
    if width == 0 or height == 0 or info.width <= 0 or info.height <= 0:
        raise _StreamError(f"VVC sequence parameter set describes an empty picture ({width} x {height}, window {window})")
    if bit_depth > 16:
        raise _StreamError(f"VVC sequence parameter set has a bit depth of {bit_depth} (at most 16)")
    return info


def sequence_info(stream: bytes) -> SequenceInfo:
    """The format of a VVC stream: its SPS, which every SPS in it must repeat."""
    units = hevc_syntax.nal_units(stream, "VVC")
    infos = {_parse_sps(unescape(stream[s + 2 : e])) for s, e in units if nal_type(stream, s) == NAL_SPS}
    if not infos:
        raise _StreamError("the VVC stream holds no sequence parameter set")
    if len(infos) > 1:
        raise _StreamError(f"the VVC stream changes format between sequence parameter sets: {sorted(map(str, infos))}")
    return infos.pop()


def picture_count(stream: bytes) -> int:
    """Coded pictures: PH NAL units plus slices whose header holds the picture header (its first bit)."""
    count = 0
    for start, end in hevc_syntax.nal_units(stream, "VVC"):
        kind = nal_type(stream, start)
        if kind == NAL_PH or (kind in _VCL and end - start > 2 and stream[start + 2] & 0x80):
            count += 1
    return count

