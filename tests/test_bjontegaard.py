"""BD-rate and BD-fidelity, cross-checked against the classic VCEG-M33 cubic-polynomial formula."""

import math

import numpy as np
import pytest

pytest.importorskip("bjontegaard", reason="BD-rate needs the bjontegaard package (pip install 'ftm[metrics]')")

from ftm.metrics import BD_METHODS, bd_fidelity, bd_rate  # noqa: E402

RATES = np.array([1.0, 2.0, 4.0, 8.0])
FIDELITY = np.array([0.6, 0.7, 0.8, 0.9])  # linear in log(rate): every method interpolates it exactly


def classic_bd_rate(r1, f1, r2, f2):
    """VCEG-M33: cubic fit of log rate over fidelity, integrated over the common fidelity interval."""
    p1, p2 = np.polyfit(f1, np.log(r1), 3), np.polyfit(f2, np.log(r2), 3)
    lo, hi = max(min(f1), min(f2)), min(max(f1), max(f2))
    i1, i2 = np.polyint(p1), np.polyint(p2)
    avg = ((np.polyval(i2, hi) - np.polyval(i2, lo)) - (np.polyval(i1, hi) - np.polyval(i1, lo))) / (hi - lo)
    return (math.exp(avg) - 1) * 100


def classic_bd_fidelity(r1, f1, r2, f2):
    p1, p2 = np.polyfit(np.log10(r1), f1, 3), np.polyfit(np.log10(r2), f2, 3)
    lo, hi = max(np.log10(r1).min(), np.log10(r2).min()), min(np.log10(r1).max(), np.log10(r2).max())
    i1, i2 = np.polyint(p1), np.polyint(p2)
    return ((np.polyval(i2, hi) - np.polyval(i2, lo)) - (np.polyval(i1, hi) - np.polyval(i1, lo))) / (hi - lo)


@pytest.mark.parametrize("method", BD_METHODS)
def test_a_constant_rate_factor_is_recovered_exactly(method):
    assert bd_rate(RATES, FIDELITY, 0.8 * RATES, FIDELITY, method) == pytest.approx(-20.0, abs=1e-9)
    assert bd_rate(RATES, FIDELITY, RATES, FIDELITY, method) == pytest.approx(0.0, abs=1e-12)
    # f = 0.6 + 0.1 log2(r); at 0.8x the rate the test curve is 0.1 log2(1.25) higher everywhere.
    assert bd_fidelity(RATES, FIDELITY, 0.8 * RATES, FIDELITY, method) == pytest.approx(0.1 * math.log2(1.25), abs=1e-9)


def curved():
    r1 = np.array([0.004, 0.011, 0.035, 0.09])  # compression rates at QP 42..12
    f1 = np.array([0.62, 0.86, 0.95, 0.99])
    r2 = r1 * np.array([0.9, 0.85, 0.8, 0.78])
    f2 = f1 + np.array([0.005, 0.004, 0.002, 0.001])
    return r1, f1, r2, f2


def test_cubic_method_matches_the_classic_formula():
    r1, f1, r2, f2 = curved()
    assert bd_rate(r1, f1, r2, f2, "cubic") == pytest.approx(classic_bd_rate(r1, f1, r2, f2), rel=1e-9)
    assert bd_fidelity(r1, f1, r2, f2, "cubic") == pytest.approx(classic_bd_fidelity(r1, f1, r2, f2), rel=1e-9)


def test_piecewise_cubic_stays_close_to_the_classic_formula_on_smooth_curves():
    r1, f1, r2, f2 = curved()
    classic = classic_bd_rate(r1, f1, r2, f2)
    for method in ("pchip", "akima"):
        assert bd_rate(r1, f1, r2, f2, method) == pytest.approx(classic, abs=3.0)
    assert bd_rate(r1, f1, r2, f2) == bd_rate(r1, f1, r2, f2, "pchip")


def test_point_order_does_not_matter():
    r1, f1, r2, f2 = curved()
    order = [2, 0, 3, 1]
    assert bd_rate(r1[order], f1[order], r2, f2) == pytest.approx(bd_rate(r1, f1, r2, f2), rel=1e-12)


def test_saturated_fidelity_keeps_the_cheapest_point():
    r = np.array([1.0, 2.0, 4.0, 8.0])
    f = np.array([0.7, 0.9, 1.0, 1.0])  # QP 12 buys nothing over QP 22
    assert bd_rate(r, f, 0.5 * r, f) == pytest.approx(-50.0, abs=1e-9)
    assert bd_rate(r, f, r[:3], f[:3]) == pytest.approx(0.0, abs=1e-12)


def test_disjoint_curves_give_nan():
    assert math.isnan(bd_rate(RATES, FIDELITY, RATES, FIDELITY + 0.5))
    assert math.isnan(bd_fidelity(RATES, FIDELITY, RATES * 100, FIDELITY))


def test_bad_curves_are_rejected():
    with pytest.raises(ValueError, match="at least 4"):
        bd_rate(RATES[:3], FIDELITY[:3], RATES, FIDELITY, "cubic")
    with pytest.raises(ValueError, match="method"):
        bd_rate(RATES, FIDELITY, RATES, FIDELITY, "linear")
    with pytest.raises(ValueError, match="> 0"):
        bd_rate(RATES - 1, FIDELITY, RATES, FIDELITY)
    with pytest.raises(ValueError, match="same length"):
        bd_rate(RATES, FIDELITY[:3], RATES, FIDELITY)
    with pytest.raises(ValueError, match="at least 2"):
        bd_rate([1.0, 2.0], [1.0, 1.0], RATES, FIDELITY)
