"""docs/networks.md's worked examples run as written, one folder each, offline.

Each example sits between ``<!-- example: NAME -->`` and ``<!-- end example -->``:
its ```sh blocks are command lines of FTM's tools (run in this process through
the tools' own error layer), its ```python blocks run in one namespace, and a
block that starts with ``# FILE.py`` is written to that file instead. The one
substitution: route 1 names torchvision's vgg16-397923af.pth, which FTM never
downloads; the test writes random VGG-16 weights under another name.
"""

import json
import os
import re
import shlex

import pytest

torch = pytest.importorskip("torch", reason="the examples run networks (pip install 'ftm[extract]'); CI installs it")

from ftm.cli import ctc, encode, eval as eval_tool, extract  # noqa: E402
from ftm.cli._tool import run_tool  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = {"ftm-extract": extract.main, "ftm-encode": encode.main, "ftm-eval": eval_tool.main, "ftm-ctc": ctc.main}


def example(name):
    with open(os.path.join(ROOT, "docs", "networks.md"), encoding="utf-8") as f:
        text = f.read()
    body = re.search(rf"<!-- example: {name} -->\n(.*?)<!-- end example -->", text, re.S)
    assert body, f"docs/networks.md has no example {name!r}"
    return re.findall(r"```(sh|python)\n(.*?)```", body.group(1), re.S)


def run_example(name, folder, capsys, substitute=()):
    namespace = {}
    for kind, code in example(name):
        if kind == "python":
            first = code.splitlines()[0]
            if re.fullmatch(r"# [\w.]+\.py", first):
                (folder / first[2:]).write_text(code, encoding="utf-8")
            else:
                exec(compile(code, f"docs/networks.md ({name})", "exec"), namespace)
            continue
        for line in filter(None, (ln.strip() for ln in code.splitlines())):
            for old, new in substitute:
                line = line.replace(old, new)
            tool, *args = shlex.split(line)
            rc = run_tool(tool, TOOLS[tool], args)
            assert rc == 0, f"{line}: exit {rc}\n{capsys.readouterr().err}"
    return capsys.readouterr().out


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.set_num_threads(2)
    return tmp_path


def test_route_1_vgg16_with_a_weights_file(in_tmp, capsys):
    from ftm.models.vgg import VGG16

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(16)
        torch.save(VGG16().state_dict(), in_tmp / "vgg16-random.pth")
    out = run_example("vgg16", in_tmp, capsys, [("vgg16-397923af.pth", "vgg16-random.pth")])
    manifest = json.loads((in_tmp / "sets" / "vgg16" / "manifest.json").read_text())
    assert manifest["model"]["name"] == "vgg16" and manifest["count"] == 3
    assert manifest["model"]["weights_path"] == str(in_tmp / "vgg16-random.pth")
    assert manifest["model"]["preprocessing"]["resample"] == "pil-bilinear"
    assert [i["view"] for i in manifest["images"]] == ["centre"] * 3
    report = json.loads((in_tmp / "pool5.fidelity.json").read_text())
    assert report["model"] == "vgg16" and report["feature_shape"] == [512, 7, 7]
    assert report["compressed_bytes"] == (in_tmp / "pool5.ftm").stat().st_size and 0 < report["compression_rate"] < 1
    assert 0 <= report["f_classification"] <= 1 and 0 <= report["f_retrieval"] <= 1
    assert "FTM fidelity: vgg16 at pool5, 3 images" in out


def test_route_2_own_network_from_a_module(in_tmp, capsys):
    out = run_example("own-network", in_tmp, capsys)
    assert re.search(r"^block2 +64 x 32 x 32 +262,144$", out, re.M)  # --list-layers
    manifest = json.loads((in_tmp / "sets" / "mine" / "manifest.json").read_text())
    assert manifest["model"]["name"] == f"{in_tmp / 'my_nets.py'}:make_network" and manifest["model"]["label"] == "my-net"
    report = json.loads((in_tmp / "block2.fidelity.json").read_text())
    assert report["images"] == 3 and report["feature_shape"] == [64, 32, 32] and report["f_retrieval"] is not None


def test_route_3_own_features_and_outputs(in_tmp, capsys):
    out = run_example("own-features", in_tmp, capsys)
    report = json.loads((in_tmp / "recon.fidelity.json").read_text())
    assert report["model"] is None and report["outputs"] == ["descriptor", "logits"] and report["images"] == 8
    assert report["compressed_bytes"] == (in_tmp / "features.ftm").stat().st_size
    for key in ("f_classification", "top1_agreement", "f_retrieval", "map_pristine", "map_reconstructed"):
        assert 0 <= report[key] <= 1, key
    assert "FTM fidelity: own outputs (descriptor, logits) at features, 8 images" in out
