"""Image records (SPEC.md 3.16): seed 003's texture in the .ftm stream, grey (4:0:0) and colour (4:2:0)."""

from __future__ import annotations

import numpy as np
import pytest

from ftm._core import bitstream as container
from ftm.codecs.video.colour import rgb_to_ycbcr420, ycbcr420_to_rgb
from ftm.errors import ConfigError, DecodeLimitError, InputError, PayloadError, StreamVerificationError
from ftm.stream.coding import decode_all, encode_tensors, join_streams
from ftm.stream.config import Config


def _photo_rgb(h: int, w: int) -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(np.moveaxis(data.astronaut()[100 : 100 + h, 150 : 150 + w], 2, 0)[None])


def _image_keys(qp: int = 32) -> dict:
    return {"FeatureKind": "image", "QP": str(qp)}


@pytest.mark.parametrize("shape", [(3, 1, 28, 28), (1, 1, 5, 7)])
def test_grey_images_round_trip_through_the_stream(shape):
    rng = np.random.default_rng(1)
    x = np.clip(rng.normal(128, 40, shape), 0, 255).astype(np.uint8)
    coded = encode_tensors({"image": x}, _image_keys(), progress=False)
    record = container.parse_stream(coded.data).tensors[0]
    assert record.kind == container.FeatureKind.IMAGE and record.source_dtype == container.SourceDtype.UINT8
    assert list(record.dims) == list(shape) and record.texture.colour_transform == 0 and record.texture.qp == 32
    decoded = decode_all(coded.data)["image"]
    assert decoded.dtype == np.uint8 and decoded.shape == shape
    np.testing.assert_array_equal(decoded, coded.reconstruction["image"])
    report = coded.tensors[0]
    assert report.original_bytes == x.size and report.frame_shape == tuple(-(-s // 8) * 8 for s in shape[2:])
    assert report.mse == pytest.approx(np.mean((decoded.astype(float) - x) ** 2))


@pytest.mark.parametrize("size", [(57, 45), (5, 7)])
def test_colour_images_round_trip_as_420_pictures(size):
    x = _photo_rgb(*size)
    lossless = encode_tensors({"face": x}, _image_keys(0), progress=False)
    coarse = encode_tensors({"face": x}, _image_keys(42), progress=False)
    assert container.parse_stream(lossless.data).tensors[0].texture.colour_transform == 1
    for coded in (lossless, coarse):
        decoded = decode_all(coded.data)["face"]
        assert decoded.shape == x.shape and decoded.dtype == np.uint8
        np.testing.assert_array_equal(decoded, coded.reconstruction["face"])
    # QP 0 loses what 4:2:0 loses and little more; QP 42 much more, in fewer bytes
    y, c = rgb_to_ycbcr420(np.pad(x, ((0, 0), (0, 0), (0, size[0] % 2), (0, size[1] % 2)), mode="edge"))
    subsampled = np.mean((ycbcr420_to_rgb(y, c)[:, :, : size[0], : size[1]].astype(float) - x) ** 2)
    assert lossless.tensors[0].mse < subsampled + 3.0
    assert coarse.tensors[0].mse > lossless.tensors[0].mse and len(coarse.data) < len(lossless.data)


def test_the_inverse_colour_transform_is_the_spec_formula():
    rng = np.random.default_rng(2)
    luma = rng.integers(0, 256, (2, 6, 8), dtype=np.uint8)
    chroma = rng.integers(0, 256, (2, 2, 3, 4), dtype=np.uint8)
    rgb = ycbcr420_to_rgb(luma, chroma)
    for n, yy, xx in [(0, 0, 0), (1, 5, 7), (0, 3, 2), (1, 4, 1)]:  # SPEC.md 3.16 transcribed, one sample at a time
        y = int(luma[n, yy, xx])
        db, dr = int(chroma[n, 0, yy >> 1, xx >> 1]) - 128, int(chroma[n, 1, yy >> 1, xx >> 1]) - 128
        want = [(y * 65536 + 91881 * dr + 32768) >> 16, (y * 65536 - 22554 * db - 46802 * dr + 32768) >> 16,
                (y * 65536 + 116130 * db + 32768) >> 16]  # fmt: skip
        assert list(rgb[n, :, yy, xx]) == [min(255, max(0, v)) for v in want]
    grey = np.repeat(rng.integers(0, 256, (1, 1, 4, 4), dtype=np.uint8), 3, axis=1)  # R = G = B: no chroma, exact
    y, c = rgb_to_ycbcr420(grey)
    assert np.all(c == 128)
    np.testing.assert_array_equal(ycbcr420_to_rgb(y, c), grey)


def test_an_image_and_its_feature_travel_in_one_stream():
    x = _photo_rgb(32, 24)
    feature = np.random.default_rng(3).standard_normal((1, 64)).astype(np.float32)
    texture = encode_tensors({"image": x}, _image_keys(37), progress=False)
    vector = encode_tensors(feature, {"FeatureKind": "vector", "QP": "22"}, progress=False)
    pair = join_streams([texture.data, vector.data])
    assert len(pair) == len(texture.data) + len(vector.data) - 16  # one stream header and end box
    decoded = decode_all(pair)
    np.testing.assert_array_equal(decoded["image"], texture.reconstruction["image"])
    np.testing.assert_array_equal(decoded["features"], vector.reconstruction["features"])
    with pytest.raises(Exception, match="unique|twice|name"):
        join_streams([vector.data, vector.data])


def test_bad_images_and_settings_get_one_line_before_any_coding():
    grey = np.zeros((1, 1, 8, 8), np.uint8)
    with pytest.raises(InputError, match="expected uint8, got dtype float32"):
        encode_tensors(grey.astype(np.float32), _image_keys(), progress=False)
    with pytest.raises(InputError, match="C = 1 .grey. or 3"):
        encode_tensors(np.zeros((1, 2, 8, 8), np.uint8), _image_keys(), progress=False)
    with pytest.raises(InputError, match="images must be N x C x H x W"):
        encode_tensors(np.zeros((8, 8), np.uint8), _image_keys(), progress=False)
    with pytest.raises(ConfigError, match=r"QP 52 is outside \[0, 51\]"):
        Config.from_values(_image_keys(52))
    with pytest.raises(ConfigError, match="codes HEVC"):
        Config.from_values({**_image_keys(), "Encoder": "vvenc"})
    with pytest.raises(ConfigError, match="BitDepth applies to"):
        Config.from_values({**_image_keys(), "BitDepth": "10"})


def test_a_damaged_or_oversized_image_record_is_refused():
    x = _photo_rgb(16, 16)
    data = bytearray(encode_tensors({"image": x}, _image_keys(), progress=False).data)
    stream = container.parse_stream(bytes(data))
    record, box = stream.tensors[0], stream.tensors[0].texture  # copies: set back below
    payload = bytearray(box.payload)
    payload[-10] ^= 0x55  # a flipped byte in the slice data (the parameter sets come first)
    box.payload = bytes(payload)
    record.texture = box
    stream.tensors = [record]
    damaged = container.write_stream(stream)
    with pytest.raises((PayloadError, StreamVerificationError)):
        decode_all(damaged)
    with pytest.raises(DecodeLimitError):
        decode_all(bytes(data), max_elements=100)


@pytest.mark.parametrize("colour", [False, True])
def test_hm_codes_and_decodes_grey_and_colour_images(colour):
    import os

    if not os.environ.get("FTM_HM_DIR"):
        pytest.skip("HM is not built here: set FTM_HM_DIR to a folder holding TAppEncoder and TAppDecoder")
    x = _photo_rgb(20, 12) if colour else _photo_rgb(20, 12)[:, :1]
    keys = {**_image_keys(32), "Encoder": "hm", "Decoder": "hm"}
    coded = encode_tensors({"image": x}, keys, progress=False)
    record = container.parse_stream(coded.data).tensors[0]
    assert record.texture.encoder_id == 2 and record.texture.colour_transform == int(colour)
    for decoder in ("hm", "ffmpeg"):  # HM's stream decodes to the same samples with either decoder
        np.testing.assert_array_equal(decode_all(coded.data, decoder=decoder)["image"], coded.reconstruction["image"])
    assert coded.tensors[0].mse < 200


def test_ftm_encode_and_decode_take_uint8_images(tmp_path, capsys):
    from ftm.cli import decode as decode_cli
    from ftm.cli import encode as encode_cli
    from ftm.cli._tool import run_tool

    x = _photo_rgb(24, 20)
    np.save(tmp_path / "images.npy", x)
    stream, decoded = tmp_path / "images.ftm", tmp_path / "decoded.npy"
    assert run_tool("ftm-encode", encode_cli.main, ["--FeatureKind=image", "--QP=27", "-i", str(tmp_path / "images.npy"),
                                                    "-b", str(stream)]) == 0  # fmt: skip
    assert run_tool("ftm-decode", decode_cli.main, ["-b", str(stream), "-o", str(decoded)]) == 0
    out = np.load(decoded)
    assert out.dtype == np.uint8 and out.shape == x.shape and np.mean((out.astype(float) - x) ** 2) < 100
    assert run_tool("ftm-encode", encode_cli.main, ["-i", str(tmp_path / "images.npy"), "-b", str(tmp_path / "m.ftm")]) == 1
    assert "expected float16/32/64, got dtype uint8" in capsys.readouterr().err  # a feature-map run refuses images
