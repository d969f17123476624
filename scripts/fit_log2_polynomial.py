"""Coefficients of the float32 log2 polynomial in cpp/src/log_kernel.hpp.

    python scripts/fit_log2_polynomial.py

log2(1 + t) = t * P(t) for t in [sqrt(1/2) - 1, sqrt(2) - 1], with P of
degree 8 interpolated at Chebyshev points (near-minimax). Prints the
coefficients (lowest degree first) and the maximum error on a dense grid in
float64; cpp/tests/test_quantize.cpp checks the compiled float32 kernel
against its stated bound on every float32 in that interval.
"""

import numpy as np
from numpy.polynomial import chebyshev, polynomial

LO, HI = np.sqrt(0.5) - 1, np.sqrt(2) - 1


def ratio(t):
    safe = np.where(t == 0, 1.0, t)
    return np.where(t == 0, 1 / np.log(2), np.log2(1 + safe) / safe)


def main():
    fit = chebyshev.Chebyshev.interpolate(ratio, 8, domain=[LO, HI])
    coef = fit.convert(kind=polynomial.Polynomial).coef
    t = np.linspace(LO, HI, 2_000_001)
    err = np.max(np.abs(t * polynomial.polyval(t, coef) - np.log2(1 + t)))
    for c in coef:
        print(f"{c:.9e}f,")
    print(f"max |error| on the grid: {err:.3e}")


if __name__ == "__main__":
    main()
