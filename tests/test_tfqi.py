"""Seed 003's TFQI (eq. 3), the exponential R-D models (eq. 9) and the Lagrangian allocation (eq. 4-8)
against closed forms on synthetic models, and the exhaustive-search oracle."""

import json
import math

import numpy as np
import pytest

from ftm.metrics.tfqi import ExponentialModel, allocate, fit_model, oracle, tfqi

pytest.importorskip("scipy")


def test_tfqi_is_minus_log10_of_the_weighted_distortions():
    assert tfqi(65025.0 * 0.01, 0.1, 0.5) == pytest.approx(-math.log10(0.5 * 0.01 + 0.5 * 0.1))
    assert tfqi(100.0, 0.02, 0.2, texture_scale=1.0) == pytest.approx(-math.log10(0.2 * 100 + 0.8 * 0.02))
    assert tfqi(0.0, 0.0, 0.5) == math.inf
    with pytest.raises(ValueError, match="w1"):
        tfqi(1.0, 0.1, 1.5)


def test_fitting_recovers_seed_003s_models_from_noiseless_points():
    texture = ExponentialModel(293.4, -26.7)  # seed 003 Fig. 2(a)
    rates = np.linspace(0.02, 0.25, 7)
    fitted = fit_model(rates, texture(rates))
    assert (fitted.a, fitted.b) == (pytest.approx(293.4, rel=1e-6), pytest.approx(-26.7, rel=1e-6))
    assert fitted.r_squared == pytest.approx(1.0)
    feature = ExponentialModel(0.048, -276.8, 0.0068, 3.882)  # seed 003 Fig. 2(b)
    rates = np.linspace(0.001, 0.12, 12)
    fitted = fit_model(rates, feature(rates), terms=2)
    np.testing.assert_allclose([fitted.a, fitted.b, fitted.c, fitted.d], [0.048, -276.8, 0.0068, 3.882], rtol=1e-4)
    with pytest.raises(ValueError, match="at least 5 points"):
        fit_model(rates[:4], feature(rates[:4]), terms=2)


@pytest.mark.parametrize("w1", [0.2, 0.5, 0.8])
def test_the_allocation_solves_eq_7_and_8_as_the_closed_form(w1):
    texture, feature = ExponentialModel(293.4, -26.7), ExponentialModel(0.3, -60.0)
    scale, budget, w2 = 65025.0, 0.2, 1.0 - w1
    a = allocate(texture, feature, w1, budget, texture_scale=scale)
    # w1 a1 b1 e^(b1 Rt) / scale = w2 a2 b2 e^(b2 (Rc - Rt)), solved for Rt
    closed = (math.log((w2 * 0.3 * -60.0) / (w1 * 293.4 * -26.7 / scale)) + -60.0 * budget) / (-26.7 + -60.0)
    assert a.interior and a.texture_rate == pytest.approx(closed, abs=1e-9)
    assert a.texture_rate + a.feature_rate == pytest.approx(budget)  # eq. 8
    lam_t, lam_f = -w1 * texture.slope(a.texture_rate) / scale, -w2 * feature.slope(a.feature_rate)
    assert lam_t == pytest.approx(lam_f, rel=1e-8)  # eq. 7
    for rt in np.linspace(0, budget, 41):  # and it is the best split on the line
        assert a.tfqi >= tfqi(float(texture(rt)), float(feature(budget - rt)), w1, scale) - 1e-12


def test_a_budget_too_small_for_an_interior_optimum_goes_to_one_side():
    texture, feature = ExponentialModel(293.4, -26.7), ExponentialModel(0.3, -60.0)
    a = allocate(texture, feature, 0.999, 0.001)
    assert not a.interior and a.feature_rate in (0.0, pytest.approx(0.001))


def test_the_oracle_searches_every_measured_pair_within_the_budget():
    textures = [(0.05, 300.0), (0.10, 80.0), (0.20, 10.0)]
    features = [(0.01, 0.30), (0.03, 0.05), (0.08, 0.02)]
    i, j, q = oracle(textures, features, 0.5, 0.14)
    best = max(((a, b) for a in range(3) for b in range(3) if textures[a][0] + features[b][0] <= 0.14),
               key=lambda ab: tfqi(textures[ab[0]][1], features[ab[1]][1], 0.5))
    assert (i, j) == best and q == pytest.approx(tfqi(textures[i][1], features[j][1], 0.5))
    assert oracle(textures, features, 0.5, 0.01)[:2] == (-1, -1)


