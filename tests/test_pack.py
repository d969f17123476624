"""Repack against numpy's edge padding, and depack as its exact inverse."""

import numpy as np
import pytest

import ftm

SHAPES = [(1, 1, 1, 1), (1, 1, 8, 8), (3, 5, 7, 9), (2, 16, 13, 3), (1, 3, 1, 17), (2, 7, 8, 1), (1, 64, 14, 14)]


def codes(shape, bits, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2**bits, size=shape, dtype=np.uint8 if bits == 8 else np.uint16)


def ceil8(v):
    return -(-v // 8) * 8


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("bits", [8, 10, 16])
def test_channel_mode_is_numpy_edge_padding(shape, bits):
    q = codes(shape, bits)
    n, c, h, w = shape
    frames, layout = ftm.pack(q, "channel")
    want = np.pad(q.reshape(n * c, h, w), ((0, 0), (0, ceil8(h) - h), (0, ceil8(w) - w)), mode="edge")
    np.testing.assert_array_equal(frames, want)
    assert frames.dtype == q.dtype and frames.dtype.byteorder in "<=|"
    assert layout.num_frames == n * c and layout.frame_shape == (ceil8(h), ceil8(w))
    np.testing.assert_array_equal(ftm.unpack(frames, layout), q)


def tiled_numpy(q, rows, cols):
    n, c, h, w = q.shape
    grid = np.zeros((n, rows * cols, h, w), q.dtype)
    grid[:, :c] = q
    mosaic = grid.reshape(n, rows, cols, h, w).transpose(0, 1, 3, 2, 4).reshape(n, rows * h, cols * w)
    return np.pad(mosaic, ((0, 0), (0, ceil8(rows * h) - rows * h), (0, ceil8(cols * w) - cols * w)), mode="edge")


@pytest.mark.parametrize("shape", SHAPES)
def test_tiled_mode_is_a_padded_mosaic(shape):
    q = codes(shape, 10, seed=1)
    frames, layout = ftm.pack(q, "tiled")
    c = shape[1]
    cols = int(np.ceil(np.sqrt(c)))
    rows = -(-c // cols)
    assert layout.grid == (rows, cols)
    np.testing.assert_array_equal(frames, tiled_numpy(q, rows, cols))
    np.testing.assert_array_equal(ftm.unpack(frames, layout), q)


@pytest.mark.parametrize("mode", ["channel", "tiled"])
def test_permutation_reorders_channels_and_inverts(mode):
    q = codes((2, 6, 5, 4), 8, seed=2)
    perm = [3, 0, 5, 1, 4, 2]
    frames, layout = ftm.pack(q, mode, permutation=perm)
    plain, _ = ftm.pack(q[:, perm], mode)
    np.testing.assert_array_equal(frames, plain)
    assert layout.permutation == tuple(perm)
    np.testing.assert_array_equal(ftm.unpack(frames, layout), q)


def test_explicit_grid():
    q = codes((1, 6, 3, 3), 8)
    frames, layout = ftm.pack(q, "tiled", grid=(1, 6))
    assert layout.grid == (1, 6) and frames.shape == (1, 8, 24)
    np.testing.assert_array_equal(frames, tiled_numpy(q, 1, 6))


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: ftm.pack(codes((2, 3, 4), 8)), ValueError, "N x C x H x W"),
        (lambda: ftm.pack(np.zeros((1, 0, 4, 4), np.uint8)), ValueError, "every side >= 1"),
        (lambda: ftm.pack(np.zeros((1, 2, 4, 4), np.int32)), TypeError, "uint8 or uint16"),
        (lambda: ftm.pack(codes((1, 2, 4, 4), 8), "zigzag"), ValueError, "unknown pack mode"),
        (lambda: ftm.pack(codes((1, 5, 4, 4), 8), "tiled", grid=(2, 2)), ValueError, "cannot hold 5 channels"),
        (lambda: ftm.pack(codes((1, 4, 4, 4), 8), "tiled", grid=(3, 2)), ValueError, "row or column empty"),
        (lambda: ftm.pack(codes((1, 3, 4, 4), 8), permutation=[0, 1, 1]), ValueError, "each of the 3 channels once"),
        (lambda: ftm.pack(codes((1, 3, 4, 4), 8), grid=(1, 3)), ValueError, "tiled"),
    ],
)
def test_bad_input_is_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_unpack_checks_frame_shape_against_layout():
    frames, layout = ftm.pack(codes((1, 2, 4, 4), 8))
    with pytest.raises(ValueError, match="layout expects 2x8x8"):
        ftm.unpack(frames[:1], layout)
