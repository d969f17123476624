"""Seed 002's networks (VGG-16, ResNet-50/101/152): architecture, split points, weights files, offline.

Every network here has random weights (``random_init``) or a weights file
the test writes: nothing is downloaded, and every test runs with sockets
blocked.
"""

import os
import re
import shutil
import socket

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="split inference needs torch (pip install 'ftm[extract]'); CI installs it")

from ftm.errors import ModelError  # noqa: E402
from ftm.models import MODELS, load_network  # noqa: E402
from ftm.models import torchvision_weights as tvw  # noqa: E402
from ftm.models.resnet import BLOCKS, ResNet  # noqa: E402
from ftm.models.vgg import VGG16  # noqa: E402
from ftm.models.weights import file_sha256  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# torchvision's own counts (the num_params of its weights' metadata)
NUM_PARAMS = {"vgg16": 138_357_544, "resnet50": 25_557_032, "resnet101": 44_549_160, "resnet152": 60_192_808}
REFERENCE = {"vgg16": VGG16, **{name: (lambda name=name: ResNet(BLOCKS[name])) for name in BLOCKS}}


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access attempted during an offline test")

    for target, name in ((socket.socket, "connect"), (socket.socket, "connect_ex"), (socket, "create_connection"),
                         (socket, "getaddrinfo")):  # fmt: skip
        monkeypatch.setattr(target, name, refuse)


def docs_shapes():
    """{(model, split point): (C, H, W)} from the table in docs/networks.md."""
    with open(os.path.join(ROOT, "docs", "networks.md"), encoding="utf-8") as f:
        text = f.read()
    shapes = {}
    for models, point, c, h, w in re.findall(r"^\| ([a-z0-9, -]+) \| (\w+) \| [^|]+ \| (\d+) x (\d+) x (\d+) \|", text, re.M):
        for model in models.split(", "):
            shapes[(model, point)] = (int(c), int(h), int(w))
    return shapes


