"""Feature-set files: layout, checksums, atomic writing (numpy + safetensors, no torch)."""

import json

import numpy as np
import pytest

pytest.importorskip("safetensors", reason="feature sets need safetensors (pip install 'ftm[extract]')")

from ftm._optional import require  # noqa: E402
from ftm.extract.featureset import (  # noqa: E402
    MANIFEST,
    FeatureSetError,
    array_sha256,
    load_layer_file,
    read_feature_set,
    save_layer_file,
    write_feature_set,
)


def small_set(path, **kw):
    rng = np.random.default_rng(0)
    layers = {"a": rng.normal(size=(3, 2, 4, 5)).astype(np.float32), "b": rng.normal(size=(3, 8, 2, 2)).astype(np.float32)}
    outputs = {"descriptor": rng.random((3, 6)).astype(np.float32), "logits": rng.normal(size=(3, 10)).astype(np.float32)}
    images = [{"index": i, "name": f"img{i}", "label": "x" if i < 2 else "y"} for i in range(3)]
    fs = write_feature_set(path, model={"name": "toy"}, layers=layers, outputs=outputs, images=images, **kw)
    return fs, layers, outputs


def test_round_trip_and_manifest(tmp_path):
    fs, layers, outputs = small_set(tmp_path / "set", command="test")
    assert sorted(p.name for p in fs.path.iterdir()) == ["a.safetensors", "b.safetensors", MANIFEST, "outputs.safetensors"]
    assert fs.layers == ["a", "b"] and fs.count == 3 and fs.model_name == "toy"
    for name, a in layers.items():
        assert np.array_equal(fs.features(name), a)
        entry = fs.manifest["layers"][name]
        assert entry["shape"] == list(a.shape) and entry["dtype"] == "float32"
        assert entry["sha256"] == array_sha256(a)
    got = fs.outputs()
    assert all(np.array_equal(got[k], v) for k, v in outputs.items())
    assert fs.labels().tolist() == ["x", "x", "y"]
    manifest = json.loads((fs.path / MANIFEST).read_text())
    assert manifest["format"] == "ftm-feature-set" and manifest["format_version"] == 1 and manifest["command"] == "test"
    assert "ftm_version" in manifest


def test_existing_output_is_kept_unless_overwrite(tmp_path):
    small_set(tmp_path / "set")
    with pytest.raises(FileExistsError):
        small_set(tmp_path / "set")
    small_set(tmp_path / "set", overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["set"]  # no temporary folder left behind


def test_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(ValueError, match="one per image"):
        write_feature_set(tmp_path / "set", model={"name": "toy"}, layers={"a": np.zeros((2, 1, 1, 1), np.float32)},
                          outputs={}, images=[{"index": 0}])  # fmt: skip
    with pytest.raises(ValueError, match="cannot name a file"):
        write_feature_set(tmp_path / "set", model={}, layers={"../x": np.zeros((1, 1, 1, 1), np.float32)},
                          outputs={}, images=[{"index": 0}])  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_corruption_and_bad_manifests_are_reported(tmp_path):
    fs, layers, _ = small_set(tmp_path / "set")
    save_layer_file(fs.path / "a.safetensors", "a", layers["a"] + 1)
    with pytest.raises(FeatureSetError, match="sha256"):
        fs.features("a")
    with pytest.raises(FeatureSetError, match="no layer"):
        fs.features("c")
    (fs.path / MANIFEST).write_text("{not json")
    with pytest.raises(FeatureSetError, match="JSON"):
        read_feature_set(fs.path)
    (fs.path / MANIFEST).write_text(json.dumps({"format": "ftm-feature-set", "format_version": 99}))
    with pytest.raises(FeatureSetError, match="format_version"):
        read_feature_set(fs.path)
    with pytest.raises(FeatureSetError, match="missing"):
        read_feature_set(tmp_path)


def test_layer_files(tmp_path):
    x = np.arange(24, dtype=np.float32).reshape(1, 2, 3, 4)
    save_layer_file(tmp_path / "r.safetensors", "block4", x)
    assert np.array_equal(load_layer_file(tmp_path / "r.safetensors", "block4"), x)
    assert np.array_equal(load_layer_file(tmp_path / "r.safetensors"), x)
    with pytest.raises(FeatureSetError, match="no tensor named"):
        load_layer_file(tmp_path / "r.safetensors", "head")


def test_array_sha256_is_byte_order_independent():
    a = np.arange(5, dtype="<f4")
    assert array_sha256(a) == array_sha256(a.astype(">f4")) == array_sha256(a[::-1][::-1])


def test_missing_optional_dependency_names_the_extra(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "torch", None)
    with pytest.raises(ImportError, match=r'ftm\[extract\]'):
        require("torch", "Split inference")