def test_texture_coding_round_trips_grey_images_and_measures_their_mse():
    from ftm.errors import InputError
    from ftm.joint import code_texture
    from ftm.kernels.pack import pack
    from ftm.stream.coding import decode_all

    rng = np.random.default_rng(0)
    images = (rng.integers(0, 256, size=(3, 28, 28)) // 32 * 32).astype(np.uint8)  # odd size: padded to 32 x 32
    frames, _ = pack(images[:, None])  # the frames code_texture codes
    assert frames.shape == (3, 32, 32) and (frames[:, 28:, :28] == images[:, 27:28, :]).all()
    fine, coarse = code_texture(images, 12), code_texture(images, 42)
    assert fine.reconstruction.shape == images.shape and fine.reconstruction.dtype == np.uint8
    expected = np.mean((fine.reconstruction.astype(np.float64) - images) ** 2)
    assert fine.mse == pytest.approx(expected) and fine.mse < coarse.mse and fine.bits > coarse.bits
    assert fine.bits_per_pixel == pytest.approx(fine.bits / (3 * 28 * 28))
    assert code_texture(np.full((2, 8, 8), 128, np.uint8), 22).mse == 0.0  # flat images are coded exactly
    with pytest.raises(InputError, match="N x H x W grey or N x H x W x 3 RGB uint8"):
        code_texture(np.zeros((2, 8, 8, 2), np.uint8), 22)
    colour = code_texture(np.repeat(images[..., None], 3, axis=3), 12)  # R = G = B: the grey image's luma, flat chroma
    assert colour.reconstruction.shape == (3, 28, 28, 3) and abs(colour.mse - fine.mse) < 0.5 * fine.mse + 1
    assert fine.stream and decode_all(fine.stream)["image"].shape == (3, 1, 28, 28)


def test_the_joint_experiment_measures_fits_and_allocates_on_a_small_stack():
    from ftm.joint.experiment import JointSettings, run_joint

    rng = np.random.default_rng(1)
    labels = np.arange(40) % 4
    base = rng.integers(40, 216, size=(4, 16, 16))
    images = np.clip(base[labels] + rng.normal(scale=25, size=(40, 16, 16)), 0, 255).astype(np.uint8)

    def embed(x):  # a stand-in for the network: 4 x 4 block means of the pixels, scaled
        return x.reshape(len(x), 4, 4, 4, 4).mean(axis=(2, 4)).reshape(len(x), 16).astype(np.float32) / 255

    settings = JointSettings(texture_qps=(22, 32, 42, 51), feature_qps=(30, 40, 46, 52, 58), pairs=40, folds=2)
    result = run_joint(images, labels, embed, settings)
    assert [p["qp"] for p in result.texture] == [22, 32, 42, 51] and len(result.feature) == 5
    assert all(a["bits_per_image"] > b["bits_per_image"] for a, b in zip(result.texture, result.texture[1:]))
    assert all(a["mse"] < b["mse"] for a, b in zip(result.texture, result.texture[1:]))
    assert set(result.fits) == {"texture", "feature"} and "r_squared" in result.fits["texture"]
    assert len(result.allocations) == 3 * 4  # every weight at every CTA budget
    for row in result.allocations:
        if row["rate"] is not None:
            assert row["rate"] <= row["budget"] + 1e-9 and row["oracle_tfqi"] >= row["tfqi"] - 1e-12
        assert row["model_texture_rate"] + row["model_feature_rate"] == pytest.approx(row["budget"])


def test_ftm_joint_runs_the_network_on_decoded_images(tmp_path, capsys):
    """Stub-free: EfficientNet-Lite0 embeds the lossless and the decoded Fashion-MNIST images (CTA)."""
    pytest.importorskip("torch", reason="the network needs torch (pip install 'ftm[extract]')")
    from ftm.cli._tool import run_tool
    from ftm.cli.joint import main
    from ftm.extract.fashion_mnist import fashion_mnist_dir

    try:
        fashion_mnist_dir()
    except FileNotFoundError:
        pytest.skip("Debian's dataset-fashion-mnist is not installed (scripts/install-system-deps.sh installs it)")
    out = tmp_path / "joint"
    args = ["-o", str(out), "--Images=20", "--Pairs=20", "--Folds=2", "--TextureQPs=22,37,51", "--FeatureQPs=30,40,46,52,58",
            "--Weights=0.5", "--no-progress"]  # fmt: skip
    assert run_tool("ftm-joint", main, args) == 0
    assert "w1 = 0.5: BD-rate" in capsys.readouterr().out
    results = json.loads((out / "results.json").read_text())
    qp22, qp51 = results["texture"][0], results["texture"][-1]
    assert qp22["mse"] < qp51["mse"] and 0.0 <= qp51["cta_accuracy"] <= 1.0
    assert len(results["allocations"]) == 3 and "oracle_tfqi" in results["allocations"][0]
    for name in ("report.md", "allocations.csv", "rd_fits.png", "rate_tfqi.png", "rate_accuracy.png"):
        assert (out / name).stat().st_size > 0
