"""Bjontegaard deltas between two rate-fidelity curves (BD-rate and BD-fidelity).

The curves are interpolated and integrated by the ``bjontegaard`` package
(pip install "ftm[metrics]"). The default interpolation is ``"pchip"``,
piecewise cubic Hermite interpolation, which is what the JCT-VC/JVET common
test conditions' BD-rate spreadsheet computes and what MPEG's video and
feature-coding CTC report; ``"akima"`` (Akima splines) and ``"cubic"`` (the
original VCEG-M33 third-order polynomial fit) are there for comparison.

- BD-rate: mean difference of log10(rate) over the fidelity interval both
  curves cover, as a percentage ``(10^d - 1) * 100``; negative means the
  test configuration needs fewer bits for the same fidelity.
- BD-fidelity: mean difference of fidelity over the log10(rate) interval
  both curves cover (the analogue of BD-PSNR); positive means the test
  configuration is more faithful at the same rate.

Rates may be bits, bytes or compression rates (eq. 1): only their ratios
matter, as long as both curves use the same unit.

Fidelity saturates (1.0 at QP 12 and 22, say), and interpolation needs
distinct abscissae, so before interpolating each curve keeps, among points
with the same fidelity, only the lowest-rate one (the others buy nothing for
their extra bits), and among points with the same rate the most faithful one.
Curves whose intervals do not overlap give NaN.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

__all__ = ["BD_METHODS", "bd_fidelity", "bd_rate"]

BD_METHODS = ("pchip", "akima", "cubic")


def _bjontegaard():
    try:
        import bjontegaard
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            'BD-rate needs the "bjontegaard" package: pip install "ftm[metrics]"'
        ) from exc
    return bjontegaard


def _curve(name: str, rates, fidelities) -> Tuple[np.ndarray, np.ndarray]:
    r = np.asarray(rates, dtype=np.float64)
    f = np.asarray(fidelities, dtype=np.float64)
    if r.ndim != 1 or f.shape != r.shape:
        raise ValueError(f"{name}: rates and fidelities must be 1-D of the same length, got {r.shape} and {f.shape}")
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(f))):
        raise ValueError(f"{name}: rates and fidelities must be finite")
    if np.any(r <= 0):
        raise ValueError(f"{name}: rates must be > 0 (they are taken in log scale), got {r.min()}")
    return r, f


def _distinct(base: np.ndarray, value: np.ndarray, keep_max: bool) -> Tuple[np.ndarray, np.ndarray]:
    """Sort by ``base``; among equal ``base`` keep the largest (or smallest) ``value``."""
    order = np.lexsort((-value if keep_max else value, base))
    base, value = base[order], value[order]
    first = np.concatenate([[True], base[1:] != base[:-1]])
    return base[first], value[first]


def _check_points(name: str, n: int, method: str) -> None:
    if method not in BD_METHODS:
        raise ValueError(f"method must be one of {BD_METHODS}, got {method!r}")
    need = 4 if method == "cubic" else 2
    if n < need:
        raise ValueError(f"{name}: {method!r} interpolation needs at least {need} distinct points, got {n}")


def _overlaps(a: np.ndarray, b: np.ndarray) -> bool:
    return min(a[-1], b[-1]) > max(a[0], b[0])


def bd_rate(rate_anchor, fidelity_anchor, rate_test, fidelity_test, method: str = "pchip") -> float:
    """BD-rate in percent of the test curve against the anchor (negative: test saves bits)."""
    curves = []
    for name, r, f in (("anchor", rate_anchor, fidelity_anchor), ("test", rate_test, fidelity_test)):
        r, f = _curve(name, r, f)
        fid, rate = _distinct(f, r, keep_max=False)
        _check_points(name, fid.size, method)
        curves.append((rate, fid))
    (ra, fa), (rt, ft) = curves
    if not _overlaps(fa, ft):
        return float("nan")
    bj = _bjontegaard()
    return float(bj.bd_rate(ra, fa, rt, ft, method, require_matching_points=False, min_overlap=0))


def bd_fidelity(rate_anchor, fidelity_anchor, rate_test, fidelity_test, method: str = "pchip") -> float:
    """BD-fidelity: mean fidelity gain of the test curve over the anchor at equal rate."""
    curves = []
    for name, r, f in (("anchor", rate_anchor, fidelity_anchor), ("test", rate_test, fidelity_test)):
        r, f = _curve(name, r, f)
        rate, fid = _distinct(r, f, keep_max=True)
        _check_points(name, rate.size, method)
        curves.append((rate, fid))
    (ra, fa), (rt, ft) = curves
    if not _overlaps(np.log10(ra), np.log10(rt)):
        return float("nan")
    bj = _bjontegaard()
    return float(bj.bd_psnr(ra, fa, rt, ft, method, require_matching_points=False, min_overlap=0))
