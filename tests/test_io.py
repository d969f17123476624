"""Feature files in and out, written atomically."""

import os

import numpy as np
import pytest

from ftm.io import load_features, save_features, write_atomic


@pytest.mark.parametrize("ext", [".npz", ".safetensors"])
def test_named_tensors_round_trip(tmp_path, ext):
    tensors = {"a": np.arange(6, dtype=np.float32).reshape(1, 1, 2, 3), "b": np.ones((2, 4), np.float64)}
    path = str(tmp_path / f"t{ext}")
    save_features(path, tensors)
    back = load_features(path)
    assert list(back) == ["a", "b"]
    for k in tensors:
        np.testing.assert_array_equal(back[k], tensors[k])
    assert [p.name for p in tmp_path.iterdir()] == [f"t{ext}"]  # no temporary left behind


def test_npy_holds_one_tensor(tmp_path):
    path = str(tmp_path / "x.npy")
    save_features(path, {"features": np.zeros((1, 2, 3, 4), np.float16)})
    assert load_features(path)["features"].dtype == np.float16
    with pytest.raises(ValueError, match=".npy holds one tensor"):
        save_features(path, {"a": np.zeros(1), "b": np.zeros(1)})


def test_bad_inputs_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_features(str(tmp_path / "missing.npy"))
    np.save(tmp_path / "ints.npy", np.zeros(3, np.int32))
    with pytest.raises(ValueError, match="dtype int32; expected float16/32/64"):
        load_features(str(tmp_path / "ints.npy"))
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(ValueError, match="unsupported extension '.txt'"):
        load_features(str(tmp_path / "x.txt"))


def test_failed_write_leaves_nothing(tmp_path):
    target = str(tmp_path / "out.npz")
    with pytest.raises(TypeError):
        write_atomic(target, object())  # fails while writing, after the temporary file exists
    assert os.listdir(tmp_path) == []
    write_atomic(target, b"abcdef")
    with open(target, "rb") as f:
        assert f.read() == b"abcdef"
