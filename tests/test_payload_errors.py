"""External decoders on hostile HEVC payloads (issue 17): a decoder that ran and failed raises
PayloadError (a CodecError and a BitstreamError), frame bombs are stopped at the first frame past
the declared ones, a decoder that hangs is stopped by the timeout (a plain CodecError)."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

import ftm
from ftm import _core
from ftm.codecs import video
from ftm.codecs.video import hm
from ftm.errors import BitstreamError, CodecError, PayloadError

HM_DIR = os.environ.get(hm.HM_DIR_ENV)


def test_payload_error_is_caught_as_every_parent():
    e = PayloadError("x")
    assert isinstance(e, CodecError) and isinstance(e, BitstreamError)
    assert isinstance(e, ValueError) and isinstance(e, RuntimeError) and isinstance(e, ftm.FtmError)


@pytest.fixture(scope="module")
def frames():
    rng = np.random.default_rng(7)
    return (rng.random((12, 64, 64)) * 255).astype(np.uint8)


@pytest.fixture(scope="module")
def coded(frames):
    return video.make_encoder("x265-ffmpeg", preset="ultrafast").encode(frames, bits=8, qp=22).bitstream


def map_record(bitstream: bytes, n: int) -> bytes:
    """A stream declaring n frames of 64 x 64 (channel packing, N x 1 x 64 x 64)."""
    r = _core.TensorRecord()
    r.name, r.kind, r.dims = "m", _core.FeatureKind.MAP, [n, 1, 64, 64]
    q = _core.LogQuantBox()
    q.bit_depth, q.max_log = 8, 4.0
    r.log_quant = q
    r.pack = _core.PackBox()
    h = _core.HevcBox()
    h.coded_bit_depth, h.qp, h.encoder_id, h.payload = 8, 22, 0, bitstream
    r.hevc = h
    s = _core.Stream()
    s.tensors = [r]
    return _core.write_stream(s)


def decoders():
    names = ["ffmpeg", "libde265"]
    return names + (["hm"] if HM_DIR else [])


@pytest.mark.parametrize("decoder", decoders())
def test_more_frames_than_declared_is_a_payload_error(coded, decoder):
    with pytest.raises(PayloadError, match="more than"):
        ftm.decode(map_record(coded, 2), decoder=decoder, hm_dir=HM_DIR)
    assert ftm.decode(map_record(coded, 12), decoder=decoder, hm_dir=HM_DIR).shape == (12, 1, 64, 64)


@pytest.mark.parametrize("decoder", decoders())
def test_fewer_frames_than_declared_is_a_payload_error(coded, decoder):
    with pytest.raises(PayloadError, match="expected"):
        ftm.decode(map_record(coded, 13), decoder=decoder, hm_dir=HM_DIR)


@pytest.fixture(scope="module")
def hashed(frames):
    # with MD5 picture hashes: corrupted CABAC data often still parses, the hash tells
    return video.make_encoder("x265-ffmpeg", preset="ultrafast", picture_hash=True).encode(frames, bits=8, qp=22).bitstream


def corrupted(bitstream: bytes) -> bytes:
    data = bytearray(bitstream)
    for i in range(len(data) // 2, len(data) // 2 + 40):  # slice data of a middle picture
        data[i] ^= 0x5A
    return bytes(data)


@pytest.mark.parametrize("decoder", decoders()[1:])
def test_a_corrupted_slice_is_a_payload_error(hashed, decoder):
    # HM aborts (SIGABRT) or fails the hash, dec265 conceals and warns. (ffmpeg 7 decodes this
    # one without a word: its refusals are covered by conformance/malformed/hevc_payload_zeroed.)
    with pytest.raises(PayloadError) as info:
        ftm.decode(map_record(corrupted(hashed), 12), decoder=decoder, hm_dir=HM_DIR, verify=False)
    assert isinstance(info.value, ValueError) and info.value.command


def test_a_decoder_that_hangs_is_stopped_by_the_timeout(coded, tmp_path):
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    decoder = video.make_decoder("ffmpeg", ffmpeg=str(fake), timeout=0.5)
    with pytest.raises(CodecError, match="did not finish within 0.5 s.*--timeout 0") as info:
        decoder.decode(coded, 12, 64, 64, 8)
    assert not isinstance(info.value, PayloadError)
