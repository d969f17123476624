"""Labelled embedding sets: the folder layout, user .npz files, splits, Fashion-MNIST's IDX files,
extraction from class folders and the content-digest cache."""

import gzip
import json

import numpy as np
import pytest

from ftm.errors import FeatureSetError, InputError
from ftm.extract.embeddings import LabelledSet, content_digest, read_labelled_set, stratified_split, write_labelled_set


def small_set(n=40, d=6, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 4
    return LabelledSet(rng.normal(size=(n, d)).astype(np.float32), labels, stratified_split(labels, 0.3), ("a", "b", "c", "d"))


def test_a_set_round_trips_through_its_folder(tmp_path):
    data = small_set()
    written = write_labelled_set(tmp_path / "set", data, source={"kind": "test"}, items=[f"i{k}" for k in range(40)])
    assert written.digest == data.digest == content_digest(data.features, data.labels, data.split)
    back = read_labelled_set(tmp_path / "set")
    np.testing.assert_array_equal(back.features, data.features)
    assert back.classes == ("a", "b", "c", "d") and back.count == 40 and back.dims == 6
    manifest = json.loads((tmp_path / "set" / "manifest.json").read_text())
    assert manifest["format"] == "ftm-embedding-set" and manifest["train"] == 28 and manifest["test"] == 12
    assert manifest["items"][3] == "i3" and manifest["tensors"]["features"]["shape"] == [40, 6]
    x, y = back.part("test")
    assert x.shape == (12, 6) and np.bincount(y).tolist() == [3, 3, 3, 3]  # 0.3 of each class
    with pytest.raises(FileExistsError):
        write_labelled_set(tmp_path / "set", data, source={})


def test_a_tampered_set_is_refused(tmp_path):
    write_labelled_set(tmp_path / "set", small_set(), source={"kind": "test"})
    manifest = json.loads((tmp_path / "set" / "manifest.json").read_text())
    manifest["digest"] = "0" * 64
    (tmp_path / "set" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(FeatureSetError, match="digest"):
        read_labelled_set(tmp_path / "set")
    (tmp_path / "set" / "embeddings.safetensors").write_bytes(b"junk")
    with pytest.raises(FeatureSetError, match="sha256"):
        read_labelled_set(tmp_path / "set")


def test_a_users_npz_is_a_labelled_set(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 3)).astype(np.float32)
    names = np.array(["bob", "ann"] * 25)
    np.savez(tmp_path / "faces.npz", features=x, labels=names)
    data = read_labelled_set(tmp_path / "faces.npz")
    assert data.classes == ("ann", "bob") and data.labels[0] == 1
    assert int(data.split.sum()) == 10  # 20% of each class, stratified
    assert data.manifest["source"]["split"] == {"stratified": 0.2, "seed": 0}
    split = np.arange(50) % 2
    np.savez(tmp_path / "given.npz", features=x, labels=np.arange(50) % 5 + 10, split=split)
    given = read_labelled_set(tmp_path / "given.npz")
    np.testing.assert_array_equal(given.split, split)
    assert given.classes == ("10", "11", "12", "13", "14")
    np.savez(tmp_path / "bad.npz", features=x)
    with pytest.raises(InputError, match="'labels'"):
        read_labelled_set(tmp_path / "bad.npz")
    np.savez(tmp_path / "nan.npz", features=np.full((2, 2), np.nan), labels=[0, 1])
    with pytest.raises(InputError, match="finite"):
        read_labelled_set(tmp_path / "nan.npz")


def test_stratified_split_is_seeded_and_per_class():
    labels = np.repeat([0, 1, 2], [10, 20, 5])
    split = stratified_split(labels, 0.2, seed=3)
    assert [int(split[labels == k].sum()) for k in range(3)] == [2, 4, 1]
    assert np.array_equal(split, stratified_split(labels, 0.2, seed=3))
    assert not np.array_equal(split, stratified_split(labels, 0.2, seed=4))


def write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def fake_fashion(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    folder = tmp_path / "fmnist"
    folder.mkdir()
    for images, labels, n in (("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 40),
                              ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 20)):  # fmt: skip
        write_idx(folder / images, rng.integers(0, 256, size=(n, 28, 28)))
        write_idx(folder / labels, np.arange(n) % 10)
    monkeypatch.setenv("FTM_FASHION_MNIST", str(folder))
    monkeypatch.setenv("FTM_CACHE_DIR", str(tmp_path / "cache"))
    return folder


def test_fashion_mnist_idx_files_and_balanced_subsets(fake_fashion):
    from ftm.extract.fashion_mnist import fashion_mnist_photos, read_idx

    assert read_idx(fake_fashion / "t10k-images-idx3-ubyte.gz").shape == (20, 28, 28)
    photos = fashion_mnist_photos("train", 20)
    assert len(photos) == 20 and [p.label for p in photos[:2]] == ["T-shirt/top", "Trouser"]
    assert photos[0].load().shape == (28, 28)
    with pytest.raises(InputError, match="balanced"):
        fashion_mnist_photos("test", 40)


def test_missing_fashion_mnist_says_how_to_install(tmp_path, monkeypatch):
    from ftm.extract.fashion_mnist import fashion_mnist_dir

    monkeypatch.setenv("FTM_FASHION_MNIST", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        fashion_mnist_dir()


def tiny_network():
    torch = pytest.importorskip("torch")
    from ftm.models.split import NetworkOutputs, SplitNetwork

    class Head(torch.nn.Module):
        def forward(self, x):
            d = x.mean(dim=(2, 3))
            return NetworkOutputs(descriptor=d, logits=d[:, :2])

    torch.manual_seed(0)
    stages = [("conv", torch.nn.Conv2d(3, 4, 3, padding=1)), ("relu", torch.nn.ReLU())]
    info = {"name": "tiny", "weights_sha256": "none", "preprocessing": {"size": 8, "mean": [0.0] * 3, "std": [255.0] * 3}}
    return SplitNetwork("tiny", stages, Head(), (3, 8, 8), info)


def test_the_default_set_is_extracted_once_and_cached_by_digest(fake_fashion, tmp_path):
    from ftm.extract.fashion_mnist import cache_dir, default_embedding_set, recipe_digest

    network = tiny_network()
    first = default_embedding_set(20, 10, network=network)
    digest, recipe = recipe_digest(20, 10, network_info=network.info)
    assert first.path == cache_dir() / "embeddings" / f"fashion-mnist-{digest[:32]}"
    assert first.count == 30 and first.dims == 4 and int(first.split.sum()) == 10
    assert first.manifest["source"]["recipe"]["train"] == 20 and recipe["model"] == "tiny"
    assert first.manifest["layer"] == {"name": "descriptor", "pooling": "the network's descriptor"}
    again = default_embedding_set(20, 10, network=network)
    assert again.digest == first.digest and again.path == first.path
    pooled = default_embedding_set(20, 10, network=network, layer="conv", out=tmp_path / "conv")
    assert pooled.dims == 4 and pooled.manifest["layer"]["pooling"] == "global average pool over H x W"


def test_class_folders_give_labels_and_splits(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    from ftm.extract.labelled import extract_labelled_set, folder_classes

    rng = np.random.default_rng(0)
    for part in ("train", "test"):
        for cls in ("cat", "dog"):
            (tmp_path / "split" / part / cls).mkdir(parents=True)
            (tmp_path / "flat" / cls).mkdir(parents=True, exist_ok=True)
            for k in range(3):
                image = pil.fromarray(rng.integers(0, 256, size=(12, 10, 3), dtype=np.uint8))
                image.save(tmp_path / "split" / part / cls / f"{k}.png")
                image.save(tmp_path / "flat" / cls / f"{part}{k}.png")
    photos, split = folder_classes(tmp_path / "split")
    assert len(photos) == 12 and split.tolist() == [0] * 6 + [1] * 6 and photos[0].label == "cat"
    photos, split = folder_classes(tmp_path / "flat", test_fraction=0.5, seed=1)
    assert len(photos) == 12 and int(split.sum()) == 6
    data = extract_labelled_set(tmp_path / "set", photos, split, network=tiny_network(), source={"kind": "folder"})
    assert data.classes == ("cat", "dog") and data.features.shape == (12, 4)
    (tmp_path / "flat" / "stray.png").write_bytes((tmp_path / "flat" / "cat" / "train0.png").read_bytes())
    with pytest.raises(InputError, match="class sub-folder"):
        folder_classes(tmp_path / "flat")


def test_ftm_extract_embeddings_from_a_users_npz(tmp_path, capsys):
    from ftm.cli._tool import run_tool
    from ftm.cli.extract import main

    rng = np.random.default_rng(2)
    np.savez(tmp_path / "v.npz", features=rng.normal(size=(30, 5)).astype(np.float32), labels=np.arange(30) % 3)
    out = tmp_path / "set"
    assert run_tool("ftm-extract", main, ["--from-npz", str(tmp_path / "v.npz"), "-o", str(out), "--test-fraction", "0.2"]) == 0
    assert "30 vectors of 5 dimensions, 3 classes, 24 train / 6 test" in capsys.readouterr().out
    assert read_labelled_set(out).manifest["source"]["kind"] == "npz"
    assert run_tool("ftm-extract", main, ["--from-npz", str(tmp_path / "v.npz"), "-o", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    assert run_tool("ftm-extract", main, ["--embeddings", "-o", str(tmp_path / "b")]) == 2
    assert "labelled images" in capsys.readouterr().err
