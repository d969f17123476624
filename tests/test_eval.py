"""ftm-eval: the fidelity table from a feature set and reconstructed features."""

import json

import numpy as np

import ftm
import pytest

torch = pytest.importorskip("torch", reason="ftm-eval runs the network: needs torch (pip install 'ftm[extract]'); CI installs it")

from ftm.cli._tool import run_tool  # noqa: E402
from ftm.cli.eval import main  # noqa: E402
from ftm.evaluation import RECONSTRUCTION_LOADERS, evaluate_layer, format_table, load_reconstruction  # noqa: E402
from ftm.extract.featureset import save_layer_file  # noqa: E402
from ftm.extract.images import DEFAULT_VIEWS, bundled_photos  # noqa: E402
from ftm.extract.pipeline import extract_feature_set  # noqa: E402


@pytest.fixture(scope="module")
def feature_set(tmp_path_factory):
    from ftm.models.efficientnet_lite import efficientnet_lite0

    torch.set_num_threads(2)
    photos = [p for p in bundled_photos() if p.name in ("skimage/chelsea", "skimage/rocket")]
    out = tmp_path_factory.mktemp("eval") / "fs"
    return extract_feature_set(out, network=efficientnet_lite0(), photos=photos, views=DEFAULT_VIEWS[:3],
                               layers=["block10", "head"], batch_size=4)  # fmt: skip


def run_eval(tmp_path, *args):
    out = tmp_path / "fidelity.json"
    rc = run_tool("ftm-eval", main, ["--threads", "2", "-o", str(out), *args])
    return rc, (json.loads(out.read_text()) if rc == 0 else None)


def test_uncompressed_features_have_fidelity_exactly_one(feature_set, tmp_path, capsys):
    np.save(tmp_path / "same.npy", feature_set.features("block10"))
    rc, rep = run_eval(tmp_path, "-f", str(feature_set.path), "-l", "block10", "-r", str(tmp_path / "same.npy"),
                       "--bytes", "1234")  # fmt: skip
    assert rc == 0
    assert rep["images"] == 6 and rep["feature_shape"] == [112, 14, 14]
    assert rep["original_bytes"] == 6 * 112 * 14 * 14 * 4
    assert rep["compression_rate"] == 1234 / rep["original_bytes"]
    for key in ("f_classification", "top1_agreement", "top5_overlap", "f_retrieval"):
        assert rep[key] == 1.0
    assert rep["map_pristine"] == rep["map_reconstructed"] and rep["feature_mse"] == 0.0
    assert rep["retrieval"]["ranked"] == 5
    out = capsys.readouterr().out
    assert out.splitlines()[1].split() == ["Layer", "Images", "OrigBytes", "CompBytes", "CompRate", "F_cls", "Top1",
                                           "Top5", "F_ret", "mAP_p", "mAP_r", "FeatMSE"]  # fmt: skip
    assert out.splitlines()[2].split()[:4] == ["block10", "6", str(rep["original_bytes"]), "1234"]


def test_damaged_features_lose_fidelity(feature_set, tmp_path):
    x = feature_set.features("head")
    damaged = np.roll(x, 1, axis=0)  # every image gets its neighbour's features
    save_layer_file(tmp_path / "rec.safetensors", "head", damaged)
    (tmp_path / "bits.bin").write_bytes(b"\0" * 100)
    rc, rep = run_eval(tmp_path, "-f", str(feature_set.path), "-l", "head", "-r", str(tmp_path / "rec.safetensors"),
                       "--bitstream", str(tmp_path / "bits.bin"))  # fmt: skip
    assert rc == 0
    assert rep["compressed_bytes"] == 100
    assert rep["f_retrieval"] < 1.0 and rep["top5_overlap"] < 1.0 and rep["feature_mse"] > 0


def test_evaluate_layer_matches_the_metrics_on_the_networks_outputs(feature_set):
    from ftm.models import load_network

    net = load_network()
    x = feature_set.features("block10")
    rep = evaluate_layer(net, "block10", x, x * 0.5, labels=feature_set.labels(), batch_size=4)
    assert rep["f_classification"] == rep["top1_agreement"]
    assert 0.0 <= rep["f_retrieval"] <= 1.0
    with pytest.raises(ValueError, match="pristine shape"):
        evaluate_layer(net, "block10", x, x[:2])
    with pytest.raises(ValueError, match="non-finite"):
        evaluate_layer(net, "block10", x, np.full_like(x, np.nan))


def test_reconstruction_inputs(feature_set, tmp_path):
    x = feature_set.features("block10")
    np.savez(tmp_path / "two.npz", head=np.zeros(1), block10=x)
    assert np.array_equal(load_reconstruction(tmp_path / "two.npz", "block10").features, x)
    assert np.array_equal(load_reconstruction(feature_set.path, "block10").features, x)
    save_layer_file(tmp_path / "single.safetensors", "anything", x)
    assert np.array_equal(load_reconstruction(tmp_path / "single.safetensors", "block10").features, x)
    np.savez(tmp_path / "other.npz", a=x, b=x)
    with pytest.raises(ValueError, match="no array named"):
        load_reconstruction(tmp_path / "other.npz", "block10")
    # A .ftm stream is decoded; its size is the compressed size.
    data = ftm.encode(x, {"QP": "22"})
    (tmp_path / "x.ftm").write_bytes(data)
    recon = load_reconstruction(tmp_path / "x.ftm", "block10")
    assert recon.compressed_bytes == len(data)
    np.testing.assert_array_equal(recon.features, ftm.decode(data))
    two = ftm.encode_tensors({"block10": x, "head": x[:, :8]}, {"QP": "22"}, progress=False).data
    (tmp_path / "two.ftm").write_bytes(two)
    assert load_reconstruction(tmp_path / "two.ftm", "block10").compressed_bytes < len(two)
    with pytest.raises(ValueError, match="no tensor named 'stem'"):
        load_reconstruction(tmp_path / "two.ftm", "stem")
    (tmp_path / "bad.ftm").write_bytes(b"FTM")
    with pytest.raises(ftm.BitstreamError, match="not an FTM stream"):
        load_reconstruction(tmp_path / "bad.ftm", "block10")
    (tmp_path / "x.txt").write_bytes(b"")
    with pytest.raises(ValueError, match="cannot read reconstructed features from a .txt file"):
        load_reconstruction(tmp_path / "x.txt", "block10")
    with pytest.raises(FileNotFoundError):
        load_reconstruction(tmp_path / "missing.npy", "block10")
    assert set(RECONSTRUCTION_LOADERS) == {".npy", ".npz", ".safetensors", ".ftm"}


def test_cli_errors_are_reported_not_raised(feature_set, tmp_path, capsys):
    np.save(tmp_path / "bad.npy", np.zeros((6, 112, 14, 13), np.float32))
    rc, _ = run_eval(tmp_path, "-f", str(feature_set.path), "-l", "block10", "-r", str(tmp_path / "bad.npy"))
    assert rc == 1 and "pristine shape" in capsys.readouterr().err  # the work failed
    rc, _ = run_eval(tmp_path, "-f", str(feature_set.path), "-r", str(tmp_path / "bad.npy"))
    assert rc == 2 and "choose one with -l" in capsys.readouterr().err  # the command line is incomplete
    assert not (tmp_path / "fidelity.json").exists()


def test_table_prints_missing_figures_as_dashes():
    table = format_table([{"layer": "stem", "images": 3}])
    assert table.splitlines()[1].split() == ["stem", "3"] + ["-"] * 10
