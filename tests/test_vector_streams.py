"""Feature vectors in .ftm streams: the QSCL, NORM and CABC boxes end to end."""

import numpy as np
import pytest

import ftm
from ftm import _core


def vectors(shape, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.laplace(size=shape) * rng.uniform(0.1, 2.0, size=shape[1])).astype(np.float32)


@pytest.mark.parametrize("normalization, extra", [("none", {}), ("l2", {}), ("scale", {"Scale": "4"})])
@pytest.mark.parametrize("reconstruction", ["floor", "midpoint"])
def test_round_trip(normalization, extra, reconstruction):
    x = vectors((30, 64), seed=len(normalization))
    keys = {"FeatureKind": "vector", "QP": "10", "Normalization": normalization, "Reconstruction": reconstruction, **extra}
    result = ftm.encode_tensors(x, keys)
    y = ftm.decode(result.data)  # checks the stream's MD5s of levels and vectors
    np.testing.assert_array_equal(y, result.reconstruction["features"])
    payload = ftm.encode_vectors(x, 10, normalization, 4.0 if extra else None, reconstruction == "midpoint")
    np.testing.assert_array_equal(y, ftm.decode_vectors(payload))
    record = _core.parse_stream(result.data).tensors[0]
    assert (record.norms is not None) == (normalization == "l2")
    assert record.scalar_quant.reconstruction == (reconstruction == "midpoint")
    report = result.tensors[0]
    assert report.kind == "vector" and report.num_frames == 0 and report.mse > 0


def test_rate_falls_and_error_grows_with_qp():
    x = vectors((200, 128), 3)
    sizes, errors = [], []
    for qp in (12, 22, 32, 42):
        r = ftm.encode_tensors(x, {"FeatureKind": "vector", "Normalization": "l2", "QP": str(qp)})
        sizes.append(len(r.data))
        errors.append(r.tensors[0].mse)
    assert sizes == sorted(sizes, reverse=True) and errors == sorted(errors)


@pytest.mark.parametrize("shape", [(0, 128), (5, 0), (0, 0), (1, 1)])
def test_empty_and_tiny_sets(shape):
    x = np.zeros(shape, np.float32)
    y = ftm.decode(ftm.encode(x, {"FeatureKind": "vector", "QP": "22"}))
    assert y.shape == shape and y.dtype == np.float32


def test_maps_and_vectors_are_checked():
    with pytest.raises(ValueError, match="feature vectors must be N x D"):
        ftm.encode(np.zeros((1, 2, 3, 4), np.float32), {"FeatureKind": "vector"})
    with pytest.raises(ValueError, match="must be finite"):
        ftm.encode(np.array([[1.0, np.inf]]), {"FeatureKind": "vector"})


def test_corrupt_levels_name_the_tensor():
    data = bytearray(ftm.encode(vectors((20, 32)), {"FeatureKind": "vector", "QP": "22"}))
    record_end = len(data) - 8  # the CABC payload sits before the hash box and the end box
    data[record_end - 60] ^= 0xFF
    with pytest.raises((ftm.BitstreamError, ftm.StreamVerificationError), match="features"):
        ftm.decode(bytes(data))


def test_decoding_time_is_bounded_by_the_declared_size():
    # A header claiming 2^31 elements with a tiny payload must be refused, not decoded.
    r = _core.TensorRecord()
    r.name, r.kind, r.dims = "v", _core.FeatureKind.VECTOR, [1 << 16, 1 << 15]
    q = _core.ScalarQuantBox()
    q.qp = 22
    r.scalar_quant, r.cabac = q, b"\x59\x0d" + bytes(10)
    s = _core.Stream()
    s.tensors = [r]
    with pytest.raises(ftm.errors.DecodeLimitError, match="max_elements"):  # the limits come first
        ftm.decode(_core.write_stream(s))
    with pytest.raises(ftm.BitstreamError, match="cannot hold"):
        ftm.decode(_core.write_stream(s), max_elements=None, max_memory=None)
