"""Seed 000's DMOFC: the 8-bit latent through .ftm streams (fixed-length and level-coded), the DIS
metric and its hardest-sample selection against a transcription, training for one short epoch, the
command lines (ftm-train --codec dmofc, ftm-encode/-decode --Model) and the Fig. 2 report."""

import json
from pathlib import Path

import numpy as np
import pytest

import ftm
from ftm._core import bitstream as container
from ftm.codecs.learned import dmofc, read_model_file, write_model_file
from ftm.codecs.learned.model_file import FORMAT, FORMAT_VERSION
from ftm.errors import BitstreamError, ConfigError

D, K = 12, 5


def random_model(path, seed=0):
    rng = np.random.default_rng(seed)
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "method": "dmofc", "dims": D,
              "architecture": {"latent_dims": K, "latent_bits": 8, "latent_clip": 1.0}}  # fmt: skip
    weights = {"enc.weight": rng.normal(scale=0.4, size=(K, D)), "enc.bias": rng.normal(scale=0.1, size=K),
               "dec.weight": rng.normal(size=(D, K)), "dec.bias": rng.normal(size=D)}  # fmt: skip
    return write_model_file(path, header, {k: v.astype(np.float32) for k, v in weights.items()})


def vectors(n=9, seed=1):
    return np.random.default_rng(seed).normal(size=(n, D)).astype(np.float32)


def encode(x, model, coding="fixed"):
    return ftm.encode_tensors({"emb": x}, {"FeatureKind": "learned", "Model": model.path, "LatentCoding": coding}, progress=False)


def test_the_quantizer_is_eight_bits_on_a_fixed_range():
    z = np.array([-3.0, -1.0, -0.999, 0.0, 0.5, 1.0, 7.0])
    u = dmofc.quantize(z)
    np.testing.assert_array_equal(u, [0, 0, 0, 128, 191, 255, 255])  # (z + 1) * 127.5 rounded, ties to even: 127.5 -> 128
    np.testing.assert_allclose(dmofc.dequantize(u), u / 127.5 - 1)
    assert np.abs(dmofc.dequantize(dmofc.quantize(np.linspace(-1, 1, 1001))) - np.linspace(-1, 1, 1001)).max() <= 1 / 255 + 1e-12


@pytest.mark.parametrize("coding", ["fixed", "cabac"])
def test_round_trip_through_the_stream(tmp_path, coding):
    model, x = random_model(tmp_path / "m.safetensors"), vectors()
    result = encode(x, model, coding)
    decoded = ftm.decode(result.data, model=model.path)
    np.testing.assert_array_equal(decoded, result.reconstruction["emb"])
    u = dmofc.quantize(x.astype(np.float64) @ model.weights["enc.weight"].T.astype(np.float64) + model.weights["enc.bias"])
    expected = (dmofc.dequantize(u) @ model.weights["dec.weight"].T.astype(np.float64) + model.weights["dec.bias"]).astype(np.float32)
    np.testing.assert_allclose(decoded, expected, rtol=1e-6, atol=1e-6)
    record = container.parse_stream(result.data).tensors[0]
    assert record.learned_model.method == container.LearnedMethod.DMOFC
    if coding == "fixed":  # IC = K bytes a vector, exactly: the codes are the latent bytes
        assert (record.product_codes.num_subquantizers, record.product_codes.code_bits) == (K, 8)
        assert bytes(record.product_codes.codes) == u.astype(np.uint8).tobytes() and len(record.product_codes.codes) == 9 * K
        assert record.latent is None and record.cabac is None
    else:
        assert (record.latent.latent_dims, record.latent.r_clip) == (K, 128.0)
        np.testing.assert_array_equal(ftm.decode_levels(record.cabac, 9, K), u - 128)


def test_the_information_capacity_is_the_coded_latent_bytes(tmp_path):
    model = random_model(tmp_path / "m.safetensors")
    small, large = encode(vectors(10), model), encode(vectors(30), model)
    assert len(large.data) - len(small.data) == 20 * K  # K bytes for each vector more, nothing else


def test_wrong_models_and_codings_are_refused(tmp_path):
    model, other = random_model(tmp_path / "m.safetensors"), random_model(tmp_path / "o.safetensors", seed=3)
    data = encode(vectors(), model).data
    with pytest.raises(BitstreamError, match="give the model it was coded with"):
        ftm.decode(data, model=other.path)
    pro = str(Path(__file__).parent.parent / "conformance" / "models" / "tiny_pro.safetensors")
    with pytest.raises(ConfigError, match="LatentCoding applies to DMOFC models"):
        ftm.encode_tensors({"emb": np.zeros((2, 16), np.float32)}, {"FeatureKind": "learned", "Model": pro, "LatentCoding": "cabac"})
    with pytest.raises(ConfigError, match="LatentCoding"):
        ftm.encode_tensors({"emb": vectors()}, {"FeatureKind": "vector", "LatentCoding": "cabac"})


