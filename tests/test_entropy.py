"""ftm.encode_levels / ftm.decode_levels: round trips, edges, errors, lengths."""

import doctest

import numpy as np
import pytest

import ftm
import ftm.kernels.level_coder

I32 = np.iinfo(np.int32)


def test_docstring_examples_run():
    assert doctest.testmod(ftm.kernels.level_coder, raise_on_error=False).failed == 0


def round_trip(levels, **options):
    levels = np.asarray(levels)
    data = ftm.encode_levels(levels, **options)
    assert isinstance(data, bytes)
    out = ftm.decode_levels(data, *levels.shape)
    assert out.dtype == np.int32 and out.shape == levels.shape
    return out


@pytest.mark.parametrize(
    "make",
    [
        lambda r: np.floor(r.standard_normal((500, 64)) * np.geomspace(0.5, 500, 64)),
        lambda r: np.floor(r.laplace(size=(300, 40)) * 20),
        lambda r: (r.random((200, 128)) < 0.03) * r.integers(1, 50, (200, 128)),
        lambda r: np.full((50, 20), -7),
        lambda r: np.tile([I32.min, I32.max, 0, -1, 1], (30, 7)),
        lambda r: r.integers(I32.min, I32.max, (64, 64), endpoint=True),
    ],
    ids=["gaussian", "laplacian", "sparse", "constant", "extremes", "full-range"],
)
def test_round_trips(make):
    levels = make(np.random.default_rng(0)).astype(np.int64)
    np.testing.assert_array_equal(round_trip(levels), levels)


@pytest.mark.parametrize(
    "dtype", [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64]
)
def test_accepts_every_integer_dtype_that_fits(dtype):
    info = np.iinfo(dtype)
    levels = np.array([[0, 1, 2], [min(info.max, I32.max), max(info.min, I32.min), 3]], dtype=dtype)
    np.testing.assert_array_equal(round_trip(levels), levels.astype(np.int64))


@pytest.mark.parametrize("fast,slow,stats", [(1, 1, 1), (5, 9, 6), (12, 12, 12), (2, 10, 3)])
@pytest.mark.parametrize("neighbours", [False, True])
def test_options_travel_in_the_payload(fast, slow, stats, neighbours):
    levels = np.random.default_rng(1).integers(-300, 300, (40, 17))
    data = ftm.encode_levels(
        levels, fast_shift=fast, slow_shift=slow, stats_shift=stats, neighbour_contexts=neighbours
    )
    assert data[0] == fast << 4 | slow and data[1] == stats << 1 | int(neighbours)
    np.testing.assert_array_equal(ftm.decode_levels(data, 40, 17), levels)


@pytest.mark.parametrize("shape", [(0, 0), (0, 128), (5, 0)])
def test_empty_shapes_give_the_header_alone(shape):
    data = ftm.encode_levels(np.zeros(shape, np.int32))
    assert data == b"\x59\x0d"
    assert ftm.decode_levels(data, *shape).shape == shape
    with pytest.raises(ftm.BitstreamError, match="header alone"):
        ftm.decode_levels(data + b"\x00", *shape)


def test_exact_lengths():
    # One bin at probability 1/2 and the 4-byte flush after the header.
    assert len(ftm.encode_levels(np.zeros((1, 1), np.int32))) == 6
    # INT32_MIN: 4 flag bins at probability 1/2, then a remainder of 2^31 - 3
    # with Rice k = 0: 6 prefix bins, an Exp-Golomb(1) prefix of 30 ones and a
    # zero, 31 suffix bits. 72 bits: the first 8 fit in the initial 32-bit
    # range, the other 64 renormalize 8 bytes out; then the 4-byte flush.
    assert len(ftm.encode_levels(np.full((1, 1), I32.min))) == 2 + 8 + 4


def test_size_is_near_the_entropy_of_independent_dimensions():
    rng = np.random.default_rng(2)
    # Scales small enough for 4000 samples to estimate each entropy well.
    levels = np.floor(rng.standard_normal((4000, 8)) * [0.5, 1, 3, 5, 10, 20, 30, 60]).astype(np.int32)
    bits = 0.0
    for col in levels.T:
        _, counts = np.unique(col, return_counts=True)
        bits -= (counts * np.log2(counts / counts.sum())).sum()
    size = len(ftm.encode_levels(levels))
    assert bits / 8 * 0.98 < size < bits / 8 * 1.05


