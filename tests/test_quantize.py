"""Quantizers against numpy transcriptions of the papers' formulas."""

import numpy as np
import pytest

import ftm


def relu_features(shape, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return np.maximum(rng.normal(0.0, 2.0, size=shape), 0).astype(dtype)


def eq5_numpy(x, bits):
    """Seed 002 eq. 5 with float32 side information, computed in float64."""
    x64 = x.astype(np.float64)
    m = np.float32(x64.min())  # exact for float16/float32 input
    level = np.log2(x64 - np.float64(m) + 1.0)
    big_m = np.float32(level.max())
    if np.float64(big_m) < level.max():  # FTM rounds M up to float32
        big_m = np.nextafter(big_m, np.float32(np.inf))
    q = np.rint(level / np.float64(big_m) * (2.0**bits - 1))
    return q, m, big_m


def eq6_numpy(q, m, big_m, bits):
    return 2.0 ** (q.astype(np.float64) * np.float64(big_m) / (2.0**bits - 1)) + np.float64(m) - 1.0


@pytest.mark.parametrize("bits", range(8, 17))
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_log_quantizer_matches_eq5_and_eq6(bits, dtype):
    x = relu_features((2, 6, 9, 11), seed=bits, dtype=dtype) - dtype(0.75)
    q, params = ftm.quantize(x, "log", bits)
    assert q.dtype == (np.uint8 if bits == 8 else np.uint16)
    assert q.shape == x.shape
    want, m, big_m = eq5_numpy(x, bits)
    if dtype != np.float64:
        assert params.offset == m
    assert params.max_log == pytest.approx(float(big_m), rel=1e-6)
    np.testing.assert_array_equal(q, want)
    back = ftm.dequantize(q, params)
    assert back.dtype == np.float32
    np.testing.assert_allclose(back, eq6_numpy(q, params.offset, params.max_log, bits), rtol=1e-6, atol=1e-6)


def test_log_quantizer_error_shrinks_with_bits():
    x = relu_features((1, 8, 16, 16))
    errors = [np.abs(ftm.dequantize(*ftm.quantize(x, bits=b)) - x).max() for b in (8, 10, 12, 16)]
    assert errors == sorted(errors, reverse=True)
    assert errors[-1] < 1e-3


def test_nonnegative_mode_is_the_authors_log2_x_plus_1():
    x = relu_features((1, 4, 5, 5), seed=3)
    q, params = ftm.quantize(x, "log", 8, nonnegative=True)
    assert params.offset == 0.0 and params.nonnegative
    level = np.log2(x.astype(np.float64) + 1)
    np.testing.assert_array_equal(q, np.rint(level / np.float64(params.max_log) * 255))
    with pytest.raises(ValueError, match="negative value .* index 7"):
        ftm.quantize(np.array([0, 1, 2, 3, 4, 5, 6, -1.0]), "log", nonnegative=True)


@pytest.mark.parametrize("value", [0.0, -3.5, 1e-20, 12345.678])
def test_constant_tensor_dequantizes_to_the_constant(value):
    x = np.full((2, 3, 4, 5), value, dtype=np.float32)
    for method in ("log", "minmax"):
        q, params = ftm.quantize(x, method, 10)
        assert not q.any()
        np.testing.assert_array_equal(ftm.dequantize(q, params), x)


def test_minmax_matches_formula_global_and_per_channel():
    x = relu_features((3, 5, 4, 6), seed=5) - 1
    for per_channel in (False, True):
        q, params = ftm.quantize(x, "minmax", 12, per_channel=per_channel)
        x64 = x.astype(np.float64)
        if per_channel:
            lo = np.asarray(params.lo, np.float64).reshape(1, -1, 1, 1)
            hi = np.asarray(params.hi, np.float64).reshape(1, -1, 1, 1)
            np.testing.assert_array_equal(params.lo, x.min(axis=(0, 2, 3)))
        else:
            lo, hi = np.float64(params.lo[0]), np.float64(params.hi[0])
            assert params.lo == (float(x.min()),) and params.hi == (float(x.max()),)
        want = np.rint((np.clip(x64, lo, hi) - lo) / (hi - lo) * 4095)
        np.testing.assert_array_equal(q, want)
        back = ftm.dequantize(q, params)
        np.testing.assert_allclose(back, lo + q / 4095.0 * (hi - lo), rtol=1e-6, atol=1e-6)


def test_minmax_fixed_range_clips():
    x = np.array([[-2.0, 0.0, 0.25, 1.0, 3.0]], dtype=np.float32)
    q, params = ftm.quantize(x, "minmax", 8, value_range=(0.0, 1.0))
    np.testing.assert_array_equal(q, [[0, 0, 64, 255, 255]])
    assert params.lo == (0.0,) and params.hi == (1.0,)
    q2, p2 = ftm.quantize(np.ones((1, 2, 1, 1), np.float32), "minmax", 8, value_range=([0, 0], [2, 4]), per_channel=True)
    np.testing.assert_array_equal(q2.reshape(-1), [128, 64])
    with pytest.raises(ValueError, match="lo <= hi"):
        ftm.quantize(x, "minmax", value_range=(1.0, 0.0))


def test_scalar_quantizer_matches_eq1_and_eq2():
    rng = np.random.default_rng(7)
    c = rng.laplace(0, 0.05, size=(50, 128)).astype(np.float32)
    for qp in (-48, 0, 12, 22, 32, 42, 51, 63):
        step = 2.0 ** ((qp - 4) / 6 - 10)
        assert ftm.qstep(qp) == step
        levels = ftm.sq_quantize(c, qp)
        assert levels.dtype == np.int32
        np.testing.assert_array_equal(levels, np.floor(c.astype(np.float64) / step))
        np.testing.assert_array_equal(ftm.sq_dequantize(levels, qp), (levels * step).astype(np.float32))
        np.testing.assert_array_equal(
            ftm.sq_dequantize(levels, qp, midpoint=True), ((levels + 0.5) * step).astype(np.float32)
        )


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: ftm.quantize(np.array([1.0, np.nan, 2.0])), ValueError, "non-finite value \\(nan\\) at flat index 1"),
        (lambda: ftm.quantize(np.array([[1.0, 2.0], [np.inf, 0]])), ValueError, "flat index 2"),
        (lambda: ftm.quantize(np.zeros((0, 3), np.float32)), ValueError, "empty tensor"),
        (lambda: ftm.quantize(np.ones(4, np.float32), bits=7), ValueError, "bit depth must be in \\[8, 16\\], got 7"),
        (lambda: ftm.quantize(np.ones(4, np.float32), bits=17), ValueError, "got 17"),
        (lambda: ftm.quantize(np.ones(4, np.int32)), TypeError, "float16/float32/float64"),
        (lambda: ftm.quantize(np.ones(4), "cubic"), ValueError, "unknown quantization method"),
        (lambda: ftm.quantize(np.ones((2, 2)), "minmax", per_channel=True, channel_axis=2), ValueError, "channel_axis"),
        (lambda: ftm.quantize(np.array([0.0, 1e300])), ValueError, "exceeds float32"),
        (lambda: ftm.sq_quantize(np.ones(3), 64), ValueError, "QP must be an integer in \\[-48, 63\\], got 64"),
        (lambda: ftm.sq_quantize(np.ones(3), -49), ValueError, "got -49"),
        (lambda: ftm.sq_quantize(np.ones(3), 22.5), TypeError, "QP must be an integer"),
        (lambda: ftm.sq_quantize(np.array([0.0, np.nan]), 22), ValueError, "flat index 1"),
        (lambda: ftm.sq_quantize(np.array([1e9]), -48), ValueError, "outside int32"),
        (lambda: ftm.dequantize(np.zeros(3, np.uint16), ftm.LogParams(8, 0.0, 1.0)), TypeError, "uint8"),
        (lambda: ftm.dequantize(np.full(3, 600, np.uint16), ftm.LogParams(9, 0.0, 1.0)), ValueError, "exceeds 9-bit"),
    ],
)
def test_bad_input_is_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_empty_vectors_are_allowed_for_the_scalar_quantizer():
    levels = ftm.sq_quantize(np.zeros((0, 128), np.float32), 22)
    assert levels.shape == (0, 128)
    assert ftm.sq_dequantize(levels, 22).shape == (0, 128)


def test_params_are_float32_values():
    x = np.array([0.1, 0.7, 3.3], dtype=np.float64)
    _, params = ftm.quantize(x)
    assert np.float32(params.offset) == params.offset
    assert np.float32(params.max_log) == params.max_log
    assert params.offset <= 0.1