def test_a_latent_level_out_of_range_is_refused(tmp_path):
    model = random_model(tmp_path / "m.safetensors")
    stream = container.parse_stream(encode(vectors(2), model, "cabac").data)
    stream.tensors[0].cabac = ftm.encode_levels(np.full((2, K), 128, np.int32))  # u = 256: no 8-bit code
    stream.tensors[0].hash = None
    with pytest.raises(BitstreamError, match=r"outside \[-128, 127\]"):
        ftm.decode(container.write_stream(stream), model=model.path)


def test_model_files_check_the_architecture(tmp_path):
    model = random_model(tmp_path / "m.safetensors")
    header = dict(model.header, architecture={"latent_dims": K, "latent_bits": 4, "latent_clip": 1.0})
    with pytest.raises(Exception, match="8 bits"):
        write_model_file(tmp_path / "bad.safetensors", header, model.weights)


# ---- training (torch) ----


def _dis_by_the_text(rec, labels, margin):
    """Seed 000 eq. 1 and section II-D, written out loop by loop: each sample's DIS against every positive
    and negative of the batch, averaged; per class the sample with the largest; their mean."""
    n = len(labels)
    d = lambda i, j: float(np.mean((rec[i] - rec[j]) ** 2))  # noqa: E731
    per_sample = []
    for a in range(n):
        terms = [max(d(a, p) - d(a, q) + margin, 0.0) for p in range(n) if p != a and labels[p] == labels[a]
                 for q in range(n) if labels[q] != labels[a]]  # fmt: skip
        per_sample.append(sum(terms) / len(terms))
    hardest = {c: max(per_sample[i] for i in range(n) if labels[i] == c) for c in set(labels)}
    return float(np.mean(list(hardest.values()))), per_sample


def test_dis_and_the_hardest_sample_match_a_transcription():
    torch = pytest.importorskip("torch", reason="training needs torch (pip install 'ftm[learned]')")
    from ftm.train.dmofc import discrimination_loss

    rec = np.array([[0.0, 0.0], [0.1, 0.0], [1.0, 1.0], [0.9, 1.2], [0.2, 0.1], [1.1, 0.8]])
    labels = [0, 0, 1, 1, 0, 1]
    for margin in (0.3, 0.0, 2.0):
        got, per_anchor = discrimination_loss(torch.tensor(rec), torch.tensor(labels), margin)
        want, per_sample = _dis_by_the_text(rec, labels, margin)
        assert float(got) == pytest.approx(want, abs=1e-12)
        np.testing.assert_allclose(per_anchor.numpy(), per_sample, atol=1e-12)
    for margin, moves in ((0.3, False), (2.0, True)):  # classes apart by more than the margin: nothing to learn
        features = torch.tensor(rec, requires_grad=True)
        discrimination_loss(features, torch.tensor(labels), margin)[0].backward()
        assert bool(features.grad.abs().sum() > 0) == moves


@pytest.fixture(scope="module")
def clusters(tmp_path_factory):
    """480 vectors of 12 dimensions in 8 classes, 160 of them in the test split."""
    rng = np.random.default_rng(0)
    labels = np.arange(480) % 8
    x = (rng.normal(size=(8, D))[labels] * 1.5 + rng.normal(size=(480, D))).astype(np.float32)
    path = tmp_path_factory.mktemp("sets") / "clusters.npz"
    np.savez(path, features=x, labels=labels, split=(np.arange(480) >= 320).astype(np.uint8))
    return str(path)


def test_each_metric_trains_deterministically_and_codes_through_ftm_encode(clusters, tmp_path, capsys):
    pytest.importorskip("torch", reason="training needs torch (pip install 'ftm[learned]')")
    from ftm.cli._tool import run_tool
    from ftm.cli.decode import main as decode
    from ftm.cli.encode import main as encode_cli
    from ftm.cli.train import main as train

    quick = ["--Epochs=1", "--Iterations=5", "--Threads=1", "--no-progress"]
    paths = {}
    for metric in ("sim", "dis", "combined"):
        paths[metric] = str(tmp_path / f"{metric}.safetensors")
        assert run_tool("ftm-train", train, ["-s", clusters, "-o", paths[metric], "--codec", "dmofc", "--metric", metric, "--ic", "4"] + quick) == 0
        header = read_model_file(paths[metric]).header
        assert header["architecture"] == {"latent_dims": 4, "latent_bits": 8, "latent_clip": 1.0}
        assert header["hyperparameters"]["metric"] == metric and header["hyperparameters"]["learning_rate"] == 1e-3
    again = str(tmp_path / "again.safetensors")
    assert run_tool("ftm-train", train, ["-s", clusters, "-o", again, "--codec", "dmofc", "--metric", "combined", "--ic", "4"] + quick) == 0
    a, b = read_model_file(again), read_model_file(paths["combined"])  # same seed: the same weights and losses
    assert all(np.array_equal(a.weights[k], b.weights[k]) for k in a.weights)
    assert a.header["training"]["epoch_losses"] == b.header["training"]["epoch_losses"]
    x = np.load(clusters)["features"][:7]
    np.save(tmp_path / "x.npy", x)
    stream, out = tmp_path / "x.ftm", tmp_path / "out.npy"
    assert run_tool("ftm-encode", encode_cli, ["-i", str(tmp_path / "x.npy"), "-b", str(stream), "--Model", paths["dis"]]) == 0
    assert run_tool("ftm-decode", decode, ["-b", str(stream), "-o", str(out), "--Model", paths["dis"]]) == 0
    assert np.load(out).shape == x.shape
    capsys.readouterr()
    assert run_tool("ftm-train", train, ["-s", clusters, "-o", str(tmp_path / "x.safetensors"), "--codec", "dmofc"] + quick) == 2
    assert "needs IC" in capsys.readouterr().err
    assert run_tool("ftm-train", train, ["-s", clusters, "-o", str(tmp_path / "x.safetensors"), "--codec", "pro",
                                         "--Lambda=1", "--metric", "dis"] + quick) == 2  # fmt: skip
    assert "Metric applies to Method : dmofc" in capsys.readouterr().err


