""".ftm streams with VVC and AVS2 payloads (the VIDC box), inter coding and encoder-chosen channel orders.

Every stream is decoded again from its bytes and checked against the
checksums of its hash box (``ftm.decode_all`` verifies them).
"""

from __future__ import annotations

import numpy as np
import pytest

import ftm
from ftm._core import bitstream as container
from ftm.codecs.channel_order import channel_distances, similarity_order
from ftm.data import default_features
from ftm.errors import ConfigError

from test_codecs_vvc_avs2 import needs_vtm

ODD_SHAPES = [(1, 3, 5, 7), (2, 17, 9, 33)]

MODES = [
    pytest.param({"Encoder": "vvenc", "Preset": "faster"}, (8, 10), id="vvenc"),
    pytest.param({"Encoder": "vvenc", "Preset": "faster", "IntraPeriod": "4", "InterCoding": "lowdelay"}, (8, 10), id="vvenc-ld"),
    pytest.param({"Encoder": "vvenc", "Preset": "faster", "IntraPeriod": "32", "ChannelOrder": "similarity"}, (8, 10), id="vvenc-ra-reordered"),
    pytest.param({"Encoder": "vvenc", "Preset": "faster", "Packing": "tiled"}, (8, 10), id="vvenc-tiled"),
    pytest.param({"Encoder": "xavs2"}, (8,), id="xavs2"),
    pytest.param({"Encoder": "xavs2", "IntraPeriod": "16", "Packing": "tiled"}, (8,), id="xavs2-ra-tiled"),
    pytest.param({"Encoder": "xavs2", "IntraPeriod": "3", "InterCoding": "lowdelay", "ChannelOrder": "similarity"}, (8,), id="xavs2-ld-reordered"),
    pytest.param({"Encoder": "x265-ffmpeg", "IntraPeriod": "8", "InterCoding": "lowdelay"}, (8, 10), id="x265-ld"),
    pytest.param({"Encoder": "x265-ffmpeg", "IntraPeriod": "8", "ChannelOrder": "similarity"}, (8, 10), id="x265-ra-reordered"),
    pytest.param({"Encoder": "vtm"}, (8, 10), id="vtm", marks=needs_vtm),
]


def relu(shape, seed):
    rng = np.random.default_rng(seed)
    return (rng.gamma(1.5, 1.0, size=shape) * (rng.random(shape) > 0.4)).astype(np.float32)


def round_trip(tensors, keys):
    result = ftm.encode_tensors(tensors, keys, progress=False)
    decoded = ftm.decode_all(result.data)  # checks every tensor against its hash box
    for name, x in tensors.items():
        assert decoded[name].shape == x.shape
        np.testing.assert_array_equal(decoded[name], result.reconstruction[name])
    return result


@pytest.mark.parametrize("keys, depths", MODES)
def test_round_trip_on_the_bundled_input_and_odd_shapes(keys, depths):
    for bits in depths:
        tensors = {"bundled": default_features(), **{f"odd{i}": relu(s, i) for i, s in enumerate(ODD_SHAPES)}}
        result = round_trip(tensors, {**keys, "BitDepth": str(bits), "QP": "27"})
        stream = container.parse_stream(result.data)
        for record, report in zip(stream.tensors, result.tensors):
            if keys["Encoder"].startswith("x265"):
                assert record.hevc is not None and record.video is None
            else:
                box = record.video
                assert record.hevc is None and box.codec_id == {"vvenc": 1, "vtm": 1, "xavs2": 2}[keys["Encoder"]]
                assert box.chroma_format_idc == (1 if keys["Encoder"] == "xavs2" else 0)
                assert (box.coded_bit_depth, box.qp) == (bits, 27)
            assert report.frames_psnr > 25, (record.name, report.frames_psnr)  # garbage decodes near 10 dB


def test_qp_offset_is_the_coded_qp():
    result = round_trip({"x": relu((1, 4, 8, 8), 3)}, {"Encoder": "vvenc", "Preset": "faster", "BitDepth": "10", "QP": "30", "QPOffset": "-12"})
    assert container.parse_stream(result.data).tensors[0].video.qp == 18
    result = round_trip({"x": relu((1, 4, 8, 8), 3)}, {"BitDepth": "10", "QP": "30", "QPOffset": "-12"})
    assert container.parse_stream(result.data).tensors[0].hevc.qp == 18


# ---------------------------------------------------------------- channel reordering


def test_similarity_order_follows_nearest_neighbours():
    # channels are a ramp at levels 0, 9, 1, 8, 2: the nearest-neighbour path from the outlier walks the levels
    levels = [0, 9, 1, 8, 2]
    codes = np.stack([np.full((4, 4), 10 * v) for v in levels])[None].astype(np.uint8)
    order = similarity_order(codes)
    assert [levels[k] for k in order] == [9, 8, 2, 1, 0]
    d = channel_distances(codes)
    assert d.shape == (5, 5) and np.allclose(np.diag(d), 0) and d[0, 1] == 8100
    assert similarity_order(np.stack([np.full((2, 2), 10 * v) for v in range(5)])[None]) is None  # already in order