def reference(name, seed=0):
    """The unsplit module, torchvision's forward pass, with the weights random_init=seed gives."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return REFERENCE[name]().eval()


@pytest.fixture(scope="module")
def inputs():
    torch.set_num_threads(2)
    return torch.from_numpy(np.random.default_rng(5).normal(size=(2, 3, 224, 224)).astype(np.float32))


@pytest.mark.parametrize("name", ["vgg16", "resnet50", "resnet101", "resnet152"])
def test_split_inference_gives_the_unsplit_outputs_bit_for_bit(name, inputs):
    net = load_network(name, random_init=0)
    ref = reference(name)
    assert sum(p.numel() for p in ref.parameters()) == NUM_PARAMS[name]
    assert net.split_points == MODELS[name].split_points
    x = inputs[:1]  # one image keeps the four deepest networks of the suite within seconds
    with torch.inference_mode():
        expected = ref(x)
    full, captured = net.capture(x, net.split_points)
    assert torch.equal(full.logits, expected)
    last = net.split_points[-1]  # the descriptor is the global average of the last feature map
    assert full.descriptor.shape == (1, 2048 if "resnet" in name else 512)
    assert torch.allclose(full.descriptor, captured[last].mean((2, 3)), rtol=1e-5, atol=0)
    table = docs_shapes()
    for layer in net.split_points:
        assert tuple(captured[layer].shape[1:]) == table[(name, layer)], layer
        tail = net.run_from(layer, captured[layer])
        assert torch.equal(tail.logits, expected), layer
        assert torch.equal(tail.descriptor, full.descriptor), layer
    assert net.feature_shapes() == {layer: table[(name, layer)] for layer in net.split_points}


def test_state_dict_keys_are_torchvisions():
    vgg = reference("vgg16").state_dict()
    assert list(vgg)[:2] == ["features.0.weight", "features.0.bias"] and list(vgg)[-1] == "classifier.6.bias"
    assert {k.split(".")[1] for k in vgg if k.startswith("features.")} == {str(i) for i in (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)}
    resnet = reference("resnet50").state_dict()
    for key in ("conv1.weight", "bn1.running_mean", "bn1.num_batches_tracked", "layer1.0.downsample.0.weight",
                "layer1.0.downsample.1.running_var", "layer4.2.bn3.bias", "fc.weight", "fc.bias"):  # fmt: skip
        assert key in resnet, key
    assert resnet["layer2.0.conv2.weight"].shape == (128, 128, 3, 3)  # the stride sits on the 3x3 (v1.5)


def test_against_torchvision_where_it_imports(inputs):
    try:
        import torchvision.models as tvm
    except Exception as exc:  # torchvision beside this torch build: missing, or failing to load its operators
        pytest.skip(f"torchvision is not importable here ({type(exc).__name__}); FTM's modules stand in for it")
    for name in ("vgg16", "resnet50"):
        theirs = getattr(tvm, name)(weights=None).eval()
        net = load_network(name, random_init=0)
        state = reference(name).state_dict()
        theirs.load_state_dict(state, strict=True)
        with torch.inference_mode():
            assert torch.equal(theirs(inputs[:1]), net(inputs[:1]).logits)


@pytest.fixture(scope="module")
def resnet50_file(tmp_path_factory):
    """ResNet-50 weights as torchvision saves them (a state_dict .pth), random numbers."""
    path = tmp_path_factory.mktemp("weights") / "resnet50-random.pth"
    torch.save(reference("resnet50", seed=3).state_dict(), path)
    return path


def test_a_weights_file_loads_strictly_and_is_recorded(resnet50_file, inputs, tmp_path):
    net = load_network("resnet50", weights=resnet50_file)
    with torch.inference_mode():
        expected = reference("resnet50", seed=3)(inputs[:1])
    assert torch.equal(net(inputs[:1]).logits, expected)
    assert net.info["weights_sha256"] == file_sha256(resnet50_file)
    assert net.info["weights_path"] == str(resnet50_file.resolve()) and net.info["weights"] == "resnet50-random.pth"
    assert net.preprocessing.resize_size == 256 and net.preprocessing.resample == "pil-bilinear"
    # the same weights as .safetensors, without the BatchNorm counters (as older files lack them)
    from safetensors.torch import save_file

    state = {k: v for k, v in torch.load(resnet50_file, weights_only=True).items() if "num_batches_tracked" not in k}
    save_file(state, tmp_path / "r50.safetensors")
    other = load_network("resnet50", weights=tmp_path / "r50.safetensors")
    assert torch.equal(other(inputs[:1]).logits, expected)


def test_weights_of_another_architecture_name_the_first_key_that_does_not_fit(resnet50_file, tmp_path):
    with pytest.raises(ModelError, match=r"resnet101: weights file .* does not fit: it has no 'layer3\.6\.conv1\.weight'"):
        load_network("resnet101", weights=resnet50_file)
    with pytest.raises(ModelError, match=r"vgg16: .* it has no 'features\.0\.weight'"):
        load_network("vgg16", weights=resnet50_file)
    state = torch.load(resnet50_file, weights_only=True)
    state["fc.weight"] = torch.zeros(10, 2048)
    torch.save(state, tmp_path / "ten.pth")
    with pytest.raises(ModelError, match=r"'fc\.weight' is 10 x 2048 in the file, 1000 x 2048 in resnet50"):
        load_network("resnet50", weights=tmp_path / "ten.pth")
    state["fc.weight"], state["head.extra"] = torch.zeros(1000, 2048), torch.zeros(1)
    torch.save(state, tmp_path / "extra.pth")
    with pytest.raises(ModelError, match=r"it has key\(s\) 'head\.extra' that resnet50 lacks"):
        load_network("resnet50", weights=tmp_path / "extra.pth")


def test_unreadable_and_misnamed_weights_are_refused(resnet50_file, tmp_path):
    torch.save([1, 2], tmp_path / "list.pth")
    with pytest.raises(ModelError, match=r"holds a list, not a state_dict"):
        load_network("resnet50", weights=tmp_path / "list.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a torch file")
    with pytest.raises(ModelError, match=r"cannot read weights file .*junk\.pth"):
        load_network("resnet50", weights=tmp_path / "junk.pth")
    with pytest.raises(ModelError, match=r"does not exist"):
        load_network("resnet50", weights=tmp_path / "missing.pth")
    # torchvision's names carry the first digits of the file's sha256
    shutil.copy(resnet50_file, tmp_path / "resnet50-0676ba61.pth")
    with pytest.raises(ModelError, match=r"its name says it starts with 0676ba61: the file is damaged or renamed"):
        load_network("resnet50", weights=tmp_path / "resnet50-0676ba61.pth")
    shutil.copy(resnet50_file, tmp_path / "vgg16-397923af.pth")
    with pytest.raises(ModelError, match=r"vgg16-397923af\.pth is torchvision's VGG16_Weights\.IMAGENET1K_V1 file for vgg16, not for resnet50"):
        load_network("resnet50", weights=tmp_path / "vgg16-397923af.pth")
    with pytest.raises(ValueError, match="weights or random_init, not both"):
        load_network("resnet50", weights=resnet50_file, random_init=0)


def test_weights_come_from_the_local_hub_cache_or_an_error_says_where_to_put_them(resnet50_file, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    cache = tmp_path / "torch" / "hub" / "checkpoints"
    with pytest.raises(ModelError) as err:
        load_network("resnet50")
    message = str(err.value)
    assert "FTM never downloads" in message and "--weights FILE" in message
    assert f"resnet50-0676ba61.pth or resnet50-11ad3fa6.pth in {cache}/" in message
    # A file under one of torchvision's names is found there; a V2 file brings its own crop (resize 232).
    digest = file_sha256(resnet50_file)
    v2 = tvw.TorchvisionWeights("resnet50", f"resnet50-{digest[:8]}.pth", "ResNet50_Weights.IMAGENET1K_V2", 232)
    monkeypatch.setattr(tvw, "TORCHVISION_WEIGHTS", (v2,))
    monkeypatch.setattr(tvw, "_BY_FILE", {v2.file: v2})
    cache.mkdir(parents=True)
    shutil.copy(resnet50_file, cache / v2.file)
    net = load_network("resnet50")
    assert net.info["weights_path"] == str((cache / v2.file).resolve()) and net.info["weights_sha256"] == digest
    assert net.info["torchvision_weights"] == "ResNet50_Weights.IMAGENET1K_V2"
    assert net.preprocessing.resize_size == 232 and net.preprocessing.centre_fraction == 224 / 232


def test_every_known_file_name_carries_a_sha256_prefix():
    for w in tvw.TORCHVISION_WEIGHTS:
        assert w.model in MODELS and re.fullmatch(r"[0-9a-f]{8}", w.sha256_prefix), w
        assert w.url == f"https://download.pytorch.org/models/{w.file}"
    assert {w.model for w in tvw.TORCHVISION_WEIGHTS} == {"vgg16", "resnet50", "resnet101", "resnet152"}


def test_torchvision_preprocessing(tmp_path):
    from PIL import Image

    from ftm.extract.images import DEFAULT_VIEWS, crop_box
    from ftm.extract.pipeline import views_for
    from ftm.models.preprocessing import Preprocessing, preprocess

    prep = load_network("vgg16", random_init=0).preprocessing
    assert prep == tvw.imagenet_preprocessing(256)
    assert Preprocessing.from_dict(prep.as_dict()) == prep
    rgb = np.random.default_rng(0).integers(0, 256, size=(300, 400, 3), dtype=np.uint8)
    centre = views_for(DEFAULT_VIEWS, prep)[0]
    box = crop_box(300, 400, centre)
    assert box == (19, 69, 262, 262)  # 0.875 of 300 = 262.5, torchvision's 224 of 256
    x = preprocess(rgb, box, prep)
    crop = Image.fromarray(rgb[19:281, 69:331]).resize((224, 224), Image.Resampling.BILINEAR)
    expected = (np.asarray(crop, np.float64) - np.array(tvw.IMAGENET_MEAN)) / np.array(tvw.IMAGENET_STD)
    assert x.shape == (3, 224, 224) and np.allclose(x, expected.transpose(2, 0, 1), atol=1e-6)
    assert views_for(DEFAULT_VIEWS, tvw.imagenet_preprocessing(232))[0].fraction == 224 / 232
    assert views_for(DEFAULT_VIEWS, tvw.imagenet_preprocessing(232))[1:] == list(DEFAULT_VIEWS[1:])


def test_layer_shapes_need_no_weights(monkeypatch, tmp_path, capsys):
    from ftm.cli.extract import main

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty cache: listing must not need a file
    assert main(["--list-layers", "-m", "resnet152"]) == 0
    out = capsys.readouterr().out
    assert "resnet152: input 3 x 224 x 224" in out and re.search(r"conv4\s+1024 x 14 x 14\s+802,816", out)
    assert main(["--list-models"]) == 0
    out = capsys.readouterr().out
    for name in MODELS:
        assert re.search(rf"^{name}\s", out, re.M), name
    assert f"vgg16-397923af.pth in {tmp_path}/hub/checkpoints/" in out and "path/to/file.py:function" in out