def test_the_sweep_writes_fig2(clusters, tmp_path, capsys):
    pytest.importorskip("torch", reason="training needs torch (pip install 'ftm[learned]')")
    from ftm.cli._tool import run_tool
    from ftm.cli.rate_accuracy import main

    out = tmp_path / "out"
    args = ["-o", str(out), f"--LabelledSet={clusters}", "--Methods=dmofc-sim,dmofc-dis,dmofc-combined", "--DmofcICs=2,6",
            "--DmofcEpochs=1", "--DmofcIterations=5", "--Pairs=200", "--Threads=1", "--no-progress", "--no-plots"]  # fmt: skip
    assert run_tool("ftm-rate-accuracy", main, args) == 0
    fig2 = (out / "fig2.md").read_text()
    assert "| IC (bytes) | BPP | SIM Acc(%) | SIM mAP | SIM CABAC BPP | DIS Acc(%)" in fig2
    points = json.loads((out / "results.json").read_text())["points"]
    assert sorted((p["method"], p["ic_bytes"]) for p in points) == sorted((m, ic) for m in ("dmofc-sim", "dmofc-dis", "dmofc-combined") for ic in (2, 6))
    for p in points:  # the fixed-length stream: IC bytes a vector and the headers
        assert 8 * p["ic_bytes"] / D < p["bits_per_dimension"] < 8 * p["ic_bytes"] / D + 8 * 200 / (160 * D)
        assert 0 < p["cabac_bits_per_dimension"]


def test_the_triplet_head_loss_is_batch_hard():
    torch = pytest.importorskip("torch", reason="training needs torch (pip install 'ftm[learned]')")
    from ftm.train.heads import triplet_batch_hard

    f = np.array([[0.0, 0.0], [3.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    labels = [0, 0, 1, 1]
    dist = lambda i, j: float(np.linalg.norm(f[i] - f[j]))  # noqa: E731
    want = np.mean([max(max(dist(a, p) for p in range(4) if labels[p] == labels[a]) -
                        min(dist(a, n) for n in range(4) if labels[n] != labels[a]) + 0.3, 0.0) for a in range(4)])  # fmt: skip
    assert float(triplet_batch_hard(torch.tensor(f), torch.tensor(labels), 0.3)) == pytest.approx(want, abs=1e-6)


def test_the_ablation_heads_and_the_tsne_picture(clusters, tmp_path):
    pytest.importorskip("torch", reason="training needs torch (pip install 'ftm[learned]')")
    from ftm.cli._tool import run_tool
    from ftm.cli.rate_accuracy import main
    from ftm.extract.embeddings import read_labelled_set
    from ftm.train.heads import HeadSettings, head_features

    data = read_labelled_set(clusters)
    ce = head_features(data, HeadSettings("ce", dims=6, epochs=1, iterations=20))
    assert ce.features.shape == (480, 6) and np.array_equal(ce.labels, data.labels) and np.array_equal(ce.split, data.split)
    assert ce.manifest["feature_head"]["base_digest"] == data.digest
    assert head_features(data, HeadSettings("ce", dims=6, epochs=1, iterations=20)).digest == ce.digest  # seeded
    assert head_features(data, HeadSettings("triplet", dims=6, epochs=1, iterations=20)).digest != ce.digest
    out = tmp_path / "out"
    args = ["-o", str(out), f"--LabelledSet={clusters}", "--Methods=dmofc-sim,dmofc-dis", "--DmofcICs=2,4", "--DmofcEpochs=1",
            "--DmofcIterations=5", "--Pairs=200", "--Threads=1", "--no-progress", "--FeatureHead=triplet", "--HeadDims=6",
            "--HeadEpochs=1", "--TsneICs=4"]  # fmt: skip
    assert run_tool("ftm-rate-accuracy", main, args) == 0
    labelled = json.loads((out / "results.json").read_text())["labelled_set"]
    assert labelled["dims"] == 6 and labelled["feature_head"]["kind"] == "triplet"
    assert (out / "tsne.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
