"""GDN/IGDN against a transcription of the formula, their reparameterization, and the numpy
networks of the codec against the torch networks of the trainer (seed 001)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the trainer needs torch (pip install 'ftm[learned]'); CI installs it")

from ftm.codecs.learned import networks as np_nets  # noqa: E402
from ftm.train.layers import GDN, NonNegative, lower_bound  # noqa: E402
from ftm.train.loop import seeded  # noqa: E402
from ftm.train.networks import Enhancer, ProNetwork, SqEnhancer  # noqa: E402


def gdn_by_the_formula(x, beta, gamma, inverse):
    """Ballé et al. (2016, 2017): y_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j^2), element by element."""
    n, c = x.shape
    y = np.empty_like(x)
    for s in range(n):
        for i in range(c):
            norm = beta[i] + sum(gamma[i][j] * x[s][j] ** 2 for j in range(c))
            y[s][i] = x[s][i] * norm**0.5 if inverse else x[s][i] / norm**0.5
    return y


@pytest.mark.parametrize("inverse", [False, True])
def test_gdn_matches_the_formula(inverse):
    rng = np.random.default_rng(1)
    layer = GDN(5, inverse=inverse)
    with torch.no_grad():  # parameters away from their initial values, gamma not symmetric
        layer.beta.raw.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, 5).astype(np.float32)))
        layer.gamma.raw.copy_(torch.from_numpy(rng.uniform(0.0, 0.6, (5, 5)).astype(np.float32)))
    x = rng.normal(size=(4, 5)).astype(np.float32)
    beta, gamma = layer.effective()
    expected = gdn_by_the_formula(x.astype(np.float64), beta.astype(np.float64), gamma.astype(np.float64), inverse)
    with torch.no_grad():
        got = layer(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    weights = {"g.beta": beta, "g.gamma": gamma}
    np.testing.assert_allclose(np_nets.gdn(x.astype(np.float64), weights, "g", inverse), expected, rtol=1e-12)


def test_the_reparameterization_keeps_parameters_at_or_above_their_minimum():
    p = NonNegative(torch.tensor([1.0, 0.0, 1e-9]), minimum=1e-6)
    np.testing.assert_allclose(p().detach().numpy(), [1.0, 1e-6, 1e-6], rtol=1e-4)  # initial values, floored
    with torch.no_grad():
        p.raw.copy_(torch.tensor([-3.0, 0.0, 0.5]))  # below the bound: the value is the minimum
    np.testing.assert_allclose(p().detach().numpy(), [1e-6, 1e-6, 0.25], rtol=1e-4)


def test_lower_bound_lets_the_gradient_through_only_where_it_helps():
    x = torch.tensor([0.0, 0.0, 2.0], requires_grad=True)
    y = lower_bound(x, 1.0)
    assert y.tolist() == [1.0, 1.0, 2.0]
    y.backward(torch.tensor([-1.0, 1.0, 1.0]))  # a negative gradient raises x towards the bound: it passes
    assert x.grad.tolist() == [-1.0, 0.0, 1.0]


def test_gdn_starts_as_in_compressai():
    layer = GDN(3)
    beta, gamma = layer.effective()
    np.testing.assert_allclose(beta, 1.0, rtol=1e-6)
    np.testing.assert_allclose(gamma, 0.1 * np.eye(3), atol=1e-7)


def test_numpy_networks_match_the_torch_ones():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 10)).astype(np.float32)
    with seeded(3):
        pro, enh, sqe = ProNetwork(10, 7, 5, 20.0), Enhancer(5, 4, 6), SqEnhancer(10, 8)
    for m in (pro, enh, sqe):
        m.eval()
    with torch.no_grad():
        latent = pro.encode(torch.from_numpy(x)).numpy()
        decoded = pro(torch.from_numpy(x))[0].numpy()
        c = torch.from_numpy(rng.normal(size=(6, 5)).astype(np.float32))
        enhanced = enh(c / 20.0).numpy() * 12.0
        residual = sqe(torch.from_numpy(x)).numpy()
    w = pro.weights()
    np.testing.assert_allclose(np.clip(np_nets.pro_encode(w, x), -20, 20), latent, rtol=1e-4, atol=1e-5)
    levels = np_nets.latent_levels(np_nets.pro_encode(w, x), 20.0)
    np.testing.assert_allclose(np_nets.pro_decode(w, levels), decoded, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np_nets.enhance_latent(enh.weights(), c.numpy(), 20.0, 12.0), enhanced, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np_nets.sq_enhance(sqe.weights(), x), residual, rtol=1e-4, atol=1e-5)


def test_pro_trains_on_noise_and_tests_on_rounding():
    with seeded(0):
        net = ProNetwork(4, 4, 4, 2.0)
    x = torch.randn(3, 4) * 10
    net.eval()
    _, c = net(x)
    assert c.abs().max() <= 2.0  # clipped to r_clip
    net.train()
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    a, _ = net(x, g1)
    b, _ = net(x, g2)
    assert torch.equal(a, b)  # the training noise comes from the generator it is given


def test_glorot_initialization_is_seeded():
    with seeded(7):
        a = ProNetwork(6, 5, 4, 20.0).weights()
    with seeded(7):
        b = ProNetwork(6, 5, 4, 20.0).weights()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert np.all(a["enc.fc1.bias"] == 0)
    limit = np.sqrt(6.0 / (6 + 5))  # Glorot uniform bound for a 6 -> 5 layer
    assert np.abs(a["enc.fc1.weight"]).max() <= limit