def pooled_entropy_bytes(levels):
    _, counts = np.unique(levels, return_counts=True)
    return -(counts * np.log2(counts / counts.sum())).sum() / 8


def test_one_vector_learns_across_its_dimensions():
    # With a single vector no dimension has statistics of its own: the shared
    # contexts and the running mean over the vector must carry the coding.
    rng = np.random.default_rng(5)
    levels = np.floor(rng.standard_normal((1, 2048)) * 20).astype(np.int32)
    assert len(ftm.encode_levels(levels)) < 1.1 * pooled_entropy_bytes(levels)


def test_dimension_scales_are_tracked():
    # Dimensions of scales 1 and 30 interleaved: one pooled source would cost
    # 18% more than each dimension at its own scale (scales small enough for
    # 4000 samples to estimate each dimension's entropy well).
    rng = np.random.default_rng(6)
    scales = np.tile([1, 30], 64)
    levels = np.floor(rng.standard_normal((4000, 128)) * scales).astype(np.int32)
    per_dimension = sum(pooled_entropy_bytes(col) for col in levels.T)
    assert per_dimension < 0.85 * pooled_entropy_bytes(levels)
    assert len(ftm.encode_levels(levels)) < 1.03 * per_dimension


def test_rejects_bad_levels():
    with pytest.raises(TypeError, match="integer"):
        ftm.encode_levels(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="shape"):
        ftm.encode_levels(np.zeros(4, np.int32))
    with pytest.raises(ValueError, match="int32"):
        ftm.encode_levels(np.array([[2**31]], np.int64))
    with pytest.raises(ValueError, match="int32"):
        ftm.encode_levels(np.array([[2**32 - 1]], np.uint32))
    with pytest.raises(ValueError, match="fast_shift"):
        ftm.encode_levels(np.zeros((1, 1), np.int32), fast_shift=0)
    with pytest.raises(ValueError, match="slow_shift"):
        ftm.encode_levels(np.zeros((1, 1), np.int32), slow_shift=13)
    with pytest.raises(TypeError, match="slow_shift"):
        ftm.encode_levels(np.zeros((1, 1), np.int32), slow_shift=7.0)
    with pytest.raises(ValueError, match="stats_shift"):
        ftm.encode_levels(np.zeros((1, 1), np.int32), stats_shift=0)


def test_rejects_bad_payloads():
    levels = np.random.default_rng(3).integers(-1000, 1000, (20, 10))
    data = ftm.encode_levels(levels)
    for cut in range(len(data)):
        with pytest.raises(ftm.BitstreamError):
            ftm.decode_levels(data[:cut], 20, 10)
    with pytest.raises(ftm.BitstreamError, match="left after"):
        ftm.decode_levels(data + b"\x00", 20, 10)
    with pytest.raises(ftm.BitstreamError, match="reserved"):
        ftm.decode_levels(data[:1] + b"\x80" + data[2:], 20, 10)
    with pytest.raises(ftm.BitstreamError, match="cannot hold"):
        ftm.decode_levels(data, 1 << 40, 1 << 10)
    with pytest.raises(ValueError, match="n must be"):
        ftm.decode_levels(data, -1, 10)
    with pytest.raises(TypeError, match="bytes"):
        ftm.decode_levels("abc", 1, 1)
    # bytearray and memoryview work as bytes do
    np.testing.assert_array_equal(ftm.decode_levels(memoryview(bytearray(data)), 20, 10), levels)


def test_random_bytes_give_an_error_or_an_array():
    rng = np.random.default_rng(4)
    for _ in range(500):
        data = bytes([0x59, 0x0D]) + rng.integers(0, 256, rng.integers(0, 60)).astype(np.uint8).tobytes()
        n, d = (int(v) for v in rng.integers(1, 30, 2))
        try:
            out = ftm.decode_levels(data, n, d)
        except ftm.BitstreamError:
            continue
        assert out.shape == (n, d)
