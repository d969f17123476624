"""Feature maps through real HEVC encoders, end to end."""

import os

import numpy as np
import pytest

import ftm
from ftm import _core
from ftm.errors import CodecError
from ftm.codecs.video.libde265 import find_dec265
from ftm.codecs.video_maps import layout_of, quant_params_of
from ftm.stream.records import md5
from ftm.codecs.options import DecodeOptions
from ftm.stream.coding import RecordDecoder

HM_DIR = os.environ.get("FTM_HM_DIR")


def features(shape, seed=0, signed=False):
    rng = np.random.default_rng(seed)
    x = rng.gamma(1.5, 1.0, size=shape) * (rng.random(shape) > 0.3)
    return (x - 0.8 if signed else x).astype(np.float32)


SHAPES = [(1, 1, 1, 1), (1, 1, 9, 13), (3, 5, 7, 9), (2, 4, 8, 8), (1, 3, 1, 20)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("packing", ["channel", "tiled"])
def test_round_trip_odd_shapes(shape, packing):
    x = features(shape, seed=sum(shape))
    result = ftm.encode_tensors(x, {"QP": "12", "Packing": packing})
    y = ftm.decode(result.data)
    assert y.shape == x.shape and y.dtype == np.float32
    np.testing.assert_array_equal(y, result.reconstruction["features"])
    report = result.tensors[0]
    assert report.mse == pytest.approx(float(np.mean((y.astype(np.float64) - x) ** 2)))
    # At QP 12 the codes barely move: the error stays within a few quantization steps.
    _, params = ftm.quantize(x)
    step = 2 ** (params.max_log / 255) - 1
    assert np.abs(y - x).max() <= 8 * step * (x.max() - params.offset + 1)


@pytest.mark.parametrize("bits", [8, 9, 10, 11, 12])
@pytest.mark.parametrize("quantizer", ["log", "minmax"])
def test_every_bit_depth_x265_can_code(bits, quantizer):
    x = features((2, 3, 6, 10), seed=bits, signed=quantizer == "minmax")
    data = ftm.encode(x, {"QP": "22", "BitDepth": str(bits), "Quantizer": quantizer})
    record = _core.parse_stream(data).tensors[0]
    assert record.hevc.coded_bit_depth == {8: 8, 9: 10, 10: 10, 11: 12, 12: 12}[bits]
    y = ftm.decode(data)  # verifies the stream's MD5s
    errors = [np.abs(ftm.decode(ftm.encode(x, {"QP": str(qp), "BitDepth": str(bits), "Quantizer": quantizer})) - x).mean() for qp in (0, 42)]
    assert errors[0] < errors[1]
    assert y.shape == x.shape


@pytest.mark.parametrize("bits", [13, 16])
def test_depths_beyond_x265_are_named(bits):
    with pytest.raises(CodecError, match=str(bits)):
        ftm.encode(features((1, 2, 8, 8)), {"BitDepth": str(bits), "QP": "22"})


def test_several_named_tensors_in_one_stream():
    tensors = {"a": features((1, 4, 5, 5), 1), "b": features((3, 2, 9, 3), 2)}
    result = ftm.encode_tensors(tensors, {"QP": "22"}, progress=False)
    back = ftm.decode_all(result.data)
    assert list(back) == ["a", "b"]
    for k in tensors:
        np.testing.assert_array_equal(back[k], result.reconstruction[k])
    assert result.compression_rate == len(result.data) / sum(v.size * 4 for v in tensors.values())
    with pytest.raises(ValueError, match="holds 2 tensors"):
        ftm.decode(result.data)


def test_permutation_and_float_dtypes():
    for dtype in (np.float16, np.float64):
        x = features((1, 4, 6, 6), 3).astype(dtype)
        data = ftm.encode(x, {"QP": "22", "ChannelOrder": "3,1,0,2"})
        record = _core.parse_stream(data).tensors[0]
        assert list(record.pack.permutation) == [3, 1, 0, 2]
        assert record.source_dtype == {np.float16: _core.SourceDtype.FLOAT16, np.float64: _core.SourceDtype.FLOAT64}[dtype]
        assert ftm.decode(data).dtype == np.float32


def has_dec265():
    try:
        find_dec265()
    except CodecError:
        return False
    return True


@pytest.mark.skipif(not has_dec265(), reason="dec265 (Debian libde265-examples) is not installed")
@pytest.mark.parametrize("bits, packing", [(8, "channel"), (10, "tiled"), (12, "channel")])
def test_independent_decoder_gives_the_same_features(bits, packing):
    x = features((2, 5, 7, 11), seed=bits)
    data = ftm.encode(x, {"QP": "27", "BitDepth": str(bits), "Packing": packing})
    record = _core.parse_stream(data).tensors[0]
    ours = RecordDecoder(DecodeOptions(decoder="ffmpeg")).decode(record).codes
    theirs = RecordDecoder(DecodeOptions(decoder="libde265")).decode(record).codes
    np.testing.assert_array_equal(ours, theirs)
    assert md5(theirs) == record.hash.codes_md5


@pytest.mark.skipif(not HM_DIR, reason="HM is not built here: set FTM_HM_DIR to a folder holding TAppEncoder and TAppDecoder")
def test_hm_encoder_and_decoder_end_to_end():
    x = features((1, 6, 7, 9), 4)
    data = ftm.encode(x, {"QP": "22", "Encoder": "hm", "Decoder": "hm", "HmDir": HM_DIR})
    record = _core.parse_stream(data).tensors[0]
    assert record.hevc.encoder_id == 2
    np.testing.assert_array_equal(ftm.decode(data, decoder="hm", hm_dir=HM_DIR), ftm.decode(data))


def test_missing_hm_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("FTM_HM_DIR", raising=False)
    with pytest.raises(CodecError, match="FTM_HM_DIR|HmDir|hm_dir"):
        ftm.encode(features((1, 1, 8, 8)), {"Encoder": "hm"})
    with pytest.raises(CodecError, match="TAppEncoder"):
        ftm.encode(features((1, 1, 8, 8)), {"Encoder": "hm", "HmDir": str(tmp_path)})


def test_hm_settings_it_cannot_honour():
    with pytest.raises(ftm.ConfigError, match="all-intra only"):
        ftm.encode(features((1, 1, 8, 8)), {"Encoder": "hm", "IntraPeriod": "8"})


def test_layout_and_params_come_back_from_the_record():
    x = features((2, 6, 5, 5), 5, signed=True)
    data = ftm.encode(x, {"QP": "22", "Quantizer": "minmax", "MinMaxRange": "channel", "Packing": "tiled", "TileGrid": "2x3"})
    record = _core.parse_stream(data).tensors[0]
    layout, params = layout_of(record), quant_params_of(record)
    assert layout.grid == (2, 3) and layout.num_frames == 2
    assert params.channel_axis == 1 and len(params.lo) == 6
    np.testing.assert_array_equal(params.lo, x.min(axis=(0, 2, 3)))


@pytest.fixture(scope="module")
def stream():
    return ftm.encode(features((2, 3, 8, 8), 9), {"QP": "22"})


def test_truncated_streams_are_rejected(stream):
    for cut in range(0, len(stream), max(1, len(stream) // 60)):
        with pytest.raises(ftm.BitstreamError):
            ftm.decode(stream[:cut])


def test_bit_flips_are_rejected_or_caught_by_the_checksums(stream):
    rng = np.random.default_rng(0)
    outcomes = {"rejected": 0, "same": 0}
    reference = ftm.decode(stream)
    for _ in range(80):
        data = bytearray(stream)
        i = int(rng.integers(0, len(data)))
        data[i] ^= 1 << int(rng.integers(0, 8))
        try:
            y = ftm.decode(bytes(data))
        except (ftm.BitstreamError, CodecError, ftm.StreamVerificationError):
            outcomes["rejected"] += 1
            continue
        # Only flips that change nothing decoded (the info text, say) get through.
        np.testing.assert_array_equal(y, reference)
        outcomes["same"] += 1
    assert outcomes["rejected"] > 40


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="N x C x H x W"):
        ftm.encode(np.zeros((3, 4, 5), np.float32))
    with pytest.raises(ValueError, match="non-finite value"):
        ftm.encode(np.full((1, 1, 4, 4), np.nan, np.float32))
    with pytest.raises(ValueError, match="ChannelOrder lists 2 channels"):
        ftm.encode(features((1, 3, 4, 4)), {"ChannelOrder": "1,0"})
    with pytest.raises(ftm.ConfigError, match="unknown key 'Qp'"):
        ftm.encode(features((1, 3, 4, 4)), {"Qp": "22"})


def test_progress_within_a_tensor_counts_its_frames():
    from ftm.codecs.video_maps import MapCodec
    from ftm.stream.records import new_record

    x = features((1, 300, 8, 8), 3)
    codec = MapCodec.for_encoding(ftm.Config(qp=32))
    seen = []
    codec.encode(x, new_record(x, "t", codec.kind), lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (300, 300) and {t for _, t in seen} == {300}
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
