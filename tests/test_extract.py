"""Split inference on EfficientNet-Lite0 and ftm-extract (torch: the "extract" extra)."""

import json
import re
import socket

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="split inference needs torch (pip install 'ftm[extract]'); CI installs it")

from ftm.models.efficientnet_lite import PREPROCESSING, efficientnet_lite0, load_reference_model  # noqa: E402
from ftm.extract.images import CENTRE_VIEWS, DEFAULT_VIEWS, bundled_photos, preprocessed_batches  # noqa: E402
from ftm.extract.pipeline import extract_feature_set  # noqa: E402
from ftm.cli._tool import run_tool  # noqa: E402
from ftm.cli.extract import main  # noqa: E402
from ftm.models.split import capture_module_outputs  # noqa: E402

SHAPES = {
    "stem": (32, 112, 112),
    "block2": (24, 56, 56),
    "block4": (40, 28, 28),
    "block10": (112, 14, 14),
    "block15": (320, 7, 7),
    "head": (1280, 7, 7),
}


@pytest.fixture(scope="module")
def network():
    torch.set_num_threads(2)
    return efficientnet_lite0()


@pytest.fixture(scope="module")
def two_photos():
    return [p for p in bundled_photos() if p.name in ("skimage/chelsea", "skimage/coffee")]


@pytest.fixture(scope="module")
def inputs(two_photos):
    ((_, batch),) = list(preprocessed_batches(two_photos, CENTRE_VIEWS, PREPROCESSING, batch_size=8))
    return torch.from_numpy(batch)


def test_split_points_and_shapes(network):
    assert network.split_points == tuple(SHAPES)
    assert network.feature_shapes() == SHAPES


def test_the_network_classifies_real_photos(network, inputs):
    top1 = network(inputs).logits.argmax(1).tolist()
    assert top1[0] in (281, 282, 285)  # chelsea: tabby, tiger cat or Egyptian cat
    assert top1[1] == 967  # coffee: espresso


@pytest.mark.parametrize("layer", list(SHAPES))
def test_split_inference_reproduces_the_unsplit_model_exactly(network, inputs, layer):
    reference = load_reference_model()
    with torch.inference_mode():
        expected = reference(inputs)
    full, captured = network.capture(inputs, [layer])
    assert torch.equal(full.logits, expected)
    assert tuple(captured[layer].shape) == (2,) + SHAPES[layer]
    tail = network.run_from(layer, captured[layer])
    assert torch.equal(tail.logits, expected)
    assert torch.equal(tail.descriptor, full.descriptor)


def test_split_features_equal_hooks_on_the_packages_own_modules(network, inputs):
    reference = load_reference_model()
    modules = {"block2": reference._blocks[2], "block10": reference._blocks[10], "head": reference._bn1}
    _, theirs = capture_module_outputs(reference, inputs, modules)
    _, ours = network.capture(inputs, ["block2", "block10", "head"])
    assert torch.equal(ours["block2"], theirs["block2"])
    assert torch.equal(ours["block10"], theirs["block10"])
    assert torch.equal(ours["head"], torch.nn.functional.relu6(theirs["head"]))


def test_capture_rejects_a_module_that_runs_twice(inputs):
    reference = load_reference_model()
    with pytest.raises(RuntimeError, match="ran 2 times"):
        capture_module_outputs(reference, inputs, {"shared": reference._swish})  # stem and head share it


def test_run_from_rejects_wrong_layers_and_shapes(network):
    with pytest.raises(ValueError, match="unknown split point"):
        network.run_from("block3", torch.zeros(1, 24, 56, 56))
    with pytest.raises(ValueError, match="must be N x 40 x 28 x 28"):
        network.run_from("block4", torch.zeros(1, 40, 28, 27))
    with pytest.raises(ValueError, match="expects N x 3 x 224 x 224"):
        network.capture(torch.zeros(1, 3, 200, 200), ["stem"])


def extract_small(network, photos, out):
    return extract_feature_set(out, network=network, photos=photos, views=DEFAULT_VIEWS[:2],
                               layers=["block4", "head"], batch_size=3)  # fmt: skip


def test_extraction_is_deterministic(network, two_photos, tmp_path):
    a = extract_small(network, two_photos, tmp_path / "a").manifest
    b = extract_small(network, two_photos, tmp_path / "b").manifest
    assert a["count"] == 4
    for section in ("layers", "outputs"):
        for name, entry in a[section].items():
            assert entry["sha256"] == b[section][name]["sha256"]
            assert entry["file_sha256"] == b[section][name]["file_sha256"]
    assert [i["input_sha256"] for i in a["images"]] == [i["input_sha256"] for i in b["images"]]


def test_extraction_runs_with_the_network_blocked(two_photos, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access attempted during an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    with pytest.raises(OSError, match="network access"):
        socket.create_connection(("localhost", 9))
    # Everything from scratch: weights, photos, preprocessing, inference, writing.
    net = efficientnet_lite0()
    photos = [p for p in bundled_photos() if p.name in ("skimage/coins", "sklearn/china", "matplotlib/grace_hopper")]
    fs = extract_small(net, photos, tmp_path / "offline")
    assert fs.count == 6 and fs.features("block4").shape == (6, 40, 28, 28)


def test_stored_outputs_are_the_unsplit_networks(network, two_photos, inputs, tmp_path):
    fs = extract_feature_set(tmp_path / "s", network=network, photos=two_photos, views=CENTRE_VIEWS, layers=["stem"])
    with torch.inference_mode():
        expected = load_reference_model()(inputs)
    assert np.array_equal(fs.outputs()["logits"], expected.numpy())
    assert fs.manifest["model"]["preprocessing"]["mean"] == [127.0, 127.0, 127.0]
    assert [i["name"] for i in fs.images] == ["skimage/chelsea@centre", "skimage/coffee@centre"]


def test_ftm_extract_on_a_folder(tmp_path, capsys):
    from PIL import Image

    from ftm.extract.images import to_rgb_uint8

    import skimage.data

    (tmp_path / "img" / "cat").mkdir(parents=True)
    Image.fromarray(skimage.data.chelsea()).save(tmp_path / "img" / "cat" / "chelsea.png")
    Image.fromarray(to_rgb_uint8(skimage.data.coins())).save(tmp_path / "img" / "coins.png")
    rc = main(["-i", str(tmp_path / "img"), "-o", str(tmp_path / "fs"), "-l", "block15", "--no-progress", "--threads", "2"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "block15" in out and "320 x 7 x 7" in out
    manifest = json.loads((tmp_path / "fs" / "manifest.json").read_text())
    assert [(i["name"], i["label"]) for i in manifest["images"]] == [("cat/chelsea.png@centre", "cat"), ("coins.png@centre", None)]
    assert list(manifest["layers"]) == ["block15"]
    # A second run refuses to overwrite.
    assert run_tool("ftm-extract", main, ["-i", str(tmp_path / "img"), "-o", str(tmp_path / "fs"), "-l", "block15", "--no-progress"]) == 1
    assert "exists" in capsys.readouterr().err


def test_ftm_extract_lists_layers_and_rejects_unknown_ones(tmp_path, capsys):
    assert main(["--list-layers"]) == 0
    assert re.search(r"^block10 +112 x 14 x 14 +87,808$", capsys.readouterr().out, re.M)
    assert run_tool("ftm-extract", main, ["-o", str(tmp_path / "x"), "-l", "block3", "--limit", "1", "--no-progress"]) == 2
    assert "unknown split point" in capsys.readouterr().err