def test_a_chosen_order_is_carried_and_undone_exactly():
    x = relu((2, 9, 6, 10), 11)
    x[:, 4] = x[:, 0] * 1.01  # a near copy: the order puts them side by side
    chosen = round_trip({"x": x}, {"ChannelOrder": "similarity", "IntraPeriod": "9", "QP": "22"})
    record = container.parse_stream(chosen.data).tensors[0]
    order = list(record.pack.permutation)
    assert sorted(order) == list(range(9)) and order != list(range(9))
    assert abs(order.index(0) - order.index(4)) == 1
    # the same order given by hand writes the same payload: a decoder needs nothing new
    by_hand = ftm.encode_tensors({"x": x}, {"ChannelOrder": ",".join(map(str, order)), "IntraPeriod": "9", "QP": "22"}, progress=False)
    assert container.parse_stream(by_hand.data).tensors[0].hevc.payload == record.hevc.payload
    np.testing.assert_array_equal(ftm.decode(chosen.data), ftm.decode(by_hand.data))
    # undone exactly: lossless coding gives back the tensor's own codes in the tensor's own channel order
    lossless = {"ChannelOrder": "similarity", "QP": "0", "Quantizer": "minmax", "MinMaxRange": "channel"}
    plain = ftm.encode_tensors({"x": x}, {**lossless, "ChannelOrder": ""}, progress=False)
    np.testing.assert_array_equal(ftm.decode(ftm.encode({"x": x}, lossless)), ftm.decode(plain.data))


def test_each_tensor_gets_its_own_order():
    a, b = relu((1, 6, 4, 4), 1), relu((1, 6, 4, 4), 2)
    stream = container.parse_stream(ftm.encode({"a": a, "b": b}, {"ChannelOrder": "similarity"}))
    orders = [list(r.pack.permutation) for r in stream.tensors]
    assert orders[0] != orders[1]


# ---------------------------------------------------------------- unsupported combinations


@pytest.mark.parametrize("keys, match", [
    ({"Encoder": "xavs2", "BitDepth": "10"}, "Encoder : xavs2 codes samples of at most 8 bits .*BitDepth is 10"),
    ({"Encoder": "vvenc", "BitDepth": "12"}, "Encoder : vvenc codes samples of at most 10 bits"),
    ({"Encoder": "vvenc", "Decoder": "hm"}, r"Decoder : hm decodes HEVC \(H.265\); Encoder : vvenc writes VVC \(H.266\) \(decoders for it: ffmpeg, vtm\)"),
    ({"Encoder": "xavs2", "Decoder": "vtm"}, "Decoder : vtm decodes VVC .*writes AVS2 .*decoders for it: ffmpeg"),
    ({"Encoder": "vtm", "IntraPeriod": "8"}, "Encoder : vtm offers InterCoding none: it codes all-intra only"),
    ({"Encoder": "hm", "IntraPeriod": "8"}, "Encoder : hm offers InterCoding none"),
    ({"Encoder": "vvenc", "QP": "12", "QPOffset": "-13"}, r"QP 12 \+ QPOffset -13 is outside \[0, 63\], vvenc's range at BitDepth 8"),
    ({"Encoder": "xavs2", "QP": "0"}, r"QP 0 is outside \[1, 63\]"),
    ({"QP": "51", "QPOffset": "1"}, r"QP 51 \+ QPOffset 1 is outside \[0, 51\], HEVC's range"),
    ({"Encoder": "vvenc", "HmPictureHash": "0"}, "HmPictureHash applies to Encoder : hm"),
    ({"Encoder": "x265-ffmpeg", "VtmDir": "/opt/vtm"}, "VtmDir applies to Encoder : vtm or Decoder : vtm"),
    ({"ChannelOrder": "closest"}, "ChannelOrder"),
    ({"InterCoding": "hierarchical"}, "InterCoding"),
])  # fmt: skip
def test_unsupported_combinations_are_named(keys, match):
    with pytest.raises(ConfigError, match=match):
        ftm.Config.from_values(keys)


def test_a_decoder_that_does_not_decode_the_payload_says_so(monkeypatch):
    data = ftm.encode({"x": relu((1, 2, 8, 8), 1)}, {"Encoder": "xavs2"})
    from ftm.codecs.video import DECODERS, Dec265Decoder

    monkeypatch.setattr(Dec265Decoder, "__init__", lambda self, **_: None)  # no dec265 needed to refuse
    monkeypatch.setitem(DECODERS, "libde265", Dec265Decoder)
    with pytest.raises(ftm.errors.CodecError, match="the libde265 decoder decodes HEVC .*this one is AVS2"):
        ftm.decode(data, decoder="libde265")
