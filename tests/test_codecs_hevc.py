"""The HEVC syntax FTM reads and rewrites: NAL units, SPS heads, crops, repeats."""

from __future__ import annotations

import numpy as np
import pytest

from ftm.codecs import video as codecs
from ftm.codecs.video import hevc_syntax as hevc
from ftm.errors import CodecError


@pytest.fixture(scope="module")
def stream_10bit():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 1024, (2, 16, 24)).astype(np.uint16)
    return codecs.make_encoder("x265-ffmpeg", preset="ultrafast").encode(frames, 10, 30).bitstream


def test_emulation_prevention_round_trip():
    rng = np.random.default_rng(1)
    for _ in range(200):
        rbsp = bytes(rng.choice([0, 0, 0, 1, 2, 3, 4, 255], size=int(rng.integers(1, 40))))
        if rbsp[-1] == 0:
            rbsp += b"\x80"  # an RBSP ends in its stop bit
        escaped = hevc.escape(rbsp)
        for pattern in (b"\x00\x00\x00", b"\x00\x00\x01", b"\x00\x00\x02"):
            assert pattern not in escaped
        assert hevc.unescape(escaped) == rbsp
    assert hevc.escape(b"\x00\x00\x01") == b"\x00\x00\x03\x01"
    assert hevc.escape(b"\x00\x00\x04") == b"\x00\x00\x04"


def test_sequence_info_of_an_x265_stream(stream_10bit):
    info = hevc.sequence_info(stream_10bit)
    assert info.chroma_format_idc == 0
    assert (info.width, info.height, info.bit_depth) == (24, 16, 10)
    # x265's ultrafast preset codes whole 16 x 16 minimum CUs and crops the rest
    assert (info.coded_width, info.coded_height) == (32, 16) and info.window == (0, 8, 0, 0)


def test_crop_to_signals_a_conformance_window(stream_10bit):
    cropped = hevc.crop_to(stream_10bit, 16, 8)
    info = hevc.sequence_info(cropped)
    assert (info.coded_width, info.coded_height, info.width, info.height) == (32, 16, 16, 8)
    assert info.window == (0, 16, 0, 8) and info.bit_depth == 10
    full = codecs.make_decoder("ffmpeg").decode(stream_10bit, 2, 16, 24, 10).frames
    part = codecs.make_decoder("ffmpeg").decode(cropped, 2, 8, 16, 10).frames
    assert np.array_equal(part, full[:, :8, :16])
    # cropping again to the same size changes nothing; back to the full size removes the window
    assert hevc.crop_to(cropped, 16, 8) == cropped
    assert hevc.sequence_info(hevc.crop_to(cropped, 32, 16)).window == (0, 0, 0, 0)
    assert hevc.sequence_info(hevc.crop_to(cropped, 24, 16)).window == (0, 8, 0, 0)
    with pytest.raises(CodecError, match="cannot crop"):
        hevc.crop_to(stream_10bit, 40, 16)


def _nal(kind: int, payload: bytes) -> bytes:
    return bytes([kind << 1, 1]) + payload


def test_repeated_parameter_sets_are_dropped():
    vps, sps, pps = _nal(32, b"\x11\x80"), _nal(33, b"\x22\x80"), _nal(34, b"\x33\x80")
    sps2 = _nal(33, b"\x44\x80")
    slice_a, slice_b, slice_c = _nal(19, b"\xaa\x80"), _nal(19, b"\xbb\x80"), _nal(1, b"\xcc\x80")
    sc4, sc3 = b"\x00\x00\x00\x01", b"\x00\x00\x01"
    # fmt: off
    stream = (
        sc4 + vps + sc4 + sps + sc4 + pps + sc3 + slice_a
        + sc4 + vps + sc4 + sps + sc4 + pps + sc3 + slice_b
        + sc4 + sps2 + sc3 + slice_c
    )
    # fmt: on
    out = hevc.drop_repeated_parameter_sets(stream)
    # fmt: off
    assert out == (
        sc4 + vps + sc4 + sps + sc4 + pps + sc3 + slice_a
        + sc4 + slice_b  # keeps a zero_byte: it now starts its access unit
        + sc4 + sps2 + sc3 + slice_c  # a different SPS is kept
    )
    # fmt: on
    assert hevc.drop_repeated_parameter_sets(out) == out


@pytest.mark.parametrize(
    "data, match",
    [
        (b"", "start code"),
        (b"\x01\x02\x00\x00\x01\x40\x01", "start code"),
        (b"\x00\x00\x01\x40", "truncated NAL"),
        (b"\x00\x00\x01\x40\x01\x00\x00\x01", "truncated NAL"),
    ],
)
def test_malformed_byte_streams(data, match):
    with pytest.raises(CodecError, match=match):
        hevc.nal_units(data)


def test_sps_problems_are_errors(stream_10bit):
    units = hevc.nal_units(stream_10bit)
    sps = next((s, e) for s, e in units if hevc.nal_type(stream_10bit, s) == hevc.NAL_SPS)
    no_sps = b"".join(b"\x00\x00\x01" + stream_10bit[s:e] for s, e in units if (s, e) != sps)
    with pytest.raises(CodecError, match="no sequence parameter set"):
        hevc.sequence_info(no_sps)
    truncated = b"\x00\x00\x01" + stream_10bit[sps[0] : sps[0] + 8]
    with pytest.raises(CodecError, match="truncated"):
        hevc.sequence_info(truncated)
    other = hevc.crop_to(stream_10bit, 16, 16)
    start, end = next((s, e) for s, e in hevc.nal_units(other) if hevc.nal_type(other, s) == hevc.NAL_SPS)
    mixed = stream_10bit + b"\x00\x00\x01" + other[start:end]
    with pytest.raises(CodecError, match="changes format"):
        hevc.sequence_info(mixed)
    zeros = b"\x00\x00\x01" + _nal(33, b"\x01" + b"\x00" * 20 + b"\x80")
    with pytest.raises(CodecError):
        hevc.sequence_info(zeros)


def test_exp_golomb_reader():
    bits = "".join(hevc._ue_bits(v) for v in (0, 1, 2, 7, 1000, 2**20))
    bits += "1" + "0" * (-(len(bits) + 1) % 8)
    reader = hevc.Bits(int(bits, 2).to_bytes(len(bits) // 8, "big"))
    assert [reader.ue() for _ in range(6)] == [0, 1, 2, 7, 1000, 2**20]
    too_long = hevc.Bits(b"\x00" * 5 + b"\x80")
    with pytest.raises(CodecError, match="longer than 32 bits"):
        too_long.ue()
