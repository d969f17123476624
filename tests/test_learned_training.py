"""Training every codec of seed 001 for one short epoch on a tiny labelled set, determinism, the
rate-accuracy runner and its reports, and the command lines (ftm-train, ftm-encode/-decode --Model,
ftm-rate-accuracy, ftm-extract --embeddings --from-npz)."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="training needs torch (pip install 'ftm[learned]'); CI installs it")
pytest.importorskip("faiss", reason="PQ/OPQ training needs faiss-cpu (pip install 'ftm[learned]')")

import ftm  # noqa: E402
from ftm.cli._tool import run_tool  # noqa: E402
from ftm.codecs.learned import read_model_file  # noqa: E402
from ftm.extract.embeddings import read_labelled_set  # noqa: E402
from ftm.train.loop import TrainSettings  # noqa: E402
from ftm.train.methods import train_pro  # noqa: E402

D = 16
TINY = ["--Epochs=1", "--BatchSize=32", "--Threads=1", "--LearningRate=1e-3"]


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory):
    """400 vectors of 16 dimensions in 4 classes (clusters), 100 of them in the test split."""
    rng = np.random.default_rng(0)
    labels = np.arange(400) % 4
    centres = rng.normal(size=(4, D)) * 2
    x = (centres[labels] + rng.normal(size=(400, D))).astype(np.float32)
    path = tmp_path_factory.mktemp("sets") / "tiny.npz"
    np.savez(path, features=x, labels=labels, split=(np.arange(400) >= 300).astype(np.uint8))
    return str(path)


def test_training_is_deterministic_for_a_seed(tiny_set):
    data = read_labelled_set(tiny_set)
    settings = TrainSettings(epochs=1, seed=5, progress=False)
    a, b = train_pro(data, 0.1, settings, hidden=8, latent_dims=8), train_pro(data, 0.1, settings, hidden=8, latent_dims=8)
    assert all(np.array_equal(a.weights[k], b.weights[k]) for k in a.weights)
    assert a.fit.losses == b.fit.losses
    c = train_pro(data, 0.1, TrainSettings(epochs=1, seed=6, progress=False), hidden=8, latent_dims=8)
    assert not np.array_equal(a.weights["enc.fc1.weight"], c.weights["enc.fc1.weight"])
    assert a.header["training_set"]["digest"] == data.digest and a.header["seed"] == 5
    assert a.header["hyperparameters"]["lambda"] == 0.1 and a.header["architecture"]["r_clip"] == 20.0


def test_every_codec_trains_for_one_epoch_and_is_compared(tiny_set, tmp_path, capsys):
    from ftm.cli.rate_accuracy import main

    out = tmp_path / "out"
    args = ["-o", str(out), f"--LabelledSet={tiny_set}", "--SqQPs=30,36,42", "--ProLambdas=1,0.1,0.01",
            "--PqBitsPerDimension=1,2", "--CodeBits=4", "--KmeansIterations=5", "--OpqIterations=2", "--Pairs=200",
            "--Folds=10", "--Hidden=16", "--LatentDims=16", "--no-progress"] + TINY  # fmt: skip
    assert run_tool("ftm-rate-accuracy", main, args) == 0
    table = capsys.readouterr().out
    header = table.splitlines()[0]
    for column in ("PQ BPP", "PQ Acc(%)", "OPQ BPP", "SQ BPP", "SQ-E Acc(%)", "PRO BPP", "PRO-E Acc(%)"):
        assert column in header
    results = json.loads((out / "results.json").read_text())
    methods = [p["method"] for p in results["points"]]
    assert {m: methods.count(m) for m in set(methods)} == {"pq": 2, "opq": 2, "sq": 3, "sq-e": 3, "pro": 3, "pro-e": 2}
    for p in results["points"]:
        assert p["bits_per_dimension"] == pytest.approx(8 * p["stream_bytes"] / (100 * D))  # the stream's real size
        assert 0.4 <= p["accuracy"] <= 1.0 and 0 <= p["eer"] <= 1
    pq = [p for p in results["points"] if p["method"] == "pq"]
    assert pq[1]["stream_bytes"] - pq[0]["stream_bytes"] == 100 * D * (2 - 1) // 8  # fixed-length codes: 1 more bit a value
    assert results["reference"]["accuracy"] > 0.9  # well-separated clusters
    sq, sqe = ([p for p in results["points"] if p["method"] == m] for m in ("sq", "sq-e"))
    assert [p["stream_bytes"] for p in sq] == [p["stream_bytes"] - 33 - 8 for p in sqe]  # SQ-E adds the LMOD box alone
    assert "PRO" in (out / "bd_rates.md").read_text()
    for name in ("table1.md", "details.md", "points.csv", "rate_accuracy.png", "rate_auc.png", "rate_eer.png"):
        assert (out / name).stat().st_size > 0
    models = sorted(p.name for p in (out / "models").iterdir())
    assert len(models) == 2 + 2 + 3 + 3 + 2  # PQ, OPQ, SQ-E, PRO, PRO-E; SQ needs none
    header = read_model_file(out / "models" / next(m for m in models if m.startswith("pro-e-lambda1-0.1-"))).header
    assert header["hyperparameters"]["pair"]["low_lambda"] == 1.0 and header["hyperparameters"]["pair"]["high_lambda"] == 0.1
    assert run_tool("ftm-rate-accuracy", main, args + ["--Methods=pro"]) == 0  # models of the same settings are reused
    assert "reusing" not in capsys.readouterr().err  # --no-progress: silent
    assert len(list((out / "models").iterdir())) == len(models)
    # OPQ's alternations do not shape a PRO model: still reused; SQ-E's hidden width shapes an SQ-E model
    assert run_tool("ftm-rate-accuracy", main, args + ["--Methods=pro", "--OpqIterations=7"]) == 0
    assert len(list((out / "models").iterdir())) == len(models)
    assert run_tool("ftm-rate-accuracy", main, args + ["--Methods=sq-e", "--SqQPs=30", "--Hidden=12"]) == 0
    assert len(list((out / "models").iterdir())) == len(models) + 1


def test_ftm_train_and_the_model_through_ftm_encode_and_decode(tiny_set, tmp_path, capsys):
    from ftm.cli.decode import main as decode
    from ftm.cli.encode import main as encode
    from ftm.cli.train import main as train

    pro = str(tmp_path / "pro.safetensors")
    assert run_tool("ftm-train", train, ["-s", tiny_set, "-o", pro, "--Method=pro", "--Lambda=0.1", "--no-progress"] + TINY) == 0
    assert "wrote" in capsys.readouterr().out
    pq = str(tmp_path / "pq.safetensors")
    assert run_tool("ftm-train", train, ["-s", tiny_set, "-o", pq, "--Method=pq", "--BitsPerDimension=2", "--CodeBits=4",
                                         "--no-progress"]) == 0  # fmt: skip
    data = read_labelled_set(tiny_set)
    np.save(tmp_path / "test.npy", data.part("test")[0])
    stream, recon, out = tmp_path / "t.ftm", tmp_path / "recon.npy", tmp_path / "out.npy"
    assert run_tool("ftm-encode", encode, ["-i", str(tmp_path / "test.npy"), "-b", str(stream), "-o", str(recon), "--Model", pro]) == 0
    assert "learned model" in capsys.readouterr().out
    assert run_tool("ftm-decode", decode, ["-b", str(stream), "-o", str(out), "--Model", pro]) == 0
    np.testing.assert_array_equal(np.load(out), np.load(recon))
    capsys.readouterr()
    assert run_tool("ftm-decode", decode, ["-b", str(stream), "--Model", pq]) == 1
    assert "give the model it was coded with" in capsys.readouterr().err
    assert run_tool("ftm-decode", decode, ["-b", str(stream)]) == 2
    assert "--Model FILE" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--Method=pro"], "needs Lambda"),
        (["--Method=pq", "--BitsPerDimension=1", "--Lambda=1"], "Lambda applies to Method : pro"),
        (["--Method=pro-e"], "needs LowModel and HighModel"),
        (["--Method=pq", "--BitsPerDimension=3", "--CodeBits=8"], "no whole number"),
        (["--Method=zip"], "expected one of"),
    ],
)
def test_ftm_train_refuses_bad_settings(tiny_set, tmp_path, capsys, args, message):
    from ftm.cli.train import main as train

    code = run_tool("ftm-train", train, ["-s", tiny_set, "-o", str(tmp_path / "m.safetensors"), "--no-progress"] + args)
    assert code == 2 and message in capsys.readouterr().err


def test_ftm_extract_writes_a_users_npz_as_an_embedding_set(tiny_set, tmp_path, capsys):
    from ftm.cli.extract import main as extract

    assert run_tool("ftm-extract", extract, ["--from-npz", tiny_set, "-o", str(tmp_path / "set")]) == 0
    assert "400 vectors of 16 dimensions, 4 classes, 300 train / 100 test" in capsys.readouterr().out
    assert read_labelled_set(tmp_path / "set").digest == read_labelled_set(tiny_set).digest
    assert ftm.__version__ in (tmp_path / "set" / "manifest.json").read_text()


def test_the_shipped_sweep_is_seed_001s_setting(capsys):
    from ftm.cli.rate_accuracy import main
    from ftm.rate_accuracy.config import load_sweep_config

    cfg = load_sweep_config(["seed001.cfg"])
    assert (cfg.epochs, cfg.batch_size, cfg.learning_rate, cfg.r_clip) == (40, 32, 1e-4, 20.0)
    assert cfg.methods == ("pq", "opq", "sq", "sq-e", "pro", "pro-e") and cfg.pq_bits == (1, 2, 4, 8)
    assert (cfg.pairs, cfg.folds) == (6000, 10)
    assert run_tool("ftm-rate-accuracy", main, ["--help-keys"]) == 0
    assert "ProLambdas" in capsys.readouterr().out
    assert run_tool("ftm-rate-accuracy", main, ["-c", "seed001.cfg", "--Methods=pro-e", "--ProLambdas=1"]) == 2
    assert "at least two values" in capsys.readouterr().err
