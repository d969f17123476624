"""Seed 003's TFQI, its rate-distortion models and the Lagrangian split of a bit budget (eq. 3-9).

Li et al., "Joint rate-distortion optimization for simultaneous texture and
deep feature compression of facial images" (seed 003):

- TFQI = -log10(w1 * D_t + w2 * D_f), w1 + w2 = 1 (eq. 3; base 10, as eq.
  6's ln 10 implies). D_t is the texture's MSE, D_f the recognition error
  rate. **Normalization (decision):** D_t enters as the MSE of samples
  scaled to [0, 1] (the 8-bit MSE divided by 255^2), so that both
  distortions lie in [0, 1] and the weights mean what they say; seed 003
  leaves the scale open, and its 8-bit MSEs (up to 293) would otherwise
  drown an error rate of a few percent at any weight.
- The models (eq. 9): D_t = a1 e^(b1 R_t), D_f = a2 e^(b2 R_f) + c2 e^(d2 R_f),
  fitted by SciPy's least squares on measured points, with R^2.
- The allocation (eq. 4-8): maximize TFQI subject to R_t + R_f = R_c. At
  an interior optimum the weighted slopes are equal, w1 D_t'(R_t) =
  w2 D_f'(R_f) (eq. 7), on the budget line (eq. 8): a root in R_t of
  g(R_t) = w1 D_t'(R_t) - w2 D_f'(R_c - R_t), found by Brent's method where
  g changes sign on [0, R_c]; the better end of the budget line otherwise
  (all bits to one side), and the best of the roots and the ends when g
  changes sign more than once.
- The oracle: the best measured (texture, feature) pair within the budget,
  by exhaustive search.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence, Tuple

import numpy as np

from ftm._optional import require

__all__ = ["Allocation", "ExponentialModel", "allocate", "fit_model", "oracle", "tfqi"]

_MSE_SCALE = 255.0**2


def tfqi(texture_mse: float, error_rate: float, w1: float, texture_scale: float = _MSE_SCALE) -> float:
    """-log10(w1 * MSE / texture_scale + (1 - w1) * error_rate) (eq. 3, with the 8-bit MSE scaled to [0, 1])."""
    if not 0.0 <= w1 <= 1.0:
        raise ValueError(f"w1 must be in [0, 1], got {w1}")
    d = w1 * texture_mse / texture_scale + (1.0 - w1) * error_rate
    return math.inf if d <= 0 else -math.log10(d)


@dataclass(frozen=True)
class ExponentialModel:
    """D(R) = a e^(b R) + c e^(d R) (eq. 9; c = d = 0 is the one-term texture model), with its fit's R^2."""

    a: float
    b: float
    c: float = 0.0
    d: float = 0.0
    r_squared: float = float("nan")

    def __call__(self, rate):
        r = np.asarray(rate, dtype=np.float64)
        return self.a * np.exp(self.b * r) + self.c * np.exp(self.d * r)

    def slope(self, rate):
        """dD/dR."""
        r = np.asarray(rate, dtype=np.float64)
        return self.a * self.b * np.exp(self.b * r) + self.c * self.d * np.exp(self.d * r)


def fit_model(rates: Sequence[float], distortions: Sequence[float], terms: int = 1) -> ExponentialModel:
    """Least-squares fit of eq. 9's one-term (texture) or two-term (feature) model to measured points."""
    optimize = require("scipy", "Fitting the rate-distortion models").optimize
    r, dist = np.asarray(rates, np.float64), np.asarray(distortions, np.float64)
    if terms not in (1, 2) or len(r) != len(dist) or len(r) < 2 * terms + 1:
        raise ValueError(f"a {terms}-term model needs at least {2 * terms + 1} points, got {len(r)}")
    scale = max(float(r.max()), 1e-12)  # fit on R / max R: the exponents of seed 003's Fig. 2 span 3.9 to 277

    def one(x, a, b):
        return a * np.exp(b * x)

    def two(x, a, b, c, d):
        return a * np.exp(b * x) + c * np.exp(d * x)

    x = r / scale
    top = max(float(dist.max()), 1e-12)
    if terms == 1:
        (a, b), _ = optimize.curve_fit(one, x, dist, p0=(top, -1.0), maxfev=20000)
        c = d = 0.0
    else:
        (a, b, c, d), _ = optimize.curve_fit(two, x, dist, p0=(top, -5.0, top / 10, 0.5), maxfev=20000)
    predicted = two(x, a, b, c, d)
    total = float(np.sum((dist - dist.mean()) ** 2))
    r2 = 1.0 - float(np.sum((dist - predicted) ** 2)) / total if total > 0 else float("nan")
    return ExponentialModel(float(a), float(b) / scale, float(c), float(d) / scale, r2)


@dataclass(frozen=True)
class Allocation:
    texture_rate: float
    feature_rate: float
    tfqi: float
    interior: bool  # eq. 7 holds (equal weighted slopes); False: all bits went to one side


def _model_tfqi(texture: ExponentialModel, feature: ExponentialModel, w1: float, rt: float, rf: float, scale: float) -> float:
    return tfqi(float(texture(rt)), float(feature(rf)), w1, scale)


def allocate(texture: ExponentialModel, feature: ExponentialModel, w1: float, budget: float,
             texture_scale: float = _MSE_SCALE, grid: int = 512) -> Allocation:  # fmt: skip
    """The split of ``budget`` (R_t + R_f = R_c, eq. 8) that maximizes TFQI on the models (eq. 7)."""
    optimize = require("scipy", "The TFQI bit allocation").optimize
    if budget < 0:
        raise ValueError(f"the budget must be >= 0, got {budget}")
    w2 = 1.0 - w1

    def g(rt: float) -> float:  # in the units TFQI weighs: the texture's MSE scaled as in tfqi()
        return w1 * float(texture.slope(rt)) / texture_scale - w2 * float(feature.slope(budget - rt))

    points = np.linspace(0.0, budget, grid + 1)
    values = np.array([g(p) for p in points])
    candidates = [(0.0, False), (budget, False)]
    for lo, hi, vlo, vhi in zip(points[:-1], points[1:], values[:-1], values[1:]):
        if vlo == 0.0:
            candidates.append((float(lo), True))
        elif vlo * vhi < 0:
            candidates.append((float(optimize.brentq(g, lo, hi, xtol=1e-12 * max(budget, 1.0))), True))
    best = max(candidates, key=lambda c: _model_tfqi(texture, feature, w1, c[0], budget - c[0], texture_scale))
    rt = best[0]
    return Allocation(rt, budget - rt, _model_tfqi(texture, feature, w1, rt, budget - rt, texture_scale), best[1])


def oracle(texture_points: Sequence[Tuple[float, float]], feature_points: Sequence[Tuple[float, float]], w1: float,
           budget: float, texture_scale: float = _MSE_SCALE) -> Tuple[int, int, float]:  # fmt: skip
    """The measured pair within ``budget`` of highest TFQI: (texture index, feature index, TFQI); -1s when none fits.

    ``texture_points`` are (rate, MSE), ``feature_points`` (rate, error rate).
    """
    best = (-1, -1, -math.inf)
    for i, (rt, dt) in enumerate(texture_points):
        for j, (rf, df) in enumerate(feature_points):
            if rt + rf <= budget:
                q = tfqi(dt, df, w1, texture_scale)
                if q > best[2]:
                    best = (i, j, q)
    return best
