"""ftm.encode_vectors / ftm.decode_vectors: the vector codec below the container."""

import dataclasses
import doctest

import numpy as np
import pytest

import ftm
import ftm.codecs.sq_vectors


def test_docstring_examples_run():
    assert doctest.testmod(ftm.codecs.sq_vectors, raise_on_error=False).failed == 0


@pytest.fixture
def x():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((200, 128)) * np.geomspace(0.01, 1, 128)).astype(np.float32)


@pytest.mark.parametrize("qp", [-48, 4, 22, 42, 63])
def test_none_is_the_scalar_quantizer(x, qp):
    p = ftm.encode_vectors(x, qp)
    assert (p.n, p.d, p.qp, p.normalization, p.norms, p.scale) == (200, 128, qp, "none", None, None)
    levels = ftm.decode_levels(p.levels, 200, 128)
    np.testing.assert_array_equal(levels, ftm.sq_quantize(x, qp))
    np.testing.assert_array_equal(ftm.decode_vectors(p), ftm.sq_dequantize(levels, qp))


@pytest.mark.parametrize("midpoint", [False, True])
@pytest.mark.parametrize("normalization", ["none", "l2", "scale"])
def test_error_is_within_a_step(x, normalization, midpoint):
    qp = 22
    p = ftm.encode_vectors(x, qp, normalization, midpoint=midpoint)
    err = x.astype(np.float64) - ftm.decode_vectors(p)
    unit = {"none": 1.0, "l2": p.norms[:, None] if p.norms is not None else 1.0, "scale": 1 / (p.scale or 1)}[
        normalization
    ]
    step = ftm.qstep(qp) * np.asarray(unit, np.float64)
    slack = 1e-6 * np.abs(x) + 1e-9
    if midpoint:  # floor's cell is [l, l + 1) steps: its centre is within half a step
        assert np.all(np.abs(err) <= step / 2 + slack)
    else:  # l * Qstep is the cell's lower end
        assert np.all(err >= -slack) and np.all(err < step + slack)
    assert p.midpoint is midpoint


def test_l2_sends_float32_norms_and_keeps_zero_vectors(x):
    x = x.copy()
    x[5] = 0
    p = ftm.encode_vectors(x, 32, "l2")
    assert p.norms.dtype == np.float32 and p.norms.shape == (200,)
    np.testing.assert_array_equal(p.norms, np.linalg.norm(x.astype(np.float64), axis=1).astype(np.float32))
    assert p.norms[5] == 0 and np.all(ftm.decode_vectors(p)[5] == 0)
    assert not p.norms.flags.writeable


def test_scale_multiplies_and_defaults_to_the_inverse_peak(x):
    p = ftm.encode_vectors(x, 22, "scale")
    assert p.scale == float(np.float32(1 / np.abs(x.astype(np.float64)).max()))
    assert np.abs(ftm.decode_levels(p.levels, 200, 128)).max() <= 1 / ftm.qstep(22)  # c in [-1, 1]
    q = ftm.encode_vectors(x, 22, "scale", scale=2.0)
    assert q.scale == 2.0
    levels = ftm.decode_levels(q.levels, 200, 128)
    np.testing.assert_array_equal(levels, ftm.sq_quantize(x.astype(np.float64) * 2.0, 22))
    np.testing.assert_array_equal(
        ftm.decode_vectors(q), (ftm.sq_dequantize(levels, 22).astype(np.float64) / 2.0).astype(np.float32)
    )
    assert ftm.encode_vectors(np.zeros((3, 4)), 22, "scale").scale == 1.0
    with pytest.raises(ValueError, match="overflows float32"):
        ftm.encode_vectors(np.full((1, 2), 1e-300), 22, "scale")


@pytest.mark.parametrize("shape", [(0, 16), (4, 0), (0, 0)])
def test_empty_shapes(shape):
    for normalization in ["none", "l2", "scale"]:
        p = ftm.encode_vectors(np.zeros(shape, np.float32), 22, normalization)
        assert len(p.levels) == 2  # the level payload's header alone
        assert p.norms is None or p.norms.shape == (shape[0],)
        out = ftm.decode_vectors(p)
        assert out.shape == shape and out.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_float_dtypes(dtype):
    x = np.linspace(-1, 1, 60, dtype=dtype).reshape(6, 10)
    out = ftm.decode_vectors(ftm.encode_vectors(x, 12))
    assert out.dtype == np.float32
    assert np.all(np.abs(out - x.astype(np.float64)) <= ftm.qstep(12))


def test_rejects_bad_input(x):
    with pytest.raises(TypeError, match="float"):
        ftm.encode_vectors(np.zeros((2, 2), np.int32), 22)
    with pytest.raises(ValueError, match="shape"):
        ftm.encode_vectors(np.zeros(4), 22)
    with pytest.raises(ValueError, match="finite"):
        ftm.encode_vectors(np.array([[np.nan]]), 22)
    with pytest.raises(ValueError, match="QP"):
        ftm.encode_vectors(x, 64)
    with pytest.raises(ValueError, match="normalization"):
        ftm.encode_vectors(x, 22, "l1")
    with pytest.raises(ValueError, match="scale applies"):
        ftm.encode_vectors(x, 22, "none", scale=1.0)
    for bad in [0.0, -1.0, float("inf"), float("nan"), 1e300]:
        with pytest.raises(ValueError, match="scale"):
            ftm.encode_vectors(x, 22, "scale", scale=bad)
    with pytest.raises(ValueError, match="int32"):
        ftm.encode_vectors(np.array([[1e30]]), 22)
    with pytest.raises(ValueError, match="overflows"):
        ftm.encode_vectors(np.full((1, 4), 3e38, np.float32), 22, "l2")


def test_payload_is_frozen_and_checked(x):
    p = ftm.encode_vectors(x, 22, "l2")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.qp = 30
    with pytest.raises(ValueError, match="norms"):
        ftm.VectorPayload(2, 2, 22, "none", False, b"\x59\x0d", norms=np.ones(2))
    with pytest.raises(ValueError, match="need 3 norms"):
        ftm.VectorPayload(3, 2, 22, "l2", False, b"\x59\x0d", norms=np.ones(2))
    with pytest.raises(ValueError, match="scale"):
        ftm.VectorPayload(2, 2, 22, "scale", False, b"\x59\x0d")
    with pytest.raises(ValueError, match="QP"):
        ftm.VectorPayload(2, 2, 64, "none", False, b"\x59\x0d")
    with pytest.raises(ValueError, match="finite"):
        ftm.VectorPayload(1, 2, 22, "l2", False, b"\x59\x0d", norms=[np.nan])


def test_corrupt_levels_raise(x):
    p = ftm.encode_vectors(x, 32)
    bad = ftm.VectorPayload(p.n, p.d, p.qp, p.normalization, p.midpoint, p.levels[:-1])
    with pytest.raises(ftm.BitstreamError):
        ftm.decode_vectors(bad)
