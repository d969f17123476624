"""ftm-joint as resumable jobs of FTM's runner: reruns, pair streams, colour images, failures (seed 003)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch", reason="the network needs torch (pip install 'ftm[extract]')")

SMALL = ["--Images=20", "--Pairs=20", "--Folds=2", "--TextureQPs=22,37,51", "--FeatureQPs=30,40,46,52,58", "--Weights=0.5",
         "--no-progress", "--no-plots"]  # fmt: skip


def _fashion_mnist_or_skip():
    from ftm.extract.fashion_mnist import fashion_mnist_dir

    try:
        fashion_mnist_dir()
    except FileNotFoundError:
        pytest.skip("Debian's dataset-fashion-mnist is not installed (scripts/install-system-deps.sh installs it)")


def _joint(args):
    from ftm.cli._tool import run_tool
    from ftm.cli.joint import main

    return run_tool("ftm-joint", main, args)


def test_a_rerun_measures_nothing_again_and_each_pair_decodes_to_image_and_feature(tmp_path, capsys):
    from ftm.stream.coding import decode_all

    _fashion_mnist_or_skip()
    out = tmp_path / "joint"
    assert _joint(["-o", str(out), "-j", "2", *SMALL]) == 0
    first = json.loads((out / "results.json").read_text())
    assert first["run"]["jobs"] == 8 and first["run"]["jobs_run"] == 8 and first["run"]["executor"]["workers"] == 2
    assert len(list((out / "jobs").glob("*.json"))) == 8 and len(list((out / "streams").glob("*.ftm"))) == 8
    assert _joint(["-o", str(out), "-j", "2", *SMALL]) == 0
    again = json.loads((out / "results.json").read_text())
    assert again["run"]["jobs_run"] == 0
    assert again["texture"] == first["texture"] and again["feature"] == first["feature"]
    chosen = [row for row in again["allocations"] if row.get("pair_stream")]
    assert chosen
    for row in chosen:
        decoded = decode_all((out / row["pair_stream"]).read_bytes())
        assert decoded["image"].shape == (20, 1, 28, 28) and decoded["image"].dtype == np.uint8
        assert decoded["feature"].shape[0] == 20 and decoded["feature"].dtype == np.float32
        assert row["pair_bits_per_image"] == pytest.approx(row["rate"] + 8 * 16 / 20)  # one header and end box
    # a changed setting makes new jobs for what it changes only
    assert _joint(["-o", str(out), "-j", "1", *SMALL[:3], "--TextureQPs=22,37,47", *SMALL[4:]]) == 0
    assert json.loads((out / "results.json").read_text())["run"]["jobs_run"] == 1
    capsys.readouterr()


def test_colour_images_from_class_folders_are_coded_as_420(tmp_path, capsys):
    from skimage import data
    from skimage.io import imsave

    photo = data.astronaut()
    for c in range(4):
        folder = tmp_path / "images" / f"person{c}"
        folder.mkdir(parents=True)
        for i in range(5):
            y, x = 60 * c + 7 * i, 90 * c + 11 * i
            imsave(folder / f"{i}.png", photo[y : y + 40, x : x + 32], check_contrast=False)
    out = tmp_path / "joint"
    assert _joint(["-o", str(out), "-j", "1", f"--ImageFolder={tmp_path / 'images'}", *SMALL]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["pixels"] == 40 * 32 and results["texture"][0]["mse"] < results["texture"][-1]["mse"]
    stream = next((out / "streams").glob("texture-qp22-*.ftm")).read_bytes()
    from ftm._core import bitstream as container

    record = container.parse_stream(stream).tensors[0]
    assert list(record.dims) == [20, 3, 40, 32] and record.texture.colour_transform == 1
    capsys.readouterr()


def test_bad_settings_are_refused_before_any_work_and_a_failed_point_is_named(tmp_path, capsys, monkeypatch):
    out = tmp_path / "joint"
    assert _joint(["-o", str(out), "--Encoder=vvenc", *SMALL]) == 2
    assert "Encoder : vvenc is not an HEVC encoder back end" in capsys.readouterr().err
    assert _joint(["-o", str(out), *SMALL[:3], "--TextureQPs=22,37,52", *SMALL[4:]]) == 2
    assert "QP 52 is outside [0, 51]" in capsys.readouterr().err
    assert not out.exists()
    _fashion_mnist_or_skip()
    monkeypatch.delenv("FTM_HM_DIR", raising=False)
    status = _joint(["-o", str(out), "-j", "1", "--Encoder=hm", f"--HmDir={tmp_path / 'no-hm'}", *SMALL])
    err = capsys.readouterr().err
    assert status == 1 and "3 of 8 points failed (first: texture-qp" in err and "run again to retry them" in err
    records = [json.loads(p.read_text()) for p in (out / "jobs").glob("*.json")]
    assert sorted(r["status"] for r in records) == ["failed"] * 3 + ["ok"] * 5


def test_classification_scores_a_linear_classifier_fitted_on_lossless_features():
    from ftm.joint.recognition import recognition, split_halves

    rng = np.random.default_rng(5)
    labels = np.repeat(np.arange(3), 7)
    centres = rng.normal(size=(3, 16)) * 4
    features = (centres[labels] + rng.normal(size=(21, 16))).astype(np.float32)
    train, test = split_halves(labels, 0)
    assert len(set(train) | set(test)) == 21 and not set(train) & set(test)
    assert all(np.sum(labels[train] == c) == 3 and np.sum(labels[test] == c) == 4 for c in range(3))
    score = recognition("classification", labels, features, 0, 1, 0)
    assert score(features) == 1.0  # well-separated classes
    assert score(np.zeros_like(features)) == pytest.approx(4 / 12)  # one class for everything: a third right
    verify = recognition("verification", labels, features, 20, 2, 0)
    assert 0.5 <= verify(features) <= 1.0


def test_ftm_joint_classification_task(tmp_path, capsys):
    _fashion_mnist_or_skip()
    out = tmp_path / "joint"
    assert _joint(["-o", str(out), "-j", "1", "--Task=classification", *SMALL]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["settings"]["task"] == "classification"
    assert "Classification accuracy of the features" in (out / "report.md").read_text()
    capsys.readouterr()
